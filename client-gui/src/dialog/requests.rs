//! Friend requests: those to me (accept or reject), and mine still waiting or declined (dismiss); and
//! requests to join the groups I manage (let in or not), as QQ keeps both under 验证消息.
//! It has no state of its own: everything it shows is the model's.

use iced::widget::{button, column, row, space, text};
use iced::{Center, Element, Fill};

use super::{Event, list_with_close};
use crate::avatar;
use crate::model::{Model, Sent};
use crate::net::Command;
use crate::theme;
use crate::widget::{Ctx, person_heading, user_text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Accept(String),
    Reject(String),
    /// Block whoever sent this request (拉黑): the server drops the request too.
    Block(String),
    /// Clears my declined request to this account.
    Dismiss(String),
    /// Let this account into this group (`true`) or not.
    AnswerJoin(u64, String, bool),
    Close,
}

pub fn update(message: Message) -> Option<Event> {
    Some(match message {
        Message::Accept(account) => Event::Net(Command::AcceptFriend { account }),
        Message::Reject(account) => Event::Net(Command::RejectFriend { account }),
        Message::Block(account) => Event::Net(Command::Block { account }),
        Message::Dismiss(account) => Event::DismissDeclined(account),
        Message::AnswerJoin(group, account, accept) => Event::Net(Command::AnswerJoin {
            group,
            account,
            accept,
        }),
        Message::Close => Event::Close,
    })
}

pub fn view<'a>(ctx: &Ctx<'a>, model: &'a Model) -> (String, Element<'a, Message>) {
    let tr = ctx.tr();
    let mut list = column![].spacing(14);
    for request in &model.requests {
        let mut info = column![
            person_heading(&request.nickname, &request.from),
            text(tr.wants_to_be_friends)
                .size(12)
                .style(theme::muted_text),
        ]
        .spacing(2)
        .width(Fill);
        if !request.note.is_empty() {
            info = info.push(text(request.note.clone()).size(13));
        }
        list = list.push(answerable(
            tr,
            avatar::view(
                &request.nickname,
                &request.from,
                ctx.user_avatar(&request.from),
                40.0,
            ),
            info.into(),
            model
                .features
                .block
                .then(|| Message::Block(request.from.clone())),
            Message::Reject(request.from.clone()),
            Message::Accept(request.from.clone()),
        ));
    }
    for request in &model.join_requests {
        let group = model.conv_name(&ququ_protocol::Conv::Group(request.group));
        let info = column![
            person_heading(&request.nickname, &request.account),
            user_text(
                format!("{} {group}", tr.asks_to_join),
                12.0,
                theme::muted_text
            ),
        ]
        .spacing(2)
        .width(Fill);
        let answer = |accept| Message::AnswerJoin(request.group, request.account.clone(), accept);
        list = list.push(answerable(
            tr,
            avatar::view(
                &request.nickname,
                &request.account,
                ctx.user_avatar(&request.account),
                40.0,
            ),
            info.into(),
            None,
            answer(false),
            answer(true),
        ));
    }
    if !model.sent.is_empty() {
        if !model.requests.is_empty() || !model.join_requests.is_empty() {
            list = list.push(iced::widget::rule::horizontal(1));
        }
        list = list.push(text(tr.sent_requests).size(13).style(theme::muted_text));
    }
    for (account, sent) in &model.sent {
        let status = match sent.state {
            Sent::Waiting => text(tr.waiting_for_answer)
                .size(12)
                .style(theme::muted_text),
            Sent::Declined => text(tr.declined_request).size(12).style(theme::error_text),
        };
        let info = column![person_heading(&sent.nickname, account), status]
            .spacing(2)
            .width(Fill);
        let dismiss = (sent.state == Sent::Declined).then(|| {
            button(text(tr.dismiss).size(12))
                .style(theme::secondary_button)
                .on_press(Message::Dismiss(account.clone()))
        });
        list = list.push(
            row![
                avatar::view(&sent.nickname, account, ctx.user_avatar(account), 40.0),
                info
            ]
            .push(dismiss)
            .spacing(10)
            .align_y(Center),
        );
    }
    let body = list_with_close(tr, list, Message::Close);
    (
        ctx.lang
            .requests_word(model.requests_needing_me(), !model.join_requests.is_empty()),
        body,
    )
}

/// A request waiting for my answer: who (avatar and words), then Reject and Accept.
fn answerable<'a>(
    tr: &'static crate::i18n::Tr,
    avatar: Element<'a, Message>,
    info: Element<'a, Message>,
    block: Option<Message>,
    reject: Message,
    accept: Message,
) -> Element<'a, Message> {
    // 拉黑 on the left, away from the two answers: it also drops the request, and whatever they send
    // after it, without a word to them.
    let block = block.map(|block| {
        button(text(tr.block).size(12))
            .padding([4, 0])
            .style(theme::link)
            .on_press(block)
    });
    column![
        row![avatar, info].spacing(10),
        row![]
            .push(block)
            .push(space().width(Fill))
            .push(
                button(text(tr.reject).size(12))
                    .style(theme::secondary_button)
                    .on_press(reject)
            )
            .push(
                button(text(tr.accept).size(12))
                    .style(theme::primary_button)
                    .on_press(accept)
            )
            .spacing(8)
            .align_y(Center),
    ]
    .spacing(6)
    .into()
}
