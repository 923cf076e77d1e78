//! Private and group messages: store, acknowledge, fan out; sync and history.
//!
//! The rule that makes delivery durable: a message is committed to storage before its `ACK:` is sent, and
//! only then pushed. A recipient who is offline, or whose push is lost with a dropped connection, gets it
//! from `SYNC:` — ids only grow, so "everything after the last id I have" is never a gap.

use ququ_protocol::{ChatMessage, Conv, ErrorCode, FileMessage, GroupMessage, ServerMessage};

use super::{Caller, Result, ServiceError, Services, SessionId, check_len, line, now_millis};
use crate::storage::{Body, NewMessage, Stored, StoredMessage, Target, UserId};

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
        check_len("the message", text, self.config.limits.text).map_err(|e| e.about(client_id))
    }

    pub(super) async fn send_private(
        &self,
        me: &Caller,
        session: SessionId,
        to: String,
        client_id: String,
        text: String,
    ) -> Result<Vec<ServerMessage>> {
        self.check_text(&client_id, &text)?;
        // One trip to the database (the recipient, the friendship, the insert): every trip is a hop to
        // the blocking pool and back, which costs more than the queries.
        let (uid, lookup, cid) = (me.user, to.clone(), client_id.clone());
        let time = now_millis();
        let found = self
            .db(move |s| {
                let Some(them) = s.user_by_account(&lookup)?.filter(|u| !u.disabled) else {
                    return Ok(Private::NoSuchUser);
                };
                if !s.are_friends(uid, them.id)? {
                    return Ok(Private::NotFriends(them.account));
                }
                let new = NewMessage {
                    sender: uid,
                    to: Target::User(them.id),
                    client_id: cid,
                    time,
                    body: Body::Text(text),
                };
                Ok(Private::Stored(s.store_message(&new)?, them.id))
            })
            .await?;
        let (stored, them) = match found {
            Private::Stored(stored, them) => (stored, them),
            Private::NoSuchUser => {
                return Err(ServiceError::refused(
                    ErrorCode::NoSuchUser,
                    format!("there is no account {to}"),
                )
                .about(client_id));
            }
            Private::NotFriends(account) => {
                return Err(ServiceError::refused(
                    ErrorCode::NotFriends,
                    format!("{account} is not your friend; send a friend request first"),
                )
                .about(client_id));
            }
        };
        let ack = ack(&stored.message);
        if !stored.duplicate {
            let msg = line(&to_wire(stored.message));
            self.hub.send(them, &msg, None);
            if them != me.user {
                self.hub.send(me.user, &msg, Some(session));
            }
        }
        Ok(vec![ack])
    }

    pub(super) async fn send_group(
        &self,
        me: &Caller,
        session: SessionId,
        group: u64,
        client_id: String,
        text: String,
    ) -> Result<Vec<ServerMessage>> {
        self.check_text(&client_id, &text)?;
        let new = NewMessage {
            sender: me.user,
            to: Target::Group(group as i64),
            client_id: client_id.clone(),
            time: now_millis(),
            body: Body::Text(text),
        };
        let (gid, uid) = (group as i64, me.user);
        // One trip to the database: membership, the insert, and who receives it.
        let done = self
            .db(move |s| {
                if s.role(gid, uid)?.is_none() {
                    return Ok(None);
                }
                let stored = s.store_message(&new)?;
                let members = s.member_ids(gid)?;
                Ok(Some((stored, members)))
            })
            .await?;
        let Some((stored, members)) = done else {
            // Not a member, or no such group: `membership` tells which.
            self.membership(me, group)
                .await
                .map_err(|e| e.about(client_id.clone()))?;
            return Err(ServiceError::refused(
                ErrorCode::NotMember,
                format!("you are not in group {group}"),
            )
            .about(client_id));
        };
        let ack = ack(&stored.message);
        if !stored.duplicate {
            let msg = line(&to_wire(stored.message));
            self.hub.send_many(members, &msg, Some(session));
        }
        Ok(vec![ack])
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

/// What the database said about a private message.
enum Private {
    NoSuchUser,
    NotFriends(String),
    Stored(Stored, UserId),
}

fn ack(m: &StoredMessage) -> ServerMessage {
    ServerMessage::Ack {
        client_id: m.client_id.clone(),
        id: m.id,
        time: m.time,
    }
}
