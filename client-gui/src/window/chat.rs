//! A chat window: one per friend or group.
//!
//! Bubbles (mine on the right, blue) with time and delivery state; a failed one offers a retry. History
//! comes from the app's conversation (filled from local storage) and pages back when the list is scrolled
//! to the top. The multi-line input sends on Enter and breaks the line on Shift+Enter; it keeps working
//! while disconnected because sending only queues (the client's outbox delivers later). Group windows
//! show the member list with online state.
//!
//! Files: the toolbar's Send file button (a native dialog, run by the app; where the system has none, a
//! path typed into the window) or files dropped on the window become offers, drawn as cards by
//! [`file_bubble`]; a picture shows inline, and clicking it opens the viewer. Ctrl+V of a picture
//! (a screenshot) sends it like a picked file. A group's member list is [`members`]; the toolbar's
//! emoji picker is [`emoji`].

use std::path::PathBuf;

use iced::keyboard::{self, key};
use iced::widget::{
    button, column, container, mouse_area, pin, responsive, rich_text, row, scrollable, space,
    span, stack, text, text_editor, text_input,
};
use iced::{Center, Element, Fill, Right, Task};
use ququ_protocol::Conv;

pub mod emoji;
mod file_bubble;
mod members;

pub use file_bubble::FileAction;

use crate::model::links::{self, Piece};
use crate::model::{
    Connection, Delivery, Line, Model, Paging, format_time, local_offset_minutes, now_millis,
};
use crate::widget::{Ctx, status_bar, status_bar_with, user_text};
use crate::{avatar, fonts, theme};

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
    /// The emoji picker, when open.
    pub emoji: Option<emoji::State>,
    /// Where the pointer last was over the messages (relative to their area), so a right-click's menu
    /// opens where it was clicked.
    pointer: iced::Point,
    /// A bubble's right-click menu, when open.
    pub menu: Option<BubbleMenu>,
}

/// A message's right-click menu: which message (by client id), and where it opened.
#[derive(Debug, Clone, PartialEq)]
pub struct BubbleMenu {
    pub client_id: String,
    pub at: iced::Point,
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
    /// Send file where the system has no file dialog: ask for a path in the window.
    AskPath,
    PathEdited(String),
    PathSubmit,
    PathCancel,
    /// Something about files went wrong (unreadable, too large, could not open): say so above the input.
    Notice(String),
    /// Esc: cancel the path prompt if it is open, else close the window.
    Escape,
    /// The status bar's "Reconnect now" during the countdown.
    ReconnectNow,
    /// A web address in a bubble was clicked (as written; [`links::href`] gives what to open).
    Link(String),
    /// The toolbar's smiley: open or close the emoji picker.
    ToggleEmoji,
    Emoji(emoji::Message),
    /// The pointer moved over the messages.
    Pointer(iced::Point),
    /// A bubble was right-clicked: its menu opens at the pointer.
    BubbleMenu(String),
    /// The menu's Copy: the message's text to the clipboard.
    Copy(String),
    /// A click outside the open menu.
    CloseMenu,
    /// Ctrl+V in the input, after the editor pasted any text: a picture on the clipboard is sent.
    PasteImage,
}

/// What the chat window must know from the app to act on its input.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    /// Longest message the server accepts, in characters.
    pub max_text: usize,
    /// The system has native file dialogs ([`crate::files::native_dialogs`]); else paths are typed.
    pub file_dialogs: bool,
    /// Emoji were picked before: the picker opens on the recent ones.
    pub recent_emoji: bool,
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
    /// Open this web address in the browser.
    OpenLink(String),
    /// An emoji was picked (and put into the input): first among the recent ones now.
    EmojiUsed(String),
    /// Put this text on the clipboard.
    Copy(String),
    /// Send the picture on the clipboard, if it holds one (and no text) to `conv`.
    PasteImage {
        conv: Conv,
    },
    /// Try the connection now rather than at the end of the countdown.
    ReconnectNow,
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
            emoji: None,
            pointer: iced::Point::ORIGIN,
            menu: None,
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

    /// A message's bubble, by its client id: for finding it on screen (tests, and a quote's jump to
    /// the message it quotes).
    pub fn bubble_id(client_id: &str) -> iced::widget::Id {
        iced::widget::Id::from(format!("bubble-{client_id}"))
    }

    /// A picture shown inline, by the server's file id: for finding it on screen (tests).
    pub fn picture_id(file_id: u64) -> iced::widget::Id {
        iced::widget::Id::from(format!("picture-{file_id}"))
    }

    pub fn input_id(&self) -> iced::widget::Id {
        State::input_id_for(&self.conv)
    }

    /// The input of `conv`'s chat window.
    pub fn input_id_for(conv: &Conv) -> iced::widget::Id {
        iced::widget::Id::from(format!("input-{}-{}", conv.kind(), conv.key()))
    }

    /// Shows the newest message. The list is anchored to the bottom (so a page loaded above keeps the
    /// view still), and an anchored offset counts from that anchor: the newest message is offset 0.
    /// `snap_to_end` would mean the far end from the anchor, the oldest message.
    pub fn scroll_to_end<T: Send + 'static>(&self) -> Task<T> {
        iced::widget::operation::scroll_to(
            self.scroll_id(),
            scrollable::AbsoluteOffset { x: 0.0, y: 0.0 },
        )
    }

    /// Puts the cursor in the input (on open and on focus).
    pub fn focus_input<T: Send + 'static>(&self) -> Task<T> {
        iced::widget::operation::focus(self.input_id())
    }

    /// Applies one message; returns what the window itself wants done (focus a field) and what the app
    /// must do.
    pub fn update(&mut self, message: Message, env: Env) -> (Task<Message>, Option<Event>) {
        // Without a native file dialog, Send file asks for a path here, with the cursor in its field.
        let message = match message {
            Message::PickFiles if !env.file_dialogs => Message::AskPath,
            message => message,
        };
        let task = match &message {
            Message::AskPath => iced::widget::operation::focus(self.path_id()),
            // Back to typing after a pick, as QQ's picker does.
            Message::Emoji(emoji::Message::Pick(_)) => self.focus_input(),
            _ => Task::none(),
        };
        (task, self.apply(message, env))
    }

    fn apply(&mut self, message: Message, env: Env) -> Option<Event> {
        let max_text = env.max_text;
        match message {
            Message::Pointer(at) => self.pointer = at,
            Message::BubbleMenu(client_id) => {
                self.emoji = None;
                self.menu = Some(BubbleMenu {
                    client_id,
                    at: self.pointer,
                });
            }
            Message::Copy(text) => {
                self.menu = None;
                return Some(Event::Copy(text));
            }
            Message::CloseMenu => self.menu = None,
            Message::PasteImage => {
                self.notice = None;
                return Some(Event::PasteImage {
                    conv: self.conv.clone(),
                });
            }
            Message::ToggleEmoji => {
                self.emoji = match self.emoji {
                    Some(_) => None,
                    None => Some(emoji::State::new(env.recent_emoji)),
                };
            }
            Message::Emoji(message) => {
                let picker = self.emoji.as_mut()?;
                let emoji::Event::Pick(picked) = picker.update(message)?;
                self.emoji = None;
                self.input
                    .perform(text_editor::Action::Edit(text_editor::Edit::Paste(
                        std::sync::Arc::new(picked.clone()),
                    )));
                return Some(Event::EmojiUsed(picked));
            }
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
            Message::AskPath => {
                self.notice = None;
                self.path_prompt = Some(String::new());
            }
            Message::Notice(text) => self.notice = Some(text),
            Message::PathEdited(text) => self.path_prompt = Some(text),
            Message::PathCancel => self.path_prompt = None,
            Message::Escape if self.menu.is_some() => self.menu = None,
            Message::Escape if self.emoji.is_some() => self.emoji = None,
            Message::Escape if self.path_prompt.is_some() => self.path_prompt = None,
            Message::Escape => return Some(Event::Close),
            Message::ReconnectNow => return Some(Event::ReconnectNow),
            Message::Link(link) => return Some(Event::OpenLink(links::href(&link))),
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
        let Some(model) = ctx.model else {
            return status_bar(ctx);
        };
        let name = model.conv_name(&self.conv);

        let header = {
            let (avatar_key, subtitle) = match &self.conv {
                Conv::User(account) => {
                    let presence = model
                        .friends
                        .get(account)
                        .map_or(ququ_protocol::Presence::Offline, |f| f.presence);
                    (account.clone(), ctx.presence_word(presence).to_owned())
                }
                Conv::Group(id) => (format!("group:{id}"), ctx.lang.group_id(*id)),
            };
            container(
                row![
                    avatar::view(&name, &avatar_key, None, 36.0),
                    column![
                        user_text(name.clone(), 16.0, text::default),
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

        let messages = self.messages(ctx, model);
        let body: Element<'a, Message> = match &self.conv {
            Conv::Group(group) => row![
                messages,
                iced::widget::rule::vertical(1),
                members::view(ctx, model, *group)
            ]
            .height(Fill)
            .into(),
            Conv::User(_) => messages,
        };
        // The picker floats over the bottom of the messages, just above the smiley that opened it.
        let body: Element<'a, Message> = match &self.emoji {
            Some(picker) => stack![
                body,
                container(picker.view(ctx).map(Message::Emoji))
                    .padding([6, 8])
                    .height(Fill)
                    .align_bottom(Fill)
            ]
            .width(Fill)
            .height(Fill)
            .into(),
            None => body,
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
        let too_long = typed.trim().chars().count() > model.max_text;
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
                // Ctrl+V pastes text as ever, then the app looks for a picture on the clipboard
                // (iced's clipboard carries text only) and sends it, as QQ does with a screenshot.
                // The same test as the editor's own Paste binding, so any layout's V key counts.
                let paste = press.key.to_latin(press.physical_key) == Some('v')
                    && press.modifiers.command()
                    && !press.modifiers.alt()
                    && matches!(press.status, text_editor::Status::Focused { .. });
                if paste {
                    return Some(text_editor::Binding::Sequence(vec![
                        text_editor::Binding::Paste,
                        text_editor::Binding::Custom(Message::PasteImage),
                    ]));
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
            })
            // Emoji from the emoji font, as in the bubbles.
            .highlight_with::<fonts::EmojiHighlighter>((), fonts::emoji_format);
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
                row![
                    text("🙂").size(15).font(fonts::EMOJI),
                    text(tr.emoji).size(12)
                ]
                .spacing(6)
                .align_y(Center)
            )
            .padding([4, 8])
            .style(theme::list_item)
            .on_press(Message::ToggleEmoji),
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
            status_bar_with(ctx, Some(Message::ReconnectNow)),
        ]
        .into()
    }

    fn messages<'a>(&'a self, ctx: &Ctx<'a>, model: &'a Model) -> Element<'a, Message> {
        let tr = ctx.tr();
        let conversation = model.conversations.get(&self.conv);
        let lines: &[Line] = conversation.map_or(&[], |c| c.lines.as_slice());
        let group = match self.conv {
            Conv::Group(id) => Some(id),
            Conv::User(_) => None,
        };
        let (now, offset) = (now_millis(), local_offset_minutes());

        let mut list = column![].spacing(14).padding([12, 14]).width(Fill);
        // The top of the list: load more, loading, or the beginning of the conversation.
        let top: Element<'a, Message> = match conversation {
            Some(c) if c.paging == Paging::Loading => {
                text(tr.loading).size(12).style(theme::muted_text).into()
            }
            Some(c) if c.paging == Paging::More => button(text(tr.load_earlier).size(12))
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
            let mine = line.from == model.account;
            let sender = model.sender_name(group, &line.from);
            let bubble: Element<'a, Message> = match model.file(line) {
                Some(file) => file_bubble::view(ctx, file, mine),
                None => mouse_area(
                    container(message_text(&line.text, mine))
                        .id(State::bubble_id(&line.client_id))
                        .padding([8, 12])
                        .max_width(380)
                        .style(if mine {
                            theme::bubble_mine
                        } else {
                            theme::bubble_theirs
                        }),
                )
                .on_right_press(Message::BubbleMenu(line.client_id.clone()))
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
                    stack = stack.push(user_text(sender, 12.0, theme::muted_text));
                }
                stack = stack
                    .push(bubble)
                    .push(text(time).size(11).style(theme::muted_text));
                row![avatar, stack, space().width(Fill)].spacing(8).into()
            };
            list = list.push(entry);
        }

        let area = mouse_area(
            scrollable(list)
                .id(self.scroll_id())
                .anchor_bottom()
                .on_scroll(Message::Scrolled)
                .height(Fill)
                .width(Fill),
        )
        .on_move(Message::Pointer);
        let area: Element<'a, Message> = match self.menu_view(ctx, lines) {
            Some(menu) => stack![area, menu].into(),
            None => area.into(),
        };
        container(area)
            .style(theme::chat_area)
            .width(Fill)
            .height(Fill)
            .into()
    }

    /// The open bubble menu, over the messages at the pointer (moved in so it stays inside the area),
    /// with a click anywhere else closing it.
    fn menu_view<'a>(&self, ctx: &Ctx<'a>, lines: &'a [Line]) -> Option<Element<'a, Message>> {
        let menu = self.menu.as_ref()?;
        let line = lines.iter().find(|l| l.client_id == menu.client_id)?;
        let label = ctx.tr().copy;
        let copied = line.text.clone();
        let at = menu.at;
        let outside = mouse_area(space().width(Fill).height(Fill))
            .on_press(Message::CloseMenu)
            .on_right_press(Message::CloseMenu);
        Some(
            stack![
                outside,
                responsive(move |size| {
                    // The card is 128 × ~40: kept whole inside the area near its right and bottom edges.
                    let x = at.x.min((size.width - 132.0).max(0.0));
                    let y = at.y.min((size.height - 48.0).max(0.0));
                    let copy = button(text(label).size(13))
                        .width(Fill)
                        .padding([6, 14])
                        .style(theme::list_item)
                        .on_press(Message::Copy(copied.clone()));
                    let card = container(column![copy].width(120))
                        .padding(4)
                        .style(theme::card);
                    pin(card).x(x).y(y).into()
                })
            ]
            .into(),
        )
    }
}

/// A message's text in its bubble. Long words and addresses break anywhere rather than run out of the
/// bubble (a 3,000-character address was cut off at the bubble's edge), web addresses are links, and
/// emoji come from the shipped emoji font.
fn message_text<'a>(message: &'a str, mine: bool) -> Element<'a, Message> {
    let mut spans = Vec::new();
    for piece in links::pieces(message) {
        match piece {
            Piece::Text(t) => {
                for (run, emoji) in fonts::emoji_runs(t) {
                    spans.push(if emoji {
                        span(run).font(fonts::EMOJI)
                    } else {
                        span(run)
                    });
                }
            }
            // In my blue bubble the text is white, and so are its links; in theirs, links are blue.
            Piece::Link(l) => {
                let link = span(l).underline(true).link(l.to_owned());
                spans.push(if mine { link } else { link.color(LINK_BLUE) });
            }
        }
    }
    // Plain text stays a plain text widget (one run, no font of its own): cheaper, and findable.
    let plain = match spans.as_slice() {
        [] => true,
        [only] => only.font.is_none() && only.link.is_none(),
        _ => false,
    };
    if plain {
        return text(message)
            .size(14)
            .wrapping(text::Wrapping::WordOrGlyph)
            .into();
    }
    rich_text(spans)
        .size(14)
        .wrapping(text::Wrapping::WordOrGlyph)
        .on_link_click(Message::Link)
        .into()
}

/// A link in their bubble: QQ's link blue, readable on the light and the dark bubble alike.
const LINK_BLUE: iced::Color = iced::color!(0x1e90ff);

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
