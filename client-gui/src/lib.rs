//! Ququ, the desktop messenger: a QQ-style multi-window iced 0.14 `daemon` over the headless client.
//!
//! Every window kind has the same shape — `State`, `Message`, `Event`, `update`, `view` — and the
//! [`app::App`] keeps the open ones in a map keyed by [`iced::window::Id`]. A window never talks to the
//! network or the disk itself: it hands an `Event` up, and the app turns it into a call on the
//! [`net::Client`] (networking lives in one `Subscription`) or a `Task::perform` (disk).
//!
//! # Layout
//! - [`app`] — the daemon: window map, shared model data, routing of window events and network events.
//! - [`window`] — one module per window kind: [`window::login`], [`window::contacts`], [`window::chat`],
//!   [`window::about`] (version and where the data is).
//! - [`net`] — the connection `Subscription`: hands the UI a cloneable [`net::Client`], then typed events.
//! - [`model`] — the app's own view-model (friends, groups, conversations, delivery and connection state).
//! - [`config`] — remembered settings (server, last account, language, theme) on disk, off the UI thread.
//! - [`files`] — the disk and OS side of sending files: dialogs, checks, thumbnails, open / show in folder.
//! - [`embedded`] — offering to host a server on this computer when nothing listens at a local address.
//! - [`i18n`] — Chinese and English strings, picked from the system locale.
//! - [`theme`] — QQ-blue light and dark themes following the OS, and widget styles.
//! - [`avatar`] — generated avatars (initials on a colour) and picked images (decode, crop, scale).
//! - [`fonts`] — the shipped CJK-capable font.

pub mod app;
pub mod avatar;
pub mod config;
pub mod dialog;
pub mod embedded;
pub mod files;
pub mod fonts;
pub mod i18n;
pub mod model;
pub mod net;
pub mod theme;
pub mod window;

/// Runs the desktop app until its last window closes.
pub fn run() -> iced::Result {
    app::run()
}
