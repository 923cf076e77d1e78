//! [`PassStore`] on PostgreSQL: the `passed` table (schema version 4). Items are numbered in commit
//! order — every insert holds [`PASSING_LOCK`] to its commit, so a reader that has seen seq N will never
//! later find a smaller one — and each node reads from its own cursor. Presence is decided under the
//! same lock, in the transaction that writes the connection row (see `storage/passing.rs`).

use postgres::Transaction;
use ququ_protocol::{Feature, Millis};

use super::{PgStore, all};
use crate::storage::{PassStore, Passing, StoreError, UserId};

/// The advisory lock key under which passed items are numbered, and presence decided: "ququpass".
pub(super) const PASSING_LOCK: i64 = 0x7175_7175_7061_7373;

/// Takes [`PASSING_LOCK`] until `tx` ends. A transaction that also locks connection rows takes this
/// first, as [`PassStore::arrive`] does, so two of them never wait on each other.
pub(super) fn lock(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PASSING_LOCK])?;
    Ok(())
}

/// Writes `item` as passed by `origin` at `now`; the caller holds [`PASSING_LOCK`].
pub(super) fn insert(
    tx: &mut Transaction<'_>,
    origin: i64,
    now: Millis,
    item: &Passing,
) -> Result<(), StoreError> {
    let now = now as i64;
    match item {
        Passing::Lines { users, by, lines } => {
            let features: Vec<&str> = by.iter().map(|f| f.name()).collect();
            let lines: Vec<Option<&[u8]>> = lines.iter().map(|l| l.as_deref()).collect();
            tx.execute(
                "INSERT INTO passed (origin, at, kind, users, features, lines) \
                 VALUES ($1, $2, 'lines', $3, $4, $5)",
                &[&origin, &now, users, &features.join(","), &lines],
            )?;
        }
        Passing::Presence { user, online } => {
            let kind = if *online { "online" } else { "offline" };
            tx.execute(
                "INSERT INTO passed (origin, at, kind, users) VALUES ($1, $2, $3, $4)",
                &[&origin, &now, &kind, &vec![*user]],
            )?;
        }
        Passing::End { user, code, before } => {
            tx.execute(
                "INSERT INTO passed (origin, at, kind, users, code, before) \
                 VALUES ($1, $2, 'end', $3, $4, $5)",
                &[&origin, &now, &vec![*user], code, &(*before as i64)],
            )?;
        }
    }
    Ok(())
}

/// Milliseconds since the epoch, for `passed.at` (only the sweep reads it).
pub(super) fn now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// Whether a user has a connection on any node.
pub(super) fn connected(tx: &mut Transaction<'_>, user: UserId) -> Result<bool, StoreError> {
    Ok(tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM connections WHERE user_id = $1)",
            &[&user],
        )?
        .get(0))
}

impl PassStore for PgStore {
    fn pass(&self, items: &[Passing], now: Millis) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        lock(&mut tx)?;
        for item in items {
            insert(&mut tx, self.origin, now, item)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn start_passing(&self) -> Result<Vec<UserId>, StoreError> {
        let node = self.node()?;
        let mut seen = node.seen_passed.lock().map_err(|_| StoreError::Poisoned)?;
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // Under the lock, nothing is decided or passed between the two reads.
        lock(&mut tx)?;
        let online = all(
            tx.query(
                "SELECT DISTINCT user_id FROM connections WHERE user_id IS NOT NULL ORDER BY 1",
                &[],
            )?,
            |r| Ok(r.try_get(0)?),
        )?;
        *seen = tx
            .query_one("SELECT coalesce(max(seq), 0) FROM passed", &[])?
            .get(0);
        tx.commit()?;
        Ok(online)
    }

    fn passed(&self) -> Result<Vec<Passing>, StoreError> {
        // Held across the read, so two calls at once cannot both take an item.
        let mut seen = self
            .node()?
            .seen_passed
            .lock()
            .map_err(|_| StoreError::Poisoned)?;
        let rows = self.conn()?.query(
            "SELECT seq, kind, users, features, lines, code, before FROM passed \
             WHERE seq > $1 AND (origin <> $2 OR kind IN ('online', 'offline')) ORDER BY seq",
            &[&*seen, &self.origin],
        )?;
        let items = all(rows, |r| {
            let seq: i64 = r.try_get(0)?;
            let kind: &str = r.try_get(1)?;
            let users: Vec<UserId> = r.try_get(2)?;
            let first = users.first().copied().unwrap_or_default();
            let item = match kind {
                "lines" => {
                    let features: &str = r.try_get(3)?;
                    let lines: Vec<Option<Vec<u8>>> = r.try_get(4)?;
                    let by: Option<Vec<Feature>> = features
                        .split(',')
                        .filter(|name| !name.is_empty())
                        .map(Feature::from_name)
                        .collect();
                    // A feature this build does not know (a newer node's) would shift every form:
                    // such a line is skipped, not sent in the wrong form.
                    let Some(by) = by else {
                        tracing::warn!(
                            seq,
                            features,
                            "a passed line depends on a feature this server does not know; skipped"
                        );
                        return Ok((seq, None));
                    };
                    Passing::Lines {
                        users,
                        by,
                        lines: lines.into_iter().map(|l| l.map(Into::into)).collect(),
                    }
                }
                "online" | "offline" => Passing::Presence {
                    user: first,
                    online: kind == "online",
                },
                _ => Passing::End {
                    user: first,
                    code: r.try_get::<_, Option<String>>(5)?.unwrap_or_default(),
                    before: r.try_get::<_, Option<i64>>(6)?.unwrap_or_default().max(0) as Millis,
                },
            };
            Ok((seq, Some(item)))
        })?;
        if let Some((last, _)) = items.last() {
            *seen = *last;
        }
        Ok(items.into_iter().filter_map(|(_, item)| item).collect())
    }

    fn sweep_passed(&self, before: Millis) -> Result<usize, StoreError> {
        Ok(self
            .conn()?
            .execute("DELETE FROM passed WHERE at < $1", &[&(before as i64)])? as usize)
    }

    fn arrive(&self, conn_id: u64, user: UserId) -> Result<bool, StoreError> {
        let name = &self.node()?.name;
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        lock(&mut tx)?;
        let first = !connected(&mut tx, user)?;
        tx.execute(
            "UPDATE connections SET user_id = $3 WHERE node = $1 AND conn_id = $2",
            &[name, &(conn_id as i64), &user],
        )?;
        if first {
            let online = Passing::Presence { user, online: true };
            insert(&mut tx, self.origin, now(), &online)?;
        }
        tx.commit()?;
        Ok(first)
    }

    fn depart(&self, conn_id: u64) -> Result<Option<UserId>, StoreError> {
        let name = &self.node()?.name;
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        lock(&mut tx)?;
        let user: Option<UserId> = tx
            .query_opt(
                "DELETE FROM connections WHERE node = $1 AND conn_id = $2 RETURNING user_id",
                &[name, &(conn_id as i64)],
            )?
            .map(|r| r.try_get(0))
            .transpose()?
            .flatten();
        let last = match user {
            Some(user) if !connected(&mut tx, user)? => {
                let offline = Passing::Presence {
                    user,
                    online: false,
                };
                insert(&mut tx, self.origin, now(), &offline)?;
                Some(user)
            }
            _ => None,
        };
        tx.commit()?;
        Ok(last)
    }
}
