//! The task that owns the connection: connect, log in (register / resume / password), sync, resend the
//! outbox, relay commands and events, keep the heartbeat, and reconnect with backoff when anything breaks.
//!
//! It is one sequential loop, which is what keeps the outbox in order: a command is fully handled (stored,
//! then written) before the next one is looked at, and after a reconnect every pending message is resent,
//! oldest first, before any new command is handled.
//!
//! File transfers are the exception that proves it: their bytes move on worker tasks with connections of
//! their own (see `files`), which report back here, so a big file never holds up chat.

mod files;
mod pace;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use futures::{SinkExt, StreamExt};
use ququ_protocol::{
    ChatMessage, ClientMessage, Conv, ErrorCode, FileMessage, GroupMessage, Limits, LineCodec,
    ServerMessage,
};
use tokio::io::{ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::backoff::Backoff;
use crate::config::Config;
use crate::event::{
    Event, FoundUser, Friend, FriendRequest, Group, Member, Message, SentRequest, StopReason,
};
use crate::storage::{Incoming, LastLogin, StorageError, Store, Stored};
use crate::tls::{ConnectError, Connector, Stream};
use crate::transfer::TransferId;
use pace::Pacer;

/// The longest line accepted from the server. Generous: the server enforces its own, smaller limit on what
/// it stores, and a client that dropped the connection on a long line would loop on it forever.
const MAX_LINE: usize = 1 << 20;

/// Requests made while offline are kept for the next login, up to this many.
const MAX_QUEUED: usize = 1000;

/// Why a connection ended. The text becomes [`Event::Disconnected`]'s `reason`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectionError {
    #[error(transparent)]
    Connect(ConnectError),
    #[error("the server closed the connection")]
    Closed,
    #[error("connection error: {0}")]
    Io(String),
    #[error("no login reply within {0:?}")]
    LoginTimeout(Duration),
    #[error("the server refused the login for now ({code}): {text}")]
    LoginDeferred { code: ErrorCode, text: String },
    #[error("nothing heard from the server for {0:?}")]
    Silent(Duration),
    #[error("the server closed the connection ({code}): {text}")]
    Bye { code: ErrorCode, text: String },
}

/// How a connection (or an offline wait) ended.
enum End {
    Retry(ConnectionError),
    Stop(StopReason),
}

impl From<StorageError> for End {
    fn from(e: StorageError) -> End {
        End::Stop(StopReason::Storage(e.to_string()))
    }
}

impl From<ConnectError> for End {
    /// A certificate the user has to decide about stops the client; anything else is worth retrying.
    fn from(e: ConnectError) -> End {
        match e {
            ConnectError::Unknown {
                server,
                fingerprint,
            } => End::Stop(StopReason::UnknownCertificate {
                server,
                fingerprint,
            }),
            ConnectError::Changed {
                server,
                pinned,
                presented,
            } => End::Stop(StopReason::CertificateChanged {
                server,
                pinned,
                presented,
            }),
            other => End::Retry(ConnectionError::Connect(other)),
        }
    }
}

impl From<ConnectionError> for End {
    fn from(e: ConnectionError) -> End {
        End::Retry(e)
    }
}

/// What a [`crate::Handle`] asks for.
#[derive(Debug)]
pub(crate) enum Command {
    Send {
        conv: Conv,
        client_id: String,
        text: String,
    },
    Retry {
        client_id: String,
    },
    /// Any other request for the server, sent as it is.
    Request(ClientMessage),
    Search {
        query: String,
        limit: u32,
    },
    MarkRead {
        conv: Conv,
    },
    /// A file transfer command; see `files`.
    File(FileCommand),
    ReconnectNow,
    Logout,
    Shutdown,
}

/// What a [`crate::Handle`] asks of file transfers.
#[derive(Debug)]
pub(crate) enum FileCommand {
    Send {
        conv: Conv,
        client_id: String,
        path: PathBuf,
    },
    Download {
        file_id: u64,
        dest: Option<PathBuf>,
    },
    Pause(TransferId),
    Resume(TransferId),
    Cancel(TransferId),
    Reject(u64),
}

/// Where the login on the current connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    Registering,
    Resuming,
    /// `after_taken`: registration said `account_taken`, so a refused password means someone else's account.
    LoggingIn {
        after_taken: bool,
    },
    Ready,
    LoggingOut,
}

/// Replies that come as several lines, collected until their `*_END` line. Counters, because the same
/// list may be requested again before the first answer ends.
#[derive(Default)]
struct Lists {
    friends: Collect<Friend>,
    requests: Collect<FriendRequest>,
    /// `REQUEST_WAITING:` lines of the request list being read; they come only in that list.
    waiting: Vec<SentRequest>,
    groups: Collect<Group>,
    found: Collect<FoundUser>,
    /// Per group; an entry stays once made (one per group listed on this connection).
    members: HashMap<u64, Collect<Member>>,
    /// Outstanding `HISTORY:` requests: the conversation, and the id below which its messages belong to
    /// the page (the request's `before`, or for "from the newest" everything already synced).
    history: VecDeque<(Conv, u64)>,
    history_page: Vec<Message>,
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

/// State of one TCP connection.
struct Link {
    writer: FramedWrite<WriteHalf<Stream>, LineCodec>,
    auth: Auth,
    /// When the pending login reply (or logout) must have arrived.
    deadline: Option<Instant>,
    last_heard: Instant,
    ping_sent: bool,
    nonce: u64,
    lists: Lists,
    /// The `after` of the `SYNC:` in flight, if any.
    syncing: Option<u64>,
    /// Everything up to this server id has been synced.
    synced_to: u64,
    synced_new: usize,
    /// Client ids of the `FileTran:` offers sent on this connection and not yet answered, oldest first:
    /// `FILE_UPLOAD:` names no client id, but the server answers in order.
    offers: VecDeque<String>,
    /// My messages on their way out, kept under the server's advertised rate.
    pace: Pacer,
}

impl Link {
    async fn send(&mut self, msg: &ClientMessage) -> Result<(), ConnectionError> {
        tracing::trace!(verb = msg.verb(), "send");
        self.writer
            .send(msg.format())
            .await
            .map_err(|e| ConnectionError::Io(e.to_string()))
    }

    /// Queues a line without flushing, for batches; [`Link::flush`] after.
    async fn feed(&mut self, msg: &ClientMessage) -> Result<(), ConnectionError> {
        self.writer
            .feed(msg.format())
            .await
            .map_err(|e| ConnectionError::Io(e.to_string()))
    }

    async fn flush(&mut self) -> Result<(), ConnectionError> {
        SinkExt::<String>::flush(&mut self.writer)
            .await
            .map_err(|e| ConnectionError::Io(e.to_string()))
    }

    /// Records what a request will be answered with, so the answer's lines can be told apart from pushes.
    fn expect_reply(&mut self, msg: &ClientMessage) {
        let lists = &mut self.lists;
        match msg {
            ClientMessage::ListFriends => lists.friends.expect(),
            ClientMessage::ListRequests => lists.requests.expect(),
            ClientMessage::ListGroups => lists.groups.expect(),
            ClientMessage::FindUser { .. } => lists.found.expect(),
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

/// A message line from the server, before it is stored.
fn incoming_chat(m: ChatMessage, me: &str) -> Incoming {
    let peer = if m.from == me { m.to } else { m.from.clone() };
    Incoming {
        conv: Conv::User(peer),
        server_id: m.id,
        client_id: m.client_id,
        from: m.from,
        time: m.time,
        text: m.text,
        file: None,
    }
}

fn incoming_group(m: GroupMessage) -> Incoming {
    Incoming {
        conv: Conv::Group(m.group),
        server_id: m.id,
        client_id: m.client_id,
        from: m.from,
        time: m.time,
        text: m.text,
        file: None,
    }
}

/// A file offer is a message whose text is the file's name (so search finds it) and which carries the file.
fn incoming_file(m: FileMessage, me: &str) -> Incoming {
    let conv = match m.to {
        Conv::User(to) if m.from == me => Conv::User(to),
        Conv::User(_) => Conv::User(m.from.clone()),
        group => group,
    };
    Incoming {
        conv,
        server_id: m.id,
        client_id: m.client_id,
        text: m.file.name.clone(),
        file: Some(m.file),
        from: m.from,
        time: m.time,
    }
}

pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The message line that sends `m`, which must be mine.
fn send_line(m: &Message) -> ClientMessage {
    match &m.conv {
        Conv::User(to) => ClientMessage::Msg {
            to: to.clone(),
            client_id: m.client_id.clone(),
            text: m.text.clone(),
        },
        Conv::Group(group) => ClientMessage::GroupMsg {
            group: *group,
            client_id: m.client_id.clone(),
            text: m.text.clone(),
        },
    }
}

/// What an offline command asks of the wait it interrupted.
enum Offline {
    Continue,
    Wake,
}

pub(crate) struct Session {
    config: Config,
    data_dir: PathBuf,
    store: Store,
    events: mpsc::UnboundedSender<Event>,
    commands: mpsc::UnboundedReceiver<Command>,
    backoff: Backoff,
    /// My account as the server spells it (as configured until the first login).
    me: String,
    token: Option<String>,
    registered: bool,
    limits: Limits,
    connector: Connector,
    queued: VecDeque<ClientMessage>,
    files: files::Files,
}

impl Session {
    pub(crate) fn new(
        config: Config,
        data_dir: PathBuf,
        store: Store,
        events: mpsc::UnboundedSender<Event>,
        commands: mpsc::UnboundedReceiver<Command>,
        backoff: Backoff,
    ) -> Session {
        Session {
            me: config.account.clone(),
            registered: !config.register,
            connector: Connector::new(&config.server, config.tls, &data_dir),
            config,
            data_dir,
            store,
            events,
            commands,
            backoff,
            token: None,
            limits: Limits::default(),
            queued: VecDeque::new(),
            files: files::Files::new(),
        }
    }

    fn emit(&self, event: Event) {
        // A user interface that dropped its receiver still wants its messages delivered, so carry on.
        let _ = self.events.send(event);
    }

    pub(crate) async fn run(mut self) {
        if let Err(e) = self.store.ready().await {
            self.emit(Event::Stopped(StopReason::Storage(e.to_string())));
            return;
        }
        if let Err(e) = self.load_transfers().await {
            self.emit(Event::Stopped(StopReason::Storage(e.to_string())));
            return;
        }
        loop {
            self.emit(Event::Connecting {
                attempt: self.backoff.attempts() + 1,
            });
            let reason = match self.connect_and_serve().await {
                End::Stop(reason) => {
                    self.emit(Event::Stopped(reason));
                    return;
                }
                End::Retry(reason) => reason,
            };
            tracing::info!("disconnected: {reason}");
            let delay = self.backoff.next_delay();
            self.emit(Event::Disconnected {
                reason: reason.to_string(),
                retry_in: delay,
                retry_at: SystemTime::now() + delay,
            });
            if let Err(stop) = self.offline_until(tokio::time::sleep(delay), true).await {
                self.emit(Event::Stopped(stop));
                return;
            }
        }
    }

    /// Drives `fut` to completion while handling commands as if offline; shutdown and logout stop. With
    /// `wakeable`, a `ReconnectNow` ends the wait early (`None`).
    async fn offline_until<F: Future>(
        &mut self,
        fut: F,
        wakeable: bool,
    ) -> Result<Option<F::Output>, StopReason> {
        tokio::pin!(fut);
        loop {
            tokio::select! {
                out = &mut fut => return Ok(Some(out)),
                Some(report) = self.files.reports.recv() => {
                    match self.on_report(None, report).await {
                        Ok(()) | Err(End::Retry(_)) => {}
                        Err(End::Stop(reason)) => return Err(reason),
                    }
                }
                cmd = self.commands.recv() => {
                    match self.offline_command(cmd).await {
                        Ok(Offline::Continue) => {}
                        Ok(Offline::Wake) if !wakeable => {}
                        Ok(Offline::Wake) => return Ok(None),
                        Err(End::Stop(reason)) => return Err(reason),
                        Err(End::Retry(_)) => {}
                    }
                }
            }
        }
    }

    async fn connect_and_serve(&mut self) -> End {
        let timeout = self.config.timing.connect_timeout;
        let connector = self.connector.clone();
        let stream = match self.offline_until(connector.connect(timeout), false).await {
            Err(stop) => return End::Stop(stop),
            Ok(None) => {
                return ConnectError::Timeout(self.connector.server.clone()).into();
            }
            Ok(Some(Err(e))) => return e.into(),
            Ok(Some(Ok(stream))) => stream,
        };
        self.emit(Event::Connected);
        let (read, write) = tokio::io::split(stream);
        let reader = FramedRead::new(read, LineCodec::new(MAX_LINE));
        let link = Link {
            writer: FramedWrite::new(write, LineCodec::new(MAX_LINE)),
            auth: Auth::Ready,
            deadline: None,
            last_heard: Instant::now(),
            ping_sent: false,
            nonce: 0,
            lists: Lists::default(),
            offers: VecDeque::new(),
            pace: Pacer::new(self.limits.rate, Instant::now()),
            syncing: None,
            synced_to: 0,
            synced_new: 0,
        };
        match self.serve(reader, link).await {
            Ok(()) => End::Stop(StopReason::Shutdown),
            Err(end) => end,
        }
    }

    async fn serve(
        &mut self,
        mut reader: FramedRead<ReadHalf<Stream>, LineCodec>,
        mut link: Link,
    ) -> Result<(), End> {
        self.start_login(&mut link).await?;
        let timing = self.config.timing.clone();
        let tick_every =
            (timing.ping_after / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
        let mut tick = tokio::time::interval(tick_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let pace_at = link.pace.next_at();
            tokio::select! {
                _ = tokio::time::sleep_until(pace_at.unwrap_or_else(Instant::now).into()), if pace_at.is_some() => {
                    self.send_paced(&mut link).await?;
                }
                line = reader.next() => {
                    let line = match line {
                        None => return Err(if link.auth == Auth::LoggingOut {
                            End::Stop(StopReason::LoggedOut)
                        } else {
                            ConnectionError::Closed.into()
                        }),
                        Some(Err(e)) => return Err(ConnectionError::Io(e.to_string()).into()),
                        Some(Ok(line)) => line,
                    };
                    link.last_heard = Instant::now();
                    link.ping_sent = false;
                    let Ok(line) = line else {
                        tracing::warn!("ignoring a line that is not UTF-8");
                        continue;
                    };
                    match ServerMessage::parse(&line) {
                        Ok(msg) => self.on_server(&mut link, msg).await?,
                        // A newer server may send lines this build does not know; they are not fatal.
                        Err(e) => tracing::warn!("ignoring an unreadable line: {e}"),
                    }
                }
                cmd = self.commands.recv() => self.on_command(&mut link, cmd).await?,
                Some(report) = self.files.reports.recv() => {
                    let ready = (link.auth == Auth::Ready).then_some(&mut link);
                    self.on_report(ready, report).await?
                }
                _ = tick.tick() => {
                    let now = Instant::now();
                    if let Some(deadline) = link.deadline && now >= deadline {
                        return Err(match link.auth {
                            Auth::LoggingOut => End::Stop(StopReason::LoggedOut),
                            _ => ConnectionError::LoginTimeout(timing.connect_timeout).into(),
                        });
                    }
                    let silent = now.duration_since(link.last_heard);
                    if silent >= timing.dead_after {
                        return Err(ConnectionError::Silent(silent).into());
                    }
                    if silent >= timing.ping_after && !link.ping_sent {
                        link.nonce += 1;
                        link.ping_sent = true;
                        link.send(&ClientMessage::Ping { nonce: link.nonce }).await?;
                    }
                }
            }
        }
    }

    async fn start_login(&mut self, link: &mut Link) -> Result<(), End> {
        link.deadline = Some(Instant::now() + self.config.timing.connect_timeout);
        if !self.registered {
            link.auth = Auth::Registering;
            link.send(&ClientMessage::Register {
                account: self.config.account.clone(),
                password: self.config.password.clone(),
                nickname: self.config.nickname.clone(),
            })
            .await?;
        } else if let Some(token) = self.token.clone() {
            link.auth = Auth::Resuming;
            link.send(&ClientMessage::Resume {
                account: self.me.clone(),
                token,
            })
            .await?;
        } else {
            self.send_login(link, false).await?;
        }
        Ok(())
    }

    async fn send_login(&mut self, link: &mut Link, after_taken: bool) -> Result<(), End> {
        link.auth = Auth::LoggingIn { after_taken };
        link.send(&ClientMessage::Login {
            account: self.config.account.clone(),
            password: self.config.password.clone(),
        })
        .await?;
        Ok(())
    }

    /// Login refusals that no retry can fix stop the client; the rest (busy, rate limited, internal) retry.
    fn login_refused(code: ErrorCode, text: String) -> End {
        match code {
            ErrorCode::BadCredentials
            | ErrorCode::Disabled
            | ErrorCode::InvalidAccount
            | ErrorCode::InvalidPassword
            | ErrorCode::NoSuchUser => End::Stop(StopReason::LoginRefused { code, text }),
            code => ConnectionError::LoginDeferred { code, text }.into(),
        }
    }

    /// A single change to one friend (added, renamed, remarked), not a listing.
    async fn friend_changed(&mut self, friend: Friend) -> Result<(), End> {
        let f = friend.clone();
        self.store.call(move |s| s.upsert_friend(&f)).await?;
        self.emit(Event::FriendChanged(friend));
        Ok(())
    }

    /// A friend request that has just arrived, not a listing.
    async fn friend_request(&mut self, request: FriendRequest) -> Result<(), End> {
        let r = request.clone();
        self.store.call(move |s| s.upsert_request(&r)).await?;
        self.emit(Event::FriendRequest(request));
        Ok(())
    }

    /// A single change to one group (joined or renamed), not a listing.
    async fn group_changed(&mut self, info: Group) -> Result<(), End> {
        let g = info.clone();
        self.store.call(move |s| s.upsert_group(&g)).await?;
        self.emit(Event::GroupChanged(info));
        Ok(())
    }

    async fn on_server(&mut self, link: &mut Link, msg: ServerMessage) -> Result<(), End> {
        use ServerMessage as S;
        match msg {
            S::Ping { nonce } => link.send(&ClientMessage::Pong { nonce }).await?,
            S::Pong { .. } => {}
            S::RegisterOk { account } if link.auth == Auth::Registering => {
                self.registered = true;
                self.emit(Event::Registered { account });
                self.send_login(link, false).await?;
            }
            S::RegisterFailed { code, text } if link.auth == Auth::Registering => match code {
                ErrorCode::AccountTaken => {
                    // Perhaps ours, from an attempt whose reply was lost: the password decides.
                    self.registered = true;
                    self.send_login(link, true).await?;
                }
                ErrorCode::InvalidAccount | ErrorCode::InvalidPassword | ErrorCode::Disabled => {
                    return Err(End::Stop(StopReason::RegisterRefused { code, text }));
                }
                code => return Err(ConnectionError::LoginDeferred { code, text }.into()),
            },
            S::LoginFailed { code, text } => match link.auth {
                Auth::Resuming => {
                    // The token expired or was revoked: fall back to the password on the same connection.
                    self.token = None;
                    self.send_login(link, false).await?;
                }
                Auth::LoggingIn { after_taken } => {
                    if after_taken && code == ErrorCode::BadCredentials {
                        return Err(End::Stop(StopReason::RegisterRefused {
                            code: ErrorCode::AccountTaken,
                            text: "the account name is taken".into(),
                        }));
                    }
                    return Err(Self::login_refused(code, text));
                }
                _ => tracing::warn!("unexpected login reply"),
            },
            S::LoginOk {
                user_id,
                account,
                nickname,
                token,
                limits,
            } if matches!(link.auth, Auth::Resuming | Auth::LoggingIn { .. }) => {
                self.on_logged_in(link, user_id, account, nickname, token, limits)
                    .await?;
            }
            S::Bye { code, text } => {
                if link.auth == Auth::LoggingOut || code == ErrorCode::LoggedOut {
                    return Err(End::Stop(StopReason::LoggedOut));
                }
                // The account was disabled, or its password changed elsewhere (this device's token is
                // revoked and its password is the old one): reconnecting cannot help, so stop and say
                // why rather than loop on a refused login.
                if matches!(code, ErrorCode::Disabled | ErrorCode::PasswordChanged) {
                    return Err(End::Stop(StopReason::LoginRefused { code, text }));
                }
                return Err(ConnectionError::Bye { code, text }.into());
            }
            S::Msg(m) => {
                let incoming = incoming_chat(m, &self.me);
                self.on_message(link, incoming).await?;
            }
            S::GroupMsg(m) => self.on_message(link, incoming_group(m)).await?,
            S::FileOffer(m) => {
                let incoming = incoming_file(m, &self.me);
                self.on_message(link, incoming).await?;
            }
            S::Ack {
                client_id,
                id,
                time,
            } => {
                self.on_file_ack(link, &client_id).await?;
                if let Some(m) = self
                    .store
                    .call(move |s| s.mark_sent(&client_id, id, time))
                    .await?
                {
                    self.emit(Event::MessageState(m));
                }
            }
            S::SyncEnd { last_id, more } => {
                let after = link.syncing.take().unwrap_or(0);
                link.synced_to = self
                    .store
                    .call(move |s| s.advance_sync_cursor(last_id))
                    .await?;
                // `more` with no progress would loop forever on a confused server; stop paging instead.
                if more && last_id > after {
                    self.send_sync(link, last_id).await?;
                } else {
                    self.emit(Event::Synced {
                        new_messages: std::mem::take(&mut link.synced_new),
                    });
                }
            }
            S::HistoryEnd { conv, more, .. } => {
                let lists = &mut link.lists;
                if let Some(pos) = lists.history.iter().position(|(c, _)| *c == conv) {
                    lists.history.remove(pos);
                }
                let (mut page, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut lists.history_page)
                    .into_iter()
                    .partition(|m| m.conv == conv);
                lists.history_page = rest;
                page.sort_by_key(|m| (m.server_id, m.local_id));
                page.dedup_by_key(|m| m.local_id);
                self.emit(Event::History {
                    conv,
                    messages: page,
                    more,
                });
            }
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
            } => link.lists.found.items.push(FoundUser {
                account,
                nickname,
                presence,
            }),
            S::FoundEnd { count } => {
                // Search results are only ever a reply, so there is no news among them.
                let found = link.lists.found.finish(count).list;
                self.emit(Event::FoundUsers(found));
            }
            S::Friend {
                account,
                presence,
                nickname,
                remark,
            } => {
                let friend = Friend {
                    account,
                    nickname,
                    remark,
                    presence,
                };
                if let Some(friend) = link.lists.friends.offer(friend) {
                    self.friend_changed(friend).await?;
                }
            }
            S::FriendsEnd { count } => {
                let Finished { news, list } = link.lists.friends.finish(count);
                for friend in news {
                    self.friend_changed(friend).await?;
                }
                let stored = list.clone();
                self.store.call(move |s| s.replace_friends(&stored)).await?;
                self.emit(Event::Friends(list));
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
                if let Some(request) = link.lists.requests.offer(request) {
                    self.friend_request(request).await?;
                }
            }
            S::RequestWaiting { to, time, nickname } => {
                link.lists.waiting.push(SentRequest { to, nickname, time });
            }
            S::RequestsEnd { count } => {
                let waiting = std::mem::take(&mut link.lists.waiting);
                let Finished { news, list } = link.lists.requests.finish(count);
                for request in news {
                    self.friend_request(request).await?;
                }
                let stored = list.clone();
                self.store
                    .call(move |s| s.replace_requests(&stored))
                    .await?;
                self.emit(Event::FriendRequests(list));
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
                if let Some(info) = link.lists.groups.offer(info) {
                    self.group_changed(info).await?;
                }
            }
            S::GroupsEnd { count } => {
                let Finished { news, list } = link.lists.groups.finish(count);
                for info in news {
                    self.group_changed(info).await?;
                }
                let stored = list.clone();
                self.store.call(move |s| s.replace_groups(&stored)).await?;
                self.emit(Event::Groups(list));
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
            } => {
                let member = Member {
                    group,
                    account,
                    nickname,
                    role,
                    presence,
                };
                // `MEMBER:` is both a list entry and the news that someone joined.
                if let Some(member) = link.lists.members.entry(group).or_default().offer(member) {
                    self.emit(Event::MemberJoined(member));
                }
            }
            S::MembersEnd { group, count } => {
                let Finished { news, list } =
                    link.lists.members.entry(group).or_default().finish(count);
                for member in news {
                    self.emit(Event::MemberJoined(member));
                }
                self.emit(Event::Members {
                    group,
                    members: list,
                });
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
            S::Profile { account, nickname } => {
                if account == self.me {
                    self.emit(Event::Profile { nickname });
                }
            }
            S::Error { code, text, about } => self.on_error(link, code, text, about).await?,
            S::FileUpload {
                file,
                token,
                offset,
            } => self.on_file_upload(link, file, token, offset).await?,
            S::FileDownload { file, token, size } => {
                self.on_file_download(file, token, size).await?
            }
            S::FileState { file, state } => self.on_file_state(file, state).await?,
            S::RegisterOk { .. }
            | S::RegisterFailed { .. }
            | S::LoginOk { .. }
            | S::PasswordChanged
            | S::FileProgress { .. } => {
                tracing::debug!("ignoring a line this client does not use");
            }
        }
        Ok(())
    }

    async fn on_error(
        &mut self,
        link: &mut Link,
        code: ErrorCode,
        text: String,
        about: Option<String>,
    ) -> Result<(), End> {
        if self
            .on_file_error(link, &code, &text, about.as_deref())
            .await?
        {
            return Ok(());
        }
        if code == ErrorCode::RateLimited
            && let Some(about) = &about
        {
            // Not a failure: the message waits its turn and goes again (see `pace`).
            let client_id = about.clone();
            if let Some(m) = self
                .store
                .call(move |s| s.pending_message(&client_id))
                .await?
            {
                tracing::debug!("the server asked to slow down; sending again shortly");
                link.pace
                    .refused(m.client_id.clone(), send_line(&m), Instant::now());
                return Ok(());
            }
        }
        if let Some(about) = &about {
            let client_id = about.clone();
            let reason = if text.is_empty() {
                code.to_string()
            } else {
                format!("{text} ({code})")
            };
            if let Some(m) = self
                .store
                .call(move |s| s.mark_failed(&client_id, &reason))
                .await?
            {
                self.emit(Event::MessageState(m));
                return Ok(());
            }
            // A failed member listing or history request will never see its end line.
            if let Ok(group) = about.parse::<u64>()
                && let Some(gathering) = link.lists.members.get_mut(&group)
            {
                for member in gathering.fail() {
                    self.emit(Event::MemberJoined(member));
                }
            }
            let history = &mut link.lists.history;
            if let Some(pos) = history.iter().position(|(conv, _)| conv.key() == *about) {
                history.remove(pos);
            }
        }
        if code == ErrorCode::NotLoggedIn {
            // The server has forgotten this session: log in again from the top.
            return Err(ConnectionError::Bye { code, text }.into());
        }
        self.emit(Event::Error { code, text, about });
        Ok(())
    }

    async fn on_logged_in(
        &mut self,
        link: &mut Link,
        user_id: u64,
        account: String,
        nickname: String,
        token: String,
        limits: Limits,
    ) -> Result<(), End> {
        link.auth = Auth::Ready;
        link.deadline = None;
        self.me = account.clone();
        if !token.is_empty() {
            self.token = Some(token);
        }
        self.limits = limits;
        self.backoff.reset();
        let login = LastLogin {
            server: self.config.server.clone(),
            account: account.clone(),
        };
        let dir = self.data_dir.clone();
        // Only prefills a login form: not worth stopping the client over.
        if let Err(e) = self
            .store
            .call(move |_| crate::storage::save_last_login(&dir, &login))
            .await
        {
            tracing::warn!("cannot save the last login: {e}");
        }
        self.emit(Event::LoggedIn {
            account,
            nickname,
            user_id,
            limits,
        });

        // Catch up first, so that what arrived while away is stored before anything new happens.
        let cursor = self.store.call(|s| s.sync_cursor()).await?;
        link.synced_to = cursor;
        self.send_sync(link, cursor).await?;
        // Then the outbox, oldest first; the server drops the ones it already has by client id and ACKs them.
        link.pace = Pacer::new(self.limits.rate, Instant::now());
        let pending = self.store.call(|s| s.pending()).await?;
        for m in &pending {
            link.pace.push(m.client_id.clone(), send_line(m));
        }
        for line in link.pace.ready(Instant::now()) {
            link.feed(&line).await?;
        }
        for request in [
            ClientMessage::ListFriends,
            ClientMessage::ListRequests,
            ClientMessage::ListGroups,
        ] {
            link.expect_reply(&request);
            link.feed(&request).await?;
        }
        while let Some(request) = self.queued.pop_front() {
            link.expect_reply(&request);
            link.feed(&request).await?;
        }
        // Unfinished transfers: offered or accepted again, so each resumes where the bytes stopped.
        self.resume_transfers(link).await?;
        link.flush().await?;
        Ok(())
    }

    /// Writes the paced messages whose turn has come.
    async fn send_paced(&mut self, link: &mut Link) -> Result<(), End> {
        let ready = link.pace.ready(Instant::now());
        if ready.is_empty() {
            return Ok(());
        }
        for line in &ready {
            link.feed(line).await?;
        }
        link.flush().await?;
        Ok(())
    }

    async fn send_sync(&mut self, link: &mut Link, after: u64) -> Result<(), End> {
        link.syncing = Some(after);
        link.send(&ClientMessage::Sync {
            after,
            limit: self.config.timing.sync_page.max(1),
        })
        .await?;
        Ok(())
    }

    async fn on_message(&mut self, link: &mut Link, incoming: Incoming) -> Result<(), End> {
        // A message below a pending `HISTORY:` request's ceiling is old by definition: stored without
        // counting it unread, and handed over in the one `History` event rather than as a new message.
        // Anything else is treated as live, and also joins the page if a request for its conversation is
        // pending, so the page is complete either way.
        let wanted = link.lists.history.iter().find(|(c, _)| *c == incoming.conv);
        let in_page = wanted.is_some();
        let old = wanted.is_some_and(|(_, ceiling)| incoming.server_id < *ceiling);
        let me = self.me.clone();
        let stored = self
            .store
            .call(move |s| s.store_incoming(&me, &incoming, !old))
            .await?;
        if in_page {
            let (Stored::New { message, .. } | Stored::Acked(message) | Stored::Duplicate(message)) =
                &stored;
            link.lists.history_page.push(message.clone());
        }
        if old {
            return Ok(());
        }
        match stored {
            Stored::New { message, unread } => {
                if link.syncing.is_some() {
                    link.synced_new += 1;
                }
                let conv = message.conv.clone();
                self.emit(Event::Message(message));
                if let Some(unread) = unread {
                    self.emit(Event::Unread { conv, unread });
                }
            }
            Stored::Acked(message) => self.emit(Event::MessageState(message)),
            Stored::Duplicate(_) => {}
        }
        Ok(())
    }

    /// Stores a message the user wrote: pending, or failed at once if the server would refuse it anyway.
    async fn queue_message(
        &mut self,
        conv: Conv,
        client_id: String,
        text: String,
    ) -> Result<Message, End> {
        let max = self.limits.text as usize;
        // A Windows line break is the newline it means (the server refuses a CR in text).
        let text = if text.contains('\r') {
            text.replace("\r\n", "\n")
        } else {
            text
        };
        let error = if text.trim().is_empty() {
            Some("the message is empty".to_owned())
        } else if text.chars().count() > max {
            Some(format!("the message is longer than {max} characters"))
        } else if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            // The server refuses them too: a terminal would obey them (issue 20, item 5).
            Some("the message contains control characters other than tab and newline".to_owned())
        } else {
            None
        };
        let me = self.me.clone();
        let time = now_millis();
        let message = self
            .store
            .call(move |s| s.queue_outgoing(&conv, &me, &client_id, &text, time, error.as_deref()))
            .await?;
        self.emit(Event::Message(message.clone()));
        Ok(message)
    }

    /// Commands that need no connection. Shared by the online and offline paths.
    async fn local_command(&mut self, cmd: &Command) -> Result<bool, End> {
        match cmd {
            Command::Search { query, limit } => {
                let (q, limit) = (query.clone(), *limit);
                let messages = self.store.call(move |s| s.search(&q, limit)).await?;
                self.emit(Event::SearchResults {
                    query: query.clone(),
                    messages,
                });
                Ok(true)
            }
            Command::MarkRead { conv } => {
                let c = conv.clone();
                self.store.call(move |s| s.mark_read(&c)).await?;
                self.emit(Event::Unread {
                    conv: conv.clone(),
                    unread: 0,
                });
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn offline_command(&mut self, cmd: Option<Command>) -> Result<Offline, End> {
        // Every handle is gone: nobody can send or read any more.
        let Some(cmd) = cmd else {
            return Err(End::Stop(StopReason::Shutdown));
        };
        if self.local_command(&cmd).await? {
            return Ok(Offline::Continue);
        }
        match cmd {
            Command::Send {
                conv,
                client_id,
                text,
            } => {
                self.queue_message(conv, client_id, text).await?;
            }
            Command::Retry { client_id } => {
                if let Some(m) = self.store.call(move |s| s.mark_pending(&client_id)).await? {
                    self.emit(Event::MessageState(m));
                }
            }
            Command::Request(request) => {
                if self.queued.len() >= MAX_QUEUED {
                    self.queued.pop_front();
                }
                self.queued.push_back(request);
            }
            Command::File(cmd) => self.file_command(None, cmd).await?,
            Command::ReconnectNow => return Ok(Offline::Wake),
            // Without a connection the token cannot be revoked; forgetting it is all that can be done.
            Command::Logout => return Err(End::Stop(StopReason::LoggedOut)),
            Command::Shutdown => return Err(End::Stop(StopReason::Shutdown)),
            Command::Search { .. } | Command::MarkRead { .. } => {}
        }
        Ok(Offline::Continue)
    }

    async fn on_command(&mut self, link: &mut Link, cmd: Option<Command>) -> Result<(), End> {
        if link.auth != Auth::Ready {
            // Not logged in yet: store and queue; the login sends everything.
            return match self.offline_command(cmd).await? {
                Offline::Continue | Offline::Wake => Ok(()),
            };
        }
        let Some(cmd) = cmd else {
            return Err(End::Stop(StopReason::Shutdown));
        };
        if self.local_command(&cmd).await? {
            return Ok(());
        }
        match cmd {
            Command::Send {
                conv,
                client_id,
                text,
            } => {
                let message = self.queue_message(conv, client_id, text).await?;
                if message.state == crate::MessageState::Pending {
                    link.pace
                        .push(message.client_id.clone(), send_line(&message));
                    self.send_paced(link).await?;
                }
            }
            Command::Retry { client_id } => {
                if let Some(m) = self.store.call(move |s| s.mark_pending(&client_id)).await? {
                    self.emit(Event::MessageState(m.clone()));
                    link.pace.push(m.client_id.clone(), send_line(&m));
                    self.send_paced(link).await?;
                }
            }
            Command::Request(request) => {
                link.expect_reply(&request);
                link.send(&request).await?;
            }
            Command::File(cmd) => self.file_command(Some(link), cmd).await?,
            Command::ReconnectNow => {}
            Command::Logout => {
                link.auth = Auth::LoggingOut;
                link.deadline = Some(Instant::now() + self.config.timing.connect_timeout);
                self.token = None;
                link.send(&ClientMessage::Logout).await?;
            }
            Command::Shutdown => return Err(End::Stop(StopReason::Shutdown)),
            Command::Search { .. } | Command::MarkRead { .. } => {}
        }
        Ok(())
    }
}
