-- seen_events becomes a rowid table with a unique index instead of a
-- WITHOUT ROWID table keyed by (connector, event_id). Event ids are random,
-- so in the old layout completing a claim rewrote a random page of the
-- table for every event. Now rows sit in claim order: the completion's
-- state change lands on the recent pages the whole batch shares, and only
-- the claim touches a random page (of the unique index).

-- +goose Up
CREATE TABLE seen_events_by_claim (
    connector  TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    claimed_at INTEGER NOT NULL,
    UNIQUE (connector, event_id)
) STRICT;
INSERT INTO seen_events_by_claim (connector, event_id, state, claimed_at)
    SELECT connector, event_id, state, claimed_at FROM seen_events ORDER BY claimed_at;
DROP TABLE seen_events;
ALTER TABLE seen_events_by_claim RENAME TO seen_events;
CREATE INDEX seen_events_claimed_at ON seen_events (claimed_at);

-- +goose Down
CREATE TABLE seen_events_by_key (
    connector  TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    claimed_at INTEGER NOT NULL,
    PRIMARY KEY (connector, event_id)
) STRICT, WITHOUT ROWID;
INSERT INTO seen_events_by_key SELECT connector, event_id, state, claimed_at FROM seen_events;
DROP TABLE seen_events;
ALTER TABLE seen_events_by_key RENAME TO seen_events;
CREATE INDEX seen_events_claimed_at ON seen_events (claimed_at);
