//! Property tests: every message round-trips through its line, formatting never breaks framing, parsing
//! never panics, and the line codec frames any byte stream the same however it is split into reads.

mod common;

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz_check;

use std::collections::BTreeSet;

use common::{CLIENT_VARIANTS, SERVER_VARIANTS, client_variant, server_variant};
use fuzz_check::{Decoded, decode_chunks, reference_lines};
use proptest::prelude::*;
use proptest::strategy::{Union, ValueTree};
use proptest::test_runner::TestRunner;
use ququ_protocol::{
    ChatMessage, ClientMessage, Conv, ErrorCode, Features, FileInfo, FileMessage, FileState,
    Gender, GoneReason, GroupEvent, GroupEventKind, GroupMessage, JoinPolicy, Limits, Mentions,
    Presence, Profile, ProfileChange, Quote, RecallMessage, Role, SaidMessage, ServerMessage,
};

// ---- field strategies ----

/// Characters that stress the escaping: the four escaped ones, hex digits that could form `%XX`, CJK, emoji,
/// and anything at all.
fn field_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => proptest::char::range('a', 'z'),
        2 => Just(':'),
        2 => Just('%'),
        1 => Just('\r'),
        1 => Just('\n'),
        1 => Just(' '),
        2 => proptest::sample::select(vec!['0', '2', '3', '5', 'A', 'D', 'a', 'd', 'F', 'f']),
        2 => proptest::char::range('\u{4e00}', '\u{9fff}'),
        1 => proptest::char::range('\u{1f300}', '\u{1f64f}'),
        1 => any::<char>(),
    ]
}

/// Any field content, empty included.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(field_char(), 0..12).prop_map(|cs| cs.into_iter().collect())
}

/// Content for fields the parser declares `nonempty`.
fn nonempty() -> impl Strategy<Value = String> {
    proptest::collection::vec(field_char(), 1..12).prop_map(|cs| cs.into_iter().collect())
}

/// Numbers, biased towards the edges.
fn num64() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0), Just(u64::MAX), 0..1000u64, any::<u64>()]
}

fn num32() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0), Just(u32::MAX), 0..1000u32, any::<u32>()]
}

fn conv() -> impl Strategy<Value = Conv> {
    prop_oneof![
        nonempty().prop_map(Conv::User),
        num64().prop_map(Conv::Group)
    ]
}

/// Any bytes, as an avatar's picture: every length mod 3, so every padding of the base64.
fn image() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..40)
}

fn sha256() -> impl Strategy<Value = String> {
    "[0-9a-f]{64}"
}

/// A known code, or an unknown one that is neither empty nor a known code's string.
fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        3 => proptest::sample::select(ErrorCode::ALL.to_vec()),
        1 => nonempty().prop_filter_map("a known code", |s| match ErrorCode::parse(&s) {
            code @ ErrorCode::Other(_) => Some(code),
            _ => None,
        }),
    ]
}

fn presence() -> impl Strategy<Value = Presence> {
    prop_oneof![Just(Presence::Online), Just(Presence::Offline)]
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Owner), Just(Role::Admin), Just(Role::Member)]
}

fn group_event_kind() -> impl Strategy<Value = GroupEventKind> {
    use GroupEventKind as K;
    proptest::sample::select(vec![
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
    ])
}

fn join_policy() -> impl Strategy<Value = JoinPolicy> {
    prop_oneof![
        Just(JoinPolicy::Invite),
        Just(JoinPolicy::Open),
        Just(JoinPolicy::Approve)
    ]
}

fn gone_reason() -> impl Strategy<Value = GoneReason> {
    prop_oneof![
        Just(GoneReason::Left),
        Just(GoneReason::Kicked),
        Just(GoneReason::Dissolved)
    ]
}

fn file_state() -> impl Strategy<Value = FileState> {
    prop_oneof![
        Just(FileState::Uploaded),
        Just(FileState::Rejected),
        Just(FileState::Cancelled),
        Just(FileState::Expired),
        Just(FileState::Downloaded),
    ]
}

fn limits() -> impl Strategy<Value = Limits> {
    // Nested: a tuple strategy has at most twelve members.
    (
        (
            num32(),
            num32(),
            num32(),
            num32(),
            num32(),
            num64(),
            num32(),
            num32(),
            num32(),
            num32(),
        ),
        (num32(), num32(), num32(), num32(), num32()),
    )
        .prop_map(
            |(
                (line, text, name, friends, members, file, rate, groups, actions, recall),
                (admins, notice, sign, categories, avatar),
            )| Limits {
                line,
                text,
                name,
                friends,
                members,
                file,
                rate,
                groups,
                actions,
                recall,
                admins,
                notice,
                sign,
                categories,
                avatar,
            },
        )
}

/// Any combination of features.
fn features() -> impl Strategy<Value = Features> {
    any::<[bool; 12]>().prop_map(
        |[
            said,
            recalled,
            read,
            typing,
            group_role,
            group_mute,
            group_notice,
            group_event,
            profile,
            block,
            category,
            avatar,
        ]| Features {
            said,
            recalled,
            read,
            typing,
            group_role,
            group_mute,
            group_notice,
            group_event,
            profile,
            block,
            category,
            avatar,
        },
    )
}

fn gender() -> impl Strategy<Value = Option<Gender>> {
    proptest::option::of(prop_oneof![
        Just(Gender::Male),
        Just(Gender::Female),
        Just(Gender::Other)
    ])
}

/// Any profile, its free-text fields full of the characters that need escaping.
fn profile() -> impl Strategy<Value = Profile> {
    (gender(), text(), text()).prop_map(|(gender, region, signature)| Profile {
        gender,
        region,
        signature,
    })
}

fn profile_change() -> impl Strategy<Value = ProfileChange> {
    prop_oneof![
        text().prop_map(ProfileChange::Signature),
        text().prop_map(ProfileChange::Region),
        gender().prop_map(ProfileChange::Gender),
    ]
}

/// Account-like names: what a mention can hold.
fn account_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9_.-]{0,7}"
}

/// Nobody, everyone, or some accounts without repeats (in the order written).
fn mentions() -> impl Strategy<Value = Mentions> {
    (
        any::<bool>(),
        proptest::collection::vec(account_name(), 0..4),
    )
        .prop_map(|(all, names)| {
            let mut accounts: Vec<String> = Vec::new();
            for name in names {
                if !accounts.contains(&name) {
                    accounts.push(name);
                }
            }
            Mentions { all, accounts }
        })
}

/// The id of a message answered: none (`0` on the wire), or any real id.
fn reply_to() -> impl Strategy<Value = Option<u64>> {
    proptest::option::of(prop_oneof![
        Just(1),
        Just(u64::MAX),
        1..1000u64,
        1..=u64::MAX
    ])
}

fn quote() -> impl Strategy<Value = Option<Quote>> {
    proptest::option::of(
        (
            prop_oneof![Just(1), Just(u64::MAX), 1..=u64::MAX],
            text(),
            text(),
        )
            .prop_map(|(id, from, text)| Quote { id, from, text }),
    )
}

// ---- message strategies: one arm per variant ----

fn client_message() -> impl Strategy<Value = ClientMessage> {
    use ClientMessage as M;
    Union::new(vec![
        (nonempty(), text(), proptest::option::of(text()))
            .prop_map(|(account, password, nickname)| M::Register {
                account,
                password,
                nickname,
            })
            .boxed(),
        (nonempty(), text())
            .prop_map(|(account, password)| M::Login { account, password })
            .boxed(),
        (nonempty(), nonempty())
            .prop_map(|(account, token)| M::Resume { account, token })
            .boxed(),
        Just(M::Logout).boxed(),
        num64().prop_map(|nonce| M::Ping { nonce }).boxed(),
        num64().prop_map(|nonce| M::Pong { nonce }).boxed(),
        text()
            .prop_map(|nickname| M::SetNickname { nickname })
            .boxed(),
        (text(), text())
            .prop_map(|(old, new)| M::ChangePassword { old, new })
            .boxed(),
        text().prop_map(|query| M::FindUser { query }).boxed(),
        (nonempty(), text())
            .prop_map(|(account, note)| M::FriendRequest { account, note })
            .boxed(),
        nonempty()
            .prop_map(|account| M::AcceptFriend { account })
            .boxed(),
        nonempty()
            .prop_map(|account| M::RejectFriend { account })
            .boxed(),
        nonempty()
            .prop_map(|account| M::DeleteFriend { account })
            .boxed(),
        (nonempty(), text())
            .prop_map(|(account, remark)| M::SetRemark { account, remark })
            .boxed(),
        Just(M::ListFriends).boxed(),
        Just(M::ListRequests).boxed(),
        (nonempty(), nonempty(), text())
            .prop_map(|(to, client_id, text)| M::Msg {
                to,
                client_id,
                text,
            })
            .boxed(),
        (num64(), nonempty(), text())
            .prop_map(|(group, client_id, text)| M::GroupMsg {
                group,
                client_id,
                text,
            })
            .boxed(),
        (num64(), num32())
            .prop_map(|(after, limit)| M::Sync { after, limit })
            .boxed(),
        (conv(), num64(), num32())
            .prop_map(|(conv, before, limit)| M::History {
                conv,
                before,
                limit,
            })
            .boxed(),
        text().prop_map(|name| M::CreateGroup { name }).boxed(),
        num64().prop_map(|group| M::JoinGroup { group }).boxed(),
        num64().prop_map(|group| M::LeaveGroup { group }).boxed(),
        (num64(), nonempty())
            .prop_map(|(group, account)| M::InviteToGroup { group, account })
            .boxed(),
        (num64(), nonempty())
            .prop_map(|(group, account)| M::KickFromGroup { group, account })
            .boxed(),
        num64().prop_map(|group| M::DissolveGroup { group }).boxed(),
        (num64(), text())
            .prop_map(|(group, name)| M::RenameGroup { group, name })
            .boxed(),
        (num64(), proptest::option::of(join_policy()))
            .prop_map(|(group, policy)| M::GroupPolicy { group, policy })
            .boxed(),
        num64().prop_map(|group| M::ListMembers { group }).boxed(),
        Just(M::ListGroups).boxed(),
        (num64(), nonempty(), any::<bool>())
            .prop_map(|(group, account, admin)| M::SetGroupAdmin {
                group,
                account,
                admin,
            })
            .boxed(),
        (num64(), nonempty())
            .prop_map(|(group, account)| M::TransferGroup { group, account })
            .boxed(),
        (num64(), nonempty(), num64())
            .prop_map(|(group, account, seconds)| M::MuteMember {
                group,
                account,
                seconds,
            })
            .boxed(),
        (num64(), proptest::option::of(any::<bool>()))
            .prop_map(|(group, on)| M::MuteAll { group, on })
            .boxed(),
        (num64(), proptest::option::of(text()))
            .prop_map(|(group, text)| M::GroupNotice { group, text })
            .boxed(),
        (num64(), nonempty(), any::<bool>())
            .prop_map(|(group, account, accept)| M::AnswerJoin {
                group,
                account,
                accept,
            })
            .boxed(),
        Just(M::ListJoinRequests).boxed(),
        (conv(), nonempty(), num64(), sha256(), text())
            .prop_map(|(to, client_id, size, sha256, name)| M::FileOffer {
                to,
                client_id,
                size,
                sha256,
                name,
            })
            .boxed(),
        num64().prop_map(|file| M::FileAccept { file }).boxed(),
        num64().prop_map(|file| M::FileReject { file }).boxed(),
        num64().prop_map(|file| M::FileCancel { file }).boxed(),
        (nonempty(), num64())
            .prop_map(|(token, offset)| M::FilePut { token, offset })
            .boxed(),
        (nonempty(), num64())
            .prop_map(|(token, offset)| M::FileGet { token, offset })
            .boxed(),
        features()
            .prop_map(|features| M::Features { features })
            .boxed(),
        (conv(), nonempty(), reply_to(), mentions(), text())
            .prop_map(|(to, client_id, reply_to, mentions, text)| M::Send {
                to,
                client_id,
                reply_to,
                mentions,
                text,
            })
            .boxed(),
        num64().prop_map(|id| M::Recall { id }).boxed(),
        (conv(), num64())
            .prop_map(|(conv, up_to)| M::Read { conv, up_to })
            .boxed(),
        Just(M::ListReads).boxed(),
        nonempty().prop_map(|to| M::Typing { to }).boxed(),
        profile_change()
            .prop_map(|change| M::SetProfile { change })
            .boxed(),
        proptest::option::of(nonempty())
            .prop_map(|account| M::GetProfile { account })
            .boxed(),
        nonempty().prop_map(|account| M::Block { account }).boxed(),
        nonempty()
            .prop_map(|account| M::Unblock { account })
            .boxed(),
        Just(M::ListBlocks).boxed(),
        Just(M::ListCategories).boxed(),
        text().prop_map(|name| M::AddCategory { name }).boxed(),
        (num64(), text())
            .prop_map(|(category, name)| M::RenameCategory { category, name })
            .boxed(),
        num64()
            .prop_map(|category| M::DeleteCategory { category })
            .boxed(),
        (nonempty(), num64())
            .prop_map(|(account, category)| M::MoveFriend { account, category })
            .boxed(),
        proptest::collection::vec(num64(), 0..5)
            .prop_map(|categories| M::OrderCategories { categories })
            .boxed(),
        image().prop_map(|image| M::SetAvatar { image }).boxed(),
        (num64(), image())
            .prop_map(|(group, image)| M::SetGroupAvatar { group, image })
            .boxed(),
        sha256().prop_map(|sha256| M::GetAvatar { sha256 }).boxed(),
    ])
}

fn server_message() -> impl Strategy<Value = ServerMessage> {
    use ServerMessage as M;
    Union::new(vec![
        text().prop_map(|account| M::RegisterOk { account }).boxed(),
        (error_code(), text())
            .prop_map(|(code, text)| M::RegisterFailed { code, text })
            .boxed(),
        (num64(), text(), text(), text(), limits())
            .prop_map(|(user_id, account, nickname, token, limits)| M::LoginOk {
                user_id,
                account,
                nickname,
                token,
                limits,
            })
            .boxed(),
        (error_code(), text())
            .prop_map(|(code, text)| M::LoginFailed { code, text })
            .boxed(),
        (error_code(), text())
            .prop_map(|(code, text)| M::Bye { code, text })
            .boxed(),
        num64().prop_map(|nonce| M::Ping { nonce }).boxed(),
        num64().prop_map(|nonce| M::Pong { nonce }).boxed(),
        (text(), text(), proptest::option::of(profile()))
            .prop_map(|(account, nickname, profile)| M::Profile {
                account,
                nickname,
                profile,
            })
            .boxed(),
        Just(M::PasswordChanged).boxed(),
        (text(), presence())
            .prop_map(|(account, presence)| M::Presence { account, presence })
            .boxed(),
        (text(), presence(), text())
            .prop_map(|(account, presence, nickname)| M::Found {
                account,
                presence,
                nickname,
            })
            .boxed(),
        num32().prop_map(|count| M::FoundEnd { count }).boxed(),
        (
            text(),
            presence(),
            text(),
            text(),
            proptest::option::of(num64()),
            proptest::option::of(profile()),
        )
            .prop_map(
                |(account, presence, nickname, remark, category, profile)| M::Friend {
                    account,
                    presence,
                    nickname,
                    remark,
                    category,
                    profile,
                },
            )
            .boxed(),
        num32().prop_map(|count| M::FriendsEnd { count }).boxed(),
        (text(), num64(), text(), text())
            .prop_map(|(from, time, nickname, note)| M::FriendRequest {
                from,
                time,
                nickname,
                note,
            })
            .boxed(),
        (text(), num64(), text())
            .prop_map(|(to, time, nickname)| M::RequestWaiting { to, time, nickname })
            .boxed(),
        num32().prop_map(|count| M::RequestsEnd { count }).boxed(),
        text()
            .prop_map(|account| M::RequestSent { account })
            .boxed(),
        text()
            .prop_map(|account| M::RequestClosed { account })
            .boxed(),
        text()
            .prop_map(|account| M::FriendRejected { account })
            .boxed(),
        text()
            .prop_map(|account| M::FriendRemoved { account })
            .boxed(),
        (num64(), text(), text(), num64(), text(), text())
            .prop_map(|(id, from, to, time, client_id, text)| {
                M::Msg(ChatMessage {
                    id,
                    from,
                    to,
                    time,
                    client_id,
                    text,
                })
            })
            .boxed(),
        (num64(), num64(), text(), num64(), text(), text())
            .prop_map(|(id, group, from, time, client_id, text)| {
                M::GroupMsg(GroupMessage {
                    id,
                    group,
                    from,
                    time,
                    client_id,
                    text,
                })
            })
            .boxed(),
        (
            (num64(), text(), conv(), num64(), text()),
            (num64(), num64(), sha256(), text()),
        )
            .prop_map(
                |((id, from, to, time, client_id), (file_id, size, sha256, name))| {
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
                },
            )
            .boxed(),
        (text(), num64(), num64())
            .prop_map(|(client_id, id, time)| M::Ack {
                client_id,
                id,
                time,
            })
            .boxed(),
        (num64(), any::<bool>())
            .prop_map(|(last_id, more)| M::SyncEnd { last_id, more })
            .boxed(),
        (conv(), num32(), any::<bool>())
            .prop_map(|(conv, count, more)| M::HistoryEnd { conv, count, more })
            .boxed(),
        (num64(), text(), num32(), text())
            .prop_map(|(group, owner, members, name)| M::GroupInfo {
                group,
                owner,
                members,
                name,
            })
            .boxed(),
        num32().prop_map(|count| M::GroupsEnd { count }).boxed(),
        (num64(), join_policy())
            .prop_map(|(group, policy)| M::GroupPolicy { group, policy })
            .boxed(),
        (num64(), gone_reason())
            .prop_map(|(group, reason)| M::GroupGone { group, reason })
            .boxed(),
        (
            num64(),
            text(),
            role(),
            presence(),
            text(),
            proptest::option::of(num64()),
            proptest::option::of(profile()),
        )
            .prop_map(
                |(group, account, role, presence, nickname, muted_until, profile)| M::Member {
                    group,
                    account,
                    role,
                    presence,
                    nickname,
                    muted_until,
                    profile,
                },
            )
            .boxed(),
        (num64(), num32())
            .prop_map(|(group, count)| M::MembersEnd { group, count })
            .boxed(),
        (num64(), text(), role())
            .prop_map(|(group, account, role)| M::GroupRole {
                group,
                account,
                role,
            })
            .boxed(),
        (num64(), text(), num64())
            .prop_map(|(group, account, until)| M::GroupMute {
                group,
                account,
                until,
            })
            .boxed(),
        (num64(), any::<bool>())
            .prop_map(|(group, on)| M::GroupMuteAll { group, on })
            .boxed(),
        (num64(), text(), num64(), text())
            .prop_map(|(group, account, time, nickname)| M::GroupJoinRequest {
                group,
                account,
                time,
                nickname,
            })
            .boxed(),
        num32()
            .prop_map(|count| M::GroupRequestsEnd { count })
            .boxed(),
        num64().prop_map(|group| M::GroupJoinSent { group }).boxed(),
        (num64(), text())
            .prop_map(|(group, account)| M::GroupJoinClosed { group, account })
            .boxed(),
        num64()
            .prop_map(|group| M::GroupJoinRejected { group })
            .boxed(),
        (
            (num64(), num64(), text(), num64()),
            (group_event_kind(), text(), text()),
        )
            .prop_map(|((id, group, by, time), (kind, account, value))| {
                M::GroupEvent(GroupEvent {
                    id,
                    group,
                    by,
                    time,
                    kind,
                    account,
                    value,
                })
            })
            .boxed(),
        (num64(), text(), num64(), text())
            .prop_map(|(group, by, time, text)| M::GroupNotice {
                group,
                by,
                time,
                text,
            })
            .boxed(),
        (num64(), text(), gone_reason())
            .prop_map(|(group, account, reason)| M::MemberLeft {
                group,
                account,
                reason,
            })
            .boxed(),
        (num64(), text(), num64())
            .prop_map(|(file, token, offset)| M::FileUpload {
                file,
                token,
                offset,
            })
            .boxed(),
        (num64(), text(), num64())
            .prop_map(|(file, token, size)| M::FileDownload { file, token, size })
            .boxed(),
        (num64(), num64(), num64())
            .prop_map(|(file, bytes, total)| M::FileProgress { file, bytes, total })
            .boxed(),
        (num64(), file_state())
            .prop_map(|(file, state)| M::FileState { file, state })
            .boxed(),
        (error_code(), text(), proptest::option::of(text()))
            .prop_map(|(code, text, about)| M::Error { code, text, about })
            .boxed(),
        features()
            .prop_map(|features| M::Features { features })
            .boxed(),
        (
            (num64(), conv(), text(), num64(), text()),
            (mentions(), quote(), text()),
        )
            .prop_map(
                |((id, to, from, time, client_id), (mentions, quote, text))| {
                    M::Said(SaidMessage {
                        id,
                        to,
                        from,
                        time,
                        client_id,
                        mentions,
                        quote,
                        text,
                    })
                },
            )
            .boxed(),
        (num64(), conv(), text(), num64(), num64(), text())
            .prop_map(|(id, to, by, time, target, target_from)| {
                M::Recalled(RecallMessage {
                    id,
                    to,
                    by,
                    time,
                    target,
                    target_from,
                })
            })
            .boxed(),
        (conv(), num64())
            .prop_map(|(conv, up_to)| M::Read { conv, up_to })
            .boxed(),
        num32().prop_map(|count| M::ReadsEnd { count }).boxed(),
        text().prop_map(|from| M::Typing { from }).boxed(),
        (text(), num64(), text())
            .prop_map(|(account, time, nickname)| M::Blocked {
                account,
                time,
                nickname,
            })
            .boxed(),
        text().prop_map(|account| M::Unblocked { account }).boxed(),
        num32().prop_map(|count| M::BlocksEnd { count }).boxed(),
        (num64(), text())
            .prop_map(|(category, name)| M::Category { category, name })
            .boxed(),
        num32().prop_map(|count| M::CategoriesEnd { count }).boxed(),
        num64()
            .prop_map(|category| M::CategoryGone { category })
            .boxed(),
        proptest::collection::vec(num64(), 0..5)
            .prop_map(|categories| M::CategoryOrder { categories })
            .boxed(),
        (conv(), proptest::option::of(sha256()))
            .prop_map(|(of, sha256)| M::AvatarOf { of, sha256 })
            .boxed(),
        (sha256(), image())
            .prop_map(|(sha256, image)| M::Avatar { sha256, image })
            .boxed(),
    ])
}

// ---- arbitrary input ----

/// Lines that look like protocol lines: a known verb (or junk) and a few fields of any content, so the
/// parsers get past the verb and into the fields far more often than with uniform noise.
fn line_like() -> impl Strategy<Value = String> {
    let verbs = vec![
        "",
        "LOGIN",
        "RESIGER",
        "REGISTER",
        "RESUME",
        "LOGOUT",
        "PING",
        "PONG",
        "SET_NICK",
        "PASSWD",
        "FIND",
        "ADD_FRIEND",
        "ACCEPT_FRIEND",
        "REMARK",
        "MSG",
        "GROUP",
        "SYNC",
        "HISTORY",
        "GROUP_CREATE",
        "GROUP_INVITE",
        "GROUP_RENAME",
        "GROUP_POLICY",
        "GROUP_ADMIN",
        "GROUP_TRANSFER",
        "GROUP_ROLE",
        "GROUP_MUTE",
        "GROUP_MUTE_ALL",
        "GROUP_NOTICE",
        "GROUP_JOIN_ANSWER",
        "GROUP_REQUESTS",
        "GROUP_JOIN_REQUEST",
        "GROUP_JOIN_SENT",
        "GROUP_JOIN_CLOSED",
        "GROUP_EVENT",
        "mute_all",
        "invite",
        "approve",
        "yes",
        "no",
        "admin",
        "on",
        "off",
        "FileTran",
        "FILE_PUT",
        "BYE",
        "PROFILE",
        "CONNECT_CLIENT",
        "FOUND",
        "FRIEND",
        "FRIEND_REQUEST",
        "ACK",
        "SYNC_END",
        "HISTORY_END",
        "GROUP_INFO",
        "GROUP_GONE",
        "MEMBER",
        "MEMBER_LEFT",
        "FILE_UPLOAD",
        "FILE_STATE",
        "ERROR",
        "FEATURES",
        "SEND",
        "RECALL",
        "READ",
        "READS",
        "TYPING",
        "SET_PROFILE",
        "PROFILE",
        "BLOCK",
        "UNBLOCK",
        "BLOCKS",
        "BLOCKED",
        "UNBLOCKED",
        "BLOCKS_END",
        "CATEGORIES",
        "CATEGORY_ADD",
        "CATEGORY_RENAME",
        "CATEGORY_DEL",
        "FRIEND_MOVE",
        "CATEGORY",
        "CATEGORIES_END",
        "CATEGORY_GONE",
        "CATEGORY_ORDER",
        "3,1,2",
        "SET_AVATAR",
        "GROUP_AVATAR",
        "AVATAR_GET",
        "AVATAR_OF",
        "AVATAR",
        "iVBORw0KGgo=",
        "sign",
        "gender",
        "female",
        "SAID",
        "RECALLED",
        "READS_END",
        "SAID,RECALLED,READ,TYPING",
        "*",
        "*,bob",
        "true",
        "false",
        "user",
        "group",
        "online",
        "owner",
        "kicked",
        "uploaded",
        "0",
        "1",
        "42",
    ];
    let word = prop_oneof![
        proptest::sample::select(verbs.clone()).prop_map(str::to_owned),
        text(),
        "[0-9a-f]{64}",
        "(line|text|rate)=[0-9]{1,3}(,file=[0-9]{1,3})?",
    ];
    (
        proptest::sample::select(verbs),
        proptest::collection::vec(word, 0..10),
    )
        .prop_map(|(verb, fields)| {
            let mut line = verb.to_owned();
            for field in fields {
                line.push(':');
                line.push_str(&field);
            }
            line
        })
}

/// Bytes for the codec: mostly line content, with plenty of `\n`, `\r` and invalid UTF-8.
fn stream_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        6 => b'a'..=b'z',
        2 => Just(b'\n'),
        1 => Just(b'\r'),
        1 => Just(b':'),
        1 => Just(0xff),
        1 => any::<u8>(),
    ]
}

/// Splits `data` at the given points (taken modulo its length, in any order).
fn split_at<'a>(data: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = points.iter().map(|p| p % (data.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(data.len());
    let mut start = 0;
    let mut chunks = Vec::new();
    for cut in cuts {
        chunks.push(&data[start..cut]);
        start = cut;
    }
    chunks
}

proptest! {
    #[test]
    fn client_messages_round_trip(msg in client_message()) {
        let line = msg.format();
        prop_assert!(!line.contains(['\r', '\n']), "raw CR/LF in {:?}", line);
        prop_assert!(line.starts_with(msg.verb()));
        prop_assert_eq!(ClientMessage::parse(&line), Ok(msg));
    }

    #[test]
    fn server_messages_round_trip(msg in server_message()) {
        let line = msg.format();
        prop_assert!(!line.contains(['\r', '\n']), "raw CR/LF in {:?}", line);
        prop_assert_eq!(ServerMessage::parse(&line), Ok(msg));
    }

    #[test]
    fn round_trips_survive_the_codec(
        client in proptest::collection::vec(client_message(), 0..6),
        server in proptest::collection::vec(server_message(), 0..6),
        points in proptest::collection::vec(any::<usize>(), 0..8),
        crlf in any::<bool>(),
    ) {
        let end = if crlf { "\r\n" } else { "\n" };
        let lines: Vec<String> = client
            .iter()
            .map(|m| m.format())
            .chain(server.iter().map(|m| m.format()))
            .collect();
        let stream: String = lines.iter().map(|l| format!("{l}{end}")).collect();
        let decoded = decode_chunks(ququ_protocol::DEFAULT_MAX_LINE, &split_at(stream.as_bytes(), &points));
        let want: Vec<Decoded> = lines.into_iter().map(Decoded::Line).collect();
        prop_assert_eq!(&decoded, &want);
        for (line, msg) in decoded.iter().zip(&client) {
            let Decoded::Line(line) = line else { unreachable!() };
            prop_assert_eq!(&ClientMessage::parse(line), &Ok(msg.clone()));
        }
        for (line, msg) in decoded.iter().skip(client.len()).zip(&server) {
            let Decoded::Line(line) = line else { unreachable!() };
            prop_assert_eq!(&ServerMessage::parse(line), &Ok(msg.clone()));
        }
    }

    #[test]
    fn parsing_arbitrary_strings_never_panics(line in any::<String>()) {
        // Ok or a typed error; the fuzz check also re-formats anything accepted.
        fuzz_check::check_line(&line);
    }

    #[test]
    fn parsing_line_like_strings_never_panics(line in line_like()) {
        fuzz_check::check_line(&line);
    }

    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        fuzz_check::check_line(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn the_codec_frames_any_stream_however_it_is_split(
        data in proptest::collection::vec(stream_byte(), 0..300),
        points in proptest::collection::vec(any::<usize>(), 0..12),
        cap in prop_oneof![1..24usize, Just(ququ_protocol::DEFAULT_MAX_LINE)],
    ) {
        let reference = reference_lines(cap, &data);
        let whole = decode_chunks(cap, &[&data]);
        let split = decode_chunks(cap, &split_at(&data, &points));
        prop_assert_eq!(&whole, &reference);
        prop_assert_eq!(&split, &reference);
        for out in &split {
            if let Decoded::Line(line) = out {
                prop_assert!(line.len() <= cap, "{} bytes over a cap of {}", line.len(), cap);
                prop_assert!(!line.contains('\n'));
            }
        }
        // Nothing follows an error: the connection is closed there.
        let errors = split.iter().filter(|d| **d == Decoded::TooLong).count();
        prop_assert!(errors == 0 || split.last() == Some(&Decoded::TooLong));
    }

    #[test]
    fn the_fuzz_target_accepts_any_bytes(data in proptest::collection::vec(stream_byte(), 0..120)) {
        fuzz_check::parse_line(&data);
    }
}

/// Adding a variant breaks `common::*_variant` until it is indexed; this then fails until the strategies
/// above generate it, so the round-trip properties cannot silently skip a variant.
#[test]
fn the_strategies_generate_every_variant() {
    let mut runner = TestRunner::deterministic();
    let client = client_message();
    let server = server_message();
    let mut seen_client = BTreeSet::new();
    let mut seen_server = BTreeSet::new();
    for _ in 0..3000 {
        seen_client.insert(client_variant(
            &client.new_tree(&mut runner).unwrap().current(),
        ));
        seen_server.insert(server_variant(
            &server.new_tree(&mut runner).unwrap().current(),
        ));
    }
    assert_eq!(seen_client, (0..CLIENT_VARIANTS).collect::<BTreeSet<_>>());
    assert_eq!(seen_server, (0..SERVER_VARIANTS).collect::<BTreeSet<_>>());
}

/// The committed seed corpus passes the same checks the fuzzer runs.
#[test]
fn the_fuzz_seed_corpus_passes_the_fuzz_checks() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse_line");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).expect("the seed corpus") {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        fuzz_check::parse_line(&data);
        seeds += 1;
    }
    assert!(seeds >= 12, "only {seeds} seeds in {}", dir.display());
}

/// Every line of the seed corpus except the deliberately broken ones parses in one direction or the other.
#[test]
fn the_seed_corpus_is_real_lines() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse_line");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "malformed") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        for out in decode_chunks(ququ_protocol::DEFAULT_MAX_LINE, &[&data]) {
            let Decoded::Line(line) = out else {
                panic!("{}: {out:?}", path.display())
            };
            assert!(
                ClientMessage::parse(&line).is_ok() || ServerMessage::parse(&line).is_ok(),
                "{}: {line:?} parses in neither direction",
                path.display()
            );
        }
    }
}
