//! The login throttle's counters (`service/throttle.rs`), kept by the store so that in cluster mode
//! every node's attempts meet in the same counters: a guesser spread over three nodes is blocked at one
//! node's threshold. SQLite keeps them in its live file beside the connection table (never synced: they
//! are worth nothing after a crash), PostgreSQL in the `throttle` table.

use std::collections::HashMap;

use ququ_protocol::Millis;

use super::StoreError;

/// One counter: attempts since the start of its window, and the end of its block, if it is blocked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleEntry {
    pub count: u32,
    pub since: Millis,
    pub blocked_until: Option<Millis>,
}

/// See the module's docs. Blocking; the server calls these on the blocking pool.
pub trait ThrottleStore {
    /// Runs `decide` on the counters named `names` — those that exist — while no other handle (no other
    /// node) can use them, and keeps what it leaves: a counter it added or changed is stored, one it
    /// removed is deleted. Counters not named are not in the map, and not touched.
    fn throttle(
        &self,
        names: &[String],
        decide: &mut dyn FnMut(&mut HashMap<String, ThrottleEntry>),
    ) -> Result<(), StoreError>;
    /// Deletes the counters whose window of `window` ms has passed at `now` and that are not blocked;
    /// how many.
    fn sweep_throttle(&self, now: Millis, window: Millis) -> Result<usize, StoreError>;
}
