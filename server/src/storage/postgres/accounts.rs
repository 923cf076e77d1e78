//! [`AccountStore`] on PostgreSQL: accounts, session tokens, the connection table and the requests to
//! end sessions.

use ququ_protocol::{Millis, Profile, ProfileChange};

use super::{PgStore, USER_COLS, all, storable, user_from_row};
use crate::storage::{AccountStore, ConnectionRecord, SessionEnd, StoreError, UserId, UserRecord};

impl AccountStore for PgStore {
    fn create_user(
        &self,
        account: &str,
        nickname: &str,
        password_hash: &str,
        now: Millis,
    ) -> Result<UserRecord, StoreError> {
        // ON CONFLICT DO NOTHING rather than a unique violation: a taken name is an answer, not an
        // error in the server's log.
        let row = self.conn()?.query_opt(
            "INSERT INTO users (account, nickname, password_hash, created) VALUES ($1, $2, $3, $4) \
             ON CONFLICT ((lower(account))) DO NOTHING RETURNING id",
            &[&account, &nickname, &password_hash, &(now as i64)],
        )?;
        let Some(row) = row else {
            return Err(StoreError::Conflict);
        };
        Ok(UserRecord {
            id: row.try_get(0)?,
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
        if !storable(account) {
            return Ok(None);
        }
        self.conn()?
            .query_opt(
                &format!("SELECT {USER_COLS} FROM users u WHERE lower(u.account) = lower($1)"),
                &[&account],
            )?
            .map(|r| user_from_row(&r, 0))
            .transpose()
    }

    fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        self.conn()?
            .query_opt(
                &format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1"),
                &[&id],
            )?
            .map(|r| user_from_row(&r, 0))
            .transpose()
    }

    fn set_nickname(&self, user: UserId, nickname: &str) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE users SET nickname = $2 WHERE id = $1",
            &[&user, &nickname],
        )?;
        Ok(())
    }

    fn set_profile(&self, user: UserId, change: &ProfileChange) -> Result<(), StoreError> {
        // The column is chosen here from the change's kind, never from text.
        let sql = match change {
            ProfileChange::Signature(_) => "UPDATE users SET signature = $2 WHERE id = $1",
            ProfileChange::Gender(_) => "UPDATE users SET gender = $2 WHERE id = $1",
            ProfileChange::Region(_) => "UPDATE users SET region = $2 WHERE id = $1",
        };
        self.conn()?.execute(sql, &[&user, &change.value()])?;
        Ok(())
    }

    fn co_members(&self, user: UserId) -> Result<Vec<UserId>, StoreError> {
        let rows = self.conn()?.query(
            "SELECT DISTINCT o.user_id FROM members me JOIN members o ON o.group_id = me.group_id \
             WHERE me.user_id = $1 AND o.user_id != $1",
            &[&user],
        )?;
        all(rows, |r| Ok(r.try_get(0)?))
    }

    fn set_password_hash(&self, user: UserId, hash: &str) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            &[&user, &hash],
        )?;
        Ok(())
    }

    fn set_disabled(&self, user: UserId, disabled: bool) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE users SET disabled = $2 WHERE id = $1",
            &[&user, &disabled],
        )?;
        Ok(())
    }

    fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        // By account as SQLite's NOCASE column sorts: case folded first.
        let rows = self.conn()?.query(
            &format!("SELECT {USER_COLS} FROM users u ORDER BY lower(u.account), u.account"),
            &[],
        )?;
        all(rows, |r| user_from_row(r, 0))
    }

    fn search_users(&self, query: &str, limit: u32) -> Result<Vec<UserRecord>, StoreError> {
        if !storable(query) {
            return Ok(Vec::new());
        }
        let escaped = query
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        // ILIKE: SQLite's LIKE ignores ASCII case.
        let rows = self.conn()?.query(
            &format!(
                "SELECT {USER_COLS} FROM users u \
                 WHERE NOT u.disabled AND (u.account ILIKE $1 ESCAPE '\\' OR u.nickname ILIKE $1 ESCAPE '\\') \
                 ORDER BY (lower(u.account) = lower($2)) DESC, lower(u.account), u.account LIMIT $3"
            ),
            &[&pattern, &query, &i64::from(limit)],
        )?;
        all(rows, |r| user_from_row(r, 0))
    }

    fn create_token(
        &self,
        user: UserId,
        token_hash: &str,
        expires: Millis,
    ) -> Result<(), StoreError> {
        self.conn()?.execute(
            "INSERT INTO tokens (hash, user_id, expires) VALUES ($1, $2, $3)",
            &[&token_hash, &user, &(expires as i64)],
        )?;
        Ok(())
    }

    fn token_user(&self, token_hash: &str, now: Millis) -> Result<Option<UserId>, StoreError> {
        // A read only: expired rows go with the periodic sweep.
        Ok(self
            .conn()?
            .query_opt(
                "SELECT user_id FROM tokens WHERE hash = $1 AND expires > $2",
                &[&token_hash, &(now as i64)],
            )?
            .map(|r| r.try_get(0))
            .transpose()?)
    }

    fn revoke_token(&self, token_hash: &str) -> Result<(), StoreError> {
        self.conn()?
            .execute("DELETE FROM tokens WHERE hash = $1", &[&token_hash])?;
        Ok(())
    }

    fn revoke_tokens(&self, user: UserId, keep: Option<&str>) -> Result<(), StoreError> {
        self.conn()?.execute(
            "DELETE FROM tokens WHERE user_id = $1 AND hash IS DISTINCT FROM $2",
            &[&user, &keep],
        )?;
        Ok(())
    }

    fn sweep_tokens(&self, now: Millis) -> Result<usize, StoreError> {
        Ok(self
            .conn()?
            .execute("DELETE FROM tokens WHERE expires <= $1", &[&(now as i64)])?
            as usize)
    }

    fn clear_connections(&self) -> Result<(), StoreError> {
        // This node's rows only: the others' connections are live.
        self.conn()?.execute(
            "DELETE FROM connections WHERE node = $1",
            &[&self.node()?.name],
        )?;
        Ok(())
    }

    fn add_connection(&self, c: &ConnectionRecord) -> Result<(), StoreError> {
        self.conn()?.execute(
            "INSERT INTO connections (node, conn_id, ip, port, since) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (node, conn_id) DO UPDATE SET user_id = NULL, ip = excluded.ip, \
             port = excluded.port, since = excluded.since",
            &[
                &self.node()?.name,
                &(c.conn_id as i64),
                &c.ip,
                &i32::from(c.port),
                &(c.since as i64),
            ],
        )?;
        Ok(())
    }

    fn set_connection_user(&self, conn_id: u64, user: UserId) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE connections SET user_id = $3 WHERE node = $1 AND conn_id = $2",
            &[&self.node()?.name, &(conn_id as i64), &user],
        )?;
        Ok(())
    }

    fn remove_connection(&self, conn_id: u64) -> Result<(), StoreError> {
        self.conn()?.execute(
            "DELETE FROM connections WHERE node = $1 AND conn_id = $2",
            &[&self.node()?.name, &(conn_id as i64)],
        )?;
        Ok(())
    }

    fn connections(&self) -> Result<Vec<ConnectionRecord>, StoreError> {
        // Every node's. One database: the accounts join in, where SQLite looks them up from its other
        // file.
        let rows = self.conn()?.query(
            "SELECT c.conn_id, u.account, c.ip, c.port, c.since, c.node FROM connections c \
             LEFT JOIN users u ON u.id = c.user_id ORDER BY c.node, c.conn_id",
            &[],
        )?;
        all(rows, |r| {
            Ok(ConnectionRecord {
                conn_id: r.try_get::<_, i64>(0)? as u64,
                account: r.try_get(1)?,
                ip: r.try_get(2)?,
                port: u16::try_from(r.try_get::<_, i32>(3)?).unwrap_or(0),
                since: r.try_get::<_, i64>(4)? as Millis,
                node: Some(r.try_get(5)?),
            })
        })
    }

    fn end_sessions(&self, user: UserId, code: &str, at: Millis) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // Nodes read requests by "after the last id I took": ids must be given out in commit order, or
        // a node could read id 6 before id 5 commits and never see 5. Writers queue here, each taking
        // its id and committing before the next takes one (requests are rare: an operator's command).
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SESSION_ENDS_LOCK])?;
        tx.execute(
            "INSERT INTO session_ends (user_id, code, at) VALUES ($1, $2, $3)",
            &[&user, &code, &(at as i64)],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn take_session_ends(&self) -> Result<Vec<SessionEnd>, StoreError> {
        // Every node reads every request, from where it left off; the rows stay for the other nodes
        // until the sweep. Held across the read, so two calls at once cannot both take a request.
        let mut seen = self
            .node()?
            .seen_end
            .lock()
            .map_err(|_| StoreError::Poisoned)?;
        let rows = self.conn()?.query(
            "SELECT id, user_id, code, at FROM session_ends WHERE id > $1 ORDER BY id",
            &[&*seen],
        )?;
        let ends = all(rows, |r| {
            Ok((
                r.try_get::<_, i64>(0)?,
                SessionEnd {
                    user: r.try_get(1)?,
                    code: r.try_get(2)?,
                    at: r.try_get::<_, i64>(3)? as Millis,
                },
            ))
        })?;
        if let Some((last, _)) = ends.last() {
            *seen = *last;
        }
        Ok(ends.into_iter().map(|(_, end)| end).collect())
    }

    fn sweep_session_ends(&self, before: Millis) -> Result<usize, StoreError> {
        Ok(self.conn()?.execute(
            "DELETE FROM session_ends WHERE at < $1",
            &[&(before as i64)],
        )? as usize)
    }
}

/// The advisory lock key under which session-end requests are numbered: "ququends" in ASCII.
const SESSION_ENDS_LOCK: i64 = 0x7175_7175_656e_6473;
