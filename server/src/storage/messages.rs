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

/// A committed message as a node delivers it to its own sessions (cluster mode, `service/relay.rs`):
/// the wire form and who is to get it.
#[derive(Debug, Clone)]
pub struct Committed {
    pub message: StoredMessage,
    pub sender: UserId,
    pub to: Target,
    /// Kept from its recipient: it goes to its sender's sessions only (see [`NewMessage::hidden`]).
    pub hidden: bool,
    /// Written through this store handle (this node), which delivers it itself as it commits it; a
    /// message from another node is delivered from here.
    pub mine: bool,
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
    /// Every conversation's messages with ids above `after`, oldest first, at most `limit`: what a node
    /// of a cluster delivers to its sessions from the others' commits. Recalled ones come back as
    /// [`Body::Gone`], as everywhere.
    fn committed(&self, after: u64, limit: u32) -> Result<Vec<Committed>, StoreError>;
    /// The newest message id (0: none yet): where a node starting starts delivering.
    fn newest_message_id(&self) -> Result<u64, StoreError>;
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

// What both backends share of reading and writing messages: the same columns, the same select and the
// same meaning of each column, so a backend maps only its own types.

/// The columns [`MessageRow`] holds, from `messages m` and the users `s` (sender) and `t` (recipient),
/// and the message it quotes or recalls (`q`) with its sender (`qs`): see [`MESSAGE_JOINS`].
pub(crate) const MESSAGE_COLS: &str = "m.id, s.account, m.kind, m.target, t.account, m.time, m.client_id, \
     m.text, m.file_id, m.file_size, m.file_sha256, m.file_name, m.reply_to, m.mentions, \
     m.recall_of, m.recalled, qs.account, q.text, q.file_name, q.recalled, m.event, m.event_account";

/// The joins [`MESSAGE_COLS`] reads from. For a message that neither quotes nor recalls, the join looks
/// up a NULL id and finds nothing at once.
pub(crate) const MESSAGE_JOINS: &str = "JOIN users s ON s.id = m.sender_id \
     LEFT JOIN users t ON m.kind = 0 AND t.id = m.target \
     LEFT JOIN messages q ON q.id = COALESCE(m.reply_to, m.recall_of) \
     LEFT JOIN users qs ON qs.id = q.sender_id";

/// `MESSAGE_COLS` of `messages m`, for a `WHERE` to follow.
pub(crate) fn message_select() -> String {
    format!("SELECT {MESSAGE_COLS} FROM messages m {MESSAGE_JOINS}")
}

/// [`MessageStore::committed`]'s select: [`MESSAGE_COLS`] then the sender's id and the hidden flag,
/// (and, if `origin`, the node that wrote it: PostgreSQL's; SQLite has one server), every message above `$1`/`?1`, at most `$2`/`?2`.
pub(crate) fn committed_select(placeholder: char, origin: bool) -> String {
    let origin = if origin { ", m.origin" } else { "" };
    format!(
        "SELECT {MESSAGE_COLS}, m.sender_id, m.hidden{origin} FROM messages m {MESSAGE_JOINS} \
         WHERE m.id > {placeholder}1 ORDER BY m.id LIMIT {placeholder}2"
    )
}

/// A message's target from its `kind` and `target` columns.
pub(crate) fn target_of(kind: i64, target: i64) -> Target {
    if kind == 0 {
        Target::User(target)
    } else {
        Target::Group(target)
    }
}

/// One row of [`message_select`], in column order, as the backend read it.
#[derive(Debug, Default)]
pub(crate) struct MessageRow {
    pub id: i64,
    pub from: String,
    /// 0: private, 1: group.
    pub kind: i64,
    pub target: i64,
    pub to_account: Option<String>,
    pub time: i64,
    pub client_id: String,
    pub text: Option<String>,
    pub file_id: Option<i64>,
    pub file_size: Option<i64>,
    pub file_sha256: Option<String>,
    pub file_name: Option<String>,
    pub reply_to: Option<i64>,
    pub mentions: Option<String>,
    pub recall_of: Option<i64>,
    pub recalled: bool,
    pub quoted_from: Option<String>,
    pub quoted_text: Option<String>,
    pub quoted_file_name: Option<String>,
    /// `None`: the quoted message is gone (with its group).
    pub quoted_recalled: Option<bool>,
    pub event: Option<String>,
    pub event_account: Option<String>,
}

impl MessageRow {
    /// The message as the wire shows it.
    pub(crate) fn into_message(self) -> StoredMessage {
        let to = if self.kind == 0 {
            Conv::User(self.to_account.unwrap_or_default())
        } else {
            Conv::Group(self.target as u64)
        };
        let reply_to = self.reply_to.map(|id| id as u64);
        let body = if self.recalled {
            Body::Gone
        } else if let Some(kind) = self.event.as_deref().and_then(GroupEventKind::parse) {
            Body::Event {
                kind,
                account: self.event_account.unwrap_or_default(),
                value: self.text.unwrap_or_default(),
            }
        } else if self.event.is_some() {
            // A kind from a newer server: kept in the history's count, as a recalled message is, never sent.
            Body::Gone
        } else if let Some(target) = self.recall_of {
            Body::Recall {
                target: target as u64,
                target_from: self.quoted_from.unwrap_or_default(),
            }
        } else if let Some(file_id) = self.file_id {
            Body::File(FileInfo {
                file_id: file_id as u64,
                size: self.file_size.unwrap_or(0) as u64,
                sha256: self.file_sha256.unwrap_or_default(),
                name: self.file_name.unwrap_or_default(),
            })
        } else if reply_to.is_some() || self.mentions.is_some() {
            // A quoted message recalled since (or gone with its group) quotes nothing.
            let quote = reply_to.map(|id| Quote {
                id,
                from: self.quoted_from.unwrap_or_default(),
                text: if self.quoted_recalled.unwrap_or(true) {
                    String::new()
                } else {
                    quoted(
                        self.quoted_text.as_deref(),
                        self.quoted_file_name.as_deref(),
                    )
                },
            });
            Body::Said(Said {
                text: self.text.unwrap_or_default(),
                reply_to,
                mentions: self
                    .mentions
                    .as_deref()
                    .and_then(Mentions::from_field)
                    .unwrap_or_default(),
                quote,
            })
        } else {
            Body::Text(self.text.unwrap_or_default())
        };
        StoredMessage {
            id: self.id as u64,
            from: self.from,
            to,
            time: self.time as Millis,
            client_id: self.client_id,
            body,
        }
    }
}

/// What a quote shows of a message: the start of its text, or `[<file name>]` for a file.
pub(crate) fn quoted(text: Option<&str>, file_name: Option<&str>) -> String {
    match (text, file_name) {
        (Some(text), _) => excerpt(text),
        (None, Some(name)) => format!("[{name}]"),
        (None, None) => String::new(),
    }
}

/// A new message's columns, as both backends insert them.
#[derive(Debug)]
pub(crate) struct MessageColumns<'a> {
    pub kind: i16,
    pub target: i64,
    pub conv: i64,
    pub text: Option<&'a str>,
    pub file: Option<&'a FileInfo>,
    pub reply_to: Option<i64>,
    pub mentions: Option<String>,
    pub recall_of: Option<i64>,
    pub event: Option<&'static str>,
    pub event_account: Option<&'a str>,
}

impl<'a> MessageColumns<'a> {
    pub(crate) fn of(msg: &'a NewMessage) -> Self {
        let (kind, target, conv) = match msg.to {
            Target::User(to) => (0, to, pair_key(msg.sender, to)),
            Target::Group(g) => (1, g, g),
        };
        let (text, file) = match &msg.body {
            Body::Text(t) => (Some(t.as_str()), None),
            Body::Said(said) => (Some(said.text.as_str()), None),
            Body::File(f) => (None, Some(f)),
            Body::Event { value, .. } => (Some(value.as_str()), None),
            Body::Recall { .. } | Body::Gone => (None, None),
        };
        let (event, event_account) = match &msg.body {
            Body::Event { kind, account, .. } => (Some(kind.as_str()), Some(account.as_str())),
            _ => (None, None),
        };
        let (reply_to, mentions) = match &msg.body {
            Body::Said(said) => (
                said.reply_to.map(|id| id as i64),
                (!said.mentions.is_empty()).then(|| said.mentions.to_field()),
            ),
            _ => (None, None),
        };
        let recall_of = match &msg.body {
            Body::Recall { target, .. } => Some(*target as i64),
            _ => None,
        };
        MessageColumns {
            kind,
            target,
            conv,
            text,
            file,
            reply_to,
            mentions,
            recall_of,
            event,
            event_account,
        }
    }
}

/// [`MessageStore::store_messages`] as a backend does it: the whole batch in one transaction (`all`),
/// and if that fails as a whole, each message in a transaction of its own (`one`), so one bad message
/// cannot fail the others.
pub(crate) fn batch_or_each<C: ?Sized>(
    conn: &mut C,
    batch: &[NewMessage],
    all: impl FnOnce(&mut C) -> Result<Vec<Stored>, StoreError>,
    mut one: impl FnMut(&mut C, &NewMessage) -> Result<Stored, StoreError>,
) -> Vec<Result<Stored, StoreError>> {
    if batch.len() > 1 {
        match all(conn) {
            Ok(stored) => return stored.into_iter().map(Ok).collect(),
            Err(e) => {
                tracing::warn!(error = %e, messages = batch.len(), "batch failed; storing one by one")
            }
        }
    }
    batch.iter().map(|m| one(conn, m)).collect()
}

/// A client's id bound (a sync cursor, a history page's `before`) as the database's `i64`. Ids are `u64`
/// on the wire; one of 2^63 or more, cast, wrapped to a negative id and `SYNC:` sent the whole history
/// from the start (issue 20, item 13). No stored id is that large, so it clamps to the largest `i64`,
/// which is past every message too.
pub(crate) fn id_bound(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// Private conversations are keyed by both user ids, lower first, so either side finds the same rows.
pub(crate) fn pair_key(a: UserId, b: UserId) -> i64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    (lo << 32) | (hi & 0xffff_ffff)
}
