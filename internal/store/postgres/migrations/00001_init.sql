-- +goose Up
CREATE TABLE connectors (
    id         TEXT PRIMARY KEY,
    platform   TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    enabled    BOOLEAN NOT NULL DEFAULT TRUE,
    spec       TEXT NOT NULL DEFAULT '{}',
    updated_at TIMESTAMPTZ NOT NULL
);

-- De-duplication window: one row per (connector, platform event id).
CREATE TABLE seen_events (
    connector  TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    claimed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connector, event_id)
);
CREATE INDEX seen_events_claimed_at ON seen_events (claimed_at);

-- Audit of every decision: field and rule names only, never values.
CREATE TABLE decisions (
    id             TEXT PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
    connector      TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    subject_key    TEXT NOT NULL DEFAULT '',
    outcome        TEXT NOT NULL CHECK (outcome <> ''),
    rules          TEXT NOT NULL DEFAULT '[]',
    fields         TEXT NOT NULL DEFAULT '{}',
    policy_version TEXT NOT NULL DEFAULT '',
    topic          TEXT NOT NULL DEFAULT '',
    request_id     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX decisions_at ON decisions (at DESC, id DESC);
CREATE INDEX decisions_connector_at ON decisions (connector, at DESC);
CREATE INDEX decisions_subject_key ON decisions (subject_key) WHERE subject_key <> '';

CREATE TABLE outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic        TEXT NOT NULL CHECK (topic <> ''),
    key          BYTEA,
    value        BYTEA NOT NULL,
    headers      TEXT NOT NULL DEFAULT '{}',
    subject_key  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    leased_until TIMESTAMPTZ
);
CREATE INDEX outbox_subject_key ON outbox (subject_key);

-- Append-only: rows are inserted, and deleted only by an erasure.
CREATE TABLE consent_ledger (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    obtained_at    TIMESTAMPTZ NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ,
    payload_sha256 TEXT NOT NULL DEFAULT '',
    request_id     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consent_ledger_current ON consent_ledger (subject_key, purpose, obtained_at DESC, recorded_at DESC, seq DESC);

-- +goose StatementBegin
CREATE FUNCTION consent_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent_ledger is append-only' USING ERRCODE = 'integrity_constraint_violation';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER consent_ledger_no_update BEFORE UPDATE ON consent_ledger
    FOR EACH ROW EXECUTE FUNCTION consent_ledger_append_only();

-- Proof of erasure, deliberately without any identifier.
CREATE TABLE consent_tombstones (
    id              TEXT PRIMARY KEY,
    erased_at       TIMESTAMPTZ NOT NULL,
    entries_removed BIGINT NOT NULL
);

CREATE TABLE fetch_jobs (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connector       TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    ref             TEXT NOT NULL,
    form            TEXT NOT NULL DEFAULT '',
    occurred_at     TIMESTAMPTZ,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead_letter')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (connector, event_id)
);
CREATE INDEX fetch_jobs_due ON fetch_jobs (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX fetch_jobs_state_created ON fetch_jobs (state, created_at DESC, id DESC);

CREATE TABLE notices (
    id             TEXT NOT NULL,
    version        TEXT NOT NULL,
    url            TEXT NOT NULL DEFAULT '',
    text_sha256    TEXT NOT NULL,
    effective_from TIMESTAMPTZ,
    PRIMARY KEY (id, version)
);

-- +goose Down
DROP TABLE notices;
DROP TABLE fetch_jobs;
DROP TABLE consent_tombstones;
DROP TABLE consent_ledger;
DROP FUNCTION consent_ledger_append_only();
DROP TABLE outbox;
DROP TABLE decisions;
DROP TABLE seen_events;
DROP TABLE connectors;
