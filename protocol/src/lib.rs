//! The Ququ wire protocol.
//!
//! A line is `VERB:field:field:…`, `\n`-terminated UTF-8 — the style of the original Qt client, so a person
//! can still log in by typing `LOGIN:alice:secret` into `nc`. Fields escape `%`, `:`, CR and LF as `%25`,
//! `%3A`, `%0D`, `%0A` and nothing else. [`ClientMessage`] is every line a client sends, [`ServerMessage`]
//! every line the server sends; each variant's doc shows its exact line. `docs/protocol.md` is the full spec.
//!
//! Parsing and formatting are pure functions: `parse(format(m)) == m` for every message.
//!
//! # Layout
//! - [`base64`] — the image bytes of the avatar lines.
//! - [`field`] — escaping and the field cursor used by both directions.
//! - `client` — [`ClientMessage`], client → server.
//! - `server` — [`ServerMessage`], server → client.
//! - `types` — values both directions share: [`Conv`], [`Presence`], [`Limits`], [`ErrorCode`],
//!   [`Features`], [`Mentions`], stored messages.
//! - `error` — [`ParseError`].
//! - [`fingerprint`] — how both ends name a TLS certificate to people.
//! - [`codec`] (feature `codec`, on by default) — [`LineCodec`], tokio-util framing with a line-length cap.

pub mod base64;
mod client;
mod error;
pub mod field;
pub mod fingerprint;
mod server;
mod types;

#[cfg(feature = "codec")]
pub mod codec;

pub use client::ClientMessage;
pub use error::ParseError;
pub use server::ServerMessage;
pub use types::{
    ChatMessage, Conv, ErrorCode, Feature, Features, FileInfo, FileMessage, FileState, Gender,
    GoneReason, GroupEvent, GroupEventKind, GroupMessage, JoinPolicy, Limits, Mentions, Millis,
    Presence, Profile, ProfileChange, Quote, RecallMessage, Role, SaidMessage, is_sha256_hex,
    muted_text, muted_until,
};

#[cfg(feature = "codec")]
pub use codec::{CodecError, LineCodec, NotUtf8};

/// The default cap on a line's length in bytes, terminator excluded.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// The TCP port the original server used and ours defaults to.
pub const DEFAULT_PORT: u16 = 8899;
