//! Versioned migrations, tracked in `PRAGMA user_version`. Each entry moves the schema one version up and runs
//! in its own transaction together with the version bump, so a crash mid-migration leaves the old version.
//! Never edit a shipped entry: append a new one.

/// Migration `i` takes the database from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: messages, conversations, contacts, groups, friend requests, settings; trigram full-text index.
    r#"
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
    "#,
    // 2: file messages (`FileTran:`) and file transfers. A file message's text is the file's name, so
    // search finds it; the file columns are NULL for every other message.
    r#"
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
    "#,
];

/// The global settings database, shared by every account in a data directory.
pub(super) const GLOBAL_MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    "#];
