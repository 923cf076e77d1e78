//! The client's events applied to the model, and paging through a conversation: back from the newest,
//! and around a message jumped to.

use ququ_client::{ErrorCode, Event, Message, MessageState};
use ququ_protocol::{Conv, Role};

use super::{
    Conversation, Delivery, FileItem, JoinRequest, Line, Model, Newer, Notice, Paging, Recall,
    TYPING_SHOWN_MS,
};

/// Messages per history page, local or from the server.
pub const PAGE: u32 = 30;

/// What an event changed, for the app to act on beyond drawing again (the windows draw from the model,
/// so a change they only show needs no word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Nothing beyond what the next drawing shows.
    Nothing,
    /// Lines of this conversation changed: a message's state, a history page, a file's transfer.
    /// Pictures in it may need thumbnails.
    Conversation(Conv),
    /// A message from someone else arrived that this device had not shown before; it was counted
    /// unread. The app marks it read if the conversation is open.
    Incoming(Conv),
    /// The server set this conversation's unread count (another device of mine read it, say).
    Unread(Conv),
    /// A group of mine is new or changed (created, joined, let in, renamed).
    GroupChanged(u64),
    /// A group's settings changed: its announcement, who may join, a role or a mute.
    GroupSettings(u64),
    /// My password was changed, as asked.
    PasswordChanged,
    /// A new friend request came from this account (the server tells only of new ones; the list at
    /// login is not news).
    Request(String),
    /// The last friend request needing an answer was answered: the requests dialog has nothing left.
    RequestsEmptied,
    /// My recall of a message in this conversation was refused (too late, not mine, …).
    RecallFailed { conv: Conv, code: ErrorCode },
    /// My request to join this group went to its owner and admins (its policy is `approve`).
    JoinAsked(u64),
    /// My request to join this group was declined.
    JoinDeclined(u64),
    /// Someone asks to join a group I manage (live: the list at login is not news).
    JoinRequest(u64),
    /// My avatar is set or cleared, as the server has it (from here or another device).
    MyAvatar,
    /// My nickname or profile, as the server has it now: a change asked for here was taken (or
    /// another device's, or the login's list).
    MyProfile,
    /// The server refused a request; `about` names what it was about (an account, a group id).
    Refused {
        code: ErrorCode,
        about: Option<String>,
    },
}

impl Model {
    /// Applies one event that changes data. The connection's own events (connecting, disconnected,
    /// stopped, the first login) are the app's, not the model's: they change nothing here.
    pub fn apply(&mut self, event: Event) -> Change {
        match event {
            Event::Connecting { .. }
            | Event::Connected
            | Event::Registered { .. }
            | Event::Disconnected { .. }
            | Event::Stopped(_)
            | Event::Synced { .. }
            | Event::SearchResults { .. } => Change::Nothing,
            // A change to a group ("A invited B") is a grey line in its chat, never unread.
            Event::GroupChange { message, .. } => {
                let conv = message.conv.clone();
                self.conversations
                    .entry(conv.clone())
                    .or_default()
                    .upsert(line_from(message));
                Change::Conversation(conv)
            }
            // Logged in again after a reconnect: my name and the server's limits may have changed.
            Event::LoggedIn {
                nickname,
                limits,
                features,
                ..
            } => {
                self.nickname = nickname;
                self.server_said(limits, features);
                Change::Nothing
            }
            Event::Features(features) => {
                self.features = features;
                Change::Nothing
            }
            Event::Recalled {
                conv,
                message,
                quotes,
                ..
            } => {
                let conversation = self.conversations.entry(conv.clone()).or_default();
                for message in std::iter::once(message).chain(quotes) {
                    conversation.upsert(line_from(message));
                }
                Change::Conversation(conv)
            }
            Event::RecallFailed { target, code, .. } => {
                let conv = self
                    .conversations
                    .iter()
                    .find(|(_, c)| c.lines.iter().any(|l| l.id == Some(target)))
                    .map(|(conv, _)| conv.clone());
                match conv {
                    Some(conv) => Change::RecallFailed { conv, code },
                    None => Change::Nothing,
                }
            }
            Event::Typing { from } => {
                self.typing
                    .insert(from, super::now_millis() + TYPING_SHOWN_MS);
                Change::Nothing
            }
            Event::Message(message) | Event::MessageState(message) => self.message(message),
            Event::Transfer(transfer) => {
                let conv = transfer.conv.clone();
                self.apply_transfer(transfer);
                Change::Conversation(conv)
            }
            Event::TransferProgress { id, bytes, .. } => {
                if let Some(transfer) = self.transfers.get_mut(&id) {
                    transfer.bytes = bytes;
                }
                Change::Nothing
            }
            Event::Unread { conv, unread } => {
                if unread == 0 {
                    self.unread.remove(&conv);
                } else {
                    self.unread.insert(conv.clone(), unread);
                }
                Change::Unread(conv)
            }
            Event::History {
                conv,
                messages,
                more,
            } => {
                let conversation = self.conversations.entry(conv.clone()).or_default();
                conversation.paging = if more { Paging::More } else { Paging::Complete };
                for message in messages {
                    conversation.upsert(line_from(message));
                }
                Change::Conversation(conv)
            }
            Event::Presence { account, presence } => {
                if let Some(friend) = self.friends.get_mut(&account) {
                    friend.presence = presence;
                }
                for members in self.members.values_mut() {
                    for member in members.iter_mut().filter(|m| m.account == account) {
                        member.presence = presence;
                    }
                }
                Change::Nothing
            }
            Event::Friends(friends) => {
                self.friends = friends
                    .into_iter()
                    .map(|f| (f.account.clone(), f))
                    .collect();
                Change::Nothing
            }
            Event::FriendChanged(friend) => {
                self.requests.retain(|r| r.from != friend.account);
                self.sent.remove(&friend.account);
                self.friends.insert(friend.account.clone(), friend);
                self.requests_left()
            }
            Event::FriendRemoved { account } => {
                self.friends.remove(&account);
                Change::Nothing
            }
            Event::FriendRequests(requests) => {
                self.requests = requests;
                Change::Nothing
            }
            Event::FriendRequest(request) => {
                let from = request.from.clone();
                self.requests.retain(|r| r.from != request.from);
                self.requests.push(request);
                Change::Request(from)
            }
            Event::RequestClosed { account } => {
                self.requests.retain(|r| r.from != account);
                self.requests_left()
            }
            Event::SentRequests(list) => {
                self.sent_listed(list.into_iter().map(|r| (r.to, r.nickname)));
                Change::Nothing
            }
            Event::RequestSent { account } => {
                self.request_sent(account);
                Change::Nothing
            }
            Event::FriendRejected { account } => {
                self.request_declined(account);
                Change::Nothing
            }
            Event::FoundUsers(users) => {
                self.found = Some(users);
                Change::Nothing
            }
            Event::Groups(groups) => {
                self.groups = groups.into_iter().map(|g| (g.id, g)).collect();
                Change::Nothing
            }
            Event::GroupChanged(group) => {
                let id = group.id;
                self.groups.insert(id, group);
                Change::GroupChanged(id)
            }
            Event::GroupPolicy { group, policy } => {
                self.group_policies.insert(group, policy);
                Change::GroupSettings(group)
            }
            Event::GroupGone { group, .. } => {
                self.groups.remove(&group);
                self.members.remove(&group);
                self.group_policies.remove(&group);
                Change::Nothing
            }
            Event::Members { group, members } => {
                self.members.insert(group, members);
                Change::Nothing
            }
            Event::MemberJoined(member) => {
                let members = self.members.entry(member.group).or_default();
                members.retain(|m| m.account != member.account);
                members.push(member);
                Change::Nothing
            }
            Event::MemberLeft { group, account, .. } => {
                if let Some(members) = self.members.get_mut(&group) {
                    members.retain(|m| m.account != account);
                }
                Change::Nothing
            }
            Event::PasswordChanged => Change::PasswordChanged,
            Event::Profile { nickname } => {
                self.nickname = nickname;
                Change::MyProfile
            }
            Event::MyProfile(profile) => {
                self.profile = profile;
                Change::MyProfile
            }
            // A friend's or fellow member's new name or signature shows wherever they are shown.
            Event::UserProfile {
                account,
                nickname,
                profile,
            } => {
                if let Some(friend) = self.friends.get_mut(&account) {
                    friend.nickname.clone_from(&nickname);
                    friend.profile = profile.clone();
                }
                for member in self
                    .members
                    .values_mut()
                    .flat_map(|ms| ms.iter_mut())
                    .filter(|m| m.account == account)
                {
                    member.nickname.clone_from(&nickname);
                    member.profile = profile.clone();
                }
                Change::Nothing
            }
            Event::Blocks(list) => {
                self.blocked = list.into_iter().map(|b| (b.account.clone(), b)).collect();
                Change::Nothing
            }
            Event::Blocked(blocked) => {
                self.blocked.insert(blocked.account.clone(), blocked);
                Change::Nothing
            }
            Event::Unblocked { account } => {
                self.blocked.remove(&account);
                Change::Nothing
            }
            Event::Categories(list) => {
                self.categories = list;
                Change::Nothing
            }
            // Made (last) or renamed (in its place), here or on another device of mine.
            Event::CategoryChanged(category) => {
                match self.categories.iter_mut().find(|c| c.id == category.id) {
                    Some(known) => *known = category,
                    None => self.categories.push(category),
                }
                Change::Nothing
            }
            // Those named in this order; any not named (made meanwhile) keep their place after them.
            Event::CategoryOrder(order) => {
                let place = |id: u64| order.iter().position(|o| *o == id).unwrap_or(order.len());
                self.categories.sort_by_key(|c| place(c.id));
                Change::Nothing
            }
            // Its friends go back to the default group, as on the server; a fold of it is forgotten.
            Event::CategoryGone { category } => {
                self.categories.retain(|c| c.id != category);
                for friend in self.friends.values_mut().filter(|f| f.category == category) {
                    friend.category = 0;
                }
                self.collapsed.remove(&category);
                Change::Nothing
            }
            Event::Avatar { of, sha256 } => {
                let change = match &of {
                    Conv::User(account) if *account == self.account => Change::MyAvatar,
                    // Its settings window's change has been taken.
                    Conv::Group(group) => Change::GroupSettings(*group),
                    Conv::User(_) => Change::Nothing,
                };
                match sha256 {
                    Some(sha) => self.avatars.insert(of, sha),
                    None => self.avatars.remove(&of),
                };
                // A picture nobody here shows any more is dropped with its last user.
                let shown: std::collections::HashSet<&String> = self.avatars.values().collect();
                self.pictures.retain(|sha, _| shown.contains(sha));
                change
            }
            Event::AvatarImage { sha256, bytes } => {
                // Decoded once per picture, however many show it. One that does not decode leaves its
                // owners with the generated avatar.
                if self.avatars.values().any(|s| *s == sha256)
                    && !self.pictures.contains_key(&sha256)
                {
                    match image::load_from_memory(&bytes) {
                        Ok(picture) => {
                            self.pictures.insert(sha256, picture.to_rgba8());
                        }
                        Err(e) => eprintln!("ququ: avatar {sha256} does not decode: {e}"),
                    }
                }
                Change::Nothing
            }
            Event::MemberRole {
                group,
                account,
                role,
            } => {
                if let Some(member) = self
                    .members
                    .get_mut(&group)
                    .and_then(|ms| ms.iter_mut().find(|m| m.account == account))
                {
                    member.role = role;
                }
                // A new owner: the group's own record says who, for the owner's menu.
                if role == Role::Owner
                    && let Some(g) = self.groups.get_mut(&group)
                {
                    g.owner = account;
                }
                Change::GroupSettings(group)
            }
            Event::MemberMuted {
                group,
                account,
                until,
            } => {
                if let Some(member) = self
                    .members
                    .get_mut(&group)
                    .and_then(|ms| ms.iter_mut().find(|m| m.account == account))
                {
                    member.muted_until = until;
                }
                Change::GroupSettings(group)
            }
            Event::GroupMutedAll { group, on } => {
                if on {
                    self.muted_groups.insert(group);
                } else {
                    self.muted_groups.remove(&group);
                }
                Change::GroupSettings(group)
            }
            Event::GroupNotice {
                group,
                by,
                time,
                text,
            } => {
                self.notices.insert(group, Notice { by, time, text });
                Change::GroupSettings(group)
            }
            Event::JoinRequest {
                group,
                account,
                nickname,
                time,
            } => {
                let known = self
                    .join_requests
                    .iter()
                    .any(|r| r.group == group && r.account == account);
                if known {
                    return Change::Nothing;
                }
                self.join_requests.push(JoinRequest {
                    group,
                    account,
                    nickname,
                    time,
                });
                Change::JoinRequest(group)
            }
            Event::JoinRequestClosed { group, account } => {
                self.join_requests
                    .retain(|r| !(r.group == group && r.account == account));
                self.requests_left()
            }
            Event::JoinRequestSent { group } => Change::JoinAsked(group),
            Event::JoinRequestDeclined { group } => Change::JoinDeclined(group),
            Event::Error { code, about, .. } => {
                // A refused message shows on its bubble (the client's MessageState); a search for no one
                // shows as "no results" rather than a pop-up.
                if matches!(code, ErrorCode::NoSuchUser) && about.is_some() {
                    self.found.get_or_insert_with(Vec::new);
                }
                Change::Refused { code, about }
            }
        }
    }

    /// A message new to this device, or one of mine that changed state.
    fn message(&mut self, message: Message) -> Change {
        let conv = message.conv.clone();
        let incoming = message.state == MessageState::Received;
        let fresh = self
            .conversations
            .entry(conv.clone())
            .or_default()
            .upsert(line_from(message));
        if incoming && fresh {
            *self.unread.entry(conv.clone()).or_default() += 1;
            Change::Incoming(conv)
        } else {
            Change::Conversation(conv)
        }
    }

    fn requests_left(&self) -> Change {
        if self.has_requests() {
            Change::Nothing
        } else {
            Change::RequestsEmptied
        }
    }

    /// The user has seen `conv`: its unread count goes. True if there was one, so the server (and my
    /// other devices) should be told.
    pub fn read(&mut self, conv: &Conv) -> bool {
        self.unread.remove(conv).is_some_and(|n| n > 0)
    }

    /// The conversations in the local store, read at login, so the Recent list, its previews and unread
    /// counts are there after a restart without waiting for anything new. A count the client has
    /// reported since is newer than this read and is kept.
    pub fn restore_recent(&mut self, stored: Vec<ququ_client::Conversation>) {
        for conversation in stored {
            let Some(last) = conversation.last_message else {
                continue;
            };
            let conv = conversation.conv;
            self.conversations
                .entry(conv.clone())
                .or_default()
                .upsert(line_from(last));
            if conversation.unread > 0 {
                self.unread.entry(conv).or_insert(conversation.unread);
            }
        }
    }

    /// A new user search starts: the old results go, so "no results" is not shown for it meanwhile.
    pub fn forget_found(&mut self) {
        self.found = None;
    }

    /// The next page of `conv` is wanted (the chat opened, or was scrolled to the top). Returns the local
    /// id to read from the local store before (`Some(None)` from the newest), or `None` if a page is on
    /// its way already or the beginning is shown.
    pub fn start_page(&mut self, conv: &Conv) -> Option<Option<i64>> {
        let conversation = self.conversations.entry(conv.clone()).or_default();
        if !conversation.paging.can_load() {
            return None;
        }
        // The first page is the newest: what is shown before it (the Recent list's last message, messages
        // that came while the chat was closed) is part of it, and upsert keeps each once.
        let before = match conversation.paging {
            Paging::Unasked => None,
            _ => conversation.oldest_local_id(),
        };
        conversation.paging = Paging::Loading;
        Some(before)
    }

    /// A page from the local store arrived. When it is short, local history has run out, and the server
    /// may have older messages (another device's, or from before this one was installed): returns the
    /// server id to ask before (0 for the newest) if `online`, the answer coming back as a History
    /// event. Offline, "Load earlier" is offered again for when the connection is back.
    pub fn local_page(&mut self, conv: &Conv, page: Vec<Message>, online: bool) -> Option<u64> {
        let conversation: &mut Conversation = self.conversations.entry(conv.clone()).or_default();
        let full = page.len() >= PAGE as usize;
        for message in page {
            conversation.upsert(line_from(message));
        }
        if !full && online {
            return Some(conversation.oldest_id().unwrap_or(0));
        }
        conversation.paging = Paging::More;
        None
    }
}

/// Messages shown either side of one jumped to: a page each way, so the list can be scrolled both ways
/// from it before the next page is wanted, and a jump however far back puts at most 61 lines in the chat.
pub const AROUND: u32 = PAGE;

impl Model {
    /// A jump to a message not loaded wants the window around it read. False if a page is on its way
    /// already (the jump goes on when it comes).
    pub fn start_window(&mut self, conv: &Conv) -> bool {
        let conversation = self.conversations.entry(conv.clone()).or_default();
        if conversation.paging == Paging::Loading || conversation.newer == Newer::Loading {
            return false;
        }
        conversation.paging = Paging::Loading;
        true
    }

    /// The window around the message the server numbered `target` ([`AROUND`] either side) arrived: it
    /// replaces the chat's lines. False if it was empty — the message is not stored on this device — and
    /// the lines stay, to page back through the server's history for it.
    pub fn window_page(&mut self, conv: &Conv, target: u64, page: Vec<Message>) -> bool {
        let conversation = self.conversations.entry(conv.clone()).or_default();
        let Some(at) = page.iter().position(|m| m.server_id == Some(target)) else {
            conversation.paging = if conversation.lines.is_empty() {
                Paging::Unasked
            } else {
                Paging::More
            };
            return false;
        };
        let after_full = page.len() - at > AROUND as usize;
        conversation.show_window(page.into_iter().map(line_from).collect(), after_full);
        true
    }

    /// The list of a chat that jumped was scrolled to its bottom: the local id to read the next page
    /// after, or `None` if the newest is shown or a page is on its way.
    pub fn start_newer(&mut self, conv: &Conv) -> Option<i64> {
        let conversation = self.conversations.get_mut(conv)?;
        if conversation.newer != Newer::More || conversation.paging == Paging::Loading {
            return None;
        }
        let after = conversation.newest_local_id()?;
        conversation.newer = Newer::Loading;
        Some(after)
    }

    /// The next page down arrived (`None`: it could not be read, and may be asked for again). A short
    /// one reached the newest message.
    pub fn newer_page(&mut self, conv: &Conv, page: Option<Vec<Message>>) {
        let Some(conversation) = self.conversations.get_mut(conv) else {
            return;
        };
        match page {
            Some(page) => {
                let full = page.len() >= PAGE as usize;
                conversation.newer_page(page.into_iter().map(line_from).collect(), full);
            }
            None => conversation.newer = Newer::More,
        }
    }

    /// "Back to newest" in a chat that jumped (or the chat opens again, or I send from it): the window
    /// goes and the newest page is read again. True if it was away from the newest.
    pub fn back_to_newest(&mut self, conv: &Conv) -> bool {
        match self.conversations.get_mut(conv) {
            Some(conversation) if conversation.detached() => {
                conversation.back_to_newest();
                true
            }
            _ => false,
        }
    }
}

/// A message from the client's store or stream, as a bubble.
pub fn line_from(m: Message) -> Line {
    let recalled = match (&m.recalled_by, &m.recall_of) {
        (_, Some(of)) => Some(Recall {
            by: m.from.clone(),
            whose: of.target_from.clone(),
        }),
        (Some(by), None) => Some(Recall {
            by: by.clone(),
            whose: m.from.clone(),
        }),
        (None, None) => None,
    };
    Line {
        file: m.file.map(|f| FileItem {
            file_id: Some(f.file_id),
            name: f.name,
            size: f.size,
        }),
        local_id: Some(m.local_id),
        id: m.server_id,
        client_id: m.client_id,
        from: m.from,
        time: m.time,
        text: m.text,
        quote: m.quote,
        mentions: m.mentions,
        recalled,
        change: m.group_event,
        delivery: match m.state {
            MessageState::Pending => Delivery::Sending,
            MessageState::Failed => Delivery::Failed,
            MessageState::Sent | MessageState::Received => Delivery::Sent,
        },
    }
}
