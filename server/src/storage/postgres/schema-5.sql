-- Version 5 (issue 26), files on any node: a transfer token's grant and an upload's claim on a file's
-- partial bytes are kept here, not in one server's memory, so a data connection may go to any node.
CREATE TABLE transfer_grants (
    -- The SHA-256 of the token; the token itself is the client's alone.
    token_hash TEXT PRIMARY KEY,
    file_id    BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    put        BOOLEAN NOT NULL,
    expires    BIGINT NOT NULL
);
CREATE INDEX transfer_grants_expires ON transfer_grants (expires);
CREATE TABLE upload_claims (
    file_id BIGINT PRIMARY KEY,
    writer  BIGINT NOT NULL
);
