//! Who is online, and the outboxes of their sessions.
//!
//! The hub carries lines that the service has already formatted, as `Arc<str>`, so a group message is
//! encoded once however many members receive it. It never blocks: a session whose outbox is full is
//! told it is a slow reader (and closes) instead of letting the sender wait or the server's memory grow.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::storage::UserId;

/// Identifies one connection for its whole life.
pub type SessionId = u64;

/// A line ready for the wire, ending in its `\n`, shared by every recipient.
pub type Line = Arc<str>;

/// What the hub holds for one logged-in session.
#[derive(Debug, Clone)]
pub struct SessionLink {
    pub id: SessionId,
    pub outbox: Arc<Outbox>,
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
    lines: VecDeque<Line>,
    capacity: usize,
    /// The queue overflowed: the session is to close with `BYE:slow_reader`.
    slow: bool,
    /// The session has ended; lines for it are dropped.
    closed: bool,
}

/// What a session takes from its outbox.
#[derive(Debug)]
pub enum Taken {
    Lines(VecDeque<Line>),
    /// The outbox overflowed: the client is not reading fast enough.
    Slow,
}

/// What became of a line offered to an outbox.
#[derive(Debug, PartialEq, Eq)]
enum Offer {
    Queued,
    /// The outbox was full just now: the session has been told it is slow.
    NowSlow,
    /// Dropped: the session is slow or closed already.
    Dropped,
}

/// A buffer handed back after a write is kept for the next batch only up to this many lines, so an idle
/// session does not keep a big one.
const KEEP: usize = 64;

impl Outbox {
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Outbox {
            queue: Mutex::new(Queue {
                lines: VecDeque::new(),
                capacity: capacity.max(1),
                slow: false,
                closed: false,
            }),
            ready: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        // Every operation leaves the queue consistent, so a poisoned lock is still usable.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a line without waiting.
    fn offer(&self, line: &Line) -> Offer {
        let mut q = self.lock();
        if q.closed || q.slow {
            return Offer::Dropped;
        }
        if q.lines.len() >= q.capacity {
            q.slow = true;
            drop(q);
            self.ready.notify_one();
            return Offer::NowSlow;
        }
        let was_empty = q.lines.is_empty();
        q.lines.push_back(line.clone());
        drop(q);
        // A session that found the queue empty waits for this; one that did not will look again.
        if was_empty {
            self.ready.notify_one();
        }
        Offer::Queued
    }

    /// Waits for lines and takes up to `max` of them, oldest first; or [`Taken::Slow`] once the outbox
    /// has overflowed. Cancel-safe: nothing is taken until it returns.
    pub async fn take(&self, max: usize) -> Taken {
        loop {
            {
                let mut q = self.lock();
                if q.slow {
                    return Taken::Slow;
                }
                if !q.lines.is_empty() {
                    let batch = if q.lines.len() <= max {
                        std::mem::take(&mut q.lines)
                    } else {
                        q.lines.drain(..max).collect()
                    };
                    return Taken::Lines(batch);
                }
            }
            self.ready.notified().await;
        }
    }

    /// Hands back a written batch's buffer for the next one (a small one only), so a busy session does
    /// not allocate a queue for every batch.
    pub fn recycle(&self, mut batch: VecDeque<Line>) {
        if batch.capacity() > KEEP {
            return;
        }
        batch.clear();
        let mut q = self.lock();
        if q.lines.is_empty() && q.lines.capacity() == 0 {
            q.lines = batch;
        }
    }

    /// The session has ended: drop what is queued and whatever comes later.
    pub fn close(&self) {
        let mut q = self.lock();
        q.closed = true;
        q.lines = VecDeque::new();
    }
}

/// The registry of logged-in sessions by user. Clones share one registry (the message writer keeps one).
#[derive(Debug, Default, Clone)]
pub struct Hub {
    online: Arc<Mutex<HashMap<UserId, Vec<SessionLink>>>>,
}

impl Hub {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Vec<SessionLink>>> {
        // A panic while holding this lock leaves the map consistent (every operation is one push or
        // retain), so recovering the guard is safe.
        self.online.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a session; true if it is the user's first (the user just came online).
    pub fn attach(&self, user: UserId, link: SessionLink) -> bool {
        let mut map = self.map();
        // Room for one: most users have one session, and 10,000 idle users are 10,000 of these.
        let sessions = map.entry(user).or_insert_with(|| Vec::with_capacity(1));
        sessions.push(link);
        sessions.len() == 1
    }

    /// Removes a session; true if it was the user's last (the user just went offline).
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

    pub fn is_online(&self, user: UserId) -> bool {
        self.map().contains_key(&user)
    }

    pub fn online_count(&self) -> usize {
        self.map().len()
    }

    /// Queues `line` for every session of `user` except `except`.
    pub fn send(&self, user: UserId, line: &Line, except: Option<SessionId>) {
        let map = self.map();
        if let Some(sessions) = map.get(&user) {
            for s in sessions.iter().filter(|s| Some(s.id) != except) {
                deliver(s, line);
            }
        }
    }

    /// Queues `line` for every session of each user in `users` except `except`.
    pub fn send_many(
        &self,
        users: impl IntoIterator<Item = UserId>,
        line: &Line,
        except: Option<SessionId>,
    ) {
        let map = self.map();
        for user in users {
            if let Some(sessions) = map.get(&user) {
                for s in sessions.iter().filter(|s| Some(s.id) != except) {
                    deliver(s, line);
                }
            }
        }
    }
}

fn deliver(session: &SessionLink, line: &Line) {
    // Logged once: every later line for the same session until it closes is dropped quietly.
    if session.outbox.offer(line) == Offer::NowSlow {
        tracing::warn!(
            session = session.id,
            "outbox full; disconnecting slow reader"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn queued(outbox: &Outbox) -> Vec<String> {
        outbox.lock().lines.iter().map(|l| l.to_string()).collect()
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

    #[test]
    fn a_full_outbox_marks_only_that_session_slow() {
        let hub = Hub::default();
        let (slow, slow_box) = link(1, 1);
        let (fast, fast_box) = link(2, 8);
        hub.attach(1, slow);
        hub.attach(2, fast);
        let line: Line = Arc::from("MSG:x\n");
        hub.send_many([1, 2], &line, None);
        hub.send_many([1, 2], &line, None);
        assert!(slow_box.lock().slow);
        assert!(!fast_box.lock().slow);
        assert_eq!(queued(&fast_box), ["MSG:x\n", "MSG:x\n"]);
    }

    #[tokio::test]
    async fn a_session_takes_what_was_queued_in_batches_then_learns_it_is_slow() {
        let (link, outbox) = link(1, 3);
        let line = |s: &str| -> Line { Arc::from(s) };
        assert_eq!(outbox.offer(&line("a")), Offer::Queued);
        assert_eq!(outbox.offer(&line("b")), Offer::Queued);
        assert_eq!(outbox.offer(&line("c")), Offer::Queued);
        let Taken::Lines(first) = outbox.take(2).await else {
            panic!("lines expected")
        };
        assert_eq!(first, [line("a"), line("b")]);
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
        assert_eq!(waiter.await.unwrap(), [line("c")]);
        let later = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.take(10).await }
        });
        tokio::task::yield_now().await;
        deliver(&link, &line("d"));
        assert!(matches!(later.await.unwrap(), Taken::Lines(l) if l == [line("d")]));
        for s in ["e", "f", "g"] {
            assert_eq!(outbox.offer(&line(s)), Offer::Queued);
        }
        assert_eq!(outbox.offer(&line("h")), Offer::NowSlow);
        assert_eq!(outbox.offer(&line("i")), Offer::Dropped);
        assert!(matches!(outbox.take(10).await, Taken::Slow));
        outbox.close();
        assert!(queued(&outbox).is_empty());
    }
}
