//! [`NodeStore`] on PostgreSQL, and a node's registration ([`PgStore::join`]): the `nodes` table
//! (schema version 2), heartbeats, reaping silent nodes, and the leader's lock.
//!
//! # The leader
//! The periodic sweeps run on one node at a time: the one holding a session advisory lock, taken with
//! `pg_try_advisory_lock` on a connection of its own (not the pool's: a session lock stays with the
//! connection that took it, and a pooled one goes back to serve other requests). The lock goes with
//! that connection, so a leader that stops, is killed or loses the database frees it, and the next
//! node to try takes it over.

use std::collections::BTreeSet;
use std::time::Duration;

use ququ_protocol::Millis;

use super::{Node, PgStore, passing, storable};
use crate::storage::{NODE_SILENCE_LIMIT, NodeStore, Passing, Reaped, StoreError, UserId};

/// The advisory lock key of the sweeps' leader: "ququlead" in ASCII.
const LEADER_LOCK: i64 = 0x7175_7175_6c65_6164;

/// How long a leader's check that its lock's connection is still there may take.
const LEADER_CHECK: Duration = Duration::from_secs(5);

impl PgStore {
    /// This handle as the serving node `name`, registered in the database at `now`; refused with
    /// [`StoreError::NodeInUse`] if a node of that name was heard from within [`NODE_SILENCE_LIMIT`]
    /// (two live nodes of one name would clear each other's connection rows). A name whose node went
    /// silent for longer (it was killed) is taken over. Session-end requests already made are not this
    /// node's: it has no sessions yet.
    pub fn join(mut self, name: &str, now: Millis) -> Result<PgStore, StoreError> {
        if name.trim().is_empty() || !storable(name) || name.chars().any(char::is_control) {
            return Err(StoreError::Unusable {
                path: "PostgreSQL".into(),
                reason: format!("{name:?} cannot be a node name"),
            });
        }
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // One statement decides, so of two nodes starting with one name only one gets it.
        let taken = tx.query_opt(
            "INSERT INTO nodes (name, started, heartbeat) VALUES ($1, $2, $2) \
             ON CONFLICT (name) DO UPDATE SET started = excluded.started, heartbeat = excluded.heartbeat \
             WHERE nodes.heartbeat < $3 RETURNING name",
            &[&name, &(now as i64), &(now.saturating_sub(NODE_SILENCE_LIMIT) as i64)],
        )?;
        if taken.is_none() {
            let heard: i64 = tx
                .query_one("SELECT heartbeat FROM nodes WHERE name = $1", &[&name])?
                .get(0);
            return Err(StoreError::NodeInUse {
                name: name.to_owned(),
                ago_ms: now.saturating_sub(heard.max(0) as u64),
            });
        }
        // Requests are numbered in commit order (see `end_sessions`), so every later one has a
        // larger id than this.
        let newest: i64 = tx
            .query_one("SELECT coalesce(max(id), 0) FROM session_ends", &[])?
            .get(0);
        tx.commit()?;
        drop(conn);
        self.node = Some(Node {
            name: name.to_owned(),
            seen_end: std::sync::Mutex::new(newest),
            seen_passed: std::sync::Mutex::new(0),
        });
        Ok(self)
    }

    /// The name of the node this handle serves as, if any.
    pub fn node_name(&self) -> Option<&str> {
        self.node.as_ref().map(|n| n.name.as_str())
    }
}

impl NodeStore for PgStore {
    fn heartbeat(&self, now: Millis) -> Result<bool, StoreError> {
        let name = &self.node()?.name;
        let mut conn = self.conn()?;
        let beat = conn.execute(
            "UPDATE nodes SET heartbeat = $2 WHERE name = $1",
            &[name, &(now as i64)],
        )?;
        if beat == 1 {
            return Ok(true);
        }
        // Reaped while alive (stalled, or cut off from the database, for longer than the limit): its
        // connection rows are gone. Registered again, unless another node took the name meanwhile.
        conn.execute(
            "INSERT INTO nodes (name, started, heartbeat) VALUES ($1, $2, $2) \
             ON CONFLICT (name) DO NOTHING",
            &[name, &(now as i64)],
        )?;
        Ok(false)
    }

    fn reap_silent_nodes(&self, now: Millis) -> Result<Reaped, StoreError> {
        // A handle with no node reaps too (nothing excludes it); the server's is a node.
        let me = self.node.as_ref().map(|n| n.name.as_str());
        let mut conn = self.conn()?;
        let stale = now.saturating_sub(NODE_SILENCE_LIMIT) as i64;
        // Nearly always nobody: asked first without a lock, so the second's ordinary tick takes none.
        let any: bool = conn
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM nodes WHERE heartbeat < $1 AND name IS DISTINCT FROM $2)",
                &[&stale, &me],
            )?
            .get(0);
        if !any {
            return Ok(Reaped::default());
        }
        let mut tx = conn.transaction()?;
        // Their users' offline records are passed in this transaction, so presence is decided under
        // the passing lock as always; taken first, as every transaction holding it does.
        passing::lock(&mut tx)?;
        // Two nodes reaping at once: the second waits on the first's row locks, then finds the rows
        // gone, so each dead node is reaped (and its users returned) once.
        let nodes: Vec<String> = tx
            .query(
                "DELETE FROM nodes WHERE heartbeat < $1 AND name IS DISTINCT FROM $2 RETURNING name",
                &[&stale, &me],
            )?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        if nodes.is_empty() {
            return Ok(Reaped::default());
        }
        // Rows of no registered node at all go too: those the reaped nodes kept, and any a node wrote
        // while it was being reaped.
        let gone: BTreeSet<UserId> = tx
            .query(
                "DELETE FROM connections c \
                 WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.name = c.node) \
                 RETURNING c.user_id",
                &[],
            )?
            .iter()
            .filter_map(|r| r.try_get::<_, Option<UserId>>(0).transpose())
            .collect::<Result<_, _>>()?;
        let gone: Vec<UserId> = gone.into_iter().collect();
        // Still connected on a live node: not offline.
        let still: BTreeSet<UserId> = tx
            .query(
                "SELECT DISTINCT user_id FROM connections WHERE user_id = ANY($1)",
                &[&gone],
            )?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let offline: Vec<UserId> = gone.into_iter().filter(|u| !still.contains(u)).collect();
        for &user in &offline {
            let record = Passing::Presence {
                user,
                online: false,
            };
            passing::insert(&mut tx, self.origin, now, &record)?;
        }
        tx.commit()?;
        Ok(Reaped { nodes, offline })
    }

    fn lead(&self) -> Result<bool, StoreError> {
        let mut leader = self.leader.lock().map_err(|_| StoreError::Poisoned)?;
        if let Some(client) = leader.as_mut() {
            if client.is_valid(LEADER_CHECK).is_ok() {
                return Ok(true);
            }
            // The connection is gone, and the lock with it: another node may lead now. (Dropped here:
            // this runs on the blocking pool, where the client's own runtime may go.)
            tracing::warn!("lost the connection holding the sweeps' leader lock");
            *leader = None;
        }
        let mut client = self.config.connect(self.tls.clone())?;
        let got: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&LEADER_LOCK])?
            .try_get(0)?;
        if got {
            *leader = Some(client);
        }
        Ok(got)
    }

    fn leave(&self) -> Result<(), StoreError> {
        let name = &self.node()?.name;
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        passing::lock(&mut tx)?;
        // Normally none are left (each session's end removed its row); any that are were users online
        // here, offline now unless connected elsewhere too.
        let left: BTreeSet<UserId> = tx
            .query(
                "DELETE FROM connections WHERE node = $1 RETURNING user_id",
                &[name],
            )?
            .iter()
            .filter_map(|r| r.try_get::<_, Option<UserId>>(0).transpose())
            .collect::<Result<_, _>>()?;
        for user in left {
            if !passing::connected(&mut tx, user)? {
                let record = Passing::Presence {
                    user,
                    online: false,
                };
                passing::insert(&mut tx, self.origin, passing::now(), &record)?;
            }
        }
        tx.execute("DELETE FROM nodes WHERE name = $1", &[name])?;
        tx.commit()?;
        Ok(())
    }
}
