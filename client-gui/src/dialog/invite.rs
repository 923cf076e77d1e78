//! Invite friends into a group: each friend with Invite, or "in the group" / "invited" once they are.

use iced::widget::{button, column, container, row, scrollable, text};
use iced::{Center, Element, Fill, Shrink};
use ququ_protocol::{Conv, ErrorCode};

use super::{Event, close_row};
use crate::avatar;
use crate::model::Model;
use crate::net::Command;
use crate::theme;
use crate::widget::{Ctx, person_heading};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub group: u64,
    /// Asked this time; a refusal, with whom it was about, shows below the list.
    pub invited: Vec<String>,
    pub refused: Option<(String, ErrorCode)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Invite(String),
    Close,
}

impl State {
    pub fn new(group: u64) -> State {
        State {
            group,
            invited: Vec::new(),
            refused: None,
        }
    }

    /// Who is in the group already: asked when the list opens.
    pub fn ask(&self) -> Command {
        Command::ListMembers { group: self.group }
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Invite(account) => {
                self.invited.push(account.clone());
                self.refused = None;
                Some(Event::Net(Command::Invite {
                    group: self.group,
                    account,
                }))
            }
            Message::Close => Some(Event::Close),
        }
    }

    /// The server refused something; if it was one of my invitations, say so.
    pub fn refused(&mut self, code: &ErrorCode, about: Option<&str>) {
        if let Some(about) = about
            && self.invited.iter().any(|a| a == about)
        {
            self.invited.retain(|a| a != about);
            self.refused = Some((about.to_owned(), code.clone()));
        }
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>, model: &'a Model) -> (String, Element<'a, Message>) {
        let tr = ctx.tr();
        let members = model.members.get(&self.group);
        let mut list = column![].spacing(8);
        for account in model.friends.keys() {
            let name = model.conv_name(&Conv::User(account.clone()));
            let in_group = members.is_some_and(|m| m.iter().any(|m| &m.account == account));
            let state: Element<'a, Message> = if in_group {
                text(tr.in_group).size(12).style(theme::muted_text).into()
            } else if self.invited.contains(account) {
                text(tr.invited).size(12).style(theme::muted_text).into()
            } else {
                button(text(tr.invite).size(12))
                    .style(theme::primary_button)
                    .on_press(Message::Invite(account.clone()))
                    .into()
            };
            list = list.push(
                row![
                    avatar::view(&name, account, ctx.user_avatar(account), 32.0),
                    container(person_heading(&name, account)).width(Fill),
                    state
                ]
                .spacing(10)
                .align_y(Center),
            );
        }
        let problem = self.refused.as_ref().map(|(account, code)| {
            let who = model.conv_name(&Conv::User(account.clone()));
            text(format!("{who}: {}", ctx.lang.group_refusal(code)))
                .size(12)
                .style(theme::error_text)
        });
        let empty = model.friends.is_empty().then(|| {
            text(tr.no_friends_to_invite)
                .size(13)
                .style(theme::muted_text)
        });
        let body = column![scrollable(list).height(Shrink)]
            .push(empty)
            .push(problem)
            .push(close_row(tr, Message::Close))
            .spacing(12);
        (
            tr.invite_friends.trim_end_matches('…').to_owned(),
            body.into(),
        )
    }
}
