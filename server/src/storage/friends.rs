//! Friends: requests and refusals, friendships with their remarks, friend groups (好友分组) and the
//! block list. The storage side of [`crate::service`]'s `friends.rs`.

use ququ_protocol::Millis;

use super::{StoreError, UserId, UserRecord};

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

/// What the service needs for friends. Every method is one transaction.
pub trait FriendStore {
    // Friends.
    /// Records or refreshes a request from `from` to `to` (and forgets an earlier refusal by `to`).
    /// `hidden`: `to` blocks `from`, so the request is kept for `from`'s list of requests waiting and
    /// never shown to `to` — not by [`FriendStore::requests_to`], [`FriendStore::has_request`] or
    /// [`FriendStore::take_request`], which see only requests that are not hidden.
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
}
