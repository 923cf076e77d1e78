//! The lines that came after the original client: `FEATURES:` (asked on every connection, before logging
//! in), replies and mentions (`SEND:` out, `SAID:` in), recalls (`RECALL:`, `RECALLED:`), read marks
//! (`READ:`, `READS`, asked after each connection's first sync) and typing (`TYPING:`).
//!
//! A server older than them answers `FEATURES:` with `ERROR:unknown_verb`; then none of these verbs is
//! sent on that connection: a reply in the outbox fails with a reason saying so, a recall is answered by
//! [`Event::RecallFailed`] with `unknown_verb`, read marks stay local and typing is dropped.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ququ_protocol::{ClientMessage, Conv, ErrorCode, Features, RecallMessage, SaidMessage};

use super::messages::send_line;
use super::{End, Link, Session};
use crate::event::{Event, Message};
use crate::storage::Incoming;

/// Typing notices to one friend are sent at most this often (the server passes on one a second).
pub(super) const TYPING_EVERY: Duration = Duration::from_secs(3);

/// `READ:` lines go out at most once a second, all the marks raised since together: a chat window that
/// marks every message read as it arrives must not run into the server's `actions` limit during a sync.
const READS_EVERY: Duration = Duration::from_secs(1);

/// Why a reply fails on a server without `SEND:`.
const NO_REPLIES: &str = "replies and mentions are not available on this server";

/// What the server said to this connection's `FEATURES:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Granted {
    /// Asked; no answer yet.
    #[default]
    Asked,
    /// The server knows the new verbs and sends these lines.
    Features(Features),
    /// An older server: `ERROR:unknown_verb`.
    Absent,
}

impl Granted {
    /// Whether the server knows the new verbs (`SEND:`, `RECALL:`, `READ:`, `TYPING:`).
    pub(super) fn knows_verbs(self) -> bool {
        matches!(self, Granted::Features(_))
    }

    pub(super) fn features(self) -> Features {
        match self {
            Granted::Features(f) => f,
            Granted::Asked | Granted::Absent => Features::default(),
        }
    }
}

/// The features this client asks for: every one it handles. With `GROUP_EVENT` a group's changes come as
/// `GROUP_EVENT:` lines, kept in the group's history as changes ([`Event::GroupChange`]) rather than as
/// `GROUP:` messages from whoever made them, which counted as unread and were found by search.
pub(super) const ASKED: Features = Features::ALL;

/// This connection's state for the newer lines.
#[derive(Debug, Default)]
pub(super) struct SaidState {
    pub(super) granted: Granted,
    /// Message ids of `RECALL:`s sent and not yet answered, so an `ERROR:` about one reaches its caller.
    recalls: Vec<u64>,
    /// The server's marks while a `READS` listing is being read.
    reads: Option<HashMap<Conv, u64>>,
    /// `READS` has been asked on this connection (after its first sync).
    reads_asked: bool,
    /// Marks raised here and not yet sent (see [`READS_EVERY`]), and when marks were last sent.
    reads_due: HashMap<Conv, u64>,
    reads_sent: Option<Instant>,
}

/// Whether sending `m` needs `SEND:` rather than `MSG:`/`GROUP:`.
pub(super) fn needs_send(m: &Message) -> bool {
    m.quote.is_some() || !m.mentions.is_empty()
}

fn incoming_said(m: SaidMessage, me: &str) -> Incoming {
    let conv = super::messages::conv_seen_by(m.to, &m.from, me);
    Incoming {
        conv,
        server_id: m.id,
        client_id: m.client_id,
        from: m.from,
        time: m.time,
        text: m.text,
        file: None,
        said: crate::storage::Said {
            quote: m.quote,
            mentions: m.mentions,
        },
    }
}

impl Session {
    /// The newer server lines (see the module docs).
    pub(super) async fn on_said_line(
        &mut self,
        link: &mut Link,
        msg: ququ_protocol::ServerMessage,
    ) -> Result<(), End> {
        use ququ_protocol::ServerMessage as S;
        match msg {
            S::Features { features } => {
                let features = features.and(ASKED);
                let late = link.said.granted == Granted::Asked && link.is_ready();
                link.said.granted = Granted::Features(features);
                if late {
                    self.emit(Event::Features(features));
                }
            }
            S::Said(m) => {
                let incoming = incoming_said(m, &self.me);
                self.on_message(link, incoming).await?;
            }
            S::Recalled(r) => self.on_recalled(link, r).await?,
            S::Read { conv, up_to } => {
                if let Some(reads) = &mut link.said.reads {
                    reads.insert(conv.clone(), up_to);
                }
                let c = conv.clone();
                let mark = self.store.call(move |s| s.apply_read(&c, up_to)).await?;
                if mark.unread != mark.unread_before {
                    self.emit(Event::Unread {
                        conv,
                        unread: mark.unread,
                    });
                }
            }
            S::ReadsEnd { .. } => {
                // Marks made here while offline (or that the server missed) go up now.
                let server = link.said.reads.take().unwrap_or_default();
                let mine = self.store.call(|s| s.read_marks()).await?;
                let mut sent = false;
                for (conv, up_to) in mine {
                    if server.get(&conv).is_none_or(|&theirs| theirs < up_to) {
                        link.feed(&ClientMessage::Read { conv, up_to }).await?;
                        sent = true;
                    }
                }
                if sent {
                    link.flush().await?;
                }
            }
            S::Typing { from } => self.emit(Event::Typing { from }),
            // The router sends only the lines above here.
            _ => tracing::debug!("ignoring a line this client does not use"),
        }
        Ok(())
    }

    async fn on_recalled(&mut self, link: &mut Link, mut r: RecallMessage) -> Result<(), End> {
        link.said.recalls.retain(|&id| id != r.target);
        // A private message's `to` is its recipient; this device files the chat under the other one.
        if matches!(r.to, Conv::User(_)) && r.target_from != self.me {
            r.to = Conv::User(r.target_from.clone());
        }
        let super::messages::Paging { in_page, old } = link.paging(&r.to, r.id);
        let me = self.me.clone();
        let (conv, target, by) = (r.to.clone(), r.target, r.by.clone());
        let applied = self.store.call(move |s| s.apply_recall(&me, &r)).await?;
        if in_page && applied.message.conv == conv {
            link.lists.history_page.push(applied.message.clone());
        }
        // A record of a recall that comes in a history page is shown by the page, like its messages.
        if !applied.new || (old && applied.message.recall_of.is_some()) {
            return Ok(());
        }
        self.emit(Event::Recalled {
            conv: applied.message.conv.clone(),
            target,
            by,
            message: applied.message,
            quotes: applied.quotes,
        });
        if let Some(unread) = applied.unread {
            self.emit(Event::Unread { conv, unread });
        }
        Ok(())
    }

    /// An `ERROR:` about a recall of mine (`about` is its message id). False if it is not one.
    pub(super) fn recall_refused(
        &mut self,
        link: &mut Link,
        code: &ErrorCode,
        text: &str,
        about: &str,
    ) -> bool {
        let Ok(target) = about.parse::<u64>() else {
            return false;
        };
        let Some(pos) = link.said.recalls.iter().position(|&id| id == target) else {
            return false;
        };
        link.said.recalls.remove(pos);
        self.emit(Event::RecallFailed {
            target,
            code: code.clone(),
            text: text.to_owned(),
        });
        true
    }

    /// `FEATURES:` answered by `ERROR:unknown_verb`: an older server. True if that is what this error is.
    pub(super) fn features_refused(
        &mut self,
        link: &mut Link,
        code: &ErrorCode,
        about: Option<&str>,
    ) -> bool {
        if link.said.granted != Granted::Asked || *code != ErrorCode::UnknownVerb || about.is_some()
        {
            return false;
        }
        tracing::info!("the server predates replies, recalls and read marks");
        link.said.granted = Granted::Absent;
        true
    }

    /// Writes `RECALL:` (without flushing), or says at once why it cannot be.
    pub(super) async fn feed_recall(&mut self, link: &mut Link, id: u64) -> Result<(), End> {
        if !link.said.granted.knows_verbs() {
            self.emit(Event::RecallFailed {
                target: id,
                code: ErrorCode::UnknownVerb,
                text: "recalling messages is not available on this server".into(),
            });
            return Ok(());
        }
        link.said.recalls.push(id);
        link.feed(&ClientMessage::Recall { id }).await?;
        Ok(())
    }

    /// Sends `TYPING:` to a friend, at most once per [`TYPING_EVERY`] each; dropped on an older server.
    pub(super) async fn send_typing(&mut self, link: &mut Link, to: String) -> Result<(), End> {
        if !link.said.granted.knows_verbs() {
            return Ok(());
        }
        let now = Instant::now();
        self.typing_sent
            .retain(|_, at| now.duration_since(*at) < TYPING_EVERY);
        if self.typing_sent.contains_key(&to) {
            return Ok(());
        }
        self.typing_sent.insert(to.clone(), now);
        link.send(&ClientMessage::Typing { to }).await?;
        Ok(())
    }

    /// Marks a conversation read here, and tells the server (and so my other devices) if the mark went up.
    /// Offline, the mark is sent after the next login's `READS` listing.
    pub(super) async fn mark_read(
        &mut self,
        link: Option<&mut Link>,
        conv: Conv,
        up_to: Option<u64>,
    ) -> Result<(), End> {
        let c = conv.clone();
        let mark = self.store.call(move |s| s.mark_read_to(&c, up_to)).await?;
        // Marking all of it read always reports, as a badge may be showing a count from before.
        if up_to.is_none() || mark.unread != mark.unread_before {
            self.emit(Event::Unread {
                conv: conv.clone(),
                unread: mark.unread,
            });
        }
        if let (Some(link), Some(up_to)) = (link, mark.raised)
            && link.said.granted.knows_verbs()
        {
            let due = link.said.reads_due.entry(conv).or_default();
            *due = (*due).max(up_to);
            self.flush_reads(link).await?;
        }
        Ok(())
    }

    /// Sends the read marks raised since the last ones went, if [`READS_EVERY`] has passed.
    pub(super) async fn flush_reads(&mut self, link: &mut Link) -> Result<(), End> {
        let now = Instant::now();
        let said = &mut link.said;
        if said.reads_due.is_empty()
            || said
                .reads_sent
                .is_some_and(|at| now.duration_since(at) < READS_EVERY)
        {
            return Ok(());
        }
        said.reads_sent = Some(now);
        let due: Vec<_> = said.reads_due.drain().collect();
        for (conv, up_to) in due {
            link.feed(&ClientMessage::Read { conv, up_to }).await?;
        }
        link.flush().await?;
        Ok(())
    }

    /// After a connection's first complete sync: ask for the read marks made elsewhere.
    pub(super) async fn after_sync(&mut self, link: &mut Link) -> Result<(), End> {
        if link.said.reads_asked || !link.said.granted.knows_verbs() {
            return Ok(());
        }
        link.said.reads_asked = true;
        link.said.reads = Some(HashMap::new());
        link.send(&ClientMessage::ListReads).await?;
        Ok(())
    }

    /// Puts one of my messages in the outbox, unless it is a reply the server cannot take: then it fails,
    /// saying why.
    pub(super) async fn outbox_push(&mut self, link: &mut Link, m: &Message) -> Result<(), End> {
        if needs_send(m) && !link.said.granted.knows_verbs() {
            let client_id = m.client_id.clone();
            if let Some(m) = self
                .store
                .call(move |s| s.mark_failed(&client_id, NO_REPLIES))
                .await?
            {
                self.emit(Event::MessageState(m));
            }
            return Ok(());
        }
        link.pace.push(m.client_id.clone(), send_line(m));
        Ok(())
    }
}
