//! A chat window: one per friend or group.
//!
//! Bubbles (mine on the right, blue) with time and delivery state; a failed one offers a retry. History
//! comes from the app's conversation (filled from local storage) and pages back when the list is scrolled
//! to the top. The multi-line input sends on Enter and breaks the line on Shift+Enter; it keeps working
//! while disconnected because sending only queues (the client's outbox delivers later). Group windows
//! show the member list with online state.
//!
//! Files: the toolbar's Send file button (a native dialog, run by the app; where the system has none, a
//! path typed into the window) or files dropped on the window become offers. A file bubble is a card with a type tile (or the picture itself, for images), the name,
//! the size and where the file stands, with a progress bar and Pause / Resume / Cancel while bytes move,
//! Download / Save as / Reject for an offer to me, and Open / Show in folder once it is on this device.

use std::path::PathBuf;

use iced::keyboard::{self, key};
use iced::widget::{
    button, column, container, image as image_widget, progress_bar, row, scrollable, space, stack,
    text, text_editor, text_input,
};
use iced::{Center, Color, Element, Fill, Right, Task, color};
use ququ_protocol::Conv;

use super::{Ctx, status_bar};
use crate::i18n::Lang;
use crate::model::{
    Connection, Delivery, FileItem, FileState, Line, Session, TransferId, format_time, human_size,
    local_offset_minutes, now_millis,
};
use crate::{avatar, theme};

/// Width of a file bubble: room for a long name on two lines and the action links on one.
const FILE_CARD_WIDTH: f32 = 290.0;

/// How close to the top (as a fraction of the scrollable range) counts as "at the top" for paging.
const TOP_THRESHOLD: f32 = 0.02;

#[derive(Debug)]
pub struct State {
    pub conv: Conv,
    pub input: text_editor::Content,
    /// The scroll position is at the top: the next history page is wanted.
    at_top: bool,
    /// Files are being dragged over the window: show where to drop them.
    pub dragging: bool,
    /// Something about files that went wrong (unreadable, too large, could not open), shown above the
    /// input until the next action.
    pub notice: Option<String>,
    /// No native file dialog here: the path being typed for Send file.
    pub path_prompt: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Edit(text_editor::Action),
    Send,
    Retry(String),
    Scrolled(scrollable::Viewport),
    LoadEarlier,
    /// The toolbar's Send file button.
    PickFiles,
    /// Files are dragged over the window (`true`) or left it (`false`).
    DragHover(bool),
    /// A file was dropped on the window.
    Dropped(PathBuf),
    /// A button on a file bubble.
    File(FileAction),
    /// The app found no native file dialog: ask for a path in the window.
    AskPath,
    PathEdited(String),
    PathSubmit,
    PathCancel,
    /// Esc: cancel the path prompt if it is open, else close the window.
    Escape,
}

/// A button on a file bubble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileAction {
    Pause(TransferId),
    Resume(TransferId),
    Cancel(TransferId),
    /// Into the Downloads folder.
    Download {
        file_id: u64,
        name: String,
    },
    /// Somewhere the user picks.
    SaveAs {
        file_id: u64,
        name: String,
    },
    Reject {
        file_id: u64,
    },
    Open(PathBuf),
    Reveal(PathBuf),
}

/// What the window asks of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Send {
        conv: Conv,
        text: String,
    },
    Retry {
        client_id: String,
    },
    LoadEarlier {
        conv: Conv,
    },
    /// Show the native file dialog; what is picked is sent to `conv`.
    PickFiles {
        conv: Conv,
    },
    SendFiles {
        conv: Conv,
        paths: Vec<PathBuf>,
    },
    File(FileAction),
    /// Close this window.
    Close,
}

impl State {
    pub fn new(conv: Conv) -> Self {
        State {
            conv,
            input: text_editor::Content::new(),
            at_top: false,
            dragging: false,
            notice: None,
            path_prompt: None,
        }
    }

    /// Puts back what was typed and not sent when the window last closed, the cursor at its end.
    pub fn with_draft(mut self, draft: &str) -> Self {
        self.input = text_editor::Content::with_text(draft);
        self.input
            .perform(text_editor::Action::Move(text_editor::Motion::DocumentEnd));
        self
    }

    /// What is typed and not sent, if anything.
    pub fn draft(&self) -> Option<String> {
        let text = self.input.text();
        (!text.trim().is_empty()).then_some(text)
    }

    pub fn scroll_id(&self) -> iced::widget::Id {
        iced::widget::Id::from(format!("chat-{}-{}", self.conv.kind(), self.conv.key()))
    }

    pub fn path_id(&self) -> iced::widget::Id {
        iced::widget::Id::from(format!("path-{}-{}", self.conv.kind(), self.conv.key()))
    }

    pub fn input_id(&self) -> iced::widget::Id {
        iced::widget::Id::from(format!("input-{}-{}", self.conv.kind(), self.conv.key()))
    }

    /// Puts the cursor in the input (on open and on focus).
    pub fn focus_input<T: Send + 'static>(&self) -> Task<T> {
        iced::widget::operation::focus(self.input_id())
    }

    pub fn update(&mut self, message: Message, max_text: usize) -> Option<Event> {
        match message {
            Message::Edit(action) => self.input.perform(action),
            Message::Send => {
                let text = self.input.text();
                // Trailing newlines are what Enter would add; trimming both ends matches what people expect.
                let text = text.trim();
                if text.is_empty() || text.chars().count() > max_text {
                    return None;
                }
                let event = Event::Send {
                    conv: self.conv.clone(),
                    text: text.to_owned(),
                };
                self.input = text_editor::Content::new();
                return Some(event);
            }
            Message::Retry(client_id) => return Some(Event::Retry { client_id }),
            Message::Scrolled(viewport) => {
                let scrollable_range = viewport.content_bounds().height - viewport.bounds().height;
                // The list is anchored to the bottom, so offsets count up from the newest message:
                // 1.0 is the top, where the earlier page is asked for.
                let at_top =
                    scrollable_range > 0.0 && viewport.relative_offset().y >= 1.0 - TOP_THRESHOLD;
                let newly = at_top && !self.at_top;
                self.at_top = at_top;
                if newly {
                    return Some(Event::LoadEarlier {
                        conv: self.conv.clone(),
                    });
                }
            }
            Message::LoadEarlier => {
                return Some(Event::LoadEarlier {
                    conv: self.conv.clone(),
                });
            }
            Message::PickFiles => {
                self.notice = None;
                return Some(Event::PickFiles {
                    conv: self.conv.clone(),
                });
            }
            Message::DragHover(hovering) => self.dragging = hovering,
            Message::Dropped(path) => {
                self.dragging = false;
                self.notice = None;
                return Some(Event::SendFiles {
                    conv: self.conv.clone(),
                    paths: vec![path],
                });
            }
            Message::File(action) => {
                self.notice = None;
                return Some(Event::File(action));
            }
            Message::AskPath => self.path_prompt = Some(String::new()),
            Message::PathEdited(text) => self.path_prompt = Some(text),
            Message::PathCancel => self.path_prompt = None,
            Message::Escape if self.path_prompt.is_some() => self.path_prompt = None,
            Message::Escape => return Some(Event::Close),
            Message::PathSubmit => {
                let path = self
                    .path_prompt
                    .as_deref()
                    .and_then(crate::files::typed_path)?;
                self.path_prompt = None;
                self.notice = None;
                return Some(Event::SendFiles {
                    conv: self.conv.clone(),
                    paths: vec![path],
                });
            }
        }
        None
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>) -> Element<'a, Message> {
        let tr = ctx.tr();
        let Some(session) = ctx.session else {
            return status_bar(ctx);
        };
        let name = session.conv_name(&self.conv);

        let header = {
            let (avatar_key, subtitle) = match &self.conv {
                Conv::User(account) => {
                    let online = session
                        .friends
                        .get(account)
                        .is_some_and(|f| f.presence.is_online());
                    (
                        account.clone(),
                        if online {
                            tr.online.to_owned()
                        } else {
                            tr.offline.to_owned()
                        },
                    )
                }
                Conv::Group(id) => (format!("group:{id}"), ctx.lang.group_id(*id)),
            };
            container(
                row![
                    avatar::view(&name, &avatar_key, None, 36.0),
                    column![
                        text(name.clone()).size(16),
                        text(subtitle).size(12).style(theme::muted_text)
                    ]
                    .spacing(2),
                ]
                .spacing(10)
                .align_y(Center),
            )
            .padding([10, 14])
            .width(Fill)
            .style(theme::surface)
        };

        let messages = self.messages(ctx, session);
        let body: Element<'a, Message> = match &self.conv {
            Conv::Group(group) => row![
                messages,
                iced::widget::rule::vertical(1),
                members(ctx, session, *group)
            ]
            .height(Fill)
            .into(),
            Conv::User(_) => messages,
        };
        let body: Element<'a, Message> = if self.dragging {
            let zone = container(text(tr.drop_to_send).size(16))
                .center(Fill)
                .style(theme::drop_zone);
            // The zone's surround is opaque too, so no half-hidden bubble peeks out around it.
            let cover = container(zone)
                .padding(12)
                .width(Fill)
                .height(Fill)
                .style(theme::chat_area);
            stack![body, cover].width(Fill).height(Fill).into()
        } else {
            body
        };

        let typed = self.input.text();
        // Refused here, before sending, rather than by the server after: the login reply told us the limit.
        let too_long = typed.trim().chars().count() > session.max_text;
        let send_ready = !typed.trim().is_empty() && !too_long;
        let editor = text_editor(&self.input)
            .id(self.input_id())
            .placeholder(tr.input_hint)
            .on_action(Message::Edit)
            .height(96)
            .padding(10)
            .size(14)
            .key_binding(|press| {
                // Enter sends; Shift+Enter falls through to the default binding, which breaks the line.
                if matches!(press.key.as_ref(), keyboard::Key::Named(key::Named::Enter))
                    && !press.modifiers.shift()
                    && matches!(press.status, text_editor::Status::Focused { .. })
                {
                    return Some(text_editor::Binding::Custom(Message::Send));
                }
                text_editor::Binding::from_key_press(press)
            })
            .style(|theme: &iced::Theme, status| {
                let mut style = text_editor::default(theme, status);
                style.border = iced::Border {
                    width: 0.0,
                    ..style.border
                };
                style.background = theme.palette().background.into();
                style
            });
        let offline_note: Element<'a, Message> = if let Some(notice) = &self.notice {
            text(notice.as_str())
                .size(12)
                .style(theme::error_text)
                .width(Fill)
                .into()
        } else if too_long {
            text(tr.too_long)
                .size(12)
                .style(theme::error_text)
                .width(Fill)
                .into()
        } else if ctx.conn == Connection::Online {
            space().width(Fill).into()
        } else {
            text(tr.queued_offline)
                .size(12)
                .style(theme::muted_text)
                .width(Fill)
                .into()
        };
        // QQ keeps its tools (files, pictures, …) on a strip between the messages and the input.
        let toolbar = row![
            button(
                row![file_glyph(), text(tr.send_file).size(12)]
                    .spacing(6)
                    .align_y(Center)
            )
            .padding([4, 8])
            .style(theme::list_item)
            .on_press(Message::PickFiles)
        ]
        .padding([4, 6]);
        let path_prompt: Element<'a, Message> = match &self.path_prompt {
            None => space().height(0).into(),
            Some(typed) => column![
                text(tr.no_file_dialog).size(12).style(theme::muted_text),
                row![
                    text_input(tr.file_path_hint, typed)
                        .id(self.path_id())
                        .on_input(Message::PathEdited)
                        .on_submit(Message::PathSubmit)
                        .padding(6)
                        .size(13)
                        .style(theme::field),
                    button(text(tr.cancel).size(13))
                        .style(theme::secondary_button)
                        .on_press(Message::PathCancel),
                    button(text(tr.send).size(13))
                        .style(theme::primary_button)
                        .on_press_maybe((!typed.trim().is_empty()).then_some(Message::PathSubmit)),
                ]
                .spacing(6)
                .align_y(Center),
            ]
            .spacing(4)
            .padding([4, 10])
            .into(),
        };
        let input = column![
            toolbar,
            path_prompt,
            editor,
            row![
                offline_note,
                button(text(tr.send).size(14))
                    .padding([6, 22])
                    .style(theme::primary_button)
                    .on_press_maybe(send_ready.then_some(Message::Send)),
            ]
            .spacing(8)
            .align_y(Center)
            .padding([6, 10]),
        ];

        column![
            header,
            iced::widget::rule::horizontal(1),
            body,
            iced::widget::rule::horizontal(1),
            container(input).style(theme::surface),
            status_bar(ctx),
        ]
        .into()
    }

    fn messages<'a>(&'a self, ctx: &Ctx<'a>, session: &'a Session) -> Element<'a, Message> {
        let tr = ctx.tr();
        let conversation = session.conversations.get(&self.conv);
        let lines: &[Line] = conversation.map_or(&[], |c| c.lines.as_slice());
        let group = match self.conv {
            Conv::Group(id) => Some(id),
            Conv::User(_) => None,
        };
        let (now, offset) = (now_millis(), local_offset_minutes());

        let mut list = column![].spacing(14).padding([12, 14]).width(Fill);
        // The top of the list: load more, loading, or the beginning of the conversation.
        let top: Element<'a, Message> = match conversation {
            Some(c) if c.loading => text(tr.loading).size(12).style(theme::muted_text).into(),
            Some(c) if c.more_before => button(text(tr.load_earlier).size(12))
                .padding(0)
                .style(theme::link)
                .on_press(Message::LoadEarlier)
                .into(),
            _ if lines.is_empty() => text(tr.no_messages)
                .size(13)
                .style(theme::muted_text)
                .into(),
            _ => text(tr.no_more_history)
                .size(12)
                .style(theme::muted_text)
                .into(),
        };
        list = list.push(container(top).center_x(Fill));

        for line in lines {
            let mine = line.from == session.account;
            let sender = session.sender_name(group, &line.from);
            let bubble: Element<'a, Message> = match &line.file {
                Some(file) => file_bubble(ctx, session, line, file, mine),
                None => container(text(line.text.as_str()).size(14))
                    .padding([8, 12])
                    .max_width(380)
                    .style(if mine {
                        theme::bubble_mine
                    } else {
                        theme::bubble_theirs
                    })
                    .into(),
            };
            let time = format_time(line.time, now, offset);
            let avatar = if mine {
                avatar::view(&sender, &line.from, ctx.my_avatar, 34.0)
            } else {
                avatar::view(&sender, &line.from, None, 34.0)
            };
            let entry: Element<'a, Message> = if mine {
                // Time and state are separate texts so each can be found (tests, screen readers).
                let meta = |label: &'static str, failed: bool| {
                    let style = if failed {
                        theme::error_text
                    } else {
                        theme::muted_text
                    };
                    row![
                        text(time.clone()).size(11).style(style),
                        text("·").size(11).style(style),
                        text(label).size(11).style(style),
                    ]
                    .spacing(4)
                };
                let state: Element<'a, Message> = match line.delivery {
                    // A file's card says where it stands; "sending" under it would say it twice.
                    _ if line.file.is_some() && line.delivery != Delivery::Failed => {
                        text(time.clone()).size(11).style(theme::muted_text).into()
                    }
                    Delivery::Sending => meta(tr.sending, false).into(),
                    Delivery::Sent => meta(tr.sent, false).into(),
                    Delivery::Failed => meta(tr.failed, true)
                        .push(
                            button(text(tr.retry).size(11))
                                .padding(0)
                                .style(theme::link)
                                .on_press(Message::Retry(line.client_id.clone())),
                        )
                        .into(),
                };
                row![
                    space().width(Fill),
                    column![bubble, state].spacing(4).align_x(Right),
                    avatar
                ]
                .spacing(8)
                .into()
            } else {
                let mut stack = column![].spacing(4);
                if group.is_some() {
                    stack = stack.push(text(sender).size(12).style(theme::muted_text));
                }
                stack = stack
                    .push(bubble)
                    .push(text(time).size(11).style(theme::muted_text));
                row![avatar, stack, space().width(Fill)].spacing(8).into()
            };
            list = list.push(entry);
        }

        container(
            scrollable(list)
                .id(self.scroll_id())
                .anchor_bottom()
                .on_scroll(Message::Scrolled)
                .height(Fill)
                .width(Fill),
        )
        .style(theme::chat_area)
        .width(Fill)
        .height(Fill)
        .into()
    }
}

/// A file bubble: picture or type tile, name, size, state, progress and actions.
fn file_bubble<'a>(
    ctx: &Ctx<'a>,
    session: &'a Session,
    line: &'a Line,
    file: &'a FileItem,
    mine: bool,
) -> Element<'a, Message> {
    let tr = ctx.tr();
    // Mine are known by my client id (the server's file id comes later); theirs by the file id.
    let key = if mine {
        Some(TransferId::Upload(line.client_id.clone()))
    } else {
        file.file_id.map(TransferId::Download)
    };
    let thumb = file
        .local
        .as_ref()
        .filter(|_| file.is_image())
        .and_then(|path| session.thumbs.get(path));

    let name = text(file.name.as_str())
        .size(14)
        .wrapping(text::Wrapping::WordOrGlyph);
    let size = text(human_size(file.size))
        .size(12)
        .style(theme::muted_text);
    let mut card = column![].spacing(8).width(FILE_CARD_WIDTH);
    if let Some(handle) = thumb {
        // The picture stands in for the tile; clicking it opens the file, as QQ does.
        let picture = image_widget(handle.clone())
            .width(Fill)
            .height(iced::Length::Shrink)
            .border_radius(6.0);
        let picture: Element<'a, Message> = match (&file.local, &file.state) {
            (Some(path), FileState::Saved | FileState::Sent | FileState::DeliveredToPeer) => {
                button(picture)
                    .padding(0)
                    .style(|_, _| button::Style::default())
                    .on_press(Message::File(FileAction::Open(path.clone())))
                    .into()
            }
            _ => picture.into(),
        };
        card = card.push(container(picture).max_height(240).clip(true));
        card = card.push(
            row![name, space().width(Fill), size]
                .spacing(8)
                .align_y(Center),
        );
    } else {
        card = card.push(
            row![
                file_tile(&file.name),
                column![name, size].spacing(2).width(Fill)
            ]
            .spacing(10)
            .align_y(Center),
        );
    }
    if let Some(progress) = file.progress() {
        let paused = matches!(
            file.state,
            FileState::Uploading { paused: true, .. } | FileState::Downloading { paused: true, .. }
        );
        card = card.push(
            progress_bar(0.0..=1.0, progress)
                .girth(4)
                .style(theme::transfer_progress(paused)),
        );
    }

    let (label, failed) = state_label(ctx.lang, file, mine);
    let mut actions = row![].spacing(12).align_y(Center);
    let link = |label: &'static str, message: Message| {
        button(text(label).size(12))
            .padding(0)
            .style(theme::link)
            .on_press(message)
    };
    let open_links = |actions: iced::widget::Row<'a, Message>| match &file.local {
        Some(path) => actions
            .push(link(tr.open, Message::File(FileAction::Open(path.clone()))))
            .push(link(
                tr.show_in_folder,
                Message::File(FileAction::Reveal(path.clone())),
            )),
        None => actions,
    };
    match (&file.state, file.file_id) {
        (FileState::Uploading { paused, .. } | FileState::Downloading { paused, .. }, _) => {
            if let Some(key) = key {
                actions = actions
                    .push(if *paused {
                        link(tr.resume, Message::File(FileAction::Resume(key.clone())))
                    } else {
                        link(tr.pause, Message::File(FileAction::Pause(key.clone())))
                    })
                    .push(link(tr.cancel, Message::File(FileAction::Cancel(key))));
            }
        }
        (FileState::Offered, Some(file_id)) => {
            actions = actions
                .push(link(
                    tr.download,
                    Message::File(FileAction::Download {
                        file_id,
                        name: file.name.clone(),
                    }),
                ))
                .push(link(
                    tr.save_as,
                    Message::File(FileAction::SaveAs {
                        file_id,
                        name: file.name.clone(),
                    }),
                ))
                .push(link(
                    tr.reject,
                    Message::File(FileAction::Reject { file_id }),
                ));
        }
        // The client resumes a failed transfer where it stopped, in either direction.
        (FileState::Failed(_), _) => {
            if let Some(key) = key {
                actions = actions.push(link(tr.retry, Message::File(FileAction::Resume(key))));
            }
        }
        (FileState::Saved | FileState::Sent | FileState::DeliveredToPeer, _) => {
            actions = open_links(actions);
        }
        _ => {}
    }
    card = card.push(
        row![
            text(label)
                .size(12)
                .style(if failed {
                    theme::error_text
                } else {
                    theme::muted_text
                })
                .width(Fill),
            actions
        ]
        .spacing(8)
        .align_y(Center),
    );
    container(card)
        .padding([10, 12])
        .style(theme::file_card)
        .into()
}

/// Where a file stands, in words, and whether that is bad news.
fn state_label(lang: Lang, file: &FileItem, mine: bool) -> (String, bool) {
    let tr = lang.tr();
    let percent = (file.progress().unwrap_or(0.0) * 100.0).floor() as u32;
    match &file.state {
        FileState::Uploading { paused: true, .. } | FileState::Downloading { paused: true, .. } => {
            (lang.paused_at(percent), false)
        }
        FileState::Uploading { .. } => (lang.uploading(percent), false),
        FileState::Downloading { .. } => (lang.downloading(percent), false),
        FileState::Sent => (tr.file_sent.to_owned(), false),
        FileState::DeliveredToPeer => (tr.file_delivered.to_owned(), false),
        FileState::Offered => (tr.file_offered.to_owned(), false),
        FileState::Saved => (tr.file_saved.to_owned(), false),
        FileState::Rejected if mine => (tr.file_rejected_by_peer.to_owned(), true),
        FileState::Rejected => (tr.file_rejected.to_owned(), false),
        FileState::Cancelled => (tr.file_cancelled.to_owned(), false),
        FileState::Expired => (tr.file_expired.to_owned(), false),
        FileState::Failed(why) if why.is_empty() => (tr.file_failed.to_owned(), true),
        FileState::Failed(why) => (lang.file_failed_because(why), true),
    }
}

/// The file-type tile: the extension in white on the type's colour, like a file manager's icon.
fn file_tile<'a>(name: &str) -> Element<'a, Message> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_uppercase())
        .filter(|e| !e.is_empty() && e.len() <= 4 && e.chars().all(|c| c.is_ascii_alphanumeric()));
    let tint = tile_color(ext.as_deref().unwrap_or(""));
    let label = ext.unwrap_or_else(|| "FILE".to_owned());
    let size = if label.len() > 3 { 11 } else { 13 };
    container(text(label).size(size))
        .center_x(44)
        .center_y(52)
        .style(theme::file_icon(tint))
        .into()
}

/// Colours by kind, the ones people know from office suites: red PDF, blue documents, green sheets,
/// orange slides and archives, purple media.
fn tile_color(ext: &str) -> Color {
    match ext {
        "PDF" => color!(0xe5484d),
        "DOC" | "DOCX" | "TXT" | "MD" | "RTF" | "ODT" => color!(0x3d7bfd),
        "XLS" | "XLSX" | "CSV" | "ODS" => color!(0x21a35a),
        "PPT" | "PPTX" | "KEY" | "ODP" => color!(0xf0883e),
        "ZIP" | "RAR" | "7Z" | "GZ" | "TAR" | "XZ" => color!(0xd9a514),
        "PNG" | "JPG" | "JPEG" | "GIF" | "WEBP" | "BMP" | "SVG" => color!(0x20b2aa),
        "MP3" | "WAV" | "FLAC" | "MP4" | "MOV" | "AVI" | "MKV" => color!(0x8e6cef),
        _ => color!(0x7d8590),
    }
}

/// The small file mark on the toolbar button: a page with its corner folded, drawn with containers so it
/// needs no icon font.
fn file_glyph<'a>() -> Element<'a, Message> {
    container(space())
        .width(11)
        .height(14)
        .style(|theme: &iced::Theme| iced::widget::container::Style {
            border: iced::Border {
                radius: iced::border::Radius::default().top_right(4.0),
                width: 1.5,
                color: theme::muted(theme),
            },
            ..iced::widget::container::Style::default()
        })
        .into()
}

/// The member list beside a group chat: online first.
fn members<'a>(ctx: &Ctx<'a>, session: &'a Session, group: u64) -> Element<'a, Message> {
    let mut members: Vec<_> = session
        .members
        .get(&group)
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    members.sort_by(|a, b| {
        b.presence
            .is_online()
            .cmp(&a.presence.is_online())
            .then_with(|| a.display_name().cmp(b.display_name()))
    });
    let online = members.iter().filter(|m| m.presence.is_online()).count();
    let mut list = column![
        text(ctx.lang.members(online, members.len()))
            .size(12)
            .style(theme::muted_text)
    ]
    .spacing(8);
    for member in members {
        let mut name_row = row![
            text(member.display_name().to_owned())
                .size(13)
                .wrapping(text::Wrapping::None)
        ]
        .spacing(4)
        .align_y(Center);
        if member.role == ququ_protocol::Role::Owner {
            name_row = name_row.push(text(ctx.tr().owner).size(10).style(|theme: &iced::Theme| {
                text::Style {
                    color: Some(theme.palette().warning),
                }
            }));
        }
        let dot = container(space())
            .width(8)
            .height(8)
            .style(theme::presence_dot(member.presence.is_online()));
        list = list.push(
            row![
                avatar::view(member.display_name(), &member.account, None, 24.0),
                name_row,
                space().width(Fill),
                dot
            ]
            .spacing(6)
            .align_y(Center),
        );
    }
    container(scrollable(list).height(Fill))
        .width(170)
        .padding([10, 10])
        .style(theme::surface)
        .into()
}
