-- Version 3 (issue 26), cluster delivery: which store handle — which node's life — wrote each message. A node
-- delivers its own messages to its sessions as it commits them, and everyone else's from here
-- (service/relay.rs), so it must tell the two apart. NULL for messages written before this column.
ALTER TABLE messages ADD COLUMN origin BIGINT;
