//! Replies, mentions, recalls and read marks in the local database (migration 4 in `schema.rs`).
//!
//! - A reply keeps its quote as it came: the quoted message's server id, sender and the start of its text.
//! - A recall empties the recalled message's text (and drops its file), which takes it out of both search
//!   indexes (their triggers follow the text), keeps who recalled it, and empties the text of every quote
//!   of it. A recall of a message this device never had is stored as a row of its own, so a user interface
//!   can say "alice recalled a message" where it happened.
//! - A read mark is the highest server id read in a conversation, here or on another device; a
//!   conversation's unread count never goes above the number of received messages after it.

use ququ_protocol::{Conv, Mentions, Millis, Quote, RecallMessage};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{MESSAGE_COLUMNS, Storage, StorageError, conv_key, db_int, message_from_row, search};
use crate::event::{Message, MessageState};

/// How much of a quoted message a reply keeps (what the server sends too).
const QUOTE_CHARS: usize = 100;

/// A message I am sending, for [`Storage::queue_said`].
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub conv: &'a Conv,
    pub me: &'a str,
    pub client_id: &'a str,
    pub text: &'a str,
    pub time: Millis,
    /// A local refusal: stored as failed with this reason.
    pub error: Option<&'a str>,
    /// The server id of the message it answers.
    pub reply_to: Option<u64>,
    pub mentions: &'a Mentions,
}

/// What a recall changed, from [`Storage::apply_recall`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecallApplied {
    /// The recalled message with its text gone, or the new record of the recall when this device never had
    /// the message.
    pub message: Message,
    /// The messages whose quote of it lost its text.
    pub quotes: Vec<Message>,
    /// False if this recall had been applied already (a live push and `SYNC:` both bring it).
    pub new: bool,
    /// The conversation's unread count, if the recall changed it (an unread message taken back).
    pub unread: Option<u32>,
}

/// What marking a conversation read changed, from [`Storage::mark_read_to`] and [`Storage::apply_read`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadMark {
    /// The unread count before and after.
    pub unread_before: u32,
    pub unread: u32,
    /// The new mark, if it went up: worth telling the server (a lower one changes nothing there).
    pub raised: Option<u64>,
}

/// The start of a message's text as a quote shows it: a file as `[<name>]`, a recalled message as nothing.
fn quote_text(m: &Message) -> String {
    if m.is_recalled() {
        return String::new();
    }
    match &m.file {
        Some(file) => format!("[{}]", file.name),
        None => m.text.chars().take(QUOTE_CHARS).collect(),
    }
}

impl Storage {
    pub(super) fn by_server_id(
        tx: &Connection,
        server_id: u64,
    ) -> Result<Option<Message>, StorageError> {
        Ok(tx
            .query_row(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE server_id = ?1"),
                [db_int(server_id)],
                message_from_row,
            )
            .optional()?)
    }

    /// The message with this server id, if this device has it.
    pub fn message_by_server_id(&self, server_id: u64) -> Result<Option<Message>, StorageError> {
        Self::by_server_id(&self.conn, server_id)
    }

    /// Stores a message I am sending, as [`Storage::queue_outgoing`] does, with its quote (made from the
    /// quoted message as stored here; just its id if this device does not have it) and mentions.
    pub fn queue_said(&mut self, out: &Outgoing<'_>) -> Result<Message, StorageError> {
        let tx = self.conn.transaction()?;
        Self::touch_conversation(&tx, out.conv)?;
        let (kind, peer) = conv_key(out.conv);
        let state = if out.error.is_some() {
            MessageState::Failed
        } else {
            MessageState::Pending
        };
        let quote = match out.reply_to {
            Some(id) => Some(match Self::by_server_id(&tx, id)? {
                Some(quoted) => Quote {
                    id,
                    text: quote_text(&quoted),
                    from: quoted.from,
                },
                None => Quote {
                    id,
                    from: String::new(),
                    text: String::new(),
                },
            }),
            None => None,
        };
        tx.execute(
            "INSERT INTO messages (kind, peer, client_id, sender, time, text, state, error,
                 reply_id, reply_from, reply_text, mentions)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                kind,
                peer,
                out.client_id,
                out.me,
                db_int(out.time),
                out.text,
                state.to_db(),
                out.error,
                quote.as_ref().map(|q| db_int(q.id)),
                quote.as_ref().map(|q| q.from.as_str()),
                quote.as_ref().map(|q| q.text.as_str()),
                out.mentions.to_field(),
            ],
        )?;
        let id = tx.last_insert_rowid();
        search::index_message(&tx, id, out.text)?;
        let message = Self::message_by_id(&tx, id)?;
        tx.commit()?;
        Ok(message)
    }

    /// Applies `RECALLED:`, whose `to` must be this device's conversation (for a private chat, the other
    /// account, not the recipient the line names). See the module docs.
    pub fn apply_recall(
        &mut self,
        me: &str,
        r: &RecallMessage,
    ) -> Result<RecallApplied, StorageError> {
        let tx = self.conn.transaction()?;
        let target = Self::by_server_id(&tx, r.target)?;
        let (message, new, unread) = match target {
            Some(target) if target.recalled_by.is_some() => (target, false, None),
            Some(target) => {
                // Emptying the text takes it out of both search indexes (their update triggers).
                tx.execute(
                    "UPDATE messages SET text = '', recalled_by = ?1, file_id = NULL, file_size = NULL,
                         file_sha256 = NULL, file_name = NULL, reply_text = CASE WHEN reply_id IS NULL
                         THEN NULL ELSE '' END, mentions = ''
                     WHERE id = ?2",
                    params![r.by, target.local_id],
                )?;
                let unread = Self::uncount(&tx, &target)?;
                (Self::message_by_id(&tx, target.local_id)?, true, unread)
            }
            None => match Self::by_server_id(&tx, r.id)? {
                Some(record) => (record, false, None),
                None => {
                    Self::touch_conversation(&tx, &r.to)?;
                    let (kind, peer) = conv_key(&r.to);
                    let state = MessageState::stored(r.by == me);
                    tx.execute(
                        "INSERT INTO messages (kind, peer, server_id, sender, time, text, state,
                             recall_of, recall_of_from)
                         VALUES (?1, ?2, ?3, ?4, ?5, '', ?6, ?7, ?8)",
                        params![
                            kind,
                            peer,
                            db_int(r.id),
                            r.by,
                            db_int(r.time),
                            state.to_db(),
                            db_int(r.target),
                            r.target_from
                        ],
                    )?;
                    let id = tx.last_insert_rowid();
                    (Self::message_by_id(&tx, id)?, true, None)
                }
            },
        };
        let quotes = if new {
            Self::empty_quotes(&tx, r.target)?
        } else {
            Vec::new()
        };
        tx.commit()?;
        Ok(RecallApplied {
            message,
            quotes,
            new,
            unread,
        })
    }

    /// Takes the text out of every stored quote of `target`, and returns the messages changed.
    fn empty_quotes(tx: &Transaction<'_>, target: u64) -> Result<Vec<Message>, StorageError> {
        let ids: Vec<i64> = tx
            .prepare(
                "SELECT id FROM messages WHERE reply_id = ?1 AND reply_text <> '' ORDER BY id",
            )?
            .query_map([db_int(target)], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            tx.execute("UPDATE messages SET reply_text = '' WHERE id = ?1", [id])?;
            out.push(Self::message_by_id(tx, id)?);
        }
        Ok(out)
    }

    /// A received message that was still unread is recalled: one fewer to read. The new count if it changed.
    pub(super) fn uncount(tx: &Transaction<'_>, m: &Message) -> Result<Option<u32>, StorageError> {
        let Some(server_id) = m.server_id else {
            return Ok(None);
        };
        if m.state != MessageState::Received || server_id <= Self::read_up_to(tx, &m.conv)? {
            return Ok(None);
        }
        let (kind, peer) = conv_key(&m.conv);
        let changed = tx.execute(
            "UPDATE conversations SET unread = unread - 1 WHERE kind = ?1 AND peer = ?2 AND unread > 0",
            params![kind, peer],
        )?;
        if changed == 0 {
            return Ok(None);
        }
        Ok(Some(Self::unread_in(tx, &m.conv)?))
    }

    pub(super) fn read_up_to(tx: &Connection, conv: &Conv) -> Result<u64, StorageError> {
        let (kind, peer) = conv_key(conv);
        Ok(tx
            .query_row(
                "SELECT read_up_to FROM conversations WHERE kind = ?1 AND peer = ?2",
                params![kind, peer],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0)
            .max(0) as u64)
    }

    fn unread_in(tx: &Connection, conv: &Conv) -> Result<u32, StorageError> {
        let (kind, peer) = conv_key(conv);
        Ok(tx
            .query_row(
                "SELECT unread FROM conversations WHERE kind = ?1 AND peer = ?2",
                params![kind, peer],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// Marks a conversation read up to server id `up_to`, or with `None` all of it (up to its newest
    /// message, and no unread left). The mark only goes up; the unread count becomes at most the number of
    /// received messages after the mark.
    pub fn mark_read_to(
        &mut self,
        conv: &Conv,
        up_to: Option<u64>,
    ) -> Result<ReadMark, StorageError> {
        let tx = self.conn.transaction()?;
        let (kind, peer) = conv_key(conv);
        let known: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM conversations WHERE kind = ?1 AND peer = ?2)",
            params![kind, peer],
            |r| r.get(0),
        )?;
        if !known {
            // Nothing stored here to be read (a mark from another device for a chat this one never had).
            return Ok(ReadMark {
                unread_before: 0,
                unread: 0,
                raised: None,
            });
        }
        let before = Self::read_up_to(&tx, conv)?;
        let unread_before = Self::unread_in(&tx, conv)?;
        let mark = match up_to {
            Some(up_to) => up_to,
            None => tx
                .query_row(
                    "SELECT max(server_id) FROM messages WHERE kind = ?1 AND peer = ?2",
                    params![kind, peer],
                    |r| r.get::<_, Option<i64>>(0),
                )?
                .unwrap_or(0)
                .max(0) as u64,
        };
        let mark = mark.max(before);
        let after: u32 = tx.query_row(
            "SELECT count(*) FROM messages WHERE kind = ?1 AND peer = ?2 AND state = ?3
                 AND server_id > ?4 AND recalled_by IS NULL AND recall_of IS NULL
                 AND event_kind IS NULL",
            params![kind, peer, MessageState::Received.to_db(), db_int(mark)],
            |r| r.get(0),
        )?;
        let unread = if up_to.is_none() {
            0
        } else {
            unread_before.min(after)
        };
        tx.execute(
            "UPDATE conversations SET unread = ?3, read_up_to = ?4 WHERE kind = ?1 AND peer = ?2",
            params![kind, peer, unread, db_int(mark)],
        )?;
        tx.commit()?;
        Ok(ReadMark {
            unread_before,
            unread,
            raised: (mark > before).then_some(mark),
        })
    }

    /// Applies a `READ:` mark from the server (another of my devices read this far).
    pub fn apply_read(&mut self, conv: &Conv, up_to: u64) -> Result<ReadMark, StorageError> {
        self.mark_read_to(conv, Some(up_to))
    }

    /// Every conversation's read mark, for telling the server the ones it has lower (marks made offline).
    pub fn read_marks(&self) -> Result<Vec<(Conv, u64)>, StorageError> {
        let mut stmt = self
            .conn
            .prepare("SELECT kind, peer, read_up_to FROM conversations WHERE read_up_to > 0")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(kind, peer, mark)| {
                let conv = super::conv_from(&kind, peer).map_err(StorageError::Corrupt)?;
                Ok((conv, mark.max(0) as u64))
            })
            .collect()
    }
}
