//! Shared by the integration tests: an exhaustive index of every message variant.
//!
//! The matches below have no wildcard arm, so adding a variant to `ClientMessage` or `ServerMessage` stops
//! the tests compiling until it is given an index here; bumping the count then makes `roundtrip.rs` demand a
//! wire-line case for it and `properties.rs` demand that its strategy generates it.

#![allow(dead_code)]

use ququ_protocol::{ClientMessage, ServerMessage};

/// How many variants `ClientMessage` has; `client_variant` returns `0..CLIENT_VARIANTS`.
pub const CLIENT_VARIANTS: usize = 54;

/// How many variants `ServerMessage` has; `server_variant` returns `0..SERVER_VARIANTS`.
pub const SERVER_VARIANTS: usize = 58;

pub fn client_variant(m: &ClientMessage) -> usize {
    use ClientMessage as M;
    match m {
        M::Register { .. } => 0,
        M::Login { .. } => 1,
        M::Resume { .. } => 2,
        M::Logout => 3,
        M::Ping { .. } => 4,
        M::Pong { .. } => 5,
        M::SetNickname { .. } => 6,
        M::ChangePassword { .. } => 7,
        M::FindUser { .. } => 8,
        M::FriendRequest { .. } => 9,
        M::AcceptFriend { .. } => 10,
        M::RejectFriend { .. } => 11,
        M::DeleteFriend { .. } => 12,
        M::SetRemark { .. } => 13,
        M::ListFriends => 14,
        M::ListRequests => 15,
        M::Msg { .. } => 16,
        M::GroupMsg { .. } => 17,
        M::Sync { .. } => 18,
        M::History { .. } => 19,
        M::CreateGroup { .. } => 20,
        M::JoinGroup { .. } => 21,
        M::LeaveGroup { .. } => 22,
        M::InviteToGroup { .. } => 23,
        M::KickFromGroup { .. } => 24,
        M::DissolveGroup { .. } => 25,
        M::RenameGroup { .. } => 26,
        M::ListMembers { .. } => 27,
        M::ListGroups => 28,
        M::FileOffer { .. } => 29,
        M::FileAccept { .. } => 30,
        M::FileReject { .. } => 31,
        M::FileCancel { .. } => 32,
        M::FilePut { .. } => 33,
        M::FileGet { .. } => 34,
        M::GroupPolicy { .. } => 35,
        M::Features { .. } => 36,
        M::Send { .. } => 37,
        M::Recall { .. } => 38,
        M::Read { .. } => 39,
        M::ListReads => 40,
        M::Typing { .. } => 41,
        M::SetGroupAdmin { .. } => 42,
        M::TransferGroup { .. } => 43,
        M::MuteMember { .. } => 44,
        M::MuteAll { .. } => 45,
        M::GroupNotice { .. } => 46,
        M::AnswerJoin { .. } => 47,
        M::ListJoinRequests => 48,
        M::SetProfile { .. } => 49,
        M::GetProfile { .. } => 50,
        M::Block { .. } => 51,
        M::Unblock { .. } => 52,
        M::ListBlocks => 53,
    }
}

pub fn server_variant(m: &ServerMessage) -> usize {
    use ServerMessage as M;
    match m {
        M::RegisterOk { .. } => 0,
        M::RegisterFailed { .. } => 1,
        M::LoginOk { .. } => 2,
        M::LoginFailed { .. } => 3,
        M::Bye { .. } => 4,
        M::Ping { .. } => 5,
        M::Pong { .. } => 6,
        M::Profile { .. } => 7,
        M::PasswordChanged => 8,
        M::Presence { .. } => 9,
        M::Found { .. } => 10,
        M::FoundEnd { .. } => 11,
        M::Friend { .. } => 12,
        M::FriendsEnd { .. } => 13,
        M::FriendRequest { .. } => 14,
        M::RequestsEnd { .. } => 15,
        M::RequestSent { .. } => 16,
        M::RequestClosed { .. } => 17,
        M::FriendRejected { .. } => 18,
        M::FriendRemoved { .. } => 19,
        M::Msg(_) => 20,
        M::GroupMsg(_) => 21,
        M::FileOffer(_) => 22,
        M::Ack { .. } => 23,
        M::SyncEnd { .. } => 24,
        M::HistoryEnd { .. } => 25,
        M::GroupInfo { .. } => 26,
        M::GroupsEnd { .. } => 27,
        M::GroupGone { .. } => 28,
        M::Member { .. } => 29,
        M::MembersEnd { .. } => 30,
        M::MemberLeft { .. } => 31,
        M::FileUpload { .. } => 32,
        M::FileDownload { .. } => 33,
        M::FileProgress { .. } => 34,
        M::FileState { .. } => 35,
        M::Error { .. } => 36,
        M::RequestWaiting { .. } => 37,
        M::GroupPolicy { .. } => 38,
        M::Features { .. } => 39,
        M::Said(_) => 40,
        M::Recalled(_) => 41,
        M::Read { .. } => 42,
        M::ReadsEnd { .. } => 43,
        M::Typing { .. } => 44,
        M::GroupRole { .. } => 45,
        M::GroupMute { .. } => 46,
        M::GroupMuteAll { .. } => 47,
        M::GroupNotice { .. } => 48,
        M::GroupJoinRequest { .. } => 49,
        M::GroupRequestsEnd { .. } => 50,
        M::GroupJoinSent { .. } => 51,
        M::GroupJoinClosed { .. } => 52,
        M::GroupJoinRejected { .. } => 53,
        M::GroupEvent(_) => 54,
        M::Blocked { .. } => 55,
        M::Unblocked { .. } => 56,
        M::BlocksEnd { .. } => 57,
    }
}
