//! Issue 20, items 5, 7, 12, 13 and 14, over real TCP against a real server: control characters in
//! message text, who sees presence in `FIND:`, `SYNC:` under load and with cursors past `i64`, and a last
//! line cut short by the connection closing.

mod common;

use std::time::Duration;

use common::TestServer;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const QUIET: Duration = Duration::from_millis(300);

/// Item 13: a cursor of 2^63 or more once wrapped to a negative id in SQLite and `SYNC:` answered with the
/// whole history from the start; `HISTORY:`'s `before` wrapped the other way and showed nothing.
#[tokio::test]
async fn a_cursor_past_the_largest_id_syncs_nothing_and_a_before_past_it_shows_everything() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    alice.send("MSG:bob:c1:hello").await;
    alice.until("ACK:c1:").await;
    bob.until("MSG:").await;

    for cursor in ["18446744073709551615", "9223372036854775808"] {
        bob.send(&format!("SYNC:{cursor}:500")).await;
        bob.expect(&format!("SYNC_END:{cursor}:0")).await;
    }
    bob.send("SYNC:9223372036854775807:500").await;
    bob.expect("SYNC_END:9223372036854775807:0").await;

    for before in ["18446744073709551615", "9223372036854775808"] {
        bob.send(&format!("HISTORY:user:alice:{before}:20")).await;
        let page = bob.collect_until("HISTORY_END:").await;
        assert_eq!(page.len(), 2, "{page:?}");
        assert!(page[0].ends_with(":c1:hello"), "{page:?}");
        assert_eq!(page[1], "HISTORY_END:user:alice:1:0");
    }
}

/// A raw connection logged in as `account`, for tests that need to close the writing half.
async fn raw_login(
    server: &TestServer,
    account: &str,
) -> (
    BufReader<tokio::net::tcp::OwnedReadHalf>,
    tokio::net::tcp::OwnedWriteHalf,
) {
    let (r, mut w) = TcpStream::connect(server.addr).await.unwrap().into_split();
    let mut r = BufReader::new(r);
    w.write_all(format!("LOGIN:{account}:password\n").as_bytes())
        .await
        .unwrap();
    loop {
        let line = read_line(&mut r).await.expect("closed before login");
        if line.starts_with("LOGIN:") {
            assert!(line.starts_with("LOGIN:true:"), "{line}");
            return (r, w);
        }
    }
}

async fn read_line(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<String> {
    let mut line = String::new();
    let n = tokio::time::timeout(Duration::from_secs(10), r.read_line(&mut line))
        .await
        .expect("timed out waiting for a line")
        .ok()?;
    (n > 0).then(|| line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Item 14: a client that dies in the middle of writing a message sends a half line and then FIN. That
/// half was stored, pushed and acknowledged as if it were the whole message.
#[tokio::test]
async fn a_half_message_cut_off_by_the_connection_closing_is_refused_not_stored() {
    let server = TestServer::start().await;
    let (alice, mut bob) = server.friends("alice", "bob").await;
    drop(alice);
    let group = bob.create_group("team").await;

    let (mut r, mut w) = raw_login(&server, "alice").await;
    w.write_all(b"MSG:bob:c1:hel").await.unwrap();
    w.shutdown().await.unwrap();
    let mut said = Vec::new();
    while let Some(line) = read_line(&mut r).await {
        said.push(line);
    }
    assert!(!said.iter().any(|l| l.starts_with("ACK:")), "{said:?}");
    assert!(
        said.iter()
            .any(|l| l.starts_with("ERROR:bad_request:") && l.ends_with(":c1")),
        "the sender is told why: {said:?}"
    );

    // A group message cut short the same way (bob sends it, so no membership is needed).
    let (mut r, mut w) = raw_login(&server, "bob").await;
    w.write_all(format!("GROUP:{group}:g1:hal").as_bytes())
        .await
        .unwrap();
    w.shutdown().await.unwrap();
    let mut said = Vec::new();
    while let Some(line) = read_line(&mut r).await {
        said.push(line);
    }
    assert!(!said.iter().any(|l| l.starts_with("ACK:")), "{said:?}");

    let pushed = bob.drain(QUIET).await;
    assert!(
        !pushed
            .iter()
            .any(|l| l.starts_with("MSG:") || l.starts_with("GROUP:")),
        "{pushed:?}"
    );
    bob.send("SYNC:0:500").await;
    bob.expect("SYNC_END:0:0").await;

    // A whole last line still counts: the line ends with its `\n` and then the connection closes.
    let (mut r, mut w) = raw_login(&server, "alice").await;
    w.write_all(b"MSG:bob:c2:whole\n").await.unwrap();
    w.shutdown().await.unwrap();
    let mut said = Vec::new();
    while let Some(line) = read_line(&mut r).await {
        said.push(line);
    }
    assert!(said.iter().any(|l| l.starts_with("ACK:c2:")), "{said:?}");
    assert!(bob.until("MSG:").await.ends_with(":c2:whole"));
}

/// Item 5: message text with ESC, NUL or other control characters (raw or `%`-escaped) is refused; a
/// friend's message once cleared the screen and faked a server prompt in `ququ-term`. Tab and newline
/// (sent as `%0A`) are text.
#[tokio::test]
async fn message_text_with_control_characters_is_refused() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let group = alice.create_group("team").await;

    for (n, text) in [
        "a\x1b[2Jb",
        "a%1B]0;owned%07b",
        "nul\x00here",
        "bell\x07",
        "del\x7f",
        "csi\u{9b}2J",
        "a%0Db",
    ]
    .iter()
    .enumerate()
    {
        alice.send(&format!("MSG:bob:c{n}:{text}")).await;
        let reply = alice.recv().await;
        assert!(
            reply.starts_with("ERROR:bad_request:") && reply.ends_with(&format!(":c{n}")),
            "{text:?}: {reply}"
        );
        alice.send(&format!("GROUP:{group}:g{n}:{text}")).await;
        let reply = alice.recv().await;
        assert!(
            reply.starts_with("ERROR:bad_request:") && reply.ends_with(&format!(":g{n}")),
            "{text:?}: {reply}"
        );
    }
    let pushed = bob.drain(QUIET).await;
    assert!(!pushed.iter().any(|l| l.starts_with("MSG:")), "{pushed:?}");

    alice.send("MSG:bob:ok:tab\there%0Anext line").await;
    assert!(alice.recv().await.starts_with("ACK:ok:"));
    assert!(
        bob.until("MSG:")
            .await
            .ends_with(":ok:tab\there%0Anext line")
    );
    bob.send("SYNC:0:500").await;
    let page = bob.collect_until("SYNC_END:").await;
    assert_eq!(page.len(), 2, "only the good message was stored: {page:?}");
}

/// Item 7: `FIND:` told anyone whether any account was online. Now only friends see it (the default);
/// everyone else sees `offline`.
#[tokio::test]
async fn find_shows_presence_to_friends_only() {
    let server = TestServer::start().await;
    let (_alice, mut bob) = server.friends("alice", "bob").await;
    let mut carol = server.user("carol").await;

    carol.send("FIND:alice").await;
    assert_eq!(
        carol.collect_until("FOUND_END:").await,
        ["FOUND:alice:offline:alice", "FOUND_END:1"]
    );
    bob.send("FIND:alice").await;
    assert_eq!(
        bob.collect_until("FOUND_END:").await,
        ["FOUND:alice:online:alice", "FOUND_END:1"]
    );
    // One's own entry is no secret.
    carol.send("FIND:carol").await;
    assert_eq!(
        carol.collect_until("FOUND_END:").await,
        ["FOUND:carol:online:carol", "FOUND_END:1"]
    );
}

/// Item 7: an operator may choose the old behaviour, presence for everyone.
#[tokio::test]
async fn find_shows_presence_to_everyone_when_configured() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.find_presence = ququ_server::FindPresence::Everyone;
    })
    .await;
    let _alice = server.user("alice").await;
    let mut carol = server.user("carol").await;
    carol.send("FIND:alice").await;
    assert_eq!(
        carol.collect_until("FOUND_END:").await,
        ["FOUND:alice:online:alice", "FOUND_END:1"]
    );
}

/// Item 12: catching up from an old cursor held the one database lock for a whole page (about 105 ms
/// with 260,000 messages in view), so 32 connections of one user looping `SYNC:0:500` held up
/// everyone's messages: another user's `ACK` took 1.7 s at the median. Now a page is read through
/// indexes that stop at the page's end, on connections of its own that never wait for the writer, and
/// one user's syncs take turns. The probe's round-trips are bounded generously: the bound is far below
/// what the old server gave and far above what the new one needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_from_the_start_in_a_loop_do_not_hold_up_other_users_messages() {
    use ququ_server::storage::{Body, NewMessage, Target};

    const SYNCERS: usize = 32;
    const PRIVATE: usize = 130_000;
    const IN_GROUP: usize = 130_000;
    const PROBES: usize = 30;

    // The accounts, friendships and group through the protocol; then 260,000 messages straight into
    // the store while the server is stopped.
    let server = TestServer::start().await;
    let (mut alice, _bob) = server.friends("alice", "bob").await;
    let group: i64 = alice.create_group("big").await.parse().unwrap();
    drop(alice);
    drop(server.friends("carol", "dave").await);
    let dir = server.stop().await;
    // Off the runtime's own work: PostgreSQL's blocking client (test-cluster) runs a runtime of its own.
    tokio::task::block_in_place(|| {
        let store = common::open_store(dir.path());
        let id = |name: &str| store.user_by_account(name).unwrap().unwrap().id;
        let (a, b) = (id("alice"), id("bob"));
        let batch: Vec<NewMessage> = (0..PRIVATE + IN_GROUP)
            .map(|i| NewMessage {
                sender: if i % 2 == 0 { a } else { b },
                to: if i < PRIVATE {
                    Target::User(if i % 2 == 0 { b } else { a })
                } else {
                    Target::Group(group)
                },
                client_id: format!("bulk{i}"),
                time: 1_764_000_000_000 + i as u64,
                body: Body::Text(format!("message {i} of the backlog")),
                hidden: false,
            })
            .collect();
        for chunk in batch.chunks(10_000) {
            for r in store.store_messages(chunk) {
                r.unwrap();
            }
        }
    });
    let server = TestServer::start_with(dir, |_| {}).await;

    let mut first = server.connect().await;
    first.login("alice").await;
    let started = std::time::Instant::now();
    first.send("SYNC:0:500").await;
    let page = first.collect_until("SYNC_END:").await;
    eprintln!("one page alone: {:?}", started.elapsed());
    assert_eq!(page.len(), 501, "a full page");
    assert!(
        page[500].ends_with(":1"),
        "with more to come: {}",
        page[500]
    );
    let token = first.token.clone().unwrap();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pages = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut syncers = Vec::new();
    for _ in 0..SYNCERS {
        let mut p = server.connect().await;
        p.send(&format!("RESUME:alice:{token}")).await;
        assert!(p.until("LOGIN:").await.starts_with("LOGIN:true:"));
        let (stop, pages) = (stop.clone(), pages.clone());
        syncers.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                p.send("SYNC:0:500").await;
                let end = p.until("SYNC_END:").await;
                assert!(end.ends_with(":1"), "{end}");
                pages.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    let load_started = std::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut carol = server.connect().await;
    carol.login("carol").await;
    let mut round_trips = Vec::new();
    for i in 0..PROBES {
        let sent = std::time::Instant::now();
        carol.send(&format!("MSG:dave:p{i}:still there?")).await;
        carol.until(&format!("ACK:p{i}:")).await;
        round_trips.push(sent.elapsed());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for s in syncers {
        s.await.unwrap();
    }
    let loaded = load_started.elapsed();
    round_trips.sort();
    let median = round_trips[PROBES / 2];
    let p90 = round_trips[PROBES * 9 / 10];
    let pages = pages.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "{pages} sync pages in {loaded:?} ({:.0}/s); probe ACK round-trip median {median:?}, 90th \
         percentile {p90:?}, worst {:?}",
        pages as f64 / loaded.as_secs_f64(),
        round_trips[PROBES - 1]
    );
    // Before: median 0.26 ms but 90th percentile 4.9 s (a debug build on a shared 2-core machine).
    // After: 90th percentile under 50 ms.
    assert!(p90 < Duration::from_secs(1), "{round_trips:?}");
}
