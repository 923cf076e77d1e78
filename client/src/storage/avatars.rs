//! Avatars (头像) in the local database (migration 9 in `schema.rs`): the pictures fetched from the
//! server, by digest, and whose avatar is which.
//!
//! Whose is kept in a table of its own rather than as a column of `contacts` and `groups`: a fellow group
//! member or someone asking to be my friend is neither, and has an avatar too. A picture is kept as long as
//! someone shows it, so a friend going back to an old picture needs no new fetch, and is forgotten with
//! the last one who shows it.

use ququ_protocol::Conv;
use rusqlite::{OptionalExtension, params};

use super::{Storage, StorageError, conv_from, conv_key};

impl Storage {
    /// Records whose avatar is the picture `sha256` (`None`: they have none), as an `AVATAR_OF:` line
    /// says. Returns whether the picture still has to be fetched.
    pub fn set_avatar_of(&mut self, of: &Conv, sha256: Option<&str>) -> Result<bool, StorageError> {
        let (kind, key) = conv_key(of);
        let tx = self.conn.transaction()?;
        let old: Option<String> = tx
            .query_row(
                "SELECT sha256 FROM avatar_of WHERE kind = ?1 AND key = ?2",
                params![kind, key],
                |r| r.get(0),
            )
            .optional()?;
        // Every login's lists repeat a line for everyone listed, nearly all unchanged: those write
        // nothing. (Each line was a write and a sweep of every kept picture.)
        if old.as_deref() != sha256 {
            match sha256 {
                Some(sha) => tx.execute(
                    "INSERT INTO avatar_of (kind, key, sha256) VALUES (?1, ?2, ?3)
                     ON CONFLICT (kind, key) DO UPDATE SET sha256 = excluded.sha256",
                    params![kind, key, sha],
                )?,
                None => tx.execute(
                    "DELETE FROM avatar_of WHERE kind = ?1 AND key = ?2",
                    params![kind, key],
                )?,
            };
            // The picture they showed before is forgotten if nobody shows it any more.
            if let Some(old) = &old {
                tx.execute(
                    "DELETE FROM avatars WHERE sha256 = ?1
                       AND NOT EXISTS (SELECT 1 FROM avatar_of WHERE sha256 = ?1)",
                    [old],
                )?;
            }
        }
        let missing = match sha256 {
            Some(sha) => !tx
                .prepare_cached("SELECT 1 FROM avatars WHERE sha256 = ?1")?
                .exists([sha])?,
            None => false,
        };
        tx.commit()?;
        Ok(missing)
    }

    /// Keeps a fetched picture. The caller has checked that `bytes` have this digest.
    pub fn put_avatar(&self, sha256: &str, bytes: &[u8]) -> Result<(), StorageError> {
        // Only while someone shows it: a picture whose owner moved on while it was being fetched is
        // not kept with nobody to forget it.
        self.conn.execute(
            "INSERT INTO avatars (sha256, bytes)
             SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM avatar_of WHERE sha256 = ?1)
             ON CONFLICT (sha256) DO NOTHING",
            params![sha256, bytes],
        )?;
        Ok(())
    }

    /// The digest of this user's or group's avatar, as last told; `None` if they have none (or it is not
    /// known yet).
    pub fn avatar_of(&self, of: &Conv) -> Result<Option<String>, StorageError> {
        let (kind, key) = conv_key(of);
        Ok(self
            .conn
            .query_row(
                "SELECT sha256 FROM avatar_of WHERE kind = ?1 AND key = ?2",
                params![kind, key],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// A fetched picture by its digest.
    pub fn avatar(&self, sha256: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .conn
            .query_row(
                "SELECT bytes FROM avatars WHERE sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Every known avatar whose picture is here: who, and the digest. What an app shows before the
    /// server has said anything (offline, or at start).
    pub fn avatars(&self) -> Result<Vec<(Conv, String)>, StorageError> {
        let mut stmt = self.conn.prepare(
            "SELECT o.kind, o.key, o.sha256 FROM avatar_of o JOIN avatars a ON a.sha256 = o.sha256",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, key, sha) = row?;
            // Only this code writes the table, from `Conv`s; a row it cannot read is skipped.
            if let Ok(of) = conv_from(&kind, key) {
                out.push((of, sha));
            }
        }
        Ok(out)
    }
}
