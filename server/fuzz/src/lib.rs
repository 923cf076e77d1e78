//! The model and the checks behind the `session_lines` fuzz target.
//!
//! This file is also compiled into `server/tests/session_props.rs` (via `#[path]`), so the same harness runs
//! on stable under `cargo test -p ququ-server` with proptest-generated inputs, and cannot rot while nobody
//! fuzzes.
//!
//! An input's bytes are decoded ([`decode`]) into a few [`Step`]s on up to three chat connections of a real
//! server, each logged in (by resume token, mostly) as one of the four [`ACCOUNTS`] or anonymous: raw bytes,
//! well-formed requests built from `ClientMessage` with fields drawn from what the server has handed out
//! (group ids, file ids, transfer tokens, earlier client ids, message ids, friend group ids, avatar
//! digests), over-long lines, reconnects, and uploads and downloads on data connections. The requests
//! cover every verb: the original ones, and the newer group management (admins, transfer, mutes, notice,
//! join policy and requests), `FEATURES:` (any subset), `SEND:` with quotes and mentions, `RECALL:`,
//! read marks, typing, profiles, blocking, friend groups and avatars (PNG, JPEG or neither, up to over
//! the `avatar` limit and, rarely, over the line cap). [`Harness::run`] plays them and checks:
//!
//! - every line the server sends is UTF-8 and parses as a `ServerMessage`, and none is `ERROR:internal`;
//! - a chat connection closes only for a documented reason: `LOGOUT` (`BYE:logged_out`), a line over the cap
//!   (`ERROR:line_too_long`), a `FILE_PUT:`/`FILE_GET:` line before login (a data connection), or the
//!   account's password changed on another connection or by the operator (`BYE:password_changed`);
//! - a message is pushed to each connection at most once;
//! - one (sender, client id) is only ever acknowledged with one message id, and a private message
//!   (`MSG:` or `SEND:`) acknowledged to its sender is in its recipient's `SYNC:` exactly once, from that
//!   sender, with that client id — or, if the recipient blocked the sender then, not at all; or, if the
//!   sender recalled it since, not at all and its `RECALLED:` once;
//! - an upload the server confirms is, for its recipient, exactly one file offer in the conversation (at
//!   most one if the recipient blocks the sender), and a download returns exactly the bytes that were
//!   uploaded;
//! - afterwards a fresh connection's `PING` is answered (the server still serves).
//!
//! A failed check panics (the fuzzer's finding). The server keeps its state between inputs, like a real one,
//! except that blocks among the fixture accounts are undone after each input.
//!
//! The byte-to-request decoding changed when the newer verbs were added (`Input::req` picks from 80 rather
//! than 48), so the committed corpus decodes into other sessions than the ones it was found with; its inputs
//! are still valid seeds.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;

use ququ_protocol::{
    ClientMessage, Conv, ErrorCode, Features, FileState, Gender, JoinPolicy, Mentions,
    ProfileChange, ServerMessage,
};

/// The accounts every input can act as; all share [`PASSWORD`].
pub const ACCOUNTS: [&str; 4] = ["fz-alice", "fz-bob", "fz-carol", "fz-dave"];
pub const PASSWORD: &str = "password";
/// Chat connections per input.
const CONNS: usize = 3;
const MAX_STEPS: usize = 40;
/// How long the harness waits for an answer before deciding the server stopped answering.
const WAIT: Duration = Duration::from_secs(30);
/// Nonces of the harness's own `PING`s; inputs' `PING`s stay below.
const NONCE_BASE: u64 = 1 << 62;

/// The server settings for fuzzing: no throttling or rate limit (the harness logs in and sends a lot from
/// one address), `Durability::Normal`, no sweeper noise, a quota that does not run out.
pub fn config(data_dir: &Path) -> ququ_server::Config {
    let mut config = ququ_server::Config::new(data_dir);
    config.durability = ququ_server::Durability::Normal;
    config.limits.rate = 0;
    config.limits.actions = 0;
    config.limits.groups = u32::MAX;
    config.file_quota = 1 << 50;
    config.file_sweep_every = Duration::from_secs(24 * 3600);
    let t = &mut config.throttle;
    t.ip_block_after = u32::MAX;
    t.account_delay_after = u32::MAX;
    t.registrations_per_ip = u32::MAX;
    config
}

// ---- the input model ----

/// One thing an input does.
#[derive(Debug, Clone)]
pub enum Step {
    /// A request (or raw bytes) on chat connection `conn`, which is opened first if needed.
    Chat { conn: usize, req: Req },
    /// Close chat connection `conn` and open it again as `who`.
    Reconnect { conn: usize, who: Ident },
    /// Upload on a data connection with a `FILE_UPLOAD:` token handed out earlier; `cut` sends only part.
    Upload {
        pick: usize,
        cut: Option<u8>,
        bad_offset: bool,
    },
    /// Download on a data connection with a `FILE_DOWNLOAD:` token handed out earlier, from `offset`.
    Download { pick: usize, offset: u8 },
}

/// Who a chat connection logs in as when it opens.
#[derive(Debug, Clone, Copy)]
pub enum Ident {
    /// `RESUME:` with the account's token (cheap).
    Resume(usize),
    /// `LOGIN:` with the password (an Argon2 hash: slow, so rarer).
    Password(usize),
    Anonymous,
}

#[derive(Debug, Clone)]
pub enum Who {
    Fixture(usize),
    Name(String),
}

#[derive(Debug, Clone)]
pub enum GroupRef {
    /// One the server has told this harness about (created, joined, listed).
    Seen(usize),
    Num(u64),
}

#[derive(Debug, Clone)]
pub enum FileRef {
    Seen(usize),
    Num(u64),
}

/// A message id: one the server has handed out (acknowledged or pushed), or a small number.
#[derive(Debug, Clone)]
pub enum MsgRef {
    Seen(usize),
    /// One of the last few handed out (what a real client recalls, quotes or marks read).
    Recent(usize),
    Num(u64),
}

/// A friend group (好友分组) id: one the server has handed out, or a number.
#[derive(Debug, Clone)]
pub enum CatRef {
    Seen(usize),
    Num(u64),
}

/// An avatar picture: a PNG or JPEG signature (or neither) followed by `len` bytes of junk.
#[derive(Debug, Clone)]
pub struct Image {
    /// 0: PNG, 1: JPEG, 2: no signature, 3: a signature cut short.
    pub kind: u8,
    pub len: usize,
    pub fill: u8,
}

/// An avatar digest to ask for: one the server has named in `AVATAR_OF:`, or any text.
#[derive(Debug, Clone)]
pub enum AvatarRef {
    Seen(usize),
    Text(String),
}

#[derive(Debug, Clone)]
pub enum ConvRef {
    User(Who),
    Group(GroupRef),
}

#[derive(Debug, Clone)]
pub enum ClientId {
    /// Never used before by this harness.
    Fresh,
    /// The last client id this input used (a resend, or reuse for something else).
    Last,
    Text(String),
}

/// A request on a chat connection.
#[derive(Debug, Clone)]
pub enum Req {
    /// Arbitrary bytes, then `\n` (they may hold several lines).
    Raw(Vec<u8>),
    /// A line one byte over the cap.
    TooLong,
    Resume(usize),
    Login(Who, bool),
    Register(String, String, Option<String>),
    Logout,
    Ping(u64),
    Pong(u64),
    SetNick(String),
    /// With the right old password the new one is the same, so the accounts stay usable.
    Passwd(bool, String),
    Find(String),
    AddFriend(Who, String),
    Accept(Who),
    Reject(Who),
    DelFriend(Who),
    Remark(Who, String),
    Friends,
    Requests,
    Msg(Who, ClientId, String),
    GroupMsg(GroupRef, ClientId, String),
    Sync(u64, u32),
    History(ConvRef, u64, u32),
    GroupCreate(String),
    Join(GroupRef),
    Leave(GroupRef),
    Invite(GroupRef, Who),
    Kick(GroupRef, Who),
    Dissolve(GroupRef),
    Rename(GroupRef, String),
    Members(GroupRef),
    Groups,
    /// A file offer; `lie` sends a size or digest that does not match `content`.
    Offer {
        to: ConvRef,
        client_id: ClientId,
        content: Vec<u8>,
        lie: u8,
        name: String,
    },
    FileAccept(FileRef),
    FileReject(FileRef),
    FileCancel(FileRef),
    /// `FILE_PUT:`/`FILE_GET:` on a chat connection, with a made-up token.
    DataLine(bool, String, u64),
    // The verbs added after the original ones (`SetGroupAdmin` on in `ClientMessage`).
    SetAdmin(GroupRef, Who, bool),
    Transfer(GroupRef, Who),
    Mute(GroupRef, Who, u64),
    MuteAll(GroupRef, Option<bool>),
    Notice(GroupRef, Option<String>),
    AnswerJoin(GroupRef, Who, bool),
    JoinRequests,
    Policy(GroupRef, Option<JoinPolicy>),
    Features(Features),
    /// `SEND:` with an optional quote and mentions (`*` for `@all`).
    Send {
        to: ConvRef,
        client_id: ClientId,
        reply_to: Option<MsgRef>,
        all: bool,
        mentions: Vec<Who>,
        text: String,
    },
    Recall(MsgRef),
    Read(ConvRef, MsgRef),
    Reads,
    Typing(Who),
    SetProfile(ProfileChange),
    GetProfile(Option<Who>),
    /// `BLOCK:` — the harness keeps track of who blocks whom among the fixture accounts (see
    /// [`Harness::blocks`]).
    Block(Who),
    Unblock(Who),
    Blocks,
    Categories,
    AddCategory(String),
    RenameCategory(CatRef, String),
    DeleteCategory(CatRef),
    MoveFriend(Who, CatRef),
    /// `Some(turn)`: every friend group of mine the harness knows of, turned round by `turn` (reversed when
    /// odd); `None`: the ids listed.
    OrderCategories(Option<u8>, Vec<CatRef>),
    SetAvatar(Image),
    SetGroupAvatar(GroupRef, Image),
    GetAvatar(AvatarRef),
}

/// Reads choices off the input's bytes; past the end every choice is 0.
struct Input<'a>(&'a [u8]);

/// Characters that stress fields: the escaped four, `%` escapes, separators, CJK, emoji, controls.
const CHARS: &[char] = &[
    'a', 'b', 'z', 'Q', '0', '7', ':', '%', '2', '5', 'A', 'f', '\r', '\n', ' ', '\t', '你', '好',
    '😀', '\u{0}', '\u{7f}', '/', '\\', '.', '-', '_', '=', ',', '\u{200b}', 'é',
];

impl Input<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn below(&mut self, n: usize) -> usize {
        self.byte() as usize % n
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head.to_vec()
    }

    fn u64(&mut self) -> u64 {
        match self.below(6) {
            0 => 0,
            1 => 1 + self.below(4) as u64,
            2 => u64::MAX,
            3 => self.byte() as u64,
            4 => u64::from(u32::MAX) + 1,
            _ => u64::from_le_bytes(std::array::from_fn(|_| self.byte())),
        }
    }

    fn u32(&mut self) -> u32 {
        match self.below(4) {
            0 => 0,
            1 => self.byte() as u32,
            2 => u32::MAX,
            _ => 1 + self.below(3) as u32,
        }
    }

    /// A short string of stressful characters; now and then one over the server's limits.
    fn text(&mut self) -> String {
        match self.below(16) {
            0 => "x".repeat(33),
            1 => "长".repeat(8001),
            2 => String::new(),
            _ => {
                let n = self.below(12);
                (0..n).map(|_| CHARS[self.below(CHARS.len())]).collect()
            }
        }
    }

    /// Plain printable text, as a real client would send.
    fn plain(&mut self) -> String {
        let n = 1 + self.below(10);
        (0..n)
            .map(|_| (b'a' + self.below(26) as u8) as char)
            .collect()
    }

    fn who(&mut self) -> Who {
        match self.below(8) {
            0..=5 => Who::Fixture(self.below(ACCOUNTS.len())),
            6 => Who::Name(self.plain()),
            _ => Who::Name(self.text()),
        }
    }

    fn group(&mut self) -> GroupRef {
        match self.below(5) {
            0..=3 => GroupRef::Seen(self.byte() as usize),
            _ => GroupRef::Num(self.u64()),
        }
    }

    fn file(&mut self) -> FileRef {
        match self.below(5) {
            0..=3 => FileRef::Seen(self.byte() as usize),
            _ => FileRef::Num(self.u64()),
        }
    }

    fn conv(&mut self) -> ConvRef {
        if self.below(2) == 0 {
            ConvRef::User(self.who())
        } else {
            ConvRef::Group(self.group())
        }
    }

    fn client_id(&mut self) -> ClientId {
        match self.below(8) {
            0..=4 => ClientId::Fresh,
            5 | 6 => ClientId::Last,
            _ => ClientId::Text(self.text()),
        }
    }

    fn message_text(&mut self) -> String {
        if self.below(4) == 0 {
            self.text()
        } else {
            self.plain()
        }
    }

    fn ident(&mut self) -> Ident {
        match self.below(12) {
            0..=9 => Ident::Resume(self.below(ACCOUNTS.len())),
            10 => Ident::Anonymous,
            _ => Ident::Password(self.below(ACCOUNTS.len())),
        }
    }

    fn msg(&mut self) -> MsgRef {
        match self.below(4) {
            0 => MsgRef::Seen(self.byte() as usize),
            1 | 2 => MsgRef::Recent(self.below(4)),
            _ => MsgRef::Num(self.u64()),
        }
    }

    fn category(&mut self) -> CatRef {
        match self.below(4) {
            0..=2 => CatRef::Seen(self.byte() as usize),
            _ => CatRef::Num(self.u64()),
        }
    }

    /// A picture for `SET_AVATAR:`/`GROUP_AVATAR:`: mostly small, now and then right at, over, or far over
    /// the `avatar` limit (32768 bytes), rarely so big its base64 is over the line cap.
    fn image(&mut self) -> Image {
        let kind = self.below(4) as u8;
        let len = match self.below(16) {
            0..=9 => self.below(64),
            10 | 11 => 32767 + self.below(3),
            12 => 0,
            13 => 40_000,
            14 => 49_500,
            _ => self.byte() as usize * 64,
        };
        Image {
            kind,
            len,
            fill: self.byte(),
        }
    }

    fn features(&mut self) -> Features {
        if self.below(4) == 0 {
            return Features::ALL;
        }
        let bits = u16::from_le_bytes([self.byte(), self.byte()]);
        let all = Features::ALL.to_field();
        let names: Vec<&str> = all
            .split(',')
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, name)| name)
            .collect();
        Features::from_field(&names.join(","))
    }

    fn req(&mut self) -> Req {
        // Widened from 48 when the newer verbs came (48 on): the committed corpus still decodes, into other
        // requests than it was found with, and stays as seeds.
        match self.below(80) {
            0..=5 => {
                let n = self.byte() as usize;
                Req::Raw(self.take(n))
            }
            6 => Req::TooLong,
            7 => Req::Resume(self.below(ACCOUNTS.len())),
            8 => {
                let right = self.below(2) == 0;
                Req::Login(self.who(), right)
            }
            9 => {
                let (name, pw) = (self.plain(), self.text());
                let nick = (self.below(2) == 0).then(|| self.text());
                Req::Register(name, pw, nick)
            }
            10 => Req::Logout,
            11 => Req::Ping(self.u64() % NONCE_BASE),
            12 => Req::Pong(self.u64()),
            13 => Req::SetNick(self.text()),
            14 => {
                let right = self.below(2) == 0;
                Req::Passwd(right, self.text())
            }
            15 => Req::Find(self.text()),
            16 | 17 => Req::AddFriend(self.who(), self.text()),
            18 | 19 => Req::Accept(self.who()),
            20 => Req::Reject(self.who()),
            21 => Req::DelFriend(self.who()),
            22 => Req::Remark(self.who(), self.text()),
            23 => Req::Friends,
            24 => Req::Requests,
            25..=28 => Req::Msg(self.who(), self.client_id(), self.message_text()),
            29 | 30 => Req::GroupMsg(self.group(), self.client_id(), self.message_text()),
            31 => Req::Sync(self.u64(), self.u32()),
            32 => Req::History(self.conv(), self.u64(), self.u32()),
            33 => Req::GroupCreate(self.message_text()),
            34 => Req::Join(self.group()),
            35 => Req::Leave(self.group()),
            36 => Req::Invite(self.group(), self.who()),
            37 => Req::Kick(self.group(), self.who()),
            38 => Req::Dissolve(self.group()),
            39 => Req::Rename(self.group(), self.text()),
            40 => Req::Members(self.group()),
            41 => Req::Groups,
            42 | 43 => {
                let to = self.conv();
                let client_id = self.client_id();
                let n = self.below(48);
                let content = self.take(n);
                let lie = if self.below(4) == 0 { self.byte() } else { 0 };
                let name = if self.below(4) == 0 {
                    self.text()
                } else {
                    self.plain()
                };
                Req::Offer {
                    to,
                    client_id,
                    content,
                    lie,
                    name,
                }
            }
            44 => Req::FileAccept(self.file()),
            45 => Req::FileReject(self.file()),
            46 => Req::FileCancel(self.file()),
            47 => {
                let put = self.below(2) == 0;
                Req::DataLine(put, self.text(), self.u64())
            }
            48 => {
                let (g, who) = (self.group(), self.who());
                Req::SetAdmin(g, who, self.below(2) == 0)
            }
            49 => Req::Transfer(self.group(), self.who()),
            50 => {
                let (g, who) = (self.group(), self.who());
                let seconds = match self.below(3) {
                    0 => 0,
                    1 => 60,
                    _ => self.u64(),
                };
                Req::Mute(g, who, seconds)
            }
            51 => {
                let g = self.group();
                let on = match self.below(3) {
                    0 => None,
                    n => Some(n == 1),
                };
                Req::MuteAll(g, on)
            }
            52 => {
                let g = self.group();
                let text = (self.below(2) == 0).then(|| self.message_text());
                Req::Notice(g, text)
            }
            53 => {
                let (g, who) = (self.group(), self.who());
                Req::AnswerJoin(g, who, self.below(2) == 0)
            }
            54 => Req::JoinRequests,
            55 => {
                let g = self.group();
                let policy = match self.below(4) {
                    0 => None,
                    1 => Some(JoinPolicy::Invite),
                    2 => Some(JoinPolicy::Open),
                    _ => Some(JoinPolicy::Approve),
                };
                Req::Policy(g, policy)
            }
            56 => Req::Features(self.features()),
            57..=59 => {
                let to = self.conv();
                let client_id = self.client_id();
                let reply_to = (self.below(2) == 0).then(|| self.msg());
                // Mentions are for group messages; to a person only now and then (refused).
                let mentioning = match to {
                    ConvRef::Group(_) => self.below(2) == 0,
                    ConvRef::User(_) => self.below(8) == 0,
                };
                let all = mentioning && self.below(3) == 0;
                let n = if mentioning { self.below(4) } else { 0 };
                let mentions = (0..n).map(|_| self.who()).collect();
                Req::Send {
                    to,
                    client_id,
                    reply_to,
                    all,
                    mentions,
                    text: self.message_text(),
                }
            }
            60 | 61 => Req::Recall(self.msg()),
            62 => Req::Read(self.conv(), self.msg()),
            63 => Req::Reads,
            64 => Req::Typing(self.who()),
            65 => Req::SetProfile(match self.below(3) {
                0 => ProfileChange::Signature(self.message_text()),
                1 => ProfileChange::Region(self.text()),
                _ => ProfileChange::Gender(match self.below(4) {
                    0 => None,
                    1 => Some(Gender::Male),
                    2 => Some(Gender::Female),
                    _ => Some(Gender::Other),
                }),
            }),
            66 => Req::GetProfile((self.below(3) != 0).then(|| self.who())),
            67 => Req::Block(self.who()),
            68 => Req::Unblock(self.who()),
            69 => Req::Blocks,
            70 => Req::Categories,
            71 => Req::AddCategory(self.message_text()),
            72 => Req::RenameCategory(self.category(), self.message_text()),
            73 => Req::DeleteCategory(self.category()),
            74 => Req::MoveFriend(self.who(), self.category()),
            75 => {
                // Mostly every one of mine in some order (what the server accepts), else any list.
                if self.below(2) == 0 {
                    Req::OrderCategories(Some(self.byte()), Vec::new())
                } else {
                    let n = self.below(6);
                    Req::OrderCategories(None, (0..n).map(|_| self.category()).collect())
                }
            }
            76 | 77 => Req::SetAvatar(self.image()),
            78 => Req::SetGroupAvatar(self.group(), self.image()),
            _ => Req::GetAvatar(if self.below(4) == 0 {
                AvatarRef::Text(self.text())
            } else {
                AvatarRef::Seen(self.byte() as usize)
            }),
        }
    }

    fn step(&mut self) -> Step {
        match self.below(16) {
            0..=11 => Step::Chat {
                conn: self.below(CONNS),
                req: self.req(),
            },
            12 => Step::Reconnect {
                conn: self.below(CONNS),
                who: self.ident(),
            },
            13 | 14 => Step::Upload {
                pick: self.byte() as usize,
                cut: (self.below(4) == 0).then(|| self.byte()),
                bad_offset: self.below(8) == 0,
            },
            _ => Step::Download {
                pick: self.byte() as usize,
                offset: if self.below(2) == 0 { 0 } else { self.byte() },
            },
        }
    }
}

/// An input's identities for the chat connections, then its steps.
pub fn decode(data: &[u8]) -> ([Ident; CONNS], Vec<Step>) {
    let mut input = Input(data);
    let idents = std::array::from_fn(|_| input.ident());
    let mut steps = Vec::new();
    while !input.is_empty() && steps.len() < MAX_STEPS {
        steps.push(input.step());
    }
    (idents, steps)
}

// ---- playing an input ----

/// What a chat connection's reader task hands over.
#[derive(Debug)]
enum Event {
    Line(String),
    NotUtf8(Vec<u8>),
    End,
}

/// One open chat connection.
#[derive(Debug)]
struct Chat {
    writer: OwnedWriteHalf,
    events: mpsc::UnboundedReceiver<Event>,
    /// The account it is logged in as.
    user: Option<String>,
    /// How often each message id has been pushed to it.
    pushed: HashMap<u64, u32>,
}

/// Why a step's lines ended.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// Our `PONG` came back: the connection carries on.
    Answered,
    Closed,
}

/// A file offer this harness made honestly (the declared size and digest are the bytes').
#[derive(Debug, Clone)]
struct Offered {
    content: Vec<u8>,
    /// (sender, recipient) when the offer was to a fixture account.
    between: Option<(String, String)>,
    /// (sender, client id).
    key: Option<(String, String)>,
}

/// A private message to check once the input is done.
#[derive(Debug)]
struct Delivery {
    id: u64,
    from: String,
    to: String,
    client_id: String,
    /// Its recipient blocked its sender when it was acknowledged: stored for the sender only.
    hidden: bool,
}

/// The running server, the fixture accounts and what the server has handed out so far.
#[derive(Debug)]
pub struct Harness {
    addr: SocketAddr,
    db: PathBuf,
    tokens: HashMap<String, String>,
    groups: Vec<u64>,
    files: Vec<u64>,
    /// `FILE_UPLOAD:` grants: (file, token, offset).
    uploads: Vec<(u64, String, u64)>,
    downloads: Vec<(u64, String, u64)>,
    /// Bytes of files uploaded whole and verified by the server.
    contents: HashMap<u64, Vec<u8>>,
    /// Files offered honestly, by file id.
    offered: HashMap<u64, Offered>,
    /// Every (sender, client id) known to be stored, with the message id it was acknowledged with (`None`:
    /// an upload completed, and its `ACK:` went to sessions the harness was not watching).
    acked: HashMap<(String, String), Option<u64>>,
    /// Message ids the server has handed out (acknowledged or pushed), for `SEND:` quotes, `RECALL:` and
    /// `READ:`.
    messages: Vec<u64>,
    /// Friend groups (好友分组) the server has named, with whose they are.
    categories: Vec<(String, u64)>,
    /// Avatar digests the server has named (`AVATAR_OF:`, `AVATAR:`).
    avatars: Vec<String>,
    /// (blocker, blocked) among the fixture accounts, as the server's `BLOCKED:`/`UNBLOCKED:` lines said.
    /// A private message or file between such a pair is kept from its recipient (docs/protocol.md), so
    /// the delivery checks expect it not to arrive rather than once.
    blocks: HashSet<(String, String)>,
    next_id: u64,
    nonce: u64,
    /// Inputs played so far.
    pub inputs: u64,
}

/// Reads a chat connection into a channel, so the server is never blocked by a harness that is busy
/// writing.
fn spawn_reader(read: tokio::net::tcp::OwnedReadHalf) -> mpsc::UnboundedReceiver<Event> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut read = BufReader::new(read);
        loop {
            let mut buf = Vec::new();
            match read.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = tx.send(Event::End);
                    return;
                }
                Ok(_) => {
                    if buf.last() == Some(&b'\n') {
                        buf.pop();
                    }
                    let event = match String::from_utf8(buf) {
                        Ok(line) => Event::Line(line),
                        Err(e) => Event::NotUtf8(e.into_bytes()),
                    };
                    if tx.send(event).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// Parses a server line; panics if it does not parse or reports an internal failure.
fn check_line(line: &str) -> ServerMessage {
    let msg = ServerMessage::parse(line)
        .unwrap_or_else(|e| panic!("the server sent a line that does not parse ({e}): {line:?}"));
    if let ServerMessage::Error {
        code: ErrorCode::Internal,
        ..
    } = &msg
    {
        panic!("the server failed internally: {line:?}");
    }
    msg
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Does a line the server will read as a request ask for a data connection?
fn is_data_line(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    std::str::from_utf8(line).is_ok_and(|l| {
        matches!(
            ClientMessage::parse(l),
            Ok(ClientMessage::FilePut { .. } | ClientMessage::FileGet { .. })
        )
    })
}

impl Harness {
    /// Creates the fixture on a fresh server at `addr` whose database is at `db`: four accounts, friendships
    /// alice–bob, alice–carol and bob–carol (dave is everyone's stranger), a group of alice's with bob and
    /// carol in it, and one of dave's.
    pub async fn setup(addr: SocketAddr, db: PathBuf) -> Harness {
        let mut h = Harness {
            addr,
            db,
            tokens: HashMap::new(),
            groups: Vec::new(),
            files: Vec::new(),
            uploads: Vec::new(),
            downloads: Vec::new(),
            contents: HashMap::new(),
            offered: HashMap::new(),
            acked: HashMap::new(),
            messages: Vec::new(),
            categories: Vec::new(),
            avatars: Vec::new(),
            blocks: HashSet::new(),
            next_id: 0,
            nonce: NONCE_BASE,
            inputs: 0,
        };
        let mut peers = Vec::new();
        for account in ACCOUNTS {
            let mut p = Line::connect(addr).await;
            p.send(&format!("RESIGER:{account}:{PASSWORD}")).await;
            let reply = p.until("RESIGER:").await;
            assert_eq!(reply, format!("RESIGER:true:{account}"));
            p.send(&format!("LOGIN:{account}:{PASSWORD}")).await;
            let token = token_of(&p.until("LOGIN:").await);
            h.tokens.insert(account.to_owned(), token);
            peers.push(p);
        }
        for (a, b) in [(0, 1), (0, 2), (1, 2)] {
            peers[a]
                .send(&format!("ADD_FRIEND:{}:hi", ACCOUNTS[b]))
                .await;
            peers[a].until("REQUEST_SENT:").await;
            peers[b]
                .send(&format!("ACCEPT_FRIEND:{}", ACCOUNTS[a]))
                .await;
            peers[b].until(&format!("FRIEND:{}:", ACCOUNTS[a])).await;
        }
        for (owner, name, invite) in [(0, "lunch", &[1, 2][..]), (3, "dave's", &[][..])] {
            peers[owner].send(&format!("GROUP_CREATE:{name}")).await;
            let info = peers[owner].until("GROUP_INFO:").await;
            let group: u64 = info.split(':').nth(1).unwrap().parse().unwrap();
            for &m in invite {
                peers[owner]
                    .send(&format!("GROUP_INVITE:{group}:{}", ACCOUNTS[m]))
                    .await;
                peers[m].until(&format!("GROUP_INFO:{group}:")).await;
            }
            h.groups.push(group);
        }
        h
    }

    /// Plays one input and checks everything listed in the module docs. Panics on a failed check.
    pub async fn run(&mut self, data: &[u8]) {
        self.inputs += 1;
        let (idents, steps) = decode(data);
        let mut conns: [Option<Chat>; CONNS] = Default::default();
        let mut deliveries = Vec::new();
        let mut last_client_id: Option<String> = None;
        for step in steps {
            match step {
                Step::Chat { conn, req } => {
                    if conns[conn].is_none() {
                        conns[conn] = Some(self.open(idents[conn]).await);
                    }
                    let chat = conns[conn].as_mut().expect("open");
                    let closed = self
                        .chat(chat, req, &mut last_client_id, &mut deliveries)
                        .await;
                    if closed {
                        conns[conn] = None;
                    }
                }
                Step::Reconnect { conn, who } => {
                    conns[conn] = None;
                    conns[conn] = Some(self.open(who).await);
                }
                Step::Upload {
                    pick,
                    cut,
                    bad_offset,
                } => self.upload(pick, cut, bad_offset).await,
                Step::Download { pick, offset } => self.download(pick, offset).await,
            }
        }
        // Whatever is still queued for the open connections must parse too.
        for chat in conns.iter_mut().flatten() {
            self.chat(chat, Req::Ping(0), &mut None, &mut deliveries)
                .await;
        }
        drop(conns);
        for d in deliveries {
            self.check_delivery(d).await;
        }
        // Blocks among the fixture accounts are undone after each input, as `reset_password` undoes a
        // password: left to pile up they would keep most private messages from their recipients, and the
        // delivery checks would see ever fewer deliveries.
        let mut blocks: Vec<_> = self.blocks.iter().cloned().collect();
        blocks.sort();
        for (blocker, blocked) in blocks {
            let mut p = self.checker(&blocker).await;
            p.send(&format!("UNBLOCK:{blocked}")).await;
            p.until(&format!("UNBLOCKED:{blocked}")).await;
            self.blocks.remove(&(blocker, blocked));
        }
        // The server still serves a newcomer.
        let mut fresh = Line::connect(self.addr).await;
        fresh.send("PING:4242").await;
        assert_eq!(
            fresh.recv().await,
            "PONG:4242",
            "a fresh client got no PONG"
        );
        // Keep what is handed out from growing without bound over a long fuzzing run.
        for list in [&mut self.groups] {
            if list.len() > 64 {
                list.drain(2..list.len() - 32);
            }
        }
        if self.files.len() > 64 {
            self.files.drain(..32);
        }
        if self.uploads.len() > 64 {
            self.uploads.drain(..32);
        }
        if self.downloads.len() > 64 {
            self.downloads.drain(..32);
        }
        if self.contents.len() > 256 {
            self.contents.clear();
        }
        if self.offered.len() > 256 {
            self.offered.clear();
        }
        for list in [&mut self.messages] {
            if list.len() > 64 {
                list.drain(..32);
            }
        }
        if self.categories.len() > 64 {
            self.categories.drain(..32);
        }
        if self.avatars.len() > 64 {
            self.avatars.drain(..32);
        }
    }

    /// Opens a chat connection and logs it in as `who`.
    async fn open(&mut self, who: Ident) -> Chat {
        let socket = TcpStream::connect(self.addr).await.expect("connect");
        let (read, writer) = socket.into_split();
        let mut chat = Chat {
            writer,
            events: spawn_reader(read),
            user: None,
            pushed: HashMap::new(),
        };
        match who {
            Ident::Anonymous => {}
            Ident::Resume(k) => {
                let mut sink = Vec::new();
                let closed = self
                    .chat(&mut chat, Req::Resume(k), &mut None, &mut sink)
                    .await;
                assert!(!closed, "RESUME closed the connection");
                if chat.user.is_none() {
                    // The token was revoked (LOGOUT, PASSWD): log in and keep the new one.
                    let account = ACCOUNTS[k];
                    self.chat(
                        &mut chat,
                        Req::Login(Who::Fixture(k), true),
                        &mut None,
                        &mut sink,
                    )
                    .await;
                    if chat.user.is_none() {
                        self.reset_password(account);
                        self.chat(
                            &mut chat,
                            Req::Login(Who::Fixture(k), true),
                            &mut None,
                            &mut sink,
                        )
                        .await;
                    }
                    assert_eq!(
                        chat.user.as_deref(),
                        Some(account),
                        "cannot log in as {account}"
                    );
                }
            }
            Ident::Password(k) => {
                let mut sink = Vec::new();
                self.chat(
                    &mut chat,
                    Req::Login(Who::Fixture(k), true),
                    &mut None,
                    &mut sink,
                )
                .await;
                if chat.user.is_none() {
                    self.reset_password(ACCOUNTS[k]);
                    self.chat(
                        &mut chat,
                        Req::Login(Who::Fixture(k), true),
                        &mut None,
                        &mut sink,
                    )
                    .await;
                }
            }
        }
        chat
    }

    /// An input managed to change a fixture account's password (raw `PASSWD:` lines can): set it back, as
    /// the operator would.
    fn reset_password(&self, account: &str) {
        let store = ququ_server::SqliteStore::open(&self.db, ququ_server::Durability::Normal)
            .expect("open the database beside the server");
        ququ_server::admin::reset_password(&store, account, PASSWORD).expect("reset password");
    }

    fn who(&self, who: &Who) -> String {
        match who {
            Who::Fixture(k) => ACCOUNTS[*k].to_owned(),
            Who::Name(name) => name.clone(),
        }
    }

    fn group(&self, g: &GroupRef) -> u64 {
        match g {
            GroupRef::Seen(i) if !self.groups.is_empty() => self.groups[i % self.groups.len()],
            GroupRef::Seen(i) => *i as u64,
            GroupRef::Num(n) => *n,
        }
    }

    fn file(&self, f: &FileRef) -> u64 {
        match f {
            FileRef::Seen(i) if !self.files.is_empty() => self.files[i % self.files.len()],
            FileRef::Seen(i) => *i as u64,
            FileRef::Num(n) => *n,
        }
    }

    fn message(&self, m: &MsgRef) -> u64 {
        match m {
            MsgRef::Seen(i) if !self.messages.is_empty() => self.messages[i % self.messages.len()],
            MsgRef::Recent(i) if *i < self.messages.len() => {
                self.messages[self.messages.len() - 1 - i]
            }
            MsgRef::Seen(i) | MsgRef::Recent(i) => *i as u64,
            MsgRef::Num(n) => *n,
        }
    }

    fn category(&self, c: &CatRef) -> u64 {
        match c {
            CatRef::Seen(i) if !self.categories.is_empty() => {
                self.categories[i % self.categories.len()].1
            }
            CatRef::Seen(i) => *i as u64,
            CatRef::Num(n) => *n,
        }
    }

    fn image(image: &Image) -> Vec<u8> {
        let signature: &[u8] = match image.kind {
            0 => b"\x89PNG\r\n\x1a\n",
            1 => b"\xff\xd8\xff",
            2 => b"GIF89a",
            _ => b"\x89PN",
        };
        let mut bytes = signature.to_vec();
        bytes.extend((0..image.len).map(|i| image.fill.wrapping_add(i as u8)));
        bytes.truncate(image.len);
        bytes
    }

    fn conv(&self, c: &ConvRef) -> Conv {
        match c {
            ConvRef::User(who) => Conv::User(self.who(who)),
            ConvRef::Group(g) => Conv::Group(self.group(g)),
        }
    }

    fn client_id(&mut self, c: &ClientId, last: &mut Option<String>) -> String {
        let id = match (c, &last) {
            (ClientId::Text(t), _) => t.clone(),
            (ClientId::Last, Some(l)) => l.clone(),
            (ClientId::Fresh | ClientId::Last, _) => {
                self.next_id += 1;
                format!("fz{}-{}", std::process::id(), self.next_id)
            }
        };
        *last = Some(id.clone());
        id
    }

    /// The bytes a request puts on the wire, `\n` included.
    fn render(&mut self, req: &Req, last: &mut Option<String>, user: Option<&str>) -> Vec<u8> {
        use ClientMessage as C;
        let msg = match req {
            Req::Raw(bytes) => return [bytes.as_slice(), b"\n"].concat(),
            Req::TooLong => {
                let mut line = vec![b'x'; ququ_protocol::DEFAULT_MAX_LINE + 2];
                line.push(b'\n');
                return line;
            }
            Req::Resume(k) => C::Resume {
                account: ACCOUNTS[*k].into(),
                token: self.tokens[ACCOUNTS[*k]].clone(),
            },
            Req::Login(who, right) => C::Login {
                account: self.who(who),
                password: if *right {
                    PASSWORD.into()
                } else {
                    "wrong-password".into()
                },
            },
            Req::Register(account, password, nickname) => C::Register {
                account: account.clone(),
                password: password.clone(),
                nickname: nickname.clone(),
            },
            Req::Logout => C::Logout,
            Req::Ping(n) => C::Ping { nonce: *n },
            Req::Pong(n) => C::Pong { nonce: *n },
            Req::SetNick(nickname) => C::SetNickname {
                nickname: nickname.clone(),
            },
            Req::Passwd(right, other) => C::ChangePassword {
                old: if *right {
                    PASSWORD.into()
                } else {
                    other.clone()
                },
                new: if *right {
                    PASSWORD.into()
                } else {
                    other.clone()
                },
            },
            Req::Find(query) => C::FindUser {
                query: query.clone(),
            },
            Req::AddFriend(who, note) => C::FriendRequest {
                account: self.who(who),
                note: note.clone(),
            },
            Req::Accept(who) => C::AcceptFriend {
                account: self.who(who),
            },
            Req::Reject(who) => C::RejectFriend {
                account: self.who(who),
            },
            Req::DelFriend(who) => C::DeleteFriend {
                account: self.who(who),
            },
            Req::Remark(who, remark) => C::SetRemark {
                account: self.who(who),
                remark: remark.clone(),
            },
            Req::Friends => C::ListFriends,
            Req::Requests => C::ListRequests,
            Req::Msg(who, cid, text) => C::Msg {
                to: self.who(who),
                client_id: self.client_id(cid, last),
                text: text.clone(),
            },
            Req::GroupMsg(g, cid, text) => C::GroupMsg {
                group: self.group(g),
                client_id: self.client_id(cid, last),
                text: text.clone(),
            },
            Req::Sync(after, limit) => C::Sync {
                after: *after,
                limit: *limit,
            },
            Req::History(conv, before, limit) => C::History {
                conv: self.conv(conv),
                before: *before,
                limit: *limit,
            },
            Req::GroupCreate(name) => C::CreateGroup { name: name.clone() },
            Req::Join(g) => C::JoinGroup {
                group: self.group(g),
            },
            Req::Leave(g) => C::LeaveGroup {
                group: self.group(g),
            },
            Req::Invite(g, who) => C::InviteToGroup {
                group: self.group(g),
                account: self.who(who),
            },
            Req::Kick(g, who) => C::KickFromGroup {
                group: self.group(g),
                account: self.who(who),
            },
            Req::Dissolve(g) => C::DissolveGroup {
                group: self.group(g),
            },
            Req::Rename(g, name) => C::RenameGroup {
                group: self.group(g),
                name: name.clone(),
            },
            Req::Members(g) => C::ListMembers {
                group: self.group(g),
            },
            Req::Groups => C::ListGroups,
            Req::Offer {
                to,
                client_id,
                content,
                lie,
                name,
            } => {
                let mut size = content.len() as u64;
                let mut sha256 = sha256_hex(content);
                match lie % 4 {
                    1 => size += 1 + u64::from(*lie),
                    2 => sha256 = sha256_hex(name.as_bytes()),
                    3 => size = u64::MAX - u64::from(*lie),
                    _ => {}
                }
                C::FileOffer {
                    to: self.conv(to),
                    client_id: self.client_id(client_id, last),
                    size,
                    sha256,
                    name: name.clone(),
                }
            }
            Req::FileAccept(f) => C::FileAccept { file: self.file(f) },
            Req::FileReject(f) => C::FileReject { file: self.file(f) },
            Req::FileCancel(f) => C::FileCancel { file: self.file(f) },
            Req::DataLine(put, token, offset) => {
                let (token, offset) = (token.clone(), *offset);
                if *put {
                    C::FilePut { token, offset }
                } else {
                    C::FileGet { token, offset }
                }
            }
            Req::SetAdmin(g, who, admin) => C::SetGroupAdmin {
                group: self.group(g),
                account: self.who(who),
                admin: *admin,
            },
            Req::Transfer(g, who) => C::TransferGroup {
                group: self.group(g),
                account: self.who(who),
            },
            Req::Mute(g, who, seconds) => C::MuteMember {
                group: self.group(g),
                account: self.who(who),
                seconds: *seconds,
            },
            Req::MuteAll(g, on) => C::MuteAll {
                group: self.group(g),
                on: *on,
            },
            Req::Notice(g, text) => C::GroupNotice {
                group: self.group(g),
                text: text.clone(),
            },
            Req::AnswerJoin(g, who, accept) => C::AnswerJoin {
                group: self.group(g),
                account: self.who(who),
                accept: *accept,
            },
            Req::JoinRequests => C::ListJoinRequests,
            Req::Policy(g, policy) => C::GroupPolicy {
                group: self.group(g),
                policy: *policy,
            },
            Req::Features(features) => C::Features {
                features: *features,
            },
            Req::Send {
                to,
                client_id,
                reply_to,
                all,
                mentions,
                text,
            } => C::Send {
                to: self.conv(to),
                client_id: self.client_id(client_id, last),
                reply_to: reply_to.as_ref().map(|m| self.message(m)),
                mentions: Mentions {
                    all: *all,
                    accounts: mentions.iter().map(|w| self.who(w)).collect(),
                },
                text: text.clone(),
            },
            Req::Recall(m) => C::Recall {
                id: self.message(m),
            },
            Req::Read(conv, m) => C::Read {
                conv: self.conv(conv),
                up_to: self.message(m),
            },
            Req::Reads => C::ListReads,
            Req::Typing(who) => C::Typing { to: self.who(who) },
            Req::SetProfile(change) => C::SetProfile {
                change: change.clone(),
            },
            Req::GetProfile(who) => C::GetProfile {
                account: who.as_ref().map(|w| self.who(w)),
            },
            Req::Block(who) => C::Block {
                account: self.who(who),
            },
            Req::Unblock(who) => C::Unblock {
                account: self.who(who),
            },
            Req::Blocks => C::ListBlocks,
            Req::Categories => C::ListCategories,
            Req::AddCategory(name) => C::AddCategory { name: name.clone() },
            Req::RenameCategory(c, name) => C::RenameCategory {
                category: self.category(c),
                name: name.clone(),
            },
            Req::DeleteCategory(c) => C::DeleteCategory {
                category: self.category(c),
            },
            Req::MoveFriend(who, c) => C::MoveFriend {
                account: self.who(who),
                category: self.category(c),
            },
            Req::OrderCategories(Some(turn), _) => {
                let mut categories: Vec<u64> = self
                    .categories
                    .iter()
                    .filter(|(whose, _)| Some(whose.as_str()) == user)
                    .map(|(_, id)| *id)
                    .collect();
                categories.dedup();
                if !categories.is_empty() {
                    let n = *turn as usize % categories.len();
                    categories.rotate_left(n);
                }
                if turn % 2 == 1 {
                    categories.reverse();
                }
                C::OrderCategories { categories }
            }
            Req::OrderCategories(None, ids) => C::OrderCategories {
                categories: ids.iter().map(|c| self.category(c)).collect(),
            },
            Req::SetAvatar(image) => C::SetAvatar {
                image: Self::image(image),
            },
            Req::SetGroupAvatar(g, image) => C::SetGroupAvatar {
                group: self.group(g),
                image: Self::image(image),
            },
            Req::GetAvatar(a) => C::GetAvatar {
                sha256: match a {
                    AvatarRef::Seen(i) if !self.avatars.is_empty() => {
                        self.avatars[i % self.avatars.len()].clone()
                    }
                    AvatarRef::Seen(i) => format!("{i:064x}"),
                    AvatarRef::Text(text) => text.clone(),
                },
            },
        };
        let mut bytes = msg.format().into_bytes();
        bytes.push(b'\n');
        bytes
    }

    /// Sends one request on a chat connection and takes in everything up to its answer. Returns whether the
    /// connection is closed now (and checks that it closed for a documented reason).
    async fn chat(
        &mut self,
        chat: &mut Chat,
        req: Req,
        last: &mut Option<String>,
        deliveries: &mut Vec<Delivery>,
    ) -> bool {
        let bytes = self.render(&req, last, chat.user.as_deref());
        let replays = matches!(req, Req::Raw(_) | Req::Sync(..) | Req::History(..));
        // A line over the cap (`TooLong`, or an avatar whose base64 is over it): the server answers
        // `ERROR:line_too_long` and closes, maybe before reading the rest.
        let too_long = bytes
            .split(|b| *b == b'\n')
            .any(|line| line.len() > ququ_protocol::DEFAULT_MAX_LINE);
        // Before login, a FILE_PUT:/FILE_GET: line turns the connection into a data connection, which
        // reads raw bytes until the end of the stream: end it ourselves.
        let becomes_data = chat.user.is_none() && bytes.split(|b| *b == b'\n').any(is_data_line);
        // The server may close mid-write (a LOGOUT or an over-long line); what it said explains why.
        let wrote = chat.writer.write_all(&bytes).await.is_ok();
        let nonce = self.nonce;
        self.nonce += 1;
        let wrote = if becomes_data || too_long {
            let _ = chat.writer.shutdown().await;
            false
        } else {
            wrote
                && chat
                    .writer
                    .write_all(format!("PING:{nonce}\n").as_bytes())
                    .await
                    .is_ok()
        };
        let _ = wrote;
        let mut lines = Vec::new();
        let ended = loop {
            let event = tokio::time::timeout(WAIT, chat.events.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!("the server stopped answering: sent {req:?}, got {lines:?}")
                });
            match event {
                Some(Event::Line(line)) => {
                    let msg = check_line(&line);
                    if msg == (ServerMessage::Pong { nonce }) {
                        break Ended::Answered;
                    }
                    lines.push((line, msg));
                }
                Some(Event::NotUtf8(bytes)) => {
                    panic!("the server sent a line that is not UTF-8: {bytes:?}")
                }
                Some(Event::End) | None => break Ended::Closed,
            }
        };
        let msgs: Vec<&ServerMessage> = lines.iter().map(|(_, m)| m).collect();
        if ended == Ended::Closed {
            let documented = becomes_data
                || too_long
                || msgs.iter().any(|m| {
                    matches!(
                        m,
                        ServerMessage::Bye {
                            code: ErrorCode::LoggedOut | ErrorCode::PasswordChanged,
                            ..
                        } | ServerMessage::Error {
                            code: ErrorCode::LineTooLong,
                            ..
                        }
                    )
                });
            assert!(
                documented,
                "the connection was dropped without a documented reason after {req:?}: {lines:?}"
            );
        }
        let offer = match &req {
            Req::Offer {
                content, lie, to, ..
            } if lie % 4 == 0 => Some(Offered {
                content: content.clone(),
                between: match (to, &chat.user) {
                    (ConvRef::User(Who::Fixture(k)), Some(me)) => {
                        Some((me.clone(), ACCOUNTS[*k].to_owned()))
                    }
                    _ => None,
                },
                key: chat.user.clone().zip(last.clone()),
            }),
            _ => None,
        };
        for msg in msgs {
            self.take_in(chat, msg, replays, offer.as_ref(), &req, last, deliveries);
        }
        ended == Ended::Closed
    }

    /// Learns from one line the server sent on a chat connection, and checks it.
    #[allow(clippy::too_many_arguments)]
    fn take_in(
        &mut self,
        chat: &mut Chat,
        msg: &ServerMessage,
        replays: bool,
        offer: Option<&Offered>,
        req: &Req,
        last: &Option<String>,
        deliveries: &mut Vec<Delivery>,
    ) {
        let pushed_id = match msg {
            ServerMessage::LoginOk { account, token, .. } => {
                if let Some(fixture) = ACCOUNTS.iter().find(|a| a.eq_ignore_ascii_case(account)) {
                    self.tokens.insert((*fixture).to_owned(), token.clone());
                }
                chat.user = Some(account.clone());
                None
            }
            ServerMessage::GroupInfo { group, .. } => {
                if !self.groups.contains(group) {
                    self.groups.push(*group);
                }
                None
            }
            ServerMessage::FileUpload {
                file,
                token,
                offset,
            } => {
                self.files.push(*file);
                // A repeated offer resumes the first one's file: its bytes are the first offer's.
                if let Some(offer) = offer {
                    self.offered.entry(*file).or_insert_with(|| offer.clone());
                }
                self.uploads.push((*file, token.clone(), *offset));
                None
            }
            ServerMessage::FileDownload { file, token, size } => {
                self.downloads.push((*file, token.clone(), *size));
                None
            }
            ServerMessage::Msg(m) => Some(m.id),
            ServerMessage::GroupMsg(m) => Some(m.id),
            // The newer forms of stored messages: pushed at most once too.
            ServerMessage::Said(m) => Some(m.id),
            ServerMessage::Recalled(m) => Some(m.id),
            ServerMessage::GroupEvent(e) => Some(e.id),
            ServerMessage::Blocked { account, .. } => {
                if let (Some(me), Some(them)) =
                    (fixture(chat.user.as_deref()), fixture(Some(account)))
                {
                    self.blocks.insert((me.to_owned(), them.to_owned()));
                }
                None
            }
            ServerMessage::Unblocked { account } => {
                if let (Some(me), Some(them)) =
                    (fixture(chat.user.as_deref()), fixture(Some(account)))
                {
                    self.blocks.remove(&(me.to_owned(), them.to_owned()));
                }
                None
            }
            ServerMessage::Category { category, .. } => {
                if let Some(me) = &chat.user
                    && !self
                        .categories
                        .iter()
                        .any(|(whose, c)| whose == me && c == category)
                {
                    self.categories.push((me.clone(), *category));
                }
                None
            }
            ServerMessage::CategoryGone { category } => {
                self.categories.retain(|(_, c)| c != category);
                None
            }
            ServerMessage::AvatarOf {
                sha256: Some(sha256),
                ..
            }
            | ServerMessage::Avatar { sha256, .. } => {
                if !self.avatars.contains(sha256) {
                    self.avatars.push(sha256.clone());
                }
                None
            }
            ServerMessage::FileOffer(m) => {
                self.files.push(m.file.file_id);
                Some(m.id)
            }
            ServerMessage::Ack { client_id, id, .. } => {
                self.messages.push(*id);
                if let Some(user) = &chat.user {
                    let key = (user.clone(), client_id.clone());
                    match self.acked.get(&key) {
                        Some(Some(first)) => assert_eq!(
                            first, id,
                            "{user}'s client id {client_id:?} was acknowledged as message {first}, \
                             now as {id}: stored twice"
                        ),
                        Some(None) => {
                            self.acked.insert(key, Some(*id));
                        }
                        None => {
                            self.acked.insert(key, Some(*id));
                            // A first ACK in answer to our own private message (`MSG:`, or `SEND:` with
                            // or without a quote): check its delivery.
                            if let Req::Msg(Who::Fixture(k), _, _)
                            | Req::Send {
                                to: ConvRef::User(Who::Fixture(k)),
                                ..
                            } = req
                                && last.as_deref() == Some(client_id.as_str())
                            {
                                let to = ACCOUNTS[*k].to_owned();
                                let hidden = fixture(Some(user)).is_some_and(|from| {
                                    self.blocks.contains(&(to.clone(), from.to_owned()))
                                });
                                deliveries.push(Delivery {
                                    id: *id,
                                    from: user.clone(),
                                    to,
                                    client_id: client_id.clone(),
                                    hidden,
                                });
                            }
                        }
                    }
                }
                None
            }
            _ => None,
        };
        if let Some(id) = pushed_id
            && !self.messages.contains(&id)
        {
            self.messages.push(id);
        }
        if let Some(id) = pushed_id
            && !replays
        {
            let n = chat.pushed.entry(id).or_default();
            *n += 1;
            assert!(
                *n <= 1,
                "message {id} was pushed to one connection twice: {msg:?}"
            );
        }
    }

    /// A chat connection logged in as fixture account `account`, for checks.
    async fn checker(&mut self, account: &str) -> Line {
        let k = ACCOUNTS
            .iter()
            .position(|a| *a == account)
            .expect("fixture");
        let mut p = Line::connect(self.addr).await;
        p.send(&format!("RESUME:{account}:{}", self.tokens[account]))
            .await;
        let mut reply = p.until("LOGIN:").await;
        if !reply.starts_with("LOGIN:true:") {
            p.send(&format!("LOGIN:{account}:{PASSWORD}")).await;
            reply = p.until("LOGIN:").await;
            if !reply.starts_with("LOGIN:true:") {
                self.reset_password(ACCOUNTS[k]);
                p.send(&format!("LOGIN:{account}:{PASSWORD}")).await;
                reply = p.until("LOGIN:").await;
            }
            self.tokens.insert(account.to_owned(), token_of(&reply));
        }
        // A recalled message is left out of `SYNC:`, and only its `RECALLED:` says what became of it.
        p.send("FEATURES:RECALLED").await;
        p.until("FEATURES:").await;
        p
    }

    /// A private message acknowledged to its sender is stored for its recipient exactly once — unless its
    /// recipient blocked its sender (then it is kept from them), or its sender recalled it since (then it
    /// is gone from `SYNC:`, and a `RECALLED:` of it by its sender follows).
    async fn check_delivery(&mut self, d: Delivery) {
        let mut p = self.checker(&d.to).await;
        p.send(&format!("SYNC:{}:1", d.id - 1)).await;
        let lines = p.collect_until("SYNC_END:").await;
        let found: Vec<_> = lines
            .iter()
            .filter_map(|l| match check_line(l) {
                ServerMessage::Msg(m) if m.id == d.id => Some(m),
                _ => None,
            })
            .collect();
        if d.hidden {
            assert!(
                found.is_empty(),
                "message {} ({d:?}) reached {}, who blocks its sender: {lines:?}",
                d.id,
                d.to
            );
            return;
        }
        if found.is_empty() {
            let mut after = d.id;
            let mut recalls = Vec::new();
            loop {
                p.send(&format!("SYNC:{after}:500")).await;
                let lines = p.collect_until("SYNC_END:").await;
                for line in &lines {
                    match check_line(line) {
                        ServerMessage::Recalled(r) if r.target == d.id => recalls.push(r),
                        ServerMessage::SyncEnd { last_id, more } => {
                            if !more || last_id <= after {
                                after = u64::MAX;
                            } else {
                                after = last_id;
                            }
                        }
                        _ => {}
                    }
                }
                if after == u64::MAX {
                    break;
                }
            }
            assert!(
                recalls.len() == 1
                    && recalls[0].by == d.from
                    && recalls[0].target_from == d.from
                    && recalls[0].to == Conv::User(d.to.clone()),
                "message {} ({d:?}) is not in {}'s SYNC, nor recalled by its sender once: {recalls:?}",
                d.id,
                d.to
            );
            return;
        }
        assert_eq!(
            found.len(),
            1,
            "message {} ({d:?}) is not in {}'s SYNC exactly once: {lines:?}",
            d.id,
            d.to
        );
        assert_eq!(
            (&found[0].from, &found[0].to, &found[0].client_id),
            (&d.from, &d.to, &d.client_id),
            "message {} is not the one acknowledged",
            d.id
        );
    }

    /// Uploads on a data connection with an upload grant handed out earlier.
    async fn upload(&mut self, pick: usize, cut: Option<u8>, bad_offset: bool) {
        if self.uploads.is_empty() {
            return;
        }
        let (file, token, offset) = self.uploads.remove(pick % self.uploads.len());
        let offered = self.offered.get(&file).cloned();
        let content = offered
            .as_ref()
            .map_or_else(|| vec![b'?'; 7], |o| o.content.clone());
        let offset = if bad_offset { offset + 1 } else { offset };
        let from = (offset as usize).min(content.len());
        let mut body = content[from..].to_vec();
        if let Some(cut) = cut {
            body.truncate(cut as usize % (body.len() + 1));
        }
        let mut socket = TcpStream::connect(self.addr).await.expect("connect");
        let mut bytes = format!("FILE_PUT:{token}:{offset}\n").into_bytes();
        bytes.extend_from_slice(&body);
        // The server may refuse and close before reading everything.
        let _ = socket.write_all(&bytes).await;
        let _ = socket.shutdown().await;
        let mut reply = String::new();
        let _ = tokio::time::timeout(WAIT, socket.read_to_string(&mut reply))
            .await
            .expect("the server did not finish an upload");
        let mut uploaded = false;
        for line in reply.lines() {
            if let ServerMessage::FileState {
                file: f,
                state: FileState::Uploaded,
            } = check_line(line)
            {
                assert_eq!(f, file, "confirmed another file's upload");
                uploaded = true;
            }
        }
        if !uploaded {
            return;
        }
        let Some(offered) = offered else {
            return;
        };
        if let Some(key) = offered.key {
            self.acked.entry(key).or_insert(None);
        }
        assert_eq!(
            offset as usize + body.len(),
            content.len(),
            "the server confirmed an upload it did not get whole"
        );
        self.contents.insert(file, content);
        // The recipient sees the offer in the conversation, exactly once.
        if let Some((from, to)) = offered.between
            && ACCOUNTS.contains(&from.as_str())
        {
            let mut p = self.checker(&to).await;
            p.send(&format!("HISTORY:user:{from}:0:20")).await;
            let lines = p.collect_until("HISTORY_END:").await;
            let offers = lines
                .iter()
                .filter(|l| {
                    matches!(check_line(l), ServerMessage::FileOffer(m) if m.file.file_id == file)
                })
                .count();
            if self.blocks.contains(&(to.clone(), from.clone())) {
                // The recipient blocks the sender: a file stored now is kept from them, but a repeated
                // offer's upload stands for the message stored before the block, which they have.
                assert!(
                    offers <= 1,
                    "file {file} is offered to {to} more than once: {lines:?}"
                );
            } else {
                assert_eq!(
                    offers, 1,
                    "file {file} was uploaded but is not offered to {to} exactly once: {lines:?}"
                );
            }
        }
    }

    /// Downloads on a data connection with a download grant handed out earlier.
    async fn download(&mut self, pick: usize, offset: u8) {
        if self.downloads.is_empty() {
            return;
        }
        let (file, token, size) = self.downloads.remove(pick % self.downloads.len());
        let offset = u64::from(offset);
        let socket = TcpStream::connect(self.addr).await.expect("connect");
        let (read, mut write) = socket.into_split();
        let _ = write
            .write_all(format!("FILE_GET:{token}:{offset}\n").as_bytes())
            .await;
        let mut read = BufReader::new(read);
        let mut header = Vec::new();
        tokio::time::timeout(WAIT, read.read_until(b'\n', &mut header))
            .await
            .expect("the server did not answer a download")
            .expect("read");
        let header = String::from_utf8(header).expect("a header line in UTF-8");
        let header = header.trim_end_matches('\n');
        if header.is_empty() {
            return;
        }
        let ServerMessage::FileProgress {
            file: f,
            bytes,
            total,
        } = check_line(header)
        else {
            return;
        };
        assert_eq!(
            (f, bytes, total),
            (file, offset, size),
            "a wrong download header"
        );
        let mut body = Vec::new();
        tokio::time::timeout(WAIT, read.read_to_end(&mut body))
            .await
            .expect("the server did not finish a download")
            .expect("read");
        assert_eq!(
            body.len() as u64,
            size - offset,
            "a download of the wrong length"
        );
        if let Some(content) = self.contents.get(&file) {
            assert_eq!(
                &body[..],
                &content[offset as usize..],
                "a download with the wrong bytes"
            );
        }
    }
}

/// The fixture account `account` names (account names are case-insensitive), if any.
fn fixture(account: Option<&str>) -> Option<&'static str> {
    let account = account?;
    ACCOUNTS
        .iter()
        .find(|a| a.eq_ignore_ascii_case(account))
        .copied()
}

fn token_of(login: &str) -> String {
    match ServerMessage::parse(login) {
        Ok(ServerMessage::LoginOk { token, .. }) => token,
        _ => panic!("login failed: {login}"),
    }
}

/// A plain line-at-a-time connection for setup and checks.
#[derive(Debug)]
struct Line {
    read: BufReader<tokio::net::tcp::OwnedReadHalf>,
    write: OwnedWriteHalf,
}

impl Line {
    async fn connect(addr: SocketAddr) -> Line {
        let (read, write) = TcpStream::connect(addr)
            .await
            .expect("connect")
            .into_split();
        Line {
            read: BufReader::new(read),
            write,
        }
    }

    async fn send(&mut self, line: &str) {
        self.write
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("send");
    }

    async fn recv(&mut self) -> String {
        let mut line = String::new();
        let n = tokio::time::timeout(WAIT, self.read.read_line(&mut line))
            .await
            .expect("the server stopped answering")
            .expect("read");
        assert!(n > 0, "the server closed the connection");
        let line = line.trim_end_matches('\n').to_owned();
        check_line(&line);
        line
    }

    async fn until(&mut self, prefix: &str) -> String {
        loop {
            let line = self.recv().await;
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    async fn collect_until(&mut self, prefix: &str) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let line = self.recv().await;
            let done = line.starts_with(prefix);
            out.push(line);
            if done {
                return out;
            }
        }
    }
}
