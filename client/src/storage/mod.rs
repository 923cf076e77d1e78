//! The local database: one SQLite file per account and server.
//!
//! [`Storage`] is the synchronous core and is only ever touched on the storage thread; [`Store`] is the
//! cloneable async front that sends it work, so no SQLite call runs on an async runtime.
//!
//! Messages are keyed twice: by the server's id (unique, so a message delivered both live and by `SYNC:` is
//! stored once) and, for mine, by `(sender, client_id)`, which is how a pending message is matched to its
//! `ACK:` or to its own echo from the server.
//!
//! The `messages` table also holds what is not a message but has its place among them: the records of
//! recalls (`storage/said`) and a group's changes (`storage/events`).

mod avatars;
mod events;
mod said;
mod schema;
mod search;
mod store;
mod transfers;

use std::path::Path;

use ququ_protocol::{
    Conv, FileInfo, Gender, GroupEvent, GroupEventKind, Mentions, Millis, Presence, Profile, Quote,
};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use crate::event::{
    Category, Conversation, Friend, FriendRequest, Group, Message, MessageState, RecallOf,
};

pub use said::{Outgoing, ReadMark, RecallApplied};
pub use search::{SearchFilter, fold};
pub use store::Store;

/// Why a storage call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Sqlite(String),
    #[error("cannot create the data directory {path}: {error}")]
    CreateDir { path: String, error: String },
    #[error("the database was written by a newer Ququ (schema {found}, this build knows {known})")]
    TooNew { found: i64, known: i64 },
    #[error("the database holds a value this build cannot read: {0}")]
    Corrupt(String),
    #[error("the local database is not available: {0}")]
    Unavailable(String),
    #[error("the storage thread has stopped")]
    Closed,
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        StorageError::Sqlite(e.to_string())
    }
}

/// What happened to a message from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// New to this device. `unread` is the conversation's count afterwards if it changed.
    New {
        message: Message,
        unread: Option<u32>,
    },
    /// It was one of my pending messages, which is now sent.
    Acked(Message),
    /// Already stored under this server id; nothing changed. Carries the stored row.
    Duplicate(Message),
    /// Deleted on this device ("Delete for me"): not stored again when the server sends it again.
    Deleted,
}

/// A message as the server delivered it, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub conv: Conv,
    pub server_id: u64,
    pub client_id: String,
    pub from: String,
    pub time: Millis,
    pub text: String,
    pub file: Option<FileInfo>,
    /// What a `SAID:` line adds: the quote and the mentions (none for `MSG:`/`GROUP:`/`FileTran:`).
    pub said: Said,
}

/// What a message carries besides its text: the message it answers and who it mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Said {
    pub quote: Option<Quote>,
    pub mentions: Mentions,
}

/// A user or group conversation as its two database columns.
fn conv_key(conv: &Conv) -> (&'static str, String) {
    (conv.kind(), conv.key())
}

fn conv_from(kind: &str, peer: String) -> Result<Conv, String> {
    match kind {
        "user" => Ok(Conv::User(peer)),
        "group" => peer
            .parse()
            .map(Conv::Group)
            .map_err(|_| format!("group id `{peer}`")),
        other => Err(format!("conversation kind `{other}`")),
    }
}

fn corrupt(col: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        col,
        rusqlite::types::Type::Text,
        Box::new(StorageError::Corrupt(what)),
    )
}

const MESSAGE_COLUMNS: &str =
    "id, kind, peer, server_id, client_id, sender, time, text, state, error,
     file_id, file_size, file_sha256, file_name,
     reply_id, reply_from, reply_text, mentions, recalled_by, recall_of, recall_of_from,
     event_kind, event_account, event_value";

fn message_from_row(row: &Row<'_>) -> rusqlite::Result<Message> {
    let kind: String = row.get(1)?;
    let peer: String = row.get(2)?;
    let conv = conv_from(&kind, peer).map_err(|e| corrupt(1, e))?;
    let server_id: Option<i64> = row.get(3)?;
    let time: i64 = row.get(6)?;
    let file_id: Option<i64> = row.get(10)?;
    let file = match file_id {
        Some(id) => Some(FileInfo {
            file_id: id.max(0) as u64,
            size: row.get::<_, Option<i64>>(11)?.unwrap_or(0).max(0) as u64,
            sha256: row.get::<_, Option<String>>(12)?.unwrap_or_default(),
            name: row.get::<_, Option<String>>(13)?.unwrap_or_default(),
        }),
        None => None,
    };
    let quote = row
        .get::<_, Option<i64>>(14)?
        .map(|id| -> rusqlite::Result<Quote> {
            Ok(Quote {
                id: id.max(0) as u64,
                from: row.get::<_, Option<String>>(15)?.unwrap_or_default(),
                text: row.get::<_, Option<String>>(16)?.unwrap_or_default(),
            })
        });
    let mentions: String = row.get(17)?;
    let recall_of = row
        .get::<_, Option<i64>>(19)?
        .map(|target| -> rusqlite::Result<RecallOf> {
            Ok(RecallOf {
                target: target.max(0) as u64,
                target_from: row.get::<_, Option<String>>(20)?.unwrap_or_default(),
            })
        });
    let group_event = match row.get::<_, Option<String>>(21)? {
        Some(kind) => Some(group_event_from_row(row, &conv, kind)?),
        None => None,
    };
    Ok(Message {
        local_id: row.get(0)?,
        conv,
        server_id: server_id.map(|id| id as u64),
        client_id: row.get(4)?,
        from: row.get(5)?,
        time: time.max(0) as u64,
        text: row.get(7)?,
        file,
        state: MessageState::from_db(row.get(8)?),
        error: row.get(9)?,
        quote: quote.transpose()?,
        // Written by this build from a parsed value; an unreadable one is shown as no mentions.
        mentions: Mentions::from_field(&mentions).unwrap_or_default(),
        recalled_by: row.get(18)?,
        recall_of: recall_of.transpose()?,
        group_event,
    })
}

/// A group change's row (migration 6 in `schema.rs`) as the event the server sent: its id is the row's
/// server id, its group the conversation's, and `by` the row's sender.
fn group_event_from_row(row: &Row<'_>, conv: &Conv, kind: String) -> rusqlite::Result<GroupEvent> {
    let kind = GroupEventKind::parse(&kind)
        .ok_or_else(|| corrupt(21, format!("group event kind `{kind}`")))?;
    let Conv::Group(group) = conv else {
        return Err(corrupt(1, "a group event outside a group".into()));
    };
    let id = row
        .get::<_, Option<i64>>(3)?
        .ok_or_else(|| corrupt(3, "a group event without a server id".into()))?;
    Ok(GroupEvent {
        id: id.max(0) as u64,
        group: *group,
        by: row.get(5)?,
        time: row.get::<_, i64>(6)?.max(0) as u64,
        kind,
        account: row.get::<_, Option<String>>(22)?.unwrap_or_default(),
        value: row.get::<_, Option<String>>(23)?.unwrap_or_default(),
    })
}

fn presence_from(s: &str) -> Presence {
    Presence::parse(s).unwrap_or(Presence::Offline)
}

/// Ids and times travel as `u64` but SQLite integers are `i64`; clamp rather than wrap a hostile value.
fn db_int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The synchronous database. See the module docs.
#[derive(Debug)]
pub struct Storage {
    conn: Connection,
}

fn migrate(conn: &mut Connection, migrations: &[schema::Migration]) -> Result<(), StorageError> {
    let known = migrations.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known {
        return Err(StorageError::TooNew { found, known });
    }
    for (version, step) in migrations.iter().enumerate().skip(found.max(0) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(step.sql)?;
        if let Some(fill) = step.fill {
            fill(&tx)?;
        }
        tx.pragma_update(None, "user_version", version as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn open_connection(path: &Path) -> Result<Connection, StorageError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| StorageError::CreateDir {
            path: dir.display().to_string(),
            error: e.to_string(),
        })?;
    }
    let conn = Connection::open(path)?;
    configure(&conn)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> Result<(), StorageError> {
    // WAL lets the GUI's reads and the connection's writes overlap; NORMAL is durable across app crashes
    // (only a power cut can lose the last commits), and costs no fsync per message.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

impl Storage {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Storage, StorageError> {
        let mut conn = open_connection(path)?;
        migrate(&mut conn, schema::MIGRATIONS)?;
        Ok(Storage { conn })
    }

    /// A throwaway database, for tests.
    pub fn open_in_memory() -> Result<Storage, StorageError> {
        let mut conn = Connection::open_in_memory()?;
        migrate(&mut conn, schema::MIGRATIONS)?;
        Ok(Storage { conn })
    }

    pub fn schema_version(&self) -> Result<i64, StorageError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StorageError> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// The highest server message id up to which everything has been synced.
    pub fn sync_cursor(&self) -> Result<u64, StorageError> {
        Ok(self
            .setting("sync_cursor")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Moves the sync cursor forward; never back, so a stale `SYNC_END` cannot cause a full resync.
    pub fn advance_sync_cursor(&self, last_id: u64) -> Result<u64, StorageError> {
        let current = self.sync_cursor()?;
        if last_id > current {
            self.set_setting("sync_cursor", &last_id.to_string())?;
            return Ok(last_id);
        }
        Ok(current)
    }

    fn message_by_id(tx: &Connection, id: i64) -> Result<Message, StorageError> {
        Ok(tx.query_row(
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"),
            [id],
            message_from_row,
        )?)
    }

    fn touch_conversation(tx: &Transaction<'_>, conv: &Conv) -> Result<(), StorageError> {
        let (kind, peer) = conv_key(conv);
        tx.execute(
            "INSERT INTO conversations (kind, peer) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![kind, peer],
        )?;
        Ok(())
    }

    /// Stores a message I am sending, as pending (or as failed with `error`, for a local refusal).
    pub fn queue_outgoing(
        &mut self,
        conv: &Conv,
        me: &str,
        client_id: &str,
        text: &str,
        time: Millis,
        error: Option<&str>,
    ) -> Result<Message, StorageError> {
        self.queue_said(&Outgoing {
            conv,
            me,
            client_id,
            text,
            time,
            error,
            reply_to: None,
            mentions: &Mentions::default(),
        })
    }

    /// My newest message with this client id. Matched on the client id alone (among my messages, not the
    /// sender column): ours are 128 random bits, and the server may spell my account differently than I typed
    /// it at login.
    fn mine_by_client_id(
        tx: &Connection,
        client_id: &str,
    ) -> Result<Option<Message>, StorageError> {
        if client_id.is_empty() {
            return Ok(None);
        }
        Ok(tx
            .query_row(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE client_id = ?1 AND state <> 3
                     ORDER BY server_id IS NULL DESC, id DESC LIMIT 1"
                ),
                params![client_id],
                message_from_row,
            )
            .optional()?)
    }

    /// Applies `ACK:<client_id>:<id>:<time>`. Returns the message if its state changed.
    pub fn mark_sent(
        &mut self,
        client_id: &str,
        server_id: u64,
        time: Millis,
    ) -> Result<Option<Message>, StorageError> {
        let tx = self.conn.transaction()?;
        let Some(mine) = Self::mine_by_client_id(&tx, client_id)? else {
            return Ok(None);
        };
        if mine.server_id == Some(server_id) && mine.state == MessageState::Sent {
            return Ok(None);
        }
        // If the message already came back under this server id as a separate row (an echo that did not
        // carry the client id), that row is the same message: keep the one the user has been looking at.
        tx.execute(
            "DELETE FROM messages WHERE server_id = ?1 AND id <> ?2",
            params![db_int(server_id), mine.local_id],
        )?;
        tx.execute(
            "UPDATE messages SET server_id = ?1, time = ?2, state = ?3, error = NULL WHERE id = ?4",
            params![
                db_int(server_id),
                db_int(time),
                MessageState::Sent.to_db(),
                mine.local_id
            ],
        )?;
        let message = Self::message_by_id(&tx, mine.local_id)?;
        tx.commit()?;
        Ok(Some(message))
    }

    /// Applies an `ERROR:…:<client_id>` to a pending message. `None` if no pending message has that id.
    pub fn mark_failed(
        &mut self,
        client_id: &str,
        reason: &str,
    ) -> Result<Option<Message>, StorageError> {
        let tx = self.conn.transaction()?;
        let Some(mine) = Self::mine_by_client_id(&tx, client_id)? else {
            return Ok(None);
        };
        if mine.state != MessageState::Pending {
            return Ok(None);
        }
        tx.execute(
            "UPDATE messages SET state = ?1, error = ?2 WHERE id = ?3",
            params![MessageState::Failed.to_db(), reason, mine.local_id],
        )?;
        let message = Self::message_by_id(&tx, mine.local_id)?;
        tx.commit()?;
        Ok(Some(message))
    }

    /// Makes a failed message pending again, for a retry. `None` if it is not failed.
    pub fn mark_pending(&mut self, client_id: &str) -> Result<Option<Message>, StorageError> {
        let tx = self.conn.transaction()?;
        let Some(mine) = Self::mine_by_client_id(&tx, client_id)? else {
            return Ok(None);
        };
        if mine.state != MessageState::Failed {
            return Ok(None);
        }
        tx.execute(
            "UPDATE messages SET state = ?1, error = NULL WHERE id = ?2",
            params![MessageState::Pending.to_db(), mine.local_id],
        )?;
        let message = Self::message_by_id(&tx, mine.local_id)?;
        tx.commit()?;
        Ok(Some(message))
    }

    /// My message `client_id`, if it is still waiting to be acknowledged.
    pub fn pending_message(&self, client_id: &str) -> Result<Option<Message>, StorageError> {
        Ok(Self::mine_by_client_id(&self.conn, client_id)?
            .filter(|m| m.state == MessageState::Pending))
    }

    /// My messages still waiting for the server, oldest first: the order they must be resent in.
    pub fn pending(&self) -> Result<Vec<Message>, StorageError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE state = 0 ORDER BY id"
        ))?;
        let rows = stmt.query_map([], message_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores a message from the server (live, `SYNC:` or `HISTORY:`). A server id already stored is a
    /// [`Stored::Duplicate`], so nothing is shown or counted twice. `count_unread` is false for history pages,
    /// which are old by definition.
    pub fn store_incoming(
        &mut self,
        me: &str,
        m: &Incoming,
        count_unread: bool,
    ) -> Result<Stored, StorageError> {
        let tx = self.conn.transaction()?;
        let existing = tx
            .query_row(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE server_id = ?1"),
                [db_int(m.server_id)],
                message_from_row,
            )
            .optional()?;
        if let Some(existing) = existing {
            return Ok(Stored::Duplicate(existing));
        }
        let deleted = tx
            .query_row(
                "SELECT 1 FROM deleted WHERE server_id = ?1",
                [db_int(m.server_id)],
                |_| Ok(()),
            )
            .optional()?;
        if deleted.is_some() {
            return Ok(Stored::Deleted);
        }
        let mine = m.from == me;
        if mine
            && let Some(pending) = Self::mine_by_client_id(&tx, &m.client_id)?
            && pending.server_id.is_none()
        {
            tx.execute(
                "UPDATE messages SET server_id = ?1, time = ?2, state = ?3, error = NULL WHERE id = ?4",
                params![
                    db_int(m.server_id),
                    db_int(m.time),
                    MessageState::Sent.to_db(),
                    pending.local_id
                ],
            )?;
            if let Some(q) = &m.said.quote {
                // The server's quote is the one everyone else sees (mine was made from what I had).
                tx.execute(
                    "UPDATE messages SET reply_id = ?1, reply_from = ?2, reply_text = ?3 WHERE id = ?4",
                    params![db_int(q.id), q.from, q.text, pending.local_id],
                )?;
            }
            let message = Self::message_by_id(&tx, pending.local_id)?;
            tx.commit()?;
            return Ok(Stored::Acked(message));
        }
        Self::touch_conversation(&tx, &m.conv)?;
        let (kind, peer) = conv_key(&m.conv);
        let state = MessageState::stored(mine);
        let quote = m.said.quote.as_ref();
        tx.execute(
            "INSERT INTO messages (kind, peer, server_id, client_id, sender, time, text, state,
                 file_id, file_size, file_sha256, file_name, reply_id, reply_from, reply_text, mentions)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                kind,
                peer,
                db_int(m.server_id),
                m.client_id,
                m.from,
                db_int(m.time),
                m.text,
                state.to_db(),
                m.file.as_ref().map(|f| db_int(f.file_id)),
                m.file.as_ref().map(|f| db_int(f.size)),
                m.file.as_ref().map(|f| f.sha256.as_str()),
                m.file.as_ref().map(|f| f.name.as_str()),
                quote.map(|q| db_int(q.id)),
                quote.map(|q| q.from.as_str()),
                quote.map(|q| q.text.as_str()),
                m.said.mentions.to_field(),
            ],
        )?;
        let id = tx.last_insert_rowid();
        search::index_message(&tx, id, &m.text)?;
        let message = Self::message_by_id(&tx, id)?;
        // Read on another device already (its `READ:` mark came first): not unread here either.
        let read = m.server_id <= Self::read_up_to(&tx, &m.conv)?;
        let unread = if count_unread && !mine && !read {
            tx.execute(
                "UPDATE conversations SET unread = unread + 1 WHERE kind = ?1 AND peer = ?2",
                params![kind, peer],
            )?;
            Some(tx.query_row(
                "SELECT unread FROM conversations WHERE kind = ?1 AND peer = ?2",
                params![kind, peer],
                |r| r.get::<_, u32>(0),
            )?)
        } else {
            None
        };
        tx.commit()?;
        Ok(Stored::New { message, unread })
    }

    /// "Delete for me": the message leaves this device (its row, its search entry) and is not stored
    /// again when a sync or history page brings it back; the others in the conversation still have it.
    /// Returns it, or `None` if there was no such message.
    pub fn delete_message(&mut self, local_id: i64) -> Result<Option<Message>, StorageError> {
        let tx = self.conn.transaction()?;
        let message = tx
            .query_row(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"),
                [local_id],
                message_from_row,
            )
            .optional()?;
        let Some(message) = message else {
            return Ok(None);
        };
        if let Some(server_id) = message.server_id {
            tx.execute(
                "INSERT OR IGNORE INTO deleted (server_id) VALUES (?1)",
                [db_int(server_id)],
            )?;
        }
        tx.execute("DELETE FROM messages WHERE id = ?1", [local_id])?;
        tx.commit()?;
        Ok(Some(message))
    }

    /// Sets a conversation's unread count to zero, and its read mark to its newest message.
    pub fn mark_read(&mut self, conv: &Conv) -> Result<(), StorageError> {
        self.mark_read_to(conv, None)?;
        Ok(())
    }

    pub fn unread(&self, conv: &Conv) -> Result<u32, StorageError> {
        let (kind, peer) = conv_key(conv);
        Ok(self
            .conn
            .query_row(
                "SELECT unread FROM conversations WHERE kind = ?1 AND peer = ?2",
                params![kind, peer],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// Every conversation, most recent first.
    pub fn conversations(&self) -> Result<Vec<Conversation>, StorageError> {
        let mut stmt = self.conn.prepare(
            "SELECT c.kind, c.peer, c.unread,
                    (SELECT m.id FROM messages m WHERE m.kind = c.kind AND m.peer = c.peer
                     ORDER BY m.time DESC, m.id DESC LIMIT 1)
             FROM conversations c",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (kind, peer, unread, last) in rows {
            let conv = conv_from(&kind, peer).map_err(StorageError::Corrupt)?;
            let last_message = match last {
                Some(id) => Some(Self::message_by_id(&self.conn, id)?),
                None => None,
            };
            out.push(Conversation {
                title: self.title(&conv)?,
                conv,
                unread,
                last_message,
            });
        }
        out.sort_by_key(|c| {
            std::cmp::Reverse(
                c.last_message
                    .as_ref()
                    .map(|m| (m.time, m.local_id))
                    .unwrap_or_default(),
            )
        });
        Ok(out)
    }

    /// What to call a conversation.
    pub fn title(&self, conv: &Conv) -> Result<String, StorageError> {
        Ok(match conv {
            Conv::User(account) => self
                .conn
                .query_row(
                    "SELECT remark, nickname FROM contacts WHERE account = ?1",
                    [account],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()?
                .and_then(|(remark, nick)| [remark, nick].into_iter().find(|s| !s.is_empty()))
                .unwrap_or_else(|| account.clone()),
            Conv::Group(id) => self
                .conn
                .query_row(
                    "SELECT name FROM chat_groups WHERE id = ?1",
                    [db_int(*id)],
                    |r| r.get::<_, String>(0),
                )
                .optional()?
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("group {id}")),
        })
    }

    /// Up to `limit` messages of a conversation, oldest first, all older than the message `before` (a local
    /// id) or the newest ones if `before` is `None`.
    pub fn messages(
        &self,
        conv: &Conv,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Message>, StorageError> {
        let (kind, peer) = conv_key(conv);
        // The bound on `time` alone lets the index start at the message: with the row value alone, or
        // behind `?3 IS NULL OR`, SQLite walked the conversation from its newest message down to it
        // (11–16 ms for the oldest of 100,000, `benches/history.rs`).
        let older = if before.is_some() {
            "AND time <= (SELECT time FROM messages WHERE id = ?3)
             AND (time, id) < (SELECT time, id FROM messages WHERE id = ?3)"
        } else {
            "AND ?3 IS NULL"
        };
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE kind = ?1 AND peer = ?2 {older}
             ORDER BY time DESC, id DESC LIMIT ?4"
        ))?;
        let mut rows = stmt
            .query_map(params![kind, peer, before, limit], message_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.reverse();
        Ok(rows)
    }

    /// The message of `conv` the server numbered `server_id` with up to `before` older and `after` newer
    /// ones around it, oldest first, in the order of [`Storage::messages`]: what a jump to an old search
    /// result shows, in one read however far back it is (three indexed lookups; under a millisecond at
    /// 100,000 messages, `benches/history.rs`). Empty when that message is not stored here, or is
    /// another conversation's: only the server may still have it.
    pub fn messages_around(
        &self,
        conv: &Conv,
        server_id: u64,
        before: u32,
        after: u32,
    ) -> Result<Vec<Message>, StorageError> {
        let (kind, peer) = conv_key(conv);
        let target: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM messages WHERE server_id = ?1 AND kind = ?2 AND peer = ?3",
                params![db_int(server_id), kind, peer],
                |r| r.get(0),
            )
            .optional()?;
        let Some(target) = target else {
            return Ok(Vec::new());
        };
        let mut around = self.messages(conv, Some(target), before)?;
        around.push(Self::message_by_id(&self.conn, target)?);
        around.extend(self.messages_after(conv, target, after)?);
        Ok(around)
    }

    /// Up to `limit` messages of `conv` newer than the message `after` (a local id), oldest first: the
    /// next page down from a window that does not reach the newest message. Empty when `after` is not
    /// stored here (deleted meanwhile): the caller goes back to the newest page.
    pub fn messages_after(
        &self,
        conv: &Conv,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Message>, StorageError> {
        let (kind, peer) = conv_key(conv);
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE kind = ?1 AND peer = ?2
               AND time >= (SELECT time FROM messages WHERE id = ?3)
               AND (time, id) > (SELECT time, id FROM messages WHERE id = ?3)
             ORDER BY time, id LIMIT ?4"
        ))?;
        let rows = stmt
            .query_map(params![kind, peer, after, limit], message_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn upsert_friend_in(tx: &Connection, f: &Friend) -> Result<(), StorageError> {
        tx.execute(
            "INSERT INTO contacts (account, nickname, remark, presence, friend, signature, gender, region,
                 category)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8)
             ON CONFLICT (account) DO UPDATE SET nickname = excluded.nickname, remark = excluded.remark,
                 presence = excluded.presence, friend = 1, signature = excluded.signature,
                 gender = excluded.gender, region = excluded.region, category = excluded.category",
            params![
                f.account,
                f.nickname,
                f.remark,
                f.presence.as_str(),
                f.profile.signature,
                Gender::field(f.profile.gender),
                f.profile.region,
                db_int(f.category)
            ],
        )?;
        Ok(())
    }

    /// A contact's new nickname and profile (a `PROFILE:` line about them); nothing if they are not one.
    pub fn set_contact_profile(
        &self,
        account: &str,
        nickname: &str,
        profile: &Profile,
    ) -> Result<(), StorageError> {
        self.conn.execute(
            "UPDATE contacts SET nickname = ?2, signature = ?3, gender = ?4, region = ?5
             WHERE account = ?1",
            params![
                account,
                nickname,
                profile.signature,
                Gender::field(profile.gender),
                profile.region
            ],
        )?;
        Ok(())
    }

    /// Replaces the friend list with the server's.
    pub fn replace_friends(&mut self, friends: &[Friend]) -> Result<(), StorageError> {
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE contacts SET friend = 0", [])?;
        for f in friends {
            Self::upsert_friend_in(&tx, f)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn upsert_friend(&self, f: &Friend) -> Result<(), StorageError> {
        Self::upsert_friend_in(&self.conn, f)
    }

    pub fn remove_friend(&self, account: &str) -> Result<(), StorageError> {
        self.conn.execute(
            "UPDATE contacts SET friend = 0 WHERE account = ?1",
            [account],
        )?;
        Ok(())
    }

    pub fn set_presence(&self, account: &str, presence: Presence) -> Result<(), StorageError> {
        self.conn.execute(
            "UPDATE contacts SET presence = ?2 WHERE account = ?1",
            params![account, presence.as_str()],
        )?;
        Ok(())
    }

    pub fn friends(&self) -> Result<Vec<Friend>, StorageError> {
        let mut stmt = self.conn.prepare(
            "SELECT account, nickname, remark, presence, signature, gender, region, category
             FROM contacts WHERE friend = 1 ORDER BY account",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Friend {
                account: r.get(0)?,
                nickname: r.get(1)?,
                remark: r.get(2)?,
                presence: presence_from(&r.get::<_, String>(3)?),
                profile: Profile {
                    signature: r.get(4)?,
                    gender: Gender::parse(&r.get::<_, String>(5)?),
                    region: r.get(6)?,
                },
                category: r.get::<_, i64>(7)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replaces my friend groups with the server's list, in its order.
    pub fn replace_categories(&mut self, categories: &[Category]) -> Result<(), StorageError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM categories", [])?;
        for (position, c) in categories.iter().enumerate() {
            tx.execute(
                "INSERT INTO categories (id, name, position) VALUES (?1, ?2, ?3)",
                params![db_int(c.id), c.name, position as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A friend group made (last) or renamed (in its place).
    pub fn upsert_category(&self, c: &Category) -> Result<(), StorageError> {
        self.conn.execute(
            "INSERT INTO categories (id, name, position)
                 VALUES (?1, ?2, (SELECT coalesce(max(position) + 1, 0) FROM categories))
             ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            params![db_int(c.id), c.name],
        )?;
        Ok(())
    }

    /// My friend groups in this order (ids not named keep their place after those named).
    pub fn order_categories(&mut self, order: &[u64]) -> Result<(), StorageError> {
        let tx = self.conn.transaction()?;
        let named = order.len() as i64;
        tx.execute("UPDATE categories SET position = position + ?1", [named])?;
        for (position, id) in order.iter().enumerate() {
            tx.execute(
                "UPDATE categories SET position = ?2 WHERE id = ?1",
                params![db_int(*id), position as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A friend group deleted: its friends are in the default group now, as on the server.
    pub fn remove_category(&mut self, id: u64) -> Result<(), StorageError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM categories WHERE id = ?1", [db_int(id)])?;
        tx.execute(
            "UPDATE contacts SET category = 0 WHERE category = ?1",
            [db_int(id)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// My friend groups in their order, the default one left out.
    pub fn categories(&self) -> Result<Vec<Category>, StorageError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, name FROM categories ORDER BY position, id")?;
        let rows = stmt.query_map([], |r| {
            Ok(Category {
                id: r.get::<_, i64>(0)? as u64,
                name: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn upsert_group_in(tx: &Connection, g: &Group) -> Result<(), StorageError> {
        tx.execute(
            "INSERT INTO chat_groups (id, name, owner, members) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner = excluded.owner,
                 members = excluded.members",
            params![db_int(g.id), g.name, g.owner, g.members],
        )?;
        Ok(())
    }

    pub fn replace_groups(&mut self, groups: &[Group]) -> Result<(), StorageError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM chat_groups", [])?;
        for g in groups {
            Self::upsert_group_in(&tx, g)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn upsert_group(&self, g: &Group) -> Result<(), StorageError> {
        Self::upsert_group_in(&self.conn, g)
    }

    pub fn remove_group(&self, id: u64) -> Result<(), StorageError> {
        self.conn
            .execute("DELETE FROM chat_groups WHERE id = ?1", [db_int(id)])?;
        Ok(())
    }

    pub fn groups(&self) -> Result<Vec<Group>, StorageError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, name, owner, members FROM chat_groups ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(Group {
                id: r.get::<_, i64>(0)?.max(0) as u64,
                name: r.get(1)?,
                owner: r.get(2)?,
                members: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn upsert_request_in(tx: &Connection, r: &FriendRequest) -> Result<(), StorageError> {
        tx.execute(
            "INSERT INTO friend_requests (account, nickname, note, time) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (account) DO UPDATE SET nickname = excluded.nickname, note = excluded.note,
                 time = excluded.time",
            params![r.from, r.nickname, r.note, db_int(r.time)],
        )?;
        Ok(())
    }

    pub fn replace_requests(&mut self, requests: &[FriendRequest]) -> Result<(), StorageError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM friend_requests", [])?;
        for r in requests {
            Self::upsert_request_in(&tx, r)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn upsert_request(&self, r: &FriendRequest) -> Result<(), StorageError> {
        Self::upsert_request_in(&self.conn, r)
    }

    pub fn remove_request(&self, account: &str) -> Result<(), StorageError> {
        self.conn
            .execute("DELETE FROM friend_requests WHERE account = ?1", [account])?;
        Ok(())
    }

    pub fn requests(&self) -> Result<Vec<FriendRequest>, StorageError> {
        let mut stmt = self.conn.prepare(
            "SELECT account, nickname, note, time FROM friend_requests ORDER BY time, account",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FriendRequest {
                from: r.get(0)?,
                nickname: r.get(1)?,
                note: r.get(2)?,
                time: r.get::<_, i64>(3)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The server and account last logged in to successfully, for prefilling a login form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastLogin {
    pub server: String,
    pub account: String,
}

const GLOBAL_DB: &str = "settings.sqlite3";

fn open_global(data_dir: &Path) -> Result<Connection, StorageError> {
    let mut conn = open_connection(&data_dir.join(GLOBAL_DB))?;
    migrate(&mut conn, schema::GLOBAL_MIGRATIONS)?;
    Ok(conn)
}

/// Reads the last successful login from `data_dir` (see [`crate::config::resolve_data_dir`]). Blocking, but
/// quick: meant for start-up, before any runtime is busy.
pub fn last_login(data_dir: &Path) -> Result<Option<LastLogin>, StorageError> {
    if !data_dir.join(GLOBAL_DB).exists() {
        return Ok(None);
    }
    let conn = open_global(data_dir)?;
    let get = |key: &str| -> Result<Option<String>, StorageError> {
        Ok(conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    };
    Ok(match (get("last_server")?, get("last_account")?) {
        (Some(server), Some(account)) => Some(LastLogin { server, account }),
        _ => None,
    })
}

pub(crate) fn save_last_login(data_dir: &Path, login: &LastLogin) -> Result<(), StorageError> {
    let mut conn = open_global(data_dir)?;
    let tx = conn.transaction()?;
    for (key, value) in [
        ("last_server", &login.server),
        ("last_account", &login.account),
    ] {
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests;
