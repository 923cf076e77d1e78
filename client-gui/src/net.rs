//! The connection, as one iced `Subscription` over the headless client (`ququ-client`).
//!
//! Like iced's websocket example, the subscription's stream first hands the UI a cloneable [`Client`]
//! ([`Event::Ready`]) and then the client's typed events. The UI calls the handle (send a message, accept a
//! request, …) without waiting — the client only enqueues — and answers and failures come back as events,
//! so nothing in `update` ever blocks on the network or the database.
//!
//! The subscription is keyed by the [`Login`]: logging in with other details, or again after a refusal,
//! starts a fresh client, and dropping the key (logging out, giving up) ends the stream.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use iced::Subscription;
use iced::futures::{SinkExt, Stream};
use ququ_protocol::Conv;

use crate::model::PAGE;

pub use ququ_client::{Event as ClientEvent, Message, StopReason, Store, Transfer, TransferId};

/// What to connect with. Hashing it keys the subscription.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    pub server: String,
    pub account: String,
    /// Empty when logging in automatically with `token`.
    pub password: String,
    /// A saved session token to log in with first (automatic login); never hashed or printed.
    pub token: Option<ququ_client::SessionToken>,
    /// Create the account first.
    pub register: bool,
    pub nickname: Option<String>,
    /// Where the client keeps local history.
    pub data_dir: PathBuf,
    /// Bumped on every press of "Log in", so the same details retried start a new connection.
    pub attempt: u64,
    pub tls: bool,
}

impl std::fmt::Debug for Login {
    // By hand, so the password never reaches a log or a panic message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("server", &self.server)
            .field("account", &self.account)
            .field("register", &self.register)
            .field("token", &self.token)
            .field("attempt", &self.attempt)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Hash for Login {
    // The password is left out of the key: `attempt` already tells two logins apart, and secrets have no
    // business in hashes.
    fn hash<H: Hasher>(&self, state: &mut H) {
        (
            &self.server,
            &self.account,
            self.register,
            &self.nickname,
            &self.data_dir,
            self.attempt,
            self.tls,
        )
            .hash(state);
    }
}

impl Login {
    /// Logging in with a saved token and no password: "log in automatically" at start.
    pub fn automatic(&self) -> bool {
        self.token.is_some() && self.password.is_empty()
    }

    fn config(&self) -> ququ_client::Config {
        let mut config = ququ_client::Config::new(&self.server, &self.account, &self.password)
            .register(self.register)
            .token(self.token.clone())
            .tls(self.tls)
            .data_dir(&self.data_dir);
        config.nickname = self.nickname.clone();
        config
    }
}

/// The lists this device kept from its last session (the local store), for opening the friend list
/// before the server answers.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    pub friends: Vec<ququ_client::Friend>,
    pub groups: Vec<ququ_client::Group>,
    pub requests: Vec<ququ_client::FriendRequest>,
}

/// Reads [`Kept`] from the local store, off the UI thread.
pub async fn kept(store: Store) -> Result<Kept, String> {
    let read = async {
        Ok::<_, ququ_client::StorageError>(Kept {
            friends: store.friends().await?,
            groups: store.groups().await?,
            requests: store.friend_requests().await?,
        })
    };
    read.await.map_err(|e| e.to_string())
}

/// What the subscription yields.
#[derive(Debug, Clone)]
pub enum Event {
    /// The client is running; keep this to talk to it.
    Ready(Client),
    /// Boxed: a recall's event carries whole messages (448 bytes), and every message of the app would
    /// be that size otherwise.
    Client(Box<ClientEvent>),
}

/// What the windows ask of the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    SendText {
        conv: Conv,
        text: String,
    },
    /// A reply (with the id of the message answered) and/or a group message with mentions.
    SendReply {
        conv: Conv,
        text: String,
        reply_to: Option<u64>,
        mentions: ququ_protocol::Mentions,
    },
    /// Take back a message (its server id).
    Recall {
        id: u64,
    },
    /// Tell this friend I am typing.
    Typing {
        to: String,
    },
    Retry {
        client_id: String,
    },
    MarkRead {
        conv: Conv,
    },
    /// Server history older than server id `before` (0 = newest).
    LoadHistory {
        conv: Conv,
        before: u64,
    },
    FindUser {
        query: String,
    },
    AddFriend {
        account: String,
        note: String,
    },
    AcceptFriend {
        account: String,
    },
    RejectFriend {
        account: String,
    },
    DeleteFriend {
        account: String,
    },
    SetRemark {
        account: String,
        remark: String,
    },
    /// My profile as edited: a new nickname (if changed), then each part of the profile that changed,
    /// a line each; the server answers each.
    UpdateProfile {
        nickname: Option<String>,
        changes: Vec<ququ_protocol::ProfileChange>,
    },
    /// Block (拉黑) this account, or unblock it.
    Block {
        account: String,
    },
    Unblock {
        account: String,
    },
    /// A new friend group (好友分组), last.
    AddCategory {
        name: String,
    },
    RenameCategory {
        category: u64,
        name: String,
    },
    /// Its friends go back to the default group.
    DeleteCategory {
        category: u64,
    },
    /// My friend groups in this order (each once).
    OrderCategories {
        categories: Vec<u64>,
    },
    /// Put a friend into a friend group (0: the default one).
    MoveFriend {
        account: String,
        category: u64,
    },
    /// My avatar: a picture ready for the server ([`crate::avatar::encode_for_upload`]); empty clears it.
    SetAvatar {
        image: Vec<u8>,
    },
    /// A group's avatar (owner and admins), as [`Command::SetAvatar`].
    SetGroupAvatar {
        group: u64,
        image: Vec<u8>,
    },
    /// Change my password: the current one, then the new one.
    ChangePassword {
        old: String,
        new: String,
    },
    CreateGroup {
        name: String,
    },
    JoinGroup {
        group: u64,
    },
    LeaveGroup {
        group: u64,
    },
    DissolveGroup {
        group: u64,
    },
    /// Set who may join (owner), or ask with `None`.
    GroupPolicy {
        group: u64,
        policy: Option<ququ_protocol::JoinPolicy>,
    },
    Invite {
        group: u64,
        account: String,
    },
    ListMembers {
        group: u64,
    },
    /// Remove a member (owner, or an admin for plain members).
    Kick {
        group: u64,
        account: String,
    },
    RenameGroup {
        group: u64,
        name: String,
    },
    /// Make a member an admin, or a plain member again (owner).
    SetAdmin {
        group: u64,
        account: String,
        admin: bool,
    },
    /// Hand the group to another member (owner).
    TransferGroup {
        group: u64,
        account: String,
    },
    /// Mute a member for this long (0 lifts it).
    MuteMember {
        group: u64,
        account: String,
        seconds: u64,
    },
    /// Mute the whole group or lift it, or ask with `None`.
    MuteAll {
        group: u64,
        on: Option<bool>,
    },
    /// Set the announcement (empty clears it), or ask with `None`.
    GroupNotice {
        group: u64,
        text: Option<String>,
    },
    /// Let someone who asked into the group, or not.
    AnswerJoin {
        group: u64,
        account: String,
        accept: bool,
    },
    /// `dest`: `None` for the Downloads folder, else the full path to save as.
    DownloadFile {
        file_id: u64,
        dest: Option<PathBuf>,
    },
    PauseTransfer(TransferId),
    ResumeTransfer(TransferId),
    CancelTransfer(TransferId),
    RejectFile {
        file_id: u64,
    },
    /// Try the connection now rather than at the end of the reconnect countdown.
    ReconnectNow,
    Logout,
    Shutdown,
}

/// The running client, as the app talks to it: a cloneable handle whose every call only enqueues. (Not
/// named `Handle`: that is the headless client's, which this wraps to take the windows' [`Command`]s.)
#[derive(Debug, Clone)]
pub struct Client(ququ_client::Handle);

impl Client {
    pub fn new(handle: ququ_client::Handle) -> Client {
        Client(handle)
    }

    /// The local database, for reading history pages off the UI thread.
    pub fn store(&self) -> Store {
        self.0.store()
    }

    /// Sends a file (the client hashes, records, offers and uploads it); returns its client id, which
    /// names the upload ([`TransferId::Upload`]) and its bubble.
    pub fn send_file(&self, conv: Conv, path: PathBuf) -> String {
        self.0.send_file(conv, path)
    }

    pub fn send(&self, command: Command) {
        let h = &self.0;
        match command {
            Command::SendText { conv, text } => {
                h.send_text(conv, text);
            }
            Command::SendReply {
                conv,
                text,
                reply_to,
                mentions,
            } => {
                h.send_reply(conv, reply_to, mentions, text);
            }
            Command::Recall { id } => h.recall(id),
            Command::Typing { to } => h.typing(to),
            Command::Retry { client_id } => h.retry(client_id),
            Command::MarkRead { conv } => h.mark_read(conv),
            Command::LoadHistory { conv, before } => h.load_history(conv, before, PAGE),
            Command::FindUser { query } => h.find_user(query),
            Command::AddFriend { account, note } => h.add_friend(account, note),
            Command::AcceptFriend { account } => h.accept_friend(account),
            Command::RejectFriend { account } => h.reject_friend(account),
            Command::DeleteFriend { account } => h.delete_friend(account),
            Command::SetRemark { account, remark } => h.set_remark(account, remark),
            Command::ChangePassword { old, new } => h.change_password(old, new),
            Command::UpdateProfile { nickname, changes } => {
                if let Some(nickname) = nickname {
                    h.set_nickname(nickname);
                }
                for change in changes {
                    h.set_profile(change);
                }
            }
            Command::SetAvatar { image } => h.set_avatar(image),
            Command::SetGroupAvatar { group, image } => h.set_group_avatar(group, image),
            Command::Block { account } => h.block(account),
            Command::Unblock { account } => h.unblock(account),
            Command::AddCategory { name } => h.add_category(name),
            Command::RenameCategory { category, name } => h.rename_category(category, name),
            Command::DeleteCategory { category } => h.delete_category(category),
            Command::OrderCategories { categories } => h.order_categories(categories),
            Command::MoveFriend { account, category } => h.move_friend(account, category),
            Command::CreateGroup { name } => h.create_group(name),
            Command::JoinGroup { group } => h.join_group(group),
            Command::LeaveGroup { group } => h.leave_group(group),
            Command::DissolveGroup { group } => h.dissolve_group(group),
            Command::GroupPolicy { group, policy } => h.set_group_policy(group, policy),
            Command::Invite { group, account } => h.invite(group, account),
            Command::ListMembers { group } => h.list_members(group),
            Command::Kick { group, account } => h.kick(group, account),
            Command::RenameGroup { group, name } => h.rename_group(group, name),
            Command::SetAdmin {
                group,
                account,
                admin,
            } => h.set_group_admin(group, account, admin),
            Command::TransferGroup { group, account } => h.transfer_group(group, account),
            Command::MuteMember {
                group,
                account,
                seconds,
            } => h.mute_member(group, account, seconds),
            Command::MuteAll { group, on } => h.mute_all(group, on),
            Command::GroupNotice { group, text } => h.group_notice(group, text),
            Command::AnswerJoin {
                group,
                account,
                accept,
            } => h.answer_join(group, account, accept),
            Command::DownloadFile { file_id, dest } => {
                h.download_file(file_id, dest);
            }
            Command::PauseTransfer(id) => h.pause_transfer(id),
            Command::ResumeTransfer(id) => h.resume_transfer(id),
            Command::CancelTransfer(id) => h.cancel_transfer(id),
            Command::RejectFile { file_id } => h.reject_file(file_id),
            Command::ReconnectNow => h.reconnect_now(),
            Command::Logout => h.logout(),
            Command::Shutdown => h.shutdown(),
        }
    }
}

/// The connection for `login`, as a subscription. `None` gives no connection (logged out).
pub fn subscription(login: Option<&Login>) -> Subscription<Event> {
    match login {
        Some(login) => Subscription::run_with(login.clone(), connect),
        None => Subscription::none(),
    }
}

/// Starts a client and streams its events, the handle first.
pub fn connect(login: &Login) -> impl Stream<Item = Event> + use<> {
    let config = login.config();
    iced::stream::channel(
        100,
        async move |mut output: iced::futures::channel::mpsc::Sender<Event>| {
            // `Client::start` opens the database on the client's own thread; it returns at once.
            let (handle, mut events) = match ququ_client::Client::start(config) {
                Ok(started) => started,
                Err(e) => {
                    let _ = output
                        .send(Event::Client(Box::new(ClientEvent::Stopped(
                            StopReason::Storage(e.to_string()),
                        ))))
                        .await;
                    return;
                }
            };
            if output
                .send(Event::Ready(Client(handle.clone())))
                .await
                .is_err()
            {
                handle.shutdown();
                return;
            }
            while let Some(event) = events.recv().await {
                if output.send(Event::Client(Box::new(event))).await.is_err() {
                    // The UI dropped the subscription (logged out, quit): stop the client with it.
                    handle.shutdown();
                    return;
                }
            }
        },
    )
}
