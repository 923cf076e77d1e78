//! Issue 24 over real TCP against a real server: replies with quotes, recalls, mentions, read marks and
//! typing — for clients that ask for the new lines with `FEATURES:` and for ones that never do (the
//! original client, `nc`), which get readable text instead.

mod common;

use std::time::Duration;

use common::{Peer, TestServer};

const QUIET: Duration = Duration::from_millis(300);
const ALL: &str = "FEATURES:SAID,RECALLED,READ,TYPING";

/// Turns the newer lines on for this connection.
async fn features(p: &mut Peer) {
    p.send(ALL).await;
    p.expect(ALL).await;
}

/// The id in an `ACK:<client_id>:<id>:<time>`.
async fn acked(p: &mut Peer, client_id: &str) -> String {
    let ack = p.until(&format!("ACK:{client_id}:")).await;
    ack.split(':').nth(2).unwrap().to_owned()
}

/// A reply reaches a client with `SAID` as `SAID:` with its quote, and an old client as `MSG:` with the
/// quote written above the text; both see it again in `SYNC:` and `HISTORY:`.
#[tokio::test]
async fn a_reply_carries_its_quote_to_new_and_old_clients_live_and_in_sync() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    features(&mut bob).await;
    alice.send("MSG:bob:a1:lunch at 12:30?").await;
    let first = acked(&mut alice, "a1").await;
    bob.until("MSG:").await;

    bob.send(&format!("SEND:user:alice:b1:{first}::sure, see you"))
        .await;
    let id = acked(&mut bob, "b1").await;
    let old = alice.until("MSG:").await;
    assert!(
        old.ends_with(":b1:「alice：lunch at 12%3A30?」%0Asure, see you"),
        "{old}"
    );

    let mut bob2 = server.connect().await;
    features(&mut bob2).await;
    bob2.login("bob").await;
    bob2.send("SYNC:0:10").await;
    let page = bob2.collect_until("SYNC_END:").await;
    let said = page
        .iter()
        .find(|l| l.starts_with("SAID:"))
        .expect("no SAID");
    assert!(
        said.starts_with(&format!("SAID:{id}:user:alice:bob:")),
        "{said}"
    );
    assert!(
        said.ends_with(&format!(
            ":b1::{first}:alice:lunch at 12%3A30?:sure, see you"
        )),
        "{said}"
    );
    bob2.send("HISTORY:user:alice:0:10").await;
    let page = bob2.collect_until("HISTORY_END:").await;
    assert_eq!(page.len(), 3, "{page:?}");
    assert!(page[0].starts_with("SAID:"), "{page:?}");
}

/// A quote must be of a message in the same conversation that the sender can see.
#[tokio::test]
async fn a_reply_to_a_message_elsewhere_or_unknown_is_refused_by_name() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let (mut carol, mut dave) = server.friends("carol", "dave").await;
    carol.send("MSG:dave:c1:secret").await;
    let secret = acked(&mut carol, "c1").await;
    dave.until("MSG:").await;

    alice
        .send(&format!("SEND:user:bob:x1:{secret}::what secret?"))
        .await;
    let err = alice.until("ERROR:").await;
    assert!(err.starts_with("ERROR:no_such_message:"), "{err}");
    assert!(err.ends_with(":x1"), "{err}");
    alice.send("SEND:user:bob:x2:999999::hm").await;
    assert!(
        alice
            .until("ERROR:")
            .await
            .starts_with("ERROR:no_such_message:")
    );
    // Mentions belong to groups.
    alice.send("SEND:user:bob:x3:0:bob:@bob").await;
    let err = alice.until("ERROR:").await;
    assert!(err.starts_with("ERROR:bad_request:"), "{err}");
    assert!(bob.drain(QUIET).await.is_empty());

    // A stranger to the server gets `not_logged_in` for each new verb.
    let mut stranger = server.connect().await;
    for line in [
        "SEND:user:bob:s1:0::hi",
        "RECALL:1",
        "READ:user:bob:1",
        "READS",
        "TYPING:bob",
    ] {
        stranger.send(line).await;
        let err = stranger.recv().await;
        assert!(err.starts_with("ERROR:not_logged_in:"), "{line}: {err}");
    }
    // FEATURES works before logging in.
    features(&mut stranger).await;
}

/// A recall reaches everyone in the conversation — a new client as `RECALLED:`, an old one as a
/// message saying so, a second device of the sender too — and the text is gone from the server: later
/// syncs and history bring the recall, never the text.
#[tokio::test]
async fn a_recall_reaches_everyone_and_the_text_is_gone_from_sync_and_history() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    features(&mut bob).await;
    let mut alice2 = server.connect().await;
    features(&mut alice2).await;
    alice2.login("alice").await;

    alice.send("MSG:bob:a1:wrong chat, sorry").await;
    let id = acked(&mut alice, "a1").await;
    bob.until("MSG:").await;
    alice2.until("MSG:").await;
    alice.send(&format!("RECALL:{id}")).await;
    let old = alice.until("MSG:").await;
    assert!(
        old.ends_with(&format!(
            ":recall-{id}:alice 撤回了一条消息 (recalled a message)"
        )),
        "{old}"
    );
    let new = bob.until("RECALLED:").await;
    assert!(new.starts_with("RECALLED:"), "{new}");
    assert!(new.contains(":user:bob:alice:"), "{new}");
    assert!(new.ends_with(&format!(":{id}:alice")), "{new}");
    assert!(
        alice2
            .until("RECALLED:")
            .await
            .ends_with(&format!(":{id}:alice"))
    );

    // Recalling it again: it is gone.
    alice.send(&format!("RECALL:{id}")).await;
    let err = alice.until("ERROR:").await;
    assert!(err.starts_with("ERROR:no_such_message:"), "{err}");

    bob.send("SYNC:0:10").await;
    let page = bob.collect_until("SYNC_END:").await;
    assert!(page.iter().all(|l| !l.contains("wrong chat")), "{page:?}");
    assert_eq!(
        page.iter().filter(|l| l.starts_with("RECALLED:")).count(),
        1
    );
    bob.send("HISTORY:user:alice:0:10").await;
    let page = bob.collect_until("HISTORY_END:").await;
    assert!(page.iter().all(|l| !l.contains("wrong chat")), "{page:?}");

    // And from the database itself, after a restart.
    let dir = server.stop().await;
    // PostgreSQL: every row of every table, as text.
    #[cfg(feature = "test-cluster")]
    {
        let url = common::pg_url(dir.path());
        let found = std::thread::spawn(move || {
            let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            let tables = db
                .query(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
                    &[],
                )
                .unwrap();
            assert!(tables.len() > 5, "not the database");
            let mut found = Vec::new();
            for t in tables {
                let table: String = t.get(0);
                let n: i64 = db
                    .query_one(
                        &format!(
                            "SELECT count(*) FROM {table} x WHERE x::text LIKE '%wrong chat%'"
                        ),
                        &[],
                    )
                    .unwrap()
                    .get(0);
                if n > 0 {
                    found.push(table);
                }
            }
            found
        })
        .join()
        .unwrap();
        assert!(
            found.is_empty(),
            "the recalled text is still in the database: {found:?}"
        );
    }
    // SQLite: its files, the write-ahead log too.
    #[cfg(not(feature = "test-cluster"))]
    {
        let db = std::fs::read(dir.path().join("ququ.db")).unwrap();
        assert!(db.len() > 4096, "not the database");
        let wal = std::fs::read(dir.path().join("ququ.db-wal")).unwrap_or_default();
        let needle = b"wrong chat";
        for bytes in [&db, &wal] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "the recalled text is still in the database files"
            );
        }
    }
}

/// Only the sender recalls, and only within the window; a group's owner recalls anyone's message.
#[tokio::test]
async fn recall_rules_someone_elses_message_too_late_and_the_group_owner() {
    let server =
        TestServer::start_with(tempfile::tempdir().unwrap(), |c| c.limits.recall = 1).await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    alice.send("MSG:bob:a1:hello").await;
    let id = acked(&mut alice, "a1").await;
    bob.until("MSG:").await;
    bob.send(&format!("RECALL:{id}")).await;
    let err = bob.until("ERROR:").await;
    assert!(err.starts_with("ERROR:forbidden:"), "{err}");
    assert!(err.ends_with(&format!(":{id}")), "{err}");

    // The window is one second here (`recall = 1`); the wait is for the rule, not a timing check.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    alice.send(&format!("RECALL:{id}")).await;
    let err = alice.until("ERROR:").await;
    assert!(err.starts_with("ERROR:too_late:"), "{err}");

    let gid = alice.create_group("crew").await;
    alice.send(&format!("GROUP_INVITE:{gid}:bob")).await;
    bob.until("GROUP_INFO:").await;
    bob.send(&format!("GROUP:{gid}:b1:oops")).await;
    let gm = acked(&mut bob, "b1").await;
    alice.until("GROUP:").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // Past the window, the owner still can.
    alice.send(&format!("RECALL:{gm}")).await;
    let told = bob.until("GROUP:").await;
    assert!(
        told.ends_with(&format!(
            ":recall-{gm}:alice 撤回了一条消息 (recalled a message)"
        )),
        "{told}"
    );
}

/// Mentions travel explicitly to clients with `SAID`; a non-member or `*` by a member is refused.
#[tokio::test]
async fn mentions_are_carried_and_checked() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    features(&mut bob).await;
    let gid = alice.create_group("crew").await;
    alice.send(&format!("GROUP_INVITE:{gid}:bob")).await;
    bob.until("GROUP_INFO:").await;

    alice
        .send(&format!("SEND:group:{gid}:g1:0:bob:@bob menu"))
        .await;
    acked(&mut alice, "g1").await;
    let said = bob.until("SAID:").await;
    assert!(said.contains(":g1:bob:0:::@bob menu"), "{said}");
    alice
        .send(&format!("SEND:group:{gid}:g2:0:*:@all lunch"))
        .await;
    acked(&mut alice, "g2").await;
    assert!(bob.until("SAID:").await.contains(":g2:*:0:::@all lunch"));

    bob.send(&format!("SEND:group:{gid}:b1:0:*:@all hi")).await;
    let err = bob.until("ERROR:").await;
    assert!(err.starts_with("ERROR:not_owner:"), "{err}");
    assert!(err.ends_with(":b1"), "{err}");
    bob.send(&format!("SEND:group:{gid}:b2:0:carol:@carol hi"))
        .await;
    let err = bob.until("ERROR:").await;
    assert!(
        err.starts_with("ERROR:not_member:carol is not in this group"),
        "{err}"
    );
}

/// A read mark set on one session reaches the user's other session with `READ`, is kept, and is listed
/// by `READS`; a lower mark changes nothing.
#[tokio::test]
async fn a_read_mark_reaches_the_other_session_and_survives() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    alice.send("MSG:bob:a1:hi").await;
    let id = acked(&mut alice, "a1").await;
    bob.until("MSG:").await;
    let mut bob2 = server.connect().await;
    features(&mut bob2).await;
    bob2.login("bob").await;

    bob.send(&format!("READ:user:alice:{id}")).await;
    assert_eq!(bob2.until("READ:").await, format!("READ:user:alice:{id}"));
    bob.send("READ:user:alice:1").await;
    bob.send("READS").await;
    assert_eq!(
        bob.collect_until("READS_END:").await,
        [format!("READ:user:alice:{id}"), "READS_END:1".into()]
    );
    assert!(bob2.drain(QUIET).await.is_empty());
    bob.send("READ:user:nobody:1").await;
    assert!(bob.until("ERROR:").await.starts_with("ERROR:no_such_user:"));
}

/// Typing goes to the friend's sessions that show it, is never stored, and more than one a second is
/// refused.
#[tokio::test]
async fn typing_is_passed_on_not_stored_and_limited() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    features(&mut bob).await;
    alice.send("TYPING:bob").await;
    assert_eq!(bob.until("TYPING:").await, "TYPING:alice");
    let mut refused = false;
    for _ in 0..3 {
        alice.send("TYPING:bob").await;
    }
    for line in alice.drain(QUIET).await {
        refused |= line.starts_with("ERROR:rate_limited:");
    }
    assert!(refused, "three TYPING lines at once all passed");
    bob.drain(QUIET).await;
    bob.send("SYNC:0:10").await;
    let page = bob.collect_until("SYNC_END:").await;
    assert!(page.iter().all(|l| !l.contains("TYPING")), "{page:?}");
}

/// A member who was offline when a message was sent and recalled learns of it on their next `SYNC:`: the
/// recall, in order, and never the text — as `RECALLED:` with the feature, as a message saying so without.
#[tokio::test]
async fn an_offline_member_syncs_the_recall_and_never_the_text() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = server.friends("alice", "bob").await;
    let gid = alice.create_group("crew").await;
    alice.send(&format!("GROUP_INVITE:{gid}:bob")).await;
    bob.until("GROUP_INFO:").await;
    drop(bob);
    alice.until("CONNECT_CLIENT:bob:offline").await;
    alice
        .send(&format!("GROUP:{gid}:a1:the wifi password is hunter2"))
        .await;
    let id = acked(&mut alice, "a1").await;
    alice.send(&format!("RECALL:{id}")).await;
    alice.until("GROUP:").await;

    for with_features in [true, false] {
        let mut bob = server.connect().await;
        if with_features {
            features(&mut bob).await;
        }
        bob.login("bob").await;
        bob.send("SYNC:0:100").await;
        let page = bob.collect_until("SYNC_END:").await;
        assert!(page.iter().all(|l| !l.contains("hunter2")), "{page:?}");
        let told = page
            .iter()
            .find(|l| l.contains("recall") || l.starts_with("RECALLED:"))
            .unwrap_or_else(|| panic!("no recall in {page:?}"));
        if with_features {
            assert!(
                told.starts_with("RECALLED:") && told.ends_with(&format!(":{id}:alice")),
                "{told}"
            );
        } else {
            assert!(
                told.starts_with("GROUP:")
                    && told.ends_with(&format!(
                        ":recall-{id}:alice 撤回了一条消息 (recalled a message)"
                    )),
                "{told}"
            );
        }
    }
}
