//! The service layer: what each request means, who may do it, and who hears about it.
//!
//! It never sees a socket. The session layer hands it parsed [`ClientMessage`]s with the caller's
//! [`SessionCtx`] and writes back the replies it returns; lines for other users go through the [`Hub`].
//! Storage is reached only through the [`Store`] trait, on tokio's blocking pool.
//!
//! # Layout
//! - `mod.rs` — [`Services`], the dispatcher ([`Services::handle`]), [`ServiceError`].
//! - `accounts` — register, login, resume, logout, nickname, profile, password.
//! - `friends` — search, requests, friends, remarks, presence notices, the block list.
//! - `groups` — group lifecycle and membership.
//! - `avatars` — users' and groups' avatars, kept by digest, and who is told of them.
//! - `files` — relayed files: offers, transfer tokens, uploads, downloads, expiry.
//! - `messages` — private and group messages, sync, history.
//! - `nodes` — this server as one node of several on a database: heartbeats, reaping silent nodes,
//!   leading the periodic sweeps.
//! - `writer` — the message writer: every queued message stored in one transaction (group commit).
//! - `relay` — cluster mode: every stored message, whichever node stored it, to this node's sessions in
//!   id order.
//! - `passing` — cluster mode: every other line (requests, members, typing, presence…) to the other
//!   nodes' sessions, and theirs to this node's.
//! - `hub` — online sessions and their outboxes.
//! - `throttle` — login and registration throttling per address and per account; the message rate limit.
//! - `space` — free disk space: writes refused early with `storage_full`, and a reserve for a full disk.
//! - `hashing` — password hashing on one thread per core, so a burst of logins cannot take the memory.

pub(crate) mod accounts;
mod avatars;
mod files;
mod friends;
mod groups;
pub(crate) mod hashing;
pub mod hub;
mod messages;
mod nodes;
mod passing;
mod relay;
pub mod space;
pub mod throttle;
mod writer;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ququ_protocol::{ClientMessage, ErrorCode, Features, Millis, ServerMessage};

use crate::Config;
use crate::storage::{Store, StoreError, UserId};
pub use hub::{Hub, Line, SessionId, SessionLink};

/// Raises the id in `newest` to `id` if that is higher, waking its watchers only then: the newest
/// message id stored (the relay, for the bus) or heard of (the bus, for the relay).
pub fn raise_to(newest: &tokio::sync::watch::Sender<u64>, id: u64) {
    newest.send_if_modified(|newest| {
        let newer = id > *newest;
        *newest = (*newest).max(id);
        newer
    });
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request was understood and refused: answered with this code and text.
    #[error("{code}: {text}")]
    Refused {
        code: ErrorCode,
        text: String,
        about: Option<String>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the message writer has stopped")]
    WriterStopped,
}

impl ServiceError {
    pub(crate) fn refused(code: ErrorCode, text: impl Into<String>) -> Self {
        ServiceError::Refused {
            code,
            text: text.into(),
            about: None,
        }
    }

    /// Names what the failed request was about, so a client can match the error to it: a refused
    /// message's client id, which a failure inside the server names too (it is said, and logged, here).
    pub(crate) fn about(self, what: impl Into<String>) -> Self {
        let (code, text) = match self {
            ServiceError::Refused { code, text, .. } => (code, text),
            other => {
                let (code, text) = other.said();
                (code, text.to_owned())
            }
        };
        ServiceError::Refused {
            code,
            text,
            about: Some(what.into()),
        }
    }

    /// The line the caller gets. Internal failures are logged here and reported without detail.
    pub fn to_message(&self) -> ServerMessage {
        match self {
            ServiceError::Refused { code, text, about } => ServerMessage::Error {
                code: code.clone(),
                text: text.clone(),
                about: about.clone(),
            },
            other => {
                let (code, text) = other.said();
                ServerMessage::error(code, text)
            }
        }
    }

    /// What a caller hears of a failure inside the server, logged here: `unavailable` while the
    /// database cannot be reached (it will be again: the client sends once more, and a message is not
    /// failed), `internal` for anything else.
    fn said(&self) -> (ErrorCode, &'static str) {
        match self {
            ServiceError::Store(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "request refused: the database cannot be reached");
                (
                    ErrorCode::Unavailable,
                    "the server cannot reach its database just now; try again shortly",
                )
            }
            other => {
                tracing::error!(error = %other, "request failed");
                (ErrorCode::Internal, "the server failed; try again")
            }
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The logged-in user of a session.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserId,
    pub account: String,
    /// Hash of this session's resume token, revoked at logout.
    pub token_hash: String,
}

/// One connection's state as the service sees it.
#[derive(Debug)]
pub struct SessionCtx {
    pub id: SessionId,
    /// The client's address, for throttling.
    pub peer: std::net::IpAddr,
    /// This session's entry in the hub, registered at login.
    pub link: SessionLink,
    pub caller: Option<Caller>,
}

/// What the session should do after a request.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Lines for this connection, in order.
    pub replies: Vec<ServerMessage>,
    /// Close the connection after writing the replies.
    pub close: bool,
}

impl From<Vec<ServerMessage>> for Outcome {
    fn from(replies: Vec<ServerMessage>) -> Self {
        Outcome {
            replies,
            close: false,
        }
    }
}

/// Everything the server does, shared by every session.
pub struct Services {
    store: Arc<dyn Store>,
    pub hub: Hub,
    config: Arc<Config>,
    grants: files::Grants,
    rate: throttle::MessageRate,
    /// The same kind of bucket for every other verb that writes or tells someone (issue 20, item 6).
    actions: throttle::MessageRate,
    /// Bytes of message text one user may store a day (issue 20, item 6).
    volume: throttle::MessageRate,
    /// `TYPING:` lines a user may send: one a second (issue 24).
    typing: throttle::MessageRate,
    hashing: hashing::Hashing,
    writer: writer::Writer,
    /// Cluster mode (a store several servers share): see `relay.rs`. `None` with one server.
    relay: Option<Arc<relay::Relay>>,
    /// Cluster mode: see `passing.rs`. `None` with one server.
    passer: Option<passing::Passer>,
    /// The free-space gate for writes (issue 20, item 10).
    space: Arc<space::Space>,
    /// Issue 20, item 12: one user's syncs in turn.
    syncs: messages::SyncGate,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

impl Services {
    pub fn new(store: Arc<dyn Store>, config: Arc<Config>) -> Self {
        Services {
            store,
            hub: Hub::default(),
            grants: files::Grants::default(),
            rate: throttle::MessageRate::new(config.limits.rate),
            actions: throttle::MessageRate::new(config.limits.actions),
            volume: throttle::MessageRate::per_day(config.text_per_day),
            typing: throttle::MessageRate::new(1),
            hashing: hashing::Hashing::per_core(),
            writer: writer::Writer::default(),
            relay: None,
            passer: None,
            space: Arc::new(space::Space::new(
                config.data_dir.clone(),
                config.disk_headroom,
            )),
            syncs: messages::SyncGate::default(),
            config,
        }
    }

    /// Cluster mode: this node delivers every message stored by any node sharing the store, in id
    /// order (`relay.rs`), from the newest one stored now on, and passes every other line it pushes to
    /// the other nodes' sessions, and theirs to its own (`passing.rs`). Blocking (it reads the newest
    /// id, and who is online).
    pub fn relay_all(mut self) -> std::result::Result<Self, StoreError> {
        self.relay = Some(Arc::new(relay::Relay::start(
            self.store.clone(),
            self.hub.here(),
        )?));
        let (passer, outgoing) = tokio::sync::mpsc::unbounded_channel();
        self.hub = self.hub.passing_to(passer);
        self.passer = Some(passing::Passer::new(outgoing));
        self.start_passing()?;
        Ok(self)
    }

    /// Cluster mode: delivers what other nodes have stored up to `up_to` (`u64::MAX`: whatever there is
    /// now), for the bus and the poll. Nothing without a relay.
    pub async fn deliver_stored(&self, up_to: u64) {
        let Some(relay) = self.relay.clone() else {
            return;
        };
        match tokio::task::spawn_blocking(move || relay.catch_up(up_to)).await {
            Ok(wakes) => wakes.wake(),
            Err(e) => tracing::warn!(error = %e, "delivering stored messages failed"),
        }
    }

    /// Cluster mode: the newest message id this node has stored, as it changes (for the bus to tell the
    /// other nodes); `None` with one server.
    pub fn stored_ids(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.relay.as_ref().map(|r| r.stored_ids())
    }

    /// Cluster mode: hands one of this node's messages stored outside the writer to the relay, which
    /// pushes it in id order; true if it did (the caller pushes nothing). False with one server: the
    /// caller pushes it, as always.
    pub(crate) async fn relayed(&self, id: u64) -> bool {
        let Some(relay) = self.relay.clone() else {
            return false;
        };
        match tokio::task::spawn_blocking(move || relay.release(id)).await {
            Ok(wakes) => wakes.wake(),
            Err(e) => tracing::warn!(error = %e, "handing a message to the relay failed"),
        }
        true
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The free-space gate, for the server's upkeep to tend.
    pub fn space(&self) -> Arc<space::Space> {
        self.space.clone()
    }

    /// Runs a storage call on the blocking pool.
    pub(crate) async fn db<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> std::result::Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await?
            .map_err(|e| self.store_error(e))
    }

    /// A storage failure as the caller hears it: a full disk is `storage_full` (it was `internal`), and
    /// closes the write gate until space is back.
    pub(crate) fn store_error(&self, e: StoreError) -> ServiceError {
        if e.is_full() || (e.is_io() && self.space.is_full_now()) {
            tracing::warn!(error = %e, "a write failed: the disk is full");
            self.space.full();
            space::Space::refusal()
        } else {
            ServiceError::Store(e)
        }
    }

    /// The message writer's task, for the server to wait on after dropping the service (it writes what
    /// is still queued, then ends). `None` if no message was ever sent.
    pub fn take_writer_task(&self) -> Option<tokio::task::JoinHandle<()>> {
        self.writer.take_task()
    }

    /// Answers one request. Errors become `ERROR:` lines; the connection carries on.
    pub async fn handle(&self, ctx: &mut SessionCtx, msg: ClientMessage) -> Outcome {
        let verb = msg.verb();
        answer(verb, self.dispatch(ctx, msg).await)
    }

    /// Starts a message send (`MSG:`, `GROUP:`) from a logged-in session and returns its answer as a
    /// future that borrows nothing, so the session can read its next request while this one is being
    /// stored: a client that pipelines messages has them written in batches (group commit). The message
    /// is queued before this returns, so messages are stored in the order the session read them.
    /// Anything else comes back unchanged, for [`Services::handle`].
    pub fn start_message(
        self: &Arc<Self>,
        ctx: &SessionCtx,
        msg: ClientMessage,
    ) -> std::result::Result<Pending, ClientMessage> {
        if ctx.caller.is_none() {
            return Err(msg);
        }
        let verb = msg.verb();
        let (to, client_id, text) = match msg {
            ClientMessage::Msg {
                to,
                client_id,
                text,
            } => (messages::Dest::Account(to), client_id, text),
            ClientMessage::GroupMsg {
                group,
                client_id,
                text,
            } => (messages::Dest::Group(group), client_id, text),
            other => return Err(other),
        };
        let queued = self
            .sender(ctx, &client_id, text.len())
            .and_then(|me| self.queue_message(me, ctx.id, to, client_id, text));
        let this = self.clone();
        Ok(Box::pin(async move {
            let result = match queued {
                Ok(queued) => this.finish_message(queued).await,
                Err(e) => Err(e),
            };
            answer(verb, result.map(Outcome::from))
        }))
    }

    async fn dispatch(&self, ctx: &mut SessionCtx, msg: ClientMessage) -> Result<Outcome> {
        use ClientMessage as C;
        let sid = ctx.id;
        // Writes are refused early while the disk is low; reading goes on.
        if ctx.caller.is_some()
            && cost(&msg) == Cost::Action
            && !matches!(msg, C::FileAccept { .. })
        {
            self.space.check()?;
        }
        if matches!(msg, C::Register { .. })
            && let Err(ServiceError::Refused { code, text, .. }) = self.space.check()
        {
            return Ok(vec![ServerMessage::RegisterFailed { code, text }].into());
        }
        if let Some(caller) = &ctx.caller
            && cost(&msg) == Cost::Action
        {
            self.actions.take(caller.user).map_err(|wait| {
                ServiceError::refused(
                    ErrorCode::RateLimited,
                    format!(
                        "too many changes, at most {} a second; try again in {} ms",
                        self.config.limits.actions,
                        wait.as_millis().max(1)
                    ),
                )
            })?;
        }
        let replies = match msg {
            // These work without logging in.
            C::Register {
                account,
                password,
                nickname,
            } => vec![self.register(ctx.peer, account, password, nickname).await],
            C::Login { account, password } => vec![self.login(ctx, account, password).await?],
            C::Resume { account, token } => vec![self.resume(ctx, account, token).await?],
            C::Ping { nonce } => vec![ServerMessage::Pong { nonce }],
            C::Features { features } => {
                let granted = features.and(Features::ALL);
                ctx.link.outbox.set_features(granted);
                vec![ServerMessage::Features { features: granted }]
            }
            C::Pong { .. } => Vec::new(),
            C::Logout => return self.logout(ctx).await,
            C::FilePut { .. } | C::FileGet { .. } => {
                return Err(ServiceError::refused(
                    ErrorCode::BadRequest,
                    "FILE_PUT and FILE_GET must be the first line of a new connection",
                ));
            }
            // Everything else needs a logged-in caller.
            C::SetNickname { nickname } => {
                let features = ctx.link.outbox.features();
                self.set_nickname(me(ctx)?, sid, features, nickname).await?
            }
            C::SetProfile { change } => {
                let features = ctx.link.outbox.features();
                self.set_profile(me(ctx)?, sid, features, change).await?
            }
            C::GetProfile { account } => {
                let features = ctx.link.outbox.features();
                self.get_profile(me(ctx)?, features, account).await?
            }
            C::SetAvatar { image } => self.set_avatar(me(ctx)?, sid, image).await?,
            C::SetGroupAvatar { group, image } => {
                self.set_group_avatar(me(ctx)?, sid, group, image).await?
            }
            C::GetAvatar { sha256 } => {
                me(ctx)?;
                self.get_avatar(sha256).await?
            }
            C::Block { account } => self.block(me(ctx)?, sid, account).await?,
            C::Unblock { account } => self.unblock(me(ctx)?, sid, account).await?,
            C::ListBlocks => self.list_blocks(me(ctx)?).await?,
            C::ListCategories => self.list_categories(me(ctx)?).await?,
            C::AddCategory { name } => self.add_category(me(ctx)?, sid, name).await?,
            C::RenameCategory { category, name } => {
                self.rename_category(me(ctx)?, sid, category, name).await?
            }
            C::DeleteCategory { category } => self.delete_category(me(ctx)?, sid, category).await?,
            C::OrderCategories { categories } => {
                self.order_categories(me(ctx)?, sid, categories).await?
            }
            C::MoveFriend { account, category } => {
                let features = ctx.link.outbox.features();
                self.move_friend(me(ctx)?, sid, features, account, category)
                    .await?
            }
            C::ChangePassword { old, new } => self.change_password(me(ctx)?, sid, old, new).await?,
            C::FindUser { query } => self.find_users(me(ctx)?, query).await?,
            C::FriendRequest { account, note } => {
                self.friend_request(me(ctx)?, sid, account, note).await?
            }
            C::AcceptFriend { account } => self.accept_friend(me(ctx)?, account).await?,
            C::RejectFriend { account } => self.reject_friend(me(ctx)?, account).await?,
            C::DeleteFriend { account } => self.delete_friend(me(ctx)?, account).await?,
            C::SetRemark { account, remark } => {
                let features = ctx.link.outbox.features();
                self.set_remark(me(ctx)?, sid, features, account, remark)
                    .await?
            }
            C::ListFriends => {
                let features = ctx.link.outbox.features();
                self.list_friends(me(ctx)?, features).await?
            }
            C::ListRequests => {
                let features = ctx.link.outbox.features();
                self.list_requests(me(ctx)?, features).await?
            }
            C::Msg {
                to,
                client_id,
                text,
            } => {
                let caller = self.sender(ctx, &client_id, text.len())?;
                let queued =
                    self.queue_message(caller, sid, messages::Dest::Account(to), client_id, text)?;
                self.finish_message(queued).await?
            }
            C::GroupMsg {
                group,
                client_id,
                text,
            } => {
                let caller = self.sender(ctx, &client_id, text.len())?;
                let queued =
                    self.queue_message(caller, sid, messages::Dest::Group(group), client_id, text)?;
                self.finish_message(queued).await?
            }
            C::Sync { after, limit } => {
                let features = ctx.link.outbox.features();
                self.sync(me(ctx)?, features, after, limit).await?
            }
            C::History {
                conv,
                before,
                limit,
            } => {
                let features = ctx.link.outbox.features();
                self.history(me(ctx)?, features, conv, before, limit)
                    .await?
            }
            C::CreateGroup { name } => self.create_group(me(ctx)?, name).await?,
            C::JoinGroup { group } => self.join_group(me(ctx)?, group).await?,
            C::GroupPolicy { group, policy } => self.group_policy(me(ctx)?, group, policy).await?,
            C::LeaveGroup { group } => self.leave_group(me(ctx)?, group).await?,
            C::InviteToGroup { group, account } => self.invite(me(ctx)?, group, account).await?,
            C::KickFromGroup { group, account } => self.kick(me(ctx)?, group, account).await?,
            C::DissolveGroup { group } => self.dissolve(me(ctx)?, group).await?,
            C::RenameGroup { group, name } => self.rename_group(me(ctx)?, group, name).await?,
            C::ListMembers { group } => {
                let features = ctx.link.outbox.features();
                self.list_members(me(ctx)?, features, group).await?
            }
            C::SetGroupAdmin {
                group,
                account,
                admin,
            } => self.set_admin(me(ctx)?, group, account, admin).await?,
            C::TransferGroup { group, account } => {
                self.transfer_group(me(ctx)?, group, account).await?
            }
            C::MuteMember {
                group,
                account,
                seconds,
            } => self.mute_member(me(ctx)?, group, account, seconds).await?,
            C::MuteAll { group, on } => self.mute_all(me(ctx)?, group, on).await?,
            C::GroupNotice { group, text } => self.group_notice(me(ctx)?, group, text).await?,
            C::AnswerJoin {
                group,
                account,
                accept,
            } => self.answer_join(me(ctx)?, group, account, accept).await?,
            C::ListJoinRequests => {
                let features = ctx.link.outbox.features();
                self.list_join_requests(me(ctx)?, features).await?
            }
            C::ListGroups => {
                let features = ctx.link.outbox.features();
                self.list_groups(me(ctx)?, features).await?
            }
            C::FileOffer {
                to,
                client_id,
                size,
                sha256,
                name,
            } => {
                // A file's bytes count against the file quota, not the day's text.
                let caller = self.sender(ctx, &client_id, 0)?;
                self.offer_file(caller, to, client_id, size, sha256, name)
                    .await?
            }
            C::FileAccept { file } => self.accept_file(me(ctx)?, file).await?,
            C::FileReject { file } => self.reject_file(me(ctx)?, file).await?,
            C::FileCancel { file } => self.cancel_file(me(ctx)?, file).await?,
            C::Send {
                to,
                client_id,
                reply_to,
                mentions,
                text,
            } => {
                let caller = self.sender(ctx, &client_id, text.len())?;
                let send = messages::SendRequest {
                    to,
                    client_id,
                    reply_to,
                    mentions,
                    text,
                };
                let queued = self.queue_said(caller, sid, send).await?;
                self.finish_message(queued).await?
            }
            C::Recall { id } => self.recall(me(ctx)?, id).await?,
            C::Read { conv, up_to } => self.mark_read(me(ctx)?, sid, conv, up_to).await?,
            C::ListReads => self.list_reads(me(ctx)?).await?,
            C::Typing { to } => self.typing(me(ctx)?, to).await?,
        };
        Ok(replies.into())
    }

    /// The logged-in caller of a message-sending verb with `text` bytes of text, once the per-user rate
    /// limit and the day's text volume let it through. Failures name the message's `client_id`, so the
    /// client knows which one to send again later.
    fn sender<'c>(&self, ctx: &'c SessionCtx, client_id: &str, text: usize) -> Result<&'c Caller> {
        let caller = me(ctx).map_err(|e| e.about(client_id))?;
        self.space.check().map_err(|e| e.about(client_id))?;
        self.rate.take(caller.user).map_err(|wait| {
            ServiceError::refused(
                ErrorCode::RateLimited,
                format!(
                    "too many messages, at most {} a second; try again in {} ms",
                    self.config.limits.rate,
                    wait.as_millis().max(1)
                ),
            )
            .about(client_id)
        })?;
        // A message over the day's volume is refused, not delayed: a client should not retry it for hours.
        self.volume.take_n(caller.user, text as u64).map_err(|wait| {
            ServiceError::refused(
                ErrorCode::QuotaExceeded,
                format!(
                    "you have sent your {} MiB of message text for today; more is possible in {} min",
                    self.config.text_per_day >> 20,
                    wait.as_secs().div_ceil(60).max(1)
                ),
            )
            .about(client_id)
        })?;
        Ok(caller)
    }

    /// Called by the session layer when a connection ends, logged in or not.
    pub async fn disconnected(&self, ctx: &SessionCtx) {
        let id = ctx.id;
        let last_here = ctx
            .caller
            .as_ref()
            .is_some_and(|caller| self.hub.detach(caller.user, id));
        let departed = self.db(move |s| s.depart(id)).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not clear connection record");
            None
        });
        // With one server the hub knows whether this was the user's last session; in cluster mode the
        // store decided it for every node, and each, this one too, tells their friends from its record.
        if self.passer.is_some() {
            if departed.is_some() {
                self.presence_passed().await;
            }
        } else if let Some(caller) = ctx.caller.as_ref().filter(|_| last_here) {
            self.announce_presence(
                caller.user,
                &caller.account,
                ququ_protocol::Presence::Offline,
            )
            .await;
        }
    }
}

/// Which rate limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cost {
    /// Reads, and what is throttled elsewhere (logins by the login throttle).
    Free,
    /// `MSG:`, `GROUP:`, `FileTran:`: the `rate` limit, taken by [`Services::sender`].
    Message,
    /// Everything else that writes to the database or pushes a line to someone: the `actions` limit. A
    /// user sending 5,000 `ADD_FRIEND:` in 1.5 s pushed 5,000 lines to their target, and 20,000
    /// `GROUP_CREATE:` in 2.5 s grew the database by 137 MB (issue 20).
    Action,
}

/// No wildcard: a new verb does not compile until someone decides what it costs.
fn cost(msg: &ClientMessage) -> Cost {
    use ClientMessage as C;
    match msg {
        C::Register { .. }
        | C::Login { .. }
        | C::Resume { .. }
        | C::Ping { .. }
        | C::Pong { .. }
        | C::Logout
        | C::FilePut { .. }
        | C::FileGet { .. }
        | C::FindUser { .. }
        | C::ListFriends
        | C::ListRequests
        | C::Sync { .. }
        | C::History { .. }
        | C::ListMembers { .. }
        | C::GroupPolicy { policy: None, .. }
        | C::MuteAll { on: None, .. }
        | C::GroupNotice { text: None, .. }
        | C::ListJoinRequests
        | C::ListGroups
        | C::Features { .. }
        | C::ListReads
        | C::GetProfile { .. }
        | C::ListBlocks
        | C::ListCategories
        | C::GetAvatar { .. } => Cost::Free,
        // `SEND:` takes the `rate` limit in `sender`, like `MSG:`; `TYPING:` has a limit of its own.
        C::Send { .. } | C::Typing { .. } => Cost::Message,
        C::Recall { .. } | C::Read { .. } => Cost::Action,
        C::Msg { .. } | C::GroupMsg { .. } | C::FileOffer { .. } => Cost::Message,
        C::SetNickname { .. }
        | C::SetProfile { .. }
        | C::SetAvatar { .. }
        | C::SetGroupAvatar { .. }
        | C::Block { .. }
        | C::Unblock { .. }
        | C::AddCategory { .. }
        | C::RenameCategory { .. }
        | C::DeleteCategory { .. }
        | C::OrderCategories { .. }
        | C::MoveFriend { .. }
        | C::ChangePassword { .. }
        | C::FriendRequest { .. }
        | C::AcceptFriend { .. }
        | C::RejectFriend { .. }
        | C::DeleteFriend { .. }
        | C::SetRemark { .. }
        | C::CreateGroup { .. }
        | C::JoinGroup { .. }
        | C::LeaveGroup { .. }
        | C::InviteToGroup { .. }
        | C::KickFromGroup { .. }
        | C::DissolveGroup { .. }
        | C::RenameGroup { .. }
        | C::SetGroupAdmin { .. }
        | C::TransferGroup { .. }
        | C::MuteMember { .. }
        | C::MuteAll { on: Some(_), .. }
        | C::GroupNotice { text: Some(_), .. }
        | C::AnswerJoin { .. }
        | C::GroupPolicy {
            policy: Some(_), ..
        }
        | C::FileAccept { .. }
        | C::FileReject { .. }
        | C::FileCancel { .. } => Cost::Action,
    }
}

/// A request's answer still to come (see [`Services::start_message`]).
pub type Pending = std::pin::Pin<Box<dyn std::future::Future<Output = Outcome> + Send>>;

/// The outcome of a request, its error as an `ERROR:` line.
fn answer(verb: &'static str, result: Result<Outcome>) -> Outcome {
    match result {
        Ok(outcome) => outcome,
        Err(err) => {
            if !matches!(err, ServiceError::Refused { .. }) {
                tracing::error!(verb, error = %err, "request failed");
            }
            vec![err.to_message()].into()
        }
    }
}

/// The session's logged-in user, or `not_logged_in`.
fn me(ctx: &SessionCtx) -> Result<&Caller> {
    ctx.caller.as_ref().ok_or_else(|| {
        ServiceError::refused(
            ErrorCode::NotLoggedIn,
            "log in first: LOGIN:<account>:<password>",
        )
    })
}

/// Formats once for every recipient, with the `\n` that ends it on the wire, so a session writes it as
/// it is.
pub(crate) fn line(msg: &ServerMessage) -> Line {
    let mut text = msg.format();
    text.push('\n');
    Line::from(text)
}

pub(crate) fn now_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// Checks a free-text value against a character limit.
pub(crate) fn check_len(what: &str, value: &str, max: u32) -> Result<()> {
    let n = value.chars().count();
    if n > max as usize {
        return Err(ServiceError::refused(
            ErrorCode::TooLong,
            format!("{what} is {n} characters; the limit is {max}"),
        ));
    }
    Ok(())
}

/// Names and remarks: no control characters, which would garble a friend list.
pub(crate) fn check_name(what: &str, value: &str, max: u32, allow_empty: bool) -> Result<()> {
    if !allow_empty && value.trim().is_empty() {
        return Err(ServiceError::refused(
            ErrorCode::BadRequest,
            format!("{what} must not be empty"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ServiceError::refused(
            ErrorCode::BadRequest,
            format!("{what} must not contain control characters"),
        ));
    }
    check_len(what, value, max)
}
