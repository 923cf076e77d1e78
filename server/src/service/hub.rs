//! Who is online, and the outboxes of their sessions.
//!
//! The hub carries lines that the service has already formatted, as `Arc<str>`, so a group message is
//! encoded once however many members receive it. It never blocks: a session whose outbox is full is
//! cancelled (the slow-reader rule) instead of letting the sender wait or the server's memory grow.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::storage::UserId;

/// Identifies one connection for its whole life.
pub type SessionId = u64;

/// A line ready for the wire, ending in its `\n`, shared by every recipient.
pub type Line = Arc<str>;

/// What the hub holds for one logged-in session.
#[derive(Debug, Clone)]
pub struct SessionLink {
    pub id: SessionId,
    pub outbox: mpsc::Sender<Line>,
    /// Cancelled when the session's outbox overflowed; the session then closes with `BYE:slow_reader`.
    pub slow: CancellationToken,
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
        let sessions = map.entry(user).or_default();
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
    match session.outbox.try_send(line.clone()) {
        Ok(()) => {}
        // Once: every later line for the same session until it closes would log the same warning.
        Err(mpsc::error::TrySendError::Full(_)) if !session.slow.is_cancelled() => {
            tracing::warn!(
                session = session.id,
                "outbox full; disconnecting slow reader"
            );
            session.slow.cancel();
        }
        Err(mpsc::error::TrySendError::Full(_)) => {}
        // The session is closing; it will detach itself.
        Err(mpsc::error::TrySendError::Closed(_)) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(id: SessionId, cap: usize) -> (SessionLink, mpsc::Receiver<Line>) {
        let (tx, rx) = mpsc::channel(cap);
        (
            SessionLink {
                id,
                outbox: tx,
                slow: CancellationToken::new(),
            },
            rx,
        )
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
    fn a_full_outbox_cancels_only_that_session() {
        let hub = Hub::default();
        let (slow, _keep_slow) = link(1, 1);
        let (fast, mut fast_rx) = link(2, 8);
        let slow_token = slow.slow.clone();
        hub.attach(1, slow);
        hub.attach(2, fast);
        let line: Line = Arc::from("MSG:x");
        hub.send_many([1, 2], &line, None);
        hub.send_many([1, 2], &line, None);
        assert!(slow_token.is_cancelled());
        assert_eq!(fast_rx.try_recv().unwrap().as_ref(), "MSG:x");
        assert_eq!(fast_rx.try_recv().unwrap().as_ref(), "MSG:x");
    }
}
