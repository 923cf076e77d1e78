//! Create a group: a name, and I am its owner.

use iced::Element;

use super::{Action, Event, field, form};
use crate::net::Command;
use crate::widget::Ctx;

pub const NAME_INPUT: &str = "group-name";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    NameChanged(String),
    Create,
    Cancel,
}

impl State {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::NameChanged(name) => self.name = name,
            Message::Create => {
                let name = self.name.trim();
                if !name.is_empty() {
                    return Some(Event::ToGroups(Some(Command::CreateGroup {
                        name: name.to_owned(),
                    })));
                }
            }
            Message::Cancel => return Some(Event::Close),
        }
        None
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>) -> (String, Element<'a, Message>) {
        let tr = ctx.tr();
        let field = field(
            tr.group_name_hint,
            &self.name,
            NAME_INPUT,
            Message::NameChanged,
            Message::Create,
        );
        let body = form(
            tr,
            field,
            None,
            (tr.create, Action::Primary, Some(Message::Create)),
            Message::Cancel,
        );
        (tr.create_group.to_owned(), body)
    }
}
