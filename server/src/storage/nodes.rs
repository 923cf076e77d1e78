//! Nodes: the servers sharing one database (cluster mode, issue 26). Each serving node keeps its own
//! connection rows and its own place in the requests to end sessions ([`crate::storage::AccountStore`]),
//! says it is alive every second, and clears away a node that has stopped saying so. One node at a time
//! leads the periodic sweeps (expired files, tokens and session-end requests), so they are not run by
//! every node at once. A SQLite store is its own single node: alive, never anyone to reap, always the
//! leader.

use ququ_protocol::Millis;

use super::{StoreError, UserId};

/// How long a node may stay silent (no heartbeat) before any live node takes it for dead and clears its
/// rows; a name whose node was heard from more recently than this is in use. Ten heartbeats: a node
/// busy for a moment, or a database briefly out of reach, is not reaped.
pub const NODE_SILENCE_LIMIT: Millis = 10_000;

/// What [`NodeStore::reap_silent_nodes`] cleared away.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reaped {
    /// The silent nodes' names.
    pub nodes: Vec<String>,
    /// Users who were connected only to those nodes, so are offline now, each once, in id order.
    pub offline: Vec<UserId>,
}

/// What a serving node does for the nodes sharing its database. The server's timers call these, on the
/// blocking pool.
pub trait NodeStore {
    /// Says this node is alive (called every second). `false`: the node's registration was gone, taken
    /// for dead by another node after a silence of [`NODE_SILENCE_LIMIT`] (with its connection rows),
    /// and is made again.
    fn heartbeat(&self, now: Millis) -> Result<bool, StoreError>;
    /// Clears away every other node not heard from for more than [`NODE_SILENCE_LIMIT`] before `now`: its
    /// registration and its connection rows, in one transaction, so two nodes reaping at once clear each
    /// dead node once. Any live node calls it every second.
    ///
    /// The users returned were online only on the dead nodes: their offline records are passed in the
    /// same transaction (`passing.rs`), and every node tells their friends.
    fn reap_silent_nodes(&self, now: Millis) -> Result<Reaped, StoreError>;
    /// Whether this node leads the periodic sweeps now: one node of those sharing a database at a time;
    /// another takes over once the leader stops. Called before each sweep.
    fn lead(&self) -> Result<bool, StoreError>;
    /// A node stopping cleanly: its registration and its connection rows go at once, instead of after
    /// the silence limit (with the offline records of users who were connected only there).
    fn leave(&self) -> Result<(), StoreError>;
}
