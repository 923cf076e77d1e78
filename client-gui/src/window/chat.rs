//! A chat window: one per friend or group.
//!
//! Bubbles (mine on the right, blue) with time and delivery state; a failed one offers a retry. History
//! comes from the app's conversation (filled from local storage) and pages back when the list is scrolled
//! to the top. The multi-line input sends on Enter and breaks the line on Shift+Enter; it keeps working
//! while disconnected because sending only queues (the client's outbox delivers later). Group windows
//! show the member list with online state.

use iced::keyboard::{self, key};
use iced::widget::{button, column, container, row, scrollable, space, text, text_editor};
use iced::{Center, Element, Fill, Right, Task};
use ququ_protocol::Conv;

use super::{Ctx, status_bar};
use crate::model::{
    Connection, Delivery, Line, Session, format_time, local_offset_minutes, now_millis,
};
use crate::{avatar, theme};

/// How close to the top (as a fraction of the scrollable range) counts as "at the top" for paging.
const TOP_THRESHOLD: f32 = 0.02;

#[derive(Debug)]
pub struct State {
    pub conv: Conv,
    pub input: text_editor::Content,
    /// The scroll position is at the top: the next history page is wanted.
    at_top: bool,
}

#[derive(Debug, Clone)]
pub enum Message {
    Edit(text_editor::Action),
    Send,
    Retry(String),
    Scrolled(scrollable::Viewport),
    LoadEarlier,
}

/// What the window asks of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Send { conv: Conv, text: String },
    Retry { client_id: String },
    LoadEarlier { conv: Conv },
}

impl State {
    pub fn new(conv: Conv) -> Self {
        State {
            conv,
            input: text_editor::Content::new(),
            at_top: false,
        }
    }

    pub fn scroll_id(&self) -> iced::widget::Id {
        iced::widget::Id::from(format!("chat-{}-{}", self.conv.kind(), self.conv.key()))
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
                let at_top =
                    scrollable_range > 0.0 && viewport.relative_offset().y <= TOP_THRESHOLD;
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
        let offline_note: Element<'a, Message> = if too_long {
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
        let input = column![
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
            let bubble = container(text(line.text.as_str()).size(14))
                .padding([8, 12])
                .max_width(380)
                .style(if mine {
                    theme::bubble_mine
                } else {
                    theme::bubble_theirs
                });
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
