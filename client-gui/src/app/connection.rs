//! The connection's lifecycle as the windows see it: logging in (and hosting a server first if asked),
//! the client's own events (connecting, logged in, disconnected, stopped), what a change in the model
//! means for the windows, and logging out or quitting.

use std::time::{Duration, Instant};

use iced::{Task, window};
use ququ_protocol::{Conv, ErrorCode};

use super::{App, Message, Window};
use crate::avatar;
use crate::config::Settings;
use crate::embedded::{self, Hosted};
use crate::model::{Change, Connection, Model};
use crate::net::{self, ClientEvent, Command, StopReason};
use crate::window::login;

impl App {
    pub(super) fn avatar_dir(&self) -> std::path::PathBuf {
        let account = self
            .model
            .as_ref()
            .map(|s| s.account.clone())
            .unwrap_or_default();
        self.dirs
            .data
            .join("avatars")
            .join(crate::config::account_folder(&account))
    }

    pub(super) fn on_login_event(&mut self, event: login::Event) -> Task<Message> {
        match event {
            login::Event::Submit {
                account,
                password,
                server,
                register,
                nickname,
                tls,
                remember,
            } => {
                self.disconnect();
                self.attempts += 1;
                self.settings.server = server.clone();
                self.settings.last_account = account.clone();
                self.settings.tls = tls;
                self.settings.auto_login = remember;
                self.token_saved = false;
                let save = self.save_settings();
                self.login = Some(net::Login {
                    server,
                    account,
                    password,
                    token: None,
                    register,
                    nickname,
                    data_dir: self.dirs.client_dir(),
                    attempt: self.attempts,
                    tls,
                });
                self.conn = Connection::Connecting;
                save
            }
            login::Event::CancelAuto => self.cancel_auto_login(),
            login::Event::Remember(on) => self.set_auto_login(on),
            login::Event::Trust(unknown) => {
                let dir = self.dirs.client_dir();
                Task::perform(
                    async move {
                        ququ_client::tls::trust(&dir, &unknown.server, &unknown.fingerprint)
                            .map_err(|e| e.to_string())
                    },
                    Message::Trusted,
                )
            }
            login::Event::HostServer { server } => {
                Task::perform(embedded::host(server, self.dirs.server_dir()), |r| {
                    Message::Hosted(r.map_err(|e| e.to_string()))
                })
            }
        }
    }

    /// Drops the connection: stops the client (its outbox waits in the database for next time) and ends
    /// the subscription.
    pub(super) fn disconnect(&mut self) {
        if let Some(handle) = self.client.take() {
            handle.send(Command::Shutdown);
        }
        self.login = None;
    }

    pub(super) fn shutdown(&mut self) -> Task<Message> {
        self.disconnect();
        // The tray icon goes now: on Windows it would otherwise stay in the notification area, dead,
        // until the mouse passed over it.
        self.tray = None;
        if let Some(hosted) = self.hosting.take() {
            hosted.stop();
            // Give the server a moment to say BYE and close its database before the process ends.
            return Task::perform(tokio::time::sleep(Duration::from_millis(300)), |()| {
                Message::Done
            })
            .chain(iced::exit());
        }
        iced::exit()
    }

    /// At start-up: the server this app hosted when it last ran is started again, without asking, if
    /// nothing else listens at its address now (another app may host it meanwhile).
    pub(super) fn host_again(&mut self) -> Task<Message> {
        let Some(addr) = self.settings.host_again.clone() else {
            return Task::none();
        };
        if self.hosting.is_some() || !embedded::is_local(&addr) {
            return Task::none();
        }
        let dir = self.dirs.server_dir();
        Task::perform(
            async move {
                if !embedded::nothing_listening(addr.clone()).await {
                    return Err(None);
                }
                embedded::host(addr, dir)
                    .await
                    .map_err(|e| Some(e.to_string()))
            },
            |result| match result {
                Ok(hosted) => Message::Rehosted(Ok(hosted)),
                // Someone else serves that address now: nothing to start, nothing to say.
                Err(None) => Message::Done,
                Err(Some(e)) => Message::Rehosted(Err(e)),
            },
        )
    }

    /// The server hosted last time runs again (the user logs in as usual), or why it could not.
    pub(super) fn on_rehosted(&mut self, result: Result<Hosted, String>) -> Task<Message> {
        match result {
            Ok(hosted) => self.hosting = Some(hosted),
            Err(e) => {
                let text = format!("{} ({e})", self.tr().hosting_failed);
                if let Some(state) = self.login_state() {
                    state.status = login::Status::Error(text);
                }
            }
        }
        Task::none()
    }

    /// The server this app hosts has started (or could not).
    pub(super) fn on_hosted(&mut self, result: Result<Hosted, String>) -> Task<Message> {
        match result {
            Ok(hosted) => {
                // Hosted again next time, without asking, unless the settings say not to.
                // (The login below saves the settings.)
                self.settings.host_again = Some(hosted.request.clone());
                self.hosting = Some(hosted);
                // Now that something listens, carry on with the login the user asked for.
                self.update(Message::Login(
                    self.login_window().unwrap_or(window::Id::unique()),
                    login::Message::Submit,
                ))
            }
            Err(e) => {
                let text = format!("{} ({e})", self.tr().hosting_failed);
                if let Some(state) = self.login_state() {
                    state.status = login::Status::Error(text);
                }
                Task::none()
            }
        }
    }

    /// Applies one event from the connection: the connection's own here, the rest in the model.
    pub fn on_net(&mut self, event: net::Event) -> Task<Message> {
        let event = match event {
            net::Event::Ready(client) => {
                // Logging in automatically: the friend list opens from what this device kept, without
                // waiting for the server (which may be down, or this computer offline); the connection
                // catches up behind it, as QQ's main panel does.
                let kept = (self.model.is_none()
                    && self.login.as_ref().is_some_and(net::Login::automatic))
                .then(|| Task::perform(net::kept(client.store()), Message::Kept));
                self.client = Some(client);
                return kept.unwrap_or_else(Task::none);
            }
            net::Event::Client(event) => *event,
        };
        let tr = self.tr();
        match event {
            ClientEvent::Connecting { .. } => {
                self.conn = Connection::Connecting;
                // An automatic login keeps saying so (and offering Cancel) until it is done.
                if self.model.is_none()
                    && let Some(state) = self.login_state()
                    && state.status != login::Status::AutoLogin
                {
                    state.status = login::Status::Busy(tr.connecting.to_owned());
                }
            }
            ClientEvent::Connected => {
                if self.model.is_none()
                    && let Some(state) = self.login_state()
                    && state.status != login::Status::AutoLogin
                {
                    state.status = login::Status::Busy(tr.logging_in.to_owned());
                }
            }
            ClientEvent::Registered { .. } => {
                if let Some(state) = self.login_state() {
                    state.status = login::Status::Busy(tr.registered.to_owned());
                }
            }
            ClientEvent::LoggedIn {
                account,
                nickname,
                limits,
                token,
                features,
                ..
            } if self.model.is_none() => {
                // The first login: from the login window to the contact list.
                self.conn = Connection::Online;
                let keep = self.keep_token(token);
                let mut model = Model::new(account, nickname);
                model.server_said(limits, features);
                return Task::batch([self.enter(model), keep]);
            }
            ClientEvent::Disconnected { retry_in, .. } => {
                let automatic = self.login.as_ref().is_some_and(net::Login::automatic);
                if self.model.is_none() && !automatic {
                    // Not logged in yet: say so and stop trying; the user decides what next.
                    self.disconnect();
                    self.conn = Connection::Offline;
                    let server = self.login_state().map(|s| {
                        s.status = login::Status::Error(tr.cannot_reach.to_owned());
                        s.server.trim().to_owned()
                    });
                    if let Some(server) = server
                        && embedded::is_local(&server)
                        && self.hosting.is_none()
                    {
                        let probe = server.clone();
                        return Task::perform(embedded::nothing_listening(probe), move |n| {
                            Message::NothingListening(server.clone(), n)
                        });
                    }
                } else {
                    // Logged in, or logging in automatically (the friend list opens from what this
                    // device kept): the client tries again by itself, counting down.
                    self.conn = Connection::reconnecting_in(retry_in);
                    self.now = Instant::now();
                }
            }
            ClientEvent::Stopped(reason) => return self.on_stopped(reason),
            // Logged in again after a reconnect: the connection is back; the model takes the rest.
            event => {
                // A new token if the old one was refused and the password used instead.
                let keep = match &event {
                    ClientEvent::LoggedIn { token, .. } => {
                        self.conn = Connection::Online;
                        self.keep_token(token.clone())
                    }
                    _ => Task::none(),
                };
                // My nickname, as the server says it now: kept for the next offline start's header.
                let named = matches!(
                    event,
                    ClientEvent::LoggedIn { .. } | ClientEvent::Profile { .. }
                );
                let Some(model) = &mut self.model else {
                    return keep;
                };
                let change = model.apply(event);
                self.sync_avatar_handles();
                let note = if named {
                    self.note_nickname()
                } else {
                    Task::none()
                };
                return Task::batch([keep, note, self.on_change(change)]);
            }
        }
        Task::none()
    }

    /// What a change in the model means for the windows.
    pub(super) fn on_change(&mut self, change: Change) -> Task<Message> {
        match change {
            Change::Nothing => Task::none(),
            // No scrolling here: at the bottom, the bottom-anchored list keeps a new message in view by
            // itself, and someone reading older messages is not pulled away from them.
            Change::Conversation(conv) => Task::batch([
                self.make_thumbnails(&conv),
                self.continue_jump(&conv),
                self.auto_download(Some(&conv)),
            ]),
            Change::Incoming(conv) => {
                // Told first (while it still counts as unread), then read already if its chat is open.
                let alert = self.alert(&conv);
                if self.chat_window(&conv).is_some() {
                    self.mark_read(&conv);
                }
                Task::batch([
                    alert,
                    self.make_thumbnails(&conv),
                    self.auto_download(Some(&conv)),
                ])
            }
            Change::Unread(conv) => {
                // Another device's count does not apply to a chat open here; the server knows already.
                if self.chat_window(&conv).is_some()
                    && let Some(model) = &mut self.model
                {
                    model.read(&conv);
                }
                Task::none()
            }
            Change::Request(_) => self.alert_request(),
            // Said where it was asked, in its chat window, in the user's words.
            Change::RecallFailed { conv, code } => {
                let lang = self.lang();
                // Said about this recall: how long the window is, and "not yours" for `forbidden`; the
                // rest as every refusal is.
                let words = match &code {
                    ququ_protocol::ErrorCode::TooLate => {
                        let secs = self.model.as_ref().map_or(120, |m| m.recall_secs);
                        lang.recall_too_late(secs)
                    }
                    ququ_protocol::ErrorCode::Forbidden => lang.tr().recall_not_mine.to_owned(),
                    other => crate::i18n::error_words(lang, other, ""),
                };
                if let Some(Window::Chat(state)) = self
                    .chat_window(&conv)
                    .and_then(|id| self.windows.get_mut(&id))
                {
                    state.notice = Some(words);
                }
                Task::none()
            }
            // Someone asks to join a group I manage: told like a friend request (the requests dialog
            // lists both).
            Change::JoinRequest(_) => self.alert_request(),
            Change::MyAvatar => {
                if std::mem::take(&mut self.avatar_sent) {
                    self.settings_notice(None);
                }
                self.my_avatar_told = true;
                self.settle_local_avatar()
            }
            Change::GroupSettings(group) => {
                self.tell_group_windows(&Change::GroupSettings(group));
                Task::none()
            }
            // Said where it was asked: a group settings window or a chat's member menu waiting for
            // its answer, else the friend list.
            Change::Refused { code, about } if self.refusal_taken(&code, about.as_deref()) => {
                Task::none()
            }
            // A dialog over the contact list may have been waiting for this.
            change @ (Change::GroupChanged(_)
            | Change::RequestsEmptied
            | Change::JoinAsked(_)
            | Change::JoinDeclined(_)
            | Change::PasswordChanged
            | Change::MyProfile
            | Change::Refused { .. }) => {
                self.tell_group_windows(&change);
                let events: Vec<_> = self
                    .windows
                    .values_mut()
                    .filter_map(|window| match window {
                        Window::Contacts(state) => state.changed(&change),
                        _ => None,
                    })
                    .collect();
                Task::batch(events.into_iter().map(|e| self.on_contacts_event(e)))
            }
        }
    }

    /// The group settings windows see what changed in their group (an edit the server took closes).
    fn tell_group_windows(&mut self, change: &Change) {
        let Some(model) = &self.model else {
            return;
        };
        for window in self.windows.values_mut() {
            if let Window::Group(state) = window {
                state.changed(change, model);
            }
        }
    }

    /// Gives a refusal to the window that asked for what was refused, in the user's words; `false` if
    /// none is waiting for it.
    fn refusal_taken(&mut self, code: &ququ_protocol::ErrorCode, about: Option<&str>) -> bool {
        let lang = self.lang();
        // My new avatar, refused (too large, not a picture): said in Settings, where it was picked.
        if self.avatar_sent
            && about.is_none()
            && matches!(
                code,
                ququ_protocol::ErrorCode::TooLarge | ququ_protocol::ErrorCode::BadRequest
            )
        {
            self.avatar_sent = false;
            let max = self.model.as_ref().map_or(32768, |m| m.max_avatar);
            self.settings_notice(Some(lang.avatar_refusal(code, max)));
            return true;
        }
        let words = lang.group_refusal(code);
        self.windows.values_mut().any(|window| match window {
            Window::Group(state) => state.refused(about, words.clone()),
            Window::Chat(state) => state.refused(about, words.clone()),
            _ => false,
        })
    }

    /// From the login window to the friend list, for `model`: logged in, or logging in automatically
    /// with the lists this device kept. The account's pinned and muted chats come from the settings, the
    /// Recent list and the file bubbles' transfers from the local store.
    fn enter(&mut self, mut model: Model) -> Task<Message> {
        let key = Settings::chats_key(&model.account, &self.settings.server);
        if let Some(chats) = self.settings.chats.get(&key) {
            model.pinned = chats.pinned();
            model.muted = chats.muted();
            model.collapsed = chats.collapsed.iter().copied().collect();
        }
        self.model = Some(model);
        self.my_avatar_told = false;
        // This account's pictures are fetched by themselves once its kept transfers are read.
        self.transfers_loaded = false;
        self.auto_asked.clear();
        let note = self.note_nickname();
        let login = self.login_window();
        let contacts = self.open_contacts();
        let avatar = Task::perform(avatar::load(self.avatar_dir()), Message::AvatarLoaded);
        let stored = match &self.client {
            Some(client) => {
                let store = client.store();
                Task::batch([
                    Task::perform(store.transfers(), |r| {
                        Message::TransfersLoaded(r.map_err(|e| e.to_string()))
                    }),
                    Task::perform(store.conversations(), |r| {
                        Message::RecentLoaded(r.map_err(|e| e.to_string()))
                    }),
                    Task::perform(kept_avatars(store), Message::AvatarsKept),
                ])
            }
            None => Task::none(),
        };
        let close = login.map_or_else(Task::none, window::close);
        // Open the contact list before closing the login one: the daemon never has zero windows.
        Task::batch([
            contacts.chain(close).chain(Task::batch([avatar, stored])),
            note,
        ])
    }

    /// Keeps my nickname for the next offline start's header, writing the settings only when it is not
    /// the one kept already (a login after each reconnect says it again).
    fn note_nickname(&mut self) -> Task<Message> {
        let Some(model) = &self.model else {
            return Task::none();
        };
        let key = Settings::chats_key(&model.account, &self.settings.server);
        let kept = self.settings.chats.get(&key).map(|c| c.nickname.as_str());
        if kept == Some(model.nickname.as_str()) {
            return Task::none();
        }
        self.change_chats(|_| {})
    }

    /// The lists kept from the last session were read, at an automatic login's start: the friend list
    /// opens with them, connecting, unless the login finished first (its lists are newer) or was
    /// cancelled. A store that cannot be read stops the client as well, which says why in the login
    /// window.
    pub(super) fn on_kept(&mut self, kept: Result<net::Kept, String>) -> Task<Message> {
        let (Ok(kept), None, Some(login)) = (kept, &self.model, &self.login) else {
            return Task::none();
        };
        let account = login.account.clone();
        let key = Settings::chats_key(&account, &self.settings.server);
        let nickname = match self.settings.chats.get(&key) {
            Some(chats) if !chats.nickname.is_empty() => chats.nickname.clone(),
            _ => account.clone(),
        };
        let mut model = Model::new(account, nickname);
        model.apply(ClientEvent::Friends(kept.friends));
        model.apply(ClientEvent::Groups(kept.groups));
        model.apply(ClientEvent::FriendRequests(kept.requests));
        self.enter(model)
    }

    fn on_stopped(&mut self, reason: StopReason) -> Task<Message> {
        // Logged out, or the server will not take this login again (the token refused, the password
        // changed or the account disabled while logged in or logging in with the token): the saved
        // login goes; the server has revoked it already (LOGOUT, or the change that refused it). A
        // password mistyped on the form leaves it alone.
        let with_token =
            self.model.is_some() || self.login.as_ref().is_some_and(|l| l.token.is_some());
        let forget = match &reason {
            StopReason::LoggedOut | StopReason::SessionExpired => self.forget_token(),
            StopReason::LoginRefused { .. } if with_token => self.forget_token(),
            _ => Task::none(),
        };
        self.token = None;
        let windows = self.show_stopped(reason);
        Task::batch([forget, windows])
    }

    /// The client stopped: back to the login window, with why in words (or the certificate question).
    fn show_stopped(&mut self, reason: StopReason) -> Task<Message> {
        let tr = self.tr();
        let registering = self.login.as_ref().is_some_and(|l| l.register);
        self.disconnect();
        self.conn = Connection::Offline;
        let text = match &reason {
            // The client treats `account_taken` as "maybe ours from a lost reply" and lets the login decide;
            // a refused login right after registering therefore means someone else has the name.
            StopReason::LoginRefused {
                code: ErrorCode::BadCredentials,
                ..
            } if registering => tr.account_taken.to_owned(),
            StopReason::LoginRefused { code, text }
            | StopReason::RegisterRefused { code, text } => {
                crate::i18n::error_words(self.lang(), code, text)
            }
            StopReason::SessionExpired => tr.session_expired.to_owned(),
            StopReason::Storage(e) => e.clone(),
            StopReason::Shutdown | StopReason::LoggedOut => String::new(),
            StopReason::UnknownCertificate {
                server,
                fingerprint,
            } => {
                // Not an error: a question, asked in the login window.
                let unknown = login::Unknown {
                    server: server.clone(),
                    fingerprint: fingerprint.clone(),
                };
                let open = if self.model.take().is_some() {
                    let close: Vec<_> = self.windows.keys().copied().map(window::close).collect();
                    self.open_login().chain(Task::batch(close))
                } else {
                    Task::none()
                };
                if let Some(state) = self.login_state() {
                    state.status = login::Status::Idle;
                    state.trust = Some(unknown);
                }
                return open;
            }
            StopReason::CertificateChanged {
                server,
                pinned,
                presented,
            } => {
                let file = self.dirs.client_dir().join(ququ_client::tls::KNOWN_SERVERS);
                // The first eight pairs are enough to see they differ, and fit the window.
                let short = |f: &str| format!("{}…", f.get(..23).unwrap_or(f));
                self.lang().certificate_changed(
                    server,
                    &short(pinned),
                    &short(presented),
                    &file.display().to_string(),
                )
            }
        };
        if self.model.is_some() {
            // Logged out from elsewhere, or the password changed: back to the login window.
            self.model = None;
            let close: Vec<_> = self.windows.keys().copied().map(window::close).collect();
            let open = self.open_login();
            if let Some(state) = self.login_state() {
                state.status = if text.is_empty() {
                    login::Status::Idle
                } else {
                    login::Status::Error(text)
                };
            }
            return open.chain(Task::batch(close));
        }
        if let Some(state) = self.login_state() {
            state.status = if text.is_empty() {
                login::Status::Idle
            } else {
                login::Status::Error(text)
            };
        }
        Task::none()
    }
}

/// The avatars kept in the local store with their pictures; none if it cannot be read (the server tells
/// them again after the login lists).
async fn kept_avatars(store: ququ_client::Store) -> Vec<(Conv, String, Vec<u8>)> {
    let Ok(kept) = store.avatars().await else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(kept.len());
    for (of, sha256) in kept {
        if let Ok(Some(bytes)) = store.avatar(sha256.clone()).await {
            out.push((of, sha256, bytes));
        }
    }
    out
}
