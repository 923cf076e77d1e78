//! The daemon: every open window in a map keyed by `window::Id`, the session data they share, and the
//! routing between windows, the connection and the disk.
//!
//! Windows hand up `Event`s; the app answers with calls on the [`net::Handle`] (never blocking: the
//! connection task queues them) or `Task::perform` for disk work. Network events update the shared
//! [`Session`], which every window draws from, so a message arriving updates the friend list's badge, the
//! recent list, the chat window and the titles at once.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use iced::{Element, Size, Subscription, Task, Theme, window};
use ququ_protocol::{Conv, ErrorCode};

use crate::config::{self, Dirs, Settings};
use crate::embedded::{self, Hosted};
use crate::i18n::{Lang, Tr};
use crate::model::{self, Connection, Delivery, FileItem, FileState, Line, Session};
use crate::net::{self, ClientEvent, Command, StopReason};
use crate::theme;
use crate::window::{Ctx, about, chat, login, main};
use crate::{avatar, files, fonts};

/// Starts the daemon with the shipped font as default and opens the login window.
pub fn run() -> iced::Result {
    iced::daemon(App::boot, App::update, App::view)
        .title(App::title)
        .theme(App::theme)
        .subscription(App::subscription)
        .font(fonts::QUQU_SANS_BYTES)
        .default_font(fonts::QUQU_SANS)
        .run()
}

/// One open window.
#[derive(Debug)]
pub enum Window {
    Login(login::State),
    Main(main::State),
    Chat(chat::State),
    About(about::State),
}

#[derive(Debug, Clone)]
pub enum Message {
    Login(window::Id, login::Message),
    Main(window::Id, main::Message),
    Chat(window::Id, chat::Message),
    About(window::Id, about::Message),
    Net(net::Event),
    WindowClosed(window::Id),
    Tick(Instant),
    SystemTheme(iced::theme::Mode),
    SettingsLoaded(Settings),
    /// The login window is open: put the cursor in its first empty field.
    FocusLogin,
    /// Settings were written (or not: a failed save costs only the remembered server and account, not
    /// worth interrupting the user for).
    Saved(Result<(), String>),
    /// A background task finished with nothing to report.
    Done,
    NothingListening(String, bool),
    Hosted(Result<Hosted, String>),
    /// A certificate was pinned (or could not be): log in again from the login window.
    Trusted(Result<(), String>),
    AvatarLoaded(Option<image::RgbaImage>),
    AvatarPicked(Option<std::path::PathBuf>),
    AvatarImported(Result<image::RgbaImage, String>),
    LocalPage(Conv, Result<Vec<net::Message>, String>),
    /// Files to send to a conversation: what the Send file dialog returns (also what a drop gives).
    FilesChosen(Conv, Vec<PathBuf>),
    /// One chosen file, checked on disk (exists, is a file, its size).
    FileChecked(window::Id, Conv, Result<files::Chosen, String>),
    /// The Save as dialog's answer for a received file (`None`: the dialog was cancelled).
    SaveTo(u64, Option<PathBuf>),
    /// The transfers in the local store, read at login so bubbles show what happened before a restart.
    TransfersLoaded(Result<Vec<net::Transfer>, String>),
    Thumbnail(PathBuf, Result<image::RgbaImage, String>),
    /// Save as… without a file dialog saved into this folder instead: say so in that chat window.
    SavedToDownloads(window::Id, PathBuf),
    /// Opening a file or its folder with the OS finished (it failed if `Err`).
    Launched(window::Id, Result<(), String>),
    /// Files dragged over a window, dropped on it or taken away.
    Drag(window::Id, window::Event),
    /// Esc was pressed in a window: a chat or About window closes (as QQ's do), a chat's path prompt
    /// is cancelled first; the login and main windows stay.
    Escape(window::Id),
}

#[derive(Debug)]
pub struct App {
    pub windows: BTreeMap<window::Id, Window>,
    pub dirs: Dirs,
    pub settings: Settings,
    pub system_dark: bool,
    /// The current connection's key; `None` while logged out (the subscription then ends).
    pub login: Option<net::Login>,
    pub handle: Option<net::Handle>,
    pub conn: Connection,
    /// `Some` from the first successful login until logout.
    pub session: Option<Session>,
    pub avatar: Option<image::RgbaImage>,
    pub hosting: Option<Hosted>,
    pub now: Instant,
    /// Where Download puts files; `None` is the OS's Downloads folder (looked up off the UI thread).
    pub downloads: Option<PathBuf>,
    /// The system can show native file dialogs ([`files::native_dialogs`]); else paths are typed.
    pub file_dialogs: bool,
    /// Thumbnails being made, so each is made once.
    thumbs_pending: HashSet<PathBuf>,
    attempts: u64,
}

impl App {
    /// Boots with the login window and asks, off the UI thread, for the saved settings and the OS theme.
    pub fn boot() -> (App, Task<Message>) {
        let dirs = Dirs::locate().unwrap_or_else(|_| Dirs::temporary());
        let mut app = App::new(dirs.clone());
        let open = app.open_login();
        let load = Task::perform(config::load(dirs.settings_file()), Message::SettingsLoaded);
        let theme = iced::system::theme().map(Message::SystemTheme);
        (app, Task::batch([open, load, theme]))
    }

    /// An app with no windows yet (tests build one and open windows themselves).
    pub fn new(dirs: Dirs) -> App {
        App {
            windows: BTreeMap::new(),
            dirs,
            settings: Settings::default(),
            system_dark: false,
            login: None,
            handle: None,
            conn: Connection::Offline,
            session: None,
            avatar: None,
            hosting: None,
            now: Instant::now(),
            downloads: None,
            file_dialogs: files::native_dialogs(),
            thumbs_pending: HashSet::new(),
            attempts: 0,
        }
    }

    pub fn lang(&self) -> Lang {
        self.settings.lang()
    }

    fn tr(&self) -> &'static Tr {
        self.lang().tr()
    }

    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            lang: self.lang(),
            conn: self.conn,
            now: self.now,
            session: self.session.as_ref(),
            my_avatar: self.avatar.as_ref(),
            hosting: None,
        }
    }

    pub fn title(&self, id: window::Id) -> String {
        let tr = self.tr();
        let unread = self.session.as_ref().map_or(0, Session::total_unread);
        let prefix = if unread > 0 {
            format!("({unread}) ")
        } else {
            String::new()
        };
        match self.windows.get(&id) {
            Some(Window::Login(_)) | None => tr.app_name.to_owned(),
            Some(Window::Main(_)) => {
                let me = self
                    .session
                    .as_ref()
                    .map(|s| s.my_name().to_owned())
                    .unwrap_or_default();
                format!("{prefix}{} - {me}", tr.app_name)
            }
            Some(Window::Chat(chat)) => {
                let name = self
                    .session
                    .as_ref()
                    .map(|s| s.conv_name(&chat.conv))
                    .unwrap_or_default();
                format!("{prefix}{name} - {}", tr.app_name)
            }
            Some(Window::About(_)) => tr.about.to_owned(),
        }
    }

    pub fn theme(&self, _id: window::Id) -> Option<Theme> {
        Some(theme::resolve(self.settings.theme, self.system_dark))
    }

    pub fn subscription(&self) -> Subscription<Message> {
        let mut subscriptions = vec![
            net::subscription(self.login.as_ref()).map(Message::Net),
            window::close_events().map(Message::WindowClosed),
            iced::system::theme_changes().map(Message::SystemTheme),
            iced::event::listen_with(|event, _status, id| match event {
                iced::Event::Window(
                    e @ (window::Event::FileHovered(_)
                    | window::Event::FileDropped(_)
                    | window::Event::FilesHoveredLeft),
                ) => Some(Message::Drag(id, e)),
                iced::Event::Keyboard(iced::keyboard::Event::KeyPressed {
                    key: iced::keyboard::Key::Named(iced::keyboard::key::Named::Escape),
                    ..
                }) => Some(Message::Escape(id)),
                _ => None,
            }),
        ];
        // The countdown only needs a clock while it is counting.
        if matches!(self.conn, Connection::Reconnecting { .. }) {
            subscriptions.push(iced::time::every(Duration::from_millis(500)).map(Message::Tick));
        }
        Subscription::batch(subscriptions)
    }

    pub fn view(&self, id: window::Id) -> Element<'_, Message> {
        let mut ctx = self.ctx();
        ctx.hosting = self.hosting_label();
        match self.windows.get(&id) {
            Some(Window::Login(state)) => state.view(&ctx).map(move |m| Message::Login(id, m)),
            Some(Window::Main(state)) => state
                .view(&ctx, (self.settings.lang, self.settings.theme))
                .map(move |m| Message::Main(id, m)),
            Some(Window::Chat(state)) => state.view(&ctx).map(move |m| Message::Chat(id, m)),
            Some(Window::About(state)) => state.view(&ctx).map(move |m| Message::About(id, m)),
            None => iced::widget::space().into(),
        }
    }

    fn hosting_label(&self) -> Option<&str> {
        self.hosting.as_ref().map(|h| h.label.as_str())
    }

    pub fn update(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::Login(id, message) => {
                let lang = self.lang();
                let event = match self.windows.get_mut(&id) {
                    Some(Window::Login(state)) => state.update(message, lang),
                    _ => None,
                };
                match event {
                    Some(event) => self.on_login_event(event),
                    None => Task::none(),
                }
            }
            Message::Main(id, message) => {
                let event = match self.windows.get_mut(&id) {
                    Some(Window::Main(state)) => state.update(message),
                    _ => None,
                };
                match event {
                    Some(event) => self.on_main_event(event),
                    None => Task::none(),
                }
            }
            Message::Chat(id, message) => {
                let max_text = self.session.as_ref().map_or(8000, |s| s.max_text);
                let event = match self.windows.get_mut(&id) {
                    Some(Window::Chat(state)) => state.update(message, max_text),
                    _ => None,
                };
                match event {
                    Some(event) => self.on_chat_event(id, event),
                    None => Task::none(),
                }
            }
            Message::About(id, message) => {
                let event = match self.windows.get_mut(&id) {
                    Some(Window::About(state)) => state.update(message),
                    _ => None,
                };
                match event {
                    Some(about::Event::Open(folder)) => {
                        Task::perform(about::open_folder(folder), move |r| {
                            Message::About(id, about::Message::Opened(r))
                        })
                    }
                    Some(about::Event::Close) => window::close(id),
                    None => Task::none(),
                }
            }
            Message::Net(event) => self.on_net(event),
            Message::WindowClosed(id) => self.on_closed(id),
            // Each window decides what Esc means to it.
            Message::Escape(id) => match self.windows.get(&id) {
                Some(Window::Chat(_)) => self.update(Message::Chat(id, chat::Message::Escape)),
                Some(Window::About(_)) => self.update(Message::About(id, about::Message::Close)),
                _ => Task::none(),
            },
            Message::Tick(now) => {
                self.now = now;
                Task::none()
            }
            Message::SystemTheme(mode) => {
                self.system_dark = mode == iced::theme::Mode::Dark;
                Task::none()
            }
            Message::SettingsLoaded(settings) => {
                self.settings = settings;
                // Fill the login form with what was remembered, unless the user already typed something.
                for window in self.windows.values_mut() {
                    if let Window::Login(state) = window
                        && state.account.is_empty()
                    {
                        state.account = self.settings.last_account.clone();
                        state.server = self.settings.server.clone();
                        state.tls = self.settings.tls;
                    }
                }
                self.focus_login()
            }
            Message::Saved(_) | Message::Done => Task::none(),
            Message::FocusLogin => self.focus_login(),
            Message::NothingListening(server, nothing) => {
                let offer = nothing && self.hosting.is_none();
                if let Some(state) = self.login_state() {
                    state.offer_host = offer && state.server.trim() == server;
                }
                Task::none()
            }
            Message::Trusted(Ok(())) => self.update(Message::Login(
                self.login_window().unwrap_or(window::Id::unique()),
                login::Message::Submit,
            )),
            Message::Trusted(Err(e)) => {
                if let Some(state) = self.login_state() {
                    state.status = login::Status::Error(e);
                }
                Task::none()
            }
            Message::Hosted(result) => match result {
                Ok(hosted) => {
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
            },
            Message::AvatarLoaded(avatar) => {
                self.avatar = avatar;
                Task::none()
            }
            Message::AvatarPicked(None) => Task::none(),
            Message::AvatarPicked(Some(path)) => {
                Task::perform(avatar::import(path, self.avatar_dir()), |r| {
                    Message::AvatarImported(r.map_err(|e| e.to_string()))
                })
            }
            Message::AvatarImported(Ok(image)) => {
                self.avatar = Some(image);
                for window in self.windows.values_mut() {
                    if let Window::Main(state) = window {
                        state.notice = None;
                    }
                }
                Task::none()
            }
            // The old avatar stays; the settings dialog says why the new one did not take.
            Message::AvatarImported(Err(e)) => {
                let notice = format!("{} ({e})", self.tr().image_failed);
                for window in self.windows.values_mut() {
                    if let Window::Main(state) = window {
                        state.notice = Some(notice.clone());
                    }
                }
                Task::none()
            }
            Message::LocalPage(conv, page) => self.on_local_page(conv, page),
            Message::FilesChosen(conv, paths) => {
                let id = self.chat_window(&conv).unwrap_or(window::Id::unique());
                Task::batch(paths.into_iter().map(|path| {
                    let conv = conv.clone();
                    Task::perform(files::check(path), move |r| {
                        Message::FileChecked(id, conv.clone(), r.map_err(|e| e.to_string()))
                    })
                }))
            }
            Message::FileChecked(id, conv, checked) => self.on_file_checked(id, conv, checked),
            Message::SaveTo(_, None) => Task::none(),
            Message::SaveTo(file_id, Some(dest)) => {
                self.send(Command::DownloadFile {
                    file_id,
                    dest: Some(dest),
                });
                Task::none()
            }
            Message::TransfersLoaded(loaded) => {
                // Without them the bubbles still show what the messages say (sent / not downloaded).
                let Some(session) = &mut self.session else {
                    return Task::none();
                };
                let mut convs = HashSet::new();
                for transfer in loaded.unwrap_or_default() {
                    convs.insert(transfer.conv.clone());
                    // Newest first: keep the newest of an id that was restarted.
                    session
                        .transfers
                        .entry(transfer.id.clone())
                        .or_insert(transfer);
                }
                for conv in &convs {
                    session.refresh_files(conv);
                }
                Task::batch(
                    convs
                        .iter()
                        .map(|c| self.make_thumbnails(c))
                        .collect::<Vec<_>>(),
                )
            }
            Message::Thumbnail(path, made) => {
                self.thumbs_pending.remove(&path);
                // A file that is not a picture after all keeps its type tile: nothing to tell the user.
                if let (Ok(image), Some(session)) = (made, &mut self.session) {
                    let (w, h) = image.dimensions();
                    let handle = iced::widget::image::Handle::from_rgba(w, h, image.into_raw());
                    session.thumbs.insert(path, handle);
                }
                Task::none()
            }
            Message::Launched(_, Ok(())) => Task::none(),
            Message::SavedToDownloads(id, dir) => {
                let text = self.lang().saved_to_downloads(&dir.display().to_string());
                self.chat_notice(id, text);
                Task::none()
            }
            Message::Launched(id, Err(e)) => {
                let text = format!("{} ({e})", self.tr().cannot_open);
                self.chat_notice(id, text);
                Task::none()
            }
            Message::Drag(id, event) => {
                let message = match event {
                    window::Event::FileHovered(_) => chat::Message::DragHover(true),
                    window::Event::FilesHoveredLeft => chat::Message::DragHover(false),
                    window::Event::FileDropped(path) => chat::Message::Dropped(path),
                    _ => return Task::none(),
                };
                // Only chat windows take files; a drop on the friend list is ignored.
                if matches!(self.windows.get(&id), Some(Window::Chat(_))) {
                    self.update(Message::Chat(id, message))
                } else {
                    Task::none()
                }
            }
        }
    }

    /// A chosen file passed its check: refuse it here if the server would (too large), else hand it to
    /// the client, which hashes, offers and uploads it, and show its bubble at once.
    fn on_file_checked(
        &mut self,
        id: window::Id,
        conv: Conv,
        checked: Result<files::Chosen, String>,
    ) -> Task<Message> {
        let tr = self.tr();
        let lang = self.lang();
        let chosen = match checked {
            Ok(chosen) => chosen,
            Err(e) => {
                self.chat_notice(id, format!("{} ({e})", tr.file_unreadable));
                return Task::none();
            }
        };
        let Some(session) = &self.session else {
            return Task::none();
        };
        if chosen.size > session.max_file {
            let limit = model::human_size(session.max_file);
            self.chat_notice(id, lang.file_too_large(&chosen.name, &limit));
            return Task::none();
        }
        let Some(handle) = &self.handle else {
            return Task::none();
        };
        let client_id = handle.send_file(conv.clone(), chosen.path.clone());
        // The bubble shows at once; the client's transfer events take it from here.
        if let Some(session) = &mut self.session {
            session.apply_transfer(net::Transfer {
                id: net::TransferId::Upload(client_id),
                conv: conv.clone(),
                file_id: None,
                name: chosen.name,
                size: chosen.size,
                sha256: String::new(),
                path: chosen.path,
                bytes: 0,
                state: model::TransferState::Offering,
            });
        }
        Task::batch([self.make_thumbnails(&conv), self.scroll_to_end(&conv)])
    }

    /// Starts a thumbnail for every picture in `conv` that is whole on this device and has none yet.
    fn make_thumbnails(&mut self, conv: &Conv) -> Task<Message> {
        let Some(session) = &self.session else {
            return Task::none();
        };
        let wanted: Vec<PathBuf> = session
            .conversations
            .get(conv)
            .into_iter()
            .flat_map(|c| c.lines.iter())
            .filter_map(|l| l.file.as_ref().map(|f| (l.from == session.account, f)))
            // Mine are whole from the start; a received one only once its download is complete.
            .filter(|(mine, f)| f.is_image() && (*mine || f.state == FileState::Saved))
            .map(|(_, f)| f)
            .filter_map(|f| f.local.clone())
            .filter(|p| !session.thumbs.contains_key(p) && !self.thumbs_pending.contains(p))
            .collect();
        let mut tasks = Vec::new();
        for path in wanted {
            if self.thumbs_pending.insert(path.clone()) {
                let key = path.clone();
                tasks.push(Task::perform(files::thumbnail(path), move |r| {
                    Message::Thumbnail(key.clone(), r.map_err(|e| e.to_string()))
                }));
            }
        }
        Task::batch(tasks)
    }

    fn chat_notice(&mut self, id: window::Id, text: String) {
        if let Some(Window::Chat(state)) = self.windows.get_mut(&id) {
            state.notice = Some(text);
        }
    }

    fn avatar_dir(&self) -> std::path::PathBuf {
        let account = self
            .session
            .as_ref()
            .map(|s| s.account.clone())
            .unwrap_or_default();
        self.dirs.data.join("avatars").join(sanitize(&account))
    }

    fn on_login_event(&mut self, event: login::Event) -> Task<Message> {
        match event {
            login::Event::Submit {
                account,
                password,
                server,
                register,
                nickname,
                tls,
            } => {
                self.disconnect();
                self.attempts += 1;
                self.settings.server = server.clone();
                self.settings.last_account = account.clone();
                self.settings.tls = tls;
                let save = self.save_settings();
                self.login = Some(net::Login {
                    server,
                    account,
                    password,
                    register,
                    nickname,
                    data_dir: self.dirs.client_dir(),
                    attempt: self.attempts,
                    tls,
                });
                self.conn = Connection::Connecting;
                save
            }
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

    fn on_main_event(&mut self, event: main::Event) -> Task<Message> {
        match event {
            main::Event::OpenChat(conv) => self.open_chat(conv),
            main::Event::Net(command) => {
                if let Command::FindUser { .. } = command
                    && let Some(session) = &mut self.session
                {
                    session.found = None;
                }
                self.send(command);
                Task::none()
            }
            main::Event::SetLang(lang) => {
                self.settings.lang = lang;
                self.save_settings()
            }
            main::Event::SetTheme(pref) => {
                self.settings.theme = pref;
                self.save_settings()
            }
            main::Event::PickAvatar => Task::perform(
                avatar::pick_file(self.tr().change_avatar.to_owned()),
                Message::AvatarPicked,
            ),
            main::Event::ResetAvatar => {
                self.avatar = None;
                Task::perform(avatar::remove(self.avatar_dir()), |()| Message::Done)
            }
            main::Event::OpenAbout => self.open_about(),
            main::Event::DismissDeclined(account) => {
                if let Some(session) = &mut self.session {
                    session.dismiss_declined(&account);
                }
                self.close_empty_requests();
                Task::none()
            }
        }
    }

    fn on_chat_event(&mut self, id: window::Id, event: chat::Event) -> Task<Message> {
        match event {
            chat::Event::Send { conv, text } => {
                self.send(Command::SendText {
                    conv: conv.clone(),
                    text,
                });
                self.scroll_to_end(&conv)
            }
            chat::Event::Close => window::close(id),
            chat::Event::Retry { client_id } => {
                self.send(Command::Retry { client_id });
                Task::none()
            }
            chat::Event::LoadEarlier { conv } => self.load_history(&conv),
            chat::Event::PickFiles { .. } if !self.file_dialogs => {
                let Some(Window::Chat(state)) = self.windows.get_mut(&id) else {
                    return Task::none();
                };
                state.update(chat::Message::AskPath, 0);
                iced::widget::operation::focus(state.path_id())
            }
            chat::Event::PickFiles { conv } => Task::perform(
                files::pick_files(self.tr().choose_files.to_owned()),
                move |paths| Message::FilesChosen(conv.clone(), paths),
            ),
            chat::Event::SendFiles { conv, paths } => {
                self.update(Message::FilesChosen(conv, paths))
            }
            chat::Event::File(action) => self.on_file_action(id, action),
        }
    }

    fn on_file_action(&mut self, id: window::Id, action: chat::FileAction) -> Task<Message> {
        use chat::FileAction as A;
        match action {
            A::Pause(key) => {
                self.send(Command::PauseTransfer(key));
                Task::none()
            }
            A::Resume(key) => {
                self.send(Command::ResumeTransfer(key));
                Task::none()
            }
            A::Cancel(key) => {
                self.send(Command::CancelTransfer(key));
                Task::none()
            }
            A::Reject { file_id } => {
                self.send(Command::RejectFile { file_id });
                Task::none()
            }
            A::Download { file_id, .. } => {
                // The client picks a free name there (`name (1).ext`) and reports the final path.
                self.send(Command::DownloadFile {
                    file_id,
                    dest: self.downloads.clone(),
                });
                Task::none()
            }
            A::SaveAs { file_id, .. } if !self.file_dialogs => {
                self.send(Command::DownloadFile {
                    file_id,
                    dest: self.downloads.clone(),
                });
                // Where that is takes a look at the file system: off the UI thread.
                Task::perform(
                    about::downloads_folder(self.downloads.clone(), self.dirs.clone()),
                    move |dir| Message::SavedToDownloads(id, dir),
                )
            }
            A::SaveAs { file_id, name } => Task::perform(
                files::pick_save(self.tr().save_file.to_owned(), name),
                move |dest| Message::SaveTo(file_id, dest),
            ),
            A::Open(path) => Task::perform(files::open(path), move |r| {
                Message::Launched(id, r.map_err(|e| e.to_string()))
            }),
            A::Reveal(path) => Task::perform(files::reveal(path), move |r| {
                Message::Launched(id, r.map_err(|e| e.to_string()))
            }),
        }
    }

    fn send(&self, command: Command) {
        if let Some(handle) = &self.handle {
            handle.send(command);
        }
    }

    /// Loads the page before the oldest message shown: from local storage first (off the UI thread),
    /// then from the server once the local history runs out.
    fn load_history(&mut self, conv: &Conv) -> Task<Message> {
        let Some(store) = self.handle.as_ref().map(net::Handle::store) else {
            return Task::none();
        };
        let Some(session) = &mut self.session else {
            return Task::none();
        };
        let conversation = session.conversations.entry(conv.clone()).or_default();
        if conversation.loading || (conversation.loaded && !conversation.more_before) {
            return Task::none();
        }
        conversation.loading = true;
        conversation.loaded = true;
        let before = conversation.oldest_local_id();
        let conv = conv.clone();
        Task::perform(
            store.messages(conv.clone(), before, net::PAGE),
            move |page| Message::LocalPage(conv.clone(), page.map_err(|e| e.to_string())),
        )
    }

    fn on_local_page(
        &mut self,
        conv: Conv,
        page: Result<Vec<net::Message>, String>,
    ) -> Task<Message> {
        let online = self.conn == Connection::Online;
        let Some(session) = &mut self.session else {
            return Task::none();
        };
        let page = page.unwrap_or_default();
        let full = page.len() >= net::PAGE as usize;
        let conversation = session.conversations.entry(conv.clone()).or_default();
        for message in page {
            conversation.upsert(line_from(message));
        }
        let ask_server = if full {
            conversation.loading = false;
            conversation.more_before = true;
            None
        } else if online {
            // Local history is exhausted: the server may have older messages (another device's, or from
            // before this one was installed). The answer comes back as a History event.
            Some(conversation.oldest_id().unwrap_or(0))
        } else {
            // Offline: offer the link again for when the connection is back.
            conversation.loading = false;
            conversation.more_before = true;
            None
        };
        session.refresh_files(&conv);
        let thumbs = self.make_thumbnails(&conv);
        if let Some(before) = ask_server {
            self.send(Command::LoadHistory { conv, before });
        }
        thumbs
    }

    /// Opens the chat window for `conv`, or focuses it if it is open already.
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
        if let Some(draft) = self.session.as_mut().and_then(|s| s.drafts.remove(&conv)) {
            state = state.with_draft(&draft);
        }
        let focus = state.focus_input();
        self.windows.insert(id, Window::Chat(state));
        self.mark_read(&conv);
        let history = self.load_history(&conv);
        if let Conv::Group(group) = conv {
            self.send(Command::ListMembers { group });
        }
        Task::batch([open.discard().chain(focus), history])
    }

    fn mark_read(&mut self, conv: &Conv) {
        if let Some(session) = &mut self.session
            && session.unread.remove(conv).is_some_and(|n| n > 0)
        {
            self.send(Command::MarkRead { conv: conv.clone() });
        }
    }

    fn chat_window(&self, conv: &Conv) -> Option<window::Id> {
        self.windows
            .iter()
            .find(|(_, w)| matches!(w, Window::Chat(c) if &c.conv == conv))
            .map(|(id, _)| *id)
    }

    fn scroll_to_end(&self, conv: &Conv) -> Task<Message> {
        match self.chat_window(conv).and_then(|id| self.windows.get(&id)) {
            // The chat list is anchored to the bottom (so a page loaded above keeps the view still),
            // and an anchored offset counts from that anchor: the newest message is offset 0.
            // `snap_to_end` would mean the far end from the anchor, the oldest message.
            Some(Window::Chat(state)) => iced::widget::operation::scroll_to(
                state.scroll_id(),
                iced::widget::scrollable::AbsoluteOffset { x: 0.0, y: 0.0 },
            ),
            _ => Task::none(),
        }
    }

    pub fn login_window(&self) -> Option<window::Id> {
        self.windows
            .iter()
            .find(|(_, w)| matches!(w, Window::Login(_)))
            .map(|(id, _)| *id)
    }

    pub fn main_window(&self) -> Option<window::Id> {
        self.windows
            .iter()
            .find(|(_, w)| matches!(w, Window::Main(_)))
            .map(|(id, _)| *id)
    }

    fn login_state(&mut self) -> Option<&mut login::State> {
        self.windows.values_mut().find_map(|w| match w {
            Window::Login(state) => Some(state),
            _ => None,
        })
    }

    fn focus_login(&self) -> Task<Message> {
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

    fn open_main(&mut self) -> Task<Message> {
        let (id, open) = window::open(window::Settings {
            size: Size::new(320.0, 680.0),
            min_size: Some(Size::new(280.0, 480.0)),
            ..window_settings()
        });
        self.windows
            .insert(id, Window::Main(main::State::default()));
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

    fn save_settings(&self) -> Task<Message> {
        Task::perform(
            config::save(self.dirs.settings_file(), self.settings.clone()),
            |r| Message::Saved(r.map_err(|e| e.to_string())),
        )
    }

    fn on_closed(&mut self, id: window::Id) -> Task<Message> {
        let closed = self.windows.remove(&id);
        // Text typed and not sent is kept for the next time this chat opens (Esc closes a window
        // easily), as QQ keeps it.
        if let (Some(Window::Chat(chat)), Some(session)) = (&closed, &mut self.session)
            && let Some(draft) = chat.draft()
        {
            session.drafts.insert(chat.conv.clone(), draft);
        }
        // Closing the main window (or the login window before logging in) quits, as QQ does; a chat
        // window just closes.
        let quits = match closed {
            // After a logout the session is gone before the windows close: that is not quitting.
            Some(Window::Main(_)) => self.session.is_some(),
            Some(Window::Login(_)) => self.session.is_none(),
            _ => false,
        };
        if quits || self.windows.is_empty() {
            self.shutdown()
        } else {
            Task::none()
        }
    }

    /// Drops the connection: stops the client (its outbox waits in the database for next time) and ends
    /// the subscription.
    fn disconnect(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.send(Command::Shutdown);
        }
        self.login = None;
    }

    fn shutdown(&mut self) -> Task<Message> {
        self.disconnect();
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

    /// Applies one event from the connection.
    pub fn on_net(&mut self, event: net::Event) -> Task<Message> {
        let event = match event {
            net::Event::Ready(handle) => {
                self.handle = Some(handle);
                return Task::none();
            }
            net::Event::Client(event) => event,
        };
        let tr = self.tr();
        match event {
            ClientEvent::Connecting { .. } => {
                self.conn = Connection::Connecting;
                if self.session.is_none()
                    && let Some(state) = self.login_state()
                {
                    state.status = login::Status::Busy(tr.connecting.to_owned());
                }
            }
            ClientEvent::Connected => {
                if self.session.is_none()
                    && let Some(state) = self.login_state()
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
                ..
            } => {
                self.conn = Connection::Online;
                if self.session.is_none() {
                    let mut session = Session::new(account, nickname);
                    session.max_text = limits.text as usize;
                    session.max_file = limits.file;
                    self.session = Some(session);
                    let login = self.login_window();
                    let main = self.open_main();
                    let avatar =
                        Task::perform(avatar::load(self.avatar_dir()), Message::AvatarLoaded);
                    let transfers = match &self.handle {
                        Some(handle) => Task::perform(handle.store().transfers(), |r| {
                            Message::TransfersLoaded(r.map_err(|e| e.to_string()))
                        }),
                        None => Task::none(),
                    };
                    let close = login.map_or_else(Task::none, window::close);
                    // Open the main window before closing the login one: the daemon never has zero windows.
                    return main.chain(close).chain(Task::batch([avatar, transfers]));
                } else if let Some(session) = &mut self.session {
                    session.nickname = nickname;
                }
            }
            ClientEvent::Synced { .. } | ClientEvent::SearchResults { .. } => {}
            ClientEvent::Disconnected { retry_in, .. } => {
                if self.session.is_none() {
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
                    self.conn = Connection::reconnecting_in(retry_in);
                    self.now = Instant::now();
                }
            }
            ClientEvent::Stopped(reason) => return self.on_stopped(reason),
            ClientEvent::Message(message) | ClientEvent::MessageState(message) => {
                let conv = message.conv.clone();
                let incoming = message.state == net::MessageState::Received;
                let open = self.chat_window(&conv).is_some();
                if let Some(session) = &mut self.session {
                    let fresh = !session.conversations.get(&conv).is_some_and(|c| {
                        c.lines.iter().any(|l| l.local_id == Some(message.local_id))
                    });
                    session
                        .conversations
                        .entry(conv.clone())
                        .or_default()
                        .upsert(line_from(message));
                    session.refresh_files(&conv);
                    if incoming && fresh {
                        if open {
                            self.send(Command::MarkRead { conv: conv.clone() });
                        } else {
                            *session.unread.entry(conv.clone()).or_default() += 1;
                        }
                    }
                }
                // No scrolling here: at the bottom, the bottom-anchored list keeps a new message in
                // view by itself, and someone reading older messages is not pulled away from them.
                return self.make_thumbnails(&conv);
            }
            ClientEvent::Transfer(transfer) => {
                let conv = transfer.conv.clone();
                if let Some(session) = &mut self.session {
                    session.apply_transfer(transfer);
                }
                return self.make_thumbnails(&conv);
            }
            ClientEvent::TransferProgress { id, bytes, .. } => {
                if let Some(session) = &mut self.session
                    && let Some(transfer) = session.transfers.get_mut(&id)
                {
                    transfer.bytes = bytes;
                    let conv = transfer.conv.clone();
                    session.refresh_files(&conv);
                }
            }
            ClientEvent::Unread { conv, unread } => {
                let open = self.chat_window(&conv).is_some();
                if let Some(session) = &mut self.session {
                    if open || unread == 0 {
                        session.unread.remove(&conv);
                    } else {
                        session.unread.insert(conv, unread);
                    }
                }
            }
            ClientEvent::History {
                conv,
                messages,
                more,
            } => {
                if let Some(session) = &mut self.session {
                    let conversation = session.conversations.entry(conv.clone()).or_default();
                    conversation.loading = false;
                    conversation.loaded = true;
                    conversation.more_before = more;
                    for message in messages {
                        conversation.upsert(line_from(message));
                    }
                    session.refresh_files(&conv);
                }
                return self.make_thumbnails(&conv);
            }
            ClientEvent::Presence { account, presence } => {
                if let Some(session) = &mut self.session {
                    if let Some(friend) = session.friends.get_mut(&account) {
                        friend.presence = presence;
                    }
                    for members in session.members.values_mut() {
                        for member in members.iter_mut().filter(|m| m.account == account) {
                            member.presence = presence;
                        }
                    }
                }
            }
            ClientEvent::Friends(friends) => {
                if let Some(session) = &mut self.session {
                    session.friends = friends
                        .into_iter()
                        .map(|f| (f.account.clone(), f))
                        .collect();
                }
            }
            ClientEvent::FriendChanged(friend) => {
                if let Some(session) = &mut self.session {
                    session.requests.retain(|r| r.from != friend.account);
                    session.sent.remove(&friend.account);
                    session.friends.insert(friend.account.clone(), friend);
                }
                self.close_empty_requests();
            }
            ClientEvent::FriendRemoved { account } => {
                if let Some(session) = &mut self.session {
                    session.friends.remove(&account);
                }
            }
            ClientEvent::FriendRequests(requests) => {
                if let Some(session) = &mut self.session {
                    session.requests = requests.into_iter().map(request_from).collect();
                }
            }
            ClientEvent::FriendRequest(request) => {
                if let Some(session) = &mut self.session {
                    session.requests.retain(|r| r.from != request.from);
                    session.requests.push(request_from(request));
                }
            }
            ClientEvent::RequestClosed { account } => {
                if let Some(session) = &mut self.session {
                    session.requests.retain(|r| r.from != account);
                }
                self.close_empty_requests();
            }
            ClientEvent::SentRequests(list) => {
                if let Some(session) = &mut self.session {
                    session.sent_listed(list.into_iter().map(|r| (r.to, r.nickname)));
                }
            }
            ClientEvent::RequestSent { account } => {
                if let Some(session) = &mut self.session {
                    session.request_sent(account);
                }
            }
            ClientEvent::FriendRejected { account } => {
                if let Some(session) = &mut self.session {
                    session.request_declined(account);
                }
            }
            ClientEvent::FoundUsers(users) => {
                if let Some(session) = &mut self.session {
                    session.found = Some(
                        users
                            .into_iter()
                            .map(|u| model::Found {
                                account: u.account,
                                nickname: u.nickname,
                                presence: u.presence,
                            })
                            .collect(),
                    );
                }
            }
            ClientEvent::Groups(groups) => {
                if let Some(session) = &mut self.session {
                    session.groups = groups.into_iter().map(|g| (g.id, g)).collect();
                }
            }
            ClientEvent::GroupChanged(group) => {
                // A join asked for from the dialog has happened: the dialog's work is done.
                self.main_dialog_when(
                    |d| matches!(d, main::Dialog::JoinGroup { waiting: Some(g), .. } if *g == group.id),
                    |state| {
                        state.dialog = None;
                        state.tab = main::Tab::Groups;
                    },
                );
                if let Some(session) = &mut self.session {
                    session.groups.insert(group.id, group);
                }
            }
            ClientEvent::GroupPolicy { group, policy } => {
                if let Some(session) = &mut self.session {
                    session.group_policies.insert(group, policy);
                }
            }
            ClientEvent::GroupGone { group, .. } => {
                if let Some(session) = &mut self.session {
                    session.groups.remove(&group);
                    session.members.remove(&group);
                    session.group_policies.remove(&group);
                }
            }
            ClientEvent::Members { group, members } => {
                if let Some(session) = &mut self.session {
                    session
                        .members
                        .insert(group, members.into_iter().map(member_from).collect());
                }
            }
            ClientEvent::MemberJoined(member) => {
                if let Some(session) = &mut self.session {
                    let members = session.members.entry(member.group).or_default();
                    members.retain(|m| m.account != member.account);
                    members.push(member_from(member));
                }
            }
            ClientEvent::MemberLeft { group, account, .. } => {
                if let Some(session) = &mut self.session
                    && let Some(members) = session.members.get_mut(&group)
                {
                    members.retain(|m| m.account != account);
                }
            }
            ClientEvent::Profile { nickname } => {
                if let Some(session) = &mut self.session {
                    session.nickname = nickname;
                }
            }
            ClientEvent::Error { code, about, .. } => {
                // A refused message shows on its bubble (the client's MessageState); a refused search or
                // request shows as "no results" rather than a pop-up.
                if let Some(session) = &mut self.session
                    && matches!(code, ErrorCode::NoSuchUser)
                    && about.is_some()
                {
                    session.found.get_or_insert_with(Vec::new);
                }
                // A refused join or invitation says why in the dialog it was asked from.
                if let Some(about) = about {
                    self.main_dialog_when(
                        |d| match d {
                            main::Dialog::JoinGroup {
                                waiting: Some(g), ..
                            } => g.to_string() == about,
                            main::Dialog::Invite { invited, .. } => invited.contains(&about),
                            _ => false,
                        },
                        |state| match &mut state.dialog {
                            Some(main::Dialog::JoinGroup {
                                waiting, refused, ..
                            }) => {
                                *waiting = None;
                                *refused = Some(code.clone());
                            }
                            Some(main::Dialog::Invite {
                                invited, refused, ..
                            }) => {
                                invited.retain(|a| *a != about);
                                *refused = Some((about.clone(), code.clone()));
                            }
                            _ => {}
                        },
                    );
                }
            }
        }
        Task::none()
    }

    /// Changes the main window's state with `change` if its dialog is one `which` picks.
    fn main_dialog_when(
        &mut self,
        which: impl Fn(&main::Dialog) -> bool,
        change: impl FnOnce(&mut main::State),
    ) {
        let found = self.windows.values_mut().find_map(|window| match window {
            Window::Main(state) if state.dialog.as_ref().is_some_and(&which) => Some(state),
            _ => None,
        });
        if let Some(state) = found {
            change(state);
        }
    }

    /// The requests dialog has nothing left to answer once the last request is accepted or rejected.
    fn close_empty_requests(&mut self) {
        if self.session.as_ref().is_some_and(|s| !s.has_requests()) {
            for window in self.windows.values_mut() {
                if let Window::Main(state) = window
                    && state.dialog == Some(main::Dialog::Requests)
                {
                    state.dialog = None;
                }
            }
        }
    }

    fn on_stopped(&mut self, reason: StopReason) -> Task<Message> {
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
                crate::i18n::error_words(tr, code, text)
            }
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
                let open = if self.session.take().is_some() {
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
        if self.session.is_some() {
            // Logged out from elsewhere, or the password changed: back to the login window.
            self.session = None;
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

/// Decoded once; `None` (no icon, not a crash) if the compiled-in file were ever broken.
static ICON: std::sync::LazyLock<Option<window::Icon>> = std::sync::LazyLock::new(|| {
    let image = image::load_from_memory(about::ICON_PNG).ok()?.to_rgba8();
    let (width, height) = image.dimensions();
    window::icon::from_rgba(image.into_raw(), width, height).ok()
});

fn window_settings() -> window::Settings {
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

fn sanitize(account: &str) -> String {
    account
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn line_from(m: net::Message) -> Line {
    let mine = m.is_mine();
    Line {
        // Where the file stands comes from its transfer (`Session::refresh_files`); without one, mine is
        // on the server and theirs waits for me.
        file: m.file.map(|f| FileItem {
            file_id: Some(f.file_id),
            name: f.name,
            size: f.size,
            state: if mine {
                FileState::Sent
            } else {
                FileState::Offered
            },
            local: None,
        }),
        local_id: Some(m.local_id),
        id: m.server_id,
        client_id: m.client_id,
        from: m.from,
        time: m.time,
        text: m.text,
        delivery: match m.state {
            net::MessageState::Pending => Delivery::Sending,
            net::MessageState::Failed => Delivery::Failed,
            net::MessageState::Sent | net::MessageState::Received => Delivery::Sent,
        },
    }
}

fn request_from(r: net::FriendRequest) -> model::Request {
    model::Request {
        from: r.from,
        nickname: r.nickname,
        note: r.note,
        time: r.time,
    }
}

fn member_from(m: net::Member) -> model::Member {
    model::Member {
        account: m.account,
        nickname: m.nickname,
        role: m.role,
        presence: m.presence,
    }
}
