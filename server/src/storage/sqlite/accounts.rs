//! [`AccountStore`] on SQLite: accounts, session tokens, the connection table (in its own file, see
//! [`super::live_path`]) and the requests to end sessions.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use ququ_protocol::{Millis, Profile, ProfileChange};

use super::{SqliteStore, USER_COLS, account_of, user_from_row};
use crate::storage::{AccountStore, ConnectionRecord, SessionEnd, StoreError, UserId, UserRecord};

impl AccountStore for SqliteStore {
    fn create_user(
        &self,
        account: &str,
        nickname: &str,
        password_hash: &str,
        now: Millis,
    ) -> Result<UserRecord, StoreError> {
        let conn = self.lock()?;
        let inserted = conn.execute(
            "INSERT INTO users (account, nickname, password_hash, created) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(account) DO NOTHING",
            params![account, nickname, password_hash, now as i64],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict);
        }
        Ok(UserRecord {
            id: conn.last_insert_rowid(),
            account: account.to_owned(),
            nickname: nickname.to_owned(),
            password_hash: password_hash.to_owned(),
            created: now,
            disabled: false,
            profile: Profile::default(),
            avatar: None,
        })
    }

    fn user_by_account(&self, account: &str) -> Result<Option<UserRecord>, StoreError> {
        let conn = self.lock()?;
        Ok(conn
            .prepare_cached(&format!(
                "SELECT {USER_COLS} FROM users u WHERE u.account = ?1"
            ))?
            .query_row([account], |r| user_from_row(r, 0))
            .optional()?)
    }

    fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                &format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?1"),
                [id],
                |r| user_from_row(r, 0),
            )
            .optional()?)
    }

    fn set_nickname(&self, user: UserId, nickname: &str) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE users SET nickname = ?2 WHERE id = ?1",
            params![user, nickname],
        )?;
        Ok(())
    }

    fn set_profile(&self, user: UserId, change: &ProfileChange) -> Result<(), StoreError> {
        // The column is chosen here from the change's kind, never from text.
        let sql = match change {
            ProfileChange::Signature(_) => "UPDATE users SET signature = ?2 WHERE id = ?1",
            ProfileChange::Gender(_) => "UPDATE users SET gender = ?2 WHERE id = ?1",
            ProfileChange::Region(_) => "UPDATE users SET region = ?2 WHERE id = ?1",
        };
        self.lock()?.execute(sql, params![user, change.value()])?;
        Ok(())
    }

    fn co_members(&self, user: UserId) -> Result<Vec<UserId>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(
            "SELECT DISTINCT o.user_id FROM members me JOIN members o ON o.group_id = me.group_id \
             WHERE me.user_id = ?1 AND o.user_id != ?1",
        )?;
        let rows = stmt.query_map([user], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_password_hash(&self, user: UserId, hash: &str) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE users SET password_hash = ?2 WHERE id = ?1",
            params![user, hash],
        )?;
        Ok(())
    }

    fn set_disabled(&self, user: UserId, disabled: bool) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE users SET disabled = ?2 WHERE id = ?1",
            params![user, disabled as i64],
        )?;
        Ok(())
    }

    fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {USER_COLS} FROM users u ORDER BY u.account"
        ))?;
        let rows = stmt.query_map([], |r| user_from_row(r, 0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn search_users(&self, query: &str, limit: u32) -> Result<Vec<UserRecord>, StoreError> {
        let conn = self.lock()?;
        let escaped = query
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let mut stmt = conn.prepare(&format!(
            "SELECT {USER_COLS} FROM users u \
             WHERE u.disabled = 0 AND (u.account LIKE ?1 ESCAPE '\\' OR u.nickname LIKE ?1 ESCAPE '\\') \
             ORDER BY (u.account = ?2 COLLATE NOCASE) DESC, u.account LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![pattern, query, limit], |r| user_from_row(r, 0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn create_token(
        &self,
        user: UserId,
        token_hash: &str,
        expires: Millis,
    ) -> Result<(), StoreError> {
        self.lock()?.execute(
            "INSERT INTO tokens (hash, user_id, expires) VALUES (?1, ?2, ?3)",
            params![token_hash, user, expires as i64],
        )?;
        Ok(())
    }

    fn token_user(&self, token_hash: &str, now: Millis) -> Result<Option<UserId>, StoreError> {
        // A read only: a reconnect storm must not turn into a storm of writes. Expired rows are
        // removed by the periodic sweep.
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                "SELECT user_id FROM tokens WHERE hash = ?1 AND expires > ?2",
                params![token_hash, now as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn revoke_token(&self, token_hash: &str) -> Result<(), StoreError> {
        self.lock()?
            .execute("DELETE FROM tokens WHERE hash = ?1", [token_hash])?;
        Ok(())
    }

    fn revoke_tokens(&self, user: UserId, keep: Option<&str>) -> Result<(), StoreError> {
        self.lock()?.execute(
            "DELETE FROM tokens WHERE user_id = ?1 AND hash IS NOT ?2",
            params![user, keep],
        )?;
        Ok(())
    }

    fn sweep_tokens(&self, now: Millis) -> Result<usize, StoreError> {
        Ok(self
            .lock()?
            .execute("DELETE FROM tokens WHERE expires <= ?1", [now as i64])?)
    }

    fn clear_connections(&self) -> Result<(), StoreError> {
        // And the uploads' claims: after a restart no upload is under way.
        self.live()?
            .execute_batch("DELETE FROM connections; DELETE FROM upload_claims;")?;
        Ok(())
    }

    fn add_connection(&self, c: &ConnectionRecord) -> Result<(), StoreError> {
        self.live()?
            .prepare_cached(
                "INSERT OR REPLACE INTO connections (conn_id, ip, port, since) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![c.conn_id as i64, c.ip, c.port, c.since as i64])?;
        Ok(())
    }

    fn set_connection_user(&self, conn_id: u64, user: UserId) -> Result<(), StoreError> {
        self.live()?
            .prepare_cached("UPDATE connections SET user_id = ?2 WHERE conn_id = ?1")?
            .execute(params![conn_id as i64, user])?;
        Ok(())
    }

    fn remove_connection(&self, conn_id: u64) -> Result<(), StoreError> {
        self.live()?
            .prepare_cached("DELETE FROM connections WHERE conn_id = ?1")?
            .execute([conn_id as i64])?;
        Ok(())
    }

    fn connections(&self) -> Result<Vec<ConnectionRecord>, StoreError> {
        let rows = {
            let live = self.live()?;
            let mut stmt = live.prepare(
                "SELECT conn_id, user_id, ip, port, since FROM connections ORDER BY conn_id",
            )?;
            stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, Option<UserId>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, u16>(3)?,
                    r.get::<_, i64>(4)? as Millis,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?
        };
        // The accounts are in the database proper: the two files cannot be joined in one query.
        let conn = self.lock()?;
        let mut accounts = HashMap::new();
        rows.into_iter()
            .map(|(conn_id, user, ip, port, since)| {
                let account = match user {
                    Some(u) => Some(account_of(&conn, u, &mut accounts)?),
                    None => None,
                };
                Ok(ConnectionRecord {
                    conn_id,
                    account,
                    ip,
                    port,
                    since,
                    node: None,
                })
            })
            .collect()
    }

    // Issue 20, item 2: ending live sessions from another process.
    fn end_sessions(&self, user: UserId, code: &str, at: Millis) -> Result<(), StoreError> {
        self.lock()?.execute(
            "INSERT INTO session_ends (user_id, code, at) VALUES (?1, ?2, ?3)",
            params![user, code, at as i64],
        )?;
        Ok(())
    }

    // SQLite is its own single node: a request taken is forgotten at once (a server started later has
    // no sessions it could be about), so the sweep seldom finds anything.
    fn take_session_ends(&self) -> Result<Vec<SessionEnd>, StoreError> {
        let mut conn = self.lock()?;
        // The usual answer is none: one read of an empty table, no write.
        let mut ends: Vec<(i64, SessionEnd)> = {
            let mut stmt = conn.prepare_cached("SELECT id, user_id, code, at FROM session_ends")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    SessionEnd {
                        user: r.get(1)?,
                        code: r.get(2)?,
                        at: r.get::<_, i64>(3)? as Millis,
                    },
                ))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        if ends.is_empty() {
            return Ok(Vec::new());
        }
        ends.sort_by_key(|e| e.0);
        let last = ends.last().map_or(0, |e| e.0);
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM session_ends WHERE id <= ?1", [last])?;
        tx.commit()?;
        Ok(ends.into_iter().map(|(_, end)| end).collect())
    }

    fn sweep_session_ends(&self, before: Millis) -> Result<usize, StoreError> {
        Ok(self
            .lock()?
            .execute("DELETE FROM session_ends WHERE at < ?1", [before as i64])?)
    }
}
