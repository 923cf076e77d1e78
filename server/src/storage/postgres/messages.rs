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

use postgres::{GenericClient, Row, Statement, Transaction};
use r2d2_postgres::r2d2::{ManageConnection, PooledConnection};

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

/// What a recall's transaction uses (a batch of new messages is one statement, [`INSERT`]): account names
/// looked up so far, and the last message id given out, read from the locked counter row.
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

/// The commit path's statements, prepared once per pooled connection and kept with it (r2d2's
/// per-connection extensions): a statement given as text is parsed and described in a round trip of its
/// own before every run, and the connections are reused for the life of the pool.
#[derive(Clone)]
struct Prepared {
    lock: Statement,
    insert: Statement,
}

impl Prepared {
    /// `conn`'s statements, prepared on its first commit.
    fn of<M>(conn: &mut PooledConnection<M>) -> Result<Self, StoreError>
    where
        M: ManageConnection<Connection = postgres::Client>,
    {
        if let Some(prepared) = PooledConnection::extensions(conn).get::<Prepared>() {
            return Ok(prepared.clone());
        }
        let prepared = Prepared {
            lock: conn.prepare(LOCK)?,
            insert: conn.prepare(INSERT)?,
        };
        PooledConnection::extensions_mut(conn).insert(prepared.clone());
        Ok(prepared)
    }
}

/// Locks the counter row until the transaction ends (see the module's docs). A statement of its own, before
/// [`INSERT`]: once the lock is granted (after the previous writer's commit), the next statement's snapshot
/// sees that writer's messages, so the resends among them are found.
const LOCK: &str = "SELECT last FROM message_ids FOR UPDATE";

/// A whole batch in one statement: `$1` the counter as locked, `$2`…`$18` one array per column (a message
/// per element, in batch order), `$19` the origin. A message whose (sender, client id) is stored already,
/// or came earlier in the batch, is a resend and is left out; the others get the next ids in batch order
/// and the counter moves past them. Returns, for each message stored, its place in the batch (from 1), its
/// id and the account names of its sender and (private) recipient.
///
/// One round trip per batch instead of one INSERT per message (and one lookup per account): a batch is
/// BEGIN, [`LOCK`], this, COMMIT. Measured with `ququ-bench` on one PostgreSQL, old and new server
/// alternating, four rounds on a 2-core machine under other load: the fan-out's median went from 0.79M
/// to 0.88M deliveries/s (p50 latency lower in every round: median 8.4 to 5.9 ms), `direct` from 10.5k
/// to 13.3k. What went is the per-message round trip; PostgreSQL's own work per row (the heap and four
/// indexes) stays, and on that machine shares a core with the server's fan-out.
/// No `ON CONFLICT`: every writer of messages holds the counter's lock, so the `NOT EXISTS` is exact, and
/// skipping a row here would leave a hole in the ids.
const INSERT: &str = "WITH batch AS ( \
       SELECT DISTINCT ON (x.sender_id, x.client_id) x.* \
       FROM UNNEST($2::bigint[], $3::smallint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], \
         $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::bigint[], $14::text[], \
         $15::bigint[], $16::text[], $17::text[], $18::boolean[]) \
         WITH ORDINALITY AS x(sender_id, kind, target, conv, time, client_id, text, file_id, file_size, \
           file_sha256, file_name, reply_to, mentions, recall_of, event, event_account, hidden, ord) \
       WHERE NOT EXISTS (SELECT 1 FROM messages m \
         WHERE m.client_id = x.client_id AND m.sender_id = x.sender_id) \
       ORDER BY x.sender_id, x.client_id, x.ord), \
     numbered AS (SELECT $1::bigint + row_number() OVER (ORDER BY b.ord) AS id, b.* FROM batch b), \
     inserted AS (INSERT INTO messages (id, sender_id, kind, target, conv, time, client_id, text, \
       file_id, file_size, file_sha256, file_name, reply_to, mentions, recall_of, event, event_account, \
       hidden, origin) \
       SELECT n.id, n.sender_id, n.kind, n.target, n.conv, n.time, n.client_id, n.text, n.file_id, \
         n.file_size, n.file_sha256, n.file_name, n.reply_to, n.mentions, n.recall_of, n.event, \
         n.event_account, n.hidden, $19 FROM numbered n), \
     counter AS (UPDATE message_ids SET last = $1::bigint + (SELECT count(*) FROM numbered)) \
     SELECT n.ord, n.id, s.account, t.account FROM numbered n \
     LEFT JOIN users s ON s.id = n.sender_id \
     LEFT JOIN users t ON n.kind = 0 AND t.id = n.target";

/// A user's account name, where the batch's statement found none: fails as the lookup always has.
fn account(
    tx: &mut Transaction<'_>,
    user: UserId,
    found: Option<String>,
) -> Result<String, StoreError> {
    match found {
        Some(account) => Ok(account),
        None => Ok(tx
            .query_one("SELECT account FROM users WHERE id = $1", &[&user])?
            .try_get(0)?),
    }
}

/// A message [`INSERT`] stored: its id, and its sender's and (private) recipient's account names.
#[derive(Clone)]
struct Inserted {
    id: i64,
    from: Option<String>,
    to: Option<String>,
}

/// Stores `batch` in one transaction, ids from the locked counter.
fn commit<M>(
    conn: &mut PooledConnection<M>,
    batch: &[NewMessage],
    origin: i64,
) -> Result<Vec<Stored>, StoreError>
where
    M: ManageConnection<Connection = postgres::Client>,
{
    let prepared = Prepared::of(conn)?;
    let cols: Vec<MessageColumns<'_>> = batch.iter().map(MessageColumns::of).collect();
    let files = || cols.iter().map(|c| c.file);
    let senders: Vec<i64> = batch.iter().map(|m| m.sender).collect();
    let kinds: Vec<i16> = cols.iter().map(|c| c.kind).collect();
    let targets: Vec<i64> = cols.iter().map(|c| c.target).collect();
    let convs: Vec<i64> = cols.iter().map(|c| c.conv).collect();
    let times: Vec<i64> = batch.iter().map(|m| m.time as i64).collect();
    let client_ids: Vec<&str> = batch.iter().map(|m| m.client_id.as_str()).collect();
    let texts: Vec<Option<&str>> = cols.iter().map(|c| c.text).collect();
    let file_ids: Vec<Option<i64>> = files().map(|f| f.map(|f| f.file_id as i64)).collect();
    let file_sizes: Vec<Option<i64>> = files().map(|f| f.map(|f| f.size as i64)).collect();
    let file_shas: Vec<Option<&str>> = files().map(|f| f.map(|f| f.sha256.as_str())).collect();
    let file_names: Vec<Option<&str>> = files().map(|f| f.map(|f| f.name.as_str())).collect();
    let reply_tos: Vec<Option<i64>> = cols.iter().map(|c| c.reply_to).collect();
    let mentions: Vec<Option<&str>> = cols.iter().map(|c| c.mentions.as_deref()).collect();
    let recall_ofs: Vec<Option<i64>> = cols.iter().map(|c| c.recall_of).collect();
    let events: Vec<Option<&str>> = cols.iter().map(|c| c.event).collect();
    let event_accounts: Vec<Option<&str>> = cols.iter().map(|c| c.event_account).collect();
    let hidden: Vec<bool> = batch.iter().map(|m| m.hidden).collect();

    let mut tx = conn.transaction()?;
    let last: i64 = tx.query_one(&prepared.lock, &[])?.try_get(0)?;
    let rows = tx.query(
        &prepared.insert,
        &[
            &last,
            &senders,
            &kinds,
            &targets,
            &convs,
            &times,
            &client_ids,
            &texts,
            &file_ids,
            &file_sizes,
            &file_shas,
            &file_names,
            &reply_tos,
            &mentions,
            &recall_ofs,
            &events,
            &event_accounts,
            &hidden,
            &origin,
        ],
    )?;
    // Each message stored, by its place in the batch; `None` for a resend.
    let mut new: Vec<Option<Inserted>> = vec![None; batch.len()];
    for r in &rows {
        let ord: i64 = r.try_get(0)?;
        let slot = usize::try_from(ord - 1)
            .ok()
            .and_then(|i| new.get_mut(i))
            .ok_or(StoreError::Conflict)?;
        *slot = Some(Inserted {
            id: r.try_get(1)?,
            from: r.try_get(2)?,
            to: r.try_get(3)?,
        });
    }
    let mut stored = Vec::with_capacity(batch.len());
    for (msg, new) in batch.iter().zip(new) {
        let Some(Inserted { id, from, to }) = new else {
            // A resend: the answer is the first copy, as stored (maybe earlier in this batch).
            let row = tx.query_one(
                &format!(
                    "{} WHERE m.sender_id = $1 AND m.client_id = $2",
                    message_select()
                ),
                &[&msg.sender, &msg.client_id],
            )?;
            stored.push(Stored {
                message: message_from_row(&row)?,
                duplicate: true,
            });
            continue;
        };
        let to = match msg.to {
            Target::User(user) => Conv::User(account(&mut tx, user, to)?),
            Target::Group(g) => Conv::Group(g as u64),
        };
        stored.push(Stored {
            message: StoredMessage {
                id: id as u64,
                from: account(&mut tx, msg.sender, from)?,
                to,
                time: msg.time,
                client_id: msg.client_id.clone(),
                body: msg.body.clone(),
            },
            duplicate: false,
        });
    }
    tx.commit()?;
    Ok(stored)
}

impl MessageStore for PgStore {
    fn store_message(&self, msg: &NewMessage) -> Result<Stored, StoreError> {
        let mut stored = commit(&mut self.conn()?, std::slice::from_ref(msg), self.origin)?;
        stored.pop().ok_or(StoreError::Conflict)
    }

    fn store_messages(&self, batch: &[NewMessage]) -> Vec<Result<Stored, StoreError>> {
        match self.conn() {
            Ok(mut conn) => batch_or_each(
                &mut conn,
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
