//! A group's right-click menu: its number, open the chat, pin, do not disturb, invite friends, the
//! group's settings (who may join, the announcement, mutes: [`crate::window::group`]), leave.

use iced::Element;
use iced::widget::{column, text};
use ququ_protocol::Conv;

use super::{Dialog, Event, chat_items, close_row, confirm, menu_item};
use crate::model::Model;
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
    /// The group's settings window.
    Settings,
    Leave,
    /// The owner's Dissolve, in place of Leave (an owner cannot leave).
    Dissolve,
    Close,
}

impl State {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        let group = self.group;
        Some(match message {
            Message::Open => Event::OpenChat(Conv::Group(group)),
            Message::Pin(on) => Event::Pin(Conv::Group(group), on),
            Message::Mute(on) => Event::Mute(Conv::Group(group), on),
            Message::Invite => Event::Show(Dialog::invite(group)),
            Message::Settings => Event::GroupSettings(group),
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
        .push(menu_item(tr.group_settings_item, Message::Settings))
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
