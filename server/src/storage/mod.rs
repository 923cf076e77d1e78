//! Storage: the trait the service layer owns, and its records.
//!
//! The service reaches the database only through [`Store`], so another backend (PostgreSQL) can come later.
//! Methods are blocking; the service calls them on tokio's blocking pool, never on the async runtime.
//! [`sqlite::SqliteStore`] is the default implementation.

pub mod sqlite;

use ququ_protocol::{
    Conv, FileInfo, GroupEventKind, JoinPolicy, Mentions, Millis, Profile, ProfileChange, Quote,
    Role,
};

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (account name taken, …).
    #[error("already exists")]
    Conflict,
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database at {path} cannot be used: {reason}")]
    Unusable { path: String, reason: String },
    #[error("database schema version {found} is newer than this server understands ({supported})")]
    TooNew { found: i64, supported: i64 },
    #[error("database lock poisoned by a panic")]
    Poisoned,
}

// Issue 20, item 10: a full disk.
impl StoreError {
    /// The disk is full: SQLite's `SQLITE_FULL`. (A full disk can also show as a plain I/O error, when
    /// SQLite cannot grow its shared-memory file; the service tells those apart by the free space.)
    pub fn is_full(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DiskFull
        )
    }

    /// An I/O error from SQLite, which on a full disk may mean just that.
    pub fn is_io(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::SystemIoFailure
        )
    }
}

pub type UserId = i64;
pub type GroupId = i64;

/// The numbers a new group is given, at random: ten digits, like a QQ group's. Numbers handed out one
/// after another let anyone walk them (`GROUP_JOIN:1`, `:2`, …); nine billion of them do not, at the rate
/// the server lets one account try. Groups made before numbers were random keep theirs.
pub const GROUP_IDS: std::ops::Range<GroupId> = 1_000_000_000..10_000_000_000;

/// An account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub account: String,
    pub nickname: String,
    pub password_hash: String,
    pub created: Millis,
    pub disabled: bool,
    /// What they show others besides the nickname: signature, gender, region.
    pub profile: Profile,
    /// The SHA-256 of their avatar picture (see [`Store::set_avatar`]); `None`: the default picture.
    pub avatar: Option<String>,
}

/// A friend as one user sees them.
#[derive(Debug, Clone)]
pub struct FriendRecord {
    pub user: UserRecord,
    /// The viewing user's private alias for this friend; empty if none.
    pub remark: String,
    /// The viewing user's friend group (好友分组) they are in; 0 is the default group.
    pub category: u64,
}

/// Why a change to a user's friend groups was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryRefusal {
    /// The user has no group with that id (0, the default, is never renamed or deleted).
    NoSuch,
    /// The user has a group with that name already.
    Exists,
    /// The user has as many groups as allowed.
    TooMany,
    /// The account to move is not the user's friend.
    NotFriends,
    /// A new order names this id, which is not one of the user's groups.
    NoSuchIn(u64),
    /// A new order leaves a group out or names one twice.
    NotEveryOne,
}

/// A pending friend request.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub from: UserRecord,
    pub note: String,
    pub time: Millis,
}

/// A friend request someone sent, as its sender sees it.
#[derive(Debug, Clone)]
pub struct SentRecord {
    pub to: UserRecord,
    pub time: Millis,
}

/// A group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    pub id: GroupId,
    pub name: String,
    pub owner: UserId,
    pub owner_account: String,
    pub members: u32,
    pub policy: JoinPolicy,
    /// The whole group is muted: only the owner and admins speak (issue 25).
    pub mute_all: bool,
    /// The announcement (群公告); empty if none.
    pub notice: String,
    /// Who set it (their account; empty if nobody ever did), and when.
    pub notice_by: String,
    pub notice_time: Millis,
    /// The SHA-256 of the group's avatar picture; `None`: the default picture.
    pub avatar: Option<String>,
}

/// Whose avatar [`Store::set_avatar`] changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvatarOwner {
    User(UserId),
    Group(GroupId),
}

/// An avatar picture as stored: its bytes (a PNG or JPEG, checked by the service) and their SHA-256 in
/// lower-case hex, which names it.
#[derive(Debug, Clone)]
pub struct Avatar {
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// A group member.
#[derive(Debug, Clone)]
pub struct MemberRecord {
    pub user: UserRecord,
    pub role: Role,
    /// Until when (milliseconds since the epoch) they may not speak in the group; 0 if never muted. A time
    /// in the past is an ended mute.
    pub muted_until: Millis,
}

/// Who may not speak in a group (issue 25): what the message writer checks a sender against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Silence {
    /// The whole group is muted: only the owner and admins speak.
    pub all: bool,
    /// The owner and the admins, sorted: they speak even in a muted group, and are never muted one by one.
    pub managers: Vec<UserId>,
    /// Plain members muted one by one, sorted by id, with until when; ended mutes may be among them.
    pub muted: Vec<(UserId, Millis)>,
}

impl Silence {
    /// Until when `user` may not speak at `now`: `Some(0)` while the whole group is muted, `None` if they
    /// may speak.
    pub fn muted_until(&self, user: UserId, now: Millis) -> Option<Millis> {
        if self.managers.binary_search(&user).is_ok() {
            return None;
        }
        let mine = self
            .muted
            .binary_search_by_key(&user, |(u, _)| *u)
            .ok()
            .map(|i| self.muted[i].1)
            .filter(|until| *until > now);
        match mine {
            Some(until) => Some(until),
            None if self.all => Some(0),
            None => None,
        }
    }
}

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
    /// by [`Store::messages_after`], [`Store::history`] or [`Store::visible_message`].
    pub hidden: bool,
}

/// Where a message goes, by internal id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    User(UserId),
    Group(GroupId),
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

/// The result of [`Store::store_message`].
#[derive(Debug, Clone)]
pub struct Stored {
    pub message: StoredMessage,
    /// True if this (sender, client_id) was stored before; nothing new was written.
    pub duplicate: bool,
}

/// One row of the connection-info table the original server kept: who is connected from where.
#[derive(Debug, Clone)]
pub struct ConnectionRecord {
    pub conn_id: u64,
    pub account: Option<String>,
    pub ip: String,
    pub port: u16,
    pub since: Millis,
}

/// Where a relayed file stands on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    /// Offered; bytes are still arriving.
    Uploading,
    /// Every byte is here and verified; it is a message in its conversation.
    Uploaded,
    Cancelled,
    Expired,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Uploading => "uploading",
            FileStatus::Uploaded => "uploaded",
            FileStatus::Cancelled => "cancelled",
            FileStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "uploading" => FileStatus::Uploading,
            "uploaded" => FileStatus::Uploaded,
            "cancelled" => FileStatus::Cancelled,
            "expired" => FileStatus::Expired,
            _ => return None,
        })
    }

    /// Still taking space on disk.
    pub fn is_live(self) -> bool {
        matches!(self, FileStatus::Uploading | FileStatus::Uploaded)
    }
}

/// A file offered for relay.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub sender: UserId,
    pub client_id: String,
    pub to: Target,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub created: Millis,
    pub expires: Millis,
}

/// A relayed file as stored.
#[derive(Debug, Clone)]
pub struct FileRecord {
    pub id: u64,
    pub sender: UserId,
    pub client_id: String,
    pub to: Target,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub status: FileStatus,
    pub created: Millis,
    pub expires: Millis,
}

/// A request to end an account's live sessions (issue 20, item 2): see [`Store::end_sessions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEnd {
    pub user: UserId,
    /// The `BYE:` code, e.g. `disabled`.
    pub code: String,
    /// Sessions that logged in after this (milliseconds since the epoch) were checked against the
    /// change already, and stay.
    pub at: Millis,
}

/// Everything the service needs from a database. Every method is one transaction.
pub trait Store: Send + Sync + 'static {
    // Accounts.
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
    /// Sets (or, with `None`, clears) a user's or group's avatar. The picture is stored once by its digest
    /// however many show it; the one it replaces is deleted if nobody shows it any more, so the table holds
    /// only pictures someone has.
    fn set_avatar(&self, of: AvatarOwner, image: Option<&Avatar>) -> Result<(), StoreError>;
    /// The picture with this digest, if anyone shows it.
    fn avatar(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError>;
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

    // The connection-info table.
    fn clear_connections(&self) -> Result<(), StoreError>;
    fn add_connection(&self, conn: &ConnectionRecord) -> Result<(), StoreError>;
    fn set_connection_user(&self, conn_id: u64, user: UserId) -> Result<(), StoreError>;
    fn remove_connection(&self, conn_id: u64) -> Result<(), StoreError>;
    fn connections(&self) -> Result<Vec<ConnectionRecord>, StoreError>;

    // Friends.
    /// Records or refreshes a request from `from` to `to` (and forgets an earlier refusal by `to`).
    /// `hidden`: `to` blocks `from`, so the request is kept for `from`'s list of requests waiting and
    /// never shown to `to` — not by [`Store::requests_to`], [`Store::has_request`] or
    /// [`Store::take_request`], which see only requests that are not hidden.
    fn put_request(
        &self,
        from: UserId,
        to: UserId,
        note: &str,
        now: Millis,
        hidden: bool,
    ) -> Result<(), StoreError>;
    fn requests_to(&self, to: UserId) -> Result<Vec<RequestRecord>, StoreError>;
    /// `from`'s requests that have no answer yet, oldest first.
    fn requests_from(&self, from: UserId) -> Result<Vec<SentRecord>, StoreError>;
    /// Whether `from` has a pending request to `to`.
    fn has_request(&self, from: UserId, to: UserId) -> Result<bool, StoreError>;
    /// Deletes the request; false if there was none.
    fn take_request(&self, from: UserId, to: UserId) -> Result<bool, StoreError>;
    /// Remembers that `to` declined `from`'s request, for `from` to hear when next listing requests.
    fn put_declined(&self, from: UserId, to: UserId, now: Millis) -> Result<(), StoreError>;
    /// The accounts that declined `from`'s requests since `from` last heard, oldest first; forgotten
    /// once returned.
    fn take_declined(&self, from: UserId) -> Result<Vec<String>, StoreError>;
    /// Forgets that `to` declined `from`'s request (`from` heard it as it happened).
    fn forget_declined(&self, from: UserId, to: UserId) -> Result<(), StoreError>;
    /// Makes two users friends and deletes requests (and refusals) between them in either direction.
    fn add_friendship(&self, a: UserId, b: UserId, now: Millis) -> Result<(), StoreError>;
    /// False if they were not friends.
    fn remove_friendship(&self, a: UserId, b: UserId) -> Result<bool, StoreError>;
    fn are_friends(&self, a: UserId, b: UserId) -> Result<bool, StoreError>;
    fn friends(&self, user: UserId) -> Result<Vec<FriendRecord>, StoreError>;
    fn friend_count(&self, user: UserId) -> Result<u32, StoreError>;
    fn set_remark(&self, user: UserId, friend: UserId, remark: &str) -> Result<bool, StoreError>;
    fn friend(&self, user: UserId, friend: UserId) -> Result<Option<FriendRecord>, StoreError>;

    // Friend groups (好友分组): a user's own, as remarks are. A friendship's row keeps the group its
    // user put the friend in, so ending the friendship forgets it.
    /// `user`'s groups in their order (the order they were made, until reordered), as `(id, name)`.
    fn categories(&self, user: UserId) -> Result<Vec<(u64, String)>, StoreError>;
    /// A new group last in order, unless `user` has one of that name or `max` groups already.
    fn add_category(
        &self,
        user: UserId,
        name: &str,
        max: u32,
    ) -> Result<Result<u64, CategoryRefusal>, StoreError>;
    fn rename_category(
        &self,
        user: UserId,
        category: u64,
        name: &str,
    ) -> Result<Result<(), CategoryRefusal>, StoreError>;
    /// Puts `user`'s groups in this order, which must name each of them once.
    fn order_categories(
        &self,
        user: UserId,
        order: &[u64],
    ) -> Result<Result<(), CategoryRefusal>, StoreError>;
    /// Deletes the group and puts its friends back in the default group; false if `user` had no such group.
    fn delete_category(&self, user: UserId, category: u64) -> Result<bool, StoreError>;
    /// Puts `friend` into `user`'s group `category` (0: the default) and returns them as `user` sees them.
    fn move_friend(
        &self,
        user: UserId,
        friend: UserId,
        category: u64,
    ) -> Result<Result<FriendRecord, CategoryRefusal>, StoreError>;

    // The block list (拉黑).
    /// `user` blocks `other` from `now` (blocking again keeps the first time). A friend request of
    /// `other`'s waiting for `user` is hidden from then on, as one made during the block would be. Returns
    /// the time the block holds since, and whether such a request was waiting.
    fn block(&self, user: UserId, other: UserId, now: Millis)
    -> Result<(Millis, bool), StoreError>;
    /// False if `user` did not block `other`.
    fn unblock(&self, user: UserId, other: UserId) -> Result<bool, StoreError>;
    /// Whether `user` blocks `other`.
    fn blocks(&self, user: UserId, other: UserId) -> Result<bool, StoreError>;
    /// The accounts `user` blocks, with when, by account name.
    fn blocked(&self, user: UserId) -> Result<Vec<(UserRecord, Millis)>, StoreError>;

    // Groups.
    /// Creates a group under a new random number (see [`GROUP_IDS`]) with `owner` as its first member.
    fn create_group(
        &self,
        owner: UserId,
        name: &str,
        now: Millis,
    ) -> Result<GroupRecord, StoreError>;
    fn group(&self, id: GroupId) -> Result<Option<GroupRecord>, StoreError>;
    fn groups_of(&self, user: UserId) -> Result<Vec<GroupRecord>, StoreError>;
    fn rename_group(&self, id: GroupId, name: &str) -> Result<(), StoreError>;
    /// Deletes the group, its memberships and its messages.
    fn delete_group(&self, id: GroupId) -> Result<(), StoreError>;
    /// Adds a member who sees messages from now on; `None` if already a member, else when their mute
    /// ends (0: not muted): a plain member who left (or was removed) while muted comes back muted until
    /// the same time, if that is after `now`.
    fn add_member(
        &self,
        group: GroupId,
        user: UserId,
        role: Role,
        now: Millis,
    ) -> Result<Option<Millis>, StoreError>;
    /// Removes a member (false if they were not one), keeping a mute of theirs that runs past `now` for
    /// their return (see [`Store::add_member`]).
    fn remove_member(&self, group: GroupId, user: UserId, now: Millis) -> Result<bool, StoreError>;
    fn role(&self, group: GroupId, user: UserId) -> Result<Option<Role>, StoreError>;
    fn members(&self, group: GroupId) -> Result<Vec<MemberRecord>, StoreError>;
    /// Just the members' ids: what fan-out needs, without loading their records.
    fn member_ids(&self, group: GroupId) -> Result<Vec<UserId>, StoreError>;
    fn set_join_policy(&self, group: GroupId, policy: JoinPolicy) -> Result<(), StoreError>;
    /// Sets a member's role (admin or plain member; never owner, see [`Store::transfer_group`]); false
    /// if they are not a member.
    fn set_role(&self, group: GroupId, user: UserId, role: Role) -> Result<bool, StoreError>;
    /// Makes member `to` the owner of `group` and its owner `from` a plain member, in one transaction.
    fn transfer_group(&self, group: GroupId, from: UserId, to: UserId) -> Result<(), StoreError>;
    /// Mutes a plain member until `until` (0 lifts it); false if they are not a plain member. The mute
    /// holds if they leave or are removed and come back before it ends.
    fn set_muted(&self, group: GroupId, user: UserId, until: Millis) -> Result<bool, StoreError>;
    fn set_mute_all(&self, group: GroupId, on: bool) -> Result<(), StoreError>;
    /// Sets the group's announcement (empty clears it), as set by `by` at `time`.
    fn set_notice(
        &self,
        group: GroupId,
        by: UserId,
        text: &str,
        time: Millis,
    ) -> Result<(), StoreError>;
    /// Who may not speak in `group`.
    fn silence(&self, group: GroupId) -> Result<Silence, StoreError>;
    /// Records (or refreshes) `user`'s request to join `group`; true if it is new.
    fn put_join_request(
        &self,
        group: GroupId,
        user: UserId,
        time: Millis,
    ) -> Result<bool, StoreError>;
    /// Deletes the request; false if there was none.
    fn take_join_request(&self, group: GroupId, user: UserId) -> Result<bool, StoreError>;
    /// The requests to join the groups `manager` owns or administers, oldest first.
    fn join_requests(
        &self,
        manager: UserId,
    ) -> Result<Vec<(GroupId, UserRecord, Millis)>, StoreError>;
    /// The owner and admins of `group`.
    fn managers(&self, group: GroupId) -> Result<Vec<UserId>, StoreError>;
    /// Remembers that `user` was removed from `group`: they may not join it again by its number.
    fn mark_removed(&self, group: GroupId, user: UserId, now: Millis) -> Result<(), StoreError>;
    fn was_removed(&self, group: GroupId, user: UserId) -> Result<bool, StoreError>;
    /// Forgets a removal: `user` was invited again.
    fn forget_removed(&self, group: GroupId, user: UserId) -> Result<(), StoreError>;
    /// Whether `user`, a member of `group` now, was one when the file message sent by `sender` under
    /// `client_id` was stored, as [`Store::history`] decides for messages: a newcomer does not get the
    /// files offered before they joined.
    fn sees_group_file(
        &self,
        group: GroupId,
        user: UserId,
        sender: UserId,
        client_id: &str,
    ) -> Result<bool, StoreError>;

    // Relayed files.
    /// Records an offer; [`StoreError::Conflict`] if (sender, client_id) was offered before.
    fn create_file(&self, file: &NewFile) -> Result<FileRecord, StoreError>;
    fn file(&self, id: u64) -> Result<Option<FileRecord>, StoreError>;
    fn file_by_client_id(
        &self,
        sender: UserId,
        client_id: &str,
    ) -> Result<Option<FileRecord>, StoreError>;
    fn set_file_status(&self, id: u64, status: FileStatus) -> Result<(), StoreError>;
    /// Bytes of live files a user has offered, counted against their quota.
    fn file_bytes_used(&self, sender: UserId) -> Result<u64, StoreError>;
    /// Live files whose lifetime has passed.
    fn files_expired(&self, now: Millis) -> Result<Vec<FileRecord>, StoreError>;
    /// Whether any live file still has this content (blobs are shared by content).
    fn blob_in_use(&self, sha256: &str) -> Result<bool, StoreError>;

    // Messages.
    /// Stores a message, or returns the earlier copy with the same (sender, client_id).
    fn store_message(&self, msg: &NewMessage) -> Result<Stored, StoreError>;
    /// Stores many messages, as [`Store::store_message`] does each, with one result per message in order.
    /// A backend should write them in one transaction (group commit: the cost of a commit is shared) and,
    /// if that fails, fall back to one at a time, so a bad message fails only itself. Within a batch a
    /// second copy of (sender, client_id) is a duplicate of the first. Returns once every `Ok` is durable.
    fn store_messages(&self, batch: &[NewMessage]) -> Vec<Result<Stored, StoreError>> {
        batch.iter().map(|m| self.store_message(m)).collect()
    }
    /// Background upkeep the backend wants done off the request path, called every second or so from
    /// the blocking pool while requests go on (SQLite: a WAL checkpoint). Nothing by default.
    fn maintain(&self) -> Result<(), StoreError> {
        Ok(())
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

    // Issue 20, item 2: ending an account's live sessions from another process (the operator's commands
    // run beside the server on the same database).
    /// Asks the running server to end every live session of `user` that logged in at or before `at`
    /// with `BYE:<code>:…`.
    fn end_sessions(&self, user: UserId, code: &str, at: Millis) -> Result<(), StoreError>;
    /// The requests of [`Store::end_sessions`] not taken yet, oldest first; they are forgotten once
    /// returned. The server calls it once a second.
    fn take_session_ends(&self) -> Result<Vec<SessionEnd>, StoreError>;

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
