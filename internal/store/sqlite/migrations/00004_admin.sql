-- Admin API tokens (only their SHA-256) and the admin audit log.

-- +goose Up
CREATE TABLE admin_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'marketer', 'privacy', 'auditor')),
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;

-- Append-only: who changed what; names and flags only, never a secret.
CREATE TABLE admin_audit (
    id       TEXT PRIMARY KEY,
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    role     TEXT NOT NULL,
    token_id TEXT NOT NULL DEFAULT '',
    action   TEXT NOT NULL CHECK (action <> ''),
    target   TEXT NOT NULL DEFAULT '',
    details  TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX admin_audit_at ON admin_audit (at DESC, id DESC);

-- +goose StatementBegin
CREATE TRIGGER admin_audit_no_update BEFORE UPDATE ON admin_audit
BEGIN
    SELECT RAISE(ABORT, 'admin_audit is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER admin_audit_no_update;
DROP TABLE admin_audit;
DROP TABLE admin_tokens;
