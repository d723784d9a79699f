-- Admin API tokens (only their SHA-256) and the admin audit log.

-- +goose Up
CREATE TABLE admin_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'marketer', 'privacy', 'auditor')),
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

-- Append-only: who changed what; names and flags only, never a secret.
CREATE TABLE admin_audit (
    id       TEXT PRIMARY KEY,
    at       TIMESTAMPTZ NOT NULL,
    actor    TEXT NOT NULL,
    role     TEXT NOT NULL,
    token_id TEXT NOT NULL DEFAULT '',
    action   TEXT NOT NULL CHECK (action <> ''),
    target   TEXT NOT NULL DEFAULT '',
    details  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX admin_audit_at ON admin_audit (at DESC, id DESC);

-- +goose StatementBegin
CREATE FUNCTION admin_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'admin_audit is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER admin_audit_no_update BEFORE UPDATE ON admin_audit
    FOR EACH ROW EXECUTE FUNCTION admin_audit_append_only();

-- +goose Down
DROP TRIGGER admin_audit_no_update ON admin_audit;
DROP FUNCTION admin_audit_append_only();
DROP TABLE admin_audit;
DROP TABLE admin_tokens;
