//! Name a friend group: a new one (添加分组), or a new name for one of mine.

use iced::Element;

use super::{Action, Event, field, form};
use crate::net::Command;
use crate::widget::Ctx;

pub const INPUT: &str = "category-name";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// The group renamed; `None` makes a new one.
    pub category: Option<u64>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Changed(String),
    Save,
    Cancel,
}

impl State {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Changed(name) => {
                self.name = name;
                None
            }
            // A blank name is not sent (the server would refuse it); Enter does nothing then.
            Message::Save if self.name.trim().is_empty() => None,
            Message::Save => {
                let name = self.name.trim().to_owned();
                Some(Event::NetAndClose(match self.category {
                    Some(category) => Command::RenameCategory { category, name },
                    None => Command::AddCategory { name },
                }))
            }
            Message::Cancel => Some(Event::Close),
        }
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>) -> (String, Element<'a, Message>) {
        let tr = ctx.tr();
        let field = field(
            tr.category_name_hint,
            &self.name,
            INPUT,
            Message::Changed,
            Message::Save,
        );
        let ready = !self.name.trim().is_empty();
        let body = form(
            tr,
            field,
            None,
            (tr.save, Action::Primary, ready.then_some(Message::Save)),
            Message::Cancel,
        );
        let title = match self.category {
            Some(_) => tr.rename_category.trim_end_matches('…'),
            None => tr.new_category,
        };
        (title.to_owned(), body)
    }
}
