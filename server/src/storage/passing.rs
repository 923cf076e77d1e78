//! Passing (cluster mode, issue 26): what one node pushes to sessions that the others serve. A stored
//! message reaches every node through the relay (`service/relay.rs`); everything else a session is
//! pushed — a friend request, a member list's change, a read mark for my other devices, typing, a
//! file's state, presence — is passed here: stored for the other nodes, numbered in commit order, read
//! by each from where it left off, and swept after a minute (a node that far behind has been reaped).
//!
//! Presence is decided here too: whether a login is its user's first connection on any node, or a
//! disconnection their last, is decided in the transaction that writes the connection row, under the
//! lock that numbers passed items, and the online or offline record is written in the same
//! transaction. So the records say, in one order every node reads, when a user came and went, whichever
//! nodes they were on. A node reaped for silence passes its users' offline records the same way.
//!
//! A SQLite store is its own single node: nothing is passed, and its hub alone knows who is online.

use bytes::Bytes;
use ququ_protocol::{Feature, Millis};

use super::{StoreError, UserId};

/// How long a passed item is kept for nodes that have not read it yet: a node that far behind has been
/// silent for longer than the heartbeat allows, so it has been reaped and starts afresh.
pub const PASSED_KEPT: Millis = 60_000;

/// One item passed between nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Passing {
    /// A line for every session of `users` (on the other nodes), in the form each session's features
    /// choose: `lines[i]` for a session having exactly those of `by` whose bit is set in `i`, `None`
    /// for nothing.
    Lines {
        users: Vec<UserId>,
        by: Vec<Feature>,
        lines: Vec<Option<Bytes>>,
    },
    /// `user` came online (their first connection on any node) or went offline (their last one ended).
    Presence { user: UserId, online: bool },
    /// Every session of `user` that logged in at or before `before` ends with `code` (a password changed
    /// on another node: the session that changed it is there, and stays).
    End {
        user: UserId,
        code: String,
        before: Millis,
    },
}

/// See the module's docs. Blocking; the server calls these on the blocking pool.
pub trait PassStore {
    /// Stores `items` for the other nodes' sessions, after everything passed before, at `now`.
    fn pass(&self, items: &[Passing], now: Millis) -> Result<(), StoreError>;
    /// Starts this node's reading: the users connected on any node now. What is passed after this is
    /// what [`PassStore::passed`] returns.
    fn start_passing(&self) -> Result<Vec<UserId>, StoreError>;
    /// What the other nodes have passed since the last call, and every presence record (this node's
    /// too, so that every node applies them in the one order), in the order they were stored.
    fn passed(&self) -> Result<Vec<Passing>, StoreError>;
    /// Removes what was passed before `before`; how many.
    fn sweep_passed(&self, before: Millis) -> Result<usize, StoreError>;
    /// Connection `conn_id`'s session is `user`'s now. True if the user has no other connection on any
    /// node; a cluster store then passes their online record in the same transaction.
    fn arrive(&self, conn_id: u64, user: UserId) -> Result<bool, StoreError>;
    /// Connection `conn_id` has ended; its row goes. Its user if that was their last connection on any
    /// node; a cluster store then passes their offline record in the same transaction.
    fn depart(&self, conn_id: u64) -> Result<Option<UserId>, StoreError>;
}
