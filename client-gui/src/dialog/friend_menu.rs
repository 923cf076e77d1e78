//! A friend's right-click menu: open the chat, set a remark, move to another friend group, block (拉黑)
//! or unblock, delete the friend.

use iced::Element;
use iced::widget::{column, container, text};
use ququ_protocol::Conv;

use super::{Dialog, Event, chat_items, close_row, confirm, menu_item, move_friend, remark};
use crate::model::Model;
use crate::theme;
use crate::widget::Ctx;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub account: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Open,
    Pin(bool),
    Mute(bool),
    Remark(String),
    /// Pick another friend group for them.
    Move,
    /// Block (`true`: their private messages, files and friend requests stop reaching me) or unblock.
    Block(bool),
    Delete,
    Close,
}

impl State {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        Some(match message {
            Message::Open => Event::OpenChat(Conv::User(self.account.clone())),
            Message::Pin(on) => Event::Pin(Conv::User(self.account.clone()), on),
            Message::Mute(on) => Event::Mute(Conv::User(self.account.clone()), on),
            Message::Remark(remark) => Event::Show(Dialog::Remark(remark::State {
                account: self.account.clone(),
                remark,
            })),
            Message::Move => Event::Show(Dialog::MoveFriend(move_friend::State {
                account: self.account.clone(),
            })),
            Message::Block(on) => {
                let account = self.account.clone();
                Event::NetAndClose(if on {
                    crate::net::Command::Block { account }
                } else {
                    crate::net::Command::Unblock { account }
                })
            }
            Message::Delete => Event::Show(Dialog::Confirm(confirm::State::DeleteFriend {
                account: self.account.clone(),
            })),
            Message::Close => Event::Close,
        })
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>, model: &'a Model) -> (String, Element<'a, Message>) {
        let tr = ctx.tr();
        // The remark field starts from the current one.
        let remark = model
            .friends
            .get(&self.account)
            .map(|f| f.remark.clone())
            .unwrap_or_default();
        let conv = Conv::User(self.account.clone());
        let [pin, mute] = chat_items(tr, model, &conv, Message::Pin, Message::Mute);
        // Who they are, under the name in the title: their account, and gender and region if said.
        let about = ctx.lang.who(
            &self.account,
            model.friends.get(&self.account).map(|f| &f.profile),
        );
        let body = column![
            container(text(about).size(12).style(theme::muted_text)).padding([2, 8]),
            menu_item(tr.open_chat, Message::Open),
            pin,
            mute,
            menu_item(tr.set_remark, Message::Remark(remark)),
            menu_item(tr.move_to_category, Message::Move),
            if model.blocked.contains_key(&self.account) {
                menu_item(tr.unblock, Message::Block(false))
            } else {
                menu_item(tr.block, Message::Block(true))
            },
            menu_item(tr.delete_friend, Message::Delete),
            close_row(tr, Message::Close),
        ]
        .spacing(2);
        (
            model.conv_name(&Conv::User(self.account.clone())),
            body.into(),
        )
    }
}
