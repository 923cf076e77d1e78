//! This server as one node of those sharing a database (cluster mode, issue 26; a SQLite server is its
//! own single node, for which all of this is nothing): it says it is alive, clears away nodes that
//! stopped saying so, and runs the periodic sweeps only while it leads them.

use super::{Result, Services, now_millis};
use crate::storage::Reaped;

impl Services {
    /// The node's second: its heartbeat, then any node silent too long reaped. Run every second.
    pub async fn tend_node(&self) -> Result<()> {
        let now = now_millis();
        let (registered, reaped) = self
            .db(move |s| Ok((s.heartbeat(now)?, s.reap_silent_nodes(now)?)))
            .await?;
        if !registered {
            // Every other node counts this one's users offline now (their rows are gone): serving them
            // on would be a lie. Their clients connect again, here or elsewhere, and are counted anew.
            let ended = self.hub.end_everyone(
                ququ_protocol::ErrorCode::Shutdown,
                "this server lost its database for too long; connect again",
            );
            tracing::warn!(
                sessions = ended,
                "this node was taken for dead (no heartbeat for too long) and its connection rows \
                 removed by another node; its sessions were ended, and it is registered again"
            );
        }
        let Reaped { nodes, offline } = reaped;
        if !nodes.is_empty() {
            // Their offline records were passed as they were reaped: every node tells their friends.
            self.presence_passed().await;
            tracing::warn!(
                ?nodes,
                ?offline,
                "silent nodes reaped; these users went offline with them"
            );
        }
        Ok(())
    }

    /// Whether this node runs the periodic sweeps now (see `NodeStore::lead`).
    pub async fn lead(&self) -> Result<bool> {
        self.db(|s| s.lead()).await
    }

    /// This node stopping cleanly: its registration and connection rows go now, not after the silence
    /// limit.
    pub async fn leave(&self) -> Result<()> {
        self.db(|s| s.leave()).await
    }
}
