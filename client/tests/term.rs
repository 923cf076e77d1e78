//! `ququ-term` driven through its standard input, against the real server.

mod common;

use std::process::Stdio;

use common::PATIENCE;
use common::server::{TestServer, User, befriend, content};
use ququ_client::{Conv, Event, TransferId, TransferState};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

struct Term {
    child: Child,
    stdin: ChildStdin,
    out: mpsc::UnboundedReceiver<String>,
    /// Everything printed so far, for failure messages.
    transcript: Vec<String>,
}

impl Term {
    /// Starts the `ququ-term` built with these tests, or the command line in `QUQU_TERM_CMD` (split on
    /// spaces): packaging/windows-smoke.sh sets it to `wine …/ququ-term.exe` to check the Windows build.
    fn spawn(args: &[&str]) -> Term {
        let cmd = std::env::var("QUQU_TERM_CMD").unwrap_or_default();
        let mut words = cmd.split_whitespace();
        let mut child = Command::new(words.next().unwrap_or(env!("CARGO_BIN_EXE_ququ-term")))
            .args(words)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("ququ-term did not start");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, out) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Term {
            child,
            stdin,
            out,
            transcript: Vec::new(),
        }
    }

    async fn type_line(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// Waits for an output line containing `want` and returns it.
    async fn expect(&mut self, want: &str) -> String {
        let found = tokio::time::timeout(PATIENCE, async {
            while let Some(line) = self.out.recv().await {
                self.transcript.push(line.clone());
                if line.contains(want) {
                    return Some(line);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(line)) => line,
            _ => panic!(
                "ququ-term never printed `{want}`; it printed:\n{}",
                self.transcript.join("\n")
            ),
        }
    }
}

#[tokio::test]
async fn the_terminal_client_logs_in_sends_and_receives() {
    let server = TestServer::start().await;
    let mut bob = User::register(&server.addr, "bob").await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap().to_owned();
    let mut term = Term::spawn(&[
        "--server",
        &server.addr,
        "--user",
        "carol",
        "--register",
        "--data-dir",
        &data_dir,
    ]);
    // Not a terminal, so the password is the first line.
    term.type_line("password1").await;
    term.expect("logged in as carol").await;

    // A friend request from bob, accepted from the terminal.
    bob.handle.add_friend("carol", "it's bob");
    term.expect("bob wants to be your friend").await;
    term.type_line("/accept bob").await;
    bob.wait(
        "carol accepted",
        |e| matches!(e, Event::FriendChanged(f) if f.account == "carol"),
    )
    .await;

    // Sending: switch to bob and send in one go, then a plain line to the same chat.
    term.type_line("/msg bob hello from the terminal").await;
    term.expect("now chatting with bob").await;
    term.type_line("第二行: with a colon").await;
    for text in ["hello from the terminal", "第二行: with a colon"] {
        bob.wait(
            text,
            |e| matches!(e, Event::Message(m) if m.from == "carol" && m.text == text),
        )
        .await;
    }

    // Receiving: time and sender, as the original printed them.
    bob.handle
        .send_text(Conv::User("carol".into()), "hi terminal");
    let line = term.expect("bob: hi terminal").await;
    assert!(line.starts_with('['), "no time stamp: {line}");

    // Local history and search.
    term.type_line("/history 10").await;
    term.expect("me: 第二行: with a colon").await;
    term.type_line("/search 第二").await;
    term.expect("1 result(s)").await;
    term.type_line("/friends").await;
    term.expect("bob (bob) online").await;
    term.type_line("/nonsense").await;
    term.expect("unknown command /nonsense").await;

    // Presence notices like the original's.
    bob.stop().await;
    term.expect("bob is offline").await;

    term.type_line("/quit").await;
    let status = tokio::time::timeout(PATIENCE, term.child.wait())
        .await
        .expect("ququ-term did not exit")
        .unwrap();
    assert!(status.success(), "{status:?}");
    server.stop().await;
}

#[tokio::test]
async fn the_terminal_client_reports_a_wrong_password_and_exits() {
    let server = TestServer::start().await;
    let bob = User::register(&server.addr, "bob").await;
    let data = tempfile::tempdir().unwrap();
    let mut term = Term::spawn(&[
        "--server",
        &server.addr,
        "--user",
        "bob",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    term.type_line("not the password").await;
    term.expect("login refused").await;
    let status = tokio::time::timeout(PATIENCE, term.child.wait())
        .await
        .expect("ququ-term did not exit")
        .unwrap();
    assert!(!status.success());
    bob.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn the_terminal_client_sends_and_gets_files() {
    let server = TestServer::start().await;
    let mut bob = User::register(&server.addr, "bob").await;
    {
        let mut carol = User::register(&server.addr, "carol").await;
        befriend(&mut bob, &mut carol).await;
        carol.stop().await;
    }
    let data = tempfile::tempdir().unwrap();
    let mut term = Term::spawn(&[
        "--server",
        &server.addr,
        "--user",
        "carol",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    term.type_line("password1").await;
    term.expect("logged in as carol").await;

    // /send, to the current chat.
    let files = tempfile::tempdir().unwrap();
    let mine = content(1_300_000, 5);
    let path = files.path().join("notes from carol.txt");
    std::fs::write(&path, &mine).unwrap();
    term.type_line("/msg bob").await;
    term.expect("now chatting with bob").await;
    term.type_line(&format!("/send {}", path.display())).await;
    term.expect("sent notes from carol.txt").await;
    let file = match bob
        .wait(
            "carol's file",
            |e| matches!(e, Event::Message(m) if m.file.is_some()),
        )
        .await
    {
        Event::Message(m) => m.file.unwrap(),
        _ => unreachable!(),
    };
    let inbox = tempfile::tempdir().unwrap();
    let down = bob
        .handle
        .download_file(file.file_id, Some(inbox.path().to_path_buf()));
    let saved = match bob
        .wait(
            "downloaded",
            |e| matches!(e, Event::Transfer(t) if t.id == down && t.state == TransferState::Done),
        )
        .await
    {
        Event::Transfer(t) => t.path,
        _ => unreachable!(),
    };
    assert_eq!(std::fs::read(saved).unwrap(), mine);

    // An offer from bob, announced with the command that fetches it; /files lists it; /get saves it.
    let theirs = content(2_000_000, 9);
    let report = files.path().join("report.pdf");
    std::fs::write(&report, &theirs).unwrap();
    let id = TransferId::Upload(bob.handle.send_file(Conv::User("carol".into()), &report));
    bob.wait(
        "sent",
        |e| matches!(e, Event::Transfer(t) if t.id == id && t.state == TransferState::Done),
    )
    .await;
    let line = term
        .expect("bob sent a file: report.pdf (1.9 MB) — /get ")
        .await;
    let file_id = line.rsplit(' ').next().unwrap().to_owned();
    term.type_line("/files").await;
    term.expect(&format!("/get {file_id}")).await;
    let into = tempfile::tempdir().unwrap();
    term.type_line(&format!("/get {file_id} {}", into.path().display()))
        .await;
    term.expect("saved report.pdf as").await;
    assert_eq!(
        std::fs::read(into.path().join("report.pdf")).unwrap(),
        theirs
    );

    term.type_line("/quit").await;
    let status = tokio::time::timeout(PATIENCE, term.child.wait())
        .await
        .expect("ququ-term did not exit")
        .unwrap();
    assert!(status.success(), "{status:?}");
    bob.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn the_terminal_asks_like_ssh_before_trusting_a_self_signed_server_then_remembers() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = ququ_server::tls::default_paths(certs.path());
    let fingerprint = ququ_server::tls::generate(&["localhost".into()], &cert, &key).unwrap();
    let server = TestServer::start_with(|c| {
        c.tls = Some(ququ_server::config::TlsFiles { cert, key });
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap().to_owned();
    let args = [
        "--server",
        &server.addr,
        "--user",
        "dave",
        "--register",
        "--tls",
        "--data-dir",
        &data_dir,
    ];

    // "no" leaves without pinning anything or logging in.
    let mut term = Term::spawn(&args);
    term.type_line("password1").await;
    term.expect(&format!("fingerprint: {fingerprint}")).await;
    term.expect("Trust it and connect (yes/no)?").await;
    term.type_line("no").await;
    let status = term.child.wait().await.unwrap();
    assert!(!status.success());
    assert_eq!(
        ququ_client::tls::pinned(data.path(), &server.addr).unwrap(),
        None
    );

    // "yes" pins it and connects.
    let mut term = Term::spawn(&args);
    term.type_line("password1").await;
    term.expect("Trust it and connect (yes/no)?").await;
    term.type_line("yes").await;
    term.expect("logged in as dave").await;
    term.type_line("/quit").await;
    assert!(term.child.wait().await.unwrap().success());

    // Next time it does not ask.
    let mut term = Term::spawn(&args);
    term.type_line("password1").await;
    term.expect("logged in as dave").await;
    assert!(!term.transcript.iter().any(|l| l.contains("yes/no")));
    term.type_line("/quit").await;
    assert!(term.child.wait().await.unwrap().success());
    server.stop().await;
}

/// Issue 20, item 5: control characters in what a server sends (history stored before the server refused
/// them, or another server) once reached the terminal raw — a message cleared the screen, faked a server
/// prompt and set the window title. `ququ-term` shows them as `^[`, `^G`, …, live, in `/history` and in
/// `/search`, in the text and in names.
#[tokio::test]
async fn the_terminal_shows_control_characters_it_receives_instead_of_obeying_them() {
    use futures::SinkExt;
    use tokio_util::codec::Framed;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let data = tempfile::tempdir().unwrap();
    let mut term = Term::spawn(&[
        "--server",
        &addr,
        "--user",
        "carol",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    term.type_line("password1").await;
    let (stream, _) = tokio::time::timeout(PATIENCE, listener.accept())
        .await
        .expect("ququ-term never connected")
        .unwrap();
    let mut server = Framed::new(stream, ququ_protocol::LineCodec::default());
    // Left unanswered: the terminal carries on as with a server from before them.
    assert_eq!(
        recv(&mut server).await,
        "FEATURES:SAID,RECALLED,READ,TYPING,GROUP_ROLE,GROUP_MUTE,GROUP_NOTICE,GROUP_EVENT,PROFILE,BLOCK,CATEGORY,AVATAR"
    );
    assert_eq!(recv(&mut server).await, "LOGIN:carol:password1");
    server.send("LOGIN:true:1:carol:Carol:tok1:").await.unwrap();
    let hostile = "boom\x1b[2J\x1b]0;owned\x07\n*** SERVER: session expired\x00\x7f\u{9b}2J";
    let time = 1_764_028_805_000u64;
    loop {
        let line = recv(&mut server).await;
        if let Some(rest) = line.strip_prefix("SYNC:") {
            assert!(rest.starts_with("0:"), "{line}");
            break;
        }
    }
    let msg = |id: u64, text: String| {
        ququ_protocol::ServerMessage::Msg(ququ_protocol::ChatMessage {
            id,
            from: "mal\x1blory".into(),
            to: "carol".into(),
            time,
            client_id: format!("c{id}"),
            text,
        })
        .format()
    };
    server.send(msg(1, hostile.to_owned())).await.unwrap();
    server.send("SYNC_END:1:0").await.unwrap();
    term.expect("logged in as carol").await;
    // Live.
    server
        .send(msg(2, format!("live {hostile}")))
        .await
        .unwrap();
    let live = term.expect("live boom").await;
    assert!(
        live.contains("mal^[lory: live boom^[[2J^[]0;owned^G"),
        "{live}"
    );
    let rest = term.expect("session expired").await;
    assert!(
        rest.contains("*** SERVER: session expired^@^?<U+009B>2J") && !rest.starts_with('*'),
        "a second line of a message cannot pass for the client's own: {rest:?}"
    );
    // From history and search.
    term.type_line("/msg mal\x1blory").await;
    term.type_line("/history 10").await;
    let old = term.expect(": boom").await;
    assert!(old.contains("mal^[lory: boom^[[2J^[]0;owned^G"), "{old}");
    term.type_line("/search boom").await;
    term.expect("result(s)").await;
    term.expect(": boom^[[2J").await;
    assert!(
        !term
            .transcript
            .iter()
            .any(|l| l.chars().any(|c| c.is_control() && c != '\t')),
        "a control character reached the terminal: {:?}",
        term.transcript
    );
    term.type_line("/quit").await;
    drop(server);
    let _ = tokio::time::timeout(PATIENCE, term.child.wait()).await;
}

/// The next line ququ-term sent to a scripted server.
async fn recv(
    server: &mut tokio_util::codec::Framed<tokio::net::TcpStream, ququ_protocol::LineCodec>,
) -> String {
    use futures::StreamExt;
    tokio::time::timeout(PATIENCE, server.next())
        .await
        .expect("ququ-term went silent")
        .expect("ququ-term hung up")
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn the_terminal_client_shows_ids_quotes_mentions_and_recalls() {
    let server = TestServer::start().await;
    let mut bob = User::register(&server.addr, "bob").await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap().to_owned();
    let mut term = Term::spawn(&[
        "--server",
        &server.addr,
        "--user",
        "carol",
        "--register",
        "--data-dir",
        &data_dir,
    ]);
    term.type_line("password1").await;
    term.expect("logged in as carol").await;
    bob.handle.add_friend("carol", "");
    term.expect("bob wants to be your friend").await;
    term.type_line("/accept bob").await;
    bob.wait(
        "carol accepted",
        |e| matches!(e, Event::FriendChanged(f) if f.account == "carol"),
    )
    .await;
    term.type_line("/msg bob").await;
    term.expect("now chatting with bob").await;

    // Messages show their id; /reply quotes one, and bob's client gets the quote.
    bob.handle
        .send_text(Conv::User("carol".into()), "lunch at 12:30?");
    let line = term.expect("bob: lunch at 12:30?").await;
    let id: u64 = line
        .split_once(" #")
        .and_then(|(_, rest)| rest.split_once(']'))
        .and_then(|(id, _)| id.parse().ok())
        .unwrap_or_else(|| panic!("no id in `{line}`"));
    term.type_line(&format!("/reply #{id} sure")).await;
    let reply = match bob
        .wait(
            "carol's reply",
            |e| matches!(e, Event::Message(m) if m.text == "sure"),
        )
        .await
    {
        Event::Message(m) => m,
        _ => unreachable!(),
    };
    assert_eq!(reply.quote.unwrap().id, id);
    // My own message says its id once sent.
    let sent = term.expect("  sent #").await;
    let mine: u64 = sent.trim().trim_start_matches("sent #").parse().unwrap();

    // Bob's reply to it is shown under its quote.
    bob.handle.send_reply(
        Conv::User("carol".into()),
        Some(mine),
        Default::default(),
        "great",
    );
    term.expect(&format!("↳ re me #{mine}: sure")).await;
    term.expect("bob: great").await;

    // Recalls: bob's, as it happens and in the history; mine, and one refused with its code.
    bob.handle.recall(id);
    term.expect(&format!("bob recalled a message (#{id})"))
        .await;
    term.type_line("/history 10").await;
    term.expect("bob recalled a message").await;
    term.type_line(&format!("/recall {mine}")).await;
    term.expect(&format!("you recalled a message (#{mine})"))
        .await;
    term.type_line(&format!("/recall {id}")).await;
    term.expect(&format!("cannot recall #{id} (no_such_message)"))
        .await;
    term.type_line("/search sure").await;
    term.expect("0 result(s)").await;

    // A group message that mentions carol is marked.
    bob.handle.create_group("g");
    let group = match bob
        .wait("the group", |e| matches!(e, Event::GroupChanged(_)))
        .await
    {
        Event::GroupChanged(g) => g.id,
        _ => unreachable!(),
    };
    bob.handle.invite(group, "carol");
    term.expect(&format!("group {group}: g")).await;
    bob.handle.send_reply(
        Conv::Group(group),
        None,
        ququ_client::Mentions {
            all: false,
            accounts: vec!["carol".into()],
        },
        "@carol 来吗",
    );
    term.expect("bob [@you]: @carol 来吗").await;
    term.type_line("/quit").await;
    server.stop().await;
}

/// `/avatar <path>` sends a picture file as my avatar (a friend is told), `/friends` marks a friend who
/// has one, a friend's change is said, and `/avatar` alone clears mine.
#[tokio::test]
async fn the_terminal_sets_an_avatar_and_shows_who_has_one() {
    let server = TestServer::start().await;
    let mut bob = User::register(&server.addr, "bob").await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap().to_owned();
    let mut term = Term::spawn(&[
        "--server",
        &server.addr,
        "--user",
        "carol",
        "--register",
        "--data-dir",
        &data_dir,
    ]);
    term.type_line("password1").await;
    term.expect("logged in as carol").await;
    bob.handle.add_friend("carol", "it's bob");
    term.expect("bob wants to be your friend").await;
    term.type_line("/accept bob").await;
    bob.wait(
        "carol accepted",
        |e| matches!(e, Event::FriendChanged(f) if f.account == "carol"),
    )
    .await;

    // Any bytes that start like a PNG: the server checks no more, and the terminal sends them as they are.
    let path = data.path().join("my face.png");
    std::fs::write(&path, b"\x89PNG\r\n\x1a\nnot much of a picture").unwrap();
    term.type_line(&format!("/avatar {}", path.display())).await;
    term.expect("your avatar changed").await;
    bob.wait(
        "carol's avatar",
        |e| matches!(e, Event::Avatar { of: Conv::User(a), sha256: Some(_) } if a == "carol"),
    )
    .await;
    term.type_line("/avatar /no/such/file.png").await;
    term.expect("cannot read /no/such/file.png").await;

    bob.handle.set_avatar(b"\xff\xd8\xff one".to_vec());
    bob.wait("bob's own", |e| matches!(e, Event::Avatar { .. }))
        .await;
    // The terminal hears of it a moment after bob does, and says nothing of a first one: ask until the
    // list marks it.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        term.type_line("/friends").await;
        if term.expect("bob (bob) online").await.ends_with("[头像]") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never marked");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    bob.handle.set_avatar(b"\xff\xd8\xff two".to_vec());
    term.expect("bob's avatar changed").await;

    term.type_line("/avatar").await;
    term.expect("your avatar is the default one again").await;
    term.type_line("/quit").await;
    let _ = tokio::time::timeout(PATIENCE, term.child.wait()).await;
    server.stop().await;
}
