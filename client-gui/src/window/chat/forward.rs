//! Forward (转发): a message's menu opens this over the chat — friends and groups, filtered as the user
//! types — and a pick sends the message's text (or its file, if it is on this device) there, as QQ does.

use iced::widget::{button, column, container, row, scrollable, space, text, text_input};
use iced::{Center, Element, Fill};
use ququ_protocol::Conv;

use crate::model::Model;
use crate::widget::{Ctx, user_text};
use crate::{avatar, theme};

/// The picker of where to forward to.
#[derive(Debug, Clone)]
pub struct State {
    /// The message being forwarded: its client id in this chat.
    pub client_id: String,
    /// What is typed in the filter.
    query: String,
}

#[derive(Debug, Clone)]
pub enum Message {
    Query(String),
    Pick(Conv),
    Cancel,
}

/// What the picker asks of the chat window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Forward the message to this conversation.
    To(Conv),
    Cancel,
}

impl State {
    pub fn new(client_id: String) -> Self {
        State {
            client_id,
            query: String::new(),
        }
    }

    pub fn filter_id() -> iced::widget::Id {
        iced::widget::Id::new("forward-filter")
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Query(query) => {
                self.query = query;
                None
            }
            Message::Pick(conv) => Some(Event::To(conv)),
            Message::Cancel => Some(Event::Cancel),
        }
    }

    pub fn view<'a>(&'a self, ctx: &Ctx<'a>, model: &'a Model) -> Element<'a, Message> {
        let tr = ctx.tr();
        let query = self.query.trim().to_lowercase();
        let matches = |name: &str, key: &str| {
            query.is_empty() || name.to_lowercase().contains(&query) || key.contains(&query)
        };
        let mut list = column![];
        let entry = |conv: Conv, name: String, key: String| {
            button(
                row![
                    avatar::view(&name, &key, ctx.avatar(&conv), 28.0),
                    user_text(name, 13.0, text::default)
                ]
                .spacing(8)
                .align_y(Center),
            )
            .width(Fill)
            .padding([4, 10])
            .style(theme::list_item)
            .on_press(Message::Pick(conv))
        };
        for friend in model.sorted_friends() {
            if matches(friend.display_name(), &friend.account) {
                list = list.push(entry(
                    Conv::User(friend.account.clone()),
                    friend.display_name().to_owned(),
                    friend.account.clone(),
                ));
            }
        }
        for group in model.groups.values() {
            if matches(&group.name, &group.id.to_string()) {
                list = list.push(entry(
                    Conv::Group(group.id),
                    group.name.clone(),
                    format!("group:{}", group.id),
                ));
            }
        }
        let card = column![
            row![
                text(tr.forward_to).size(14),
                space().width(Fill),
                button(text("×").size(14))
                    .padding([2, 8])
                    .style(theme::list_item)
                    .on_press(Message::Cancel),
            ]
            .align_y(Center),
            text_input(tr.search, &self.query)
                .id(Self::filter_id())
                .on_input(Message::Query)
                .padding(6)
                .size(13)
                .style(theme::field),
            scrollable(list).height(260),
        ]
        .spacing(8)
        .width(280);
        container(card).padding(10).style(theme::card).into()
    }
}
