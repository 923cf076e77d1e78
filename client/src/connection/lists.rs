//! The lists: friends, friend requests (received and sent), groups and their members, found users, and
//! the single changes pushed about them (presence, a friend added or removed, a group renamed or gone…).
//!
//! A list comes as item lines and an end line with the count (`FRIEND:` … `FRIENDS_END:`); the same item
//! line outside a listing is a change on its own. [`Collect`] tells the two apart, and
//! [`Session::list_item`] and [`Session::list_end`] do that bookkeeping for every list alike.

use std::collections::{HashMap, VecDeque};

use ququ_protocol::{ClientMessage, Conv, ServerMessage};

use super::{End, Link, Session};
use crate::event::{
    BlockedUser, Category, Event, FoundUser, Friend, FriendRequest, Group, Member, Message,
    SentRequest,
};
use crate::storage::{Storage, StorageError};

/// Replies that come as several lines, collected until their `*_END` line. Counters, because the same
/// list may be requested again before the first answer ends.
#[derive(Default)]
pub(super) struct Lists {
    friends: Collect<Friend>,
    requests: Collect<FriendRequest>,
    /// `REQUEST_WAITING:` lines of the request list being read; they come only in that list.
    waiting: Vec<SentRequest>,
    groups: Collect<Group>,
    found: Collect<FoundUser>,
    blocks: Collect<BlockedUser>,
    categories: Collect<Category>,
    /// Per group; an entry stays once made (one per group listed on this connection).
    members: HashMap<u64, Collect<Member>>,
    /// Outstanding `HISTORY:` requests: the conversation, and the id below which its messages belong to
    /// the page (the request's `before`, or for "from the newest" everything already synced).
    pub(super) history: VecDeque<(Conv, u64)>,
    pub(super) history_page: Vec<Message>,
}

/// Item lines of a list reply (`FRIEND:` … `FRIENDS_END:`), gathered while a request for the list is
/// outstanding. The same item line outside a listing is a single change, handled on its own; so is one
/// that arrived while the request was on its way but before its reply, which [`Collect::finish`] tells
/// apart by the end line's count.
#[derive(Debug)]
struct Collect<T> {
    outstanding: u32,
    items: Vec<T>,
}

impl<T> Default for Collect<T> {
    fn default() -> Self {
        Collect {
            outstanding: 0,
            items: Vec::new(),
        }
    }
}

impl<T> Collect<T> {
    fn expect(&mut self) {
        self.outstanding += 1;
    }

    /// Keeps `item` for the list being gathered, or hands it back if no list is.
    fn offer(&mut self, item: T) -> Option<T> {
        if self.outstanding > 0 {
            self.items.push(item);
            None
        } else {
            Some(item)
        }
    }

    /// The end line of a list of `count` items. The server writes a list's lines together, so its items
    /// are the last `count` gathered; any before them were single changes pushed while the request was
    /// on its way (a friend request sent to me just after I logged in, say), handed back as `news` so they
    /// are announced rather than silently folded into the list.
    fn finish(&mut self, count: u32) -> Finished<T> {
        self.outstanding = self.outstanding.saturating_sub(1);
        let mut news = std::mem::take(&mut self.items);
        let list = news.split_off(news.len().saturating_sub(count as usize));
        Finished { news, list }
    }

    /// The request failed, so no end line will come: what was gathered for it is news.
    fn fail(&mut self) -> Vec<T> {
        self.outstanding = self.outstanding.saturating_sub(1);
        if self.outstanding == 0 {
            std::mem::take(&mut self.items)
        } else {
            Vec::new()
        }
    }
}

/// A finished list reply (see [`Collect::finish`]).
struct Finished<T> {
    /// Single changes that arrived before the reply, oldest first.
    news: Vec<T>,
    list: Vec<T>,
}

impl Link {
    /// Records what a request will be answered with, so the answer's lines can be told apart from pushes.
    pub(super) fn expect_reply(&mut self, msg: &ClientMessage) {
        let lists = &mut self.lists;
        match msg {
            ClientMessage::ListFriends => lists.friends.expect(),
            ClientMessage::ListRequests => lists.requests.expect(),
            ClientMessage::ListGroups => lists.groups.expect(),
            ClientMessage::FindUser { .. } => lists.found.expect(),
            ClientMessage::ListBlocks => lists.blocks.expect(),
            ClientMessage::ListCategories => lists.categories.expect(),
            ClientMessage::ListMembers { group } => {
                lists.members.entry(*group).or_default().expect()
            }
            ClientMessage::History { conv, before, .. } => {
                // Bounding by the sync cursor means a live message is never mistaken for history, even if
                // this request is never answered.
                let ceiling = if *before == 0 {
                    self.synced_to.saturating_add(1)
                } else {
                    *before
                };
                lists.history.push_back((conv.clone(), ceiling))
            }
            _ => {}
        }
    }
}

/// One kind of list (friends, requests, groups, members): what an item of it means when it comes on its
/// own rather than in a listing.
trait Listed {
    /// A single change (a friend added or renamed, a request that just arrived, someone joining a group):
    /// stored if the list is kept locally, and announced.
    async fn news(self, session: &mut Session) -> Result<(), End>;
}

impl Listed for Friend {
    /// A single change to one friend (added, renamed, remarked), not a listing.
    async fn news(self, session: &mut Session) -> Result<(), End> {
        let f = self.clone();
        session.store.call(move |s| s.upsert_friend(&f)).await?;
        session.emit(Event::FriendChanged(self));
        Ok(())
    }
}

impl Listed for FriendRequest {
    /// A friend request that has just arrived, not a listing.
    async fn news(self, session: &mut Session) -> Result<(), End> {
        let r = self.clone();
        session.store.call(move |s| s.upsert_request(&r)).await?;
        session.emit(Event::FriendRequest(self));
        Ok(())
    }
}

impl Listed for Group {
    /// A single change to one group (joined or renamed), not a listing.
    async fn news(self, session: &mut Session) -> Result<(), End> {
        let g = self.clone();
        session.store.call(move |s| s.upsert_group(&g)).await?;
        session.emit(Event::GroupChanged(self));
        Ok(())
    }
}

impl Listed for Member {
    /// `MEMBER:` is both a list entry and the news that someone joined.
    async fn news(self, session: &mut Session) -> Result<(), End> {
        session.emit(Event::MemberJoined(self));
        Ok(())
    }
}

impl Listed for BlockedUser {
    /// Blocked from this or another of my sessions, not a listing.
    async fn news(self, session: &mut Session) -> Result<(), End> {
        session.emit(Event::Blocked(self));
        Ok(())
    }
}

impl Listed for Category {
    /// Made or renamed, here or on another of my sessions, not a listing.
    async fn news(self, session: &mut Session) -> Result<(), End> {
        let c = self.clone();
        session.store.call(move |s| s.upsert_category(&c)).await?;
        session.emit(Event::CategoryChanged(self));
        Ok(())
    }
}

impl Session {
    /// The request that `about` names failed, so its end line will never come: the members gathered for a
    /// member listing are news after all, and a history request is forgotten.
    pub(super) async fn reply_failed(&mut self, link: &mut Link, about: &str) -> Result<(), End> {
        if let Ok(group) = about.parse::<u64>()
            && let Some(gathering) = link.lists.members.get_mut(&group)
        {
            for member in gathering.fail() {
                member.news(self).await?;
            }
        }
        let history = &mut link.lists.history;
        if let Some(pos) = history.iter().position(|(conv, _)| conv.key() == about) {
            history.remove(pos);
        }
        Ok(())
    }

    /// An item line: kept for the listing being read, or else a change of its own.
    async fn list_item<T: Listed>(
        &mut self,
        gathering: &mut Collect<T>,
        item: T,
    ) -> Result<(), End> {
        match gathering.offer(item) {
            Some(item) => item.news(self).await,
            None => Ok(()),
        }
    }

    /// An end line: the changes that came before the reply are announced first, oldest first (see
    /// [`Collect::finish`]), and the listing itself is handed back.
    async fn list_end<T: Listed>(
        &mut self,
        gathering: &mut Collect<T>,
        count: u32,
    ) -> Result<Vec<T>, End> {
        let Finished { news, list } = gathering.finish(count);
        for item in news {
            item.news(self).await?;
        }
        Ok(list)
    }

    /// A listing kept locally: it replaces the stored one, then is announced.
    async fn keep_list<T: Clone + Send + 'static>(
        &mut self,
        list: Vec<T>,
        replace: fn(&mut Storage, &[T]) -> Result<(), StorageError>,
        announce: fn(Vec<T>) -> Event,
    ) -> Result<(), End> {
        let stored = list.clone();
        self.store.call(move |s| replace(s, &stored)).await?;
        self.emit(announce(list));
        Ok(())
    }

    /// The list lines: listings, and single changes to friends, requests, groups and members.
    pub(super) async fn on_list_line(
        &mut self,
        link: &mut Link,
        msg: ServerMessage,
    ) -> Result<(), End> {
        use ServerMessage as S;
        let lists = &mut link.lists;
        match msg {
            S::Presence { account, presence } => {
                let a = account.clone();
                self.store
                    .call(move |s| s.set_presence(&a, presence))
                    .await?;
                self.emit(Event::Presence { account, presence });
            }
            S::Found {
                account,
                presence,
                nickname,
            } => lists.found.items.push(FoundUser {
                account,
                nickname,
                presence,
            }),
            S::FoundEnd { count } => {
                // Search results are only ever a reply, so there is no news among them.
                let found = lists.found.finish(count).list;
                self.emit(Event::FoundUsers(found));
            }
            S::Friend {
                account,
                presence,
                nickname,
                remark,
                category,
                profile,
            } => {
                let friend = Friend {
                    account,
                    nickname,
                    remark,
                    presence,
                    profile: profile.unwrap_or_default(),
                    category: category.unwrap_or(0),
                };
                self.list_item(&mut lists.friends, friend).await?;
            }
            S::FriendsEnd { count } => {
                let list = self.list_end(&mut lists.friends, count).await?;
                self.keep_list(list, Storage::replace_friends, Event::Friends)
                    .await?;
            }
            S::FriendRequest {
                from,
                time,
                nickname,
                note,
            } => {
                let request = FriendRequest {
                    from,
                    nickname,
                    note,
                    time,
                };
                self.list_item(&mut lists.requests, request).await?;
            }
            S::RequestWaiting { to, time, nickname } => {
                lists.waiting.push(SentRequest { to, nickname, time });
            }
            S::RequestsEnd { count } => {
                let waiting = std::mem::take(&mut lists.waiting);
                let list = self.list_end(&mut lists.requests, count).await?;
                self.keep_list(list, Storage::replace_requests, Event::FriendRequests)
                    .await?;
                self.emit(Event::SentRequests(waiting));
            }
            S::RequestSent { account } => self.emit(Event::RequestSent { account }),
            S::RequestClosed { account } => {
                let a = account.clone();
                self.store.call(move |s| s.remove_request(&a)).await?;
                self.emit(Event::RequestClosed { account });
            }
            S::FriendRejected { account } => self.emit(Event::FriendRejected { account }),
            S::FriendRemoved { account } => {
                let a = account.clone();
                self.store.call(move |s| s.remove_friend(&a)).await?;
                self.emit(Event::FriendRemoved { account });
            }
            S::GroupInfo {
                group,
                owner,
                members,
                name,
            } => {
                let info = Group {
                    id: group,
                    name,
                    owner,
                    members,
                };
                self.list_item(&mut lists.groups, info).await?;
            }
            S::GroupsEnd { count } => {
                let list = self.list_end(&mut lists.groups, count).await?;
                self.keep_list(list, Storage::replace_groups, Event::Groups)
                    .await?;
            }
            S::GroupPolicy { group, policy } => self.emit(Event::GroupPolicy { group, policy }),
            S::GroupGone { group, reason } => {
                self.store.call(move |s| s.remove_group(group)).await?;
                self.emit(Event::GroupGone { group, reason });
            }
            S::Member {
                group,
                account,
                role,
                presence,
                nickname,
                muted_until,
                profile,
            } => {
                let member = Member {
                    group,
                    account,
                    nickname,
                    role,
                    presence,
                    muted_until: muted_until.unwrap_or(0),
                    profile: profile.unwrap_or_default(),
                };
                let gathering = lists.members.entry(group).or_default();
                self.list_item(gathering, member).await?;
            }
            S::MembersEnd { group, count } => {
                let gathering = lists.members.entry(group).or_default();
                let members = self.list_end(gathering, count).await?;
                self.emit(Event::Members { group, members });
            }
            S::MemberLeft {
                group,
                account,
                reason,
            } => self.emit(Event::MemberLeft {
                group,
                account,
                reason,
            }),
            S::Blocked {
                account,
                time,
                nickname,
            } => {
                let blocked = BlockedUser {
                    account,
                    nickname,
                    time,
                };
                self.list_item(&mut lists.blocks, blocked).await?;
            }
            S::BlocksEnd { count } => {
                let list = self.list_end(&mut lists.blocks, count).await?;
                self.emit(Event::Blocks(list));
            }
            S::Unblocked { account } => self.emit(Event::Unblocked { account }),
            S::Category { category, name } => {
                let item = Category { id: category, name };
                self.list_item(&mut lists.categories, item).await?;
            }
            S::CategoriesEnd { count } => {
                let list = self.list_end(&mut lists.categories, count).await?;
                self.keep_list(list, Storage::replace_categories, Event::Categories)
                    .await?;
            }
            S::CategoryOrder { categories } => {
                let order = categories.clone();
                self.store.call(move |s| s.order_categories(&order)).await?;
                self.emit(Event::CategoryOrder(categories));
            }
            S::CategoryGone { category } => {
                self.store
                    .call(move |s| s.remove_category(category))
                    .await?;
                self.emit(Event::CategoryGone { category });
            }
            // The router sends only the lines above here.
            _ => tracing::debug!("ignoring a line this client does not use"),
        }
        Ok(())
    }
}
