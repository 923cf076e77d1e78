//! [`FileStore`] on SQLite: the `files` table of relayed files (their bytes are on disk, kept by the
//! service).

use rusqlite::{OptionalExtension, Row, params};

use ququ_protocol::Millis;

use super::SqliteStore;
use crate::storage::{
    FileRecord, FileStatus, FileStore, NewFile, StoreError, Target, TransferGrant, UserId,
};

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

impl FileStore for SqliteStore {
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

    // Transfer grants and upload claims live in the connection table's file: live state, never synced.
    fn grant_transfer(&self, token_hash: &str, g: &TransferGrant) -> Result<(), StoreError> {
        self.live()?
            .prepare_cached(
                "INSERT INTO transfer_grants (token_hash, file_id, user_id, put, expires) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                token_hash,
                g.file as i64,
                g.user,
                g.put,
                g.expires as i64
            ])?;
        Ok(())
    }

    fn redeem_transfer(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<TransferGrant>, StoreError> {
        let grant = self
            .live()?
            .prepare_cached(
                "DELETE FROM transfer_grants WHERE token_hash = ?1 \
                 RETURNING file_id, user_id, put, expires",
            )?
            .query_row([token_hash], |r| {
                Ok(TransferGrant {
                    file: r.get::<_, i64>(0)? as u64,
                    user: r.get(1)?,
                    put: r.get(2)?,
                    expires: r.get::<_, i64>(3)? as Millis,
                })
            })
            .optional()?;
        Ok(grant.filter(|g| g.expires > now))
    }

    fn sweep_transfers(&self, now: Millis) -> Result<usize, StoreError> {
        Ok(self
            .live()?
            .prepare_cached("DELETE FROM transfer_grants WHERE expires <= ?1")?
            .execute([now as i64])?)
    }

    fn claim_upload(&self, file: u64, writer: i64) -> Result<Option<i64>, StoreError> {
        let live = self.live()?;
        let before: Option<i64> = live
            .prepare_cached("SELECT writer FROM upload_claims WHERE file_id = ?1")?
            .query_row([file as i64], |r| r.get(0))
            .optional()?;
        live.prepare_cached(
            "INSERT INTO upload_claims (file_id, writer) VALUES (?1, ?2) \
             ON CONFLICT (file_id) DO UPDATE SET writer = excluded.writer",
        )?
        .execute(params![file as i64, writer])?;
        Ok(before.filter(|w| *w != writer))
    }

    fn holds_upload(&self, file: u64, writer: i64) -> Result<bool, StoreError> {
        Ok(self
            .live()?
            .prepare_cached("SELECT 1 FROM upload_claims WHERE file_id = ?1 AND writer = ?2")?
            .query_row(params![file as i64, writer], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn release_upload(&self, file: u64, writer: i64) -> Result<(), StoreError> {
        self.live()?
            .prepare_cached("DELETE FROM upload_claims WHERE file_id = ?1 AND writer = ?2")?
            .execute(params![file as i64, writer])?;
        Ok(())
    }
}
