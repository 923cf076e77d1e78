//! [`ThrottleStore`] on PostgreSQL: the `throttle` table (schema version 6). A decision holds a
//! transaction advisory lock per counter, taken in name order (so two decisions never wait on each
//! other in a circle), from reading the counters to writing them back: attempts arriving at several
//! nodes at once are counted one after another.

use std::collections::HashMap;

use ququ_protocol::Millis;

use super::PgStore;
use crate::storage::{StoreError, ThrottleEntry, ThrottleStore};

impl ThrottleStore for PgStore {
    fn throttle(
        &self,
        names: &[String],
        decide: &mut dyn FnMut(&mut HashMap<String, ThrottleEntry>),
    ) -> Result<(), StoreError> {
        let mut sorted: Vec<&String> = names.iter().collect();
        sorted.sort();
        sorted.dedup();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        for name in &sorted {
            // Keyed by the name's 64-bit hash: two names sharing one only wait for each other.
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 7))",
                &[name],
            )?;
        }
        let mut counters = HashMap::new();
        for row in tx.query(
            "SELECT name, count, since, blocked_until FROM throttle WHERE name = ANY($1)",
            &[&sorted],
        )? {
            let entry = ThrottleEntry {
                count: u32::try_from(row.try_get::<_, i64>(1)?).unwrap_or(u32::MAX),
                since: row.try_get::<_, i64>(2)?.max(0) as Millis,
                blocked_until: row
                    .try_get::<_, Option<i64>>(3)?
                    .map(|t| t.max(0) as Millis),
            };
            counters.insert(row.try_get(0)?, entry);
        }
        decide(&mut counters);
        for name in sorted {
            match counters.get(name) {
                Some(e) => tx.execute(
                    "INSERT INTO throttle (name, count, since, blocked_until) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (name) DO UPDATE SET count = excluded.count, since = excluded.since, \
                     blocked_until = excluded.blocked_until",
                    &[
                        name,
                        &i64::from(e.count),
                        &(e.since as i64),
                        &e.blocked_until.map(|t| t as i64),
                    ],
                )?,
                None => tx.execute("DELETE FROM throttle WHERE name = $1", &[name])?,
            };
        }
        tx.commit()?;
        Ok(())
    }

    fn sweep_throttle(&self, now: Millis, window: Millis) -> Result<usize, StoreError> {
        Ok(self.conn()?.execute(
            "DELETE FROM throttle WHERE since <= $1 AND (blocked_until IS NULL OR blocked_until <= $2)",
            &[&(now.saturating_sub(window) as i64), &(now as i64)],
        )? as usize)
    }
}
