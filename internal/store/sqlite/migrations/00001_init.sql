-- Timestamps are INTEGER microseconds since the Unix epoch (UTC); tables are
-- STRICT so a value of the wrong type fails loudly instead of sorting wrong.

-- +goose Up
CREATE TABLE connectors (
    id         TEXT PRIMARY KEY,
    platform   TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    enabled    INTEGER NOT NULL DEFAULT 1,
    spec       TEXT NOT NULL DEFAULT '{}',
    updated_at INTEGER NOT NULL
) STRICT;

-- De-duplication window: one row per (connector, platform event id).
CREATE TABLE seen_events (
    connector  TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    claimed_at INTEGER NOT NULL,
    PRIMARY KEY (connector, event_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX seen_events_claimed_at ON seen_events (claimed_at);

-- Audit of every decision: field and rule names only, never values.
CREATE TABLE decisions (
    id             TEXT PRIMARY KEY,
    at             INTEGER NOT NULL,
    connector      TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    subject_key    TEXT NOT NULL DEFAULT '',
    outcome        TEXT NOT NULL CHECK (outcome <> ''),
    rules          TEXT NOT NULL DEFAULT '[]',
    fields         TEXT NOT NULL DEFAULT '{}',
    policy_version TEXT NOT NULL DEFAULT '',
    topic          TEXT NOT NULL DEFAULT '',
    request_id     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX decisions_at ON decisions (at DESC, id DESC);
CREATE INDEX decisions_connector_at ON decisions (connector, at DESC);
CREATE INDEX decisions_subject_key ON decisions (subject_key) WHERE subject_key <> '';

-- AUTOINCREMENT: an id is never reused, so a late DeleteOutbox of a
-- published message cannot hit a newer one.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    topic        TEXT NOT NULL CHECK (topic <> ''),
    key          BLOB,
    value        BLOB NOT NULL,
    headers      TEXT NOT NULL DEFAULT '{}',
    subject_key  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    leased_until INTEGER
) STRICT;
CREATE INDEX outbox_subject_key ON outbox (subject_key);

-- Append-only: rows are inserted, and deleted only by an erasure.
CREATE TABLE consent_ledger (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    subject_key    TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('granted', 'denied', 'withdrawn')),
    method         TEXT NOT NULL,
    platform       TEXT NOT NULL DEFAULT '',
    connector      TEXT NOT NULL DEFAULT '',
    form           TEXT NOT NULL DEFAULT '',
    checkbox_key   TEXT NOT NULL DEFAULT '',
    notice_id      TEXT NOT NULL DEFAULT '',
    notice_version TEXT NOT NULL DEFAULT '',
    obtained_at    INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL,
    expires_at     INTEGER,
    payload_sha256 TEXT NOT NULL DEFAULT '',
    request_id     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX consent_ledger_current ON consent_ledger (subject_key, purpose, obtained_at DESC, recorded_at DESC, seq DESC);

-- +goose StatementBegin
CREATE TRIGGER consent_ledger_no_update BEFORE UPDATE ON consent_ledger
BEGIN
    SELECT RAISE(ABORT, 'consent_ledger is append-only');
END;
-- +goose StatementEnd

-- Proof of erasure, deliberately without any identifier.
CREATE TABLE consent_tombstones (
    id              TEXT PRIMARY KEY,
    erased_at       INTEGER NOT NULL,
    entries_removed INTEGER NOT NULL
) STRICT;

CREATE TABLE fetch_jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    connector       TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    ref             TEXT NOT NULL,
    form            TEXT NOT NULL DEFAULT '',
    occurred_at     INTEGER,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead_letter')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (connector, event_id)
) STRICT;
CREATE INDEX fetch_jobs_due ON fetch_jobs (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX fetch_jobs_state_created ON fetch_jobs (state, created_at DESC, id DESC);

CREATE TABLE notices (
    id             TEXT NOT NULL,
    version        TEXT NOT NULL,
    url            TEXT NOT NULL DEFAULT '',
    text_sha256    TEXT NOT NULL,
    effective_from INTEGER,
    PRIMARY KEY (id, version)
) STRICT;

-- +goose Down
DROP TABLE notices;
DROP TABLE fetch_jobs;
DROP TABLE consent_tombstones;
DROP TRIGGER consent_ledger_no_update;
DROP TABLE consent_ledger;
DROP TABLE outbox;
DROP TABLE decisions;
DROP TABLE seen_events;
DROP TABLE connectors;
