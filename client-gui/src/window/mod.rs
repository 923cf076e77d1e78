//! The window kinds. Each module has the same shape: `State`, `Message`, `Event`, `update`, `view`.
//!
//! `update` changes only the window's own state and returns an `Event` when the app must act (send
//! something, open another window, save a setting). `view` draws from the window's state plus a read-only
//! [`Ctx`] of what all windows share (session, language, connection state).

pub mod about;
pub mod chat;
pub mod login;
pub mod main;

use std::time::Instant;

use iced::widget::{column, container, row, space, text};
use iced::{Center, Element, Fill, Theme};

use crate::i18n::{Lang, Tr};
use crate::model::{Connection, Session};
use crate::theme;

/// What every window may read while drawing.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub lang: Lang,
    pub conn: Connection,
    pub now: Instant,
    pub session: Option<&'a Session>,
    pub my_avatar: Option<&'a image::RgbaImage>,
    /// The address of the server this app is hosting, if any.
    pub hosting: Option<&'a str>,
}

impl Ctx<'_> {
    pub fn tr(&self) -> &'static Tr {
        self.lang.tr()
    }
}

/// The connection state as words, the same in every window.
pub fn connection_label(ctx: &Ctx<'_>) -> String {
    let tr = ctx.tr();
    match ctx.conn {
        Connection::Online => tr.online.to_owned(),
        Connection::Connecting => tr.connecting_state.to_owned(),
        Connection::Offline => tr.offline.to_owned(),
        Connection::Reconnecting { .. } => ctx
            .lang
            .reconnecting_in(ctx.conn.seconds_left(ctx.now).unwrap_or(0)),
    }
}

/// A small coloured dot: green online, amber on the way, grey offline.
pub fn state_dot<'a, M: 'a>(conn: Connection) -> Element<'a, M> {
    container(space())
        .width(8)
        .height(8)
        .style(move |theme: &Theme| {
            let palette = theme.palette();
            let color = match conn {
                Connection::Online => palette.success,
                Connection::Connecting | Connection::Reconnecting { .. } => palette.warning,
                Connection::Offline => theme::muted(theme),
            };
            container::Style {
                background: Some(color.into()),
                border: iced::Border {
                    radius: 4.0.into(),
                    ..iced::Border::default()
                },
                ..container::Style::default()
            }
        })
        .into()
}

/// The strip along the bottom of every window: connection state, and the hosted server if any.
pub fn status_bar<'a, M: 'a>(ctx: &Ctx<'_>) -> Element<'a, M> {
    let mut bar = row![state_dot(ctx.conn), text(connection_label(ctx)).size(12)]
        .spacing(6)
        .align_y(Center);
    if let Some(addr) = ctx.hosting {
        bar = bar.push(space().width(Fill)).push(
            text(ctx.lang.hosting(addr))
                .size(12)
                .style(theme::muted_text),
        );
    }
    container(bar)
        .padding([4, 10])
        .width(Fill)
        .style(theme::status_bar)
        .into()
}

/// The red unread badge, or nothing for zero.
pub fn badge<'a, M: 'a>(count: u32) -> Option<Element<'a, M>> {
    (count > 0).then(|| {
        let label = if count > 99 {
            "99+".to_owned()
        } else {
            count.to_string()
        };
        container(text(label).size(11))
            .padding([1, 6])
            .align_x(Center)
            .style(theme::badge)
            .into()
    })
}

/// A dialog: a card over a dimmed window.
pub fn dialog<'a, M: 'a + Clone>(
    base: Element<'a, M>,
    title: &str,
    body: Element<'a, M>,
    width: f32,
) -> Element<'a, M> {
    let card = container(column![text(title.to_owned()).size(16), body].spacing(12))
        .padding(16)
        .width(width)
        .style(theme::card);
    iced::widget::stack![
        base,
        iced::widget::opaque(container(card).center(Fill).style(theme::backdrop))
    ]
    .into()
}
