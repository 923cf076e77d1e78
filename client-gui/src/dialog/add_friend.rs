//! Add friend: find someone by account or nickname, then send them a request with a note.

use iced::widget::{button, column, row, scrollable, text, text_input};
use iced::{Center, Element, Fill, Shrink};

use super::{Event, close_row};
use crate::model::{Model, Sent};
use crate::net::Command;
use crate::theme;
use crate::widget::{Ctx, avatar_with_dot};

pub const QUERY_INPUT: &str = "add-friend-query";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub query: String,
    pub note: String,
    /// Whom a request was just sent to, so the button says so before the server confirms.
    pub sent_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    QueryChanged(String),
    NoteChanged(String),
    Find,
    SendRequest(String),
    Close,
}

impl State {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::QueryChanged(q) => self.query = q,
            Message::NoteChanged(n) => self.note = n,
            Message::Find => {
                let query = self.query.trim();
                if !query.is_empty() {
                    return Some(Event::Net(Command::FindUser {
                        query: query.to_owned(),
                    }));
                }
            }
            Message::SendRequest(account) => {
                self.sent_to = Some(account.clone());
                return Some(Event::Net(Command::AddFriend {
                    account,
                    note: self.note.trim().to_owned(),
                }));
            }
            Message::Close => return Some(Event::Close),
        }
        None
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>, model: &'a Model) -> (String, Element<'a, Message>) {
        let tr = ctx.tr();
        let mut results = column![].spacing(6);
        match &model.found {
            Some(found) if found.is_empty() => {
                results = results.push(text(tr.no_results).size(13).style(theme::muted_text))
            }
            Some(found) => {
                for user in found.iter().filter(|u| u.account != model.account) {
                    let action: Element<'a, Message> = if model.friends.contains_key(&user.account)
                    {
                        text(tr.already_friend)
                            .size(12)
                            .style(theme::muted_text)
                            .into()
                    } else if self.sent_to.as_deref() == Some(user.account.as_str())
                        || model
                            .sent
                            .get(&user.account)
                            .is_some_and(|r| r.state == Sent::Waiting)
                    {
                        text(tr.request_sent)
                            .size(12)
                            .style(theme::muted_text)
                            .into()
                    } else {
                        button(text(tr.send_request).size(12))
                            .style(theme::primary_button)
                            .on_press(Message::SendRequest(user.account.clone()))
                            .into()
                    };
                    let name = if user.nickname.is_empty() || user.nickname == user.account {
                        user.account.clone()
                    } else {
                        format!("{} ({})", user.nickname, user.account)
                    };
                    results = results.push(
                        row![
                            avatar_with_dot(
                                &user.nickname,
                                &user.account,
                                ctx.user_avatar(&user.account),
                                user.presence.is_online()
                            ),
                            text(name).size(14).width(Fill),
                            action
                        ]
                        .spacing(8)
                        .align_y(Center),
                    );
                }
            }
            None => {}
        }
        let body = column![
            row![
                text_input(tr.find_user_hint, &self.query)
                    .id(QUERY_INPUT)
                    .on_input(Message::QueryChanged)
                    .on_submit(Message::Find)
                    .padding(8)
                    .style(theme::field),
                button(text(tr.find).size(13))
                    .padding([8, 12])
                    .style(theme::primary_button)
                    .on_press(Message::Find),
            ]
            .spacing(6),
            text_input(tr.note_hint, &self.note)
                .on_input(Message::NoteChanged)
                .padding(8)
                .style(theme::field),
            scrollable(results).height(Shrink),
            close_row(tr, Message::Close),
        ]
        .spacing(10);
        (tr.add_friend.to_owned(), body.into())
    }
}
