//! The window kinds. Each module has the same shape: `State`, `Message`, `Event`, `update`, `view`.
//!
//! `update` changes only the window's own state and returns an `Event` when the app must act (send
//! something, open another window, save a setting). `view` draws from the window's state plus a read-only
//! [`crate::widget::Ctx`] of what all windows share (the model, settings, connection state, thumbnails).

pub mod about;
pub mod chat;
pub mod contacts;
pub mod group;
pub mod history;
pub mod login;
pub mod viewer;
