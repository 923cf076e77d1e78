//! The daemon: every open window in a map keyed by `window::Id`, and the routing between the windows,
//! the connection and the disk.
//!
//! Windows hand up `Event`s; the app answers with calls on the [`net::Client`] (never blocking: the
//! connection task queues them) or `Task::perform` for disk work. The client's events that change data go
//! to the [`Model`] ([`Model::apply`]), which every window draws from, so a message arriving updates the
//! contact list's badge, the recent list, the chat window and the titles at once; the app only acts on
//! what the model says changed ([`Change`]: mark read, make thumbnails, tell a waiting dialog).
//!
//! # Layout
//! - this file — [`App`], [`Message`], [`Window`], and routing each message to its window or handler.
//! - `connection` — logging in, the connection's own events (connecting, logged in, disconnected,
//!   stopped), what a [`Change`] means for the windows, logging out and quitting.
//! - `windows` — opening, finding, focusing and closing windows (the picture viewer too); the window
//!   icon.
//! - `files` — sending, saving and opening files; thumbnails; pictures downloaded as they arrive,
//!   pasted from the clipboard, and the viewer's Save as… and Copy.
//! - `events` — what the contact list and the chat windows ask for.
//! - `alerts` — a message for a chat not in front: a desktop notification, and the taskbar's attention;
//!   the tray icon: what it shows, and what its clicks and menu do.
//! - `group_settings` — the group settings window: opening it, what it changes, the dialogs it starts over the
//!   friend list.
//! - `autologin` — the saved login: logging in with it at start, keeping and forgetting it; starting
//!   with the OS.

mod alerts;
mod autologin;
mod connection;
mod events;
mod files;
mod group_settings;
mod records;
mod windows;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use iced::{Element, Subscription, Task, Theme, window};
use ququ_protocol::Conv;

use crate::config::{self, Dirs, Settings};
use crate::credentials::{Place, Vault};
use crate::dialog::Dialog;
use crate::embedded::Hosted;
use crate::i18n::{Lang, Tr};
use crate::model::{Connection, Model};
use crate::net::{self, Command};
use crate::theme;
use crate::widget::Ctx;
use crate::window::{about, chat, contacts, group, history, login, viewer};
use crate::{avatar, clipboard, fonts, notify, tray};

/// Starts the daemon with the shipped fonts (Ququ Sans the default) and opens the login window.
pub fn run() -> iced::Result {
    let daemon = iced::daemon(App::boot, App::update, App::view)
        .title(App::title)
        .theme(App::theme)
        .subscription(App::subscription)
        .default_font(fonts::QUQU_SANS);
    fonts::ALL
        .into_iter()
        .fold(daemon, |daemon, font| daemon.font(font))
        .run()
}

/// One open window.
#[derive(Debug)]
pub enum Window {
    Login(login::State),
    Contacts(contacts::State),
    Chat(chat::State),
    About(about::State),
    Viewer(viewer::State),
    History(history::State),
    Group(group::State),
}

#[derive(Debug, Clone)]
pub enum Message {
    Login(window::Id, login::Message),
    Contacts(window::Id, contacts::Message),
    Chat(window::Id, chat::Message),
    About(window::Id, about::Message),
    Viewer(window::Id, viewer::Message),
    History(window::Id, history::Message),
    Group(window::Id, group::Message),
    /// Ctrl+F in a window: a chat searches its history, the friend list all chats.
    Find(window::Id),
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
    /// The server hosted last time was started again at start-up (or could not be).
    Rehosted(Result<Hosted, String>),

    /// A certificate was pinned (or could not be): log in again from the login window.
    Trusted(Result<(), String>),
    AvatarLoaded(Option<image::RgbaImage>),
    AvatarPicked(Option<std::path::PathBuf>),
    AvatarImported(Result<image::RgbaImage, String>),
    /// The avatars kept on this computer from earlier sessions (who, the digest, the picture), read at
    /// login so the lists show them before the server speaks (or while it cannot be reached).
    AvatarsKept(Vec<(Conv, String, Vec<u8>)>),
    /// A picture picked for a group's avatar (from its settings window), and then ready to send.
    GroupAvatarPicked(u64, Option<std::path::PathBuf>),
    GroupAvatarReady(u64, Result<Vec<u8>, String>),
    LocalPage(Conv, Result<Vec<net::Message>, String>),
    /// The messages around the one (server id) a chat jumps to ([`ququ_client::Store::messages_around`]).
    Window(Conv, u64, Result<Vec<net::Message>, String>),
    /// The page after the last line of a chat that jumped back.
    NewerPage(Conv, Result<Vec<net::Message>, String>),
    /// Files to send to a conversation: what the Send file dialog returns (also what a drop gives).
    FilesChosen(Conv, Vec<PathBuf>),
    /// One chosen file, checked on disk (exists, is a file, its size).
    FileChecked(window::Id, Conv, Result<crate::files::Chosen, String>),
    /// The Save as dialog's answer for a received file (`None`: the dialog was cancelled).
    SaveTo(u64, Option<PathBuf>),
    /// The transfers in the local store, read at login so bubbles show what happened before a restart.
    TransfersLoaded(Result<Vec<net::Transfer>, String>),
    /// The friends, groups and requests this device kept, read at an automatic login's start to open
    /// the friend list before the server answers.
    Kept(Result<net::Kept, String>),
    /// A message deleted from this device ("Delete for me"), or why it could not be.
    Deleted(Conv, Result<(), String>),
    /// The conversations in the local store, read at login: the Recent list after a restart.
    RecentLoaded(Result<Vec<ququ_client::Conversation>, String>),
    Thumbnail(PathBuf, Result<image::RgbaImage, String>),
    /// The picture folder is there (or could not be made) for these pictures, offered to me and small
    /// enough to download by themselves.
    PicturesFolder(Vec<u64>, Result<PathBuf, String>),
    /// Ctrl+V in a chat: the picture on the clipboard (`None`: it holds none, or text), or why it could
    /// not be read.
    Pasted(window::Id, Conv, Result<Option<image::RgbaImage>, String>),
    /// A pasted picture was written as a PNG file, to send like a picked one.
    ScreenshotSaved(window::Id, Conv, Result<PathBuf, String>),
    /// Save as… without a file dialog saved into this folder instead: say so in that chat window.
    SavedToDownloads(window::Id, PathBuf),
    /// Opening a file or its folder with the OS finished (it failed if `Err`).
    Launched(window::Id, Result<(), String>),
    /// Files dragged over a window, dropped on it or taken away.
    Drag(window::Id, window::Event),
    /// Esc was pressed in a window: a chat or About window closes (as QQ's do), a chat's path prompt
    /// is cancelled first; the login and main windows stay.
    Escape(window::Id),
    /// The user asked to close a window (its close button, Alt+F4).
    CloseRequested(window::Id),
    /// Closing the contact list quits; this many others use the hosted server (ask first if any).
    QuitChecked(window::Id, usize),
    /// A window came to the front (`true`) or left it.
    Focus(window::Id, bool),
    /// The desktop's notification service, or why there is none.
    Desktop(Result<notify::Desktop, notify::Problem>),
    /// A notification for a chat was shown (with the desktop's id for it) or could not be.
    Notified(notify::Topic, Result<u32, notify::Problem>),
    /// The user clicked the notification with this id.
    NotificationClicked(u32),
    /// The tray icon is up (or cannot be), or the user clicked it or its menu.
    Tray(tray::Event),
    /// The tray icon showed what it was given (`false`: its service is gone).
    TrayShown(bool),
    /// Where a saved login would be kept on this computer.
    VaultProbed(Place),
    /// The saved login for the last account, read at start (`None`: there is none).
    SavedLogin(Result<Option<(ququ_client::SessionToken, Place)>, String>),
    /// A session's token was kept (and where) or forgotten (`None`), or could not be.
    TokenSaved(Result<Option<Place>, String>),
    /// The OS's autostart entry was written or removed, or could not be.
    AutostartSet(Result<(), String>),
}

#[derive(Debug)]
pub struct App {
    pub windows: BTreeMap<window::Id, Window>,
    pub dirs: Dirs,
    pub settings: Settings,
    pub system_dark: bool,
    /// The current connection's key; `None` while logged out (the subscription then ends).
    pub login: Option<net::Login>,
    pub client: Option<net::Client>,
    pub conn: Connection,
    /// `Some` from the first successful login until logout.
    pub model: Option<Model>,
    /// Thumbnails of pictures in chats, keyed by this device's copy; made off the UI thread once each.
    pub thumbs: HashMap<PathBuf, iced::widget::image::Handle>,
    /// The avatar picked on this computer, shown until the server says which is mine (and, ready to
    /// draw, `avatar_handle`: set together by `set_local_avatar`).
    pub avatar: Option<image::RgbaImage>,
    avatar_handle: Option<iced::widget::image::Handle>,
    /// The model's avatar pictures ready to draw, by digest, made once each (`sync_avatar_handles`).
    avatar_handles: HashMap<String, iced::widget::image::Handle>,
    /// My new avatar went to the server and it has not answered yet: a refusal is said in Settings.
    pub avatar_sent: bool,
    /// The server has said, since this login, which avatar is mine (none included): what the picture
    /// kept on this computer is then for ([`App::settle_local_avatar`]).
    my_avatar_told: bool,
    pub hosting: Option<Hosted>,
    pub now: Instant,
    /// Where Download puts files; `None` is the OS's Downloads folder (looked up off the UI thread).
    pub downloads: Option<PathBuf>,
    /// The system can show native file dialogs ([`crate::files::native_dialogs`]); else paths are typed.
    pub file_dialogs: bool,
    /// The window in front, if it is one of ours: a message for a chat in front is seen, not notified.
    pub focused: Option<window::Id>,
    /// Where notifications go; `None` until connected, or when the desktop has no notification service.
    pub desktop: Option<notify::Desktop>,
    /// Why notifications cannot be shown, for the settings dialog.
    pub notify_problem: Option<notify::Problem>,
    /// The desktop's id of each chat's notification, so the chat's next message replaces it.
    notified: notify::Shown,
    /// The tray icon; `None` until it is up, or when the desktop shows none (then closing the friend
    /// list quits instead of hiding it).
    pub tray: Option<tray::Handle>,
    /// Why there is no tray icon, for the settings.
    pub tray_problem: Option<tray::Problem>,
    /// What the icon was last given, so it is told only of changes.
    tray_shown: Option<tray::Shown>,
    /// Thumbnails being made, so each is made once.
    thumbs_pending: HashSet<PathBuf>,
    /// Pictures asked for by themselves this login (by file id), so each is asked for once.
    auto_asked: HashSet<u64>,
    /// The transfers kept on this device have been read since login: until then a picture fetched in
    /// an earlier run looks new, and is not downloaded by itself again.
    transfers_loaded: bool,
    /// The system clipboard for pictures, kept open while the app runs ([`clipboard::Keeper`]).
    pub clipboard: clipboard::Keeper,
    attempts: u64,
    /// Where saved logins are kept: the OS store or a file (tests use the file alone).
    pub vault: Vault,
    /// Where the saved login is or would be kept, once known, for the words saying so.
    pub token_place: Option<Place>,
    /// The current session's token, to save if "log in automatically" is ticked later.
    token: Option<ququ_client::SessionToken>,
    /// `token` is the one in the vault.
    token_saved: bool,
}

impl App {
    /// Boots with the login window and asks, off the UI thread, for the saved settings and the OS theme.
    pub fn boot() -> (App, Task<Message>) {
        let dirs = Dirs::locate().unwrap_or_else(|_| Dirs::temporary());
        let mut app = App::new(dirs.clone());
        let open = app.open_login();
        let load = Task::perform(config::load(dirs.settings_file()), Message::SettingsLoaded);
        let theme = iced::system::theme().map(Message::SystemTheme);
        let desktop = Task::perform(
            notify::Desktop::connect(app.dirs.data.clone()),
            Message::Desktop,
        );
        (app, Task::batch([open, load, theme, desktop]))
    }

    /// An app with no windows yet (tests build one and open windows themselves).
    pub fn new(dirs: Dirs) -> App {
        App {
            vault: Vault::new(&dirs.config),
            token_place: None,
            token: None,
            token_saved: false,
            windows: BTreeMap::new(),
            dirs,
            settings: Settings::default(),
            system_dark: false,
            login: None,
            client: None,
            conn: Connection::Offline,
            model: None,
            thumbs: HashMap::new(),
            avatar: None,
            avatar_handle: None,
            avatar_handles: HashMap::new(),
            avatar_sent: false,
            my_avatar_told: false,
            hosting: None,
            now: Instant::now(),
            downloads: None,
            file_dialogs: crate::files::native_dialogs(),
            focused: None,
            desktop: None,
            notify_problem: None,
            notified: notify::Shown::default(),
            tray: None,
            tray_problem: None,
            tray_shown: None,
            thumbs_pending: HashSet::new(),
            auto_asked: HashSet::new(),
            transfers_loaded: false,
            clipboard: clipboard::Keeper::default(),
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
            model: self.model.as_ref(),
            settings: &self.settings,
            thumbs: &self.thumbs,
            // The server's, once it has said; before that (or from an older server) the one picked on
            // this computer.
            my_avatar: match &self.model {
                Some(model) if model.my_avatar_known() => model
                    .avatars
                    .get(&Conv::User(model.account.clone()))
                    .and_then(|sha| self.avatar_handles.get(sha)),
                _ => self.avatar_handle.as_ref(),
            },
            avatars: &self.avatar_handles,
            notify_problem: self.notify_problem.as_ref(),
            tray_problem: self.tray_problem.as_ref(),
            hosting: None,
            token_place: self.token_place.as_ref(),
        }
    }

    pub fn title(&self, id: window::Id) -> String {
        let tr = self.tr();
        let unread = self.model.as_ref().map_or(0, Model::total_unread);
        let prefix = if unread > 0 {
            format!("({unread}) ")
        } else {
            String::new()
        };
        match self.windows.get(&id) {
            Some(Window::Login(_)) | None => tr.app_name.to_owned(),
            Some(Window::Contacts(_)) => {
                let me = self
                    .model
                    .as_ref()
                    .map(|s| s.my_name().to_owned())
                    .unwrap_or_default();
                format!("{prefix}{} - {me}", tr.app_name)
            }
            Some(Window::Chat(chat)) => {
                let name = self
                    .model
                    .as_ref()
                    .map(|s| s.conv_name(&chat.conv))
                    .unwrap_or_default();
                format!("{prefix}{name} - {}", tr.app_name)
            }
            Some(Window::About(_)) => tr.about.to_owned(),
            Some(Window::Viewer(state)) => state.name.clone(),
            Some(Window::History(state)) => match (&state.home, &self.model) {
                (Some(conv), Some(model)) => format!("{} - {}", tr.history, model.conv_name(conv)),
                _ => format!("{} - {}", tr.history, tr.app_name),
            },
            Some(Window::Group(state)) => match &self.model {
                Some(model) => format!(
                    "{} - {}",
                    tr.group_settings,
                    model.conv_name(&Conv::Group(state.group))
                ),
                None => tr.group_settings.to_owned(),
            },
        }
    }

    pub fn theme(&self, _id: window::Id) -> Option<Theme> {
        Some(theme::resolve(self.settings.theme, self.system_dark))
    }

    pub fn subscription(&self) -> Subscription<Message> {
        let mut subscriptions = vec![
            net::subscription(self.login.as_ref()).map(Message::Net),
            window::close_events().map(Message::WindowClosed),
            window::close_requests().map(Message::CloseRequested),
            iced::system::theme_changes().map(Message::SystemTheme),
            Subscription::run(tray::events).map(Message::Tray),
            iced::event::listen_with(|event, status, id| match event {
                iced::Event::Window(
                    e @ (window::Event::FileHovered(_)
                    | window::Event::FileDropped(_)
                    | window::Event::FilesHoveredLeft),
                ) => Some(Message::Drag(id, e)),
                iced::Event::Keyboard(iced::keyboard::Event::KeyPressed {
                    key: iced::keyboard::Key::Named(iced::keyboard::key::Named::Escape),
                    ..
                }) => Some(Message::Escape(id)),
                // Ctrl+F, whether or not a field has the cursor (a chat's input always has it).
                iced::Event::Keyboard(iced::keyboard::Event::KeyPressed {
                    key: iced::keyboard::Key::Character(c),
                    modifiers,
                    ..
                }) if modifiers.command() && c.as_str().eq_ignore_ascii_case("f") => {
                    Some(Message::Find(id))
                }
                // The picture viewer's keys and Ctrl+wheel; other windows ignore these. A key a
                // text field took (a `+` typed in a chat) is not one.
                iced::Event::Keyboard(iced::keyboard::Event::KeyPressed {
                    key: iced::keyboard::Key::Character(c),
                    ..
                }) if status == iced::event::Status::Ignored => match c.as_str() {
                    "+" | "=" => Some(Message::Viewer(id, viewer::Message::ZoomIn)),
                    "-" => Some(Message::Viewer(id, viewer::Message::ZoomOut)),
                    _ => None,
                },
                iced::Event::Keyboard(iced::keyboard::Event::ModifiersChanged(modifiers)) => Some(
                    Message::Viewer(id, viewer::Message::Ctrl(modifiers.command())),
                ),
                iced::Event::Window(window::Event::Resized(size)) => {
                    Some(Message::Viewer(id, viewer::Message::Resized(size)))
                }
                iced::Event::Window(window::Event::Focused) => Some(Message::Focus(id, true)),
                iced::Event::Window(window::Event::Unfocused) => Some(Message::Focus(id, false)),
                _ => None,
            }),
        ];
        if let Some(desktop) = &self.desktop {
            subscriptions.push(desktop.clicks().map(Message::NotificationClicked));
        }
        // The countdown only needs a clock while it is counting, and "typing…" while it shows (so it
        // goes when they stop).
        let typing = self.model.as_ref().is_some_and(|m| {
            let now = crate::model::now_millis();
            m.typing.values().any(|until| *until > now)
        });
        if matches!(self.conn, Connection::Reconnecting { .. }) || typing {
            subscriptions.push(iced::time::every(Duration::from_millis(500)).map(Message::Tick));
        }
        Subscription::batch(subscriptions)
    }

    pub fn view(&self, id: window::Id) -> Element<'_, Message> {
        let mut ctx = self.ctx();
        ctx.hosting = self.hosting_label();
        match self.windows.get(&id) {
            Some(Window::Login(state)) => state.view(&ctx).map(move |m| Message::Login(id, m)),
            Some(Window::Contacts(state)) => {
                state.view(&ctx).map(move |m| Message::Contacts(id, m))
            }
            Some(Window::Chat(state)) => state.view(&ctx).map(move |m| Message::Chat(id, m)),
            Some(Window::About(state)) => state.view(&ctx).map(move |m| Message::About(id, m)),
            Some(Window::Viewer(state)) => state.view(&ctx).map(move |m| Message::Viewer(id, m)),
            Some(Window::History(state)) => state.view(&ctx).map(move |m| Message::History(id, m)),
            Some(Window::Group(state)) => state.view(&ctx).map(move |m| Message::Group(id, m)),
            None => iced::widget::space().into(),
        }
    }

    fn hosting_label(&self) -> Option<&str> {
        self.hosting.as_ref().map(|h| h.label.as_str())
    }

    /// Routes `message`, then tells the tray icon if what it shows changed (the unread count, being
    /// online…): derived from the app after every message rather than pushed from each place that
    /// changes one of them.
    pub fn update(&mut self, message: Message) -> Task<Message> {
        let task = self.route(message);
        match self.sync_tray() {
            Some(sync) => Task::batch([task, sync]),
            None => task,
        }
    }

    fn route(&mut self, message: Message) -> Task<Message> {
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
            Message::Contacts(id, message) => {
                let (event, focus) = match self.windows.get_mut(&id) {
                    Some(Window::Contacts(state)) => {
                        let field = |state: &contacts::State| {
                            state.dialog.as_ref().and_then(Dialog::first_field)
                        };
                        let before = field(state);
                        let event = state.update(message);
                        // A dialog that has just opened gets the cursor in its first field (none did:
                        // typing went nowhere until the field was clicked, seen under Xvfb).
                        let focus = field(state).filter(|now| before != Some(*now));
                        (event, focus)
                    }
                    _ => (None, None),
                };
                let focus = focus.map_or_else(Task::none, iced::widget::operation::focus);
                match event {
                    Some(event) => Task::batch([focus, self.on_contacts_event(event)]),
                    None => focus,
                }
            }
            Message::Chat(id, message) => {
                let env = chat::Env {
                    max_text: self.model.as_ref().map_or(8000, |m| m.max_text),
                    file_dialogs: self.file_dialogs,
                    recent_emoji: !self.settings.recent_emoji.is_empty(),
                };
                let (task, event) = match self.windows.get_mut(&id) {
                    Some(Window::Chat(state)) => state.update(message, env),
                    _ => (Task::none(), None),
                };
                let task = task.map(move |m| Message::Chat(id, m));
                match event {
                    Some(event) => Task::batch([task, self.on_chat_event(id, event)]),
                    None => task,
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
            Message::Viewer(id, message) => {
                let event = match self.windows.get_mut(&id) {
                    Some(Window::Viewer(state)) => state.update(message),
                    _ => None,
                };
                match event {
                    Some(event) => self.on_viewer_event(id, event),
                    None => Task::none(),
                }
            }
            Message::History(id, message) => {
                let event = match self.windows.get_mut(&id) {
                    Some(Window::History(state)) => state.update(message),
                    _ => None,
                };
                match event {
                    Some(event) => self.on_history_event(id, event),
                    None => Task::none(),
                }
            }
            Message::Group(id, message) => {
                let event = match (self.windows.get_mut(&id), &self.model) {
                    (Some(Window::Group(state)), Some(model)) => state.update(message, model),
                    _ => None,
                };
                match event {
                    Some(event) => self.on_group_event(id, event),
                    None => Task::none(),
                }
            }
            Message::Find(id) => match self.windows.get(&id) {
                Some(Window::Chat(chat)) => self.open_history(Some(chat.conv.clone())),
                Some(Window::Contacts(_)) => self.open_history(None),
                _ => Task::none(),
            },
            Message::Net(event) => self.on_net(event),
            Message::WindowClosed(id) => self.on_closed(id),
            Message::CloseRequested(id) => self.on_close_requested(id),
            Message::QuitChecked(_, 0) => self.shutdown(),
            Message::QuitChecked(id, others) => {
                let ask = self.update(Message::Contacts(
                    id,
                    contacts::Message::Show(Dialog::quit(others)),
                ));
                Task::batch([self.show_window(id), ask])
            }
            // Each window decides what Esc means to it.
            Message::Escape(id) => match self.windows.get(&id) {
                Some(Window::Chat(_)) => self.update(Message::Chat(id, chat::Message::Escape)),
                Some(Window::About(_)) => self.update(Message::About(id, about::Message::Close)),
                Some(Window::Viewer(_)) => self.update(Message::Viewer(id, viewer::Message::Close)),
                Some(Window::History(_)) => {
                    self.update(Message::History(id, history::Message::Close))
                }
                Some(Window::Group(_)) => self.update(Message::Group(id, group::Message::Close)),
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
                        state.remember = self.settings.auto_login;
                    }
                }
                // The saved login after the hosted server is up again, so that it finds the server.
                Task::batch([
                    self.focus_login(),
                    self.host_again().chain(self.auto_login()),
                ])
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
            Message::Hosted(result) => self.on_hosted(result),
            Message::Rehosted(result) => self.on_rehosted(result),

            Message::AvatarLoaded(avatar) => {
                self.set_local_avatar(avatar);
                self.settle_local_avatar()
            }
            Message::AvatarPicked(None) => Task::none(),
            Message::AvatarPicked(Some(path)) => {
                Task::perform(avatar::import(path, self.avatar_dir()), |r| {
                    Message::AvatarImported(r.map_err(|e| e.to_string()))
                })
            }
            Message::AvatarImported(Ok(image)) => {
                self.settings_notice(None);
                // Friends see it once the server has it (a server without avatars keeps it here only).
                if let Some(model) = &self.model
                    && model.features.avatar
                {
                    match avatar::encode_for_upload(&image, model.max_avatar) {
                        Ok(bytes) => {
                            self.avatar_sent = true;
                            self.send(Command::SetAvatar { image: bytes });
                        }
                        Err(e) => {
                            let notice = format!("{} ({e})", self.tr().image_failed);
                            self.settings_notice(Some(notice));
                        }
                    }
                }
                self.set_local_avatar(Some(image));
                Task::none()
            }
            Message::AvatarsKept(kept) => {
                if let Some(model) = &mut self.model {
                    for (of, sha256, bytes) in kept {
                        // What the server has said since the login wins over what was kept.
                        if model.avatars.contains_key(&of) {
                            continue;
                        }
                        model.apply(ququ_client::Event::Avatar {
                            of,
                            sha256: Some(sha256.clone()),
                        });
                        model.apply(ququ_client::Event::AvatarImage { sha256, bytes });
                    }
                }
                self.sync_avatar_handles();
                Task::none()
            }
            Message::GroupAvatarPicked(_, None) => Task::none(),
            Message::GroupAvatarPicked(group, Some(path)) => {
                let max = self.model.as_ref().map_or(32768, |m| m.max_avatar);
                Task::perform(avatar::prepare(path, max), move |r| {
                    Message::GroupAvatarReady(group, r.map_err(|e| e.to_string()))
                })
            }
            Message::GroupAvatarReady(group, ready) => {
                let tr = self.tr();
                let mut command = None;
                for window in self.windows.values_mut() {
                    if let Window::Group(state) = window
                        && state.group == group
                    {
                        match &ready {
                            Ok(bytes) => {
                                command = Some(state.avatar_sent(bytes.clone()));
                            }
                            Err(e) => state.avatar_failed(format!("{} ({e})", tr.image_failed)),
                        }
                    }
                }
                if let Some(command) = command {
                    self.send(command);
                }
                Task::none()
            }
            // The old avatar stays; the settings dialog says why the new one did not take.
            Message::AvatarImported(Err(e)) => {
                let notice = format!("{} ({e})", self.tr().image_failed);
                self.settings_notice(Some(notice));
                Task::none()
            }
            Message::LocalPage(conv, page) => {
                let online = self.conn == Connection::Online;
                let Some(model) = &mut self.model else {
                    return Task::none();
                };
                if let Some(before) = model.local_page(&conv, page.unwrap_or_default(), online) {
                    self.send(Command::LoadHistory {
                        conv: conv.clone(),
                        before,
                    });
                }
                Task::batch([
                    self.make_thumbnails(&conv),
                    self.continue_jump(&conv),
                    self.auto_download(Some(&conv)),
                ])
            }
            Message::Window(conv, target, page) => self.on_window(conv, target, page),
            Message::NewerPage(conv, page) => self.on_newer_page(conv, page),
            Message::FilesChosen(conv, paths) => self.check_files(conv, paths),
            Message::FileChecked(id, conv, checked) => self.on_file_checked(id, conv, checked),
            Message::SaveTo(_, None) => Task::none(),
            Message::SaveTo(file_id, Some(dest)) => {
                self.send(Command::DownloadFile {
                    file_id,
                    dest: Some(dest),
                });
                Task::none()
            }
            Message::TransfersLoaded(loaded) => self.on_transfers_loaded(loaded),
            Message::Kept(kept) => self.on_kept(kept),
            Message::Deleted(_, Ok(())) => Task::none(),
            Message::Deleted(conv, Err(e)) => {
                // Gone from the window but not from the disk: say so where it was asked.
                let words = format!("{}: {e}", self.lang().tr().delete_for_me);
                if let Some(Window::Chat(state)) = self
                    .chat_window(&conv)
                    .and_then(|id| self.windows.get_mut(&id))
                {
                    state.notice = Some(words);
                }
                Task::none()
            }
            Message::RecentLoaded(stored) => {
                // A local database that cannot be read stops the client too, which says so in words in
                // the login window; until then the list fills as messages come.
                if let Some(model) = &mut self.model {
                    model.restore_recent(stored.unwrap_or_default());
                }
                self.auto_download(None)
            }
            Message::PicturesFolder(file_ids, made) => self.on_pictures_folder(file_ids, made),
            Message::Pasted(id, conv, pasted) => self.on_pasted(id, conv, pasted),
            Message::ScreenshotSaved(_, conv, Ok(path)) => self.check_files(conv, vec![path]),
            Message::ScreenshotSaved(id, _, Err(e)) => {
                let text = format!("{} ({e})", self.tr().clipboard_failed);
                self.update(Message::Chat(id, chat::Message::Notice(text)))
            }
            Message::Thumbnail(path, made) => {
                self.thumbs_pending.remove(&path);
                // A file that is not a picture after all keeps its type tile: nothing to tell the user.
                if let Ok(image) = made {
                    let (w, h) = image.dimensions();
                    let handle = iced::widget::image::Handle::from_rgba(w, h, image.into_raw());
                    self.thumbs.insert(path, handle);
                }
                Task::none()
            }
            Message::Launched(_, Ok(())) => Task::none(),
            Message::SavedToDownloads(id, dir) => {
                let text = self.lang().saved_to_downloads(&dir.display().to_string());
                self.update(Message::Chat(id, chat::Message::Notice(text)))
            }
            Message::Launched(id, Err(e)) => {
                let text = format!("{} ({e})", self.tr().cannot_open);
                self.update(Message::Chat(id, chat::Message::Notice(text)))
            }
            Message::Focus(id, true) => {
                self.focused = Some(id);
                Task::none()
            }
            Message::Focus(id, false) => {
                if self.focused == Some(id) {
                    self.focused = None;
                }
                Task::none()
            }
            Message::Desktop(Ok(desktop)) => {
                self.desktop = Some(desktop);
                Task::none()
            }
            Message::Desktop(Err(e)) => {
                self.notify_problem = Some(e);
                Task::none()
            }
            Message::Notified(topic, shown) => self.on_notified(topic, shown),
            Message::NotificationClicked(id) => self.on_notification_clicked(id),
            Message::Tray(event) => self.on_tray(event),
            Message::TrayShown(up) => {
                if !up {
                    self.tray = None;
                }
                Task::none()
            }
            Message::VaultProbed(place) => {
                // What a save said wins over the guess.
                self.token_place.get_or_insert(place);
                Task::none()
            }
            Message::SavedLogin(saved) => self.on_saved_login(saved),
            Message::TokenSaved(saved) => self.on_token_saved(saved),
            Message::AutostartSet(result) => self.on_autostart_set(result),
            Message::Drag(id, event) => {
                let message = match event {
                    window::Event::FileHovered(_) => chat::Message::DragHover(true),
                    window::Event::FilesHoveredLeft => chat::Message::DragHover(false),
                    window::Event::FileDropped(path) => chat::Message::Dropped(path),
                    _ => return Task::none(),
                };
                // Only chat windows take files; a drop on the contact list is ignored.
                if matches!(self.windows.get(&id), Some(Window::Chat(_))) {
                    self.update(Message::Chat(id, message))
                } else {
                    Task::none()
                }
            }
        }
    }

    /// What the avatar kept on this computer is for, once the server has said which is mine (and the
    /// file is read). Before avatars were the server's, a picked picture was kept here only; so one
    /// here while the server says I have none goes up, once, and friends see it at last. Once the
    /// server has mine, the copy here goes: a removal made on another device is then not undone by
    /// it at the next login, and the server's (kept by the client) is what shows.
    pub(super) fn settle_local_avatar(&mut self) -> Task<Message> {
        let Some(model) = &self.model else {
            return Task::none();
        };
        if !model.features.avatar || !self.my_avatar_told || self.avatar_sent {
            return Task::none();
        }
        if model.my_avatar_known() {
            if self.avatar.is_none() {
                return Task::none();
            }
            self.set_local_avatar(None);
            return Task::perform(avatar::remove(self.avatar_dir()), |()| Message::Done);
        }
        let Some(image) = &self.avatar else {
            return Task::none();
        };
        // A refusal (too large for this server) is said in Settings when it is open, and the picture
        // stays here, shown to me alone, as before.
        if let Ok(bytes) = avatar::encode_for_upload(image, model.max_avatar) {
            self.avatar_sent = true;
            self.send(Command::SetAvatar { image: bytes });
        }
        Task::none()
    }

    /// The avatar picked on this computer, and its drawing handle with it.
    pub(super) fn set_local_avatar(&mut self, avatar: Option<image::RgbaImage>) {
        self.avatar_handle = avatar.as_ref().map(avatar::handle);
        self.avatar = avatar;
    }

    /// Makes a drawing handle for each avatar picture the model has that has none yet, and drops those
    /// of pictures it no longer has. Kept rather than made while drawing: a handle made anew each frame
    /// is a new texture to upload each frame. Public for whoever sets the model directly (screenshots).
    pub fn sync_avatar_handles(&mut self) {
        let Some(model) = &self.model else {
            self.avatar_handles.clear();
            return;
        };
        self.avatar_handles
            .retain(|sha, _| model.pictures.contains_key(sha));
        for (sha, picture) in &model.pictures {
            if !self.avatar_handles.contains_key(sha) {
                self.avatar_handles
                    .insert(sha.clone(), avatar::handle(picture));
            }
        }
    }

    pub(super) fn send(&self, command: Command) {
        if let Some(client) = &self.client {
            client.send(command);
        }
    }

    pub(super) fn save_settings(&self) -> Task<Message> {
        Task::perform(
            config::save(self.dirs.settings_file(), self.settings.clone()),
            |r| Message::Saved(r.map_err(|e| e.to_string())),
        )
    }
}
