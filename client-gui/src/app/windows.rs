//! Opening, finding, focusing and closing windows, and what closing one means.

use std::path::PathBuf;

use iced::{Size, Task, window};
use ququ_protocol::Conv;

use super::{App, Message, Window};
use crate::dialog::Dialog;
use crate::net::Command;
use crate::window::{about, chat, contacts, login, viewer};

impl App {
    pub fn open_chat(&mut self, conv: Conv) -> Task<Message> {
        if let Some((&id, _)) = self
            .windows
            .iter()
            .find(|(_, w)| matches!(w, Window::Chat(c) if c.conv == conv))
        {
            self.mark_read(&conv);
            return window::gain_focus(id);
        }
        let (id, open) = window::open(window::Settings {
            size: Size::new(640.0, 600.0),
            min_size: Some(Size::new(420.0, 420.0)),
            ..window_settings()
        });
        let mut state = chat::State::new(conv.clone());
        if let Some(draft) = self.model.as_mut().and_then(|s| s.drafts.remove(&conv)) {
            state = state.with_draft(&draft);
        }
        let focus = state.focus_input();
        self.windows.insert(id, Window::Chat(state));
        self.mark_read(&conv);
        // A chat closed while it showed an old message opens on the newest again.
        if let Some(model) = &mut self.model {
            model.back_to_newest(&conv);
        }
        let history = self.load_history(&conv);
        if let Conv::Group(group) = conv {
            self.send(Command::ListMembers { group });
        }
        Task::batch([open.discard().chain(focus), history])
    }

    /// The user sees `conv` now: its unread count goes, and the server and my other devices are told.
    pub(super) fn mark_read(&mut self, conv: &Conv) {
        if self.model.as_mut().is_some_and(|m| m.read(conv)) {
            self.send(Command::MarkRead { conv: conv.clone() });
        }
    }

    pub(super) fn chat_window(&self, conv: &Conv) -> Option<window::Id> {
        self.windows
            .iter()
            .find(|(_, w)| matches!(w, Window::Chat(c) if &c.conv == conv))
            .map(|(id, _)| *id)
    }

    pub(super) fn scroll_to_end(&self, conv: &Conv) -> Task<Message> {
        match self.chat_window(conv).and_then(|id| self.windows.get(&id)) {
            Some(Window::Chat(state)) => state.scroll_to_end(),
            _ => Task::none(),
        }
    }

    pub fn login_window(&self) -> Option<window::Id> {
        self.windows
            .iter()
            .find(|(_, w)| matches!(w, Window::Login(_)))
            .map(|(id, _)| *id)
    }

    pub fn contacts_window(&self) -> Option<window::Id> {
        self.windows
            .iter()
            .find(|(_, w)| matches!(w, Window::Contacts(_)))
            .map(|(id, _)| *id)
    }

    pub(super) fn login_state(&mut self) -> Option<&mut login::State> {
        self.windows.values_mut().find_map(|w| match w {
            Window::Login(state) => Some(state),
            _ => None,
        })
    }

    pub(super) fn focus_login(&self) -> Task<Message> {
        match self
            .login_window()
            .and_then(|id| self.windows.get(&id).map(|w| (id, w)))
        {
            Some((id, Window::Login(state))) => {
                state.focus_first().map(move |m| Message::Login(id, m))
            }
            _ => Task::none(),
        }
    }

    pub fn open_login(&mut self) -> Task<Message> {
        let (id, open) = window::open(window::Settings {
            size: Size::new(380.0, 680.0),
            resizable: false,
            ..window_settings()
        });
        let mut state = login::State::new(
            self.settings.server.clone(),
            self.settings.last_account.clone(),
        );
        state.tls = self.settings.tls;
        self.windows.insert(id, Window::Login(state));
        // Which field gets the cursor is decided once the window exists, from the form as it is then: the
        // remembered account may have arrived meanwhile, and then the password is what is left to type.
        open.discard().chain(Task::done(Message::FocusLogin))
    }

    pub(super) fn open_contacts(&mut self) -> Task<Message> {
        let (id, open) = window::open(window::Settings {
            size: Size::new(320.0, 680.0),
            min_size: Some(Size::new(280.0, 480.0)),
            // Closing it hides it to the tray, or (with no tray) quits, which may stop a server
            // others use: the app decides (`on_close_requested`).
            exit_on_close_request: false,
            ..window_settings()
        });
        self.windows
            .insert(id, Window::Contacts(contacts::State::default()));
        open.discard()
    }

    /// Opens the About window, or focuses it if it is open already.
    pub fn open_about(&mut self) -> Task<Message> {
        if let Some((&id, _)) = self
            .windows
            .iter()
            .find(|(_, w)| matches!(w, Window::About(_)))
        {
            return window::gain_focus(id);
        }
        let (id, open) = window::open(window::Settings {
            size: Size::new(460.0, 600.0),
            resizable: false,
            ..window_settings()
        });
        let state = about::State::new(&self.dirs, None, self.hosting.is_some());
        self.windows.insert(id, Window::About(state));
        let downloads = Task::perform(
            about::downloads_folder(self.downloads.clone(), self.dirs.clone()),
            move |path| Message::About(id, about::Message::Downloads(path)),
        );
        Task::batch([open.discard(), downloads])
    }

    /// Opens a picture in the viewer (the one already showing it comes to the front), and decodes it
    /// off the UI thread.
    pub fn open_viewer(&mut self, path: PathBuf, name: String) -> Task<Message> {
        if let Some((&id, _)) = self
            .windows
            .iter()
            .find(|(_, w)| matches!(w, Window::Viewer(v) if v.path == path))
        {
            return window::gain_focus(id);
        }
        let size = Size::new(832.0, 648.0);
        let (id, open) = window::open(window::Settings {
            size,
            min_size: Some(Size::new(480.0, 320.0)),
            ..window_settings()
        });
        self.windows.insert(
            id,
            Window::Viewer(viewer::State::new(path.clone(), name, size)),
        );
        let load = Task::perform(crate::files::picture(path), move |r| {
            Message::Viewer(id, viewer::Message::Loaded(r.map_err(|e| e.to_string())))
        });
        Task::batch([open.discard(), load])
    }

    /// The user asked to close a window. The contact list hides to the tray when there is one (the
    /// first time, after saying so); without a tray its close quits the app. Other windows just close.
    pub(super) fn on_close_requested(&mut self, id: window::Id) -> Task<Message> {
        if !matches!(self.windows.get(&id), Some(Window::Contacts(_))) {
            return window::close(id);
        }
        if self.tray.is_none() {
            return self.quit();
        }
        if self.settings.tray_told {
            self.hide_contacts()
        } else {
            self.update(Message::Contacts(
                id,
                contacts::Message::Show(Dialog::hide_to_tray()),
            ))
        }
    }

    /// Quits, from the tray's menu or the friend list's close: if the app hosts the server and others
    /// are connected to it, it asks first (in the friend list), saying how many.
    pub(super) fn quit(&mut self) -> Task<Message> {
        match (&self.hosting, &self.model, self.contacts_window()) {
            (Some(hosted), Some(model), Some(id)) => {
                let me = model.account.clone();
                Task::perform(hosted.others_connected(me), move |others| {
                    Message::QuitChecked(id, others)
                })
            }
            _ => self.shutdown(),
        }
    }

    /// Hides the friend list: the app, its connection and the server it hosts go on, in the tray.
    pub(super) fn hide_contacts(&mut self) -> Task<Message> {
        let Some(id) = self.contacts_window() else {
            return Task::none();
        };
        if let Some(Window::Contacts(state)) = self.windows.get_mut(&id) {
            state.hidden = true;
        }
        if self.focused == Some(id) {
            self.focused = None;
        }
        window::set_mode(id, window::Mode::Hidden)
    }

    /// Shows `id` again if it was hidden, and brings it to the front.
    pub(super) fn show_window(&mut self, id: window::Id) -> Task<Message> {
        let shown = match self.windows.get_mut(&id) {
            Some(Window::Contacts(state)) if state.hidden => {
                state.hidden = false;
                window::set_mode(id, window::Mode::Windowed)
            }
            _ => Task::none(),
        };
        shown.chain(window::gain_focus(id))
    }

    /// The main window: the friend list when logged in, else the login window.
    pub(super) fn show_main(&mut self) -> Task<Message> {
        match self.contacts_window().or_else(|| self.login_window()) {
            Some(id) => self.show_window(id),
            None => Task::none(),
        }
    }

    pub(super) fn on_closed(&mut self, id: window::Id) -> Task<Message> {
        let closed = self.windows.remove(&id);
        // Text typed and not sent is kept for the next time this chat opens (Esc closes a window
        // easily), as QQ keeps it.
        if let (Some(Window::Chat(chat)), Some(model)) = (&closed, &mut self.model)
            && let Some(draft) = chat.draft()
        {
            model.drafts.insert(chat.conv.clone(), draft);
        }
        // Closing the main window (or the login window before logging in) quits, as QQ does; a chat
        // window just closes.
        let quits = match closed {
            // After a logout the model is gone before the windows close: that is not quitting.
            Some(Window::Contacts(_)) => self.model.is_some(),
            Some(Window::Login(_)) => self.model.is_none(),
            _ => false,
        };
        if quits || self.windows.is_empty() {
            self.shutdown()
        } else {
            Task::none()
        }
    }
}

/// Decoded once; `None` (no icon, not a crash) if the compiled-in file were ever broken.
static ICON: std::sync::LazyLock<Option<window::Icon>> = std::sync::LazyLock::new(|| {
    let image = image::load_from_memory(about::ICON_PNG).ok()?.to_rgba8();
    let (width, height) = image.dimensions();
    window::icon::from_rgba(image.into_raw(), width, height).ok()
});

pub(super) fn window_settings() -> window::Settings {
    window::Settings {
        icon: ICON.clone(),
        // Closing is routed through `close_events`, so the app decides whether a close quits.
        exit_on_close_request: true,
        platform_specific: platform_specific(),
        ..window::Settings::default()
    }
}

/// The window class on Linux (X11 `WM_CLASS`, the Wayland app id): it must match the desktop file's
/// `StartupWMClass` so the dock groups the windows under the installed icon. The field exists only in
/// iced's Linux settings, so the other systems keep their defaults (Windows takes the icon from the
/// window itself).
#[cfg(target_os = "linux")]
fn platform_specific() -> window::settings::PlatformSpecific {
    window::settings::PlatformSpecific {
        application_id: "ququ".to_owned(),
        ..Default::default()
    }
}

#[cfg(not(target_os = "linux"))]
fn platform_specific() -> window::settings::PlatformSpecific {
    window::settings::PlatformSpecific::default()
}
