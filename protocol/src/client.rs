//! Lines a client sends to the server.

use crate::ParseError;
use crate::base64;
use crate::field::{Fields, LineBuilder};
use crate::types::{Conv, Features, Gender, JoinPolicy, Mentions, ProfileChange, is_sha256_hex};

/// One line from a client. Each variant's doc shows its exact wire form; `docs/protocol.md` has the replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// `RESIGER:<account>:<password>[:<nickname>]` — create an account (the original's spelling; `REGISTER:` is
    /// accepted too). Replies `RESIGER:true:<account>` or `RESIGER:false:<code>:<text>`.
    Register {
        account: String,
        password: String,
        nickname: Option<String>,
    },
    /// `LOGIN:<account>:<password>` — replies `LOGIN:true:…` or `LOGIN:false:<code>:<text>`.
    Login { account: String, password: String },
    /// `RESUME:<account>:<token>` — log in again with the session token from an earlier `LOGIN:true`, so a
    /// reconnect costs no password hash. Same replies as `LOGIN:`.
    Resume { account: String, token: String },
    /// `LOGOUT` — revoke this session's token; the server answers `BYE:logged_out:…` and closes.
    Logout,
    /// `PING:<nonce>` — heartbeat; answered with `PONG:<nonce>`. A bare `PING` is nonce 0.
    Ping { nonce: u64 },
    /// `PONG:<nonce>` — answer to the server's `PING:`.
    Pong { nonce: u64 },
    /// `SET_NICK:<nickname>` — change my nickname; replies `PROFILE:…`.
    SetNickname { nickname: String },
    /// `PASSWD:<old>:<new>` — change my password; revokes every other session token. Replies `PASSWD:true`.
    ChangePassword { old: String, new: String },
    /// `FIND:<query>` — search users by account or nickname; replies `FOUND:` lines and `FOUND_END:<count>`.
    FindUser { query: String },
    /// `ADD_FRIEND:<account>[:<note>]` — send a friend request with a note; replies `REQUEST_SENT:<account>`.
    FriendRequest { account: String, note: String },
    /// `ACCEPT_FRIEND:<account>` — accept a pending request; both sides get a `FRIEND:` line.
    AcceptFriend { account: String },
    /// `REJECT_FRIEND:<account>` — reject a pending request.
    RejectFriend { account: String },
    /// `DEL_FRIEND:<account>` — remove a friend on both sides; both get `FRIEND_REMOVED:<account>`.
    DeleteFriend { account: String },
    /// `REMARK:<account>:<remark>` — my private alias for a friend (empty clears it); replies `FRIEND:`.
    SetRemark { account: String, remark: String },
    /// `FRIENDS` — list my friends; replies `FRIEND:` lines and `FRIENDS_END:<count>`.
    ListFriends,
    /// `REQUESTS` — list friend requests waiting for me; replies `FRIEND_REQUEST:` lines and `REQUESTS_END:<count>`.
    ListRequests,
    /// `MSG:<to>:<client_id>:<text>` — a private message to a friend. `client_id` is chosen by the client and
    /// makes a resend idempotent. Replies `ACK:<client_id>:<id>:<time>` once stored.
    Msg {
        to: String,
        client_id: String,
        text: String,
    },
    /// `GROUP:<group_id>:<client_id>:<text>` — a message to a group I am in. Replies `ACK:` once stored.
    GroupMsg {
        group: u64,
        client_id: String,
        text: String,
    },
    /// `SYNC:<after_id>:<limit>` — every message for me with an id above `after_id`, oldest first, at most
    /// `limit`; then `SYNC_END:<last_id>:<more>`.
    Sync { after: u64, limit: u32 },
    /// `HISTORY:<user|group>:<peer>:<before_id>:<limit>` — a page of one conversation, newest first, below
    /// `before_id` (0 = from the newest); then `HISTORY_END:…`.
    History { conv: Conv, before: u64, limit: u32 },
    /// `GROUP_CREATE:<name>` — create a group that I own; replies `GROUP_INFO:…`.
    CreateGroup { name: String },
    /// `GROUP_JOIN:<group_id>` — join a group by its id: an `open` group at once (see `GROUP_POLICY`), an
    /// `approve` one by asking its owner and admins (replies `GROUP_JOIN_SENT:`); a group that takes members by
    /// invitation answers `invite_only`, and an open one a member who was removed `removed`.
    JoinGroup { group: u64 },
    /// `GROUP_LEAVE:<group_id>`
    LeaveGroup { group: u64 },
    /// `GROUP_INVITE:<group_id>:<account>` — add a friend to a group I am in.
    InviteToGroup { group: u64, account: String },
    /// `GROUP_KICK:<group_id>:<account>` — the owner, or an admin (plain members only).
    KickFromGroup { group: u64, account: String },
    /// `GROUP_DISSOLVE:<group_id>` — owner only.
    DissolveGroup { group: u64 },
    /// `GROUP_RENAME:<group_id>:<name>` — the owner or an admin.
    RenameGroup { group: u64, name: String },
    /// `GROUP_ADMIN:<group_id>:<account>:<on|off>` — owner only: make a member an admin, or a plain member
    /// again. Every member is told with `GROUP_ROLE:`.
    SetGroupAdmin {
        group: u64,
        account: String,
        admin: bool,
    },
    /// `GROUP_TRANSFER:<group_id>:<account>` — owner only: hand the group to another member, who becomes
    /// its owner; I become a plain member. Every member is told with `GROUP_ROLE:` and `GROUP_INFO:`.
    TransferGroup { group: u64, account: String },
    /// `GROUP_MUTE:<group_id>:<account>:<seconds>` — the owner or an admin mutes (禁言) a plain member for
    /// `seconds` (at most 30 days); `0` lifts it. Every member is told with the server's `GROUP_MUTE:`.
    MuteMember {
        group: u64,
        account: String,
        seconds: u64,
    },
    /// `GROUP_MUTE_ALL:<group_id>[:<on|off>]` — mute the whole group (only the owner and admins speak) or
    /// lift it (owner or admin; every member is told), or, without the switch, ask (any member).
    MuteAll { group: u64, on: Option<bool> },
    /// `GROUP_NOTICE:<group_id>[:<text>]` — set the group's announcement (群公告; owner or admin; `text` is
    /// free text, empty clears it; every member is told), or, without the text, ask for it (any member).
    /// Replies and tells with the server's `GROUP_NOTICE:`.
    GroupNotice { group: u64, text: Option<String> },
    /// `GROUP_JOIN_ANSWER:<group_id>:<account>:<yes|no>` — the owner or an admin lets a pending
    /// `GROUP_JOIN` request in, or not.
    AnswerJoin {
        group: u64,
        account: String,
        accept: bool,
    },
    /// `GROUP_REQUESTS` — the requests to join the groups I own or administer; replies `GROUP_JOIN_REQUEST:`
    /// lines and `GROUP_REQUESTS_END:<count>`.
    ListJoinRequests,
    /// `GROUP_POLICY:<group_id>[:<invite|open>]` — who may join with `GROUP_JOIN`: set it (owner only; every
    /// member is told with the server's `GROUP_POLICY:` line), or, without the policy, ask (any member).
    GroupPolicy {
        group: u64,
        policy: Option<JoinPolicy>,
    },
    /// `GROUP_MEMBERS:<group_id>` — replies `MEMBER:` lines and `MEMBERS_END:<group_id>:<count>`.
    ListMembers { group: u64 },
    /// `GROUPS` — my groups; replies `GROUP_INFO:` lines and `GROUPS_END:<count>`.
    ListGroups,
    /// `FileTran:<user|group>:<to>:<client_id>:<size>:<sha256>:<name>` — offer a file (the original's verb).
    /// Replies `FILE_UPLOAD:<file_id>:<token>:<offset>`: where to start the upload on a data connection.
    FileOffer {
        to: Conv,
        client_id: String,
        size: u64,
        sha256: String,
        name: String,
    },
    /// `FILE_ACCEPT:<file_id>` — I want to download it; replies `FILE_DOWNLOAD:<file_id>:<token>:<size>`.
    FileAccept { file: u64 },
    /// `FILE_REJECT:<file_id>` — I do not want it; the sender is told.
    FileReject { file: u64 },
    /// `FILE_CANCEL:<file_id>` — the sender withdraws the file.
    FileCancel { file: u64 },
    /// `FILE_PUT:<token>:<offset>` — first line of a data connection: raw file bytes from `offset` follow.
    FilePut { token: String, offset: u64 },
    /// `FILE_GET:<token>:<offset>` — first line of a data connection: the server sends raw bytes from `offset`.
    FileGet { token: String, offset: u64 },
    /// `FEATURES:<names>` — the server lines beyond the original ones this client understands (`SAID`,
    /// `RECALLED`, `READ`, `TYPING`, `GROUP_ROLE`, `GROUP_MUTE`, `GROUP_NOTICE`, `GROUP_EVENT`, joined by `,`; unknown names are skipped). Works before logging in.
    /// Replies `FEATURES:<the ones this server sends>`.
    Features { features: Features },
    /// `SEND:<user|group>:<to>:<client_id>:<reply_id>:<mentions>:<text>` — a message with a quote or
    /// mentions. `reply_id` is the id of the message answered (`0`: none); `mentions` as [`Mentions`]
    /// (empty: none; group messages only). `text` is free text. Replies `ACK:` once stored, as `MSG:`.
    Send {
        to: Conv,
        client_id: String,
        reply_to: Option<u64>,
        mentions: Mentions,
        text: String,
    },
    /// `RECALL:<id>` — take back a message: my own within the server's `recall` limit; in a group, at any
    /// time, any if I own it, or mine and plain members' if I am an admin. Everyone in the conversation gets `RECALLED:…` (or, without that feature, a message saying so).
    Recall { id: u64 },
    /// `READ:<user|group>:<peer>:<up_to_id>` — I have read this conversation up to this message id. My
    /// other sessions get `READ:` with the same fields; the server keeps the highest mark.
    Read { conv: Conv, up_to: u64 },
    /// `READS` — my read marks; replies `READ:` per conversation that has one, then `READS_END:<count>`.
    ListReads,
    /// `TYPING:<account>` — I am typing to this friend (private chats only). Never stored; the friend's
    /// sessions with the `TYPING` feature get `TYPING:<me>`.
    Typing { to: String },
    /// `SET_PROFILE:<sign|gender|region>:<value>` — change one part of my profile: `SET_PROFILE:sign:今天也要加油`,
    /// `SET_PROFILE:gender:female` (`male`/`female`/`other`, empty: not said), `SET_PROFILE:region:上海`.
    /// `value` is free text; empty clears. Replies `PROFILE:<me>:…`; friends and fellow group members with the
    /// `PROFILE` feature are told with `PROFILE:` too.
    SetProfile { change: ProfileChange },
    /// `PROFILE[:<account>]` — ask for someone's profile (mine without the account); replies
    /// `PROFILE:<account>:<nickname>:<gender>:<region>:<signature>`.
    GetProfile { account: Option<String> },
    /// `BLOCK:<account>` — block (拉黑) someone: their private messages, file offers and friend requests
    /// to me are dropped without telling them. Replies `BLOCKED:<account>:<time>:<nickname>`.
    Block { account: String },
    /// `UNBLOCK:<account>` — stop blocking them; replies `UNBLOCKED:<account>`.
    Unblock { account: String },
    /// `BLOCKS` — the accounts I block; replies `BLOCKED:` lines and `BLOCKS_END:<count>`.
    ListBlocks,
    /// `CATEGORIES` — my friend groups (好友分组) in their order; replies `CATEGORY:` lines and
    /// `CATEGORIES_END:<count>`. The default group ("我的好友", id 0) is not listed: every user has it.
    ListCategories,
    /// `CATEGORY_ADD:<name>` — a new friend group, last in order; replies `CATEGORY:<id>:<name>`.
    AddCategory { name: String },
    /// `CATEGORY_RENAME:<category_id>:<name>` — replies `CATEGORY:<id>:<name>`.
    RenameCategory { category: u64, name: String },
    /// `CATEGORY_DEL:<category_id>` — delete a friend group; its friends go back to the default group.
    /// Replies `CATEGORY_GONE:<id>`.
    DeleteCategory { category: u64 },
    /// `FRIEND_MOVE:<account>:<category_id>` — put a friend into one of my groups (`0`: the default).
    /// Replies `FRIEND:` with the new group.
    MoveFriend { account: String, category: u64 },
    /// `CATEGORY_ORDER:<id>,<id>,…` — my friend groups in a new order: every one of them, once each
    /// (the default group stays first and is not named). Replies `CATEGORY_ORDER:` with the order kept.
    OrderCategories { categories: Vec<u64> },
    /// `SET_AVATAR[:<base64>]` — my avatar (头像): a PNG or JPEG of at most `avatar` bytes, in base64
    /// (`SET_AVATAR:iVBORw0KGgo…`); empty or left off clears it. Replies `AVATAR_OF:user:<me>:<sha256>`;
    /// friends and fellow group members with the `AVATAR` feature are told the same line.
    SetAvatar { image: Vec<u8> },
    /// `GROUP_AVATAR:<group_id>[:<base64>]` — the group's avatar, as `SET_AVATAR:` (owner and admins
    /// only); every member's sessions with the `AVATAR` feature get `AVATAR_OF:group:<group_id>:<sha256>`.
    SetGroupAvatar { group: u64, image: Vec<u8> },
    /// `AVATAR_GET:<sha256>` — the picture with this digest (from an `AVATAR_OF:` line); replies
    /// `AVATAR:<sha256>:<base64>`.
    GetAvatar { sha256: String },
}

impl ClientMessage {
    /// Parses one line without its terminator.
    pub fn parse(line: &str) -> Result<Self, ParseError> {
        use ClientMessage as M;
        if line.contains(['\r', '\n']) {
            return Err(ParseError::EmbeddedNewline);
        }
        let (verb, rest) = match line.split_once(':') {
            Some((verb, rest)) => (verb, Some(rest)),
            None => (line, None),
        };
        let f = |name: &'static str| Fields::new(name, rest);
        let msg = match verb {
            "" if rest.is_none() => return Err(ParseError::Empty),
            "RESIGER" | "REGISTER" => {
                let mut f = f("RESIGER");
                let account = f.nonempty("account")?;
                let password = f.string("password")?;
                // The nickname is free text like `SET_NICK:`'s, so it takes the rest of the line.
                let nickname = f.text_optional()?;
                M::Register {
                    account,
                    password,
                    nickname,
                }
            }
            "LOGIN" => {
                let mut f = f("LOGIN");
                let account = f.nonempty("account")?;
                let password = f.string("password")?;
                f.end()?;
                M::Login { account, password }
            }
            "RESUME" => {
                let mut f = f("RESUME");
                let account = f.nonempty("account")?;
                let token = f.nonempty("token")?;
                f.end()?;
                M::Resume { account, token }
            }
            "LOGOUT" => {
                f("LOGOUT").end()?;
                M::Logout
            }
            "PING" | "PONG" => {
                let name = if verb == "PING" { "PING" } else { "PONG" };
                let mut f = f(name);
                let nonce = if rest.is_some() {
                    f.number("nonce")?
                } else {
                    0
                };
                f.end()?;
                if verb == "PING" {
                    M::Ping { nonce }
                } else {
                    M::Pong { nonce }
                }
            }
            "SET_NICK" => M::SetNickname {
                nickname: f("SET_NICK").text("nickname")?,
            },
            "PASSWD" => {
                let mut f = f("PASSWD");
                let old = f.string("old")?;
                let new = f.string("new")?;
                f.end()?;
                M::ChangePassword { old, new }
            }
            "FIND" => M::FindUser {
                query: f("FIND").text("query")?,
            },
            "ADD_FRIEND" => {
                let mut f = f("ADD_FRIEND");
                let account = f.nonempty("account")?;
                let note = f.text_or_empty()?;
                M::FriendRequest { account, note }
            }
            "ACCEPT_FRIEND" => M::AcceptFriend {
                account: one_account(f("ACCEPT_FRIEND"))?,
            },
            "REJECT_FRIEND" => M::RejectFriend {
                account: one_account(f("REJECT_FRIEND"))?,
            },
            "DEL_FRIEND" => M::DeleteFriend {
                account: one_account(f("DEL_FRIEND"))?,
            },
            "REMARK" => {
                let mut f = f("REMARK");
                let account = f.nonempty("account")?;
                let remark = f.text_or_empty()?;
                M::SetRemark { account, remark }
            }
            "FRIENDS" => {
                f("FRIENDS").end()?;
                M::ListFriends
            }
            "REQUESTS" => {
                f("REQUESTS").end()?;
                M::ListRequests
            }
            "MSG" => {
                let mut f = f("MSG");
                let to = f.nonempty("to")?;
                let client_id = f.nonempty("client_id")?;
                let text = f.text("text")?;
                M::Msg {
                    to,
                    client_id,
                    text,
                }
            }
            "GROUP" => {
                let mut f = f("GROUP");
                let group = f.number("group_id")?;
                let client_id = f.nonempty("client_id")?;
                let text = f.text("text")?;
                M::GroupMsg {
                    group,
                    client_id,
                    text,
                }
            }
            "SYNC" => {
                let mut f = f("SYNC");
                let after = f.number("after_id")?;
                let limit = f.number("limit")?;
                f.end()?;
                M::Sync { after, limit }
            }
            "HISTORY" => {
                let mut f = f("HISTORY");
                let conv = conv(&mut f)?;
                let before = f.number("before_id")?;
                let limit = f.number("limit")?;
                f.end()?;
                M::History {
                    conv,
                    before,
                    limit,
                }
            }
            "GROUP_CREATE" => M::CreateGroup {
                name: f("GROUP_CREATE").text("name")?,
            },
            "GROUP_JOIN" => M::JoinGroup {
                group: one_group(f("GROUP_JOIN"))?,
            },
            "GROUP_LEAVE" => M::LeaveGroup {
                group: one_group(f("GROUP_LEAVE"))?,
            },
            "GROUP_INVITE" | "GROUP_KICK" => {
                let name = if verb == "GROUP_INVITE" {
                    "GROUP_INVITE"
                } else {
                    "GROUP_KICK"
                };
                let mut f = f(name);
                let group = f.number("group_id")?;
                let account = f.nonempty("account")?;
                f.end()?;
                if verb == "GROUP_INVITE" {
                    M::InviteToGroup { group, account }
                } else {
                    M::KickFromGroup { group, account }
                }
            }
            "GROUP_DISSOLVE" => M::DissolveGroup {
                group: one_group(f("GROUP_DISSOLVE"))?,
            },
            "GROUP_RENAME" => {
                let mut f = f("GROUP_RENAME");
                let group = f.number("group_id")?;
                let name = f.text("name")?;
                M::RenameGroup { group, name }
            }
            "GROUP_ADMIN" => {
                let mut f = f("GROUP_ADMIN");
                let group = f.number("group_id")?;
                let account = f.nonempty("account")?;
                let admin = f.parsed("admin", on_off)?;
                f.end()?;
                M::SetGroupAdmin {
                    group,
                    account,
                    admin,
                }
            }
            "GROUP_TRANSFER" => {
                let mut f = f("GROUP_TRANSFER");
                let group = f.number("group_id")?;
                let account = f.nonempty("account")?;
                f.end()?;
                M::TransferGroup { group, account }
            }
            "GROUP_MUTE" => {
                let mut f = f("GROUP_MUTE");
                let group = f.number("group_id")?;
                let account = f.nonempty("account")?;
                let seconds = f.number("seconds")?;
                f.end()?;
                M::MuteMember {
                    group,
                    account,
                    seconds,
                }
            }
            "GROUP_MUTE_ALL" => {
                let mut f = f("GROUP_MUTE_ALL");
                let group = f.number("group_id")?;
                let on = match f.optional("on")? {
                    None => None,
                    Some(s) => Some(on_off(&s).ok_or(ParseError::InvalidValue {
                        verb: "GROUP_MUTE_ALL",
                        field: "on",
                        value: s,
                    })?),
                };
                f.end()?;
                M::MuteAll { group, on }
            }
            "GROUP_JOIN_ANSWER" => {
                let mut f = f("GROUP_JOIN_ANSWER");
                let group = f.number("group_id")?;
                let account = f.nonempty("account")?;
                let accept = f.parsed("answer", |s| match s {
                    "yes" => Some(true),
                    "no" => Some(false),
                    _ => None,
                })?;
                f.end()?;
                M::AnswerJoin {
                    group,
                    account,
                    accept,
                }
            }
            "GROUP_REQUESTS" => {
                f("GROUP_REQUESTS").end()?;
                M::ListJoinRequests
            }
            "GROUP_NOTICE" => {
                let mut f = f("GROUP_NOTICE");
                let group = f.number("group_id")?;
                // Free text to the end of the line, so a typed announcement needs no escaping; only a
                // line that stops at the group id asks.
                let text = f.text_optional()?;
                M::GroupNotice { group, text }
            }
            "GROUP_POLICY" => {
                let mut f = f("GROUP_POLICY");
                let group = f.number("group_id")?;
                let policy = match f.optional("policy")? {
                    None => None,
                    Some(p) => Some(JoinPolicy::parse(&p).ok_or(ParseError::InvalidValue {
                        verb: "GROUP_POLICY",
                        field: "policy",
                        value: p,
                    })?),
                };
                f.end()?;
                M::GroupPolicy { group, policy }
            }
            "GROUP_MEMBERS" => M::ListMembers {
                group: one_group(f("GROUP_MEMBERS"))?,
            },
            "GROUPS" => {
                f("GROUPS").end()?;
                M::ListGroups
            }
            "FileTran" => {
                let mut f = f("FileTran");
                let to = conv(&mut f)?;
                let client_id = f.nonempty("client_id")?;
                let size = f.number("size")?;
                let sha256 = f.parsed("sha256", |s| is_sha256_hex(s).then(|| s.to_owned()))?;
                let name = f.text("name")?;
                M::FileOffer {
                    to,
                    client_id,
                    size,
                    sha256,
                    name,
                }
            }
            "FILE_ACCEPT" => M::FileAccept {
                file: one_file(f("FILE_ACCEPT"))?,
            },
            "FILE_REJECT" => M::FileReject {
                file: one_file(f("FILE_REJECT"))?,
            },
            "FILE_CANCEL" => M::FileCancel {
                file: one_file(f("FILE_CANCEL"))?,
            },
            "FILE_PUT" | "FILE_GET" => {
                let name = if verb == "FILE_PUT" {
                    "FILE_PUT"
                } else {
                    "FILE_GET"
                };
                let mut f = f(name);
                let token = f.nonempty("token")?;
                let offset = f.number("offset")?;
                f.end()?;
                if verb == "FILE_PUT" {
                    M::FilePut { token, offset }
                } else {
                    M::FileGet { token, offset }
                }
            }
            "FEATURES" => {
                let mut f = f("FEATURES");
                let features = Features::from_field(&f.string("features")?);
                f.end()?;
                M::Features { features }
            }
            "SEND" => {
                let mut f = f("SEND");
                let to = conv(&mut f)?;
                let client_id = f.nonempty("client_id")?;
                let reply_to = f.number::<u64>("reply_id")?;
                let mentions = f.parsed("mentions", Mentions::from_field)?;
                let text = f.text("text")?;
                M::Send {
                    to,
                    client_id,
                    reply_to: (reply_to != 0).then_some(reply_to),
                    mentions,
                    text,
                }
            }
            "RECALL" => {
                let mut f = f("RECALL");
                let id = f.number("id")?;
                f.end()?;
                M::Recall { id }
            }
            "READ" => {
                let mut f = f("READ");
                let conv = conv(&mut f)?;
                let up_to = f.number("up_to_id")?;
                f.end()?;
                M::Read { conv, up_to }
            }
            "READS" => {
                f("READS").end()?;
                M::ListReads
            }
            "TYPING" => M::Typing {
                to: one_account(f("TYPING"))?,
            },
            "SET_PROFILE" => {
                let mut f = f("SET_PROFILE");
                let field = f.string("field")?;
                // Free text to the end of the line, so a typed signature needs no escaping; left off, it
                // is empty (clears).
                let value = f.text_or_empty()?;
                let invalid = |field, value| ParseError::InvalidValue {
                    verb: "SET_PROFILE",
                    field,
                    value,
                };
                let change = match field.as_str() {
                    "sign" => ProfileChange::Signature(value),
                    "region" => ProfileChange::Region(value),
                    "gender" => ProfileChange::Gender(
                        Gender::from_field(&value).ok_or_else(|| invalid("gender", value))?,
                    ),
                    _ => return Err(invalid("field", field)),
                };
                M::SetProfile { change }
            }
            "PROFILE" => {
                let mut f = f("PROFILE");
                let account = match f.optional("account")? {
                    Some(a) if a.is_empty() => {
                        return Err(ParseError::EmptyField {
                            verb: "PROFILE",
                            field: "account",
                        });
                    }
                    other => other,
                };
                f.end()?;
                M::GetProfile { account }
            }
            "BLOCK" => M::Block {
                account: one_account(f("BLOCK"))?,
            },
            "UNBLOCK" => M::Unblock {
                account: one_account(f("UNBLOCK"))?,
            },
            "BLOCKS" => {
                f("BLOCKS").end()?;
                M::ListBlocks
            }
            "CATEGORIES" => {
                f("CATEGORIES").end()?;
                M::ListCategories
            }
            "CATEGORY_ADD" => M::AddCategory {
                name: f("CATEGORY_ADD").text("name")?,
            },
            "CATEGORY_RENAME" => {
                let mut f = f("CATEGORY_RENAME");
                let category = f.number("category_id")?;
                let name = f.text("name")?;
                M::RenameCategory { category, name }
            }
            "CATEGORY_DEL" => {
                let mut f = f("CATEGORY_DEL");
                let category = f.number("category_id")?;
                f.end()?;
                M::DeleteCategory { category }
            }
            "CATEGORY_ORDER" => {
                let mut f = f("CATEGORY_ORDER");
                let categories = f.parsed("categories", crate::types::id_list)?;
                f.end()?;
                M::OrderCategories { categories }
            }
            "FRIEND_MOVE" => {
                let mut f = f("FRIEND_MOVE");
                let account = f.nonempty("account")?;
                let category = f.number("category_id")?;
                f.end()?;
                M::MoveFriend { account, category }
            }
            "SET_AVATAR" => {
                let mut f = f("SET_AVATAR");
                let image = image(&mut f)?;
                f.end()?;
                M::SetAvatar { image }
            }
            "GROUP_AVATAR" => {
                let mut f = f("GROUP_AVATAR");
                let group = f.number("group_id")?;
                let image = image(&mut f)?;
                f.end()?;
                M::SetGroupAvatar { group, image }
            }
            "AVATAR_GET" => {
                let mut f = f("AVATAR_GET");
                let sha256 = f.parsed("sha256", |s| is_sha256_hex(s).then(|| s.to_owned()))?;
                f.end()?;
                M::GetAvatar { sha256 }
            }
            other => return Err(ParseError::UnknownVerb(other.to_owned())),
        };
        Ok(msg)
    }

    /// The line for this message, without a terminator.
    pub fn format(&self) -> String {
        use ClientMessage as M;
        let b = LineBuilder::new;
        match self {
            M::Register {
                account,
                password,
                nickname,
            } => {
                let line = b("RESIGER").field(account).field(password);
                match nickname {
                    Some(nick) => line.field(nick),
                    None => line,
                }
            }
            M::Login { account, password } => b("LOGIN").field(account).field(password),
            M::Resume { account, token } => b("RESUME").field(account).field(token),
            M::Logout => b("LOGOUT"),
            M::Ping { nonce } => b("PING").num(nonce),
            M::Pong { nonce } => b("PONG").num(nonce),
            M::SetNickname { nickname } => b("SET_NICK").field(nickname),
            M::ChangePassword { old, new } => b("PASSWD").field(old).field(new),
            M::FindUser { query } => b("FIND").field(query),
            M::FriendRequest { account, note } => b("ADD_FRIEND").field(account).field(note),
            M::AcceptFriend { account } => b("ACCEPT_FRIEND").field(account),
            M::RejectFriend { account } => b("REJECT_FRIEND").field(account),
            M::DeleteFriend { account } => b("DEL_FRIEND").field(account),
            M::SetRemark { account, remark } => b("REMARK").field(account).field(remark),
            M::ListFriends => b("FRIENDS"),
            M::ListRequests => b("REQUESTS"),
            M::Msg {
                to,
                client_id,
                text,
            } => b("MSG").field(to).field(client_id).field(text),
            M::GroupMsg {
                group,
                client_id,
                text,
            } => b("GROUP").num(group).field(client_id).field(text),
            M::Sync { after, limit } => b("SYNC").num(after).num(limit),
            M::History {
                conv,
                before,
                limit,
            } => b("HISTORY")
                .field(conv.kind())
                .field(&conv.key())
                .num(before)
                .num(limit),
            M::CreateGroup { name } => b("GROUP_CREATE").field(name),
            M::JoinGroup { group } => b("GROUP_JOIN").num(group),
            M::LeaveGroup { group } => b("GROUP_LEAVE").num(group),
            M::InviteToGroup { group, account } => b("GROUP_INVITE").num(group).field(account),
            M::KickFromGroup { group, account } => b("GROUP_KICK").num(group).field(account),
            M::DissolveGroup { group } => b("GROUP_DISSOLVE").num(group),
            M::RenameGroup { group, name } => b("GROUP_RENAME").num(group).field(name),
            M::SetGroupAdmin {
                group,
                account,
                admin,
            } => b("GROUP_ADMIN")
                .num(group)
                .field(account)
                .field(on_off_str(*admin)),
            M::TransferGroup { group, account } => b("GROUP_TRANSFER").num(group).field(account),
            M::MuteMember {
                group,
                account,
                seconds,
            } => b("GROUP_MUTE").num(group).field(account).num(seconds),
            M::AnswerJoin {
                group,
                account,
                accept,
            } => b("GROUP_JOIN_ANSWER")
                .num(group)
                .field(account)
                .field(if *accept { "yes" } else { "no" }),
            M::ListJoinRequests => b("GROUP_REQUESTS"),
            M::GroupNotice { group, text } => match text {
                Some(text) => b("GROUP_NOTICE").num(group).field(text),
                None => b("GROUP_NOTICE").num(group),
            },
            M::MuteAll { group, on } => match on {
                Some(on) => b("GROUP_MUTE_ALL").num(group).field(on_off_str(*on)),
                None => b("GROUP_MUTE_ALL").num(group),
            },
            M::ListMembers { group } => b("GROUP_MEMBERS").num(group),
            M::GroupPolicy { group, policy } => match policy {
                Some(policy) => b("GROUP_POLICY").num(group).field(policy.as_str()),
                None => b("GROUP_POLICY").num(group),
            },
            M::ListGroups => b("GROUPS"),
            M::FileOffer {
                to,
                client_id,
                size,
                sha256,
                name,
            } => b("FileTran")
                .field(to.kind())
                .field(&to.key())
                .field(client_id)
                .num(size)
                .field(sha256)
                .field(name),
            M::FileAccept { file } => b("FILE_ACCEPT").num(file),
            M::FileReject { file } => b("FILE_REJECT").num(file),
            M::FileCancel { file } => b("FILE_CANCEL").num(file),
            M::FilePut { token, offset } => b("FILE_PUT").field(token).num(offset),
            M::FileGet { token, offset } => b("FILE_GET").field(token).num(offset),
            M::Features { features } => b("FEATURES").field(&features.to_field()),
            M::Send {
                to,
                client_id,
                reply_to,
                mentions,
                text,
            } => b("SEND")
                .field(to.kind())
                .field(&to.key())
                .field(client_id)
                .num(reply_to.unwrap_or(0))
                .field(&mentions.to_field())
                .field(text),
            M::Recall { id } => b("RECALL").num(id),
            M::Read { conv, up_to } => b("READ").field(conv.kind()).field(&conv.key()).num(up_to),
            M::ListReads => b("READS"),
            M::Typing { to } => b("TYPING").field(to),
            M::SetProfile { change } => {
                b("SET_PROFILE").field(change.field()).field(change.value())
            }
            M::GetProfile { account } => match account {
                Some(account) => b("PROFILE").field(account),
                None => b("PROFILE"),
            },
            M::Block { account } => b("BLOCK").field(account),
            M::Unblock { account } => b("UNBLOCK").field(account),
            M::ListBlocks => b("BLOCKS"),
            M::ListCategories => b("CATEGORIES"),
            M::AddCategory { name } => b("CATEGORY_ADD").field(name),
            M::RenameCategory { category, name } => b("CATEGORY_RENAME").num(category).field(name),
            M::DeleteCategory { category } => b("CATEGORY_DEL").num(category),
            M::MoveFriend { account, category } => b("FRIEND_MOVE").field(account).num(category),
            M::OrderCategories { categories } => {
                b("CATEGORY_ORDER").field(&crate::types::id_list_field(categories))
            }
            M::SetAvatar { image } => b("SET_AVATAR").field(&base64::encode(image)),
            M::SetGroupAvatar { group, image } => {
                b("GROUP_AVATAR").num(group).field(&base64::encode(image))
            }
            M::GetAvatar { sha256 } => b("AVATAR_GET").field(sha256),
        }
        .finish()
    }

    /// The wire verb, for logs that must not contain message text or passwords.
    pub fn verb(&self) -> &'static str {
        use ClientMessage as M;
        match self {
            M::Register { .. } => "RESIGER",
            M::Login { .. } => "LOGIN",
            M::Resume { .. } => "RESUME",
            M::Logout => "LOGOUT",
            M::Ping { .. } => "PING",
            M::Pong { .. } => "PONG",
            M::SetNickname { .. } => "SET_NICK",
            M::ChangePassword { .. } => "PASSWD",
            M::FindUser { .. } => "FIND",
            M::FriendRequest { .. } => "ADD_FRIEND",
            M::AcceptFriend { .. } => "ACCEPT_FRIEND",
            M::RejectFriend { .. } => "REJECT_FRIEND",
            M::DeleteFriend { .. } => "DEL_FRIEND",
            M::SetRemark { .. } => "REMARK",
            M::ListFriends => "FRIENDS",
            M::ListRequests => "REQUESTS",
            M::Msg { .. } => "MSG",
            M::GroupMsg { .. } => "GROUP",
            M::Sync { .. } => "SYNC",
            M::History { .. } => "HISTORY",
            M::CreateGroup { .. } => "GROUP_CREATE",
            M::JoinGroup { .. } => "GROUP_JOIN",
            M::LeaveGroup { .. } => "GROUP_LEAVE",
            M::InviteToGroup { .. } => "GROUP_INVITE",
            M::KickFromGroup { .. } => "GROUP_KICK",
            M::DissolveGroup { .. } => "GROUP_DISSOLVE",
            M::RenameGroup { .. } => "GROUP_RENAME",
            M::SetGroupAdmin { .. } => "GROUP_ADMIN",
            M::TransferGroup { .. } => "GROUP_TRANSFER",
            M::MuteMember { .. } => "GROUP_MUTE",
            M::MuteAll { .. } => "GROUP_MUTE_ALL",
            M::GroupNotice { .. } => "GROUP_NOTICE",
            M::AnswerJoin { .. } => "GROUP_JOIN_ANSWER",
            M::ListJoinRequests => "GROUP_REQUESTS",
            M::ListMembers { .. } => "GROUP_MEMBERS",
            M::GroupPolicy { .. } => "GROUP_POLICY",
            M::ListGroups => "GROUPS",
            M::FileOffer { .. } => "FileTran",
            M::FileAccept { .. } => "FILE_ACCEPT",
            M::FileReject { .. } => "FILE_REJECT",
            M::FileCancel { .. } => "FILE_CANCEL",
            M::FilePut { .. } => "FILE_PUT",
            M::FileGet { .. } => "FILE_GET",
            M::Features { .. } => "FEATURES",
            M::Send { .. } => "SEND",
            M::Recall { .. } => "RECALL",
            M::Read { .. } => "READ",
            M::ListReads => "READS",
            M::Typing { .. } => "TYPING",
            M::SetProfile { .. } => "SET_PROFILE",
            M::GetProfile { .. } => "PROFILE",
            M::Block { .. } => "BLOCK",
            M::Unblock { .. } => "UNBLOCK",
            M::ListBlocks => "BLOCKS",
            M::ListCategories => "CATEGORIES",
            M::AddCategory { .. } => "CATEGORY_ADD",
            M::RenameCategory { .. } => "CATEGORY_RENAME",
            M::DeleteCategory { .. } => "CATEGORY_DEL",
            M::MoveFriend { .. } => "FRIEND_MOVE",
            M::OrderCategories { .. } => "CATEGORY_ORDER",
            M::SetAvatar { .. } => "SET_AVATAR",
            M::SetGroupAvatar { .. } => "GROUP_AVATAR",
            M::GetAvatar { .. } => "AVATAR_GET",
        }
    }
}

impl std::fmt::Display for ClientMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.format())
    }
}

impl std::str::FromStr for ClientMessage {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The `on`/`off` switch of the group verbs.
pub(crate) fn on_off(s: &str) -> Option<bool> {
    match s {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    }
}

pub(crate) fn on_off_str(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// An optional final field of image bytes in base64, taken literally (never `%`-unescaped, as a digest
/// is not); absent or empty is no bytes (an avatar cleared).
fn image(f: &mut Fields<'_>) -> Result<Vec<u8>, ParseError> {
    if !f.has_more() {
        return Ok(Vec::new());
    }
    f.parsed("image", base64::decode)
}

fn one_account(mut f: Fields<'_>) -> Result<String, ParseError> {
    let account = f.nonempty("account")?;
    f.end()?;
    Ok(account)
}

fn one_group(mut f: Fields<'_>) -> Result<u64, ParseError> {
    let group = f.number("group_id")?;
    f.end()?;
    Ok(group)
}

fn one_file(mut f: Fields<'_>) -> Result<u64, ParseError> {
    let file = f.number("file_id")?;
    f.end()?;
    Ok(file)
}

pub(crate) fn conv(f: &mut Fields<'_>) -> Result<Conv, ParseError> {
    let kind = f.string("kind")?;
    let key = f.string("peer")?;
    let shown = format!("{kind}:{key}");
    Conv::from_fields(&kind, key).ok_or(ParseError::InvalidValue {
        verb: f.verb(),
        field: "conversation",
        value: shown,
    })
}
