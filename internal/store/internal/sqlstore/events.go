package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/consentgate/consentgate/internal/store"
)

const (
	claimPending = "pending"
	claimDone    = "done"
)

// ClaimEvents inserts a pending claim per key; a key already claimed is won
// only when its claim is pending and older than the lease. The insert and
// the lease check are one INSERT ... ON CONFLICT DO UPDATE ... WHERE
// statement, so of any number of concurrent claimers exactly one sees its
// row come back from RETURNING.
func (db *DB) ClaimEvents(ctx context.Context, keys []store.EventKey, now time.Time, lease time.Duration) ([]bool, error) {
	won := make([]bool, len(keys))
	if len(keys) == 0 {
		return won, nil
	}
	uniq := sortedKeys(keys)

	err := db.tx(ctx, "claim events", func(tx *sqlx.Tx) error {
		got, err := db.claimTx(ctx, tx, uniq, now, lease)
		if err != nil {
			return err
		}
		// A key listed twice is won once, by its first occurrence.
		for i, k := range keys {
			won[i] = got[k]
			delete(got, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return won, nil
}

// sortedKeys returns one key per distinct key, in a fixed order:
// PostgreSQL refuses to upsert the same row twice in a statement, and a
// fixed lock order keeps overlapping batches from deadlocking.
func sortedKeys(keys []store.EventKey) []store.EventKey {
	uniq := slices.Clone(keys)
	slices.SortFunc(uniq, cmpKey)
	return slices.Compact(uniq)
}

// claimTx claims uniq (see sortedKeys) in tx and returns the keys won.
func (db *DB) claimTx(ctx context.Context, tx *sqlx.Tx, uniq []store.EventKey, now time.Time, lease time.Duration) (map[store.EventKey]bool, error) {
	got := make(map[store.EventKey]bool, len(uniq))
	// Power-of-two chunks, in order, so the statements repeat and stay
	// cached and the lock order is kept.
	const per = 512
	for start, n := 0, 0; start < len(uniq); start += n {
		n = pow2Chunk(len(uniq)-start, per)
		chunk := uniq[start : start+n]
		var b strings.Builder
		b.WriteString("INSERT INTO seen_events (connector, event_id, state, claimed_at) VALUES ")
		args := make([]any, 0, 3*len(chunk)+2)
		for i, k := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?, ?, 'pending', ?)")
			args = append(args, k.Connector, k.EventID, db.ts(now))
		}
		b.WriteString(` ON CONFLICT (connector, event_id) DO UPDATE SET claimed_at = excluded.claimed_at
			WHERE seen_events.state = 'pending' AND seen_events.claimed_at <= ?
			RETURNING connector, event_id`)
		args = append(args, db.ts(now.Add(-lease)))
		rows, err := db.txQuery(ctx, tx, tx.Rebind(b.String()), args...)
		if err != nil {
			return nil, err
		}
		if err := scanKeys(rows, got); err != nil {
			return nil, err
		}
	}
	return got, nil
}

// BeginEvents claims, appends the winners' ledger entries and reads their
// subjects' current consent in one transaction.
func (db *DB) BeginEvents(ctx context.Context, b store.Begin) (store.Begun, error) {
	if err := b.Check(); err != nil {
		return store.Begun{}, err
	}
	if len(b.Keys) == 0 {
		return store.Begun{Won: []bool{}, Current: map[string]map[string]store.ConsentEntry{}}, nil
	}
	if db.d.BeginFunc != "" {
		return db.beginCall(ctx, b)
	}
	var out store.Begun
	err := db.tx(ctx, "begin events", func(tx *sqlx.Tx) (err error) {
		out, err = db.beginTx(ctx, tx, b, time.Now())
		return err
	})
	if err != nil {
		return store.Begun{}, err
	}
	return out, nil
}

// CompleteAndBegin runs a completion and then a begin in one transaction:
// what a single-writer backend does for two batches at the price of one
// commit. The begin sees the completion: a key completed and begun in the
// same call is a duplicate.
func (db *DB) CompleteAndBegin(ctx context.Context, c store.Completion, b store.Begin) (store.Begun, error) {
	if err := b.Check(); err != nil {
		return store.Begun{}, err
	}
	comp, err := db.completionRows(c)
	if err != nil {
		return store.Begun{}, err
	}
	var out store.Begun
	err = db.tx(ctx, "complete and begin events", func(tx *sqlx.Tx) (err error) {
		if err := db.completeTx(ctx, tx, comp); err != nil {
			return err
		}
		out, err = db.beginTx(ctx, tx, b, time.Now())
		return err
	})
	if err != nil {
		return store.Begun{}, err
	}
	return out, nil
}

// beginTx is BeginEvents' work inside tx; b is checked.
func (db *DB) beginTx(ctx context.Context, tx *sqlx.Tx, b store.Begin, recordedAt time.Time) (store.Begun, error) {
	out := store.Begun{Won: make([]bool, len(b.Keys)), Current: map[string]map[string]store.ConsentEntry{}}
	if len(b.Keys) == 0 {
		return out, nil
	}
	got, err := db.claimTx(ctx, tx, sortedKeys(b.Keys), b.Now, b.Lease)
	if err != nil {
		return out, err
	}
	var (
		rows     [][]any
		subjects []string
		asked    = map[string]bool{}
	)
	for i, k := range b.Keys {
		// A key listed twice is won once, by its first occurrence.
		out.Won[i] = got[k]
		delete(got, k)
		if !out.Won[i] {
			continue
		}
		if b.Entries != nil {
			for _, e := range b.Entries[i] {
				rows = append(rows, db.ledgerRow(e, recordedAt))
			}
		}
		for _, s := range b.ReadSubjects(i) {
			if !asked[s] {
				asked[s] = true
				subjects = append(subjects, s)
			}
		}
	}
	// A statement an earlier attempt at the same delivery recorded (the
	// same id) stays as it was recorded.
	if err := db.insertRows(ctx, tx, "INSERT INTO consent_ledger ("+ledgerCols+")", " ON CONFLICT (id) DO NOTHING", rows); err != nil {
		return out, fmt.Errorf("append consent: %w", err)
	}
	if len(subjects) > 0 && db.d.IndexReads != "" {
		if _, err := db.txExec(ctx, tx, db.d.IndexReads); err != nil {
			return out, fmt.Errorf("prepare consent read: %w", err)
		}
	}
	err = db.currentConsent(ctx, func(q string, args ...any) (*sql.Rows, error) {
		rows, err := db.txQuery(ctx, tx, tx.Rebind(q), args...)
		if err != nil {
			return nil, err
		}
		return rows.Rows, nil
	}, subjects, out.Current)
	return out, err
}

func cmpKey(a, b store.EventKey) int {
	return cmp.Or(cmp.Compare(a.Connector, b.Connector), cmp.Compare(a.EventID, b.EventID))
}

// CompleteEvents marks claims done and stores their decisions and outbox
// messages in one transaction. A key without a claim (released or purged
// meanwhile) is recorded as done all the same, so a redelivery stays a
// duplicate.
func (db *DB) CompleteEvents(ctx context.Context, c store.Completion) error {
	comp, err := db.completionRows(c)
	if err != nil {
		return err
	}
	if db.d.WriteCTE && db.d.Array != nil && len(comp.outbox) == 0 && len(comp.seen)+len(comp.decisions) > 0 {
		q, args, err := db.completionArrays(comp)
		if err != nil {
			return fmt.Errorf("complete events: %w", err)
		}
		return db.exec(ctx, "complete events", q, args...)
	}
	if db.d.WriteCTE {
		if q, args, ok := db.completionStatement(comp); ok {
			return db.exec(ctx, "complete events", q, args...)
		}
	}
	return db.tx(ctx, "complete events", func(tx *sqlx.Tx) error {
		return db.completeTx(ctx, tx, comp)
	})
}

// completionStatement is a completion as one statement of data-modifying
// CTEs, atomic on its own: one round trip where a transaction takes four
// (BEGIN, two or three inserts, COMMIT). ok is false when a part is too
// big for one VALUES list; the caller then uses a transaction.
func (db *DB) completionStatement(c completion) (q string, args []any, ok bool) {
	var b strings.Builder
	parts := []struct {
		head, suffix string
		rows         [][]any
	}{
		{"INSERT INTO seen_events (connector, event_id, state, claimed_at)", " ON CONFLICT (connector, event_id) DO UPDATE SET state = 'done'", c.seen},
		{"INSERT INTO decisions (" + decisionCols + ")", decisionUpsert, c.decisions},
		{"INSERT INTO outbox (" + outboxCols + ")", "", c.outbox},
	}
	n := 0
	for _, p := range parts {
		if len(p.rows) == 0 {
			continue
		}
		if len(p.rows)*len(p.rows[0]) > maxParams/2 {
			return "", nil, false
		}
		if n == 0 {
			b.WriteString("WITH ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "w%d AS (%s VALUES ", n, p.head)
		for i, r := range p.rows {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			b.WriteString(strings.TrimSuffix(strings.Repeat("?,", len(r)), ","))
			b.WriteByte(')')
			args = append(args, r...)
		}
		b.WriteString(p.suffix)
		b.WriteString(")")
		n++
	}
	if n == 0 {
		return "", nil, false
	}
	if len(args) > maxParams {
		return "", nil, false
	}
	b.WriteString(" SELECT 1")
	return b.String(), args, true
}

// decisionUpsert: a decision stored again (the same id) takes the new
// outcome and topic, as when records first sent to Kafka end in the outbox.
const decisionUpsert = " ON CONFLICT (id) DO UPDATE SET outcome = excluded.outcome, topic = excluded.topic"

// completion is a Completion as rows, encoded before any transaction.
type completion struct {
	seen, decisions, outbox [][]any
}

func (db *DB) completionRows(c store.Completion) (completion, error) {
	done := slices.Clone(c.Done)
	slices.SortFunc(done, cmpKey)
	done = slices.Compact(done)
	seenAt := db.ts(time.Now())

	out := completion{decisions: make([][]any, 0, len(c.Decisions)), outbox: make([][]any, 0, len(c.Outbox)), seen: make([][]any, 0, len(done))}
	// One statement may not update a row twice: of decisions merged with
	// the same id, the last one counts.
	var last map[string]int
	if len(c.Decisions) > 1 {
		last = make(map[string]int, len(c.Decisions))
		for i, d := range c.Decisions {
			last[d.ID] = i
		}
	}
	for i, d := range c.Decisions {
		if last != nil && last[d.ID] != i {
			continue
		}
		row, err := db.decisionRow(d)
		if err != nil {
			return out, fmt.Errorf("complete events: %w", err)
		}
		out.decisions = append(out.decisions, row)
	}
	for _, m := range c.Outbox {
		row, err := db.outboxRow(m)
		if err != nil {
			return out, fmt.Errorf("complete events: %w", err)
		}
		out.outbox = append(out.outbox, row)
	}
	for _, k := range done {
		out.seen = append(out.seen, []any{k.Connector, k.EventID, claimDone, seenAt})
	}
	return out, nil
}

func (db *DB) completeTx(ctx context.Context, tx *sqlx.Tx, c completion) error {
	if err := db.insertRows(ctx, tx, "INSERT INTO seen_events (connector, event_id, state, claimed_at)",
		" ON CONFLICT (connector, event_id) DO UPDATE SET state = 'done'", c.seen); err != nil {
		return fmt.Errorf("mark done: %w", err)
	}
	if err := db.insertRows(ctx, tx, "INSERT INTO decisions ("+decisionCols+")",
		decisionUpsert, c.decisions); err != nil {
		return fmt.Errorf("insert decisions: %w", err)
	}
	if err := db.insertRows(ctx, tx, "INSERT INTO outbox ("+outboxCols+")", "", c.outbox); err != nil {
		return fmt.Errorf("insert outbox: %w", err)
	}
	return nil
}

// ReleaseEvents removes pending claims; completed ones stay.
func (db *DB) ReleaseEvents(ctx context.Context, keys []store.EventKey) error {
	if len(keys) == 0 {
		return nil
	}
	return db.tx(ctx, "release events", func(tx *sqlx.Tx) error {
		q := tx.Rebind("DELETE FROM seen_events WHERE connector = ? AND event_id = ? AND state = 'pending'")
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, q, k.Connector, k.EventID); err != nil {
				return err
			}
		}
		return nil
	})
}

// PendingEvents reports which keys have a pending (not done) claim.
func (db *DB) PendingEvents(ctx context.Context, keys []store.EventKey) ([]bool, error) {
	pending := make([]bool, len(keys))
	if len(keys) == 0 {
		return pending, nil
	}
	found := map[store.EventKey]bool{}
	err := db.read(ctx, "read pending events", func(r *sqlx.DB) error {
		clear(found)
		const per = 200
		for start := 0; start < len(keys); start += per {
			chunk := keys[start:min(start+per, len(keys))]
			var b strings.Builder
			b.WriteString("SELECT connector, event_id FROM seen_events WHERE state = 'pending' AND (")
			args := make([]any, 0, 2*len(chunk))
			for i, k := range chunk {
				if i > 0 {
					b.WriteString(" OR ")
				}
				b.WriteString("(connector = ? AND event_id = ?)")
				args = append(args, k.Connector, k.EventID)
			}
			b.WriteString(")")
			rows, err := r.QueryxContext(ctx, r.Rebind(b.String()), args...)
			if err != nil {
				return err
			}
			if err := scanKeys(rows, found); err != nil {
				return err
			}
		}
		return nil
	})
	for i, k := range keys {
		pending[i] = found[k]
	}
	return pending, err
}

// PurgeSeen forgets events, completed or abandoned, first seen before the
// cut-off.
func (db *DB) PurgeSeen(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.tx(ctx, "purge seen events", func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM seen_events WHERE claimed_at < ?"), db.ts(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// scanKeys reads (connector, event_id) rows into set and closes them.
func scanKeys(rows *sqlx.Rows, set map[store.EventKey]bool) error {
	defer rows.Close()
	for rows.Next() {
		var k store.EventKey
		if err := rows.Scan(&k.Connector, &k.EventID); err != nil {
			return err
		}
		set[k] = true
	}
	return rows.Err()
}
