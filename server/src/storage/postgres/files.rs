//! [`FileStore`] on PostgreSQL: the `files` table of relayed files (their bytes are kept by the
//! service, named by content).

use postgres::Row;

use ququ_protocol::Millis;

use super::{PgStore, all};
use crate::storage::{
    FileRecord, FileStatus, FileStore, NewFile, StoreError, Target, TransferGrant, UserId,
};

const FILE_COLS: &str =
    "id, sender_id, client_id, kind, target, name, size, sha256, status, created, expires";

fn file_from_row(r: &Row) -> Result<FileRecord, StoreError> {
    let kind: i16 = r.try_get(3)?;
    let target: i64 = r.try_get(4)?;
    Ok(FileRecord {
        id: r.try_get::<_, i64>(0)? as u64,
        sender: r.try_get(1)?,
        client_id: r.try_get(2)?,
        to: if kind == 0 {
            Target::User(target)
        } else {
            Target::Group(target)
        },
        name: r.try_get(5)?,
        size: r.try_get::<_, i64>(6)? as u64,
        sha256: r.try_get(7)?,
        status: FileStatus::parse(r.try_get(8)?).unwrap_or(FileStatus::Expired),
        created: r.try_get::<_, i64>(9)? as Millis,
        expires: r.try_get::<_, i64>(10)? as Millis,
    })
}

impl FileStore for PgStore {
    fn create_file(&self, f: &NewFile) -> Result<FileRecord, StoreError> {
        let (kind, target): (i16, i64) = match f.to {
            Target::User(u) => (0, u),
            Target::Group(g) => (1, g),
        };
        let row = self.conn()?.query_opt(
            &format!(
                "INSERT INTO files (sender_id, client_id, kind, target, name, size, sha256, status, \
                 created, expires) VALUES ($1, $2, $3, $4, $5, $6, $7, 'uploading', $8, $9) \
                 ON CONFLICT (sender_id, client_id) DO NOTHING RETURNING {FILE_COLS}"
            ),
            &[
                &f.sender,
                &f.client_id,
                &kind,
                &target,
                &f.name,
                &(f.size as i64),
                &f.sha256,
                &(f.created as i64),
                &(f.expires as i64),
            ],
        )?;
        match row {
            Some(r) => file_from_row(&r),
            None => Err(StoreError::Conflict),
        }
    }

    fn file(&self, id: u64) -> Result<Option<FileRecord>, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        self.conn()?
            .query_opt(
                &format!("SELECT {FILE_COLS} FROM files WHERE id = $1"),
                &[&id],
            )?
            .map(|r| file_from_row(&r))
            .transpose()
    }

    fn file_by_client_id(
        &self,
        sender: UserId,
        client_id: &str,
    ) -> Result<Option<FileRecord>, StoreError> {
        self.conn()?
            .query_opt(
                &format!("SELECT {FILE_COLS} FROM files WHERE sender_id = $1 AND client_id = $2"),
                &[&sender, &client_id],
            )?
            .map(|r| file_from_row(&r))
            .transpose()
    }

    fn set_file_status(&self, id: u64, status: FileStatus) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE files SET status = $2 WHERE id = $1",
            &[&(id as i64), &status.as_str()],
        )?;
        Ok(())
    }

    fn file_bytes_used(&self, sender: UserId) -> Result<u64, StoreError> {
        // SUM of BIGINT is NUMERIC in PostgreSQL: cast back (no quota comes near 2^63 bytes).
        let n: i64 = self
            .conn()?
            .query_one(
                "SELECT COALESCE(SUM(size), 0)::BIGINT FROM files \
                 WHERE sender_id = $1 AND status IN ('uploading', 'uploaded')",
                &[&sender],
            )?
            .try_get(0)?;
        Ok(n as u64)
    }

    fn files_expired(&self, now: Millis) -> Result<Vec<FileRecord>, StoreError> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {FILE_COLS} FROM files \
                 WHERE status IN ('uploading', 'uploaded') AND expires <= $1"
            ),
            &[&(now as i64)],
        )?;
        all(rows, file_from_row)
    }

    fn blob_in_use(&self, sha256: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT 1 FROM files WHERE sha256 = $1 AND status IN ('uploading', 'uploaded') LIMIT 1",
                &[&sha256],
            )?
            .is_some())
    }

    fn grant_transfer(&self, token_hash: &str, g: &TransferGrant) -> Result<(), StoreError> {
        self.conn()?.execute(
            "INSERT INTO transfer_grants (token_hash, file_id, user_id, put, expires) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &token_hash,
                &(g.file as i64),
                &g.user,
                &g.put,
                &(g.expires as i64),
            ],
        )?;
        Ok(())
    }

    fn redeem_transfer(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<TransferGrant>, StoreError> {
        let row = self.conn()?.query_opt(
            "DELETE FROM transfer_grants WHERE token_hash = $1 \
             RETURNING file_id, user_id, put, expires",
            &[&token_hash],
        )?;
        let grant = row
            .map(|r| -> Result<TransferGrant, StoreError> {
                Ok(TransferGrant {
                    file: r.try_get::<_, i64>(0)? as u64,
                    user: r.try_get(1)?,
                    put: r.try_get(2)?,
                    expires: r.try_get::<_, i64>(3)? as Millis,
                })
            })
            .transpose()?;
        Ok(grant.filter(|g| g.expires > now))
    }

    fn sweep_transfers(&self, now: Millis) -> Result<usize, StoreError> {
        Ok(self.conn()?.execute(
            "DELETE FROM transfer_grants WHERE expires <= $1",
            &[&(now as i64)],
        )? as usize)
    }

    fn claim_upload(&self, file: u64, writer: i64) -> Result<Option<i64>, StoreError> {
        // The row lock serializes two claims of one file; the old writer is read in the same statement.
        let before: Option<i64> = self
            .conn()?
            .query_one(
                "WITH old AS (SELECT writer FROM upload_claims WHERE file_id = $1 FOR UPDATE), \
                 new AS (INSERT INTO upload_claims (file_id, writer) VALUES ($1, $2) \
                         ON CONFLICT (file_id) DO UPDATE SET writer = excluded.writer) \
                 SELECT (SELECT writer FROM old)",
                &[&(file as i64), &writer],
            )?
            .try_get(0)?;
        Ok(before.filter(|w| *w != writer))
    }

    fn holds_upload(&self, file: u64, writer: i64) -> Result<bool, StoreError> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT 1 FROM upload_claims WHERE file_id = $1 AND writer = $2",
                &[&(file as i64), &writer],
            )?
            .is_some())
    }

    fn release_upload(&self, file: u64, writer: i64) -> Result<(), StoreError> {
        self.conn()?.execute(
            "DELETE FROM upload_claims WHERE file_id = $1 AND writer = $2",
            &[&(file as i64), &writer],
        )?;
        Ok(())
    }
}
