package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/consentgate/consentgate/internal/store"
)

const adminTokenCols = "id, name, role, token_sha256, created_at, last_used_at, revoked_at"

type adminTokenRow struct {
	ID         string `db:"id"`
	Name       string `db:"name"`
	Role       string `db:"role"`
	Hash       string `db:"token_sha256"`
	CreatedAt  Time   `db:"created_at"`
	LastUsedAt Time   `db:"last_used_at"`
	RevokedAt  Time   `db:"revoked_at"`
}

func (r adminTokenRow) token() store.AdminToken {
	return store.AdminToken{ID: r.ID, Name: r.Name, Role: r.Role, Hash: r.Hash, CreatedAt: r.CreatedAt.Time,
		LastUsedAt: r.LastUsedAt.ptr(), RevokedAt: r.RevokedAt.ptr()}
}

// CreateAdminToken stores a new token; an existing id or hash is ErrConflict.
func (db *DB) CreateAdminToken(ctx context.Context, t store.AdminToken) error {
	if t.ID == "" || t.Hash == "" {
		return fmt.Errorf("create admin token: id and hash are required")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	var used, revoked time.Time
	if t.LastUsedAt != nil {
		used = *t.LastUsedAt
	}
	if t.RevokedAt != nil {
		revoked = *t.RevokedAt
	}
	return db.tx(ctx, fmt.Sprintf("create admin token %q", t.ID), func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO admin_tokens ("+adminTokenCols+") VALUES (?, ?, ?, ?, ?, ?, ?)"),
			t.ID, t.Name, t.Role, t.Hash, db.ts(t.CreatedAt), db.ts(used), db.ts(revoked))
		return err
	})
}

// AdminTokenByHash finds a token by the SHA-256 of its value.
func (db *DB) AdminTokenByHash(ctx context.Context, hash string) (store.AdminToken, error) {
	var row adminTokenRow
	err := db.read(ctx, "find admin token", func(r *sqlx.DB) error {
		return r.GetContext(ctx, &row, r.Rebind("SELECT "+adminTokenCols+" FROM admin_tokens WHERE token_sha256 = ?"), hash)
	})
	if err != nil {
		return store.AdminToken{}, err
	}
	return row.token(), nil
}

// ListAdminTokens returns every token, oldest first.
func (db *DB) ListAdminTokens(ctx context.Context) ([]store.AdminToken, error) {
	var out []store.AdminToken
	err := db.read(ctx, "list admin tokens", func(r *sqlx.DB) error {
		var rows []adminTokenRow
		if err := r.SelectContext(ctx, &rows, "SELECT "+adminTokenCols+" FROM admin_tokens ORDER BY created_at, id"); err != nil {
			return err
		}
		out = make([]store.AdminToken, 0, len(rows))
		for _, row := range rows {
			out = append(out, row.token())
		}
		return nil
	})
	return out, err
}

// TouchAdminToken moves last_used_at forward to at.
func (db *DB) TouchAdminToken(ctx context.Context, id string, at time.Time) error {
	return db.tx(ctx, fmt.Sprintf("touch admin token %q", id), func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE admin_tokens SET last_used_at = ?
			WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`), db.ts(at), id, db.ts(at))
		return err
	})
}

// RevokeAdminToken marks a token revoked; the first revocation time stays.
func (db *DB) RevokeAdminToken(ctx context.Context, id string, at time.Time) error {
	return db.tx(ctx, fmt.Sprintf("revoke admin token %q", id), func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE admin_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?"), db.ts(at), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

const auditCols = "id, at, actor, role, token_id, action, target, details"

type auditRow struct {
	ID      string `db:"id"`
	At      Time   `db:"at"`
	Actor   string `db:"actor"`
	Role    string `db:"role"`
	TokenID string `db:"token_id"`
	Action  string `db:"action"`
	Target  string `db:"target"`
	Details string `db:"details"`
}

// AppendAudit adds an admin audit entry; ID and At default to new/now.
func (db *DB) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if e.ID == "" {
		e.ID = store.NewID()
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	details := e.Details
	if details == nil {
		details = map[string]string{}
	}
	d, err := jsonText(details)
	if err != nil {
		return fmt.Errorf("append admin audit: encode details: %w", err)
	}
	return db.tx(ctx, "append admin audit", func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO admin_audit ("+auditCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
			e.ID, db.ts(e.At), e.Actor, e.Role, e.TokenID, e.Action, e.Target, d)
		return err
	})
}

// ListAudit returns newest first; Since is inclusive, Until exclusive.
func (db *DB) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	fl := filter{db: db}
	fl.eq("actor", f.Actor)
	if strings.HasSuffix(f.Action, ".") {
		// A prefix match without LIKE, whose wildcards differ by dialect
		// and would need escaping of '_'.
		fl.add("substr(action, 1, ?) = ?", len(f.Action), f.Action)
	} else {
		fl.eq("action", f.Action)
	}
	fl.between(f.Since, f.Until)
	q, args := fl.newestFirst("SELECT "+auditCols+" FROM admin_audit", f.Limit)

	var out []store.AuditEntry
	err := db.read(ctx, "list admin audit", func(r *sqlx.DB) error {
		var rows []auditRow
		if err := r.SelectContext(ctx, &rows, r.Rebind(q), args...); err != nil {
			return err
		}
		out = make([]store.AuditEntry, 0, len(rows))
		for _, row := range rows {
			e := store.AuditEntry{ID: row.ID, At: row.At.Time, Actor: row.Actor, Role: row.Role, TokenID: row.TokenID,
				Action: row.Action, Target: row.Target}
			if err := json.Unmarshal([]byte(row.Details), &e.Details); err != nil {
				return fmt.Errorf("decode details of audit entry %s: %w", row.ID, err)
			}
			if len(e.Details) == 0 {
				e.Details = nil
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// DiscardJob deletes a dead-lettered job.
func (db *DB) DiscardJob(ctx context.Context, id int64) error {
	return db.tx(ctx, fmt.Sprintf("discard job %d", id), func(tx *sqlx.Tx) error {
		var state string
		if err := tx.GetContext(ctx, &state, tx.Rebind("SELECT state FROM fetch_jobs WHERE id = ?"), id); err != nil {
			return err
		}
		if state != store.JobDeadLetter {
			return fmt.Errorf("%w: job is %s, not %s", store.ErrConflict, state, store.JobDeadLetter)
		}
		_, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM fetch_jobs WHERE id = ? AND state = 'dead_letter'"), id)
		return err
	})
}
