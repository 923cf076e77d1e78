//! QQ-blue light and dark themes, and the app's widget styles.
//!
//! The theme follows the OS (iced reports the system's light/dark mode at start and on change) unless the
//! user picked one in settings. Styles are plain functions of the [`Theme`] so every window shares them
//! and both modes stay readable: colours come from the palette, never hard-coded per window.

use iced::widget::{button, container, text_input};
use iced::{Background, Border, Color, Shadow, Theme, color};
use serde::{Deserialize, Serialize};

/// The user's theme choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ThemePref {
    #[default]
    System,
    Light,
    Dark,
}

/// QQ's blue.
pub const QQ_BLUE: Color = color!(0x0099ff);

/// A search match in the history window: dark text on amber, as QQ marks found words; the same in
/// both themes, since it carries its own text colour.
pub const HIT: Color = color!(0xffd666);
pub const HIT_TEXT: Color = color!(0x1f1f1f);

/// The light theme: white surfaces, QQ blue.
pub fn light() -> Theme {
    Theme::custom(
        "Ququ Light",
        iced::theme::Palette {
            background: color!(0xffffff),
            text: color!(0x1f2329),
            primary: QQ_BLUE,
            success: color!(0x21a35a),
            warning: color!(0xd48806),
            danger: color!(0xf5484a),
        },
    )
}

/// The dark theme: near-black surfaces, a slightly lighter blue so it keeps contrast.
pub fn dark() -> Theme {
    Theme::custom(
        "Ququ Dark",
        iced::theme::Palette {
            background: color!(0x1e1f22),
            text: color!(0xe8e9eb),
            primary: color!(0x2f95ff),
            success: color!(0x3ccf74),
            warning: color!(0xf0b429),
            danger: color!(0xff5c5c),
        },
    )
}

/// Resolves a preference against the OS mode.
pub fn resolve(pref: ThemePref, system_dark: bool) -> Theme {
    match pref {
        ThemePref::Light => light(),
        ThemePref::Dark => dark(),
        ThemePref::System if system_dark => dark(),
        ThemePref::System => light(),
    }
}

fn is_dark(theme: &Theme) -> bool {
    theme.extended_palette().is_dark
}

/// Secondary text (times, states, hints): readable in both modes, clearly quieter than body text.
pub fn muted(theme: &Theme) -> Color {
    if is_dark(theme) {
        color!(0x9a9ca3)
    } else {
        color!(0x80868e)
    }
}

/// The main window's blue header with white text, like QQ's.
pub fn header(theme: &Theme) -> container::Style {
    let primary = theme.palette().primary;
    let deeper = Color {
        r: primary.r * 0.75,
        g: primary.g * 0.85,
        b: primary.b,
        a: 1.0,
    };
    container::Style {
        background: Some(Background::Gradient(
            iced::gradient::Linear::new(std::f32::consts::PI)
                .add_stop(0.0, primary)
                .add_stop(1.0, deeper)
                .into(),
        )),
        text_color: Some(Color::WHITE),
        ..container::Style::default()
    }
}

/// A window's body behind lists and forms.
pub fn surface(theme: &Theme) -> container::Style {
    container::Style {
        background: Some(theme.palette().background.into()),
        text_color: Some(theme.palette().text),
        ..container::Style::default()
    }
}

/// The chat area behind the bubbles: a step away from white/black so bubbles stand out.
pub fn chat_area(theme: &Theme) -> container::Style {
    let bg = if is_dark(theme) {
        color!(0x141517)
    } else {
        color!(0xf2f3f5)
    };
    container::Style {
        background: Some(bg.into()),
        ..container::Style::default()
    }
}

/// The bar along the bottom of each window that shows the connection state.
pub fn status_bar(theme: &Theme) -> container::Style {
    let bg = if is_dark(theme) {
        color!(0x26272b)
    } else {
        color!(0xf5f6f7)
    };
    container::Style {
        background: Some(bg.into()),
        border: Border {
            color: divider(theme),
            width: 0.0,
            radius: 0.0.into(),
        },
        ..container::Style::default()
    }
}

pub fn divider(theme: &Theme) -> Color {
    if is_dark(theme) {
        color!(0x33353a)
    } else {
        color!(0xe5e6eb)
    }
}

/// My bubble: QQ blue with white text.
pub fn bubble_mine(theme: &Theme) -> container::Style {
    container::Style {
        background: Some(theme.palette().primary.into()),
        text_color: Some(Color::WHITE),
        border: Border {
            radius: 10.0.into(),
            ..Border::default()
        },
        ..container::Style::default()
    }
}

/// A quote inside my blue bubble: a darker blue band with soft white text.
pub fn quote_mine(_theme: &Theme) -> container::Style {
    container::Style {
        background: Some(Color::from_rgba(0.0, 0.0, 0.0, 0.18).into()),
        border: Border {
            radius: 6.0.into(),
            ..Border::default()
        },
        ..container::Style::default()
    }
}

pub fn quote_text_mine(_theme: &Theme) -> iced::widget::text::Style {
    iced::widget::text::Style {
        color: Some(Color::from_rgba(1.0, 1.0, 1.0, 0.85)),
    }
}

/// A quote inside their bubble: a grey band, as QQ draws the quoted message.
pub fn quote_theirs(theme: &Theme) -> container::Style {
    let bg = if is_dark(theme) {
        color!(0x383a40)
    } else {
        color!(0xf0f2f5)
    };
    container::Style {
        background: Some(bg.into()),
        border: Border {
            radius: 6.0.into(),
            ..Border::default()
        },
        ..container::Style::default()
    }
}

/// Their bubble: the surface colour on the chat area.
pub fn bubble_theirs(theme: &Theme) -> container::Style {
    let bg = if is_dark(theme) {
        color!(0x2b2d31)
    } else {
        Color::WHITE
    };
    container::Style {
        background: Some(bg.into()),
        text_color: Some(theme.palette().text),
        border: Border {
            radius: 10.0.into(),
            ..Border::default()
        },
        ..container::Style::default()
    }
}

/// The red unread badge.
pub fn badge(theme: &Theme) -> container::Style {
    container::Style {
        background: Some(theme.palette().danger.into()),
        text_color: Some(Color::WHITE),
        border: Border {
            radius: 9.0.into(),
            ..Border::default()
        },
        ..container::Style::default()
    }
}

/// A muted chat's badge: grey, so it counts without calling.
pub fn badge_muted(theme: &Theme) -> container::Style {
    container::Style {
        background: Some(muted(theme).into()),
        ..badge(theme)
    }
}

/// A chat pinned to the top of Recent: a faint shade, as QQ's.
pub fn pinned_row(theme: &Theme) -> container::Style {
    let bg = if theme.extended_palette().is_dark {
        Color::from_rgb8(0x26, 0x29, 0x30)
    } else {
        Color::from_rgb8(0xf2, 0xf3, 0xf5)
    };
    container::Style {
        background: Some(bg.into()),
        ..container::Style::default()
    }
}

/// A round avatar of one colour.
pub fn avatar(color: Color) -> impl Fn(&Theme) -> container::Style {
    move |_| container::Style {
        background: Some(color.into()),
        text_color: Some(Color::WHITE),
        border: Border {
            radius: 1000.0.into(),
            ..Border::default()
        },
        ..container::Style::default()
    }
}

/// The online/offline dot on an avatar.
pub fn presence_dot(online: bool) -> impl Fn(&Theme) -> container::Style {
    move |theme| container::Style {
        background: Some(
            if online {
                theme.palette().success
            } else {
                muted(theme)
            }
            .into(),
        ),
        border: Border {
            radius: 100.0.into(),
            width: 1.5,
            color: theme.palette().background,
        },
        ..container::Style::default()
    }
}

/// A dialog card floating over a window.
pub fn card(theme: &Theme) -> container::Style {
    container::Style {
        background: Some(theme.palette().background.into()),
        text_color: Some(theme.palette().text),
        border: Border {
            radius: 8.0.into(),
            width: 1.0,
            color: divider(theme),
        },
        ..container::Style::default()
    }
}

/// The backdrop behind a dialog. Solid rather than a translucent dimming layer: tiny-skia's partial
/// redraws composite translucent layers unevenly, which left patchy dialogs on software-rendered desktops.
pub fn backdrop(theme: &Theme) -> container::Style {
    let bg = if is_dark(theme) {
        color!(0x141517)
    } else {
        color!(0xe9ebef)
    };
    container::Style {
        background: Some(bg.into()),
        ..container::Style::default()
    }
}

/// An error line under a form.
pub fn error_text(theme: &Theme) -> iced::widget::text::Style {
    iced::widget::text::Style {
        color: Some(theme.palette().danger),
    }
}

/// Secondary text on the blue header (my signature): white, softened, as grey would not read on blue.
pub fn header_muted(_theme: &Theme) -> iced::widget::text::Style {
    iced::widget::text::Style {
        color: Some(Color {
            a: 0.8,
            ..Color::WHITE
        }),
    }
}

pub fn muted_text(theme: &Theme) -> iced::widget::text::Style {
    iced::widget::text::Style {
        color: Some(muted(theme)),
    }
}

/// A row in a list (friend, group, conversation): flat, highlighted on hover.
pub fn list_item(theme: &Theme, status: button::Status) -> button::Style {
    let hover = if is_dark(theme) {
        color!(0x2b2d31)
    } else {
        color!(0xf0f2f5)
    };
    let pressed = if is_dark(theme) {
        color!(0x33363c)
    } else {
        color!(0xe3e8ef)
    };
    button::Style {
        background: match status {
            button::Status::Hovered => Some(hover.into()),
            button::Status::Pressed => Some(pressed.into()),
            _ => None,
        },
        text_color: theme.palette().text,
        border: Border::default(),
        shadow: Shadow::default(),
        snap: true,
    }
}

/// A tab of the emoji picker: its icon is a colour emoji, which a text colour cannot mark, so the
/// active one sits on a tinted square.
pub fn picker_tab(active: bool) -> impl Fn(&Theme, button::Status) -> button::Style {
    move |theme, status| {
        let mut style = list_item(theme, status);
        if active {
            style.background = list_item(theme, button::Status::Pressed).background;
            style.border = Border {
                radius: 6.0.into(),
                ..Border::default()
            };
        }
        style
    }
}

/// A tab in the main window: the active one is blue and underlined by its colour.
pub fn tab(active: bool) -> impl Fn(&Theme, button::Status) -> button::Style {
    move |theme, status| {
        let text_color = if active {
            theme.palette().primary
        } else if matches!(status, button::Status::Hovered) {
            theme.palette().text
        } else {
            muted(theme)
        };
        button::Style {
            background: None,
            text_color,
            border: Border::default(),
            shadow: Shadow::default(),
            snap: true,
        }
    }
}

/// A quiet icon-like button on the blue header.
pub fn header_button(_theme: &Theme, status: button::Status) -> button::Style {
    button::Style {
        background: matches!(status, button::Status::Hovered | button::Status::Pressed)
            .then(|| Color::from_rgba(1.0, 1.0, 1.0, 0.18).into()),
        text_color: Color::WHITE,
        border: Border {
            radius: 6.0.into(),
            ..Border::default()
        },
        shadow: Shadow::default(),
        snap: true,
    }
}

/// A link-like button (retry, load earlier).
pub fn link(theme: &Theme, status: button::Status) -> button::Style {
    let primary = theme.palette().primary;
    button::Style {
        background: None,
        text_color: if matches!(status, button::Status::Hovered) {
            theme.extended_palette().primary.strong.color
        } else {
            primary
        },
        border: Border::default(),
        shadow: Shadow::default(),
        snap: true,
    }
}

/// The rounded search box on the blue header.
pub fn search_box(theme: &Theme, status: text_input::Status) -> text_input::Style {
    let base = text_input::default(theme, status);
    text_input::Style {
        background: Color::from_rgba(1.0, 1.0, 1.0, if is_dark(theme) { 0.12 } else { 0.9 }).into(),
        border: Border {
            radius: 14.0.into(),
            width: 0.0,
            color: Color::TRANSPARENT,
        },
        value: if is_dark(theme) {
            Color::WHITE
        } else {
            color!(0x1f2329)
        },
        placeholder: if is_dark(theme) {
            color!(0xc9ccd1)
        } else {
            color!(0x80868e)
        },
        ..base
    }
}

/// Form fields: rounded, quiet border, blue when focused.
pub fn field(theme: &Theme, status: text_input::Status) -> text_input::Style {
    let base = text_input::default(theme, status);
    let border_color = match status {
        text_input::Status::Focused { .. } => theme.palette().primary,
        _ => divider(theme),
    };
    text_input::Style {
        border: Border {
            radius: 6.0.into(),
            width: 1.0,
            color: border_color,
        },
        placeholder: muted(theme),
        ..base
    }
}

/// The primary action button (Log in, Send): QQ blue, rounded.
pub fn primary_button(theme: &Theme, status: button::Status) -> button::Style {
    let mut style = button::primary(theme, status);
    style.border.radius = 6.0.into();
    // iced picks black on our blue by luminance; QQ (and legibility at 14 px) wants white.
    if status != button::Status::Disabled {
        style.text_color = Color::WHITE;
    }
    style
}

/// Cancel, Close, Reject: a quiet outlined button that does not compete with the blue one beside it.
pub fn secondary_button(theme: &Theme, status: button::Status) -> button::Style {
    let dark = is_dark(theme);
    let background = match status {
        button::Status::Hovered => {
            if dark {
                color!(0x33363c)
            } else {
                color!(0xe9ecf0)
            }
        }
        button::Status::Pressed => {
            if dark {
                color!(0x3a3d44)
            } else {
                color!(0xdde1e7)
            }
        }
        _ => {
            if dark {
                color!(0x2b2d31)
            } else {
                color!(0xf5f6f8)
            }
        }
    };
    button::Style {
        background: Some(background.into()),
        text_color: if status == button::Status::Disabled {
            muted(theme)
        } else {
            theme.palette().text
        },
        border: Border {
            radius: 6.0.into(),
            width: 1.0,
            color: divider(theme),
        },
        shadow: Shadow::default(),
        snap: true,
    }
}

/// Drop-downs in settings, matching the form fields.
pub fn pick_list(
    theme: &Theme,
    status: iced::widget::pick_list::Status,
) -> iced::widget::pick_list::Style {
    let base = iced::widget::pick_list::default(theme, status);
    let border_color = match status {
        iced::widget::pick_list::Status::Hovered
        | iced::widget::pick_list::Status::Opened { .. } => theme.palette().primary,
        _ => divider(theme),
    };
    iced::widget::pick_list::Style {
        background: theme.palette().background.into(),
        text_color: theme.palette().text,
        border: Border {
            radius: 6.0.into(),
            width: 1.0,
            color: border_color,
        },
        ..base
    }
}

pub fn danger_button(theme: &Theme, status: button::Status) -> button::Style {
    let mut style = button::danger(theme, status);
    style.border.radius = 6.0.into();
    style.text_color = Color::WHITE;
    style
}

/// A file bubble: a card on the chat area for both sides, as QQ draws files (a blue file card would
/// hide the progress bar and the buttons).
pub fn file_card(theme: &Theme) -> container::Style {
    let bg = if is_dark(theme) {
        color!(0x2b2d31)
    } else {
        Color::WHITE
    };
    container::Style {
        background: Some(bg.into()),
        text_color: Some(theme.palette().text),
        border: Border {
            radius: 10.0.into(),
            width: 1.0,
            color: divider(theme),
        },
        ..container::Style::default()
    }
}

/// The file-type tile in a file bubble: a rounded square of the type's colour with white letters.
pub fn file_icon(color: Color) -> impl Fn(&Theme) -> container::Style {
    move |_| container::Style {
        background: Some(color.into()),
        text_color: Some(Color::WHITE),
        border: Border {
            radius: 6.0.into(),
            ..Border::default()
        },
        ..container::Style::default()
    }
}

/// A transfer's progress: QQ blue on a track that shows in both modes; amber while paused.
pub fn transfer_progress(paused: bool) -> impl Fn(&Theme) -> iced::widget::progress_bar::Style {
    move |theme| {
        let track = if is_dark(theme) {
            color!(0x3a3d44)
        } else {
            color!(0xe5e6eb)
        };
        iced::widget::progress_bar::Style {
            background: track.into(),
            bar: if paused {
                theme.palette().warning
            } else {
                theme.palette().primary
            }
            .into(),
            border: Border {
                radius: 2.0.into(),
                ..Border::default()
            },
        }
    }
}

/// What covers a chat window while files are dragged over it.
pub fn drop_zone(theme: &Theme) -> container::Style {
    let primary = theme.palette().primary;
    container::Style {
        background: Some(
            if is_dark(theme) {
                color!(0x1b2633)
            } else {
                color!(0xeaf5ff)
            }
            .into(),
        ),
        text_color: Some(primary),
        border: Border {
            radius: 10.0.into(),
            width: 2.0,
            color: primary,
        },
        ..container::Style::default()
    }
}
