//! [`FriendStore`] on PostgreSQL: requests, refusals, friendships, friend groups and blocks.

use postgres::Row;

use ququ_protocol::Millis;

use super::{PgStore, USER_COLS, USER_WIDTH, all, user_from_row};
use crate::storage::{
    CategoryRefusal, FriendRecord, FriendStore, RequestRecord, SentRecord, StoreError, UserId,
    UserRecord,
};

/// Forgets `$2`'s refusal of `$1`'s request: `$1` asked again, or they became friends.
const FORGET_DECLINED: &str = "DELETE FROM declined_requests WHERE from_id = $1 AND to_id = $2";

/// `user`'s friend `friend` with the remark and group `user` gave them.
fn friend_select() -> String {
    format!(
        "SELECT {USER_COLS}, f.remark, f.category FROM friends f JOIN users u ON u.id = f.friend_id"
    )
}

/// A row of [`friend_select`].
fn friend_from_row(r: &Row) -> Result<FriendRecord, StoreError> {
    Ok(FriendRecord {
        user: user_from_row(r, 0)?,
        remark: r.try_get(USER_WIDTH)?,
        category: r.try_get::<_, i64>(USER_WIDTH + 1)? as u64,
    })
}

/// Whether `user` has friend group `category` (inside the caller's transaction).
fn has_category(
    tx: &mut postgres::Transaction<'_>,
    user: UserId,
    category: u64,
) -> Result<bool, StoreError> {
    Ok(tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM categories WHERE user_id = $1 AND id = $2)",
            &[&user, &(category as i64)],
        )?
        .try_get(0)?)
}

impl FriendStore for PgStore {
    fn put_request(
        &self,
        from: UserId,
        to: UserId,
        note: &str,
        now: Millis,
        hidden: bool,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO friend_requests (from_id, to_id, note, time, hidden) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (from_id, to_id) DO UPDATE SET note = excluded.note, time = excluded.time, \
             hidden = excluded.hidden",
            &[&from, &to, &note, &(now as i64), &hidden],
        )?;
        tx.execute(FORGET_DECLINED, &[&from, &to])?;
        tx.commit()?;
        Ok(())
    }

    fn requests_to(&self, to: UserId) -> Result<Vec<RequestRecord>, StoreError> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {USER_COLS}, r.note, r.time FROM friend_requests r \
                 JOIN users u ON u.id = r.from_id WHERE r.to_id = $1 AND NOT r.hidden ORDER BY r.time"
            ),
            &[&to],
        )?;
        all(rows, |r| {
            Ok(RequestRecord {
                from: user_from_row(r, 0)?,
                note: r.try_get(USER_WIDTH)?,
                time: r.try_get::<_, i64>(USER_WIDTH + 1)? as Millis,
            })
        })
    }

    fn requests_from(&self, from: UserId) -> Result<Vec<SentRecord>, StoreError> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {USER_COLS}, r.time FROM friend_requests r \
                 JOIN users u ON u.id = r.to_id WHERE r.from_id = $1 ORDER BY r.time, r.to_id"
            ),
            &[&from],
        )?;
        all(rows, |r| {
            Ok(SentRecord {
                to: user_from_row(r, 0)?,
                time: r.try_get::<_, i64>(USER_WIDTH)? as Millis,
            })
        })
    }

    fn has_request(&self, from: UserId, to: UserId) -> Result<bool, StoreError> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT 1 FROM friend_requests WHERE from_id = $1 AND to_id = $2 AND NOT hidden",
                &[&from, &to],
            )?
            .is_some())
    }

    fn take_request(&self, from: UserId, to: UserId) -> Result<bool, StoreError> {
        let n = self.conn()?.execute(
            "DELETE FROM friend_requests WHERE from_id = $1 AND to_id = $2 AND NOT hidden",
            &[&from, &to],
        )?;
        Ok(n > 0)
    }

    fn put_declined(&self, from: UserId, to: UserId, now: Millis) -> Result<(), StoreError> {
        self.conn()?.execute(
            "INSERT INTO declined_requests (from_id, to_id, time) VALUES ($1, $2, $3) \
             ON CONFLICT (from_id, to_id) DO UPDATE SET time = excluded.time",
            &[&from, &to, &(now as i64)],
        )?;
        Ok(())
    }

    fn take_declined(&self, from: UserId) -> Result<Vec<String>, StoreError> {
        // One statement takes and forgets them, oldest first.
        let rows = self.conn()?.query(
            "WITH taken AS (DELETE FROM declined_requests WHERE from_id = $1 RETURNING to_id, time) \
             SELECT u.account FROM taken d JOIN users u ON u.id = d.to_id ORDER BY d.time",
            &[&from],
        )?;
        all(rows, |r| Ok(r.try_get(0)?))
    }

    fn forget_declined(&self, from: UserId, to: UserId) -> Result<(), StoreError> {
        self.conn()?.execute(FORGET_DECLINED, &[&from, &to])?;
        Ok(())
    }

    fn add_friendship(&self, a: UserId, b: UserId, now: Millis) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        for (x, y) in [(a, b), (b, a)] {
            tx.execute(FORGET_DECLINED, &[&x, &y])?;
            tx.execute(
                "INSERT INTO friends (user_id, friend_id, since) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
                &[&x, &y, &(now as i64)],
            )?;
            tx.execute(
                "DELETE FROM friend_requests WHERE from_id = $1 AND to_id = $2",
                &[&x, &y],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn remove_friendship(&self, a: UserId, b: UserId) -> Result<bool, StoreError> {
        let n = self.conn()?.execute(
            "DELETE FROM friends WHERE (user_id = $1 AND friend_id = $2) OR (user_id = $2 AND friend_id = $1)",
            &[&a, &b],
        )?;
        Ok(n > 0)
    }

    fn are_friends(&self, a: UserId, b: UserId) -> Result<bool, StoreError> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT 1 FROM friends WHERE user_id = $1 AND friend_id = $2",
                &[&a, &b],
            )?
            .is_some())
    }

    fn friends(&self, user: UserId) -> Result<Vec<FriendRecord>, StoreError> {
        let rows = self.conn()?.query(
            &format!(
                "{} WHERE f.user_id = $1 ORDER BY lower(u.account), u.account",
                friend_select()
            ),
            &[&user],
        )?;
        all(rows, friend_from_row)
    }

    fn friend_count(&self, user: UserId) -> Result<u32, StoreError> {
        let n: i64 = self
            .conn()?
            .query_one("SELECT count(*) FROM friends WHERE user_id = $1", &[&user])?
            .try_get(0)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn set_remark(&self, user: UserId, friend: UserId, remark: &str) -> Result<bool, StoreError> {
        let n = self.conn()?.execute(
            "UPDATE friends SET remark = $3 WHERE user_id = $1 AND friend_id = $2",
            &[&user, &friend, &remark],
        )?;
        Ok(n > 0)
    }

    fn friend(&self, user: UserId, friend: UserId) -> Result<Option<FriendRecord>, StoreError> {
        self.conn()?
            .query_opt(
                &format!(
                    "{} WHERE f.user_id = $1 AND f.friend_id = $2",
                    friend_select()
                ),
                &[&user, &friend],
            )?
            .map(|r| friend_from_row(&r))
            .transpose()
    }

    fn categories(&self, user: UserId) -> Result<Vec<(u64, String)>, StoreError> {
        let rows = self.conn()?.query(
            "SELECT id, name FROM categories WHERE user_id = $1 ORDER BY position, id",
            &[&user],
        )?;
        all(rows, |r| {
            Ok((r.try_get::<_, i64>(0)? as u64, r.try_get(1)?))
        })
    }

    fn add_category(
        &self,
        user: UserId,
        name: &str,
        max: u32,
    ) -> Result<Result<u64, CategoryRefusal>, StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // The user's row is locked so that two devices adding at once cannot pass `max` together.
        tx.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", &[&user])?;
        let row = tx.query_one(
            "SELECT count(*), COALESCE(bool_or(name = $2), FALSE) FROM categories WHERE user_id = $1",
            &[&user, &name],
        )?;
        let (count, same): (i64, bool) = (row.try_get(0)?, row.try_get(1)?);
        if same {
            return Ok(Err(CategoryRefusal::Exists));
        }
        if count >= i64::from(max) {
            return Ok(Err(CategoryRefusal::TooMany));
        }
        let id: i64 = tx
            .query_one(
                "INSERT INTO categories (user_id, name, position) VALUES ($1, $2, \
                 (SELECT COALESCE(max(position) + 1, 0) FROM categories WHERE user_id = $1)) \
                 RETURNING id",
                &[&user, &name],
            )?
            .try_get(0)?;
        tx.commit()?;
        Ok(Ok(id as u64))
    }

    fn rename_category(
        &self,
        user: UserId,
        category: u64,
        name: &str,
    ) -> Result<Result<(), CategoryRefusal>, StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        if !has_category(&mut tx, user, category)? {
            return Ok(Err(CategoryRefusal::NoSuch));
        }
        // Its own name again is no clash.
        let clash: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM categories WHERE user_id = $1 AND name = $2 AND id != $3)",
                &[&user, &name, &(category as i64)],
            )?
            .try_get(0)?;
        if clash {
            return Ok(Err(CategoryRefusal::Exists));
        }
        tx.execute(
            "UPDATE categories SET name = $3 WHERE user_id = $1 AND id = $2",
            &[&user, &(category as i64), &name],
        )?;
        tx.commit()?;
        Ok(Ok(()))
    }

    fn delete_category(&self, user: UserId, category: u64) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM categories WHERE user_id = $1 AND id = $2",
            &[&user, &(category as i64)],
        )?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute(
            "UPDATE friends SET category = 0 WHERE user_id = $1 AND category = $2",
            &[&user, &(category as i64)],
        )?;
        tx.commit()?;
        Ok(true)
    }

    fn order_categories(
        &self,
        user: UserId,
        order: &[u64],
    ) -> Result<Result<(), CategoryRefusal>, StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let mine: Vec<u64> = all(
            tx.query(
                "SELECT id FROM categories WHERE user_id = $1 FOR UPDATE",
                &[&user],
            )?,
            |r| Ok(r.try_get::<_, i64>(0)? as u64),
        )?;
        if let Some(stranger) = order.iter().find(|id| !mine.contains(id)) {
            return Ok(Err(CategoryRefusal::NoSuchIn(*stranger)));
        }
        let once: std::collections::HashSet<_> = order.iter().collect();
        if once.len() != order.len() || order.len() != mine.len() {
            return Ok(Err(CategoryRefusal::NotEveryOne));
        }
        for (position, id) in order.iter().enumerate() {
            tx.execute(
                "UPDATE categories SET position = $3 WHERE user_id = $1 AND id = $2",
                &[&user, &(*id as i64), &(position as i64)],
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
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        if category != 0 && !has_category(&mut tx, user, category)? {
            return Ok(Err(CategoryRefusal::NoSuch));
        }
        let n = tx.execute(
            "UPDATE friends SET category = $3 WHERE user_id = $1 AND friend_id = $2",
            &[&user, &friend, &(category as i64)],
        )?;
        if n == 0 {
            return Ok(Err(CategoryRefusal::NotFriends));
        }
        let view = friend_from_row(&tx.query_one(
            &format!(
                "{} WHERE f.user_id = $1 AND f.friend_id = $2",
                friend_select()
            ),
            &[&user, &friend],
        )?)?;
        tx.commit()?;
        Ok(Ok(view))
    }

    fn block(
        &self,
        user: UserId,
        other: UserId,
        now: Millis,
    ) -> Result<(Millis, bool), StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO blocks (user_id, blocked_id, time) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, blocked_id) DO NOTHING",
            &[&user, &other, &(now as i64)],
        )?;
        let since: i64 = tx
            .query_one(
                "SELECT time FROM blocks WHERE user_id = $1 AND blocked_id = $2",
                &[&user, &other],
            )?
            .try_get(0)?;
        let hid = tx.execute(
            "UPDATE friend_requests SET hidden = TRUE WHERE from_id = $1 AND to_id = $2 AND NOT hidden",
            &[&other, &user],
        )?;
        tx.commit()?;
        Ok((since as Millis, hid > 0))
    }

    fn unblock(&self, user: UserId, other: UserId) -> Result<bool, StoreError> {
        let n = self.conn()?.execute(
            "DELETE FROM blocks WHERE user_id = $1 AND blocked_id = $2",
            &[&user, &other],
        )?;
        Ok(n > 0)
    }

    fn blocks(&self, user: UserId, other: UserId) -> Result<bool, StoreError> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT 1 FROM blocks WHERE user_id = $1 AND blocked_id = $2",
                &[&user, &other],
            )?
            .is_some())
    }

    fn blocked(&self, user: UserId) -> Result<Vec<(UserRecord, Millis)>, StoreError> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {USER_COLS}, b.time FROM blocks b JOIN users u ON u.id = b.blocked_id \
                 WHERE b.user_id = $1 ORDER BY lower(u.account), u.account"
            ),
            &[&user],
        )?;
        all(rows, |r| {
            Ok((
                user_from_row(r, 0)?,
                r.try_get::<_, i64>(USER_WIDTH)? as Millis,
            ))
        })
    }
}
