//! The app's model: everything known while logged in, changed only by the client's events and the
//! user's own actions, with no iced types, so it is tested without a window.
//!
//! [`Model::apply`] takes each `ququ_client` event that changes data and says what changed
//! ([`Change`]), so the app can decide what to open, mark read or notify; the windows draw from the
//! model as it is. What a bubble or list shows is worked out when drawn (a file's state from its
//! transfer, [`Model::file`]), never copied into the model and refreshed.
//!
//! Which types are the app's own: the client's are shown as they are ([`Friend`], [`Group`],
//! [`Member`], [`FriendRequest`], [`FoundUser`], [`Transfer`]); the app keeps a type of its own only
//! where it holds something the client's does not — a bubble that has no message yet ([`Line`]: a file
//! going up), a refused friend request kept until dismissed ([`SentRequest`]).
//!
//! # Layout
//! - this file — [`Model`] and what the windows ask of it (names, sorting, unread counts).
//! - `apply` — [`Model::apply`], [`Change`], and paging back through a conversation's history.
//! - `conversation` — [`Conversation`], [`Line`], [`Delivery`], [`Paging`], [`Newer`].
//! - `files` — [`FileState`] and [`FileView`], derived from the transfers; [`human_size`].
//! - `groups` — what I may do in a group: roles, mutes ([`Silenced`]), a member's menu
//!   ([`MemberAction`]).
//! - [`links`] — the web addresses in a message's text, which bubbles make clickable.
//! - `time` — [`format_time`] and the clock.

mod apply;
mod conversation;
mod files;
mod groups;
pub mod links;
#[cfg(test)]
pub(crate) mod tests;
mod time;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use ququ_protocol::{Conv, Features, JoinPolicy, Millis};

pub use apply::{AROUND, Change, PAGE, line_from};
pub use conversation::{
    Conversation, Delivery, FileItem, Line, Newer, Paging, Recall, is_image_name,
};
pub use files::{FileState, FileView, human_size, transfer_key};
pub use groups::{MUTE_CHOICES, MemberAction, Silenced};
pub use ququ_client::{
    Category, FoundUser, Friend, FriendRequest, Group, Member, Transfer, TransferId, TransferState,
};
pub use time::{
    day_start, format_date_time, format_mute_end, format_time, local_offset_minutes, now_millis,
};

/// The connection as every window shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Connection {
    /// Not logged in, or given up (e.g. the password was refused).
    #[default]
    Offline,
    Connecting,
    Online,
    /// Lost; the next attempt is at this instant, so the label can count down.
    Reconnecting {
        at: Instant,
    },
}

impl Connection {
    /// Whole seconds until the next attempt, rounded up so the label never shows "0 s" while waiting.
    pub fn seconds_left(self, now: Instant) -> Option<u64> {
        match self {
            Connection::Reconnecting { at } => {
                let left = at.saturating_duration_since(now);
                Some(left.as_millis().div_ceil(1000) as u64)
            }
            _ => None,
        }
    }

    pub fn reconnecting_in(delay: Duration) -> Self {
        Connection::Reconnecting {
            at: Instant::now() + delay,
        }
    }
}

/// Why a message cannot be recalled, for the greyed menu item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecallBar {
    /// The server is older than recalls.
    ServerCannot,
    /// Not stored by the server yet (or gone already).
    NotSent,
    /// Someone else's, and I do not own the group.
    NotMine,
    /// Sent longer ago than the server's limit, in seconds.
    TooLate(u32),
}

/// A friend request I sent. The app's own type: the client lists only those still waiting, and a
/// refusal must stay in view until the user has seen it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRequest {
    /// Their nickname as the search showed it, if it did.
    pub nickname: String,
    pub state: Sent,
}

/// What became of a friend request I sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Waiting,
    Declined,
}

/// A group's announcement: who set it, when, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub by: String,
    pub time: Millis,
    pub text: String,
}

/// Someone asking to join a group I manage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    pub group: u64,
    pub account: String,
    pub nickname: String,
    pub time: Millis,
}

/// Everything known while logged in, shared by all windows.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub account: String,
    pub nickname: String,
    pub friends: BTreeMap<String, Friend>,
    pub groups: BTreeMap<u64, Group>,
    pub members: HashMap<u64, Vec<Member>>,
    /// Who may join each group by its number, as far as the server has said (asked when the group's
    /// menu opens, and told on every change).
    pub group_policies: HashMap<u64, JoinPolicy>,
    /// Groups muted whole (only the owner and admins speak), as far as the server has said.
    pub muted_groups: std::collections::HashSet<u64>,
    /// Each group's announcement (群公告), once asked for or told; an empty text is none.
    pub notices: HashMap<u64, Notice>,
    /// Requests to join the groups I own or administer, oldest first, until answered (by me or another
    /// admin).
    pub join_requests: Vec<JoinRequest>,
    pub requests: Vec<FriendRequest>,
    /// My friend requests, by account, until they are answered: those the server lists as waiting and
    /// those sent since. An accepted one leaves (they are a friend now); a declined one stays, marked,
    /// until I dismiss it, so a refusal is seen rather than lost.
    pub sent: BTreeMap<String, SentRequest>,
    pub found: Option<Vec<FoundUser>>,
    pub conversations: HashMap<Conv, Conversation>,
    pub unread: HashMap<Conv, u32>,
    /// Longest message text the server accepts, in characters.
    pub max_text: usize,
    /// Largest file the server accepts, in bytes.
    pub max_file: u64,
    /// Every transfer this device knows (from the local store at login, then live), with the bytes done.
    pub transfers: HashMap<TransferId, Transfer>,
    /// What was typed in a chat window that was closed before sending, put back when it opens again.
    pub drafts: HashMap<Conv, String>,
    /// Chats set to "do not disturb" (免打扰): no pop-up and no sound; their badge still counts.
    pub muted: BTreeSet<Conv>,
    /// Chats pinned to the top of Recent (置顶), the most recently pinned first.
    pub pinned: Vec<Conv>,
    /// What the server does of replies, recalls, read marks and typing (none, on an older server).
    pub features: Features,
    /// Seconds after sending in which the server lets me recall a message.
    pub recall_secs: u32,
    /// Longest group announcement the server keeps, in characters.
    pub notice_chars: usize,
    /// Friends typing to me, until when (milliseconds since the epoch) to say so.
    pub typing: HashMap<String, Millis>,
    /// My signature (个性签名), gender and region, as the server has them.
    pub profile: ququ_client::Profile,
    /// Whom I block (拉黑), by account: their private messages, files and friend requests do not reach
    /// me.
    pub blocked: BTreeMap<String, ququ_client::BlockedUser>,
    /// Longest signature the server keeps, in characters.
    pub sign_chars: usize,
    /// Longest nickname (and remark, region, group name) the server keeps, in characters.
    pub name_chars: usize,
    /// My friend groups (好友分组) in their order, the default one (id 0) left out: it is every user's.
    pub categories: Vec<ququ_client::Category>,
    /// The friend groups folded shut in the friend list, by id (0: the default one). This device's
    /// choice, kept per account in the settings; the groups themselves are the server's.
    pub collapsed: BTreeSet<u64>,
    /// Whose avatar (头像) is which picture, by its digest, as the server has said (users and groups; me
    /// too). Someone missing has the generated one.
    pub avatars: HashMap<Conv, String>,
    /// The pictures, decoded once each, by digest: many may show one.
    pub pictures: HashMap<String, image::RgbaImage>,
    /// Largest avatar picture the server takes, in bytes.
    pub max_avatar: usize,
}

/// One friend group as the friend list shows it: its header and, unless folded, its friends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FriendSection<'a> {
    /// 0 for the default group.
    pub id: u64,
    /// `None` for the default group, whose name is the app's words ("我的好友").
    pub name: Option<&'a str>,
    /// Its friends, online first (see [`Model::sorted_friends`]).
    pub friends: Vec<&'a Friend>,
    pub online: usize,
    pub collapsed: bool,
}

/// How long "typing…" shows after a friend's last sign of typing; they send one every 3 s or so.
pub const TYPING_SHOWN_MS: Millis = 5_000;

impl Model {
    pub fn new(account: String, nickname: String) -> Self {
        Model {
            account,
            nickname,
            max_text: 8000,
            max_file: 1 << 30,
            recall_secs: 120,
            notice_chars: 500,
            sign_chars: 80,
            name_chars: 32,
            max_avatar: 32768,
            ..Model::default()
        }
    }

    /// What the server said of itself at login: its limits and the newer lines it sends.
    pub fn server_said(&mut self, limits: ququ_protocol::Limits, features: Features) {
        self.max_text = limits.text as usize;
        self.max_file = limits.file;
        self.recall_secs = limits.recall;
        if limits.notice > 0 {
            self.notice_chars = limits.notice as usize;
        }
        if limits.sign > 0 {
            self.sign_chars = limits.sign as usize;
        }
        if limits.name > 0 {
            self.name_chars = limits.name as usize;
        }
        self.max_avatar = limits.avatar as usize;
        self.features = features;
    }

    /// The picture to show for a user or group, once the server has said they have one and it is here
    /// (`None`: the generated one).
    pub fn avatar(&self, of: &Conv) -> Option<&image::RgbaImage> {
        self.avatars.get(of).and_then(|sha| self.pictures.get(sha))
    }

    /// [`Model::avatar`] of a user.
    pub fn user_avatar(&self, account: &str) -> Option<&image::RgbaImage> {
        self.avatar(&Conv::User(account.to_owned()))
    }

    /// [`Model::avatar`] of a group.
    pub fn group_avatar(&self, group: u64) -> Option<&image::RgbaImage> {
        self.avatar(&Conv::Group(group))
    }

    /// Whether the server has told me whose avatar I have (set, from any device), so the picture kept on
    /// this computer from before avatars were the server's is no longer the one to show.
    pub fn my_avatar_known(&self) -> bool {
        self.avatars.contains_key(&Conv::User(self.account.clone()))
    }

    /// The server has my request to `account`.
    pub fn request_sent(&mut self, account: String) {
        if self.friends.contains_key(&account) {
            return;
        }
        let nickname = self
            .found
            .iter()
            .flatten()
            .find(|u| u.account == account)
            .map(|u| u.nickname.clone())
            .unwrap_or_default();
        self.sent.insert(
            account,
            SentRequest {
                nickname,
                state: Sent::Waiting,
            },
        );
    }

    /// The server's list of my requests with no answer yet: it replaces the waiting ones known so far
    /// (some may have been answered while I was away); refusals not yet dismissed stay.
    pub fn sent_listed(&mut self, waiting: impl IntoIterator<Item = (String, String)>) {
        self.sent.retain(|_, r| r.state == Sent::Declined);
        for (account, nickname) in waiting {
            self.sent.insert(
                account,
                SentRequest {
                    nickname,
                    state: Sent::Waiting,
                },
            );
        }
    }

    /// `account` declined my request.
    pub fn request_declined(&mut self, account: String) {
        self.sent
            .entry(account)
            .or_insert_with(|| SentRequest {
                nickname: String::new(),
                state: Sent::Declined,
            })
            .state = Sent::Declined;
    }

    /// Forgets a declined request once I have seen it; a waiting one stays.
    pub fn dismiss_declined(&mut self, account: &str) {
        if self.sent.get(account).map(|r| r.state) == Some(Sent::Declined) {
            self.sent.remove(account);
        }
    }

    /// Requests that need my attention: those to me, and mine that were declined.
    /// Requests that need my attention: friend requests to me, mine that were declined, and requests to
    /// join the groups I manage.
    pub fn requests_needing_me(&self) -> usize {
        let declined = self.sent.values().filter(|r| r.state == Sent::Declined);
        self.requests.len() + declined.count() + self.join_requests.len()
    }

    /// Whether the requests dialog has anything to show.
    pub fn has_requests(&self) -> bool {
        !self.requests.is_empty() || !self.sent.is_empty() || !self.join_requests.is_empty()
    }

    pub fn my_name(&self) -> &str {
        if self.nickname.is_empty() {
            &self.account
        } else {
            &self.nickname
        }
    }

    /// Friends online first, then by display name — the order of QQ's list.
    pub fn sorted_friends(&self) -> Vec<&Friend> {
        let mut friends: Vec<&Friend> = self.friends.values().collect();
        friends.sort_by(|a, b| {
            b.presence
                .is_online()
                .cmp(&a.presence.is_online())
                .then_with(|| {
                    a.display_name()
                        .to_lowercase()
                        .cmp(&b.display_name().to_lowercase())
                })
        });
        friends
    }

    /// The friend list by friend group, as QQ shows it: the default group first, then mine in their
    /// order, each with its friends (online first) — empty groups too, so one just made can be seen and
    /// moved into. A friend in a group this device does not know (yet) is shown in the default one.
    pub fn friend_sections(&self) -> Vec<FriendSection<'_>> {
        let known = |id: u64| id != 0 && self.categories.iter().any(|c| c.id == id);
        let all = self.sorted_friends();
        std::iter::once((0, None))
            .chain(
                self.categories
                    .iter()
                    .map(|c| (c.id, Some(c.name.as_str()))),
            )
            .map(|(id, name)| {
                let friends: Vec<&Friend> = all
                    .iter()
                    .copied()
                    .filter(|f| if known(f.category) { f.category } else { 0 } == id)
                    .collect();
                FriendSection {
                    id,
                    name,
                    online: friends.iter().filter(|f| f.presence.is_online()).count(),
                    friends,
                    collapsed: self.collapsed.contains(&id),
                }
            })
            .collect()
    }

    /// Folds a friend group shut in the friend list, or opens it.
    pub fn set_collapsed(&mut self, category: u64, on: bool) {
        if on {
            self.collapsed.insert(category);
        } else {
            self.collapsed.remove(&category);
        }
    }

    /// My friend groups' order with `category` one place earlier (`up`) or later; `None` if it cannot
    /// go that way (first or last already, or not one of mine).
    pub fn category_moved(&self, category: u64, up: bool) -> Option<Vec<u64>> {
        let mut order: Vec<u64> = self.categories.iter().map(|c| c.id).collect();
        let at = order.iter().position(|id| *id == category)?;
        let to = if up { at.checked_sub(1)? } else { at + 1 };
        if to >= order.len() {
            return None;
        }
        order.swap(at, to);
        Some(order)
    }

    /// A friend group's name as shown: mine, or the app's words for the default one.
    pub fn category_name<'a>(&'a self, id: u64, default: &'a str) -> &'a str {
        self.categories
            .iter()
            .find(|c| c.id == id)
            .map_or(default, |c| c.name.as_str())
    }

    /// Conversations with at least one message: the pinned ones first (the latest pinned on top), then
    /// the rest newest first.
    pub fn recent(&self) -> Vec<(&Conv, &Line)> {
        let mut recent: Vec<(&Conv, &Line)> = self
            .conversations
            .iter()
            .filter_map(|(conv, c)| c.last().map(|line| (conv, line)))
            .collect();
        let pin = |conv: &Conv| self.pinned.iter().position(|p| p == conv);
        recent.sort_by(|a, b| match (pin(a.0), pin(b.0)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => b.1.time.cmp(&a.1.time).then_with(|| a.0.cmp(b.0)),
        });
        recent
    }

    pub fn is_pinned(&self, conv: &Conv) -> bool {
        self.pinned.contains(conv)
    }

    pub fn set_pinned(&mut self, conv: &Conv, pinned: bool) {
        self.pinned.retain(|c| c != conv);
        if pinned {
            self.pinned.insert(0, conv.clone());
        }
    }

    /// The chat a click on the tray icon opens: the one with the newest unread message, muted chats
    /// only when nothing else waits.
    pub fn newest_unread(&self) -> Option<Conv> {
        self.conversations
            .iter()
            .filter(|(conv, _)| self.unread(conv) > 0)
            .filter_map(|(conv, c)| c.last().map(|line| (conv, line.time)))
            .max_by_key(|(conv, time)| (!self.is_muted(conv), *time))
            .map(|(conv, _)| conv.clone())
    }

    /// Whether an unread message in `conv` mentions me: Recent says "[@me]" until the chat is read.
    pub fn mentioned(&self, conv: &Conv) -> bool {
        let unread = self.unread(conv) as usize;
        unread > 0
            && self.conversations.get(conv).is_some_and(|c| {
                c.newest_first()
                    .filter(|l| l.from != self.account)
                    .take(unread)
                    .any(|l| l.mentions(&self.account))
            })
    }

    /// One line of a message for Recent and notifications: its text, its file, or who recalled it.
    pub fn preview(&self, conv: &Conv, line: &Line, lang: crate::i18n::Lang) -> String {
        if let Some(change) = &line.change {
            return self.change_words(change, lang);
        }
        match &line.recalled {
            Some(recall) => self.recall_words(conv, recall, lang),
            None => line.preview(lang.tr()),
        }
    }

    /// A change to a group in words, with the names as this user sees them (remarks first).
    pub fn change_words(
        &self,
        change: &ququ_client::GroupEvent,
        lang: crate::i18n::Lang,
    ) -> String {
        let group = Some(change.group);
        let by = self.sender_name(group, &change.by);
        let whom = self.sender_name(group, &change.account);
        // A mute's end as the clock shows it; "0" lifts it.
        let until = match change.value.parse::<Millis>() {
            Ok(ms) if ms > 0 && change.kind == ququ_protocol::GroupEventKind::Mute => {
                format_mute_end(ms)
            }
            _ => String::new(),
        };
        let me = |account: &str| account == self.account;
        lang.group_change(
            change.kind,
            (&by, me(&change.by)),
            (&whom, me(&change.account)),
            &change.value,
            &until,
        )
    }

    /// "alice recalled a message", in place of a recalled message in `conv`.
    pub fn recall_words(&self, conv: &Conv, recall: &Recall, lang: crate::i18n::Lang) -> String {
        let group = match conv {
            Conv::Group(id) => Some(*id),
            Conv::User(_) => None,
        };
        let by_me = recall.by == self.account;
        let whose = (recall.whose != recall.by).then(|| self.sender_name(group, &recall.whose));
        lang.recalled(
            by_me,
            &self.sender_name(group, &recall.by),
            whose.as_deref(),
        )
    }

    /// A message deleted from this device ("Delete for me") leaves its chat.
    pub fn forget_line(&mut self, conv: &Conv, local_id: i64) {
        if let Some(conversation) = self.conversations.get_mut(conv) {
            conversation.forget(local_id);
        }
    }

    /// Whether `account` is typing to me at `now`.
    pub fn is_typing(&self, account: &str, now: Millis) -> bool {
        self.typing.get(account).is_some_and(|until| *until > now)
    }

    /// Whether I may recall `line` now, or why not.
    pub fn may_recall(&self, conv: &Conv, line: &Line, now: Millis) -> Result<(), RecallBar> {
        if !self.features.recalled {
            return Err(RecallBar::ServerCannot);
        }
        if line.id.is_none() || line.recalled.is_some() {
            return Err(RecallBar::NotSent);
        }
        // In a group the owner recalls anything, an admin their own or a plain member's message, any
        // time (the server's rule).
        let manager = match conv {
            Conv::Group(id) => match self.role_in(*id, &self.account) {
                ququ_protocol::Role::Owner => true,
                ququ_protocol::Role::Admin => {
                    line.from == self.account
                        || self.role_in(*id, &line.from) == ququ_protocol::Role::Member
                }
                ququ_protocol::Role::Member => false,
            },
            Conv::User(_) => false,
        };
        if manager {
            return Ok(());
        }
        if line.from != self.account {
            return Err(RecallBar::NotMine);
        }
        if now.saturating_sub(line.time) > u64::from(self.recall_secs) * 1000 {
            return Err(RecallBar::TooLate(self.recall_secs));
        }
        Ok(())
    }

    pub fn total_unread(&self) -> u32 {
        self.unread.values().sum()
    }

    pub fn unread(&self, conv: &Conv) -> u32 {
        self.unread.get(conv).copied().unwrap_or(0)
    }

    pub fn is_muted(&self, conv: &Conv) -> bool {
        self.muted.contains(conv)
    }

    pub fn set_muted(&mut self, conv: &Conv, muted: bool) {
        if muted {
            self.muted.insert(conv.clone());
        } else {
            self.muted.remove(conv);
        }
    }

    /// A conversation with a friend or in a group of mine: one whose files this device takes (a
    /// friend removed, a group left, sends nothing more worth fetching).
    pub fn is_contact(&self, conv: &Conv) -> bool {
        match conv {
            Conv::User(account) => self.friends.contains_key(account),
            Conv::Group(id) => self.groups.contains_key(id),
        }
    }

    /// The title of a conversation: a friend's display name or a group's name.
    pub fn conv_name(&self, conv: &Conv) -> String {
        match conv {
            Conv::User(account) => self
                .friends
                .get(account)
                .map_or_else(|| account.clone(), |f| f.display_name().to_owned()),
            Conv::Group(id) => self
                .groups
                .get(id)
                .map_or_else(|| format!("#{id}"), |g| g.name.clone()),
        }
    }

    /// The name to put on a sender's bubble in a group.
    pub fn sender_name(&self, group: Option<u64>, account: &str) -> String {
        if account == self.account {
            return self.my_name().to_owned();
        }
        if let Some(friend) = self.friends.get(account) {
            return friend.display_name().to_owned();
        }
        group
            .and_then(|g| self.members.get(&g))
            .and_then(|m| m.iter().find(|m| m.account == account))
            .map_or_else(|| account.to_owned(), |m| m.display_name().to_owned())
    }
}
