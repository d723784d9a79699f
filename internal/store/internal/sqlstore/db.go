package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/consentgate/consentgate/internal/store"
)

// Dialect is what differs between the SQL backends.
type Dialect struct {
	// Name is the goose dialect name, e.g. "postgres" or "sqlite3".
	Name string
	// Time encodes a timestamp for a query argument. The zero time means
	// "none" and must encode as nil (NULL).
	Time func(time.Time) any
	// SkipLocked is appended to the row-selecting subquery of a claim; empty
	// where a single writer makes claims serial anyway.
	SkipLocked string
	// Translate maps a driver error to store.ErrConflict (wrapped) or leaves
	// it as is.
	Translate func(error) error
	// Transient reports a lost connection: the failed transaction did not
	// commit and may be run again on a fresh connection. Nil: never.
	Transient func(error) bool
	// WriteCTE runs a completion as one statement of data-modifying CTEs
	// (PostgreSQL) instead of a transaction of several.
	WriteCTE bool
	// BeginFunc names a server-side function that does a whole Begin in
	// one call (PostgreSQL, migration 00005), and Array wraps a Go slice
	// as an array parameter for it. Empty: BeginEvents uses a transaction.
	BeginFunc string
	Array     func(any) any
	// IndexReads, when set, runs in a write transaction before the consent
	// read of BeginEvents: PostgreSQL's "SET LOCAL enable_seqscan = off".
	// Without statistics (a new or fast-growing ledger not yet analysed)
	// the planner guesses that a list of subjects matches a good share of
	// the ledger and scans all of it; the read is a lookup of a few keys
	// on its own index in every real case.
	IndexReads string
	// EraseScansDecisions: the decisions table has no index on subject_key
	// (SQLite, migration 00006), so EraseSubject finds the subject's
	// decisions with a scan on a reader first, where it does not hold the
	// single writer, and its write transaction touches only the rows found
	// and those appended since.
	EraseScansDecisions bool
	// IdleConns is the pool's idle-connection limit, restored after idle
	// connections were flushed on a lost connection.
	IdleConns int
}

// DB implements every store method on top of database/sql. Writes go to W
// and reads to R; they are the same pool except for SQLite, where W is the
// single writer connection so that writers queue instead of failing with
// SQLITE_BUSY.
type DB struct {
	W, R *sqlx.DB
	d    Dialect
	// ws and rs cache prepared statements of W and R (one cache when they
	// are the same pool).
	ws, rs *stmtCache
}

// New returns a DB over the given pools.
func New(w, r *sqlx.DB, d Dialect) *DB {
	db := &DB{W: w, R: r, d: d, ws: newStmtCache(w)}
	db.rs = db.ws
	if r != w {
		db.rs = newStmtCache(r)
	}
	return db
}

// Ping checks that both pools answer.
func (db *DB) Ping(ctx context.Context) error {
	return db.read(ctx, "ping store", func(r *sqlx.DB) error {
		if err := db.W.PingContext(ctx); err != nil {
			return err
		}
		if r != db.W {
			return r.PingContext(ctx)
		}
		return nil
	})
}

// Close closes both pools.
func (db *DB) Close() error {
	db.ws.close()
	db.rs.close()
	var errR error
	if db.R != db.W {
		errR = db.R.Close()
	}
	return errors.Join(db.W.Close(), errR)
}

// ts encodes a timestamp at the precision both backends keep.
func (db *DB) ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return db.d.Time(t.UTC().Truncate(time.Microsecond))
}

// wrap names the operation and maps the driver error to a sentinel.
func (db *DB) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, db.d.Translate(err))
}

// errCommit marks a failure of COMMIT itself: whether the transaction took
// effect is unknown, so it is never run again.
type errCommit struct{ err error }

func (e errCommit) Error() string { return e.err.Error() }
func (e errCommit) Unwrap() error { return e.err }

// Is lets callers outside this package recognise the case.
func (e errCommit) Is(target error) bool { return target == store.ErrCommitUnknown }

// tx runs fn in a write transaction. When the connection turns out to be
// dead before COMMIT (a restarted server, a killed session), fn runs once
// more on a fresh connection: nothing of the first run was kept, so callers
// see no error for a blip that database/sql already heals. fn must not keep
// state across runs other than by assignment.
func (db *DB) tx(ctx context.Context, op string, fn func(tx *sqlx.Tx) error) error {
	err := db.txOnce(ctx, fn)
	for try := 1; err != nil && try < maxTries && db.retryable(ctx, err); try++ {
		err = db.txOnce(ctx, fn)
	}
	// Statements first met inside the transaction are prepared now that
	// its connection is free again.
	db.ws.flushPending(ctx)
	return db.wrap(op, err)
}

// maxTries bounds the runs of one call across lost connections: the first
// failure flushes the idle pool, so the second run normally gets a fresh
// connection; the third covers a connection lost again meanwhile.
const maxTries = 3

func (db *DB) txOnce(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.W.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return errCommit{err}
	}
	return nil
}

// maxParams bounds the bind parameters of one statement, well under
// PostgreSQL's 65535 and SQLite's 32766.
const maxParams = 8000

// exec runs one statement on its own (autocommit) through a cached
// statement, once more after a lost connection. Only for statements that
// may safely run twice: a lost connection may hide that the first run
// committed.
func (db *DB) exec(ctx context.Context, op, query string, args ...any) error {
	query = db.W.Rebind(query)
	run := func() error {
		if st := db.ws.prepare(ctx, query); st != nil {
			_, err := st.ExecContext(ctx, args...)
			return err
		}
		_, err := db.W.ExecContext(ctx, query, args...)
		return err
	}
	err := run()
	for try := 1; err != nil && try < maxTries && db.retryable(ctx, err); try++ {
		err = run()
	}
	return db.wrap(op, err)
}

// read runs a read-only fn on the read pool, once more after a lost
// connection.
func (db *DB) read(ctx context.Context, op string, fn func(q *sqlx.DB) error) error {
	err := fn(db.R)
	for try := 1; err != nil && try < maxTries && db.retryable(ctx, err); try++ {
		err = fn(db.R)
	}
	return db.wrap(op, err)
}

func (db *DB) retryable(ctx context.Context, err error) bool {
	var ce errCommit
	if errors.As(err, &ce) || db.d.Transient == nil {
		return false
	}
	if ctx.Err() != nil {
		return false
	}
	if !errors.Is(err, driver.ErrBadConn) && !db.d.Transient(err) {
		return false
	}
	// One dead connection usually means all idle ones died with it (a
	// server restart): drop them rather than meet them one call at a time.
	db.W.SetMaxIdleConns(0)
	db.W.SetMaxIdleConns(db.d.IdleConns)
	return true
}

// in expands a query with IN (?) lists and rebinds it for q.
func in(q sqlx.ExtContext, query string, args ...any) (string, []any, error) {
	query, args, err := sqlx.In(query, args...)
	if err != nil {
		return "", nil, err
	}
	return q.Rebind(query), args, nil
}

// insertRows inserts rows in chunks of multi-row VALUES lists; suffix is
// appended to every statement (e.g. an ON CONFLICT clause). Chunks have
// power-of-two sizes so their statements repeat and stay cached.
func (db *DB) insertRows(ctx context.Context, tx *sqlx.Tx, head, suffix string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	// Stay well under SQLite's and PostgreSQL's bind-parameter limits.
	per := max(1, 4000/width)
	for start, n := 0, 0; start < len(rows); start += n {
		n = pow2Chunk(len(rows)-start, per)
		chunk := rows[start : start+n]
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		args := make([]any, 0, len(chunk)*width)
		for i, r := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			b.WriteString(strings.TrimSuffix(strings.Repeat("?,", width), ","))
			b.WriteByte(')')
			args = append(args, r...)
		}
		b.WriteString(suffix)
		if _, err := db.txExec(ctx, tx, tx.Rebind(b.String()), args...); err != nil {
			return err
		}
	}
	return nil
}

// limitOr returns n, or def when n is not positive.
func limitOr(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}
