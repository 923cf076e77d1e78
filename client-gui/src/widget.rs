//! What windows and dialogs draw with: the read-only [`Ctx`] of what they all share, and the pieces more
//! than one of them shows (the status bar, the unread badge, a dialog's card, avatars with the online mark,
//! a person's name and account).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use iced::widget::{
    button, column, container, mouse_area, pin, responsive, rich_text, row, space, span, stack,
    text, text_editor,
};
use iced::{Center, Element, Fill, Point, Size, Theme};

use crate::config::Settings;
use crate::i18n::{Lang, Tr};
use crate::model::{Connection, Model};
use crate::theme;
use crate::{avatar, fonts};
use ququ_protocol::Conv;
use ququ_protocol::Presence;

/// What every window may read while drawing.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub lang: Lang,
    pub conn: Connection,
    pub now: Instant,
    pub model: Option<&'a Model>,
    /// The user's settings as chosen (language and theme may say "follow the system").
    pub settings: &'a Settings,
    /// Thumbnails of pictures, keyed by this device's copy (made off the UI thread, once each).
    pub thumbs: &'a HashMap<PathBuf, iced::widget::image::Handle>,
    /// My avatar, ready to draw: the server's once it has said, else the one picked on this computer.
    pub my_avatar: Option<&'a iced::widget::image::Handle>,
    /// Every avatar picture the model has, ready to draw, by digest.
    pub avatars: &'a HashMap<String, iced::widget::image::Handle>,
    /// Why desktop notifications cannot be shown here, if they cannot.
    pub notify_problem: Option<&'a crate::notify::Problem>,
    /// Why there is no tray icon (so closing the friend list quits), for the settings.
    pub tray_problem: Option<&'a crate::tray::Problem>,
    /// The address of the server this app is hosting, if any.
    pub hosting: Option<&'a str>,
    /// Where "log in automatically" keeps (or would keep) the login, once known.
    pub token_place: Option<&'a crate::credentials::Place>,
}

impl<'a> Ctx<'a> {
    pub fn tr(&self) -> &'static Tr {
        self.lang.tr()
    }

    /// The picture to show for a user or group: the avatar the server keeps, once it is here (mine is
    /// [`Ctx::my_avatar`]); `None`: the generated one.
    pub fn avatar(&self, of: &Conv) -> Option<&'a iced::widget::image::Handle> {
        let model = self.model?;
        match of {
            Conv::User(account) if *account == model.account => self.my_avatar,
            _ => model.avatars.get(of).and_then(|sha| self.avatars.get(sha)),
        }
    }

    /// [`Ctx::avatar`] of a user.
    pub fn user_avatar(&self, account: &str) -> Option<&'a iced::widget::image::Handle> {
        self.avatar(&Conv::User(account.to_owned()))
    }

    /// [`Ctx::avatar`] of a group.
    pub fn group_avatar(&self, group: u64) -> Option<&'a iced::widget::image::Handle> {
        self.avatar(&Conv::Group(group))
    }

    /// Whether someone is online as far as this app can tell: `None` while it is not connected, when
    /// what the server last said may no longer hold (their dot is then grey, not green).
    pub fn seen(&self, presence: Presence) -> Option<bool> {
        (self.conn == Connection::Online).then(|| presence.is_online())
    }

    /// Someone's presence in words: online, offline, or unknown while disconnected.
    pub fn presence_word(&self, presence: Presence) -> &'static str {
        let tr = self.tr();
        match self.seen(presence) {
            Some(true) => tr.online,
            Some(false) => tr.offline,
            None => tr.presence_unknown,
        }
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
pub fn status_bar<'a, M: 'a + Clone>(ctx: &Ctx<'_>) -> Element<'a, M> {
    status_bar_with(ctx, None)
}

/// The status bar with a "Reconnect now" link during the countdown, sending `reconnect`.
pub fn status_bar_with<'a, M: 'a + Clone>(ctx: &Ctx<'_>, reconnect: Option<M>) -> Element<'a, M> {
    let waiting = matches!(ctx.conn, Connection::Reconnecting { .. });
    let mut bar = row![state_dot(ctx.conn), text(connection_label(ctx)).size(12)]
        .push(reconnect.filter(|_| waiting).map(|message| {
            button(text(ctx.tr().reconnect_now).size(12))
                .padding(0)
                .style(theme::link)
                .on_press(message)
        }))
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
    counter(count, theme::badge)
}

/// The unread badge of a chat set to do not disturb: it still counts, in grey.
pub fn badge_muted<'a, M: 'a>(count: u32) -> Option<Element<'a, M>> {
    counter(count, theme::badge_muted)
}

fn counter<'a, M: 'a>(count: u32, style: fn(&Theme) -> container::Style) -> Option<Element<'a, M>> {
    (count > 0).then(|| {
        let label = if count > 99 {
            "99+".to_owned()
        } else {
            count.to_string()
        };
        container(text(label).size(11))
            .padding([1, 6])
            .align_x(Center)
            .style(style)
            .into()
    })
}

/// How far down a dialog's card starts: a short one sits about where a centred one would in the
/// friend list (680 px high), and the tallest, Settings, still fits.
const MODAL_TOP: f32 = 60.0;

/// A dialog: a card over a dimmed window, its top a fixed way down rather than centred, so what is
/// at its top stays put when the card grows or shrinks (answering the first of two friend requests
/// moved the second's buttons up by half a row under the pointer).
pub fn modal<'a, M: 'a + Clone>(
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
        iced::widget::opaque(
            // Scrolls when the window is shorter than the card, so its buttons are never out of reach.
            container(iced::widget::scrollable(
                container(card)
                    .center_x(Fill)
                    .padding(iced::Padding::ZERO.top(MODAL_TOP).bottom(20))
            ))
            .width(Fill)
            .height(Fill)
            .style(theme::backdrop)
        )
    ]
    .into()
}

/// A right-click menu: `card` at the pointer `at` (in the coordinates of the area it is stacked over),
/// with a click anywhere else sending `close`. Along each axis the card goes after the pointer where
/// `most` (its largest size) fits, else ends at the pointer, else is slid in from the far edge — so it
/// stays whole and, where there is room, clear of the row that was clicked.
pub fn popup_at<'a, M: 'a + Clone>(
    at: Point,
    most: Size,
    close: M,
    card: impl Fn() -> Element<'a, M> + 'a,
) -> Element<'a, M> {
    let outside = mouse_area(space().width(Fill).height(Fill))
        .on_press(close.clone())
        .on_right_press(close);
    let placed = responsive(move |area| {
        let mut placed = container(card());
        // A few pixels clear of the window's edges, so the card's border shows all round.
        const EDGE: f32 = 4.0;
        let x = match place(at.x, most.width, area.width - EDGE) {
            Place::From(x) => x,
            Place::EndingAt(x) => {
                placed = placed.align_right(x);
                0.0
            }
        };
        let y = match place(at.y, most.height, area.height - EDGE) {
            Place::From(y) => y,
            Place::EndingAt(y) => {
                placed = placed.align_bottom(y);
                0.0
            }
        };
        pin(placed).x(x).y(y).into()
    });
    stack![outside, placed].into()
}

/// Where a pop-up's card goes along one axis.
#[derive(Debug, PartialEq)]
enum Place {
    /// Starting here.
    From(f32),
    /// Ending here (its real size may be less than the most it could be).
    EndingAt(f32),
}

/// Where a card of at most `len` goes along an axis `room` long, for a pointer at `at`.
fn place(at: f32, len: f32, room: f32) -> Place {
    if at + len <= room {
        Place::From(at)
    } else if at >= len {
        Place::EndingAt(at)
    } else {
        Place::From((room - len).max(0.0))
    }
}

/// An avatar with the online mark at its corner, as in the lists.
pub fn avatar_with_dot<'a, M: 'a>(
    name: &str,
    account: &str,
    picture: Option<&iced::widget::image::Handle>,
    online: bool,
) -> Element<'a, M> {
    let dot = container(space())
        .width(11)
        .height(11)
        .style(theme::presence_dot(online));
    iced::widget::stack![
        avatar::view(name, account, picture, 42.0),
        container(dot)
            .width(44)
            .height(44)
            .align_right(44)
            .align_bottom(44),
    ]
    .into()
}

/// Text someone wrote (a name, a preview), on one line, its emoji from the emoji font: iced's fallback
/// would take a system font with black-and-white smileys (DejaVu Sans), or a COLRv1 emoji font it
/// draws blank, or nothing.
pub fn user_text<'a, M: 'a>(
    content: String,
    size: f32,
    style: fn(&Theme) -> text::Style,
) -> Element<'a, M> {
    let runs = fonts::emoji_runs(&content);
    if runs.iter().all(|(_, emoji)| !emoji) {
        return text(content)
            .size(size)
            .style(style)
            .wrapping(text::Wrapping::None)
            .into();
    }
    let spans: Vec<_> = runs
        .into_iter()
        .map(|(run, emoji)| {
            let piece = span(run.to_owned());
            if emoji {
                piece.font(fonts::EMOJI)
            } else {
                piece
            }
        })
        .collect();
    rich_text(spans)
        .size(size)
        .style(style)
        .wrapping(text::Wrapping::None)
        .on_link_click(iced::never)
        .into()
}

/// A person in a requests list: their nickname, and the account beside it when the two differ (the
/// account alone if they have no nickname).
pub fn person_heading<'a, M: 'a>(nickname: &str, account: &str) -> Element<'a, M> {
    let name = if nickname.is_empty() {
        account
    } else {
        nickname
    };
    row![user_text(name.to_owned(), 14.0, text::default)]
        .push((name != account).then(|| text(account.to_owned()).size(12).style(theme::muted_text)))
        .spacing(6)
        .align_y(Center)
        .into()
}

/// `editor` showing `lines` whole lines of text `size` px high, each `line` px tall, inside `padding`.
///
/// Whole lines, so that text longer than the box scrolls by whole lines and no line is ever drawn half
/// above the text area. tiny-skia (the renderer of a machine without a GPU) does not clip an editor's
/// glyphs to its text area, and redraws only that area when the text changes: half a line above it was
/// painted again and again into the padding (bold, garbled) and stayed there (issue 24's ghost text;
/// `client-gui/tests/xvfb_smoke.sh` compares a long draft with a full redraw).
pub fn whole_lines<'a, H, M>(
    editor: text_editor::TextEditor<'a, H, M>,
    lines: u16,
    size: f32,
    line: f32,
    padding: f32,
) -> text_editor::TextEditor<'a, H, M>
where
    H: iced::advanced::text::Highlighter,
{
    editor
        .size(size)
        .line_height(iced::Pixels(line))
        .padding(padding)
        .height(f32::from(lines) * line + 2.0 * padding)
}

/// The first line of a message, cut to 40 characters, for one-line previews (Recent, a quote, the reply
/// bar).
pub fn one_line(text: &str) -> String {
    cut_line(text, 40)
}

/// The first line of `text`, at most `max` characters, with an ellipsis if anything was left out.
pub fn cut_line(text: &str, max: usize) -> String {
    let first = text.lines().next().unwrap_or("");
    let mut chars = first.chars();
    let short: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() || text.lines().nth(1).is_some() {
        format!("{short}…")
    } else {
        short
    }
}

#[cfg(test)]
mod tests {
    use super::{Place, place};

    #[test]
    fn a_menu_opens_after_the_pointer_else_ends_at_it_else_slides_in() {
        // Room below: it opens at the pointer.
        assert_eq!(place(100.0, 200.0, 600.0), Place::From(100.0));
        // Near the bottom: it ends at the pointer, so the row clicked stays in view.
        assert_eq!(place(500.0, 200.0, 600.0), Place::EndingAt(500.0));
        // Room neither way (a short window): slid up from the bottom edge, whole.
        assert_eq!(place(150.0, 300.0, 400.0), Place::From(100.0));
        // Larger than the room: from the top, rather than off the top.
        assert_eq!(place(150.0, 500.0, 400.0), Place::From(0.0));
    }
}
