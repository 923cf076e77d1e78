//! The saved login ("log in automatically") and starting with the OS, as the app uses them: logging in
//! with the saved token at start, keeping a session's token after a login, forgetting it at logout or
//! when the server refuses it; writing the OS's autostart entry. Where tokens are kept is
//! [`crate::credentials`]'s business, the autostart entry [`crate::autostart`]'s.

use iced::Task;
use ququ_client::SessionToken;

use super::{App, Message};
use crate::config::Settings;
use crate::credentials::Place;
use crate::model::Connection;
use crate::net;
use crate::window::login;

impl App {
    /// Whose login the saved token is: the last account on the current server.
    fn saved_login_key(&self) -> String {
        Settings::chats_key(&self.settings.last_account, &self.settings.server)
    }

    /// Where a token would be kept, asked of the OS store off the UI thread, for the words under the
    /// ticked box. Asked only once the box is ticked and nothing saved says it already: not at every
    /// start, where a desktop with no store waits for the store's time-out and logs why.
    fn probe_vault(&self) -> Task<Message> {
        if self.token_place.is_some() {
            return Task::none();
        }
        Task::perform(self.vault.clone().probe(), Message::VaultProbed)
    }

    /// At start, after the settings are read (and after the server hosted last time is up again, so the
    /// login finds it): the saved token for the last account, if "log in automatically" is ticked.
    pub(super) fn auto_login(&self) -> Task<Message> {
        if !self.settings.auto_login || self.settings.last_account.is_empty() {
            return Task::none();
        }
        Task::perform(self.vault.clone().load(self.saved_login_key()), |r| {
            Message::SavedLogin(r.map_err(|e| e.to_string()))
        })
    }

    /// The saved token was read: log in with it, no typing, unless the user got there first.
    pub(super) fn on_saved_login(
        &mut self,
        saved: Result<Option<(SessionToken, Place)>, String>,
    ) -> Task<Message> {
        let (token, place) = match saved {
            Ok(Some(saved)) => saved,
            // Nothing saved (logged out last time): the form, as always, and where a login would go.
            Ok(None) => return self.probe_vault(),
            Err(e) => {
                if let Some(state) = self.login_state() {
                    state.status = login::Status::Error(e);
                }
                return Task::none();
            }
        };
        self.token_place = Some(place);
        if self.login.is_some() || self.model.is_some() {
            return Task::none();
        }
        let Some(state) = self.login_state() else {
            return Task::none();
        };
        if state.busy() {
            return Task::none();
        }
        state.status = login::Status::AutoLogin;
        state.remember = true;
        self.attempts += 1;
        self.token = Some(token.clone());
        self.login = Some(net::Login {
            server: self.settings.server.clone(),
            account: self.settings.last_account.clone(),
            password: String::new(),
            token: Some(token),
            register: false,
            nickname: None,
            data_dir: self.dirs.client_dir(),
            attempt: self.attempts,
            tls: self.settings.tls,
        });
        self.conn = Connection::Connecting;
        Task::none()
    }

    /// Cancel on the login window during an automatic login: stop it and show the form; the saved
    /// login stays for next time (the user may only have wanted another account now).
    pub(super) fn cancel_auto_login(&mut self) -> Task<Message> {
        self.disconnect();
        self.conn = Connection::Offline;
        self.focus_login()
    }

    /// A login succeeded with this token: kept for next time if "log in automatically" is ticked, and
    /// written only when it is new (a resumed session keeps its token).
    pub(super) fn keep_token(&mut self, token: Option<SessionToken>) -> Task<Message> {
        let Some(token) = token else {
            return Task::none();
        };
        let new = self.token.as_ref() != Some(&token) || !self.token_saved;
        self.token = Some(token);
        if !self.settings.auto_login || !new {
            return Task::none();
        }
        self.save_token()
    }

    fn save_token(&mut self) -> Task<Message> {
        let Some(token) = self.token.clone() else {
            return Task::none();
        };
        self.token_saved = true;
        Task::perform(
            self.vault.clone().save(self.saved_login_key(), token),
            |r| Message::TokenSaved(r.map(Some).map_err(|e| e.to_string())),
        )
    }

    /// Forgets the saved login (Log out, the box cleared, the token refused or the password changed).
    pub(super) fn forget_token(&mut self) -> Task<Message> {
        self.token_saved = false;
        Task::perform(self.vault.clone().forget(self.saved_login_key()), |r| {
            Message::TokenSaved(r.map(|()| None).map_err(|e| e.to_string()))
        })
    }

    /// "Log in automatically" ticked or cleared, in the login window or the settings dialog.
    pub(super) fn set_auto_login(&mut self, on: bool) -> Task<Message> {
        self.settings.auto_login = on;
        let keep = if !on {
            self.forget_token()
        } else if self.model.is_some() {
            // Logged in already: this session's token is the one to keep (and saving says where).
            self.save_token()
        } else {
            self.probe_vault()
        };
        Task::batch([self.save_settings(), keep])
    }

    /// The token was written (and where), or could not be.
    pub(super) fn on_token_saved(&mut self, saved: Result<Option<Place>, String>) -> Task<Message> {
        match saved {
            Ok(Some(place)) => self.token_place = Some(place),
            Ok(None) => {}
            // Not worth a dialog: the only loss is typing the password next time. Say it where the
            // words about the saved login are.
            Err(e) => {
                self.token_saved = false;
                self.settings_notice(Some(e));
            }
        }
        Task::none()
    }

    /// "Start Ququ with the computer" changed: write or remove the OS's entry off the UI thread.
    pub(super) fn set_start_with_os(&mut self, on: bool) -> Task<Message> {
        self.settings.start_with_os = on;
        let save = self.save_settings();
        let write = Task::perform(
            async move {
                tokio::task::spawn_blocking(move || crate::autostart::set(on))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()))
            },
            Message::AutostartSet,
        );
        Task::batch([save, write])
    }

    pub(super) fn on_autostart_set(&mut self, result: Result<(), String>) -> Task<Message> {
        match result {
            Ok(()) => self.settings_notice(None),
            Err(e) => {
                let text = format!("{} ({e})", self.tr().start_with_os_failed);
                self.settings_notice(Some(text));
            }
        }
        Task::none()
    }
}
