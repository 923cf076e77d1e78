//! Set a remark: my private name for a friend, shown instead of their nickname.

use iced::Element;

use super::{Action, Event, field, form};
use crate::net::Command;
use crate::widget::Ctx;

pub const INPUT: &str = "remark";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub account: String,
    pub remark: String,
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
            Message::Changed(remark) => {
                self.remark = remark;
                None
            }
            Message::Save => Some(Event::NetAndClose(Command::SetRemark {
                account: self.account.clone(),
                remark: self.remark.trim().to_owned(),
            })),
            Message::Cancel => Some(Event::Close),
        }
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>) -> (String, Element<'a, Message>) {
        let tr = ctx.tr();
        let field = field(
            tr.remark_hint,
            &self.remark,
            INPUT,
            Message::Changed,
            Message::Save,
        );
        let body = form(
            tr,
            field,
            None,
            (tr.save, Action::Primary, Some(Message::Save)),
            Message::Cancel,
        );
        (tr.set_remark.to_owned(), body)
    }
}
