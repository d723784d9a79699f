package backend

import (
	"context"
	"fmt"
	"strings"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres"
	"github.com/consentgate/consentgate/internal/store/sqlite"
)

type options struct{ migrate bool }

// Option adjusts Open.
type Option func(*options)

// WithoutMigrate opens without applying migrations; the returned store
// implements store.Migrator for the `migrate` command to apply them.
func WithoutMigrate() Option { return func(o *options) { o.migrate = false } }

// Open opens the store named by url:
//
//	postgres://user:pass@host:5432/db?sslmode=require   PostgreSQL (also postgresql://)
//	sqlite:data/consentgate.db                          SQLite file (also file:PATH)
//	data/consentgate.db                                 SQLite, a bare path ending .db
//
// Migrations are applied unless WithoutMigrate is given.
func Open(ctx context.Context, url string, opts ...Option) (store.Store, error) {
	o := options{migrate: true}
	for _, opt := range opts {
		opt(&o)
	}
	kind, target, err := Parse(url)
	if err != nil {
		return nil, err
	}
	switch kind {
	case KindPostgres:
		var po []postgres.Option
		if !o.migrate {
			po = append(po, postgres.WithoutMigrate())
		}
		return postgres.Open(ctx, target, po...)
	default:
		var so []sqlite.Option
		if !o.migrate {
			so = append(so, sqlite.WithoutMigrate())
		}
		return sqlite.Open(ctx, target, so...)
	}
}

// Backend kinds Parse recognises.
const (
	KindPostgres = "postgres"
	KindSQLite   = "sqlite"
)

// Parse tells which backend url names and what to hand it: the URL itself
// for PostgreSQL, the file path for SQLite. Errors show the URL with its
// password hidden.
func Parse(url string) (kind, target string, err error) {
	scheme, rest, hasScheme := strings.Cut(url, ":")
	switch {
	case strings.TrimSpace(url) == "":
		return "", "", fmt.Errorf("database URL is empty: set postgres://user:pass@host:5432/db or sqlite:PATH")
	case hasScheme && (scheme == "postgres" || scheme == "postgresql"):
		if !strings.HasPrefix(rest, "//") {
			// Redact hides up to the last '@'; with no '@' a second ':'
			// may still end a user name, so then only the scheme is shown.
			shown := postgres.Redact(url)
			if !strings.Contains(rest, "@") && strings.Contains(rest, ":") {
				shown = scheme + ":xxxxx"
			}
			return "", "", fmt.Errorf("database URL %q: want %s://user:pass@host:5432/db (percent-encode / ? # @ : %% in the password)", shown, scheme)
		}
		return KindPostgres, url, nil
	case hasScheme && (scheme == "sqlite" || scheme == "sqlite3" || scheme == "file"):
		// sqlite:///abs/path and sqlite://rel are accepted as what people
		// mean by them: an absolute and a relative path.
		path := rest
		if strings.HasPrefix(path, "//") {
			path = strings.TrimPrefix(path, "//")
		}
		if p, _, hasQuery := strings.Cut(path, "?"); hasQuery {
			return "", "", fmt.Errorf("database URL %q: SQLite options are fixed by consentgate; remove %q", postgres.Redact(url), strings.TrimPrefix(path, p))
		}
		if path == "" {
			return "", "", fmt.Errorf("database URL %q: no file path after %q", postgres.Redact(url), scheme+":")
		}
		return KindSQLite, path, nil
	case strings.HasSuffix(url, ".db") && !strings.Contains(url, "://"):
		return KindSQLite, url, nil
	default:
		shown := postgres.Redact(url)
		if hasScheme && !strings.ContainsAny(scheme, `/\.`) && len(scheme) > 1 {
			return "", "", fmt.Errorf("database URL %q: unsupported scheme %q: use postgres://, postgresql://, sqlite:PATH or file:PATH", shown, scheme)
		}
		return "", "", fmt.Errorf("database URL %q: no scheme: use postgres://..., sqlite:PATH, or a file path ending in .db", shown)
	}
}
