//! [`FriendStore`] on SQLite: requests, refusals, friendships, friend groups and blocks.

use rusqlite::{OptionalExtension, Row, params};

use ququ_protocol::Millis;

use super::{SqliteStore, USER_COLS, USER_WIDTH, user_from_row};
use crate::storage::{
    CategoryRefusal, FriendRecord, FriendStore, RequestRecord, SentRecord, StoreError, UserId,
    UserRecord,
};

/// Forgets `?2`'s refusal of `?1`'s request: `?1` asked again, or they became friends.
const FORGET_DECLINED: &str = "DELETE FROM declined_requests WHERE from_id = ?1 AND to_id = ?2";

/// A row of `SELECT {USER_COLS}, f.remark, f.category FROM friends f JOIN users u …`.
fn friend_from_row(r: &Row<'_>) -> rusqlite::Result<FriendRecord> {
    Ok(FriendRecord {
        user: user_from_row(r, 0)?,
        remark: r.get(USER_WIDTH)?,
        category: r.get::<_, i64>(USER_WIDTH + 1)? as u64,
    })
}

impl FriendStore for SqliteStore {
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
}
