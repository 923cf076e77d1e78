//! Private and group messages: store, acknowledge, fan out; sync and history.
//!
//! The rule that makes delivery durable: a message is committed to storage before it is pushed to anyone
//! or its `ACK:` is sent (`writer.rs` pushes it after the commit, then answers the sender). A recipient who is offline, or whose push is lost with a dropped connection, gets it
//! from `SYNC:` — ids only grow, so "everything after the last id I have" is never a gap.

use ququ_protocol::{ChatMessage, Conv, ErrorCode, FileMessage, GroupMessage, ServerMessage};

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
        let written = answer.await.map_err(|_| ServiceError::WriterStopped)??;
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
