//! [`MessageStore`] on SQLite: inserting messages (in batches, one transaction each), sync and history
//! pages on the read connections, recalls and read marks.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

use ququ_protocol::{Conv, FileInfo, GroupEventKind, Mentions, Millis, Quote};

use super::{LAST_MESSAGE_ID, SqliteStore, account_of};
use crate::storage::{
    Body, MessageRef, MessageStore, NewMessage, Said, StoreError, Stored, StoredMessage, Target,
    UserId, excerpt,
};

/// The columns `message_from_row` reads, from `messages m` and the users `s` (sender) and `t` (recipient).
const MESSAGE_COLS: &str = "m.id, s.account, m.kind, m.target, t.account, m.time, m.client_id, \
     m.text, m.file_id, m.file_size, m.file_sha256, m.file_name, m.reply_to, m.mentions, \
     m.recall_of, m.recalled, qs.account, q.text, q.file_name, q.recalled, m.event, m.event_account";

/// The sender's and the recipient's account names for `messages m`, and the message it quotes or
/// recalls (`q`) with its sender (`qs`). For a message that does neither, the join looks up a NULL id
/// and finds nothing at once.
const MESSAGE_USERS: &str = "JOIN users s ON s.id = m.sender_id LEFT JOIN users t ON m.kind = 0 AND t.id = m.target \
     LEFT JOIN messages q ON q.id = COALESCE(m.reply_to, m.recall_of) \
     LEFT JOIN users qs ON qs.id = q.sender_id";

/// `MESSAGE_COLS` of `messages m`, for a `WHERE` to follow.
fn message_select() -> String {
    format!("SELECT {MESSAGE_COLS} FROM messages m {MESSAGE_USERS}")
}

fn message_from_row(r: &Row<'_>) -> rusqlite::Result<StoredMessage> {
    let kind: i64 = r.get(2)?;
    let target: i64 = r.get(3)?;
    let to = if kind == 0 {
        Conv::User(r.get::<_, Option<String>>(4)?.unwrap_or_default())
    } else {
        Conv::Group(target as u64)
    };
    let reply_to = r.get::<_, Option<i64>>(12)?.map(|id| id as u64);
    let mentions = r.get::<_, Option<String>>(13)?;
    let recall_of = r.get::<_, Option<i64>>(14)?;
    let quoted_from = || {
        r.get::<_, Option<String>>(16)
            .map(Option::unwrap_or_default)
    };
    let event = r.get::<_, Option<String>>(20)?;
    let body = if r.get::<_, i64>(15)? != 0 {
        Body::Gone
    } else if let Some(kind) = event.as_deref().and_then(GroupEventKind::parse) {
        Body::Event {
            kind,
            account: r.get::<_, Option<String>>(21)?.unwrap_or_default(),
            value: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
        }
    } else if event.is_some() {
        // A kind from a newer server: kept in the history's count, as a recalled message is, never sent.
        Body::Gone
    } else if let Some(target) = recall_of {
        Body::Recall {
            target: target as u64,
            target_from: quoted_from()?,
        }
    } else if let Some(file_id) = r.get::<_, Option<i64>>(8)? {
        Body::File(FileInfo {
            file_id: file_id as u64,
            size: r.get::<_, Option<i64>>(9)?.unwrap_or(0) as u64,
            sha256: r.get::<_, Option<String>>(10)?.unwrap_or_default(),
            name: r.get::<_, Option<String>>(11)?.unwrap_or_default(),
        })
    } else if reply_to.is_some() || mentions.is_some() {
        let quote = match reply_to {
            // A quoted message recalled since (or gone with its group) quotes nothing.
            Some(id) => Some(Quote {
                id,
                from: quoted_from()?,
                text: if r.get::<_, Option<i64>>(19)?.unwrap_or(1) != 0 {
                    String::new()
                } else {
                    match (
                        r.get::<_, Option<String>>(17)?,
                        r.get::<_, Option<String>>(18)?,
                    ) {
                        (Some(text), _) => excerpt(&text),
                        (None, Some(name)) => format!("[{name}]"),
                        (None, None) => String::new(),
                    }
                },
            }),
            None => None,
        };
        Body::Said(Said {
            text: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
            reply_to,
            mentions: mentions
                .as_deref()
                .and_then(Mentions::from_field)
                .unwrap_or_default(),
            quote,
        })
    } else {
        Body::Text(r.get::<_, Option<String>>(7)?.unwrap_or_default())
    };
    Ok(StoredMessage {
        id: r.get::<_, i64>(0)? as u64,
        from: r.get(1)?,
        to,
        time: r.get::<_, i64>(5)? as Millis,
        client_id: r.get(6)?,
        body,
    })
}

// Issue 20, item 12: what `messages_after` reads, one statement per source of a user's messages. Each
// is a range of one index from the cursor on that stops after the page (`?3` rows) or at the ceiling
// (`?4`), so a page costs the same however much lies beyond it. The one statement they replaced took
// every id after the cursor from every source, sorted them and kept the first page: about 105 ms a page
// with 260,000 messages in view, holding the store's one connection all the while.
/// Private messages to `?1` above `?2`, but those hidden from it (their sender is blocked).
pub(super) const PRIVATE_TO: &str = "SELECT id FROM messages WHERE kind = 0 AND target = ?1 \
     AND id > ?2 AND id <= ?4 AND hidden = 0 ORDER BY id LIMIT ?3";

/// Private messages from `?1` above `?2`.
pub(super) const PRIVATE_FROM: &str = "SELECT id FROM messages WHERE kind = 0 AND sender_id = ?1 \
     AND id > ?2 AND id <= ?4 ORDER BY id LIMIT ?3";

/// Messages of group `?1` above `?2`.
pub(super) const IN_GROUP: &str = "SELECT id FROM messages WHERE kind = 1 AND conv = ?1 \
     AND id > ?2 AND id <= ?4 ORDER BY id LIMIT ?3";

/// `?1`'s groups, and the last message of each from before they joined.
const MY_GROUPS: &str = "SELECT group_id, since_msg FROM members WHERE user_id = ?1";

/// The first `limit` messages for `user` with ids above `after`, in id order, read in one snapshot so
/// that no message committed meanwhile can be skipped (ids only grow, so a page missing one would move
/// the client's cursor past it).
fn messages_after_on(
    conn: &Connection,
    user: UserId,
    after: i64,
    limit: u32,
) -> Result<Vec<StoredMessage>, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let mut sources = vec![(PRIVATE_TO, user, after), (PRIVATE_FROM, user, after)];
    {
        let mut groups = tx.prepare_cached(MY_GROUPS)?;
        let rows = groups.query_map([user], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (group, since) = row?;
            sources.push((IN_GROUP, group, after.max(since)));
        }
    }
    let page = limit as usize;
    // The service asks for pages of at most a few hundred; other callers (the operator's tools, tests)
    // may ask for "everything", which must not reserve memory for `u32::MAX` ids up front.
    let mut ids: Vec<i64> = Vec::with_capacity(page.min(4096) * 2);
    // Once a page's worth is found, nothing above its last id can be in the page: later sources stop
    // there.
    let mut ceiling = i64::MAX;
    for (sql, key, from) in sources {
        let mut stmt = tx.prepare_cached(sql)?;
        for id in stmt.query_map(params![key, from, limit, ceiling], |r| r.get::<_, i64>(0))? {
            ids.push(id?);
        }
        if ids.len() >= page {
            ids.sort_unstable();
            ids.dedup();
            ids.truncate(page);
            if ids.len() == page {
                ceiling = ids[page - 1];
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ids.truncate(page);
    let mut one = tx.prepare_cached(&format!("{} WHERE m.id = ?1", message_select()))?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(m) = one.query_row([id], message_from_row).optional()? {
            out.push(m);
        }
    }
    Ok(out)
}

/// Inserts one message (or finds the first copy of a resend), inside whatever transaction is open.
fn insert_message(
    conn: &Connection,
    msg: &NewMessage,
    ctx: &mut Batch,
) -> Result<Stored, StoreError> {
    let (kind, target, conv) = match msg.to {
        Target::User(to) => (0, to, pair_key(msg.sender, to)),
        Target::Group(g) => (1, g, g),
    };
    let (text, file) = match &msg.body {
        Body::Text(t) => (Some(t.as_str()), None),
        Body::Said(said) => (Some(said.text.as_str()), None),
        Body::File(f) => (None, Some(f)),
        Body::Event { value, .. } => (Some(value.as_str()), None),
        Body::Recall { .. } | Body::Gone => (None, None),
    };
    let (event, event_account) = match &msg.body {
        Body::Event { kind, account, .. } => (Some(kind.as_str()), Some(account.as_str())),
        _ => (None, None),
    };
    let (reply_to, mentions) = match &msg.body {
        Body::Said(said) => (
            said.reply_to.map(|id| id as i64),
            (!said.mentions.is_empty()).then(|| said.mentions.to_field()),
        ),
        _ => (None, None),
    };
    let recall_of = match &msg.body {
        Body::Recall { target, .. } => Some(*target as i64),
        _ => None,
    };
    // Cached statements: this is the hot path, and parsing SQL costs more than running it.
    let inserted = conn
        .prepare_cached(
            "INSERT INTO messages (id, sender_id, kind, target, conv, time, client_id, text, \
         file_id, file_size, file_sha256, file_name, reply_to, mentions, recall_of, event, \
         event_account, hidden) \
         VALUES (?12, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?13, ?14, ?15, ?16, ?17, ?18) \
         ON CONFLICT(sender_id, client_id) DO NOTHING",
        )?
        .execute(params![
            msg.sender,
            kind,
            target,
            conv,
            msg.time as i64,
            msg.client_id,
            text,
            file.map(|f| f.file_id as i64),
            file.map(|f| f.size as i64),
            file.map(|f| f.sha256.as_str()),
            file.map(|f| f.name.as_str()),
            ctx.last_id + 1,
            reply_to,
            mentions,
            recall_of,
            event,
            event_account,
            msg.hidden,
        ])?;
    if inserted == 0 {
        // A resend: the answer is the first copy, as stored.
        let message = conn
            .prepare_cached(&format!(
                "{} WHERE m.sender_id = ?1 AND m.client_id = ?2",
                message_select()
            ))?
            .query_row(params![msg.sender, msg.client_id], message_from_row)?;
        return Ok(Stored {
            message,
            duplicate: true,
        });
    }
    // A new row holds exactly what was inserted, so it is built here rather than read back: reading it
    // back through the joined select cost more than the insert (a profile showed SQLite re-preparing
    // that statement, `sqlite3Reprepare`, on every step: a third of the server's time in a fan-out).
    ctx.last_id += 1;
    let to = match msg.to {
        Target::User(to) => Conv::User(account_of(conn, to, &mut ctx.accounts)?),
        Target::Group(g) => Conv::Group(g as u64),
    };
    Ok(Stored {
        message: StoredMessage {
            id: ctx.last_id as u64,
            from: account_of(conn, msg.sender, &mut ctx.accounts)?,
            to,
            time: msg.time,
            client_id: msg.client_id.clone(),
            body: msg.body.clone(),
        },
        duplicate: false,
    })
}

/// What the inserts of one transaction share: account names looked up so far, and the last message id
/// given out (read once, when the transaction starts, instead of by AUTOINCREMENT in every insert).
struct Batch {
    accounts: HashMap<UserId, String>,
    last_id: i64,
}

impl Batch {
    /// Must be called inside the transaction that does the inserts, so no other writer can take the
    /// same ids in between.
    fn start(conn: &Connection) -> Result<Self, StoreError> {
        Ok(Batch {
            accounts: HashMap::new(),
            last_id: conn
                .prepare_cached(LAST_MESSAGE_ID)?
                .query_row([], |r| r.get(0))?,
        })
    }
}

/// Writes `batch` in one transaction. If the transaction fails as a whole, each message is tried in a
/// transaction of its own, so one bad message cannot fail the others.
fn commit_batch(conn: &mut Connection, batch: &[NewMessage]) -> Vec<Result<Stored, StoreError>> {
    if batch.len() > 1 {
        let all = (|| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut ctx = Batch::start(&tx)?;
            let stored = batch
                .iter()
                .map(|m| insert_message(&tx, m, &mut ctx))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit()?;
            Ok::<_, StoreError>(stored)
        })();
        match all {
            Ok(stored) => return stored.into_iter().map(Ok).collect(),
            Err(e) => {
                tracing::warn!(error = %e, messages = batch.len(), "batch failed; storing one by one")
            }
        }
    }
    batch.iter().map(|m| commit_one(conn, m)).collect()
}

/// Writes one message in a transaction of its own.
fn commit_one(conn: &mut Connection, msg: &NewMessage) -> Result<Stored, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let stored = insert_message(&tx, msg, &mut Batch::start(&tx)?)?;
    tx.commit()?;
    Ok(stored)
}

/// A client's id bound (a sync cursor, a history page's `before`) as SQLite's `i64`. Ids are `u64` on the
/// wire; one of 2^63 or more, cast, wrapped to a negative id and `SYNC:` sent the whole history from the
/// start (issue 20, item 13). No stored id is that large, so it clamps to the largest `i64`, which is past
/// every message too.
fn id_bound(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// Private conversations are keyed by both user ids, lower first, so either side finds the same rows.
fn pair_key(a: UserId, b: UserId) -> i64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    (lo << 32) | (hi & 0xffff_ffff)
}

impl MessageStore for SqliteStore {
    /// One message in its own transaction. The server's sends go through the message writer
    /// (`service/writer.rs`), which gathers whatever is waiting into one [`store_messages`] batch (one
    /// commit for many senders); this is a single write outside it (tests, tools).
    ///
    /// [`store_messages`]: MessageStore::store_messages
    fn store_message(&self, msg: &NewMessage) -> Result<Stored, StoreError> {
        commit_one(&mut *self.lock()?, msg)
    }

    fn store_messages(&self, batch: &[NewMessage]) -> Vec<Result<Stored, StoreError>> {
        match self.lock() {
            Ok(mut conn) => commit_batch(&mut conn, batch),
            Err(_) => batch.iter().map(|_| Err(StoreError::Poisoned)).collect(),
        }
    }

    fn messages_after(
        &self,
        user: UserId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let conn = self.reader()?;
        messages_after_on(&conn, user, id_bound(after), limit)
    }

    fn history(
        &self,
        user: UserId,
        with: Target,
        before: u64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let conn = self.reader()?;
        let before = if before == 0 {
            i64::MAX
        } else {
            id_bound(before)
        };
        let rows = match with {
            Target::User(peer) => {
                let mut stmt = conn.prepare_cached(&format!(
                    "{} WHERE m.kind = 0 AND m.conv = ?1 AND m.id < ?2 \
                     AND (m.hidden = 0 OR m.sender_id = ?4) \
                     ORDER BY m.id DESC LIMIT ?3",
                    message_select()
                ))?;
                stmt.query_map(
                    params![pair_key(user, peer), before, limit, user],
                    message_from_row,
                )?
                .collect::<Result<Vec<_>, _>>()?
            }
            Target::Group(group) => {
                let mut stmt = conn.prepare_cached(&format!(
                    "{} WHERE m.kind = 1 AND m.conv = ?1 AND m.id < ?2 \
                     AND m.id > COALESCE((SELECT since_msg FROM members \
                         WHERE group_id = ?1 AND user_id = ?4), 9223372036854775807) \
                     ORDER BY m.id DESC LIMIT ?3",
                    message_select()
                ))?;
                stmt.query_map(params![group, before, limit, user], message_from_row)?
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        Ok(rows)
    }

    fn visible_message(&self, user: UserId, id: u64) -> Result<Option<MessageRef>, StoreError> {
        let conn = self.reader()?;
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        let row = conn
            .prepare_cached(
                "SELECT m.sender_id, s.account, m.kind, m.target, m.conv, m.time, m.text, m.file_id, \
                 m.file_sha256, m.file_name, m.recall_of, m.recalled, m.event, m.hidden \
                 FROM messages m JOIN users s ON s.id = m.sender_id WHERE m.id = ?1",
            )?
            .query_row([id], |r| {
                let kind: i64 = r.get(2)?;
                let target: i64 = r.get(3)?;
                let conv: i64 = r.get(4)?;
                let text: Option<String> = r.get(6)?;
                let file_id: Option<i64> = r.get(7)?;
                let sha: Option<String> = r.get(8)?;
                let name: Option<String> = r.get(9)?;
                Ok((
                    MessageRef {
                        id: id as u64,
                        sender: r.get(0)?,
                        from: r.get(1)?,
                        to: if kind == 0 {
                            Target::User(target)
                        } else {
                            Target::Group(conv)
                        },
                        time: r.get::<_, i64>(5)? as Millis,
                        excerpt: match (&text, &name) {
                            (Some(text), _) => excerpt(text),
                            (None, Some(name)) => format!("[{name}]"),
                            (None, None) => String::new(),
                        },
                        file: file_id.map(|f| (f as u64, sha.unwrap_or_default())),
                        // A group event is neither quoted nor recalled either: it is the group's.
                        is_recall: r.get::<_, Option<i64>>(10)?.is_some()
                            || r.get::<_, Option<String>>(12)?.is_some(),
                        hidden: r.get::<_, i64>(13)? != 0,
                    },
                    r.get::<_, i64>(11)? != 0,
                ))
            })
            .optional()?;
        let Some((message, recalled)) = row else {
            return Ok(None);
        };
        if recalled {
            return Ok(None);
        }
        let visible = match message.to {
            Target::User(to) => message.sender == user || (to == user && !message.hidden),
            Target::Group(group) => conn
                .prepare_cached(
                    "SELECT 1 FROM members WHERE group_id = ?1 AND user_id = ?2 AND since_msg < ?3",
                )?
                .exists(params![group, user, id])?,
        };
        Ok(visible.then_some(message))
    }

    fn recall_message(
        &self,
        target: u64,
        by: UserId,
        time: Millis,
    ) -> Result<Option<StoredMessage>, StoreError> {
        let Ok(target) = i64::try_from(target) else {
            return Ok(None);
        };
        let mut conn = self.lock()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let row = tx
            .prepare_cached(
                "SELECT sender_id, kind, target, conv, hidden FROM messages \
                 WHERE id = ?1 AND recalled = 0 AND recall_of IS NULL",
            )?
            .query_row([target], |r| {
                Ok((
                    r.get::<_, UserId>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .optional()?;
        let Some((sender, kind, to, conv, hidden)) = row else {
            return Ok(None);
        };
        // The recall goes to the other side of a private conversation from the one recalling it, so
        // it is found where that conversation's messages are (`PRIVATE_TO` / `PRIVATE_FROM`).
        let recall_to = if kind == 0 && by != sender {
            sender
        } else {
            to
        };
        tx.prepare_cached(
            "UPDATE messages SET text = NULL, file_id = NULL, file_size = NULL, file_sha256 = NULL, \
             file_name = NULL, reply_to = NULL, mentions = NULL, recalled = 1 WHERE id = ?1",
        )?
        .execute([target])?;
        let mut ctx = Batch::start(&tx)?;
        let id = ctx.last_id + 1;
        let client_id = format!("recall-{target}");
        tx.prepare_cached(
            "INSERT INTO messages (id, sender_id, kind, target, conv, time, client_id, recall_of, \
             hidden) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        // The recall of a message hidden from its recipient is hidden from them too.
        .execute(params![
            id,
            by,
            kind,
            recall_to,
            conv,
            time as i64,
            client_id,
            target,
            hidden
        ])?;
        let to = if kind == 0 {
            Conv::User(account_of(&tx, recall_to, &mut ctx.accounts)?)
        } else {
            Conv::Group(conv as u64)
        };
        let message = StoredMessage {
            id: id as u64,
            from: account_of(&tx, by, &mut ctx.accounts)?,
            to,
            time,
            client_id,
            body: Body::Recall {
                target: target as u64,
                target_from: account_of(&tx, sender, &mut ctx.accounts)?,
            },
        };
        tx.commit()?;
        Ok(Some(message))
    }

    fn set_read(&self, user: UserId, conv: Target, up_to: u64) -> Result<bool, StoreError> {
        let (kind, key) = match conv {
            Target::User(peer) => (0, peer),
            Target::Group(group) => (1, group),
        };
        let changed = self
            .lock()?
            .prepare_cached(
                "INSERT INTO reads (user_id, kind, conv, up_to) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (user_id, kind, conv) DO UPDATE SET up_to = excluded.up_to \
                 WHERE excluded.up_to > reads.up_to",
            )?
            .execute(params![user, kind, key, id_bound(up_to)])?;
        Ok(changed > 0)
    }

    fn reads(&self, user: UserId) -> Result<Vec<(Conv, u64)>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(
            "SELECT r.kind, r.conv, u.account, r.up_to FROM reads r \
             LEFT JOIN users u ON r.kind = 0 AND u.id = r.conv WHERE r.user_id = ?1 \
             ORDER BY r.kind, r.conv",
        )?;
        let rows = stmt.query_map([user], |r| {
            let kind: i64 = r.get(0)?;
            let conv = if kind == 0 {
                Conv::User(r.get::<_, Option<String>>(2)?.unwrap_or_default())
            } else {
                Conv::Group(r.get::<_, i64>(1)? as u64)
            };
            Ok((conv, r.get::<_, i64>(3)? as u64))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (conv, up_to) = row?;
            // A friend's account deleted since: nothing to name.
            if conv != Conv::User(String::new()) {
                out.push((conv, up_to));
            }
        }
        Ok(out)
    }
}
