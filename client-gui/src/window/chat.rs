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

use std::path::{Path, PathBuf};

use iced::keyboard::{self, key};
use iced::widget::{
    button, column, container, mouse_area, rich_text, row, scrollable, space, span, stack, text,
    text_editor, text_input,
};
use iced::{Center, Element, Fill, Right, Task};
use ququ_protocol::{Conv, Mentions};

pub mod emoji;
mod file_bubble;
pub mod forward;
pub mod members;

pub use file_bubble::FileAction;

use crate::model::links::{self, Piece};
use crate::model::{
    Connection, Delivery, Line, MemberAction, Model, Newer, Paging, RecallBar, Silenced,
    format_time, local_offset_minutes, now_millis,
};
use crate::net::Command;
use crate::widget::{self, Ctx, one_line, popup_at, status_bar, status_bar_with, user_text};
use crate::{avatar, fonts, theme};

/// How close to the top (as a fraction of the scrollable range) counts as "at the top" for paging; the
/// same near the bottom of a chat that jumped back, for the page after it.
const TOP_THRESHOLD: f32 = 0.02;

#[derive(Debug)]
pub struct State {
    pub conv: Conv,
    pub input: text_editor::Content,
    /// The scroll position is at the top: the next history page is wanted.
    at_top: bool,
    /// The scroll position is at the bottom: after a jump back, the page after the last line is wanted.
    /// A list starts there (it is anchored to the bottom), so a window just shown asks for nothing until
    /// it has been scrolled up (to the message jumped to) and down again.
    at_bottom: bool,
    /// Files are being dragged over the window: show where to drop them.
    pub dragging: bool,
    /// Something about files that went wrong (unreadable, too large, could not open), shown above the
    /// input until the next action.
    pub notice: Option<String>,
    /// No native file dialog here: the path being typed for Send file.
    pub path_prompt: Option<String>,
    /// The emoji picker, when open.
    pub emoji: Option<emoji::State>,
    /// Where the pointer last was in the window, so a right-click's menu opens where it was clicked.
    pointer: iced::Point,
    /// A bubble's right-click menu, when open.
    pub menu: Option<BubbleMenu>,
    /// The message being answered (its server id): shown above the input until sent or cancelled.
    pub replying: Option<u64>,
    /// Picking where to forward a message, and what it is.
    pub forward: Option<(forward::State, Forwarded)>,
    /// A quote or search result was clicked whose message is not loaded yet: its server id, shown once
    /// the window around it (or a page) brings it.
    pub jump: Option<u64>,
    /// The message jumped to is not stored on this device: the pages back are asked for until the
    /// server's history brings it (or its beginning is reached).
    pub jump_paging: bool,
    /// People picked from the @ list, with the name written for them: mentioned if `@name` is still
    /// in the text when it is sent (deleting the name deletes the mention).
    mentioned: Vec<(Mention, String)>,
    /// A member's right-click menu, when open: whose, and where.
    pub member_menu: Option<(String, iced::Point)>,
    /// A removal or a hand-over waiting for "are you sure?": whose, and which.
    pub confirming: Option<(String, MemberAction)>,
    /// A change to this member was sent and not answered yet: a refusal about them is said here.
    member_asked: Option<String>,
}

/// What a forward sends: a message's text, or the file of a file message (from where it is on this
/// device).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forwarded {
    Text(String),
    File(PathBuf),
}

/// Someone picked from a group's @ list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mention {
    /// `@全体成员`: everyone (the group's owner and admins only).
    All,
    Account(String),
}

/// Most people the @ list offers at once; typing more of the name narrows it.
const MENTION_CHOICES: usize = 8;

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
    /// The link at the bottom of a chat that jumped back: the page after the last line.
    LoadNewer,
    /// The floating "Back to newest" (回到最新消息) of a chat that jumped back.
    BackToNewest,
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
    /// The pointer moved.
    Pointer(iced::Point),
    /// A bubble was right-clicked: its menu opens at the pointer.
    BubbleMenu(String),
    /// The menu's Copy: the message's text to the clipboard.
    Copy(String),
    /// The menu's Copy on a picture that is on this device: the picture itself to the clipboard.
    CopyPicture(PathBuf),
    /// A click outside the open menu.
    CloseMenu,
    /// The menu's Reply: answer this message (server id) with a quote.
    Reply(u64),
    /// The × on the reply bar.
    CancelReply,
    /// The menu's Recall (撤回) of this message (server id).
    Recall(u64),
    /// Someone picked from the @ list, and the name to write for them.
    Mention(Mention, String),
    /// The menu's Forward: pick where to send this message (by client id) on to.
    Forward(String, Forwarded),
    ForwardPicker(forward::Message),
    /// The menu's "Delete for me" of the message with this local id.
    Delete(i64),
    /// A quote was clicked: show the message it quotes (server id), by its client id if it is loaded.
    JumpTo(u64, Option<String>),
    /// The list was scrolled to a quoted message, or a picture copied (nothing to change; the window
    /// draws again).
    Shown,
    /// Ctrl+V in the input, after the editor pasted any text: a picture on the clipboard is sent.
    PasteImage,
    /// The toolbar's Chat history (消息记录).
    History,
    /// A member was right-clicked: their menu opens at the pointer.
    MemberMenu(String),
    /// An item of a member's menu (the mutes are [`Message::MuteFor`], @ is [`Message::Mention`]).
    MemberDo(String, MemberAction),
    /// A member's menu's "Mute for …", in seconds.
    MuteFor(String, u64),
    /// The answer to "remove them / hand the group over?".
    Confirmed(bool),
    /// The toolbar's Group settings (群设置), or the announcement bar.
    GroupSettings,
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
        /// The message answered (server id).
        reply_to: Option<u64>,
        mentions: Mentions,
    },
    /// Recall my message (or, as a group's owner, anyone's) by server id.
    Recall {
        id: u64,
    },
    /// Something was typed to this friend: they see "typing…".
    Typing {
        to: String,
    },
    /// Remove this message from this device.
    Delete {
        conv: Conv,
        local_id: i64,
    },
    Retry {
        client_id: String,
    },
    LoadEarlier {
        conv: Conv,
    },
    /// The page after the last line (the list was scrolled to its bottom); nothing unless the chat
    /// jumped back and does not show the newest message.
    LoadNewer {
        conv: Conv,
    },
    /// Show the message in [`State::jump`], reading the messages around it.
    Jump {
        conv: Conv,
    },
    /// Show the newest messages again, after a jump back.
    BackToNewest {
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
    /// Put this picture (a file on this device) on the clipboard.
    CopyPicture(PathBuf),
    /// Send the picture on the clipboard, if it holds one (and no text) to `conv`.
    PasteImage {
        conv: Conv,
    },
    /// Try the connection now rather than at the end of the countdown.
    ReconnectNow,
    /// The history window on this chat.
    History(Conv),
    /// A change to a member of this group (owner or admin): sent as it is.
    Manage(Command),
    OpenChat(Conv),
    /// The settings window of this group.
    GroupSettings(u64),
    /// Close this window.
    Close,
}

impl State {
    pub fn new(conv: Conv) -> Self {
        State {
            conv,
            input: text_editor::Content::new(),
            at_top: false,
            at_bottom: true,
            dragging: false,
            notice: None,
            path_prompt: None,
            emoji: None,
            pointer: iced::Point::ORIGIN,
            menu: None,
            replying: None,
            forward: None,
            jump: None,
            jump_paging: false,
            mentioned: Vec::new(),
            member_menu: None,
            confirming: None,
            member_asked: None,
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

    /// An entry of the @ list: a member's account, or `*` for everyone.
    pub fn mention_choice_id(key: &str) -> iced::widget::Id {
        iced::widget::Id::from(format!("mention-{key}"))
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

    /// Scrolls so the message with `client_id` is near the top of the list: from where it lies in the
    /// list (its bubble's layout bounds against the list's content) to the offset that shows it. The
    /// list is anchored to the bottom, so an offset counts up from the newest message.
    pub fn show_message(&self, client_id: String) -> Task<Message> {
        use iced::widget::selector::{Target, find, id};
        let area = self.scroll_id();
        find(id(area.clone())).then(move |list| {
            let Some(Target::Scrollable {
                bounds,
                content_bounds,
                ..
            }) = list
            else {
                return Task::none();
            };
            let area = area.clone();
            find(id(State::bubble_id(&client_id))).then(move |bubble| {
                let Some(bubble) = bubble else {
                    return Task::none();
                };
                // Some room above it, so the sender's name shows too.
                let from_top = (bubble.bounds().y - content_bounds.y - 40.0).max(0.0);
                let most = (content_bounds.height - bounds.height).max(0.0);
                // A message after the scroll makes the window draw it at once: the operation alone
                // moved the list but left the old frame up until the pointer next moved (seen under
                // Xvfb).
                iced::widget::operation::scroll_to(
                    area.clone(),
                    scrollable::AbsoluteOffset {
                        x: 0.0,
                        y: (most - from_top).max(0.0),
                    },
                )
                .chain(Task::done(Message::Shown))
            })
        })
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
            // Back to typing after a pick, as QQ's picker does; and to answer a message.
            Message::Emoji(emoji::Message::Pick(_)) | Message::Reply(_) | Message::Mention(..) => {
                self.focus_input()
            }
            Message::Forward(..) => iced::widget::operation::focus(forward::State::filter_id()),
            Message::JumpTo(_, Some(client_id)) => self.show_message(client_id.clone()),
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
            Message::CopyPicture(path) => {
                self.menu = None;
                return Some(Event::CopyPicture(path));
            }
            Message::CloseMenu => {
                self.menu = None;
                self.member_menu = None;
            }
            Message::Reply(id) => {
                self.menu = None;
                self.replying = Some(id);
            }
            Message::CancelReply => self.replying = None,
            Message::Recall(id) => {
                self.menu = None;
                return Some(Event::Recall { id });
            }
            Message::Forward(client_id, what) => {
                self.menu = None;
                self.forward = Some((forward::State::new(client_id), what));
            }
            Message::ForwardPicker(message) => {
                let (picker, _) = self.forward.as_mut()?;
                let event = picker.update(message)?;
                let (_, what) = self.forward.take()?;
                // Sent on as a new message of mine there, as QQ forwards.
                return match (event, what) {
                    (forward::Event::Cancel, _) => None,
                    (forward::Event::To(conv), Forwarded::Text(text)) => Some(Event::Send {
                        conv,
                        text,
                        reply_to: None,
                        mentions: Mentions::default(),
                    }),
                    (forward::Event::To(conv), Forwarded::File(path)) => Some(Event::SendFiles {
                        conv,
                        paths: vec![path],
                    }),
                };
            }
            // Loaded: scrolled to by `update`'s task. Not yet: the window around it is read.
            Message::JumpTo(_, Some(_)) => self.jump = None,
            Message::Shown => {}
            Message::JumpTo(id, None) => {
                self.jump = Some(id);
                self.jump_paging = false;
                return Some(Event::Jump {
                    conv: self.conv.clone(),
                });
            }
            Message::Delete(local_id) => {
                self.menu = None;
                return Some(Event::Delete {
                    conv: self.conv.clone(),
                    local_id,
                });
            }
            Message::Mention(who, name) => {
                self.member_menu = None;
                // The "@na" being typed becomes "@name ".
                let text = self.input.text();
                let text = text.trim_end_matches('\n');
                let start = mention_query(text).map_or(text.len(), |(at, _)| at);
                let written = format!("{}@{name} ", &text[..start]);
                self.input = text_editor::Content::with_text(&written);
                self.input
                    .perform(text_editor::Action::Move(text_editor::Motion::DocumentEnd));
                self.mentioned.retain(|(m, _)| m != &who);
                self.mentioned.push((who, name));
            }
            Message::History => return Some(Event::History(self.conv.clone())),
            Message::MemberMenu(account) => {
                self.menu = None;
                self.emoji = None;
                self.member_menu = Some((account, self.pointer));
            }
            Message::MemberDo(account, action) => {
                self.member_menu = None;
                let Conv::Group(group) = self.conv else {
                    return None;
                };
                match action {
                    MemberAction::Chat => return Some(Event::OpenChat(Conv::User(account))),
                    MemberAction::Admin(admin) => {
                        let command = Command::SetAdmin {
                            group,
                            account: account.clone(),
                            admin,
                        };
                        return self.manage(account, command);
                    }
                    MemberAction::Unmute => {
                        let command = Command::MuteMember {
                            group,
                            account: account.clone(),
                            seconds: 0,
                        };
                        return self.manage(account, command);
                    }
                    MemberAction::Transfer | MemberAction::Kick => {
                        self.confirming = Some((account, action));
                    }
                    MemberAction::Mention | MemberAction::Mute => {}
                }
            }
            Message::MuteFor(account, seconds) => {
                self.member_menu = None;
                let Conv::Group(group) = self.conv else {
                    return None;
                };
                let command = Command::MuteMember {
                    group,
                    account: account.clone(),
                    seconds,
                };
                return self.manage(account, command);
            }
            Message::Confirmed(yes) => {
                let (account, action) = self.confirming.take()?;
                let Conv::Group(group) = self.conv else {
                    return None;
                };
                let command = match action {
                    MemberAction::Transfer => Command::TransferGroup {
                        group,
                        account: account.clone(),
                    },
                    _ => Command::Kick {
                        group,
                        account: account.clone(),
                    },
                };
                if yes {
                    return self.manage(account, command);
                }
            }
            Message::GroupSettings => {
                if let Conv::Group(group) = self.conv {
                    return Some(Event::GroupSettings(group));
                }
            }
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
            Message::Edit(action) => {
                let edit = action.is_edit();
                self.input.perform(action);
                // A friend sees "typing…" (the client sends it at most every few seconds).
                if let (true, Conv::User(friend)) = (edit, &self.conv) {
                    return Some(Event::Typing { to: friend.clone() });
                }
            }
            Message::Send => {
                let text = self.input.text();
                // Trailing newlines are what Enter would add; trimming both ends matches what people expect.
                let text = text.trim();
                if text.is_empty() || text.chars().count() > max_text {
                    return None;
                }
                let mut mentions = Mentions::default();
                for (who, name) in self.mentioned.drain(..) {
                    if !text.contains(&format!("@{name}")) {
                        continue;
                    }
                    match who {
                        Mention::All => mentions.all = true,
                        Mention::Account(account) => mentions.accounts.push(account),
                    }
                }
                let event = Event::Send {
                    conv: self.conv.clone(),
                    text: text.to_owned(),
                    reply_to: self.replying.take(),
                    mentions,
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
                let at_bottom = viewport.relative_offset().y <= TOP_THRESHOLD;
                let newly_bottom = at_bottom && !self.at_bottom;
                self.at_bottom = at_bottom;
                if newly {
                    return Some(Event::LoadEarlier {
                        conv: self.conv.clone(),
                    });
                }
                if newly_bottom {
                    return Some(Event::LoadNewer {
                        conv: self.conv.clone(),
                    });
                }
            }
            Message::LoadEarlier => {
                return Some(Event::LoadEarlier {
                    conv: self.conv.clone(),
                });
            }
            Message::LoadNewer => {
                return Some(Event::LoadNewer {
                    conv: self.conv.clone(),
                });
            }
            Message::BackToNewest => {
                self.jump = None;
                self.jump_paging = false;
                return Some(Event::BackToNewest {
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
            Message::Escape if self.forward.is_some() => self.forward = None,
            Message::Escape if self.member_menu.is_some() => self.member_menu = None,
            Message::Escape if self.confirming.is_some() => self.confirming = None,
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

    /// Sends a change to `account`'s membership, remembering whom it was about so a refusal is said
    /// here.
    fn manage(&mut self, account: String, command: Command) -> Option<Event> {
        self.member_asked = Some(account);
        self.notice = None;
        Some(Event::Manage(command))
    }

    /// The server refused something: if it was the change to a member this window sent, say so above
    /// the input and return `true`.
    pub fn refused(&mut self, about: Option<&str>, words: String) -> bool {
        if self.member_asked.is_none() || about != self.member_asked.as_deref() {
            return false;
        }
        self.member_asked = None;
        self.notice = Some(words);
        true
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
                    let friend = model.friends.get(account);
                    let presence = friend.map_or(ququ_protocol::Presence::Offline, |f| f.presence);
                    // "对方正在输入…" in place of the presence while they type, as QQ shows it; else
                    // what they said of themselves: gender, region, signature.
                    let subtitle = if model.is_typing(account, now_millis()) {
                        tr.typing.to_owned()
                    } else {
                        let profile = friend.map(|f| &f.profile);
                        let about = profile.map(|p| ctx.lang.about(p)).unwrap_or_default();
                        let sign = profile.map_or("", |p| p.signature.trim());
                        [ctx.presence_word(presence), about.as_str(), sign]
                            .into_iter()
                            .filter(|part| !part.is_empty())
                            .collect::<Vec<_>>()
                            .join(" · ")
                    };
                    (account.clone(), subtitle)
                }
                Conv::Group(id) => (format!("group:{id}"), ctx.lang.group_id(*id)),
            };
            container(
                row![
                    avatar::view(&name, &avatar_key, ctx.avatar(&self.conv), 36.0),
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
        let body: Element<'a, Message> = match self.mention_list(ctx, model) {
            Some(list) => stack![
                body,
                container(list)
                    .padding([6, 8])
                    .height(Fill)
                    .align_bottom(Fill)
            ]
            .width(Fill)
            .height(Fill)
            .into(),
            None => body,
        };
        let body: Element<'a, Message> = match &self.forward {
            Some((picker, _)) => stack![
                body,
                container(picker.view(ctx, model).map(Message::ForwardPicker)).center(Fill)
            ]
            .width(Fill)
            .height(Fill)
            .into(),
            None => body,
        };
        let body: Element<'a, Message> = match self.confirm_card(ctx, model) {
            Some(card) => stack![body, container(card).center(Fill)]
                .width(Fill)
                .height(Fill)
                .into(),
            None => body,
        };
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
            .on_action(Message::Edit);
        // Four lines of 14 px text, 18 px apart, in 10 px padding: 92 px.
        let editor = widget::whole_lines(editor, 4, 14.0, 18.0, 10.0)
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
            .on_press(Message::PickFiles),
            space().width(Fill),
        ]
        .push(matches!(self.conv, Conv::Group(_)).then(|| {
            button(text(tr.group_settings).size(12))
                .padding([4, 8])
                .style(theme::list_item)
                .on_press(Message::GroupSettings)
        }))
        // On the right of the strip, where QQ keeps its 消息记录.
        .push(
            button(text(tr.history).size(12))
                .padding([4, 8])
                .style(theme::list_item)
                .on_press(Message::History),
        )
        .align_y(Center)
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
        // Muted (禁言): the input gives way to why and until when, as QQ's does; what was typed stays
        // and comes back when the mute ends.
        let silenced = match self.conv {
            Conv::Group(group) => model.silenced(group, now_millis()),
            Conv::User(_) => None,
        };
        let input = match silenced {
            Some(why) => {
                let words = match why {
                    Silenced::Until(until) => {
                        ctx.lang.muted_until(&crate::model::format_mute_end(until))
                    }
                    Silenced::All => tr.everyone_muted.to_owned(),
                };
                column![
                    toolbar,
                    container(text(words).size(13).style(theme::muted_text))
                        .center_x(Fill)
                        .height(96)
                        .align_y(Center),
                    row![offline_note].padding([6, 10]),
                ]
            }
            None => column![
                toolbar,
                path_prompt,
                self.reply_bar(ctx, model),
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
            ],
        };

        let window = column![
            header,
            iced::widget::rule::horizontal(1),
            self.notice_bar(ctx, model),
            body,
            iced::widget::rule::horizontal(1),
            container(input).style(theme::surface),
            status_bar_with(ctx, Some(Message::ReconnectNow)),
        ];
        // One pointer over the whole window, so a menu may open anywhere in it: a member's to the left
        // of the pointer, over the messages, and down over the input when the messages are short (in
        // a window 420 px high they were 160, and the menu was cut off at their edge).
        let window: Element<'a, Message> = mouse_area(window).on_move(Message::Pointer).into();
        let menu = match (&self.conv, &self.member_menu) {
            (Conv::Group(group), Some((account, at))) => {
                members::menu(ctx, model, *group, account, *at)
            }
            _ => self.menu_view(ctx, model),
        };
        match menu {
            Some(menu) => stack![window, menu].into(),
            None => window,
        }
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
            // A change to the group ("A invited B") is a grey line in the middle, as in QQ.
            if let Some(change) = &line.change {
                let words = model.change_words(change, ctx.lang);
                list =
                    list.push(container(user_text(words, 12.0, theme::muted_text)).center_x(Fill));
                continue;
            }
            // A recalled message is one grey line in the middle, as in QQ.
            if let Some(recall) = &line.recalled {
                let words = model.recall_words(&self.conv, recall, ctx.lang);
                list =
                    list.push(container(user_text(words, 12.0, theme::muted_text)).center_x(Fill));
                continue;
            }
            let mine = line.from == model.account;
            let sender = model.sender_name(group, &line.from);
            let bubble: Element<'a, Message> = match model.file(line) {
                Some(file) => mouse_area(file_bubble::view(ctx, file, mine))
                    .on_right_press(Message::BubbleMenu(line.client_id.clone()))
                    .into(),
                None => {
                    let mut content = column![].spacing(6);
                    if let Some(quote) = &line.quote {
                        let quoted = conversation
                            .and_then(|c| c.lines.iter().find(|l| l.id == Some(quote.id)))
                            .map(|l| l.client_id.clone());
                        let quote_box = quote_view(ctx, model, group, quote, mine);
                        // A recalled one has nothing to show.
                        let quote_box: Element<'a, Message> = if quote.text.is_empty() {
                            quote_box
                        } else {
                            mouse_area(quote_box)
                                .on_press(Message::JumpTo(quote.id, quoted))
                                .interaction(iced::mouse::Interaction::Pointer)
                                .into()
                        };
                        content = content.push(quote_box);
                    }
                    content = content.push(message_text(&line.text, mine));
                    mouse_area(
                        container(content)
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
                    .into()
                }
            };
            // A message that mentions me says so above it, in red as QQ's "有人@我".
            let bubble: Element<'a, Message> = if line.mentions(&model.account) {
                column![
                    text(tr.mention_me).size(11).style(theme::error_text),
                    bubble
                ]
                .spacing(2)
                .into()
            } else {
                bubble
            };
            let time = format_time(line.time, now, offset);
            let avatar = if mine {
                avatar::view(&sender, &line.from, ctx.my_avatar, 34.0)
            } else {
                avatar::view(&sender, &line.from, ctx.user_avatar(&line.from), 34.0)
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

        // After a jump back the list stops short of the newest message: the bottom says what comes
        // next (scrolling there asks for it too), and "Back to newest" floats over the list.
        let newer = conversation.map_or(Newer::Shown, |c| c.newer);
        let bottom: Option<Element<'a, Message>> = match newer {
            Newer::Shown => None,
            Newer::Loading => Some(text(tr.loading).size(12).style(theme::muted_text).into()),
            Newer::More => Some(
                button(text(tr.load_newer).size(12))
                    .padding(0)
                    .style(theme::link)
                    .on_press(Message::LoadNewer)
                    .into(),
            ),
        };
        if let Some(bottom) = bottom {
            // Room under it for the floating button, which would cover it (and take its clicks).
            list = list
                .push(container(bottom).center_x(Fill))
                .push(space().height(36));
        }

        let area = scrollable(list)
            .id(self.scroll_id())
            .anchor_bottom()
            .on_scroll(Message::Scrolled)
            .height(Fill)
            .width(Fill);
        let area: Element<'a, Message> = if newer == Newer::Shown {
            area.into()
        } else {
            let back = button(text(tr.back_to_newest).size(12))
                .padding([6, 14])
                .style(theme::primary_button)
                .on_press(Message::BackToNewest);
            stack![
                area,
                container(back)
                    .align_bottom(Fill)
                    .center_x(Fill)
                    .padding(12)
            ]
            .into()
        };
        container(area)
            .style(theme::chat_area)
            .width(Fill)
            .height(Fill)
            .into()
    }

    /// The open bubble menu, over the messages at the pointer (moved in so it stays inside the area),
    /// with a click anywhere else closing it: Copy, Reply, and Recall — greyed with the reason when it
    /// cannot be done (someone else's message, too late, a server without recalls).
    fn menu_view<'a>(&self, ctx: &Ctx<'a>, model: &'a Model) -> Option<Element<'a, Message>> {
        let menu = self.menu.as_ref()?;
        let lines = &model.conversations.get(&self.conv)?.lines;
        let line = lines.iter().find(|l| l.client_id == menu.client_id)?;
        let tr = ctx.tr();
        // A picture on this device is copied as a picture, as QQ does; another file as its name.
        let copied = match (&line.file, model.file(line)) {
            (Some(file), Some(view)) if file.is_image() && view.local.is_some() => {
                Copied::Picture(view.local.map(Path::to_path_buf).unwrap_or_default())
            }
            (Some(file), _) => Copied::Text(file.name.clone()),
            (None, _) => Copied::Text(line.text.clone()),
        };
        let reply = line.id.filter(|_| model.features.said);
        // A file is forwarded from where it is on this device; one not downloaded cannot be yet.
        let forward = match (&line.file, model.file(line)) {
            (None, _) => Ok(Forwarded::Text(line.text.clone())),
            (Some(_), Some(view)) => view
                .local
                .map(|p| Forwarded::File(p.to_path_buf()))
                .ok_or_else(|| tr.download_first.to_owned()),
            (Some(_), None) => Err(tr.download_first.to_owned()),
        };
        let client_id = line.client_id.clone();
        let local_id = line.local_id;
        let recall = match (model.may_recall(&self.conv, line, now_millis()), line.id) {
            (Ok(()), Some(id)) => Ok(id),
            (Err(RecallBar::ServerCannot), _) => Err(tr.server_cannot.to_owned()),
            (Err(RecallBar::NotMine), _) => Err(tr.recall_not_mine.to_owned()),
            (Err(RecallBar::TooLate(secs)), _) => Err(ctx.lang.recall_too_late(secs)),
            (Err(RecallBar::NotSent) | Ok(()), _) => Err(tr.recall_not_sent.to_owned()),
        };
        let labels = MenuLabels {
            copy: tr.copy,
            reply: tr.reply,
            recall: tr.recall,
            forward: tr.forward,
            delete: tr.delete_for_me,
        };
        // The card is at most about 158 × 220.
        let most = iced::Size::new(162.0, 226.0);
        Some(popup_at(menu.at, most, Message::CloseMenu, move || {
            menu_card(
                labels,
                MenuItems {
                    copied: copied.clone(),
                    reply,
                    recall: recall.clone(),
                    forward: forward.clone().map(|f| (client_id.clone(), f)),
                    delete: local_id,
                },
            )
        }))
    }

    /// A group's announcement (群公告) as one line under the header, as QQ pins it; a click opens the
    /// group's settings, where it is read whole.
    fn notice_bar<'a>(&self, ctx: &Ctx<'a>, model: &'a Model) -> Element<'a, Message> {
        let notice = match self.conv {
            Conv::Group(group) => model.notices.get(&group).filter(|n| !n.text.is_empty()),
            Conv::User(_) => None,
        };
        let Some(notice) = notice else {
            return space().height(0).into();
        };
        column![
            button(
                row![
                    text("📢").size(13).font(fonts::EMOJI),
                    text(ctx.tr().announcement)
                        .size(12)
                        .style(theme::muted_text),
                    user_text(one_line(&notice.text), 12.0, text::default),
                ]
                .spacing(6)
                .align_y(Center),
            )
            .width(Fill)
            .padding([6, 14])
            .style(theme::list_item)
            .on_press(Message::GroupSettings),
            iced::widget::rule::horizontal(1),
        ]
        .into()
    }

    /// "Remove them?" / "Hand the group over?" over the messages, until answered.
    fn confirm_card<'a>(&self, ctx: &Ctx<'a>, model: &'a Model) -> Option<Element<'a, Message>> {
        let (account, action) = self.confirming.as_ref()?;
        let Conv::Group(group) = self.conv else {
            return None;
        };
        let tr = ctx.tr();
        let name = model.sender_name(Some(group), account);
        let group_name = model.conv_name(&self.conv);
        let (question, yes) = match action {
            MemberAction::Transfer => (ctx.lang.confirm_transfer(&name, &group_name), tr.transfer),
            _ => (ctx.lang.confirm_kick(&name, &group_name), tr.remove),
        };
        Some(
            container(
                column![
                    user_text(question, 14.0, text::default),
                    row![
                        space().width(Fill),
                        button(text(tr.cancel).size(13))
                            .style(theme::secondary_button)
                            .on_press(Message::Confirmed(false)),
                        button(text(yes).size(13))
                            .style(theme::danger_button)
                            .on_press(Message::Confirmed(true)),
                    ]
                    .spacing(8),
                ]
                .spacing(14)
                .width(320),
            )
            .padding(18)
            .style(theme::card)
            .into(),
        )
    }

    /// "Replying to alice: …" above the input while answering a message, with × to stop.
    fn reply_bar<'a>(&self, ctx: &Ctx<'a>, model: &'a Model) -> Element<'a, Message> {
        let Some(id) = self.replying else {
            return space().height(0).into();
        };
        let line = model
            .conversations
            .get(&self.conv)
            .and_then(|c| c.lines.iter().find(|l| l.id == Some(id)));
        let group = match self.conv {
            Conv::Group(g) => Some(g),
            Conv::User(_) => None,
        };
        let said = line.map_or_else(String::new, |l| {
            format!(
                "{}: {}",
                ctx.lang.replying_to(&model.sender_name(group, &l.from)),
                one_line(&model.preview(&self.conv, l, ctx.lang))
            )
        });
        container(
            row![
                container(user_text(said, 12.0, theme::muted_text)).width(Fill),
                button(text("×").size(14))
                    .padding([2, 8])
                    .style(theme::list_item)
                    .on_press(Message::CancelReply),
            ]
            .spacing(6)
            .align_y(Center),
        )
        .padding([4, 10])
        .into()
    }

    /// In a group, typing `@` offers its members (and, to the owner and admins, everyone): picking one writes
    /// their name and mentions them.
    fn mention_list<'a>(&self, ctx: &Ctx<'a>, model: &'a Model) -> Option<Element<'a, Message>> {
        let Conv::Group(group) = self.conv else {
            return None;
        };
        let typed = self.input.text();
        let (_, query) = mention_query(typed.trim_end_matches('\n'))?;
        let query = query.to_lowercase();
        let members = model.members.get(&group)?;
        let mut choices: Vec<(Mention, String, String)> = Vec::new();
        // The server lets the owner and admins mention everyone.
        let manager = model.manages(group);
        let all = ctx.tr().mention_all;
        if manager
            && (query.is_empty() || all.to_lowercase().contains(&query) || "all".contains(&query))
        {
            choices.push((Mention::All, all.to_owned(), String::new()));
        }
        for member in members {
            if member.account == model.account {
                continue;
            }
            let name = model.sender_name(Some(group), &member.account);
            if query.is_empty()
                || name.to_lowercase().contains(&query)
                || member.account.to_lowercase().contains(&query)
            {
                choices.push((
                    Mention::Account(member.account.clone()),
                    name,
                    member.account.clone(),
                ));
            }
        }
        if choices.is_empty() {
            return None;
        }
        let mut list = column![].width(240);
        for (who, name, account) in choices.into_iter().take(MENTION_CHOICES) {
            let label = row![
                user_text(name.clone(), 13.0, text::default),
                text(account).size(11).style(theme::muted_text),
            ]
            .spacing(8)
            .align_y(Center);
            let key = match &who {
                Mention::All => "*".to_owned(),
                Mention::Account(account) => account.clone(),
            };
            list = list.push(
                container(
                    button(label)
                        .width(Fill)
                        .padding([5, 10])
                        .style(theme::list_item)
                        .on_press(Message::Mention(who, name)),
                )
                .id(State::mention_choice_id(&key)),
            );
        }
        Some(container(list).padding(4).style(theme::card).into())
    }
}

/// The `@…` being typed at the end of `text`: where its `@` is and what follows it, if an `@` starts a
/// word there and nothing after it is a space.
fn mention_query(text: &str) -> Option<(usize, &str)> {
    let at = text.rfind('@')?;
    let query = &text[at + 1..];
    let starts_word = text[..at]
        .chars()
        .next_back()
        .is_none_or(char::is_whitespace);
    (starts_word && !query.contains(char::is_whitespace)).then_some((at, query))
}

/// A quote above a reply's text: who said it and the start of it, or that it was recalled.
fn quote_view<'a>(
    ctx: &Ctx<'a>,
    model: &'a Model,
    group: Option<u64>,
    quote: &'a ququ_protocol::Quote,
    mine: bool,
) -> Element<'a, Message> {
    let said = if quote.text.is_empty() {
        ctx.tr().quote_recalled.to_owned()
    } else {
        one_line(&quote.text)
    };
    let words = format!("{}: {said}", model.sender_name(group, &quote.from));
    container(user_text(
        words,
        12.0,
        if mine {
            theme::quote_text_mine
        } else {
            theme::muted_text
        },
    ))
    .padding([4, 8])
    .width(iced::Shrink)
    .style(if mine {
        theme::quote_mine
    } else {
        theme::quote_theirs
    })
    .into()
}

/// The words on the bubble menu.
#[derive(Debug, Clone, Copy)]
struct MenuLabels {
    copy: &'static str,
    reply: &'static str,
    recall: &'static str,
    forward: &'static str,
    delete: &'static str,
}

/// What the menu's Copy puts on the clipboard.
#[derive(Debug, Clone)]
enum Copied {
    Text(String),
    Picture(PathBuf),
}

/// What the bubble menu can do with its message; an `Err` is why that item is greyed.
struct MenuItems {
    copied: Copied,
    reply: Option<u64>,
    recall: Result<u64, String>,
    forward: Result<(String, Forwarded), String>,
    /// Its local id: a message this device stores can be deleted from it.
    delete: Option<i64>,
}

/// The bubble menu's card: Copy, Reply (greyed on a server without replies), Forward, Recall (greyed,
/// with why), Delete for me.
fn menu_card<'a>(labels: MenuLabels, items: MenuItems) -> Element<'a, Message> {
    let item = |label: &'static str, message: Option<Message>| {
        // Greyed when it cannot be done now, so it does not look like something to click.
        let label = match message {
            Some(_) => text(label).size(13),
            None => text(label).size(13).style(theme::muted_text),
        };
        button(label)
            .width(Fill)
            .padding([6, 14])
            .style(theme::list_item)
            .on_press_maybe(message)
    };
    let why =
        |reason: String| container(text(reason).size(11).style(theme::muted_text)).padding([0, 14]);
    let mut card = column![
        item(
            labels.copy,
            Some(match items.copied {
                Copied::Text(text) => Message::Copy(text),
                Copied::Picture(path) => Message::CopyPicture(path),
            }),
        ),
        item(labels.reply, items.reply.map(Message::Reply)),
    ]
    .width(150);
    card = match items.forward {
        Ok((client_id, what)) => card.push(item(
            labels.forward,
            Some(Message::Forward(client_id, what)),
        )),
        Err(reason) => card.push(item(labels.forward, None)).push(why(reason)),
    };
    card = match items.recall {
        Ok(id) => card.push(item(labels.recall, Some(Message::Recall(id)))),
        Err(reason) => card.push(item(labels.recall, None)).push(why(reason)),
    };
    card = card.push(item(labels.delete, items.delete.map(Message::Delete)));
    container(card).padding(4).style(theme::card).into()
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
