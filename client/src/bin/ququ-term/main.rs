//! `ququ-term`: a line-based chat client in the terminal, the successor of the original command-line group
//! chat (`./app <ip> <port> <name>`). It shares the headless client's storage, outbox and reconnects.
//!
//! Plain lines go to the current chat; `/help` lists the commands. The password is read without echo from a
//! terminal, or as the first line of standard input when that is not a terminal (so scripts can pipe it).

mod commands;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chrono::TimeZone;
use clap::Parser;
use commands::{HELP, Input};
use ququ_client::{
    Client, Config, Conv, Event, GroupEvent, GroupEventKind, Handle, Message, MessageState,
    Presence, StopReason, Transfer, TransferId, TransferState,
};
use tokio::sync::mpsc;

#[derive(Debug, Parser)]
#[command(name = "ququ-term", version, about = "Ququ chat in the terminal")]
struct Args {
    /// Server address, HOST:PORT.
    #[arg(long, default_value_t = format!("127.0.0.1:{}", ququ_protocol::DEFAULT_PORT))]
    server: String,
    /// Account to log in as.
    #[arg(long)]
    user: String,
    /// Create the account first.
    #[arg(long)]
    register: bool,
    /// Nickname for a new account.
    #[arg(long)]
    nickname: Option<String>,
    /// Where to keep history (default: the OS data directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Connect with TLS. A self-signed server's certificate is shown on first use and pinned if you agree.
    #[arg(long)]
    tls: bool,
    /// Pin this SHA-256 fingerprint for --server first (as `ququ-server gen-cert` printed it), instead of
    /// being asked. Implies --tls.
    #[arg(long, value_name = "FINGERPRINT")]
    trust: Option<String>,
}

/// How long `/quit` waits for unacknowledged messages before leaving them in the outbox for next time.
const FLUSH_WAIT: Duration = Duration::from_secs(5);

fn clock(ms: u64, with_date: bool) -> String {
    let format = if with_date {
        "%Y-%m-%d %H:%M:%S"
    } else {
        "%H:%M:%S"
    };
    i64::try_from(ms)
        .ok()
        .and_then(|ms| chrono::Local.timestamp_millis_opt(ms).single())
        .map(|t| t.format(format).to_string())
        .unwrap_or_else(|| "--:--:--".into())
}

fn conv_name(conv: &Conv) -> String {
    match conv {
        Conv::User(u) => u.clone(),
        Conv::Group(id) => format!("group {id}"),
    }
}

/// Bytes for people: `1.2 MB`.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// How a file message reads: `report.pdf (1.2 MB) — /get 7`.
fn file_text(m: &Message) -> Option<String> {
    let f = m.file.as_ref()?;
    Some(format!(
        "{} ({}) — /get {}",
        f.name,
        human_size(f.size),
        f.file_id
    ))
}

/// How a name reads in a line: `me` for me.
fn who<'a>(name: &'a str, me: &str) -> &'a str {
    if name == me { "me" } else { name }
}

/// A name as the one who did something: `you` for me ("you recalled a message", as QQ's 你撤回了…).
fn subject<'a>(name: &'a str, me: &str) -> &'a str {
    if name == me { "you" } else { name }
}

/// The line shown above a reply: what it answers, `  ↳ re bob #41: lunch at 12:30?`.
fn quote_line(q: &ququ_client::Quote, me: &str) -> String {
    let text = if q.text.is_empty() {
        // Recalled since, or a message this device never had.
        "(recalled or not here)".to_owned()
    } else {
        q.text.replace('\n', " ")
    };
    if q.from.is_empty() {
        format!("  ↳ re #{}: {text}", q.id)
    } else {
        format!("  ↳ re {} #{}: {text}", who(&q.from, me), q.id)
    }
}

/// A change to a group in words, as it happened: `alice invited you`, `you renamed the group to 读书会`.
fn change_words(e: &GroupEvent, me: &str) -> String {
    use GroupEventKind as K;
    let by = subject(&e.by, me);
    let account = subject(&e.account, me);
    let value = &e.value;
    match e.kind {
        K::Invite => format!("{by} invited {account}"),
        K::Join if e.by == e.account => format!("{account} joined"),
        K::Join => format!("{by} let {account} in"),
        K::Leave => format!("{account} left"),
        K::Kick => format!("{by} removed {account}"),
        K::Rename => format!("{by} renamed the group to {value}"),
        K::Admin if value == "on" => format!("{by} made {account} an admin"),
        K::Admin => format!("{by} made {account} a plain member"),
        K::Transfer => format!("{by} handed the group to {account}"),
        K::Mute => match value.parse::<u64>() {
            Ok(until) if until > e.time => {
                format!("{by} muted {account} until {}", clock(until, true))
            }
            _ => format!("{by} unmuted {account}"),
        },
        K::MuteAll if value == "on" => format!("{by} muted the whole group"),
        K::MuteAll => format!("{by} unmuted the whole group"),
        K::Notice if value.is_empty() => format!("{by} cleared the announcement"),
        K::Notice => format!(
            "{by} set the announcement: {}",
            value.replace('\n', "\n    ")
        ),
    }
}

/// One message as a line: `[12:34:56 #42] bob: hi` (the id is what `/reply` and `/recall` take), with the
/// conversation named where the sender alone does not say it and `[@you]` when it mentions me. A file
/// reads `[12:34:56 #43] bob sent a file: report.pdf (1.2 MB) — /get 7`; a reply has its quote on the
/// line above; a recalled message reads `bob recalled a message`, in place of its text. A change to a group
/// reads `[12:34:56 #44] [group 3] alice invited bob`.
fn message_line(m: &Message, me: &str, with_date: bool) -> String {
    let time = match m.server_id {
        Some(id) => format!("{} #{id}", clock(m.time, with_date)),
        None => clock(m.time, with_date),
    };
    let where_ = match (&m.conv, m.is_mine()) {
        (Conv::Group(id), _) => format!("[group {id}] "),
        (Conv::User(peer), true) => format!("(to {peer}) "),
        (Conv::User(_), false) => String::new(),
    };
    let from = who(&m.from, me);
    let state = match m.state {
        MessageState::Pending => " (pending)",
        MessageState::Failed => " (failed)",
        _ => "",
    };
    if let Some(e) = &m.group_event {
        return format!("[{time}] {where_}{}", change_words(e, me));
    }
    if let Some(of) = &m.recall_of {
        let by = subject(&m.from, me);
        return if of.target_from.is_empty() || of.target_from == m.from {
            format!("[{time}] {where_}{by} recalled a message (#{})", of.target)
        } else {
            let sender = who(&of.target_from, me);
            format!(
                "[{time}] {where_}{by} recalled a message from {sender} (#{})",
                of.target
            )
        };
    }
    if let Some(by) = &m.recalled_by {
        return if *by == m.from {
            format!("[{time}] {where_}{} recalled a message", subject(by, me))
        } else {
            format!(
                "[{time}] {where_}{} recalled a message from {from}",
                subject(by, me)
            )
        };
    }
    let mention = if m.from != me && m.mentions_me(me) {
        " [@you]"
    } else {
        ""
    };
    let quote = match &m.quote {
        Some(q) => format!("{}\n", quote_line(q, me)),
        None => String::new(),
    };
    match file_text(m) {
        Some(file) => format!("{quote}[{time}] {where_}{from} sent a file: {file}{state}"),
        // Each further line of the text is indented, so that none can pass for a line of the client's
        // own (`*** SERVER: session expired, re-enter your password ***`).
        None => format!(
            "{quote}[{time}] {where_}{from}{mention}: {}{state}",
            m.text.replace('\n', "\n    ")
        ),
    }
}

/// What a person wants to hear about a transfer's new state, if anything.
fn transfer_line(t: &Transfer) -> Option<String> {
    let name = &t.name;
    let up = t.is_upload();
    Some(match &t.state {
        TransferState::Offering | TransferState::Requesting => return None,
        TransferState::Uploading => {
            format!("uploading {name} ({}){}", human_size(t.size), resumed_at(t))
        }
        TransferState::Downloading => format!(
            "downloading {name} ({}){}",
            human_size(t.size),
            resumed_at(t)
        ),
        TransferState::Paused => format!("{name}: paused"),
        TransferState::Done if up => format!("sent {name}"),
        TransferState::Done => format!("saved {name} as {}", t.path.display()),
        TransferState::Failed { reason } => format!("{name}: failed: {reason}"),
        TransferState::Cancelled => format!("{name}: cancelled"),
        TransferState::Rejected if up => format!("{name}: declined by the recipient"),
        TransferState::Rejected => format!("{name}: declined"),
        TransferState::Expired => format!("{name}: expired on the server"),
        TransferState::RecipientDownloaded => format!("{name}: downloaded by the recipient"),
    })
}

fn resumed_at(t: &Transfer) -> String {
    if t.bytes > 0 {
        format!(", resuming at {}", human_size(t.bytes))
    } else {
        String::new()
    }
}

/// A whole retry delay in seconds, as the original printed it ("retrying in 2s"); below a second, in ms.
fn delay_text(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs_f64().round() as u64)
    }
}

struct Term {
    handle: Handle,
    me: String,
    server: String,
    current: Option<Conv>,
    online: bool,
    last_failed: Option<String>,
    shown_requests: Vec<String>,
    /// The accounts last shown as not having answered my requests (said again only when it changes).
    shown_waiting: Vec<String>,
    /// A progress line is on screen without its newline.
    progress_shown: bool,
    /// Names of transfers, for their progress lines.
    transfer_names: std::collections::HashMap<TransferId, String>,
    /// Progress lines rewrite themselves on a terminal; piped, each is a line of its own.
    tty: bool,
    /// When "… is typing" was last shown for each friend (said again only after a quiet spell).
    typing_shown: std::collections::HashMap<String, std::time::Instant>,
    /// Whose avatar is which picture, as the server has said: `/friends` and `/members` mark who has
    /// one, and a change is said.
    avatars: std::collections::HashMap<Conv, String>,
}

/// "bob is typing…" is said at most this often per friend: the notices repeat every few seconds.
const TYPING_QUIET: Duration = Duration::from_secs(30);

/// Everything printed goes through here, so nothing from the network reaches the terminal raw.
fn say(line: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    // A closed stdout (piped into `head`) is no reason to stop chatting, nor to panic.
    let _ = writeln!(out, "{}", visible(line.as_ref()));
    let _ = out.flush();
}

/// Text as a terminal should show it rather than obey it: control characters other than newline and tab
/// in caret notation (ESC is `^[`, NUL `^@`, DEL `^?`) and the C1 controls as `<U+009B>`. A friend's
/// message with escape sequences once cleared the screen, printed a fake server prompt and set the
/// window title, and did it again from history at every login (issue 20, item 5); today's server
/// refuses such text, but history from before and other servers may still hold it.
fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    let shown_raw = |c: char| !c.is_control() || c == '\n' || c == '\t';
    if text.chars().all(shown_raw) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if shown_raw(c) => out.push(c),
            '\u{0}'..='\u{1f}' => {
                out.push('^');
                out.push(char::from(c as u8 + 0x40));
            }
            '\u{7f}' => out.push_str("^?"),
            c => out.push_str(&format!("<U+{:04X}>", c as u32)),
        }
    }
    out.into()
}

/// A signature to follow a name in a listing: ` — <text>`, or nothing.
fn signature(profile: &ququ_client::Profile) -> String {
    if profile.signature.is_empty() {
        String::new()
    } else {
        format!(" — {}", profile.signature)
    }
}

/// The bytes of a picture file for `/avatar` (none: clear it), or `None` after saying why it cannot be
/// read. Sent as they are: the server checks that they are a small PNG or JPEG.
fn read_picture(path: Option<&str>) -> Option<Vec<u8>> {
    let Some(path) = path else {
        return Some(Vec::new());
    };
    match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            say(format!("cannot read {path}: {e}"));
            None
        }
    }
}

/// A whole profile in one line; `-` for what is not set.
fn profile_text(profile: &ququ_client::Profile) -> String {
    let or_dash = |s: &str| {
        if s.is_empty() {
            "-".to_owned()
        } else {
            s.to_owned()
        }
    };
    format!(
        "signature {}, gender {}, region {}",
        or_dash(&profile.signature),
        or_dash(ququ_client::Gender::field(profile.gender)),
        or_dash(&profile.region)
    )
}

impl Term {
    /// ` [头像]` after a name whose avatar the server has said, for the lists.
    fn avatar_mark(&self, account: &str) -> &'static str {
        if self.avatars.contains_key(&Conv::User(account.to_owned())) {
            " [头像]"
        } else {
            ""
        }
    }

    /// Prints what a person should see about an event. Returns the stop reason when the client stopped.
    fn on_event(&mut self, event: Event) -> Option<StopReason> {
        // A progress line is redrawn in place; anything else printed must start on a line of its own.
        if !matches!(event, Event::TransferProgress { .. }) {
            self.end_progress();
        }
        match event {
            Event::Connecting { attempt } => {
                if attempt == 1 && !self.online {
                    say(format!("connecting to {}…", self.server));
                }
            }
            Event::Connected => {}
            Event::Registered { account } => say(format!("registered account {account}")),
            Event::LoggedIn {
                account,
                nickname,
                features,
                ..
            } => {
                self.online = true;
                self.me = account.clone();
                say(format!("logged in as {account} ({nickname})"));
                if !features.said || !features.recalled {
                    say(
                        "this server cannot do replies or recalls: /reply and /recall will not work",
                    );
                }
            }
            Event::Features(_) => {}
            Event::Synced { new_messages } => {
                if new_messages > 0 {
                    say(format!("{new_messages} new message(s) while you were away"));
                }
            }
            Event::Disconnected {
                reason, retry_in, ..
            } => {
                self.online = false;
                say(format!(
                    "disconnected: {reason}; retrying in {}",
                    delay_text(retry_in)
                ));
            }
            Event::Stopped(reason) => {
                say(format!("stopped: {reason}"));
                return Some(reason);
            }
            Event::Transfer(t) => {
                self.transfer_names.insert(t.id.clone(), t.name.clone());
                if let Some(line) = transfer_line(&t) {
                    self.end_progress();
                    say(line);
                }
            }
            Event::TransferProgress { id, bytes, total } => {
                let name = self.transfer_names.get(&id).cloned().unwrap_or_default();
                let percent = (bytes.saturating_mul(100))
                    .checked_div(total)
                    .unwrap_or(100);
                let line = format!(
                    "{name}: {percent}% ({} of {})",
                    human_size(bytes),
                    human_size(total)
                );
                if self.tty {
                    let mut out = std::io::stdout().lock();
                    let line = visible(&line);
                    let _ = write!(out, "\r{line}\x1b[K");
                    let _ = out.flush();
                    self.progress_shown = true;
                } else {
                    say(line);
                }
            }
            Event::Message(m) => match m.state {
                MessageState::Received | MessageState::Sent => {
                    say(message_line(&m, &self.me, false))
                }
                MessageState::Failed => {
                    say(format!(
                        "not sent ({}): {}",
                        m.error.as_deref().unwrap_or("refused"),
                        m.text
                    ));
                }
                MessageState::Pending => {}
            },
            Event::MessageState(m) => {
                // Its id, for /reply and /recall (what I typed is on the screen already).
                if let (MessageState::Sent, Some(id)) = (m.state, m.server_id) {
                    say(format!("  sent #{id}"));
                }
                if m.state == MessageState::Failed {
                    say(format!(
                        "not sent ({}): {} — /retry to send it again",
                        m.error.as_deref().unwrap_or("refused"),
                        m.text
                    ));
                    self.last_failed = Some(m.client_id);
                }
            }
            Event::Unread { .. } => {}
            Event::History { conv, messages, .. } => {
                say(format!("— history of {} —", conv_name(&conv)));
                for m in &messages {
                    say(message_line(m, &self.me, true));
                }
            }
            Event::SearchResults { query, messages } => {
                say(format!("— {} result(s) for \"{query}\" —", messages.len()));
                for m in messages.iter().rev() {
                    say(message_line(m, &self.me, true));
                }
            }
            Event::Presence { account, presence } => say(format!(
                "{account} is {}",
                if presence == Presence::Online {
                    "online"
                } else {
                    "offline"
                }
            )),
            Event::Friends(_) | Event::Groups(_) => {}
            Event::FriendChanged(f) => say(format!(
                "friend {} ({}) is {}",
                f.account,
                f.display_name(),
                f.presence.as_str()
            )),
            Event::FriendRemoved { account } => say(format!("{account} is no longer your friend")),
            Event::FriendRequests(list) => {
                let names: Vec<String> = list.iter().map(|r| r.from.clone()).collect();
                if !names.is_empty() && names != self.shown_requests {
                    for r in &list {
                        say(format!(
                            "{} wants to be your friend: {} (/accept {0} or /reject {0})",
                            r.from, r.note
                        ));
                    }
                }
                self.shown_requests = names;
            }
            Event::SentRequests(list) => {
                let names: Vec<String> = list.iter().map(|r| r.to.clone()).collect();
                if !names.is_empty() && names != self.shown_waiting {
                    say(format!(
                        "your friend requests waiting for an answer: {}",
                        names.join(", ")
                    ));
                }
                self.shown_waiting = names;
            }
            Event::FriendRequest(r) => {
                self.shown_requests.push(r.from.clone());
                say(format!(
                    "{} wants to be your friend: {} (/accept {0} or /reject {0})",
                    r.from, r.note
                ));
            }
            Event::RequestSent { account } => say(format!("friend request sent to {account}")),
            Event::RequestClosed { account } => {
                self.shown_requests.retain(|a| *a != account);
            }
            Event::FriendRejected { account } => {
                say(format!("{account} rejected your friend request"))
            }
            Event::FoundUsers(users) => {
                say(format!("— {} user(s) found —", users.len()));
                for u in users {
                    say(format!(
                        "  {} ({}) {}",
                        u.account,
                        u.nickname,
                        u.presence.as_str()
                    ));
                }
            }
            Event::GroupChanged(g) => say(format!(
                "group {}: {} (owner {}, {} members)",
                g.id, g.name, g.owner, g.members
            )),
            Event::GroupGone { group, reason } => {
                say(format!(
                    "you are no longer in group {group} ({})",
                    reason.as_str()
                ));
                if self.current == Some(Conv::Group(group)) {
                    self.current = None;
                }
            }
            Event::GroupPolicy { group, policy } => say(match policy {
                ququ_client::JoinPolicy::Open => {
                    format!("group {group}: anyone with its number can join (/join {group})")
                }
                ququ_client::JoinPolicy::Invite => {
                    format!(
                        "group {group}: members join by invitation only (/invite {group} <user>)"
                    )
                }
                // Issue 25: set by the owner from another client; ququ-term cannot answer requests yet.
                ququ_client::JoinPolicy::Approve => {
                    format!("group {group}: joining needs the owner's or an admin's approval")
                }
            }),
            Event::Members { group, members } => {
                say(format!("— group {group}: {} member(s) —", members.len()));
                for m in members {
                    say(format!(
                        "  {} ({}) {} {}{}{}",
                        m.account,
                        m.nickname,
                        m.role.as_str(),
                        m.presence.as_str(),
                        self.avatar_mark(&m.account),
                        signature(&m.profile)
                    ));
                }
            }
            Event::MemberJoined(m) => say(format!("{} joined group {}", m.account, m.group)),
            Event::MemberLeft {
                group,
                account,
                reason,
            } => say(format!("{account} {} group {group}", reason.as_str())),
            Event::Profile { nickname } => say(format!("your nickname is now {nickname}")),
            Event::PasswordChanged => {
                say("your password was changed; your other devices were logged out")
            }
            Event::MyProfile(profile) => say(format!("your profile: {}", profile_text(&profile))),
            Event::UserProfile {
                account,
                nickname,
                profile,
            } => say(format!(
                "{account} ({nickname}): {}",
                profile_text(&profile)
            )),
            Event::Blocks(list) => {
                say(format!("— you block {} account(s) —", list.len()));
                for b in list {
                    say(format!("  {} ({})", b.account, b.nickname));
                }
            }
            Event::Blocked(b) => say(format!(
                "you block {} ({}): their private messages, files and friend requests no longer reach you",
                b.account, b.nickname
            )),
            Event::Unblocked { account } => say(format!("you no longer block {account}")),
            // The list is read from the local store when asked (/fgroups).
            Event::Categories(_) => {}
            Event::CategoryOrder(ids) => say(format!(
                "friend groups in order: {}",
                ids.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
            )),
            Event::CategoryChanged(c) => say(format!("friend group {}: {}", c.id, c.name)),
            Event::CategoryGone { category } => say(format!(
                "friend group {category} deleted; its friends are in the default group (0)"
            )),
            Event::Avatar { of, sha256 } => {
                let before = match &sha256 {
                    Some(sha) => self.avatars.insert(of.clone(), sha.clone()),
                    None => self.avatars.remove(&of),
                };
                // The lines after each list at login say what was so already; only a change is news.
                let mine = of == Conv::User(self.me.clone());
                if before != sha256 && (mine || before.is_some()) {
                    let who = if mine {
                        "your".to_owned()
                    } else {
                        format!("{}'s", conv_name(&of))
                    };
                    match sha256 {
                        Some(_) => say(format!("{who} avatar changed")),
                        None => say(format!("{who} avatar is the default one again")),
                    }
                }
            }
            // The picture itself: a terminal does not draw it.
            Event::AvatarImage { .. } => {}
            Event::MemberRole {
                group,
                account,
                role,
            } => say(format!("group {group}: {account} is now {}", role.as_str())),
            Event::MemberMuted {
                group,
                account,
                until: 0,
            } => say(format!("group {group}: {account} may speak again")),
            Event::MemberMuted {
                group,
                account,
                until,
            } => say(format!(
                "group {group}: {account} is muted until {}",
                clock(until, true)
            )),
            Event::GroupMutedAll { group, on } => say(if on {
                format!("group {group}: only the owner and admins may speak")
            } else {
                format!("group {group}: everyone may speak")
            }),
            Event::GroupNotice { group, text, .. } if text.is_empty() => {
                say(format!("group {group}: no announcement"))
            }
            Event::GroupNotice {
                group, by, text, ..
            } => say(format!("group {group}: announcement by {by}: {text}")),
            Event::JoinRequest { group, account, .. } => {
                say(format!("{account} asks to join group {group}"))
            }
            Event::JoinRequestClosed { group, account } => say(format!(
                "{account}'s request to join group {group} was answered"
            )),
            Event::JoinRequestSent { group } => say(format!(
                "your request to join group {group} went to its owner and admins"
            )),
            Event::JoinRequestDeclined { group } => {
                say(format!("your request to join group {group} was declined"))
            }
            Event::Recalled {
                conv,
                target,
                by,
                message,
                ..
            } => {
                let where_ = match &conv {
                    Conv::Group(id) => format!("[group {id}] "),
                    Conv::User(_) => String::new(),
                };
                // Whose message it was: the record says; a recalled message is its sender's.
                let original = match &message.recall_of {
                    Some(of) if !of.target_from.is_empty() => of.target_from.as_str(),
                    _ => message.from.as_str(),
                };
                if original == by {
                    say(format!(
                        "{where_}{} recalled a message (#{target})",
                        subject(&by, &self.me)
                    ));
                } else {
                    say(format!(
                        "{where_}{} recalled a message from {} (#{target})",
                        subject(&by, &self.me),
                        who(original, &self.me)
                    ));
                }
            }
            Event::GroupChange { message, .. } => say(message_line(&message, &self.me, false)),
            Event::RecallFailed { target, code, text } => {
                say(format!("cannot recall #{target} ({code}): {text}"))
            }
            Event::Typing { from } => {
                let now = std::time::Instant::now();
                let quiet = self
                    .typing_shown
                    .get(&from)
                    .is_none_or(|at| now.duration_since(*at) >= TYPING_QUIET);
                if quiet && self.current.as_ref() == Some(&Conv::User(from.clone())) {
                    say(format!("{from} is typing…"));
                    self.typing_shown.insert(from, now);
                }
            }
            Event::Error { code, text, about } => match about {
                Some(about) => say(format!("error ({code}) about {about}: {text}")),
                None => say(format!("error ({code}): {text}")),
            },
        }
        None
    }

    /// Ends a progress line on a terminal, so the next line does not overwrite it.
    fn end_progress(&mut self) {
        if std::mem::take(&mut self.progress_shown) {
            say("");
        }
    }

    fn send(&mut self, text: String) {
        match &self.current {
            Some(conv) => {
                self.handle.send_text(conv.clone(), text);
            }
            None => say("no chat selected: /msg <user> or /group <id> first"),
        }
    }

    fn switch(&mut self, conv: Conv) {
        if self.current.as_ref() != Some(&conv) {
            say(format!("now chatting with {}", conv_name(&conv)));
            self.handle.mark_read(conv.clone());
            self.current = Some(conv);
        }
    }

    /// Handles a typed line. Returns false on `/quit`.
    async fn on_line(&mut self, line: &str) -> bool {
        let input = match commands::parse(line) {
            Ok(input) => input,
            Err(e) => {
                say(e.to_string());
                return true;
            }
        };
        let h = self.handle.clone();
        let store = h.store();
        match input {
            Input::Empty => {}
            Input::Text(text) => self.send(text),
            Input::Msg { user, text } => {
                self.switch(Conv::User(user));
                if let Some(text) = text {
                    self.send(text);
                }
            }
            Input::Group { id, text } => {
                self.switch(Conv::Group(id));
                if let Some(text) = text {
                    self.send(text);
                }
            }
            Input::Friends => match store.friends().await {
                Ok(friends) => {
                    say(format!("— {} friend(s) —", friends.len()));
                    for f in friends {
                        say(format!(
                            "  {} ({}) {}{}{}",
                            f.account,
                            f.display_name(),
                            f.presence.as_str(),
                            self.avatar_mark(&f.account),
                            signature(&f.profile)
                        ));
                    }
                }
                Err(e) => say(format!("cannot read friends: {e}")),
            },
            Input::Groups => match store.groups().await {
                Ok(groups) => {
                    say(format!("— {} group(s) —", groups.len()));
                    for g in groups {
                        say(format!(
                            "  {}: {} (owner {}, {} members)",
                            g.id, g.name, g.owner, g.members
                        ));
                    }
                }
                Err(e) => say(format!("cannot read groups: {e}")),
            },
            Input::Add { user, note } => h.add_friend(user, note),
            Input::Accept(user) => h.accept_friend(user),
            Input::Reject(user) => h.reject_friend(user),
            Input::Remark { user, name } => h.set_remark(user, name),
            Input::SetProfile(change) => h.set_profile(change),
            Input::Profile(user) => h.get_profile(user),
            Input::Block(user) => h.block(user),
            Input::Unblock(user) => h.unblock(user),
            Input::Blocks => h.list_blocks(),
            Input::Categories => match (store.categories().await, store.friends().await) {
                (Ok(categories), Ok(friends)) => {
                    let default = (0, "我的好友 (My friends)".to_owned());
                    let all = std::iter::once(default)
                        .chain(categories.into_iter().map(|c| (c.id, c.name)));
                    for (id, name) in all {
                        let members: Vec<&str> = friends
                            .iter()
                            .filter(|f| f.category == id)
                            .map(|f| f.account.as_str())
                            .collect();
                        say(format!(
                            "  {id}: {name} ({}) {}",
                            members.len(),
                            members.join(" ")
                        ));
                    }
                }
                (Err(e), _) | (_, Err(e)) => say(format!("cannot read friend groups: {e}")),
            },
            Input::AddCategory(name) => h.add_category(name),
            Input::RenameCategory { id, name } => h.rename_category(id, name),
            Input::DeleteCategory(id) => h.delete_category(id),
            Input::OrderCategories(ids) => h.order_categories(ids),
            Input::MoveFriend { user, id } => h.move_friend(user, id),
            Input::Avatar(path) => {
                if let Some(image) = read_picture(path.as_deref()) {
                    h.set_avatar(image);
                }
            }
            Input::GroupAvatar { id, path } => {
                if let Some(image) = read_picture(path.as_deref()) {
                    h.set_group_avatar(id, image);
                }
            }
            Input::Del(user) => h.delete_friend(user),
            Input::Find(q) => h.find_user(q),
            Input::Create(name) => h.create_group(name),
            Input::Join(id) => h.join_group(id),
            Input::Leave(id) => h.leave_group(id),
            Input::Members(id) => h.list_members(id),
            Input::Invite { id, user } => h.invite(id, user),
            Input::Policy { id, policy } => h.set_group_policy(id, policy),
            Input::History(n) => match &self.current {
                None => say("no chat selected: /msg <user> or /group <id> first"),
                Some(conv) => match store.messages(conv.clone(), None, n).await {
                    Ok(messages) => {
                        say(format!(
                            "— last {} message(s) with {} —",
                            messages.len(),
                            conv_name(conv)
                        ));
                        for m in &messages {
                            say(message_line(m, &self.me, true));
                        }
                    }
                    Err(e) => say(format!("cannot read history: {e}")),
                },
            },
            Input::Search(q) => h.search(q),
            Input::SendFile(path) => match &self.current {
                None => say("no chat selected: /msg <user> or /group <id> first"),
                Some(conv) => {
                    let path = PathBuf::from(path);
                    say(format!(
                        "sending {} to {}…",
                        path.display(),
                        conv_name(conv)
                    ));
                    h.send_file(conv.clone(), path);
                }
            },
            Input::Get { file_id, dest } => {
                h.download_file(file_id, dest.map(PathBuf::from));
            }
            Input::Files => match &self.current {
                None => say("no chat selected: /msg <user> or /group <id> first"),
                Some(conv) => match store.files(conv.clone()).await {
                    Ok(files) => {
                        say(format!(
                            "— {} file(s) in {} —",
                            files.len(),
                            conv_name(conv)
                        ));
                        for m in &files {
                            say(message_line(m, &self.me, true));
                        }
                    }
                    Err(e) => say(format!("cannot read files: {e}")),
                },
            },
            Input::Reply { id, text } => {
                // The conversation is the quoted message's, if this device has it.
                let conv = match store.message_by_server_id(id).await {
                    Ok(Some(m)) => Some(m.conv),
                    _ => self.current.clone(),
                };
                match conv {
                    Some(conv) => {
                        h.send_reply(conv, Some(id), ququ_client::Mentions::default(), text);
                    }
                    None => say("no chat selected: /msg <user> or /group <id> first"),
                }
            }
            Input::Recall(id) => h.recall(id),
            Input::Retry => match self.last_failed.take() {
                Some(id) => h.retry(id),
                None => say("no failed message to retry"),
            },
            Input::Help => say(HELP),
            Input::Quit => return false,
        }
        true
    }
}

/// Reads standard input on a thread of its own (it blocks) and hands over whole lines; the channel closes
/// at end of input.
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    // From a terminal the password is read first and without echo; only then may the line reader start,
    // or it would race the prompt for the typed password and could send it as a chat message.
    let tty_password = if std::io::stdin().is_terminal() {
        match rpassword::prompt_password("password: ") {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("cannot read the password: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let mut lines = stdin_lines();
    let password = if let Some(p) = tty_password {
        p
    } else {
        match lines.recv().await {
            Some(p) => p,
            None => {
                eprintln!("no password on standard input");
                return ExitCode::FAILURE;
            }
        }
    };

    let data_dir = match ququ_client::config::resolve_data_dir(args.data_dir.as_deref()) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(given) = &args.trust {
        let Some(fingerprint) = ququ_protocol::fingerprint::normalize(given) else {
            eprintln!("--trust wants a SHA-256 fingerprint: 32 hex bytes, e.g. AB:CD:…");
            return ExitCode::FAILURE;
        };
        if let Err(e) = ququ_client::tls::trust(&data_dir, &args.server, &fingerprint) {
            eprintln!("cannot pin the fingerprint: {e}");
            return ExitCode::FAILURE;
        }
    }
    let mut config = Config::new(args.server.clone(), args.user.clone(), password)
        .register(args.register)
        .tls(args.tls || args.trust.is_some())
        .data_dir(data_dir.clone());
    config.nickname = args.nickname;
    say("type /help for commands");
    loop {
        let (handle, mut events) = match Client::start(config.clone()) {
            Ok(started) => started,
            Err(e) => {
                eprintln!("cannot start: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut term = Term {
            handle: handle.clone(),
            me: args.user.clone(),
            server: args.server.clone(),
            current: None,
            online: false,
            last_failed: None,
            shown_requests: Vec::new(),
            shown_waiting: Vec::new(),
            progress_shown: false,
            transfer_names: std::collections::HashMap::new(),
            tty: std::io::stdout().is_terminal(),
            typing_shown: std::collections::HashMap::new(),
            avatars: std::collections::HashMap::new(),
        };
        match chat(&mut term, &mut events, &mut lines).await {
            Ok(code) => return code,
            Err(StopReason::UnknownCertificate {
                server,
                fingerprint,
            }) => {
                if !ask_trust(&mut lines, &server, &fingerprint).await {
                    return ExitCode::FAILURE;
                }
                if let Err(e) = ququ_client::tls::trust(&data_dir, &server, &fingerprint) {
                    eprintln!("cannot pin the fingerprint: {e}");
                    return ExitCode::FAILURE;
                }
                // Account creation, if asked for, is done or will be retried by the fresh start.
                say(format!("pinned {server}; connecting again"));
            }
            Err(reason) => return exit_code(&reason),
        }
    }
}

/// The SSH-style question. Anything but `yes` is no.
async fn ask_trust(
    lines: &mut mpsc::UnboundedReceiver<String>,
    server: &str,
    fingerprint: &str,
) -> bool {
    say(format!(
        "The authenticity of {server} can't be established: its TLS certificate is not signed by a known \
         authority.\nCertificate SHA-256 fingerprint: {fingerprint}\n\
         Compare it with the one the server's operator gave you (`ququ-server` prints it at start).\n\
         Trust it and connect (yes/no)?"
    ));
    matches!(lines.recv().await.as_deref().map(str::trim), Some("yes"))
}

/// Runs one client until it stops or the user quits. `Err` is a stop the caller may act on.
async fn chat(
    term: &mut Term,
    events: &mut ququ_client::Events,
    lines: &mut mpsc::UnboundedReceiver<String>,
) -> Result<ExitCode, StopReason> {
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => {
                    if let Some(reason) = term.on_event(event) {
                        return match reason {
                            StopReason::Shutdown | StopReason::LoggedOut => Ok(exit_code(&reason)),
                            other => Err(other),
                        };
                    }
                }
                None => return Ok(ExitCode::FAILURE),
            },
            line = lines.recv() => match line {
                Some(line) => {
                    if !term.on_line(&line).await {
                        break;
                    }
                }
                // End of input is a /quit, but lines still in flight get their chance to be sent.
                None => break,
            },
        }
    }
    Ok(quit(term, events).await)
}

fn exit_code(reason: &StopReason) -> ExitCode {
    match reason {
        StopReason::Shutdown | StopReason::LoggedOut => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

/// Gives pending messages a few seconds to be acknowledged (they stay in the outbox otherwise), then stops.
async fn quit(term: &mut Term, events: &mut ququ_client::Events) -> ExitCode {
    // Offline, waiting cannot help: the outbox keeps them for next time.
    if !term.online {
        let pending = term.handle.store().pending().await.map_or(0, |p| p.len());
        if pending > 0 {
            say(format!(
                "{pending} message(s) not yet sent; they will be sent next time"
            ));
        }
        term.handle.shutdown();
        return drain(term, events).await;
    }
    let store = term.handle.store();
    let deadline = tokio::time::Instant::now() + FLUSH_WAIT;
    let mut poll = tokio::time::interval(Duration::from_millis(50));
    loop {
        tokio::select! {
            _ = poll.tick() => {
                let pending = store.pending().await.map(|p| p.len()).unwrap_or(0);
                if pending == 0 {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    say(format!("{pending} message(s) not yet sent; they will be sent next time"));
                    break;
                }
            }
            event = events.recv() => match event {
                Some(event) => {
                    if let Some(reason) = term.on_event(event) {
                        return exit_code(&reason);
                    }
                }
                None => return ExitCode::FAILURE,
            },
        }
    }
    term.handle.shutdown();
    drain(term, events).await
}

/// Shows the last events until the client has stopped.
async fn drain(term: &mut Term, events: &mut ququ_client::Events) -> ExitCode {
    while let Some(event) = events.recv().await {
        if let Some(reason) = term.on_event(event) {
            return exit_code(&reason);
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each change to a group reads as what happened, with `you` for me on either side.
    #[test]
    fn a_group_change_reads_as_what_happened() {
        use ququ_client::GroupEventKind as K;
        let said = |kind, by: &str, account: &str, value: &str| {
            let e = GroupEvent {
                id: 7,
                group: 3,
                by: by.into(),
                time: 1_000,
                kind,
                account: account.into(),
                value: value.into(),
            };
            change_words(&e, "carol")
        };
        assert_eq!(said(K::Invite, "alice", "bob", ""), "alice invited bob");
        assert_eq!(said(K::Invite, "alice", "carol", ""), "alice invited you");
        assert_eq!(said(K::Join, "bob", "bob", ""), "bob joined");
        assert_eq!(said(K::Join, "alice", "bob", ""), "alice let bob in");
        assert_eq!(said(K::Kick, "carol", "bob", ""), "you removed bob");
        assert_eq!(
            said(K::Admin, "alice", "bob", "off"),
            "alice made bob a plain member"
        );
        assert_eq!(said(K::Mute, "alice", "bob", "0"), "alice unmuted bob");
        assert_eq!(
            said(K::MuteAll, "alice", "", "on"),
            "alice muted the whole group"
        );
        assert_eq!(
            said(K::Notice, "alice", "", "周六出发\nbring water"),
            "alice set the announcement: 周六出发\n    bring water"
        );
        assert_eq!(
            said(K::Notice, "alice", "", ""),
            "alice cleared the announcement"
        );
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(visible("a\x1b[2Jb"), "a^[[2Jb");
        assert_eq!(
            visible("\x00\x07\x08\r\x1f\x7f\u{9b}x"),
            "^@^G^H^M^_^?<U+009B>x"
        );
        assert_eq!(
            visible("tab\there\nnext 你好 🐟"),
            "tab\there\nnext 你好 🐟"
        );
        assert!(matches!(visible("plain"), std::borrow::Cow::Borrowed(_)));
    }
}
