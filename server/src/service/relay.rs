//! The relay (cluster mode, issue 26): every stored message reaches this node's sessions in id order,
//! whichever node committed it.
//!
//! With one server, whoever stores a message pushes it. With several nodes on one database, a node's
//! sessions must also get what the others store, and in id order: a client syncs from "the last id I
//! have", so a session that got id 9 and then lost its connection before id 8 arrived would never get 8.
//! Ids are hole-free and given out in commit order (storage/postgres/messages.rs), so "everything up to
//! id N is committed" holds as soon as N is, and the relay keeps one cursor: every message up to it has
//! been queued for this node's sessions (or was for none of them).
//!
//! - This node's own messages are handed over as they are committed ([`Relay::handoff`]), with their
//!   senders' answers, which go only once the message is queued (the durability rule of the writer).
//! - Everyone else's are read back from the database ([`MessageStore::committed`]) from the cursor on,
//!   and pushed as the committing node would have pushed them. A read is triggered by the bus (another
//!   node's "committed up to N", `crate::bus`), by this node's own handoffs (which must not overtake
//!   an earlier message of another node), and by a poll once a second, so a lost, late or duplicated
//!   bus message costs latency, never a message.
//! - A read that meets one of this node's messages not yet handed over (committed, its writer not back
//!   yet) stops there: the handoff comes within milliseconds and carries on. One still missing after
//!   [`STALL`] is delivered from the database as another node's would be (its sender's own session then
//!   gets a copy besides its `ACK:`; a client keeps one message per id).
//!
//! All of it is blocking (database reads under the relay's lock): callers run it on the blocking pool.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::hub::{Hub, Wakes};
use super::writer::{Audience, Done, Push, Reply, queue_pushes};
use crate::storage::{Committed, GroupId, Store, StoreError, Target, UserId};

/// How long the relay waits for one of this node's messages to be handed over before it delivers it
/// from the database. The handoff follows the commit at once; only a stalled or failed caller is late.
const STALL: Duration = Duration::from_secs(5);

/// Messages read from the database at a time.
const PAGE: u32 = 512;

/// See the module's docs.
pub(super) struct Relay {
    store: Arc<dyn Store>,
    hub: Hub,
    state: Mutex<State>,
    /// The newest id of this node's own messages, for the bus to tell the other nodes.
    stored: watch::Sender<u64>,
}

struct State {
    /// Every message up to this id has been queued for this node's sessions.
    cursor: u64,
    /// This node's messages handed over and not yet reached (an earlier one is still being read).
    own: BTreeMap<u64, Own>,
    /// The first of this node's messages a read found not handed over, and since when.
    waiting: Option<(u64, Instant)>,
}

/// One of this node's messages, handed over.
struct Own {
    /// What its recipients get; `None`: read it back from the database (a group change, a recall, a file
    /// offer: their pushes are the generic one).
    push: Option<Push>,
    /// Its sender's answer, sent once it is queued.
    answer: Option<(Reply, super::writer::Written)>,
}

impl Relay {
    /// A relay starting after the newest message: this node has no sessions yet to deliver older ones to.
    pub(super) fn start(store: Arc<dyn Store>, hub: Hub) -> Result<Relay, StoreError> {
        let cursor = store.newest_message_id()?;
        Ok(Relay {
            store,
            hub,
            state: Mutex::new(State {
                cursor,
                own: BTreeMap::new(),
                waiting: None,
            }),
            stored: watch::Sender::new(cursor),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every change to the state is made whole before anything that can fail.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands over a committed batch of this node's (the message writer's): each new message is queued
    /// after every earlier one, then its sender answered. Returns the sessions to wake.
    pub(super) fn handoff(&self, done: Vec<(Done, Reply)>) -> Wakes {
        let mut state = self.lock();
        let mut newest = None;
        for (done, reply) in done {
            // Only a new message has a push, and only a stored one has an id.
            let id = match (&done.push, &done.written) {
                (Some(_), super::writer::Written::Stored { id, .. }) => Some(*id),
                _ => None,
            };
            match (id, done.push) {
                // Not reached yet: it waits for the messages before it.
                (Some(id), Some(push)) if id > state.cursor => {
                    newest = newest.max(Some(id));
                    state.own.insert(
                        id,
                        Own {
                            push: Some(push),
                            answer: Some((reply, done.written)),
                        },
                    );
                }
                // A resend (delivered the first time), or one a read delivered already.
                _ => {
                    let _ = reply.send(Ok(done.written));
                }
            }
        }
        if let Some(newest) = newest {
            self.stored_up_to(newest);
        }
        self.advance(&mut state, false)
    }

    /// Hands over one of this node's messages stored outside the writer (a group change, a recall, a
    /// file offer), to be pushed as another node's would be. Returns the sessions to wake.
    pub(super) fn release(&self, id: u64) -> Wakes {
        self.stored_up_to(id);
        let mut state = self.lock();
        if id > state.cursor {
            state.own.insert(
                id,
                Own {
                    push: None,
                    answer: None,
                },
            );
        }
        self.advance(&mut state, false)
    }

    /// Delivers what has been committed since the cursor (another node's "committed up to `up_to`", or
    /// the poll with `u64::MAX`). Returns the sessions to wake.
    pub(super) fn catch_up(&self, up_to: u64) -> Wakes {
        let mut state = self.lock();
        if up_to <= state.cursor {
            return Wakes::default();
        }
        self.advance(&mut state, true)
    }

    /// The newest id of this node's own messages, as it changes.
    pub(super) fn stored_ids(&self) -> watch::Receiver<u64> {
        self.stored.subscribe()
    }

    fn stored_up_to(&self, id: u64) {
        super::raise_to(&self.stored, id);
    }

    /// Queues everything after the cursor in id order: this node's own messages next in line as they
    /// are, then (if `read`, or if some of its own wait behind others') what the database has, up to the
    /// newest message or to one of this node's not handed over yet.
    fn advance(&self, state: &mut State, read: bool) -> Wakes {
        let mut wakes = Wakes::default();
        // This node's own messages next in line need no read: nobody else's can come before them. With
        // one node, and between other nodes' commits, that is every batch.
        let mut pushes = Vec::new();
        let mut answers = Vec::new();
        while let Some(entry) = state.own.first_entry() {
            if *entry.key() != state.cursor + 1 || entry.get().push.is_none() {
                break;
            }
            state.cursor = *entry.key();
            let own = entry.remove();
            pushes.extend(own.push);
            answers.extend(own.answer);
        }
        queue_pushes(&self.hub, pushes, &mut wakes);
        for (reply, written) in answers {
            let _ = reply.send(Ok(written));
        }
        if !read && state.own.is_empty() {
            return wakes;
        }
        let mut members: HashMap<GroupId, Arc<[UserId]>> = HashMap::new();
        loop {
            let rows = match self.store.committed(state.cursor, PAGE) {
                Ok(rows) => rows,
                Err(e) => {
                    // The next handoff, bus message or poll tries again; answers wait, so a sender hears
                    // nothing it could take for delivered.
                    tracing::warn!(error = %e, cursor = state.cursor, "could not read new messages");
                    return wakes;
                }
            };
            let full = rows.len() == PAGE as usize;
            let mut pushes = Vec::new();
            let mut answers = Vec::new();
            let mut stopped = false;
            for row in rows {
                let id = row.message.id;
                let push = if row.mine {
                    match state.own.remove(&id) {
                        Some(own) => {
                            answers.extend(own.answer);
                            match own.push {
                                Some(push) => Some(push),
                                None => self.push_of(row, &mut members),
                            }
                        }
                        None if state.stalled(id) => {
                            tracing::warn!(
                                id,
                                "a message of this node was not handed over in time; delivering it from the database"
                            );
                            self.push_of(row, &mut members)
                        }
                        None => {
                            stopped = true;
                            break;
                        }
                    }
                } else {
                    self.push_of(row, &mut members)
                };
                pushes.extend(push);
                state.cursor = id;
            }
            queue_pushes(&self.hub, pushes, &mut wakes);
            for (reply, written) in answers {
                let _ = reply.send(Ok(written));
            }
            if stopped || !full {
                break;
            }
        }
        // Handed over but already passed (delivered from the database after a stall): answered now.
        while let Some(entry) = state.own.first_entry() {
            if *entry.key() > state.cursor {
                break;
            }
            if let Some((reply, written)) = entry.remove().answer {
                let _ = reply.send(Ok(written));
            }
        }
        wakes
    }

    /// A committed message as the node that stored it pushes it: to the recipient and the sender's
    /// sessions, to the sender's alone if the recipient blocks them, or to the group's members now.
    fn push_of(
        &self,
        row: Committed,
        members: &mut HashMap<GroupId, Arc<[UserId]>>,
    ) -> Option<Push> {
        let audience = match row.to {
            Target::User(_) if row.hidden => Audience::Sender,
            Target::User(them) => Audience::User(them),
            Target::Group(group) => {
                let ids = match members.get(&group) {
                    Some(ids) => ids.clone(),
                    None => {
                        let ids: Arc<[UserId]> = match self.store.member_ids(group) {
                            Ok(ids) => ids.into(),
                            Err(e) => {
                                // Its members sync it at their next connection.
                                tracing::warn!(group, error = %e, "a group message was not pushed");
                                return None;
                            }
                        };
                        members.insert(group, ids.clone());
                        ids
                    }
                };
                Audience::Group(ids)
            }
        };
        Push::of(row.message, audience, row.sender, None)
    }
}

impl State {
    /// Whether the read has waited for this node's message `id` for longer than [`STALL`]; starts the
    /// wait if it was waiting for another.
    fn stalled(&mut self, id: u64) -> bool {
        match self.waiting {
            Some((waited, since)) if waited == id => since.elapsed() >= STALL,
            _ => {
                self.waiting = Some((id, Instant::now()));
                false
            }
        }
    }
}
