-- Version 2 (issue 26): nodes sharing the database, each with its own connection rows.

-- The serving nodes, by name. A node says it is alive every second (heartbeat, in milliseconds since
-- the epoch, the node's clock); one silent for longer than the limit is taken for dead by any live node,
-- which deletes its row and its connection rows.
CREATE TABLE nodes (
    name      TEXT PRIMARY KEY,
    started   BIGINT NOT NULL,
    heartbeat BIGINT NOT NULL
);

-- Each node's connections are its own: cleared at its start, its stop, or by whoever reaps it. The rows
-- there now are a version 1 server's, which has no node name: live rows only, which it could no longer
-- write on this schema either (stop the old server before starting the new one).
DELETE FROM connections;
ALTER TABLE connections ADD COLUMN node TEXT NOT NULL;
ALTER TABLE connections DROP CONSTRAINT connections_pkey;
ALTER TABLE connections ADD PRIMARY KEY (node, conn_id);
-- Who else is connected, when a node is reaped.
CREATE INDEX connections_user ON connections (user_id);

-- Session ends are read by every node from where it left off (id order), and swept by age.
CREATE INDEX session_ends_at ON session_ends (at);
