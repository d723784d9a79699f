package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/consentgate/consentgate/internal/store"
)

const outboxCols = "topic, key, value, headers, subject_key, linked_keys, created_at, attempts"

func (db *DB) outboxRow(m store.OutboxMessage) ([]any, error) {
	headers := m.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	h, err := jsonText(headers)
	if err != nil {
		return nil, fmt.Errorf("encode outbox headers: %w", err)
	}
	value := m.Value
	if value == nil {
		value = []byte{}
	}
	var key any
	if m.Key != nil {
		key = m.Key
	}
	created := m.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	// Subject keys hold no spaces: a space-separated list needs no codec.
	return []any{m.Topic, key, value, h, m.SubjectKey, strings.Join(m.LinkedKeys, " "), db.ts(created), m.Attempts}, nil
}

type outboxRow struct {
	ID         int64  `db:"id"`
	Topic      string `db:"topic"`
	Key        []byte `db:"key"`
	Value      []byte `db:"value"`
	Headers    string `db:"headers"`
	SubjectKey string `db:"subject_key"`
	LinkedKeys string `db:"linked_keys"`
	CreatedAt  Time   `db:"created_at"`
	Attempts   int    `db:"attempts"`
}

func (r outboxRow) message() (store.OutboxMessage, error) {
	m := store.OutboxMessage{
		ID: r.ID, Topic: r.Topic, Key: r.Key, Value: r.Value, SubjectKey: r.SubjectKey,
		CreatedAt: r.CreatedAt.Time, Attempts: r.Attempts,
	}
	if r.LinkedKeys != "" {
		m.LinkedKeys = strings.Fields(r.LinkedKeys)
	}
	if err := json.Unmarshal([]byte(r.Headers), &m.Headers); err != nil {
		return m, fmt.Errorf("decode headers of outbox message %d: %w", r.ID, err)
	}
	return m, nil
}

// ClaimOutbox leases the oldest unleased messages and counts the attempt.
// On PostgreSQL the row selection skips rows another claimer has locked, and
// the lease check is re-evaluated on the locked row, so two claimers never
// take the same message within a lease.
func (db *DB) ClaimOutbox(ctx context.Context, limit int, now time.Time, lease time.Duration) ([]store.OutboxMessage, error) {
	q := `UPDATE outbox SET leased_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE (leased_until IS NULL OR leased_until <= ?) AND dead_at IS NULL
			ORDER BY id LIMIT ?` + db.d.SkipLocked + `)
		AND (leased_until IS NULL OR leased_until <= ?)
		RETURNING id, ` + outboxCols
	var out []store.OutboxMessage
	err := db.tx(ctx, "claim outbox", func(tx *sqlx.Tx) error {
		var rows []outboxRow
		if err := tx.SelectContext(ctx, &rows, tx.Rebind(q),
			db.ts(now.Add(lease)), db.ts(now), limitOr(limit, 100), db.ts(now)); err != nil {
			return err
		}
		slices.SortFunc(rows, func(a, b outboxRow) int { return cmp.Compare(a.ID, b.ID) })
		out = make([]store.OutboxMessage, 0, len(rows))
		for _, r := range rows {
			m, err := r.message()
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// DeleteOutbox removes published messages; unknown ids are ignored.
func (db *DB) DeleteOutbox(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return db.tx(ctx, "delete outbox", func(tx *sqlx.Tx) error {
		for start := 0; start < len(ids); start += 1000 {
			q, args, err := in(tx, "DELETE FROM outbox WHERE id IN (?)", ids[start:min(start+1000, len(ids))])
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// ParkOutbox marks messages dead; unknown ids are ignored.
func (db *DB) ParkOutbox(ctx context.Context, ids []int64, reason string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return db.tx(ctx, "park outbox", func(tx *sqlx.Tx) error {
		for start := 0; start < len(ids); start += 1000 {
			q, args, err := in(tx, "UPDATE outbox SET dead_at = ?, dead_reason = ?, leased_until = NULL WHERE id IN (?)",
				db.ts(at), reason, ids[start:min(start+1000, len(ids))])
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListParkedOutbox lists parked messages, oldest first, without their key
// and value.
func (db *DB) ListParkedOutbox(ctx context.Context, limit int) ([]store.ParkedMessage, error) {
	type row struct {
		ID        int64  `db:"id"`
		Topic     string `db:"topic"`
		CreatedAt Time   `db:"created_at"`
		DeadAt    Time   `db:"dead_at"`
		Reason    string `db:"dead_reason"`
		Attempts  int    `db:"attempts"`
	}
	out := []store.ParkedMessage{}
	err := db.read(ctx, "list parked outbox", func(r *sqlx.DB) error {
		var rows []row
		q := r.Rebind("SELECT id, topic, created_at, dead_at, dead_reason, attempts FROM outbox WHERE dead_at IS NOT NULL ORDER BY id LIMIT ?")
		if err := r.SelectContext(ctx, &rows, q, limitOr(limit, 100)); err != nil {
			return err
		}
		for _, x := range rows {
			out = append(out, store.ParkedMessage{ID: x.ID, Topic: x.Topic, CreatedAt: x.CreatedAt.Time, DeadAt: x.DeadAt.Time, Reason: x.Reason, Attempts: x.Attempts})
		}
		return nil
	})
	return out, err
}

// DeadOutbox counts the parked messages (an index holds only them).
func (db *DB) DeadOutbox(ctx context.Context) (int64, error) {
	var n int64
	err := db.read(ctx, "count dead outbox", func(r *sqlx.DB) error {
		return r.QueryRowxContext(ctx, "SELECT COUNT(*) FROM outbox WHERE dead_at IS NOT NULL").Scan(&n)
	})
	return n, err
}

// RequeueOutbox clears the dead mark of ids, or of every parked message
// when ids is empty.
func (db *DB) RequeueOutbox(ctx context.Context, ids []int64) (int64, error) {
	const q = "UPDATE outbox SET dead_at = NULL, dead_reason = '' WHERE dead_at IS NOT NULL"
	var n int64
	err := db.tx(ctx, "requeue outbox", func(tx *sqlx.Tx) error {
		n = 0
		chunks := [][]int64{nil}
		if len(ids) > 0 {
			chunks = slices.Collect(slices.Chunk(ids, 1000))
		}
		for _, chunk := range chunks {
			query, args := q, []any(nil)
			if chunk != nil {
				var err error
				if query, args, err = in(tx, q+" AND id IN (?)", chunk); err != nil {
					return err
				}
			}
			res, err := tx.ExecContext(ctx, query, args...)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	return n, err
}

// OutboxStats reports depth and the age of the oldest message waiting
// (zero when empty, never negative); parked messages are not waiting.
func (db *DB) OutboxStats(ctx context.Context, now time.Time) (int64, time.Duration, error) {
	var depth int64
	var oldest Time
	err := db.read(ctx, "outbox stats", func(r *sqlx.DB) error {
		return r.QueryRowxContext(ctx, "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE dead_at IS NULL").Scan(&depth, &oldest)
	})
	if err != nil || depth == 0 || oldest.IsZero() {
		return depth, 0, err
	}
	return depth, max(0, now.Sub(oldest.Time)), nil
}
