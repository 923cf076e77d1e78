//! PostgreSQL's tests, against a private cluster of this test process ([`super::testdb`]): the
//! conformance suite for the areas done, and what only PostgreSQL has (several nodes writing at once,
//! the schema applied once, its errors).

use super::testdb::PgFixture;
use super::*;
use crate::storage::conformance::Fixture;
use crate::storage::*;

/// Named for `cargo test conformance`; every area PostgreSQL has so far.
mod conformance_suite {
    use super::*;
    crate::storage::conformance::conformance_tests!(PgFixture::new();
        accounts, upkeep);
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
            supported: 1
        })
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
