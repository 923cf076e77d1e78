//! [`MessageStore`] on PostgreSQL: storing messages in batches with ids in commit order, sync and
//! history pages, recalls and read marks.
//!
//! # Message ids
//! Clients sync by "after the last id I have", which assumes that once id N is visible, every id below
//! it is committed. A sequence breaks that with several writers: one transaction takes ids 10 to 12,
//! another 13 to 15 and commits first, and a client reading then moves its cursor to 15 and never gets
//! 10 to 12. So ids come from one counter row, `message_ids`, which every transaction that stores
//! messages (a batch, a single message, a recall) locks first (`SELECT … FOR UPDATE`) and writes last:
//! the next such transaction waits for the lock, and so for the commit, before it reads the counter.
//! Ids are therefore given out in commit order with no holes, across every node. The cost is that
//! message commits are serialised, as SQLite's are; the group commit (one batch per transaction) is
//! what keeps that cheap. `tests.rs` has the test that fails with a sequence.

use std::collections::HashMap;

use postgres::{GenericClient, Row, Transaction};

use ququ_protocol::{Conv, Millis};

use super::{PgStore, all};
use crate::storage::messages::{
    MessageColumns, MessageRow, batch_or_each, committed_select, id_bound, message_select,
    pair_key, quoted, target_of,
};
use crate::storage::{
    Body, Committed, MessageRef, MessageStore, NewMessage, StoreError, Stored, StoredMessage,
    Target, UserId,
};

/// A row of [`message_select`] as PostgreSQL holds it.
fn message_from_row(r: &Row) -> Result<StoredMessage, StoreError> {
    Ok(MessageRow {
        id: r.try_get(0)?,
        from: r.try_get(1)?,
        kind: r.try_get::<_, i16>(2)?.into(),
        target: r.try_get(3)?,
        to_account: r.try_get(4)?,
        time: r.try_get(5)?,
        client_id: r.try_get(6)?,
        text: r.try_get(7)?,
        file_id: r.try_get(8)?,
        file_size: r.try_get(9)?,
        file_sha256: r.try_get(10)?,
        file_name: r.try_get(11)?,
        reply_to: r.try_get(12)?,
        mentions: r.try_get(13)?,
        recall_of: r.try_get(14)?,
        recalled: r.try_get(15)?,
        quoted_from: r.try_get(16)?,
        quoted_text: r.try_get(17)?,
        quoted_file_name: r.try_get(18)?,
        quoted_recalled: r.try_get(19)?,
        event: r.try_get(20)?,
        event_account: r.try_get(21)?,
    }
    .into_message())
}

/// The first `$3` messages for user `$1` with ids above `$2`, in id order: the first page of each
/// source (private to them, private from them, each of their groups from when they joined), merged.
/// One statement, so one snapshot: no message committed meanwhile can be skipped.
const MESSAGES_AFTER: &str = "WITH page AS ( \
     SELECT id FROM ( \
       (SELECT id FROM messages WHERE kind = 0 AND target = $1 AND id > $2 AND NOT hidden \
        ORDER BY id LIMIT $3) \
       UNION \
       (SELECT id FROM messages WHERE kind = 0 AND sender_id = $1 AND id > $2 ORDER BY id LIMIT $3) \
       UNION \
       (SELECT x.id FROM members g CROSS JOIN LATERAL \
          (SELECT id FROM messages WHERE kind = 1 AND conv = g.group_id \
           AND id > GREATEST($2, g.since_msg) ORDER BY id LIMIT $3) x \
        WHERE g.user_id = $1) \
     ) ids ORDER BY id LIMIT $3) ";

/// What the inserts of one transaction share: account names looked up so far, and the last message id
/// given out, read from the locked counter row.
struct Batch {
    accounts: HashMap<UserId, String>,
    last_id: i64,
    /// The writing handle's `origin`.
    origin: i64,
}

impl Batch {
    /// Locks the counter row until the transaction ends (see the module's docs).
    fn start(tx: &mut Transaction<'_>, origin: i64) -> Result<Self, StoreError> {
        Ok(Batch {
            accounts: HashMap::new(),
            origin,
            last_id: tx
                .query_one("SELECT last FROM message_ids FOR UPDATE", &[])?
                .try_get(0)?,
        })
    }

    /// Writes the counter back; the last thing before the commit.
    fn finish(self, tx: &mut Transaction<'_>) -> Result<(), StoreError> {
        tx.execute("UPDATE message_ids SET last = $1", &[&self.last_id])?;
        Ok(())
    }

    /// A user's account name, looked up once per batch.
    fn account(
        &mut self,
        client: &mut impl GenericClient,
        user: UserId,
    ) -> Result<String, StoreError> {
        if let Some(account) = self.accounts.get(&user) {
            return Ok(account.clone());
        }
        let account: String = client
            .query_one("SELECT account FROM users WHERE id = $1", &[&user])?
            .try_get(0)?;
        self.accounts.insert(user, account.clone());
        Ok(account)
    }
}

/// Inserts one message (or finds the first copy of a resend) inside the batch's transaction.
fn insert_message(
    tx: &mut Transaction<'_>,
    insert: &postgres::Statement,
    msg: &NewMessage,
    ctx: &mut Batch,
) -> Result<Stored, StoreError> {
    let c = MessageColumns::of(msg);
    let file = c.file;
    let id = ctx.last_id + 1;
    let inserted = tx.execute(
        insert,
        &[
            &id,
            &msg.sender,
            &c.kind,
            &c.target,
            &c.conv,
            &(msg.time as i64),
            &msg.client_id,
            &c.text,
            &file.map(|f| f.file_id as i64),
            &file.map(|f| f.size as i64),
            &file.map(|f| f.sha256.as_str()),
            &file.map(|f| f.name.as_str()),
            &c.reply_to,
            &c.mentions,
            &c.recall_of,
            &c.event,
            &c.event_account,
            &msg.hidden,
            &ctx.origin,
        ],
    )?;
    if inserted == 0 {
        // A resend: the answer is the first copy, as stored.
        let row = tx.query_one(
            &format!(
                "{} WHERE m.sender_id = $1 AND m.client_id = $2",
                message_select()
            ),
            &[&msg.sender, &msg.client_id],
        )?;
        return Ok(Stored {
            message: message_from_row(&row)?,
            duplicate: true,
        });
    }
    ctx.last_id = id;
    let to = match msg.to {
        Target::User(to) => Conv::User(ctx.account(tx, to)?),
        Target::Group(g) => Conv::Group(g as u64),
    };
    Ok(Stored {
        message: StoredMessage {
            id: id as u64,
            from: ctx.account(tx, msg.sender)?,
            to,
            time: msg.time,
            client_id: msg.client_id.clone(),
            body: msg.body.clone(),
        },
        duplicate: false,
    })
}

const INSERT: &str = "INSERT INTO messages (id, sender_id, kind, target, conv, time, client_id, text, \
     file_id, file_size, file_sha256, file_name, reply_to, mentions, recall_of, event, event_account, \
     hidden, origin) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
     $17, $18, $19) \
     ON CONFLICT (client_id, sender_id) DO NOTHING";

/// Stores `batch` in one transaction, ids from the locked counter.
fn commit(
    client: &mut postgres::Client,
    batch: &[NewMessage],
    origin: i64,
) -> Result<Vec<Stored>, StoreError> {
    let mut tx = client.transaction()?;
    let insert = tx.prepare(INSERT)?;
    let mut ctx = Batch::start(&mut tx, origin)?;
    let stored = batch
        .iter()
        .map(|m| insert_message(&mut tx, &insert, m, &mut ctx))
        .collect::<Result<Vec<_>, _>>()?;
    ctx.finish(&mut tx)?;
    tx.commit()?;
    Ok(stored)
}

impl MessageStore for PgStore {
    fn store_message(&self, msg: &NewMessage) -> Result<Stored, StoreError> {
        let mut stored = commit(&mut *self.conn()?, std::slice::from_ref(msg), self.origin)?;
        stored.pop().ok_or(StoreError::Conflict)
    }

    fn store_messages(&self, batch: &[NewMessage]) -> Vec<Result<Stored, StoreError>> {
        match self.conn() {
            Ok(mut conn) => batch_or_each(
                &mut *conn,
                batch,
                |c| commit(c, batch, self.origin),
                |c, m| {
                    commit(c, std::slice::from_ref(m), self.origin)?
                        .pop()
                        .ok_or(StoreError::Conflict)
                },
            ),
            Err(e) => {
                let e = e.to_string();
                batch
                    .iter()
                    .map(|_| Err(StoreError::PostgresPool(e.clone())))
                    .collect()
            }
        }
    }

    fn messages_after(
        &self,
        user: UserId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let rows = self.conn()?.query(
            &format!(
                "{MESSAGES_AFTER} SELECT {} FROM page p JOIN messages m ON m.id = p.id {} ORDER BY m.id",
                crate::storage::messages::MESSAGE_COLS,
                crate::storage::messages::MESSAGE_JOINS
            ),
            &[&user, &id_bound(after), &i64::from(limit)],
        )?;
        all(rows, message_from_row)
    }

    fn committed(&self, after: u64, limit: u32) -> Result<Vec<Committed>, StoreError> {
        let rows = self.conn()?.query(
            &committed_select('$', true),
            &[&id_bound(after), &i64::from(limit)],
        )?;
        all(rows, |r| {
            Ok(Committed {
                to: target_of(r.try_get::<_, i16>(2)?.into(), r.try_get(3)?),
                sender: r.try_get(22)?,
                hidden: r.try_get(23)?,
                mine: r.try_get::<_, Option<i64>>(24)? == Some(self.origin),
                message: message_from_row(r)?,
            })
        })
    }

    fn newest_message_id(&self) -> Result<u64, StoreError> {
        let last: i64 = self
            .conn()?
            .query_one("SELECT last FROM message_ids", &[])?
            .try_get(0)?;
        Ok(last as u64)
    }

    fn history(
        &self,
        user: UserId,
        with: Target,
        before: u64,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let before = if before == 0 {
            i64::MAX
        } else {
            id_bound(before)
        };
        let limit = i64::from(limit);
        let rows = match with {
            Target::User(peer) => self.conn()?.query(
                &format!(
                    "{} WHERE m.kind = 0 AND m.conv = $1 AND m.id < $2 \
                     AND (NOT m.hidden OR m.sender_id = $4) ORDER BY m.id DESC LIMIT $3",
                    message_select()
                ),
                &[&pair_key(user, peer), &before, &limit, &user],
            )?,
            Target::Group(group) => self.conn()?.query(
                &format!(
                    "{} WHERE m.kind = 1 AND m.conv = $1 AND m.id < $2 \
                     AND m.id > COALESCE((SELECT since_msg FROM members \
                         WHERE group_id = $1 AND user_id = $4), 9223372036854775807) \
                     ORDER BY m.id DESC LIMIT $3",
                    message_select()
                ),
                &[&group, &before, &limit, &user],
            )?,
        };
        all(rows, message_from_row)
    }

    fn visible_message(&self, user: UserId, id: u64) -> Result<Option<MessageRef>, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        let mut conn = self.conn()?;
        // Visible: a private message to or from them (not one hidden from them), or one of a group
        // they are in sent after they joined; never a recalled one.
        let row = conn.query_opt(
            "SELECT m.sender_id, s.account, m.kind, m.target, m.conv, m.time, m.text, m.file_id, \
             m.file_sha256, m.file_name, m.recall_of, m.event, m.hidden \
             FROM messages m JOIN users s ON s.id = m.sender_id \
             WHERE m.id = $1 AND NOT m.recalled AND CASE WHEN m.kind = 0 \
                 THEN m.sender_id = $2 OR (m.target = $2 AND NOT m.hidden) \
                 ELSE EXISTS (SELECT 1 FROM members WHERE group_id = m.conv AND user_id = $2 \
                     AND since_msg < m.id) END",
            &[&id, &user],
        )?;
        let Some(r) = row else {
            return Ok(None);
        };
        let kind: i16 = r.try_get(2)?;
        let text: Option<String> = r.try_get(6)?;
        let file_id: Option<i64> = r.try_get(7)?;
        let sha: Option<String> = r.try_get(8)?;
        let name: Option<String> = r.try_get(9)?;
        Ok(Some(MessageRef {
            id: id as u64,
            sender: r.try_get(0)?,
            from: r.try_get(1)?,
            to: if kind == 0 {
                Target::User(r.try_get(3)?)
            } else {
                Target::Group(r.try_get(4)?)
            },
            time: r.try_get::<_, i64>(5)? as Millis,
            excerpt: quoted(text.as_deref(), name.as_deref()),
            file: file_id.map(|f| (f as u64, sha.unwrap_or_default())),
            // A group event is neither quoted nor recalled either: it is the group's.
            is_recall: r.try_get::<_, Option<i64>>(10)?.is_some()
                || r.try_get::<_, Option<String>>(11)?.is_some(),
            hidden: r.try_get(12)?,
        }))
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
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // The message's row is locked first, so of two recalls at once the second finds it recalled.
        let row = tx.query_opt(
            "SELECT sender_id, kind, target, conv, hidden FROM messages \
             WHERE id = $1 AND NOT recalled AND recall_of IS NULL FOR UPDATE",
            &[&target],
        )?;
        let Some(r) = row else {
            return Ok(None);
        };
        let sender: UserId = r.try_get(0)?;
        let kind: i16 = r.try_get(1)?;
        let to: i64 = r.try_get(2)?;
        let conv: i64 = r.try_get(3)?;
        let hidden: bool = r.try_get(4)?;
        // The recall goes to the other side of a private conversation from the one recalling it, so
        // it is found where that conversation's messages are.
        let recall_to = if kind == 0 && by != sender {
            sender
        } else {
            to
        };
        tx.execute(
            "UPDATE messages SET text = NULL, file_id = NULL, file_size = NULL, file_sha256 = NULL, \
             file_name = NULL, reply_to = NULL, mentions = NULL, recalled = TRUE WHERE id = $1",
            &[&target],
        )?;
        let mut ctx = Batch::start(&mut tx, self.origin)?;
        let id = ctx.last_id + 1;
        let client_id = format!("recall-{target}");
        // The recall of a message hidden from its recipient is hidden from them too.
        tx.execute(
            "INSERT INTO messages (id, sender_id, kind, target, conv, time, client_id, recall_of, \
             hidden, origin) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &id,
                &by,
                &kind,
                &recall_to,
                &conv,
                &(time as i64),
                &client_id,
                &target,
                &hidden,
                &ctx.origin,
            ],
        )?;
        let to = if kind == 0 {
            Conv::User(ctx.account(&mut tx, recall_to)?)
        } else {
            Conv::Group(conv as u64)
        };
        let message = StoredMessage {
            id: id as u64,
            from: ctx.account(&mut tx, by)?,
            to,
            time,
            client_id,
            body: Body::Recall {
                target: target as u64,
                target_from: ctx.account(&mut tx, sender)?,
            },
        };
        ctx.last_id = id;
        ctx.finish(&mut tx)?;
        tx.commit()?;
        Ok(Some(message))
    }

    fn set_read(&self, user: UserId, conv: Target, up_to: u64) -> Result<bool, StoreError> {
        let (kind, key): (i16, i64) = match conv {
            Target::User(peer) => (0, peer),
            Target::Group(group) => (1, group),
        };
        let changed = self.conn()?.execute(
            "INSERT INTO reads (user_id, kind, conv, up_to) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, kind, conv) DO UPDATE SET up_to = excluded.up_to \
             WHERE excluded.up_to > reads.up_to",
            &[&user, &kind, &key, &id_bound(up_to)],
        )?;
        Ok(changed > 0)
    }

    fn reads(&self, user: UserId) -> Result<Vec<(Conv, u64)>, StoreError> {
        // A friend's account deleted since has nothing to name it by, and is left out.
        let rows = self.conn()?.query(
            "SELECT r.kind, r.conv, u.account, r.up_to FROM reads r \
             LEFT JOIN users u ON r.kind = 0 AND u.id = r.conv \
             WHERE r.user_id = $1 AND (r.kind != 0 OR u.account IS NOT NULL) \
             ORDER BY r.kind, r.conv",
            &[&user],
        )?;
        all(rows, |r| {
            let conv = if r.try_get::<_, i16>(0)? == 0 {
                Conv::User(r.try_get::<_, Option<String>>(2)?.unwrap_or_default())
            } else {
                Conv::Group(r.try_get::<_, i64>(1)? as u64)
            };
            Ok((conv, r.try_get::<_, i64>(3)? as u64))
        })
    }
}
