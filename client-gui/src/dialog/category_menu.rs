//! A friend group's right-click menu (on its header in the friend list): add a group, and rename, move
//! up or down, or delete this one — the default group ("我的好友") can be none of these, as in QQ.

use iced::Element;
use iced::widget::column;

use super::{Dialog, Event, category_name, close_row, confirm, menu_item};
use crate::model::Model;
use crate::net::Command;
use crate::widget::Ctx;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// 0 for the default group.
    pub category: u64,
    /// Its name as the list showed it, to start a rename from.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Add,
    Rename,
    /// Send this order of my groups (it moved up or down).
    Order(Vec<u64>),
    Delete,
    Close,
}

impl State {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        let name = self.name.clone();
        Some(match message {
            Message::Add => Event::Show(Dialog::CategoryName(category_name::State::default())),
            Message::Rename => Event::Show(Dialog::CategoryName(category_name::State {
                category: Some(self.category),
                name,
            })),
            Message::Order(categories) => {
                Event::NetAndClose(Command::OrderCategories { categories })
            }
            Message::Delete => Event::Show(Dialog::Confirm(confirm::State::DeleteCategory {
                category: self.category,
                name,
            })),
            Message::Close => Event::Close,
        })
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>, model: &'a Model) -> (String, Element<'a, Message>) {
        let tr = ctx.tr();
        let mut body = column![menu_item(tr.add_category, Message::Add)].spacing(2);
        if self.category != 0 {
            body = body.push(menu_item(tr.rename_category, Message::Rename));
            // Up or down among mine, where there is room.
            for (up, label) in [(true, tr.move_up), (false, tr.move_down)] {
                if let Some(order) = model.category_moved(self.category, up) {
                    body = body.push(menu_item(label, Message::Order(order)));
                }
            }
            body = body.push(menu_item(tr.delete_category, Message::Delete));
        }
        (
            model
                .category_name(self.category, tr.default_category)
                .to_owned(),
            body.push(close_row(tr, Message::Close)).into(),
        )
    }
}
