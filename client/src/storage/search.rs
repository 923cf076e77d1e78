//! Full-text search over the local history, newest first.
//!
//! Two indexes answer a query (see migrations 1 and 3 in `schema.rs`):
//! - `messages_fts`, trigrams of the text, for terms of three characters or more;
//! - `messages_grams`, every character and every pair of adjacent characters as one token, for shorter
//!   terms (a two-character Chinese word, a single character, "hi").
//!
//! Each index gives the local ids of its matches in descending order, a batch at a time, with the bound and
//! the limit inside the index query (`messages_grams` stores the ids negated, so that is its cheap,
//! ascending direction). A query with terms of both kinds walks the trigram matches and checks the short
//! terms in each candidate's text; after a run of misses the character index says where the next message
//! with them is, and the walk jumps there. Ids grow with arrival, so the walk meets the newest messages
//! first; "newest" is by time, though, and times need not follow ids (a history page brings old messages
//! late), so the walk keeps the best `limit` by `(time, id)` and stops only once `message_time_bounds` says
//! no message with a smaller id is newer than the oldest of them. For the usual history (ids in time order)
//! that is within one block of 256 ids past the last result, so the cost follows the number of results,
//! not the number of matches.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ququ_protocol::{Conv, Millis};
use rusqlite::{CachedStatement, Connection, OptionalExtension, params};

use super::{MESSAGE_COLUMNS, Storage, StorageError, conv_key, message_from_row};
use crate::event::Message;

/// What a search keeps to (the history window's scope and dates): one conversation or all of them, and
/// the messages from `since` (inclusive) to `until` (exclusive), in milliseconds since the epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    pub conv: Option<Conv>,
    pub since: Option<Millis>,
    pub until: Option<Millis>,
}

impl SearchFilter {
    fn takes_time(&self, time: i64) -> bool {
        self.since.is_none_or(|s| time >= s as i64) && self.until.is_none_or(|u| time < u as i64)
    }
}

/// Terms shorter than this go to `messages_grams`; the trigram index has nothing shorter.
const TRIGRAM: usize = 3;

/// With terms of both kinds, how many trigram matches in a row may lack the short terms before the walk
/// asks the character index where the next message with them is.
const JUMP_AFTER_MISSES: u32 = 16;

/// `message_time_bounds` keeps one row per `id >> TIME_BLOCK_SHIFT` (the shift in migration 3's SQL).
const TIME_BLOCK_SHIFT: u32 = 8;

/// Case folding for the character index: a character's lowercase if that is one character (Latin, Greek,
/// Cyrillic…; the trigram index folds the same scripts), else the character itself. Public so that what
/// shows a match (the history window's marks) folds exactly as the search did.
pub fn fold(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// The token for one or two (folded) characters: their UTF-8 bytes in lowercase hex. UTF-8 is a prefix
/// code, so different strings never share a token, and the `ascii` tokenizer reads the token whole whatever
/// the characters were (`%`, `"`, `*`, 中).
fn push_token(out: &mut String, chars: &[char]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 4];
    for c in chars {
        for b in c.encode_utf8(&mut buf).bytes() {
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// What `messages_grams` indexes for a text: each character and each adjacent pair, skipping whitespace
/// (a query term never contains any), each once, separated by spaces.
pub(super) fn grams(text: &str) -> String {
    let chars: Vec<char> = text.chars().map(fold).collect();
    let mut grams: Vec<(char, Option<char>)> = Vec::with_capacity(chars.len() * 2);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_whitespace() {
            continue;
        }
        grams.push((c, None));
        if let Some(&next) = chars.get(i + 1)
            && !next.is_whitespace()
        {
            grams.push((c, Some(next)));
        }
    }
    grams.sort_unstable();
    grams.dedup();
    let mut out = String::with_capacity(grams.len() * 10);
    for (a, b) in grams {
        if !out.is_empty() {
            out.push(' ');
        }
        match b {
            Some(b) => push_token(&mut out, &[a, b]),
            None => push_token(&mut out, &[a]),
        }
    }
    out
}

/// Adds a newly stored message to `messages_grams` (the trigram index has its own triggers).
pub(super) fn index_message(conn: &Connection, id: i64, text: &str) -> Result<(), StorageError> {
    conn.prepare_cached("INSERT INTO messages_grams (rowid, grams) VALUES (-?1, ?2)")?
        .execute(params![id, grams(text)])?;
    Ok(())
}

/// Indexes every stored message in `messages_grams` from scratch: migration 3 for the messages an older
/// version stored, and [`Storage::rebuild_search_index`].
pub(super) fn fill_grams(conn: &Connection) -> Result<(), StorageError> {
    conn.execute(
        "INSERT INTO messages_grams (messages_grams) VALUES ('delete-all')",
        [],
    )?;
    // Newest first, so the negated rowids ascend: FTS5 starts a new segment whenever a rowid is smaller
    // than the one before, which in id order would be every message.
    let mut select = conn.prepare("SELECT id, text FROM messages ORDER BY id DESC")?;
    let mut insert = conn.prepare("INSERT INTO messages_grams (rowid, grams) VALUES (-?1, ?2)")?;
    let mut rows = select.query([])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let text: String = row.get(1)?;
        insert.execute(params![id, grams(&text)])?;
    }
    Ok(())
}

/// Quotes a string as one FTS5 phrase, so the query syntax characters in it are plain text.
fn phrase(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The ids matching one FTS5 query, walked in descending order with seeks: a buffer of consecutive
/// matches, refilled from the index with `rowid <= target`.
struct Matches<'c> {
    stmt: CachedStatement<'c>,
    expr: String,
    /// Every match in `[low, high]`, descending; `low` is the last element, or `i64::MIN` once the
    /// index has nothing below it.
    buf: Vec<i64>,
    high: i64,
    exhausted: bool,
    /// Where the last answer was in `buf`, to tell a steady walk (grow the batch) from a jump (do not).
    at: usize,
    batch: usize,
}

impl<'c> Matches<'c> {
    const FIRST_BATCH: usize = 32;
    const MAX_BATCH: usize = 2048;

    /// `sql` takes the query (`?1`), the greatest id wanted (`?2`) and how many (`?3`), and gives ids in
    /// descending order.
    fn new(conn: &'c Connection, sql: &str, expr: String) -> Result<Self, StorageError> {
        let stmt = conn.prepare_cached(sql)?;
        Ok(Matches {
            stmt,
            expr,
            buf: Vec::new(),
            high: i64::MIN,
            exhausted: false,
            at: 0,
            batch: Self::FIRST_BATCH,
        })
    }

    /// The greatest matching id `<= target`, if any.
    fn seek(&mut self, target: i64) -> Result<Option<i64>, StorageError> {
        let low = if self.exhausted {
            i64::MIN
        } else {
            self.buf.last().copied().unwrap_or(i64::MAX)
        };
        if target > self.high || target < low {
            let steady = !self.buf.is_empty() && self.at + 1 == self.buf.len();
            self.batch = if steady {
                (self.batch * 2).min(Self::MAX_BATCH)
            } else {
                Self::FIRST_BATCH
            };
            let batch = self.batch as i64;
            self.buf.clear();
            let rows = self
                .stmt
                .query_map(params![self.expr, target, batch], |r| r.get::<_, i64>(0))?;
            for id in rows {
                self.buf.push(id?);
            }
            self.high = target;
            self.exhausted = self.buf.len() < self.batch;
        }
        self.at = self.buf.partition_point(|&id| id > target);
        Ok(self.buf.get(self.at).copied())
    }
}

/// The best `limit` (time, id) pairs seen, and the worst of them.
struct Newest {
    limit: usize,
    heap: BinaryHeap<Reverse<(i64, i64)>>,
}

impl Newest {
    fn full(&self) -> bool {
        self.heap.len() >= self.limit
    }

    fn worst_time(&self) -> Option<i64> {
        self.heap.peek().map(|Reverse((time, _))| *time)
    }

    fn offer(&mut self, time: i64, id: i64) {
        if !self.full() {
            self.heap.push(Reverse((time, id)));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && (time, id) > worst.0
        {
            *worst = Reverse((time, id));
        }
    }
}

/// The messages containing every one of `terms` (folded, one or two characters each), from the character
/// index. Its rowids are the ids negated, so newest first is ascending there.
fn grams_matches<'c>(conn: &'c Connection, terms: &[String]) -> Result<Matches<'c>, StorageError> {
    let tokens = terms
        .iter()
        .map(|t| {
            let chars: Vec<char> = t.chars().collect();
            let mut token = String::new();
            push_token(&mut token, &chars);
            token
        })
        .collect::<Vec<_>>();
    Matches::new(
        conn,
        "SELECT -rowid FROM messages_grams WHERE messages_grams MATCH ?1 AND rowid >= -?2
         ORDER BY rowid LIMIT ?3",
        tokens.join(" AND "),
    )
}

impl Storage {
    /// Messages whose text contains every whitespace-separated term of `query` (case-insensitively for
    /// letters with a one-letter lowercase), the newest `limit` by time, newest first.
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<Message>, StorageError> {
        self.search_in(query, &SearchFilter::default(), limit)
    }

    /// [`Storage::search`] within `filter`: one conversation, a span of time. A file message is found by
    /// its file's name (its text). With no terms in `query` there is nothing to search for and nothing
    /// is found; [`Storage::browse`] lists a conversation instead.
    pub fn search_in(
        &self,
        query: &str,
        filter: &SearchFilter,
        limit: u32,
    ) -> Result<Vec<Message>, StorageError> {
        let terms: Vec<&str> = query.split_whitespace().collect();
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let conv = filter.conv.as_ref().map(conv_key);
        let (long, short): (Vec<&str>, Vec<&str>) = terms
            .into_iter()
            .partition(|t| t.chars().count() >= TRIGRAM);
        let short: Vec<String> = short
            .iter()
            .map(|t| t.chars().map(fold).collect())
            .collect();
        // The walk follows one index. With terms of both kinds it is the trigram index, and each of its
        // matches is checked for the short terms in its text (which says exactly what `messages_grams`
        // would); after a run of misses the character index jumps the walk to the next id that has them.
        let (mut walk, mut jump) = if long.is_empty() {
            (grams_matches(&self.conn, &short)?, None)
        } else {
            let expr = long.iter().map(|t| phrase(t)).collect::<Vec<_>>();
            let trigrams = Matches::new(
                &self.conn,
                "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 AND rowid <= ?2
                 ORDER BY rowid DESC LIMIT ?3",
                expr.join(" AND "),
            )?;
            let jump = if short.is_empty() {
                None
            } else {
                Some(grams_matches(&self.conn, &short)?)
            };
            (trigrams, jump)
        };
        let check = jump.is_some();

        let mut row_of = self
            .conn
            .prepare_cached("SELECT time, text, kind, peer FROM messages WHERE id = ?1")?;
        let mut bound_of = self.conn.prepare_cached(
            "SELECT newest FROM message_time_bounds WHERE block <= ?1 ORDER BY block DESC LIMIT 1",
        )?;
        let mut bound: Option<(i64, Option<i64>)> = None;
        let mut newest = Newest {
            limit: limit as usize,
            heap: BinaryHeap::new(),
        };
        let mut misses = 0;
        let mut target = i64::MAX;
        while let Some(id) = walk.seek(target)? {
            if newest.full() || filter.since.is_some() {
                // Nothing at or below this id is newer than the newest bound of its block and the blocks
                // below; the ids already kept are all greater, so a tie in time cannot win either. Nor
                // can anything there be in a span that starts after that bound.
                let block = id >> TIME_BLOCK_SHIFT;
                let newest_below = match bound {
                    Some((b, t)) if b == block => t,
                    _ => {
                        let t = bound_of
                            .query_row([block], |r| r.get::<_, i64>(0))
                            .optional()?;
                        bound = Some((block, t));
                        t
                    }
                };
                // No bound (a block row missing) proves nothing: walk on.
                if let (Some(t), Some(worst)) = (newest_below, newest.worst_time())
                    && t <= worst
                    && newest.full()
                {
                    break;
                }
                if let (Some(t), Some(since)) = (newest_below, filter.since)
                    && t < since as i64
                {
                    break;
                }
            }
            target = id - 1;
            let row = row_of
                .query_row([id], |r| {
                    let here = match &conv {
                        Some((kind, peer)) => {
                            r.get::<_, String>(2)? == *kind && r.get::<_, String>(3)? == *peer
                        }
                        None => true,
                    };
                    Ok((
                        r.get::<_, i64>(0)?,
                        if check {
                            Some(r.get::<_, String>(1)?)
                        } else {
                            None
                        },
                        here,
                    ))
                })
                .optional()?;
            let Some((time, text, here)) = row else {
                continue;
            };
            // Out of the filter counts as neither a hit nor a miss: the character index cannot say
            // where the next message of this conversation is.
            if !here || !filter.takes_time(time) {
                continue;
            }
            let matches = text.is_none_or(|text| {
                let text: String = text.chars().map(fold).collect();
                short.iter().all(|t| text.contains(t.as_str()))
            });
            if matches {
                newest.offer(time, id);
                misses = 0;
            } else if let Some(jump) = jump.as_mut() {
                misses += 1;
                if misses == JUMP_AFTER_MISSES {
                    misses = 0;
                    match jump.seek(target)? {
                        Some(next) => target = next,
                        None => break,
                    }
                }
            }
        }
        let mut found = newest.heap.into_vec();
        found.sort_unstable();
        let mut row = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"
        ))?;
        let mut out = Vec::with_capacity(found.len());
        for Reverse((_, id)) in found {
            if let Some(m) = row.query_row([id], message_from_row).optional()? {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// A conversation's messages within `filter`'s span, oldest first, for reading rather than searching:
    /// the first `limit` from `since` when only `since` is given (a day picked to read from), else the
    /// last `limit` before `until` (or the newest). `filter.conv` must be set; without it nothing is
    /// listed (all conversations at once is not a history to read).
    pub fn browse(&self, filter: &SearchFilter, limit: u32) -> Result<Vec<Message>, StorageError> {
        let Some(conv) = &filter.conv else {
            return Ok(Vec::new());
        };
        let (kind, peer) = conv_key(conv);
        let since = filter.since.map(|t| t as i64);
        let until = filter.until.map(|t| t as i64);
        let forward = since.is_some() && until.is_none();
        let order = if forward { "ASC" } else { "DESC" };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE kind = ?1 AND peer = ?2 AND (?3 IS NULL OR time >= ?3) AND (?4 IS NULL OR time < ?4)
             ORDER BY time {order}, id {order} LIMIT ?5"
        ))?;
        let mut rows = stmt
            .query_map(params![kind, peer, since, until, limit], message_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        if !forward {
            rows.reverse();
        }
        Ok(rows)
    }

    /// Rebuilds the index of one- and two-character terms from the stored messages, in one transaction:
    /// what the upgrade to schema 3 does for the messages already there. Only needed for messages written
    /// with plain SQL rather than through `Storage` (the benchmarks' fixture does that).
    pub fn rebuild_search_index(&mut self) -> Result<(), StorageError> {
        let tx = self.conn.transaction()?;
        fill_grams(&tx)?;
        tx.commit()?;
        Ok(())
    }
}
