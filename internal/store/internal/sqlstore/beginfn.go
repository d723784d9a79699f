package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/consentgate/consentgate/internal/jsonw"
	"github.com/consentgate/consentgate/internal/store"
)

// beginCall runs a Begin through the server-side function the dialect
// names (PostgreSQL's consentgate_begin_events, migrations 00005 and
// 00007): one prepared call, planned once per session, where a transaction
// of statements takes six round trips. The function returns the current
// entry per subject and purpose, and of an entry this call appended only
// its id: the rest is what the call sent, as the database stores it.
//
// The call is never repeated: if the connection is lost, whether it
// committed is unknown, and a second run would report the caller's own
// claims as duplicates.
func (db *DB) beginCall(ctx context.Context, b store.Begin) (store.Begun, error) {
	uniq := sortedKeys(b.Keys)
	index := make(map[store.EventKey]int, len(uniq))
	conns, events := make([]string, len(uniq)), make([]string, len(uniq))
	for i, k := range uniq {
		index[k] = i + 1 // SQL arrays count from 1
		conns[i], events[i] = k.Connector, k.EventID
	}
	// Only the first occurrence of a key can win, so only its entries and
	// subject go to the server.
	first := make(map[store.EventKey]int, len(uniq))
	for i, k := range b.Keys {
		if _, seen := first[k]; !seen {
			first[k] = i
		}
	}
	rows := []entryRow{}
	sent := map[string]store.ConsentEntry{}
	var subjects []string
	asked := map[string]bool{}
	recordedAt := time.Now()
	for i, k := range b.Keys {
		if first[k] != i {
			continue
		}
		for _, s := range b.ReadSubjects(i) {
			if !asked[s] {
				asked[s] = true
				subjects = append(subjects, s)
			}
		}
		if b.Entries == nil {
			continue
		}
		for _, e := range b.Entries[i] {
			e = filled(e, recordedAt)
			r := entryRow{K: index[k], ID: e.ID, SubjectKey: e.SubjectKey, Purpose: e.Purpose, Status: e.Status,
				Method: e.Method, Platform: e.Platform, Connector: e.Connector, Form: e.Form,
				CheckboxKey: e.CheckboxKey, NoticeID: e.NoticeID, NoticeVersion: e.NoticeVersion,
				ObtainedAt: db.ts(e.ObtainedAt), RecordedAt: db.ts(e.RecordedAt),
				PayloadSHA256: e.PayloadSHA256, RequestID: e.RequestID}
			if e.ExpiresAt != nil {
				r.ExpiresAt = db.ts(*e.ExpiresAt)
			}
			rows = append(rows, r)
			stored := asStored(e)
			sent[stored.ID] = stored // the database answers with the stored id
		}
	}
	entries, err := appendEntries(make([]byte, 0, 512*len(rows)), rows)
	if err != nil {
		return store.Begun{}, fmt.Errorf("begin events: encode entries: %w", err)
	}

	q := db.W.Rebind("SELECT * FROM " + db.d.BeginFunc + "(?, ?, ?, ?, ?, ?)")
	args := []any{db.d.Array(conns), db.d.Array(events), db.ts(b.Now), db.ts(b.Now.Add(-b.Lease)), string(entries), db.d.Array(subjects)}
	var res interface {
		Next() bool
		Scan(...any) error
		Close() error
		Err() error
	}
	if st := db.ws.prepare(ctx, q); st != nil {
		res, err = st.QueryContext(ctx, args...)
	} else {
		res, err = db.W.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return store.Begun{}, db.wrap("begin events", err)
	}
	defer res.Close()
	won := map[store.EventKey]bool{}
	type pick struct{ subject, purpose string }
	seqs := map[pick]int64{}
	current := map[string]map[string]store.ConsentEntry{}
	for res.Next() {
		var (
			kind string
			k    store.EventKey
			lr   ledgerRow
			seq  int64
		)
		dest := append(append([]any{&kind, &k.Connector, &k.EventID}, lr.dest()...), &seq)
		if err := res.Scan(dest...); err != nil {
			return store.Begun{}, db.wrap("begin events", err)
		}
		var e store.ConsentEntry
		switch kind {
		case "c":
			won[k] = true
			continue
		case "n":
			var ok bool
			if e, ok = sent[lr.ID]; !ok {
				// asStored and the database disagree on an entry's id: a
				// bug, nothing a configuration change can fix.
				return store.Begun{}, fmt.Errorf("begin events: the database names entry %q as written by this call, but the call sent no entry with that id; please report this as a bug", lr.ID)
			}
		default:
			e = lr.entry()
		}
		byPurpose := current[e.SubjectKey]
		if byPurpose == nil {
			byPurpose = map[string]store.ConsentEntry{}
			current[e.SubjectKey] = byPurpose
		}
		// One row per subject and purpose comes back; the pick stays so
		// that the function of migration 00005 (every entry) reads right.
		p := pick{e.SubjectKey, e.Purpose}
		cur, seen := byPurpose[e.Purpose]
		if !seen || newer(e.ObtainedAt, e.RecordedAt, seq, cur.ObtainedAt, cur.RecordedAt, seqs[p]) {
			byPurpose[e.Purpose] = e
			seqs[p] = seq
		}
	}
	if err := res.Err(); err != nil {
		return store.Begun{}, db.wrap("begin events", err)
	}
	out := store.Begun{Won: make([]bool, len(b.Keys)), Current: map[string]map[string]store.ConsentEntry{}}
	for i, k := range b.Keys {
		out.Won[i] = won[k] && first[k] == i
		if !out.Won[i] {
			continue
		}
		for _, s := range b.ReadSubjects(i) {
			if purposes, ok := current[s]; ok {
				out.Current[s] = purposes
			}
		}
	}
	return out, nil
}

// newer reports whether an entry (obtained, recorded, seq) replaces the one
// picked so far: the latest obtained_at wins, then the latest recorded_at,
// then the later insertion.
func newer(obtained, recorded time.Time, seq int64, curObtained, curRecorded time.Time, curSeq int64) bool {
	if !obtained.Equal(curObtained) {
		return obtained.After(curObtained)
	}
	if !recorded.Equal(curRecorded) {
		return recorded.After(curRecorded)
	}
	return seq > curSeq
}

// asStored returns e as the database holds it once appended: timestamps in
// UTC to the microsecond (db.ts), text as it survives the JSON the entries
// travel in (jsonw.Decoded).
func asStored(e store.ConsentEntry) store.ConsentEntry {
	at := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
	e.ObtainedAt, e.RecordedAt = at(e.ObtainedAt), at(e.RecordedAt)
	if e.ExpiresAt != nil {
		if e.ExpiresAt.IsZero() {
			e.ExpiresAt = nil // db.ts stores NULL
		} else {
			t := at(*e.ExpiresAt)
			e.ExpiresAt = &t
		}
	}
	for _, s := range [...]*string{&e.ID, &e.SubjectKey, &e.Purpose, &e.Status, &e.Method, &e.Platform,
		&e.Connector, &e.Form, &e.CheckboxKey, &e.NoticeID, &e.NoticeVersion, &e.PayloadSHA256, &e.RequestID} {
		*s = jsonw.Decoded(*s)
	}
	return e
}

// entryRow is one ledger entry as the begin function reads it from JSON
// (jsonb_to_recordset); K is the 1-based index of its key.
type entryRow struct {
	K             int    `json:"k"`
	ID            string `json:"id"`
	SubjectKey    string `json:"subject_key"`
	Purpose       string `json:"purpose"`
	Status        string `json:"status"`
	Method        string `json:"method"`
	Platform      string `json:"platform"`
	Connector     string `json:"connector"`
	Form          string `json:"form"`
	CheckboxKey   string `json:"checkbox_key"`
	NoticeID      string `json:"notice_id"`
	NoticeVersion string `json:"notice_version"`
	ObtainedAt    any    `json:"obtained_at"` // db.ts: a time, or nil for NULL
	RecordedAt    any    `json:"recorded_at"`
	ExpiresAt     any    `json:"expires_at"`
	PayloadSHA256 string `json:"payload_sha256"`
	RequestID     string `json:"request_id"`
}

// appendEntries writes rows as the JSON array the begin function reads.
// Written by hand: encoding/json's reflection was a fifth of the begin's
// CPU in the gateway (BenchmarkWebhookPostgreSQL).
func appendEntries(b []byte, rows []entryRow) ([]byte, error) {
	b = append(b, '[')
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"k":`...)
		b = strconv.AppendInt(b, int64(r.K), 10)
		for _, f := range [...]struct{ name, v string }{
			{"id", r.ID}, {"subject_key", r.SubjectKey}, {"purpose", r.Purpose}, {"status", r.Status},
			{"method", r.Method}, {"platform", r.Platform}, {"connector", r.Connector}, {"form", r.Form},
			{"checkbox_key", r.CheckboxKey}, {"notice_id", r.NoticeID}, {"notice_version", r.NoticeVersion},
			{"payload_sha256", r.PayloadSHA256}, {"request_id", r.RequestID},
		} {
			b = append(b, `,"`...)
			b = append(b, f.name...)
			b = append(b, `":`...)
			b = jsonw.AppendString(b, f.v)
		}
		for _, f := range [...]struct {
			name string
			v    any
		}{{"obtained_at", r.ObtainedAt}, {"recorded_at", r.RecordedAt}, {"expires_at", r.ExpiresAt}} {
			b = append(b, `,"`...)
			b = append(b, f.name...)
			b = append(b, `":`...)
			switch v := f.v.(type) {
			case nil:
				b = append(b, "null"...)
			case time.Time:
				b = append(b, '"')
				b = v.AppendFormat(b, time.RFC3339Nano)
				b = append(b, '"')
			case int64:
				b = strconv.AppendInt(b, v, 10)
			default:
				return nil, fmt.Errorf("%s: unsupported timestamp type %T", f.name, f.v)
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}
