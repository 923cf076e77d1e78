//! PostgreSQL's tests, against a private cluster of this test process ([`super::testdb`]): the
//! conformance suite for the areas done, and what only PostgreSQL has (several nodes writing at once,
//! the schema applied once, its errors).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::testdb::PgFixture;
use super::*;
use crate::storage::conformance::Fixture;
use crate::storage::*;

/// Named for `cargo test conformance`; every area PostgreSQL has so far.
mod conformance_suite {
    use super::*;
    crate::storage::conformance::conformance_tests!(PgFixture::new();
        accounts, messages, group_messages, friends, groups, files, avatars, nodes, upkeep);
}

/// How many nodes write at once in [`message_ids_have_no_holes_with_several_writers`].
const WRITERS: usize = 4;
const BATCHES: usize = 60;
const BATCH: usize = 8;

/// Several nodes (each a handle with its own connections) store batches at once while a client syncs
/// by "after the last id I have": every page must start right after its cursor and have no gap, or the
/// client would move its cursor past a message committed later and never get it. With ids from a
/// sequence instead of the locked counter row this fails within a few hundred batches.
#[test]
fn message_ids_have_no_holes_with_several_writers() {
    let f = PgFixture::new();
    let s = f.open();
    let reader = s.create_user("reader", "R", "h", 1).unwrap().id;
    let writers: Vec<UserId> = (0..WRITERS)
        .map(|i| s.create_user(&format!("w{i}"), "W", "h", 1).unwrap().id)
        .collect();
    let total = (WRITERS * BATCHES * BATCH) as u64;
    let failed = AtomicBool::new(false);
    let (cursor, pages) = std::thread::scope(|scope| {
        for (w, &sender) in writers.iter().enumerate() {
            let (f, failed) = (&f, &failed);
            scope.spawn(move || {
                let node = f.open();
                for b in 0..BATCHES {
                    let batch: Vec<NewMessage> = (0..BATCH)
                        .map(|i| NewMessage {
                            sender,
                            to: Target::User(reader),
                            client_id: format!("{w}-{b}-{i}"),
                            time: 1,
                            body: Body::Text("x".into()),
                            hidden: false,
                        })
                        .collect();
                    for r in node.store_messages(&batch) {
                        if r.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        r.unwrap();
                    }
                }
            });
        }
        let client = f.open();
        let deadline = Instant::now() + Duration::from_secs(120);
        let (mut cursor, mut pages) = (0u64, 0usize);
        while cursor < total {
            assert!(!failed.load(Ordering::Relaxed), "a writer failed");
            assert!(Instant::now() < deadline, "only {cursor} of {total} synced");
            let page = client.messages_after(reader, cursor, 50).unwrap();
            for (i, m) in page.iter().enumerate() {
                assert_eq!(
                    m.id,
                    cursor + 1 + i as u64,
                    "a hole: after {cursor} the page went {:?}",
                    page.iter().map(|m| m.id).collect::<Vec<_>>()
                );
            }
            if let Some(last) = page.last() {
                cursor = last.id;
                pages += 1;
            }
        }
        (cursor, pages)
    });
    assert_eq!(cursor, total);
    // The client really read while the writers wrote, not once at the end.
    assert!(pages > 10, "only {pages} pages");
}

/// Several nodes starting at once on an empty database: the schema is applied once (the others wait on
/// the advisory lock and find it done), and every node works.
#[test]
fn nodes_starting_together_apply_the_schema_once() {
    let f = PgFixture::new();
    let nodes: Vec<PgStore> = std::thread::scope(|scope| {
        let started: Vec<_> = (0..4).map(|_| scope.spawn(|| f.open())).collect();
        started.into_iter().map(|t| t.join().unwrap()).collect()
    });
    for (i, node) in nodes.iter().enumerate() {
        node.create_user(&format!("u{i}"), "U", "h", 1).unwrap();
    }
    let version: i64 = nodes[0]
        .conn()
        .unwrap()
        .query_one("SELECT version FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, MIGRATIONS.len() as i64);
    assert_eq!(nodes[3].users().unwrap().len(), 4);
}

/// A database that holds somebody else's tables is refused, not changed; one from a newer server too.
#[test]
fn a_foreign_or_newer_database_is_refused() {
    let f = PgFixture::new();
    let mut admin = ::postgres::Client::connect(f.url(), ::postgres::NoTls).unwrap();
    admin.batch_execute("CREATE TABLE theirs (x INT)").unwrap();
    assert!(matches!(
        PgStore::open(f.url(), 1),
        Err(StoreError::Unusable { .. })
    ));
    admin.batch_execute("DROP TABLE theirs").unwrap();
    drop(f.open());
    admin
        .batch_execute("UPDATE schema_version SET version = 1000")
        .unwrap();
    assert!(matches!(
        PgStore::open(f.url(), 1),
        Err(StoreError::TooNew {
            found: 1000,
            supported
        }) if supported == MIGRATIONS.len() as i64
    ));
}

/// A database of schema version 1 (one server, one connection table for all) is brought to version 2:
/// the old server's connection rows go (they had no node), and nodes then keep their own.
#[test]
fn a_version_1_database_is_upgraded_to_nodes() {
    let f = PgFixture::new();
    let mut admin = ::postgres::Client::connect(f.url(), ::postgres::NoTls).unwrap();
    admin.batch_execute(MIGRATIONS[0]).unwrap();
    admin
        .batch_execute(
            "INSERT INTO schema_version (version) VALUES (1); \
             INSERT INTO users (account, nickname, password_hash, created) VALUES ('alice', 'A', 'h', 1); \
             INSERT INTO connections (conn_id, ip, port, since) VALUES (1, '10.0.0.1', 4000, 7)",
        )
        .unwrap();
    let node = f.node("a");
    assert!(node.user_by_account("alice").unwrap().is_some());
    assert!(node.connections().unwrap().is_empty());
    connect(&node, 1, None);
    assert_eq!(online(&node), [("a".into(), 1, None)]);
}

/// A unique violation the code does not answer itself is [`StoreError::Conflict`], as on SQLite.
#[test]
fn a_unique_violation_is_a_conflict() {
    let s = PgFixture::new().open();
    let a = s.create_user("alice", "A", "h", 1).unwrap().id;
    s.create_token(a, "t", 10).unwrap();
    assert!(matches!(
        s.create_token(a, "t", 10),
        Err(StoreError::Conflict)
    ));
    // Any other failure is PostgreSQL's own error.
    assert!(matches!(
        s.create_token(a + 1000, "u", 10),
        Err(StoreError::Postgres(_))
    ));
}

/// A connection of `user` (if logged in) under id `conn_id`, as a session records it.
fn connect(node: &PgStore, conn_id: u64, user: Option<UserId>) {
    node.add_connection(&ConnectionRecord {
        conn_id,
        account: None,
        ip: "10.0.0.1".into(),
        port: 4000 + conn_id as u16,
        since: 7,
        node: None,
    })
    .unwrap();
    if let Some(user) = user {
        node.set_connection_user(conn_id, user).unwrap();
    }
}

/// Every connection as (node, conn id, account), as the operator's `online` lists them.
fn online(s: &PgStore) -> Vec<(String, u64, Option<String>)> {
    s.connections()
        .unwrap()
        .into_iter()
        .map(|c| (c.node.unwrap(), c.conn_id, c.account))
        .collect()
}

/// Two nodes on one database keep their own connection rows: the same connection id on each, a
/// removal or a start's clearing touching only the node's own, and the listing showing both. (With
/// one table for all, a node starting would log every other node's users out of the listing.)
#[test]
fn each_node_clears_only_its_own_connections() {
    let f = PgFixture::new();
    let (a, b, operator) = (f.node("a"), f.node("b"), f.open());
    let alice = a.create_user("alice", "A", "h", 1).unwrap().id;
    let bob = a.create_user("bob", "B", "h", 1).unwrap().id;
    connect(&a, 1, Some(alice));
    connect(&a, 2, None);
    connect(&b, 1, Some(bob));
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        online(&operator),
        [
            ("a".into(), 1, some("alice")),
            ("a".into(), 2, None),
            ("b".into(), 1, some("bob")),
        ]
    );
    b.remove_connection(2).unwrap();
    a.remove_connection(1).unwrap();
    assert_eq!(
        online(&operator),
        [("a".into(), 2, None), ("b".into(), 1, some("bob"))]
    );
    a.clear_connections().unwrap();
    assert_eq!(online(&operator), [("b".into(), 1, some("bob"))]);
    // A handle that serves no node has no connections of its own to write.
    assert!(matches!(
        operator.clear_connections(),
        Err(StoreError::NoNode)
    ));
    assert!(matches!(
        operator.take_session_ends(),
        Err(StoreError::NoNode)
    ));
}

/// A request to end sessions (the operator's `disable`) reaches every node, each once and in order,
/// whatever the others took; a node started later does not get the earlier ones; the sweep forgets
/// only old requests. (Taken with `DELETE … RETURNING`, the second node never sees it, and the user's
/// sessions there go on.)
#[test]
fn a_session_end_reaches_every_node_once_in_order() {
    let f = PgFixture::new();
    let (a, b, operator) = (f.node("a"), f.node("b"), f.open());
    let users = |ends: Vec<SessionEnd>| ends.iter().map(|e| e.user).collect::<Vec<_>>();
    operator.end_sessions(3, "disabled", 10).unwrap();
    operator.end_sessions(4, "password_changed", 20).unwrap();
    assert_eq!(users(a.take_session_ends().unwrap()), [3, 4]);
    assert!(a.take_session_ends().unwrap().is_empty());
    let ends = b.take_session_ends().unwrap();
    assert_eq!(ends, crate::storage::conformance::first_two_ends());
    assert!(b.take_session_ends().unwrap().is_empty());
    operator.end_sessions(5, "disabled", 30).unwrap();
    // Started after the first three: no sessions they could be about.
    let c = f.node("c");
    operator.end_sessions(6, "disabled", 40).unwrap();
    assert_eq!(users(a.take_session_ends().unwrap()), [5, 6]);
    assert_eq!(users(c.take_session_ends().unwrap()), [6]);
    // Requests asked before 35 go; b has not taken 6 yet, and still gets it.
    assert_eq!(operator.sweep_session_ends(35).unwrap(), 3);
    assert_eq!(users(b.take_session_ends().unwrap()), [5, 6][1..]);
}

/// A node silent for longer than the limit (killed) is reaped by a live one: its registration and
/// connections go in one transaction, and the users connected only there are returned, once; a user
/// also on a live node is not, and nodes heard from within the limit are left alone. If the reaped
/// node was alive after all, its next heartbeat says so and registers it again.
#[test]
fn a_silent_node_is_reaped_with_its_users_and_a_live_one_is_not() {
    let f = PgFixture::new();
    let (dead, live, other) = (f.node("dead"), f.node("live"), f.node("other"));
    let user = |name: &str| dead.create_user(name, "U", "h", 1).unwrap().id;
    let (alice, bob, carol) = (user("alice"), user("bob"), user("carol"));
    connect(&dead, 1, Some(alice));
    connect(&dead, 2, Some(alice));
    connect(&dead, 3, Some(bob));
    connect(&dead, 4, None);
    connect(&live, 1, Some(bob));
    connect(&live, 2, Some(carol));
    let now = testdb::wall_millis();
    // The dead node's last heartbeat was just over the limit ago; the other's just under it.
    dead.heartbeat(now - NODE_SILENCE_LIMIT - 1).unwrap();
    other.heartbeat(now - NODE_SILENCE_LIMIT + 1000).unwrap();
    assert!(live.heartbeat(now).unwrap());
    assert_eq!(
        live.reap_silent_nodes(now).unwrap(),
        Reaped {
            nodes: vec!["dead".into()],
            offline: vec![alice],
        }
    );
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        online(&live),
        [
            ("live".into(), 1, some("bob")),
            ("live".into(), 2, some("carol"))
        ]
    );
    // Reaped once: the next node to look finds nothing.
    assert_eq!(other.reap_silent_nodes(now).unwrap(), Reaped::default());
    // It was only stalled: told, and a node again.
    assert!(!dead.heartbeat(now).unwrap());
    assert!(dead.heartbeat(now + 1000).unwrap());
    assert_eq!(
        live.reap_silent_nodes(now + 1000).unwrap(),
        Reaped::default()
    );
}

/// A name is one live node's: a second start with it is refused (the two would clear each other's
/// connection rows), until that node leaves or falls silent for longer than the limit.
#[test]
fn a_name_in_use_by_a_live_node_is_refused() {
    let f = PgFixture::new();
    let first = f.node("n1");
    let now = testdb::wall_millis();
    let refused = f.open().join("n1", now);
    assert!(
        matches!(&refused, Err(StoreError::NodeInUse { name, .. }) if name == "n1"),
        "{refused:?}"
    );
    assert!(refused.unwrap_err().to_string().contains("--node-name"));
    // Another name is fine; no name at all is not.
    let second = f.open().join("n2", now).unwrap();
    assert!(f.open().join(" ", now).is_err());
    // A node that stopped cleanly frees its name at once.
    second.leave().unwrap();
    f.open().join("n2", now).unwrap();
    // One killed (silent past the limit) frees it too.
    first.heartbeat(now - NODE_SILENCE_LIMIT - 1).unwrap();
    f.open().join("n1", now).unwrap();
}

/// One node at a time leads the sweeps; once it is gone (its handle dropped: a stopped or killed server),
/// the next to ask takes over.
#[test]
fn the_leader_lock_is_one_nodes_until_it_is_dropped() {
    let f = PgFixture::new();
    let (a, b) = (f.node("a"), f.node("b"));
    assert!(a.lead().unwrap());
    assert!(!b.lead().unwrap());
    // Asking again changes nothing.
    assert!(a.lead().unwrap());
    assert!(!b.lead().unwrap());
    drop(a);
    assert!(b.lead().unwrap());
    assert!(!f.node("c").lead().unwrap());
}

/// Passing between nodes (`storage/passing.rs`): a node reads what the others passed, in order, and not
/// its own lines; presence is decided across nodes (a second node's login is not the user's first, the
/// last one anywhere is their last), and every node, the deciding one too, reads the records; a reaped
/// node's users are recorded offline; a node starting reads only what comes after it, knowing who is
/// online already.
#[test]
fn lines_and_presence_pass_between_nodes_in_order() {
    let f = PgFixture::new();
    let (a, b) = (f.node("a"), f.node("b"));
    let alice = a.create_user("alice", "A", "h", 1).unwrap().id;
    let bob = a.create_user("bob", "B", "h", 1).unwrap().id;
    assert!(a.start_passing().unwrap().is_empty());
    assert!(b.start_passing().unwrap().is_empty());
    let line = |users: Vec<UserId>, text: &str| Passing::Lines {
        users,
        by: vec![ququ_protocol::Feature::Typing],
        lines: vec![None, Some(bytes::Bytes::from(text.to_owned()))],
    };
    a.pass(&[line(vec![bob], "one"), line(vec![alice, bob], "two")], 5)
        .unwrap();
    b.pass(&[line(vec![alice], "three")], 6).unwrap();
    assert_eq!(
        b.passed().unwrap(),
        [line(vec![bob], "one"), line(vec![alice, bob], "two")]
    );
    assert_eq!(a.passed().unwrap(), [line(vec![alice], "three")]);
    assert!(b.passed().unwrap().is_empty(), "taken once");

    let presence = |user, online| Passing::Presence { user, online };
    add(&a, 1);
    add(&b, 1);
    add(&b, 2);
    assert!(a.arrive(1, alice).unwrap(), "alice's first connection");
    assert!(!b.arrive(1, alice).unwrap(), "not her first: she is on a");
    assert!(b.arrive(2, bob).unwrap());
    assert_eq!(a.depart(1).unwrap(), None, "she is still on b");
    // A node starting now knows who is online, and reads on from here.
    let c = f.node("c");
    assert_eq!(c.start_passing().unwrap(), [alice, bob]);
    assert_eq!(b.depart(1).unwrap(), Some(alice), "her last, anywhere");
    for node in [&a, &b] {
        assert_eq!(
            node.passed().unwrap(),
            [
                presence(alice, true),
                presence(bob, true),
                presence(alice, false)
            ]
        );
    }
    assert_eq!(c.passed().unwrap(), [presence(alice, false)]);

    // b is killed: bob, connected only there, is recorded offline by the node that reaps it.
    let now = testdb::wall_millis();
    b.heartbeat(now - NODE_SILENCE_LIMIT - 1).unwrap();
    a.heartbeat(now).unwrap();
    c.heartbeat(now).unwrap();
    assert_eq!(a.reap_silent_nodes(now).unwrap().offline, [bob]);
    assert_eq!(c.passed().unwrap(), [presence(bob, false)]);
    // Swept after their time.
    assert!(a.sweep_passed(now + PASSED_KEPT + 1).unwrap() >= 6);
}

/// A connection row of `node` with no user yet.
fn add(node: &PgStore, conn_id: u64) {
    connect(node, conn_id, None);
}
