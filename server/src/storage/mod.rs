//! Storage: the traits the service layer owns, and their records.
//!
//! The service reaches the database only through [`Store`], so another backend (PostgreSQL) can come later.
//! [`Store`] is every area's trait together, one file each as the service is split (issue 26):
//! [`AccountStore`] (`accounts.rs`), [`AvatarStore`] (`avatars.rs`), [`FriendStore`] (`friends.rs`),
//! [`GroupStore`] (`groups.rs`), [`FileStore`] (`files.rs`), [`MessageStore`] (`messages.rs`),
//! [`NodeStore`] (`nodes.rs`: the servers sharing a database), [`PassStore`] (`passing.rs`: what one
//! node pushes to the others' sessions), [`ThrottleStore`] (`throttle.rs`: the login throttle's
//! counters), and [`Upkeep`] here. A backend
//! implements each area's trait and is a [`Store`] by the blanket impl, so the service takes
//! `Arc<dyn Store>` as before; code calling a method on a concrete store (not a `dyn Store`) brings that area's trait into scope. Records used by one area live in its file; those
//! several areas share live here. Every name is re-exported here, so `crate::storage::X` is the one path.
//! Methods are blocking; the service calls them on tokio's blocking pool, never on the async runtime.
//! [`sqlite::SqliteStore`] is the default implementation, split by the same areas; `postgres::PgStore`
//! (cargo feature `cluster`, issue 26) is the one for several nodes sharing a database.

mod accounts;
mod avatars;
#[cfg(test)]
pub(crate) mod conformance;
mod files;
mod friends;
mod groups;
mod messages;
mod nodes;
mod passing;
#[cfg(feature = "cluster")]
pub mod postgres;
pub mod sqlite;
mod throttle;

pub use accounts::{AccountStore, ConnectionRecord, SessionEnd};
pub use avatars::{Avatar, AvatarOwner, AvatarStore};
pub use files::{FileRecord, FileStatus, FileStore, NewFile, TransferGrant};
pub use friends::{CategoryRefusal, FriendRecord, FriendStore, RequestRecord, SentRecord};
pub use groups::{GROUP_IDS, GroupRecord, GroupStore, MemberRecord, Silence};
pub use messages::{
    Body, Committed, MessageRef, MessageStore, NewMessage, QUOTE_CHARS, Said, Stored,
    StoredMessage, excerpt,
};
pub use nodes::{NODE_SILENCE_LIMIT, NodeStore, Reaped};
pub use passing::{PASSED_KEPT, PassStore, Passing};
pub use throttle::{ThrottleEntry, ThrottleStore};

use ququ_protocol::{Millis, Profile};

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (account name taken, …).
    #[error("already exists")]
    Conflict,
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database at {path} cannot be used: {reason}")]
    Unusable { path: String, reason: String },
    #[error("database schema version {found} is newer than this server understands ({supported})")]
    TooNew { found: i64, supported: i64 },
    #[error("database lock poisoned by a panic")]
    Poisoned,
    /// PostgreSQL's error (cluster mode); a unique violation is [`StoreError::Conflict`] instead.
    #[cfg(feature = "cluster")]
    // The client's own Display says only "db error": the server's message and code are in the source.
    #[error("PostgreSQL error: {}", postgres_detail(.0))]
    Postgres(::postgres::Error),
    /// A node of this name was heard from within [`NODE_SILENCE_LIMIT`]: two live nodes with one name
    /// would clear each other's connection rows (cluster mode).
    #[cfg(feature = "cluster")]
    #[error(
        "a node named {name:?} is running on this database (heard from {ago_ms} ms ago): give this \
         one another name (--node-name), or wait {limit} s if that node has stopped",
        limit = NODE_SILENCE_LIMIT / 1000
    )]
    NodeInUse { name: String, ago_ms: u64 },
    /// A handle opened without a node (the operator's commands) was asked for what only a serving node
    /// has: its connection rows, its session ends (cluster mode).
    #[cfg(feature = "cluster")]
    #[error("this PostgreSQL handle serves no node (only a serving ququ-server has connections)")]
    NoNode,
    /// No connection to PostgreSQL could be had from the pool in time (cluster mode).
    #[cfg(feature = "cluster")]
    #[error("no PostgreSQL connection: {0}")]
    PostgresPool(String),
}

/// What PostgreSQL said (severity, code, message, and where if it said), or the client's own words for
/// an error that never reached the server (a broken connection).
#[cfg(feature = "cluster")]
pub(crate) fn postgres_detail(e: &::postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "{} {}: {}{}",
            db.severity(),
            db.code().code(),
            db.message(),
            db.detail().map(|d| format!(" ({d})")).unwrap_or_default()
        ),
        None => match std::error::Error::source(e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

// Issue 20, item 10: a full disk.
impl StoreError {
    /// The disk is full: SQLite's `SQLITE_FULL`. (A full disk can also show as a plain I/O error, when
    /// SQLite cannot grow its shared-memory file; the service tells those apart by the free space.)
    pub fn is_full(&self) -> bool {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DiskFull
            }
            // PostgreSQL's `disk_full` (53100): its disk, wherever the database runs.
            #[cfg(feature = "cluster")]
            StoreError::Postgres(e) => e.code() == Some(&::postgres::error::SqlState::DISK_FULL),
            _ => false,
        }
    }

    /// The database cannot be reached just now: cluster mode's PostgreSQL is down, restarting, failing
    /// over or cut off from this node (no pooled connection in time, a connection lost, or PostgreSQL's
    /// `connection_exception` class 08 and its shutdown codes 57P01–57P03). A request refused for this
    /// may well succeed when sent again; SQLite, a file beside the server, is never unavailable.
    pub fn is_unavailable(&self) -> bool {
        match self {
            #[cfg(feature = "cluster")]
            StoreError::PostgresPool(_) => true,
            #[cfg(feature = "cluster")]
            StoreError::Postgres(e) => match e.as_db_error() {
                Some(db) => {
                    let code = db.code().code();
                    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
                }
                // Not PostgreSQL's answer: the connection broke under the request, or never was.
                None => {
                    e.is_closed()
                        || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
                }
            },
            _ => false,
        }
    }

    /// An I/O error from SQLite, which on a full disk may mean just that.
    pub fn is_io(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::SystemIoFailure
        )
    }
}

pub type UserId = i64;
pub type GroupId = i64;

/// An account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub account: String,
    pub nickname: String,
    pub password_hash: String,
    pub created: Millis,
    pub disabled: bool,
    /// What they show others besides the nickname: signature, gender, region.
    pub profile: Profile,
    /// The SHA-256 of their avatar picture (see [`AvatarStore::set_avatar`]); `None`: the default picture.
    pub avatar: Option<String>,
}

/// Where a message goes, by internal id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    User(UserId),
    Group(GroupId),
}

/// Work a backend does besides answering requests. Not an area of the service's: the server's timer
/// calls it.
pub trait Upkeep {
    /// Background upkeep the backend wants done off the request path, called every second or so from
    /// the blocking pool while requests go on (SQLite: a WAL checkpoint). Nothing by default.
    fn maintain(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Whether several servers may share this store (PostgreSQL): each then delivers the others'
    /// messages to its own sessions (`service/relay.rs`). SQLite has one server per database.
    fn shared(&self) -> bool {
        false
    }
}

/// Everything the service needs from a database: every area's trait. Every method is one transaction.
/// Nothing to implement: a backend that implements the area traits is a `Store` by the blanket impl below.
pub trait Store:
    AccountStore
    + AvatarStore
    + FriendStore
    + GroupStore
    + FileStore
    + MessageStore
    + NodeStore
    + PassStore
    + ThrottleStore
    + Upkeep
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: AccountStore
        + AvatarStore
        + FriendStore
        + GroupStore
        + FileStore
        + MessageStore
        + NodeStore
        + PassStore
        + ThrottleStore
        + Upkeep
        + Send
        + Sync
        + 'static
{
}
