//! Ququ, the desktop messenger: a QQ-style multi-window iced 0.14 `daemon` over the headless client.
//!
//! Every window kind has the same shape — `State`, `Message`, `Event`, `update`, `view` — and the
//! [`app::App`] keeps the open ones in a map keyed by [`iced::window::Id`]. A window never talks to the
//! network or the disk itself: it hands an `Event` up, and the app turns it into a call on the
//! [`net::Client`] (networking lives in one `Subscription`) or a `Task::perform` (disk). The client's
//! events that change data go to the GUI-free [`model::Model`], which says what changed; the windows draw
//! from it.
//!
//! # Layout
//! - [`app`] — the daemon: window map and routing (`app/connection`: the connection's own events and
//!   what a model change means for the windows; `app/events`: what windows ask for; `app/windows`:
//!   opening and closing; `app/files`; `app/alerts`: notifications and the taskbar;
//!   `app/group_settings`: the group settings window's questions).
//! - [`window`] — one module per window kind: [`window::login`], [`window::contacts`] (the contact
//!   list), [`window::chat`] (with its file bubble and member list), [`window::viewer`] (a picture,
//!   fitted or zoomed), [`window::history`] (消息记录: search and read a chat's or all history, export),
//!   [`window::group`] (群设置: name, announcement, who may join, mute everyone, join requests),
//!   [`window::about`].
//! - [`dialog`] — the dialogs over the contact list, one module each.
//! - [`widget`] — what windows and dialogs draw with: the shared read-only [`widget::Ctx`], the status
//!   bar, badges, dialog cards, avatars with the online mark.
//! - [`model`] — everything known while logged in, changed by [`model::Model::apply`]; no iced types.
//! - [`notify`] — desktop notifications: what one says (from the model), and delivery over D-Bus.
//! - [`tray`] — the tray icon: what it shows (derived from the app), its clicks and menu; a
//!   StatusNotifierItem over D-Bus on Linux.
//! - [`net`] — the connection `Subscription`: hands the UI a cloneable [`net::Client`], then typed events.
//! - [`config`] — remembered settings (server, last account, language, theme) on disk, off the UI thread.
//! - [`credentials`] — the session token for "log in automatically": the OS credential store, or a file
//!   only the user can read.
//! - [`autostart`] — "start Ququ with the computer": the OS's per-user autostart entry.
//! - [`files`] — the disk and OS side of sending files: dialogs, checks, thumbnails, pictures for the
//!   viewer, open / show in folder.
//! - [`export`] — a conversation written out as text or one HTML page (pure rendering, then a file).
//! - [`clipboard`] — pictures on the system clipboard (arboard): Ctrl+V of a screenshot, the viewer's
//!   Copy.
//! - [`embedded`] — offering to host a server on this computer when nothing listens at a local address.
//! - [`i18n`] — Chinese and English strings, picked from the system locale.
//! - [`theme`] — QQ-blue light and dark themes following the OS, and widget styles.
//! - [`avatar`] — generated avatars (initials on a colour) and picked images (decode, crop, scale).
//! - [`fonts`] — the shipped fonts (CJK-capable text, colour emoji) and where emoji runs are.

pub mod app;
pub mod autostart;
pub mod avatar;
pub mod clipboard;
pub mod config;
pub mod credentials;
pub mod dialog;
pub mod embedded;
pub mod export;
pub mod files;
pub mod fonts;
pub mod i18n;
pub mod model;
pub mod net;
pub mod notify;
pub mod theme;
pub mod tray;
pub mod widget;
pub mod window;

/// Runs the desktop app until its last window closes.
pub fn run() -> iced::Result {
    app::run()
}
