//! The block list (黑名单), from Settings: everyone I have blocked, newest first, with when, and Unblock
//! beside each — the one place to find someone blocked who is not (or no longer) a friend.
//! It has no state of its own: everything it shows is the model's.

use iced::widget::{button, column, row, text};
use iced::{Center, Element, Fill};

use super::{Event, list_with_close};
use crate::avatar;
use crate::model::{Model, format_date_time, local_offset_minutes};
use crate::net::Command;
use crate::theme;
use crate::widget::{Ctx, person_heading};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Unblock(String),
    Close,
}

pub fn update(message: Message) -> Option<Event> {
    Some(match message {
        // The dialog stays: the row goes when the server says it is done.
        Message::Unblock(account) => Event::Net(Command::Unblock { account }),
        Message::Close => Event::Close,
    })
}

pub fn view<'a>(ctx: &Ctx<'a>, model: &'a Model) -> (String, Element<'a, Message>) {
    let tr = ctx.tr();
    let mut blocked: Vec<_> = model.blocked.values().collect();
    blocked.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.account.cmp(&b.account)));
    let mut list = column![].spacing(12);
    if blocked.is_empty() {
        list = list.push(text(tr.no_one_blocked).size(13).style(theme::muted_text));
    }
    for user in blocked {
        // A friend by the name I gave them; someone else by their own.
        let name = model
            .friends
            .get(&user.account)
            .map_or(user.nickname.as_str(), |f| f.display_name());
        let since = format_date_time(user.time, local_offset_minutes());
        let info = column![
            person_heading(name, &user.account),
            text(ctx.lang.blocked_since(&since))
                .size(12)
                .style(theme::muted_text),
        ]
        .spacing(2)
        .width(Fill);
        list = list.push(
            row![
                avatar::view(name, &user.account, None, 36.0),
                info,
                button(text(tr.unblock).size(12))
                    .style(theme::secondary_button)
                    .on_press(Message::Unblock(user.account.clone())),
            ]
            .spacing(10)
            .align_y(Center),
        );
    }
    let body = list_with_close(tr, list, Message::Close);
    (ctx.lang.block_list(model.blocked.len()), body)
}
