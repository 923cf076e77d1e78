//! The app's own view-model: what the windows draw, kept apart from the wire types so the UI does not
//! change shape whenever the protocol or the headless client does.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ququ_protocol::{Conv, Millis, Presence, Role};

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

/// A friend as listed: the headless client's own type, shown as it is.
pub use ququ_client::Friend;

/// A group I am in: the headless client's own type.
pub use ququ_client::Group;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub account: String,
    pub nickname: String,
    pub role: Role,
    pub presence: Presence,
}

impl Member {
    pub fn display_name(&self) -> &str {
        if self.nickname.is_empty() {
            &self.account
        } else {
            &self.nickname
        }
    }
}

/// A friend request waiting for my answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub from: String,
    pub nickname: String,
    pub note: String,
    pub time: Millis,
}

/// A friend request I sent.
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

/// One user-search result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub account: String,
    pub nickname: String,
    pub presence: Presence,
}

/// Where one of my messages stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Waiting in the outbox or on the wire for the server's ACK.
    Sending,
    /// Stored by the server.
    Sent,
    /// Refused by the server (not friends, too long, …); the bubble offers a retry.
    Failed,
}

/// One message bubble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// This device's id for the message (the client's local store); what a retry names.
    pub local_id: Option<i64>,
    /// Server id once stored; history pages are fetched "before" the smallest one.
    pub id: Option<u64>,
    /// The sender's id for the message: matches ACKs and failures to the bubble.
    pub client_id: String,
    pub from: String,
    pub time: Millis,
    pub text: String,
    pub delivery: Delivery,
    /// Set for a file offer: the bubble shows the file instead of `text`.
    pub file: Option<FileItem>,
}

impl Line {
    /// One line of text for lists and previews: the text, or the file's name behind a marker.
    pub fn preview(&self, file_word: &str) -> String {
        match &self.file {
            Some(file) => format!("[{file_word}] {}", file.name),
            None => self.text.clone(),
        }
    }
}

/// A file in a message bubble: what the sender offered and how far it is on this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileItem {
    /// The server's id for the file, once the offer is stored; what Download and Reject name.
    pub file_id: Option<u64>,
    /// The sender's name for the file; for display only, never used as a path as it stands.
    pub name: String,
    pub size: u64,
    pub state: FileState,
    /// This device's copy: the file I am sending, or where I saved one I received. Thumbnails and
    /// Open / Show in folder use it.
    pub local: Option<PathBuf>,
}

impl FileItem {
    /// Fraction done while bytes move, for the progress bar.
    pub fn progress(&self) -> Option<f32> {
        match self.state {
            FileState::Uploading { done, .. } | FileState::Downloading { done, .. } => {
                Some(if self.size == 0 {
                    1.0
                } else {
                    (done as f64 / self.size as f64).clamp(0.0, 1.0) as f32
                })
            }
            _ => None,
        }
    }

    /// Whether the file can be drawn as a picture, judged by its name (the bytes are checked when the
    /// thumbnail is made, off the UI thread).
    pub fn is_image(&self) -> bool {
        is_image_name(&self.name)
    }
}

/// A file transfer, and which one: the headless client's own types, shown as they are.
pub use ququ_client::{Transfer, TransferId, TransferState};

/// Image types the `image` crate here decodes (its codecs are picked in the workspace manifest).
pub fn is_image_name(name: &str) -> bool {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    matches!(
        ext.as_deref(),
        Some("png" | "jpg" | "jpeg" | "gif" | "webp")
    )
}

/// Where a file stands, from this device's side. Mine go Uploading → Sent → DeliveredToPeer; theirs go
/// Offered → Downloading → Saved. Either may end Rejected, Cancelled, Expired or Failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Mine: bytes going up. `done` bytes are on the server.
    Uploading {
        done: u64,
        paused: bool,
    },
    /// Mine: every byte is on the server; the recipient may download it.
    Sent,
    /// Mine: a recipient has downloaded it.
    DeliveredToPeer,
    /// Theirs: waiting for me to download or reject it.
    Offered,
    /// Theirs: bytes coming down into `FileItem::local`.
    Downloading {
        done: u64,
        paused: bool,
    },
    /// Theirs: saved at `FileItem::local`.
    Saved,
    Rejected,
    /// Withdrawn by the sender (or by me, for mine).
    Cancelled,
    /// The server no longer keeps it.
    Expired,
    /// The transfer stopped on an error; the words say why.
    Failed(String),
}

impl FileState {
    /// How a transfer's state reads in a bubble (its `bytes` kept current by progress events).
    pub fn of_transfer(transfer: &Transfer) -> FileState {
        let (upload, bytes) = (transfer.is_upload(), transfer.bytes);
        let moving = |paused| {
            if upload {
                FileState::Uploading {
                    done: bytes,
                    paused,
                }
            } else {
                FileState::Downloading {
                    done: bytes,
                    paused,
                }
            }
        };
        match &transfer.state {
            TransferState::Offering
            | TransferState::Requesting
            | TransferState::Uploading
            | TransferState::Downloading => moving(false),
            TransferState::Paused => moving(true),
            TransferState::Done if upload => FileState::Sent,
            TransferState::Done => FileState::Saved,
            TransferState::Failed { reason } => FileState::Failed(reason.clone()),
            TransferState::Cancelled => FileState::Cancelled,
            TransferState::Rejected => FileState::Rejected,
            TransferState::Expired => FileState::Expired,
            TransferState::RecipientDownloaded => FileState::DeliveredToPeer,
        }
    }
}

/// "1.2 MB": one decimal below ten units, none above, 1024-based like file managers on Windows (and
/// QQ). Bytes are shown whole.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    // 1023.96 KB would print as "1024 KB"; say "1.0 MB" instead.
    if value >= 1023.95 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// The messages of one conversation that the app has seen, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    pub lines: Vec<Line>,
    /// Whether older messages may exist before `lines[0]`.
    pub more_before: bool,
    /// A history page is on its way; don't ask again.
    pub loading: bool,
    /// Whether the first page has been asked for.
    pub loaded: bool,
}

impl Conversation {
    /// Inserts or updates a line, keeping the list sorted and free of duplicates: the same message can
    /// arrive live, from sync and from a history page.
    pub fn upsert(&mut self, line: Line) {
        if let Some(existing) = self.lines.iter_mut().find(|l| {
            (line.local_id.is_some() && l.local_id == line.local_id)
                || (line.id.is_some() && l.id == line.id)
                || (!line.client_id.is_empty()
                    && l.client_id == line.client_id
                    && l.from == line.from)
        }) {
            existing.id = existing.id.or(line.id);
            existing.local_id = existing.local_id.or(line.local_id);
            if line.id.is_some() {
                existing.time = line.time;
            }
            if existing.delivery != Delivery::Sent {
                existing.delivery = line.delivery;
            }
            // A file's state moves on (uploaded, downloaded, …); keep a local copy already known.
            if let Some(mut file) = line.file {
                if let Some(old) = &existing.file {
                    file.local = file.local.or_else(|| old.local.clone());
                    file.file_id = file.file_id.or(old.file_id);
                }
                existing.file = Some(file);
            }
            return;
        }
        // Messages being sent have no id and go last; stored ones sort by id (server order).
        let position = match line.id {
            Some(id) => self
                .lines
                .iter()
                .position(|l| l.id.is_none_or(|other| other > id))
                .unwrap_or(self.lines.len()),
            None => self.lines.len(),
        };
        self.lines.insert(position, line);
    }

    pub fn oldest_local_id(&self) -> Option<i64> {
        self.lines.first().and_then(|l| l.local_id)
    }

    pub fn oldest_id(&self) -> Option<u64> {
        self.lines.iter().filter_map(|l| l.id).min()
    }

    pub fn last(&self) -> Option<&Line> {
        self.lines.last()
    }

    pub fn set_delivery(
        &mut self,
        client_id: &str,
        delivery: Delivery,
        id: Option<u64>,
        time: Option<Millis>,
    ) {
        if let Some(line) = self.lines.iter_mut().find(|l| l.client_id == client_id) {
            line.delivery = delivery;
            line.id = line.id.or(id);
            if let Some(time) = time {
                line.time = time;
            }
        }
    }
}

/// Everything known while logged in, shared by all windows.
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub account: String,
    pub nickname: String,
    pub friends: BTreeMap<String, Friend>,
    pub groups: BTreeMap<u64, Group>,
    pub members: HashMap<u64, Vec<Member>>,
    /// Who may join each group by its number, as far as the server has said (asked when the group's
    /// menu opens, and told on every change).
    pub group_policies: HashMap<u64, ququ_protocol::JoinPolicy>,
    pub requests: Vec<Request>,
    /// My friend requests, by account, until they are answered: those the server lists as waiting and
    /// those sent since. An accepted one leaves (they are a friend now); a declined one stays, marked,
    /// until I dismiss it, so a refusal is seen rather than lost.
    pub sent: BTreeMap<String, SentRequest>,
    pub found: Option<Vec<Found>>,
    pub conversations: HashMap<Conv, Conversation>,
    pub unread: HashMap<Conv, u32>,
    /// Longest message text the server accepts, in characters.
    pub max_text: usize,
    /// Largest file the server accepts, in bytes.
    pub max_file: u64,
    /// Every transfer this device knows (from the local store at login, then live), with the bytes done.
    pub transfers: HashMap<TransferId, Transfer>,
    /// Thumbnails of image files, keyed by this device's copy; made off the UI thread once each.
    pub thumbs: HashMap<PathBuf, iced::widget::image::Handle>,
    /// What was typed in a chat window that was closed before sending, put back when it opens again.
    pub drafts: HashMap<Conv, String>,
}

impl Session {
    pub fn new(account: String, nickname: String) -> Self {
        Session {
            account,
            nickname,
            max_text: 8000,
            max_file: 1 << 30,
            ..Session::default()
        }
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
    pub fn requests_needing_me(&self) -> usize {
        let declined = self.sent.values().filter(|r| r.state == Sent::Declined);
        self.requests.len() + declined.count()
    }

    /// Whether the requests dialog has anything to show.
    pub fn has_requests(&self) -> bool {
        !self.requests.is_empty() || !self.sent.is_empty()
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

    /// Conversations with at least one message, newest first.
    pub fn recent(&self) -> Vec<(&Conv, &Line)> {
        let mut recent: Vec<(&Conv, &Line)> = self
            .conversations
            .iter()
            .filter_map(|(conv, c)| c.last().map(|line| (conv, line)))
            .collect();
        recent.sort_by(|a, b| b.1.time.cmp(&a.1.time).then_with(|| a.0.cmp(b.0)));
        recent
    }

    pub fn total_unread(&self) -> u32 {
        self.unread.values().sum()
    }

    pub fn unread(&self, conv: &Conv) -> u32 {
        self.unread.get(conv).copied().unwrap_or(0)
    }

    /// Records a transfer (new, changed, or progress in `bytes`) and shows it on its file bubble; an
    /// upload not yet stored by the server gets a bubble of its own, as mine are shown while they go up.
    pub fn apply_transfer(&mut self, transfer: Transfer) {
        let conv = transfer.conv.clone();
        if let TransferId::Upload(client_id) = &transfer.id {
            let conversation = self.conversations.entry(conv.clone()).or_default();
            if !conversation
                .lines
                .iter()
                .any(|l| &l.client_id == client_id && l.from == self.account)
            {
                conversation.upsert(Line {
                    local_id: None,
                    id: None,
                    client_id: client_id.clone(),
                    from: self.account.clone(),
                    time: now_millis(),
                    text: transfer.name.clone(),
                    delivery: Delivery::Sending,
                    file: Some(FileItem {
                        file_id: transfer.file_id,
                        name: transfer.name.clone(),
                        size: transfer.size,
                        state: FileState::Uploading {
                            done: 0,
                            paused: false,
                        },
                        local: None,
                    }),
                });
            }
        }
        self.transfers.insert(transfer.id.clone(), transfer);
        self.refresh_files(&conv);
    }

    /// Brings the file bubbles of `conv` in line with the known transfers: a file with no transfer here is
    /// sent (mine) or waiting for me (theirs).
    pub fn refresh_files(&mut self, conv: &Conv) {
        let Some(conversation) = self.conversations.get_mut(conv) else {
            return;
        };
        for line in &mut conversation.lines {
            let mine = line.from == self.account;
            let Some(file) = &mut line.file else {
                continue;
            };
            let id = if mine {
                TransferId::Upload(line.client_id.clone())
            } else {
                match file.file_id {
                    Some(file_id) => TransferId::Download(file_id),
                    None => continue,
                }
            };
            match self.transfers.get(&id) {
                Some(t) => {
                    file.state = FileState::of_transfer(t);
                    file.file_id = file.file_id.or(t.file_id);
                    // A download's path is its final name only once it is done (a `.part` until then).
                    if mine || t.state == TransferState::Done {
                        file.local = Some(t.path.clone());
                    }
                }
                None if mine => file.state = FileState::Sent,
                None => file.state = FileState::Offered,
            }
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

/// `HH:MM` for today's messages, `MM-DD HH:MM` for older ones, at `offset_minutes` east of UTC.
///
/// Pure (the offset is a parameter) so it is testable; [`local_offset_minutes`] gives the system's.
pub fn format_time(time: Millis, now: Millis, offset_minutes: i64) -> String {
    let local = |ms: Millis| (ms as i64 / 1000) + offset_minutes * 60;
    let (t, n) = (local(time), local(now));
    let (day, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (h, m) = (secs / 3600, (secs % 3600) / 60);
    if day == n.div_euclid(86_400) {
        format!("{h:02}:{m:02}")
    } else {
        let (_, month, d) = civil_from_days(day);
        format!("{month:02}-{d:02} {h:02}:{m:02}")
    }
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The system time zone's current offset from UTC, in minutes.
pub fn local_offset_minutes() -> i64 {
    i64::from(chrono::Local::now().offset().local_minus_utc()) / 60
}

/// Milliseconds since the Unix epoch now.
pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: Option<u64>, client_id: &str, delivery: Delivery) -> Line {
        Line {
            local_id: None,
            id,
            client_id: client_id.into(),
            from: "a".into(),
            time: 0,
            text: "x".into(),
            delivery,
            file: None,
        }
    }

    #[test]
    fn my_requests_wait_until_answered_and_a_refusal_until_dismissed() {
        let mut s = Session::new("me".into(), String::new());
        s.found = Some(vec![Found {
            account: "ann".into(),
            nickname: "Ann".into(),
            presence: Presence::Online,
        }]);
        s.request_sent("ann".into());
        s.request_sent("bo".into());
        assert_eq!(s.sent["ann"].nickname, "Ann", "the name the search showed");
        assert!(s.has_requests());
        assert_eq!(s.requests_needing_me(), 0, "waiting needs nothing from me");
        s.dismiss_declined("ann");
        assert!(
            s.sent.contains_key("ann"),
            "a waiting request cannot be dismissed"
        );
        s.request_declined("ann".into());
        assert_eq!(s.requests_needing_me(), 1);
        s.dismiss_declined("ann");
        assert!(!s.sent.contains_key("ann"));
        // A friend already is not asked again.
        s.friends.insert(
            "cy".into(),
            Friend {
                account: "cy".into(),
                nickname: String::new(),
                remark: String::new(),
                presence: Presence::Offline,
            },
        );
        s.request_sent("cy".into());
        assert!(!s.sent.contains_key("cy"));

        // The server's list replaces the waiting ones; a refusal not yet dismissed stays.
        s.request_declined("di".into());
        s.sent_listed([("ed".to_owned(), "Ed".to_owned())]);
        let left: Vec<_> = s.sent.iter().map(|(a, r)| (a.as_str(), r.state)).collect();
        assert_eq!(left, [("di", Sent::Declined), ("ed", Sent::Waiting)]);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1.0 KB");
        assert_eq!(human_size(1_258_291), "1.2 MB");
        assert_eq!(human_size(15 * 1024 * 1024), "15 MB");
        assert_eq!(human_size(1024 * 1024 - 1), "1.0 MB");
        assert_eq!(human_size(3 << 30), "3.0 GB");
    }

    #[test]
    fn file_state_moves_on_and_keeps_the_local_copy() {
        let mut c = Conversation::default();
        let file = |state, local: Option<&str>| FileItem {
            file_id: None,
            name: "a.png".into(),
            size: 10,
            state,
            local: local.map(PathBuf::from),
        };
        c.upsert(Line {
            file: Some(file(
                FileState::Uploading {
                    done: 5,
                    paused: false,
                },
                Some("/tmp/a.png"),
            )),
            ..line(None, "c1", Delivery::Sending)
        });
        assert_eq!(
            c.lines[0].file.as_ref().and_then(FileItem::progress),
            Some(0.5)
        );
        c.upsert(Line {
            file: Some(FileItem {
                file_id: Some(9),
                ..file(FileState::Sent, None)
            }),
            ..line(Some(4), "c1", Delivery::Sent)
        });
        let f = c.lines[0].file.as_ref().unwrap();
        assert_eq!(
            (f.state.clone(), f.file_id, f.local.clone()),
            (FileState::Sent, Some(9), Some(PathBuf::from("/tmp/a.png")))
        );
        assert!(f.is_image());
    }

    #[test]
    fn upsert_dedups_and_orders() {
        let mut c = Conversation::default();
        c.upsert(line(None, "c1", Delivery::Sending));
        c.upsert(line(Some(5), "c0", Delivery::Sent));
        c.upsert(line(Some(3), "", Delivery::Sent));
        c.upsert(line(Some(7), "c1", Delivery::Sent));
        c.upsert(line(Some(5), "c0", Delivery::Sent));
        let ids: Vec<_> = c.lines.iter().map(|l| l.id).collect();
        assert_eq!(ids, vec![Some(3), Some(5), Some(7)]);
        assert_eq!(c.lines[2].delivery, Delivery::Sent);
    }

    #[test]
    fn friends_online_first() {
        let mut s = Session::new("me".into(), String::new());
        for (a, p) in [
            ("zed", Presence::Online),
            ("amy", Presence::Offline),
            ("bob", Presence::Online),
        ] {
            s.friends.insert(
                a.into(),
                Friend {
                    account: a.into(),
                    nickname: String::new(),
                    remark: String::new(),
                    presence: p,
                },
            );
        }
        let order: Vec<_> = s
            .sorted_friends()
            .iter()
            .map(|f| f.account.as_str())
            .collect();
        assert_eq!(order, vec!["bob", "zed", "amy"]);
    }

    #[test]
    fn times() {
        let day = 86_400_000;
        assert_eq!(
            format_time(day + 3_600_000 + 60_000, day + 5_000_000, 0),
            "01:01"
        );
        assert_eq!(format_time(0, day * 3, 0), "01-01 00:00");
        assert_eq!(format_time(0, 0, 480), "08:00");
    }

    #[test]
    fn countdown_rounds_up() {
        let now = Instant::now();
        let c = Connection::Reconnecting {
            at: now + Duration::from_millis(2100),
        };
        assert_eq!(c.seconds_left(now), Some(3));
    }
}
