//! Are you sure? Before what cannot be undone: deleting a friend or a friend group, leaving a group, quitting while others
//! use the server this app hosts; and, once, what closing the friend list does when there is a tray.

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
    /// The owner ends the group for everyone.
    DissolveGroup {
        group: u64,
    },
    /// A friend group goes; its friends go back to the default group.
    DeleteCategory {
        category: u64,
        name: String,
    },
    /// Quitting stops the server this app hosts, which `others` are using.
    Quit {
        others: usize,
    },
    /// The first close of the friend list with a tray icon: it hides there, and Quit is in its menu.
    HideToTray,
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
            (Message::Confirm, State::DissolveGroup { group }) => {
                Event::NetAndClose(Command::DissolveGroup { group: *group })
            }
            (Message::Confirm, State::DeleteCategory { category, .. }) => {
                Event::NetAndClose(Command::DeleteCategory {
                    category: *category,
                })
            }
            (Message::Confirm, State::Quit { .. }) => Event::Quit,
            (Message::Confirm, State::HideToTray) => Event::HideToTray,
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
            State::DissolveGroup { group } => (
                tr.dissolve_group,
                ctx.lang
                    .dissolve_group_confirm(&model.conv_name(&Conv::Group(*group))),
                tr.dissolve,
            ),
            State::DeleteCategory { name, .. } => (
                tr.delete_category,
                ctx.lang.delete_category_confirm(name),
                tr.delete,
            ),
            State::Quit { others } => (tr.quit_title, ctx.lang.quit_confirm(*others), tr.quit),
            State::HideToTray => (
                tr.tray_hidden_title,
                tr.tray_hidden_text.to_owned(),
                tr.tray_keep_running,
            ),
        };
        let danger = if matches!(self, State::HideToTray) {
            Action::Primary
        } else {
            Action::Danger
        };
        let body = form(
            tr,
            text(question).size(14),
            None,
            (action, danger, Some(Message::Confirm)),
            Message::Cancel,
        );
        (title.to_owned(), body)
    }
}
