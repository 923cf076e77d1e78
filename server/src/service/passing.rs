//! Passing (cluster mode, issue 26): the lines this node's services push reach the other nodes'
//! sessions too, and theirs reach this node's. Stored messages are the relay's (`relay.rs`); this is
//! everything else — friend requests and answers, member lists and roles, typing, read marks for my
//! other devices, file states, profile and avatar changes, presence, a password change ending my other
//! devices' sessions.
//!
//! The services' hub sends what it queues to [`Services::run_passing`], which stores it in the database
//! (`storage/passing.rs`) in batches; every node reads what the others stored ([`Services::take_passed`])
//! when the bus says there is something, and by a poll once a second whatever the bus does. Presence
//! is decided by the store, cluster-wide, as a connection is recorded or removed; every node reads the
//! records in one order, keeps who is online anywhere (`Hub::is_online`), and tells its own sessions of
//! the user's friends.
//!
//! Between nodes the order of these lines against stored messages is not kept (a group's member list may
//! change just before or after the event message saying so): each is a separate stream, each in order.

use std::sync::Mutex;

use ququ_protocol::{ErrorCode, Presence};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::hub::{Forms, Wakes};
use super::{Result, Services, now_millis};
use crate::storage::{PASSED_KEPT, Passing, StoreError, UserId};

/// Items stored in one transaction at most: a burst (a group of 500 told of a rename) goes in a few.
const BATCH: usize = 256;

/// This node's side of passing, set up by [`Services::relay_all`].
pub(super) struct Passer {
    /// What the hub queued, to store; taken by [`Services::run_passing`].
    outgoing: Mutex<Option<mpsc::UnboundedReceiver<Passing>>>,
    /// How many batches this node has stored, for the bus to tell the other nodes.
    stored: watch::Sender<u64>,
    /// One reader at a time, so items are applied in the order they were stored.
    reading: tokio::sync::Mutex<()>,
}

impl Passer {
    pub(super) fn new(outgoing: mpsc::UnboundedReceiver<Passing>) -> Passer {
        Passer {
            outgoing: Mutex::new(Some(outgoing)),
            stored: watch::channel(0).0,
            reading: tokio::sync::Mutex::new(()),
        }
    }
}

impl Services {
    /// Cluster mode: stores what this node's hub passes, in batches, until `stop`; nothing with one
    /// server.
    pub async fn run_passing(&self, stop: CancellationToken) {
        let Some(passer) = &self.passer else {
            return;
        };
        let Some(mut outgoing) = passer.outgoing.lock().ok().and_then(|mut o| o.take()) else {
            return;
        };
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                n = outgoing.recv_many(&mut batch, BATCH) => if n == 0 { break },
            }
            let items = std::mem::take(&mut batch);
            let count = items.len();
            let now = now_millis();
            match self.db(move |s| s.pass(&items, now)).await {
                Ok(()) => passer.stored.send_modify(|n| *n += 1),
                // The database is out of reach: these lines do not reach the other nodes' sessions
                // (their clients catch up on what matters — requests, members, messages — when they
                // next list or sync); the messages themselves are the relay's, and wait in the database.
                Err(e) => {
                    tracing::warn!(error = %e, lines = count, "could not pass lines to the other nodes")
                }
            }
        }
    }

    /// Cluster mode: how many batches this node has passed, as it changes (for the bus); `None` with one
    /// server.
    pub fn passed_batches(&self) -> Option<watch::Receiver<u64>> {
        self.passer.as_ref().map(|p| p.stored.subscribe())
    }

    /// Cluster mode: applies what the other nodes passed since the last call, and every presence
    /// record; nothing with one server. For the bus and the poll, and after this node's own presence
    /// change.
    pub async fn take_passed(&self) {
        let Some(passer) = &self.passer else {
            return;
        };
        let _reading = passer.reading.lock().await;
        let items = match self.db(|s| s.passed()).await {
            Ok(items) => items,
            Err(e) => {
                tracing::warn!(error = %e, "could not read what the other nodes passed");
                return;
            }
        };
        let here = self.hub.here();
        let mut wakes = Wakes::default();
        for item in items {
            match item {
                Passing::Lines { users, by, lines } => match Forms::from_parts(by, lines) {
                    Some(forms) => {
                        here.queue_forms(users, &forms, None, &mut wakes);
                    }
                    None => tracing::warn!("a passed line has the wrong number of forms; skipped"),
                },
                Passing::Presence { user, online } => {
                    here.presence_changed(user, online);
                    let presence = if online {
                        Presence::Online
                    } else {
                        Presence::Offline
                    };
                    self.tell_friends_here(user, presence).await;
                }
                Passing::End { user, code, before } => {
                    self.end_sessions(user, None, Some(before), ErrorCode::parse(&code));
                }
            }
        }
        wakes.wake();
    }

    /// Cluster mode: the store has just written a presence record of this node's (a user's first or
    /// last session here, a reaped node's users): the other nodes are told through the bus, and this
    /// node applies it now.
    pub(super) async fn presence_passed(&self) {
        if let Some(passer) = &self.passer {
            passer.stored.send_modify(|n| *n += 1);
        }
        self.take_passed().await;
    }

    /// A user's presence, told to their friends' sessions on this node.
    async fn tell_friends_here(&self, user: UserId, presence: Presence) {
        match self.db(move |s| s.user_by_id(user)).await {
            Ok(Some(me)) => self.announce_presence(user, &me.account, presence).await,
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not load a user for a presence notice"),
        }
    }

    /// Cluster mode: my other devices' sessions on the other nodes end too (a password change).
    pub(super) fn pass_session_end(&self, user: UserId, code: ErrorCode) {
        self.hub.pass(Passing::End {
            user,
            code: code.as_str().to_owned(),
            before: now_millis(),
        });
    }

    /// Removes passed items every node has had time to read (run by the sweeps' leader).
    pub async fn sweep_passed(&self) -> Result<usize> {
        let before = now_millis().saturating_sub(PASSED_KEPT);
        self.db(move |s| s.sweep_passed(before)).await
    }

    /// Cluster mode, at start (blocking): who is online on the other nodes, and reading from now on.
    pub(super) fn start_passing(&self) -> std::result::Result<(), StoreError> {
        let online = self.store.start_passing()?;
        self.hub.set_everywhere(online);
        Ok(())
    }
}
