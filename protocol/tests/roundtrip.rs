//! Exact wire lines for every message, in both directions.
//!
//! Each table row is a value and the one line it must format to; the line must also parse back to the value.
//! `common::client_variant` / `common::server_variant` match every variant with no wildcard arm, and the
//! `every_*_variant_has_a_line` tests fail unless each variant has at least one row here.

mod common;

use std::collections::BTreeSet;

use common::{CLIENT_VARIANTS, SERVER_VARIANTS, client_variant, server_variant};
use ququ_protocol::{
    ChatMessage, ClientMessage, Conv, ErrorCode, Features, FileInfo, FileMessage, FileState,
    Gender, GoneReason, GroupEvent, GroupEventKind, GroupMessage, JoinPolicy, Limits, Mentions,
    ParseError, Presence, Profile, ProfileChange, Quote, RecallMessage, Role, SaidMessage,
    ServerMessage,
};

/// SHA-256 of the empty file.
const SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The first bytes of every PNG file.
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The default limits' wire field.
const LIMITS: &str = "line=65536,text=8000,name=32,friends=1000,members=500,file=1073741824,rate=20,groups=100,actions=10,recall=120,admins=10,notice=500,sign=80,categories=50,avatar=32768";

fn s(v: &str) -> String {
    v.to_owned()
}

/// Mentions of these accounts, and of everyone if `all`.
fn mentions(all: bool, accounts: &[&str]) -> Mentions {
    Mentions {
        all,
        accounts: accounts.iter().map(|a| s(a)).collect(),
    }
}

/// `(line, value)`: `value.format() == line` and `ClientMessage::parse(line) == Ok(value)`.
fn client_cases() -> Vec<(String, ClientMessage)> {
    use ClientMessage as M;
    vec![
        // The original Qt client's lines, byte for byte.
        (
            s("LOGIN:alice:secret"),
            M::Login {
                account: s("alice"),
                password: s("secret"),
            },
        ),
        (
            s("RESIGER:alice:secret"),
            M::Register {
                account: s("alice"),
                password: s("secret"),
                nickname: None,
            },
        ),
        (
            s("RESIGER:alice:secret:Alice 🐱"),
            M::Register {
                account: s("alice"),
                password: s("secret"),
                nickname: Some(s("Alice 🐱")),
            },
        ),
        (
            s("RESIGER:bob:p%3Ass%25"),
            M::Register {
                account: s("bob"),
                password: s("p:ss%"),
                nickname: None,
            },
        ),
        (
            s("LOGIN:alice:"),
            M::Login {
                account: s("alice"),
                password: s(""),
            },
        ),
        (
            s("RESUME:alice:9f2c1e"),
            M::Resume {
                account: s("alice"),
                token: s("9f2c1e"),
            },
        ),
        (s("LOGOUT"), M::Logout),
        (s("PING:7"), M::Ping { nonce: 7 }),
        (s("PING:18446744073709551615"), M::Ping { nonce: u64::MAX }),
        (s("PONG:7"), M::Pong { nonce: 7 }),
        (
            s("SET_NICK:小明"),
            M::SetNickname {
                nickname: s("小明"),
            },
        ),
        (s("SET_NICK:"), M::SetNickname { nickname: s("") }),
        (
            s("PASSWD:secret:n3w%3Apw"),
            M::ChangePassword {
                old: s("secret"),
                new: s("n3w:pw"),
            },
        ),
        (s("FIND:ali"), M::FindUser { query: s("ali") }),
        (
            s("ADD_FRIEND:bob:hi, it's alice"),
            M::FriendRequest {
                account: s("bob"),
                note: s("hi, it's alice"),
            },
        ),
        (
            s("ADD_FRIEND:bob:"),
            M::FriendRequest {
                account: s("bob"),
                note: s(""),
            },
        ),
        (
            s("ACCEPT_FRIEND:alice"),
            M::AcceptFriend {
                account: s("alice"),
            },
        ),
        (
            s("REJECT_FRIEND:alice"),
            M::RejectFriend {
                account: s("alice"),
            },
        ),
        (s("DEL_FRIEND:bob"), M::DeleteFriend { account: s("bob") }),
        (
            s("REMARK:bob:Bobby"),
            M::SetRemark {
                account: s("bob"),
                remark: s("Bobby"),
            },
        ),
        (
            s("REMARK:bob:"),
            M::SetRemark {
                account: s("bob"),
                remark: s(""),
            },
        ),
        (s("FRIENDS"), M::ListFriends),
        (s("REQUESTS"), M::ListRequests),
        (
            s("MSG:bob:c1:hello"),
            M::Msg {
                to: s("bob"),
                client_id: s("c1"),
                text: s("hello"),
            },
        ),
        (
            s("MSG:bob:c2:at 10%3A30? 100%25 你好 👋%0D%0Abye"),
            M::Msg {
                to: s("bob"),
                client_id: s("c2"),
                text: s("at 10:30? 100% 你好 👋\r\nbye"),
            },
        ),
        (
            s("MSG:bob:c3:"),
            M::Msg {
                to: s("bob"),
                client_id: s("c3"),
                text: s(""),
            },
        ),
        (
            s("GROUP:3:c4:hi all"),
            M::GroupMsg {
                group: 3,
                client_id: s("c4"),
                text: s("hi all"),
            },
        ),
        (
            s("SYNC:0:100"),
            M::Sync {
                after: 0,
                limit: 100,
            },
        ),
        (
            s("HISTORY:user:bob:0:50"),
            M::History {
                conv: Conv::User(s("bob")),
                before: 0,
                limit: 50,
            },
        ),
        (
            s("HISTORY:group:3:120:20"),
            M::History {
                conv: Conv::Group(3),
                before: 120,
                limit: 20,
            },
        ),
        (
            s("GROUP_CREATE:Rustaceans 🦀"),
            M::CreateGroup {
                name: s("Rustaceans 🦀"),
            },
        ),
        (s("GROUP_JOIN:3"), M::JoinGroup { group: 3 }),
        (s("GROUP_LEAVE:3"), M::LeaveGroup { group: 3 }),
        (
            s("GROUP_INVITE:3:carol"),
            M::InviteToGroup {
                group: 3,
                account: s("carol"),
            },
        ),
        (
            s("GROUP_KICK:3:carol"),
            M::KickFromGroup {
                group: 3,
                account: s("carol"),
            },
        ),
        (s("GROUP_DISSOLVE:3"), M::DissolveGroup { group: 3 }),
        (
            s("GROUP_RENAME:3:Crabs%3A the sequel"),
            M::RenameGroup {
                group: 3,
                name: s("Crabs: the sequel"),
            },
        ),
        (
            s("GROUP_POLICY:3:open"),
            M::GroupPolicy {
                group: 3,
                policy: Some(JoinPolicy::Open),
            },
        ),
        (
            s("GROUP_POLICY:3:invite"),
            M::GroupPolicy {
                group: 3,
                policy: Some(JoinPolicy::Invite),
            },
        ),
        (
            s("GROUP_POLICY:3"),
            M::GroupPolicy {
                group: 3,
                policy: None,
            },
        ),
        (
            s("GROUP_ADMIN:3:bob:on"),
            M::SetGroupAdmin {
                group: 3,
                account: s("bob"),
                admin: true,
            },
        ),
        (
            s("GROUP_ADMIN:3:bob:off"),
            M::SetGroupAdmin {
                group: 3,
                account: s("bob"),
                admin: false,
            },
        ),
        (
            s("GROUP_TRANSFER:3:bob"),
            M::TransferGroup {
                group: 3,
                account: s("bob"),
            },
        ),
        (
            s("GROUP_MUTE:3:bob:600"),
            M::MuteMember {
                group: 3,
                account: s("bob"),
                seconds: 600,
            },
        ),
        (
            s("GROUP_MUTE:3:bob:0"),
            M::MuteMember {
                group: 3,
                account: s("bob"),
                seconds: 0,
            },
        ),
        (
            s("GROUP_MUTE_ALL:3:on"),
            M::MuteAll {
                group: 3,
                on: Some(true),
            },
        ),
        (
            s("GROUP_MUTE_ALL:3:off"),
            M::MuteAll {
                group: 3,
                on: Some(false),
            },
        ),
        (s("GROUP_MUTE_ALL:3"), M::MuteAll { group: 3, on: None }),
        (
            s("GROUP_POLICY:3:approve"),
            M::GroupPolicy {
                group: 3,
                policy: Some(JoinPolicy::Approve),
            },
        ),
        (
            s("GROUP_JOIN_ANSWER:3:dave:yes"),
            M::AnswerJoin {
                group: 3,
                account: s("dave"),
                accept: true,
            },
        ),
        (
            s("GROUP_JOIN_ANSWER:3:dave:no"),
            M::AnswerJoin {
                group: 3,
                account: s("dave"),
                accept: false,
            },
        ),
        (s("GROUP_REQUESTS"), M::ListJoinRequests),
        (
            s("GROUP_NOTICE:3:Meet at 10%3A30, 周五 %25 bring snacks"),
            M::GroupNotice {
                group: 3,
                text: Some(s("Meet at 10:30, 周五 % bring snacks")),
            },
        ),
        (
            s("GROUP_NOTICE:3:"),
            M::GroupNotice {
                group: 3,
                text: Some(s("")),
            },
        ),
        (
            s("GROUP_NOTICE:3"),
            M::GroupNotice {
                group: 3,
                text: None,
            },
        ),
        (s("GROUP_MEMBERS:3"), M::ListMembers { group: 3 }),
        (s("GROUPS"), M::ListGroups),
        (
            format!("FileTran:user:bob:c5:0:{SHA}:empty.txt"),
            M::FileOffer {
                to: Conv::User(s("bob")),
                client_id: s("c5"),
                size: 0,
                sha256: s(SHA),
                name: s("empty.txt"),
            },
        ),
        (
            format!("FileTran:group:3:c6:1048576:{SHA}:照片 1.png"),
            M::FileOffer {
                to: Conv::Group(3),
                client_id: s("c6"),
                size: 1 << 20,
                sha256: s(SHA),
                name: s("照片 1.png"),
            },
        ),
        (s("FILE_ACCEPT:9"), M::FileAccept { file: 9 }),
        (s("FILE_REJECT:9"), M::FileReject { file: 9 }),
        (s("FILE_CANCEL:9"), M::FileCancel { file: 9 }),
        (
            s("FILE_PUT:up-tok:0"),
            M::FilePut {
                token: s("up-tok"),
                offset: 0,
            },
        ),
        (
            s("FILE_GET:down-tok:4096"),
            M::FileGet {
                token: s("down-tok"),
                offset: 4096,
            },
        ),
        // Replies, recalls, mentions, read marks and typing.
        (
            s(
                "FEATURES:SAID,RECALLED,READ,TYPING,GROUP_ROLE,GROUP_MUTE,GROUP_NOTICE,GROUP_EVENT,PROFILE,BLOCK,CATEGORY,AVATAR",
            ),
            M::Features {
                features: Features::ALL,
            },
        ),
        (
            s("FEATURES:SAID,TYPING"),
            M::Features {
                features: Features {
                    said: true,
                    typing: true,
                    ..Features::default()
                },
            },
        ),
        (
            s("FEATURES:RECALLED,READ"),
            M::Features {
                features: Features {
                    recalled: true,
                    read: true,
                    ..Features::default()
                },
            },
        ),
        (
            s("FEATURES:"),
            M::Features {
                features: Features::default(),
            },
        ),
        (
            s("SEND:user:bob:c7:0::hello"),
            M::Send {
                to: Conv::User(s("bob")),
                client_id: s("c7"),
                reply_to: None,
                mentions: Mentions::default(),
                text: s("hello"),
            },
        ),
        (
            s("SEND:user:alice:r1:1::sure, see you there"),
            M::Send {
                to: Conv::User(s("alice")),
                client_id: s("r1"),
                reply_to: Some(1),
                mentions: Mentions::default(),
                text: s("sure, see you there"),
            },
        ),
        (
            s("SEND:group:3:c8:42:*,bob:@all @bob look%3A 你好 👋"),
            M::Send {
                to: Conv::Group(3),
                client_id: s("c8"),
                reply_to: Some(42),
                mentions: mentions(true, &["bob"]),
                text: s("@all @bob look: 你好 👋"),
            },
        ),
        (
            s("SEND:group:3:c9:18446744073709551615:*:"),
            M::Send {
                to: Conv::Group(3),
                client_id: s("c9"),
                reply_to: Some(u64::MAX),
                mentions: mentions(true, &[]),
                text: s(""),
            },
        ),
        (
            s("SEND:group:1:g3:0:bob:@bob bring the menu"),
            M::Send {
                to: Conv::Group(1),
                client_id: s("g3"),
                reply_to: None,
                mentions: mentions(false, &["bob"]),
                text: s("@bob bring the menu"),
            },
        ),
        (
            s("SEND:group:1:g4:0:carol,bob.b,x_y-z:@carol hi%0D%0A100%25"),
            M::Send {
                to: Conv::Group(1),
                client_id: s("g4"),
                reply_to: None,
                mentions: mentions(false, &["carol", "bob.b", "x_y-z"]),
                text: s("@carol hi\r\n100%"),
            },
        ),
        (s("RECALL:1"), M::Recall { id: 1 }),
        (
            s("READ:group:1:6"),
            M::Read {
                conv: Conv::Group(1),
                up_to: 6,
            },
        ),
        (
            s("READ:user:bob:42"),
            M::Read {
                conv: Conv::User(s("bob")),
                up_to: 42,
            },
        ),
        (s("READS"), M::ListReads),
        (s("TYPING:alice"), M::Typing { to: s("alice") }),
        // Profiles and blocks.
        (
            s("SET_PROFILE:sign:今天也要加油 %3A)"),
            M::SetProfile {
                change: ProfileChange::Signature(s("今天也要加油 :)")),
            },
        ),
        (
            s("SET_PROFILE:sign:"),
            M::SetProfile {
                change: ProfileChange::Signature(s("")),
            },
        ),
        (
            s("SET_PROFILE:gender:female"),
            M::SetProfile {
                change: ProfileChange::Gender(Some(Gender::Female)),
            },
        ),
        (
            s("SET_PROFILE:gender:"),
            M::SetProfile {
                change: ProfileChange::Gender(None),
            },
        ),
        (
            s("SET_PROFILE:region:上海"),
            M::SetProfile {
                change: ProfileChange::Region(s("上海")),
            },
        ),
        (s("PROFILE"), M::GetProfile { account: None }),
        (
            s("PROFILE:bob"),
            M::GetProfile {
                account: Some(s("bob")),
            },
        ),
        (
            s("BLOCK:mallory"),
            M::Block {
                account: s("mallory"),
            },
        ),
        (
            s("UNBLOCK:mallory"),
            M::Unblock {
                account: s("mallory"),
            },
        ),
        (s("BLOCKS"), M::ListBlocks),
        (s("CATEGORIES"), M::ListCategories),
        (
            s("CATEGORY_ADD:同事%3A work"),
            M::AddCategory {
                name: s("同事: work"),
            },
        ),
        (
            s("CATEGORY_RENAME:3:家人"),
            M::RenameCategory {
                category: 3,
                name: s("家人"),
            },
        ),
        (s("CATEGORY_DEL:3"), M::DeleteCategory { category: 3 }),
        (
            s("FRIEND_MOVE:bob:3"),
            M::MoveFriend {
                account: s("bob"),
                category: 3,
            },
        ),
        (
            s("CATEGORY_ORDER:3,1,2"),
            M::OrderCategories {
                categories: vec![3, 1, 2],
            },
        ),
        (
            s("CATEGORY_ORDER:"),
            M::OrderCategories { categories: vec![] },
        ),
        (
            s("FRIEND_MOVE:bob:0"),
            M::MoveFriend {
                account: s("bob"),
                category: 0,
            },
        ),
        // Avatars: the PNG signature stands in for a picture.
        (
            s("SET_AVATAR:iVBORw0KGgo="),
            M::SetAvatar {
                image: PNG_MAGIC.to_vec(),
            },
        ),
        (s("SET_AVATAR:"), M::SetAvatar { image: Vec::new() }),
        (
            s("GROUP_AVATAR:1234567890:iVBORw0KGgo="),
            M::SetGroupAvatar {
                group: 1_234_567_890,
                image: PNG_MAGIC.to_vec(),
            },
        ),
        (
            s("GROUP_AVATAR:3:"),
            M::SetGroupAvatar {
                group: 3,
                image: Vec::new(),
            },
        ),
        (format!("AVATAR_GET:{SHA}"), M::GetAvatar { sha256: s(SHA) }),
    ]
}

/// `(line, value)`: `ServerMessage::parse(line) == Ok(value)` and `value.format() == line`.
fn server_cases() -> Vec<(String, ServerMessage)> {
    use ServerMessage as M;
    vec![
        (
            s("RESIGER:true:alice"),
            M::RegisterOk {
                account: s("alice"),
            },
        ),
        (
            s("RESIGER:false:account_taken:the account name is taken"),
            M::RegisterFailed {
                code: ErrorCode::AccountTaken,
                text: s("the account name is taken"),
            },
        ),
        (
            s("RESIGER:false:invalid_password:at least 6 characters%3A try again"),
            M::RegisterFailed {
                code: ErrorCode::InvalidPassword,
                text: s("at least 6 characters: try again"),
            },
        ),
        (
            format!("LOGIN:true:1:alice:Alice:9f2c1e:{LIMITS}"),
            M::LoginOk {
                user_id: 1,
                account: s("alice"),
                nickname: s("Alice"),
                token: s("9f2c1e"),
                limits: Limits::default(),
            },
        ),
        (
            s(
                "LOGIN:true:2:bob::tok:line=1024,text=10,name=5,friends=2,members=3,file=0,rate=1,groups=4,actions=6,recall=0,admins=7,notice=8,sign=9,categories=11,avatar=10",
            ),
            M::LoginOk {
                user_id: 2,
                account: s("bob"),
                nickname: s(""),
                token: s("tok"),
                limits: Limits {
                    line: 1024,
                    text: 10,
                    name: 5,
                    friends: 2,
                    members: 3,
                    file: 0,
                    rate: 1,
                    groups: 4,
                    actions: 6,
                    recall: 0,
                    admins: 7,
                    notice: 8,
                    sign: 9,
                    categories: 11,
                    avatar: 10,
                },
            },
        ),
        (
            s("LOGIN:false:bad_credentials:wrong account or password"),
            M::LoginFailed {
                code: ErrorCode::BadCredentials,
                text: s("wrong account or password"),
            },
        ),
        (
            s("LOGIN:false:bad_token:"),
            M::LoginFailed {
                code: ErrorCode::BadToken,
                text: s(""),
            },
        ),
        (
            s("BYE:logged_out:bye"),
            M::Bye {
                code: ErrorCode::LoggedOut,
                text: s("bye"),
            },
        ),
        (s("PING:5"), M::Ping { nonce: 5 }),
        (s("PONG:5"), M::Pong { nonce: 5 }),
        (
            s("PROFILE:alice:小明"),
            M::Profile {
                account: s("alice"),
                nickname: s("小明"),
                profile: None,
            },
        ),
        (s("PASSWD:true"), M::PasswordChanged),
        (
            s("CONNECT_CLIENT:bob:online"),
            M::Presence {
                account: s("bob"),
                presence: Presence::Online,
            },
        ),
        (
            s("CONNECT_CLIENT:bob:offline"),
            M::Presence {
                account: s("bob"),
                presence: Presence::Offline,
            },
        ),
        (
            s("FOUND:bob:offline:Bob"),
            M::Found {
                account: s("bob"),
                presence: Presence::Offline,
                nickname: s("Bob"),
            },
        ),
        (s("FOUND_END:1"), M::FoundEnd { count: 1 }),
        (
            s("FRIEND:bob:online:Bob:"),
            M::Friend {
                account: s("bob"),
                presence: Presence::Online,
                nickname: s("Bob"),
                remark: s(""),
                category: None,
                profile: None,
            },
        ),
        (
            s("FRIEND:bob:online:Bob:Bobby%3A work"),
            M::Friend {
                account: s("bob"),
                presence: Presence::Online,
                nickname: s("Bob"),
                remark: s("Bobby: work"),
                category: None,
                profile: None,
            },
        ),
        (s("FRIENDS_END:1"), M::FriendsEnd { count: 1 }),
        (
            s("FRIEND_REQUEST:alice:1700000000000:Alice:hi, it's alice"),
            M::FriendRequest {
                from: s("alice"),
                time: 1_700_000_000_000,
                nickname: s("Alice"),
                note: s("hi, it's alice"),
            },
        ),
        (
            s("REQUEST_WAITING:bob:1700000000000:Bob%3A the builder"),
            M::RequestWaiting {
                to: s("bob"),
                time: 1_700_000_000_000,
                nickname: s("Bob: the builder"),
            },
        ),
        (s("REQUESTS_END:0"), M::RequestsEnd { count: 0 }),
        (s("REQUEST_SENT:bob"), M::RequestSent { account: s("bob") }),
        (
            s("REQUEST_CLOSED:alice"),
            M::RequestClosed {
                account: s("alice"),
            },
        ),
        (
            s("FRIEND_REJECTED:bob"),
            M::FriendRejected { account: s("bob") },
        ),
        (
            s("FRIEND_REMOVED:bob"),
            M::FriendRemoved { account: s("bob") },
        ),
        (
            s("MSG:42:alice:bob:1700000000123:c1:hello%3A 你好 👋"),
            M::Msg(ChatMessage {
                id: 42,
                from: s("alice"),
                to: s("bob"),
                time: 1_700_000_000_123,
                client_id: s("c1"),
                text: s("hello: 你好 👋"),
            }),
        ),
        (
            s("GROUP:43:3:alice:1700000000456:c4:hi all"),
            M::GroupMsg(GroupMessage {
                id: 43,
                group: 3,
                from: s("alice"),
                time: 1_700_000_000_456,
                client_id: s("c4"),
                text: s("hi all"),
            }),
        ),
        (
            format!("FileTran:44:alice:user:bob:1700000000789:c5:9:1024:{SHA}:photo.png"),
            M::FileOffer(FileMessage {
                id: 44,
                from: s("alice"),
                to: Conv::User(s("bob")),
                time: 1_700_000_000_789,
                client_id: s("c5"),
                file: FileInfo {
                    file_id: 9,
                    size: 1024,
                    sha256: s(SHA),
                    name: s("photo.png"),
                },
            }),
        ),
        (
            format!("FileTran:45:alice:group:3:1700000000790:c6:10:0:{SHA}:a%3Ab.txt"),
            M::FileOffer(FileMessage {
                id: 45,
                from: s("alice"),
                to: Conv::Group(3),
                time: 1_700_000_000_790,
                client_id: s("c6"),
                file: FileInfo {
                    file_id: 10,
                    size: 0,
                    sha256: s(SHA),
                    name: s("a:b.txt"),
                },
            }),
        ),
        (
            s("ACK:c1:42:1700000000123"),
            M::Ack {
                client_id: s("c1"),
                id: 42,
                time: 1_700_000_000_123,
            },
        ),
        (
            s("SYNC_END:44:0"),
            M::SyncEnd {
                last_id: 44,
                more: false,
            },
        ),
        (
            s("SYNC_END:100:1"),
            M::SyncEnd {
                last_id: 100,
                more: true,
            },
        ),
        (
            s("HISTORY_END:user:bob:2:0"),
            M::HistoryEnd {
                conv: Conv::User(s("bob")),
                count: 2,
                more: false,
            },
        ),
        (
            s("HISTORY_END:group:3:20:1"),
            M::HistoryEnd {
                conv: Conv::Group(3),
                count: 20,
                more: true,
            },
        ),
        (
            s("GROUP_INFO:3:alice:2:Rustaceans 🦀"),
            M::GroupInfo {
                group: 3,
                owner: s("alice"),
                members: 2,
                name: s("Rustaceans 🦀"),
            },
        ),
        (s("GROUPS_END:1"), M::GroupsEnd { count: 1 }),
        (
            s("GROUP_POLICY:3:invite"),
            M::GroupPolicy {
                group: 3,
                policy: JoinPolicy::Invite,
            },
        ),
        (
            s("GROUP_POLICY:3:open"),
            M::GroupPolicy {
                group: 3,
                policy: JoinPolicy::Open,
            },
        ),
        (
            s("GROUP_GONE:3:left"),
            M::GroupGone {
                group: 3,
                reason: GoneReason::Left,
            },
        ),
        (
            s("GROUP_GONE:3:kicked"),
            M::GroupGone {
                group: 3,
                reason: GoneReason::Kicked,
            },
        ),
        (
            s("GROUP_GONE:3:dissolved"),
            M::GroupGone {
                group: 3,
                reason: GoneReason::Dissolved,
            },
        ),
        (
            s("MEMBER:3:alice:owner:online:Alice"),
            M::Member {
                group: 3,
                account: s("alice"),
                role: Role::Owner,
                presence: Presence::Online,
                nickname: s("Alice"),
                muted_until: None,
                profile: None,
            },
        ),
        (
            s("MEMBER:3:bob:member:offline:Bob"),
            M::Member {
                group: 3,
                account: s("bob"),
                role: Role::Member,
                presence: Presence::Offline,
                nickname: s("Bob"),
                muted_until: None,
                profile: None,
            },
        ),
        (
            s("MEMBER:3:carol:admin:online:Carol"),
            M::Member {
                group: 3,
                account: s("carol"),
                role: Role::Admin,
                presence: Presence::Online,
                nickname: s("Carol"),
                muted_until: None,
                profile: None,
            },
        ),
        (
            s("GROUP_ROLE:3:carol:admin"),
            M::GroupRole {
                group: 3,
                account: s("carol"),
                role: Role::Admin,
            },
        ),
        (
            s("GROUP_ROLE:3:bob:owner"),
            M::GroupRole {
                group: 3,
                account: s("bob"),
                role: Role::Owner,
            },
        ),
        (
            s("GROUP_ROLE:3:alice:member"),
            M::GroupRole {
                group: 3,
                account: s("alice"),
                role: Role::Member,
            },
        ),
        (
            s("MEMBER:3:dave:member:offline:Dave:1764032400000"),
            M::Member {
                group: 3,
                account: s("dave"),
                role: Role::Member,
                presence: Presence::Offline,
                nickname: s("Dave"),
                muted_until: Some(1_764_032_400_000),
                profile: None,
            },
        ),
        (
            s("MEMBER:3:erin:member:online:Erin:0"),
            M::Member {
                group: 3,
                account: s("erin"),
                role: Role::Member,
                presence: Presence::Online,
                nickname: s("Erin"),
                muted_until: Some(0),
                profile: None,
            },
        ),
        (
            s("GROUP_MUTE:3:dave:1764032400000"),
            M::GroupMute {
                group: 3,
                account: s("dave"),
                until: 1_764_032_400_000,
            },
        ),
        (
            s("GROUP_MUTE:3:dave:0"),
            M::GroupMute {
                group: 3,
                account: s("dave"),
                until: 0,
            },
        ),
        (
            s("GROUP_MUTE_ALL:3:on"),
            M::GroupMuteAll { group: 3, on: true },
        ),
        (
            s("GROUP_POLICY:3:approve"),
            M::GroupPolicy {
                group: 3,
                policy: JoinPolicy::Approve,
            },
        ),
        (
            s("GROUP_JOIN_REQUEST:3:dave:1764032400000:Dave%3A the new one"),
            M::GroupJoinRequest {
                group: 3,
                account: s("dave"),
                time: 1_764_032_400_000,
                nickname: s("Dave: the new one"),
            },
        ),
        (s("GROUP_REQUESTS_END:1"), M::GroupRequestsEnd { count: 1 }),
        (s("GROUP_JOIN_SENT:3"), M::GroupJoinSent { group: 3 }),
        (
            s("GROUP_EVENT:12:3:alice:1764032400000:invite:bob:"),
            M::GroupEvent(GroupEvent {
                id: 12,
                group: 3,
                by: s("alice"),
                time: 1_764_032_400_000,
                kind: GroupEventKind::Invite,
                account: s("bob"),
                value: s(""),
            }),
        ),
        (
            s("GROUP_EVENT:13:3:bob:1764032400001:rename::Crabs%3A the sequel"),
            M::GroupEvent(GroupEvent {
                id: 13,
                group: 3,
                by: s("bob"),
                time: 1_764_032_400_001,
                kind: GroupEventKind::Rename,
                account: s(""),
                value: s("Crabs: the sequel"),
            }),
        ),
        (
            s("GROUP_EVENT:14:3:alice:1764032400002:mute:carol:1764036000000"),
            M::GroupEvent(GroupEvent {
                id: 14,
                group: 3,
                by: s("alice"),
                time: 1_764_032_400_002,
                kind: GroupEventKind::Mute,
                account: s("carol"),
                value: s("1764036000000"),
            }),
        ),
        (
            s("GROUP_EVENT:15:3:alice:1764032400003:mute_all::on"),
            M::GroupEvent(GroupEvent {
                id: 15,
                group: 3,
                by: s("alice"),
                time: 1_764_032_400_003,
                kind: GroupEventKind::MuteAll,
                account: s(""),
                value: s("on"),
            }),
        ),
        (
            s("GROUP_JOIN_CLOSED:3:dave"),
            M::GroupJoinClosed {
                group: 3,
                account: s("dave"),
            },
        ),
        (
            s("GROUP_JOIN_REJECTED:3"),
            M::GroupJoinRejected { group: 3 },
        ),
        (
            s("GROUP_NOTICE:3:alice:1764032400000:line one%0Aline 2%3A 周五"),
            M::GroupNotice {
                group: 3,
                by: s("alice"),
                time: 1_764_032_400_000,
                text: s("line one\nline 2: 周五"),
            },
        ),
        (
            s("GROUP_NOTICE:3::0:"),
            M::GroupNotice {
                group: 3,
                by: s(""),
                time: 0,
                text: s(""),
            },
        ),
        (
            s("GROUP_MUTE_ALL:3:off"),
            M::GroupMuteAll {
                group: 3,
                on: false,
            },
        ),
        (s("MEMBERS_END:3:2"), M::MembersEnd { group: 3, count: 2 }),
        (
            s("MEMBER_LEFT:3:carol:kicked"),
            M::MemberLeft {
                group: 3,
                account: s("carol"),
                reason: GoneReason::Kicked,
            },
        ),
        (
            s("FILE_UPLOAD:9:up-tok:0"),
            M::FileUpload {
                file: 9,
                token: s("up-tok"),
                offset: 0,
            },
        ),
        (
            s("FILE_DOWNLOAD:9:down-tok:1024"),
            M::FileDownload {
                file: 9,
                token: s("down-tok"),
                size: 1024,
            },
        ),
        (
            s("FILE_PROGRESS:9:512:1024"),
            M::FileProgress {
                file: 9,
                bytes: 512,
                total: 1024,
            },
        ),
        (
            s("FILE_STATE:9:uploaded"),
            M::FileState {
                file: 9,
                state: FileState::Uploaded,
            },
        ),
        (
            s("FILE_STATE:9:rejected"),
            M::FileState {
                file: 9,
                state: FileState::Rejected,
            },
        ),
        (
            s("FILE_STATE:9:cancelled"),
            M::FileState {
                file: 9,
                state: FileState::Cancelled,
            },
        ),
        (
            s("FILE_STATE:9:expired"),
            M::FileState {
                file: 9,
                state: FileState::Expired,
            },
        ),
        (
            s("FILE_STATE:9:downloaded"),
            M::FileState {
                file: 9,
                state: FileState::Downloaded,
            },
        ),
        (
            s("ERROR:unknown_verb:unknown verb `HELLO`"),
            M::Error {
                code: ErrorCode::UnknownVerb,
                text: s("unknown verb `HELLO`"),
                about: None,
            },
        ),
        (
            s("ERROR:not_friends:bob is not your friend:c1"),
            M::Error {
                code: ErrorCode::NotFriends,
                text: s("bob is not your friend"),
                about: Some(s("c1")),
            },
        ),
        (
            s("ERROR:some_future_code:%3A-)"),
            M::Error {
                code: ErrorCode::Other(s("some_future_code")),
                text: s(":-)"),
                about: None,
            },
        ),
        (
            s("ERROR:no_such_message:there is no message 7:7"),
            M::Error {
                code: ErrorCode::NoSuchMessage,
                text: s("there is no message 7"),
                about: Some(s("7")),
            },
        ),
        (
            s("ERROR:too_late:too late to recall:1"),
            M::Error {
                code: ErrorCode::TooLate,
                text: s("too late to recall"),
                about: Some(s("1")),
            },
        ),
        // Replies, recalls, mentions, read marks and typing.
        (
            s(
                "FEATURES:SAID,RECALLED,READ,TYPING,GROUP_ROLE,GROUP_MUTE,GROUP_NOTICE,GROUP_EVENT,PROFILE,BLOCK,CATEGORY,AVATAR",
            ),
            M::Features {
                features: Features::ALL,
            },
        ),
        (
            s("FEATURES:READ"),
            M::Features {
                features: Features {
                    read: true,
                    ..Features::default()
                },
            },
        ),
        (
            s("FEATURES:"),
            M::Features {
                features: Features::default(),
            },
        ),
        (
            s(
                "SAID:3:user:alice:bob:1764028830000:r1::1:alice:lunch at 12%3A30? 100%25 my treat:sure, see you there",
            ),
            M::Said(SaidMessage {
                id: 3,
                to: Conv::User(s("alice")),
                from: s("bob"),
                time: 1_764_028_830_000,
                client_id: s("r1"),
                mentions: Mentions::default(),
                quote: Some(Quote {
                    id: 1,
                    from: s("alice"),
                    text: s("lunch at 12:30? 100% my treat"),
                }),
                text: s("sure, see you there"),
            }),
        ),
        // No quote: `0` and two empty fields.
        (
            s("SAID:6:group:1:alice:1764028855000:g3:bob:0:::@bob bring the menu"),
            M::Said(SaidMessage {
                id: 6,
                to: Conv::Group(1),
                from: s("alice"),
                time: 1_764_028_855_000,
                client_id: s("g3"),
                mentions: mentions(false, &["bob"]),
                quote: None,
                text: s("@bob bring the menu"),
            }),
        ),
        // The quoted message was recalled: its text is gone from the quote.
        (
            s("SAID:7:group:3:alice:1700000000999:c8:*,bob:42:bob::@all @bob look%3A%0Ahere"),
            M::Said(SaidMessage {
                id: 7,
                to: Conv::Group(3),
                from: s("alice"),
                time: 1_700_000_000_999,
                client_id: s("c8"),
                mentions: mentions(true, &["bob"]),
                quote: Some(Quote {
                    id: 42,
                    from: s("bob"),
                    text: s(""),
                }),
                text: s("@all @bob look:\nhere"),
            }),
        ),
        (
            s("SAID:8:user:bob:alice:1700000001000:c9::5:bob:[照片 1.png]:"),
            M::Said(SaidMessage {
                id: 8,
                to: Conv::User(s("bob")),
                from: s("alice"),
                time: 1_700_000_001_000,
                client_id: s("c9"),
                mentions: Mentions::default(),
                quote: Some(Quote {
                    id: 5,
                    from: s("bob"),
                    text: s("[照片 1.png]"),
                }),
                text: s(""),
            }),
        ),
        (
            s("RECALLED:4:user:bob:alice:1764028840000:1:alice"),
            M::Recalled(RecallMessage {
                id: 4,
                to: Conv::User(s("bob")),
                by: s("alice"),
                time: 1_764_028_840_000,
                target: 1,
                target_from: s("alice"),
            }),
        ),
        // A group's owner recalls someone else's message.
        (
            s("RECALLED:9:group:3:alice:1700000002000:8:bob"),
            M::Recalled(RecallMessage {
                id: 9,
                to: Conv::Group(3),
                by: s("alice"),
                time: 1_700_000_002_000,
                target: 8,
                target_from: s("bob"),
            }),
        ),
        (
            s("READ:group:1:6"),
            M::Read {
                conv: Conv::Group(1),
                up_to: 6,
            },
        ),
        (
            s("READ:user:bob:42"),
            M::Read {
                conv: Conv::User(s("bob")),
                up_to: 42,
            },
        ),
        (s("READS_END:2"), M::ReadsEnd { count: 2 }),
        (s("READS_END:0"), M::ReadsEnd { count: 0 }),
        (s("TYPING:bob"), M::Typing { from: s("bob") }),
        // Profiles and blocks.
        (
            s("PROFILE:alice:小明:male:北京:好好学习%3A 天天向上"),
            M::Profile {
                account: s("alice"),
                nickname: s("小明"),
                profile: Some(Profile {
                    gender: Some(Gender::Male),
                    region: s("北京"),
                    signature: s("好好学习: 天天向上"),
                }),
            },
        ),
        (
            s("PROFILE:alice:小明:::"),
            M::Profile {
                account: s("alice"),
                nickname: s("小明"),
                profile: Some(Profile::default()),
            },
        ),
        (
            s("FRIEND:bob:online:Bob::other::🎸 on tour"),
            M::Friend {
                account: s("bob"),
                presence: Presence::Online,
                nickname: s("Bob"),
                remark: s(""),
                category: None,
                profile: Some(Profile {
                    gender: Some(Gender::Other),
                    region: s(""),
                    signature: s("🎸 on tour"),
                }),
            },
        ),
        (
            s("MEMBER:3:bob:member:online:Bob:0:female:上海:hi"),
            M::Member {
                group: 3,
                account: s("bob"),
                role: Role::Member,
                presence: Presence::Online,
                nickname: s("Bob"),
                muted_until: Some(0),
                profile: Some(Profile {
                    gender: Some(Gender::Female),
                    region: s("上海"),
                    signature: s("hi"),
                }),
            },
        ),
        (
            s("MEMBER:3:bob:member:online:Bob:::hi"),
            M::Member {
                group: 3,
                account: s("bob"),
                role: Role::Member,
                presence: Presence::Online,
                nickname: s("Bob"),
                muted_until: None,
                profile: Some(Profile {
                    gender: None,
                    region: s(""),
                    signature: s("hi"),
                }),
            },
        ),
        (
            s("BLOCKED:mallory:1764028800000:Mal"),
            M::Blocked {
                account: s("mallory"),
                time: 1_764_028_800_000,
                nickname: s("Mal"),
            },
        ),
        (
            s("UNBLOCKED:mallory"),
            M::Unblocked {
                account: s("mallory"),
            },
        ),
        (s("BLOCKS_END:1"), M::BlocksEnd { count: 1 }),
        (
            s("CATEGORY:3:同事%3A work"),
            M::Category {
                category: 3,
                name: s("同事: work"),
            },
        ),
        (s("CATEGORIES_END:2"), M::CategoriesEnd { count: 2 }),
        (s("CATEGORY_GONE:3"), M::CategoryGone { category: 3 }),
        (
            s("CATEGORY_ORDER:2,10"),
            M::CategoryOrder {
                categories: vec![2, 10],
            },
        ),
        (
            s("FRIEND:bob:online:Bob:Bobby:3"),
            M::Friend {
                account: s("bob"),
                presence: Presence::Online,
                nickname: s("Bob"),
                remark: s("Bobby"),
                category: Some(3),
                profile: None,
            },
        ),
        (
            s("FRIEND:bob:offline:Bob::0:female:上海:hi"),
            M::Friend {
                account: s("bob"),
                presence: Presence::Offline,
                nickname: s("Bob"),
                remark: s(""),
                category: Some(0),
                profile: Some(Profile {
                    gender: Some(Gender::Female),
                    region: s("上海"),
                    signature: s("hi"),
                }),
            },
        ),
        (
            format!("AVATAR_OF:user:alice:{SHA}"),
            M::AvatarOf {
                of: Conv::User(s("alice")),
                sha256: Some(s(SHA)),
            },
        ),
        (
            s("AVATAR_OF:group:3:"),
            M::AvatarOf {
                of: Conv::Group(3),
                sha256: None,
            },
        ),
        (
            format!("AVATAR:{SHA}:iVBORw0KGgo="),
            M::Avatar {
                sha256: s(SHA),
                image: PNG_MAGIC.to_vec(),
            },
        ),
    ]
}

/// Lines only ever parsed, not produced by `format`: the original's forms and the documented leniency for
/// people typing into `nc`. `(line, value)` with `ClientMessage::parse(line) == Ok(value)`.
fn client_lenient() -> Vec<(String, ClientMessage)> {
    use ClientMessage as M;
    vec![
        // `REGISTER:` is the correctly spelled alias of the original's `RESIGER:`.
        (
            s("REGISTER:alice:secret"),
            M::Register {
                account: s("alice"),
                password: s("secret"),
                nickname: None,
            },
        ),
        (
            s("REGISTER:alice:secret:Alice"),
            M::Register {
                account: s("alice"),
                password: s("secret"),
                nickname: Some(s("Alice")),
            },
        ),
        // A bare PING / PONG is nonce 0.
        (s("PING"), M::Ping { nonce: 0 }),
        (s("PONG"), M::Pong { nonce: 0 }),
        // A final free-text field takes the rest of the line, raw colons included.
        (
            s("MSG:bob:c1:see you at 10:30"),
            M::Msg {
                to: s("bob"),
                client_id: s("c1"),
                text: s("see you at 10:30"),
            },
        ),
        (
            s("GROUP:3:c2:a:b:c"),
            M::GroupMsg {
                group: 3,
                client_id: s("c2"),
                text: s("a:b:c"),
            },
        ),
        (
            s("SET_NICK:Dr: Who"),
            M::SetNickname {
                nickname: s("Dr: Who"),
            },
        ),
        (
            s("RESIGER:alice:secret:Dr: Who"),
            M::Register {
                account: s("alice"),
                password: s("secret"),
                nickname: Some(s("Dr: Who")),
            },
        ),
        (s("FIND:a:b"), M::FindUser { query: s("a:b") }),
        (
            s("ADD_FRIEND:bob:hi: it's me"),
            M::FriendRequest {
                account: s("bob"),
                note: s("hi: it's me"),
            },
        ),
        (
            s("REMARK:bob:work: backend"),
            M::SetRemark {
                account: s("bob"),
                remark: s("work: backend"),
            },
        ),
        (
            s("GROUP_CREATE:team: rust"),
            M::CreateGroup {
                name: s("team: rust"),
            },
        ),
        (
            s("GROUP_RENAME:3:team: rust"),
            M::RenameGroup {
                group: 3,
                name: s("team: rust"),
            },
        ),
        (
            format!("FileTran:user:bob:c5:1:{SHA}:notes: v2.txt"),
            M::FileOffer {
                to: Conv::User(s("bob")),
                client_id: s("c5"),
                size: 1,
                sha256: s(SHA),
                name: s("notes: v2.txt"),
            },
        ),
        // The note and the remark may be left off entirely.
        (
            s("ADD_FRIEND:bob"),
            M::FriendRequest {
                account: s("bob"),
                note: s(""),
            },
        ),
        (
            s("REMARK:bob"),
            M::SetRemark {
                account: s("bob"),
                remark: s(""),
            },
        ),
        // A `%` not followed by two hex digits is literal; a valid escape is decoded wherever it appears.
        (
            s("MSG:bob:c1:100% sure"),
            M::Msg {
                to: s("bob"),
                client_id: s("c1"),
                text: s("100% sure"),
            },
        ),
        (
            s("MSG:bob:c1:50%"),
            M::Msg {
                to: s("bob"),
                client_id: s("c1"),
                text: s("50%"),
            },
        ),
        (
            s("MSG:bob:c1:%zz%4"),
            M::Msg {
                to: s("bob"),
                client_id: s("c1"),
                text: s("%zz%4"),
            },
        ),
        (
            s("MSG:bob:c1:%e4%BD%a0"),
            M::Msg {
                to: s("bob"),
                client_id: s("c1"),
                text: s("你"),
            },
        ),
        (
            s("LOGIN:%61lice:secret"),
            M::Login {
                account: s("alice"),
                password: s("secret"),
            },
        ),
        // `SEND:`'s text is free text too: raw colons are part of it.
        (
            s("SEND:group:3:c1:0:bob:see you at 10:30"),
            M::Send {
                to: Conv::Group(3),
                client_id: s("c1"),
                reply_to: None,
                mentions: mentions(false, &["bob"]),
                text: s("see you at 10:30"),
            },
        ),
        (
            s("SEND:user:bob:c1:7::a:b:c"),
            M::Send {
                to: Conv::User(s("bob")),
                client_id: s("c1"),
                reply_to: Some(7),
                mentions: Mentions::default(),
                text: s("a:b:c"),
            },
        ),
        (
            s("SEND:group:3:c1:0::100% sure"),
            M::Send {
                to: Conv::Group(3),
                client_id: s("c1"),
                reply_to: None,
                mentions: Mentions::default(),
                text: s("100% sure"),
            },
        ),
        // Mentions: `*` anywhere is everyone; empty pieces are skipped and repeats dropped.
        (
            s("SEND:group:3:c1:0:bob,*:hi"),
            M::Send {
                to: Conv::Group(3),
                client_id: s("c1"),
                reply_to: None,
                mentions: mentions(true, &["bob"]),
                text: s("hi"),
            },
        ),
        (
            s("SEND:group:3:c1:0:,bob,,carol,bob,*,*,:hi"),
            M::Send {
                to: Conv::Group(3),
                client_id: s("c1"),
                reply_to: None,
                mentions: mentions(true, &["bob", "carol"]),
                text: s("hi"),
            },
        ),
        (
            s("SEND:group:3:c1:0:,:hi"),
            M::Send {
                to: Conv::Group(3),
                client_id: s("c1"),
                reply_to: None,
                mentions: Mentions::default(),
                text: s("hi"),
            },
        ),
        // Features: any order; unknown and empty names are skipped.
        (
            s("FEATURES:TYPING,SAID"),
            M::Features {
                features: Features {
                    said: true,
                    typing: true,
                    ..Features::default()
                },
            },
        ),
        (
            s("FEATURES:VIDEO,READ,,READ,stickers"),
            M::Features {
                features: Features {
                    read: true,
                    ..Features::default()
                },
            },
        ),
        (
            s("FEATURES:VIDEO"),
            M::Features {
                features: Features::default(),
            },
        ),
        // Names are case-sensitive, like verbs.
        (
            s("FEATURES:said,Typing"),
            M::Features {
                features: Features::default(),
            },
        ),
        // A signature typed into `nc` keeps its colons; a gender left off is not said.
        (
            s("SET_PROFILE:sign:at 10:30, 100% sure"),
            M::SetProfile {
                change: ProfileChange::Signature(s("at 10:30, 100% sure")),
            },
        ),
        (
            s("SET_PROFILE:gender"),
            M::SetProfile {
                change: ProfileChange::Gender(None),
            },
        ),
    ]
}

/// Server lines only ever parsed: the original server's bare failures and forward-compatible forms.
fn server_lenient() -> Vec<(String, ServerMessage)> {
    use ServerMessage as M;
    vec![
        // The original server answered a failed login with a bare `LOGIN:false`.
        (
            s("LOGIN:false"),
            M::LoginFailed {
                code: ErrorCode::BadCredentials,
                text: s(""),
            },
        ),
        (
            s("LOGIN:false:bad_token"),
            M::LoginFailed {
                code: ErrorCode::BadToken,
                text: s(""),
            },
        ),
        (
            s("RESIGER:false"),
            M::RegisterFailed {
                code: ErrorCode::AccountTaken,
                text: s(""),
            },
        ),
        (
            s("BYE"),
            M::Bye {
                code: ErrorCode::Shutdown,
                text: s(""),
            },
        ),
        // Unknown limit keys are ignored; missing ones keep their default.
        (
            s("LOGIN:true:1:alice:Alice:tok:text=100,video=7"),
            M::LoginOk {
                user_id: 1,
                account: s("alice"),
                nickname: s("Alice"),
                token: s("tok"),
                limits: Limits {
                    text: 100,
                    ..Limits::default()
                },
            },
        ),
        (
            s("LOGIN:true:1:alice:Alice:tok:"),
            M::LoginOk {
                user_id: 1,
                account: s("alice"),
                nickname: s("Alice"),
                token: s("tok"),
                limits: Limits::default(),
            },
        ),
        (
            s("ERROR:rate_limited:slow down:"),
            M::Error {
                code: ErrorCode::RateLimited,
                text: s("slow down"),
                about: Some(s("")),
            },
        ),
        // A server from before `recall` (and `groups`, `actions`): the client keeps the defaults.
        (
            s(
                "LOGIN:true:1:alice:Alice:tok:line=65536,text=8000,name=32,friends=1000,members=500,file=1073741824,rate=20,groups=100,actions=10",
            ),
            M::LoginOk {
                user_id: 1,
                account: s("alice"),
                nickname: s("Alice"),
                token: s("tok"),
                limits: Limits::default(),
            },
        ),
        (
            s("LOGIN:true:1:alice:Alice:tok:recall=0,video=1"),
            M::LoginOk {
                user_id: 1,
                account: s("alice"),
                nickname: s("Alice"),
                token: s("tok"),
                limits: Limits {
                    recall: 0,
                    ..Limits::default()
                },
            },
        ),
        // A newer server may send features this build does not know.
        (
            s("FEATURES:SAID,VIDEO,TYPING"),
            M::Features {
                features: Features {
                    said: true,
                    typing: true,
                    ..Features::default()
                },
            },
        ),
        (
            s("SAID:6:group:1:alice:1764028855000:g3:,bob,*,bob:0:::hi"),
            M::Said(SaidMessage {
                id: 6,
                to: Conv::Group(1),
                from: s("alice"),
                time: 1_764_028_855_000,
                client_id: s("g3"),
                mentions: mentions(true, &["bob"]),
                quote: None,
                text: s("hi"),
            }),
        ),
    ]
}

#[test]
fn client_lines_format_and_parse_exactly() {
    for (line, value) in client_cases() {
        assert_eq!(value.format(), line, "format of {value:?}");
        assert_eq!(value.to_string(), line, "Display of {value:?}");
        assert_eq!(
            ClientMessage::parse(&line),
            Ok(value.clone()),
            "parse of {line:?}"
        );
        assert_eq!(
            line.parse::<ClientMessage>(),
            Ok(value.clone()),
            "FromStr of {line:?}"
        );
        assert!(
            line.starts_with(value.verb()),
            "verb() of {value:?} is {:?}",
            value.verb()
        );
    }
}

#[test]
fn server_lines_format_and_parse_exactly() {
    for (line, value) in server_cases() {
        assert_eq!(value.format(), line, "format of {value:?}");
        assert_eq!(value.to_string(), line, "Display of {value:?}");
        assert_eq!(
            ServerMessage::parse(&line),
            Ok(value.clone()),
            "parse of {line:?}"
        );
        assert_eq!(
            line.parse::<ServerMessage>(),
            Ok(value),
            "FromStr of {line:?}"
        );
    }
}

#[test]
fn lenient_client_lines_parse() {
    for (line, value) in client_lenient() {
        assert_eq!(
            ClientMessage::parse(&line),
            Ok(value.clone()),
            "parse of {line:?}"
        );
        // Whatever was accepted formats to a canonical line that parses back to the same value.
        assert_eq!(ClientMessage::parse(&value.format()), Ok(value));
    }
}

#[test]
fn lenient_server_lines_parse() {
    for (line, value) in server_lenient() {
        assert_eq!(
            ServerMessage::parse(&line),
            Ok(value.clone()),
            "parse of {line:?}"
        );
        assert_eq!(ServerMessage::parse(&value.format()), Ok(value));
    }
}

#[test]
fn register_and_resiger_are_the_same_message() {
    assert_eq!(
        ClientMessage::parse("REGISTER:alice:secret"),
        ClientMessage::parse("RESIGER:alice:secret")
    );
    // It is always sent with the original's spelling.
    let msg = ClientMessage::parse("REGISTER:alice:secret").unwrap();
    assert_eq!(msg.format(), "RESIGER:alice:secret");
    assert_eq!(msg.verb(), "RESIGER");
}

#[test]
fn every_client_variant_has_a_line() {
    let covered: BTreeSet<usize> = client_cases()
        .iter()
        .map(|(_, m)| client_variant(m))
        .collect();
    let all: BTreeSet<usize> = (0..CLIENT_VARIANTS).collect();
    let missing: Vec<_> = all.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "ClientMessage variants with no wire-line case: {missing:?}"
    );
    assert!(
        covered.iter().all(|i| *i < CLIENT_VARIANTS),
        "raise CLIENT_VARIANTS"
    );
}

#[test]
fn every_server_variant_has_a_line() {
    let covered: BTreeSet<usize> = server_cases()
        .iter()
        .map(|(_, m)| server_variant(m))
        .collect();
    let all: BTreeSet<usize> = (0..SERVER_VARIANTS).collect();
    let missing: Vec<_> = all.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "ServerMessage variants with no wire-line case: {missing:?}"
    );
    assert!(
        covered.iter().all(|i| *i < SERVER_VARIANTS),
        "raise SERVER_VARIANTS"
    );
}

#[test]
fn every_error_code_round_trips_in_every_reply_that_carries_one() {
    for code in ErrorCode::ALL {
        let wire = code.as_str();
        assert_eq!(ErrorCode::parse(wire), *code);
        assert_eq!(code.to_string(), wire);
        let replies = [
            (
                format!("ERROR:{wire}:text"),
                ServerMessage::Error {
                    code: code.clone(),
                    text: s("text"),
                    about: None,
                },
            ),
            (
                format!("LOGIN:false:{wire}:text"),
                ServerMessage::LoginFailed {
                    code: code.clone(),
                    text: s("text"),
                },
            ),
            (
                format!("RESIGER:false:{wire}:text"),
                ServerMessage::RegisterFailed {
                    code: code.clone(),
                    text: s("text"),
                },
            ),
            (
                format!("BYE:{wire}:text"),
                ServerMessage::Bye {
                    code: code.clone(),
                    text: s("text"),
                },
            ),
        ];
        for (line, value) in replies {
            assert_eq!(value.format(), line);
            assert_eq!(ServerMessage::parse(&line), Ok(value));
        }
    }
}

/// `unavailable` (issue 26): a message refused while the database is away names its client id, so a
/// client sends that message again. (A build that predates the code reads it as `ErrorCode::Other`,
/// treated as `internal`: `error_code_wire_strings_are_unique_and_plain` checks an unknown code parses.)
#[test]
fn unavailable_names_the_refused_message() {
    let line = "ERROR:unavailable:the server cannot reach its database just now%3A try again:c17";
    let value = ServerMessage::Error {
        code: ErrorCode::Unavailable,
        text: s("the server cannot reach its database just now: try again"),
        about: Some(s("c17")),
    };
    assert_eq!(ServerMessage::parse(line), Ok(value.clone()));
    assert_eq!(value.format(), line);
    // Without a client id (a request that is not a message), and malformed: no code at all.
    assert_eq!(
        ServerMessage::parse("ERROR:unavailable:try again"),
        Ok(ServerMessage::Error {
            code: ErrorCode::Unavailable,
            text: s("try again"),
            about: None,
        })
    );
    assert!(ServerMessage::parse("ERROR:").is_err());
}

#[test]
fn error_code_wire_strings_are_unique_and_plain() {
    let mut seen = BTreeSet::new();
    for code in ErrorCode::ALL {
        let wire = code.as_str();
        assert!(seen.insert(wire), "duplicate code {wire}");
        assert!(
            !wire.is_empty() && wire.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{wire} is not lower_snake_case"
        );
        assert!(!matches!(code, ErrorCode::Other(_)));
    }
    assert_eq!(
        ErrorCode::parse("no_such_code"),
        ErrorCode::Other(s("no_such_code"))
    );
}

#[test]
fn error_shorthand_has_no_about() {
    assert_eq!(
        ServerMessage::error(ErrorCode::Busy, "server full").format(),
        "ERROR:busy:server full"
    );
}

#[test]
fn limits_field_round_trips() {
    let limits = Limits::default();
    assert_eq!(limits.to_field(), LIMITS);
    assert_eq!(Limits::from_field(LIMITS), Some(limits));
    assert_eq!(Limits::from_field(""), Some(Limits::default()));
    // An older server's field has no `groups`, `actions` or `recall`: they keep their defaults.
    assert_eq!(
        Limits::from_field(
            "line=65536,text=8000,name=32,friends=1000,members=500,file=1073741824,rate=20"
        ),
        Some(Limits::default())
    );
    assert_eq!(limits.recall, 120);
    assert_eq!(
        Limits::from_field("recall=0"),
        Some(Limits {
            recall: 0,
            ..limits
        })
    );
    assert_eq!(
        Limits::from_field("recall=4294967295"),
        Some(Limits {
            recall: u32::MAX,
            ..limits
        })
    );
    assert_eq!(Limits::from_field("recall=-1"), None);
    // Issue 25: an older server's field has no `admins`; a newer one's is read.
    assert_eq!(limits.admins, 10);
    assert_eq!(
        Limits::from_field("admins=3"),
        Some(Limits {
            admins: 3,
            ..limits
        })
    );
    assert_eq!(Limits::from_field("admins=many"), None);
    assert_eq!(limits.notice, 500);
    assert_eq!(
        Limits::from_field("notice=0,admins=2"),
        Some(Limits {
            notice: 0,
            admins: 2,
            ..limits
        })
    );
    // The signature limit: an older server's field has none, and the default stands.
    assert_eq!(limits.sign, 80);
    assert_eq!(
        Limits::from_field("sign=140"),
        Some(Limits {
            sign: 140,
            ..limits
        })
    );
    assert_eq!(Limits::from_field("sign=long"), None);
    assert_eq!(Limits::from_field("recall=2m"), None);
    assert_eq!(
        Limits::from_field("rate=0,,"),
        Some(Limits { rate: 0, ..limits })
    );
    assert_eq!(Limits::from_field("rate"), None);
    assert_eq!(Limits::from_field("rate=fast"), None);
    assert_eq!(Limits::from_field("text=-1"), None);
}

/// An older client's view of the profile lines: without the `PROFILE` feature the server sends the
/// original shapes, and these are exactly what the parser of a client from before profiles read (the
/// trailing fields, which it would refuse, only come with the feature).
#[test]
fn profile_fields_are_left_off_without_the_feature() {
    let friend = ServerMessage::Friend {
        account: s("bob"),
        presence: Presence::Online,
        nickname: s("Bob"),
        remark: s("b"),
        category: None,
        profile: None,
    };
    assert_eq!(friend.format(), "FRIEND:bob:online:Bob:b");
    let member = ServerMessage::Member {
        group: 3,
        account: s("bob"),
        role: Role::Member,
        presence: Presence::Online,
        nickname: s("Bob"),
        muted_until: Some(5),
        profile: None,
    };
    assert_eq!(member.format(), "MEMBER:3:bob:member:online:Bob:5");
    // Two trailing fields are neither a mute (one), a profile (three) nor both (four).
    assert!(ServerMessage::parse("MEMBER:3:bob:member:online:Bob:5:male").is_err());
    assert!(ServerMessage::parse("MEMBER:3:bob:member:online:Bob:5:male:x:y:z").is_err());
    // A profile's gender is one of the words or empty.
    assert!(ServerMessage::parse("FRIEND:bob:online:Bob::robot::hi").is_err());
    assert!(ServerMessage::parse("PROFILE:bob:Bob:male").is_err());
}

/// The friend group on `FRIEND:` lines is told from the profile by the number of trailing fields, so
/// every mix of the two features reads back, and an older client (neither) gets the original line.
#[test]
fn a_friends_group_and_profile_are_told_apart() {
    let friend = |category, profile| ServerMessage::Friend {
        account: s("bob"),
        presence: Presence::Online,
        nickname: s("Bob"),
        remark: s(""),
        category,
        profile,
    };
    let profile = Profile {
        gender: None,
        region: s("7"),
        signature: s(""),
    };
    for m in [
        friend(None, None),
        friend(Some(7), None),
        friend(None, Some(profile.clone())),
        friend(Some(7), Some(profile)),
    ] {
        assert_eq!(ServerMessage::parse(&m.format()), Ok(m));
    }
    assert_eq!(friend(None, None).format(), "FRIEND:bob:online:Bob:");
    // Two trailing fields are neither a group (one), a profile (three) nor both (four).
    assert!(ServerMessage::parse("FRIEND:bob:online:Bob::3:male").is_err());
    assert!(ServerMessage::parse("FRIEND:bob:online:Bob::3:male:x:y:z").is_err());
    // The group is a number.
    assert!(ServerMessage::parse("FRIEND:bob:online:Bob::work").is_err());
}

#[test]
fn profile_changes_apply_to_a_profile() {
    let mut profile = Profile::default();
    ProfileChange::Signature(s("hi")).apply(&mut profile);
    ProfileChange::Gender(Some(Gender::Female)).apply(&mut profile);
    ProfileChange::Region(s("上海")).apply(&mut profile);
    assert_eq!(
        profile,
        Profile {
            gender: Some(Gender::Female),
            region: s("上海"),
            signature: s("hi"),
        }
    );
    ProfileChange::Gender(None).apply(&mut profile);
    assert_eq!(profile.gender, None);
}

#[test]
fn conv_display_is_its_two_wire_fields() {
    assert_eq!(Conv::User(s("bob")).to_string(), "user:bob");
    assert_eq!(Conv::User(s("a:b")).to_string(), "user:a%3Ab");
    assert_eq!(Conv::Group(3).to_string(), "group:3");
}

#[test]
fn parse_errors_map_to_wire_codes() {
    assert_eq!(
        ClientMessage::parse("HELLO").unwrap_err().code(),
        ErrorCode::UnknownVerb
    );
    for bad in [
        "",
        "LOGIN",
        "LOGIN:a:b:c",
        "GROUP_JOIN:x",
        "LOGIN::b",
        "MSG:bob:c1:%FF",
    ] {
        let err: ParseError = ClientMessage::parse(bad).unwrap_err();
        assert_eq!(err.code(), ErrorCode::BadRequest, "{bad:?} gave {err:?}");
    }
}

/// `docs/protocol.md` is the spec people read; it must at least mention every verb and every error code.
#[test]
fn the_spec_documents_every_verb_and_error_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/protocol.md");
    let spec = std::fs::read_to_string(&path).expect("docs/protocol.md");
    let verb = |line: &str| line.split(':').next().unwrap().to_owned();
    let mut verbs: BTreeSet<String> = client_cases().iter().map(|(l, _)| verb(l)).collect();
    verbs.extend(server_cases().iter().map(|(l, _)| verb(l)));
    verbs.insert(s("REGISTER"));
    for verb in verbs {
        assert!(
            spec.contains(&format!("`{verb}:")) || spec.contains(&format!("`{verb}`")),
            "docs/protocol.md does not document `{verb}`"
        );
    }
    for code in ErrorCode::ALL {
        assert!(
            spec.contains(&format!("| `{}` |", code.as_str())),
            "docs/protocol.md has no row for error code `{}`",
            code.as_str()
        );
    }
}

#[test]
fn features_field() {
    assert_eq!(
        Features::ALL.to_field(),
        "SAID,RECALLED,READ,TYPING,GROUP_ROLE,GROUP_MUTE,GROUP_NOTICE,GROUP_EVENT,PROFILE,BLOCK,CATEGORY,AVATAR"
    );
    assert_eq!(Features::default().to_field(), "");
    assert_eq!(Features::from_field(""), Features::default());
    assert_eq!(
        Features::from_field(
            "AVATAR,CATEGORY,BLOCK,PROFILE,GROUP_EVENT,GROUP_NOTICE,GROUP_MUTE,GROUP_ROLE,TYPING,READ,RECALLED,SAID"
        ),
        Features::ALL
    );
    let said_read = Features {
        said: true,
        read: true,
        ..Features::default()
    };
    assert_eq!(said_read.to_field(), "SAID,READ");
    assert_eq!(Features::from_field("READ,SAID,VIDEO"), said_read);
    // What a session gets is what both sides have.
    assert_eq!(said_read.and(Features::ALL), said_read);
    assert_eq!(Features::ALL.and(said_read), said_read);
    assert_eq!(said_read.and(Features::default()), Features::default());
    assert_eq!(
        said_read.and(Features {
            read: true,
            typing: true,
            ..Features::default()
        }),
        Features {
            read: true,
            ..Features::default()
        }
    );
}

#[test]
fn mentions_field() {
    let none = Mentions::default();
    assert!(none.is_empty());
    assert_eq!(none.to_field(), "");
    assert!(!none.includes("bob"));
    assert_eq!(Mentions::from_field(""), Some(none));

    let bob = mentions(false, &["bob", "carol"]);
    assert!(!bob.is_empty());
    assert!(bob.includes("bob") && bob.includes("carol"));
    assert!(!bob.includes("dave") && !bob.includes("*") && !bob.includes(""));
    assert_eq!(bob.to_field(), "bob,carol");

    let all = mentions(true, &[]);
    assert!(!all.is_empty());
    assert!(all.includes("dave"));
    assert_eq!(all.to_field(), "*");
    assert_eq!(mentions(true, &["bob"]).to_field(), "*,bob");
    assert_eq!(
        Mentions::from_field("carol,*,bob,carol"),
        Some(mentions(true, &["carol", "bob"]))
    );

    // Pieces that are not account names: escapes, spaces, colons and anything beyond ASCII.
    for bad in [
        "b%6Fb",
        "a b",
        "bob,a b",
        "a:b",
        "**",
        "*bob",
        "bob*",
        "小明",
        "bob;carol",
    ] {
        assert_eq!(Mentions::from_field(bad), None, "{bad:?}");
    }
}

/// Every line of the walkthrough of replies, recalls and mentions in `docs/protocol.md` is a real line: what
/// is typed (`> `) parses as a client line, what arrives parses as a server line and is exactly its format.
#[test]
fn the_spec_walkthrough_of_replies_and_recalls_is_real_lines() {
    walkthrough_is_real_lines("**Replies, recalls and mentions.**", 8);
}

/// Issue 25: and so is the walkthrough of group management.
#[test]
fn the_spec_walkthrough_of_group_management_is_real_lines() {
    walkthrough_is_real_lines("**Group management.**", 6);
}

/// And the walkthrough of profiles and the block list.
#[test]
fn the_spec_walkthrough_of_profiles_and_blocks_is_real_lines() {
    walkthrough_is_real_lines("**Profiles and the block list.**", 6);
}

/// And the walkthrough of avatars.
#[test]
fn the_spec_walkthrough_of_avatars_is_real_lines() {
    walkthrough_is_real_lines("**Avatars.**", 4);
}

/// Every line of the walkthrough that starts at `title` and runs to the next `**` paragraph title or
/// section is a real line; at least `lines` of them are typed and as many received.
fn walkthrough_is_real_lines(title: &str, lines: usize) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/protocol.md");
    let spec = std::fs::read_to_string(&path).expect("docs/protocol.md");
    let start = spec.find(title).expect("the walkthrough");
    let after = start + title.len();
    let end = after
        + [spec[after..].find("\n## "), spec[after..].find("\n**")]
            .into_iter()
            .flatten()
            .min()
            .expect("a section after it");
    let mut in_code = false;
    let (mut typed, mut received) = (0, 0);
    let mut wrong = Vec::new();
    for line in spec[start..end].lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        // `(terminal N)` says whose screen it is; a trailing `…` elides the rest of a line.
        if !in_code || line.is_empty() || line.starts_with("(terminal") || line.ends_with(":…") {
            continue;
        }
        if let Some(typed_line) = line.strip_prefix("> ") {
            typed += 1;
            if ClientMessage::parse(typed_line).is_err() {
                wrong.push(line.to_owned());
            }
        } else {
            received += 1;
            match ServerMessage::parse(line) {
                Ok(msg) if msg.format() == line => {}
                _ => wrong.push(line.to_owned()),
            }
        }
    }
    assert!(
        typed >= lines && received >= lines,
        "{typed} typed, {received} received"
    );
    assert!(
        wrong.is_empty(),
        "lines of the walkthrough that do not parse as shown: {wrong:#?}"
    );
}

/// Issue 25: a `muted` refusal's text starts with the unmute time.
#[test]
fn a_muted_refusal_carries_its_end() {
    use ququ_protocol::{muted_text, muted_until};
    let text = muted_text(1_764_032_400_000, "you are muted in group 3");
    assert_eq!(text, "1764032400000 you are muted in group 3");
    assert_eq!(muted_until(&text), Some(1_764_032_400_000));
    assert_eq!(
        muted_until(&muted_text(0, "the whole group is muted")),
        Some(0)
    );
    assert_eq!(muted_until("you are muted"), None);
    assert_eq!(muted_until(""), None);
    assert_eq!(muted_until("-5 x"), None);
    let line = ServerMessage::Error {
        code: ErrorCode::Muted,
        text,
        about: Some(s("c1")),
    };
    assert_eq!(
        line.format(),
        "ERROR:muted:1764032400000 you are muted in group 3:c1"
    );
    assert_eq!(ServerMessage::parse(&line.format()), Ok(line));
}

/// Issue 25: every group event kind has one word, and it reads back.
#[test]
fn group_event_kinds_round_trip() {
    use GroupEventKind as K;
    let all = [
        K::Invite,
        K::Join,
        K::Leave,
        K::Kick,
        K::Rename,
        K::Admin,
        K::Transfer,
        K::Mute,
        K::MuteAll,
        K::Notice,
    ];
    let words: BTreeSet<&str> = all.iter().map(|k| k.as_str()).collect();
    assert_eq!(words.len(), all.len());
    for kind in all {
        assert_eq!(K::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(K::parse("Invite"), None);
    assert_eq!(K::parse(""), None);
}

/// And the walkthrough of friend groups.
#[test]
fn the_spec_walkthrough_of_friend_groups_is_real_lines() {
    walkthrough_is_real_lines("**Friend groups.**", 8);
}
