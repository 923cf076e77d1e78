//! Messages: storing them (one at a time or in batches), sync and history pages, recalls and read marks.
//! The storage side of [`crate::service`]'s `messages.rs` and of the message writer.

use ququ_protocol::{Conv, FileInfo, GroupEventKind, Mentions, Millis, Quote};

use super::{StoreError, Target, UserId};

/// What a stored message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Text(String),
    File(FileInfo),
    /// Text that answers another message or mentions people (`SEND:`).
    Said(Said),
    /// A recall: message `target`, sent by `target_from`, is gone. Stored in the recalled message's
    /// conversation, so it is synced in order like a message.
    Recall {
        target: u64,
        target_from: String,
    },
    /// A message that has been recalled: read back so a page's length and cursor stay true, never sent.
    Gone,
    /// A change to a group (issue 25): stored in its history like a message, never quoted or recalled.
    Event {
        kind: GroupEventKind,
        /// Whom it concerns; empty if the group itself.
        account: String,
        value: String,
    },
}

/// The text of a reply or of a message with mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub text: String,
    /// The message answered. The store keeps only its id.
    pub reply_to: Option<u64>,
    pub mentions: Mentions,
    /// The answered message as it is now, filled in when a message is read back (or, for a new one,
    /// by the service, which checked it): its text is empty once that message is recalled.
    pub quote: Option<Quote>,
}

/// A stored message as the service checks it before quoting or recalling it.
#[derive(Debug, Clone)]
pub struct MessageRef {
    pub id: u64,
    pub sender: UserId,
    /// The sender's account.
    pub from: String,
    pub to: Target,
    pub time: Millis,
    /// The start of its text for a quote: at most [`QUOTE_CHARS`] characters, or `[<file name>]`.
    pub excerpt: String,
    /// The file it offers, if it is a file message: its id and content digest.
    pub file: Option<(u64, String)>,
    /// It is itself a recall (which can be neither quoted nor recalled).
    pub is_recall: bool,
    /// Kept for its sender only: its recipient blocks them (see [`NewMessage::hidden`]).
    pub hidden: bool,
}

/// How much of a quoted message travels with a reply.
pub const QUOTE_CHARS: usize = 100;

/// The quote of a message's text: its first [`QUOTE_CHARS`] characters.
pub fn excerpt(text: &str) -> String {
    text.chars().take(QUOTE_CHARS).collect()
}

/// A message to store. The pair (sender, client_id) is unique: storing it again returns the first copy.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub sender: UserId,
    pub to: Target,
    pub client_id: String,
    pub time: Millis,
    pub body: Body,
    /// A private message to someone who blocks its sender: stored, so the sender's history and devices
    /// keep it as they would any other (the block must not show), and never shown to the recipient — not
    /// by [`MessageStore::messages_after`], [`MessageStore::history`] or [`MessageStore::visible_message`].
    pub hidden: bool,
}

/// A message as stored, with account names resolved for the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: u64,
    pub from: String,
    pub to: Conv,
    pub time: Millis,
    pub client_id: String,
    pub body: Body,
}

/// The result of [`MessageStore::store_message`].
#[derive(Debug, Clone)]
pub struct Stored {
    pub message: StoredMessage,
    /// True if this (sender, client_id) was stored before; nothing new was written.
    pub duplicate: bool,
}

/// What the service needs for messages. Every method is one transaction.
pub trait MessageStore {
    // Messages.
    /// Stores a message, or returns the earlier copy with the same (sender, client_id).
    fn store_message(&self, msg: &NewMessage) -> Result<Stored, StoreError>;
    /// Stores many messages, as [`MessageStore::store_message`] does each, with one result per message
    /// in order. A backend should write them in one transaction (group commit: the cost of a commit is
    /// shared) and, if that fails, fall back to one at a time, so a bad message fails only itself. Within
    /// a batch a second copy of (sender, client_id) is a duplicate of the first. Returns once every `Ok`
    /// is durable.
    fn store_messages(&self, batch: &[NewMessage]) -> Vec<Result<Stored, StoreError>> {
        batch.iter().map(|m| self.store_message(m)).collect()
    }
    /// Messages visible to `user` with an id above `after`, oldest first.
    fn messages_after(
        &self,
        user: UserId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError>;
    /// One conversation of `user`, newest first, ids below `before` (0 = no bound).
    fn history(
        &self,
        user: UserId,
        with: Target,
        before: u64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError>;

    // Issue 24: recalls and read marks.
    /// Message `id` if `user` can see it: a private message to or from them, or a message of a group
    /// they are in, sent after they joined. `None` for an unknown, recalled or invisible one.
    fn visible_message(&self, user: UserId, id: u64) -> Result<Option<MessageRef>, StoreError>;
    /// Recalls message `target` on behalf of `by`: erases its text (and its file's details) and stores
    /// the recall in its conversation with the next id, in one transaction. `None` if it was recalled
    /// already (or is gone).
    fn recall_message(
        &self,
        target: u64,
        by: UserId,
        time: Millis,
    ) -> Result<Option<StoredMessage>, StoreError>;
    /// Raises `user`'s read mark in a conversation to `up_to`; false if it was there already.
    fn set_read(&self, user: UserId, conv: Target, up_to: u64) -> Result<bool, StoreError>;
    /// `user`'s read marks, with conversations named for the wire.
    fn reads(&self, user: UserId) -> Result<Vec<(Conv, u64)>, StoreError>;
}
