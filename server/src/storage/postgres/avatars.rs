//! [`AvatarStore`] on PostgreSQL: pictures kept once by digest in `avatars`, named by the users and
//! groups showing them.

use super::{PgStore, forget_avatar, storable};
use crate::storage::{Avatar, AvatarOwner, AvatarStore, StoreError};

impl AvatarStore for PgStore {
    fn set_avatar(&self, of: AvatarOwner, image: Option<&Avatar>) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // The table is chosen here from the owner's kind, never from text. The owner's row is locked
        // while the old picture is looked up, so two changes at once each forget the right one.
        let (select, update, id) = match of {
            AvatarOwner::User(id) => (
                "SELECT avatar FROM users WHERE id = $1 FOR UPDATE",
                "UPDATE users SET avatar = $2 WHERE id = $1",
                id,
            ),
            AvatarOwner::Group(id) => (
                "SELECT avatar FROM chat_groups WHERE id = $1 FOR UPDATE",
                "UPDATE chat_groups SET avatar = $2 WHERE id = $1",
                id,
            ),
        };
        let old: Option<String> = tx
            .query_opt(select, &[&id])?
            .map(|r| r.try_get(0))
            .transpose()?
            .flatten();
        if let Some(new) = image {
            tx.execute(
                "INSERT INTO avatars (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING",
                &[&new.sha256, &new.bytes],
            )?;
        }
        tx.execute(update, &[&id, &image.map(|a| a.sha256.as_str())])?;
        if let Some(old) = old {
            forget_avatar(&mut tx, &old)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn avatar(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if !storable(sha256) {
            return Ok(None);
        }
        Ok(self
            .conn()?
            .query_opt("SELECT bytes FROM avatars WHERE sha256 = $1", &[&sha256])?
            .map(|r| r.try_get(0))
            .transpose()?)
    }
}
