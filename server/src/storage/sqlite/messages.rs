//! [`MessageStore`] on SQLite: inserting messages (in batches, one transaction each), sync and history
//! pages on the read connections, recalls and read marks.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

use ququ_protocol::{Conv, Millis};

use super::{LAST_MESSAGE_ID, SqliteStore, account_of};
use crate::storage::messages::{
    MessageColumns, MessageRow, batch_or_each, committed_select, id_bound, message_select,
    pair_key, quoted, target_of,
};
use crate::storage::{
    Body, Committed, MessageRef, MessageStore, NewMessage, StoreError, Stored, StoredMessage,
    Target, UserId,
};

/// A row of [`message_select`] as SQLite holds it.
fn message_from_row(r: &Row<'_>) -> rusqlite::Result<StoredMessage> {
    Ok(MessageRow {
        id: r.get(0)?,
        from: r.get(1)?,
        kind: r.get(2)?,
        target: r.get(3)?,
        to_account: r.get(4)?,
        time: r.get(5)?,
        client_id: r.get(6)?,
        text: r.get(7)?,
        file_id: r.get(8)?,
        file_size: r.get(9)?,
        file_sha256: r.get(10)?,
        file_name: r.get(11)?,
        reply_to: r.get(12)?,
        mentions: r.get(13)?,
        recall_of: r.get(14)?,
        recalled: r.get::<_, i64>(15)? != 0,
        quoted_from: r.get(16)?,
        quoted_text: r.get(17)?,
        quoted_file_name: r.get(18)?,
        quoted_recalled: r.get::<_, Option<i64>>(19)?.map(|r| r != 0),
        event: r.get(20)?,
        event_account: r.get(21)?,
    }
    .into_message())
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
    let c = MessageColumns::of(msg);
    let file = c.file;
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
            c.kind,
            c.target,
            c.conv,
            msg.time as i64,
            msg.client_id,
            c.text,
            file.map(|f| f.file_id as i64),
            file.map(|f| f.size as i64),
            file.map(|f| f.sha256.as_str()),
            file.map(|f| f.name.as_str()),
            ctx.last_id + 1,
            c.reply_to,
            c.mentions,
            c.recall_of,
            c.event,
            c.event_account,
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

/// Writes `batch` in one transaction, or each message alone if that fails (see [`batch_or_each`]).
fn commit_batch(conn: &mut Connection, batch: &[NewMessage]) -> Vec<Result<Stored, StoreError>> {
    batch_or_each(
        conn,
        batch,
        |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut ctx = Batch::start(&tx)?;
            let stored = batch
                .iter()
                .map(|m| insert_message(&tx, m, &mut ctx))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit()?;
            Ok(stored)
        },
        commit_one,
    )
}

/// Writes one message in a transaction of its own.
fn commit_one(conn: &mut Connection, msg: &NewMessage) -> Result<Stored, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let stored = insert_message(&tx, msg, &mut Batch::start(&tx)?)?;
    tx.commit()?;
    Ok(stored)
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

    fn committed(&self, after: u64, limit: u32) -> Result<Vec<Committed>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(&committed_select('?', false))?;
        let rows = stmt.query_map(params![id_bound(after), limit], |r| {
            Ok(Committed {
                to: target_of(r.get(2)?, r.get(3)?),
                sender: r.get(22)?,
                hidden: r.get::<_, i64>(23)? != 0,
                // One server per SQLite database: every message is this one's.
                mine: true,
                message: message_from_row(r)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn newest_message_id(&self) -> Result<u64, StoreError> {
        let conn = self.reader()?;
        let id: i64 = conn
            .prepare_cached(LAST_MESSAGE_ID)?
            .query_row([], |r| r.get(0))?;
        Ok(id as u64)
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
                        excerpt: quoted(text.as_deref(), name.as_deref()),
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
