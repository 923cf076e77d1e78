//! The SQLite implementation of [`Store`]: one file, WAL mode, versioned migrations.
//!
//! One connection behind a mutex for writes and most reads: SQLite serialises writers anyway, and every
//! call is short. Sync and history pages, the reads that can be long, go to a few read-only connections of
//! their own, which under WAL never wait for the writer. Callers run on tokio's blocking pool.
//!
//! Split as [`crate::storage`] is: this file holds the connections, the schema and its migrations,
//! backup and restore, the WAL upkeep, and what more than one area uses (the user row mapper, account
//! names, forgetting an unused avatar); each area's `impl` with what only it uses is in its own file.
//! Those files are child modules, so they see this file's private items without any `pub`.

mod accounts;
mod avatars;
mod files;
mod friends;
mod groups;
mod messages;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use rusqlite::{Connection, OptionalExtension, Row};

use ququ_protocol::{Gender, Millis, Profile};

#[cfg(doc)]
use super::Store;
use super::accounts::{USER_COLS, USER_WIDTH};
use super::{StoreError, Upkeep, UserId, UserRecord};

/// Each entry upgrades the schema by one version; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    account       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    nickname      TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created       INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE tokens (
    hash    TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    expires INTEGER NOT NULL
);
CREATE INDEX tokens_user ON tokens(user_id);
-- The original server's connection-info table: who is connected, from where, since when.
CREATE TABLE connections (
    conn_id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users(id),
    ip      TEXT NOT NULL,
    port    INTEGER NOT NULL,
    since   INTEGER NOT NULL
);
CREATE TABLE friend_requests (
    from_id INTEGER NOT NULL REFERENCES users(id),
    to_id   INTEGER NOT NULL REFERENCES users(id),
    note    TEXT NOT NULL,
    time    INTEGER NOT NULL,
    PRIMARY KEY (from_id, to_id)
);
CREATE INDEX friend_requests_to ON friend_requests(to_id);
-- Two rows per friendship, one per side, so each side has its own remark.
CREATE TABLE friends (
    user_id   INTEGER NOT NULL REFERENCES users(id),
    friend_id INTEGER NOT NULL REFERENCES users(id),
    remark    TEXT NOT NULL DEFAULT '',
    since     INTEGER NOT NULL,
    PRIMARY KEY (user_id, friend_id)
);
CREATE TABLE chat_groups (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    created  INTEGER NOT NULL
);
-- since_msg: a member sees the group's messages with ids above this (those sent after they joined).
CREATE TABLE members (
    group_id  INTEGER NOT NULL REFERENCES chat_groups(id),
    user_id   INTEGER NOT NULL REFERENCES users(id),
    role      TEXT NOT NULL,
    since_msg INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX members_user ON members(user_id);
-- kind 0 = private (target = recipient user, conv = both user ids packed low/high),
-- kind 1 = group (target = conv = group id). Ids only grow, so they double as the sync cursor.
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id   INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    target      INTEGER NOT NULL,
    conv        INTEGER NOT NULL,
    time        INTEGER NOT NULL,
    client_id   TEXT NOT NULL,
    text        TEXT,
    file_id     INTEGER,
    file_size   INTEGER,
    file_sha256 TEXT,
    file_name   TEXT,
    UNIQUE (sender_id, client_id)
);
CREATE INDEX messages_conv ON messages(kind, conv, id);
CREATE INDEX messages_target ON messages(kind, target, id);
CREATE INDEX messages_sender ON messages(sender_id, id);
"#,
    r#"
-- Files relayed through the server. The bytes live under the data dir, named by content, never by `name`.
CREATE TABLE files (
    id        INTEGER PRIMARY KEY,
    sender_id INTEGER NOT NULL REFERENCES users(id),
    client_id TEXT NOT NULL,
    kind      INTEGER NOT NULL,
    target    INTEGER NOT NULL,
    name      TEXT NOT NULL,
    size      INTEGER NOT NULL,
    sha256    TEXT NOT NULL,
    status    TEXT NOT NULL,
    created   INTEGER NOT NULL,
    expires   INTEGER NOT NULL,
    UNIQUE (sender_id, client_id)
);
CREATE INDEX files_sha ON files(sha256);
CREATE INDEX files_expires ON files(status, expires);
"#,
    r#"
-- Two changes that make a commit write fewer pages.
-- 1. A resend is found by (client_id, sender_id) instead of (sender_id, client_id): clients make ids that
--    start with the time, so new entries go to the end of the index instead of the end of each sender's
--    part of it (in a commit of 36 group messages from 4 senders: 11.5 pages written instead of 19.6).
-- 2. `messages_target` and `messages_sender` hold private messages only: a user's sync finds the private
--    messages to and from them through these, and group messages through `messages_conv` by the groups
--    they are in, so a group message, the common kind, no longer updates two indexes it is never found by.
-- SQLite cannot drop a table's UNIQUE constraint, so the table is rebuilt. Its AUTOINCREMENT counter is
-- carried over, so ids keep growing past any deleted message (clients sync by "after the last id").
CREATE TABLE messages_v3 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id   INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    target      INTEGER NOT NULL,
    conv        INTEGER NOT NULL,
    time        INTEGER NOT NULL,
    client_id   TEXT NOT NULL,
    text        TEXT,
    file_id     INTEGER,
    file_size   INTEGER,
    file_sha256 TEXT,
    file_name   TEXT
);
INSERT INTO messages_v3 (id, sender_id, kind, target, conv, time, client_id, text, file_id, file_size,
                         file_sha256, file_name)
    SELECT id, sender_id, kind, target, conv, time, client_id, text, file_id, file_size, file_sha256,
           file_name
    FROM messages ORDER BY id;
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'messages_v3', seq FROM sqlite_sequence WHERE name = 'messages'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'messages_v3');
UPDATE sqlite_sequence
    SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0))
    WHERE name = 'messages_v3';
DROP TABLE messages;
ALTER TABLE messages_v3 RENAME TO messages;
CREATE INDEX messages_conv ON messages(kind, conv, id);
CREATE INDEX messages_target ON messages(target, id) WHERE kind = 0;
CREATE INDEX messages_sender ON messages(sender_id, id) WHERE kind = 0;
CREATE UNIQUE INDEX messages_client ON messages(client_id, sender_id);
"#,
    r#"
-- Message ids come from the server instead of AUTOINCREMENT. AUTOINCREMENT reads and rewrites its
-- `sqlite_sequence` row in every INSERT statement: 37 times in a commit of 37 messages, 12 % of the
-- commit's CPU in a micro-benchmark. Ids must still never go back (clients sync by "after the last id"),
-- even when the newest messages are deleted with their group, so a deleted id is remembered in
-- `message_floor` (by a trigger, so no DELETE can forget) and the next id is one past both it and the
-- largest id stored (`LAST_MESSAGE_ID` in the code), read once per commit.
CREATE TABLE message_floor (
    only INTEGER PRIMARY KEY CHECK (only = 0),
    id   INTEGER NOT NULL
);
INSERT INTO message_floor (only, id) VALUES (0, MAX(
    COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0),
    COALESCE((SELECT MAX(id) FROM messages), 0)));
CREATE TABLE messages_v4 (
    id          INTEGER PRIMARY KEY,
    sender_id   INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    target      INTEGER NOT NULL,
    conv        INTEGER NOT NULL,
    time        INTEGER NOT NULL,
    client_id   TEXT NOT NULL,
    text        TEXT,
    file_id     INTEGER,
    file_size   INTEGER,
    file_sha256 TEXT,
    file_name   TEXT
);
INSERT INTO messages_v4 SELECT id, sender_id, kind, target, conv, time, client_id, text, file_id,
    file_size, file_sha256, file_name FROM messages ORDER BY id;
DROP TABLE messages;
ALTER TABLE messages_v4 RENAME TO messages;
CREATE INDEX messages_conv ON messages(kind, conv, id);
CREATE INDEX messages_target ON messages(target, id) WHERE kind = 0;
CREATE INDEX messages_sender ON messages(sender_id, id) WHERE kind = 0;
CREATE UNIQUE INDEX messages_client ON messages(client_id, sender_id);
CREATE TRIGGER messages_deleted AFTER DELETE ON messages BEGIN
    UPDATE message_floor SET id = MAX(id, OLD.id);
END;
"#,
    r#"
-- A request declined while its sender was offline: kept until the sender lists their requests, so the
-- refusal reaches them instead of being lost with the request.
CREATE TABLE declined_requests (
    from_id INTEGER NOT NULL REFERENCES users(id),
    to_id   INTEGER NOT NULL REFERENCES users(id),
    time    INTEGER NOT NULL,
    PRIMARY KEY (from_id, to_id)
);
"#,
    r#"
-- Issue 20, item 1: who may join a group, and who was removed from it. Every group, the old ones too,
-- takes members by invitation until its owner opens it: before this any account could join any group
-- by its number and download the files offered there.
ALTER TABLE chat_groups ADD COLUMN join_policy TEXT NOT NULL DEFAULT 'invite';
-- Removed (kicked) members: they cannot come back by the group's number, only by a new invitation.
CREATE TABLE group_removed (
    group_id INTEGER NOT NULL REFERENCES chat_groups(id),
    user_id  INTEGER NOT NULL REFERENCES users(id),
    time     INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
"#,
    r#"
-- Issue 20, item 11: the connection-info table moved to a file of its own beside the database
-- (`LIVE_SCHEMA`), never synced, so a connection that comes and goes no longer costs two durable commits.
DROP TABLE connections;
"#,
    r#"
-- Issue 20, item 2: live sessions to end. The operator's `disable` and `reset-password` run in another
-- process; they append a row here and the running server, which polls this table once a second, ends
-- the account's sessions that logged in before `at` (milliseconds) with `BYE:<code>` and deletes the row.
CREATE TABLE session_ends (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    code    TEXT NOT NULL,
    at      INTEGER NOT NULL
);
"#,
    r#"
-- Issue 24: replies, mentions, recalls and read marks. `reply_to`: the message a reply answers;
-- `mentions`: `Mentions::to_field` of a message that mentions people; `recall_of`: on a recall, the
-- recalled message's id (a recall is a row of its own, in the recalled message's conversation, so it
-- syncs in order); `recalled`: 1 on a recalled message, whose text and file columns are NULL from then
-- on — the text is gone, not hidden.
ALTER TABLE messages ADD COLUMN reply_to INTEGER;
ALTER TABLE messages ADD COLUMN mentions TEXT;
ALTER TABLE messages ADD COLUMN recall_of INTEGER;
ALTER TABLE messages ADD COLUMN recalled INTEGER NOT NULL DEFAULT 0;
-- How far each user has read each conversation (`conv`: the peer's user id for a private one, else the
-- group id), so a conversation read on one device is read on all.
CREATE TABLE reads (
    user_id INTEGER NOT NULL,
    kind    INTEGER NOT NULL,
    conv    INTEGER NOT NULL,
    up_to   INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind, conv)
) WITHOUT ROWID;
"#,
    r#"
-- Issue 25: mute (禁言). `muted_until`: until when (milliseconds) a member may not speak in the group, 0
-- if never muted; `mute_all`: 1 while only the group's owner and admins may speak.
ALTER TABLE members ADD COLUMN muted_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chat_groups ADD COLUMN mute_all INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- Issue 25: the group's announcement (群公告), '' for none; who set it (a user id) and when.
ALTER TABLE chat_groups ADD COLUMN notice TEXT NOT NULL DEFAULT '';
ALTER TABLE chat_groups ADD COLUMN notice_by INTEGER;
ALTER TABLE chat_groups ADD COLUMN notice_time INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- Issue 25: a group's changes as rows of its history: `event` is the kind (`GroupEventKind::as_str`),
-- `event_account` whom it concerns, and `text` its value. NULL on every other message.
ALTER TABLE messages ADD COLUMN event TEXT;
ALTER TABLE messages ADD COLUMN event_account TEXT;
"#,
    r#"
-- Issue 25: requests to join a group whose policy is 'approve', until its owner or an admin answers.
CREATE TABLE group_requests (
    group_id INTEGER NOT NULL REFERENCES chat_groups(id),
    user_id  INTEGER NOT NULL REFERENCES users(id),
    time     INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
"#,
    r#"
-- Profiles: what a user shows others besides their nickname. `gender` is `Gender::as_str` or '' (not
-- said); `region` and `signature` (个性签名) are one line each, '' if not set.
ALTER TABLE users ADD COLUMN gender TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN region TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN signature TEXT NOT NULL DEFAULT '';
-- The block list (拉黑): `user_id` blocks `blocked_id` since `time`.
CREATE TABLE blocks (
    user_id    INTEGER NOT NULL REFERENCES users(id),
    blocked_id INTEGER NOT NULL REFERENCES users(id),
    time       INTEGER NOT NULL,
    PRIMARY KEY (user_id, blocked_id)
) WITHOUT ROWID;
-- `hidden`: 1 on a private message (or a file offer) sent by someone its recipient blocks, and on a
-- friend request made to someone who blocks its sender: kept for the sender, who must not learn of the
-- block, and never shown to the recipient — not live, not by `SYNC:`/`HISTORY:`/`REQUESTS`, not after
-- an unblock.
ALTER TABLE messages ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
ALTER TABLE friend_requests ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- A mute (禁言) outlives leaving the group. While someone is a member their mute is `members.muted_until`
-- and nothing else; when their row goes (they leave or are removed) a mute still running moves here, and
-- when they come back (by number, let in, invited) it moves back into their new row, so it runs to its
-- end as if they had stayed. A mute cannot be set or lifted on a non-member, so there is only ever one
-- place to look. Rows whose `until` has passed are dropped lazily (on the next removal from the group, or
-- on return); dissolving the group drops its rows.
CREATE TABLE group_mutes (
    group_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    until    INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
"#,
    r#"
-- Friend groups (好友分组): each user's own groups of friends, kept by the server so all their devices
-- show the same. The default group is 0 and has no row; `friends.category` is the group the row's user
-- keeps the friend in (a row the friendship's end deletes, so a friend deleted and added again starts in
-- the default group). A deleted group's friends go back to 0. Ids are never used twice (AUTOINCREMENT),
-- so a session that missed a deletion cannot take a new group for the old one; growing, they also give
-- the order the groups were made in. `position` is the user's order (CATEGORY_ORDER:), a new group last.
CREATE TABLE categories (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id  INTEGER NOT NULL REFERENCES users(id),
    name     TEXT NOT NULL,
    position INTEGER NOT NULL,
    UNIQUE (user_id, name)
);
ALTER TABLE friends ADD COLUMN category INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- Avatars (头像) kept by the server: each picture once, by the SHA-256 of its bytes (a PNG or JPEG of at
-- most `avatar` bytes), however many users and groups show it. `users.avatar` and `chat_groups.avatar`
-- name theirs (NULL: none). A picture nobody shows any more is deleted when the last one lets it go.
CREATE TABLE avatars (
    sha256 TEXT PRIMARY KEY,
    bytes  BLOB NOT NULL
) WITHOUT ROWID;
ALTER TABLE users ADD COLUMN avatar TEXT;
ALTER TABLE chat_groups ADD COLUMN avatar TEXT;
"#,
];

/// The connection-info table (the original server's: who is connected, from where, since when), in a file
/// of its own beside the database ([`live_path`]) with `synchronous=OFF`. Every TCP connection adds a row
/// and removes it, before any login: in the database, with `durability = "full"`, that was two fsyncs per
/// connection in the one queue every message commit waits in (connection churn from 5 addresses pushed
/// another user's ACK to 3.25 s). The rows describe live connections only and are cleared at every start,
/// so losing them to a power cut costs nothing; the operator's `users` and `online`, separate processes,
/// read them from the file.
const LIVE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS connections (
    conn_id INTEGER PRIMARY KEY,
    user_id INTEGER,
    ip      TEXT NOT NULL,
    port    INTEGER NOT NULL,
    since   INTEGER NOT NULL
);
-- Live state too: a transfer token is good for an hour, an upload's claim for its connection.
CREATE TABLE IF NOT EXISTS transfer_grants (
    token_hash TEXT PRIMARY KEY,
    file_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    put        INTEGER NOT NULL,
    expires    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS upload_claims (
    file_id INTEGER PRIMARY KEY,
    writer  INTEGER NOT NULL
);
-- And the login throttle's counters (storage/throttle.rs).
CREATE TABLE IF NOT EXISTS throttle (
    name          TEXT PRIMARY KEY,
    count         INTEGER NOT NULL,
    since         INTEGER NOT NULL,
    blocked_until INTEGER
);";

/// Where the database at `db` keeps its connection table: `<db>.connections`.
pub fn live_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".connections");
    PathBuf::from(name)
}

/// Opens the connection table's file, starting it afresh if it is damaged (it holds only live state).
fn open_live(db: &Path) -> Result<Connection, StoreError> {
    let path = live_path(db);
    let open = || -> rusqlite::Result<Connection> {
        let conn = Connection::open(&path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
        conn.execute_batch("PRAGMA synchronous=OFF;")?;
        conn.execute_batch(LIVE_SCHEMA)?;
        Ok(conn)
    };
    let unusable = |e: rusqlite::Error| StoreError::Unusable {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    match open() {
        Ok(conn) => Ok(conn),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
            ) =>
        {
            for suffix in ["", "-wal", "-shm"] {
                let mut name = path.as_os_str().to_owned();
                name.push(suffix);
                let _ = std::fs::remove_file(name);
            }
            open().map_err(unusable)
        }
        Err(e) => Err(unusable(e)),
    }
}

/// How far ahead message ids jump when a backup is restored with no database left to say which ids were
/// given out after it: a billion, more than years of a busy server's traffic (4 senders at the rate limit
/// of 20 a second give 7 million a day), and far from the 2^63 ids have room for.
pub const LOST_ID_MARGIN: i64 = 1_000_000_000;

/// The newest message id ever given out, deleted or not: the next message's id is one more.
const LAST_MESSAGE_ID: &str = "SELECT MAX((SELECT id FROM message_floor), \
     COALESCE((SELECT MAX(id) FROM messages), 0))";

/// The newest message id the database at `path` gave out (0 if it has no messages table yet).
fn last_message_id(path: &Path) -> Result<i64, rusqlite::Error> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let has_messages: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'messages'",
        [],
        |r| r.get(0),
    )?;
    if !has_messages {
        return Ok(0);
    }
    // A database from before `message_floor` (schema 4) has only its messages to go by.
    conn.query_row(LAST_MESSAGE_ID, [], |r| r.get(0))
        .or_else(|_| {
            conn.query_row("SELECT COALESCE(MAX(id), 0) FROM messages", [], |r| {
                r.get(0)
            })
        })
}

/// How hard SQLite syncs to disk at each commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// WAL with `synchronous=NORMAL`: a commit survives the server process being killed; a power cut may
    /// lose the last few commits.
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit is fsynced before it is acknowledged; survives power loss, slower.
    Full,
}

/// A [`Store`] in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// A second connection that only checkpoints the WAL ([`Upkeep::maintain`]), so a checkpoint never
    /// holds up a request: SQLite lets a passive checkpoint run while the other connection writes.
    checkpointer: Mutex<Connection>,
    /// The connection table's own file ([`LIVE_SCHEMA`]), with a lock of its own, so its writes never
    /// wait for a message commit nor hold one up.
    live: Mutex<Connection>,
    /// Issue 20, item 12: connections that only read (sync and history pages). Under WAL a reader never
    /// waits for the writer nor holds it up, so a user catching up no longer holds the lock every
    /// message's commit needs. A few, so that reads on the blocking pool seldom wait for each other.
    readers: Vec<Mutex<Connection>>,
    /// Where the next read starts looking for a free reader.
    next_reader: AtomicUsize,
    path: PathBuf,
}

/// How many read connections a store keeps.
const READERS: usize = 4;

/// WAL frames (a page, 4 KiB, each) past which [`Upkeep::maintain`] holds commits back for the end of a
/// checkpoint so that the WAL starts over: 64 MiB.
const WAL_RESTART_FRAMES: i64 = 16 * 1024;

/// A passive checkpoint; the number of frames in the WAL.
fn checkpoint(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date. An existing file
    /// that is not a Ququ database, or is corrupt, is reported — never replaced.
    pub fn open(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        let unusable = |reason: String| StoreError::Unusable {
            path: path.display().to_string(),
            reason,
        };
        let conn = Connection::open(path).map_err(|e| unusable(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // The first statement that reads the file is where a corrupt or foreign file shows itself.
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| unusable(e.to_string()))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(unusable(format!(
                "could not enable WAL (journal mode {mode})"
            )));
        }
        let sync = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        // No automatic checkpoints: SQLite would run them inside whichever commit crosses the threshold,
        // copying pages to the database file and fsyncing it on that request's path. The server calls
        // `maintain` (a passive checkpoint on a connection of its own) every second instead; a store
        // nobody maintains (an admin command) checkpoints when it closes. Durability is the WAL's either
        // way.
        // `secure_delete=FAST`: a recalled message's text is overwritten where it lay in its page, not
        // just unlinked (issue 24: "gone from the server's store, not just hidden"), at no extra I/O.
        conn.execute_batch(&format!(
            "PRAGMA synchronous={sync}; PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=0; \
             PRAGMA secure_delete=FAST;"
        ))?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| unusable(e.to_string()))?;
        if check != "ok" {
            return Err(unusable(format!("integrity check failed: {check}")));
        }
        let checkpointer = Connection::open(path).map_err(|e| unusable(e.to_string()))?;
        checkpointer.busy_timeout(std::time::Duration::from_secs(5))?;
        checkpointer.execute_batch(&format!(
            "PRAGMA synchronous={sync}; PRAGMA wal_autocheckpoint=0;"
        ))?;
        let readers = (0..READERS)
            .map(|_| {
                let reader = Connection::open(path).map_err(|e| unusable(e.to_string()))?;
                reader.busy_timeout(std::time::Duration::from_secs(5))?;
                reader.execute_batch("PRAGMA query_only=1;")?;
                Ok(Mutex::new(reader))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let store = SqliteStore {
            conn: Mutex::new(conn),
            checkpointer: Mutex::new(checkpointer),
            live: Mutex::new(open_live(path)?),
            readers,
            next_reader: AtomicUsize::new(0),
            path: path.to_owned(),
        };
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::TooNew {
                found: version,
                supported,
            });
        }
        if version == 0 {
            // A file with tables but no version is somebody else's database.
            let tables: i64 = conn.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )?;
            if tables > 0 {
                return Err(StoreError::Unusable {
                    path: self.path.display().to_string(),
                    reason: "it holds tables but is not a Ququ database".into(),
                });
            }
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// A consistent copy of the live database at `dest`, taken while the server keeps running and writing.
    /// Refuses to overwrite an existing file.
    ///
    /// `VACUUM INTO` writes the copy from one read transaction: under WAL the server's commits go on
    /// beside it and it never starts over (SQLite's online backup API restarts whenever another
    /// connection writes, so under steady load it never finished). It writes to `DEST.partial`, which is
    /// fsynced and only then linked to `DEST`: a backup that fails or is killed leaves no `DEST`, and
    /// what it did leave (`DEST.partial`, its journal) is cleared by the next run.
    pub fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        let refused = |reason: String| StoreError::Unusable {
            path: dest.display().to_string(),
            reason,
        };
        if dest.exists() {
            return Err(refused(
                "the backup file already exists; choose a new name".into(),
            ));
        }
        let Some(dest_str) = dest.to_str() else {
            return Err(refused("the backup's path must be valid UTF-8".into()));
        };
        let partial = PathBuf::from(format!("{dest_str}.partial"));
        // Leftovers of an interrupted run, this version's (`.partial`) or an older one's (`DEST-journal`,
        // which SQLite would otherwise take for `DEST`'s own and roll back into it).
        let leftovers = [
            partial.clone(),
            PathBuf::from(format!("{dest_str}.partial-journal")),
            PathBuf::from(format!("{dest_str}-journal")),
            PathBuf::from(format!("{dest_str}-wal")),
            PathBuf::from(format!("{dest_str}-shm")),
        ];
        let clear = || {
            for f in &leftovers {
                let _ = std::fs::remove_file(f);
            }
        };
        clear();
        let written = (|| {
            self.lock()?
                .execute("VACUUM INTO ?1", [partial.to_str()])
                .map_err(|e| refused(e.to_string()))?;
            let io = |e: std::io::Error| refused(e.to_string());
            std::fs::File::open(&partial)
                .and_then(|f| f.sync_all())
                .map_err(io)?;
            // A hard link, not a rename: it fails rather than replace a `DEST` that appeared meanwhile.
            // Where the file system has no hard links, a rename after one more look.
            match std::fs::hard_link(&partial, dest) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists || dest.exists() => {
                    return Err(refused(
                        "the backup file already exists; choose a new name".into(),
                    ));
                }
                Err(_) => std::fs::rename(&partial, dest).map_err(io)?,
            }
            if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
                // The new name must reach the disk too (a directory's entries are its data).
                let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            }
            Ok(())
        })();
        clear();
        written
    }

    /// Replaces the database at `path` with the backup at `src`, after checking that `src` is a sound Ququ
    /// database; returns the last message id given out before, which new ids go on after. The server must
    /// not be running on `path` (the caller holds the data directory's lock).
    ///
    /// Clients sync by "after the last id I saw", so ids must never go back: a client that saw ids up to
    /// 20 before the restore would never be sent new messages numbered 11 to 20. So the replaced
    /// database's last id is carried into the restored one's `message_floor`.
    pub fn restore(path: &Path, src: &Path) -> Result<u64, StoreError> {
        if !src.is_file() {
            return Err(StoreError::Unusable {
                path: src.display().to_string(),
                reason: "no such backup file".into(),
            });
        }
        let replaced_last = if path.exists() {
            Some(last_message_id(path).map_err(|e| StoreError::Unusable {
                path: path.display().to_string(),
                reason: format!(
                    "cannot read the last message id it gave out, which the restored database must \
                     go on after ({e}); if it is lost for good, move it aside and restore again \
                     (ids then jump ahead by {LOST_ID_MARGIN}, past anything given out since the backup)"
                ),
            })?)
        } else {
            // No database to read the last id from (the disk it was on is gone): nothing says how many ids
            // were given out after the backup, and clients sync "after the highest id seen". Ids jump far
            // enough ahead that no realistic traffic since the backup can have reached them.
            None
        };
        // Work on a copy, so the backup file itself is never touched: opening it checks integrity and the
        // schema version, and brings an older backup up to date.
        let staging = path.with_extension("restoring");
        let _ = std::fs::remove_file(&staging);
        std::fs::copy(src, &staging).map_err(|e| StoreError::Unusable {
            path: src.display().to_string(),
            reason: e.to_string(),
        })?;
        let with = |p: &Path, suffix: &str| {
            let mut name = p.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        };
        let result = (|| {
            let backup = SqliteStore::open(&staging, Durability::Full)?;
            let last: i64 = {
                let conn = backup.lock()?;
                match replaced_last {
                    Some(last) => {
                        conn.execute("UPDATE message_floor SET id = MAX(id, ?1)", [last])?
                    }
                    None => conn.execute(
                        &format!("UPDATE message_floor SET id = ({LAST_MESSAGE_ID}) + ?1"),
                        [LOST_ID_MARGIN],
                    )?,
                };
                conn.query_row(LAST_MESSAGE_ID, [], |r| r.get(0))?
            };
            // Closing the last connection checkpoints the WAL into the file and deletes it: the staged
            // file is then the whole database.
            drop(backup);
            let io = |e: std::io::Error| StoreError::Unusable {
                path: path.display().to_string(),
                reason: e.to_string(),
            };
            if std::fs::metadata(with(&staging, "-wal")).is_ok_and(|m| m.len() > 0) {
                return Err(StoreError::Unusable {
                    path: staging.display().to_string(),
                    reason: "its write-ahead log was not folded in when it was closed".into(),
                });
            }
            std::fs::File::open(&staging)
                .and_then(|f| f.sync_all())
                .map_err(io)?;
            // The replaced database was closed cleanly when its last id was read, so its WAL holds
            // nothing more; it must go before the rename, or SQLite would apply it to the restored file.
            for suffix in ["-wal", "-shm"] {
                match std::fs::remove_file(with(path, suffix)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
                    _ => {}
                }
            }
            // One rename: a restore that fails or is killed leaves the old database or the new one,
            // never half of each.
            std::fs::rename(&staging, path).map_err(io)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            }
            Ok(last as u64)
        })();
        for suffix in [
            "",
            "-wal",
            "-shm",
            ".connections",
            ".connections-wal",
            ".connections-shm",
        ] {
            let _ = std::fs::remove_file(with(&staging, suffix));
        }
        result
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }

    /// The connection table's file.
    fn live(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.live.lock().map_err(|_| StoreError::Poisoned)
    }

    /// A free read connection, or the next one in turn if all are busy.
    fn reader(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.readers.len() {
            match self.readers[(start + i) % self.readers.len()].try_lock() {
                Ok(reader) => return Ok(reader),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Poisoned(_)) => return Err(StoreError::Poisoned),
            }
        }
        self.readers[start % self.readers.len()]
            .lock()
            .map_err(|_| StoreError::Poisoned)
    }

    /// [`Upkeep::maintain`]'s checkpoint, with the WAL size past which it makes the WAL start over.
    fn checkpoint_wal(&self, restart_frames: i64) -> Result<(), StoreError> {
        let conn = self.checkpointer.lock().map_err(|_| StoreError::Poisoned)?;
        // PASSIVE: copy what no reader still needs, never wait for or block the writer.
        let log = checkpoint(&conn)?;
        // The writer starts the WAL over only if, when its transaction begins, a checkpoint has copied
        // all of it. Under steady load some commit always lands while the checkpoint runs (after the
        // snapshot it copies), so the WAL never starts over: it grew by 90 MB a second in the fan-out
        // benchmark, for as long as the load lasted, each append costing the kernel a freshly zeroed
        // page, and a crash would leave all of it to be read back at the next start. So once it is
        // big, a second pass runs holding the connection: no commit can come between, it copies what
        // was written during the first pass, and the next commit starts the WAL from the top. That
        // holds commits back for the pass (about 10 ms under full load here, nearly as long when it
        // copies little), so it happens only at that size, not every second.
        if log >= restart_frames {
            let _no_commits = self.lock()?;
            checkpoint(&conn)?;
        }
        Ok(())
    }
}

fn user_from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: r.get(at)?,
        account: r.get(at + 1)?,
        nickname: r.get(at + 2)?,
        password_hash: r.get(at + 3)?,
        created: r.get::<_, i64>(at + 4)? as Millis,
        disabled: r.get::<_, i64>(at + 5)? != 0,
        profile: Profile {
            // Only this code writes the column, and only the wire words; anything else reads as not said.
            gender: Gender::parse(&r.get::<_, String>(at + 6)?),
            region: r.get(at + 7)?,
            signature: r.get(at + 8)?,
        },
        avatar: r.get(at + 9)?,
    })
}

/// Deletes the picture `sha256` if no user or group shows it any more (inside the caller's transaction).
fn forget_avatar(conn: &Connection, sha256: &str) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM avatars WHERE sha256 = ?1 \
         AND NOT EXISTS (SELECT 1 FROM users WHERE avatar = ?1) \
         AND NOT EXISTS (SELECT 1 FROM chat_groups WHERE avatar = ?1)",
        [sha256],
    )?;
    Ok(())
}

/// A user's account name, looked up once per batch.
fn account_of(
    conn: &Connection,
    user: UserId,
    accounts: &mut HashMap<UserId, String>,
) -> Result<String, StoreError> {
    if let Some(account) = accounts.get(&user) {
        return Ok(account.clone());
    }
    let account: String = conn
        .prepare_cached("SELECT account FROM users WHERE id = ?1")?
        .query_row([user], |r| r.get(0))?;
    accounts.insert(user, account.clone());
    Ok(account)
}

/// A SQLite store is its own single node (one server per data directory, held by its lock file): always
/// alive and the leader, never another node to reap.
impl crate::storage::NodeStore for SqliteStore {
    fn heartbeat(&self, _now: Millis) -> Result<bool, StoreError> {
        Ok(true)
    }

    fn reap_silent_nodes(&self, _now: Millis) -> Result<crate::storage::Reaped, StoreError> {
        Ok(crate::storage::Reaped::default())
    }

    fn lead(&self) -> Result<bool, StoreError> {
        Ok(true)
    }

    fn leave(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A SQLite store is its own single node: nothing to pass, nobody else's presence to read. Whether a
/// connection is its user's first or last is still answered from the connection table, as a cluster
/// store answers it (the server asks its hub instead, which knows the same with one node).
impl crate::storage::PassStore for SqliteStore {
    fn pass(&self, _items: &[crate::storage::Passing], _now: Millis) -> Result<(), StoreError> {
        Ok(())
    }

    fn start_passing(&self) -> Result<Vec<UserId>, StoreError> {
        Ok(Vec::new())
    }

    fn passed(&self) -> Result<Vec<crate::storage::Passing>, StoreError> {
        Ok(Vec::new())
    }

    fn sweep_passed(&self, _before: Millis) -> Result<usize, StoreError> {
        Ok(0)
    }

    fn arrive(&self, conn_id: u64, user: UserId) -> Result<bool, StoreError> {
        let live = self.live()?;
        live.prepare_cached("UPDATE connections SET user_id = ?2 WHERE conn_id = ?1")?
            .execute(rusqlite::params![conn_id as i64, user])?;
        let others: i64 = live
            .prepare_cached(
                "SELECT count(*) FROM connections WHERE user_id = ?1 AND conn_id <> ?2",
            )?
            .query_row(rusqlite::params![user, conn_id as i64], |r| r.get(0))?;
        Ok(others == 0)
    }

    fn depart(&self, conn_id: u64) -> Result<Option<UserId>, StoreError> {
        let live = self.live()?;
        let user: Option<UserId> = live
            .prepare_cached("DELETE FROM connections WHERE conn_id = ?1 RETURNING user_id")?
            .query_row([conn_id as i64], |r| r.get(0))
            .optional()?
            .flatten();
        let Some(user) = user else {
            return Ok(None);
        };
        let left: i64 = live
            .prepare_cached("SELECT count(*) FROM connections WHERE user_id = ?1")?
            .query_row([user], |r| r.get(0))?;
        Ok((left == 0).then_some(user))
    }
}

/// Under the live file's lock, which every use of the counters takes: one server per SQLite database.
impl crate::storage::ThrottleStore for SqliteStore {
    fn throttle(
        &self,
        names: &[String],
        decide: &mut dyn FnMut(&mut HashMap<String, crate::storage::ThrottleEntry>),
    ) -> Result<(), StoreError> {
        let live = self.live()?;
        let mut counters = HashMap::new();
        {
            let mut read = live.prepare_cached(
                "SELECT count, since, blocked_until FROM throttle WHERE name = ?1",
            )?;
            for name in names {
                let entry = read
                    .query_row([name], |r| {
                        Ok(crate::storage::ThrottleEntry {
                            count: r.get(0)?,
                            since: r.get::<_, i64>(1)? as Millis,
                            blocked_until: r.get::<_, Option<i64>>(2)?.map(|t| t as Millis),
                        })
                    })
                    .optional()?;
                if let Some(entry) = entry {
                    counters.insert(name.clone(), entry);
                }
            }
        }
        decide(&mut counters);
        for name in names {
            match counters.get(name) {
                Some(e) => live
                    .prepare_cached(
                        "INSERT INTO throttle (name, count, since, blocked_until) VALUES (?1, ?2, ?3, ?4) \
                         ON CONFLICT (name) DO UPDATE SET count = excluded.count, since = excluded.since, \
                         blocked_until = excluded.blocked_until",
                    )?
                    .execute(rusqlite::params![
                        name,
                        e.count,
                        e.since as i64,
                        e.blocked_until.map(|t| t as i64)
                    ])?,
                None => live
                    .prepare_cached("DELETE FROM throttle WHERE name = ?1")?
                    .execute([name])?,
            };
        }
        Ok(())
    }

    fn sweep_throttle(&self, now: Millis, window: Millis) -> Result<usize, StoreError> {
        Ok(self
            .live()?
            .prepare_cached(
                "DELETE FROM throttle WHERE since <= ?1 AND (blocked_until IS NULL OR blocked_until <= ?2)",
            )?
            .execute([now.saturating_sub(window) as i64, now as i64])?)
    }
}

impl Upkeep for SqliteStore {
    fn maintain(&self) -> Result<(), StoreError> {
        self.checkpoint_wal(WAL_RESTART_FRAMES)
    }
}

#[cfg(test)]
mod tests;
