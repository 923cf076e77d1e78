//! Groups: the groups, their members, roles and mutes, join requests and removals. The storage side of
//! [`crate::service`]'s `groups.rs`.

use ququ_protocol::{JoinPolicy, Millis, Role};

use super::{GroupId, StoreError, UserId, UserRecord};

/// The numbers a new group is given, at random: ten digits, like a QQ group's. Numbers handed out one
/// after another let anyone walk them (`GROUP_JOIN:1`, `:2`, …); nine billion of them do not, at the rate
/// the server lets one account try. Groups made before numbers were random keep theirs.
pub const GROUP_IDS: std::ops::Range<GroupId> = 1_000_000_000..10_000_000_000;

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

/// What the service needs for groups. Every method is one transaction.
pub trait GroupStore {
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
    /// their return (see [`GroupStore::add_member`]).
    fn remove_member(&self, group: GroupId, user: UserId, now: Millis) -> Result<bool, StoreError>;
    fn role(&self, group: GroupId, user: UserId) -> Result<Option<Role>, StoreError>;
    fn members(&self, group: GroupId) -> Result<Vec<MemberRecord>, StoreError>;
    /// Just the members' ids: what fan-out needs, without loading their records.
    fn member_ids(&self, group: GroupId) -> Result<Vec<UserId>, StoreError>;
    fn set_join_policy(&self, group: GroupId, policy: JoinPolicy) -> Result<(), StoreError>;
    /// Sets a member's role (admin or plain member; never owner, see [`GroupStore::transfer_group`]); false
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
    /// `client_id` was stored, as [`MessageStore::history`](crate::storage::MessageStore::history)
    /// decides for messages: a newcomer does not get the files offered before they joined.
    fn sees_group_file(
        &self,
        group: GroupId,
        user: UserId,
        sender: UserId,
        client_id: &str,
    ) -> Result<bool, StoreError>;
}
