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
        accounts, messages, group_messages, friends, groups, files, avatars, upkeep);
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
        }) if supported == super::MIGRATIONS.len() as i64
    ));
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
