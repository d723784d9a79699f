package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/consentgate/consentgate/internal/store"
)

const jobCols = `id, connector, event_id, ref, form, occurred_at, state, attempts, next_attempt_at,
	last_error, created_at, updated_at, request_id, payload_sha256`

type jobRow struct {
	ID          int64  `db:"id"`
	Connector   string `db:"connector"`
	EventID     string `db:"event_id"`
	Ref         string `db:"ref"`
	Form        string `db:"form"`
	OccurredAt  Time   `db:"occurred_at"`
	State       string `db:"state"`
	Attempts    int    `db:"attempts"`
	NextAttempt Time   `db:"next_attempt_at"`
	LastError   string `db:"last_error"`
	CreatedAt   Time   `db:"created_at"`
	UpdatedAt   Time   `db:"updated_at"`
	RequestID   string `db:"request_id"`
	PayloadSum  string `db:"payload_sha256"`
}

func (r jobRow) job() store.Job {
	return store.Job{
		ID: r.ID, Connector: r.Connector, EventID: r.EventID, Ref: r.Ref, Form: r.Form,
		OccurredAt: r.OccurredAt.Time, State: r.State, Attempts: r.Attempts,
		NextAttempt: r.NextAttempt.Time, LastError: r.LastError, CreatedAt: r.CreatedAt.Time,
		UpdatedAt: r.UpdatedAt.Time, RequestID: r.RequestID, PayloadSHA256: r.PayloadSum,
	}
}

// EnqueueJobs stores jobs as pending. A job is due at its NextAttempt when
// set, else at its CreatedAt, else now; CreatedAt defaults to now.
func (db *DB) EnqueueJobs(ctx context.Context, jobs []store.Job) error {
	now := time.Now()
	rows := make([][]any, 0, len(jobs))
	for _, j := range jobs {
		created := cmp.Or(j.CreatedAt, now)
		due := cmp.Or(j.NextAttempt, created)
		rows = append(rows, []any{j.Connector, j.EventID, j.Ref, j.Form, db.ts(j.OccurredAt),
			store.JobPending, 0, db.ts(due), "", db.ts(created), db.ts(created), j.RequestID, j.PayloadSHA256})
	}
	return db.tx(ctx, "enqueue jobs", func(tx *sqlx.Tx) error {
		return db.insertRows(ctx, tx, `INSERT INTO fetch_jobs (connector, event_id, ref, form, occurred_at,
			state, attempts, next_attempt_at, last_error, created_at, updated_at, request_id, payload_sha256)`,
			" ON CONFLICT (connector, event_id) DO NOTHING", rows)
	})
}

// ClaimJobs leases due pending jobs, earliest due first, and counts the
// attempt.
func (db *DB) ClaimJobs(ctx context.Context, limit int, now time.Time, lease time.Duration) ([]store.Job, error) {
	q := `UPDATE fetch_jobs SET next_attempt_at = ?, attempts = attempts + 1, updated_at = ?
		WHERE id IN (SELECT id FROM fetch_jobs WHERE state = 'pending' AND next_attempt_at <= ?
			ORDER BY next_attempt_at, id LIMIT ?` + db.d.SkipLocked + `)
		AND state = 'pending' AND next_attempt_at <= ?
		RETURNING ` + jobCols
	var out []store.Job
	err := db.tx(ctx, "claim jobs", func(tx *sqlx.Tx) error {
		var rows []jobRow
		if err := tx.SelectContext(ctx, &rows, tx.Rebind(q),
			db.ts(now.Add(lease)), db.ts(now), db.ts(now), limitOr(limit, 100), db.ts(now)); err != nil {
			return err
		}
		slices.SortFunc(rows, func(a, b jobRow) int { return cmp.Compare(a.ID, b.ID) })
		out = make([]store.Job, 0, len(rows))
		for _, r := range rows {
			out = append(out, r.job())
		}
		return nil
	})
	return out, err
}

// FinishJob marks a job done.
func (db *DB) FinishJob(ctx context.Context, id int64) error {
	return db.updateJob(ctx, "finish job", id,
		"UPDATE fetch_jobs SET state = 'done', updated_at = ? WHERE id = ?", db.ts(time.Now()), id)
}

// RetryJob records why an attempt failed and when the next one is due.
func (db *DB) RetryJob(ctx context.Context, id int64, next time.Time, reason string) error {
	return db.updateJob(ctx, "retry job", id,
		"UPDATE fetch_jobs SET state = 'pending', next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?",
		db.ts(next), reason, db.ts(time.Now()), id)
}

// DeadLetterJob records a final failure.
func (db *DB) DeadLetterJob(ctx context.Context, id int64, reason string) error {
	return db.updateJob(ctx, "dead-letter job", id,
		"UPDATE fetch_jobs SET state = 'dead_letter', last_error = ?, updated_at = ? WHERE id = ?",
		reason, db.ts(time.Now()), id)
}

// RequeueJob moves a dead-lettered job back to pending, due now, with zero
// attempts; its last error stays for the record.
func (db *DB) RequeueJob(ctx context.Context, id int64, now time.Time) error {
	return db.tx(ctx, fmt.Sprintf("requeue job %d", id), func(tx *sqlx.Tx) error {
		var state string
		if err := tx.GetContext(ctx, &state, tx.Rebind("SELECT state FROM fetch_jobs WHERE id = ?"), id); err != nil {
			return err
		}
		if state != store.JobDeadLetter {
			return fmt.Errorf("%w: job is %s, not %s", store.ErrConflict, state, store.JobDeadLetter)
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE fetch_jobs SET state = 'pending', attempts = 0,
			next_attempt_at = ?, updated_at = ? WHERE id = ?`), db.ts(now), db.ts(now), id)
		return err
	})
}

func (db *DB) updateJob(ctx context.Context, op string, id int64, q string, args ...any) error {
	return db.tx(ctx, fmt.Sprintf("%s %d", op, id), func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(q), args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// ListJobs lists jobs in a state ("" for any), newest first.
// JobStats reads the backlog through the (state, created_at) index: done
// jobs, the bulk of the table, are not touched.
func (db *DB) JobStats(ctx context.Context, now time.Time) (pending, dead int64, oldest time.Duration, err error) {
	var first Time
	err = db.read(ctx, "fetch job stats", func(r *sqlx.DB) error {
		if err := r.QueryRowxContext(ctx, r.Rebind("SELECT COUNT(*), MIN(created_at) FROM fetch_jobs WHERE state = ?"), store.JobPending).Scan(&pending, &first); err != nil {
			return err
		}
		return r.QueryRowxContext(ctx, r.Rebind("SELECT COUNT(*) FROM fetch_jobs WHERE state = ?"), store.JobDeadLetter).Scan(&dead)
	})
	if err != nil || pending == 0 || first.IsZero() {
		return pending, dead, 0, err
	}
	return pending, dead, max(0, now.Sub(first.Time)), nil
}

func (db *DB) ListJobs(ctx context.Context, state string, limit int) ([]store.Job, error) {
	q := "SELECT " + jobCols + " FROM fetch_jobs"
	var args []any
	if state != "" {
		q += " WHERE state = ?"
		args = append(args, state)
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	args = append(args, limitOr(limit, 100))
	var out []store.Job
	err := db.read(ctx, "list jobs", func(r *sqlx.DB) error {
		var rows []jobRow
		if err := r.SelectContext(ctx, &rows, r.Rebind(q), args...); err != nil {
			return err
		}
		out = make([]store.Job, 0, len(rows))
		for _, row := range rows {
			out = append(out, row.job())
		}
		return nil
	})
	return out, err
}
