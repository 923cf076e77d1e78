//! [`AvatarStore`] on SQLite: pictures kept once by digest in `avatars`, named by the users and groups
//! showing them.

use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, forget_avatar};
use crate::storage::{Avatar, AvatarOwner, AvatarStore, StoreError};

impl AvatarStore for SqliteStore {
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
}
