//! Private and group messages: store, acknowledge, fan out; sync and history.
//!
//! The rule that makes delivery durable: a message is committed to storage before its `ACK:` is sent, and
//! only then pushed. A recipient who is offline, or whose push is lost with a dropped connection, gets it
//! from `SYNC:` — ids only grow, so "everything after the last id I have" is never a gap.

use ququ_protocol::{ChatMessage, Conv, ErrorCode, FileMessage, GroupMessage, ServerMessage};

use super::{Caller, Result, ServiceError, Services, SessionId, check_len, line, now_millis};
use crate::storage::{Body, NewMessage, StoredMessage, Target};

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
        let them = self
            .user_named(&to)
            .await
            .map_err(|e| e.about(client_id.clone()))?;
        let (uid, tid) = (me.user, them.id);
        if !self.db(move |s| s.are_friends(uid, tid)).await? {
            return Err(ServiceError::refused(
                ErrorCode::NotFriends,
                format!(
                    "{} is not your friend; send a friend request first",
                    them.account
                ),
            )
            .about(client_id));
        }
        let new = NewMessage {
            sender: me.user,
            to: Target::User(them.id),
            client_id,
            time: now_millis(),
            body: Body::Text(text),
        };
        let stored = self.db(move |s| s.store_message(&new)).await?;
        let ack = ack(&stored.message);
        if !stored.duplicate {
            let msg = line(&to_wire(stored.message));
            self.hub.send(them.id, &msg, None);
            if them.id != me.user {
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
        self.membership(me, group)
            .await
            .map_err(|e| e.about(client_id.clone()))?;
        let new = NewMessage {
            sender: me.user,
            to: Target::Group(group as i64),
            client_id,
            time: now_millis(),
            body: Body::Text(text),
        };
        let gid = group as i64;
        let (stored, members) = self
            .db(move |s| {
                let stored = s.store_message(&new)?;
                let members = s.member_ids(gid)?;
                Ok((stored, members))
            })
            .await?;
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

fn ack(m: &StoredMessage) -> ServerMessage {
    ServerMessage::Ack {
        client_id: m.client_id.clone(),
        id: m.id,
        time: m.time,
    }
}
