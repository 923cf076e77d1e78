//! The headless Ququ client: everything a client does except drawing.
//!
//! The desktop app and the terminal client (`ququ-term`) are thin layers over this crate, and tests drive it
//! without a display. [`Client::start`] returns a [`Handle`] (cloneable; its methods only enqueue commands)
//! and an [`Events`] stream of [`Event`]s:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use ququ_client::{Client, Config, Conv, Event};
//!
//! let (handle, mut events) = Client::start(Config::new("127.0.0.1:8899", "alice", "secret"))?;
//! handle.send_text(Conv::User("bob".into()), "你好");
//! while let Some(event) = events.recv().await {
//!     if let Event::Message(m) = event {
//!         println!("{}: {}", m.from, m.text);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! What it guarantees:
//! - **Nothing lost.** A message is stored locally before it is sent, under a random client id, and stays
//!   pending until the server's `ACK:`; pending messages are resent after every reconnect and after a
//!   restart, and the server drops duplicates by client id. Incoming messages are stored once per server id,
//!   however often `SYNC:` or a live push repeats them.
//! - **Reconnects by itself**, after about a second, backing off with jitter to about 30 s, resuming the
//!   session with its token (or the password if the token is refused) and then syncing what it missed.
//! - **Files resume.** A file being sent is recorded before it is offered and re-offered under the same
//!   client id after a broken data connection, a reconnect or a restart; the server says how much it has.
//!   Downloads continue their `.part` file and are renamed only once the SHA-256 matches.
//! - **Local history** in SQLite (one database per account and server), with full-text search that finds
//!   Chinese words too.
//!
//! # Layout
//! - [`handle`] — [`Client::start`], [`Handle`] (commands) and [`Events`] (the event stream).
//! - [`event`] — [`Event`] and the values it carries ([`Message`], [`Friend`], [`Group`], …).
//! - [`config`] — [`Config`], [`Timing`], data-directory and database paths.
//! - `connection` — the task that owns the socket: its run loop, connect and serve, heartbeat, reconnect,
//!   commands; each line from the server goes to its area's file: `connection/login` (register, log in,
//!   resume, `BYE:`, my profile), `connection/lists` (friends, requests, groups, members, found users,
//!   the block list, others' profiles),
//!   `connection/messages` (chat, `ACK:`, sync, history, the outbox), `connection/said` (the newer lines:
//!   `FEATURES:`, replies and mentions, recalls, read marks, typing), `connection/avatars` (whose avatar is
//!   which picture, and each picture fetched once). `connection/pace` keeps the outbox under the server's
//!   rate.
//! - [`backoff`] — reconnect delays.
//! - [`transfer`] — file transfers' data types: [`Transfer`], [`TransferId`], [`TransferState`],
//!   [`TransferError`], and the file-name rules (the API is summed up in its module docs).
//! - `connection/files` — the connection task's side of transfers: offers, grants, retries, resume;
//!   `connection/files/worker` — the workers that move the bytes on data connections of their own.
//! - [`storage`] — the SQLite database ([`Storage`]) and its async front ([`Store`]); `storage/transfers`
//!   keeps transfers, `storage/said` replies' quotes, recalls and read marks, `storage/events` a group's
//!   changes, `storage/avatars` avatar pictures by digest and whose is which.
//!
//! The terminal client lives in `src/bin/ququ-term/`.

pub mod backoff;
pub mod config;
mod connection;
pub mod event;
pub mod handle;
pub mod storage;
pub mod tls;
pub mod transfer;

pub use config::{Config, ConfigError, SessionToken, Timing};
pub use event::{
    BlockedUser, Category, Conversation, Event, FoundUser, Friend, FriendRequest, Group, Member,
    Message, MessageState, RecallOf, SentRequest, StopReason,
};
pub use handle::{Client, Events, Handle, StartError, new_client_id};
pub use ququ_protocol::{
    Conv, ErrorCode, Features, FileInfo, Gender, GoneReason, GroupEvent, GroupEventKind,
    JoinPolicy, Limits, Mentions, Millis, Presence, Profile, ProfileChange, Quote, Role,
};
pub use storage::{LastLogin, SearchFilter, Storage, StorageError, Store, last_login};
pub use transfer::{Transfer, TransferError, TransferId, TransferState};

#[cfg(test)]
mod tests {
    /// The GUI keeps a handle in its state and moves the event stream into a subscription on another
    /// thread; both must allow it.
    #[test]
    fn handle_and_events_can_cross_threads() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        fn movable<T: Send + 'static>() {}
        shareable::<crate::Handle>();
        shareable::<crate::Store>();
        movable::<crate::Events>();
        movable::<crate::Event>();
    }
}
