//! Versioned migrations, tracked in `PRAGMA user_version`. Each entry moves the schema one version up and runs
//! in its own transaction together with the version bump, so a crash mid-migration leaves the old version.
//! Never edit a shipped entry: append a new one.

use rusqlite::Connection;

use super::StorageError;

/// Rust that fills what a migration's SQL alone cannot, in the same transaction.
pub(super) type Fill = fn(&Connection) -> Result<(), StorageError>;

/// One schema step: SQL, then optionally a [`Fill`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Migration {
    pub sql: &'static str,
    pub fill: Option<Fill>,
}

const fn sql(sql: &'static str) -> Migration {
    Migration { sql, fill: None }
}

/// Migration `i` takes the database from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[Migration] = &[
    // 1: messages, conversations, contacts, groups, friend requests, settings; trigram full-text index.
    sql(r#"
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE conversations (
        kind   TEXT NOT NULL,              -- 'user' | 'group'
        peer   TEXT NOT NULL,              -- account, or group id in decimal
        unread INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (kind, peer)
    ) WITHOUT ROWID;

    CREATE TABLE messages (
        id        INTEGER PRIMARY KEY,     -- local id
        kind      TEXT NOT NULL,
        peer      TEXT NOT NULL,
        server_id INTEGER UNIQUE,          -- NULL while pending or failed
        client_id TEXT NOT NULL DEFAULT '',
        sender    TEXT NOT NULL,
        time      INTEGER NOT NULL,        -- ms since the epoch
        text      TEXT NOT NULL,
        state     INTEGER NOT NULL,        -- 0 pending, 1 sent, 2 failed, 3 received
        error     TEXT
    );
    CREATE INDEX messages_by_conv ON messages (kind, peer, time, id);
    CREATE INDEX messages_by_client ON messages (sender, client_id) WHERE client_id <> '';
    CREATE INDEX messages_pending ON messages (state) WHERE state = 0;

    CREATE TABLE contacts (
        account  TEXT PRIMARY KEY,
        nickname TEXT NOT NULL DEFAULT '',
        remark   TEXT NOT NULL DEFAULT '',
        presence TEXT NOT NULL DEFAULT 'offline',
        friend   INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;

    CREATE TABLE chat_groups (
        id      INTEGER PRIMARY KEY,
        name    TEXT NOT NULL,
        owner   TEXT NOT NULL,
        members INTEGER NOT NULL
    );

    CREATE TABLE friend_requests (
        account  TEXT PRIMARY KEY,
        nickname TEXT NOT NULL,
        note     TEXT NOT NULL,
        time     INTEGER NOT NULL
    ) WITHOUT ROWID;

    -- unicode61 would treat a run of Chinese as one token, so a two-character word inside a sentence could
    -- never match; trigram indexes every three-character window instead (shorter queries use LIKE).
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, content = 'messages', content_rowid = 'id', tokenize = 'trigram'
    );
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
    END;
    "#),
    // 2: file messages (`FileTran:`) and file transfers. A file message's text is the file's name, so
    // search finds it; the file columns are NULL for every other message.
    sql(r#"
    ALTER TABLE messages ADD COLUMN file_id INTEGER;
    ALTER TABLE messages ADD COLUMN file_size INTEGER;
    ALTER TABLE messages ADD COLUMN file_sha256 TEXT;
    ALTER TABLE messages ADD COLUMN file_name TEXT;
    CREATE INDEX messages_by_file ON messages (file_id) WHERE file_id IS NOT NULL;

    CREATE TABLE transfers (
        key       TEXT PRIMARY KEY,        -- 'u:<client_id>' for an upload, 'd:<file_id>' for a download
        kind      TEXT NOT NULL,           -- the conversation, as in messages
        peer      TEXT NOT NULL,
        file_id   INTEGER,                 -- the server's, once known
        name      TEXT NOT NULL,
        size      INTEGER NOT NULL,
        sha256    TEXT NOT NULL,           -- '' while an upload is being hashed
        path      TEXT NOT NULL,           -- upload: the source; download: the destination
        bytes     INTEGER NOT NULL DEFAULT 0,
        state     TEXT NOT NULL,
        error     TEXT
    );
    "#),
    // 3: search for one- and two-character terms, and newest-first search that stops early.
    //
    // `messages_grams` indexes every character and every pair of adjacent characters of a message (none
    // containing whitespace), each as one token: the UTF-8 bytes in hex, so the `ascii` tokenizer keeps
    // punctuation and CJK alike as whole tokens. A term of one or two characters is then one token lookup
    // instead of a `LIKE` over every row. Only rowids are kept (contentless, `detail=none`), and they are
    // the messages' ids negated: FTS5 walks a doclist forwards, from its smallest rowid, more cheaply than
    // backwards, and a search wants the newest first. The tokens are made in Rust (`search::grams`) when a
    // message is stored and, here, for every message already stored.
    // Deleting a message deletes its row; so does changing its text (which nothing does today; whoever
    // starts must index the new text).
    //
    // `message_time_bounds` lets a search walk the index newest id first and stop once no older id can be
    // newer in time: for each block of 256 ids (`id >> 8`) the greatest time of any message in that block
    // or below. Ids grow with arrival but times need not (history pages bring old messages late, an ACK
    // replaces a local time with the server's), so this is an upper bound kept by triggers; deletes leave
    // it high, which only makes a search walk a little further.
    Migration {
        sql: r#"
    CREATE VIRTUAL TABLE messages_grams USING fts5(
        grams, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
    );
    CREATE TRIGGER messages_grams_delete AFTER DELETE ON messages BEGIN
        DELETE FROM messages_grams WHERE rowid = -old.id;
    END;
    CREATE TRIGGER messages_grams_update AFTER UPDATE OF text ON messages BEGIN
        DELETE FROM messages_grams WHERE rowid = -old.id;
    END;

    CREATE TABLE message_time_bounds (
        block  INTEGER PRIMARY KEY,        -- id >> 8
        newest INTEGER NOT NULL            -- no message with id >> 8 <= block has a later time
    );
    INSERT INTO message_time_bounds (block, newest)
        SELECT block, max(newest) OVER (ORDER BY block)
        FROM (SELECT id >> 8 AS block, max(time) AS newest FROM messages GROUP BY id >> 8);
    CREATE TRIGGER message_time_bounds_insert AFTER INSERT ON messages BEGIN
        INSERT INTO message_time_bounds (block, newest)
            VALUES (new.id >> 8, max(new.time, coalesce((SELECT newest FROM message_time_bounds
                WHERE block < new.id >> 8 ORDER BY block DESC LIMIT 1), new.time)))
            ON CONFLICT (block) DO UPDATE SET newest = max(newest, excluded.newest);
        UPDATE message_time_bounds SET newest = new.time WHERE block > new.id >> 8 AND newest < new.time;
    END;
    CREATE TRIGGER message_time_bounds_update AFTER UPDATE OF time ON messages BEGIN
        INSERT INTO message_time_bounds (block, newest)
            VALUES (new.id >> 8, max(new.time, coalesce((SELECT newest FROM message_time_bounds
                WHERE block < new.id >> 8 ORDER BY block DESC LIMIT 1), new.time)))
            ON CONFLICT (block) DO UPDATE SET newest = max(newest, excluded.newest);
        UPDATE message_time_bounds SET newest = new.time WHERE block > new.id >> 8 AND newest < new.time;
    END;
    "#,
        fill: Some(super::search::fill_grams),
    },
    // 4: replies, mentions, recalls and read marks (`SAID:`, `RECALLED:`, `READ:`). A reply keeps its quote
    // as it came (the quoted message's server id, sender and the start of its text); `mentions` is the wire
    // field (`Mentions::to_field`). A recalled message keeps its row with an empty text and `recalled_by`;
    // a recall of a message this device never had is a row of its own with `recall_of` (and the recalled
    // message's sender in `recall_of_from`). `read_up_to` is the highest server id read in a conversation,
    // here or on another device.
    sql(r#"
    ALTER TABLE messages ADD COLUMN reply_id INTEGER;
    ALTER TABLE messages ADD COLUMN reply_from TEXT;
    ALTER TABLE messages ADD COLUMN reply_text TEXT;
    ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
    ALTER TABLE messages ADD COLUMN recalled_by TEXT;
    ALTER TABLE messages ADD COLUMN recall_of INTEGER;
    ALTER TABLE messages ADD COLUMN recall_of_from TEXT;
    CREATE INDEX messages_by_reply ON messages (reply_id) WHERE reply_id IS NOT NULL;
    ALTER TABLE conversations ADD COLUMN read_up_to INTEGER NOT NULL DEFAULT 0;
    "#),
    // 5: messages deleted on this device ("Delete for me"), by server id, so a sync or a history page
    // that brings one again does not put it back.
    sql(r#"
    CREATE TABLE deleted (server_id INTEGER PRIMARY KEY) WITHOUT ROWID;
    "#),
    // 6: a group's changes (`GROUP_EVENT:`) as rows of its history, between its messages in id order.
    // `event_kind` is the kind's wire word (`GroupEventKind::as_str`) and NULL for every other row;
    // `sender` is who made the change, `event_account` whom it concerns, `event_value` what it was changed
    // to. Their text is empty, so neither search index has anything of them.
    sql(r#"
    ALTER TABLE messages ADD COLUMN event_kind TEXT;
    ALTER TABLE messages ADD COLUMN event_account TEXT;
    ALTER TABLE messages ADD COLUMN event_value TEXT;
    "#),
    // 7: a contact's profile: signature (个性签名), gender (the wire word, '' for not said) and region.
    sql(r#"
    ALTER TABLE contacts ADD COLUMN signature TEXT NOT NULL DEFAULT '';
    ALTER TABLE contacts ADD COLUMN gender TEXT NOT NULL DEFAULT '';
    ALTER TABLE contacts ADD COLUMN region TEXT NOT NULL DEFAULT '';
    "#),
    // 8: friend groups (好友分组) as the server keeps them, in their order (`position`), and the group
    // each contact is in (0: the default group, which has no row).
    sql(r#"
    CREATE TABLE categories (
        id       INTEGER PRIMARY KEY,
        name     TEXT NOT NULL,
        position INTEGER NOT NULL
    );
    ALTER TABLE contacts ADD COLUMN category INTEGER NOT NULL DEFAULT 0;
    "#),
    // 9: avatars (头像) kept by the server: the pictures fetched, by SHA-256, and whose avatar is which
    // (`kind` and `key` as a conversation's: `user`/account or `group`/id). Not columns of `contacts` and
    // `groups`: a fellow member or a stranger asking to be a friend has one too. See `storage/avatars.rs`.
    sql(r#"
    CREATE TABLE avatars (
        sha256 TEXT PRIMARY KEY,
        bytes  BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE avatar_of (
        kind   TEXT NOT NULL,
        key    TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    ) WITHOUT ROWID;
    "#),
];

/// The global settings database, shared by every account in a data directory.
pub(super) const GLOBAL_MIGRATIONS: &[Migration] = &[sql(r#"
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    "#)];
