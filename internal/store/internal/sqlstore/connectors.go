package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/consentgate/consentgate/internal/store"
)

const connectorCols = "id, platform, name, enabled, spec, updated_at"

type connectorRow struct {
	ID        string `db:"id"`
	Platform  string `db:"platform"`
	Name      string `db:"name"`
	Enabled   bool   `db:"enabled"`
	Spec      string `db:"spec"`
	UpdatedAt Time   `db:"updated_at"`
}

func (r connectorRow) connector() store.Connector {
	return store.Connector{ID: r.ID, Platform: r.Platform, Name: r.Name, Enabled: r.Enabled,
		Spec: json.RawMessage(r.Spec), UpdatedAt: r.UpdatedAt.Time}
}

// ListConnectors returns every connector by id.
func (db *DB) ListConnectors(ctx context.Context) ([]store.Connector, error) {
	var out []store.Connector
	err := db.read(ctx, "list connectors", func(r *sqlx.DB) error {
		var rows []connectorRow
		if err := r.SelectContext(ctx, &rows, "SELECT "+connectorCols+" FROM connectors ORDER BY id"); err != nil {
			return err
		}
		out = make([]store.Connector, 0, len(rows))
		for _, row := range rows {
			out = append(out, row.connector())
		}
		return nil
	})
	return out, err
}

// GetConnector returns ErrNotFound when there is none.
func (db *DB) GetConnector(ctx context.Context, id string) (store.Connector, error) {
	var row connectorRow
	err := db.read(ctx, fmt.Sprintf("get connector %q", id), func(r *sqlx.DB) error {
		return r.GetContext(ctx, &row, r.Rebind("SELECT "+connectorCols+" FROM connectors WHERE id = ?"), id)
	})
	if err != nil {
		return store.Connector{}, err
	}
	return row.connector(), nil
}

// PutConnector creates or replaces; UpdatedAt defaults to now and an empty
// Spec is stored as {}.
func (db *DB) PutConnector(ctx context.Context, c store.Connector) error {
	spec := string(c.Spec)
	if len(c.Spec) == 0 {
		spec = "{}"
	} else if !json.Valid(c.Spec) {
		return fmt.Errorf("put connector %q: spec is not valid JSON", c.ID)
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = time.Now()
	}
	return db.tx(ctx, fmt.Sprintf("put connector %q", c.ID), func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO connectors (`+connectorCols+`) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET platform = excluded.platform, name = excluded.name,
			enabled = excluded.enabled, spec = excluded.spec, updated_at = excluded.updated_at`),
			c.ID, c.Platform, c.Name, c.Enabled, spec, db.ts(c.UpdatedAt))
		return err
	})
}

// DeleteConnector returns ErrNotFound when there is none.
func (db *DB) DeleteConnector(ctx context.Context, id string) error {
	return db.tx(ctx, fmt.Sprintf("delete connector %q", id), func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM connectors WHERE id = ?"), id)
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

type noticeRow struct {
	ID            string `db:"id"`
	Version       string `db:"version"`
	URL           string `db:"url"`
	TextSHA256    string `db:"text_sha256"`
	EffectiveFrom Time   `db:"effective_from"`
}

func (r noticeRow) notice() store.Notice {
	return store.Notice{ID: r.ID, Version: r.Version, URL: r.URL, TextSHA256: r.TextSHA256,
		EffectiveFrom: r.EffectiveFrom.Time}
}

const noticeCols = "id, version, url, text_sha256, effective_from"

// PutNotice registers a notice version; the same content again is a no-op,
// different content under the same (id, version) is ErrConflict.
func (db *DB) PutNotice(ctx context.Context, n store.Notice) error {
	op := fmt.Sprintf("put notice %q version %q", n.ID, n.Version)
	if n.ID == "" || n.Version == "" {
		return fmt.Errorf("%s: id and version are required", op)
	}
	return db.tx(ctx, op, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO notices (`+noticeCols+`) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id, version) DO NOTHING`),
			n.ID, n.Version, n.URL, n.TextSHA256, db.ts(n.EffectiveFrom))
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil || k == 1 {
			return err
		}
		var row noticeRow
		if err := tx.GetContext(ctx, &row, tx.Rebind("SELECT "+noticeCols+" FROM notices WHERE id = ? AND version = ?"),
			n.ID, n.Version); err != nil {
			return err
		}
		old := row.notice()
		if old.URL != n.URL || old.TextSHA256 != n.TextSHA256 ||
			!old.EffectiveFrom.Equal(n.EffectiveFrom.Truncate(time.Microsecond)) {
			return fmt.Errorf("%w: registered with different content", store.ErrConflict)
		}
		return nil
	})
}

// ListNotices returns every version, by id then effective date.
func (db *DB) ListNotices(ctx context.Context) ([]store.Notice, error) {
	var out []store.Notice
	err := db.read(ctx, "list notices", func(r *sqlx.DB) error {
		var rows []noticeRow
		if err := r.SelectContext(ctx, &rows, "SELECT "+noticeCols+" FROM notices ORDER BY id, effective_from, version"); err != nil {
			return err
		}
		out = make([]store.Notice, 0, len(rows))
		for _, row := range rows {
			out = append(out, row.notice())
		}
		return nil
	})
	return out, err
}

// GetNotice returns ErrNotFound when there is none.
func (db *DB) GetNotice(ctx context.Context, id, version string) (store.Notice, error) {
	var row noticeRow
	err := db.read(ctx, fmt.Sprintf("get notice %q version %q", id, version), func(r *sqlx.DB) error {
		return r.GetContext(ctx, &row, r.Rebind("SELECT "+noticeCols+" FROM notices WHERE id = ? AND version = ?"), id, version)
	})
	if err != nil {
		return store.Notice{}, err
	}
	return row.notice(), nil
}
