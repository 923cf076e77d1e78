-- Version 6 (issue 26): the login throttle's counters (storage/throttle.rs), shared by every node, so a
-- guesser spread over several nodes is blocked at one node's threshold. Times in milliseconds.
CREATE TABLE throttle (
    name          TEXT PRIMARY KEY,
    count         BIGINT NOT NULL,
    since         BIGINT NOT NULL,
    blocked_until BIGINT
);
