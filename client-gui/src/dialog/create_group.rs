//! Create a group: a name, and I am its owner.

use iced::Element;
use iced::widget::text_input;

use super::{Action, Event, form};
use crate::net::Command;
use crate::theme;
use crate::window::Ctx;

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
        let field = text_input(tr.group_name_hint, &self.name)
            .id(NAME_INPUT)
            .on_input(Message::NameChanged)
            .on_submit(Message::Create)
            .padding(8)
            .style(theme::field);
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
