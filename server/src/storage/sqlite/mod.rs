//! The SQLite implementation of [`Store`]: one file, WAL mode, versioned migrations.
//!
//! One connection behind a mutex for writes and most reads: SQLite serialises writers anyway, and every
//! call is short. Sync and history pages, the reads that can be long, go to a few read-only connections of
//! their own, which under WAL never wait for the writer. Callers run on tokio's blocking pool.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use rusqlite::{Connection, OptionalExtension, Row, params};

use ququ_protocol::{
    Conv, FileInfo, Gender, GroupEventKind, JoinPolicy, Mentions, Millis, Profile, ProfileChange,
    Quote, Role,
};

use super::SessionEnd;
use super::{Avatar, AvatarOwner, FileRecord, FileStatus, NewFile, Silence};
use super::{
    Body, CategoryRefusal, ConnectionRecord, FriendRecord, GroupId, GroupRecord, MemberRecord,
    MessageRef, NewMessage, RequestRecord, Said, SentRecord, Store, StoreError, Stored,
    StoredMessage, Target, UserId, UserRecord, excerpt,
};

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

/// Forgets `?2`'s refusal of `?1`'s request: `?1` asked again, or they became friends.
const FORGET_DECLINED: &str = "DELETE FROM declined_requests WHERE from_id = ?1 AND to_id = ?2";

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
    /// A second connection that only checkpoints the WAL ([`Store::maintain`]), so a checkpoint never
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

/// WAL frames (a page, 4 KiB, each) past which [`Store::maintain`] holds commits back for the end of a
/// checkpoint so that the WAL starts over: 64 MiB.
const WAL_RESTART_FRAMES: i64 = 16 * 1024;

/// A passive checkpoint; the number of frames in the WAL.
fn checkpoint(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?)
}

const USER_COLS: &str = "u.id, u.account, u.nickname, u.password_hash, u.created, u.disabled, \
     u.gender, u.region, u.signature, u.avatar";
/// How many columns `USER_COLS` is: where a query's own columns after it start.
const USER_WIDTH: usize = 10;

/// The columns `message_from_row` reads, from `messages m` and the users `s` (sender) and `t` (recipient).
const MESSAGE_COLS: &str = "m.id, s.account, m.kind, m.target, t.account, m.time, m.client_id, \
     m.text, m.file_id, m.file_size, m.file_sha256, m.file_name, m.reply_to, m.mentions, \
     m.recall_of, m.recalled, qs.account, q.text, q.file_name, q.recalled, m.event, m.event_account";
/// The sender's and the recipient's account names for `messages m`, and the message it quotes or
/// recalls (`q`) with its sender (`qs`). For a message that does neither, the join looks up a NULL id
/// and finds nothing at once.
const MESSAGE_USERS: &str = "JOIN users s ON s.id = m.sender_id LEFT JOIN users t ON m.kind = 0 AND t.id = m.target \
     LEFT JOIN messages q ON q.id = COALESCE(m.reply_to, m.recall_of) \
     LEFT JOIN users qs ON qs.id = q.sender_id";

/// `MESSAGE_COLS` of `messages m`, for a `WHERE` to follow.
fn message_select() -> String {
    format!("SELECT {MESSAGE_COLS} FROM messages m {MESSAGE_USERS}")
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

    /// [`Store::maintain`]'s checkpoint, with the WAL size past which it makes the WAL start over.
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

/// A row of `SELECT {USER_COLS}, f.remark, f.category FROM friends f JOIN users u …`.
fn friend_from_row(r: &Row<'_>) -> rusqlite::Result<FriendRecord> {
    Ok(FriendRecord {
        user: user_from_row(r, 0)?,
        remark: r.get(USER_WIDTH)?,
        category: r.get::<_, i64>(USER_WIDTH + 1)? as u64,
    })
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

fn message_from_row(r: &Row<'_>) -> rusqlite::Result<StoredMessage> {
    let kind: i64 = r.get(2)?;
    let target: i64 = r.get(3)?;
    let to = if kind == 0 {
        Conv::User(r.get::<_, Option<String>>(4)?.unwrap_or_default())
    } else {
        Conv::Group(target as u64)
    };
    let reply_to = r.get::<_, Option<i64>>(12)?.map(|id| id as u64);
    let mentions = r.get::<_, Option<String>>(13)?;
    let recall_of = r.get::<_, Option<i64>>(14)?;
    let quoted_from = || {
        r.get::<_, Option<String>>(16)
            .map(Option::unwrap_or_default)
    };
    let event = r.get::<_, Option<String>>(20)?;
    let body = if r.get::<_, i64>(15)? != 0 {
        Body::Gone
    } else if let Some(kind) = event.as_deref().and_then(GroupEventKind::parse) {
        Body::Event {
            kind,
            account: r.get::<_, Option<String>>(21)?.unwrap_or_default(),
            value: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
        }
    } else if event.is_some() {
        // A kind from a newer server: kept in the history's count, as a recalled message is, never sent.
        Body::Gone
    } else if let Some(target) = recall_of {
        Body::Recall {
            target: target as u64,
            target_from: quoted_from()?,
        }
    } else if let Some(file_id) = r.get::<_, Option<i64>>(8)? {
        Body::File(FileInfo {
            file_id: file_id as u64,
            size: r.get::<_, Option<i64>>(9)?.unwrap_or(0) as u64,
            sha256: r.get::<_, Option<String>>(10)?.unwrap_or_default(),
            name: r.get::<_, Option<String>>(11)?.unwrap_or_default(),
        })
    } else if reply_to.is_some() || mentions.is_some() {
        let quote = match reply_to {
            // A quoted message recalled since (or gone with its group) quotes nothing.
            Some(id) => Some(Quote {
                id,
                from: quoted_from()?,
                text: if r.get::<_, Option<i64>>(19)?.unwrap_or(1) != 0 {
                    String::new()
                } else {
                    match (
                        r.get::<_, Option<String>>(17)?,
                        r.get::<_, Option<String>>(18)?,
                    ) {
                        (Some(text), _) => excerpt(&text),
                        (None, Some(name)) => format!("[{name}]"),
                        (None, None) => String::new(),
                    }
                },
            }),
            None => None,
        };
        Body::Said(Said {
            text: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
            reply_to,
            mentions: mentions
                .as_deref()
                .and_then(Mentions::from_field)
                .unwrap_or_default(),
            quote,
        })
    } else {
        Body::Text(r.get::<_, Option<String>>(7)?.unwrap_or_default())
    };
    Ok(StoredMessage {
        id: r.get::<_, i64>(0)? as u64,
        from: r.get(1)?,
        to,
        time: r.get::<_, i64>(5)? as Millis,
        client_id: r.get(6)?,
        body,
    })
}

// Issue 20, item 12: what `messages_after` reads, one statement per source of a user's messages. Each
// is a range of one index from the cursor on that stops after the page (`?3` rows) or at the ceiling
// (`?4`), so a page costs the same however much lies beyond it. The one statement they replaced took
// every id after the cursor from every source, sorted them and kept the first page: about 105 ms a page
// with 260,000 messages in view, holding the store's one connection all the while.
/// Private messages to `?1` above `?2`, but those hidden from it (their sender is blocked).
const PRIVATE_TO: &str = "SELECT id FROM messages WHERE kind = 0 AND target = ?1 \
     AND id > ?2 AND id <= ?4 AND hidden = 0 ORDER BY id LIMIT ?3";
/// Private messages from `?1` above `?2`.
const PRIVATE_FROM: &str = "SELECT id FROM messages WHERE kind = 0 AND sender_id = ?1 \
     AND id > ?2 AND id <= ?4 ORDER BY id LIMIT ?3";
/// Messages of group `?1` above `?2`.
const IN_GROUP: &str = "SELECT id FROM messages WHERE kind = 1 AND conv = ?1 \
     AND id > ?2 AND id <= ?4 ORDER BY id LIMIT ?3";
/// `?1`'s groups, and the last message of each from before they joined.
const MY_GROUPS: &str = "SELECT group_id, since_msg FROM members WHERE user_id = ?1";

/// The first `limit` messages for `user` with ids above `after`, in id order, read in one snapshot so
/// that no message committed meanwhile can be skipped (ids only grow, so a page missing one would move
/// the client's cursor past it).
fn messages_after_on(
    conn: &Connection,
    user: UserId,
    after: i64,
    limit: u32,
) -> Result<Vec<StoredMessage>, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let mut sources = vec![(PRIVATE_TO, user, after), (PRIVATE_FROM, user, after)];
    {
        let mut groups = tx.prepare_cached(MY_GROUPS)?;
        let rows = groups.query_map([user], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (group, since) = row?;
            sources.push((IN_GROUP, group, after.max(since)));
        }
    }
    let page = limit as usize;
    // The service asks for pages of at most a few hundred; other callers (the operator's tools, tests)
    // may ask for "everything", which must not reserve memory for `u32::MAX` ids up front.
    let mut ids: Vec<i64> = Vec::with_capacity(page.min(4096) * 2);
    // Once a page's worth is found, nothing above its last id can be in the page: later sources stop
    // there.
    let mut ceiling = i64::MAX;
    for (sql, key, from) in sources {
        let mut stmt = tx.prepare_cached(sql)?;
        for id in stmt.query_map(params![key, from, limit, ceiling], |r| r.get::<_, i64>(0))? {
            ids.push(id?);
        }
        if ids.len() >= page {
            ids.sort_unstable();
            ids.dedup();
            ids.truncate(page);
            if ids.len() == page {
                ceiling = ids[page - 1];
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ids.truncate(page);
    let mut one = tx.prepare_cached(&format!("{} WHERE m.id = ?1", message_select()))?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(m) = one.query_row([id], message_from_row).optional()? {
            out.push(m);
        }
    }
    Ok(out)
}

const FILE_SELECT: &str = "SELECT id, sender_id, client_id, kind, target, name, size, sha256, status, \
     created, expires FROM files";

fn file_from_row(r: &Row<'_>) -> rusqlite::Result<FileRecord> {
    let kind: i64 = r.get(3)?;
    let target: i64 = r.get(4)?;
    let status: String = r.get(8)?;
    Ok(FileRecord {
        id: r.get::<_, i64>(0)? as u64,
        sender: r.get(1)?,
        client_id: r.get(2)?,
        to: if kind == 0 {
            Target::User(target)
        } else {
            Target::Group(target)
        },
        name: r.get(5)?,
        size: r.get::<_, i64>(6)? as u64,
        sha256: r.get(7)?,
        status: FileStatus::parse(&status).unwrap_or(FileStatus::Expired),
        created: r.get::<_, i64>(9)? as Millis,
        expires: r.get::<_, i64>(10)? as Millis,
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

fn group_from_row(r: &Row<'_>) -> rusqlite::Result<GroupRecord> {
    Ok(GroupRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        owner: r.get(2)?,
        owner_account: r.get(3)?,
        members: r.get::<_, i64>(4)? as u32,
        // Only this code writes the column, and only valid names; an unknown one would be a newer
        // server's, and the safe reading of it is the closed one.
        policy: JoinPolicy::parse(&r.get::<_, String>(5)?).unwrap_or_default(),
        mute_all: r.get::<_, i64>(6)? != 0,
        notice: r.get(7)?,
        notice_by: r.get(8)?,
        notice_time: r.get::<_, i64>(9)? as Millis,
        avatar: r.get(10)?,
    })
}

const GROUP_SELECT: &str = "SELECT g.id, g.name, g.owner_id, o.account, \
     (SELECT count(*) FROM members c WHERE c.group_id = g.id), g.join_policy, g.mute_all, \
     g.notice, COALESCE(n.account, ''), g.notice_time, g.avatar \
     FROM chat_groups g JOIN users o ON o.id = g.owner_id LEFT JOIN users n ON n.id = g.notice_by";

/// Inserts one message (or finds the first copy of a resend), inside whatever transaction is open.
fn insert_message(
    conn: &Connection,
    msg: &NewMessage,
    ctx: &mut Batch,
) -> Result<Stored, StoreError> {
    let (kind, target, conv) = match msg.to {
        Target::User(to) => (0, to, pair_key(msg.sender, to)),
        Target::Group(g) => (1, g, g),
    };
    let (text, file) = match &msg.body {
        Body::Text(t) => (Some(t.as_str()), None),
        Body::Said(said) => (Some(said.text.as_str()), None),
        Body::File(f) => (None, Some(f)),
        Body::Event { value, .. } => (Some(value.as_str()), None),
        Body::Recall { .. } | Body::Gone => (None, None),
    };
    let (event, event_account) = match &msg.body {
        Body::Event { kind, account, .. } => (Some(kind.as_str()), Some(account.as_str())),
        _ => (None, None),
    };
    let (reply_to, mentions) = match &msg.body {
        Body::Said(said) => (
            said.reply_to.map(|id| id as i64),
            (!said.mentions.is_empty()).then(|| said.mentions.to_field()),
        ),
        _ => (None, None),
    };
    let recall_of = match &msg.body {
        Body::Recall { target, .. } => Some(*target as i64),
        _ => None,
    };
    // Cached statements: this is the hot path, and parsing SQL costs more than running it.
    let inserted = conn
        .prepare_cached(
            "INSERT INTO messages (id, sender_id, kind, target, conv, time, client_id, text, \
         file_id, file_size, file_sha256, file_name, reply_to, mentions, recall_of, event, \
         event_account, hidden) \
         VALUES (?12, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?13, ?14, ?15, ?16, ?17, ?18) \
         ON CONFLICT(sender_id, client_id) DO NOTHING",
        )?
        .execute(params![
            msg.sender,
            kind,
            target,
            conv,
            msg.time as i64,
            msg.client_id,
            text,
            file.map(|f| f.file_id as i64),
            file.map(|f| f.size as i64),
            file.map(|f| f.sha256.as_str()),
            file.map(|f| f.name.as_str()),
            ctx.last_id + 1,
            reply_to,
            mentions,
            recall_of,
            event,
            event_account,
            msg.hidden,
        ])?;
    if inserted == 0 {
        // A resend: the answer is the first copy, as stored.
        let message = conn
            .prepare_cached(&format!(
                "{} WHERE m.sender_id = ?1 AND m.client_id = ?2",
                message_select()
            ))?
            .query_row(params![msg.sender, msg.client_id], message_from_row)?;
        return Ok(Stored {
            message,
            duplicate: true,
        });
    }
    // A new row holds exactly what was inserted, so it is built here rather than read back: reading it
    // back through the joined select cost more than the insert (a profile showed SQLite re-preparing
    // that statement, `sqlite3Reprepare`, on every step: a third of the server's time in a fan-out).
    ctx.last_id += 1;
    let to = match msg.to {
        Target::User(to) => Conv::User(account_of(conn, to, &mut ctx.accounts)?),
        Target::Group(g) => Conv::Group(g as u64),
    };
    Ok(Stored {
        message: StoredMessage {
            id: ctx.last_id as u64,
            from: account_of(conn, msg.sender, &mut ctx.accounts)?,
            to,
            time: msg.time,
            client_id: msg.client_id.clone(),
            body: msg.body.clone(),
        },
        duplicate: false,
    })
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

/// What the inserts of one transaction share: account names looked up so far, and the last message id
/// given out (read once, when the transaction starts, instead of by AUTOINCREMENT in every insert).
struct Batch {
    accounts: HashMap<UserId, String>,
    last_id: i64,
}

impl Batch {
    /// Must be called inside the transaction that does the inserts, so no other writer can take the
    /// same ids in between.
    fn start(conn: &Connection) -> Result<Self, StoreError> {
        Ok(Batch {
            accounts: HashMap::new(),
            last_id: conn
                .prepare_cached(LAST_MESSAGE_ID)?
                .query_row([], |r| r.get(0))?,
        })
    }
}

/// Writes `batch` in one transaction. If the transaction fails as a whole, each message is tried in a
/// transaction of its own, so one bad message cannot fail the others.
fn commit_batch(conn: &mut Connection, batch: &[NewMessage]) -> Vec<Result<Stored, StoreError>> {
    if batch.len() > 1 {
        let all = (|| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut ctx = Batch::start(&tx)?;
            let stored = batch
                .iter()
                .map(|m| insert_message(&tx, m, &mut ctx))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit()?;
            Ok::<_, StoreError>(stored)
        })();
        match all {
            Ok(stored) => return stored.into_iter().map(Ok).collect(),
            Err(e) => {
                tracing::warn!(error = %e, messages = batch.len(), "batch failed; storing one by one")
            }
        }
    }
    batch.iter().map(|m| commit_one(conn, m)).collect()
}

/// Writes one message in a transaction of its own.
fn commit_one(conn: &mut Connection, msg: &NewMessage) -> Result<Stored, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let stored = insert_message(&tx, msg, &mut Batch::start(&tx)?)?;
    tx.commit()?;
    Ok(stored)
}

/// Private conversations are keyed by both user ids, lower first, so either side finds the same rows.
/// A client's id bound (a sync cursor, a history page's `before`) as SQLite's `i64`. Ids are `u64` on the
/// wire; one of 2^63 or more, cast, wrapped to a negative id and `SYNC:` sent the whole history from the
/// start (issue 20, item 13). No stored id is that large, so it clamps to the largest `i64`, which is past
/// every message too.
fn id_bound(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

fn pair_key(a: UserId, b: UserId) -> i64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    (lo << 32) | (hi & 0xffff_ffff)
}

fn role_str(role: Role) -> &'static str {
    role.as_str()
}

impl Store for SqliteStore {
    fn create_user(
        &self,
        account: &str,
        nickname: &str,
        password_hash: &str,
        now: Millis,
    ) -> Result<UserRecord, StoreError> {
        let conn = self.lock()?;
        let inserted = conn.execute(
            "INSERT INTO users (account, nickname, password_hash, created) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(account) DO NOTHING",
            params![account, nickname, password_hash, now as i64],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict);
        }
        Ok(UserRecord {
            id: conn.last_insert_rowid(),
            account: account.to_owned(),
            nickname: nickname.to_owned(),
            password_hash: password_hash.to_owned(),
            created: now,
            disabled: false,
            profile: Profile::default(),
            avatar: None,
        })
    }

    fn user_by_account(&self, account: &str) -> Result<Option<UserRecord>, StoreError> {
        let conn = self.lock()?;
        Ok(conn
            .prepare_cached(&format!(
                "SELECT {USER_COLS} FROM users u WHERE u.account = ?1"
            ))?
            .query_row([account], |r| user_from_row(r, 0))
            .optional()?)
    }

    fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                &format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?1"),
                [id],
                |r| user_from_row(r, 0),
            )
            .optional()?)
    }

    fn set_nickname(&self, user: UserId, nickname: &str) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE users SET nickname = ?2 WHERE id = ?1",
            params![user, nickname],
        )?;
        Ok(())
    }

    fn set_profile(&self, user: UserId, change: &ProfileChange) -> Result<(), StoreError> {
        // The column is chosen here from the change's kind, never from text.
        let sql = match change {
            ProfileChange::Signature(_) => "UPDATE users SET signature = ?2 WHERE id = ?1",
            ProfileChange::Gender(_) => "UPDATE users SET gender = ?2 WHERE id = ?1",
            ProfileChange::Region(_) => "UPDATE users SET region = ?2 WHERE id = ?1",
        };
        self.lock()?.execute(sql, params![user, change.value()])?;
        Ok(())
    }

    fn set_avatar(&self, of: AvatarOwner, image: Option<&Avatar>) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // The table is chosen here from the owner's kind, never from text.
        let (select, update, id) = match of {
            AvatarOwner::User(id) => (
                "SELECT avatar FROM users WHERE id = ?1",
                "UPDATE users SET avatar = ?2 WHERE id = ?1",
                id,
            ),
            AvatarOwner::Group(id) => (
                "SELECT avatar FROM chat_groups WHERE id = ?1",
                "UPDATE chat_groups SET avatar = ?2 WHERE id = ?1",
                id,
            ),
        };
        let old: Option<String> = tx
            .query_row(select, [id], |r| r.get(0))
            .optional()?
            .flatten();
        if let Some(new) = image {
            tx.execute(
                "INSERT INTO avatars (sha256, bytes) VALUES (?1, ?2) ON CONFLICT(sha256) DO NOTHING",
                params![new.sha256, new.bytes],
            )?;
        }
        tx.execute(update, params![id, image.map(|a| a.sha256.as_str())])?;
        if let Some(old) = old {
            forget_avatar(&tx, &old)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn avatar(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .lock()?
            .query_row(
                "SELECT bytes FROM avatars WHERE sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn co_members(&self, user: UserId) -> Result<Vec<UserId>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(
            "SELECT DISTINCT o.user_id FROM members me JOIN members o ON o.group_id = me.group_id \
             WHERE me.user_id = ?1 AND o.user_id != ?1",
        )?;
        let rows = stmt.query_map([user], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_password_hash(&self, user: UserId, hash: &str) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE users SET password_hash = ?2 WHERE id = ?1",
            params![user, hash],
        )?;
        Ok(())
    }

    fn set_disabled(&self, user: UserId, disabled: bool) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE users SET disabled = ?2 WHERE id = ?1",
            params![user, disabled as i64],
        )?;
        Ok(())
    }

    fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {USER_COLS} FROM users u ORDER BY u.account"
        ))?;
        let rows = stmt.query_map([], |r| user_from_row(r, 0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn search_users(&self, query: &str, limit: u32) -> Result<Vec<UserRecord>, StoreError> {
        let conn = self.lock()?;
        let escaped = query
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let mut stmt = conn.prepare(&format!(
            "SELECT {USER_COLS} FROM users u \
             WHERE u.disabled = 0 AND (u.account LIKE ?1 ESCAPE '\\' OR u.nickname LIKE ?1 ESCAPE '\\') \
             ORDER BY (u.account = ?2 COLLATE NOCASE) DESC, u.account LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![pattern, query, limit], |r| user_from_row(r, 0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn create_token(
        &self,
        user: UserId,
        token_hash: &str,
        expires: Millis,
    ) -> Result<(), StoreError> {
        self.lock()?.execute(
            "INSERT INTO tokens (hash, user_id, expires) VALUES (?1, ?2, ?3)",
            params![token_hash, user, expires as i64],
        )?;
        Ok(())
    }

    fn token_user(&self, token_hash: &str, now: Millis) -> Result<Option<UserId>, StoreError> {
        // A read only: a reconnect storm must not turn into a storm of writes. Expired rows are
        // removed by the periodic sweep.
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                "SELECT user_id FROM tokens WHERE hash = ?1 AND expires > ?2",
                params![token_hash, now as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn revoke_token(&self, token_hash: &str) -> Result<(), StoreError> {
        self.lock()?
            .execute("DELETE FROM tokens WHERE hash = ?1", [token_hash])?;
        Ok(())
    }

    fn revoke_tokens(&self, user: UserId, keep: Option<&str>) -> Result<(), StoreError> {
        self.lock()?.execute(
            "DELETE FROM tokens WHERE user_id = ?1 AND hash IS NOT ?2",
            params![user, keep],
        )?;
        Ok(())
    }

    fn sweep_tokens(&self, now: Millis) -> Result<usize, StoreError> {
        Ok(self
            .lock()?
            .execute("DELETE FROM tokens WHERE expires <= ?1", [now as i64])?)
    }

    fn clear_connections(&self) -> Result<(), StoreError> {
        self.live()?.execute("DELETE FROM connections", [])?;
        Ok(())
    }

    fn add_connection(&self, c: &ConnectionRecord) -> Result<(), StoreError> {
        self.live()?
            .prepare_cached(
                "INSERT OR REPLACE INTO connections (conn_id, ip, port, since) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![c.conn_id as i64, c.ip, c.port, c.since as i64])?;
        Ok(())
    }

    fn set_connection_user(&self, conn_id: u64, user: UserId) -> Result<(), StoreError> {
        self.live()?
            .prepare_cached("UPDATE connections SET user_id = ?2 WHERE conn_id = ?1")?
            .execute(params![conn_id as i64, user])?;
        Ok(())
    }

    fn remove_connection(&self, conn_id: u64) -> Result<(), StoreError> {
        self.live()?
            .prepare_cached("DELETE FROM connections WHERE conn_id = ?1")?
            .execute([conn_id as i64])?;
        Ok(())
    }

    fn connections(&self) -> Result<Vec<ConnectionRecord>, StoreError> {
        let rows = {
            let live = self.live()?;
            let mut stmt = live.prepare(
                "SELECT conn_id, user_id, ip, port, since FROM connections ORDER BY conn_id",
            )?;
            stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, Option<UserId>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, u16>(3)?,
                    r.get::<_, i64>(4)? as Millis,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?
        };
        // The accounts are in the database proper: the two files cannot be joined in one query.
        let conn = self.lock()?;
        let mut accounts = HashMap::new();
        rows.into_iter()
            .map(|(conn_id, user, ip, port, since)| {
                let account = match user {
                    Some(u) => Some(account_of(&conn, u, &mut accounts)?),
                    None => None,
                };
                Ok(ConnectionRecord {
                    conn_id,
                    account,
                    ip,
                    port,
                    since,
                })
            })
            .collect()
    }

    fn put_request(
        &self,
        from: UserId,
        to: UserId,
        note: &str,
        now: Millis,
        hidden: bool,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO friend_requests (from_id, to_id, note, time, hidden) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT(from_id, to_id) DO UPDATE SET note = excluded.note, time = excluded.time, \
             hidden = excluded.hidden",
            params![from, to, note, now as i64, hidden],
        )?;
        tx.execute(FORGET_DECLINED, params![from, to])?;
        tx.commit()?;
        Ok(())
    }

    fn requests_to(&self, to: UserId) -> Result<Vec<RequestRecord>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {USER_COLS}, r.note, r.time FROM friend_requests r \
             JOIN users u ON u.id = r.from_id WHERE r.to_id = ?1 AND r.hidden = 0 ORDER BY r.time"
        ))?;
        let rows = stmt.query_map([to], |r| {
            Ok(RequestRecord {
                from: user_from_row(r, 0)?,
                note: r.get(USER_WIDTH)?,
                time: r.get::<_, i64>(USER_WIDTH + 1)? as Millis,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn requests_from(&self, from: UserId) -> Result<Vec<SentRecord>, StoreError> {
        let conn = self.lock()?;
        // The primary key (from_id, to_id) finds them.
        let mut stmt = conn.prepare(&format!(
            "SELECT {USER_COLS}, r.time FROM friend_requests r \
             JOIN users u ON u.id = r.to_id WHERE r.from_id = ?1 ORDER BY r.time, r.to_id"
        ))?;
        let rows = stmt.query_map([from], |r| {
            Ok(SentRecord {
                to: user_from_row(r, 0)?,
                time: r.get::<_, i64>(USER_WIDTH)? as Millis,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn has_request(&self, from: UserId, to: UserId) -> Result<bool, StoreError> {
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                "SELECT 1 FROM friend_requests WHERE from_id = ?1 AND to_id = ?2 AND hidden = 0",
                params![from, to],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    fn take_request(&self, from: UserId, to: UserId) -> Result<bool, StoreError> {
        let n = self.lock()?.execute(
            "DELETE FROM friend_requests WHERE from_id = ?1 AND to_id = ?2 AND hidden = 0",
            params![from, to],
        )?;
        Ok(n > 0)
    }

    fn put_declined(&self, from: UserId, to: UserId, now: Millis) -> Result<(), StoreError> {
        self.lock()?.execute(
            "INSERT INTO declined_requests (from_id, to_id, time) VALUES (?1, ?2, ?3) \
             ON CONFLICT(from_id, to_id) DO UPDATE SET time = excluded.time",
            params![from, to, now as i64],
        )?;
        Ok(())
    }

    fn take_declined(&self, from: UserId) -> Result<Vec<String>, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let accounts = {
            let mut stmt = tx.prepare(
                "SELECT u.account FROM declined_requests d JOIN users u ON u.id = d.to_id \
                 WHERE d.from_id = ?1 ORDER BY d.time",
            )?;
            let rows = stmt.query_map([from], |r| r.get(0))?;
            rows.collect::<Result<Vec<String>, _>>()?
        };
        tx.execute("DELETE FROM declined_requests WHERE from_id = ?1", [from])?;
        tx.commit()?;
        Ok(accounts)
    }

    fn forget_declined(&self, from: UserId, to: UserId) -> Result<(), StoreError> {
        self.lock()?.execute(FORGET_DECLINED, params![from, to])?;
        Ok(())
    }

    fn add_friendship(&self, a: UserId, b: UserId, now: Millis) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        for (x, y) in [(a, b), (b, a)] {
            tx.execute(FORGET_DECLINED, params![x, y])?;
            tx.execute(
                "INSERT OR IGNORE INTO friends (user_id, friend_id, since) VALUES (?1, ?2, ?3)",
                params![x, y, now as i64],
            )?;
            tx.execute(
                "DELETE FROM friend_requests WHERE from_id = ?1 AND to_id = ?2",
                params![x, y],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn remove_friendship(&self, a: UserId, b: UserId) -> Result<bool, StoreError> {
        let n = self.lock()?.execute(
            "DELETE FROM friends WHERE (user_id = ?1 AND friend_id = ?2) OR (user_id = ?2 AND friend_id = ?1)",
            params![a, b],
        )?;
        Ok(n > 0)
    }

    fn are_friends(&self, a: UserId, b: UserId) -> Result<bool, StoreError> {
        let conn = self.lock()?;
        Ok(conn
            .prepare_cached("SELECT 1 FROM friends WHERE user_id = ?1 AND friend_id = ?2")?
            .query_row(params![a, b], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn friends(&self, user: UserId) -> Result<Vec<FriendRecord>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {USER_COLS}, f.remark, f.category FROM friends f JOIN users u ON u.id = f.friend_id \
             WHERE f.user_id = ?1 ORDER BY u.account"
        ))?;
        let rows = stmt.query_map([user], friend_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn friend_count(&self, user: UserId) -> Result<u32, StoreError> {
        let conn = self.lock()?;
        let n: i64 = conn.query_row(
            "SELECT count(*) FROM friends WHERE user_id = ?1",
            [user],
            |r| r.get(0),
        )?;
        Ok(n as u32)
    }

    fn set_remark(&self, user: UserId, friend: UserId, remark: &str) -> Result<bool, StoreError> {
        let n = self.lock()?.execute(
            "UPDATE friends SET remark = ?3 WHERE user_id = ?1 AND friend_id = ?2",
            params![user, friend, remark],
        )?;
        Ok(n > 0)
    }

    fn friend(&self, user: UserId, friend: UserId) -> Result<Option<FriendRecord>, StoreError> {
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                &format!(
                    "SELECT {USER_COLS}, f.remark, f.category FROM friends f \
                     JOIN users u ON u.id = f.friend_id WHERE f.user_id = ?1 AND f.friend_id = ?2"
                ),
                params![user, friend],
                friend_from_row,
            )
            .optional()?)
    }

    fn categories(&self, user: UserId) -> Result<Vec<(u64, String)>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, name FROM categories WHERE user_id = ?1 ORDER BY position, id",
        )?;
        let rows = stmt.query_map([user], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn add_category(
        &self,
        user: UserId,
        name: &str,
        max: u32,
    ) -> Result<Result<u64, CategoryRefusal>, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let (count, same): (i64, bool) = tx.query_row(
            "SELECT count(*), coalesce(max(name = ?2), 0) FROM categories WHERE user_id = ?1",
            params![user, name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if same {
            return Ok(Err(CategoryRefusal::Exists));
        }
        if count >= i64::from(max) {
            return Ok(Err(CategoryRefusal::TooMany));
        }
        tx.execute(
            "INSERT INTO categories (user_id, name, position) VALUES (?1, ?2, \
             (SELECT coalesce(max(position) + 1, 0) FROM categories WHERE user_id = ?1))",
            params![user, name],
        )?;
        let id = tx.last_insert_rowid() as u64;
        tx.commit()?;
        Ok(Ok(id))
    }

    fn rename_category(
        &self,
        user: UserId,
        category: u64,
        name: &str,
    ) -> Result<Result<(), CategoryRefusal>, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let mine: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM categories WHERE user_id = ?1 AND id = ?2)",
            params![user, category as i64],
            |r| r.get(0),
        )?;
        if !mine {
            return Ok(Err(CategoryRefusal::NoSuch));
        }
        // Its own name again is no clash.
        let clash: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM categories WHERE user_id = ?1 AND name = ?2 AND id != ?3)",
            params![user, name, category as i64],
            |r| r.get(0),
        )?;
        if clash {
            return Ok(Err(CategoryRefusal::Exists));
        }
        tx.execute(
            "UPDATE categories SET name = ?3 WHERE user_id = ?1 AND id = ?2",
            params![user, category as i64, name],
        )?;
        tx.commit()?;
        Ok(Ok(()))
    }

    fn delete_category(&self, user: UserId, category: u64) -> Result<bool, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM categories WHERE user_id = ?1 AND id = ?2",
            params![user, category as i64],
        )?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute(
            "UPDATE friends SET category = 0 WHERE user_id = ?1 AND category = ?2",
            params![user, category as i64],
        )?;
        tx.commit()?;
        Ok(true)
    }

    fn order_categories(
        &self,
        user: UserId,
        order: &[u64],
    ) -> Result<Result<(), CategoryRefusal>, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let mine: Vec<u64> = {
            let mut stmt = tx.prepare("SELECT id FROM categories WHERE user_id = ?1")?;
            let rows = stmt.query_map([user], |r| r.get::<_, i64>(0))?;
            rows.map(|id| id.map(|id| id as u64))
                .collect::<Result<_, _>>()?
        };
        if let Some(stranger) = order.iter().find(|id| !mine.contains(id)) {
            return Ok(Err(CategoryRefusal::NoSuchIn(*stranger)));
        }
        let once: std::collections::HashSet<_> = order.iter().collect();
        if once.len() != order.len() || order.len() != mine.len() {
            return Ok(Err(CategoryRefusal::NotEveryOne));
        }
        for (position, id) in order.iter().enumerate() {
            tx.execute(
                "UPDATE categories SET position = ?3 WHERE user_id = ?1 AND id = ?2",
                params![user, *id as i64, position as i64],
            )?;
        }
        tx.commit()?;
        Ok(Ok(()))
    }

    fn move_friend(
        &self,
        user: UserId,
        friend: UserId,
        category: u64,
    ) -> Result<Result<FriendRecord, CategoryRefusal>, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        if category != 0 {
            let mine: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM categories WHERE user_id = ?1 AND id = ?2)",
                params![user, category as i64],
                |r| r.get(0),
            )?;
            if !mine {
                return Ok(Err(CategoryRefusal::NoSuch));
            }
        }
        let n = tx.execute(
            "UPDATE friends SET category = ?3 WHERE user_id = ?1 AND friend_id = ?2",
            params![user, friend, category as i64],
        )?;
        if n == 0 {
            return Ok(Err(CategoryRefusal::NotFriends));
        }
        let view = tx.query_row(
            &format!(
                "SELECT {USER_COLS}, f.remark, f.category FROM friends f \
                 JOIN users u ON u.id = f.friend_id WHERE f.user_id = ?1 AND f.friend_id = ?2"
            ),
            params![user, friend],
            friend_from_row,
        )?;
        tx.commit()?;
        Ok(Ok(view))
    }

    fn block(
        &self,
        user: UserId,
        other: UserId,
        now: Millis,
    ) -> Result<(Millis, bool), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO blocks (user_id, blocked_id, time) VALUES (?1, ?2, ?3) \
             ON CONFLICT(user_id, blocked_id) DO NOTHING",
            params![user, other, now as i64],
        )?;
        let since: i64 = tx.query_row(
            "SELECT time FROM blocks WHERE user_id = ?1 AND blocked_id = ?2",
            params![user, other],
            |r| r.get(0),
        )?;
        let hid = tx.execute(
            "UPDATE friend_requests SET hidden = 1 WHERE from_id = ?1 AND to_id = ?2 AND hidden = 0",
            params![other, user],
        )?;
        tx.commit()?;
        Ok((since as Millis, hid > 0))
    }

    fn unblock(&self, user: UserId, other: UserId) -> Result<bool, StoreError> {
        let n = self.lock()?.execute(
            "DELETE FROM blocks WHERE user_id = ?1 AND blocked_id = ?2",
            params![user, other],
        )?;
        Ok(n > 0)
    }

    fn blocks(&self, user: UserId, other: UserId) -> Result<bool, StoreError> {
        // On the path of every private message: a cached statement on the primary key.
        Ok(self
            .lock()?
            .prepare_cached("SELECT 1 FROM blocks WHERE user_id = ?1 AND blocked_id = ?2")?
            .exists(params![user, other])?)
    }

    fn blocked(&self, user: UserId) -> Result<Vec<(UserRecord, Millis)>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {USER_COLS}, b.time FROM blocks b JOIN users u ON u.id = b.blocked_id \
             WHERE b.user_id = ?1 ORDER BY u.account"
        ))?;
        let rows = stmt.query_map([user], |r| {
            Ok((user_from_row(r, 0)?, r.get::<_, i64>(USER_WIDTH)? as Millis))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn create_group(
        &self,
        owner: UserId,
        name: &str,
        now: Millis,
    ) -> Result<GroupRecord, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // A random free number; with a few thousand groups among nine billion numbers a second draw is
        // already rare.
        let id = loop {
            let id = rand::random_range(super::GROUP_IDS);
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM chat_groups WHERE id = ?1)",
                [id],
                |r| r.get(0),
            )?;
            if !taken {
                break id;
            }
        };
        tx.execute(
            "INSERT INTO chat_groups (id, name, owner_id, created) VALUES (?1, ?2, ?3, ?4)",
            params![id, name, owner, now as i64],
        )?;
        tx.execute(
            &format!(
                "INSERT INTO members (group_id, user_id, role, since_msg) \
                 VALUES (?1, ?2, 'owner', ({LAST_MESSAGE_ID}))"
            ),
            params![id, owner],
        )?;
        let group = tx.query_row(
            &format!("{GROUP_SELECT} WHERE g.id = ?1"),
            [id],
            group_from_row,
        )?;
        tx.commit()?;
        Ok(group)
    }

    fn group(&self, id: GroupId) -> Result<Option<GroupRecord>, StoreError> {
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                &format!("{GROUP_SELECT} WHERE g.id = ?1"),
                [id],
                group_from_row,
            )
            .optional()?)
    }

    fn groups_of(&self, user: UserId) -> Result<Vec<GroupRecord>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "{GROUP_SELECT} JOIN members me ON me.group_id = g.id AND me.user_id = ?1 ORDER BY g.id"
        ))?;
        let rows = stmt.query_map([user], group_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn rename_group(&self, id: GroupId, name: &str) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE chat_groups SET name = ?2 WHERE id = ?1",
            params![id, name],
        )?;
        Ok(())
    }

    fn delete_group(&self, id: GroupId) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM messages WHERE kind = 1 AND conv = ?1", [id])?;
        tx.execute("DELETE FROM members WHERE group_id = ?1", [id])?;
        tx.execute("DELETE FROM group_removed WHERE group_id = ?1", [id])?;
        tx.execute("DELETE FROM group_requests WHERE group_id = ?1", [id])?;
        tx.execute("DELETE FROM group_mutes WHERE group_id = ?1", [id])?;
        let avatar: Option<String> = tx
            .query_row("SELECT avatar FROM chat_groups WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
            .flatten();
        tx.execute("DELETE FROM chat_groups WHERE id = ?1", [id])?;
        if let Some(avatar) = avatar {
            forget_avatar(&tx, &avatar)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn add_member(
        &self,
        group: GroupId,
        user: UserId,
        role: Role,
        now: Millis,
    ) -> Result<Option<Millis>, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // A plain member coming back takes up a mute still running from before they left
        // (see the `group_mutes` migration); the owner and admins are never muted.
        let parked: Option<i64> = tx
            .query_row(
                "DELETE FROM group_mutes WHERE group_id = ?1 AND user_id = ?2 RETURNING until",
                params![group, user],
                |r| r.get(0),
            )
            .optional()?;
        let until = match parked {
            Some(until) if role == Role::Member && until as Millis > now => until as Millis,
            _ => 0,
        };
        let n = tx.execute(
            &format!(
                "INSERT OR IGNORE INTO members (group_id, user_id, role, since_msg, muted_until) \
                 VALUES (?1, ?2, ?3, ({LAST_MESSAGE_ID}), ?4)"
            ),
            params![group, user, role_str(role), until as i64],
        )?;
        if n == 0 {
            // Already a member: whatever was parked is theirs to keep for a later return.
            drop(tx);
            return Ok(None);
        }
        tx.commit()?;
        Ok(Some(until))
    }

    fn remove_member(&self, group: GroupId, user: UserId, now: Millis) -> Result<bool, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        // The group's parked mutes that have ended go first (the lazy cleanup), then a running mute of
        // the one leaving is parked until they come back (see the `group_mutes` migration).
        tx.execute(
            "DELETE FROM group_mutes WHERE group_id = ?1 AND until <= ?2",
            params![group, now as i64],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO group_mutes (group_id, user_id, until) \
             SELECT group_id, user_id, muted_until FROM members \
             WHERE group_id = ?1 AND user_id = ?2 AND role = 'member' AND muted_until > ?3",
            params![group, user, now as i64],
        )?;
        let n = tx.execute(
            "DELETE FROM members WHERE group_id = ?1 AND user_id = ?2",
            params![group, user],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    fn set_join_policy(&self, group: GroupId, policy: JoinPolicy) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE chat_groups SET join_policy = ?2 WHERE id = ?1",
            params![group, policy.as_str()],
        )?;
        Ok(())
    }

    fn set_role(&self, group: GroupId, user: UserId, role: Role) -> Result<bool, StoreError> {
        // The owner's row is never touched here: ownership moves only with the group's owner_id. An admin
        // is never muted, so a mute ends with the promotion.
        let n = self.lock()?.execute(
            "UPDATE members SET role = ?3, muted_until = CASE WHEN ?3 = 'member' THEN muted_until ELSE 0 END \
             WHERE group_id = ?1 AND user_id = ?2 AND role != 'owner'",
            params![group, user, role_str(role)],
        )?;
        Ok(n > 0)
    }

    fn transfer_group(&self, group: GroupId, from: UserId, to: UserId) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE chat_groups SET owner_id = ?2 WHERE id = ?1",
            params![group, to],
        )?;
        tx.execute(
            "UPDATE members SET role = 'member' WHERE group_id = ?1 AND user_id = ?2",
            params![group, from],
        )?;
        tx.execute(
            "UPDATE members SET role = 'owner', muted_until = 0 WHERE group_id = ?1 AND user_id = ?2",
            params![group, to],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn set_muted(&self, group: GroupId, user: UserId, until: Millis) -> Result<bool, StoreError> {
        let n = self.lock()?.execute(
            "UPDATE members SET muted_until = ?3 WHERE group_id = ?1 AND user_id = ?2 AND role = 'member'",
            params![group, user, until as i64],
        )?;
        Ok(n > 0)
    }

    fn set_mute_all(&self, group: GroupId, on: bool) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE chat_groups SET mute_all = ?2 WHERE id = ?1",
            params![group, on as i64],
        )?;
        Ok(())
    }

    fn set_notice(
        &self,
        group: GroupId,
        by: UserId,
        text: &str,
        time: Millis,
    ) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE chat_groups SET notice = ?2, notice_by = ?3, notice_time = ?4 WHERE id = ?1",
            params![group, text, by, time as i64],
        )?;
        Ok(())
    }

    fn put_join_request(
        &self,
        group: GroupId,
        user: UserId,
        time: Millis,
    ) -> Result<bool, StoreError> {
        let conn = self.lock()?;
        let updated = conn.execute(
            "UPDATE group_requests SET time = ?3 WHERE group_id = ?1 AND user_id = ?2",
            params![group, user, time as i64],
        )?;
        if updated > 0 {
            return Ok(false);
        }
        conn.execute(
            "INSERT INTO group_requests (group_id, user_id, time) VALUES (?1, ?2, ?3)",
            params![group, user, time as i64],
        )?;
        Ok(true)
    }

    fn take_join_request(&self, group: GroupId, user: UserId) -> Result<bool, StoreError> {
        let n = self.lock()?.execute(
            "DELETE FROM group_requests WHERE group_id = ?1 AND user_id = ?2",
            params![group, user],
        )?;
        Ok(n > 0)
    }

    fn join_requests(
        &self,
        manager: UserId,
    ) -> Result<Vec<(GroupId, UserRecord, Millis)>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT r.group_id, {USER_COLS}, r.time FROM group_requests r \
             JOIN members me ON me.group_id = r.group_id AND me.user_id = ?1 \
                 AND me.role IN ('owner', 'admin') \
             JOIN users u ON u.id = r.user_id ORDER BY r.time, r.group_id, u.account"
        ))?;
        let rows = stmt.query_map([manager], |r| {
            Ok((
                r.get::<_, GroupId>(0)?,
                user_from_row(r, 1)?,
                r.get::<_, i64>(USER_WIDTH + 1)? as Millis,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn managers(&self, group: GroupId) -> Result<Vec<UserId>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(
            "SELECT user_id FROM members WHERE group_id = ?1 AND role IN ('owner', 'admin')",
        )?;
        let rows = stmt.query_map([group], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn silence(&self, group: GroupId) -> Result<Silence, StoreError> {
        let conn = self.lock()?;
        let all: i64 = conn
            .prepare_cached("SELECT mute_all FROM chat_groups WHERE id = ?1")?
            .query_row([group], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let mut silence = Silence {
            all: all != 0,
            ..Silence::default()
        };
        // Only the members it concerns: the owner and admins, and those ever muted.
        let mut stmt = conn.prepare_cached(
            "SELECT user_id, role, muted_until FROM members \
             WHERE group_id = ?1 AND (role != 'member' OR muted_until > 0) ORDER BY user_id",
        )?;
        let rows = stmt.query_map([group], |r| {
            Ok((
                r.get::<_, UserId>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (user, role, until) = row?;
            if role == "member" {
                silence.muted.push((user, until as Millis));
            } else {
                silence.managers.push(user);
            }
        }
        Ok(silence)
    }

    fn mark_removed(&self, group: GroupId, user: UserId, now: Millis) -> Result<(), StoreError> {
        self.lock()?.execute(
            "INSERT OR REPLACE INTO group_removed (group_id, user_id, time) VALUES (?1, ?2, ?3)",
            params![group, user, now as i64],
        )?;
        Ok(())
    }

    fn was_removed(&self, group: GroupId, user: UserId) -> Result<bool, StoreError> {
        Ok(self.lock()?.query_row(
            "SELECT EXISTS (SELECT 1 FROM group_removed WHERE group_id = ?1 AND user_id = ?2)",
            params![group, user],
            |r| r.get(0),
        )?)
    }

    fn forget_removed(&self, group: GroupId, user: UserId) -> Result<(), StoreError> {
        self.lock()?.execute(
            "DELETE FROM group_removed WHERE group_id = ?1 AND user_id = ?2",
            params![group, user],
        )?;
        Ok(())
    }

    fn sees_group_file(
        &self,
        group: GroupId,
        user: UserId,
        sender: UserId,
        client_id: &str,
    ) -> Result<bool, StoreError> {
        // The file's message is found by its (client_id, sender), the resend index every message has.
        Ok(self.lock()?.query_row(
            "SELECT EXISTS (SELECT 1 FROM members g JOIN messages m \
                 ON m.client_id = ?4 AND m.sender_id = ?3 AND m.kind = 1 AND m.conv = g.group_id \
                 WHERE g.group_id = ?1 AND g.user_id = ?2 AND m.id > g.since_msg)",
            params![group, user, sender, client_id],
            |r| r.get(0),
        )?)
    }

    fn role(&self, group: GroupId, user: UserId) -> Result<Option<Role>, StoreError> {
        let conn = self.lock()?;
        let role: Option<String> = conn
            .prepare_cached("SELECT role FROM members WHERE group_id = ?1 AND user_id = ?2")?
            .query_row(params![group, user], |r| r.get(0))
            .optional()?;
        Ok(role.and_then(|r| Role::parse(&r)))
    }

    fn members(&self, group: GroupId) -> Result<Vec<MemberRecord>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {USER_COLS}, m.role, m.muted_until FROM members m JOIN users u ON u.id = m.user_id \
             WHERE m.group_id = ?1 ORDER BY m.role = 'owner' DESC, m.role = 'admin' DESC, u.account"
        ))?;
        let rows = stmt.query_map([group], |r| {
            let role: String = r.get(USER_WIDTH)?;
            Ok(MemberRecord {
                user: user_from_row(r, 0)?,
                role: Role::parse(&role).unwrap_or(Role::Member),
                muted_until: r.get::<_, i64>(USER_WIDTH + 1)? as Millis,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn create_file(&self, f: &NewFile) -> Result<FileRecord, StoreError> {
        let conn = self.lock()?;
        let (kind, target) = match f.to {
            Target::User(u) => (0, u),
            Target::Group(g) => (1, g),
        };
        let inserted = conn.execute(
            "INSERT INTO files (sender_id, client_id, kind, target, name, size, sha256, status, created, expires) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'uploading', ?8, ?9) \
             ON CONFLICT(sender_id, client_id) DO NOTHING",
            params![
                f.sender,
                f.client_id,
                kind,
                target,
                f.name,
                f.size as i64,
                f.sha256,
                f.created as i64,
                f.expires as i64
            ],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict);
        }
        let id = conn.last_insert_rowid();
        Ok(conn.query_row(&format!("{FILE_SELECT} WHERE id = ?1"), [id], file_from_row)?)
    }

    fn file(&self, id: u64) -> Result<Option<FileRecord>, StoreError> {
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                &format!("{FILE_SELECT} WHERE id = ?1"),
                [id as i64],
                file_from_row,
            )
            .optional()?)
    }

    fn file_by_client_id(
        &self,
        sender: UserId,
        client_id: &str,
    ) -> Result<Option<FileRecord>, StoreError> {
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                &format!("{FILE_SELECT} WHERE sender_id = ?1 AND client_id = ?2"),
                params![sender, client_id],
                file_from_row,
            )
            .optional()?)
    }

    fn set_file_status(&self, id: u64, status: FileStatus) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE files SET status = ?2 WHERE id = ?1",
            params![id as i64, status.as_str()],
        )?;
        Ok(())
    }

    fn file_bytes_used(&self, sender: UserId) -> Result<u64, StoreError> {
        let conn = self.lock()?;
        let n: i64 = conn.query_row(
            "SELECT COALESCE(SUM(size), 0) FROM files \
             WHERE sender_id = ?1 AND status IN ('uploading', 'uploaded')",
            [sender],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    fn files_expired(&self, now: Millis) -> Result<Vec<FileRecord>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "{FILE_SELECT} WHERE status IN ('uploading', 'uploaded') AND expires <= ?1"
        ))?;
        let rows = stmt.query_map([now as i64], file_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn blob_in_use(&self, sha256: &str) -> Result<bool, StoreError> {
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                "SELECT 1 FROM files WHERE sha256 = ?1 AND status IN ('uploading', 'uploaded') LIMIT 1",
                [sha256],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    fn member_ids(&self, group: GroupId) -> Result<Vec<UserId>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached("SELECT user_id FROM members WHERE group_id = ?1")?;
        let rows = stmt.query_map([group], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Group commit: the caller queues its message, then takes the connection. If an earlier holder
    /// already wrote it (it was queued while that one was committing), its result is waiting; otherwise
    /// this caller writes everything queued so far in one transaction, itself included. Under load the
    /// messages of many senders share one commit — one WAL append and one round of file locks instead
    /// of one per message — and each is still committed before its caller returns (and acknowledges).
    fn store_message(&self, msg: &NewMessage) -> Result<Stored, StoreError> {
        commit_one(&mut *self.lock()?, msg)
    }

    fn store_messages(&self, batch: &[NewMessage]) -> Vec<Result<Stored, StoreError>> {
        match self.lock() {
            Ok(mut conn) => commit_batch(&mut conn, batch),
            Err(_) => batch.iter().map(|_| Err(StoreError::Poisoned)).collect(),
        }
    }

    fn maintain(&self) -> Result<(), StoreError> {
        self.checkpoint_wal(WAL_RESTART_FRAMES)
    }

    fn messages_after(
        &self,
        user: UserId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let conn = self.reader()?;
        messages_after_on(&conn, user, id_bound(after), limit)
    }

    fn history(
        &self,
        user: UserId,
        with: Target,
        before: u64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let conn = self.reader()?;
        let before = if before == 0 {
            i64::MAX
        } else {
            id_bound(before)
        };
        let rows = match with {
            Target::User(peer) => {
                let mut stmt = conn.prepare_cached(&format!(
                    "{} WHERE m.kind = 0 AND m.conv = ?1 AND m.id < ?2 \
                     AND (m.hidden = 0 OR m.sender_id = ?4) \
                     ORDER BY m.id DESC LIMIT ?3",
                    message_select()
                ))?;
                stmt.query_map(
                    params![pair_key(user, peer), before, limit, user],
                    message_from_row,
                )?
                .collect::<Result<Vec<_>, _>>()?
            }
            Target::Group(group) => {
                let mut stmt = conn.prepare_cached(&format!(
                    "{} WHERE m.kind = 1 AND m.conv = ?1 AND m.id < ?2 \
                     AND m.id > COALESCE((SELECT since_msg FROM members \
                         WHERE group_id = ?1 AND user_id = ?4), 9223372036854775807) \
                     ORDER BY m.id DESC LIMIT ?3",
                    message_select()
                ))?;
                stmt.query_map(params![group, before, limit, user], message_from_row)?
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        Ok(rows)
    }

    fn visible_message(&self, user: UserId, id: u64) -> Result<Option<MessageRef>, StoreError> {
        let conn = self.reader()?;
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        let row = conn
            .prepare_cached(
                "SELECT m.sender_id, s.account, m.kind, m.target, m.conv, m.time, m.text, m.file_id, \
                 m.file_sha256, m.file_name, m.recall_of, m.recalled, m.event, m.hidden \
                 FROM messages m JOIN users s ON s.id = m.sender_id WHERE m.id = ?1",
            )?
            .query_row([id], |r| {
                let kind: i64 = r.get(2)?;
                let target: i64 = r.get(3)?;
                let conv: i64 = r.get(4)?;
                let text: Option<String> = r.get(6)?;
                let file_id: Option<i64> = r.get(7)?;
                let sha: Option<String> = r.get(8)?;
                let name: Option<String> = r.get(9)?;
                Ok((
                    MessageRef {
                        id: id as u64,
                        sender: r.get(0)?,
                        from: r.get(1)?,
                        to: if kind == 0 {
                            Target::User(target)
                        } else {
                            Target::Group(conv)
                        },
                        time: r.get::<_, i64>(5)? as Millis,
                        excerpt: match (&text, &name) {
                            (Some(text), _) => excerpt(text),
                            (None, Some(name)) => format!("[{name}]"),
                            (None, None) => String::new(),
                        },
                        file: file_id.map(|f| (f as u64, sha.unwrap_or_default())),
                        // A group event is neither quoted nor recalled either: it is the group's.
                        is_recall: r.get::<_, Option<i64>>(10)?.is_some()
                            || r.get::<_, Option<String>>(12)?.is_some(),
                        hidden: r.get::<_, i64>(13)? != 0,
                    },
                    r.get::<_, i64>(11)? != 0,
                ))
            })
            .optional()?;
        let Some((message, recalled)) = row else {
            return Ok(None);
        };
        if recalled {
            return Ok(None);
        }
        let visible = match message.to {
            Target::User(to) => message.sender == user || (to == user && !message.hidden),
            Target::Group(group) => conn
                .prepare_cached(
                    "SELECT 1 FROM members WHERE group_id = ?1 AND user_id = ?2 AND since_msg < ?3",
                )?
                .exists(params![group, user, id])?,
        };
        Ok(visible.then_some(message))
    }

    fn recall_message(
        &self,
        target: u64,
        by: UserId,
        time: Millis,
    ) -> Result<Option<StoredMessage>, StoreError> {
        let Ok(target) = i64::try_from(target) else {
            return Ok(None);
        };
        let mut conn = self.lock()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let row = tx
            .prepare_cached(
                "SELECT sender_id, kind, target, conv, hidden FROM messages \
                 WHERE id = ?1 AND recalled = 0 AND recall_of IS NULL",
            )?
            .query_row([target], |r| {
                Ok((
                    r.get::<_, UserId>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .optional()?;
        let Some((sender, kind, to, conv, hidden)) = row else {
            return Ok(None);
        };
        // The recall goes to the other side of a private conversation from the one recalling it, so
        // it is found where that conversation's messages are (`PRIVATE_TO` / `PRIVATE_FROM`).
        let recall_to = if kind == 0 && by != sender {
            sender
        } else {
            to
        };
        tx.prepare_cached(
            "UPDATE messages SET text = NULL, file_id = NULL, file_size = NULL, file_sha256 = NULL, \
             file_name = NULL, reply_to = NULL, mentions = NULL, recalled = 1 WHERE id = ?1",
        )?
        .execute([target])?;
        let mut ctx = Batch::start(&tx)?;
        let id = ctx.last_id + 1;
        let client_id = format!("recall-{target}");
        tx.prepare_cached(
            "INSERT INTO messages (id, sender_id, kind, target, conv, time, client_id, recall_of, \
             hidden) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        // The recall of a message hidden from its recipient is hidden from them too.
        .execute(params![
            id,
            by,
            kind,
            recall_to,
            conv,
            time as i64,
            client_id,
            target,
            hidden
        ])?;
        let to = if kind == 0 {
            Conv::User(account_of(&tx, recall_to, &mut ctx.accounts)?)
        } else {
            Conv::Group(conv as u64)
        };
        let message = StoredMessage {
            id: id as u64,
            from: account_of(&tx, by, &mut ctx.accounts)?,
            to,
            time,
            client_id,
            body: Body::Recall {
                target: target as u64,
                target_from: account_of(&tx, sender, &mut ctx.accounts)?,
            },
        };
        tx.commit()?;
        Ok(Some(message))
    }

    fn set_read(&self, user: UserId, conv: Target, up_to: u64) -> Result<bool, StoreError> {
        let (kind, key) = match conv {
            Target::User(peer) => (0, peer),
            Target::Group(group) => (1, group),
        };
        let changed = self
            .lock()?
            .prepare_cached(
                "INSERT INTO reads (user_id, kind, conv, up_to) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (user_id, kind, conv) DO UPDATE SET up_to = excluded.up_to \
                 WHERE excluded.up_to > reads.up_to",
            )?
            .execute(params![user, kind, key, id_bound(up_to)])?;
        Ok(changed > 0)
    }

    fn reads(&self, user: UserId) -> Result<Vec<(Conv, u64)>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(
            "SELECT r.kind, r.conv, u.account, r.up_to FROM reads r \
             LEFT JOIN users u ON r.kind = 0 AND u.id = r.conv WHERE r.user_id = ?1 \
             ORDER BY r.kind, r.conv",
        )?;
        let rows = stmt.query_map([user], |r| {
            let kind: i64 = r.get(0)?;
            let conv = if kind == 0 {
                Conv::User(r.get::<_, Option<String>>(2)?.unwrap_or_default())
            } else {
                Conv::Group(r.get::<_, i64>(1)? as u64)
            };
            Ok((conv, r.get::<_, i64>(3)? as u64))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (conv, up_to) = row?;
            // A friend's account deleted since: nothing to name.
            if conv != Conv::User(String::new()) {
                out.push((conv, up_to));
            }
        }
        Ok(out)
    }

    // Issue 20, item 2: ending live sessions from another process.
    fn end_sessions(&self, user: UserId, code: &str, at: Millis) -> Result<(), StoreError> {
        self.lock()?.execute(
            "INSERT INTO session_ends (user_id, code, at) VALUES (?1, ?2, ?3)",
            params![user, code, at as i64],
        )?;
        Ok(())
    }

    fn take_session_ends(&self) -> Result<Vec<SessionEnd>, StoreError> {
        let mut conn = self.lock()?;
        // The usual answer is none: one read of an empty table, no write.
        let mut ends: Vec<(i64, SessionEnd)> = {
            let mut stmt = conn.prepare_cached("SELECT id, user_id, code, at FROM session_ends")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    SessionEnd {
                        user: r.get(1)?,
                        code: r.get(2)?,
                        at: r.get::<_, i64>(3)? as Millis,
                    },
                ))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        if ends.is_empty() {
            return Ok(Vec::new());
        }
        ends.sort_by_key(|e| e.0);
        let last = ends.last().map_or(0, |e| e.0);
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM session_ends WHERE id <= ?1", [last])?;
        tx.commit()?;
        Ok(ends.into_iter().map(|(_, end)| end).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 20, item 2: requests to end sessions, written by one handle (the operator's command), are
    /// taken once by another (the server), oldest first.
    #[test]
    fn session_ends_are_taken_once_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        let server = SqliteStore::open(&path, Durability::Normal).unwrap();
        let operator = SqliteStore::open(&path, Durability::Normal).unwrap();
        assert!(server.take_session_ends().unwrap().is_empty());
        operator.end_sessions(3, "disabled", 10).unwrap();
        operator.end_sessions(4, "password_changed", 20).unwrap();
        let ends = server.take_session_ends().unwrap();
        assert_eq!(
            ends,
            [
                SessionEnd {
                    user: 3,
                    code: "disabled".into(),
                    at: 10
                },
                SessionEnd {
                    user: 4,
                    code: "password_changed".into(),
                    at: 20
                },
            ]
        );
        assert!(server.take_session_ends().unwrap().is_empty());
    }

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

    /// Sync pages are the first messages after the cursor over all sources, whichever source fills
    /// the page first, and a member sees a group only from when they joined.
    #[test]
    fn a_sync_page_is_the_first_messages_over_all_sources() {
        let (_d, s) = store();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        let g = s.create_group(a, "g", 1).unwrap().id;
        let text = |i: usize, sender, to| NewMessage {
            sender,
            to,
            client_id: format!("m{i}"),
            time: i as u64,
            body: Body::Text(format!("{i}")),
            hidden: false,
        };
        let mut batch = Vec::new();
        for i in 0..30 {
            batch.push(match i % 3 {
                0 => text(i, a, Target::User(b)),
                1 => text(i, b, Target::User(a)),
                _ => text(i, a, Target::Group(g)),
            });
        }
        for r in s.store_messages(&batch) {
            r.unwrap();
        }
        let ids = |user, after, limit| -> Vec<u64> {
            s.messages_after(user, after, limit)
                .unwrap()
                .into_iter()
                .map(|m| m.id)
                .collect()
        };
        assert_eq!(ids(a, 0, 100), (1..=30).collect::<Vec<_>>());
        assert_eq!(ids(a, 0, 7), (1..=7).collect::<Vec<_>>());
        assert_eq!(ids(a, 7, 7), (8..=14).collect::<Vec<_>>());
        assert_eq!(ids(a, 28, 7), [29, 30]);
        // bob is not in the group: only the private messages.
        let bobs: Vec<u64> = (1..=30).filter(|i| i % 3 != 0).collect();
        assert_eq!(ids(b, 0, 100), bobs);
        assert_eq!(ids(b, 0, 4), bobs[..4]);
        // A member who joins later sees the group from then on.
        assert_eq!(s.add_member(g, b, Role::Member, 1).unwrap(), Some(0));
        let later = s.store_messages(&[text(30, a, Target::Group(g))]);
        let later = later[0].as_ref().unwrap().message.id;
        assert_eq!(*ids(b, 0, 100).last().unwrap(), later);
        assert_eq!(ids(b, 0, 100).len(), bobs.len() + 1);
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
    fn account_names_are_unique_ignoring_case() {
        let (_d, s) = store();
        s.create_user("alice", "Alice", "h", 1).unwrap();
        assert!(matches!(
            s.create_user("ALICE", "x", "h", 2),
            Err(StoreError::Conflict)
        ));
        assert_eq!(
            s.user_by_account("Alice").unwrap().unwrap().account,
            "alice"
        );
    }

    #[test]
    fn a_resent_message_is_stored_once() {
        let (_d, s) = store();
        let a = s.create_user("alice", "A", "h", 1).unwrap();
        let b = s.create_user("bob", "B", "h", 1).unwrap();
        let msg = NewMessage {
            sender: a.id,
            to: Target::User(b.id),
            client_id: "c1".into(),
            time: 5,
            body: Body::Text("hi".into()),
            hidden: false,
        };
        let first = s.store_message(&msg).unwrap();
        let again = s.store_message(&NewMessage { time: 9, ..msg }).unwrap();
        assert!(!first.duplicate);
        assert!(again.duplicate);
        assert_eq!(first.message, again.message);
        assert_eq!(s.messages_after(b.id, 0, 10).unwrap().len(), 1);
    }

    #[test]
    fn a_batch_stores_each_message_once_in_order() {
        let (_d, s) = store();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        let msg = |cid: &str| NewMessage {
            sender: a,
            to: Target::User(b),
            client_id: cid.into(),
            time: 5,
            body: Body::Text(format!("text {cid}")),
            hidden: false,
        };
        s.store_message(&msg("x0")).unwrap();
        // One batch holding a resend of its own first message and of one stored before.
        let results: Vec<Stored> = s
            .store_messages(&[msg("x1"), msg("x2"), msg("x1"), msg("x0")])
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            results.iter().map(|r| r.duplicate).collect::<Vec<_>>(),
            [false, false, true, true]
        );
        assert_eq!(results[0].message, results[2].message);
        assert_eq!(results[1].message.body, Body::Text("text x2".into()));
        assert!(results[0].message.id < results[1].message.id);
        assert_eq!(s.messages_after(b, 0, 10).unwrap().len(), 3);
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

    /// Clients sync by "after the last id I have", so an id given out once is never given out again:
    /// not when the newest messages go with their dissolved group, not after the server restarts.
    #[test]
    fn ids_never_go_back_when_the_newest_messages_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ids.db");
        let s = SqliteStore::open(&path, Durability::Normal).unwrap();
        let a = s.create_user("alice", "A", "h", 1).unwrap().id;
        let b = s.create_user("bob", "B", "h", 1).unwrap().id;
        let g = s.create_group(a, "g", 1).unwrap().id;
        let msg = |to, cid: &str| NewMessage {
            sender: a,
            to,
            client_id: cid.into(),
            time: 1,
            body: Body::Text(cid.into()),
            hidden: false,
        };
        let private = s.store_message(&msg(Target::User(b), "p1")).unwrap();
        let newest = s
            .store_messages(&[msg(Target::Group(g), "g1"), msg(Target::Group(g), "g2")])
            .pop()
            .unwrap()
            .unwrap();
        assert!(newest.message.id > private.message.id);
        s.delete_group(g).unwrap();
        drop(s);
        let s = SqliteStore::open(&path, Durability::Normal).unwrap();
        let one = s.store_message(&msg(Target::User(b), "p2")).unwrap();
        let batch = s.store_messages(&[msg(Target::User(b), "p3"), msg(Target::User(b), "p4")]);
        assert_eq!(one.message.id, newest.message.id + 1);
        let ids: Vec<u64> = batch.into_iter().map(|r| r.unwrap().message.id).collect();
        assert_eq!(ids, [newest.message.id + 2, newest.message.id + 3]);
        // Bob, whose cursor is at the deleted message, still gets everything sent since.
        let seen: Vec<_> = s
            .messages_after(b, newest.message.id, 10)
            .unwrap()
            .into_iter()
            .map(|m| m.client_id)
            .collect();
        assert_eq!(seen, ["p2", "p3", "p4"]);
    }

    #[test]
    fn a_new_member_sees_only_later_group_messages() {
        let (_d, s) = store();
        let a = s.create_user("alice", "A", "h", 1).unwrap();
        let b = s.create_user("bob", "B", "h", 1).unwrap();
        let g = s.create_group(a.id, "g", 1).unwrap();
        let send = |cid: &str| {
            s.store_message(&NewMessage {
                sender: a.id,
                to: Target::Group(g.id),
                client_id: cid.into(),
                time: 1,
                body: Body::Text(cid.into()),
                hidden: false,
            })
            .unwrap()
        };
        send("before");
        s.add_member(g.id, b.id, Role::Member, 1).unwrap();
        send("after");
        let seen: Vec<_> = s
            .messages_after(b.id, 0, 10)
            .unwrap()
            .into_iter()
            .map(|m| m.client_id)
            .collect();
        assert_eq!(seen, ["after"]);
        assert_eq!(
            s.history(b.id, Target::Group(g.id), 0, 10).unwrap().len(),
            1
        );
        assert_eq!(
            s.history(a.id, Target::Group(g.id), 0, 10).unwrap().len(),
            2
        );
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
}
