package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/consentgate/consentgate/internal/store"
)

const ledgerCols = `id, subject_key, purpose, status, method, platform, connector, form, checkbox_key,
	notice_id, notice_version, obtained_at, recorded_at, expires_at, payload_sha256, request_id`

type ledgerRow struct {
	ID            string `db:"id"`
	SubjectKey    string `db:"subject_key"`
	Purpose       string `db:"purpose"`
	Status        string `db:"status"`
	Method        string `db:"method"`
	Platform      string `db:"platform"`
	Connector     string `db:"connector"`
	Form          string `db:"form"`
	CheckboxKey   string `db:"checkbox_key"`
	NoticeID      string `db:"notice_id"`
	NoticeVersion string `db:"notice_version"`
	ObtainedAt    Time   `db:"obtained_at"`
	RecordedAt    Time   `db:"recorded_at"`
	ExpiresAt     Time   `db:"expires_at"`
	PayloadSHA256 string `db:"payload_sha256"`
	RequestID     string `db:"request_id"`
}

func (r ledgerRow) entry() store.ConsentEntry {
	return store.ConsentEntry{
		ID: r.ID, SubjectKey: r.SubjectKey, Purpose: r.Purpose, Status: r.Status, Method: r.Method,
		Platform: r.Platform, Connector: r.Connector, Form: r.Form, CheckboxKey: r.CheckboxKey,
		NoticeID: r.NoticeID, NoticeVersion: r.NoticeVersion, ObtainedAt: r.ObtainedAt.Time,
		RecordedAt: r.RecordedAt.Time, ExpiresAt: r.ExpiresAt.ptr(), PayloadSHA256: r.PayloadSHA256,
		RequestID: r.RequestID,
	}
}

// AppendConsent adds entries in one transaction. An entry without ID gets a
// fresh one, without RecordedAt the current time; an ID already in the
// ledger fails the whole call with ErrConflict.
func (db *DB) AppendConsent(ctx context.Context, entries []store.ConsentEntry) error {
	rows := make([][]any, 0, len(entries))
	now := time.Now()
	for i, e := range entries {
		if err := e.Check(); err != nil {
			return fmt.Errorf("append consent: entry %d: %w", i, err)
		}
		rows = append(rows, db.ledgerRow(e, now))
	}
	return db.tx(ctx, "append consent", func(tx *sqlx.Tx) error {
		return db.insertRows(ctx, tx, "INSERT INTO consent_ledger ("+ledgerCols+")", "", rows)
	})
}

// dest is the Scan destination of a row in ledgerCols order, scanned by
// hand on the hot reads, where reflection-based scanning was a visible
// share.
func (r *ledgerRow) dest() []any {
	return []any{&r.ID, &r.SubjectKey, &r.Purpose, &r.Status, &r.Method, &r.Platform, &r.Connector,
		&r.Form, &r.CheckboxKey, &r.NoticeID, &r.NoticeVersion, &r.ObtainedAt, &r.RecordedAt,
		&r.ExpiresAt, &r.PayloadSHA256, &r.RequestID}
}

// filled gives an entry without ID a fresh one and without RecordedAt the
// given time, as every append does.
func filled(e store.ConsentEntry, recordedAt time.Time) store.ConsentEntry {
	if e.ID == "" {
		e.ID = store.NewID()
	}
	if e.RecordedAt.IsZero() {
		e.RecordedAt = recordedAt
	}
	return e
}

// ledgerRow is e's row in ledgerCols order, filled.
func (db *DB) ledgerRow(e store.ConsentEntry, recordedAt time.Time) []any {
	e = filled(e, recordedAt)
	var expires any
	if e.ExpiresAt != nil {
		expires = db.ts(*e.ExpiresAt)
	}
	return []any{e.ID, e.SubjectKey, e.Purpose, e.Status, e.Method, e.Platform,
		e.Connector, e.Form, e.CheckboxKey, e.NoticeID, e.NoticeVersion, db.ts(e.ObtainedAt),
		db.ts(e.RecordedAt), expires, e.PayloadSHA256, e.RequestID}
}

// CurrentConsent picks, per subject and purpose, the entry with the latest
// ObtainedAt, then RecordedAt, then insertion order.
func (db *DB) CurrentConsent(ctx context.Context, subjectKeys []string) (map[string]map[string]store.ConsentEntry, error) {
	out := make(map[string]map[string]store.ConsentEntry)
	if len(subjectKeys) == 0 {
		return out, nil
	}
	err := db.read(ctx, "current consent", func(r *sqlx.DB) error {
		clear(out)
		return db.currentConsent(ctx, func(q string, args ...any) (*sql.Rows, error) {
			return db.readQuery(ctx, r, r.Rebind(q), args...)
		}, subjectKeys, out)
	})
	return out, err
}

// currentConsent adds the current entries of subjectKeys to out, running
// its queries (with ? placeholders) through query: on the read pool, or in
// the transaction of BeginEvents.
func (db *DB) currentConsent(ctx context.Context, query func(q string, args ...any) (*sql.Rows, error), subjectKeys []string, out map[string]map[string]store.ConsentEntry) error {
	// A plain scan of the consent_ledger_current index in its own order
	// (newest first within each subject and purpose) and the first row per
	// purpose kept in Go: the same pick as ROW_NUMBER() OVER (PARTITION
	// BY ...), without a window function that cost more to prepare than to
	// run. The IN list is padded to a power of two by repeating the last
	// key (harmless in IN), so the statement text repeats and stays cached.
	const head = `SELECT ` + ledgerCols + ` FROM consent_ledger WHERE subject_key IN (`
	const tail = `) ORDER BY subject_key, purpose, obtained_at DESC, recorded_at DESC, seq DESC`
	for start, n := 0, 0; start < len(subjectKeys); start += n {
		n = min(len(subjectKeys)-start, 1024)
		size := pow2Chunk(2*n-1, 1024) // smallest power of two >= n
		args := make([]any, size)
		for i := range args {
			args[i] = subjectKeys[start+min(i, n-1)]
		}
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(strings.Repeat("?,", size-1))
		b.WriteString("?")
		b.WriteString(tail)
		rows, err := query(b.String(), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			// Scanned by hand, in ledgerCols order: this is the hot read,
			// and reflection-based scanning was a visible share of it.
			var row ledgerRow
			if err := rows.Scan(row.dest()...); err != nil {
				rows.Close()
				return err
			}
			byPurpose := out[row.SubjectKey]
			if byPurpose == nil {
				byPurpose = make(map[string]store.ConsentEntry)
				out[row.SubjectKey] = byPurpose
			}
			if _, seen := byPurpose[row.Purpose]; !seen {
				byPurpose[row.Purpose] = row.entry()
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// ConsentHistory returns a subject's entries by time of choice, so the last
// entry of each purpose is the current one.
func (db *DB) ConsentHistory(ctx context.Context, subjectKey string) ([]store.ConsentEntry, error) {
	var out []store.ConsentEntry
	err := db.read(ctx, "consent history", func(r *sqlx.DB) error {
		var rows []ledgerRow
		if err := r.SelectContext(ctx, &rows, r.Rebind(`SELECT `+ledgerCols+` FROM consent_ledger
			WHERE subject_key = ? ORDER BY obtained_at, recorded_at, seq`), subjectKey); err != nil {
			return err
		}
		out = make([]store.ConsentEntry, 0, len(rows))
		for _, row := range rows {
			out = append(out, row.entry())
		}
		return nil
	})
	return out, err
}

// EraseSubject removes every trace of the subject key: its ledger entries
// and its queued outbox messages are deleted, and the decisions that named
// it keep their audit line without the key. One tombstone records that an
// erasure happened and how many ledger entries it removed.
func (db *DB) EraseSubject(ctx context.Context, subjectKey string, at time.Time) (int64, error) {
	if subjectKey == "" {
		return 0, errors.New("erase subject: subject key is empty")
	}
	var found decisionRows
	if db.d.EraseScansDecisions {
		var err error
		if found, err = db.subjectDecisions(ctx, subjectKey); err != nil {
			return 0, err
		}
		if afterDecisionScan != nil {
			afterDecisionScan()
		}
	}
	var n int64
	err := db.tx(ctx, "erase subject", func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM consent_ledger WHERE subject_key = ?"), subjectKey)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM outbox WHERE subject_key = ?"), subjectKey); err != nil {
			return err
		}
		if db.d.EraseScansDecisions {
			if err := found.unlink(ctx, tx, subjectKey); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE decisions SET subject_key = '' WHERE subject_key = ?"), subjectKey); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind("INSERT INTO consent_tombstones (id, erased_at, entries_removed) VALUES (?, ?, ?)"),
			store.NewID(), db.ts(at), n)
		return err
	})
	return n, err
}

// LapsedGrants lists grants obtained in the window that no later statement
// of the same subject and purpose replaced. NOT EXISTS on the
// consent_ledger_current index keeps this to the window's rows instead of
// ranking the whole ledger, which a periodic sweep would do every time.
func (db *DB) LapsedGrants(ctx context.Context, purpose string, obtainedFrom, obtainedBefore time.Time) ([]store.ConsentEntry, error) {
	const q = `SELECT ` + ledgerCols + ` FROM consent_ledger l
		WHERE l.purpose = ? AND l.status = 'granted' AND l.obtained_at >= ? AND l.obtained_at < ?
		AND NOT EXISTS (SELECT 1 FROM consent_ledger n
			WHERE n.subject_key = l.subject_key AND n.purpose = l.purpose
			AND (n.obtained_at > l.obtained_at
				OR (n.obtained_at = l.obtained_at AND (n.recorded_at > l.recorded_at
					OR (n.recorded_at = l.recorded_at AND n.seq > l.seq)))))
		ORDER BY l.obtained_at, l.seq`
	var out []store.ConsentEntry
	err := db.read(ctx, "lapsed grants", func(r *sqlx.DB) error {
		var rows []ledgerRow
		if err := r.SelectContext(ctx, &rows, r.Rebind(q), purpose, db.ts(obtainedFrom), db.ts(obtainedBefore)); err != nil {
			return err
		}
		out = make([]store.ConsentEntry, 0, len(rows))
		for _, row := range rows {
			out = append(out, row.entry())
		}
		return nil
	})
	return out, err
}

type tombstoneRow struct {
	ID             string `db:"id"`
	ErasedAt       Time   `db:"erased_at"`
	EntriesRemoved int64  `db:"entries_removed"`
}

// ListTombstones returns erasures, newest first.
func (db *DB) ListTombstones(ctx context.Context, limit int) ([]store.Tombstone, error) {
	var out []store.Tombstone
	err := db.read(ctx, "list tombstones", func(r *sqlx.DB) error {
		var rows []tombstoneRow
		if err := r.SelectContext(ctx, &rows, r.Rebind(`SELECT id, erased_at, entries_removed
			FROM consent_tombstones ORDER BY erased_at DESC, id DESC LIMIT ?`), limitOr(limit, 100)); err != nil {
			return err
		}
		out = make([]store.Tombstone, 0, len(rows))
		for _, row := range rows {
			out = append(out, store.Tombstone{ID: row.ID, ErasedAt: row.ErasedAt.Time, EntriesRemoved: row.EntriesRemoved})
		}
		return nil
	})
	return out, err
}

// afterDecisionScan, when set (by tests), runs between EraseSubject's scan
// and its write transaction.
var afterDecisionScan func()

// decisionRows are the decisions of one subject found by a scan: the
// rowids that named it when the scan's snapshot was taken, and the largest
// rowid of the table then.
type decisionRows struct {
	ids  []int64
	upTo int64
}

// subjectDecisions scans the decisions table for a subject on a reader
// connection. Both reads share one snapshot, so every row at or below upTo
// that named the subject is in ids.
func (db *DB) subjectDecisions(ctx context.Context, subjectKey string) (decisionRows, error) {
	var out decisionRows
	err := db.read(ctx, "erase subject: find its decisions", func(r *sqlx.DB) error {
		tx, err := r.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // read only
		out = decisionRows{}
		if err := tx.GetContext(ctx, &out.upTo, "SELECT coalesce(max(rowid), 0) FROM decisions"); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &out.ids, tx.Rebind("SELECT rowid FROM decisions WHERE subject_key = ? AND rowid <= ?"), subjectKey, out.upTo)
	})
	return out, err
}

// unlink removes the subject key from the rows found and from any row
// appended since the scan. A decision's subject key changes only here (a
// decision stored again keeps it), and decisions are never deleted, so
// rows appended since have rowids above upTo: the write lock is held for
// those rows, not for a scan of the table.
func (f decisionRows) unlink(ctx context.Context, tx *sqlx.Tx, subjectKey string) error {
	const per = 500
	for ids := range slices.Chunk(f.ids, per) {
		q, args, err := sqlx.In("UPDATE decisions SET subject_key = '' WHERE subject_key = ? AND rowid IN (?)", subjectKey, ids)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE decisions SET subject_key = '' WHERE subject_key = ? AND rowid > ?"), subjectKey, f.upTo)
	return err
}
