//! Values shared by both directions: conversations, presence, limits, error codes and stored messages.

use std::fmt;

/// Milliseconds since the Unix epoch, UTC. Every time on the wire is one of these.
pub type Millis = u64;

/// Who a conversation is with: a friend (by account name) or a group (by id).
///
/// On the wire it is two fields: `user:<account>` or `group:<group_id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Conv {
    User(String),
    Group(u64),
}

impl Conv {
    pub fn kind(&self) -> &'static str {
        match self {
            Conv::User(_) => "user",
            Conv::Group(_) => "group",
        }
    }

    /// The second wire field: the account name or the group id.
    pub fn key(&self) -> String {
        match self {
            Conv::User(account) => account.clone(),
            Conv::Group(id) => id.to_string(),
        }
    }

    pub(crate) fn from_fields(kind: &str, key: String) -> Option<Conv> {
        match kind {
            "user" if !key.is_empty() => Some(Conv::User(key)),
            "group" => key.parse().ok().map(Conv::Group),
            _ => None,
        }
    }
}

impl fmt::Display for Conv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), crate::field::encode(&self.key()))
    }
}

/// Online state, as the original's online/offline notices. Wire: `online` / `offline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Presence {
    Online,
    Offline,
}

impl Presence {
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Online => "online",
            Presence::Offline => "offline",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "online" => Some(Presence::Online),
            "offline" => Some(Presence::Offline),
            _ => None,
        }
    }

    pub fn is_online(self) -> bool {
        self == Presence::Online
    }
}

/// A member's place in a group. Wire: `owner` / `admin` / `member`.
///
/// An admin (管理员) is set by the owner (`GROUP_ADMIN:`): they may rename the group and kick, mute or
/// approve plain members, but not other admins or the owner. Only the owner dissolves the group, sets
/// admins and hands the group over (`GROUP_TRANSFER:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// Owner or admin: may kick, mute and rename, recall plain members' messages, and mention everyone.
    pub fn manages(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// Who may join a group with `GROUP_JOIN`. Wire: `invite` / `open` / `approve`.
///
/// A new group is `invite`: only its members bring people in (`GROUP_INVITE`), so a group's number, even
/// guessed, lets no stranger in and read its files. The owner opens it with `GROUP_POLICY:<group>:open`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum JoinPolicy {
    /// Members invite their friends; `GROUP_JOIN` is refused with `invite_only`.
    #[default]
    Invite,
    /// Anyone who knows the group's number joins with `GROUP_JOIN` (except members who were removed).
    Open,
    /// `GROUP_JOIN` asks: the owner and admins get `GROUP_JOIN_REQUEST:` and answer `GROUP_JOIN_ANSWER:`.
    Approve,
}

impl JoinPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinPolicy::Invite => "invite",
            JoinPolicy::Open => "open",
            JoinPolicy::Approve => "approve",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "invite" => Some(JoinPolicy::Invite),
            "open" => Some(JoinPolicy::Open),
            "approve" => Some(JoinPolicy::Approve),
            _ => None,
        }
    }
}

/// A gender a user chose to show on their profile. Wire: `male` / `female` / `other`; an empty field
/// means they did not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    Male,
    Female,
    Other,
}

impl Gender {
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
            Gender::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "male" => Some(Gender::Male),
            "female" => Some(Gender::Female),
            "other" => Some(Gender::Other),
            _ => None,
        }
    }

    /// The wire field of an optional gender: the word, or empty for not said.
    pub fn field(gender: Option<Gender>) -> &'static str {
        gender.map_or("", Gender::as_str)
    }

    /// Reads an optional gender's field: empty is `Some(None)`, an unknown word `None`.
    pub fn from_field(s: &str) -> Option<Option<Gender>> {
        if s.is_empty() {
            Some(None)
        } else {
            Gender::parse(s).map(Some)
        }
    }
}

/// What a user shows others besides their nickname: QQ's 个性签名 (a one-line signature shown under the
/// name in a friend list) and, if they choose, gender and region. Wire: three fields,
/// `<gender>:<region>:<signature>`, each empty when not set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Profile {
    pub gender: Option<Gender>,
    /// Free text, one line (e.g. `上海`); empty if not said.
    pub region: String,
    /// One line; empty if none.
    pub signature: String,
}

/// One part of my profile, as `SET_PROFILE:` changes it. Wire: `sign:<text>`, `gender:<male|female|other>`
/// (empty: not said) or `region:<text>`; an empty text clears.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProfileChange {
    Signature(String),
    Gender(Option<Gender>),
    Region(String),
}

impl ProfileChange {
    /// The field's wire name.
    pub fn field(&self) -> &'static str {
        match self {
            ProfileChange::Signature(_) => "sign",
            ProfileChange::Gender(_) => "gender",
            ProfileChange::Region(_) => "region",
        }
    }

    /// The value's wire text.
    pub fn value(&self) -> &str {
        match self {
            ProfileChange::Signature(text) | ProfileChange::Region(text) => text,
            ProfileChange::Gender(gender) => Gender::field(*gender),
        }
    }

    /// Applies the change to a profile.
    pub fn apply(&self, profile: &mut Profile) {
        match self {
            ProfileChange::Signature(text) => profile.signature = text.clone(),
            ProfileChange::Gender(gender) => profile.gender = *gender,
            ProfileChange::Region(text) => profile.region = text.clone(),
        }
    }
}

/// Why a group went away for this user. Wire: `left` / `kicked` / `dissolved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoneReason {
    Left,
    Kicked,
    Dissolved,
}

impl GoneReason {
    pub fn as_str(self) -> &'static str {
        match self {
            GoneReason::Left => "left",
            GoneReason::Kicked => "kicked",
            GoneReason::Dissolved => "dissolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "left" => Some(GoneReason::Left),
            "kicked" => Some(GoneReason::Kicked),
            "dissolved" => Some(GoneReason::Dissolved),
            _ => None,
        }
    }
}

/// Where a relayed file stands. Wire: the lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileState {
    /// Every byte is on the server and verified; recipients may download.
    Uploaded,
    Rejected,
    Cancelled,
    Expired,
    /// A recipient has downloaded and verified it.
    Downloaded,
}

impl FileState {
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Uploaded => "uploaded",
            FileState::Rejected => "rejected",
            FileState::Cancelled => "cancelled",
            FileState::Expired => "expired",
            FileState::Downloaded => "downloaded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "uploaded" => FileState::Uploaded,
            "rejected" => FileState::Rejected,
            "cancelled" => FileState::Cancelled,
            "expired" => FileState::Expired,
            "downloaded" => FileState::Downloaded,
            _ => return None,
        })
    }
}

/// The server's limits, advertised in the login reply so a client can refuse over-long input before sending.
///
/// Wire: one field of `key=value` pairs joined by `,`, e.g. `line=65536,text=8000,nick=32,…`. Unknown keys are
/// ignored and missing keys keep their default, so either side can add a limit without breaking the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line in bytes, terminator excluded.
    pub line: u32,
    /// Longest message text in characters.
    pub text: u32,
    /// Longest nickname, remark and group name in characters.
    pub name: u32,
    /// Most friends one user may have.
    pub friends: u32,
    /// Most members one group may have.
    pub members: u32,
    /// Largest file in bytes.
    pub file: u64,
    /// Messages per second a user may send, sustained.
    pub rate: u32,
    /// Most groups one user may own.
    pub groups: u32,
    /// Other requests that change something or tell someone (friend requests and answers, remarks, group
    /// changes, …) per second a user may make, sustained.
    pub actions: u32,
    /// Seconds after sending in which a user may recall their own message (`RECALL:`); 0 means never.
    pub recall: u32,
    /// Most admins one group may have besides its owner (`GROUP_ADMIN:`).
    pub admins: u32,
    /// Longest group announcement (`GROUP_NOTICE:`) in characters.
    pub notice: u32,
    /// Longest signature (个性签名, `SET_PROFILE:sign:`) in characters.
    pub sign: u32,
    /// Most friend groups (好友分组, `CATEGORY_ADD:`) one user may have besides the default one.
    pub categories: u32,
    /// Largest avatar picture (`SET_AVATAR:`, `GROUP_AVATAR:`) in bytes, before base64. Its base64 (a
    /// third more) must fit a line: at the default 32768 the `AVATAR:` line is about 43,800 bytes.
    pub avatar: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            line: crate::DEFAULT_MAX_LINE as u32,
            text: 8000,
            name: 32,
            friends: 1000,
            members: 500,
            file: 1 << 30,
            rate: 20,
            groups: 100,
            actions: 10,
            recall: 120,
            admins: 10,
            notice: 500,
            sign: 80,
            categories: 50,
            avatar: 32768,
        }
    }
}

impl Limits {
    pub fn to_field(&self) -> String {
        format!(
            "line={},text={},name={},friends={},members={},file={},rate={},groups={},actions={},recall={},\
             admins={},notice={},sign={},categories={},avatar={}",
            self.line,
            self.text,
            self.name,
            self.friends,
            self.members,
            self.file,
            self.rate,
            self.groups,
            self.actions,
            self.recall,
            self.admins,
            self.notice,
            self.sign,
            self.categories,
            self.avatar
        )
    }

    pub fn from_field(s: &str) -> Option<Limits> {
        let mut limits = Limits::default();
        for pair in s.split(',').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=')?;
            match key {
                "line" => limits.line = value.parse().ok()?,
                "text" => limits.text = value.parse().ok()?,
                "name" => limits.name = value.parse().ok()?,
                "friends" => limits.friends = value.parse().ok()?,
                "members" => limits.members = value.parse().ok()?,
                "file" => limits.file = value.parse().ok()?,
                "rate" => limits.rate = value.parse().ok()?,
                "groups" => limits.groups = value.parse().ok()?,
                "actions" => limits.actions = value.parse().ok()?,
                "recall" => limits.recall = value.parse().ok()?,
                "admins" => limits.admins = value.parse().ok()?,
                "notice" => limits.notice = value.parse().ok()?,
                "sign" => limits.sign = value.parse().ok()?,
                "categories" => limits.categories = value.parse().ok()?,
                "avatar" => limits.avatar = value.parse().ok()?,
                _ => {}
            }
        }
        Some(limits)
    }
}

macro_rules! error_codes {
    ($($variant:ident => $wire:literal, $doc:literal;)*) => {
        /// Stable, machine-readable error codes of `ERROR:<code>:<text>` and of failed `LOGIN:`/`RESIGER:`
        /// replies. Clients match on these; the text is for people.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(#[doc = $doc] $variant,)*
            /// A code this build does not know (a newer server). Never one of the codes above.
            Other(String),
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn as_str(&self) -> &str {
                match self {
                    $(ErrorCode::$variant => $wire,)*
                    ErrorCode::Other(code) => code,
                }
            }

            pub fn parse(s: &str) -> ErrorCode {
                match s {
                    $($wire => ErrorCode::$variant,)*
                    other => ErrorCode::Other(other.to_owned()),
                }
            }
        }
    };
}

error_codes! {
    BadRequest => "bad_request", "The line did not parse: wrong field count or an invalid value.";
    UnknownVerb => "unknown_verb", "The verb is not one the server knows.";
    LineTooLong => "line_too_long", "The line exceeded the server's limit; the connection is closed.";
    NotLoggedIn => "not_logged_in", "The verb needs a logged-in session.";
    AlreadyLoggedIn => "already_logged_in", "This connection is already logged in.";
    BadCredentials => "bad_credentials", "Wrong account or password.";
    BadToken => "bad_token", "The session token is unknown, expired or revoked.";
    AccountTaken => "account_taken", "Registration: the account name is in use.";
    InvalidAccount => "invalid_account", "Registration: the account name is not allowed.";
    InvalidPassword => "invalid_password", "The password is too short or too long.";
    Disabled => "disabled", "The account has been disabled by the operator.";
    NoSuchUser => "no_such_user", "No account has that name.";
    NoSuchGroup => "no_such_group", "No group has that id.";
    NoSuchFile => "no_such_file", "No file has that id, or it has expired.";
    NotFriends => "not_friends", "The verb needs the other user to be a friend.";
    AlreadyFriends => "already_friends", "The users are friends already.";
    NoRequest => "no_request", "There is no pending friend request (or request to join the group) to answer.";
    SelfRequest => "self", "A user cannot befriend themselves.";
    NotMember => "not_member", "The verb needs membership of the group.";
    AlreadyMember => "already_member", "The user is in the group already.";
    NotOwner => "not_owner", "Only the group's owner may do this.";
    OwnerCannotLeave => "owner_cannot_leave", "The owner dissolves a group rather than leaving it.";
    Forbidden => "forbidden", "The user may not do this.";
    TooLong => "too_long", "A text, name or remark is longer than the server's limit.";
    TooMany => "too_many", "A count limit was reached (friends, members, connections).";
    RateLimited => "rate_limited", "Too many requests; slow down.";
    TooLarge => "too_large", "The file is larger than the server allows.";
    QuotaExceeded => "quota_exceeded", "The user's file storage quota, or their day's volume of message text, is used up.";
    Busy => "busy", "The server is at its connection limit.";
    SlowReader => "slow_reader", "The client did not read fast enough and was disconnected.";
    Timeout => "timeout", "The connection was idle or silent for too long.";
    Shutdown => "shutdown", "The server is shutting down.";
    LoggedOut => "logged_out", "The session was ended by logout.";
    Internal => "internal", "The server failed; the request may be retried.";
    InviteOnly => "invite_only", "The group takes new members by invitation only.";
    Removed => "removed", "The user was removed from the group and needs a new invitation to come back.";
    PasswordChanged => "password_changed", "The account's password was changed (by the user on another device, or by the operator): this session has ended; log in again with the new password.";
    StorageFull => "storage_full", "The server's disk is (nearly) full: nothing was stored; try again later.";
    NoSuchMessage => "no_such_message", "No message with that id is visible to this user in that conversation (unknown, recalled, or somewhere else).";
    TooLate => "too_late", "The message is older than the server's recall window.";
    Muted => "muted", "The user is muted in the group (禁言): the text starts with the unmute time, see `muted_until`.";
    NoSuchCategory => "no_such_category", "I have no friend group (好友分组) with that id.";
    CategoryExists => "category_exists", "I have a friend group with that name already.";
    Unavailable => "unavailable", "The server cannot reach its database just now (a cluster's PostgreSQL restarting or cut off): nothing was done; send the request again shortly. A refused message names its client id and is not a failure of the message.";
}

/// The unmute time a `muted` refusal carries: its text starts with it, in milliseconds since the epoch,
/// then a space and words for people (`ERROR:muted:1764032400000 you are muted in group 3 …:<client_id>`).
/// `0` means the whole group is muted, with no end set. `None` if the text does not start with a number
/// (another server's words).
pub fn muted_until(text: &str) -> Option<Millis> {
    text.split(' ').next()?.parse().ok()
}

/// The text of a `muted` refusal: `until` first, so [`muted_until`] reads it back, then `words`.
pub fn muted_text(until: Millis, words: &str) -> String {
    format!("{until} {words}")
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored private message, as the server delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Server-assigned id; ids grow over all conversations, so it doubles as the sync cursor.
    pub id: u64,
    pub from: String,
    pub to: String,
    pub time: Millis,
    /// The sender's id for this message, echoed so the sender's other sessions can match it.
    pub client_id: String,
    pub text: String,
}

/// A stored group message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMessage {
    pub id: u64,
    pub group: u64,
    pub from: String,
    pub time: Millis,
    pub client_id: String,
    pub text: String,
}

/// A file offered in a conversation; stored like a message so offline recipients see it on sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMessage {
    pub id: u64,
    pub from: String,
    pub to: Conv,
    pub time: Millis,
    pub client_id: String,
    pub file: FileInfo,
}

/// What a file offer says about the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// Server-assigned id used by `FILE_ACCEPT:`, `FILE_GET:` and friends.
    pub file_id: u64,
    pub size: u64,
    /// Lower-case hex SHA-256 of the whole file.
    pub sha256: String,
    /// The sender's file name, for display only; never used as a path.
    pub name: String,
}

/// True if `s` is 64 lower-case hex digits.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// One of [`Features`], by name: what a server line's form depends on, as data (a server hands a line's
/// forms to the other nodes of a cluster, which choose one for each of their own sessions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    Said,
    Recalled,
    Read,
    Typing,
    GroupRole,
    GroupMute,
    GroupNotice,
    GroupEvent,
    Profile,
    Block,
    Category,
    Avatar,
}

impl Feature {
    /// Every feature this build knows, in the order `FEATURES:` lists them.
    pub const EVERY: [Feature; 12] = [
        Feature::Said,
        Feature::Recalled,
        Feature::Read,
        Feature::Typing,
        Feature::GroupRole,
        Feature::GroupMute,
        Feature::GroupNotice,
        Feature::GroupEvent,
        Feature::Profile,
        Feature::Block,
        Feature::Category,
        Feature::Avatar,
    ];

    /// Its name on the wire: the server line it turns on.
    pub fn name(self) -> &'static str {
        use Feature as F;
        match self {
            F::Said => "SAID",
            F::Recalled => "RECALLED",
            F::Read => "READ",
            F::Typing => "TYPING",
            F::GroupRole => "GROUP_ROLE",
            F::GroupMute => "GROUP_MUTE",
            F::GroupNotice => "GROUP_NOTICE",
            F::GroupEvent => "GROUP_EVENT",
            F::Profile => "PROFILE",
            F::Block => "BLOCK",
            F::Category => "CATEGORY",
            F::Avatar => "AVATAR",
        }
    }

    /// The feature named `name`; `None` for a name this build does not know.
    pub fn from_name(name: &str) -> Option<Feature> {
        Feature::EVERY.into_iter().find(|f| f.name() == name)
    }
}

/// The server lines a client understands beyond the original ones, announced with `FEATURES:`.
///
/// A session that has not announced a feature is sent readable text in its place (a quote written into
/// the message text, a recall as a message saying so), so a client that knows none of them still shows
/// everything. Wire: the names joined by `,` — a feature is named after the server line it turns on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Features {
    /// `SAID:` lines: messages with a quoted reply or mentions.
    pub said: bool,
    /// `RECALLED:` lines.
    pub recalled: bool,
    /// `READ:` lines: how far I have read a conversation, from my other sessions.
    pub read: bool,
    /// `TYPING:` lines.
    pub typing: bool,
    /// `GROUP_ROLE:` lines, and `admin` as a role in `MEMBER:` lines (without it an admin is listed as
    /// `member`, the only other word an older client's parser knows besides `owner`).
    pub group_role: bool,
    /// `GROUP_MUTE:` and `GROUP_MUTE_ALL:` lines, and the mute time at the end of `MEMBER:` lines (which an
    /// older client's parser would refuse as a field too many).
    pub group_mute: bool,
    /// `GROUP_NOTICE:` lines pushed when a group's announcement changes (a `GROUP_NOTICE:` question is
    /// answered without it).
    pub group_notice: bool,
    /// `GROUP_EVENT:` lines: a group's changes as they stand in its history (without it, a `GROUP:` line
    /// saying what happened).
    pub group_event: bool,
    /// Profiles (issue: 个性签名): the gender, region and signature at the end of `FRIEND:`, `MEMBER:` and
    /// `PROFILE:` lines (which an older client's parser would refuse as fields too many), and `PROFILE:`
    /// lines for a friend's or fellow member's change (without it, a friend's new nickname comes as a
    /// `FRIEND:` line and nothing else is told).
    pub profile: bool,
    /// `BLOCKED:` and `UNBLOCKED:` lines pushed when another session of mine blocks or unblocks someone
    /// (the session that asked is answered either way).
    pub block: bool,
    /// Friend groups (好友分组): the group id in `FRIEND:` lines (which an older client's parser would
    /// refuse as a field too many), and `CATEGORY:`/`CATEGORY_GONE:` lines and moved friends' `FRIEND:`
    /// lines pushed when another session of mine changes them (the session that asked is answered either
    /// way).
    pub category: bool,
    /// Avatars (头像) kept by the server: `AVATAR_OF:` lines saying whose picture is which (after lists,
    /// new friends and members, and live when one changes). A separate line rather than one more field on
    /// `FRIEND:`/`MEMBER:`/`GROUP_INFO:`, so those lines stay as they are for every other feature set
    /// (`MEMBER:` already tells its trailing fields apart by their number).
    pub avatar: bool,
}

impl Features {
    /// Every feature this build knows.
    pub const ALL: Features = Features {
        said: true,
        recalled: true,
        read: true,
        typing: true,
        group_role: true,
        group_mute: true,
        group_notice: true,
        group_event: true,
        profile: true,
        block: true,
        category: true,
        avatar: true,
    };

    fn names(&self) -> impl Iterator<Item = &'static str> {
        Feature::EVERY
            .into_iter()
            .filter(|f| self.has(*f))
            .map(Feature::name)
    }

    /// Whether this set has `feature`.
    pub fn has(&self, feature: Feature) -> bool {
        use Feature as F;
        match feature {
            F::Said => self.said,
            F::Recalled => self.recalled,
            F::Read => self.read,
            F::Typing => self.typing,
            F::GroupRole => self.group_role,
            F::GroupMute => self.group_mute,
            F::GroupNotice => self.group_notice,
            F::GroupEvent => self.group_event,
            F::Profile => self.profile,
            F::Block => self.block,
            F::Category => self.category,
            F::Avatar => self.avatar,
        }
    }

    pub fn to_field(&self) -> String {
        self.names().collect::<Vec<_>>().join(",")
    }

    /// Reads the field; names this build does not know are skipped (a newer peer), so it never fails.
    pub fn from_field(s: &str) -> Features {
        let mut features = Features::default();
        for feature in s.split(',').filter_map(Feature::from_name) {
            features.set(feature);
        }
        features
    }

    /// Turns `feature` on.
    pub fn set(&mut self, feature: Feature) {
        use Feature as F;
        let flag = match feature {
            F::Said => &mut self.said,
            F::Recalled => &mut self.recalled,
            F::Read => &mut self.read,
            F::Typing => &mut self.typing,
            F::GroupRole => &mut self.group_role,
            F::GroupMute => &mut self.group_mute,
            F::GroupNotice => &mut self.group_notice,
            F::GroupEvent => &mut self.group_event,
            F::Profile => &mut self.profile,
            F::Block => &mut self.block,
            F::Category => &mut self.category,
            F::Avatar => &mut self.avatar,
        };
        *flag = true;
    }

    /// The features both sides have.
    pub fn and(self, other: Features) -> Features {
        Features {
            said: self.said && other.said,
            recalled: self.recalled && other.recalled,
            read: self.read && other.read,
            typing: self.typing && other.typing,
            group_role: self.group_role && other.group_role,
            group_mute: self.group_mute && other.group_mute,
            group_notice: self.group_notice && other.group_notice,
            group_event: self.group_event && other.group_event,
            profile: self.profile && other.profile,
            block: self.block && other.block,
            category: self.category && other.category,
            avatar: self.avatar && other.avatar,
        }
    }
}

/// A list of ids in one field, joined by `,` (`CATEGORY_ORDER:`); empty for none. `None` if a piece is
/// not a number written the one way [`id_list_field`] writes it (no sign, no leading zero), so a line
/// reads back as it was sent.
pub(crate) fn id_list(s: &str) -> Option<Vec<u64>> {
    if s.is_empty() {
        return Some(Vec::new());
    }
    s.split(',')
        .map(|piece| {
            let canonical = piece.bytes().all(|b| b.is_ascii_digit())
                && !(piece.len() > 1 && piece.starts_with('0'));
            canonical.then(|| piece.parse().ok()).flatten()
        })
        .collect()
}

pub(crate) fn id_list_field(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

/// Who a group message mentions (`@`). Wire: one field, the accounts joined by `,`, with `*` for everyone
/// (`@all`, which only the group's owner and admins may send); empty for nobody. Account names cannot
/// contain `,` or `*`, so neither needs escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Mentions {
    /// `@all`: every member.
    pub all: bool,
    /// The accounts mentioned, in the order written, without repeats.
    pub accounts: Vec<String>,
}

impl Mentions {
    pub fn is_empty(&self) -> bool {
        !self.all && self.accounts.is_empty()
    }

    /// Whether `account` is mentioned, by name or by `@all`.
    pub fn includes(&self, account: &str) -> bool {
        self.all || self.accounts.iter().any(|a| a == account)
    }

    pub fn to_field(&self) -> String {
        let all = self.all.then_some("*");
        all.into_iter()
            .chain(self.accounts.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads the field: empty pieces are skipped and repeats dropped; `None` if a piece is not an
    /// account name (a `%`-escape or a character accounts cannot have).
    pub fn from_field(s: &str) -> Option<Mentions> {
        let mut mentions = Mentions::default();
        for piece in s.split(',').filter(|p| !p.is_empty()) {
            if piece == "*" {
                mentions.all = true;
            } else if piece
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
            {
                if !mentions.accounts.iter().any(|a| a == piece) {
                    mentions.accounts.push(piece.to_owned());
                }
            } else {
                return None;
            }
        }
        Some(mentions)
    }
}

/// The message a reply answers, as it travels with the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The quoted message's id.
    pub id: u64,
    /// Its sender's account.
    pub from: String,
    /// The start of its text (the server cuts it to 100 characters; a file is `[<file name>]`). Empty when
    /// the quoted message has been recalled: a recall takes the text out of every quote too.
    pub text: String,
}

/// A stored message with a quote or mentions, as the server delivers it to a session with the `SAID`
/// feature (others get it as `MSG:`/`GROUP:` with the quote written into the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaidMessage {
    pub id: u64,
    /// The conversation: `user:<recipient>` for a private message (as `MSG:`'s `to`), or `group:<id>`.
    pub to: Conv,
    pub from: String,
    pub time: Millis,
    pub client_id: String,
    pub mentions: Mentions,
    pub quote: Option<Quote>,
    pub text: String,
}

/// What changed in a group, as its history keeps it. Wire: the lower-case word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupEventKind {
    /// `by` invited `account`.
    Invite,
    /// `account` joined: by the group's number (`by` is `account`), or let in by `by` (`GROUP_JOIN_ANSWER:`).
    Join,
    /// `account` (= `by`) left.
    Leave,
    /// `by` removed `account`.
    Kick,
    /// `by` renamed the group to `value`.
    Rename,
    /// `by` made `account` an admin (`value` `on`) or a plain member again (`off`).
    Admin,
    /// `by`, the owner, handed the group to `account`.
    Transfer,
    /// `by` muted `account` until `value` (milliseconds since the epoch; `0`: lifted).
    Mute,
    /// `by` muted the whole group (`value` `on`) or lifted it (`off`).
    MuteAll,
    /// `by` set the announcement to `value` (empty: cleared).
    Notice,
}

impl GroupEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupEventKind::Invite => "invite",
            GroupEventKind::Join => "join",
            GroupEventKind::Leave => "leave",
            GroupEventKind::Kick => "kick",
            GroupEventKind::Rename => "rename",
            GroupEventKind::Admin => "admin",
            GroupEventKind::Transfer => "transfer",
            GroupEventKind::Mute => "mute",
            GroupEventKind::MuteAll => "mute_all",
            GroupEventKind::Notice => "notice",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "invite" => GroupEventKind::Invite,
            "join" => GroupEventKind::Join,
            "leave" => GroupEventKind::Leave,
            "kick" => GroupEventKind::Kick,
            "rename" => GroupEventKind::Rename,
            "admin" => GroupEventKind::Admin,
            "transfer" => GroupEventKind::Transfer,
            "mute" => GroupEventKind::Mute,
            "mute_all" => GroupEventKind::MuteAll,
            "notice" => GroupEventKind::Notice,
            _ => return None,
        })
    }
}

/// A change to a group, stored in its history and numbered like a message, so `SYNC:` and `HISTORY:` bring
/// it in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEvent {
    /// Its place in the message sequence.
    pub id: u64,
    pub group: u64,
    /// Who made the change.
    pub by: String,
    pub time: Millis,
    pub kind: GroupEventKind,
    /// Whom it concerns; empty for a change to the group itself (rename, mute_all, notice).
    pub account: String,
    /// What it was changed to, as [`GroupEventKind`] says; empty if nothing.
    pub value: String,
}

/// A recall, stored and ordered like a message: `target`'s text is gone from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecallMessage {
    /// This event's own id, from the same sequence as messages (so `SYNC:` brings it in order).
    pub id: u64,
    /// The recalled message's conversation, as its `to` was.
    pub to: Conv,
    /// Who recalled it: its sender, or the group's owner or an admin.
    pub by: String,
    pub time: Millis,
    /// The recalled message's id.
    pub target: u64,
    /// The recalled message's sender.
    pub target_from: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_feature_is_its_own_flag_and_name() {
        for feature in Feature::EVERY {
            let mut one = Features::default();
            one.set(feature);
            assert!(one.has(feature));
            let others = Feature::EVERY.into_iter().filter(|f| *f != feature);
            assert!(
                others.clone().all(|f| !one.has(f)),
                "{feature:?} set another"
            );
            assert_eq!(one.to_field(), feature.name());
            assert_eq!(Features::from_field(feature.name()), one);
            assert_eq!(Feature::from_name(feature.name()), Some(feature));
        }
        assert_eq!(
            Features::from_field(&Features::ALL.to_field()),
            Features::ALL
        );
        assert!(Feature::EVERY.into_iter().all(|f| Features::ALL.has(f)));
        assert_eq!(Feature::from_name("NOPE"), None);
    }
}
