//! Move a friend to another friend group (移动联系人至…): the groups as a menu, the one they are in
//! marked; picking another moves them on the server, and every device of mine shows it.

use iced::Element;
use iced::widget::{Column, column};
use ququ_protocol::Conv;

use super::{Event, close_row, menu_item};
use crate::model::Model;
use crate::net::Command;
use crate::widget::Ctx;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub account: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// To this group (0: the default one).
    Move(u64),
    Close,
}

impl State {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        Some(match message {
            Message::Move(category) => Event::NetAndClose(Command::MoveFriend {
                account: self.account.clone(),
                category,
            }),
            Message::Close => Event::Close,
        })
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>, model: &'a Model) -> (String, Element<'a, Message>) {
        let tr = ctx.tr();
        let now = model.friends.get(&self.account).map_or(0, |f| f.category);
        let groups = std::iter::once((0, tr.default_category))
            .chain(model.categories.iter().map(|c| (c.id, c.name.as_str())));
        let mut items = Column::new().spacing(2);
        for (id, name) in groups {
            // The group they are in says so and is not a choice.
            items = items.push(if id == now {
                super::menu_item_off(format!("{name}{}", tr.current_category))
            } else {
                menu_item(name, Message::Move(id))
            });
        }
        let title = ctx
            .lang
            .move_friend_title(&model.conv_name(&Conv::User(self.account.clone())));
        (
            title,
            column![items, close_row(tr, Message::Close)]
                .spacing(2)
                .into(),
        )
    }
}
