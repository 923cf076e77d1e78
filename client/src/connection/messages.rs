//! Messages: chat and group lines (and file offers, which are messages too), a group's changes
//! (`GROUP_EVENT:`, numbered and kept among its messages), `ACK:`, `SYNC:` paging, `HISTORY:` pages, and
//! the outbox: storing what the user writes and sending it at the server's pace.

use std::time::{Instant, SystemTime};

use ququ_protocol::{
    ChatMessage, ClientMessage, Conv, ErrorCode, FileMessage, GroupEvent, GroupMessage, Mentions,
    ServerMessage,
};

use super::{End, Link, Session, pace, reason};
use crate::event::{Event, Message};
use crate::storage::{Incoming, Stored};

/// A message line from the server, before it is stored.
fn incoming_chat(m: ChatMessage, me: &str) -> Incoming {
    let peer = if m.from == me { m.to } else { m.from.clone() };
    Incoming {
        conv: Conv::User(peer),
        server_id: m.id,
        client_id: m.client_id,
        from: m.from,
        time: m.time,
        text: m.text,
        file: None,
        said: Default::default(),
    }
}

fn incoming_group(m: GroupMessage) -> Incoming {
    Incoming {
        conv: Conv::Group(m.group),
        server_id: m.id,
        client_id: m.client_id,
        from: m.from,
        time: m.time,
        text: m.text,
        file: None,
        said: Default::default(),
    }
}

/// The conversation a message to `to` from `from` belongs to on `me`'s side: a private message is filed
/// under the other person (its recipient if I sent it, else its sender).
pub(super) fn conv_seen_by(to: Conv, from: &str, me: &str) -> Conv {
    match to {
        Conv::User(to) if from == me => Conv::User(to),
        Conv::User(_) => Conv::User(from.to_owned()),
        group => group,
    }
}

/// A file offer is a message whose text is the file's name (so search finds it) and which carries the file.
fn incoming_file(m: FileMessage, me: &str) -> Incoming {
    let conv = conv_seen_by(m.to, &m.from, me);
    Incoming {
        conv,
        server_id: m.id,
        client_id: m.client_id,
        text: m.file.name.clone(),
        file: Some(m.file),
        from: m.from,
        time: m.time,
        said: Default::default(),
    }
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The message line that sends `m`, which must be mine: `SEND:` for a reply or mentions.
pub(super) fn send_line(m: &Message) -> ClientMessage {
    if super::said::needs_send(m) {
        return ClientMessage::Send {
            to: m.conv.clone(),
            client_id: m.client_id.clone(),
            reply_to: m.quote.as_ref().map(|q| q.id),
            mentions: m.mentions.clone(),
            text: m.text.clone(),
        };
    }
    match &m.conv {
        Conv::User(to) => ClientMessage::Msg {
            to: to.clone(),
            client_id: m.client_id.clone(),
            text: m.text.clone(),
        },
        Conv::Group(group) => ClientMessage::GroupMsg {
            group: *group,
            client_id: m.client_id.clone(),
            text: m.text.clone(),
        },
    }
}

/// Where a line numbered like a message stands against the `HISTORY:` requests in flight.
pub(super) struct Paging {
    /// A request for its conversation is pending: it joins that page, so the page is complete.
    pub(super) in_page: bool,
    /// It is below that request's ceiling, so old by definition: stored without counting it unread, and
    /// handed over in the one `History` event rather than told as new. Anything else is treated as live.
    pub(super) old: bool,
}

impl Link {
    pub(super) fn paging(&self, conv: &Conv, id: u64) -> Paging {
        let wanted = self.lists.history.iter().find(|(c, _)| c == conv);
        Paging {
            in_page: wanted.is_some(),
            old: wanted.is_some_and(|(_, ceiling)| id < *ceiling),
        }
    }
}

impl Session {
    /// The message lines: new messages, `ACK:`, the end of a sync or history page.
    pub(super) async fn on_message_line(
        &mut self,
        link: &mut Link,
        msg: ServerMessage,
    ) -> Result<(), End> {
        use ServerMessage as S;
        match msg {
            S::Msg(m) => {
                let incoming = incoming_chat(m, &self.me);
                self.on_message(link, incoming).await?;
            }
            S::GroupMsg(m) => self.on_message(link, incoming_group(m)).await?,
            S::FileOffer(m) => {
                let incoming = incoming_file(m, &self.me);
                self.on_message(link, incoming).await?;
            }
            S::GroupEvent(e) => self.on_group_event(link, e).await?,
            S::Ack {
                client_id,
                id,
                time,
            } => {
                self.on_file_ack(link, &client_id).await?;
                if let Some(m) = self
                    .store
                    .call(move |s| s.mark_sent(&client_id, id, time))
                    .await?
                {
                    self.emit(Event::MessageState(m));
                }
            }
            S::SyncEnd { last_id, more } => {
                let after = link.syncing.take().unwrap_or(0);
                link.synced_to = self
                    .store
                    .call(move |s| s.advance_sync_cursor(last_id))
                    .await?;
                // `more` with no progress would loop forever on a confused server; stop paging instead.
                if more && last_id > after {
                    self.send_sync(link, last_id).await?;
                } else {
                    self.emit(Event::Synced {
                        new_messages: std::mem::take(&mut link.synced_new),
                    });
                    self.after_sync(link).await?;
                }
            }
            S::HistoryEnd { conv, more, .. } => {
                let lists = &mut link.lists;
                if let Some(pos) = lists.history.iter().position(|(c, _)| *c == conv) {
                    lists.history.remove(pos);
                }
                let (mut page, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut lists.history_page)
                    .into_iter()
                    .partition(|m| m.conv == conv);
                lists.history_page = rest;
                page.sort_by_key(|m| (m.server_id, m.local_id));
                page.dedup_by_key(|m| m.local_id);
                self.emit(Event::History {
                    conv,
                    messages: page,
                    more,
                });
            }
            // The router sends only the lines above here.
            _ => tracing::debug!("ignoring a line this client does not use"),
        }
        Ok(())
    }

    /// An `ERROR:` about one of my messages (`about` is its client id): a rate limit sends it again
    /// shortly, anything else fails it. False if `about` names no message of mine.
    pub(super) async fn message_refused(
        &mut self,
        link: &mut Link,
        code: &ErrorCode,
        text: &str,
        about: &str,
    ) -> Result<bool, End> {
        // Not failures: the message waits and goes again under its client id (see `pace`).
        let pause = match code {
            ErrorCode::RateLimited => Some(pace::BACK_OFF),
            ErrorCode::Unavailable => Some(pace::UNAVAILABLE_BACK_OFF),
            _ => None,
        };
        if let Some(pause) = pause {
            let client_id = about.to_owned();
            if let Some(m) = self
                .store
                .call(move |s| s.pending_message(&client_id))
                .await?
            {
                tracing::debug!(%code, "the server refused a message for now; sending it again shortly");
                link.pace
                    .refused(m.client_id.clone(), send_line(&m), Instant::now(), pause);
                return Ok(true);
            }
        }
        let client_id = about.to_owned();
        let reason = reason(code, text);
        if let Some(m) = self
            .store
            .call(move |s| s.mark_failed(&client_id, &reason))
            .await?
        {
            self.emit(Event::MessageState(m));
            return Ok(true);
        }
        Ok(false)
    }

    /// Writes the paced messages whose turn has come.
    pub(super) async fn send_paced(&mut self, link: &mut Link) -> Result<(), End> {
        let ready = link.pace.ready(Instant::now());
        if ready.is_empty() {
            return Ok(());
        }
        for line in &ready {
            link.feed(line).await?;
        }
        link.flush().await?;
        Ok(())
    }

    pub(super) async fn send_sync(&mut self, link: &mut Link, after: u64) -> Result<(), End> {
        link.syncing = Some(after);
        link.send(&ClientMessage::Sync {
            after,
            limit: self.config.timing.sync_page.max(1),
        })
        .await?;
        Ok(())
    }

    pub(super) async fn on_message(
        &mut self,
        link: &mut Link,
        incoming: Incoming,
    ) -> Result<(), End> {
        let Paging { in_page, old } = link.paging(&incoming.conv, incoming.server_id);
        let me = self.me.clone();
        let stored = self
            .store
            .call(move |s| s.store_incoming(&me, &incoming, !old))
            .await?;
        if in_page
            && let Stored::New { message, .. } | Stored::Acked(message) | Stored::Duplicate(message) =
                &stored
        {
            link.lists.history_page.push(message.clone());
        }
        if old {
            return Ok(());
        }
        match stored {
            Stored::New { message, unread } => {
                if link.syncing.is_some() {
                    link.synced_new += 1;
                }
                let conv = message.conv.clone();
                self.emit(Event::Message(message));
                if let Some(unread) = unread {
                    self.emit(Event::Unread { conv, unread });
                }
            }
            Stored::Acked(message) => self.emit(Event::MessageState(message)),
            Stored::Duplicate(_) | Stored::Deleted => {}
        }
        Ok(())
    }

    /// A change to a group (`GROUP_EVENT:`): stored among its messages and told as
    /// [`Event::GroupChange`], or handed over with the history page it came in, as a message would be. It
    /// is not a message, though: it counts as nothing unread, and a sync does not count it as new.
    async fn on_group_event(&mut self, link: &mut Link, e: GroupEvent) -> Result<(), End> {
        let Paging { in_page, old } = link.paging(&Conv::Group(e.group), e.id);
        let me = self.me.clone();
        let stored = self
            .store
            .call(move |s| s.store_group_event(&me, &e))
            .await?;
        if in_page && let Stored::New { message, .. } | Stored::Duplicate(message) = &stored {
            link.lists.history_page.push(message.clone());
        }
        if old {
            return Ok(());
        }
        if let Stored::New { message, .. } = stored
            && let Some(event) = message.group_event.clone()
        {
            self.emit(Event::GroupChange { event, message });
        }
        Ok(())
    }

    /// Stores a message the user wrote: pending, or failed at once if the server would refuse it anyway.
    pub(super) async fn queue_message(
        &mut self,
        conv: Conv,
        client_id: String,
        text: String,
        reply_to: Option<u64>,
        mentions: Mentions,
    ) -> Result<Message, End> {
        let max = self.limits.text as usize;
        // A Windows line break is the newline it means (the server refuses a CR in text).
        let text = if text.contains('\r') {
            text.replace("\r\n", "\n")
        } else {
            text
        };
        let error = if text.trim().is_empty() {
            Some("the message is empty".to_owned())
        } else if text.chars().count() > max {
            Some(format!("the message is longer than {max} characters"))
        } else if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            // The server refuses them too: a terminal would obey them (issue 20, item 5).
            Some("the message contains control characters other than tab and newline".to_owned())
        } else if !mentions.is_empty() && matches!(conv, Conv::User(_)) {
            Some("only group messages can mention people".to_owned())
        } else {
            None
        };
        let me = self.me.clone();
        let time = now_millis();
        let message = self
            .store
            .call(move |s| {
                s.queue_said(&crate::storage::Outgoing {
                    conv: &conv,
                    me: &me,
                    client_id: &client_id,
                    text: &text,
                    time,
                    error: error.as_deref(),
                    reply_to,
                    mentions: &mentions,
                })
            })
            .await?;
        self.emit(Event::Message(message.clone()));
        Ok(message)
    }
}
