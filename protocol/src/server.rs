//! Lines the server sends to a client: replies to requests and pushed events.

use crate::ParseError;
use crate::base64;
use crate::client::conv;
use crate::field::{Fields, LineBuilder};
use crate::types::{
    ChatMessage, Conv, ErrorCode, Features, FileInfo, FileMessage, FileState, Gender, GoneReason,
    GroupEvent, GroupEventKind, GroupMessage, JoinPolicy, Limits, Mentions, Millis, Presence,
    Profile, Quote, RecallMessage, Role, SaidMessage, is_sha256_hex,
};

/// One line from the server. Each variant's doc shows its exact wire form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    /// `RESIGER:true:<account>` — the account was created.
    RegisterOk { account: String },
    /// `RESIGER:false:<code>:<text>` — it was not (e.g. `account_taken`).
    RegisterFailed { code: ErrorCode, text: String },
    /// `LOGIN:true:<user_id>:<account>:<nickname>:<token>:<limits>` — logged in (by password or `RESUME:`).
    /// `token` resumes the session later; `limits` is the server's [`Limits`].
    LoginOk {
        user_id: u64,
        account: String,
        nickname: String,
        token: String,
        limits: Limits,
    },
    /// `LOGIN:false:<code>:<text>` — e.g. `bad_credentials`, `bad_token`.
    LoginFailed { code: ErrorCode, text: String },
    /// `BYE:<code>:<text>` — the server is closing this connection (logout, shutdown, slow reader, timeout).
    Bye { code: ErrorCode, text: String },
    /// `PING:<nonce>` — heartbeat; answer `PONG:<nonce>`.
    Ping { nonce: u64 },
    /// `PONG:<nonce>` — answer to a client's `PING:`.
    Pong { nonce: u64 },
    /// `PROFILE:<account>:<nickname>[:<gender>:<region>:<signature>]` — a user's profile: mine, changed
    /// (the reply to `SET_NICK:`/`SET_PROFILE:`, also to my other sessions); a friend's or fellow group
    /// member's, changed (to sessions with the `PROFILE` feature only); or anyone's, asked for with
    /// `PROFILE:`. The [`Profile`] fields are there for a session with the `PROFILE` feature and in the
    /// answer to `PROFILE:`, and left off otherwise (the original line).
    Profile {
        account: String,
        nickname: String,
        profile: Option<Profile>,
    },
    /// `PASSWD:true` — the password was changed.
    PasswordChanged,
    /// `CONNECT_CLIENT:<account>:<online|offline>` — a friend's first session came online or last one went
    /// (the original's client-connection notice).
    Presence { account: String, presence: Presence },
    /// `FOUND:<account>:<online|offline>:<nickname>` — one search result.
    Found {
        account: String,
        presence: Presence,
        nickname: String,
    },
    /// `FOUND_END:<count>` — end of search results.
    FoundEnd { count: u32 },
    /// `FRIEND:<account>:<online|offline>:<nickname>:<remark>[:<category_id>][:<gender>:<region>:<signature>]`
    /// — a friend, as listed or as just added or changed (also moved to another friend group). `category_id`
    /// (the friend group I keep them in, 0 the default) only to a session with the `CATEGORY` feature, the
    /// [`Profile`] fields only to one with `PROFILE`, each then always. The trailing fields are told apart by
    /// their number: one is the group, three the profile, four both (the group first).
    Friend {
        account: String,
        presence: Presence,
        nickname: String,
        remark: String,
        category: Option<u64>,
        profile: Option<Profile>,
    },
    /// `FRIENDS_END:<count>` — end of the friend list.
    FriendsEnd { count: u32 },
    /// `FRIEND_REQUEST:<from>:<time>:<nickname>:<note>` — someone wants to be my friend.
    FriendRequest {
        from: String,
        time: Millis,
        nickname: String,
        note: String,
    },
    /// `REQUEST_WAITING:<to>:<time>:<nickname>` — my request to this account, sent at `time`, has no answer
    /// yet (listed before `REQUESTS_END`).
    RequestWaiting {
        to: String,
        time: Millis,
        nickname: String,
    },
    /// `REQUESTS_END:<count>` — end of the pending request list; `count` is its `FRIEND_REQUEST:` lines.
    RequestsEnd { count: u32 },
    /// `REQUEST_SENT:<account>` — my friend request was delivered (or stored for when they log in).
    RequestSent { account: String },
    /// `REQUEST_CLOSED:<account>` — a request to me was accepted or rejected (from any of my sessions).
    RequestClosed { account: String },
    /// `FRIEND_REJECTED:<account>` — my request to this account was rejected.
    FriendRejected { account: String },
    /// `FRIEND_REMOVED:<account>` — the friendship is gone (deleted by either side).
    FriendRemoved { account: String },
    /// `MSG:<id>:<from>:<to>:<time>:<client_id>:<text>` — a stored private message (live, or from `SYNC:` or
    /// `HISTORY:`).
    Msg(ChatMessage),
    /// `GROUP:<id>:<group_id>:<from>:<time>:<client_id>:<text>` — a stored group message.
    GroupMsg(GroupMessage),
    /// `FileTran:<id>:<from>:<user|group>:<to>:<time>:<client_id>:<file_id>:<size>:<sha256>:<name>` — a stored
    /// file offer.
    FileOffer(FileMessage),
    /// `ACK:<client_id>:<id>:<time>` — the message with this client id is stored under `id`.
    Ack {
        client_id: String,
        id: u64,
        time: Millis,
    },
    /// `SYNC_END:<last_id>:<more>` — end of a sync page; `more` is `1` if another page follows from `last_id`.
    SyncEnd { last_id: u64, more: bool },
    /// `HISTORY_END:<user|group>:<peer>:<count>:<more>` — end of a history page.
    HistoryEnd {
        conv: crate::Conv,
        count: u32,
        more: bool,
    },
    /// `GROUP_INFO:<group_id>:<owner>:<members>:<name>` — a group I am in, as listed or as just created,
    /// joined or renamed.
    GroupInfo {
        group: u64,
        owner: String,
        members: u32,
        name: String,
    },
    /// `GROUP_POLICY:<group_id>:<invite|open>` — who may join the group: the answer to a member's
    /// `GROUP_POLICY:` question, and told to every member when the owner changes it.
    GroupPolicy { group: u64, policy: JoinPolicy },
    /// `GROUPS_END:<count>` — end of my group list.
    GroupsEnd { count: u32 },
    /// `GROUP_GONE:<group_id>:<left|kicked|dissolved>` — I am no longer in this group.
    GroupGone { group: u64, reason: GoneReason },
    /// `MEMBER:<group_id>:<account>:<owner|admin|member>:<online|offline>:<nickname>[:<muted_until>][:<gender>:<region>:<signature>]`
    /// — a member, as listed or as just joined. `admin` only to a session with the `GROUP_ROLE` feature
    /// (others see `member`); `muted_until` (when their mute ends, 0 if not muted) only to one with
    /// `GROUP_MUTE`; the [`Profile`] fields only to one with `PROFILE`. The trailing fields are told apart
    /// by their number: one is the mute, three the profile, four both.
    Member {
        group: u64,
        account: String,
        role: Role,
        presence: Presence,
        nickname: String,
        muted_until: Option<Millis>,
        profile: Option<Profile>,
    },
    /// `GROUP_ROLE:<group_id>:<account>:<owner|admin|member>` — a member's role changed (`GROUP_ADMIN:`,
    /// `GROUP_TRANSFER:`); to every member's sessions with the `GROUP_ROLE` feature.
    GroupRole {
        group: u64,
        account: String,
        role: Role,
    },
    /// `GROUP_MUTE:<group_id>:<account>:<until>` — this member is muted until `until` (0: no longer
    /// muted); to every member's sessions with the `GROUP_MUTE` feature.
    GroupMute {
        group: u64,
        account: String,
        until: Millis,
    },
    /// `GROUP_MUTE_ALL:<group_id>:<on|off>` — whether the whole group is muted: the answer to a member's
    /// question, and told to every member's sessions with `GROUP_MUTE` when it changes.
    GroupMuteAll { group: u64, on: bool },
    /// `GROUP_NOTICE:<group_id>:<by>:<time>:<text>` — the group's announcement (群公告), set by `by` at
    /// `time`; an empty `text` means none (`by` empty and `time` 0 if there never was one). The answer to a
    /// member's `GROUP_NOTICE:` question, and told to every member's sessions with the `GROUP_NOTICE`
    /// feature when it changes.
    GroupNotice {
        group: u64,
        by: String,
        time: Millis,
        text: String,
    },
    /// `GROUP_JOIN_REQUEST:<group_id>:<account>:<time>:<nickname>` — someone asks to join a group I own or
    /// administer (its policy is `approve`); live, and listed by `GROUP_REQUESTS`.
    GroupJoinRequest {
        group: u64,
        account: String,
        time: Millis,
        nickname: String,
    },
    /// `GROUP_REQUESTS_END:<count>` — end of the list of join requests.
    GroupRequestsEnd { count: u32 },
    /// `GROUP_JOIN_SENT:<group_id>` — my request to join was passed to the group's owner and admins.
    GroupJoinSent { group: u64 },
    /// `GROUP_JOIN_CLOSED:<group_id>:<account>` — a join request was answered (by me or another admin), to
    /// the owner's and admins' sessions.
    GroupJoinClosed { group: u64, account: String },
    /// `GROUP_JOIN_REJECTED:<group_id>` — my request to join was declined. (Accepted, it is `GROUP_INFO:`.)
    GroupJoinRejected { group: u64 },
    /// `GROUP_EVENT:<id>:<group_id>:<by>:<time>:<kind>:<account>:<value>` — a change to a group as its
    /// history keeps it ([`GroupEvent`]), live or from `SYNC:`/`HISTORY:`, to a session with the
    /// `GROUP_EVENT` feature (others get a `GROUP:` line saying what happened).
    GroupEvent(GroupEvent),
    /// `MEMBERS_END:<group_id>:<count>` — end of a member list.
    MembersEnd { group: u64, count: u32 },
    /// `MEMBER_LEFT:<group_id>:<account>:<left|kicked>` — someone else left the group or was kicked.
    MemberLeft {
        group: u64,
        account: String,
        reason: GoneReason,
    },
    /// `FILE_UPLOAD:<file_id>:<token>:<offset>` — upload the offered file on a data connection from `offset`.
    FileUpload {
        file: u64,
        token: String,
        offset: u64,
    },
    /// `FILE_DOWNLOAD:<file_id>:<token>:<size>` — download it on a data connection with this token.
    FileDownload { file: u64, token: String, size: u64 },
    /// `FILE_PROGRESS:<file_id>:<bytes>:<total>` — how far a transfer has got.
    FileProgress { file: u64, bytes: u64, total: u64 },
    /// `FILE_STATE:<file_id>:<uploaded|rejected|cancelled|expired|downloaded>`
    FileState { file: u64, state: FileState },
    /// `ERROR:<code>:<text>[:<about>]` — a request failed; the connection carries on. `about` names what the
    /// request was about when that helps a client (the `client_id` of a failed `MSG:`, an account, a group id).
    Error {
        code: ErrorCode,
        text: String,
        about: Option<String>,
    },
    /// `FEATURES:<names>` — the answer to a client's `FEATURES:`: the ones this server will send.
    Features { features: Features },
    /// `SAID:<id>:<user|group>:<to>:<from>:<time>:<client_id>:<mentions>:<reply_id>:<reply_from>:<reply_text>:<text>`
    /// — a stored message with mentions or a quote, to a session with the `SAID` feature. `reply_id` is `0`
    /// (and `reply_from`, `reply_text` empty) when it answers nothing; an empty `reply_text` otherwise
    /// means the quoted message was recalled.
    Said(SaidMessage),
    /// `RECALLED:<id>:<user|group>:<to>:<by>:<time>:<target_id>:<target_from>` — `by` recalled message
    /// `target_id` (sent by `target_from`) in this conversation; `id` is the recall's own place in the
    /// message sequence.
    Recalled(RecallMessage),
    /// `READ:<user|group>:<peer>:<up_to_id>` — I have read this conversation up to this id (on another
    /// session, or listed by `READS`).
    Read { conv: Conv, up_to: u64 },
    /// `READS_END:<count>` — end of my read marks.
    ReadsEnd { count: u32 },
    /// `TYPING:<account>` — this friend is typing to me; show it for a few seconds.
    Typing { from: String },
    /// `BLOCKED:<account>:<time>:<nickname>` — I block this account since `time`: the answer to `BLOCK:`
    /// (also to my other sessions with the `BLOCK` feature) and the items of `BLOCKS`.
    Blocked {
        account: String,
        time: Millis,
        nickname: String,
    },
    /// `UNBLOCKED:<account>` — I no longer block this account (the answer to `UNBLOCK:`, also to my
    /// other sessions with the `BLOCK` feature).
    Unblocked { account: String },
    /// `BLOCKS_END:<count>` — end of the list of accounts I block.
    BlocksEnd { count: u32 },
    /// `CATEGORY:<category_id>:<name>` — one of my friend groups (好友分组), as listed by `CATEGORIES` (in
    /// their order) or as just added or renamed (the answer to `CATEGORY_ADD:`/`CATEGORY_RENAME:`, also to
    /// my other sessions with the `CATEGORY` feature).
    Category { category: u64, name: String },
    /// `CATEGORIES_END:<count>` — end of my friend groups.
    CategoriesEnd { count: u32 },
    /// `CATEGORY_GONE:<category_id>` — this friend group was deleted and its friends are in the default
    /// group now (the answer to `CATEGORY_DEL:`, also to my other sessions with the `CATEGORY` feature).
    CategoryGone { category: u64 },
    /// `CATEGORY_ORDER:<id>,<id>,…` — my friend groups are in this order now (the answer to
    /// `CATEGORY_ORDER:`, also to my other sessions with the `CATEGORY` feature).
    CategoryOrder { categories: Vec<u64> },
    /// `AVATAR_OF:<user|group>:<id>:<sha256>` — whose avatar (头像) is the picture with this digest;
    /// `None` (an empty field): they have none. To a session with the `AVATAR` feature: after the items
    /// of a `FRIENDS`, `GROUPS` or `GROUP_MEMBERS` list (one per listed friend, group or member, after the
    /// `…_END` line), after a new friend's, new member's or joined group's line, after the answer to
    /// `PROFILE`, after a `REQUESTS` list and a new `FRIEND_REQUEST:`, and live when one changes. The session that set it is answered with it
    /// whatever its features. Fetch the picture with `AVATAR_GET:`.
    AvatarOf { of: Conv, sha256: Option<String> },
    /// `AVATAR:<sha256>:<base64>` — the picture with this digest (a PNG or JPEG): the answer to
    /// `AVATAR_GET:`.
    Avatar { sha256: String, image: Vec<u8> },
}

impl ServerMessage {
    /// A shorthand for an `ERROR:` line.
    pub fn error(code: ErrorCode, text: impl Into<String>) -> Self {
        ServerMessage::Error {
            code,
            text: text.into(),
            about: None,
        }
    }

    /// Parses one line without its terminator.
    pub fn parse(line: &str) -> Result<Self, ParseError> {
        use ServerMessage as M;
        if line.contains(['\r', '\n']) {
            return Err(ParseError::EmbeddedNewline);
        }
        let (verb, rest) = match line.split_once(':') {
            Some((verb, rest)) => (verb, Some(rest)),
            None => (line, None),
        };
        let f = |name: &'static str| Fields::new(name, rest);
        let presence = |f: &mut Fields<'_>| f.parsed("presence", Presence::parse);
        let flag = |f: &mut Fields<'_>, name| {
            f.parsed(name, |s| match s {
                "1" => Some(true),
                "0" => Some(false),
                _ => None,
            })
        };
        let msg = match verb {
            "" if rest.is_none() => return Err(ParseError::Empty),
            "RESIGER" => {
                let mut f = f("RESIGER");
                if f.parsed("ok", parse_bool)? {
                    let account = f.string("account")?;
                    f.end()?;
                    M::RegisterOk { account }
                } else {
                    let (code, text) = failure(f, ErrorCode::AccountTaken)?;
                    M::RegisterFailed { code, text }
                }
            }
            "LOGIN" => {
                let mut f = f("LOGIN");
                if f.parsed("ok", parse_bool)? {
                    let user_id = f.number("user_id")?;
                    let account = f.string("account")?;
                    let nickname = f.string("nickname")?;
                    let token = f.string("token")?;
                    let limits = f.parsed("limits", Limits::from_field)?;
                    f.end()?;
                    M::LoginOk {
                        user_id,
                        account,
                        nickname,
                        token,
                        limits,
                    }
                } else {
                    let (code, text) = failure(f, ErrorCode::BadCredentials)?;
                    M::LoginFailed { code, text }
                }
            }
            "BYE" => {
                let (code, text) = failure(f("BYE"), ErrorCode::Shutdown)?;
                M::Bye { code, text }
            }
            "PING" | "PONG" => {
                let name = if verb == "PING" { "PING" } else { "PONG" };
                let mut f = f(name);
                let nonce = f.number("nonce")?;
                f.end()?;
                if verb == "PING" {
                    M::Ping { nonce }
                } else {
                    M::Pong { nonce }
                }
            }
            "PROFILE" => {
                let mut f = f("PROFILE");
                let account = f.string("account")?;
                let nickname = f.string("nickname")?;
                let profile = if f.has_more() {
                    Some(profile(&mut f)?)
                } else {
                    None
                };
                f.end()?;
                M::Profile {
                    account,
                    nickname,
                    profile,
                }
            }
            "PASSWD" => {
                let mut f = f("PASSWD");
                f.parsed("ok", |s| (s == "true").then_some(()))?;
                f.end()?;
                M::PasswordChanged
            }
            "CONNECT_CLIENT" => {
                let mut f = f("CONNECT_CLIENT");
                let account = f.string("account")?;
                let presence = presence(&mut f)?;
                f.end()?;
                M::Presence { account, presence }
            }
            "FOUND" => {
                let mut f = f("FOUND");
                let account = f.string("account")?;
                let presence = presence(&mut f)?;
                let nickname = f.string("nickname")?;
                f.end()?;
                M::Found {
                    account,
                    presence,
                    nickname,
                }
            }
            "FOUND_END" => M::FoundEnd {
                count: count(f("FOUND_END"))?,
            },
            "FRIEND" => {
                let mut f = f("FRIEND");
                let account = f.string("account")?;
                let presence = presence(&mut f)?;
                let nickname = f.string("nickname")?;
                let remark = f.string("remark")?;
                // One trailing field is the friend group, three the profile, four both (the group first).
                let (category, profile) = match f.remaining() {
                    0 => (None, None),
                    1 => (Some(f.number("category_id")?), None),
                    3 => (None, Some(profile(&mut f)?)),
                    _ => (Some(f.number("category_id")?), Some(profile(&mut f)?)),
                };
                f.end()?;
                M::Friend {
                    account,
                    presence,
                    nickname,
                    remark,
                    category,
                    profile,
                }
            }
            "FRIENDS_END" => M::FriendsEnd {
                count: count(f("FRIENDS_END"))?,
            },
            "FRIEND_REQUEST" => {
                let mut f = f("FRIEND_REQUEST");
                let from = f.string("from")?;
                let time = f.number("time")?;
                let nickname = f.string("nickname")?;
                let note = f.string("note")?;
                f.end()?;
                M::FriendRequest {
                    from,
                    time,
                    nickname,
                    note,
                }
            }
            "REQUEST_WAITING" => {
                let mut f = f("REQUEST_WAITING");
                let to = f.string("to")?;
                let time = f.number("time")?;
                let nickname = f.string("nickname")?;
                f.end()?;
                M::RequestWaiting { to, time, nickname }
            }
            "REQUESTS_END" => M::RequestsEnd {
                count: count(f("REQUESTS_END"))?,
            },
            "REQUEST_SENT" => M::RequestSent {
                account: account(f("REQUEST_SENT"))?,
            },
            "REQUEST_CLOSED" => M::RequestClosed {
                account: account(f("REQUEST_CLOSED"))?,
            },
            "FRIEND_REJECTED" => M::FriendRejected {
                account: account(f("FRIEND_REJECTED"))?,
            },
            "FRIEND_REMOVED" => M::FriendRemoved {
                account: account(f("FRIEND_REMOVED"))?,
            },
            "MSG" => {
                let mut f = f("MSG");
                let id = f.number("id")?;
                let from = f.string("from")?;
                let to = f.string("to")?;
                let time = f.number("time")?;
                let client_id = f.string("client_id")?;
                let text = f.string("text")?;
                f.end()?;
                M::Msg(ChatMessage {
                    id,
                    from,
                    to,
                    time,
                    client_id,
                    text,
                })
            }
            "GROUP" => {
                let mut f = f("GROUP");
                let id = f.number("id")?;
                let group = f.number("group_id")?;
                let from = f.string("from")?;
                let time = f.number("time")?;
                let client_id = f.string("client_id")?;
                let text = f.string("text")?;
                f.end()?;
                M::GroupMsg(GroupMessage {
                    id,
                    group,
                    from,
                    time,
                    client_id,
                    text,
                })
            }
            "FileTran" => {
                let mut f = f("FileTran");
                let id = f.number("id")?;
                let from = f.string("from")?;
                let to = conv(&mut f)?;
                let time = f.number("time")?;
                let client_id = f.string("client_id")?;
                let file_id = f.number("file_id")?;
                let size = f.number("size")?;
                let sha256 = f.parsed("sha256", |s| is_sha256_hex(s).then(|| s.to_owned()))?;
                let name = f.string("name")?;
                f.end()?;
                M::FileOffer(FileMessage {
                    id,
                    from,
                    to,
                    time,
                    client_id,
                    file: FileInfo {
                        file_id,
                        size,
                        sha256,
                        name,
                    },
                })
            }
            "ACK" => {
                let mut f = f("ACK");
                let client_id = f.string("client_id")?;
                let id = f.number("id")?;
                let time = f.number("time")?;
                f.end()?;
                M::Ack {
                    client_id,
                    id,
                    time,
                }
            }
            "SYNC_END" => {
                let mut f = f("SYNC_END");
                let last_id = f.number("last_id")?;
                let more = flag(&mut f, "more")?;
                f.end()?;
                M::SyncEnd { last_id, more }
            }
            "HISTORY_END" => {
                let mut f = f("HISTORY_END");
                let conv = conv(&mut f)?;
                let count = f.number("count")?;
                let more = flag(&mut f, "more")?;
                f.end()?;
                M::HistoryEnd { conv, count, more }
            }
            "GROUP_INFO" => {
                let mut f = f("GROUP_INFO");
                let group = f.number("group_id")?;
                let owner = f.string("owner")?;
                let members = f.number("members")?;
                let name = f.string("name")?;
                f.end()?;
                M::GroupInfo {
                    group,
                    owner,
                    members,
                    name,
                }
            }
            "GROUP_POLICY" => {
                let mut f = f("GROUP_POLICY");
                let group = f.number("group_id")?;
                let policy = f.parsed("policy", JoinPolicy::parse)?;
                f.end()?;
                M::GroupPolicy { group, policy }
            }
            "GROUPS_END" => M::GroupsEnd {
                count: count(f("GROUPS_END"))?,
            },
            "GROUP_GONE" => {
                let mut f = f("GROUP_GONE");
                let group = f.number("group_id")?;
                let reason = f.parsed("reason", GoneReason::parse)?;
                f.end()?;
                M::GroupGone { group, reason }
            }
            "MEMBER" => {
                let mut f = f("MEMBER");
                let group = f.number("group_id")?;
                let account = f.string("account")?;
                let role = f.parsed("role", Role::parse)?;
                let presence = presence(&mut f)?;
                let nickname = f.string("nickname")?;
                // One trailing field is the mute, three the profile, four both (the mute first).
                let (muted_until, profile) = match f.remaining() {
                    0 => (None, None),
                    1 => (Some(f.number("muted_until")?), None),
                    3 => (None, Some(profile(&mut f)?)),
                    _ => (Some(f.number("muted_until")?), Some(profile(&mut f)?)),
                };
                f.end()?;
                M::Member {
                    group,
                    account,
                    role,
                    presence,
                    nickname,
                    muted_until,
                    profile,
                }
            }
            "GROUP_ROLE" => {
                let mut f = f("GROUP_ROLE");
                let group = f.number("group_id")?;
                let account = f.string("account")?;
                let role = f.parsed("role", Role::parse)?;
                f.end()?;
                M::GroupRole {
                    group,
                    account,
                    role,
                }
            }
            "GROUP_MUTE" => {
                let mut f = f("GROUP_MUTE");
                let group = f.number("group_id")?;
                let account = f.string("account")?;
                let until = f.number("until")?;
                f.end()?;
                M::GroupMute {
                    group,
                    account,
                    until,
                }
            }
            "GROUP_MUTE_ALL" => {
                let mut f = f("GROUP_MUTE_ALL");
                let group = f.number("group_id")?;
                let on = f.parsed("on", crate::client::on_off)?;
                f.end()?;
                M::GroupMuteAll { group, on }
            }
            "GROUP_NOTICE" => {
                let mut f = f("GROUP_NOTICE");
                let group = f.number("group_id")?;
                let by = f.string("by")?;
                let time = f.number("time")?;
                let text = f.string("text")?;
                f.end()?;
                M::GroupNotice {
                    group,
                    by,
                    time,
                    text,
                }
            }
            "GROUP_JOIN_REQUEST" => {
                let mut f = f("GROUP_JOIN_REQUEST");
                let group = f.number("group_id")?;
                let account = f.string("account")?;
                let time = f.number("time")?;
                let nickname = f.string("nickname")?;
                f.end()?;
                M::GroupJoinRequest {
                    group,
                    account,
                    time,
                    nickname,
                }
            }
            "GROUP_REQUESTS_END" => M::GroupRequestsEnd {
                count: count(f("GROUP_REQUESTS_END"))?,
            },
            "GROUP_JOIN_SENT" => {
                let mut f = f("GROUP_JOIN_SENT");
                let group = f.number("group_id")?;
                f.end()?;
                M::GroupJoinSent { group }
            }
            "GROUP_JOIN_CLOSED" => {
                let mut f = f("GROUP_JOIN_CLOSED");
                let group = f.number("group_id")?;
                let account = f.string("account")?;
                f.end()?;
                M::GroupJoinClosed { group, account }
            }
            "GROUP_JOIN_REJECTED" => {
                let mut f = f("GROUP_JOIN_REJECTED");
                let group = f.number("group_id")?;
                f.end()?;
                M::GroupJoinRejected { group }
            }
            "GROUP_EVENT" => {
                let mut f = f("GROUP_EVENT");
                let id = f.number("id")?;
                let group = f.number("group_id")?;
                let by = f.string("by")?;
                let time = f.number("time")?;
                let kind = f.parsed("kind", GroupEventKind::parse)?;
                let account = f.string("account")?;
                let value = f.string("value")?;
                f.end()?;
                M::GroupEvent(GroupEvent {
                    id,
                    group,
                    by,
                    time,
                    kind,
                    account,
                    value,
                })
            }
            "MEMBERS_END" => {
                let mut f = f("MEMBERS_END");
                let group = f.number("group_id")?;
                let count = f.number("count")?;
                f.end()?;
                M::MembersEnd { group, count }
            }
            "MEMBER_LEFT" => {
                let mut f = f("MEMBER_LEFT");
                let group = f.number("group_id")?;
                let account = f.string("account")?;
                let reason = f.parsed("reason", GoneReason::parse)?;
                f.end()?;
                M::MemberLeft {
                    group,
                    account,
                    reason,
                }
            }
            "FILE_UPLOAD" => {
                let mut f = f("FILE_UPLOAD");
                let file = f.number("file_id")?;
                let token = f.string("token")?;
                let offset = f.number("offset")?;
                f.end()?;
                M::FileUpload {
                    file,
                    token,
                    offset,
                }
            }
            "FILE_DOWNLOAD" => {
                let mut f = f("FILE_DOWNLOAD");
                let file = f.number("file_id")?;
                let token = f.string("token")?;
                let size = f.number("size")?;
                f.end()?;
                M::FileDownload { file, token, size }
            }
            "FILE_PROGRESS" => {
                let mut f = f("FILE_PROGRESS");
                let file = f.number("file_id")?;
                let bytes = f.number("bytes")?;
                let total = f.number("total")?;
                f.end()?;
                M::FileProgress { file, bytes, total }
            }
            "FILE_STATE" => {
                let mut f = f("FILE_STATE");
                let file = f.number("file_id")?;
                let state = f.parsed("state", FileState::parse)?;
                f.end()?;
                M::FileState { file, state }
            }
            "ERROR" => {
                let mut f = f("ERROR");
                let code = ErrorCode::parse(&f.nonempty("code")?);
                let text = f.string("text")?;
                let about = f.optional("about")?;
                f.end()?;
                M::Error { code, text, about }
            }
            "FEATURES" => {
                let mut f = f("FEATURES");
                let features = Features::from_field(&f.string("features")?);
                f.end()?;
                M::Features { features }
            }
            "SAID" => {
                let mut f = f("SAID");
                let id = f.number("id")?;
                let to = conv(&mut f)?;
                let from = f.string("from")?;
                let time = f.number("time")?;
                let client_id = f.string("client_id")?;
                let mentions = f.parsed("mentions", Mentions::from_field)?;
                let reply_id: u64 = f.number("reply_id")?;
                let reply_from = f.string("reply_from")?;
                let reply_text = f.string("reply_text")?;
                let text = f.string("text")?;
                f.end()?;
                M::Said(SaidMessage {
                    id,
                    to,
                    from,
                    time,
                    client_id,
                    mentions,
                    quote: (reply_id != 0).then_some(Quote {
                        id: reply_id,
                        from: reply_from,
                        text: reply_text,
                    }),
                    text,
                })
            }
            "RECALLED" => {
                let mut f = f("RECALLED");
                let id = f.number("id")?;
                let to = conv(&mut f)?;
                let by = f.string("by")?;
                let time = f.number("time")?;
                let target = f.number("target_id")?;
                let target_from = f.string("target_from")?;
                f.end()?;
                M::Recalled(RecallMessage {
                    id,
                    to,
                    by,
                    time,
                    target,
                    target_from,
                })
            }
            "READ" => {
                let mut f = f("READ");
                let conv = conv(&mut f)?;
                let up_to = f.number("up_to_id")?;
                f.end()?;
                M::Read { conv, up_to }
            }
            "READS_END" => M::ReadsEnd {
                count: count(f("READS_END"))?,
            },
            "TYPING" => M::Typing {
                from: account(f("TYPING"))?,
            },
            "BLOCKED" => {
                let mut f = f("BLOCKED");
                let account = f.string("account")?;
                let time = f.number("time")?;
                let nickname = f.string("nickname")?;
                f.end()?;
                M::Blocked {
                    account,
                    time,
                    nickname,
                }
            }
            "UNBLOCKED" => M::Unblocked {
                account: account(f("UNBLOCKED"))?,
            },
            "BLOCKS_END" => M::BlocksEnd {
                count: count(f("BLOCKS_END"))?,
            },
            "CATEGORY" => {
                let mut f = f("CATEGORY");
                let category = f.number("category_id")?;
                let name = f.string("name")?;
                f.end()?;
                M::Category { category, name }
            }
            "CATEGORIES_END" => M::CategoriesEnd {
                count: count(f("CATEGORIES_END"))?,
            },
            "CATEGORY_ORDER" => {
                let mut f = f("CATEGORY_ORDER");
                let categories = f.parsed("categories", crate::types::id_list)?;
                f.end()?;
                M::CategoryOrder { categories }
            }
            "CATEGORY_GONE" => {
                let mut f = f("CATEGORY_GONE");
                let category = f.number("category_id")?;
                f.end()?;
                M::CategoryGone { category }
            }
            "AVATAR_OF" => {
                let mut f = f("AVATAR_OF");
                let of = conv(&mut f)?;
                let sha256 = f.parsed("sha256", |s| {
                    if s.is_empty() {
                        Some(None)
                    } else {
                        is_sha256_hex(s).then(|| Some(s.to_owned()))
                    }
                })?;
                f.end()?;
                M::AvatarOf { of, sha256 }
            }
            "AVATAR" => {
                let mut f = f("AVATAR");
                let sha256 = f.parsed("sha256", |s| is_sha256_hex(s).then(|| s.to_owned()))?;
                let image = f.parsed("image", base64::decode)?;
                f.end()?;
                M::Avatar { sha256, image }
            }
            other => return Err(ParseError::UnknownVerb(other.to_owned())),
        };
        Ok(msg)
    }

    /// The line for this message, without a terminator.
    pub fn format(&self) -> String {
        use ServerMessage as M;
        let b = LineBuilder::new;
        let yes_no = |v: bool| if v { 1 } else { 0 };
        match self {
            M::RegisterOk { account } => b("RESIGER").field("true").field(account),
            M::RegisterFailed { code, text } => {
                b("RESIGER").field("false").field(code.as_str()).field(text)
            }
            M::LoginOk {
                user_id,
                account,
                nickname,
                token,
                limits,
            } => b("LOGIN")
                .field("true")
                .num(user_id)
                .field(account)
                .field(nickname)
                .field(token)
                .field(&limits.to_field()),
            M::LoginFailed { code, text } => {
                b("LOGIN").field("false").field(code.as_str()).field(text)
            }
            M::Bye { code, text } => b("BYE").field(code.as_str()).field(text),
            M::Ping { nonce } => b("PING").num(nonce),
            M::Pong { nonce } => b("PONG").num(nonce),
            M::Profile {
                account,
                nickname,
                profile,
            } => with_profile(b("PROFILE").field(account).field(nickname), profile),
            M::PasswordChanged => b("PASSWD").field("true"),
            M::Presence { account, presence } => {
                b("CONNECT_CLIENT").field(account).field(presence.as_str())
            }
            M::Found {
                account,
                presence,
                nickname,
            } => b("FOUND")
                .field(account)
                .field(presence.as_str())
                .field(nickname),
            M::FoundEnd { count } => b("FOUND_END").num(count),
            M::Friend {
                account,
                presence,
                nickname,
                remark,
                category,
                profile,
            } => {
                let line = b("FRIEND")
                    .field(account)
                    .field(presence.as_str())
                    .field(nickname)
                    .field(remark);
                let line = match category {
                    Some(category) => line.num(category),
                    None => line,
                };
                with_profile(line, profile)
            }
            M::FriendsEnd { count } => b("FRIENDS_END").num(count),
            M::FriendRequest {
                from,
                time,
                nickname,
                note,
            } => b("FRIEND_REQUEST")
                .field(from)
                .num(time)
                .field(nickname)
                .field(note),
            M::RequestWaiting { to, time, nickname } => {
                b("REQUEST_WAITING").field(to).num(time).field(nickname)
            }
            M::RequestsEnd { count } => b("REQUESTS_END").num(count),
            M::RequestSent { account } => b("REQUEST_SENT").field(account),
            M::RequestClosed { account } => b("REQUEST_CLOSED").field(account),
            M::FriendRejected { account } => b("FRIEND_REJECTED").field(account),
            M::FriendRemoved { account } => b("FRIEND_REMOVED").field(account),
            M::Msg(m) => b("MSG")
                .num(m.id)
                .field(&m.from)
                .field(&m.to)
                .num(m.time)
                .field(&m.client_id)
                .field(&m.text),
            M::GroupMsg(m) => b("GROUP")
                .num(m.id)
                .num(m.group)
                .field(&m.from)
                .num(m.time)
                .field(&m.client_id)
                .field(&m.text),
            M::FileOffer(m) => b("FileTran")
                .num(m.id)
                .field(&m.from)
                .field(m.to.kind())
                .field(&m.to.key())
                .num(m.time)
                .field(&m.client_id)
                .num(m.file.file_id)
                .num(m.file.size)
                .field(&m.file.sha256)
                .field(&m.file.name),
            M::Ack {
                client_id,
                id,
                time,
            } => b("ACK").field(client_id).num(id).num(time),
            M::SyncEnd { last_id, more } => b("SYNC_END").num(last_id).num(yes_no(*more)),
            M::HistoryEnd { conv, count, more } => b("HISTORY_END")
                .field(conv.kind())
                .field(&conv.key())
                .num(count)
                .num(yes_no(*more)),
            M::GroupInfo {
                group,
                owner,
                members,
                name,
            } => b("GROUP_INFO")
                .num(group)
                .field(owner)
                .num(members)
                .field(name),
            M::GroupPolicy { group, policy } => b("GROUP_POLICY").num(group).field(policy.as_str()),
            M::GroupsEnd { count } => b("GROUPS_END").num(count),
            M::GroupGone { group, reason } => b("GROUP_GONE").num(group).field(reason.as_str()),
            M::Member {
                group,
                account,
                role,
                presence,
                nickname,
                muted_until,
                profile,
            } => {
                let line = b("MEMBER")
                    .num(group)
                    .field(account)
                    .field(role.as_str())
                    .field(presence.as_str())
                    .field(nickname);
                let line = match muted_until {
                    Some(until) => line.num(until),
                    None => line,
                };
                with_profile(line, profile)
            }
            M::GroupRole {
                group,
                account,
                role,
            } => b("GROUP_ROLE")
                .num(group)
                .field(account)
                .field(role.as_str()),
            M::GroupMute {
                group,
                account,
                until,
            } => b("GROUP_MUTE").num(group).field(account).num(until),
            M::GroupMuteAll { group, on } => b("GROUP_MUTE_ALL")
                .num(group)
                .field(crate::client::on_off_str(*on)),
            M::GroupNotice {
                group,
                by,
                time,
                text,
            } => b("GROUP_NOTICE").num(group).field(by).num(time).field(text),
            M::GroupJoinRequest {
                group,
                account,
                time,
                nickname,
            } => b("GROUP_JOIN_REQUEST")
                .num(group)
                .field(account)
                .num(time)
                .field(nickname),
            M::GroupRequestsEnd { count } => b("GROUP_REQUESTS_END").num(count),
            M::GroupJoinSent { group } => b("GROUP_JOIN_SENT").num(group),
            M::GroupJoinClosed { group, account } => {
                b("GROUP_JOIN_CLOSED").num(group).field(account)
            }
            M::GroupJoinRejected { group } => b("GROUP_JOIN_REJECTED").num(group),
            M::GroupEvent(e) => b("GROUP_EVENT")
                .num(e.id)
                .num(e.group)
                .field(&e.by)
                .num(e.time)
                .field(e.kind.as_str())
                .field(&e.account)
                .field(&e.value),
            M::MembersEnd { group, count } => b("MEMBERS_END").num(group).num(count),
            M::MemberLeft {
                group,
                account,
                reason,
            } => b("MEMBER_LEFT")
                .num(group)
                .field(account)
                .field(reason.as_str()),
            M::FileUpload {
                file,
                token,
                offset,
            } => b("FILE_UPLOAD").num(file).field(token).num(offset),
            M::FileDownload { file, token, size } => {
                b("FILE_DOWNLOAD").num(file).field(token).num(size)
            }
            M::FileProgress { file, bytes, total } => {
                b("FILE_PROGRESS").num(file).num(bytes).num(total)
            }
            M::FileState { file, state } => b("FILE_STATE").num(file).field(state.as_str()),
            M::Error { code, text, about } => {
                let line = b("ERROR").field(code.as_str()).field(text);
                match about {
                    Some(about) => line.field(about),
                    None => line,
                }
            }
            M::Features { features } => b("FEATURES").field(&features.to_field()),
            M::Said(m) => {
                let (reply_id, reply_from, reply_text) = match &m.quote {
                    Some(q) => (q.id, q.from.as_str(), q.text.as_str()),
                    None => (0, "", ""),
                };
                b("SAID")
                    .num(m.id)
                    .field(m.to.kind())
                    .field(&m.to.key())
                    .field(&m.from)
                    .num(m.time)
                    .field(&m.client_id)
                    .field(&m.mentions.to_field())
                    .num(reply_id)
                    .field(reply_from)
                    .field(reply_text)
                    .field(&m.text)
            }
            M::Recalled(m) => b("RECALLED")
                .num(m.id)
                .field(m.to.kind())
                .field(&m.to.key())
                .field(&m.by)
                .num(m.time)
                .num(m.target)
                .field(&m.target_from),
            M::Read { conv, up_to } => b("READ").field(conv.kind()).field(&conv.key()).num(up_to),
            M::ReadsEnd { count } => b("READS_END").num(count),
            M::Typing { from } => b("TYPING").field(from),
            M::Blocked {
                account,
                time,
                nickname,
            } => b("BLOCKED").field(account).num(time).field(nickname),
            M::Unblocked { account } => b("UNBLOCKED").field(account),
            M::BlocksEnd { count } => b("BLOCKS_END").num(count),
            M::Category { category, name } => b("CATEGORY").num(category).field(name),
            M::CategoriesEnd { count } => b("CATEGORIES_END").num(count),
            M::CategoryGone { category } => b("CATEGORY_GONE").num(category),
            M::CategoryOrder { categories } => {
                b("CATEGORY_ORDER").field(&crate::types::id_list_field(categories))
            }
            M::AvatarOf { of, sha256 } => b("AVATAR_OF")
                .field(of.kind())
                .field(&of.key())
                .field(sha256.as_deref().unwrap_or("")),
            M::Avatar { sha256, image } => b("AVATAR").field(sha256).field(&base64::encode(image)),
        }
        .finish()
    }
}

impl std::fmt::Display for ServerMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.format())
    }
}

impl std::str::FromStr for ServerMessage {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// `<code>:<text>` of a failed reply. The original server sent a bare `LOGIN:false`, so both are optional.
fn failure(mut f: Fields<'_>, bare: ErrorCode) -> Result<(ErrorCode, String), ParseError> {
    let code = f.optional("code")?.unwrap_or_default();
    let text = f.optional("text")?.unwrap_or_default();
    f.end()?;
    let code = if code.is_empty() {
        bare
    } else {
        ErrorCode::parse(&code)
    };
    Ok((code, text))
}

/// The three [`Profile`] fields: `<gender>:<region>:<signature>`.
fn profile(f: &mut Fields<'_>) -> Result<Profile, ParseError> {
    let gender = f.parsed("gender", Gender::from_field)?;
    let region = f.string("region")?;
    let signature = f.string("signature")?;
    Ok(Profile {
        gender,
        region,
        signature,
    })
}

/// A line with the [`Profile`] fields at its end, if there is a profile.
fn with_profile(line: LineBuilder, profile: &Option<Profile>) -> LineBuilder {
    match profile {
        Some(p) => line
            .field(Gender::field(p.gender))
            .field(&p.region)
            .field(&p.signature),
        None => line,
    }
}

fn count(mut f: Fields<'_>) -> Result<u32, ParseError> {
    let count = f.number("count")?;
    f.end()?;
    Ok(count)
}

fn account(mut f: Fields<'_>) -> Result<String, ParseError> {
    let account = f.string("account")?;
    f.end()?;
    Ok(account)
}
