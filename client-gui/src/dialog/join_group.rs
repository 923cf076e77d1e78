//! Join a group by its number. The dialog stays until the server answers: joined (it closes and the
//! groups tab shows the group) or refused (it says why in words).

use iced::Element;
use ququ_protocol::ErrorCode;

use super::{Action, Event, field, form};
use crate::model::Change;
use crate::net::Command;
use crate::widget::Ctx;

pub const ID_INPUT: &str = "group-id";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub id: String,
    /// What was typed is not a group number.
    pub invalid: bool,
    /// The group asked to join, until the server answers.
    pub waiting: Option<u64>,
    /// The server's refusal.
    pub refused: Option<ErrorCode>,
    /// The group takes members by approval: my request went to its owner and admins (`Some(true)`),
    /// or they declined it (`Some(false)`).
    pub asked: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    IdChanged(String),
    Join,
    Cancel,
}

impl State {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::IdChanged(text) => {
                self.id = text;
                self.invalid = false;
                self.refused = None;
                self.asked = None;
            }
            Message::Join => match self.id.trim().parse::<u64>() {
                Ok(group) => {
                    self.waiting = Some(group);
                    self.refused = None;
                    return Some(Event::Net(Command::JoinGroup { group }));
                }
                Err(_) => self.invalid = true,
            },
            Message::Cancel => return Some(Event::Close),
        }
        None
    }

    /// The server's answer to the join asked for, if this is it.
    pub fn changed(&mut self, change: &Change) -> Option<Event> {
        let group = self.waiting?;
        match change {
            Change::GroupChanged(g) if *g == group => Some(Event::ToGroups(None)),
            Change::JoinAsked(g) if *g == group => {
                self.asked = Some(true);
                None
            }
            Change::JoinDeclined(g) if *g == group => {
                self.waiting = None;
                self.asked = Some(false);
                None
            }
            Change::Refused {
                code,
                about: Some(about),
            } if *about == group.to_string() => {
                self.waiting = None;
                self.refused = Some(code.clone());
                None
            }
            _ => None,
        }
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>) -> (String, Element<'a, Message>) {
        let tr = ctx.tr();
        // A declined request is a refusal, in red; a request on its way is news, said in grey under the
        // field.
        let problem = if self.invalid {
            Some(tr.no_such_group.to_owned())
        } else if self.asked == Some(false) {
            Some(tr.join_declined.to_owned())
        } else {
            self.refused
                .as_ref()
                .map(|code| ctx.lang.group_refusal(code))
        };
        let field = iced::widget::column![field(
            tr.group_id_hint,
            &self.id,
            ID_INPUT,
            Message::IdChanged,
            Message::Join,
        )]
        .push((self.asked == Some(true)).then(|| {
            iced::widget::text(tr.join_asked)
                .size(12)
                .style(crate::theme::muted_text)
        }))
        .spacing(8);
        let body = form(
            tr,
            field,
            problem,
            (
                tr.join,
                Action::Primary,
                self.waiting.is_none().then_some(Message::Join),
            ),
            Message::Cancel,
        );
        (tr.join_group.to_owned(), body)
    }
}
