//! A group's right-click menu: its number, open the chat, invite friends, the owner's "anyone with the
//! number can join" switch, leave.

use iced::Element;
use iced::widget::{checkbox, column, container, text};
use ququ_protocol::{Conv, JoinPolicy};

use super::{Dialog, Event, chat_items, close_row, confirm, menu_item};
use crate::model::Model;
use crate::net::Command;
use crate::theme;
use crate::widget::Ctx;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub group: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Open,
    Pin(bool),
    Mute(bool),
    Invite,
    /// The owner's "anyone with the number can join" switch.
    SetOpen(bool),
    Leave,
    /// The owner's Dissolve, in place of Leave (an owner cannot leave).
    Dissolve,
    Close,
}

impl State {
    /// Who may join: asked when the menu opens, since the switch shows it.
    pub fn ask(&self) -> Command {
        Command::GroupPolicy {
            group: self.group,
            policy: None,
        }
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        let group = self.group;
        Some(match message {
            Message::Open => Event::OpenChat(Conv::Group(group)),
            Message::Pin(on) => Event::Pin(Conv::Group(group), on),
            Message::Mute(on) => Event::Mute(Conv::Group(group), on),
            Message::Invite => Event::Show(Dialog::invite(group)),
            Message::SetOpen(open) => Event::Net(Command::GroupPolicy {
                group,
                policy: Some(if open {
                    JoinPolicy::Open
                } else {
                    JoinPolicy::Invite
                }),
            }),
            Message::Leave => Event::Show(Dialog::Confirm(confirm::State::LeaveGroup { group })),
            Message::Dissolve => {
                Event::Show(Dialog::Confirm(confirm::State::DissolveGroup { group }))
            }
            Message::Close => Event::Close,
        })
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>, model: &'a Model) -> (String, Element<'a, Message>) {
        let tr = ctx.tr();
        let group = self.group;
        let owner = model
            .groups
            .get(&group)
            .is_some_and(|g| g.owner == model.account);
        // Only the owner changes who may join; until the server has said, the switch waits.
        let policy = owner.then(|| {
            let open = model.group_policies.get(&group).copied();
            container(
                checkbox(open == Some(JoinPolicy::Open))
                    .label(tr.anyone_can_join)
                    .size(16)
                    .text_size(13)
                    .on_toggle_maybe(open.is_some().then_some(Message::SetOpen)),
            )
            .padding([8, 10])
        });
        let body = column![
            text(ctx.lang.group_id(group))
                .size(12)
                .style(theme::muted_text),
            menu_item(tr.open_chat, Message::Open),
        ]
        .extend(chat_items(
            tr,
            model,
            &Conv::Group(group),
            Message::Pin,
            Message::Mute,
        ))
        .push(menu_item(tr.invite_friends, Message::Invite))
        .push(policy)
        // The server refuses an owner's leaving (`owner_cannot_leave`): the owner dissolves instead.
        .push(if owner {
            menu_item(tr.dissolve_group, Message::Dissolve)
        } else {
            menu_item(tr.leave_group, Message::Leave)
        })
        .push(close_row(tr, Message::Close))
        .spacing(2);
        (model.conv_name(&Conv::Group(group)), body.into())
    }
}
