//! SQLite's tests: the conformance suite every backend runs (see [`crate::storage::conformance`]), and
//! the cases only SQLite has: migrations, query plans, its files, backups, the WAL, and what its tables
//! keep.

use rusqlite::{Connection, params};

use ququ_protocol::Role;

use super::messages::{IN_GROUP, PRIVATE_FROM, PRIVATE_TO};
use super::*;
use crate::storage::*;

/// A database of schema 2 is upgraded in place: the messages table is rebuilt with the new indexes,
/// a sync finds every message it found before, ids keep growing past a deleted one, and a resend is
/// still recognised.
#[test]
fn a_schema_2_database_is_upgraded_and_syncs_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO users (id, account, nickname, password_hash, created)
                 VALUES (1, 'alice', 'A', 'h', 1), (2, 'bob', 'B', 'h', 1);
             INSERT INTO chat_groups (id, name, owner_id, created) VALUES (7, 'g', 1, 1);
             INSERT INTO members VALUES (7, 1, 'owner', 0), (7, 2, 'member', 0);
             INSERT INTO messages (sender_id, kind, target, conv, time, client_id, text)
                 VALUES (1, 0, 2, (1 << 32) | 2, 5, 'p1', 'to bob'),
                        (2, 1, 7, 7, 6, 'g1', 'to the group'),
                        (2, 0, 1, (1 << 32) | 2, 7, 'p2', 'to alice');
             INSERT INTO messages (id, sender_id, kind, target, conv, time, client_id, text)
                 VALUES (10, 1, 1, 8, 8, 8, 'gone', 'in a dissolved group');
             DELETE FROM messages WHERE id = 10;",
        )
        .unwrap();
    }
    let s = SqliteStore::open(&path, Durability::Normal).unwrap();
    let conn = s.lock().unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
    let target: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'messages_target'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(target.ends_with("WHERE kind = 0"), "{target}");
    drop(conn);
    let texts = |user, after| -> Vec<String> {
        s.messages_after(user, after, 10)
            .unwrap()
            .into_iter()
            .map(|m| match m.body {
                Body::Text(t) => t,
                Body::File(f) => f.name,
                other => format!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(texts(1, 0), ["to bob", "to the group", "to alice"]);
    assert_eq!(texts(2, 0), ["to bob", "to the group", "to alice"]);
    assert_eq!(texts(2, 1), ["to the group", "to alice"]);
    assert_eq!(texts(1, 2), ["to alice"]);
    // Ids go on past the deleted message's, and a resend is still found.
    let next = NewMessage {
        sender: 1,
        to: Target::User(2),
        client_id: "p3".into(),
        time: 9,
        body: Body::Text("later".into()),
        hidden: false,
    };
    let stored = s.store_message(&next).unwrap();
    assert_eq!(stored.message.id, 11);
    assert!(!stored.duplicate);
    let again = s
        .store_message(&NewMessage {
            client_id: "p1".into(),
            ..next
        })
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message.id, 1);
}

/// A sync page reads from the cursor on through an index in every source, in index order, so it
/// stops after the page: no scan of the messages, no sort of everything after the cursor.
#[test]
fn sync_searches_indexes_and_never_scans_or_sorts_the_messages() {
    let (_d, s) = store();
    let conn = s.reader().unwrap();
    for sql in [PRIVATE_TO, PRIVATE_FROM, IN_GROUP] {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let plan: Vec<String> = stmt
            .query_map(params![1, 0, 10, i64::MAX], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(plan.len(), 1, "{sql}: {plan:#?}");
        assert!(
            plan[0].starts_with("SEARCH messages USING"),
            "{sql}: {plan:#?}"
        );
        assert!(plan[0].contains("id>? AND id<?"), "{sql}: {plan:#?}");
    }
}

/// A running mute is parked when its member's row goes and taken up again when they come back; one
/// that ended meanwhile, or a return as anything but a plain member, comes back unmuted.
#[test]
fn a_mute_is_kept_across_leaving_until_it_ends() {
    let (_d, s) = store();
    let a = s.create_user("alice", "A", "h", 1).unwrap().id;
    let b = s.create_user("bob", "B", "h", 1).unwrap().id;
    let c = s.create_user("carol", "C", "h", 1).unwrap().id;
    let g = s.create_group(a, "g", 1).unwrap().id;
    let parked = |g: GroupId| -> i64 {
        s.lock()
            .unwrap()
            .query_row(
                "SELECT count(*) FROM group_mutes WHERE group_id = ?1",
                [g],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(s.add_member(g, b, Role::Member, 10).unwrap(), Some(0));
    assert_eq!(s.add_member(g, b, Role::Member, 10).unwrap(), None);
    assert_eq!(s.add_member(g, c, Role::Member, 10).unwrap(), Some(0));
    assert!(s.set_muted(g, b, 1000).unwrap());
    assert!(s.set_muted(g, c, 50).unwrap());
    // Leaving at 20: bob's mute runs to 1000, carol's to 50; both are parked.
    assert!(s.remove_member(g, b, 20).unwrap());
    assert!(s.remove_member(g, c, 20).unwrap());
    assert_eq!(parked(g), 2);
    assert!(!s.remove_member(g, b, 20).unwrap());
    // bob comes back at 30 with his mute; carol at 60, after hers ended, without.
    assert_eq!(s.add_member(g, b, Role::Member, 30).unwrap(), Some(1000));
    let bob = |s: &SqliteStore| s.members(g).unwrap().into_iter().find(|m| m.user.id == b);
    assert_eq!(bob(&s).unwrap().muted_until, 1000);
    assert_eq!(s.silence(g).unwrap().muted_until(b, 30), Some(1000));
    assert_eq!(s.add_member(g, c, Role::Member, 60).unwrap(), Some(0));
    assert_eq!(parked(g), 0);
    // A lifted mute is not parked; an ended one is dropped at the next removal from the group.
    assert!(s.set_muted(g, b, 0).unwrap());
    assert!(s.remove_member(g, b, 40).unwrap());
    assert_eq!(s.add_member(g, b, Role::Member, 41).unwrap(), Some(0));
    assert!(s.set_muted(g, b, 100).unwrap());
    assert!(s.remove_member(g, b, 50).unwrap());
    assert_eq!(parked(g), 1);
    assert!(s.remove_member(g, c, 200).unwrap());
    assert_eq!(parked(g), 0);
    // Dissolving the group drops what is parked.
    assert_eq!(s.add_member(g, c, Role::Member, 200).unwrap(), Some(0));
    assert!(s.set_muted(g, c, 1000).unwrap());
    assert!(s.remove_member(g, c, 300).unwrap());
    assert_eq!(parked(g), 1);
    s.delete_group(g).unwrap();
    assert_eq!(parked(g), 0);
}

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("q.db"), Durability::Normal).unwrap();
    (dir, store)
}

#[test]
fn a_failed_batch_fails_only_its_bad_message() {
    let (_d, s) = store();
    let a = s.create_user("alice", "A", "h", 1).unwrap().id;
    let g = s.create_group(a, "g", 1).unwrap().id;
    // A message SQLite refuses, standing in for any failure that aborts a transaction.
    s.lock()
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.text = 'poison' \
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END;",
        )
        .unwrap();
    let msg = |cid: &str, text: &str| NewMessage {
        sender: a,
        to: Target::Group(g),
        client_id: cid.into(),
        time: 5,
        body: Body::Text(text.into()),
        hidden: false,
    };
    let results = s.store_messages(&[
        msg("g1", "one"),
        msg("g2", "poison"),
        msg("g3", "three"),
        msg("g1", "one again"),
    ]);
    assert!(matches!(&results[0], Ok(r) if !r.duplicate && r.message.client_id == "g1"));
    assert!(matches!(&results[1], Err(StoreError::Sqlite(_))));
    assert!(matches!(&results[2], Ok(r) if !r.duplicate && r.message.client_id == "g3"));
    assert!(matches!(&results[3], Ok(r) if r.duplicate && r.message.client_id == "g1"));
    let stored: Vec<String> = s
        .messages_after(a, 0, 10)
        .unwrap()
        .into_iter()
        .map(|m| m.client_id)
        .collect();
    assert_eq!(stored, ["g1", "g3"]);
}

#[test]
fn a_backup_restores_what_was_there_when_it_was_taken() {
    let dir = tempfile::tempdir().unwrap();
    let live = SqliteStore::open(&dir.path().join("live.db"), Durability::Normal).unwrap();
    live.create_user("alice", "A", "h", 1).unwrap();
    let copy = dir.path().join("copy.db");
    live.backup_to(&copy).unwrap();
    assert!(live.backup_to(&copy).is_err(), "never overwrites a backup");
    live.create_user("bob", "B", "h", 2).unwrap();
    drop(live);

    let path = dir.path().join("live.db");
    SqliteStore::restore(&path, &copy).unwrap();
    let restored = SqliteStore::open(&path, Durability::Normal).unwrap();
    let names: Vec<_> = restored
        .users()
        .unwrap()
        .into_iter()
        .map(|u| u.account)
        .collect();
    assert_eq!(names, ["alice"]);
    assert!(SqliteStore::restore(&path, &dir.path().join("missing.db")).is_err());
}

/// Issue 20, item 9: restoring onto a machine whose database is gone (the disk died) cannot read which
/// ids were given out after the backup, so new ids jump past anything a client can have seen.
#[test]
fn a_restore_with_no_database_left_jumps_ids_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let live = SqliteStore::open(&dir.path().join("live.db"), Durability::Normal).unwrap();
    let a = live.create_user("alice", "A", "h", 1).unwrap();
    let b = live.create_user("bob", "B", "h", 1).unwrap();
    let send = |s: &SqliteStore, cid: &str| {
        s.store_message(&NewMessage {
            sender: a.id,
            to: Target::User(b.id),
            client_id: cid.into(),
            time: 1,
            body: Body::Text("hi".into()),
            hidden: false,
        })
        .unwrap()
        .message
        .id
    };
    send(&live, "before");
    let copy = dir.path().join("copy.db");
    live.backup_to(&copy).unwrap();
    let seen = (0..20)
        .map(|i| send(&live, &format!("after{i}")))
        .max()
        .unwrap();
    drop(live);
    // The disk is lost: the database and its WAL with it.
    let path = dir.path().join("new-machine.db");
    let last = SqliteStore::restore(&path, &copy).unwrap();
    assert!(last >= LOST_ID_MARGIN as u64, "{last}");
    let restored = SqliteStore::open(&path, Durability::Normal).unwrap();
    let next = send(&restored, "new");
    assert!(
        next > seen,
        "new id {next} must be above {seen}, seen before the loss"
    );
    assert_eq!(next, last + 1);
}

#[test]
fn a_foreign_file_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    std::fs::write(&path, b"this is not a database, it is someone's notes").unwrap();
    let err = SqliteStore::open(&path, Durability::Normal).unwrap_err();
    assert!(matches!(err, StoreError::Unusable { .. }), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"this is not a database, it is someone's notes"
    );
}

/// Under writes that never pause, a checkpoint always ends with frames written while it ran, so
/// without the second pass the WAL would never start over and would keep every commit.
#[test]
fn the_wal_starts_over_under_writes_that_never_pause() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    const COMMITS: u64 = 3000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.db");
    let s = Arc::new(SqliteStore::open(&path, Durability::Normal).unwrap());
    let a = s.create_user("alice", "Alice", "h", 1).unwrap();
    let b = s.create_user("bob", "Bob", "h", 1).unwrap();
    let done = Arc::new(AtomicU64::new(0));
    // Checkpoint passes so far. The writer waits for a new one every 300 commits (about 1,000
    // frames), so checkpoints run during the writes however the threads are scheduled: a starved
    // checkpointing thread would otherwise see the writes only once they were over.
    let passes = Arc::new(AtomicU64::new(0));
    let writer = {
        let (s, done, passes) = (s.clone(), done.clone(), passes.clone());
        std::thread::spawn(move || {
            let mut seen = 0;
            for n in 1..=COMMITS {
                if n % 300 == 0 {
                    let since = std::time::Instant::now();
                    while passes.load(Ordering::Relaxed) == seen
                        && since.elapsed() < std::time::Duration::from_secs(10)
                    {
                        std::thread::yield_now();
                    }
                    seen = passes.load(Ordering::Relaxed);
                }
                let msg = NewMessage {
                    sender: a.id,
                    to: Target::User(b.id),
                    client_id: format!("{n:032}"),
                    time: n,
                    body: Body::Text("x".repeat(200)),
                    hidden: false,
                };
                s.store_message(&msg).unwrap();
                done.store(n, Ordering::Relaxed);
            }
        })
    };
    // A WAL limit of 200 frames (800 KiB). Every commit writes several (the table's page and the
    // indexes'): without the second pass the WAL ends with about 17,000.
    while done.load(Ordering::Relaxed) < COMMITS {
        s.checkpoint_wal(200).unwrap();
        passes.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    writer.join().unwrap();
    // The frames written since the WAL last started over: under a third of what it holds when it
    // never starts over.
    let log = checkpoint(&s.checkpointer.lock().unwrap()).unwrap();
    assert!(
        log < 2 * COMMITS as i64,
        "the WAL holds {log} frames after {COMMITS} commits and {} checkpoint passes",
        passes.load(Ordering::Relaxed)
    );
}

/// The conformance suite's stores: one database file in a temporary directory of each test's own.
struct SqliteFixture(tempfile::TempDir);

impl SqliteFixture {
    fn new() -> Self {
        SqliteFixture(tempfile::tempdir().unwrap())
    }
}

impl conformance::Fixture for SqliteFixture {
    type Handle = SqliteStore;
    fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.0.path().join("q.db"), Durability::Normal).unwrap()
    }
    /// SQLite is its own single node.
    fn node(&self, _name: &str) -> SqliteStore {
        self.open()
    }
}

/// Named for `cargo test conformance`; every area.
mod conformance_suite {
    use super::*;
    crate::storage::conformance::conformance_tests!(SqliteFixture::new();
        accounts, messages, group_messages, friends, groups, files, avatars, nodes, upkeep);
}
