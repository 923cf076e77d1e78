//! Change my password: the current one, the new one twice. The dialog stays until the server answers:
//! changed (it says so, and that my other devices were logged out; this device stays logged in and
//! its saved login stays good, since the server keeps this session's token) or refused (a wrong
//! current password, a new one it will not take), said in words with what was typed kept.

use iced::widget::{button, column, row, space, text, text_input};
use iced::{Element, Fill};
use ququ_protocol::ErrorCode;

use super::{Action, Event, form};
use crate::model::Change;
use crate::net::Command;
use crate::theme;
use crate::widget::Ctx;

pub const OLD: &str = "password-old";
pub const NEW: &str = "password-new";
pub const AGAIN: &str = "password-again";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub old: String,
    pub new: String,
    pub again: String,
    /// Sent; the server has not answered yet.
    pub waiting: bool,
    /// The two new ones differ (said before anything is sent).
    pub mismatch: bool,
    pub refused: Option<ErrorCode>,
    /// The server changed it.
    pub done: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Old(String),
    New(String),
    Again(String),
    Submit,
    Cancel,
}

impl State {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Old(t) => self.old = t,
            Message::New(t) => self.new = t,
            Message::Again(t) => self.again = t,
            Message::Submit if self.done => return Some(Event::Close),
            Message::Submit => {
                if self.old.is_empty() || self.new.is_empty() || self.waiting {
                    return None;
                }
                if self.new != self.again {
                    self.mismatch = true;
                    return None;
                }
                self.waiting = true;
                self.refused = None;
                return Some(Event::Net(Command::ChangePassword {
                    old: self.old.clone(),
                    new: self.new.clone(),
                }));
            }
            Message::Cancel => return Some(Event::Close),
        }
        self.mismatch = false;
        self.refused = None;
        None
    }

    /// The server's answer to the change asked for, if this is it.
    pub fn changed(&mut self, change: &Change) {
        if !self.waiting {
            return;
        }
        match change {
            Change::PasswordChanged => {
                self.waiting = false;
                self.done = true;
                self.old.clear();
                self.new.clear();
                self.again.clear();
            }
            Change::Refused { code, .. } => {
                self.waiting = false;
                self.refused = Some(code.clone());
            }
            _ => {}
        }
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>) -> (String, Element<'a, Message>) {
        let tr = ctx.tr();
        if self.done {
            // Nothing left to cancel: only Close.
            let body = column![
                text(tr.password_now_changed)
                    .size(13)
                    .style(theme::muted_text),
                row![
                    space().width(Fill),
                    button(text(tr.close).size(13))
                        .style(theme::primary_button)
                        .on_press(Message::Submit),
                ],
            ]
            .spacing(12)
            .into();
            return (tr.change_password.to_owned(), body);
        }
        let secret =
            |hint: &'a str, value: &'a str, id: &'static str, on: fn(String) -> Message| {
                text_input(hint, value)
                    .id(id)
                    .secure(true)
                    .on_input(on)
                    .on_submit(Message::Submit)
                    .padding(8)
                    .style(theme::field)
            };
        let fields = column![
            secret(tr.current_password, &self.old, OLD, Message::Old),
            secret(tr.new_password, &self.new, NEW, Message::New),
            secret(tr.new_password_again, &self.again, AGAIN, Message::Again),
        ]
        .spacing(8);
        let problem = if self.mismatch {
            Some(tr.passwords_differ.to_owned())
        } else {
            self.refused.as_ref().map(|code| match code {
                ErrorCode::BadCredentials => tr.current_password_wrong.to_owned(),
                other => ctx.lang.refusal(other),
            })
        };
        let ready = !self.waiting && !self.old.is_empty() && !self.new.is_empty();
        let body = form(
            tr,
            fields,
            problem,
            (
                tr.change_password,
                Action::Primary,
                ready.then_some(Message::Submit),
            ),
            Message::Cancel,
        );
        (tr.change_password.to_owned(), body)
    }
}
