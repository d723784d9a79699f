package sqlstore

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jmoiron/sqlx"
)

// maxStmts bounds the statements cached per pool. The hot paths use a few
// dozen shapes (batches are cut into power-of-two chunks), so the bound
// only matters if some caller generates unbounded SQL text; past it,
// statements simply run unprepared as before.
const maxStmts = 512

// stmtCache keeps prepared statements by their final SQL text. Parsing
// SQL was the largest single CPU cost of the store under load (SQLite
// parses in Go, PostgreSQL re-plans unnamed statements), and the hot
// queries repeat the same few texts. database/sql re-prepares a cached
// statement on each connection it meets, and drops it from connections
// that die, so a lost connection costs what it did before.
type stmtCache struct {
	pool *sqlx.DB

	mu      sync.Mutex
	m       map[string]*sqlx.Stmt
	pending map[string]struct{} // seen inside a transaction, prepared after it
}

func newStmtCache(pool *sqlx.DB) *stmtCache {
	return &stmtCache{pool: pool, m: map[string]*sqlx.Stmt{}, pending: map[string]struct{}{}}
}

func (c *stmtCache) lookup(query string) *sqlx.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[query]
}

// prepare returns the cached statement for query, preparing it on the
// pool when it is new; nil when the cache is full or preparing failed (the
// caller then runs the query unprepared, which reports any real error).
// It takes a pool connection, so it must not be called while the caller
// holds one (inside a transaction on SQLite's single writer connection).
func (c *stmtCache) prepare(ctx context.Context, query string) *sqlx.Stmt {
	c.mu.Lock()
	st, full := c.m[query], len(c.m) >= maxStmts
	c.mu.Unlock()
	if st != nil || full {
		return st
	}
	st, err := c.pool.PreparexContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[query]; old != nil {
		_ = st.Close() // a concurrent caller won
		return old
	}
	if len(c.m) >= maxStmts {
		_ = st.Close()
		return nil
	}
	c.m[query] = st
	return st
}

// later notes a query first met inside a transaction, to be prepared by
// flushPending once the transaction has given its connection back.
func (c *stmtCache) later(query string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m)+len(c.pending) < maxStmts {
		c.pending[query] = struct{}{}
	}
}

func (c *stmtCache) flushPending(ctx context.Context) {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return
	}
	qs := make([]string, 0, len(c.pending))
	for q := range c.pending {
		qs = append(qs, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range qs {
		c.prepare(ctx, q)
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		_ = st.Close()
		delete(c.m, q)
	}
}

// txExec runs query in tx through a cached statement when there is one.
func (db *DB) txExec(ctx context.Context, tx *sqlx.Tx, query string, args ...any) (sql.Result, error) {
	if st := db.ws.lookup(query); st != nil {
		return tx.StmtxContext(ctx, st).ExecContext(ctx, args...)
	}
	db.ws.later(query)
	return tx.ExecContext(ctx, query, args...)
}

// txQuery is txExec for statements that return rows.
func (db *DB) txQuery(ctx context.Context, tx *sqlx.Tx, query string, args ...any) (*sqlx.Rows, error) {
	if st := db.ws.lookup(query); st != nil {
		return tx.StmtxContext(ctx, st).QueryxContext(ctx, args...)
	}
	db.ws.later(query)
	return tx.QueryxContext(ctx, query, args...)
}

// readQuery runs a read-only query on the read pool r through a cached
// statement.
func (db *DB) readQuery(ctx context.Context, r *sqlx.DB, query string, args ...any) (*sql.Rows, error) {
	if c := db.rs; r == c.pool {
		if st := c.prepare(ctx, query); st != nil {
			return st.QueryContext(ctx, args...)
		}
	}
	return r.QueryContext(ctx, query, args...)
}

// pow2Chunk is the size of the next chunk of n remaining rows: the largest
// power of two not above n or limit. Cutting batches this way keeps the
// number of distinct statement texts (and so cached statements) to a few
// per query, whatever the batch sizes.
func pow2Chunk(n, limit int) int {
	n = min(n, limit)
	c := 1
	for c*2 <= n {
		c *= 2
	}
	return c
}
