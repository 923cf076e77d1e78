//! A group's changes (`GROUP_EVENT:`) in the local database (migration 6 in `schema.rs`).
//!
//! Each change is a row of its group's conversation, among the messages: the server numbers changes and
//! messages from one sequence, so the row is keyed by its server id like a message (a change delivered
//! live and again by `SYNC:` or `HISTORY:` is stored once) and a chat reopened later shows it where it
//! happened. It is not something anyone said: its text is empty, so neither search index has anything of
//! it; it is never counted unread; and nobody can answer or recall it (the server refuses both).

use ququ_protocol::{Conv, GroupEvent};
use rusqlite::{OptionalExtension, params};

use super::{Storage, StorageError, Stored, conv_key, db_int};
use crate::event::MessageState;

/// How a server without the feature's line, or before this client asked for it, sent a change: a
/// `GROUP:` message whose client id starts so (see docs/protocol.md).
const STAND_IN: &str = "event-";

impl Storage {
    /// Stores a group change from the server: [`Stored::New`] (never with an unread count),
    /// [`Stored::Duplicate`] if its id is stored already, or [`Stored::Deleted`] if it was deleted here.
    ///
    /// A version of this client that did not ask for the feature stored changes as the server's stand-in
    /// `GROUP:` text under the same id; when a history page brings one of those again, the row becomes the
    /// change it stands for (and stops counting as unread, and leaves the search indexes with its text).
    pub fn store_group_event(&mut self, me: &str, e: &GroupEvent) -> Result<Stored, StorageError> {
        let conv = Conv::Group(e.group);
        let tx = self.conn.transaction()?;
        if let Some(existing) = Self::by_server_id(&tx, e.id)? {
            let stand_in = existing.group_event.is_none()
                && existing.conv == conv
                && existing.file.is_none()
                && existing.client_id.starts_with(STAND_IN);
            if !stand_in {
                return Ok(Stored::Duplicate(existing));
            }
            Self::uncount(&tx, &existing)?;
            // Emptying the text takes it out of both search indexes (their update triggers).
            tx.execute(
                "UPDATE messages SET text = '', event_kind = ?1, event_account = ?2, event_value = ?3
                 WHERE id = ?4",
                params![e.kind.as_str(), e.account, e.value, existing.local_id],
            )?;
            let message = Self::message_by_id(&tx, existing.local_id)?;
            tx.commit()?;
            return Ok(Stored::Duplicate(message));
        }
        let deleted = tx
            .query_row(
                "SELECT 1 FROM deleted WHERE server_id = ?1",
                [db_int(e.id)],
                |_| Ok(()),
            )
            .optional()?;
        if deleted.is_some() {
            return Ok(Stored::Deleted);
        }
        Self::touch_conversation(&tx, &conv)?;
        let (kind, peer) = conv_key(&conv);
        let state = MessageState::stored(e.by == me);
        tx.execute(
            "INSERT INTO messages (kind, peer, server_id, sender, time, text, state,
                 event_kind, event_account, event_value)
             VALUES (?1, ?2, ?3, ?4, ?5, '', ?6, ?7, ?8, ?9)",
            params![
                kind,
                peer,
                db_int(e.id),
                e.by,
                db_int(e.time),
                state.to_db(),
                e.kind.as_str(),
                e.account,
                e.value,
            ],
        )?;
        let message = Self::message_by_id(&tx, tx.last_insert_rowid())?;
        tx.commit()?;
        Ok(Stored::New {
            message,
            unread: None,
        })
    }
}
