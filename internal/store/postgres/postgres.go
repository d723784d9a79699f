package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is the PostgreSQL backend. It implements store.Store and
// store.Migrator.
type Store struct {
	*sqlstore.DB
	migrations sqlstore.Migrations
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Migrator = (*Store)(nil)
)

type options struct {
	migrate      bool
	maxConns     int
	connLifetime time.Duration
}

// Option adjusts Open.
type Option func(*options)

// WithoutMigrate skips applying migrations at open; call Migrate yourself.
func WithoutMigrate() Option { return func(o *options) { o.migrate = false } }

// WithMaxConns caps the pool (default 16). Idle connections kept: half.
func WithMaxConns(n int) Option { return func(o *options) { o.maxConns = max(1, n) } }

// Open connects to the database at url (postgres://user:pass@host/db?...)
// and applies pending migrations, holding an advisory lock so instances
// starting together migrate one at a time.
//
// No connection is pinned: every call borrows one from the pool, a broken
// one is discarded, and a write whose connection was lost before COMMIT is
// run again on a fresh one, so a database restart needs no gateway restart.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	o := options{migrate: true, maxConns: 16, connLifetime: 30 * time.Minute}
	for _, opt := range opts {
		opt(&o)
	}
	if err := checkDSN(url); err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	connector, err := pq.NewConnector(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", Redact(url), RedactError(err, url))
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	db.SetMaxOpenConns(o.maxConns)
	db.SetMaxIdleConns(max(1, o.maxConns/2))
	// Recycle connections now and then so a failover or a changed DNS
	// answer is picked up, and idle ones go before a firewall drops them.
	db.SetConnMaxLifetime(o.connLifetime)
	db.SetConnMaxIdleTime(5 * time.Minute)

	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s: %w", Redact(url), RedactError(err, url))
	}
	s := &Store{
		DB: sqlstore.New(db, db, sqlstore.Dialect{
			Name:       "postgres",
			Time:       func(t time.Time) any { return t },
			SkipLocked: " FOR UPDATE SKIP LOCKED",
			Translate:  translate,
			Transient:  transient,
			IndexReads: "SET LOCAL enable_seqscan = off",
			WriteCTE:   true,
			BeginFunc:  "consentgate_begin_events",
			Array:      array,
			IdleConns:  max(1, o.maxConns/2),
		}),
		migrations: sqlstore.Migrations{FS: mustSub(migrationFiles, "migrations"), Lock: true},
	}
	if o.migrate {
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("open postgres %s: %w", Redact(url), err)
		}
	}
	return s, nil
}

// Migrate applies pending migrations under an advisory lock.
func (s *Store) Migrate(ctx context.Context) error { return s.DB.Migrate(ctx, s.migrations) }

// SchemaVersion reports the applied and the newest known migration.
func (s *Store) SchemaVersion(ctx context.Context) (int64, int64, error) {
	return s.DB.SchemaVersion(ctx, s.migrations)
}

// TableText renders every row of every table as text, for tests that prove
// a value is gone everywhere.
func (s *Store) TableText(ctx context.Context) (map[string][]string, error) {
	return s.DB.TableText(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
		AND table_name <> 'goose_db_version'`)
}

// translate maps a unique-key violation to store.ErrConflict. The driver's
// message names the constraint, never the values: those are in Detail,
// which is not printed. Other integrity errors (a CHECK, a NOT NULL) are
// bugs of the caller and stay plain errors.
func translate(err error) error {
	var e *pq.Error
	if errors.As(err, &e) && (e.Code == "23505" || e.Code == "23P01") {
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	return err
}

// transient reports a connection that died under the call: the server
// terminated the session (restart, failover, pg_terminate_backend) or the
// network dropped it.
func transient(err error) bool {
	var e *pq.Error
	if errors.As(err, &e) {
		switch {
		case e.Code.Class() == "08": // connection exception
			return true
		case e.Code == "57P01", e.Code == "57P02", e.Code == "57P03": // admin/crash shutdown, cannot connect now
			return true
		}
		return false
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &ne)
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
