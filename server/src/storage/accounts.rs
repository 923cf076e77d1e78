//! Accounts: who can log in (users and their profiles), their session tokens, the connection-info
//! table, and asking the running server to end an account's sessions. The storage side of
//! [`crate::service`]'s `accounts.rs`.

use ququ_protocol::{Millis, ProfileChange};

use super::{StoreError, UserId, UserRecord};

/// A user's columns from `users u`, in the order every backend's user row mapper reads them.
pub(crate) const USER_COLS: &str = "u.id, u.account, u.nickname, u.password_hash, u.created, \
     u.disabled, u.gender, u.region, u.signature, u.avatar";
/// How many columns `USER_COLS` is: where a query's own columns after it start.
pub(crate) const USER_WIDTH: usize = 10;

/// One row of the connection-info table the original server kept: who is connected from where.
#[derive(Debug, Clone)]
pub struct ConnectionRecord {
    pub conn_id: u64,
    pub account: Option<String>,
    pub ip: String,
    pub port: u16,
    pub since: Millis,
    /// The node serving it, in cluster mode; `None` on SQLite, its own single node. Listing only:
    /// [`AccountStore::add_connection`] files a connection under the adding node.
    pub node: Option<String>,
}

/// A request to end an account's live sessions (issue 20, item 2): see [`AccountStore::end_sessions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEnd {
    pub user: UserId,
    /// The `BYE:` code, e.g. `disabled`.
    pub code: String,
    /// Sessions that logged in after this (milliseconds since the epoch) were checked against the
    /// change already, and stay. Also when it was asked: the request is swept a minute later
    /// ([`AccountStore::sweep_session_ends`]).
    pub at: Millis,
}

/// What the service needs for accounts and their sessions. Every method is one transaction.
pub trait AccountStore {
    /// Creates an account; [`StoreError::Conflict`] if the name is taken.
    fn create_user(
        &self,
        account: &str,
        nickname: &str,
        password_hash: &str,
        now: Millis,
    ) -> Result<UserRecord, StoreError>;
    /// Account names compare case-insensitively, so `Alice` and `alice` are one account.
    fn user_by_account(&self, account: &str) -> Result<Option<UserRecord>, StoreError>;
    fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError>;
    fn set_nickname(&self, user: UserId, nickname: &str) -> Result<(), StoreError>;
    /// Changes one part of the user's profile.
    fn set_profile(&self, user: UserId, change: &ProfileChange) -> Result<(), StoreError>;
    /// Everyone who is in a group with `user` (not `user`), each once: who sees their profile in a
    /// member list.
    fn co_members(&self, user: UserId) -> Result<Vec<UserId>, StoreError>;
    fn set_password_hash(&self, user: UserId, hash: &str) -> Result<(), StoreError>;
    /// A disabled account cannot log in or be found; its data stays.
    fn set_disabled(&self, user: UserId, disabled: bool) -> Result<(), StoreError>;
    /// Every account, by name (for the operator's `users` command).
    fn users(&self) -> Result<Vec<UserRecord>, StoreError>;
    /// Accounts whose name or nickname contains `query`, exact account match first.
    fn search_users(&self, query: &str, limit: u32) -> Result<Vec<UserRecord>, StoreError>;

    // Session tokens, stored as hashes.
    fn create_token(
        &self,
        user: UserId,
        token_hash: &str,
        expires: Millis,
    ) -> Result<(), StoreError>;
    /// The user a live token belongs to.
    fn token_user(&self, token_hash: &str, now: Millis) -> Result<Option<UserId>, StoreError>;
    fn revoke_token(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Revokes every token of `user` except `keep`.
    fn revoke_tokens(&self, user: UserId, keep: Option<&str>) -> Result<(), StoreError>;
    /// Deletes expired tokens; returns how many.
    fn sweep_tokens(&self, now: Millis) -> Result<usize, StoreError>;

    // The connection-info table. A serving node writes its own rows only (cluster mode: each node's
    // rows are its own, see [`crate::storage::NodeStore`]); the listing is every node's.
    /// Forgets this node's rows (at its start: a previous run's connections are gone); other nodes' stay.
    fn clear_connections(&self) -> Result<(), StoreError>;
    fn add_connection(&self, conn: &ConnectionRecord) -> Result<(), StoreError>;
    fn set_connection_user(&self, conn_id: u64, user: UserId) -> Result<(), StoreError>;
    fn remove_connection(&self, conn_id: u64) -> Result<(), StoreError>;
    fn connections(&self) -> Result<Vec<ConnectionRecord>, StoreError>;

    // Issue 20, item 2: ending an account's live sessions from another process (the operator's commands
    // run beside the server on the same database).
    /// Asks the running server to end every live session of `user` that logged in at or before `at`
    /// with `BYE:<code>:…`.
    fn end_sessions(&self, user: UserId, code: &str, at: Millis) -> Result<(), StoreError>;
    /// The requests of [`AccountStore::end_sessions`] this node has not taken yet, oldest first, each
    /// returned once to every serving node (each ends its own sessions of the user). Requests made
    /// before the node started may be left out (PostgreSQL leaves them): it had no sessions then. The
    /// server calls it once a second.
    fn take_session_ends(&self) -> Result<Vec<SessionEnd>, StoreError>;
    /// Forgets requests asked before `before` (the periodic sweep, a minute after they were asked, long
    /// after every node has taken them); returns how many.
    fn sweep_session_ends(&self, before: Millis) -> Result<usize, StoreError>;
}
