//! Private and group messages: store, acknowledge, fan out; sync and history.
//!
//! The rule that makes delivery durable: a message is committed to storage before it is pushed to anyone
//! or its `ACK:` is sent (`writer.rs` pushes it after the commit, then answers the sender). A recipient who is offline, or whose push is lost with a dropped connection, gets it
//! from `SYNC:` — ids only grow, so "everything after the last id I have" is never a gap.

use std::collections::HashMap;
use std::sync::Arc;

use ququ_protocol::{ChatMessage, Conv, ErrorCode, FileMessage, GroupMessage, ServerMessage};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::writer::{Draft, To, Written};
use super::{Caller, Result, ServiceError, Services, SessionId, check_len, now_millis};
use crate::storage::{Body, StoredMessage, Target, UserId};

const MAX_CLIENT_ID: usize = 64;
const SYNC_PAGE: u32 = 500;
const HISTORY_PAGE: u32 = 200;

/// The wire form of a stored message.
pub(crate) fn to_wire(m: StoredMessage) -> ServerMessage {
    match (m.body, m.to) {
        (Body::Text(text), Conv::User(to)) => ServerMessage::Msg(ChatMessage {
            id: m.id,
            from: m.from,
            to,
            time: m.time,
            client_id: m.client_id,
            text,
        }),
        (Body::Text(text), Conv::Group(group)) => ServerMessage::GroupMsg(GroupMessage {
            id: m.id,
            group,
            from: m.from,
            time: m.time,
            client_id: m.client_id,
            text,
        }),
        (Body::File(file), to) => ServerMessage::FileOffer(FileMessage {
            id: m.id,
            from: m.from,
            to,
            time: m.time,
            client_id: m.client_id,
            file,
        }),
    }
}

impl Services {
    fn check_text(&self, client_id: &str, text: &str) -> Result<()> {
        if client_id.len() > MAX_CLIENT_ID {
            return Err(ServiceError::refused(
                ErrorCode::TooLong,
                format!("a client id has at most {MAX_CLIENT_ID} bytes"),
            ));
        }
        if text.trim().is_empty() {
            return Err(
                ServiceError::refused(ErrorCode::BadRequest, "the message is empty")
                    .about(client_id),
            );
        }
        // A terminal shows ESC sequences, NUL, BEL, CR, DEL and the C1 controls as commands, not text: a
        // friend's message once cleared the screen of `ququ-term`, faked a server prompt and set the
        // window title, and did it again from history at every login (issue 20, item 5). Tab and newline
        // (sent escaped as `%0A`) are text.
        if text
            .chars()
            .any(|c| c.is_control() && c != '\t' && c != '\n')
        {
            return Err(ServiceError::refused(
                ErrorCode::BadRequest,
                "a message may not contain control characters other than tab and newline",
            )
            .about(client_id));
        }
        check_len("the message", text, self.config.limits.text).map_err(|e| e.about(client_id))
    }

    /// Checks a message and queues it with the message writer. Queuing is synchronous, so messages are
    /// stored in the order they were read; [`Services::finish_message`] waits for the outcome.
    pub(super) fn queue_message(
        &self,
        me: &Caller,
        session: SessionId,
        to: Dest,
        client_id: String,
        text: String,
    ) -> Result<Queued> {
        self.check_text(&client_id, &text)?;
        // The recipient (or membership), the insert and the fan-out are done by the message writer, in
        // one trip to the database with whatever other messages are queued.
        let draft = Draft {
            sender: me.user,
            session,
            to: match &to {
                Dest::Account(account) => To::Account(account.clone()),
                Dest::Group(group) => To::Group(*group as i64),
            },
            client_id: client_id.clone(),
            time: now_millis(),
            body: Body::Text(text),
        };
        Ok(Queued {
            answer: self.writer.submit(&self.store, &self.hub, draft),
            user: me.user,
            to,
            client_id,
        })
    }

    /// Waits for a queued message: its `ACK:` once it is committed (it has been pushed by then), or the
    /// refusal.
    pub(super) async fn finish_message(&self, queued: Queued) -> Result<Vec<ServerMessage>> {
        let Queued {
            answer,
            user,
            to,
            client_id,
        } = queued;
        let written = answer
            .await
            .map_err(|_| ServiceError::WriterStopped)?
            .map_err(|e| self.store_error(e).about(client_id.clone()))?;
        match (written, to) {
            (Written::Stored { id, time }, _) => Ok(vec![ServerMessage::Ack {
                client_id,
                id,
                time,
            }]),
            (Written::NotFriends(account), _) => Err(ServiceError::refused(
                ErrorCode::NotFriends,
                format!("{account} is not your friend; send a friend request first"),
            )
            .about(client_id)),
            (_, Dest::Account(to)) => Err(ServiceError::refused(
                ErrorCode::NoSuchUser,
                format!("there is no account {to}"),
            )
            .about(client_id)),
            (_, Dest::Group(group)) => {
                // Not a member, or no such group: `membership` tells which.
                self.membership_of(user, group)
                    .await
                    .map_err(|e| e.about(client_id.clone()))?;
                Err(ServiceError::refused(
                    ErrorCode::NotMember,
                    format!("you are not in group {group}"),
                )
                .about(client_id))
            }
        }
    }

    pub(super) async fn sync(
        &self,
        me: &Caller,
        after: u64,
        limit: u32,
    ) -> Result<Vec<ServerMessage>> {
        let limit = limit.clamp(1, SYNC_PAGE);
        let uid = me.user;
        let _turn = self.syncs.enter(uid).await;
        let page = self
            .db(move |s| s.messages_after(uid, after, limit))
            .await?;
        let more = page.len() as u32 == limit;
        let last_id = page.last().map_or(after, |m| m.id);
        let mut out: Vec<_> = page.into_iter().map(to_wire).collect();
        out.push(ServerMessage::SyncEnd { last_id, more });
        Ok(out)
    }

    pub(super) async fn history(
        &self,
        me: &Caller,
        conv: Conv,
        before: u64,
        limit: u32,
    ) -> Result<Vec<ServerMessage>> {
        let limit = limit.clamp(1, HISTORY_PAGE);
        let target = match &conv {
            Conv::User(account) => Target::User(self.user_named(account).await?.id),
            Conv::Group(group) => {
                self.membership(me, *group).await?;
                Target::Group(*group as i64)
            }
        };
        let uid = me.user;
        let page = self
            .db(move |s| s.history(uid, target, before, limit))
            .await?;
        let count = page.len() as u32;
        let mut out: Vec<_> = page.into_iter().map(to_wire).collect();
        out.push(ServerMessage::HistoryEnd {
            conv,
            count,
            more: count == limit,
        });
        Ok(out)
    }
}

/// Most syncs of one user read at once, over all their sessions; more wait their turn. Two: a user's
/// phone and desktop catching up together are not held up, while one account's many connections
/// looping `SYNC:0:500` take at most two of the blocking pool's threads and of the store's read
/// connections, and leave the rest to everyone else (issue 20, item 12).
const SYNCS_PER_USER: usize = 2;

/// Admits each user's syncs [`SYNCS_PER_USER`] at a time. Waiting is asynchronous: a waiting sync holds
/// no thread and no connection to the store.
#[derive(Default)]
pub(crate) struct SyncGate {
    users: std::sync::Mutex<HashMap<UserId, Arc<Semaphore>>>,
}

/// A sync's turn; the next waiting sync of the same user goes when it is dropped.
pub(crate) struct SyncTurn<'a> {
    gate: &'a SyncGate,
    user: UserId,
    turn: Option<OwnedSemaphorePermit>,
}

impl SyncGate {
    pub(crate) async fn enter(&self, user: UserId) -> SyncTurn<'_> {
        // The turn exists before the wait, so a sync abandoned while waiting (its connection closed)
        // still takes the user's entry away with it if it was the last.
        let mut turn = SyncTurn {
            gate: self,
            user,
            turn: None,
        };
        let turns = {
            let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
            users
                .entry(user)
                .or_insert_with(|| Arc::new(Semaphore::new(SYNCS_PER_USER)))
                .clone()
        };
        // The semaphore is never closed, so this cannot fail.
        turn.turn = turns.acquire_owned().await.ok();
        turn
    }
}

impl Drop for SyncTurn<'_> {
    fn drop(&mut self) {
        drop(self.turn.take());
        // The user's entry goes when nobody holds or waits for a turn: only the map's reference is left.
        let mut users = self.gate.users.lock().unwrap_or_else(|e| e.into_inner());
        if users
            .get(&self.user)
            .is_some_and(|turns| Arc::strong_count(turns) == 1)
        {
            users.remove(&self.user);
        }
    }
}

/// Where a message goes, as the sender named it.
pub(super) enum Dest {
    Account(String),
    Group(u64),
}

/// A message queued with the writer, waiting for its outcome.
pub(crate) struct Queued {
    answer:
        tokio::sync::oneshot::Receiver<std::result::Result<Written, crate::storage::StoreError>>,
    user: UserId,
    to: Dest,
    client_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A user's third sync waits for one of the first two to finish; another user's does not wait, and
    /// the gate forgets a user once all their syncs are done.
    #[tokio::test]
    async fn a_users_syncs_take_turns_and_others_do_not_wait() {
        let gate = SyncGate::default();
        let first = gate.enter(1).await;
        let second = gate.enter(1).await;
        let mut third = std::pin::pin!(gate.enter(1));
        assert!(futures::poll!(third.as_mut()).is_pending());
        let other = gate.enter(2);
        assert!(futures::FutureExt::now_or_never(other).is_some());
        drop(first);
        let third = third.await;
        drop(third);
        drop(second);
        assert!(gate.users.lock().unwrap().is_empty());
    }

    /// A sync given up while waiting for its turn leaves nothing behind, even when it was given up
    /// after the others had finished.
    #[tokio::test]
    async fn a_sync_abandoned_while_waiting_leaves_no_entry() {
        let gate = SyncGate::default();
        let first = gate.enter(1).await;
        let second = gate.enter(1).await;
        let mut third = Box::pin(gate.enter(1));
        assert!(futures::poll!(third.as_mut()).is_pending());
        drop(first);
        drop(second);
        drop(third);
        assert!(gate.users.lock().unwrap().is_empty());
    }
}
