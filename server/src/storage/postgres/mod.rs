//! The PostgreSQL implementation of [`Store`], for cluster mode (issue 26): several `ququ-server` nodes
//! sharing one database, which is the only truth. Built only with the cargo feature `cluster`; the
//! default build, and the desktop app's embedded server, stay SQLite-only.
//!
//! # Why the blocking `postgres` crate
//! The store traits are blocking: the service calls them on tokio's blocking pool, never on the async
//! runtime (see [`crate::storage`]). So this store uses the synchronous [`postgres`] client (0.19, a thin
//! blocking wrapper over `tokio-postgres` with its own small runtime per connection) and pools its
//! connections with `r2d2_postgres`. An async client here would have to be driven back to blocking at
//! every call for nothing. Once the traits become async, the move is to `tokio-postgres` with
//! `deadpool-postgres`: the SQL stays as it is.
//!
//! # Layout
//! As [`super::sqlite`]: this file holds the pool, opening and the schema (`schema.sql`, then each
//! later version's `schema-<n>.sql`, applied once under an advisory lock with the version in
//! `schema_version`), errors, and what several areas share (the user row mapper); each area's `impl` is
//! in its own file (`accounts.rs`, `friends.rs`, `groups.rs`, `files.rs`, `messages.rs`, `avatars.rs`,
//! `nodes.rs`, which also registers a node); `tls.rs` reads the connection string's TLS settings and
//! wraps connections in rustls; `tests.rs` runs the conformance suite and the
//! cases only PostgreSQL has, against a private cluster from `testdb.rs`.
//!
//! # What differs from SQLite
//! - Message ids come from a counter row locked inside each transaction that stores messages, so they
//!   are given out in commit order without holes however many nodes write (see `messages.rs`).
//! - Account names are unique by `lower(account)`; account names are ASCII, where this is SQLite's
//!   `NOCASE`.
//! - No WAL checkpoints, backups or restores here: PostgreSQL checkpoints and vacuums itself, and is
//!   backed up with its own tools (`pg_dump`, `pg_basebackup` and WAL archiving), so [`Upkeep::maintain`]
//!   does nothing. [`StoreError::is_full`] is PostgreSQL's `disk_full` (53100); the free-space checks on
//!   the data directory are about the node's file blobs, not the database.
//! - The connection-info table is `UNLOGGED`: cheap, and emptied by a crash, as SQLite keeps it in a
//!   file of its own that is never synced.
//! - Several nodes share the database: a handle serving as one ([`PgStore::join`]) keeps its own rows
//!   of the connection table and its own place in the session-end requests, heartbeats, reaps silent
//!   nodes and may lead the periodic sweeps (`nodes.rs`). SQLite is its own single node.
//! - Connections take libpq's `sslmode` and `sslrootcert` (`tls.rs`: rustls, as the listener's TLS);
//!   `sslmode=verify-full` with the CA's certificate checks the database is the one named.

mod accounts;
mod avatars;
mod files;
mod friends;
mod groups;
mod messages;
mod nodes;
mod passing;
mod throttle;
mod tls;

use std::sync::Mutex;
use std::time::Duration;

use postgres::{Row, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::r2d2::{ManageConnection, Pool, PooledConnection};

use ququ_protocol::{Gender, Millis, Profile};

#[cfg(doc)]
use super::Store;
use super::{StoreError, Upkeep, UserRecord};

/// Each entry upgrades the schema by one version; `schema_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("schema-2.sql"),
    include_str!("schema-3.sql"),
    include_str!("schema-4.sql"),
    include_str!("schema-5.sql"),
    include_str!("schema-6.sql"),
];

/// The advisory lock key under which the schema is applied: "ququ" in ASCII. Nodes starting together
/// queue on it, and each sees the schema as the one before it left it.
const SCHEMA_LOCK: i64 = 0x7175_7175;

type Manager = PostgresConnectionManager<tls::MakeTls>;

/// A [`Store`] in a PostgreSQL database: either a serving node's ([`PgStore::join`]), which keeps that
/// node's connection rows and takes its session ends, or a plain handle ([`PgStore::open`]), as the
/// operator's commands use, which reads and writes everything else.
pub struct PgStore {
    /// Always `Some` but in [`Drop`], which takes it.
    pool: Option<Pool<Manager>>,
    /// Written with every message this handle stores (`messages.origin`), so that
    /// [`MessageStore::committed`](crate::storage::MessageStore::committed) can say which are this
    /// node's: random, so a node's next life (whose sessions are all new) takes nothing as its own.
    origin: i64,
    /// Where the pool connects, and how: the leader's connection is made from them too.
    config: postgres::Config,
    tls: tls::MakeTls,
    /// The node this handle serves as, if it serves.
    node: Option<Node>,
    /// While this handle leads the periodic sweeps, the connection holding the leader's advisory lock
    /// (see [`nodes`]).
    leader: Mutex<Option<postgres::Client>>,
}

/// A serving node's own state.
#[derive(Debug)]
struct Node {
    name: String,
    /// The id of the newest session-end request this node has taken (or had, at its start, nothing to
    /// act on).
    seen_end: Mutex<i64>,
    /// The seq of the newest passed item this node has read (see [`passing`]).
    seen_passed: Mutex<i64>,
}

/// Each connection of the blocking client owns a small tokio runtime, and a runtime may not be dropped
/// on a thread driving another: the server drops its store at the end of `run`, an async task. The
/// pool and the leader's connection go on a thread of their own, which closes them.
impl Drop for PgStore {
    fn drop(&mut self) {
        let pool = self.pool.take();
        let leader = self.leader.get_mut().map(Option::take).unwrap_or(None);
        if pool.is_some() || leader.is_some() {
            let _ = std::thread::spawn(move || drop((pool, leader))).join();
        }
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field(
                "connections",
                &self.pool.as_ref().map(|p| p.state().connections),
            )
            .field("node", &self.node.as_ref().map(|n| &n.name))
            .finish()
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        // A broken uniqueness rule is the same answer on every backend.
        if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) {
            StoreError::Conflict
        } else {
            StoreError::Postgres(e)
        }
    }
}

impl From<r2d2_postgres::r2d2::Error> for StoreError {
    fn from(e: r2d2_postgres::r2d2::Error) -> Self {
        StoreError::PostgresPool(e.to_string())
    }
}

impl PgStore {
    /// Connects to the database at `url` (a libpq connection string or `postgres://` URL) with up to
    /// `connections` pooled connections, and brings its schema up to date. A database holding tables
    /// but no Ququ schema is reported, never changed.
    pub fn open(url: &str, connections: u32) -> Result<Self, StoreError> {
        let unusable = |reason: String| StoreError::Unusable {
            path: describe(url),
            reason,
        };
        let tls::Target { config, tls } = tls::target(url).map_err(unusable)?;
        if config.get_ssl_mode() == postgres::config::SslMode::Require && !tls.checked() {
            tracing::warn!(
                "the database connection is encrypted but its certificate is not checked: add \
                 sslmode=verify-full and sslrootcert=<the CA's certificate> to the connection string"
            );
        }
        let manager = PostgresConnectionManager::new(config.clone(), tls.clone());
        // One connection first, so that a wrong password or an unknown database is said at once in
        // PostgreSQL's words, rather than after the pool's ten seconds of retrying.
        drop(
            manager
                .connect()
                .map_err(|e| unusable(super::postgres_detail(&e)))?,
        );
        let pool = Pool::builder()
            .max_size(connections.max(1))
            .error_handler(Box::new(LogErrors))
            // Connections are made as needed, not all up front: many handles (the operator's commands,
            // tests) open a store for a few queries.
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| unusable(e.to_string()))?;
        let store = PgStore {
            pool: Some(pool),
            origin: rand::random::<i64>(),
            config,
            tls,
            node: None,
            leader: Mutex::new(None),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The node this handle serves as; [`StoreError::NoNode`] for a handle that serves none.
    fn node(&self) -> Result<&Node, StoreError> {
        self.node.as_ref().ok_or(StoreError::NoNode)
    }

    /// A pooled connection.
    fn conn(&self) -> Result<PooledConnection<Manager>, StoreError> {
        match &self.pool {
            Some(pool) => Ok(pool.get()?),
            None => Err(StoreError::PostgresPool("the store is closed".into())),
        }
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // Held to the end of the transaction: a second node starting now waits here, then finds the
        // schema done.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
        let version = schema_version(&mut tx)?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::TooNew {
                found: version,
                supported,
            });
        }
        if version == 0 {
            // A database with tables but no version is somebody else's.
            let tables: i64 = tx
                .query_one(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
                    &[],
                )?
                .get(0);
            if tables > 0 {
                return Err(StoreError::Unusable {
                    path: "PostgreSQL".into(),
                    reason: "the database holds tables but is not a Ququ database".into(),
                });
            }
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES ($1) \
                 ON CONFLICT (one) DO UPDATE SET version = excluded.version",
                &[&(i as i64 + 1)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// The schema version of the database (0: none yet).
fn schema_version(tx: &mut Transaction<'_>) -> Result<i64, StoreError> {
    let exists: bool = tx
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(0);
    }
    Ok(tx
        .query_opt("SELECT version FROM schema_version", &[])?
        .map_or(0, |r| r.get(0)))
}

/// The pool's failures to connect, in the server's log with PostgreSQL's words (r2d2's own handler logs
/// only the client's "db error").
#[derive(Debug)]
struct LogErrors;

impl r2d2_postgres::r2d2::HandleError<postgres::Error> for LogErrors {
    fn handle_error(&self, e: postgres::Error) {
        tracing::error!(error = %super::postgres_detail(&e), "cannot connect to PostgreSQL");
    }
}

/// Whether PostgreSQL can take `s` as text: it refuses NUL anywhere in a text value, even in a lookup
/// (SQLite takes it). What the service stores never holds one (it refuses control characters), so a
/// lookup by a name or hash with a NUL in it, which a client can send, finds nothing without asking.
fn storable(s: &str) -> bool {
    !s.contains('\0')
}

/// The database `url` names, without its password, for messages and the server's start-up lines:
/// `postgres://ququ@db1:5432/ququ`.
pub fn describe(url: &str) -> String {
    let Some(Ok(c)) = tls::without_tls(url).map(|rest| rest.parse::<postgres::Config>()) else {
        return "a PostgreSQL connection string that does not parse".into();
    };
    let ports = c.get_ports();
    let hosts: Vec<String> = c
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(path) => path.display().to_string(),
            };
            match ports.get(i).or(ports.first()) {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        })
        .collect();
    format!(
        "postgres://{}{}/{}",
        c.get_user().map(|u| format!("{u}@")).unwrap_or_default(),
        if hosts.is_empty() {
            "localhost".to_string()
        } else {
            hosts.join(",")
        },
        c.get_dbname().unwrap_or("")
    )
}

/// The columns [`user_from_row`] reads, from `users u`.
const USER_COLS: &str = super::accounts::USER_COLS;
/// How many columns `USER_COLS` is: where a query's own columns after it start.
const USER_WIDTH: usize = super::accounts::USER_WIDTH;

/// The user whose [`USER_COLS`] start at column `at`.
fn user_from_row(r: &Row, at: usize) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: r.try_get(at)?,
        account: r.try_get(at + 1)?,
        nickname: r.try_get(at + 2)?,
        password_hash: r.try_get(at + 3)?,
        created: r.try_get::<_, i64>(at + 4)? as Millis,
        disabled: r.try_get(at + 5)?,
        profile: Profile {
            // Only this code writes the column, and only the wire words; anything else reads as not said.
            gender: Gender::parse(r.try_get(at + 6)?),
            region: r.try_get(at + 7)?,
            signature: r.try_get(at + 8)?,
        },
        avatar: r.try_get(at + 9)?,
    })
}

/// Deletes the picture `sha256` if no user or group shows it any more (inside the caller's transaction).
fn forget_avatar(tx: &mut Transaction<'_>, sha256: &str) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM avatars WHERE sha256 = $1 \
         AND NOT EXISTS (SELECT 1 FROM users WHERE avatar = $1) \
         AND NOT EXISTS (SELECT 1 FROM chat_groups WHERE avatar = $1)",
        &[&sha256],
    )?;
    Ok(())
}

/// Every row of `rows` through `f`.
fn all<T>(rows: Vec<Row>, f: impl Fn(&Row) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    rows.iter().map(f).collect()
}

/// PostgreSQL does its own upkeep (checkpoints, autovacuum): nothing to do here.
impl Upkeep for PgStore {
    fn shared(&self) -> bool {
        true
    }
}

// A private PostgreSQL for tests: this crate's own, and its integration tests through the
// `test-cluster` feature (tests/common starts every test server on it). Never part of a build that ships.
#[cfg(any(test, feature = "test-cluster"))]
#[doc(hidden)]
pub mod testdb;
#[cfg(test)]
mod tests;
