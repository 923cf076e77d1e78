//! The message writer: group commit for chat messages.
//!
//! Every private and group message goes through one task. Woken by a first message, it first lets every
//! other ready task run (`yield_now`), so sessions with messages waiting in their sockets queue them
//! too, then takes everything queued and handles the lot at once: each message's checks (the recipient
//! exists and is a friend, the sender is in the group), then one
//! [`MessageStore::store_messages`](crate::storage::MessageStore::store_messages) for all that
//! passed — one transaction, so the cost of a commit is shared by the batch — then the group's members,
//! looked up once per group per batch, all in one trip to the blocking pool. While one batch is being
//! written the next one queues, so batches grow with the load and stay at one message when the server
//! is quiet.
//!
//! Once the batch is committed, each new message is queued in its recipients' outboxes — a run of
//! messages to the same group as one [`Bundle`], one buffer for all its members — then the senders are
//! answered, and only then are the recipients' sessions woken. The durability rule of `messages.rs`
//! holds message by message (a message is in every online recipient's outbox before its `ACK:` can
//! go), and the senders' sessions run first: their next messages arrive while the recipients are being
//! written to, and join the next batch. Under load, when the next batch is already queued by then, the
//! recipients are woken only after that one is committed too, and write both batches in one go (one
//! write per recipient is what a delivery costs most); a batch's recipients never wait for more than
//! one further commit, and at low load, with nothing queued, they are woken at once. The push is the
//! writer's, not the sender's session's, so a sender that disconnects while its message is queued does
//! not keep it from online recipients. A refused message is answered at once and takes no part in the
//! batch; a message the store fails is failed alone (the store falls back to one transaction per
//! message).
//!
//! Queuing is synchronous (`submit`), so a session that pipelines several messages has them stored in
//! the order it read them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use ququ_protocol::Feature;
use ququ_protocol::{Features, Millis};

use super::hub::Forms;
use super::hub::{Bundle, Hub, Line, SessionId, Wakes};
use super::messages::{form_feature, to_wire};
use super::relay::Relay;
use crate::storage::{
    Body, GroupId, NewMessage, Silence, Store, StoreError, StoredMessage, Target, UserId,
};

/// Most messages written in one batch.
const MAX_BATCH: usize = 512;

/// Where a message goes, as the sender named it.
#[derive(Debug)]
pub(super) enum To {
    Account(String),
    Group(GroupId),
}

/// A message not yet checked or stored.
#[derive(Debug)]
pub(super) struct Draft {
    pub sender: UserId,
    /// The sending session, which gets the `ACK:` instead of a copy of the message.
    pub session: SessionId,
    pub to: To,
    pub client_id: String,
    pub time: Millis,
    pub body: Body,
}

/// What became of a draft.
#[derive(Debug, Clone)]
pub(super) enum Written {
    /// Committed and pushed, or found: a resend of an earlier message, not pushed again.
    Stored {
        id: u64,
        time: Millis,
    },
    NoSuchUser,
    NotFriends(String),
    /// Not a member of the group, or no such group.
    NotMember,
    /// The sender is muted in the group until then (0: the whole group is muted).
    Muted(Millis),
}

struct Job {
    draft: Draft,
    reply: oneshot::Sender<Result<Written, StoreError>>,
}

/// The handle the service keeps: the queue into the writer task, started on first use.
#[derive(Default)]
pub(super) struct Writer {
    started: OnceLock<Started>,
}

struct Started {
    /// Unbounded, so queuing never waits: each session has at most a few messages in flight and the
    /// number of sessions is bounded, which bounds the queue.
    queue: mpsc::UnboundedSender<Job>,
    task: Mutex<Option<JoinHandle<()>>>,
    counts: Arc<Counts>,
}

/// What the writer has done, for tests and the log.
#[derive(Default)]
struct Counts {
    /// Messages queued and not yet taken.
    queued: AtomicU64,
    batches: AtomicU64,
    messages: AtomicU64,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    /// Queues a message; the answer comes once it is committed (and pushed) or refused, or never (the
    /// channel closes) if the writer has stopped.
    pub(super) fn submit(
        &self,
        store: &Arc<dyn Store>,
        hub: &Hub,
        relay: Option<&Arc<Relay>>,
        draft: Draft,
    ) -> oneshot::Receiver<Result<Written, StoreError>> {
        let started = self.started.get_or_init(|| {
            let (queue, jobs) = mpsc::unbounded_channel();
            let counts = Arc::new(Counts::default());
            // A stored message reaches other nodes through the database (the relay), never as passed
            // lines: the writer's hub passes nothing.
            let task = tokio::spawn(run(
                store.clone(),
                hub.here(),
                relay.cloned(),
                jobs,
                counts.clone(),
            ));
            Started {
                queue,
                task: Mutex::new(Some(task)),
                counts,
            }
        });
        let (reply, answer) = oneshot::channel();
        // If the writer has stopped, `reply` is dropped with the job and the answer says so.
        started.counts.queued.fetch_add(1, Ordering::Relaxed);
        let _ = started.queue.send(Job { draft, reply });
        answer
    }

    /// The writer task, if it was started. It ends once the service (holding the queue) is dropped and
    /// everything queued is written.
    pub(super) fn take_task(&self) -> Option<JoinHandle<()>> {
        let started = self.started.get()?;
        started
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Messages queued and not yet taken by the writer.
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.started
            .get()
            .map_or(0, |s| s.counts.queued.load(Ordering::Relaxed) as usize)
    }

    /// Batches written so far.
    #[cfg(test)]
    pub(super) fn batches(&self) -> u64 {
        self.started
            .get()
            .map_or(0, |s| s.counts.batches.load(Ordering::Relaxed))
    }
}

async fn run(
    store: Arc<dyn Store>,
    hub: Hub,
    relay: Option<Arc<Relay>>,
    mut queue: mpsc::UnboundedReceiver<Job>,
    counts: Arc<Counts>,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    // The last batch's recipients, not woken yet because the next batch was already queued (see the
    // module's docs): held only while the queue is not empty, so the next `recv_many` returns at once.
    let mut carried: Option<Wakes> = None;
    loop {
        if queue.recv_many(&mut jobs, MAX_BATCH).await == 0 {
            break;
        }
        // Sessions that are ready to run may have more messages in their sockets: let them queue those
        // first, so they share this commit instead of waiting for the next one. At low load nothing
        // else is ready and this costs nothing.
        tokio::task::yield_now().await;
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let n = jobs.len() as u64;
        counts.queued.fetch_sub(n, Ordering::Relaxed);
        counts.batches.fetch_add(1, Ordering::Relaxed);
        counts.messages.fetch_add(n, Ordering::Relaxed);
        // A batch-sized copy, not the whole buffer: freeing a buffer this big (`MAX_BATCH` jobs, tens
        // of kilobytes) made malloc consolidate its free lists on every batch.
        let mut batch = Vec::with_capacity(jobs.len());
        batch.append(&mut jobs);
        let store = store.clone();
        // A panic in the store drops the batch's reply channels: those senders get an internal error and
        // the writer carries on with the next batch.
        let relay = relay.clone();
        let written = tokio::task::spawn_blocking(move || {
            let done = write_batch(store.as_ref(), batch);
            // Cluster mode: the relay queues the batch after every earlier message of the other nodes,
            // under its lock, so it is done here on the blocking thread.
            match relay {
                Some(relay) => Ok(relay.handoff(done)),
                None => Err(done),
            }
        });
        let wakes = match written.await {
            Ok(Ok(wakes)) => wakes,
            // Delivered from here rather than from the blocking thread: waking the recipients'
            // sessions from the runtime's own thread is cheaper than from outside it.
            Ok(Err(done)) => deliver(&hub, done),
            Err(e) => {
                tracing::error!(error = %e, "message batch failed");
                Wakes::default()
            }
        };
        if let Some(mut earlier) = carried.take() {
            // They have waited one commit: no longer.
            earlier.extend(wakes);
            earlier.wake();
            continue;
        }
        // The sessions just answered, and any with requests waiting in their sockets, run first: under
        // load that is where the next batch comes from (it took the writes per message from 2.3 to 1.7
        // in a fan-out). At low load nothing else is ready, and the recipients are woken at once.
        if queue.is_empty() {
            tokio::task::yield_now().await;
        }
        if queue.is_empty() {
            wakes.wake();
        } else {
            carried = Some(wakes);
        }
    }
    tracing::debug!(
        batches = counts.batches.load(Ordering::Relaxed),
        messages = counts.messages.load(Ordering::Relaxed),
        "message writer stopped"
    );
}

/// Queues a committed batch's new messages and answers its senders; the recipients are woken when the
/// returned [`Wakes`] is.
fn deliver(hub: &Hub, done: Vec<(Done, Reply)>) -> Wakes {
    let mut wakes = Wakes::default();
    let mut answers = Vec::with_capacity(done.len());
    let pushes: Vec<Push> = done
        .into_iter()
        .filter_map(|(done, reply)| {
            answers.push((reply, done.written));
            done.push
        })
        .collect();
    queue_pushes(hub, pushes, &mut wakes);
    for (reply, written) in answers {
        let _ = reply.send(Ok(written));
    }
    wakes
}

/// Queues new messages in their recipients' outboxes, in order, a run of messages to one group as one
/// [`Bundle`]; they are woken when `wakes` is.
pub(super) fn queue_pushes(hub: &Hub, pushes: impl IntoIterator<Item = Push>, wakes: &mut Wakes) {
    let mut run: Option<(Arc<[UserId]>, Bundle)> = None;
    for push in pushes {
        if let Some((rich, wants)) = &push.rich {
            // A reply or a mention goes out in two forms, chosen per session: on its own, after
            // whatever bundle came before it, so the order holds.
            if let Some((users, bundle)) = run.take() {
                hub.queue_bundle(&users, bundle, wakes);
            }
            let wire = |text: &str| Line::from(format!("{text}\n"));
            let forms = Forms::by(*wants, Some(wire(&push.text)), wire(rich));
            match &push.audience {
                Audience::Group(members) => {
                    hub.queue_forms(members.iter().copied(), &forms, push.session, wakes);
                }
                Audience::Sender => {
                    hub.queue_forms([push.sender], &forms, push.session, wakes);
                }
                Audience::User(them) => {
                    hub.queue_forms([*them], &forms, None, wakes);
                    if *them != push.sender {
                        hub.queue_forms([push.sender], &forms, push.session, wakes);
                    }
                }
            }
            continue;
        }
        let same_group = matches!((&run, &push.audience),
            (Some((current, _)), Audience::Group(members)) if Arc::ptr_eq(current, members));
        if !same_group && let Some((users, bundle)) = run.take() {
            hub.queue_bundle(&users, bundle, wakes);
        }
        match push.audience {
            Audience::Group(members) => run
                .get_or_insert_with(|| (members, Bundle::default()))
                .1
                .push(&push.text, push.session),
            Audience::User(them) => {
                let mut text = push.text;
                text.push('\n');
                let line = Line::from(text);
                hub.queue([them], &line, None, wakes);
                if them != push.sender {
                    hub.queue([push.sender], &line, push.session, wakes);
                }
            }
            Audience::Sender => {
                let mut text = push.text;
                text.push('\n');
                hub.queue([push.sender], &Line::from(text), push.session, wakes);
            }
        }
    }
    if let Some((users, bundle)) = run {
        hub.queue_bundle(&users, bundle, wakes);
    }
}

/// Who a stored message is pushed to.
pub(super) enum Audience {
    /// The recipient of a private message.
    User(UserId),
    /// Only the sender's other sessions: the recipient blocks the sender, and must get nothing, while
    /// the sender's devices see it as sent, as they would any message (the block must not show).
    Sender,
    /// Every member of the group, in id order.
    Group(Arc<[UserId]>),
}

/// A committed message: the sender's answer and, unless it was a resend, the line to push.
pub(super) struct Done {
    pub written: Written,
    pub push: Option<Push>,
}

/// A new message's line (without its `\n`) and who gets it.
pub(super) struct Push {
    pub text: String,
    /// The newer form of the line, for the sessions whose features pass the test (a reply, a mention).
    pub rich: Option<(String, Feature)>,
    pub audience: Audience,
    pub sender: UserId,
    /// The session that sent it, which gets an `ACK:` instead of a copy; `None` for a message read back
    /// from the database (service/relay.rs), which every session of its sender gets.
    pub session: Option<SessionId>,
}

impl Push {
    /// `message` as its recipients get it; `None` if it has been recalled (it is never sent then).
    pub(super) fn of(
        message: StoredMessage,
        audience: Audience,
        sender: UserId,
        session: Option<SessionId>,
    ) -> Option<Push> {
        let rich = form_feature(&message.body).and_then(|wants| {
            let rich = to_wire(message.clone(), Features::ALL)?;
            Some((rich.format(), wants))
        });
        Some(Push {
            text: to_wire(message, Features::default())?.format(),
            rich,
            audience,
            sender,
            session,
        })
    }
}

pub(super) type Reply = oneshot::Sender<Result<Written, StoreError>>;

/// Checks every draft and stores those that pass in one call. Refusals and failures are answered here;
/// the committed messages come back to be pushed and then answered, in order.
fn write_batch(store: &dyn Store, jobs: Vec<Job>) -> Vec<(Done, Reply)> {
    let mut known = Known::default();
    let mut batch = Vec::with_capacity(jobs.len());
    let mut waiting = Vec::with_capacity(jobs.len());
    for Job { draft, reply } in jobs {
        let session = draft.session;
        match check(store, draft, &mut known) {
            Ok(Ok((msg, audience))) => {
                waiting.push((reply, audience, msg.sender, session));
                batch.push(msg);
            }
            Ok(Err(refused)) => {
                let _ = reply.send(Ok(refused));
            }
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }
    if batch.is_empty() {
        return Vec::new();
    }
    let results = store.store_messages(&batch);
    debug_assert_eq!(results.len(), batch.len());
    let mut done = Vec::with_capacity(results.len());
    for ((reply, audience, sender, session), result) in waiting.into_iter().zip(results) {
        let stored = match result {
            Ok(stored) => stored,
            Err(e) => {
                let _ = reply.send(Err(e));
                continue;
            }
        };
        let written = Written::Stored {
            id: stored.message.id,
            time: stored.message.time,
        };
        // Pushed before the sender hears of it: once a sender has its `ACK:`, the message is in every
        // online recipient's outbox.
        let push = if stored.duplicate {
            None
        } else {
            Push::of(stored.message, audience, sender, Some(session))
        };
        done.push((Done { written, push }, reply));
    }
    done
}

/// The message to store and its audience, or why it is refused.
type Checked = Result<(NewMessage, Audience), Written>;

/// What a batch has looked up already, asked once per batch: each group's members, sorted (the
/// membership check and the fan-out list), and who may not speak in it; and what each sender may do with
/// each account they write to. The whole batch is checked before any of it is stored, so an answer is as
/// fresh for its last message as for its first. On PostgreSQL every question is a round trip: 50 pairs
/// writing to each other asked three per message (the recipient, the friendship, the block) and reached
/// 4,613 deliveries/s against SQLite's 70,096 (`bench/run.sh pg`, docs/benchmarks.md).
#[derive(Default)]
struct Known {
    groups: HashMap<GroupId, (Arc<[UserId]>, Arc<Silence>)>,
    /// (sender, account as written) → the recipient and whether they block the sender, or the refusal.
    private: HashMap<(UserId, String), Result<(UserId, bool), Written>>,
}

/// Who `account` is to `sender`: the recipient and whether they block the sender, or why the message is
/// refused.
fn recipient(
    store: &dyn Store,
    sender: UserId,
    account: &str,
) -> Result<Result<(UserId, bool), Written>, StoreError> {
    let Some(them) = store.user_by_account(account)?.filter(|u| !u.disabled) else {
        return Ok(Err(Written::NoSuchUser));
    };
    if !store.are_friends(sender, them.id)? {
        return Ok(Err(Written::NotFriends(them.account)));
    }
    Ok(Ok((them.id, store.blocks(them.id, sender)?)))
}

fn check(store: &dyn Store, draft: Draft, known: &mut Known) -> Result<Checked, StoreError> {
    let mut hidden = false;
    let (to, audience) = match draft.to {
        To::Account(account) => {
            let key = (draft.sender, account);
            let verdict = match known.private.get(&key) {
                Some(verdict) => verdict.clone(),
                None => {
                    let verdict = recipient(store, draft.sender, &key.1)?;
                    known.private.insert(key, verdict.clone());
                    verdict
                }
            };
            match verdict {
                Err(refused) => return Ok(Err(refused)),
                Ok((them, true)) => {
                    hidden = true;
                    (Target::User(them), Audience::Sender)
                }
                Ok((them, false)) => (Target::User(them), Audience::User(them)),
            }
        }
        To::Group(group) => {
            let groups = &mut known.groups;
            let (members, silence) = match groups.get(&group) {
                Some(known) => known.clone(),
                None => {
                    let mut ids = store.member_ids(group)?;
                    ids.sort_unstable();
                    let known: (Arc<[UserId]>, Arc<Silence>) =
                        (ids.into(), Arc::new(store.silence(group)?));
                    groups.insert(group, known.clone());
                    known
                }
            };
            if members.binary_search(&draft.sender).is_err() {
                return Ok(Err(Written::NotMember));
            }
            if let Some(until) = silence.muted_until(draft.sender, draft.time) {
                return Ok(Err(Written::Muted(until)));
            }
            (Target::Group(group), Audience::Group(members))
        }
    };
    let msg = NewMessage {
        sender: draft.sender,
        to,
        client_id: draft.client_id,
        time: draft.time,
        body: draft.body,
        hidden,
    };
    Ok(Ok((msg, audience)))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::time::Duration;

    use futures::FutureExt;

    use ququ_protocol::{ClientMessage, ErrorCode, Role, ServerMessage};

    use crate::service::hub::{Outbox, Taken};
    use crate::service::{Caller, Services, SessionCtx, SessionLink};
    use crate::storage::{AccountStore, GroupStore};
    use crate::{Config, Durability, SqliteStore};

    /// Polls `done` until it holds (never a timing assertion: it only waits for the writer's state).
    async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        for _ in 0..10_000 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("gave up waiting for {what}");
    }

    /// A service over a fresh database with `n` users, the first of whom made a group the rest are in;
    /// `rate = 0`. Also the directory (kept alive), the users and the database's path.
    fn group_of(
        n: usize,
    ) -> (
        tempfile::TempDir,
        Arc<Services>,
        Vec<crate::storage::UserRecord>,
        i64,
        std::path::PathBuf,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path());
        config.limits.rate = 0;
        let db = dir.path().join("writer.db");
        let store = SqliteStore::open(&db, Durability::Normal).unwrap();
        let users: Vec<_> = (0..n)
            .map(|i| store.create_user(&format!("u{i}"), "n", "h", 1).unwrap())
            .collect();
        let group = store.create_group(users[0].id, "g", 1).unwrap().id;
        for u in &users[1..] {
            store.add_member(group, u.id, Role::Member, 1).unwrap();
        }
        let services = Arc::new(Services::new(Arc::new(store), Arc::new(config)));
        (dir, services, users, group, db)
    }

    /// A session of user `i` in the hub, with its outbox.
    fn session_of(
        services: &Services,
        users: &[crate::storage::UserRecord],
        i: usize,
    ) -> (SessionCtx, Arc<Outbox>) {
        let outbox = Outbox::new(1024);
        let link = SessionLink {
            id: i as u64 + 1,
            outbox: outbox.clone(),
        };
        services.hub.attach(users[i].id, link.clone());
        let ctx = SessionCtx {
            id: i as u64 + 1,
            peer: "127.0.0.1".parse().unwrap(),
            link,
            caller: Some(Caller {
                user: users[i].id,
                account: users[i].account.clone(),
                token_hash: String::new(),
            }),
        };
        (ctx, outbox)
    }

    /// The lines in pieces taken from an outbox.
    fn lines_of(pieces: &std::collections::VecDeque<crate::service::hub::Piece>) -> Vec<String> {
        pieces
            .iter()
            .flat_map(|p| {
                String::from_utf8_lossy(&p.bytes)
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Under load the writer holds a batch's recipients until the next batch, already queued, is
    /// committed too: a session waiting for lines still gets both, in commit order, and is woken for
    /// them without anything else happening.
    #[tokio::test]
    async fn a_waiting_recipient_gets_a_batch_held_for_the_next_one() {
        let (_dir, services, users, group, db) = group_of(3);
        let (alice, _) = session_of(&services, &users, 0);
        let (bob, _) = session_of(&services, &users, 1);
        let (_carol, carol_box) = session_of(&services, &users, 2);
        let send = |ctx: SessionCtx, client_id: &str| {
            let services = services.clone();
            let msg = ClientMessage::GroupMsg {
                group: group as u64,
                client_id: client_id.into(),
                text: "hi".into(),
            };
            tokio::spawn(async move {
                let mut ctx = ctx;
                services.handle(&mut ctx, msg).await.replies
            })
        };
        // Carol waits, as a session's loop does.
        let waiting = tokio::spawn({
            let carol_box = carol_box.clone();
            async move {
                let mut got = Vec::new();
                while got.len() < 2 {
                    match carol_box.take(usize::MAX).await {
                        Taken::Lines(pieces) => got.extend(lines_of(&pieces)),
                        Taken::Slow | Taken::Ended(..) => panic!("slow"),
                    }
                }
                got
            }
        });
        // The first batch is held in the store until Bob's message is queued behind it.
        let blocker = rusqlite::Connection::open(&db).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let first = send(alice, "a1");
        wait_for("the first batch", || services.writer.batches() == 1).await;
        let second = send(bob, "b1");
        wait_for("the second message queued", || {
            services.writer.queued() == 1
        })
        .await;
        blocker.execute_batch("ROLLBACK").unwrap();
        for task in [first, second] {
            let replies = task.await.unwrap();
            assert!(
                matches!(&replies[..], [ServerMessage::Ack { .. }]),
                "{replies:?}"
            );
        }
        let got = tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("Carol was never woken")
            .unwrap();
        let cids: Vec<&str> = got.iter().map(|l| l.rsplit(':').nth(1).unwrap()).collect();
        assert_eq!(cids, ["a1", "b1"]);
        assert_eq!(services.writer.batches(), 2);
    }

    /// Many senders at once while the database is busy: everything queued behind the first message is
    /// written as one batch, and still every message is acknowledged exactly once, stored once and
    /// pushed once; a resend inside the batch is stored once; a message the database refuses fails
    /// alone; a non-member is refused as before.
    #[tokio::test]
    async fn a_batch_of_many_senders_acks_stores_and_pushes_each_message_once() {
        const MEMBERS: usize = 40;
        // MEMBERS members, then an outsider: the group is made before the outsider joins the server.
        let (_dir, services, mut users, group, db) = group_of(MEMBERS);
        users.push(
            services
                .db(|s| s.create_user("outsider", "n", "h", 1))
                .await
                .unwrap(),
        );

        // One session per user, in the hub, so pushes can be counted.
        let mut outboxes = HashMap::new();
        let mut ctxs: Vec<SessionCtx> = (0..=MEMBERS)
            .map(|i| {
                let (ctx, outbox) = session_of(&services, &users, i);
                outboxes.insert(i, outbox);
                ctx
            })
            .collect();

        // Another connection holds the write lock, so the first batch waits in the store while the
        // rest queue up behind it. It also installs a message the database refuses.
        let blocker = rusqlite::Connection::open(&db).unwrap();
        blocker
            .execute_batch(
                "CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.text = 'poison' \
                 BEGIN SELECT RAISE(ABORT, 'poisoned'); END; BEGIN IMMEDIATE;",
            )
            .unwrap();

        let send = |ctx: SessionCtx, client_id: String, text: &str| {
            let services = services.clone();
            let msg = ClientMessage::GroupMsg {
                group: group as u64,
                client_id,
                text: text.into(),
            };
            tokio::spawn(async move {
                let mut ctx = ctx;
                services.handle(&mut ctx, msg).await.replies
            })
        };
        let mut sent = Vec::new();
        let first = ctxs.remove(0);
        sent.push((0, "m0".to_string(), send(first, "m0".into(), "first")));
        wait_for("the first batch", || services.writer.batches() == 1).await;
        // Everyone else, a resend of u1's message from a second session, a poisoned message and an
        // outsider, all while the first batch is stuck.
        let dup_ctx = SessionCtx {
            id: 1000,
            peer: "127.0.0.1".parse().unwrap(),
            link: ctxs[0].link.clone(),
            caller: ctxs[0].caller.clone(),
        };
        let poison_ctx = SessionCtx {
            id: 1001,
            peer: "127.0.0.1".parse().unwrap(),
            link: ctxs[1].link.clone(),
            caller: ctxs[1].caller.clone(),
        };
        for (n, ctx) in ctxs.into_iter().enumerate() {
            let i = n + 1;
            sent.push((i, format!("m{i}"), send(ctx, format!("m{i}"), "hello")));
        }
        sent.push((1, "m1".into(), send(dup_ctx, "m1".into(), "hello")));
        let poisoned = send(poison_ctx, "bad".into(), "poison");
        let queued = MEMBERS + 2;
        wait_for("every message queued", || {
            services.writer.queued() == queued
        })
        .await;
        blocker.execute_batch("ROLLBACK").unwrap();

        let mut acks: HashMap<String, Vec<u64>> = HashMap::new();
        let mut refused_outsider = false;
        for (i, client_id, task) in sent {
            let replies = task.await.unwrap();
            assert_eq!(replies.len(), 1, "{client_id}: {replies:?}");
            match &replies[0] {
                ServerMessage::Ack {
                    client_id: c, id, ..
                } => {
                    assert_eq!(c, &client_id);
                    acks.entry(client_id).or_default().push(*id);
                }
                ServerMessage::Error { code, about, .. } if i == MEMBERS => {
                    assert_eq!(*code, ErrorCode::NotMember);
                    assert_eq!(about.as_deref(), Some(client_id.as_str()));
                    refused_outsider = true;
                }
                other => panic!("{client_id}: {other:?}"),
            }
        }
        assert!(refused_outsider);
        let poisoned = poisoned.await.unwrap();
        assert!(
            matches!(
                &poisoned[..],
                [ServerMessage::Error {
                    code: ErrorCode::Internal,
                    ..
                }]
            ),
            "{poisoned:?}"
        );
        // The first message alone, then everything else in one batch.
        assert_eq!(services.writer.batches(), 2);

        // Every member's message acknowledged; the resend with the same id as the first copy.
        assert_eq!(acks.len(), MEMBERS);
        assert_eq!(acks["m1"].len(), 2);
        assert_eq!(acks["m1"][0], acks["m1"][1]);
        let mut ids: Vec<u64> = acks.values().map(|ids| ids[0]).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), MEMBERS);

        // Stored once each, nothing else.
        let stored = services
            .db(move |s| s.messages_after(1, 0, 1000))
            .await
            .unwrap();
        let mut stored_ids: Vec<u64> = stored.iter().map(|m| m.id).collect();
        stored_ids.sort_unstable();
        assert_eq!(stored_ids, ids);
        assert!(stored.iter().all(|m| m.client_id.starts_with('m')));

        // Pushed once to every other member, never to the sender's own session or the outsider.
        for (i, outbox) in &outboxes {
            let got: Vec<String> = match outbox.take(usize::MAX).now_or_never() {
                Some(Taken::Lines(pieces)) => lines_of(&pieces),
                Some(Taken::Slow | Taken::Ended(..)) => panic!("member {i} is slow"),
                None => Vec::new(),
            };
            if *i == MEMBERS {
                assert!(got.is_empty(), "the outsider got {got:?}");
                continue;
            }
            let mut cids: Vec<String> = got
                .iter()
                .map(|l| l.trim_end().rsplit(':').nth(1).unwrap().to_string())
                .collect();
            cids.sort();
            let mut expected: Vec<String> = (0..MEMBERS)
                .filter(|j| j != i)
                .map(|j| format!("m{j}"))
                .collect();
            expected.sort();
            assert_eq!(cids, expected, "member {i}");
        }
    }
}
