package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

// beginCall runs a Begin through the server-side function the dialect
// names (PostgreSQL's consentgate_begin_events, migration 00005): one
// prepared call, planned once per session, where a transaction of
// statements takes six round trips.
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
	type row struct {
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
	rows := []row{}
	var subjects []string
	asked := map[string]bool{}
	recordedAt := time.Now()
	for i, k := range b.Keys {
		if first[k] != i {
			continue
		}
		if b.Subjects != nil && b.Subjects[i] != "" && !asked[b.Subjects[i]] {
			asked[b.Subjects[i]] = true
			subjects = append(subjects, b.Subjects[i])
		}
		if b.Entries == nil {
			continue
		}
		for _, e := range b.Entries[i] {
			e = filled(e, recordedAt)
			r := row{K: index[k], ID: e.ID, SubjectKey: e.SubjectKey, Purpose: e.Purpose, Status: e.Status,
				Method: e.Method, Platform: e.Platform, Connector: e.Connector, Form: e.Form,
				CheckboxKey: e.CheckboxKey, NoticeID: e.NoticeID, NoticeVersion: e.NoticeVersion,
				ObtainedAt: db.ts(e.ObtainedAt), RecordedAt: db.ts(e.RecordedAt),
				PayloadSHA256: e.PayloadSHA256, RequestID: e.RequestID}
			if e.ExpiresAt != nil {
				r.ExpiresAt = db.ts(*e.ExpiresAt)
			}
			rows = append(rows, r)
		}
	}
	entries, err := json.Marshal(rows)
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
		if kind == "c" {
			won[k] = true
			continue
		}
		byPurpose := current[lr.SubjectKey]
		if byPurpose == nil {
			byPurpose = map[string]store.ConsentEntry{}
			current[lr.SubjectKey] = byPurpose
		}
		p := pick{lr.SubjectKey, lr.Purpose}
		cur, seen := byPurpose[lr.Purpose]
		if !seen || newer(lr.ObtainedAt.Time, lr.RecordedAt.Time, seq, cur.ObtainedAt, cur.RecordedAt, seqs[p]) {
			byPurpose[lr.Purpose] = lr.entry()
			seqs[p] = seq
		}
	}
	if err := res.Err(); err != nil {
		return store.Begun{}, db.wrap("begin events", err)
	}
	out := store.Begun{Won: make([]bool, len(b.Keys)), Current: map[string]map[string]store.ConsentEntry{}}
	for i, k := range b.Keys {
		out.Won[i] = won[k] && first[k] == i
		if out.Won[i] && b.Subjects != nil && b.Subjects[i] != "" {
			if purposes, ok := current[b.Subjects[i]]; ok {
				out.Current[b.Subjects[i]] = purposes
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
