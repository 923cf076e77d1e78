//! Who is online, and the outboxes of their sessions.
//!
//! The hub carries lines that the service has already formatted, as shared [`Bytes`], so a group message
//! is encoded once however many members receive it — and a batch's messages to one group are one
//! [`Bundle`]: one buffer, queued to each member as one piece and written in one go. It never blocks: a
//! session whose outbox is full is told it is a slow reader (and closes) instead of letting the sender
//! wait or the server's memory grow.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{Notify, mpsc};

use ququ_protocol::{ErrorCode, Feature, Features, Millis};

use crate::storage::{Passing, UserId};

/// Identifies one connection for its whole life.
pub type SessionId = u64;

/// A line ready for the wire, ending in its `\n`, shared by every recipient.
pub type Line = Bytes;

/// What the hub holds for one logged-in session.
#[derive(Debug, Clone)]
pub struct SessionLink {
    pub id: SessionId,
    pub outbox: Arc<Outbox>,
}

/// Whole lines, each ending in `\n`, queued for one session: one line, or a run of a bundle's.
#[derive(Debug, Clone)]
pub struct Piece {
    pub bytes: Bytes,
    /// How many lines `bytes` holds, for the outbox's bound.
    lines: usize,
}

/// Several lines for the same recipients in one buffer, each with the session it came from, which does
/// not get it back: a batch's messages to one group.
#[derive(Debug, Default)]
pub struct Bundle {
    bytes: Vec<u8>,
    /// Each line's end in `bytes`, and its sending session.
    lines: Vec<(usize, Option<SessionId>)>,
}

impl Bundle {
    /// Appends a line (without its `\n`, which this adds) from session `from`.
    pub fn push(&mut self, line: &str, from: Option<SessionId>) {
        self.bytes.extend_from_slice(line.as_bytes());
        self.bytes.push(b'\n');
        self.lines.push((self.bytes.len(), from));
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// What session `me` gets of a bundle's lines (their ends in `bytes`, and their senders), into `out`: the
/// whole buffer, or, if some lines came from `me`, the runs between them.
fn pieces_for(
    bytes: &Bytes,
    lines: &[(usize, Option<SessionId>)],
    me: SessionId,
    out: &mut Vec<Piece>,
) {
    let (mut start, mut end, mut count) = (0, 0, 0);
    for &(line_end, from) in lines {
        if from == Some(me) {
            if count > 0 {
                out.push(Piece {
                    bytes: bytes.slice(start..end),
                    lines: count,
                });
            }
            start = line_end;
            count = 0;
        } else {
            count += 1;
        }
        end = line_end;
    }
    if count > 0 {
        // `slice` of the whole buffer shares it, as a clone would.
        out.push(Piece {
            bytes: bytes.slice(start..end),
            lines: count,
        });
    }
}

/// Outboxes given lines and not yet woken: see [`Hub::queue`]. Dropping it wakes them.
#[derive(Debug, Default)]
pub struct Wakes(Vec<Arc<Outbox>>);

impl Wakes {
    /// Wakes every session that has been given lines (as dropping does; this says so at the call).
    pub fn wake(self) {}

    /// Adds `other`'s sessions, to be woken with these.
    pub fn extend(&mut self, mut other: Wakes) {
        self.0.append(&mut other.0);
    }
}

impl Drop for Wakes {
    fn drop(&mut self) {
        for outbox in self.0.drain(..) {
            outbox.ready.notify_one();
        }
    }
}

/// A session's bounded queue of lines from others, and its slow-reader flag.
///
/// Small on purpose, since every connection has one for its whole life: an idle outbox is a mutex, an
/// empty queue (no allocation) and a [`Notify`] — about 100 bytes, where a tokio channel costs over 1 KB
/// (its first block of slots is allocated up front, its fields cache-line padded).
#[derive(Debug)]
pub struct Outbox {
    queue: Mutex<Queue>,
    ready: Notify,
}

#[derive(Debug)]
struct Queue {
    pieces: VecDeque<Piece>,
    /// Lines in `pieces`.
    lines: usize,
    /// Most lines queued at once.
    capacity: usize,
    /// The queue overflowed: the session is to close with `BYE:slow_reader`.
    slow: bool,
    /// The session has ended; lines for it are dropped.
    closed: bool,
    /// The session is to end with `BYE:<code>:<text>` (account disabled, password changed); lines for it
    /// are dropped.
    ended: Option<(ErrorCode, String)>,
    /// When the session logged in (milliseconds since the epoch), for [`Outbox::end`].
    since: Millis,
    /// The newer lines the session asked for with `FEATURES:` (issue 24).
    features: Features,
}

/// What a session takes from its outbox.
#[derive(Debug)]
pub enum Taken {
    Lines(VecDeque<Piece>),
    /// The outbox overflowed: the client is not reading fast enough.
    Slow,
    /// The session is to end: say `BYE:<code>:<text>` and close.
    Ended(ErrorCode, String),
}

/// What became of lines offered to an outbox.
#[derive(Debug, PartialEq, Eq)]
enum Offer {
    /// Queued; `wake` if the queue was empty, so the session may be waiting for them.
    Queued { wake: bool },
    /// The outbox was full just now: the session has been told it is slow.
    NowSlow,
    /// Dropped: the session is slow or closed already.
    Dropped,
}

/// A buffer handed back after a write is kept for the next batch only up to this many pieces, so an
/// idle session does not keep a big one.
const KEEP: usize = 64;

impl Outbox {
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Outbox {
            queue: Mutex::new(Queue {
                pieces: VecDeque::new(),
                lines: 0,
                capacity: capacity.max(1),
                slow: false,
                closed: false,
                ended: None,
                since: 0,
                features: Features::default(),
            }),
            ready: Notify::new(),
        })
    }

    /// Which newer lines this session gets (`FEATURES:`).
    pub fn set_features(&self, features: Features) {
        self.lock().features = features;
    }

    pub fn features(&self) -> Features {
        self.lock().features
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        // Every operation leaves the queue consistent, so a poisoned lock is still usable.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues pieces without waiting and without waking the session (the caller does, after).
    fn offer(&self, pieces: impl IntoIterator<Item = Piece>) -> Offer {
        let mut q = self.lock();
        if q.closed || q.slow || q.ended.is_some() {
            return Offer::Dropped;
        }
        let was_empty = q.pieces.is_empty();
        for piece in pieces {
            if q.lines + piece.lines > q.capacity {
                q.slow = true;
                q.pieces = VecDeque::new();
                q.lines = 0;
                drop(q);
                self.ready.notify_one();
                return Offer::NowSlow;
            }
            q.lines += piece.lines;
            q.pieces.push_back(piece);
        }
        // A session that found the queue empty waits for a wake; one that did not will look again.
        Offer::Queued {
            wake: was_empty && !q.pieces.is_empty(),
        }
    }

    /// Waits for lines and takes up to `max` pieces of them, oldest first; or [`Taken::Slow`] once the
    /// outbox has overflowed. Cancel-safe: nothing is taken until it returns.
    pub async fn take(&self, max: usize) -> Taken {
        loop {
            {
                let mut q = self.lock();
                if let Some((code, text)) = q.ended.clone() {
                    return Taken::Ended(code, text);
                }
                if q.slow {
                    return Taken::Slow;
                }
                if !q.pieces.is_empty() {
                    let batch = if q.pieces.len() <= max {
                        q.lines = 0;
                        std::mem::take(&mut q.pieces)
                    } else {
                        let batch: VecDeque<Piece> = q.pieces.drain(..max).collect();
                        q.lines -= batch.iter().map(|p| p.lines).sum::<usize>();
                        batch
                    };
                    return Taken::Lines(batch);
                }
            }
            self.ready.notified().await;
        }
    }

    /// Hands back a written batch's buffer for the next one (a small one only), so a busy session does
    /// not allocate a queue for every batch.
    pub fn recycle(&self, mut batch: VecDeque<Piece>) {
        if batch.capacity() > KEEP {
            return;
        }
        batch.clear();
        let mut q = self.lock();
        if q.pieces.is_empty() && q.pieces.capacity() == 0 {
            q.pieces = batch;
        }
    }

    /// Records when the session logged in.
    pub fn logged_in_at(&self, at: Millis) {
        self.lock().since = at;
    }

    /// Ends the session, if it logged in at or before `before` (any time if `None`): it says
    /// `BYE:<code>:<text>` and closes as soon as it looks at its outbox. What is queued for it is dropped
    /// (it is stored, and the next login syncs it). False if it was not ended now.
    pub fn end(&self, code: ErrorCode, text: &str, before: Option<Millis>) -> bool {
        let mut q = self.lock();
        if q.closed || q.ended.is_some() || before.is_some_and(|b| q.since > b) {
            return false;
        }
        q.ended = Some((code, text.to_owned()));
        q.pieces = VecDeque::new();
        q.lines = 0;
        drop(q);
        self.ready.notify_one();
        true
    }

    /// Drops what is queued (a login refused after its session was briefly in the hub).
    pub fn clear(&self) {
        let mut q = self.lock();
        q.pieces = VecDeque::new();
        q.lines = 0;
    }

    /// The session has ended: drop what is queued and whatever comes later.
    pub fn close(&self) {
        let mut q = self.lock();
        q.closed = true;
        q.pieces = VecDeque::new();
        q.lines = 0;
    }
}

/// A line in the forms sessions read it, chosen by at most a few of their features: a reply with its
/// quote for a session with `SAID` and as plain text for one without; a typing notice for a session
/// with `TYPING` and nothing for one without. Data rather than a test to run, so that in cluster mode a
/// node can pass it to the others (`service/passing.rs`), which choose for their own sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forms {
    by: Vec<Feature>,
    /// The form for a session having exactly those of `by` whose bit is set in the index (bit `i` for
    /// `by[i]`); `None`: nothing for it.
    lines: Vec<Option<Line>>,
}

impl Forms {
    /// The same line for every session.
    pub fn all(line: Line) -> Forms {
        Forms {
            by: Vec::new(),
            lines: vec![Some(line)],
        }
    }

    /// `with` for a session that has `feature`, `without` for one that has not.
    pub fn by(feature: Feature, without: Option<Line>, with: Line) -> Forms {
        Forms {
            by: vec![feature],
            lines: vec![without, Some(with)],
        }
    }

    /// `table[a][b]` for a session having `a` (1) or not (0), and `b` likewise.
    pub fn by_two(a: Feature, b: Feature, table: [[Option<Line>; 2]; 2]) -> Forms {
        let [[neither, b_only], [a_only, both]] = table;
        Forms {
            by: vec![a, b],
            lines: vec![neither, a_only, b_only, both],
        }
    }

    /// Forms read back from another node; `None` if there is not one form for each combination.
    pub fn from_parts(by: Vec<Feature>, lines: Vec<Option<Line>>) -> Option<Forms> {
        (by.len() <= 4 && lines.len() == 1 << by.len()).then_some(Forms { by, lines })
    }

    pub fn into_parts(self) -> (Vec<Feature>, Vec<Option<Line>>) {
        (self.by, self.lines)
    }

    /// The form for a session with `features`.
    pub fn choose(&self, features: &Features) -> Option<&Line> {
        let index: usize = (self.by.iter().enumerate())
            .map(|(bit, f)| usize::from(features.has(*f)) << bit)
            .sum();
        self.lines.get(index)?.as_ref()
    }
}

/// The registry of logged-in sessions by user. Clones share one registry (the message writer keeps one).
#[derive(Debug, Default, Clone)]
pub struct Hub {
    online: Arc<Mutex<HashMap<UserId, Vec<SessionLink>>>>,
    /// Cluster mode: where every line queued through this hub is also sent, to be passed to the other
    /// nodes' sessions (`service/passing.rs`). `None` with one server, and in [`Hub::here`]'s copies.
    passer: Option<mpsc::UnboundedSender<Passing>>,
    /// Cluster mode: the users online on any node, as the presence records say (`service/passing.rs`).
    everywhere: Arc<Mutex<HashSet<UserId>>>,
}

impl Hub {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Vec<SessionLink>>> {
        // A panic while holding this lock leaves the map consistent (every operation is one push or
        // retain), so recovering the guard is safe.
        self.online.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn everywhere(&self) -> std::sync::MutexGuard<'_, HashSet<UserId>> {
        self.everywhere.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Cluster mode: this hub passes what it queues to the other nodes through `passer`.
    pub fn passing_to(mut self, passer: mpsc::UnboundedSender<Passing>) -> Hub {
        self.passer = Some(passer);
        self
    }

    /// The same registry, queuing for this node's sessions only: for the writer and the relay, whose
    /// messages every node pushes for itself from the database, and for lines another node passed.
    pub fn here(&self) -> Hub {
        Hub {
            passer: None,
            ..self.clone()
        }
    }

    /// Cluster mode: who is online on any node, at this node's start.
    pub fn set_everywhere(&self, users: impl IntoIterator<Item = UserId>) {
        let mut everywhere = self.everywhere();
        everywhere.clear();
        everywhere.extend(users);
    }

    /// Cluster mode: a presence record, applied in the order they were stored.
    pub fn presence_changed(&self, user: UserId, online: bool) {
        let mut everywhere = self.everywhere();
        if online {
            everywhere.insert(user);
        } else {
            everywhere.remove(&user);
        }
    }

    /// Adds a session; true if it is the user's first here (the user just came online, with one server).
    pub fn attach(&self, user: UserId, link: SessionLink) -> bool {
        let mut map = self.map();
        // Room for one: most users have one session, and 10,000 idle users are 10,000 of these.
        let sessions = map.entry(user).or_insert_with(|| Vec::with_capacity(1));
        sessions.push(link);
        sessions.len() == 1
    }

    /// Removes a session; true if it was the user's last here (the user just went offline, with one
    /// server).
    pub fn detach(&self, user: UserId, session: SessionId) -> bool {
        let mut map = self.map();
        let Some(sessions) = map.get_mut(&user) else {
            return false;
        };
        let before = sessions.len();
        sessions.retain(|s| s.id != session);
        if sessions.is_empty() {
            map.remove(&user);
            return before > 0;
        }
        false
    }

    /// Ends every session of `user` here except `except` that logged in at or before `before` (all if
    /// `None`) with `BYE:<code>:<text>` (issue 20, item 2); how many. Each leaves the registry as its
    /// session closes, like any other.
    pub fn end_sessions(
        &self,
        user: UserId,
        except: Option<SessionId>,
        before: Option<Millis>,
        code: ErrorCode,
        text: &str,
    ) -> usize {
        let map = self.map();
        map.get(&user).map_or(0, |sessions| {
            sessions
                .iter()
                .filter(|s| Some(s.id) != except)
                .filter(|s| s.outbox.end(code.clone(), text, before))
                .count()
        })
    }

    /// Ends every session here with `BYE:<code>:<text>`; how many.
    pub fn end_everyone(&self, code: ErrorCode, text: &str) -> usize {
        let map = self.map();
        map.values()
            .flatten()
            .filter(|s| s.outbox.end(code.clone(), text, None))
            .count()
    }

    /// Whether `user` is online: here, or (cluster mode) on another node.
    pub fn is_online(&self, user: UserId) -> bool {
        self.map().contains_key(&user) || self.everywhere().contains(&user)
    }

    /// How many users have a session here.
    pub fn online_count(&self) -> usize {
        self.map().len()
    }

    /// Queues `line` for every session of `user` except `except`, and wakes them; false if it reached
    /// none here (the user is offline, or each of their sessions is being cut off). This is decided
    /// under the registry's lock as the line is queued, so no session can come or go between "is
    /// online" and the push, and a caller can keep what was not heard. In cluster mode the line is
    /// passed to the other nodes too, and "heard" speaks only of this one.
    pub fn send(&self, user: UserId, line: &Line, except: Option<SessionId>) -> bool {
        self.send_many([user], line, except)
    }

    /// Queues `line` for every session of each user in `users` except `except`, and wakes them; false
    /// if it reached none here.
    pub fn send_many(
        &self,
        users: impl IntoIterator<Item = UserId>,
        line: &Line,
        except: Option<SessionId>,
    ) -> bool {
        let mut wakes = Wakes::default();
        let heard = self.queue(users, line, except, &mut wakes);
        wakes.wake();
        heard
    }

    /// Queues `line` for every session of each user in `users` except `except`; they are woken when
    /// `wakes` is. False if it reached none here.
    pub fn queue(
        &self,
        users: impl IntoIterator<Item = UserId>,
        line: &Line,
        except: Option<SessionId>,
        wakes: &mut Wakes,
    ) -> bool {
        if self.passer.is_some() {
            return self.queue_forms(users, &Forms::all(line.clone()), except, wakes);
        }
        let map = self.map();
        let mut heard = false;
        for user in users {
            if let Some(sessions) = map.get(&user) {
                for s in sessions.iter().filter(|s| Some(s.id) != except) {
                    heard |= deliver(s, one(line), wakes);
                }
            }
        }
        heard
    }

    /// Queues for every session of each user in `users` (but `except`) the form its features choose,
    /// if any; they are woken when `wakes` is. False if it reached none here. In cluster mode the forms
    /// are passed to the other nodes too, which choose for their sessions (all of them: `except` is one
    /// of this node's).
    pub fn queue_forms(
        &self,
        users: impl IntoIterator<Item = UserId>,
        forms: &Forms,
        except: Option<SessionId>,
        wakes: &mut Wakes,
    ) -> bool {
        let Some(passer) = &self.passer else {
            return self.queue_here(users, forms, except, wakes);
        };
        let users: Vec<UserId> = users.into_iter().collect();
        let heard = self.queue_here(users.iter().copied(), forms, except, wakes);
        let (by, lines) = forms.clone().into_parts();
        // Closed only while the server stops, when nothing is left to tell.
        let _ = passer.send(Passing::Lines { users, by, lines });
        heard
    }

    fn queue_here(
        &self,
        users: impl IntoIterator<Item = UserId>,
        forms: &Forms,
        except: Option<SessionId>,
        wakes: &mut Wakes,
    ) -> bool {
        let map = self.map();
        let mut heard = false;
        for user in users {
            if let Some(sessions) = map.get(&user) {
                for s in sessions.iter().filter(|s| Some(s.id) != except) {
                    if let Some(line) = forms.choose(&s.outbox.features()) {
                        heard |= deliver(s, one(line), wakes);
                    }
                }
            }
        }
        heard
    }

    /// Cluster mode: passes `item` to the other nodes (nothing with one server).
    pub fn pass(&self, item: Passing) {
        if let Some(passer) = &self.passer {
            let _ = passer.send(item);
        }
    }

    /// Queues a bundle for every session of each user in `users` — one piece each, less the lines a
    /// session sent itself — in one pass over the registry; they are woken when `wakes` is.
    pub fn queue_bundle(&self, users: &[UserId], bundle: Bundle, wakes: &mut Wakes) {
        if bundle.is_empty() {
            return;
        }
        let bytes = Bytes::from(bundle.bytes);
        let mut pieces = Vec::new();
        let map = self.map();
        for user in users {
            if let Some(sessions) = map.get(user) {
                for s in sessions {
                    pieces_for(&bytes, &bundle.lines, s.id, &mut pieces);
                    deliver(s, pieces.drain(..), wakes);
                }
            }
        }
    }
}

fn one(line: &Line) -> [Piece; 1] {
    [Piece {
        bytes: line.clone(),
        lines: 1,
    }]
}

/// Queues `pieces` in the session's outbox; false if they were dropped (a slow reader being cut off).
fn deliver(
    session: &SessionLink,
    pieces: impl IntoIterator<Item = Piece>,
    wakes: &mut Wakes,
) -> bool {
    match session.outbox.offer(pieces) {
        Offer::Queued { wake: true } => {
            wakes.0.push(session.outbox.clone());
            true
        }
        Offer::Queued { wake: false } => true,
        Offer::Dropped => false,
        // Logged once: every later line for the same session until it closes is dropped quietly.
        Offer::NowSlow => {
            tracing::warn!(
                session = session.id,
                "outbox full; disconnecting slow reader"
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    fn link(id: SessionId, cap: usize) -> (SessionLink, Arc<Outbox>) {
        let outbox = Outbox::new(cap);
        (
            SessionLink {
                id,
                outbox: outbox.clone(),
            },
            outbox,
        )
    }

    /// The queued lines, one string per line, whatever pieces they are in.
    fn queued(outbox: &Outbox) -> Vec<String> {
        let q = outbox.lock();
        let all: Vec<u8> = q.pieces.iter().flat_map(|p| p.bytes.to_vec()).collect();
        let lines: Vec<String> = String::from_utf8(all)
            .unwrap()
            .split_inclusive('\n')
            .map(str::to_string)
            .collect();
        assert_eq!(lines.len(), q.lines, "the line count matches the lines");
        lines
    }

    fn line(s: &str) -> Line {
        Bytes::copy_from_slice(s.as_bytes())
    }

    /// Issue 20, item 2: ending a user's sessions spares the one named and those that logged in after
    /// the change; an ended session drops what was queued and takes no more.
    #[test]
    fn ending_sessions_spares_the_exception_and_later_logins() {
        let hub = Hub::default();
        let (a, a_box) = link(1, 4);
        let (b, b_box) = link(2, 4);
        let (c, c_box) = link(3, 4);
        a_box.logged_in_at(100);
        b_box.logged_in_at(100);
        c_box.logged_in_at(300);
        for l in [a, b, c] {
            hub.attach(7, l);
        }
        hub.send(7, &line("MSG:x\n"), None);
        let ended = hub.end_sessions(7, Some(1), Some(200), ErrorCode::Disabled, "off");
        assert_eq!(ended, 1, "only b: a is excepted, c logged in after");
        assert!(matches!(
            b_box.take(10).now_or_never(),
            Some(Taken::Ended(ErrorCode::Disabled, text)) if text == "off"
        ));
        hub.send(7, &line("MSG:y\n"), None);
        assert!(queued(&b_box).is_empty(), "dropped, and nothing new");
        assert_eq!(queued(&a_box).len(), 2);
        assert_eq!(queued(&c_box).len(), 2);
        assert_eq!(
            hub.end_sessions(7, None, None, ErrorCode::PasswordChanged, ""),
            2,
            "a and c now; b had ended already"
        );
    }

    #[test]
    fn first_and_last_session_flip_presence() {
        let hub = Hub::default();
        let (a, _ra) = link(1, 4);
        let (b, _rb) = link(2, 4);
        assert!(hub.attach(7, a));
        assert!(!hub.attach(7, b));
        assert!(!hub.detach(7, 1));
        assert!(hub.detach(7, 2));
        assert!(!hub.is_online(7));
    }

    /// `send` says whether anyone has the line: not for an offline user, nor for one whose only
    /// session is being cut off as a slow reader.
    #[test]
    fn sending_says_whether_a_session_has_the_line() {
        let hub = Hub::default();
        let (a, a_box) = link(1, 1);
        assert!(!hub.send(7, &line("FRIEND_REJECTED:x\n"), None), "offline");
        hub.attach(7, a);
        assert!(hub.send(7, &line("FRIEND_REJECTED:x\n"), None));
        assert_eq!(queued(&a_box), ["FRIEND_REJECTED:x\n"]);
        assert!(
            !hub.send(7, &line("FRIEND_REJECTED:y\n"), None),
            "its outbox is full"
        );
        assert!(a_box.lock().slow);
    }

    #[test]
    fn a_full_outbox_marks_only_that_session_slow() {
        let hub = Hub::default();
        let (slow, slow_box) = link(1, 1);
        let (fast, fast_box) = link(2, 8);
        hub.attach(1, slow);
        hub.attach(2, fast);
        let line = line("MSG:x\n");
        hub.send_many([1, 2], &line, None);
        hub.send_many([1, 2], &line, None);
        assert!(slow_box.lock().slow);
        assert!(!fast_box.lock().slow);
        assert_eq!(queued(&fast_box), ["MSG:x\n", "MSG:x\n"]);
    }

    /// A bundle reaches every member as one piece; the sessions that sent some of its lines get all the
    /// others, in order, and not their own; the bound counts lines, not pieces.
    #[test]
    fn a_bundle_is_one_piece_for_each_member_less_their_own_lines() {
        let hub = Hub::default();
        let (alice, alice_box) = link(1, 16);
        let (alice_phone, phone_box) = link(2, 16);
        let (bob, bob_box) = link(3, 16);
        let (carol, carol_box) = link(4, 4);
        hub.attach(10, alice);
        hub.attach(10, alice_phone);
        hub.attach(20, bob);
        hub.attach(30, carol);
        let mut bundle = Bundle::default();
        bundle.push("GROUP:1:a1", Some(1));
        bundle.push("GROUP:1:b1", Some(3));
        bundle.push("GROUP:1:a2", Some(1));
        bundle.push("GROUP:1:b2", Some(3));
        bundle.push("GROUP:1:b3", Some(3));
        let mut wakes = Wakes::default();
        hub.queue_bundle(&[10, 20, 30, 40], bundle, &mut wakes);
        wakes.wake();

        let all = [
            "GROUP:1:a1\n",
            "GROUP:1:b1\n",
            "GROUP:1:a2\n",
            "GROUP:1:b2\n",
            "GROUP:1:b3\n",
        ];
        assert_eq!(
            queued(&phone_box),
            all,
            "another session of the sender gets everything"
        );
        assert_eq!(phone_box.lock().pieces.len(), 1, "as one piece");
        assert_eq!(
            queued(&alice_box),
            ["GROUP:1:b1\n", "GROUP:1:b2\n", "GROUP:1:b3\n"]
        );
        assert_eq!(queued(&bob_box), ["GROUP:1:a1\n", "GROUP:1:a2\n"]);
        // Five lines do not fit in room for four.
        assert!(carol_box.lock().slow);
        assert!(queued(&carol_box).is_empty());
    }

    #[tokio::test]
    async fn a_session_takes_what_was_queued_in_batches_then_learns_it_is_slow() {
        let (link, outbox) = link(1, 3);
        assert_eq!(outbox.offer(one(&line("a"))), Offer::Queued { wake: true });
        assert_eq!(outbox.offer(one(&line("b"))), Offer::Queued { wake: false });
        assert_eq!(outbox.offer(one(&line("c"))), Offer::Queued { wake: false });
        let Taken::Lines(first) = outbox.take(2).await else {
            panic!("lines expected")
        };
        let text = |pieces: &VecDeque<Piece>| -> Vec<Bytes> {
            pieces.iter().map(|p| p.bytes.clone()).collect()
        };
        assert_eq!(text(&first), [line("a"), line("b")]);
        // Waiting for a line that comes later.
        let waiter = tokio::spawn({
            let outbox = outbox.clone();
            async move {
                let Taken::Lines(rest) = outbox.take(10).await else {
                    panic!("lines expected")
                };
                rest
            }
        });
        assert_eq!(text(&waiter.await.unwrap()), [line("c")]);
        let later = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.take(10).await }
        });
        tokio::task::yield_now().await;
        // Queued, then woken when the wakes are.
        let mut wakes = Wakes::default();
        deliver(&link, one(&line("d")), &mut wakes);
        wakes.wake();
        assert!(matches!(later.await.unwrap(), Taken::Lines(l) if text(&l) == [line("d")]));
        for s in ["e", "f", "g"] {
            assert!(matches!(outbox.offer(one(&line(s))), Offer::Queued { .. }));
        }
        assert_eq!(outbox.offer(one(&line("h"))), Offer::NowSlow);
        assert_eq!(outbox.offer(one(&line("i"))), Offer::Dropped);
        assert!(matches!(outbox.take(10).await, Taken::Slow));
        outbox.close();
        assert!(queued(&outbox).is_empty());
    }

    /// A line's forms are chosen by a session's features, as data another node can read back; a hub that
    /// passes lines (cluster mode) sends each one queued through it on, and its copies for the writer and
    /// the relay do not; presence records make a user online anywhere.
    #[test]
    fn forms_are_chosen_by_features_and_a_passing_hub_passes_them_on() {
        let line = |s: &str| Line::from(format!("{s}\n"));
        let (plain, rich) = (line("plain"), line("rich"));
        let said = Forms::by(Feature::Said, Some(plain.clone()), rich.clone());
        assert_eq!(said.choose(&Features::default()), Some(&plain));
        assert_eq!(said.choose(&Features::ALL), Some(&rich));
        let (neither, a, b, both) = (line("0"), line("a"), line("b"), line("ab"));
        let two = Forms::by_two(
            Feature::Category,
            Feature::Profile,
            [
                [Some(neither.clone()), Some(b.clone())],
                [Some(a.clone()), Some(both.clone())],
            ],
        );
        let with = |features: &[Feature]| {
            let mut f = Features::default();
            features.iter().for_each(|x| f.set(*x));
            f
        };
        assert_eq!(two.choose(&with(&[])), Some(&neither));
        assert_eq!(two.choose(&with(&[Feature::Category])), Some(&a));
        assert_eq!(two.choose(&with(&[Feature::Profile])), Some(&b));
        assert_eq!(
            two.choose(&with(&[Feature::Profile, Feature::Category, Feature::Said])),
            Some(&both)
        );
        let typing = Forms::by(Feature::Typing, None, rich.clone());
        assert_eq!(typing.choose(&Features::default()), None);
        let (by, lines) = two.clone().into_parts();
        assert_eq!(Forms::from_parts(by.clone(), lines), Some(two));
        assert_eq!(Forms::from_parts(by, vec![None]), None, "a form short");

        let (passer, mut passed) = mpsc::unbounded_channel();
        let hub = Hub::default().passing_to(passer);
        hub.send(7, &plain, None);
        assert_eq!(
            passed.try_recv().unwrap(),
            Passing::Lines {
                users: vec![7],
                by: vec![],
                lines: vec![Some(plain.clone())]
            }
        );
        hub.here().send(7, &plain, None);
        assert!(
            passed.try_recv().is_err(),
            "the writer's copy passes nothing"
        );
        assert!(!hub.is_online(9));
        hub.presence_changed(9, true);
        assert!(hub.is_online(9) && hub.here().is_online(9));
        hub.presence_changed(9, false);
        assert!(!hub.is_online(9));
    }
}
