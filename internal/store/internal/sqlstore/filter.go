package sqlstore

import (
	"strings"
	"time"
)

// filter builds the WHERE clause of a newest-first listing, so every
// List… method narrows, orders and limits the same way.
type filter struct {
	db    *DB
	where []string
	args  []any
}

func (f *filter) add(cond string, args ...any) {
	f.where = append(f.where, cond)
	f.args = append(f.args, args...)
}

// eq matches column = v when v is set.
func (f *filter) eq(column, v string) {
	if v != "" {
		f.add(column+" = ?", v)
	}
}

// between keeps rows with since <= at < until; zero times are open ends.
func (f *filter) between(since, until time.Time) {
	if !since.IsZero() {
		f.add("at >= ?", f.db.ts(since))
	}
	if !until.IsZero() {
		f.add("at < ?", f.db.ts(until))
	}
}

// newestFirst is the full query: newest first, at most limit rows.
func (f *filter) newestFirst(selectFrom string, limit int) (string, []any) {
	q := selectFrom
	if len(f.where) > 0 {
		q += " WHERE " + strings.Join(f.where, " AND ")
	}
	return q + " ORDER BY at DESC, id DESC LIMIT ?", append(f.args, limitOr(limit, 100))
}
