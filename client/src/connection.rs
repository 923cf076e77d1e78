//! The task that owns the connection: connect, log in (register / resume / password), sync, resend the
//! outbox, relay commands and events, keep the heartbeat, and reconnect with backoff when anything breaks.
//!
//! It is one sequential loop, which is what keeps the outbox in order: a command is fully handled (stored,
//! then written) before the next one is looked at, and after a reconnect every pending message is resent,
//! oldest first, before any new command is handled.
//!
//! File transfers are the exception that proves it: their bytes move on worker tasks with connections of
//! their own (see `files`), which report back here, so a big file never holds up chat.
//!
//! This file is the task's life: the run loop, connecting and serving, the [`Link`] and the commands. What
//! the server says is handed by area to `impl Session` blocks of their own, as the server's services are:
//! `login` (register, log in, resume, `BYE:`), `lists` (friends, requests, groups, members, found users),
//! `messages` (chat, a group's changes, `ACK:`, sync, history, the outbox) and `files` (transfers; their workers are in
//! `files/worker`). It runs a little over 600 lines because the loop, its offline twin and the commands
//! share the [`Session`] and [`Link`] they define; splitting them would only move the definitions away.

mod avatars;
mod files;
mod lists;
mod login;
mod messages;
mod pace;
mod said;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use futures::{SinkExt, StreamExt};
use ququ_protocol::{ClientMessage, Conv, ErrorCode, Limits, LineCodec, Mentions, ServerMessage};
use tokio::io::{ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::backoff::Backoff;
use crate::config::Config;
use crate::event::{Event, StopReason};
use crate::storage::{StorageError, Store};
use crate::tls::{ConnectError, Connector, Stream};
use crate::transfer::TransferId;
use lists::Lists;
use login::Auth;
use pace::Pacer;
use said::SaidState;

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
        /// The server id of the message it answers.
        reply_to: Option<u64>,
        mentions: Mentions,
    },
    Recall {
        id: u64,
    },
    Typing {
        to: String,
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
        /// `None`: all of it.
        up_to: Option<u64>,
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
    /// Features, recalls in flight, read marks being listed (see `said`).
    said: SaidState,
    /// Avatar pictures being fetched (see `avatars`).
    avatars: avatars::AvatarState,
}

impl Link {
    fn is_ready(&self) -> bool {
        self.auth == Auth::Ready
    }

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
}

/// A refusal from the server as a failed message or transfer shows it: its text, and its code.
fn reason(code: &ErrorCode, text: &str) -> String {
    if text.is_empty() {
        code.to_string()
    } else {
        format!("{text} ({code})")
    }
}

/// What an offline command asks of the wait it interrupted.
enum Offline {
    Continue,
    Wake,
}

pub(crate) struct Session {
    config: Config,
    /// Whose avatar bytes this client has handed over (see `avatars`).
    avatars_handed: avatars::Handed,
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
    /// When a `TYPING:` last went to each friend (see `said::TYPING_EVERY`).
    typing_sent: HashMap<String, Instant>,
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
            avatars_handed: avatars::Handed::default(),
            me: config.account.clone(),
            // A saved token from an earlier run: the first login tries it before the password.
            token: config.token.as_ref().map(|t| t.secret().to_owned()),
            registered: !config.register,
            connector: Connector::new(&config.server, config.tls, &data_dir),
            config,
            data_dir,
            store,
            events,
            commands,
            backoff,
            limits: Limits::default(),
            queued: VecDeque::new(),
            files: files::Files::new(),
            typing_sent: HashMap::new(),
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
            said: SaidState::default(),
            avatars: avatars::AvatarState::default(),
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
                    self.flush_reads(&mut link).await?;
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

    /// Hands a line from the server to its area. No catch-all: a new kind of line must be given one.
    async fn on_server(&mut self, link: &mut Link, msg: ServerMessage) -> Result<(), End> {
        use ServerMessage as S;
        match msg {
            S::Ping { nonce } => link.send(&ClientMessage::Pong { nonce }).await?,
            S::Pong { .. } => {}
            S::RegisterOk { .. }
            | S::RegisterFailed { .. }
            | S::LoginFailed { .. }
            | S::LoginOk { .. }
            | S::Bye { .. }
            | S::Profile { .. } => self.on_login_line(link, msg).await?,
            S::Msg(_)
            | S::GroupMsg(_)
            | S::FileOffer(_)
            | S::GroupEvent(_)
            | S::Ack { .. }
            | S::SyncEnd { .. }
            | S::HistoryEnd { .. } => self.on_message_line(link, msg).await?,
            S::Presence { .. }
            | S::Found { .. }
            | S::FoundEnd { .. }
            | S::Friend { .. }
            | S::FriendsEnd { .. }
            | S::FriendRequest { .. }
            | S::RequestWaiting { .. }
            | S::RequestsEnd { .. }
            | S::RequestSent { .. }
            | S::RequestClosed { .. }
            | S::FriendRejected { .. }
            | S::FriendRemoved { .. }
            | S::GroupInfo { .. }
            | S::GroupsEnd { .. }
            | S::GroupPolicy { .. }
            | S::GroupGone { .. }
            | S::Member { .. }
            | S::MembersEnd { .. }
            | S::MemberLeft { .. }
            | S::Blocked { .. }
            | S::Unblocked { .. }
            | S::BlocksEnd { .. }
            | S::Category { .. }
            | S::CategoriesEnd { .. }
            | S::CategoryGone { .. }
            | S::CategoryOrder { .. } => self.on_list_line(link, msg).await?,
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
            S::Features { .. }
            | S::Said(_)
            | S::Recalled(_)
            | S::Read { .. }
            | S::ReadsEnd { .. }
            | S::Typing { .. } => self.on_said_line(link, msg).await?,
            S::PasswordChanged => self.emit(Event::PasswordChanged),
            S::FileProgress { .. } => {
                tracing::debug!("ignoring a line this client does not use");
            }
            // Group management (issue 25): each line is told as it comes; a listing of join requests is
            // its lines, and its end says nothing more.
            S::GroupRole {
                group,
                account,
                role,
            } => self.emit(Event::MemberRole {
                group,
                account,
                role,
            }),
            S::GroupMute {
                group,
                account,
                until,
            } => self.emit(Event::MemberMuted {
                group,
                account,
                until,
            }),
            S::GroupMuteAll { group, on } => self.emit(Event::GroupMutedAll { group, on }),
            S::GroupNotice {
                group,
                by,
                time,
                text,
            } => self.emit(Event::GroupNotice {
                group,
                by,
                time,
                text,
            }),
            S::GroupJoinRequest {
                group,
                account,
                time,
                nickname,
            } => self.emit(Event::JoinRequest {
                group,
                account,
                nickname,
                time,
            }),
            S::GroupJoinClosed { group, account } => {
                self.emit(Event::JoinRequestClosed { group, account })
            }
            S::GroupJoinSent { group } => self.emit(Event::JoinRequestSent { group }),
            S::GroupJoinRejected { group } => self.emit(Event::JoinRequestDeclined { group }),
            S::GroupRequestsEnd { .. } => {}
            S::AvatarOf { .. } | S::Avatar { .. } => self.on_avatar_line(link, msg).await?,
        }
        Ok(())
    }

    /// An `ERROR:` goes to what it is about: a transfer, a message, a request whose reply will not come.
    async fn on_error(
        &mut self,
        link: &mut Link,
        code: ErrorCode,
        text: String,
        about: Option<String>,
    ) -> Result<(), End> {
        if self.features_refused(link, &code, about.as_deref())
            || Self::avatar_refused(link, &code, about.as_deref())
        {
            return Ok(());
        }
        if self
            .on_file_error(link, &code, &text, about.as_deref())
            .await?
        {
            return Ok(());
        }
        if let Some(about) = &about
            && self.recall_refused(link, &code, &text, about)
        {
            return Ok(());
        }
        if let Some(about) = &about {
            if self.message_refused(link, &code, &text, about).await? {
                return Ok(());
            }
            // A failed member listing or history request will never see its end line.
            self.reply_failed(link, about).await?;
        }
        if code == ErrorCode::NotLoggedIn {
            // The server has forgotten this session: log in again from the top.
            return Err(ConnectionError::Bye { code, text }.into());
        }
        self.emit(Event::Error { code, text, about });
        Ok(())
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
                reply_to,
                mentions,
            } => {
                self.queue_message(conv, client_id, text, reply_to, mentions)
                    .await?;
            }
            // Sent after the next login, which says whether the server can recall at all.
            Command::Recall { id } => {
                if self.queued.len() >= MAX_QUEUED {
                    self.queued.pop_front();
                }
                self.queued.push_back(ClientMessage::Recall { id });
            }
            // Typing is news only now.
            Command::Typing { .. } => {}
            Command::MarkRead { conv, up_to } => self.mark_read(None, conv, up_to).await?,
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
            Command::Search { .. } => {}
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
                reply_to,
                mentions,
            } => {
                let message = self
                    .queue_message(conv, client_id, text, reply_to, mentions)
                    .await?;
                if message.state == crate::MessageState::Pending {
                    self.outbox_push(link, &message).await?;
                    self.send_paced(link).await?;
                }
            }
            Command::Retry { client_id } => {
                if let Some(m) = self.store.call(move |s| s.mark_pending(&client_id)).await? {
                    self.emit(Event::MessageState(m.clone()));
                    self.outbox_push(link, &m).await?;
                    self.send_paced(link).await?;
                }
            }
            Command::Recall { id } => {
                self.feed_recall(link, id).await?;
                link.flush().await?;
            }
            Command::Typing { to } => self.send_typing(link, to).await?,
            Command::MarkRead { conv, up_to } => self.mark_read(Some(link), conv, up_to).await?,
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
            Command::Search { .. } => {}
        }
        Ok(())
    }
}
