//! Private and group messages: store, acknowledge, fan out; sync and history.
//!
//! The rule that makes delivery durable: a message is committed to storage before it is pushed to anyone
//! or its `ACK:` is sent (`writer.rs` pushes it after the commit, then answers the sender). A recipient who is offline, or whose push is lost with a dropped connection, gets it
//! from `SYNC:` — ids only grow, so "everything after the last id I have" is never a gap.

use std::collections::HashMap;
use std::sync::Arc;

use ququ_protocol::Feature;
use ququ_protocol::{
    ChatMessage, Conv, ErrorCode, Features, FileMessage, GroupEvent, GroupEventKind, GroupMessage,
    Mentions, Millis, Quote, RecallMessage, SaidMessage, ServerMessage,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::hub::Forms;
use super::writer::{Draft, To, Written};
use super::{Caller, Result, ServiceError, Services, SessionId, check_len, now_millis};
use crate::storage::{Body, MessageRef, Said, StoredMessage, Target, UserId};

const MAX_CLIENT_ID: usize = 64;
const SYNC_PAGE: u32 = 500;
const HISTORY_PAGE: u32 = 200;

/// The wire form of a stored message for a session with `features`: the newer lines (`SAID:`,
/// `RECALLED:`) where it understands them, otherwise readable text in a `MSG:`/`GROUP:` (see
/// docs/protocol.md, "Replies, recalls, mentions, read marks and typing"). `None` for a recalled message,
/// which is never sent: its recall is.
pub(crate) fn to_wire(m: StoredMessage, features: Features) -> Option<ServerMessage> {
    // Taken apart, so the text moves into the line: this is every message's path to its recipients
    // and to every sync page, and a copy of each text there was pure waste.
    let StoredMessage {
        id,
        from,
        to,
        time,
        client_id,
        body,
    } = m;
    let text = match body {
        Body::Text(text) => text,
        // What a client without the newer lines gets: the same as readable text.
        Body::Said(said) if !features.said => match said.quote {
            Some(quote) => format!("{}\n{}", quote_text(&quote), said.text),
            None => said.text,
        },
        Body::Recall { .. } if !features.recalled => {
            format!("{from} 撤回了一条消息 (recalled a message)")
        }
        Body::Gone => return None,
        Body::Event {
            kind,
            account,
            value,
        } => {
            let Conv::Group(group) = to else {
                // Events are stored in groups only; one elsewhere would be a bug, and is not sent.
                return None;
            };
            if !features.group_event {
                // Stored with the event's value as its text; the stand-in says what happened in words.
                let text = event_text(&from, kind, &account, &value, time);
                return Some(ServerMessage::GroupMsg(GroupMessage {
                    id,
                    group,
                    from,
                    time,
                    client_id,
                    text,
                }));
            }
            return Some(ServerMessage::GroupEvent(GroupEvent {
                id,
                group,
                by: from,
                time,
                kind,
                account,
                value,
            }));
        }
        Body::File(file) => {
            return Some(ServerMessage::FileOffer(FileMessage {
                id,
                from,
                to,
                time,
                client_id,
                file,
            }));
        }
        Body::Said(said) => {
            return Some(ServerMessage::Said(SaidMessage {
                id,
                to,
                from,
                time,
                client_id,
                mentions: said.mentions,
                quote: said.quote,
                text: said.text,
            }));
        }
        Body::Recall {
            target,
            target_from,
        } => {
            return Some(ServerMessage::Recalled(RecallMessage {
                id,
                to,
                by: from,
                time,
                target,
                target_from,
            }));
        }
    };
    Some(match to {
        Conv::User(to) => ServerMessage::Msg(ChatMessage {
            id,
            from,
            to,
            time,
            client_id,
            text,
        }),
        Conv::Group(group) => ServerMessage::GroupMsg(GroupMessage {
            id,
            group,
            from,
            time,
            client_id,
            text,
        }),
    })
}

/// Which feature changes how a message is sent, if any.
pub(crate) fn form_feature(body: &Body) -> Option<Feature> {
    match body {
        Body::Said(_) => Some(Feature::Said),
        Body::Recall { .. } => Some(Feature::Recalled),
        Body::Event { .. } => Some(Feature::GroupEvent),
        Body::Text(_) | Body::File(_) | Body::Gone => None,
    }
}

/// A group event in words, for a client without `GROUP_EVENT`: Chinese first, as QQ says it, then English.
fn event_text(by: &str, kind: GroupEventKind, account: &str, value: &str, time: Millis) -> String {
    use GroupEventKind as K;
    match kind {
        K::Invite => format!("{by} 邀请 {account} 加入了群 ({by} invited {account})"),
        K::Join if by == account => format!("{account} 加入了群 ({account} joined)"),
        K::Join => format!("{by} 同意 {account} 加入了群 ({by} let {account} in)"),
        K::Leave => format!("{account} 退出了群 ({account} left)"),
        K::Kick => format!("{by} 将 {account} 移出了群 ({by} removed {account})"),
        K::Rename => format!("{by} 将群名改为 {value} ({by} renamed the group to {value})"),
        K::Admin if value == "on" => {
            format!("{by} 将 {account} 设为管理员 ({by} made {account} an admin)")
        }
        K::Admin => format!("{by} 取消了 {account} 的管理员 ({by} made {account} a plain member)"),
        K::Transfer => format!("{by} 将群转让给 {account} ({by} handed the group to {account})"),
        K::Mute => match value.parse::<Millis>() {
            Ok(until) if until > time => {
                let minutes = (until - time).div_ceil(60_000);
                format!(
                    "{by} 禁言了 {account} {minutes} 分钟 ({by} muted {account} for {minutes} min)"
                )
            }
            _ => format!("{by} 解除了 {account} 的禁言 ({by} unmuted {account})"),
        },
        K::MuteAll if value == "on" => format!("{by} 开启了全员禁言 ({by} muted the group)"),
        K::MuteAll => format!("{by} 关闭了全员禁言 ({by} unmuted the group)"),
        K::Notice if value.is_empty() => {
            format!("{by} 清除了群公告 ({by} cleared the announcement)")
        }
        K::Notice => format!("{by} 发布了群公告 ({by} posted an announcement)：\n{value}"),
    }
}

/// How many characters of a quote a client without `SAID` sees: one short line above the reply.
const QUOTE_SHOWN: usize = 30;

/// A quote written into a reply's text for a client without `SAID`: `「bob：lunch at 12:30?」`. The
/// full-width colon, as Chinese text writes it, also keeps `nc` from showing it escaped as `%3A`.
fn quote_text(quote: &Quote) -> String {
    if quote.text.is_empty() {
        return format!("「{}：(已撤回 recalled)」", quote.from);
    }
    let line = quote.text.replace('\n', " ");
    let mut shown: String = line.chars().take(QUOTE_SHOWN).collect();
    if line.chars().count() > QUOTE_SHOWN {
        shown.push('…');
    }
    format!("「{}：{shown}」", quote.from)
}

impl Services {
    fn check_text(&self, client_id: &str, text: &str) -> Result<()> {
        if client_id.len() > MAX_CLIENT_ID {
            return Err(ServiceError::refused(
                ErrorCode::TooLong,
                format!("a client id has at most {MAX_CLIENT_ID} bytes"),
            ));
        }
        // It is stored (a resent message is known by it) and sent back in ACK lines.
        if client_id.chars().any(char::is_control) {
            return Err(ServiceError::refused(
                ErrorCode::BadRequest,
                "a client id may not contain control characters",
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
        self.queue_body(me, session, to, client_id, Body::Text(text))
    }

    /// Queues a checked message body with the writer.
    fn queue_body(
        &self,
        me: &Caller,
        session: SessionId,
        to: Dest,
        client_id: String,
        body: Body,
    ) -> Result<Queued> {
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
            body,
        };
        Ok(Queued {
            answer: self
                .writer
                .submit(&self.store, &self.hub, self.relay.as_ref(), draft),
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
            (Written::Muted(until), Dest::Group(group)) => {
                Err(muted(group, until).about(client_id))
            }
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
        features: Features,
        after: u64,
        limit: u32,
    ) -> Result<Vec<ServerMessage>> {
        let limit = limit.clamp(1, SYNC_PAGE);
        let uid = me.user;
        let _turn = self.syncs.enter(uid).await;
        let page = self
            .db(move |s| s.messages_after(uid, after, limit))
            .await?;
        // Counted before recalled messages are left out, so a page with some still moves the cursor
        // and says whether more follow.
        let more = page.len() as u32 == limit;
        let last_id = page.last().map_or(after, |m| m.id);
        let mut out: Vec<_> = page
            .into_iter()
            .filter_map(|m| to_wire(m, features))
            .collect();
        out.push(ServerMessage::SyncEnd { last_id, more });
        Ok(out)
    }

    pub(super) async fn history(
        &self,
        me: &Caller,
        features: Features,
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
        let more = page.len() as u32 == limit;
        let mut out: Vec<_> = page
            .into_iter()
            .filter_map(|m| to_wire(m, features))
            .collect();
        out.push(ServerMessage::HistoryEnd {
            conv,
            count: out.len() as u32,
            more,
        });
        Ok(out)
    }

    /// `SEND:` — a message with a quote or mentions, checked here and then stored like any other.
    pub(super) async fn queue_said(
        &self,
        me: &Caller,
        session: SessionId,
        send: SendRequest,
    ) -> Result<Queued> {
        let SendRequest {
            to,
            client_id,
            reply_to,
            mentions,
            text,
        } = send;
        self.check_text(&client_id, &text)?;
        let dest = match &to {
            Conv::User(account) => Dest::Account(account.clone()),
            Conv::Group(group) => Dest::Group(*group),
        };
        if reply_to.is_none() && mentions.is_empty() {
            return self.queue_body(me, session, dest, client_id, Body::Text(text));
        }
        let about = |e: ServiceError| e.about(client_id.clone());
        if !mentions.is_empty() {
            let Conv::Group(group) = to else {
                return Err(about(ServiceError::refused(
                    ErrorCode::BadRequest,
                    "only group messages mention people",
                )));
            };
            let members = self
                .db(move |s| s.members(group as i64))
                .await
                .map_err(about)?;
            let mine = members.iter().find(|m| m.user.id == me.user);
            let Some(mine) = mine else {
                self.membership_of(me.user, group).await.map_err(about)?;
                return Err(about(ServiceError::refused(
                    ErrorCode::NotMember,
                    format!("you are not in group {group}"),
                )));
            };
            if mentions.all && !mine.role.manages() {
                return Err(about(ServiceError::refused(
                    ErrorCode::NotOwner,
                    "only the group's owner or an admin mentions everyone",
                )));
            }
            if let Some(stranger) = mentions.accounts.iter().find(|a| {
                !members
                    .iter()
                    .any(|m| m.user.account.eq_ignore_ascii_case(a))
            }) {
                return Err(about(ServiceError::refused(
                    ErrorCode::NotMember,
                    format!("{stranger} is not in this group"),
                )));
            }
        }
        let quote = match reply_to {
            None => None,
            Some(id) => {
                let quoted = self.quotable(me, &to, id).await.map_err(about)?;
                Some(Quote {
                    id,
                    from: quoted.from,
                    text: quoted.excerpt,
                })
            }
        };
        let body = Body::Said(Said {
            text,
            reply_to,
            mentions,
            quote,
        });
        self.queue_body(me, session, dest, client_id, body)
    }

    /// Message `id` if `me` may quote it in conversation `to`: visible to me and in that conversation.
    async fn quotable(&self, me: &Caller, to: &Conv, id: u64) -> Result<MessageRef> {
        let uid = me.user;
        let found = self.db(move |s| s.visible_message(uid, id)).await?;
        let peer = match to {
            Conv::User(account) => Some(self.user_named(account).await?.id),
            Conv::Group(_) => None,
        };
        let same = |m: &MessageRef| match (to, m.to) {
            (Conv::Group(group), Target::Group(g)) => g == *group as i64,
            (Conv::User(_), Target::User(target)) => {
                let peer = peer.unwrap_or_default();
                (m.sender == uid && target == peer) || (m.sender == peer && target == uid)
            }
            _ => false,
        };
        match found {
            Some(m) if !m.is_recall && same(&m) => Ok(m),
            _ => Err(no_such_message(id)),
        }
    }

    /// `RECALL:` — takes a message back: mine within the `recall` limit; in a group, at any time, any
    /// message if I own it, or mine and plain members' if I am an admin (as QQ: an admin cannot take back
    /// what the owner or another admin said).
    pub(super) async fn recall(&self, me: &Caller, id: u64) -> Result<Vec<ServerMessage>> {
        use ququ_protocol::Role;
        let uid = me.user;
        let target = self
            .db(move |s| s.visible_message(uid, id))
            .await?
            .filter(|m| !m.is_recall)
            .ok_or_else(|| no_such_message(id))?;
        let managed = match target.to {
            Target::Group(group) => {
                let sender = target.sender;
                let (mine, theirs) = self
                    .db(move |s| Ok((s.role(group, uid)?, s.role(group, sender)?)))
                    .await?;
                match mine {
                    Some(Role::Owner) => true,
                    // Someone who has left the group is no one's peer any more: a plain member's message.
                    Some(Role::Admin) if sender != uid && theirs.is_some_and(Role::manages) => {
                        return Err(ServiceError::refused(
                            ErrorCode::Forbidden,
                            format!(
                                "{} is the owner or an admin of this group; only the owner recalls their messages",
                                target.from
                            ),
                        )
                        .about(id.to_string()));
                    }
                    Some(Role::Admin) => true,
                    _ => false,
                }
            }
            Target::User(_) => false,
        };
        let now = now_millis();
        if !managed {
            if target.sender != uid {
                return Err(ServiceError::refused(
                    ErrorCode::Forbidden,
                    "only the sender recalls a message (or, in a group, its owner or an admin)",
                )
                .about(id.to_string()));
            }
            let window = u64::from(self.config.limits.recall) * 1000;
            if now.saturating_sub(target.time) > window {
                return Err(ServiceError::refused(
                    ErrorCode::TooLate,
                    format!(
                        "a message can be recalled within {} s of sending it",
                        self.config.limits.recall
                    ),
                )
                .about(id.to_string()));
            }
        }
        let recall = self
            .db(move |s| s.recall_message(id, uid, now))
            .await?
            .ok_or_else(|| no_such_message(id))?;
        // The bytes of a recalled file go too, unless another message offers the same content (its
        // `FILE_STATE:…:cancelled` goes before the recall).
        if let Some((file, _)) = &target.file
            && let Err(e) = self.recall_file(*file).await
        {
            // Cluster mode: the recall is stored, so the relay must have it all the same, or it would
            // hold back every later message for its five seconds.
            self.relayed(recall.id).await;
            return Err(e);
        }
        // Cluster mode: pushed by the relay, in id order with every node's messages.
        if self.relayed(recall.id).await {
            return Ok(Vec::new());
        }
        let audience: Vec<UserId> = match target.to {
            // A message its recipient never got (they block the sender) is recalled for the sender alone.
            Target::User(_) if target.hidden => vec![target.sender],
            Target::User(to) => vec![target.sender, to],
            Target::Group(group) => self.db(move |s| s.member_ids(group)).await?,
        };
        let plain = to_wire(recall.clone(), Features::default()).map(|m| super::line(&m));
        let rich = to_wire(recall, Features::ALL).map(|m| super::line(&m));
        if let (Some(plain), Some(rich)) = (plain, rich) {
            let mut wakes = super::hub::Wakes::default();
            let forms = Forms::by(Feature::Recalled, Some(plain), rich);
            self.hub.queue_forms(audience, &forms, None, &mut wakes);
            wakes.wake();
        }
        Ok(Vec::new())
    }

    /// `READ:` — raises my read mark and tells my other sessions.
    pub(super) async fn mark_read(
        &self,
        me: &Caller,
        session: SessionId,
        conv: Conv,
        up_to: u64,
    ) -> Result<Vec<ServerMessage>> {
        let target = match &conv {
            Conv::User(account) => {
                let them = self.user_named(account).await?;
                let (uid, tid) = (me.user, them.id);
                if !self.db(move |s| s.are_friends(uid, tid)).await? {
                    return Err(ServiceError::refused(
                        ErrorCode::NotFriends,
                        format!("{account} is not your friend"),
                    ));
                }
                Target::User(them.id)
            }
            Conv::Group(group) => {
                self.membership(me, *group).await?;
                Target::Group(*group as i64)
            }
        };
        let uid = me.user;
        if self.db(move |s| s.set_read(uid, target, up_to)).await? {
            let line = super::line(&ServerMessage::Read { conv, up_to });
            let mut wakes = super::hub::Wakes::default();
            // Sessions without the feature get nothing: there is no older line that says this.
            let forms = Forms::by(Feature::Read, None, line);
            self.hub
                .queue_forms([uid], &forms, Some(session), &mut wakes);
            wakes.wake();
        }
        Ok(Vec::new())
    }

    /// `READS` — my read marks.
    pub(super) async fn list_reads(&self, me: &Caller) -> Result<Vec<ServerMessage>> {
        let uid = me.user;
        let marks = self.db(move |s| s.reads(uid)).await?;
        let count = marks.len() as u32;
        let mut out: Vec<_> = marks
            .into_iter()
            .map(|(conv, up_to)| ServerMessage::Read { conv, up_to })
            .collect();
        out.push(ServerMessage::ReadsEnd { count });
        Ok(out)
    }

    /// `TYPING:` — passed on to the friend's sessions that show it; never stored.
    pub(super) async fn typing(&self, me: &Caller, to: String) -> Result<Vec<ServerMessage>> {
        let them = self.user_named(&to).await?;
        let (uid, tid) = (me.user, them.id);
        if !self.db(move |s| s.are_friends(uid, tid)).await? {
            return Err(ServiceError::refused(
                ErrorCode::NotFriends,
                format!("{to} is not your friend"),
            ));
        }
        self.typing.take(uid).map_err(|wait| {
            ServiceError::refused(
                ErrorCode::RateLimited,
                format!(
                    "at most one TYPING a second; try again in {} ms",
                    wait.as_millis().max(1)
                ),
            )
        })?;
        // Someone who blocks me does not see me typing; I am answered as if they did.
        if self.db(move |s| s.blocks(tid, uid)).await? {
            return Ok(Vec::new());
        }
        let line = super::line(&ServerMessage::Typing {
            from: me.account.clone(),
        });
        let mut wakes = super::hub::Wakes::default();
        let forms = Forms::by(Feature::Typing, None, line);
        self.hub.queue_forms([tid], &forms, None, &mut wakes);
        wakes.wake();
        Ok(Vec::new())
    }
}

fn no_such_message(id: u64) -> ServiceError {
    ServiceError::refused(
        ErrorCode::NoSuchMessage,
        format!("there is no message {id} here that you can see"),
    )
    .about(id.to_string())
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

/// The fields of a `SEND:`.
pub(super) struct SendRequest {
    pub to: Conv,
    pub client_id: String,
    pub reply_to: Option<u64>,
    pub mentions: Mentions,
    pub text: String,
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

/// The refusal of a muted member's message: the text starts with the unmute time (`ququ_protocol::muted_until`
/// reads it back), 0 when the whole group is muted.
pub(super) fn muted(group: u64, until: Millis) -> ServiceError {
    let words = if until == 0 {
        format!("group {group} is muted: only its owner and admins may speak")
    } else {
        format!("you are muted in group {group} until {until} (ms since the epoch)")
    };
    ServiceError::refused(ErrorCode::Muted, ququ_protocol::muted_text(until, &words))
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
