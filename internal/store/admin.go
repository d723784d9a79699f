package store

import (
	"context"
	"time"
)

// AdminToken is a bearer token of the admin API. Only the SHA-256 of the
// token is stored: a database dump does not let anyone call the API.
type AdminToken struct {
	ID         string     `db:"id" json:"id"`
	Name       string     `db:"name" json:"name"`
	Role       string     `db:"role" json:"role"`
	Hash       string     `db:"token_sha256" json:"-"` // hex SHA-256 of the token
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at" json:"last_used_at"`
	RevokedAt  *time.Time `db:"revoked_at" json:"revoked_at"`
}

type AdminTokens interface {
	// CreateAdminToken stores a new token; an existing id or hash is
	// ErrConflict.
	CreateAdminToken(ctx context.Context, t AdminToken) error
	// AdminTokenByHash finds a token (revoked ones too: the caller
	// decides); ErrNotFound when none has that hash.
	AdminTokenByHash(ctx context.Context, hash string) (AdminToken, error)
	// ListAdminTokens returns every token, oldest first.
	ListAdminTokens(ctx context.Context) ([]AdminToken, error)
	// TouchAdminToken moves last_used_at forward to at (never back).
	TouchAdminToken(ctx context.Context, id string, at time.Time) error
	// RevokeAdminToken marks a token revoked at at; revoking it again
	// keeps the first time. ErrNotFound for an unknown id.
	RevokeAdminToken(ctx context.Context, id string, at time.Time) error
}

// AuditEntry is one admin change: who (token name and role), what
// (action), on what (target). Details hold names and flags, never a
// secret or personal value.
type AuditEntry struct {
	ID      string            `db:"id" json:"id"`
	At      time.Time         `db:"at" json:"at"`
	Actor   string            `db:"actor" json:"actor"`
	Role    string            `db:"role" json:"role"`
	TokenID string            `db:"token_id" json:"token_id,omitempty"`
	Action  string            `db:"action" json:"action"`
	Target  string            `db:"target" json:"target"`
	Details map[string]string `db:"-" json:"details,omitempty"`
}

// AuditFilter narrows ListAudit; zero values match everything.
type AuditFilter struct {
	Actor  string
	Action string // exact, or a prefix ending in '.' (e.g. "connector.")
	Since  time.Time
	Until  time.Time // exclusive
	Limit  int       // default 100
}

type AdminAudit interface {
	// AppendAudit adds an entry; entries are never changed.
	AppendAudit(ctx context.Context, e AuditEntry) error
	// ListAudit returns newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

type DeadLetters interface {
	// DiscardJob deletes a dead-lettered job: an operator gave up on it.
	// ErrNotFound for an unknown id, ErrConflict for a job that is not
	// dead-lettered (a pending job is still being worked on).
	DiscardJob(ctx context.Context, id int64) error
}
