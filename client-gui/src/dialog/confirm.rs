//! Are you sure? Before what cannot be undone: deleting a friend, leaving a group, quitting while others
//! use the server this app hosts.

use iced::Element;
use iced::widget::text;
use ququ_protocol::Conv;

use super::{Action, Event, form};
use crate::model::Model;
use crate::net::Command;
use crate::widget::Ctx;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    DeleteFriend {
        account: String,
    },
    LeaveGroup {
        group: u64,
    },
    /// Quitting stops the server this app hosts, which `others` are using.
    Quit {
        others: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Confirm,
    Cancel,
}

impl State {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        Some(match (message, self) {
            (Message::Cancel, _) => Event::Close,
            (Message::Confirm, State::DeleteFriend { account }) => {
                Event::NetAndClose(Command::DeleteFriend {
                    account: account.clone(),
                })
            }
            (Message::Confirm, State::LeaveGroup { group }) => {
                Event::NetAndClose(Command::LeaveGroup { group: *group })
            }
            (Message::Confirm, State::Quit { .. }) => Event::Quit,
        })
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>, model: &'a Model) -> (String, Element<'a, Message>) {
        let tr = ctx.tr();
        let (title, question, action) = match self {
            State::DeleteFriend { account } => (
                tr.delete_friend,
                ctx.lang
                    .delete_friend_confirm(&model.conv_name(&Conv::User(account.clone()))),
                tr.delete,
            ),
            State::LeaveGroup { group } => (
                tr.leave_group,
                ctx.lang
                    .leave_group_confirm(&model.conv_name(&Conv::Group(*group))),
                tr.leave,
            ),
            State::Quit { others } => (tr.quit_title, ctx.lang.quit_confirm(*others), tr.quit),
        };
        let body = form(
            tr,
            text(question).size(14),
            None,
            (action, Action::Danger, Some(Message::Confirm)),
            Message::Cancel,
        );
        (title.to_owned(), body)
    }
}
