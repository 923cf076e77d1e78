//! Simulator tests: two Ququ apps against a real in-process server, driven through their windows.
//!
//! iced's simulator draws one view and turns clicks and keys into the app's messages; we feed those to
//! `App::update`, run the returned tasks' futures ourselves (answering window actions as the runtime
//! would), and stand in for the connection subscription by running `net::connect` for the app's current
//! login key — the same stream the real subscription runs. Run with `ICED_TEST_BACKEND=tiny-skia`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::BoxStream;
use iced::keyboard::key::Named;
use iced::{Settings, Size, window};
use iced_test::Simulator;
use iced_test::runtime::Action;
use iced_test::selector::id;
use ququ::app::{App, Message, Window};
use ququ::config::Dirs;
use ququ::credentials::{TOKEN_FILE, Vault};
use ququ::dialog::{self, Dialog};
use ququ::i18n::Lang;
use ququ::model::{Connection, FileState, Paging};
use ququ::window::{chat, contacts, login};
use ququ::{fonts, net};
use ququ_protocol::{Conv, Presence};

/// How long a step may take before the test fails. Only a failure waits this long; 15 s ran out once
/// for hosting a server and registering (argon2) while two other builds shared the machine's 2 cores.
const WAIT: Duration = Duration::from_secs(30);

fn settings() -> Settings {
    Settings {
        fonts: fonts::ALL.into_iter().map(Into::into).collect(),
        default_font: fonts::QUQU_SANS,
        ..Settings::default()
    }
}

/// A file bubble as a chat window draws it: where the file stands is worked out from the transfers.
#[derive(Debug)]
struct FileShown {
    name: String,
    size: u64,
    state: FileState,
    local: Option<PathBuf>,
}

/// The file bubbles of `conv`, oldest first.
fn files_in(app: &App, conv: &Conv) -> Vec<FileShown> {
    let Some(model) = &app.model else {
        return Vec::new();
    };
    model
        .conversations
        .get(conv)
        .into_iter()
        .flat_map(|c| c.lines.iter())
        .filter_map(|l| model.file(l))
        .map(|f| FileShown {
            name: f.item.name.clone(),
            size: f.item.size,
            state: f.state,
            local: f.local.map(PathBuf::from),
        })
        .collect()
}

/// One app, with the pieces of the iced runtime a test needs.
struct Client {
    app: App,
    login: Option<net::Login>,
    events: Option<BoxStream<'static, net::Event>>,
    /// The app asked the runtime to exit.
    exited: bool,
    /// What the app last put on the clipboard.
    clipboard: Option<String>,
    home: tempfile::TempDir,
}

impl Client {
    fn new(rt: &tokio::runtime::Runtime, server: &str) -> Client {
        Client::with_home(rt, server, tempfile::tempdir().expect("temp dir"))
    }

    /// An app over an existing home (its settings and local history), as after a restart, with the
    /// account field empty for `log_in` to type into.
    fn with_home(rt: &tokio::runtime::Runtime, server: &str, home: tempfile::TempDir) -> Client {
        Client::start(rt, server, home, false)
    }

    /// Ends this app as quitting would, and starts it again over the same home, remembering all it
    /// remembered (the last account too).
    fn restart(mut self, rt: &tokio::runtime::Runtime, server: &str) -> Client {
        drop(self.events.take());
        let home = self.home;
        drop(self.app);
        Client::start(rt, server, home, true)
    }

    fn start(
        rt: &tokio::runtime::Runtime,
        server: &str,
        home: tempfile::TempDir,
        keep_account: bool,
    ) -> Client {
        let dirs = Dirs {
            config: home.path().to_path_buf(),
            data: home.path().to_path_buf(),
        };
        let mut app = App::new(dirs.clone());
        app.settings.server = server.to_owned();
        app.settings.lang = Some(Lang::En);
        // Saved logins in the home's file, never in the keyring of whoever runs the tests.
        app.vault = Vault::file_only(&dirs.config);
        // What the app remembered, as `App::boot` reads it: in English, at this test's server.
        let mut remembered = rt.block_on(ququ::config::load(dirs.settings_file()));
        remembered.server = server.to_owned();
        remembered.lang = Some(Lang::En);
        if !keep_account {
            remembered.last_account.clear();
        }
        let mut client = Client {
            app,
            login: None,
            events: None,
            exited: false,
            clipboard: None,
            home,
        };
        let open = client.app.open_login();
        client.run(rt, open);
        client.update(rt, Message::SettingsLoaded(remembered));
        client
    }

    fn window(&self, pick: impl Fn(&Window) -> bool) -> Option<window::Id> {
        self.app
            .windows
            .iter()
            .find(|(_, w)| pick(w))
            .map(|(id, _)| *id)
    }

    fn login_window(&self) -> window::Id {
        self.window(|w| matches!(w, Window::Login(_)))
            .expect("a login window")
    }

    fn contacts_window(&self) -> window::Id {
        self.window(|w| matches!(w, Window::Contacts(_)))
            .expect("a main window")
    }

    fn chat_window(&self, conv: &Conv) -> Option<window::Id> {
        self.window(|w| matches!(w, Window::Chat(c) if &c.conv == conv))
    }

    /// Interacts with one window through the simulator, then applies what the interaction produced.
    fn interact(
        &mut self,
        rt: &tokio::runtime::Runtime,
        window: window::Id,
        f: impl FnOnce(&mut Simulator<'_, Message>),
    ) {
        let messages: Vec<Message> = {
            let mut ui =
                Simulator::with_size(settings(), Size::new(400.0, 700.0), self.app.view(window));
            f(&mut ui);
            ui.into_messages().collect()
        };
        for message in messages {
            self.update(rt, message);
        }
    }

    /// Opens a dialog over the contact list, as its button or a right-click would.
    fn show_dialog(&mut self, rt: &tokio::runtime::Runtime, window: window::Id, dialog: Dialog) {
        self.update(
            rt,
            Message::Contacts(window, contacts::Message::Show(dialog)),
        );
    }

    /// True if the window shows `text` right now.
    fn shows(&self, window: window::Id, text: &str) -> bool {
        let mut ui =
            Simulator::with_size(settings(), Size::new(400.0, 700.0), self.app.view(window));
        ui.find(text).is_ok()
    }

    /// True if some text in the window contains `part` (a list row's subtitle puts a time before it).
    fn shows_part(&self, window: window::Id, part: &str) -> bool {
        let mut ui =
            Simulator::with_size(settings(), Size::new(400.0, 700.0), self.app.view(window));
        ui.find(
            |candidate: iced_test::selector::Candidate<'_>| match candidate {
                iced_test::selector::Candidate::Text { content, .. } if content.contains(part) => {
                    Some(())
                }
                _ => None,
            },
        )
        .is_ok()
    }

    fn update(&mut self, rt: &tokio::runtime::Runtime, message: Message) {
        // iced calls `update` inside its executor's runtime, so a future made there may need one.
        let task = {
            let _guard = rt.enter();
            self.app.update(message)
        };
        self.run(rt, task);
        // The subscription follows the login key, as iced's would.
        if self.app.login != self.login {
            self.login = self.app.login.clone();
            self.events = self.login.as_ref().map(|l| {
                let _guard = rt.enter();
                net::connect(l).boxed()
            });
        }
    }

    /// Runs a task to completion: outputs go back into `update`; window opens and closes are answered
    /// as the runtime would; other actions (focus, scrolling) have nothing to do without a real window.
    fn run(&mut self, rt: &tokio::runtime::Runtime, task: iced::Task<Message>) {
        let Some(mut stream) = iced_test::runtime::task::into_stream(task) else {
            return;
        };
        let mut outputs = Vec::new();
        rt.block_on(async {
            while let Ok(Some(action)) =
                tokio::time::timeout(Duration::from_secs(5), stream.next()).await
            {
                match action {
                    Action::Output(message) => outputs.push(message),
                    Action::Window(iced_test::runtime::window::Action::Open(id, _, sender)) => {
                        let _ = sender.send(id);
                    }
                    Action::Window(iced_test::runtime::window::Action::Close(id)) => {
                        outputs.push(Message::WindowClosed(id))
                    }
                    Action::Exit => self.exited = true,
                    Action::Clipboard(iced_test::runtime::clipboard::Action::Write {
                        contents,
                        ..
                    }) => self.clipboard = Some(contents),
                    _ => {}
                }
            }
        });
        for message in outputs {
            self.update(rt, message);
        }
    }

    /// Applies connection events until `done` holds.
    fn pump_until(
        &mut self,
        rt: &tokio::runtime::Runtime,
        what: &str,
        done: impl Fn(&App) -> bool,
    ) {
        let deadline = Instant::now() + WAIT;
        while !done(&self.app) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            let next = match self.events.as_mut() {
                Some(events) => rt.block_on(async {
                    tokio::time::timeout(Duration::from_millis(100), events.next()).await
                }),
                None => {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            if let Ok(Some(event)) = next {
                self.update(rt, Message::Net(event));
            }
        }
    }

    /// Applies whatever events are waiting, without blocking for long.
    fn drain(&mut self, rt: &tokio::runtime::Runtime) {
        while let Some(events) = self.events.as_mut() {
            match rt.block_on(async {
                tokio::time::timeout(Duration::from_millis(150), events.next()).await
            }) {
                Ok(Some(event)) => self.update(rt, Message::Net(event)),
                _ => break,
            }
        }
    }

    /// Fills the login form through the window and submits it with Enter.
    fn log_in(
        &mut self,
        rt: &tokio::runtime::Runtime,
        account: &str,
        password: &str,
        register: bool,
    ) {
        let window = self.login_window();
        if register {
            self.interact(rt, window, |ui| {
                ui.click("Create an account").expect("register link");
            });
        }
        self.interact(rt, window, |ui| {
            ui.click(id(login::ACCOUNT_INPUT)).expect("account field");
            let _ = ui.typewrite(account);
            ui.click(id(login::PASSWORD_INPUT)).expect("password field");
            let _ = ui.typewrite(password);
            let _ = ui.tap_key(Named::Enter);
        });
        self.pump_until(rt, "login", |app| {
            app.model.is_some() && app.contacts_window().is_some()
        });
    }
}

/// The runtime each test drives its apps and server on.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// `from` asks `account` (whose app is `to`) to be friends, through the handle (the UI path is tested in
/// `two_apps_befriend_and_chat`), and `to` has the request.
fn ask(rt: &tokio::runtime::Runtime, from: &Client, to: &mut Client, account: &str) {
    let handle = from.app.client.as_ref().expect("handle");
    handle.send(net::Command::AddFriend {
        account: account.into(),
        note: String::new(),
    });
    to.pump_until(rt, "the request", |app| {
        app.model.as_ref().is_some_and(|s| !s.requests.is_empty())
    });
}

/// An app that finds nothing listening at `addr` (on this computer), registers `account`, and hosts the
/// server there when it offers to, as a first user of a group does.
fn register_and_host(
    rt: &tokio::runtime::Runtime,
    addr: &str,
    account: &str,
    password: &str,
) -> Client {
    let mut first = Client::new(rt, addr);
    let login = first.login_window();
    first.interact(rt, login, |ui| {
        ui.click("Create an account").expect("register link");
    });
    first.interact(rt, login, |ui| {
        ui.click(id(login::ACCOUNT_INPUT)).expect("account field");
        let _ = ui.typewrite(account);
        ui.click(id(login::PASSWORD_INPUT)).expect("password field");
        let _ = ui.typewrite(password);
        let _ = ui.tap_key(Named::Enter);
    });
    // Nothing listens: the app offers to host a server, and the user accepts once.
    first.pump_until(rt, "the offer to host", |app| {
        app.windows
            .values()
            .any(|w| matches!(w, Window::Login(s) if s.offer_host))
    });
    first.interact(rt, login, |ui| {
        ui.click("Host a server here").expect("the offer");
    });
    first.pump_until(rt, "logged in to the hosted server", |app| {
        app.model.is_some() && app.contacts_window().is_some()
    });
    first
}

/// Alice registers with "Log in automatically" ticked, and her session's token is kept.
fn remembered_alice(rt: &tokio::runtime::Runtime, server: &str) -> Client {
    let mut alice = Client::new(rt, server);
    let login = alice.login_window();
    alice.interact(rt, login, |ui| {
        ui.click("Log in automatically").expect("the box");
    });
    alice.log_in(rt, "alice", "secret123", true);
    alice.pump_until(rt, "the login kept", |app| app.token_place.is_some());
    alice
}

/// How many saturated yellow-to-orange pixels `window` shows in the light theme: emoji drawn in colour
/// (nothing else in a light chat window, blue and grey, is that colour).
fn warm_pixels(app: &App, window: window::Id) -> usize {
    let mut ui = Simulator::with_size(settings(), Size::new(400.0, 700.0), app.view(window));
    let dir = tempfile::tempdir().expect("temp dir");
    ui.snapshot(&iced::Theme::Light)
        .expect("snapshot")
        .matches_image(dir.path().join("shot.png"))
        .expect("written");
    let file = std::fs::read_dir(dir.path())
        .expect("the shot")
        .next()
        .expect("a file")
        .expect("entry")
        .path();
    let shot = image::open(file).expect("a png").to_rgba8();
    shot.pixels()
        .filter(|p| p[0] > 200 && p[1] > 120 && p[2] < 100)
        .count()
}

/// A message from `from` in `conv` as the client reports it, with id `n` (server id and local id) and
/// client id `c<n>`.
fn received(
    n: i64,
    conv: Conv,
    from: impl Into<String>,
    text: impl Into<String>,
) -> net::ClientEvent {
    net::ClientEvent::Message(net::Message {
        local_id: n,
        conv,
        server_id: Some(n as u64),
        client_id: format!("c{n}"),
        from: from.into(),
        time: 0,
        text: text.into(),
        file: None,
        state: ququ_client::MessageState::Received,
        error: None,
        quote: None,
        mentions: Default::default(),
        recalled_by: None,
        recall_of: None,
        group_event: None,
    })
}

/// Alice and Bob, registered on `server` and friends.
/// Friends alice and bob, and a long chat: bob sends alice `count` messages in a row, the first
/// "周末去北京吃烤鸭吗", then "第 2 条消息" … ; then alice's app restarts and logs in again, so her chat
/// will show its newest page only (the history window's tests).
fn long_chat_then_restart(
    rt: &tokio::runtime::Runtime,
    server: &str,
    count: usize,
) -> (Client, Client) {
    let (mut alice, bob) = friends(rt, server);
    let to_alice = Conv::User("alice".into());
    let to_bob = Conv::User("bob".into());
    let handle = bob.app.client.clone().expect("bob's handle");
    handle.send(net::Command::SendText {
        conv: to_alice.clone(),
        text: "周末去北京吃烤鸭吗".into(),
    });
    for n in 2..=count {
        handle.send(net::Command::SendText {
            conv: to_alice.clone(),
            text: format!("第 {n} 条消息"),
        });
    }
    let last = format!("第 {count} 条消息");
    alice.pump_until(rt, "bob's messages", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.conversations.get(&to_bob))
            .is_some_and(|c| c.lines.iter().any(|l| l.text == last))
    });
    let Client {
        app, events, home, ..
    } = alice;
    drop(events);
    drop(app);
    let mut alice = Client::with_home(rt, server, home);
    alice.log_in(rt, "alice", "secret123", false);
    (alice, bob)
}

fn friends(rt: &tokio::runtime::Runtime, server: &str) -> (Client, Client) {
    let mut alice = Client::new(rt, server);
    alice.log_in(rt, "alice", "secret123", true);
    let mut bob = Client::new(rt, server);
    bob.log_in(rt, "bob", "secret456", true);
    ask(rt, &bob, &mut alice, "alice");
    let handle = alice.app.client.as_ref().expect("handle");
    handle.send(net::Command::AcceptFriend {
        account: "bob".into(),
    });
    alice.pump_until(rt, "bob as a friend", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.friends.contains_key("bob"))
    });
    bob.pump_until(rt, "alice as a friend", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.friends.contains_key("alice"))
    });
    (alice, bob)
}

/// A picture of noise, `w` × `h`: about 4 bytes a pixel as PNG, since noise does not compress.
fn noise(w: u32, h: u32, seed: u32) -> image::RgbaImage {
    let mut seed = seed | 1;
    image::RgbaImage::from_fn(w, h, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let [r, g, b, _] = seed.to_le_bytes();
        image::Rgba([r, g, b, 255])
    })
}

/// A right-click on the bubble of the message with `client_id`, as a person would: the pointer moves
/// there, then the right button goes down and up.
fn right_click_bubble(ui: &mut Simulator<'_, Message>, client_id: &str) {
    right_click(ui, chat::State::bubble_id(client_id));
}

/// A right press and release on the middle of the widget with this id.
fn right_click(ui: &mut Simulator<'_, Message>, widget: iced::widget::Id) {
    let bounds = ui
        .find(id(widget))
        .expect("the widget")
        .visible_bounds()
        .expect("on screen");
    ui.point_at(bounds.center());
    let _ = ui.simulate([
        iced::Event::Mouse(iced::mouse::Event::CursorMoved {
            position: bounds.center(),
        }),
        iced::Event::Mouse(iced::mouse::Event::ButtonPressed(
            iced::mouse::Button::Right,
        )),
        iced::Event::Mouse(iced::mouse::Event::ButtonReleased(
            iced::mouse::Button::Right,
        )),
    ]);
}

/// A free port on this computer, where nothing listens.
fn free_addr() -> String {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .to_string()
}

/// A server for the whole test.
fn start_server(rt: &tokio::runtime::Runtime, dir: PathBuf) -> String {
    let (addr, stop) = start_server_at(rt, dir, "127.0.0.1:0");
    // Never stopped: it lives as long as the runtime.
    std::mem::forget(stop.0);
    addr
}

type Stop = (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
);

/// Starts a server at `addr`; firing the sender stops it and the join handle waits for that.
fn start_server_at(rt: &tokio::runtime::Runtime, dir: PathBuf, addr: &str) -> (String, Stop) {
    start_server_with(rt, ququ_server::Config::new(dir), addr)
}

fn start_server_with(
    rt: &tokio::runtime::Runtime,
    config: ququ_server::Config,
    addr: &str,
) -> (String, Stop) {
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            ququ_server::run(listener, config, shutdown)
                .await
                .expect("server");
        });
        (addr, (stop, task))
    })
}

#[test]
fn two_apps_befriend_and_chat() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());

    // Empty fields are refused in the window, before anything is sent.
    let mut alice = Client::new(&rt, &server);
    let window = alice.login_window();
    alice.interact(&rt, window, |ui| {
        ui.click(id(login::ACCOUNT_INPUT)).expect("account field");
        let _ = ui.tap_key(Named::Enter);
    });
    assert!(alice.app.login.is_none(), "an empty form must not connect");
    assert!(alice.shows(window, "Enter your account."));

    // Register both through their login windows.
    alice.log_in(&rt, "alice", "secret123", true);
    let mut bob = Client::new(&rt, &server);
    bob.log_in(&rt, "bob", "secret456", true);
    assert!(
        alice.shows(alice.contacts_window(), "Online"),
        "the connection state is visible"
    );

    // Bob finds Alice and sends a request with a note.
    let bob_main = bob.contacts_window();
    bob.interact(&rt, bob_main, |ui| {
        ui.click("Add friend").expect("add friend");
    });
    bob.interact(&rt, bob_main, |ui| {
        ui.click(id(dialog::add_friend::QUERY_INPUT))
            .expect("query field");
        let _ = ui.typewrite("alice");
        let _ = ui.tap_key(Named::Enter);
    });
    bob.pump_until(&rt, "search results", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.found.as_ref().is_some_and(|f| !f.is_empty()))
    });
    bob.interact(&rt, bob_main, |ui| {
        ui.click("Add").expect("add button");
    });
    // Bob's side shows the request as waiting, once the server has it.
    bob.pump_until(&rt, "the request on its way", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.sent.contains_key("alice"))
    });
    bob.interact(&rt, bob_main, |ui| {
        ui.click("Close").expect("close the dialog");
    });
    bob.interact(&rt, bob_main, |ui| {
        ui.click("Friend requests").expect("the requests button");
    });
    assert!(bob.shows(bob_main, "Waiting for an answer"));

    // Alice accepts it from the requests dialog.
    alice.pump_until(&rt, "the request", |app| {
        app.model.as_ref().is_some_and(|s| !s.requests.is_empty())
    });
    let alice_main = alice.contacts_window();
    alice.interact(&rt, alice_main, |ui| {
        ui.click("Friend requests (1)").expect("requests link");
    });
    alice.interact(&rt, alice_main, |ui| {
        ui.click("Accept").expect("accept");
    });
    alice.pump_until(&rt, "bob as a friend", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.friends.contains_key("bob"))
    });
    bob.pump_until(&rt, "alice as a friend", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.friends.contains_key("alice"))
    });
    assert!(
        !bob.shows(bob_main, "Waiting for an answer"),
        "an accepted request is no longer waiting"
    );

    // Bob quits; Alice sees him go offline, then come online when he is back.
    drop(bob);
    let online = |app: &App| {
        app.model
            .as_ref()
            .and_then(|s| s.friends.get("bob"))
            .map(|f| f.presence)
    };
    alice.pump_until(&rt, "bob offline", |app| {
        online(app) == Some(Presence::Offline)
    });
    let mut bob = Client::new(&rt, &server);
    bob.log_in(&rt, "bob", "secret456", false);
    alice.pump_until(&rt, "bob online", |app| {
        online(app) == Some(Presence::Online)
    });
    assert!(
        alice.shows(alice_main, "[Online]"),
        "the friend row shows the online mark"
    );

    // Alice double-clicks Bob: a chat window opens; she types and presses Enter.
    alice.interact(&rt, alice_main, |ui| {
        ui.click("bob").expect("bob's row");
        ui.click("bob").expect("bob's row");
    });
    let bob_conv = Conv::User("bob".into());
    let chat = alice
        .chat_window(&bob_conv)
        .expect("double-click opens a chat window");
    let chat_input = match &alice.app.windows[&chat] {
        Window::Chat(state) => state.input_id(),
        _ => unreachable!(),
    };
    alice.interact(&rt, chat, |ui| {
        ui.click(id(chat_input.clone())).expect("chat input");
        let _ = ui.typewrite("你好 Bob");
        let _ = ui.tap_key(Named::Enter);
    });
    alice.pump_until(&rt, "delivery", |app| {
        app.model
            .as_ref()
            .and_then(|s| s.conversations.get(&bob_conv))
            .is_some_and(|c| {
                c.lines
                    .iter()
                    .any(|l| l.text == "你好 Bob" && l.delivery == ququ::model::Delivery::Sent)
            })
    });
    assert!(alice.shows(chat, "你好 Bob"));

    // Double-clicking again focuses the open window instead of opening another.
    alice.interact(&rt, alice_main, |ui| {
        ui.click("bob").expect("bob's row");
        ui.click("bob").expect("bob's row");
    });
    assert_eq!(
        alice
            .app
            .windows
            .values()
            .filter(|w| matches!(w, Window::Chat(_)))
            .count(),
        1
    );

    // Bob sees the unread badge, opens the chat and reads it there.
    let alice_conv = Conv::User("alice".into());
    bob.pump_until(&rt, "the message", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.unread(&alice_conv) == 1 && s.friends.contains_key("alice"))
    });
    let bob_main = bob.contacts_window();
    assert!(
        bob.app.title(bob_main).starts_with("(1) "),
        "the title shows the unread count"
    );
    bob.interact(&rt, bob_main, |ui| {
        ui.click("alice").expect("alice's row");
        ui.click("alice").expect("alice's row");
    });
    let bob_chat = bob.chat_window(&alice_conv).expect("bob's chat window");
    bob.drain(&rt);
    assert!(
        bob.shows(bob_chat, "你好 Bob"),
        "the message is in the other client's window"
    );
    assert_eq!(
        bob.app.model.as_ref().map(|s| s.unread(&alice_conv)),
        Some(0)
    );

    // Esc: the friend list stays; in a chat window it first cancels the typed-path prompt, then closes
    // the window, as in QQ.
    bob.update(&rt, Message::Escape(bob_main));
    assert_eq!(
        bob.contacts_window(),
        bob_main,
        "Esc leaves the friend list open"
    );
    bob.update(
        &rt,
        Message::Chat(bob_chat, ququ::window::chat::Message::AskPath),
    );
    bob.update(&rt, Message::Escape(bob_chat));
    let prompt = bob.app.windows.get(&bob_chat).map(|w| match w {
        Window::Chat(c) => c.path_prompt.is_some(),
        _ => unreachable!("a chat window"),
    });
    assert_eq!(
        prompt,
        Some(false),
        "the first Esc cancels the prompt and keeps the window"
    );
    // Something typed and not sent survives the window closing.
    bob.update(
        &rt,
        Message::Chat(
            bob_chat,
            ququ::window::chat::Message::Edit(iced::widget::text_editor::Action::Edit(
                iced::widget::text_editor::Edit::Paste(std::sync::Arc::new("半句话".into())),
            )),
        ),
    );
    bob.update(&rt, Message::Escape(bob_chat));
    assert!(
        bob.chat_window(&alice_conv).is_none(),
        "the second Esc closes the chat"
    );
    assert_eq!(bob.contacts_window(), bob_main);
    bob.interact(&rt, bob_main, |ui| {
        ui.click("alice").expect("alice's row");
        ui.click("alice").expect("alice's row");
    });
    let reopened = bob.chat_window(&alice_conv).expect("the chat opens again");
    let draft = bob.app.windows.get(&reopened).map(|w| match w {
        Window::Chat(c) => c.input.text(),
        _ => unreachable!("a chat window"),
    });
    assert_eq!(
        draft.as_deref().map(str::trim_end),
        Some("半句话"),
        "the unsent text is back in the input"
    );
}

#[test]
fn refusals_in_words_reconnect_and_outbox() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let (server, stop) = start_server_at(&rt, server_dir.path().to_path_buf(), "127.0.0.1:0");

    let mut alice = Client::new(&rt, &server);
    alice.log_in(&rt, "alice", "secret123", true);
    let mut bob = Client::new(&rt, &server);
    bob.log_in(&rt, "bob", "secret456", true);

    // A wrong password and a taken account come back in words, in the login window.
    let mut mallory = Client::new(&rt, &server);
    let window = mallory.login_window();
    mallory.interact(&rt, window, |ui| {
        ui.click(id(login::ACCOUNT_INPUT)).expect("account field");
        let _ = ui.typewrite("alice");
        ui.click(id(login::PASSWORD_INPUT)).expect("password field");
        let _ = ui.typewrite("not-her-password");
        let _ = ui.tap_key(Named::Enter);
    });
    mallory.pump_until(&rt, "the refusal", |app| app.login.is_none());
    assert!(mallory.shows(window, "Wrong account or password."));
    mallory.interact(&rt, window, |ui| {
        ui.click("Create an account").expect("register link");
    });
    mallory.interact(&rt, window, |ui| {
        ui.click(id(login::PASSWORD_INPUT)).expect("password field");
        let _ = ui.tap_key(Named::Enter);
    });
    mallory.pump_until(&rt, "the refusal", |app| app.login.is_none());
    assert!(mallory.shows(window, "That account is taken; pick another name."));
    drop(mallory);

    // A declined request is shown to the one who sent it until they have seen it.
    let send = |c: &Client, command| c.app.client.as_ref().expect("handle").send(command);
    ask(&rt, &bob, &mut alice, "alice");
    let alice_main = alice.contacts_window();
    alice.interact(&rt, alice_main, |ui| {
        ui.click("Friend requests (1)").expect("requests link");
    });
    alice.interact(&rt, alice_main, |ui| {
        ui.click("Reject").expect("reject");
    });
    alice.pump_until(&rt, "the request gone", |app| {
        app.model.as_ref().is_some_and(|s| s.requests.is_empty())
    });
    bob.pump_until(&rt, "the refusal", |app| {
        app.model.as_ref().is_some_and(|s| {
            s.sent.get("alice").map(|r| r.state) == Some(ququ::model::Sent::Declined)
        })
    });
    let bob_main = bob.contacts_window();
    bob.interact(&rt, bob_main, |ui| {
        ui.click("Friend requests (1)")
            .expect("the requests button counts the refusal");
    });
    assert!(bob.shows(bob_main, "Declined your request"));
    bob.interact(&rt, bob_main, |ui| {
        ui.click("OK").expect("dismiss");
    });
    assert!(
        !bob.shows(bob_main, "Friend requests") && !bob.shows(bob_main, "Friend requests (1)"),
        "nothing is left to show once the refusal is dismissed"
    );

    // Befriend through the handles (the UI path is covered above).
    ask(&rt, &bob, &mut alice, "alice");
    send(
        &alice,
        net::Command::AcceptFriend {
            account: "bob".into(),
        },
    );
    alice.pump_until(&rt, "bob as a friend", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.friends.contains_key("bob"))
    });
    bob.pump_until(&rt, "alice as a friend", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.friends.contains_key("alice"))
    });

    let alice_main = alice.contacts_window();
    alice.pump_until(&rt, "bob shown online", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.friends.get("bob"))
            .is_some_and(|f| f.presence.is_online())
    });
    assert!(alice.shows_part(alice_main, "[Online]"));

    // The server goes away: every window says it is reconnecting, with a countdown.
    let (stop, task) = stop;
    let _ = stop.send(());
    rt.block_on(task).expect("server stopped");
    alice.pump_until(&rt, "reconnecting", |app| {
        matches!(app.conn, ququ::model::Connection::Reconnecting { .. })
    });
    let label = ququ::widget::connection_label(&alice.app.ctx());
    assert!(label.starts_with("Reconnecting in "), "{label}");
    assert!(
        alice.shows(alice_main, &label),
        "the main window shows {label}"
    );
    // Bob may have gone meanwhile: he is no longer shown online, but as not known.
    assert!(!alice.shows_part(alice_main, "[Online]"));
    assert!(alice.shows_part(alice_main, "[Status unknown]"));

    // Alice writes while disconnected: the message waits, marked as sending.
    let bob_conv = Conv::User("bob".into());
    let task = alice.app.open_chat(bob_conv.clone());
    alice.run(&rt, task);
    let chat = alice.chat_window(&bob_conv).expect("chat window");
    let input = match &alice.app.windows[&chat] {
        Window::Chat(state) => state.input_id(),
        _ => unreachable!(),
    };
    alice.interact(&rt, chat, |ui| {
        ui.click(id(input.clone())).expect("chat input");
        let _ = ui.typewrite("sent while offline");
        let _ = ui.tap_key(Named::Enter);
    });
    alice.pump_until(&rt, "the queued bubble", |app| {
        app.model
            .as_ref()
            .and_then(|s| s.conversations.get(&bob_conv))
            .is_some_and(|c| {
                c.lines.iter().any(|l| {
                    l.text == "sent while offline" && l.delivery == ququ::model::Delivery::Sending
                })
            })
    });
    assert!(alice.shows(chat, "Sending…"));

    // The server is back on the same address. Alice does not wait for the countdown (by now a few seconds
    // between tries): she presses "Reconnect now", and is back before it would have run out.
    alice.pump_until(&rt, "a countdown with seconds to go", |app| {
        app.conn
            .seconds_left(Instant::now())
            .is_some_and(|left| left >= 3)
    });
    let ququ::model::Connection::Reconnecting { at } = alice.app.conn else {
        unreachable!()
    };
    let (_, _keep) = start_server_at(&rt, server_dir.path().to_path_buf(), &server);
    alice.interact(&rt, alice_main, |ui| {
        ui.click("Reconnect now").expect("the status bar's link");
    });
    alice.pump_until(&rt, "online again", |app| {
        app.conn == ququ::model::Connection::Online
    });
    assert!(
        Instant::now() < at,
        "reconnected before the countdown would have ended"
    );
    alice.pump_until(&rt, "delivery after reconnect", |app| {
        app.conn == ququ::model::Connection::Online
            && app
                .model
                .as_ref()
                .and_then(|s| s.conversations.get(&bob_conv))
                .is_some_and(|c| {
                    c.lines.iter().any(|l| {
                        l.text == "sent while offline" && l.delivery == ququ::model::Delivery::Sent
                    })
                })
    });
    // Connected again, presence is what the server says now.
    alice.pump_until(&rt, "bob's presence again", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.friends.get("bob"))
            .is_some_and(|f| f.presence.is_online())
    });
    assert!(alice.shows_part(alice_main, "[Online]"));
    let alice_conv = Conv::User("alice".into());
    bob.pump_until(&rt, "the queued message", |app| {
        app.model
            .as_ref()
            .and_then(|s| s.conversations.get(&alice_conv))
            .is_some_and(|c| c.lines.iter().any(|l| l.text == "sent while offline"))
    });
}

#[test]
fn groups_with_members_and_logout() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let mut alice = Client::new(&rt, &server);
    alice.log_in(&rt, "alice", "secret123", true);
    let mut bob = Client::new(&rt, &server);
    bob.log_in(&rt, "bob", "secret456", true);

    // Alice creates a group from the main window.
    let alice_main = alice.contacts_window();
    alice.interact(&rt, alice_main, |ui| {
        ui.click("Create group").expect("create group link");
    });
    alice.interact(&rt, alice_main, |ui| {
        ui.click(id(dialog::create_group::NAME_INPUT))
            .expect("name field");
        let _ = ui.typewrite("爬山群");
        let _ = ui.tap_key(Named::Enter);
    });
    alice.pump_until(&rt, "the new group", |app| {
        app.model.as_ref().is_some_and(|s| !s.groups.is_empty())
    });
    let group = *alice
        .app
        .model
        .as_ref()
        .expect("model")
        .groups
        .keys()
        .next()
        .expect("group");
    assert!(alice.shows(alice_main, "爬山群"), "the groups tab lists it");

    // Bob tries to join it by number: a new group takes members by invitation, and the dialog says so.
    let bob_main = bob.contacts_window();
    bob.interact(&rt, bob_main, |ui| {
        ui.click("Join group").expect("join group link");
    });
    bob.interact(&rt, bob_main, |ui| {
        ui.click(id(dialog::join_group::ID_INPUT))
            .expect("id field");
        let _ = ui.typewrite(&group.to_string());
        let _ = ui.tap_key(Named::Enter);
    });
    let refusal = "This group takes members by invitation only. Ask a member to invite you.";
    bob.pump_until(&rt, "the refusal in words", |app| {
        app.windows.values().any(|w| {
            matches!(w, ququ::app::Window::Contacts(s) if matches!(
                s.dialog,
                Some(Dialog::JoinGroup(dialog::join_group::State { refused: Some(_), .. }))
            ))
        })
    });
    assert!(bob.shows(bob_main, refusal));

    // Alice, the owner, opens it from the group's menu: Group settings…, anyone with the number ...
    alice.show_dialog(&rt, alice_main, Dialog::group_menu(group));
    alice.interact(&rt, alice_main, |ui| {
        ui.click("Group settings…")
            .expect("the menu's Group settings");
    });
    let settings_id = alice
        .window(|w| matches!(w, Window::Group(g) if g.group == group))
        .expect("the group's settings window");
    alice.pump_until(&rt, "the group's join policy", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.group_policies.contains_key(&group))
    });
    let anyone = "Anyone with the group number";
    assert!(alice.shows(settings_id, anyone));
    alice.interact(&rt, settings_id, |ui| {
        ui.click(anyone).expect("the choice");
    });
    alice.pump_until(&rt, "the group opened", |app| {
        app.model
            .as_ref()
            .and_then(|s| s.group_policies.get(&group))
            == Some(&ququ_protocol::JoinPolicy::Open)
    });

    // ... and Bob's second try joins; the dialog closes.
    bob.interact(&rt, bob_main, |ui| {
        ui.click("Join").expect("join button");
    });
    bob.pump_until(&rt, "membership", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.groups.contains_key(&group))
    });

    // Alice opens the group chat by double-click: the member list shows both, online.
    alice.interact(&rt, alice_main, |ui| {
        ui.click("爬山群").expect("group row");
        ui.click("爬山群").expect("group row");
    });
    let conv = Conv::Group(group);
    let chat = alice.chat_window(&conv).expect("group chat window");
    alice.pump_until(&rt, "the member list", |app| {
        app.model
            .as_ref()
            .and_then(|s| s.members.get(&group))
            .is_some_and(|m| m.len() == 2)
    });
    assert!(alice.shows(chat, "Members (2/2 online)"));

    // Bob writes to the group; it appears in Alice's open window, unread stays zero there.
    bob.app
        .client
        .as_ref()
        .expect("client")
        .send(net::Command::SendText {
            conv: conv.clone(),
            text: "大家好".into(),
        });
    alice.pump_until(&rt, "the group message", |app| {
        app.model
            .as_ref()
            .and_then(|s| s.conversations.get(&conv))
            .is_some_and(|c| c.lines.iter().any(|l| l.text == "大家好"))
    });
    assert!(alice.shows(chat, "大家好"));
    assert_eq!(alice.app.model.as_ref().map(|s| s.unread(&conv)), Some(0));

    // Alice picks an avatar image: decoded, cropped to a square, scaled, stored; garbage is refused in words.
    // (The button is in the settings dialog, which says why a picture did not take.)
    alice.show_dialog(&rt, alice_main, Dialog::settings());
    let pictures = tempfile::tempdir().expect("temp dir");
    let photo = pictures.path().join("photo.png");
    image::RgbaImage::from_pixel(300, 200, image::Rgba([200, 80, 40, 255]))
        .save(&photo)
        .expect("write png");
    alice.update(&rt, Message::AvatarPicked(Some(photo)));
    let side = alice.app.avatar.as_ref().map(image::RgbaImage::dimensions);
    assert_eq!(
        side,
        Some((ququ::avatar::STORED_SIDE, ququ::avatar::STORED_SIDE))
    );
    let junk = pictures.path().join("junk.png");
    std::fs::write(&junk, b"not a picture").expect("write junk");
    alice.update(&rt, Message::AvatarPicked(Some(junk)));
    assert!(
        alice.app.avatar.is_some(),
        "a bad pick keeps the old avatar"
    );
    assert!(alice.shows(alice_main, "Default avatar"));
    match &alice.app.windows[&alice_main] {
        Window::Contacts(state) => assert!(matches!(
            &state.dialog,
            Some(Dialog::Settings(settings)) if settings
                .notice
                .as_deref()
                .is_some_and(|n| n.starts_with("That image could not be read."))
        )),
        _ => unreachable!(),
    }

    // Logging out from settings goes back to the login window.
    bob.interact(&rt, bob_main, |ui| {
        ui.click(id(contacts::SETTINGS_BUTTON))
            .expect("settings button");
    });
    bob.interact(&rt, bob_main, |ui| {
        ui.click("Log out").expect("log out");
    });
    bob.pump_until(&rt, "the login window", |app| {
        app.model.is_none() && app.login_window().is_some()
    });
    assert!(!bob.exited, "logging out is not quitting");
    assert!(
        bob.app
            .windows
            .values()
            .all(|w| matches!(w, Window::Login(_)))
    );
}

#[test]
fn remark_delete_and_local_history_paging() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let mut alice = Client::new(&rt, &server);
    alice.log_in(&rt, "alice", "secret123", true);
    let mut bob = Client::new(&rt, &server);
    bob.log_in(&rt, "bob", "secret456", true);
    let send = |c: &Client, command| c.app.client.as_ref().expect("handle").send(command);
    ask(&rt, &bob, &mut alice, "alice");
    send(
        &alice,
        net::Command::AcceptFriend {
            account: "bob".into(),
        },
    );
    alice.pump_until(&rt, "bob as a friend", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.friends.contains_key("bob"))
    });

    // Bob sends more than a page; Alice stores it all locally.
    let alice_conv = Conv::User("alice".into());
    for n in 0..40 {
        send(
            &bob,
            net::Command::SendText {
                conv: alice_conv.clone(),
                text: format!("message {n:02}"),
            },
        );
    }
    let bob_conv = Conv::User("bob".into());
    alice.pump_until(&rt, "all forty", |app| {
        app.model
            .as_ref()
            .and_then(|s| s.conversations.get(&bob_conv))
            .is_some_and(|c| c.lines.len() == 40)
    });

    // She pins Bob's chat to the top and sets it to do not disturb, from his menu.
    let alice_main = alice.contacts_window();
    for item in ["Pin to top", "Do not disturb"] {
        alice.show_dialog(&rt, alice_main, Dialog::friend_menu("bob"));
        alice.interact(&rt, alice_main, |ui| {
            ui.click(item).expect("the menu item");
        });
    }

    // Alice restarts: opening the chat shows the newest page from local storage, and asking for earlier
    // messages (what scrolling to the top does) pages back.
    let home = alice.home;
    drop(alice.events.take());
    drop(alice.app);
    let mut alice = Client::with_home(&rt, &server, home);
    alice.log_in(&rt, "alice", "secret123", false);
    alice.pump_until(&rt, "bob's row", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.friends.contains_key("bob"))
    });
    // The Recent list is back from the local store, though nothing new arrived: Bob's conversation, its
    // last message and the forty unread.
    alice.pump_until(&rt, "the recent list", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.unread(&bob_conv) == 40)
    });
    let contacts_id = alice.contacts_window();
    alice.interact(&rt, contacts_id, |ui| {
        ui.click("Recent").expect("the recent tab");
    });
    assert!(
        alice.shows_part(contacts_id, "message 39"),
        "the last message"
    );
    assert!(alice.shows(contacts_id, "40"), "the unread badge");
    // Pinned and muted as she left it: the menu offers the way back.
    let kept = alice
        .app
        .model
        .as_ref()
        .is_some_and(|m| m.is_pinned(&bob_conv) && m.is_muted(&bob_conv));
    assert!(kept, "pinned and muted after the restart");
    alice.show_dialog(&rt, contacts_id, Dialog::friend_menu("bob"));
    assert!(alice.shows(contacts_id, "Unpin") && alice.shows(contacts_id, "Allow notifications"));
    alice.interact(&rt, contacts_id, |ui| {
        ui.click("Close").expect("close the menu");
    });
    let task = alice.app.open_chat(bob_conv.clone());
    alice.run(&rt, task);
    let page = |app: &App| {
        app.model
            .as_ref()
            .and_then(|s| s.conversations.get(&bob_conv))
            .map(|c| (c.lines.len(), c.paging))
    };
    alice.pump_until(&rt, "the first local page", |app| {
        page(app) == Some((ququ::model::PAGE as usize, Paging::More))
    });
    let chat = alice.chat_window(&bob_conv).expect("chat window");
    assert!(alice.shows(chat, "message 39"));
    alice.update(
        &rt,
        Message::Chat(chat, ququ::window::chat::Message::LoadEarlier),
    );
    alice.pump_until(&rt, "the rest", |app| {
        page(app).is_some_and(|(n, paging)| n == 40 && paging != Paging::Loading)
    });
    assert!(alice.shows(chat, "message 00"));

    // Right-click on Bob offers a remark; then delete him, after a confirmation.
    let alice_main = alice.contacts_window();
    alice.show_dialog(&rt, alice_main, Dialog::friend_menu("bob"));
    alice.interact(&rt, alice_main, |ui| {
        ui.click("Set remark").expect("set remark");
    });
    alice.interact(&rt, alice_main, |ui| {
        ui.click(id(dialog::remark::INPUT)).expect("remark field");
        let _ = ui.typewrite("Bobby");
        let _ = ui.tap_key(Named::Enter);
    });
    alice.pump_until(&rt, "the remark", |app| {
        app.model
            .as_ref()
            .and_then(|s| s.friends.get("bob"))
            .is_some_and(|f| f.remark == "Bobby")
    });
    assert!(alice.shows(alice_main, "Bobby"));
    alice.show_dialog(&rt, alice_main, Dialog::friend_menu("bob"));
    alice.interact(&rt, alice_main, |ui| {
        ui.click("Delete friend").expect("delete friend");
    });
    assert!(
        alice
            .app
            .model
            .as_ref()
            .is_some_and(|s| s.friends.contains_key("bob")),
        "not before confirming"
    );
    alice.interact(&rt, alice_main, |ui| {
        ui.click("Delete").expect("confirm");
    });
    alice.pump_until(&rt, "bob removed", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| !s.friends.contains_key("bob"))
    });
    bob.pump_until(&rt, "alice removed", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| !s.friends.contains_key("alice"))
    });
}

#[test]
fn send_a_file_and_download_it() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let mut alice = Client::new(&rt, &server);
    alice.log_in(&rt, "alice", "secret123", true);
    let mut bob = Client::new(&rt, &server);
    bob.log_in(&rt, "bob", "secret456", true);
    let downloads = tempfile::tempdir().expect("temp dir");
    bob.app.downloads = Some(downloads.path().to_path_buf());
    // This test is about Download by hand: pictures do not download by themselves here
    // (`pictures_show_inline_without_a_click` has that).
    bob.app.settings.auto_pictures_mb = 0;
    let send = |c: &Client, command| c.app.client.as_ref().expect("handle").send(command);
    ask(&rt, &bob, &mut alice, "alice");
    send(
        &alice,
        net::Command::AcceptFriend {
            account: "bob".into(),
        },
    );
    alice.pump_until(&rt, "bob as a friend", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.friends.contains_key("bob"))
    });
    bob.pump_until(&rt, "alice as a friend", |app| {
        app.model
            .as_ref()
            .is_some_and(|s| s.friends.contains_key("alice"))
    });

    // A picture with noise in it, so it is a few hundred KB that do not compress away.
    let pictures = tempfile::tempdir().expect("temp dir");
    let photo = pictures.path().join("山顶.png");
    let mut seed = 0x2545_f491_u32;
    image::RgbaImage::from_fn(300, 200, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        image::Rgba(seed.to_le_bytes())
    })
    .save(&photo)
    .expect("write png");
    let sent = std::fs::read(&photo).expect("read png");

    // Alice opens the chat and presses Send file. This machine, like a bare window manager, has no file
    // dialog (no desktop portal, no zenity), so the window asks for the path instead of doing nothing;
    // a desktop with a portal gets rfd's dialog, whose answer takes the same path from `FilesChosen` on.
    alice.app.file_dialogs = false;
    let bob_conv = Conv::User("bob".into());
    let task = alice.app.open_chat(bob_conv.clone());
    alice.run(&rt, task);
    let chat = alice.chat_window(&bob_conv).expect("chat window");
    alice.interact(&rt, chat, |ui| {
        ui.click("Send file").expect("the toolbar's Send file");
    });
    assert!(
        alice.shows(chat, Lang::En.tr().no_file_dialog),
        "says why it asks for a path"
    );
    let quoted = format!("'{}'", photo.display());
    alice.interact(&rt, chat, |ui| {
        ui.click(Lang::En.tr().file_path_hint)
            .expect("the path field");
        let _ = ui.typewrite(&quoted);
        let _ = ui.tap_key(Named::Enter);
    });
    let my_file = |app: &App| files_in(app, &bob_conv).into_iter().next();
    assert!(my_file(&alice.app).is_some(), "the bubble shows at once");
    alice.pump_until(&rt, "the upload", |app| {
        my_file(app).is_some_and(|f| f.state == FileState::Sent)
    });
    assert!(alice.shows(chat, "山顶.png"));
    assert!(
        alice.app.thumbs.contains_key(&photo),
        "a thumbnail of the picture being sent"
    );

    // Bob sees the offer in his chat window and presses Download.
    let alice_conv = Conv::User("alice".into());
    let their_file = |app: &App| files_in(app, &alice_conv).into_iter().next();
    bob.pump_until(&rt, "the offer", |app| {
        their_file(app).is_some_and(|f| f.state == FileState::Offered)
    });
    let task = bob.app.open_chat(alice_conv.clone());
    bob.run(&rt, task);
    let bob_chat = bob.chat_window(&alice_conv).expect("bob's chat window");
    bob.drain(&rt);
    assert!(bob.shows(bob_chat, "山顶.png"));
    let size = ququ::model::human_size(sent.len() as u64);
    assert!(bob.shows(bob_chat, &size), "the size, as {size}");
    assert!(bob.shows(bob_chat, "Not downloaded"));
    bob.interact(&rt, bob_chat, |ui| {
        ui.click("Download").expect("download button");
    });
    bob.pump_until(&rt, "the download", |app| {
        their_file(app).is_some_and(|f| f.state == FileState::Saved)
    });
    let saved = their_file(&bob.app)
        .and_then(|f| f.local)
        .expect("where it was saved");
    assert!(saved.starts_with(downloads.path()), "{}", saved.display());
    assert_eq!(std::fs::read(&saved).expect("read download"), sent);
    assert!(bob.shows(bob_chat, "Show in folder"));
    bob.pump_until(&rt, "the thumbnail", |app| app.thumbs.contains_key(&saved));

    // Alice learns that Bob has it.
    alice.pump_until(&rt, "delivery to bob", |app| {
        my_file(app).is_some_and(|f| f.state == FileState::DeliveredToPeer)
    });
    assert!(alice.shows(chat, "Downloaded by recipient"));

    // A file dragged over the window is announced, and dropping it sends it; Bob rejects this one.
    let notes = pictures.path().join("notes.txt");
    std::fs::write(&notes, "路线：北门 → 山顶\n").expect("write notes");
    alice.update(
        &rt,
        Message::Drag(chat, window::Event::FileHovered(notes.clone())),
    );
    assert!(alice.shows(chat, "Drop files here to send them"));
    alice.update(
        &rt,
        Message::Drag(chat, window::Event::FileDropped(notes.clone())),
    );
    assert!(!alice.shows(chat, "Drop files here to send them"));
    let file_named = |app: &App, conv: &Conv, name: &str| {
        files_in(app, conv).into_iter().find(|f| f.name == name)
    };
    bob.pump_until(&rt, "the second offer", |app| {
        file_named(app, &alice_conv, "notes.txt").is_some_and(|f| f.state == FileState::Offered)
    });
    bob.interact(&rt, bob_chat, |ui| {
        ui.click("Reject").expect("reject button");
    });
    alice.pump_until(&rt, "the rejection", |app| {
        file_named(app, &bob_conv, "notes.txt").is_some_and(|f| f.state == FileState::Rejected)
    });
    assert!(alice.shows(chat, "Rejected by recipient"));

    // A big file, paused from its bubble before its bytes are up: it stays paused (nothing more goes
    // up), then Resume finishes it and Bob is offered it.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let big: Vec<u8> = (0..(48 << 20) / 8)
        .flat_map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed.to_le_bytes()
        })
        .collect();
    let video = pictures.path().join("trip.mp4");
    std::fs::write(&video, &big).expect("write video");
    alice.update(&rt, Message::FilesChosen(bob_conv.clone(), vec![video]));
    alice.interact(&rt, chat, |ui| {
        ui.click("Pause").expect("pause button");
    });
    let paused = |app: &App| {
        file_named(app, &bob_conv, "trip.mp4")
            .is_some_and(|f| matches!(f.state, FileState::Uploading { paused: true, .. }))
    };
    alice.pump_until(&rt, "the pause", paused);
    // Time for bytes to move if the pause did not hold.
    for _ in 0..5 {
        alice.drain(&rt);
    }
    assert!(
        paused(&alice.app),
        "{:?}",
        file_named(&alice.app, &bob_conv, "trip.mp4")
    );
    assert!(alice.shows(chat, "Resume"));
    alice.interact(&rt, chat, |ui| {
        ui.click("Resume").expect("resume button");
    });
    alice.pump_until(&rt, "the resumed upload", |app| {
        file_named(app, &bob_conv, "trip.mp4").is_some_and(|f| f.state == FileState::Sent)
    });
    bob.pump_until(&rt, "the big offer", |app| {
        file_named(app, &alice_conv, "trip.mp4").is_some_and(|f| f.size == big.len() as u64)
    });

    // Another, cancelled from its bubble: it ends cancelled on Alice's side and Bob cannot fetch it.
    let draft = pictures.path().join("draft.mp4");
    std::fs::write(&draft, &big[..16 << 20]).expect("write draft");
    alice.update(&rt, Message::FilesChosen(bob_conv.clone(), vec![draft]));
    alice.interact(&rt, chat, |ui| {
        ui.click("Cancel").expect("cancel button");
    });
    alice.pump_until(&rt, "the cancel", |app| {
        file_named(app, &bob_conv, "draft.mp4").is_some_and(|f| f.state == FileState::Cancelled)
    });
    bob.drain(&rt);
    assert!(
        file_named(&bob.app, &alice_conv, "draft.mp4")
            .is_none_or(|f| matches!(f.state, FileState::Cancelled | FileState::Expired)),
        "{:?}",
        file_named(&bob.app, &alice_conv, "draft.mp4")
    );
}

#[test]
fn my_waiting_request_is_shown_again_after_logging_in_anew() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let mut alice = Client::new(&rt, &server);
    alice.log_in(&rt, "alice", "secret123", true);
    let mut bob = Client::new(&rt, &server);
    bob.log_in(&rt, "bob", "secret456", true);
    ask(&rt, &bob, &mut alice, "alice");
    drop(bob);

    // A new device (nothing local): only the server can say the request is still waiting.
    let mut bob = Client::new(&rt, &server);
    bob.log_in(&rt, "bob", "secret456", false);
    bob.pump_until(&rt, "the waiting request", |app| {
        app.model.as_ref().is_some_and(|s| {
            s.sent.get("alice").map(|r| r.state) == Some(ququ::model::Sent::Waiting)
        })
    });
    let main = bob.contacts_window();
    bob.interact(&rt, main, |ui| {
        ui.click("Friend requests").expect("the requests button");
    });
    assert!(bob.shows(main, "Waiting for an answer"));
}

#[test]
fn about_shows_where_the_data_is() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let mut carol = Client::new(&rt, &server);
    carol.log_in(&rt, "carol", "secret789", true);
    let downloads = tempfile::tempdir().expect("temp dir");
    carol.app.downloads = Some(downloads.path().to_path_buf());

    // Settings (the gear on the header), then its About link.
    let main = carol.contacts_window();
    carol.interact(&rt, main, |ui| {
        ui.click(id(contacts::SETTINGS_BUTTON))
            .expect("settings button");
    });
    carol.interact(&rt, main, |ui| {
        ui.click("About Ququ").expect("about link");
    });
    let about = carol
        .window(|w| matches!(w, Window::About(_)))
        .expect("an About window");
    assert_eq!(carol.app.title(about), "About Ququ");

    // The folders this run really uses: its history under the home it was given, its settings file,
    // and the Downloads folder (looked up after the window opened).
    let home = carol.home.path().to_path_buf();
    let shown = |p: PathBuf| p.display().to_string();
    assert!(carol.shows(about, &format!("Version {}", env!("CARGO_PKG_VERSION"))));
    assert!(
        carol.shows(about, &shown(home.join("client"))),
        "history folder"
    );
    assert!(
        carol.shows(about, &shown(home.join("gui.json"))),
        "settings file"
    );
    assert!(
        carol.shows(about, &shown(downloads.path().to_path_buf())),
        "downloads"
    );
    assert!(
        !carol.shows(about, "Hosted server"),
        "no server hosted here"
    );

    // Asking again focuses the open window; Close closes it and the app carries on.
    carol.interact(&rt, main, |ui| {
        ui.click(id(contacts::SETTINGS_BUTTON))
            .expect("settings button");
    });
    carol.interact(&rt, main, |ui| {
        ui.click("About Ququ").expect("about link");
    });
    let abouts = |c: &Client| {
        c.app
            .windows
            .values()
            .filter(|w| matches!(w, Window::About(_)))
            .count()
    };
    assert_eq!(abouts(&carol), 1);
    carol.interact(&rt, about, |ui| {
        ui.click("Close").expect("close button");
    });
    assert_eq!(abouts(&carol), 0);
    assert!(!carol.exited, "closing About does not quit");
    assert!(carol.app.contacts_window().is_some());
}

#[test]
fn a_self_signed_tls_server_is_trusted_from_the_login_window() {
    let rt = runtime();
    let certs = tempfile::tempdir().expect("temp dir");
    let (cert, key) = ququ_server::tls::default_paths(certs.path());
    let fingerprint =
        ququ_server::tls::generate(&["localhost".into()], &cert, &key).expect("certificate");
    let server_dir = tempfile::tempdir().expect("temp dir");
    let mut config = ququ_server::Config::new(server_dir.path());
    config.tls = Some(ququ_server::config::TlsFiles { cert, key });
    let (server, _stop) = start_server_with(&rt, config, "127.0.0.1:0");

    let mut alice = Client::new(&rt, &server);
    let window = alice.login_window();
    alice.interact(&rt, window, |ui| {
        ui.click("Create an account").expect("register link");
    });
    alice.interact(&rt, window, |ui| {
        ui.click("Encrypted connection (TLS)").expect("the TLS box");
        ui.click(id(login::ACCOUNT_INPUT)).expect("account field");
        let _ = ui.typewrite("alice");
        ui.click(id(login::PASSWORD_INPUT)).expect("password field");
        let _ = ui.typewrite("secret123");
        let _ = ui.tap_key(Named::Enter);
    });
    alice.pump_until(&rt, "the trust question", |app| {
        app.windows
            .values()
            .any(|w| matches!(w, Window::Login(s) if s.trust.is_some()))
    });
    // The fingerprint is shown, four rows of eight pairs, for comparing with the operator's.
    let pairs: Vec<&str> = fingerprint.split(':').collect();
    let rows: Vec<String> = pairs.chunks(8).map(|c| c.join(":")).collect();
    let rows = rows.join("\n");
    assert!(
        alice.shows(window, &Lang::En.trust_server(&server, &rows)),
        "the question with the fingerprint"
    );
    assert!(
        alice.app.model.is_none(),
        "not logged in before the user decides"
    );

    alice.interact(&rt, window, |ui| {
        ui.click("Trust and log in").expect("trust button");
    });
    alice.pump_until(&rt, "login over TLS", |app| {
        app.model.is_some() && app.contacts_window().is_some()
    });
    let client_dir = alice.app.dirs.client_dir();
    assert_eq!(
        ququ_client::tls::pinned(&client_dir, &server).expect("pins"),
        Some(fingerprint)
    );
    assert!(alice.app.settings.tls, "TLS is remembered for next time");
}

#[test]
fn a_server_hosted_last_time_is_hosted_again_on_start() {
    let rt = runtime();
    let addr = free_addr();
    let mut first = register_and_host(&rt, &addr, "alice", "secret123");
    assert_eq!(
        first.app.settings.host_again.as_deref(),
        Some(addr.as_str())
    );

    // Someone else uses the server: quitting (closing the contact list) asks first, saying how many.
    let mut bob = Client::new(&rt, &addr);
    bob.log_in(&rt, "bob", "secret456", true);
    let contacts_id = first.contacts_window();
    first.update(&rt, Message::CloseRequested(contacts_id));
    assert!(!first.exited, "not quit without asking");
    assert!(first.shows(
        contacts_id,
        "One other person is using the server this app hosts. Quitting stops it and disconnects them."
    ));
    // Quit, confirmed: the hosted server stops with the app, and Bob is told.
    first.interact(&rt, contacts_id, |ui| {
        ui.click("Quit").expect("the quit button");
    });
    assert!(first.exited);
    bob.pump_until(&rt, "bob disconnected", |app| {
        app.conn != ququ::model::Connection::Online
    });
    let down = |addr: &str| rt.block_on(ququ::embedded::nothing_listening(addr.to_owned()));
    let deadline = Instant::now() + WAIT;
    while !down(&addr) {
        assert!(Instant::now() < deadline, "the hosted server stopped");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The next start hosts it again without asking, and the account is there.
    let home = first.home;
    drop(first.events.take());
    drop(first.app);
    let mut again = Client::with_home(&rt, &addr, home);
    assert!(again.app.hosting.is_some(), "hosted again without a click");
    again.log_in(&rt, "alice", "secret123", false);

    // Turned off in the settings, the next start leaves it to the user.
    let contacts_id = again.contacts_window();
    again.show_dialog(&rt, contacts_id, Dialog::settings());
    again.interact(&rt, contacts_id, |ui| {
        ui.click("Start this server again when Ququ starts")
            .expect("the switch");
    });
    assert_eq!(again.app.settings.host_again, None);
}

/// The tray's test runs the app with a tray icon on a private session bus, which the icon finds through
/// `DBUS_SESSION_BUS_ADDRESS` as on a desktop: so in a child process started with that variable.
#[cfg(target_os = "linux")]
mod common;

#[cfg(target_os = "linux")]
#[test]
fn with_a_tray_closing_the_friend_list_hides_it_and_the_hosted_server_goes_on() {
    common::run_on_private_bus("tray_child", "QUQU_TRAY_CHILD");
}

/// Only ever runs as the child of the test above, on its private bus.
#[cfg(target_os = "linux")]
#[test]
fn tray_child() {
    use ququ::tray;
    if std::env::var_os("QUQU_TRAY_CHILD").is_none() {
        return;
    }
    let rt = runtime();
    let (_desktop, _items) = rt.block_on(common::watcher());
    let addr = free_addr();
    let mut alice = register_and_host(&rt, &addr, "alice", "secret123");
    // The icon is up, as the app's subscription reports it.
    let (clicks, _) = futures::channel::mpsc::channel(16);
    let handle = rt
        .block_on(tray::spawn(tray::Shown::default(), clicks))
        .expect("the icon registers");
    alice.update(&rt, Message::Tray(tray::Event::Ready(handle)));

    let mut bob = Client::new(&rt, &addr);
    bob.log_in(&rt, "bob", "secret456", true);
    ask(&rt, &bob, &mut alice, "alice");
    alice
        .app
        .client
        .as_ref()
        .expect("handle")
        .send(net::Command::AcceptFriend {
            account: "bob".into(),
        });
    bob.pump_until(&rt, "alice as a friend", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.friends.contains_key("alice"))
    });

    // The first close says what it does; hiding keeps the app, its connection and its server.
    let list = alice.contacts_window();
    alice.update(&rt, Message::CloseRequested(list));
    assert!(alice.shows(list, "Ququ keeps running"));
    alice.interact(&rt, list, |ui| {
        ui.click("Hide to tray").expect("the hide button");
    });
    let hidden =
        |app: &App| matches!(app.windows.get(&list), Some(Window::Contacts(s)) if s.hidden);
    assert!(hidden(&alice.app), "the friend list is hidden");
    assert!(
        !alice.exited && alice.app.hosting.is_some(),
        "still running, still hosting"
    );
    assert!(alice.app.settings.tray_told);

    // Bob still chats through the server the hidden app hosts; the icon counts it.
    let bob_handle = bob.app.client.as_ref().expect("handle");
    bob_handle.send(net::Command::SendText {
        conv: Conv::User("alice".into()),
        text: "still there?".into(),
    });
    alice.pump_until(&rt, "bob's message", |app| app.tray_view().unread == 1);

    // A click on the icon opens the chat with the newest unread message, and it is read.
    alice.update(&rt, Message::Tray(tray::Event::Activate));
    let bob_chat = alice
        .chat_window(&Conv::User("bob".into()))
        .expect("bob's chat opened");
    assert!(alice.shows(bob_chat, "still there?"));
    assert_eq!(alice.app.tray_view().unread, 0);

    // "Open Ququ" shows the list again; closing it again hides it without asking.
    alice.update(&rt, Message::Tray(tray::Event::Open));
    assert!(!hidden(&alice.app));
    alice.update(&rt, Message::CloseRequested(list));
    assert!(hidden(&alice.app) && !alice.shows(list, "Ququ keeps running"));

    // Do not disturb from the tray's menu is remembered.
    alice.update(&rt, Message::Tray(tray::Event::DoNotDisturb(true)));
    assert!(alice.app.settings.do_not_disturb && alice.app.tray_view().dnd);

    // Quit from the tray with Bob connected: the list comes back and asks first.
    alice.update(&rt, Message::Tray(tray::Event::Quit));
    assert!(!alice.exited, "not quit without asking");
    assert!(
        !hidden(&alice.app),
        "the question is shown where it can be seen"
    );
    assert!(alice.shows(
        list,
        "One other person is using the server this app hosts. Quitting stops it and disconnects them."
    ));
    alice.interact(&rt, list, |ui| {
        ui.click("Quit").expect("the quit button");
    });
    assert!(alice.exited);
}

#[test]
fn auto_login_logs_in_with_no_typing_after_a_restart_and_not_after_log_out() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let mut alice = remembered_alice(&rt, &server);

    // Kept in a file only alice can read (no Secret Service in a test), and it holds the session's
    // token, never the password.
    let file = alice.home.path().join(TOKEN_FILE);
    let kept = std::fs::read_to_string(&file).expect("the token file");
    assert!(kept.contains(&format!("alice@{server}")), "{kept}");
    assert!(!kept.contains("secret123"), "the password is not kept");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("mode").permissions().mode();
        assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
    }
    // The settings dialog says where.
    let main = alice.contacts_window();
    alice.show_dialog(&rt, main, Dialog::settings());
    assert!(alice.shows_part(main, "a file only you can read"));

    // A restart logs in by itself; Cancel stops that and shows the form, which stays empty of a password.
    let mut alice = alice.restart(&rt, &server);
    let login = alice.login_window();
    assert!(alice.shows(login, "Logging in automatically…"));
    alice.interact(&rt, login, |ui| {
        ui.click("Cancel").expect("the cancel button");
    });
    assert!(alice.app.login.is_none(), "cancelled");
    assert!(alice.shows(login, "Log in"));
    assert!(alice.app.model.is_none());

    // The next restart logs in with no typing at all.
    let mut alice = alice.restart(&rt, &server);
    alice.pump_until(&rt, "logged in automatically", |app| {
        app.model.is_some() && app.contacts_window().is_some()
    });
    assert_eq!(
        alice.app.model.as_ref().map(|m| m.account.as_str()),
        Some("alice")
    );

    // Log out: the saved login is forgotten (and the token revoked), so the next start asks.
    let main = alice.contacts_window();
    alice.show_dialog(&rt, main, Dialog::settings());
    alice.interact(&rt, main, |ui| {
        ui.click("Log out").expect("log out");
    });
    alice.pump_until(&rt, "the login window", |app| {
        app.model.is_none() && app.login_window().is_some()
    });
    let deadline = Instant::now() + WAIT;
    while std::fs::read_to_string(&file).is_ok_and(|t| t.contains("alice@")) {
        assert!(Instant::now() < deadline, "the token forgotten");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut alice = alice.restart(&rt, &server);
    alice.drain(&rt);
    assert!(
        alice.app.login.is_none(),
        "no automatic login after Log out"
    );
    assert!(alice.app.model.is_none());
    let login = alice.login_window();
    assert!(!alice.shows(login, "Logging in automatically…"));
    // The box is still ticked (a choice, not a secret): typing the password logs in and keeps it again.
    assert!(alice.app.settings.auto_login);
}

/// Logging in automatically while the server is down (or this computer is offline): the friend list
/// opens at once from what this device kept, with friends, the Recent list, its previews and unread
/// counts, and no one shown online. It counts down to the next attempt, and when the server is back,
/// "Reconnect now" takes it online.
#[test]
fn auto_login_with_the_server_down_opens_the_friend_list_and_recent_from_this_device() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let (server, stop) = start_server_at(&rt, server_dir.path().to_path_buf(), "127.0.0.1:0");
    let mut alice = remembered_alice(&rt, &server);
    let mut bob = Client::new(&rt, &server);
    bob.log_in(&rt, "bob", "secret456", true);
    ask(&rt, &bob, &mut alice, "alice");
    let handle = |c: &Client| c.app.client.clone().expect("handle");
    handle(&alice).send(net::Command::AcceptFriend {
        account: "bob".into(),
    });
    // Friends first: a message sent before the server has the friendship is refused (not_friends).
    alice.pump_until(&rt, "bob as a friend", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.friends.contains_key("bob"))
    });
    for text in ["are you coming?", "dinner at 7 <b>&</b>"] {
        handle(&bob).send(net::Command::SendText {
            conv: Conv::User("alice".into()),
            text: text.into(),
        });
    }
    let bob_conv = Conv::User("bob".into());
    alice.pump_until(&rt, "bob's two messages", |app| {
        app.model.as_ref().is_some_and(|m| {
            m.friends
                .get("bob")
                .is_some_and(|f| f.presence == Presence::Online)
                && m.unread(&bob_conv) == 2
        })
    });
    drop(bob);

    // The server goes down; Alice's app is started again.
    let _ = stop.0.send(());
    rt.block_on(stop.1).expect("the server stopped");
    let mut alice = alice.restart(&rt, &server);
    alice.pump_until(&rt, "the friend list from this device", |app| {
        app.contacts_window().is_some()
            && app.model.as_ref().is_some_and(|m| m.unread(&bob_conv) == 2)
    });
    assert_ne!(alice.app.conn, Connection::Online);
    let main = alice.contacts_window();
    assert!(alice.app.login_window().is_none(), "the login window went");
    // Bob is there, but not shown online: no one is known to be while this app is offline.
    assert!(
        alice.shows(main, "My friends 1"),
        "the count, without 'online'"
    );
    alice.interact(&rt, main, |ui| {
        ui.click("Recent").expect("the recent tab");
    });
    assert!(
        alice.shows_part(main, "dinner at 7 <b>&</b>"),
        "the last message"
    );
    assert!(alice.shows(main, "2"), "the unread badge");
    alice.pump_until(&rt, "the countdown", |app| {
        matches!(app.conn, Connection::Reconnecting { .. })
    });
    assert!(alice.shows(main, "Reconnect now"));

    // The server is back at its address: Reconnect now, and Alice is online with what it says.
    let (_, _stop) = start_server_at(&rt, server_dir.path().to_path_buf(), &server);
    alice.interact(&rt, main, |ui| {
        ui.click("Reconnect now").expect("the button");
    });
    alice.pump_until(&rt, "online again", |app| app.conn == Connection::Online);
    let model = alice.app.model.as_ref().expect("logged in");
    assert_eq!(model.account, "alice");
    assert!(model.friends.contains_key("bob"));
    assert_eq!(model.unread(&bob_conv), 2, "still unread");
}

/// A saved login the server no longer takes (the password was changed on another device, which revokes
/// every other token): the next start still opens the friend list from this device, then goes back to
/// the login window saying why, and the saved login is gone so the start after that asks at once.
#[test]
fn a_saved_login_revoked_elsewhere_asks_for_the_password_in_words() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let mut alice = remembered_alice(&rt, &server);
    let file = alice.home.path().join(TOKEN_FILE);

    // Alice changes her password on another device while this app is closed.
    let home = alice.home;
    drop(alice.events.take());
    drop(alice.app);
    rt.block_on(async {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let stream = tokio::net::TcpStream::connect(&server)
            .await
            .expect("connect");
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        for (line, answer) in [
            ("LOGIN:alice:secret123\n", "LOGIN:true"),
            ("PASSWD:secret123:another456\n", "PASSWD:true"),
        ] {
            write.write_all(line.as_bytes()).await.expect("write");
            loop {
                let got = lines.next_line().await.expect("read").expect("a line");
                if got.starts_with(answer) {
                    break;
                }
            }
        }
    });

    let mut alice = Client::start(&rt, &server, home, true);
    // (The friend list may open from this device first: the refusal and the local read race.)
    alice.pump_until(&rt, "the login window saying why", |app| {
        app.windows
            .values()
            .any(|w| matches!(w, Window::Login(s) if matches!(s.status, login::Status::Error(_))))
    });
    assert!(alice.app.model.is_none() && alice.app.contacts_window().is_none());
    let login = alice.login_window();
    assert!(
        alice.shows(login, "Your saved login has expired; type your password."),
        "why, in words"
    );
    let deadline = Instant::now() + WAIT;
    while std::fs::read_to_string(&file).is_ok_and(|t| t.contains("alice@")) {
        assert!(Instant::now() < deadline, "the revoked login forgotten");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The new password logs in, from the same window.
    alice.interact(&rt, login, |ui| {
        ui.click(id(login::PASSWORD_INPUT)).expect("password field");
        let _ = ui.typewrite("another456");
        let _ = ui.tap_key(Named::Enter);
    });
    alice.pump_until(&rt, "logged in with the new password", |app| {
        app.conn == Connection::Online && app.contacts_window().is_some()
    });
}

/// A 3,000-character address and a 3,000-character word break inside their bubbles instead of running
/// out of them, and a click on the address asks to open it (with `https://` put before a `www.` one).
#[test]
fn long_words_and_addresses_wrap_in_their_bubbles_and_addresses_open() {
    let rt = runtime();
    let mut alice = Client::new(&rt, "127.0.0.1:9");
    let mut model = ququ::model::Model::new("alice".into(), "Alice".into());
    let bob = Conv::User("bob".into());
    let word = "x".repeat(3000);
    let link = format!("www.example.com/{}", "a".repeat(3000));
    for (n, text) in [&word, &link].into_iter().enumerate() {
        model.apply(received(n as i64 + 1, bob.clone(), "bob", text.clone()));
    }
    alice.app.model = Some(model);
    let task = alice.app.open_chat(bob.clone());
    alice.run(&rt, task);
    let chat = alice.chat_window(&bob).expect("the chat window");

    let mut ui = Simulator::with_size(settings(), Size::new(400.0, 700.0), alice.app.view(chat));
    for (n, what) in ["the word", "the address"].into_iter().enumerate() {
        let bubble = ui
            .find(id(chat::State::bubble_id(&format!("c{}", n + 1))))
            .expect("the bubble")
            .bounds();
        // Its width is the bubble's limit (380), and the text goes down instead of on: dozens of lines.
        assert!(bubble.width <= 380.0, "{what}: {bubble:?}");
        assert!(bubble.height > 400.0, "{what} wraps: {bubble:?}");
    }
    ui.click(id(chat::State::bubble_id("c2")))
        .expect("a click on the address");
    let asked: Vec<_> = ui
        .into_messages()
        .filter_map(|m| match m {
            Message::Chat(_, chat::Message::Link(link)) => Some(link),
            _ => None,
        })
        .collect();
    assert_eq!(asked.as_slice(), std::slice::from_ref(&link));
    // What the window then asks the app to open.
    let mut state = chat::State::new(bob);
    let env = chat::Env {
        max_text: 8000,
        file_dialogs: false,
        recent_emoji: false,
    };
    let (_, event) = state.update(chat::Message::Link(link.clone()), env);
    assert_eq!(
        event,
        Some(chat::Event::OpenLink(format!("https://{link}")))
    );
}

/// Emoji draw in colour from the shipped font, though this machine has no emoji font at all: a bubble
/// with 😀 😂 👍 🍜 shows their yellow and orange over a bubble without them (before
/// the font shipped, 👍 and 🍜 were blank; 😀 and 😂 came in black and white from DejaVu Sans, which has
/// the smileys, until the bubble named the emoji font for them).
#[test]
fn emoji_draw_in_colour_from_the_shipped_font() {
    let rt = runtime();
    let mut alice = Client::new(&rt, "127.0.0.1:9");
    let mut model = ququ::model::Model::new("alice".into(), "Alice".into());
    let with = Conv::User("bob".into());
    let without = Conv::User("cy".into());
    let smileys = Conv::User("di".into());
    // A friend whose nickname has an emoji (one DejaVu Sans has): the chat's header shows it.
    let named = Conv::User("ed".into());
    model.apply(net::ClientEvent::Friends(vec![ququ_client::Friend {
        account: "ed".into(),
        nickname: "Ed 😀".into(),
        remark: String::new(),
        presence: Presence::Online,
        profile: Default::default(),
        category: 0,
    }]));
    for (n, conv, text) in [
        (1, &with, "OK 👍🍜"),
        (2, &without, "OK"),
        (3, &smileys, "😀😂"),
        (4, &named, "OK"),
    ] {
        model.apply(received(n, conv.clone(), conv.key(), text));
    }
    alice.app.model = Some(model);
    let mut counts = Vec::new();
    for conv in [&with, &without, &smileys, &named] {
        let task = alice.app.open_chat(conv.clone());
        alice.run(&rt, task);
        let chat = alice.chat_window(conv).expect("the chat window");
        counts.push(warm_pixels(&alice.app, chat));
    }
    // The window without them still has the toolbar's smiley (in colour too): the baseline.
    let [with, without, smileys, named] = counts[..] else {
        unreachable!()
    };
    assert!(without > 100, "the toolbar's smiley: {counts:?}");
    assert!(
        with > without + 100,
        "the emoji drawn in colour: {counts:?}"
    );
    assert!(
        smileys > without + 100,
        "the smileys in colour too: {counts:?}"
    );
    assert!(
        named > without + 100,
        "a name's emoji in colour: {counts:?}"
    );
}

/// The chat toolbar's emoji picker: a pick goes into the input at the cursor and closes the picker; the
/// next time it opens on the emoji used lately, which the settings keep; Esc closes it, not the window.
#[test]
fn the_emoji_picker_puts_emoji_in_the_input_and_remembers_them() {
    let rt = runtime();
    let mut alice = Client::new(&rt, "127.0.0.1:9");
    alice.app.model = Some(ququ::model::Model::new("alice".into(), "Alice".into()));
    let bob = Conv::User("bob".into());
    let task = alice.app.open_chat(bob.clone());
    alice.run(&rt, task);
    let chat = alice.chat_window(&bob).expect("the chat window");
    let state = |app: &App| match app.windows.get(&chat) {
        Some(Window::Chat(state)) => (state.input.text(), state.emoji),
        _ => panic!("the chat window went"),
    };

    alice.interact(&rt, chat, |ui| {
        ui.click(id(chat::State::input_id_for(&Conv::User("bob".into()))))
            .expect("the input");
        let _ = ui.typewrite("see you ");
    });
    let before = warm_pixels(&alice.app, chat);
    alice.interact(&rt, chat, |ui| {
        ui.click("Emoji").expect("the toolbar's emoji button");
    });
    let (_, picker) = state(&alice.app);
    assert_eq!(
        picker.map(|p| p.tab),
        Some(chat::emoji::Tab::Category(0)),
        "nothing used yet: the first category"
    );
    alice.interact(&rt, chat, |ui| {
        ui.click("😂").expect("an emoji in the grid");
    });
    let (typed, picker) = state(&alice.app);
    assert_eq!(typed.trim_end(), "see you 😂");
    // In the input it is drawn in colour too (from the emoji font, which the editor's highlighter
    // names for emoji; left to fallback it was black and white, or blank).
    let after = warm_pixels(&alice.app, chat);
    assert!(after > before + 100, "{before} → {after}");
    assert!(picker.is_none(), "a pick closes the picker");
    assert_eq!(alice.app.settings.recent_emoji, ["😂"]);

    // Again: it opens on the recent ones; Esc closes it and leaves the window open.
    alice.interact(&rt, chat, |ui| {
        ui.click("Emoji").expect("the toolbar's emoji button");
    });
    assert_eq!(
        state(&alice.app).1.map(|p| p.tab),
        Some(chat::emoji::Tab::Recent)
    );
    assert!(alice.shows(chat, "😂"));
    alice.update(&rt, Message::Chat(chat, chat::Message::Escape));
    assert!(state(&alice.app).1.is_none());
    assert!(
        alice.chat_window(&bob).is_some(),
        "Esc closed only the picker"
    );
    // Kept on disk, for the next start.
    let saved = rt.block_on(ququ::config::load(
        Dirs {
            config: alice.home.path().to_path_buf(),
            data: alice.home.path().to_path_buf(),
        }
        .settings_file(),
    ));
    assert_eq!(saved.recent_emoji, ["😂"]);
}

/// Right-click on a bubble opens its menu at the pointer; Copy puts the message's text on the
/// clipboard and closes the menu; a click elsewhere or Esc closes it without copying.
#[test]
fn a_bubble_s_menu_copies_its_text() {
    let rt = runtime();
    let mut alice = Client::new(&rt, "127.0.0.1:9");
    let mut model = ququ::model::Model::new("alice".into(), "Alice".into());
    let bob = Conv::User("bob".into());
    let said = "门牌号 12-3，密码 #4827 ✅";
    model.apply(received(1, bob.clone(), "bob", said));
    alice.app.model = Some(model);
    let task = alice.app.open_chat(bob.clone());
    alice.run(&rt, task);
    let chat = alice.chat_window(&bob).expect("the chat window");
    let menu = |app: &App| match app.windows.get(&chat) {
        Some(Window::Chat(state)) => state.menu.clone(),
        _ => None,
    };
    let right_click = |ui: &mut Simulator<'_, Message>| right_click_bubble(ui, "c1");

    alice.interact(&rt, chat, right_click);
    let open = menu(&alice.app).expect("the menu opened");
    assert_eq!(open.client_id, "c1");
    assert!(
        open.at.x > 0.0 && open.at.y > 0.0,
        "at the pointer: {open:?}"
    );
    assert!(alice.shows(chat, "Copy"));
    // Esc closes it, and the window stays.
    alice.update(&rt, Message::Chat(chat, chat::Message::Escape));
    assert!(menu(&alice.app).is_none());
    assert!(alice.chat_window(&bob).is_some());
    assert_eq!(alice.clipboard, None);

    alice.interact(&rt, chat, right_click);
    alice.interact(&rt, chat, |ui| {
        ui.click("Copy").expect("the menu's Copy");
    });
    assert_eq!(alice.clipboard.as_deref(), Some(said));
    assert!(menu(&alice.app).is_none(), "Copy closes the menu");
}

/// Issue 24: a reply quotes the message it answers on both sides; my own message is recalled from its
/// menu and turns into "… recalled a message" on both sides, taking the quote's text with it; Recall on
/// someone else's message is greyed with the reason; in a group, `@` offers the members and the one
/// mentioned sees "[@me]" in Recent; Forward sends a message on to another chat, and "Delete for me"
/// takes it off this device only.
#[test]
fn reply_recall_and_mentions_through_the_chat_window() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let (mut alice, mut bob) = friends(&rt, &server);
    assert!(
        alice
            .app
            .model
            .as_ref()
            .is_some_and(|m| m.features.said && m.features.recalled),
        "this server has replies and recalls"
    );

    let to_bob = Conv::User("bob".into());
    let to_alice = Conv::User("alice".into());
    let handle = alice.app.client.clone().expect("handle");
    handle.send(net::Command::SendText {
        conv: to_bob.clone(),
        text: "lunch at 12:30?".into(),
    });
    handle.send(net::Command::SendText {
        conv: to_bob.clone(),
        text: "or one o'clock".into(),
    });
    let line_of = |app: &App, conv: &Conv, text: &str| {
        app.model
            .as_ref()
            .and_then(|m| m.conversations.get(conv))
            .and_then(|c| c.lines.iter().find(|l| l.text == text && l.id.is_some()))
            .cloned()
    };
    bob.pump_until(&rt, "both messages", |app| {
        line_of(app, &to_alice, "or one o'clock").is_some()
    });
    let task = bob.app.open_chat(to_alice.clone());
    bob.run(&rt, task);
    let bob_chat = bob.chat_window(&to_alice).expect("bob's chat");
    let right_click = |client_id: String| {
        move |ui: &mut Simulator<'_, Message>| right_click_bubble(ui, &client_id)
    };

    // Someone else's message: Reply works, Recall is greyed and says why.
    let lunch = line_of(&bob.app, &to_alice, "lunch at 12:30?").expect("lunch");
    bob.interact(&rt, bob_chat, right_click(lunch.client_id.clone()));
    assert!(bob.shows(bob_chat, "Only your own messages"));
    bob.interact(&rt, bob_chat, |ui| {
        ui.click("Reply").expect("the menu's Reply");
    });
    assert!(
        bob.shows_part(bob_chat, "Replying to alice"),
        "the reply bar names whom it answers"
    );
    let input = match &bob.app.windows[&bob_chat] {
        Window::Chat(state) => state.input_id(),
        _ => unreachable!(),
    };
    bob.interact(&rt, bob_chat, |ui| {
        ui.click(id(input.clone())).expect("input");
        let _ = ui.typewrite("sure");
        let _ = ui.tap_key(Named::Enter);
    });
    assert!(
        !bob.shows_part(bob_chat, "Replying to"),
        "sending ends the reply"
    );
    alice.pump_until(&rt, "the reply with its quote", |app| {
        line_of(app, &to_bob, "sure").is_some_and(|l| {
            l.quote
                .as_ref()
                .is_some_and(|q| q.from == "alice" && q.text == "lunch at 12:30?")
        })
    });
    let task = alice.app.open_chat(to_bob.clone());
    alice.run(&rt, task);
    let alice_chat = alice.chat_window(&to_bob).expect("alice's chat");
    assert!(
        alice.shows_part(alice_chat, ": lunch at 12:30?"),
        "the quote is drawn"
    );

    // Alice recalls her first message from its menu: gone on both sides, and from the quote.
    alice.interact(&rt, alice_chat, right_click(lunch.client_id.clone()));
    alice.interact(&rt, alice_chat, |ui| {
        ui.click("Recall").expect("the menu's Recall");
    });
    bob.pump_until(&rt, "the recall", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.conversations.get(&to_alice))
            .is_some_and(|c| {
                c.lines.iter().any(|l| l.recalled.is_some())
                    && c.lines.iter().all(|l| l.text != "lunch at 12:30?")
            })
    });
    assert!(bob.shows(bob_chat, "alice recalled a message"));
    assert!(
        bob.shows_part(bob_chat, "The original message was recalled"),
        "the quote's text went with it"
    );
    alice.pump_until(&rt, "my recall", |app| {
        line_of(app, &to_bob, "lunch at 12:30?").is_none()
    });
    assert!(alice.shows(alice_chat, "You recalled a message"));
    assert!(!alice.shows_part(alice_chat, "lunch at 12:30?"));

    // In a group, "@" offers the members; the one picked is mentioned and sees "[@me]" in Recent.
    handle.send(net::Command::CreateGroup {
        name: "饭搭子".into(),
    });
    alice.pump_until(&rt, "the group", |app| {
        app.model.as_ref().is_some_and(|m| !m.groups.is_empty())
    });
    let gid = *alice
        .app
        .model
        .as_ref()
        .unwrap()
        .groups
        .keys()
        .next()
        .unwrap();
    handle.send(net::Command::Invite {
        group: gid,
        account: "bob".into(),
    });
    handle.send(net::Command::ListMembers { group: gid });
    alice.pump_until(&rt, "bob in the group", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.members.get(&gid))
            .is_some_and(|ms| ms.iter().any(|m| m.account == "bob"))
    });
    let group = Conv::Group(gid);
    let task = alice.app.open_chat(group.clone());
    alice.run(&rt, task);
    let group_chat = alice.chat_window(&group).expect("the group chat");
    let group_input = match &alice.app.windows[&group_chat] {
        Window::Chat(state) => state.input_id(),
        _ => unreachable!(),
    };
    alice.interact(&rt, group_chat, |ui| {
        ui.click(id(group_input.clone())).expect("input");
        let _ = ui.typewrite("@b");
    });
    alice.interact(&rt, group_chat, |ui| {
        ui.click(id(chat::State::mention_choice_id("bob")))
            .expect("bob in the @ list");
    });
    let typed = match &alice.app.windows[&group_chat] {
        Window::Chat(state) => state.input.text(),
        _ => unreachable!(),
    };
    assert_eq!(
        typed.trim_end_matches('\n'),
        "@bob ",
        "the pick writes the name"
    );
    alice.interact(&rt, group_chat, |ui| {
        ui.click(id(group_input.clone())).expect("input");
        let _ = ui.typewrite("menu please");
        let _ = ui.tap_key(Named::Enter);
    });
    bob.pump_until(&rt, "the group message", |app| {
        line_of(app, &group, "@bob menu please").is_some()
    });
    let said = line_of(&bob.app, &group, "@bob menu please").expect("the message as written");
    assert_eq!(said.mentions.accounts, ["bob"], "{said:?}");

    // Forward: alice sends bob's "sure" on to the group from its menu; "Delete for me" takes her copy
    // of "or one o'clock" off this device only.
    let sure = line_of(&alice.app, &to_bob, "sure").expect("sure");
    alice.interact(&rt, alice_chat, right_click(sure.client_id.clone()));
    alice.interact(&rt, alice_chat, |ui| {
        ui.click("Forward").expect("the menu's Forward");
    });
    alice.interact(&rt, alice_chat, |ui| {
        ui.click("饭搭子").expect("the group in the picker");
    });
    bob.pump_until(&rt, "the forwarded message", |app| {
        line_of(app, &group, "sure").is_some_and(|l| l.from == "alice")
    });
    let late = line_of(&alice.app, &to_bob, "or one o'clock").expect("the second message");
    alice.interact(&rt, alice_chat, right_click(late.client_id.clone()));
    alice.interact(&rt, alice_chat, |ui| {
        ui.click("Delete for me").expect("the menu's Delete for me");
    });
    assert!(line_of(&alice.app, &to_bob, "or one o'clock").is_none());
    let store = alice.app.client.as_ref().expect("handle").store();
    let kept = rt
        .block_on(store.messages(to_bob.clone(), None, 50))
        .expect("local history");
    assert!(
        kept.iter().all(|m| m.text != "or one o'clock"),
        "deleted from this device's store too"
    );
    assert!(
        line_of(&bob.app, &to_alice, "or one o'clock").is_some(),
        "bob still has it"
    );
    assert!(
        bob.app.model.as_ref().is_some_and(|m| m.mentioned(&group)),
        "unread {:?}",
        bob.app.model.as_ref().map(|m| m.unread(&group))
    );
    let bob_main = bob.contacts_window();
    bob.interact(&rt, bob_main, |ui| {
        ui.click("Recent").expect("the recent tab");
    });
    assert!(
        bob.shows_part(bob_main, "[@me]"),
        "Recent says someone mentioned me"
    );
}

#[test]
fn pictures_show_inline_without_a_click() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let (mut alice, mut bob) = friends(&rt, &server);
    // Up to 1 MB by themselves here (10 MB by default), so a picture over it stays small to send.
    bob.app.settings.auto_pictures_mb = 1;
    let bob_conv = Conv::User("bob".into());
    let alice_conv = Conv::User("alice".into());
    let task = bob.app.open_chat(alice_conv.clone());
    bob.run(&rt, task);
    let bob_chat = bob.chat_window(&alice_conv).expect("bob's chat window");
    let named = |app: &App, conv: &Conv, name: &str| {
        files_in(app, conv).into_iter().find(|f| f.name == name)
    };
    let pictures = bob.app.dirs.pictures_dir("bob");
    // Alice is logged in on a second computer too.
    let mut alice_too = Client::new(&rt, &server);
    alice_too.log_in(&rt, "alice", "secret123", false);

    // Alice sends a picture of ~240 KB (Send file, or a drop: both end in `FilesChosen`).
    let dir = tempfile::tempdir().expect("temp dir");
    let small = dir.path().join("日落.png");
    noise(300, 200, 7).save(&small).expect("write png");
    alice.update(
        &rt,
        Message::FilesChosen(bob_conv.clone(), vec![small.clone()]),
    );
    // Bob clicks nothing: it downloads into his picture folder, not Downloads, and shows inline.
    bob.pump_until(&rt, "the picture downloaded by itself", |app| {
        named(app, &alice_conv, "日落.png").is_some_and(|f| f.state == FileState::Saved)
    });
    let saved = named(&bob.app, &alice_conv, "日落.png")
        .and_then(|f| f.local)
        .expect("where it went");
    assert!(saved.starts_with(&pictures), "{}", saved.display());
    assert_eq!(
        std::fs::read(&saved).expect("the copy"),
        std::fs::read(&small).expect("the original")
    );
    bob.pump_until(&rt, "its thumbnail", |app| app.thumbs.contains_key(&saved));
    // Alice's other computer shows her picture too: fetched by itself, as the sender may.
    alice_too.pump_until(&rt, "alice's picture on her other computer", |app| {
        named(app, &bob_conv, "日落.png").is_some_and(|f| f.state == FileState::Saved)
    });
    let elsewhere = named(&alice_too.app, &bob_conv, "日落.png")
        .and_then(|f| f.local)
        .expect("where it went");
    assert!(elsewhere.starts_with(alice_too.app.dirs.pictures_dir("alice")));
    assert!(
        !bob.shows(bob_chat, "Download"),
        "no Download to click for it"
    );

    // A picture over the limit (~1.4 MB) keeps its card with Download.
    let big = dir.path().join("全景.png");
    noise(700, 500, 11).save(&big).expect("write png");
    alice.update(&rt, Message::FilesChosen(bob_conv.clone(), vec![big]));
    bob.pump_until(&rt, "the big offer", |app| {
        named(app, &alice_conv, "全景.png").is_some()
    });
    for _ in 0..3 {
        bob.drain(&rt);
    }
    assert_eq!(
        named(&bob.app, &alice_conv, "全景.png").map(|f| f.state),
        Some(FileState::Offered)
    );
    assert!(bob.shows(bob_chat, "Download"));
    assert!(bob.shows(bob_chat, "Not downloaded"));

    // A picture on Alice's clipboard, pasted with Ctrl+V: the app reads it (arboard, not reachable
    // from the simulator) and hands over its pixels as `Pasted`; from there it is a PNG file, sent.
    let task = alice.app.open_chat(bob_conv.clone());
    alice.run(&rt, task);
    let alice_chat = alice.chat_window(&bob_conv).expect("alice's chat window");
    let shot = noise(120, 80, 23);
    alice.update(
        &rt,
        Message::Pasted(alice_chat, bob_conv.clone(), Ok(Some(shot.clone()))),
    );
    let pasted = |app: &App, conv: &Conv| {
        files_in(app, conv)
            .into_iter()
            .find(|f| f.name.starts_with("Screenshot ") && f.name.ends_with(".png"))
    };
    alice.pump_until(&rt, "the pasted picture sent", |app| {
        pasted(app, &bob_conv).is_some_and(|f| f.state == FileState::Sent)
    });
    let mine = pasted(&alice.app, &bob_conv)
        .and_then(|f| f.local)
        .expect("the file made from it");
    assert!(mine.starts_with(alice.app.dirs.pictures_dir("alice")));
    bob.pump_until(&rt, "the pasted picture at bob's", |app| {
        pasted(app, &alice_conv).is_some_and(|f| f.state == FileState::Saved)
    });
    let theirs = pasted(&bob.app, &alice_conv)
        .and_then(|f| f.local)
        .expect("bob's copy");
    assert_eq!(image::open(&theirs).expect("a png").to_rgba8(), shot);
    // A clipboard that cannot be read is said in words.
    alice.update(
        &rt,
        Message::Pasted(alice_chat, bob_conv.clone(), Err("no X server".into())),
    );
    assert!(alice.shows_part(alice_chat, Lang::En.tr().clipboard_failed));

    // Clicking the first picture opens the viewer, titled with its name; Esc closes it.
    let file_id = bob
        .app
        .model
        .as_ref()
        .and_then(|m| {
            m.conversations
                .get(&alice_conv)?
                .lines
                .iter()
                .find_map(|l| {
                    let f = l.file.as_ref()?;
                    (f.name == "日落.png").then_some(f.file_id?)
                })
        })
        .expect("its file id");
    bob.interact(&rt, bob_chat, |ui| {
        ui.click(id(chat::State::picture_id(file_id)))
            .expect("the picture");
    });
    let viewer = bob
        .window(|w| matches!(w, Window::Viewer(_)))
        .expect("a viewer window");
    assert_eq!(bob.app.title(viewer), "日落.png");
    assert!(bob.shows(viewer, "Save as…"));
    assert!(
        bob.shows(viewer, "100%"),
        "a small picture fits at its own size"
    );
    // Save as… where there is no file dialog puts a copy in Downloads and says where.
    let downloads = tempfile::tempdir().expect("temp dir");
    bob.app.downloads = Some(downloads.path().to_path_buf());
    bob.app.file_dialogs = false;
    bob.interact(&rt, viewer, |ui| {
        ui.click("Save as…").expect("Save as");
    });
    let copy = downloads.path().join("日落.png");
    assert_eq!(
        std::fs::read(&copy).expect("the copy"),
        std::fs::read(&small).expect("the original")
    );
    assert!(bob.shows_part(viewer, &copy.display().to_string()));
    bob.update(&rt, Message::Escape(viewer));
    assert!(bob.window(|w| matches!(w, Window::Viewer(_))).is_none());
}

/// Issue 25, errors in words: a refusal no dialog is waiting for is said on the friend list rather than
/// swallowed, in the user's language, until dismissed; the owner of a group is offered Dissolve, not a
/// Leave the server would refuse, and dissolving takes the group away for its members too.
#[test]
fn refusals_are_said_and_the_owner_dissolves_rather_than_leaves() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let (mut alice, mut bob) = friends(&rt, &server);
    let main = alice.contacts_window();
    let handle = alice.app.client.clone().expect("handle");
    // Leaving a group that does not exist (another device dissolved it, say): the server refuses.
    handle.send(net::Command::LeaveGroup { group: 1 });
    alice.pump_until(&rt, "the refusal", |app| match app.windows.get(&main) {
        Some(Window::Contacts(state)) => state.refused.is_some(),
        _ => false,
    });
    assert!(alice.shows(main, "No group has that number."));
    alice.interact(&rt, main, |ui| {
        ui.click("×").expect("dismiss");
    });
    assert!(!alice.shows(main, "No group has that number."));

    handle.send(net::Command::CreateGroup {
        name: "读书会".into(),
    });
    alice.pump_until(&rt, "the group", |app| {
        app.model.as_ref().is_some_and(|m| !m.groups.is_empty())
    });
    let gid = *alice
        .app
        .model
        .as_ref()
        .unwrap()
        .groups
        .keys()
        .next()
        .unwrap();
    handle.send(net::Command::Invite {
        group: gid,
        account: "bob".into(),
    });
    bob.pump_until(&rt, "bob in the group", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.groups.contains_key(&gid))
    });
    // A member's menu says Leave; the owner's says Dissolve.
    let bob_main = bob.contacts_window();
    bob.show_dialog(&rt, bob_main, Dialog::group_menu(gid));
    assert!(bob.shows(bob_main, "Leave group"));
    assert!(!bob.shows(bob_main, "Dissolve group"));
    alice.show_dialog(&rt, main, Dialog::group_menu(gid));
    assert!(alice.shows(main, "Dissolve group"));
    assert!(
        !alice.shows(main, "Leave group"),
        "the server would refuse it"
    );
    alice.interact(&rt, main, |ui| {
        ui.click("Dissolve group").expect("the owner's item");
    });
    assert!(alice.shows_part(main, "Every member leaves it"));
    alice.interact(&rt, main, |ui| {
        ui.click("Dissolve").expect("confirm");
    });
    bob.pump_until(&rt, "the group gone for bob", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| !m.groups.contains_key(&gid))
    });
    alice.pump_until(&rt, "the group gone for alice", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| !m.groups.contains_key(&gid))
    });
}

/// Issue 25: the history window (消息记录). From a chat's toolbar it searches that chat as you type (a
/// Chinese word), keeps to the days given and says so for a date it cannot read; from the friend list it
/// searches all chats; a result opens the chat at that message, loading the older pages it is in (after
/// a restart only the newest page is loaded); Ctrl+F brings the same window back; and Export writes the
/// chat into Downloads as text and as a web page, saying where.
#[test]
fn the_history_window_searches_opens_the_message_and_exports() {
    use ququ::window::history;
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let mut config = ququ_server::Config::new(server_dir.path().to_path_buf());
    // Forty messages in a row, faster than a person types.
    config.limits.rate = 0;
    let (server, _stop) = start_server_with(&rt, config, "127.0.0.1:0");
    let (mut alice, bob) = long_chat_then_restart(&rt, &server, 40);
    let to_bob = Conv::User("bob".into());
    let downloads = tempfile::tempdir().expect("temp dir");
    alice.app.downloads = Some(downloads.path().to_path_buf());
    let task = alice.app.open_chat(to_bob.clone());
    alice.run(&rt, task);
    let chat = alice.chat_window(&to_bob).expect("the chat");
    let loaded = |app: &App, text: &str| {
        app.model
            .as_ref()
            .and_then(|m| m.conversations.get(&to_bob))
            .is_some_and(|c| c.lines.iter().any(|l| l.text == text))
    };
    alice.pump_until(&rt, "the newest page", |app| loaded(app, "第 40 条消息"));
    assert!(
        !loaded(&alice.app, "周末去北京吃烤鸭吗"),
        "not on the newest page"
    );

    alice.interact(&rt, chat, |ui| {
        ui.click("Chat history")
            .expect("the toolbar's Chat history");
    });
    let in_chat = alice
        .window(|w| matches!(w, Window::History(h) if h.home == Some(to_bob.clone())))
        .expect("the history window on bob");
    let shown = |app: &App, id: window::Id| match app.windows.get(&id) {
        Some(Window::History(h)) => h.shown(),
        _ => Vec::new(),
    };
    // Opened on the chat, it reads it: the latest messages.
    assert_eq!(shown(&alice.app, in_chat).len(), 40);
    assert!(alice.shows(in_chat, "The latest 40 messages"));
    let type_into = |field: iced::widget::Id, text: &'static str| {
        move |ui: &mut Simulator<'_, Message>| {
            ui.click(id(field)).expect("the field");
            let _ = ui.typewrite(text);
        }
    };
    alice.interact(&rt, in_chat, type_into(history::State::search_id(), "烤鸭"));
    let found = shown(&alice.app, in_chat);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].2, "周末去北京吃烤鸭吗");
    assert!(alice.shows(in_chat, "1 message found"));
    // A day long past: nothing; a date it cannot read: said, in red, and the results stay.
    alice.interact(
        &rt,
        in_chat,
        type_into(history::State::to_id(), "2001-01-01"),
    );
    assert!(shown(&alice.app, in_chat).is_empty());
    assert!(alice.shows(in_chat, "No messages found."));
    alice.interact(
        &rt,
        in_chat,
        type_into(history::State::from_id(), "2001-13"),
    );
    assert!(alice.shows(in_chat, "Write a date like 2026-12-06."));
    alice.interact(&rt, in_chat, |ui| {
        ui.click(id(history::State::from_id())).expect("from");
        for _ in 0.."2001-13".len() {
            let _ = ui.tap_key(Named::Backspace);
        }
        ui.click(id(history::State::to_id())).expect("to");
        for _ in 0.."2001-01-01".len() {
            let _ = ui.tap_key(Named::Backspace);
        }
    });
    assert_eq!(shown(&alice.app, in_chat).len(), 1, "no dates: found again");

    // The result opens the chat at the message: everything back to it is read from the store at once.
    let client_id = alice
        .app
        .windows
        .get(&in_chat)
        .and_then(|w| match w {
            Window::History(h) => h.shown().first().cloned(),
            _ => None,
        })
        .and_then(|(_, server_id, _)| server_id)
        .and_then(|sid| {
            rt.block_on(alice.app.client.as_ref()?.store().message_by_server_id(sid))
                .ok()
                .flatten()
        })
        .map(|m| m.client_id)
        .expect("the result's message");
    alice.interact(&rt, in_chat, |ui| {
        ui.click(id(history::State::result_id(&client_id)))
            .expect("the result");
    });
    alice.pump_until(&rt, "the page with the message", |app| {
        loaded(app, "周末去北京吃烤鸭吗")
    });
    alice.pump_until(
        &rt,
        "the jump done",
        |app| matches!(app.windows.get(&chat), Some(Window::Chat(c)) if c.jump.is_none()),
    );

    // Ctrl+F in the chat brings the same window back; from the friend list, one on all chats.
    alice.update(&rt, Message::Find(chat));
    let count = |app: &App| {
        app.windows
            .values()
            .filter(|w| matches!(w, Window::History(_)))
            .count()
    };
    assert_eq!(count(&alice.app), 1);
    let main = alice.contacts_window();
    alice.interact(&rt, main, |ui| {
        ui.click("Chat history").expect("the footer's Chat history");
    });
    let everywhere = alice
        .window(|w| matches!(w, Window::History(h) if h.home.is_none()))
        .expect("the history window on all chats");
    assert!(alice.shows(everywhere, "Type a word to search all your chats."));
    alice.interact(
        &rt,
        everywhere,
        type_into(history::State::search_id(), "消息"),
    );
    assert_eq!(shown(&alice.app, everywhere).len(), 39);
    assert!(alice.shows(everywhere, "39 messages found"));

    // Export, as text and as a web page, into Downloads.
    for (button, ext) in [("Export as text", "txt"), ("Export as web page", "html")] {
        alice.interact(&rt, in_chat, |ui| {
            ui.click(button).expect("an export button");
        });
        assert!(alice.shows_part(in_chat, "Exported to "), "{button}");
        let file = std::fs::read_dir(downloads.path())
            .expect("Downloads")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == ext))
            .expect("the exported file");
        let written = std::fs::read_to_string(&file).expect("readable");
        assert!(written.contains("周末去北京吃烤鸭吗"), "{written}");
        assert!(written.contains("第 40 条消息"));
        assert!(
            written.find("周末去北京吃烤鸭吗") < written.find("第 40 条消息"),
            "oldest first"
        );
    }
    drop(bob);
}

/// Right-clicks a member in a group chat's member list, as a person would.
fn right_click_member(ui: &mut Simulator<'_, Message>, account: &str) {
    right_click(ui, chat::members::member_id(account));
}

/// Issue 25: a group managed from the app's windows, as a QQ group owner does it. The owner opens the
/// group's settings from the chat's toolbar, sets "approve each request", and publishes an announcement
/// that the member sees at the top of the chat; a stranger's request to join reaches the owner (the
/// friend list's requests say so) and is let in from the settings window. From the member list's
/// right-click menu the owner mutes a member — whose input then says until when — lifts it, makes them
/// an admin, and removes the newcomer after "are you sure?". "Mute everyone" silences plain members
/// only. A name the server refuses is said in words in the settings window, and what was typed stays.
#[test]
fn a_group_is_managed_from_its_settings_and_member_menu() {
    use ququ::window::group;
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let (mut alice, mut bob) = friends(&rt, &server);
    let mut carol = Client::new(&rt, &server);
    carol.log_in(&rt, "carol", "secret789", true);
    let handle = alice.app.client.clone().expect("alice's handle");
    handle.send(net::Command::CreateGroup {
        name: "读书会".into(),
    });
    alice.pump_until(&rt, "the group", |app| {
        app.model.as_ref().is_some_and(|m| !m.groups.is_empty())
    });
    let gid = *alice
        .app
        .model
        .as_ref()
        .unwrap()
        .groups
        .keys()
        .next()
        .unwrap();
    let conv = Conv::Group(gid);
    handle.send(net::Command::Invite {
        group: gid,
        account: "bob".into(),
    });
    bob.pump_until(&rt, "bob in the group", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.groups.contains_key(&gid))
    });

    // The owner's chat: the toolbar's Group settings opens the settings window.
    let task = alice.app.open_chat(conv.clone());
    alice.run(&rt, task);
    let chat_a = alice.chat_window(&conv).expect("alice's group chat");
    alice.pump_until(&rt, "the member list", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.members.get(&gid))
            .is_some_and(|ms| ms.len() == 2)
    });
    alice.interact(&rt, chat_a, |ui| {
        ui.click("Group settings")
            .expect("the toolbar's Group settings");
    });
    let settings_a = alice
        .window(|w| matches!(w, Window::Group(g) if g.group == gid))
        .expect("the settings window");
    alice.pump_until(&rt, "who may join", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.group_policies.contains_key(&gid))
    });
    assert!(alice.shows(settings_a, "Only by a member's invitation"));
    assert!(alice.shows(settings_a, "No announcement yet."));
    alice.interact(&rt, settings_a, |ui| {
        ui.click("The owner or an admin approves each request")
            .expect("the approve choice");
    });
    alice.pump_until(&rt, "the policy taken", |app| {
        app.model.as_ref().and_then(|m| m.group_policies.get(&gid))
            == Some(&ququ_protocol::JoinPolicy::Approve)
    });

    // An announcement: written, published, and at the top of bob's chat.
    alice.interact(&rt, settings_a, |ui| {
        ui.click(id(group::State::name_edit_id()))
            .expect("the name's Edit");
    });
    alice.interact(&rt, settings_a, |ui| {
        ui.click(id(group::State::name_id()))
            .expect("the name field");
        let _ = ui.typewrite(&"长".repeat(200));
        ui.click("Save").expect("save the name");
    });
    alice.pump_until(&rt, "the name refused", |app| {
        app.windows
            .get(&settings_a)
            .is_some_and(|w| matches!(w, Window::Group(g) if g.asked.is_none()))
    });
    assert!(
        alice.shows(settings_a, "That is longer than the server allows."),
        "the refusal in words, in the window that asked"
    );
    assert!(
        alice.shows(settings_a, "Save"),
        "the typed name is still there to fix"
    );
    alice.interact(&rt, settings_a, |ui| {
        ui.click("Cancel").expect("cancel the rename");
    });
    alice.interact(&rt, settings_a, |ui| {
        ui.click(id(group::State::notice_edit_id()))
            .expect("the announcement's Edit");
    });
    alice.interact(&rt, settings_a, |ui| {
        ui.click(id(group::State::notice_id()))
            .expect("the announcement");
        let _ = ui.typewrite("周六下午三点，图书馆二楼 <b>&</b>");
        ui.click("Publish").expect("publish");
    });
    bob.pump_until(&rt, "the announcement at bob's", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.notices.get(&gid))
            .is_some_and(|n| n.text.starts_with("周六下午三点"))
    });
    let task = bob.app.open_chat(conv.clone());
    bob.run(&rt, task);
    let chat_b = bob.chat_window(&conv).expect("bob's group chat");
    assert!(
        bob.shows_part(chat_b, "图书馆二楼 <b>&</b>"),
        "the bar shows it as typed"
    );
    alice.pump_until(&rt, "the editor closed", |app| {
        app.windows
            .get(&settings_a)
            .is_some_and(|w| matches!(w, Window::Group(g) if g.asked.is_none()))
    });
    assert!(alice.shows_part(settings_a, "图书馆二楼"));

    // Carol asks to join; the request reaches alice and is let in from the settings window.
    carol
        .app
        .client
        .clone()
        .expect("carol's handle")
        .send(net::Command::JoinGroup { group: gid });
    alice.pump_until(&rt, "carol's request", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.join_requests.iter().any(|r| r.account == "carol"))
    });
    let main_a = alice.contacts_window();
    assert!(
        alice.shows(main_a, "Requests (1)"),
        "the friend list says a request waits"
    );
    assert!(alice.shows(settings_a, "carol"));
    alice.interact(&rt, settings_a, |ui| {
        ui.click("Accept").expect("let carol in");
    });
    carol.pump_until(&rt, "carol in the group", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.groups.contains_key(&gid))
    });
    alice.pump_until(&rt, "three members", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.members.get(&gid))
            .is_some_and(|ms| ms.len() == 3)
    });

    // Bob muted for ten minutes from his right-click menu: his input says until when.
    alice.interact(&rt, chat_a, |ui| right_click_member(ui, "bob"));
    assert!(alice.shows(chat_a, "Make admin"));
    alice.interact(&rt, chat_a, |ui| {
        ui.click("Mute 10 minutes").expect("the mute item");
    });
    bob.pump_until(&rt, "bob muted", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.silenced(gid, ququ::model::now_millis()).is_some())
    });
    assert!(bob.shows_part(chat_b, "You are muted until"));
    assert!(!bob.shows(chat_b, "Send"), "no input while muted");
    alice.pump_until(&rt, "bob's mute in alice's list", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.is_member_muted(gid, "bob", ququ::model::now_millis()))
    });
    assert!(
        alice.shows_part(chat_a, "Muted until"),
        "the member list says so"
    );
    alice.interact(&rt, chat_a, |ui| right_click_member(ui, "bob"));
    alice.interact(&rt, chat_a, |ui| {
        ui.click("Unmute").expect("the unmute item");
    });
    bob.pump_until(&rt, "bob speaks again", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.silenced(gid, ququ::model::now_millis()).is_none())
    });
    assert!(bob.shows(chat_b, "Send"));

    // Everyone muted: carol cannot speak; bob, made an admin, can.
    alice.interact(&rt, settings_a, |ui| {
        ui.click("Mute everyone (only the owner and admins speak)")
            .expect("mute everyone");
    });
    alice.interact(&rt, chat_a, |ui| right_click_member(ui, "bob"));
    alice.interact(&rt, chat_a, |ui| {
        ui.click("Make admin").expect("make bob an admin");
    });
    bob.pump_until(&rt, "bob an admin", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.manages(gid) && m.muted_groups.contains(&gid))
    });
    assert!(
        bob.shows(chat_b, "Send"),
        "an admin speaks in a muted group"
    );
    let task = carol.app.open_chat(conv.clone());
    carol.run(&rt, task);
    let chat_c = carol.chat_window(&conv).expect("carol's group chat");
    carol.pump_until(&rt, "everyone muted at carol's", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.muted_groups.contains(&gid))
    });
    assert!(carol.shows(
        chat_c,
        "Everyone is muted: only the owner and admins can speak."
    ));

    // Carol removed after "are you sure?".
    alice.interact(&rt, chat_a, |ui| right_click_member(ui, "carol"));
    alice.interact(&rt, chat_a, |ui| {
        ui.click("Remove…").expect("the remove item");
    });
    assert!(alice.shows_part(chat_a, "Remove carol from 读书会?"));
    alice.interact(&rt, chat_a, |ui| {
        ui.click("Remove").expect("confirm");
    });
    carol.pump_until(&rt, "carol out", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| !m.groups.contains_key(&gid))
    });
}

/// Issue 25: my profile (个人资料), opened from Settings, edited and saved: the new nickname, the
/// signature (个性签名) and the region reach a friend live — the signature under my name in their list,
/// the region beside my account in my menu, all three in the chat's header — and the dialog closes
/// once the server has taken each. Then a friend blocked (拉黑) from their menu is marked so in my list
/// (what the server then drops is the server tests'), and the menu offers Unblock.
#[test]
fn a_profile_reaches_friends_and_a_block_is_marked() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let (mut alice, mut bob) = friends(&rt, &server);
    let main_a = alice.contacts_window();
    alice.show_dialog(&rt, main_a, Dialog::settings());
    alice.interact(&rt, main_a, |ui| {
        ui.click("Edit profile…").expect("Settings' profile button");
    });
    assert!(alice.shows(main_a, "My profile"), "the dialog's title");
    let type_into = |field: &'static str, text: &'static str| {
        move |ui: &mut Simulator<'_, Message>| {
            ui.click(id(field)).expect("the field");
            let _ = ui.typewrite(text);
        }
    };
    alice.interact(&rt, main_a, |ui| {
        ui.click(id(dialog::profile::NICKNAME)).expect("the field");
        // The nickname starts as it is ("alice" here): emptied first.
        for _ in 0..10 {
            let _ = ui.tap_key(Named::Backspace);
        }
        let _ = ui.typewrite("爱丽丝");
    });
    alice.interact(
        &rt,
        main_a,
        type_into(dialog::profile::SIGNATURE, "周末去爬山 <b>&</b>"),
    );
    alice.interact(&rt, main_a, type_into(dialog::profile::REGION, "上海"));
    alice.interact(&rt, main_a, |ui| {
        ui.click("Save").expect("the dialog's Save");
    });
    bob.pump_until(&rt, "alice's profile at bob's", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.friends.get("alice"))
            .is_some_and(|f| {
                f.nickname == "爱丽丝"
                    && f.profile.signature == "周末去爬山 <b>&</b>"
                    && f.profile.region == "上海"
            })
    });
    alice.pump_until(&rt, "the dialog done", |app| {
        app.windows
            .values()
            .any(|w| matches!(w, Window::Contacts(s) if s.dialog.is_none()))
    });
    assert_eq!(
        alice.app.model.as_ref().map(|m| m.nickname.as_str()),
        Some("爱丽丝")
    );
    let main_b = bob.contacts_window();
    bob.interact(&rt, main_b, |ui| {
        ui.click("Friends").expect("the friends tab");
    });
    assert!(
        bob.shows_part(main_b, "周末去爬山 <b>&</b>"),
        "under alice's name"
    );
    bob.show_dialog(&rt, main_b, Dialog::friend_menu("alice"));
    assert!(
        bob.shows(main_b, "alice · 上海"),
        "the menu says who she is"
    );
    bob.update(
        &rt,
        Message::Contacts(main_b, contacts::Message::Open(Conv::User("alice".into()))),
    );
    let chat_b = bob
        .chat_window(&Conv::User("alice".into()))
        .expect("bob's chat with alice");
    assert!(
        bob.shows_part(chat_b, "· 上海 · 周末去爬山 <b>&</b>"),
        "the chat's header"
    );

    bob.show_dialog(&rt, main_b, Dialog::friend_menu("alice"));
    bob.interact(&rt, main_b, |ui| {
        ui.click("Block").expect("the menu's Block");
    });
    bob.pump_until(&rt, "alice blocked", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.blocked.contains_key("alice"))
    });
    assert!(bob.shows_part(main_b, "[Online] Blocked"));
    bob.show_dialog(&rt, main_b, Dialog::friend_menu("alice"));
    assert!(bob.shows(main_b, "Unblock"), "the menu offers the way back");
    // Settings has the block list, with the way back too.
    bob.show_dialog(&rt, main_b, Dialog::settings());
    bob.interact(&rt, main_b, |ui| {
        ui.click("Blocked…").expect("Settings' block list");
    });
    assert!(bob.shows(main_b, "Blocked (1)"), "the list's title");
    assert!(bob.shows_part(main_b, "Blocked since "), "when");
    bob.interact(&rt, main_b, |ui| {
        ui.click("Unblock").expect("the list's Unblock");
    });
    bob.pump_until(&rt, "alice unblocked", |app| {
        app.model.as_ref().is_some_and(|m| m.blocked.is_empty())
    });
    assert!(
        bob.shows_part(main_b, "You have not blocked anyone."),
        "the list, now empty, stays open and says so"
    );
    assert!(!bob.shows_part(main_b, "[Online] Blocked"));

    // A stranger's friend request: Block (拉黑) in the requests dialog drops it, and lists them.
    let mut carol = Client::new(&rt, &server);
    carol.log_in(&rt, "carol", "secret789", true);
    carol
        .app
        .client
        .clone()
        .expect("carol's handle")
        .send(net::Command::AddFriend {
            account: "bob".into(),
            note: "加个好友，低价代购".into(),
        });
    bob.pump_until(&rt, "carol's request", |app| {
        app.model.as_ref().is_some_and(|m| !m.requests.is_empty())
    });
    bob.show_dialog(&rt, main_b, Dialog::Requests);
    assert!(bob.shows_part(main_b, "低价代购"));
    bob.interact(&rt, main_b, |ui| {
        ui.click("Block").expect("the request's Block");
    });
    bob.pump_until(&rt, "carol blocked, her request gone", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.blocked.contains_key("carol") && m.requests.is_empty())
    });

    // Change password from Settings: a wrong current one is said in words, the right one changes it.
    alice.show_dialog(&rt, main_a, Dialog::settings());
    alice.interact(&rt, main_a, |ui| {
        ui.click("Password…").expect("Settings' Change password");
    });
    let type_into = |field: &'static str, text: &'static str| {
        move |ui: &mut Simulator<'_, Message>| {
            ui.click(id(field)).expect("the field");
            let _ = ui.typewrite(text);
        }
    };
    alice.interact(&rt, main_a, type_into(dialog::password::OLD, "not-it-123"));
    alice.interact(&rt, main_a, type_into(dialog::password::NEW, "newsecret1"));
    // Enter in the same interaction: each one draws the window anew, without the field's focus.
    alice.interact(&rt, main_a, |ui| {
        ui.click(id(dialog::password::AGAIN)).expect("the field");
        let _ = ui.typewrite("newsecret1");
        let _ = ui.tap_key(Named::Enter);
    });
    let dialog_is = |app: &App, f: &dyn Fn(&dialog::password::State) -> bool| {
        app.windows.values().any(|w| {
            matches!(w, Window::Contacts(s) if matches!(&s.dialog, Some(Dialog::Password(p)) if f(p)))
        })
    };
    alice.pump_until(&rt, "the refusal", |app| {
        dialog_is(app, &|p| p.refused.is_some())
    });
    assert!(alice.shows(main_a, "The current password is wrong."));
    alice.update(
        &rt,
        Message::Contacts(
            main_a,
            contacts::Message::Dialog(dialog::Message::Password(dialog::password::Message::Old(
                "secret123".into(),
            ))),
        ),
    );
    alice.interact(&rt, main_a, |ui| {
        ui.click(id(dialog::password::AGAIN)).expect("the field");
        let _ = ui.tap_key(Named::Enter);
    });
    alice.pump_until(&rt, "the password changed", |app| {
        dialog_is(app, &|p| p.done)
    });
    assert!(alice.shows_part(main_a, "Password changed."));
    assert!(!alice.shows(main_a, "Cancel"), "nothing left to cancel");
}

/// Issue 25: friend groups (好友分组). From the default group's header alice adds "同事", moves bob
/// into it from his menu, and folds it shut: bob is hidden under "▶ 同事 1/1" and the fold is kept for
/// her account; the group reaches her other device live (the server keeps them). A second group, and
/// 同事 moved down below it; deleting 同事 from its header, after asking, puts bob back under My
/// friends.
#[test]
fn friend_groups_are_made_moved_into_folded_and_deleted_from_the_friend_list() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let (mut alice, _bob) = friends(&rt, &server);
    let main_a = alice.contacts_window();
    alice.interact(&rt, main_a, |ui| {
        ui.click("Friends").expect("the friends tab");
    });
    assert!(
        alice.shows(main_a, "My friends 1/1"),
        "one group, bob online"
    );

    // Add a group from the default group's header.
    alice.interact(&rt, main_a, |ui| {
        right_click(ui, contacts::State::category_header_id(0));
    });
    assert!(
        !alice.shows(main_a, "Rename group…"),
        "the default group is neither renamed nor deleted"
    );
    alice.interact(&rt, main_a, |ui| {
        ui.click("Add group…").expect("the header menu's Add group");
    });
    alice.interact(&rt, main_a, |ui| {
        ui.click(id(dialog::category_name::INPUT))
            .expect("the name field");
        let _ = ui.typewrite("同事");
        let _ = ui.tap_key(Named::Enter);
    });
    alice.pump_until(&rt, "the new group", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.categories.iter().any(|c| c.name == "同事"))
    });
    let group = alice.app.model.as_ref().unwrap().categories[0].id;
    assert!(alice.shows(main_a, "同事 0/0"), "an empty group shows too");

    // Another device of alice's hears of it.
    let mut phone = Client::new(&rt, &server);
    phone.log_in(&rt, "alice", "secret123", false);
    phone.pump_until(&rt, "the group on the phone", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.categories.iter().any(|c| c.id == group))
    });

    // Move bob there from his menu.
    alice.show_dialog(&rt, main_a, Dialog::friend_menu("bob"));
    alice.interact(&rt, main_a, |ui| {
        ui.click("Move to group…").expect("the friend menu's Move");
    });
    assert!(
        alice.shows(main_a, "My friends (here now)"),
        "where he is now"
    );
    alice.interact(&rt, main_a, |ui| {
        ui.click("同事").expect("the group to move to");
    });
    alice.pump_until(&rt, "bob in 同事", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.friends.get("bob").is_some_and(|f| f.category == group))
    });
    assert!(alice.shows(main_a, "同事 1/1"));
    assert!(alice.shows(main_a, "My friends 0/0"));
    assert!(alice.shows(main_a, "bob"), "under 同事, open");
    phone.pump_until(&rt, "bob moved on the phone", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.friends.get("bob").is_some_and(|f| f.category == group))
    });

    // Fold it: bob is hidden, the header says so, and the fold is kept for this account.
    alice.interact(&rt, main_a, |ui| {
        ui.click("同事 1/1").expect("the group's header");
    });
    assert!(alice.shows(main_a, "▶"), "a folded header");
    assert!(!alice.shows(main_a, "bob"), "bob is folded away");
    let folded = alice
        .app
        .settings
        .chats
        .values()
        .any(|c| c.collapsed == [group]);
    assert!(folded, "the fold is in the settings");
    alice.interact(&rt, main_a, |ui| {
        ui.click("同事 1/1").expect("the group's header");
    });
    assert!(alice.shows(main_a, "bob"), "open again");

    // A second group, and 同事 moved down below it from its header's menu.
    alice.interact(&rt, main_a, |ui| {
        right_click(ui, contacts::State::category_header_id(group));
    });
    assert!(
        !alice.shows(main_a, "Move down"),
        "the only group goes neither up nor down"
    );
    alice.interact(&rt, main_a, |ui| {
        ui.click("Add group…").expect("the header menu's Add group");
    });
    alice.interact(&rt, main_a, |ui| {
        ui.click(id(dialog::category_name::INPUT))
            .expect("the name field");
        let _ = ui.typewrite("家人");
        let _ = ui.tap_key(Named::Enter);
    });
    alice.pump_until(&rt, "the second group", |app| {
        app.model.as_ref().is_some_and(|m| m.categories.len() == 2)
    });
    alice.interact(&rt, main_a, |ui| {
        right_click(ui, contacts::State::category_header_id(group));
    });
    assert!(!alice.shows(main_a, "Move up"), "first of mine already");
    alice.interact(&rt, main_a, |ui| {
        ui.click("Move down").expect("the header menu's Move down");
    });
    alice.pump_until(&rt, "同事 below 家人", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.categories.last().is_some_and(|c| c.id == group))
    });

    // Delete it from its header, after asking: bob is back under My friends.
    alice.interact(&rt, main_a, |ui| {
        right_click(ui, contacts::State::category_header_id(group));
    });
    alice.interact(&rt, main_a, |ui| {
        ui.click("Delete group").expect("the header menu's Delete");
    });
    assert!(alice.shows_part(main_a, "Its friends move to My friends"));
    alice.interact(&rt, main_a, |ui| {
        ui.click("Delete").expect("the confirmation");
    });
    alice.pump_until(&rt, "the group gone", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.categories.iter().all(|c| c.id != group))
    });
    assert!(alice.shows(main_a, "My friends 1/1"));
    assert!(alice.app.model.as_ref().unwrap().friends["bob"].category == 0);
}

/// A picture picked before avatars were the server's was kept on that computer only: once it is read
/// at login and the server says I have none, it goes up, and a friend sees it at last; the copy here
/// then goes (the server's is what shows), so a removal made on another device is not undone by it.
#[test]
fn an_avatar_kept_from_before_goes_up_to_the_server() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let (mut alice, mut bob) = friends(&rt, &server);
    let blue = image::Rgba([30, 60, 200, 255]);
    let picture = image::RgbaImage::from_pixel(128, 128, blue);
    // What reading `avatar.png` at login gives.
    alice.update(&rt, Message::AvatarLoaded(Some(picture)));
    bob.pump_until(&rt, "alice's old avatar at bob's", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.user_avatar("alice"))
            .is_some_and(|p| *p.get_pixel(64, 64) == blue)
    });
    alice.pump_until(&rt, "the copy here let go", |app| {
        app.avatar.is_none()
            && !app.avatar_sent
            && app.model.as_ref().is_some_and(|m| m.my_avatar_known())
    });
}

/// Avatars kept by the server (issue 25): a picture set from Settings in one app (what "Change avatar…"
/// gives once the picked file is cropped and scaled; the file dialog is the OS's) reaches a friend's app,
/// decoded once into its model; one the server refuses is said in Settings in words; the group settings
/// window offers "Change group avatar…" to the owner only, and the group's picture reaches a member.
#[test]
fn an_avatar_set_in_one_app_shows_in_a_friends() {
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&rt, server_dir.path().to_path_buf());
    let (mut alice, mut bob) = friends(&rt, &server);
    let main_a = alice.contacts_window();
    alice.show_dialog(&rt, main_a, Dialog::settings());
    let red = image::Rgba([200, 30, 30, 255]);
    let picture = image::RgbaImage::from_pixel(128, 128, red);
    alice.update(&rt, Message::AvatarImported(Ok(picture)));
    bob.pump_until(&rt, "alice's avatar at bob's", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.user_avatar("alice"))
            .is_some_and(|p| p.dimensions() == (128, 128) && *p.get_pixel(64, 64) == red)
    });
    alice.pump_until(&rt, "mine as the server has it", |app| {
        app.model.as_ref().is_some_and(|m| m.my_avatar_known()) && !app.avatar_sent
    });
    // One picture decoded for everyone who shows it.
    assert_eq!(bob.app.model.as_ref().unwrap().pictures.len(), 1);

    // Bytes that are no picture: the server's refusal, in Settings.
    alice.app.avatar_sent = true;
    let handle = alice.app.client.clone().expect("alice's handle");
    handle.send(net::Command::SetAvatar {
        image: b"hello".to_vec(),
    });
    alice.pump_until(&rt, "the refusal", |app| !app.avatar_sent);
    assert!(alice.shows(
        main_a,
        "The server takes only PNG and JPEG pictures as avatars."
    ));

    // A group: its owner's settings window offers the change, a member's does not.
    handle.send(net::Command::CreateGroup {
        name: "读书会".into(),
    });
    alice.pump_until(&rt, "the group", |app| {
        app.model.as_ref().is_some_and(|m| !m.groups.is_empty())
    });
    let gid = *alice
        .app
        .model
        .as_ref()
        .unwrap()
        .groups
        .keys()
        .next()
        .unwrap();
    handle.send(net::Command::Invite {
        group: gid,
        account: "bob".into(),
    });
    bob.pump_until(&rt, "bob in the group", |app| {
        app.model
            .as_ref()
            .is_some_and(|m| m.groups.contains_key(&gid))
    });
    let task = alice.app.open_group_settings(gid);
    alice.run(&rt, task);
    let settings_a = alice
        .window(|w| matches!(w, Window::Group(g) if g.group == gid))
        .expect("alice's group settings");
    alice.pump_until(&rt, "the member list", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.members.get(&gid))
            .is_some_and(|ms| ms.len() == 2)
    });
    assert!(alice.shows(settings_a, "Change group avatar…"));
    let task = bob.app.open_group_settings(gid);
    bob.run(&rt, task);
    let settings_b = bob
        .window(|w| matches!(w, Window::Group(g) if g.group == gid))
        .expect("bob's group settings");
    bob.pump_until(&rt, "the member list", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.members.get(&gid))
            .is_some_and(|ms| ms.len() == 2)
    });
    assert!(!bob.shows(settings_b, "Change group avatar…"));

    let blue = image::Rgba([20, 60, 220, 255]);
    let png = ququ::avatar::encode_for_upload(&image::RgbaImage::from_pixel(128, 128, blue), 32768)
        .expect("encoded");
    alice.update(&rt, Message::GroupAvatarReady(gid, Ok(png)));
    bob.pump_until(&rt, "the group's avatar at bob's", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.group_avatar(gid))
            .is_some_and(|p| *p.get_pixel(0, 0) == blue)
    });
    alice.pump_until(&rt, "the change taken", |app| {
        app.windows
            .get(&settings_a)
            .is_some_and(|w| matches!(w, Window::Group(g) if g.asked.is_none()))
    });
}

/// Issue 25: a search result far back in a long chat opens the chat at it with only the messages around
/// it (not everything since), and "Back to newest" floats over the chat; "Later messages" at its bottom
/// brings the next page; a message that comes meanwhile shows in Recent, not after the hole; the button
/// brings the newest messages back, the new one with them.
#[test]
fn a_jump_far_back_shows_the_messages_around_it_and_back_to_newest() {
    use ququ::window::history;
    let rt = runtime();
    let server_dir = tempfile::tempdir().expect("temp dir");
    let mut config = ququ_server::Config::new(server_dir.path().to_path_buf());
    config.limits.rate = 0;
    let (server, _stop) = start_server_with(&rt, config, "127.0.0.1:0");
    let (mut alice, bob) = long_chat_then_restart(&rt, &server, 150);
    let to_alice = Conv::User("alice".into());
    let to_bob = Conv::User("bob".into());
    let handle = bob.app.client.clone().expect("bob's handle");
    let task = alice.app.open_chat(to_bob.clone());
    alice.run(&rt, task);
    let chat = alice.chat_window(&to_bob).expect("the chat");
    let lines = |app: &App| -> Vec<String> {
        app.model
            .as_ref()
            .and_then(|m| m.conversations.get(&to_bob))
            .map(|c| c.lines.iter().map(|l| l.text.clone()).collect())
            .unwrap_or_default()
    };
    alice.pump_until(&rt, "the newest page", |app| {
        lines(app).iter().any(|l| l == "第 150 条消息")
    });
    assert!(!alice.shows(chat, "Back to newest"), "at the newest");

    alice.interact(&rt, chat, |ui| {
        ui.click("Chat history")
            .expect("the toolbar's Chat history");
    });
    let found = alice
        .window(|w| matches!(w, Window::History(_)))
        .expect("the history window");
    alice.interact(&rt, found, |ui| {
        ui.click(id(history::State::search_id()))
            .expect("the search");
        let _ = ui.typewrite("烤鸭");
    });
    let server_id = match alice.app.windows.get(&found) {
        Some(Window::History(h)) => h.shown().first().and_then(|r| r.1),
        _ => None,
    }
    .expect("the result");
    let client_id = rt
        .block_on(
            alice
                .app
                .client
                .as_ref()
                .expect("client")
                .store()
                .message_by_server_id(server_id),
        )
        .ok()
        .flatten()
        .map(|m| m.client_id)
        .expect("stored");
    alice.interact(&rt, found, |ui| {
        ui.click(id(history::State::result_id(&client_id)))
            .expect("the result");
    });
    alice.pump_until(&rt, "the jump done", |app| {
        matches!(app.windows.get(&chat), Some(Window::Chat(c)) if c.jump.is_none())
            && lines(app).iter().any(|l| l == "周末去北京吃烤鸭吗")
    });
    let shown = lines(&alice.app);
    assert!(shown.len() <= 61, "{} lines", shown.len());
    assert_eq!(
        shown.first().map(String::as_str),
        Some("周末去北京吃烤鸭吗")
    );
    assert!(
        !shown.iter().any(|l| l == "第 150 条消息"),
        "not the newest"
    );
    assert!(alice.shows(chat, "周末去北京吃烤鸭吗"));
    assert!(alice.shows(chat, "Back to newest"));
    assert!(alice.shows(chat, "Later messages"));
    // The page after the last line, as scrolling to the bottom asks for it: the next 30, still apart
    // from the newest.
    assert_eq!(shown.last().map(String::as_str), Some("第 31 条消息"));
    alice.interact(&rt, chat, |ui| {
        ui.click("Later messages").expect("the link");
    });
    alice.pump_until(&rt, "the page after", |app| {
        lines(app).last().map(String::as_str) == Some("第 61 条消息")
    });
    assert_eq!(lines(&alice.app).len(), 61);
    assert!(alice.shows(chat, "Back to newest"));

    // A message meanwhile: in Recent, not after the last line shown.
    handle.send(net::Command::SendText {
        conv: to_alice.clone(),
        text: "还在吗".into(),
    });
    alice.pump_until(&rt, "Recent has it", |app| {
        app.model
            .as_ref()
            .and_then(|m| m.recent().first().map(|(_, l)| l.text == "还在吗"))
            .unwrap_or(false)
    });
    assert!(!lines(&alice.app).iter().any(|l| l == "还在吗"));
    let main = alice.contacts_window();
    assert!(alice.shows_part(main, "还在吗"));

    alice.interact(&rt, chat, |ui| {
        ui.click("Back to newest").expect("the button");
    });
    alice.pump_until(&rt, "the newest again", |app| {
        let shown = lines(app);
        shown.iter().any(|l| l == "第 150 条消息") && shown.iter().any(|l| l == "还在吗")
    });
    assert!(!alice.shows(chat, "Back to newest"));
    assert!(alice.shows(chat, "还在吗"));
    assert!(lines(&alice.app).len() <= 31);
}
