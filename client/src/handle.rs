//! [`Client::start`], the [`Handle`] that sends commands and the [`Events`] stream that reports back.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ququ_protocol::{ClientMessage, Conv, JoinPolicy, Mentions, ProfileChange};
use tokio::sync::mpsc;

use crate::backoff::Backoff;
use crate::config::{Config, ConfigError, resolve_data_dir};
use crate::connection::{Command, FileCommand, Session};
use crate::event::Event;
use crate::storage::Store;
use crate::transfer::TransferId;

/// Why a client could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot start the client thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// The entry point. See [`Client::start`].
#[derive(Debug)]
pub struct Client;

impl Client {
    /// Starts a client: opens (or creates) the local database for this account and server, and starts the
    /// connection task, which connects, logs in and keeps reconnecting until [`Handle::shutdown`],
    /// [`Handle::logout`], a refused login, or the last handle is dropped.
    ///
    /// It needs no async runtime from the caller: the client runs on a thread of its own (with its own small
    /// tokio runtime) and the database on another, so this may be called from a GUI's `update` as well as
    /// from async code. Storage failures arrive as [`Event::Stopped`].
    pub fn start(config: Config) -> Result<(Handle, Events), StartError> {
        config.validate()?;
        let data_dir = resolve_data_dir(config.data_dir.as_deref())?;
        let db_path = crate::config::database_path(&data_dir, &config.server, &config.account);
        let backoff = Backoff::new(config.timing.reconnect_initial, config.timing.reconnect_max)
            .map_err(ConfigError::from)?;
        let store = Store::open(db_path);
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (event_tx, event_rx) = mpsc::unbounded_channel();
        let account = config.account.clone();
        let session = Session::new(config, data_dir, store.clone(), event_tx, cmd_rx, backoff);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("ququ-client".into())
            .spawn(move || runtime.block_on(session.run()))?;
        let handle = Handle {
            commands: cmd_tx,
            store,
            account: Arc::from(account),
        };
        Ok((handle, Events { rx: event_rx }))
    }
}

/// Sends commands to a running client. Clone it freely; every method only enqueues and returns at once.
/// After the client has stopped the methods do nothing (the store can still be read).
#[derive(Debug, Clone)]
pub struct Handle {
    commands: mpsc::UnboundedSender<Command>,
    store: Store,
    account: Arc<str>,
}

/// A fresh client id, 32 hex digits: the time in milliseconds (48 bits), then 80 random bits, so a resend
/// is recognisable and no two messages collide. Time first, because the server finds a resend through a
/// unique index that starts with the client id: ids that grow are appended at its end, where random ones
/// would each land on a page of their own and make every commit write a page per message.
pub fn new_client_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    format!(
        "{:012x}{:020x}",
        now & 0xffff_ffff_ffff,
        rand::random::<u128>() >> 48
    )
}

impl Handle {
    fn command(&self, cmd: Command) {
        // The client has stopped: there is nobody to tell, and Event::Stopped has said so already.
        let _ = self.commands.send(cmd);
    }

    fn request(&self, msg: ClientMessage) {
        self.command(Command::Request(msg));
    }

    /// The account this client logs in as (as configured).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The local database, for reads: conversations, messages, search.
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// Sends a text message. It is stored first (as [`crate::MessageState::Pending`], shown by an
    /// [`Event::Message`]) and survives disconnects and restarts until the server acknowledges it; then an
    /// [`Event::MessageState`] reports it sent or failed. Returns its client id.
    pub fn send_text(&self, conv: Conv, text: impl Into<String>) -> String {
        self.send_reply(conv, None, Mentions::default(), text)
    }

    /// Sends a reply to message `reply_to` (a server id in the same conversation) and/or a group message
    /// that mentions people, through the outbox exactly like [`Handle::send_text`]: stored first with its
    /// quote (from the quoted message as stored here), resent after reconnects and restarts, matched to its
    /// `ACK:` by client id. On a server without replies ([`crate::Event::LoggedIn`]'s `features.said` is
    /// false) it fails, saying so; mentions in a private chat fail at once. Returns its client id.
    pub fn send_reply(
        &self,
        conv: Conv,
        reply_to: Option<u64>,
        mentions: Mentions,
        text: impl Into<String>,
    ) -> String {
        let client_id = new_client_id();
        self.command(Command::Send {
            conv,
            client_id: client_id.clone(),
            text: text.into(),
            reply_to,
            mentions,
        });
        client_id
    }

    /// Recalls message `id` (a server id): my own within the server's `recall` limit ([`crate::Limits`]),
    /// or, in a group, anyone's if I own it and mine or a plain member's if I am an admin, at any time.
    /// Everyone in the conversation, this device included, then gets
    /// [`Event::Recalled`]; a refusal comes back as [`Event::RecallFailed`] with the server's code
    /// (`no_such_message`, `too_late`, `forbidden`; `unknown_verb` on a server that cannot recall).
    /// Made offline, it is sent after the next login.
    pub fn recall(&self, id: u64) {
        self.command(Command::Recall { id });
    }

    /// Tells a friend I am typing to them. Call it on every keystroke: it goes out at most once every
    /// 3 seconds per friend, only while connected, and never to an older server.
    pub fn typing(&self, friend: impl Into<String>) {
        self.command(Command::Typing { to: friend.into() });
    }

    /// Sends a failed message again, under the same client id.
    pub fn retry(&self, client_id: impl Into<String>) {
        self.command(Command::Retry {
            client_id: client_id.into(),
        });
    }

    /// Sends a file to a friend or a group: hashed off the runtime, recorded locally (so it resumes after
    /// disconnects and restarts), offered, then uploaded on a connection of its own. Reported by
    /// [`Event::Transfer`] and [`Event::TransferProgress`]; once every byte is on the server the file
    /// appears in the conversation as an [`Event::Message`] with [`crate::Message::file`]. Returns its client
    /// id: the transfer is [`TransferId::Upload`] of it. See [`crate::transfer`].
    pub fn send_file(&self, conv: Conv, path: impl Into<PathBuf>) -> String {
        let client_id = new_client_id();
        self.command(Command::File(FileCommand::Send {
            conv,
            client_id: client_id.clone(),
            path: path.into(),
        }));
        client_id
    }

    /// Downloads a file offered in a conversation. `dest`: `None` for the OS Downloads directory, an
    /// existing directory to save into, or the full path to save as; a name that exists already gets a
    /// number, `name (1).ext`. Asking again resumes a paused, failed or interrupted download from its
    /// `.part` file. See [`crate::transfer`].
    pub fn download_file(&self, file_id: u64, dest: Option<PathBuf>) -> TransferId {
        self.command(Command::File(FileCommand::Download { file_id, dest }));
        TransferId::Download(file_id)
    }

    /// Pauses a transfer until [`Handle::resume_transfer`]; reconnects and restarts leave it paused.
    pub fn pause_transfer(&self, id: TransferId) {
        self.command(Command::File(FileCommand::Pause(id)));
    }

    /// Resumes a paused or failed transfer from where the server (upload) or the `.part` file (download)
    /// stopped.
    pub fn resume_transfer(&self, id: TransferId) {
        self.command(Command::File(FileCommand::Resume(id)));
    }

    /// Cancels a transfer. An upload is withdrawn from the server too, so recipients can no longer fetch
    /// it; a download's partial file is deleted.
    pub fn cancel_transfer(&self, id: TransferId) {
        self.command(Command::File(FileCommand::Cancel(id)));
    }

    /// Declines a file offered to me; the sender is told.
    pub fn reject_file(&self, file_id: u64) {
        self.command(Command::File(FileCommand::Reject(file_id)));
    }

    /// Asks `account` to be my friend. Answered by [`Event::RequestSent`] or [`Event::Error`].
    pub fn add_friend(&self, account: impl Into<String>, note: impl Into<String>) {
        self.request(ClientMessage::FriendRequest {
            account: account.into(),
            note: note.into(),
        });
    }

    pub fn accept_friend(&self, account: impl Into<String>) {
        self.request(ClientMessage::AcceptFriend {
            account: account.into(),
        });
    }

    pub fn reject_friend(&self, account: impl Into<String>) {
        self.request(ClientMessage::RejectFriend {
            account: account.into(),
        });
    }

    pub fn delete_friend(&self, account: impl Into<String>) {
        self.request(ClientMessage::DeleteFriend {
            account: account.into(),
        });
    }

    /// Sets my private alias for a friend; an empty remark clears it.
    pub fn set_remark(&self, account: impl Into<String>, remark: impl Into<String>) {
        self.request(ClientMessage::SetRemark {
            account: account.into(),
            remark: remark.into(),
        });
    }

    /// Changes my password (the current one first); answered by [`Event::PasswordChanged`], or an
    /// [`Event::Error`] (`bad_credentials` for a wrong current password, `invalid_password` for a new one
    /// the server will not take). The server logs out my other devices; this session and its token stay.
    pub fn change_password(&self, old: impl Into<String>, new: impl Into<String>) {
        self.request(ClientMessage::ChangePassword {
            old: old.into(),
            new: new.into(),
        });
    }

    pub fn set_nickname(&self, nickname: impl Into<String>) {
        self.request(ClientMessage::SetNickname {
            nickname: nickname.into(),
        });
    }

    /// Changes one part of my profile: [`ProfileChange::Signature`] (个性签名, one line of at most
    /// [`ququ_protocol::Limits::sign`] characters), [`ProfileChange::Gender`] or [`ProfileChange::Region`]
    /// (at most [`ququ_protocol::Limits::name`]); an empty text clears it. Answered by
    /// [`Event::MyProfile`] (on every device of mine), or [`Event::Error`] (`too_long`, `bad_request` for
    /// control characters); friends and fellow group members get [`Event::UserProfile`].
    pub fn set_profile(&self, change: ProfileChange) {
        self.request(ClientMessage::SetProfile { change });
    }

    /// Sets my signature (个性签名); empty clears it. See [`Handle::set_profile`].
    pub fn set_signature(&self, text: impl Into<String>) {
        self.set_profile(ProfileChange::Signature(text.into()));
    }

    /// Asks for someone's profile (`None`: mine). Answered by [`Event::UserProfile`], or
    /// [`Event::MyProfile`] for me, or [`Event::Error`] (`no_such_user`).
    pub fn get_profile(&self, account: Option<String>) {
        self.request(ClientMessage::GetProfile { account });
    }

    /// Blocks (拉黑) `account`: their private messages, files and friend requests no longer reach me, and
    /// they are not told. Group messages still do, and a friendship stays ([`Handle::delete_friend`]
    /// ends it). Answered by [`Event::Blocked`], or [`Event::Error`] (`no_such_user`, `bad_request` for
    /// myself).
    pub fn block(&self, account: impl Into<String>) {
        self.request(ClientMessage::Block {
            account: account.into(),
        });
    }

    /// Stops blocking `account`; answered by [`Event::Unblocked`]. What they sent meanwhile stays dropped.
    pub fn unblock(&self, account: impl Into<String>) {
        self.request(ClientMessage::Unblock {
            account: account.into(),
        });
    }

    /// Sets my avatar (头像) to `image`, a square PNG or JPEG already scaled down (the server takes at
    /// most [`crate::Limits::avatar`] bytes and checks only that it is one of the two); empty clears it.
    /// Friends and fellow group members see it. Answered by [`Event::Avatar`] for me, or
    /// [`Event::Error`] (`too_large`, `bad_request`).
    pub fn set_avatar(&self, image: Vec<u8>) {
        self.request(ClientMessage::SetAvatar { image });
    }

    /// Sets a group's avatar, as [`Handle::set_avatar`]; only its owner and admins may (`forbidden`
    /// otherwise, with the group id as `about`). Every member is told ([`Event::Avatar`]).
    pub fn set_group_avatar(&self, group: u64, image: Vec<u8>) {
        self.request(ClientMessage::SetGroupAvatar { group, image });
    }

    /// Asks for everyone I block again (it comes after every login anyway); answered by [`Event::Blocks`].
    pub fn list_blocks(&self) {
        self.request(ClientMessage::ListBlocks);
    }

    /// Makes a friend group (好友分组), last in order; `name` one line of at most
    /// [`ququ_protocol::Limits::name`] characters, unlike my others. Answered by
    /// [`Event::CategoryChanged`] (on every device of mine), or [`Event::Error`] (`category_exists`,
    /// `too_many` past [`ququ_protocol::Limits::categories`], `too_long`, `bad_request`).
    pub fn add_category(&self, name: impl Into<String>) {
        self.request(ClientMessage::AddCategory { name: name.into() });
    }

    /// Renames one of my friend groups; answered as [`Handle::add_category`] is (`no_such_category` too).
    /// The default group (0) has no name of its own to change.
    pub fn rename_category(&self, category: u64, name: impl Into<String>) {
        self.request(ClientMessage::RenameCategory {
            category,
            name: name.into(),
        });
    }

    /// Deletes one of my friend groups; its friends go back to the default group (they stay friends).
    /// Answered by [`Event::CategoryGone`], or [`Event::Error`] (`no_such_category`).
    pub fn delete_category(&self, category: u64) {
        self.request(ClientMessage::DeleteCategory { category });
    }

    /// Puts my friend groups in this order: each of them once (the default group stays first). Answered
    /// by [`Event::CategoryOrder`] (on every device of mine), or [`Event::Error`] (`bad_request` if one
    /// is left out — another device may have added one — or `no_such_category`).
    pub fn order_categories(&self, categories: Vec<u64>) {
        self.request(ClientMessage::OrderCategories { categories });
    }

    /// Puts a friend into one of my friend groups (0: the default). Only I see it. Answered by
    /// [`Event::FriendChanged`] with the new [`crate::Friend::category`], or [`Event::Error`]
    /// (`not_friends`, `no_such_category`).
    pub fn move_friend(&self, account: impl Into<String>, category: u64) {
        self.request(ClientMessage::MoveFriend {
            account: account.into(),
            category,
        });
    }

    /// Asks for my friend groups again (they come after every login anyway); answered by
    /// [`Event::Categories`].
    pub fn list_categories(&self) {
        self.request(ClientMessage::ListCategories);
    }

    /// Searches users by account or nickname; answered by [`Event::FoundUsers`].
    pub fn find_user(&self, query: impl Into<String>) {
        self.request(ClientMessage::FindUser {
            query: query.into(),
        });
    }

    /// Answered by [`Event::GroupChanged`] with the new group.
    pub fn create_group(&self, name: impl Into<String>) {
        self.request(ClientMessage::CreateGroup { name: name.into() });
    }

    pub fn join_group(&self, group: u64) {
        self.request(ClientMessage::JoinGroup { group });
    }

    pub fn leave_group(&self, group: u64) {
        self.request(ClientMessage::LeaveGroup { group });
    }

    pub fn invite(&self, group: u64, account: impl Into<String>) {
        self.request(ClientMessage::InviteToGroup {
            group,
            account: account.into(),
        });
    }

    pub fn kick(&self, group: u64, account: impl Into<String>) {
        self.request(ClientMessage::KickFromGroup {
            group,
            account: account.into(),
        });
    }

    pub fn rename_group(&self, group: u64, name: impl Into<String>) {
        self.request(ClientMessage::RenameGroup {
            group,
            name: name.into(),
        });
    }

    /// Sets who may join `group` by its number (owner only), or with `None` asks; answered (and told
    /// to every member on a change) by [`Event::GroupPolicy`].
    pub fn set_group_policy(&self, group: u64, policy: Option<JoinPolicy>) {
        self.request(ClientMessage::GroupPolicy { group, policy });
    }

    /// Makes a member an admin of `group`, or a plain member again (owner only); told to every member
    /// as [`Event::MemberRole`].
    pub fn set_group_admin(&self, group: u64, account: impl Into<String>, admin: bool) {
        self.request(ClientMessage::SetGroupAdmin {
            group,
            account: account.into(),
            admin,
        });
    }

    /// Hands `group` to another member (owner only); I become a plain member and may then leave.
    pub fn transfer_group(&self, group: u64, account: impl Into<String>) {
        self.request(ClientMessage::TransferGroup {
            group,
            account: account.into(),
        });
    }

    /// Mutes (禁言) a plain member of `group` for `seconds` (0 lifts it; owner or admin); told as
    /// [`Event::MemberMuted`].
    pub fn mute_member(&self, group: u64, account: impl Into<String>, seconds: u64) {
        self.request(ClientMessage::MuteMember {
            group,
            account: account.into(),
            seconds,
        });
    }

    /// Mutes the whole group or lifts it (owner or admin), or with `None` asks; answered and told as
    /// [`Event::GroupMutedAll`].
    pub fn mute_all(&self, group: u64, on: Option<bool>) {
        self.request(ClientMessage::MuteAll { group, on });
    }

    /// Sets the group's announcement (owner or admin; empty clears it), or with `None` asks; answered
    /// and told as [`Event::GroupNotice`].
    pub fn group_notice(&self, group: u64, text: Option<String>) {
        self.request(ClientMessage::GroupNotice { group, text });
    }

    /// Lets someone who asked to join `group` in, or not (owner or admin); every admin is told with
    /// [`Event::JoinRequestClosed`].
    pub fn answer_join(&self, group: u64, account: impl Into<String>, accept: bool) {
        self.request(ClientMessage::AnswerJoin {
            group,
            account: account.into(),
            accept,
        });
    }

    pub fn dissolve_group(&self, group: u64) {
        self.request(ClientMessage::DissolveGroup { group });
    }

    /// Answered by [`Event::Members`].
    pub fn list_members(&self, group: u64) {
        self.request(ClientMessage::ListMembers { group });
    }

    /// Fetches friends, friend requests and groups again (done after every login anyway).
    pub fn refresh(&self) {
        self.request(ClientMessage::ListFriends);
        self.request(ClientMessage::ListRequests);
        self.request(ClientMessage::ListGroups);
    }

    /// Asks the server for up to `limit` messages of `conv` older than server id `before` (0 = the newest).
    /// They are stored and reported as one [`Event::History`]; local pages come from
    /// [`crate::Store::messages`].
    pub fn load_history(&self, conv: Conv, before: u64, limit: u32) {
        self.request(ClientMessage::History {
            conv,
            before,
            limit,
        });
    }

    /// Searches local history (full text, Chinese included); answered by [`Event::SearchResults`].
    pub fn search(&self, query: impl Into<String>) {
        self.command(Command::Search {
            query: query.into(),
            limit: 200,
        });
    }

    /// Marks all of a conversation read: its unread count goes to zero (reported by [`Event::Unread`])
    /// and my other devices are told (`READ:`, now or after the next login).
    pub fn mark_read(&self, conv: Conv) {
        self.command(Command::MarkRead { conv, up_to: None });
    }

    /// Marks a conversation read up to message `up_to` (a server id), as [`Handle::mark_read`] does:
    /// the unread count drops to the received messages after it.
    pub fn mark_read_up_to(&self, conv: Conv, up_to: u64) {
        self.command(Command::MarkRead {
            conv,
            up_to: Some(up_to),
        });
    }

    /// Skips the remaining reconnect delay (a "reconnect now" button).
    pub fn reconnect_now(&self) {
        self.command(Command::ReconnectNow);
    }

    /// Ends the session on the server (revoking its token) and stops the client.
    pub fn logout(&self) {
        self.command(Command::Logout);
    }

    /// Stops the client. Pending messages stay in the outbox for the next start. Commands sent before this
    /// one are handled first.
    pub fn shutdown(&self) {
        self.command(Command::Shutdown);
    }
}

/// The client's events, in order. Ends (yields `None`) after [`Event::Stopped`].
///
/// It is a [`futures::Stream`], and also offers [`Events::recv`]. For an iced `Subscription`, move it into
/// the stream the subscription runs (e.g. keep it in an `Arc<Mutex<Option<Events>>>` and take it once).
#[derive(Debug)]
pub struct Events {
    rx: mpsc::UnboundedReceiver<Event>,
}

impl Events {
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    /// An event if one is ready, without waiting.
    pub fn try_recv(&mut self) -> Option<Event> {
        self.rx.try_recv().ok()
    }

    pub fn into_inner(self) -> mpsc::UnboundedReceiver<Event> {
        self.rx
    }
}

impl futures::Stream for Events {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.rx.poll_recv(cx)
    }
}
