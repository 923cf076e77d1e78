//! File transfers in the local database, so an upload or download survives an app restart and resumes,
//! and the file messages of a conversation.

use std::path::PathBuf;

use rusqlite::{OptionalExtension, Row, params};

use super::{
    MESSAGE_COLUMNS, Storage, StorageError, conv_from, conv_key, corrupt, db_int, message_from_row,
};
use crate::event::Message;
use crate::transfer::{Transfer, TransferId, TransferState};
use ququ_protocol::Conv;

const TRANSFER_COLUMNS: &str =
    "key, kind, peer, file_id, name, size, sha256, path, bytes, state, error";

/// The primary key: uploads and downloads have ids of different kinds.
fn transfer_key(id: &TransferId) -> String {
    match id {
        TransferId::Upload(client_id) => format!("u:{client_id}"),
        TransferId::Download(file_id) => format!("d:{file_id}"),
    }
}

fn transfer_id(key: &str) -> Option<TransferId> {
    match key.split_once(':')? {
        ("u", client_id) => Some(TransferId::Upload(client_id.to_owned())),
        ("d", file_id) => file_id.parse().ok().map(TransferId::Download),
        _ => None,
    }
}

fn transfer_from_row(row: &Row<'_>) -> rusqlite::Result<Transfer> {
    let key: String = row.get(0)?;
    let id = transfer_id(&key).ok_or_else(|| corrupt(0, format!("transfer key `{key}`")))?;
    let kind: String = row.get(1)?;
    let conv = conv_from(&kind, row.get(2)?).map_err(|e| corrupt(1, e))?;
    let state: String = row.get(9)?;
    let state = TransferState::from_db(&state, row.get(10)?)
        .ok_or_else(|| corrupt(9, format!("transfer state `{state}`")))?;
    Ok(Transfer {
        id,
        conv,
        file_id: row.get::<_, Option<i64>>(3)?.map(|v| v.max(0) as u64),
        name: row.get(4)?,
        size: row.get::<_, i64>(5)?.max(0) as u64,
        sha256: row.get(6)?,
        path: PathBuf::from(row.get::<_, String>(7)?),
        bytes: row.get::<_, i64>(8)?.max(0) as u64,
        state,
    })
}

impl Storage {
    /// Records a transfer, or updates the record of the same id.
    pub fn save_transfer(&self, t: &Transfer) -> Result<(), StorageError> {
        let (kind, peer) = conv_key(&t.conv);
        // Paths are kept as text; one that is not Unicode is refused when the transfer starts.
        let path = t.path.to_string_lossy();
        let error = match &t.state {
            TransferState::Failed { reason } => Some(reason.as_str()),
            _ => None,
        };
        self.conn.execute(
            &format!(
                "INSERT INTO transfers ({TRANSFER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, peer = excluded.peer,
                     file_id = excluded.file_id, name = excluded.name, size = excluded.size,
                     sha256 = excluded.sha256, path = excluded.path, bytes = excluded.bytes,
                     state = excluded.state, error = excluded.error"
            ),
            params![
                transfer_key(&t.id),
                kind,
                peer,
                t.file_id.map(db_int),
                t.name,
                db_int(t.size),
                t.sha256,
                path.as_ref(),
                db_int(t.bytes),
                t.state.as_str(),
                error
            ],
        )?;
        Ok(())
    }

    /// Every transfer, newest first.
    pub fn transfers(&self) -> Result<Vec<Transfer>, StorageError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfers ORDER BY rowid DESC"
        ))?;
        let rows = stmt.query_map([], transfer_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn transfer(&self, id: &TransferId) -> Result<Option<Transfer>, StorageError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {TRANSFER_COLUMNS} FROM transfers WHERE key = ?1"),
                [transfer_key(id)],
                transfer_from_row,
            )
            .optional()?)
    }

    /// The message that offered file `file_id`, if it is stored here.
    pub fn file_message(&self, file_id: u64) -> Result<Option<Message>, StorageError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE file_id = ?1 ORDER BY id LIMIT 1"
                ),
                [db_int(file_id)],
                message_from_row,
            )
            .optional()?)
    }

    /// The file messages of a conversation, oldest first.
    pub fn files(&self, conv: &Conv) -> Result<Vec<Message>, StorageError> {
        let (kind, peer) = conv_key(conv);
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE kind = ?1 AND peer = ?2 AND file_id IS NOT NULL ORDER BY time, id"
        ))?;
        let rows = stmt.query_map(params![kind, peer], message_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
