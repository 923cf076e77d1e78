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
