//! What the client tells its user interface: the [`Event`] stream and the values it carries.
//!
//! Every event is something a person could notice: the connection came or went, a message arrived or changed
//! state, a friend came online, a list was refreshed. Events come in the order the client learned of them; a
//! user interface that applies them in order stays consistent with the local store ([`crate::Store`]), which
//! has already been updated by the time an event is sent.

use std::time::{Duration, SystemTime};

use ququ_protocol::{
    Conv, ErrorCode, Features, FileInfo, GoneReason, GroupEvent, JoinPolicy, Limits, Mentions,
    Millis, Presence, Profile, Quote, Role,
};

use crate::transfer::{Transfer, TransferId};

/// Where a message stands, from this device's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageState {
    /// Mine, stored locally, not yet acknowledged by the server. It is resent after every reconnect and after
    /// a restart until the server acknowledges or refuses it.
    Pending,
    /// Mine, and stored by the server (it has a server id).
    Sent,
    /// Mine, and refused by the server or by a local check; [`crate::Handle::retry`] sends it again.
    Failed,
    /// Someone else's.
    Received,
}

impl MessageState {
    /// The state of a row the server stored: mine once sent, or someone else's.
    pub(crate) fn stored(mine: bool) -> MessageState {
        if mine {
            MessageState::Sent
        } else {
            MessageState::Received
        }
    }

    pub(crate) fn to_db(self) -> i64 {
        match self {
            MessageState::Pending => 0,
            MessageState::Sent => 1,
            MessageState::Failed => 2,
            MessageState::Received => 3,
        }
    }

    pub(crate) fn from_db(v: i64) -> MessageState {
        match v {
            0 => MessageState::Pending,
            1 => MessageState::Sent,
            2 => MessageState::Failed,
            _ => MessageState::Received,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Pending => "pending",
            MessageState::Sent => "sent",
            MessageState::Failed => "failed",
            MessageState::Received => "received",
        }
    }
}

/// One message as stored on this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// This device's id for the message: stable for its lifetime, the cursor for [`crate::Store::messages`].
    pub local_id: i64,
    pub conv: Conv,
    /// The server's id, once the server has stored it.
    pub server_id: Option<u64>,
    /// The sender's id for the message (empty for messages from old servers that have none).
    pub client_id: String,
    /// The sender's account.
    pub from: String,
    /// Milliseconds since the Unix epoch: the server's time once sent, this device's time while pending.
    pub time: Millis,
    /// The text; for a file message, the file's name.
    pub text: String,
    /// A file offered in the conversation (`FileTran:`): download it with
    /// [`crate::Handle::download_file`]`(file.file_id, …)`.
    pub file: Option<FileInfo>,
    pub state: MessageState,
    /// Why a failed message failed, for display.
    pub error: Option<String>,
    /// The message this one answers (a reply, `SAID:`): its server id, sender and the start of its text.
    /// The text is empty once the quoted message has been recalled.
    pub quote: Option<Quote>,
    /// Who this group message mentions (`@`); empty for most messages. See [`Message::mentions_me`].
    pub mentions: Mentions,
    /// This message was recalled, by this account (its sender, or the group's owner or an admin): its text (and its
    /// file) is gone, from the server and from this device. Show "recalled" in its place.
    pub recalled_by: Option<String>,
    /// Not a message but the record of a recall whose message this device never had: [`Message::from`]
    /// recalled a message in this conversation ("alice recalled a message"). Its text is empty.
    pub recall_of: Option<RecallOf>,
    /// Not a message but a change to its group (`GROUP_EVENT:`): [`Message::from`] invited, removed,
    /// renamed, muted… as the [`GroupEvent`] says. Show it as a line of its own in the chat, where it
    /// happened, not as a bubble. Its text is empty; it never counts as unread and search never finds it.
    pub group_event: Option<GroupEvent>,
}

/// The message a recall record ([`Message::recall_of`]) is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecallOf {
    /// The recalled message's server id.
    pub target: u64,
    /// Its sender (the recall's sender differs when a group's owner or an admin recalled it).
    pub target_from: String,
}

impl Message {
    /// True if this device's user sent it.
    pub fn is_mine(&self) -> bool {
        self.state != MessageState::Received
    }

    /// Whether this message mentions `account` (by name or by `@all`), for marking it.
    pub fn mentions_me(&self, account: &str) -> bool {
        self.mentions.includes(account)
    }

    /// True if its content is gone: a recalled message, or the record of a recall.
    pub fn is_recalled(&self) -> bool {
        self.recalled_by.is_some() || self.recall_of.is_some()
    }
}

/// A conversation in the local store, for the conversation list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub conv: Conv,
    /// What to call it: a friend's remark, else nickname, else account; a group's name, else its id.
    pub title: String,
    pub unread: u32,
    /// The newest row: a message, or a record of a recall or a group's change (say it in words).
    pub last_message: Option<Message>,
}

/// A friend as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Friend {
    pub account: String,
    pub nickname: String,
    /// My private alias for them; empty if none.
    pub remark: String,
    pub presence: Presence,
    /// Their signature (个性签名, shown under the name), gender and region; empty from a server without
    /// the `PROFILE` feature.
    pub profile: Profile,
    /// The friend group (好友分组) I keep them in: a [`Category`]'s id, or 0 for the default group (also
    /// from a server without the `CATEGORY` feature).
    pub category: u64,
}

/// One of my friend groups (好友分组), besides the default group (id 0, "我的好友", which every user has,
/// first). Kept on the server, so every device of mine has the same ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: u64,
    pub name: String,
}

impl Friend {
    /// The name to show: the remark, else the nickname, else the account.
    pub fn display_name(&self) -> &str {
        [&self.remark, &self.nickname, &self.account]
            .into_iter()
            .find(|s| !s.is_empty())
            .map_or("", |s| s.as_str())
    }

    /// Whether a search-box query matches the remark, nickname or account, ignoring case.
    pub fn matches(&self, query: &str) -> bool {
        let query = query.to_lowercase();
        [&self.remark, &self.nickname, &self.account]
            .into_iter()
            .any(|s| s.to_lowercase().contains(&query))
    }
}

/// Someone who wants to be my friend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FriendRequest {
    pub from: String,
    pub nickname: String,
    pub note: String,
    pub time: Millis,
}

/// A friend request of mine that has no answer yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRequest {
    pub to: String,
    pub nickname: String,
    pub time: Millis,
}

/// One user search result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundUser {
    pub account: String,
    pub nickname: String,
    pub presence: Presence,
}

/// Someone I block (拉黑): nothing they send me privately reaches me.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedUser {
    pub account: String,
    pub nickname: String,
    /// Since when, in ms since the epoch.
    pub time: Millis,
}

/// A group I am in, as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: u64,
    pub name: String,
    pub owner: String,
    pub members: u32,
}

/// A group member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub group: u64,
    pub account: String,
    pub nickname: String,
    pub role: Role,
    pub presence: Presence,
    /// Muted (禁言) until this time, in ms since the epoch; 0: not muted. (From a server with the
    /// `GROUP_MUTE` feature; 0 from others.)
    pub muted_until: Millis,
    /// Their signature, gender and region; empty from a server without the `PROFILE` feature.
    pub profile: Profile,
}

impl Member {
    /// The name to show: the nickname, else the account.
    pub fn display_name(&self) -> &str {
        if self.nickname.is_empty() {
            &self.account
        } else {
            &self.nickname
        }
    }
}

/// Why the client stopped for good (it will not reconnect by itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// [`crate::Handle::shutdown`] was called, or every handle was dropped.
    Shutdown,
    /// [`crate::Handle::logout`] was called; the server revoked the session.
    LoggedOut,
    /// The server refused the account or password (`bad_credentials`, `disabled`, …). Retrying cannot help.
    LoginRefused { code: ErrorCode, text: String },
    /// The session token the client started from ([`crate::Config::token`]) was refused — it expired,
    /// or a logout or password change elsewhere revoked it — and there is no password to fall back on.
    /// Forget the saved token and ask for the password.
    SessionExpired,
    /// Registration failed for a reason retrying cannot fix (`invalid_account`, `invalid_password`, …).
    RegisterRefused { code: ErrorCode, text: String },
    /// The local database could not be opened or written.
    Storage(String),
    /// The server's TLS certificate is not one a known authority signed, and this computer has not
    /// pinned it. Show `fingerprint` and, if the user says it is the server's, [`crate::tls::trust`] it
    /// and start again.
    UnknownCertificate { server: String, fingerprint: String },
    /// The server's certificate is not the one pinned for it: someone may be impersonating the server.
    /// Only if the operator confirms a new certificate, [`crate::tls::forget`] the old one.
    CertificateChanged {
        server: String,
        pinned: String,
        presented: String,
    },
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Shutdown => f.write_str("shut down"),
            StopReason::LoggedOut => f.write_str("logged out"),
            StopReason::LoginRefused { code, text } => write!(f, "login refused ({code}): {text}"),
            StopReason::SessionExpired => {
                f.write_str("the saved login has expired; log in with the password")
            }
            StopReason::RegisterRefused { code, text } => {
                write!(f, "registration refused ({code}): {text}")
            }
            StopReason::Storage(e) => write!(f, "local storage failed: {e}"),
            StopReason::UnknownCertificate {
                server,
                fingerprint,
            } => write!(
                f,
                "{server} presents a certificate not seen before; fingerprint {fingerprint}"
            ),
            StopReason::CertificateChanged {
                server,
                pinned,
                presented,
            } => write!(
                f,
                "the certificate of {server} has CHANGED: pinned {pinned}, presented {presented}"
            ),
        }
    }
}

/// Everything the client reports. See the module docs.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A connection attempt started. `attempt` counts attempts since the last good connection, from 1.
    Connecting { attempt: u32 },
    /// The TCP connection is up; logging in follows.
    Connected,
    /// The account was created on the server (only with [`crate::Config::register`]).
    Registered { account: String },
    /// Logged in (by password or by resuming the session). Sync and list refreshes follow.
    LoggedIn {
        account: String,
        nickname: String,
        user_id: u64,
        limits: Limits,
        /// The session's token, for a user interface that logs in automatically next time (give it
        /// back as [`crate::Config::token`]); `None` from a server that hands out none.
        token: Option<crate::SessionToken>,
        /// What this server does of the newer lines (replies and mentions, recalls, read marks, typing).
        /// All `false` on a server older than them: grey out Reply and Recall there (the handle's
        /// [`crate::Handle::send_reply`] and [`crate::Handle::recall`] fail with a message saying so).
        features: Features,
    },
    /// The server's answer about [`Features`] came only after [`Event::LoggedIn`] (which then said none):
    /// these are the ones it has.
    Features(Features),
    /// Everything the server had for me while I was away has been fetched and stored.
    Synced {
        /// Messages that were new to this device.
        new_messages: usize,
    },
    /// The connection was lost or could not be made; the client retries by itself.
    Disconnected {
        reason: String,
        /// How long until the next attempt.
        retry_in: Duration,
        /// When the next attempt starts (wall clock, for display).
        retry_at: SystemTime,
    },
    /// The client stopped and will not reconnect; the event stream ends after this.
    Stopped(StopReason),
    /// A message new to this device: received, or queued by me (then [`MessageState::Pending`]).
    Message(Message),
    /// One of my messages changed state: pending → sent or failed, or failed → pending on retry.
    MessageState(Message),
    /// A conversation's unread count changed (new message, marked read here, or read on another of my
    /// devices: a `READ:` mark from the server).
    Unread { conv: Conv, unread: u32 },
    /// A page of server history for one conversation, oldest first; answer to [`crate::Handle::load_history`].
    /// Like the local history, it holds rows that are no messages: records of recalls
    /// ([`Message::recall_of`]) and a group's changes ([`Message::group_event`]).
    History {
        conv: Conv,
        messages: Vec<Message>,
        /// True if the server has older messages.
        more: bool,
    },
    /// Results of [`crate::Handle::search`] over local history, newest first.
    SearchResults {
        query: String,
        messages: Vec<Message>,
    },
    /// A friend came online or went offline.
    Presence { account: String, presence: Presence },
    /// The full friend list (after login and after [`crate::Handle::refresh`]).
    Friends(Vec<Friend>),
    /// One friend was added or changed (accepted request, remark, nickname).
    FriendChanged(Friend),
    /// A friend was removed, by either side.
    FriendRemoved { account: String },
    /// All pending friend requests to me.
    FriendRequests(Vec<FriendRequest>),
    /// A new friend request to me.
    FriendRequest(FriendRequest),
    /// All my friend requests that have no answer yet (listed with the requests to me, just after
    /// [`Event::FriendRequests`]).
    SentRequests(Vec<SentRequest>),
    /// My friend request reached the server.
    RequestSent { account: String },
    /// A request to me was answered (from this or another of my sessions).
    RequestClosed { account: String },
    /// My friend request was rejected.
    FriendRejected { account: String },
    /// User search results, answer to [`crate::Handle::find_user`].
    FoundUsers(Vec<FoundUser>),
    /// All my groups.
    Groups(Vec<Group>),
    /// A group was created, joined or renamed.
    GroupChanged(Group),
    /// I am no longer in this group.
    GroupGone { group: u64, reason: GoneReason },
    /// Who may join a group by its number: asked for, or changed by its owner.
    GroupPolicy { group: u64, policy: JoinPolicy },
    /// A group's member list, answer to [`crate::Handle::list_members`].
    Members { group: u64, members: Vec<Member> },
    /// Someone joined a group (a `MEMBER:` line outside a listing).
    MemberJoined(Member),
    /// Someone else left a group or was kicked.
    MemberLeft {
        group: u64,
        account: String,
        reason: GoneReason,
    },
    /// A member's role changed: made an admin or a plain member again, or the group handed over
    /// (`GROUP_ROLE:`).
    MemberRole {
        group: u64,
        account: String,
        role: Role,
    },
    /// A member is muted (禁言) until `until` (ms since the epoch), or no longer (`until` 0).
    MemberMuted {
        group: u64,
        account: String,
        until: Millis,
    },
    /// The whole group is muted (only its owner and admins speak), or no longer: asked for with
    /// [`crate::Handle::mute_all`]`(group, None)`, or changed.
    GroupMutedAll { group: u64, on: bool },
    /// A group's announcement (群公告), asked for or changed: set by `by` at `time`; empty `text`: none.
    GroupNotice {
        group: u64,
        by: String,
        time: Millis,
        text: String,
    },
    /// Someone asks to join a group I own or administer (its policy is `approve`): live, or listed after
    /// login.
    JoinRequest {
        group: u64,
        account: String,
        nickname: String,
        time: Millis,
    },
    /// A join request was answered, by me or another admin: it waits no more.
    JoinRequestClosed { group: u64, account: String },
    /// My request to join `group` went to its owner and admins.
    JoinRequestSent { group: u64 },
    /// My request to join `group` was declined. (Accepted, the group arrives as [`Event::GroupChanged`].)
    JoinRequestDeclined { group: u64 },
    /// My nickname changed.
    Profile { nickname: String },
    /// My password was changed, as asked; my other devices were logged out.
    PasswordChanged,
    /// My signature, gender and region: after each login (from a server with the `PROFILE` feature), on
    /// every change (here or on another device), and as the answer to [`crate::Handle::get_profile`]
    /// for me.
    MyProfile(Profile),
    /// Someone else's profile: a friend or fellow group member changed their nickname, signature, gender
    /// or region (pushed live), or the answer to [`crate::Handle::get_profile`]. Show it wherever that
    /// account is shown; the friend list kept locally is updated already.
    UserProfile {
        account: String,
        nickname: String,
        profile: Profile,
    },
    /// Everyone I block: after each login (from a server with the `BLOCK` feature) and after
    /// [`crate::Handle::list_blocks`].
    Blocks(Vec<BlockedUser>),
    /// I block this account now ([`crate::Handle::block`], here or on another device).
    Blocked(BlockedUser),
    /// I no longer block this account.
    Unblocked { account: String },
    /// My friend groups in their order, the default one left out: after each login (from a server with
    /// the `CATEGORY` feature, before [`Event::Friends`]) and after [`crate::Handle::list_categories`].
    Categories(Vec<Category>),
    /// A friend group was made or renamed, here or on another device of mine.
    CategoryChanged(Category),
    /// A friend group was deleted, here or on another device; its friends are in the default group now
    /// (the local friend list says so already).
    CategoryGone { category: u64 },
    /// My friend groups were put in this order (here or on another device); the local list is.
    CategoryOrder(Vec<u64>),
    /// Whose avatar (头像) is which picture: `sha256` names it (`None`: they have none; show the default).
    /// For a user or a group, after the lists at login, for a new friend or member, and live when one
    /// changes (mine too, from [`crate::Handle::set_avatar`] here or elsewhere). The picture itself comes
    /// as [`Event::AvatarImage`] — right after, if it is here already, or once fetched.
    Avatar { of: Conv, sha256: Option<String> },
    /// A picture's bytes (a PNG or JPEG, checked against its digest): fetched from the server, or kept
    /// here from before. Decode it once per digest; everyone whose [`Event::Avatar`] names it shows it.
    AvatarImage { sha256: String, bytes: Vec<u8> },
    /// A file transfer was created or changed state; the [`Transfer`] is complete each time. See
    /// [`crate::transfer`].
    Transfer(Transfer),
    /// Bytes of a transfer so far, out of `total`: a few times a second at most while bytes flow.
    TransferProgress {
        id: TransferId,
        bytes: u64,
        total: u64,
    },
    /// A change to a group new to this device (`GROUP_EVENT:`: someone invited, joined, left, removed,
    /// renamed, set an admin, handed the group over, muted, or set the announcement), live or from a
    /// sync. `message` is the row now stored in the group's history ([`Message::group_event`] is
    /// `event`), to show where it happened, as a line of its own. It counts as nothing unread. (The other
    /// events a change brings, such as [`Event::MemberRole`] or [`Event::GroupChanged`], still come: this
    /// one is for the chat's history.)
    GroupChange { event: GroupEvent, message: Message },
    /// A message was recalled (by its sender, or by the group's owner or an admin). `message` is the stored result: the
    /// recalled message with its text gone ([`Message::recalled_by`] set), or, when this device never had
    /// it, the new record of the recall ([`Message::recall_of`]) to show in its place. `quotes` are the
    /// stored messages that quoted it, whose quote text is gone now too.
    Recalled {
        conv: Conv,
        /// The recalled message's server id.
        target: u64,
        /// Who recalled it.
        by: String,
        message: Message,
        quotes: Vec<Message>,
    },
    /// [`crate::Handle::recall`] failed: `code` is `no_such_message` (unknown, already recalled, not a
    /// message), `too_late` (older than the server's `recall` limit), `forbidden` (someone else's, in a
    /// group I neither own nor administer, or an admin's or the owner's while I am an admin), `unknown_verb` (the server cannot recall), or another refusal.
    RecallFailed {
        target: u64,
        code: ErrorCode,
        text: String,
    },
    /// A friend is typing to me: show it for about 5 seconds (it is repeated while they type). Never stored.
    Typing { from: String },
    /// A request failed; the connection carries on. `about` names what it was about (an account, a group id).
    Error {
        code: ErrorCode,
        text: String,
        about: Option<String>,
    },
}
