-- Version 4 (issue 26), passing: what one node pushes to sessions the other nodes serve (storage/passing.rs).
-- Numbered in commit order under an advisory lock, read by each node from where it left off, kept a minute.
CREATE TABLE passed (
    seq      BIGSERIAL PRIMARY KEY,
    -- The passing store handle (PgStore's origin): a node skips its own lines and session ends.
    origin   BIGINT NOT NULL,
    at       BIGINT NOT NULL,
    -- 'lines', 'online', 'offline' or 'end'.
    kind     TEXT NOT NULL,
    users    BIGINT[] NOT NULL,
    -- Lines: the feature names the form depends on, joined by ','; and the forms, NULL for none.
    features TEXT NOT NULL DEFAULT '',
    lines    BYTEA[],
    -- End: the BYE code, and the newest login it ends.
    code     TEXT,
    before   BIGINT
);
CREATE INDEX passed_at ON passed (at);
