package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"sort"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Migrations applies a backend's embedded goose SQL files.
type Migrations struct {
	// FS holds the *.sql files at its root.
	FS fs.FS
	// Lock serialises migrators of several instances (PostgreSQL advisory
	// lock); nil where a single writer already does.
	Lock bool
}

func (db *DB) provider(m Migrations) (*goose.Provider, error) {
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if m.Lock {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	// The provider only borrows the pool: never call its Close, which would
	// close the store's pool.
	return goose.NewProvider(goose.Dialect(db.d.Name), db.W.DB, m.FS, opts...)
}

// Migrate applies every pending migration, each in its own transaction.
func (db *DB) Migrate(ctx context.Context, m Migrations) error {
	p, err := db.provider(m)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// SchemaVersion reports the applied and the newest known migration.
func (db *DB) SchemaVersion(ctx context.Context, m Migrations) (current, latest int64, err error) {
	p, err := db.provider(m)
	if err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", err)
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", err)
	}
	return current, latest, nil
}

// TableText returns every row of every table rendered as text, by table
// name. It exists so tests can prove that no row anywhere holds a value
// (an erased subject key); it reads everything and is not for production.
func (db *DB) TableText(ctx context.Context, tablesQuery string) (map[string][]string, error) {
	var tables []string
	if err := db.W.SelectContext(ctx, &tables, tablesQuery); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	sort.Strings(tables)
	out := make(map[string][]string, len(tables))
	for _, t := range tables {
		rows, err := db.W.QueryContext(ctx, "SELECT * FROM "+t)
		if err != nil {
			return nil, fmt.Errorf("read table %s: %w", t, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read table %s: %w", t, err)
			}
			line := ""
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				line += fmt.Sprintf("%s=%v ", cols[i], v)
			}
			out[t] = append(out[t], line)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
