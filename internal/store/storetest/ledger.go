package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

func entry(id, subject, purpose, status string, obtained, recorded time.Time) store.ConsentEntry {
	return store.ConsentEntry{
		ID: id, SubjectKey: subject, Purpose: purpose, Status: status,
		Method: store.MethodFormCheckbox, ObtainedAt: obtained, RecordedAt: recorded,
	}
}

var ledgerTests = []test{
	{"RoundTrip", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		exp := t0.Add(365 * 24 * time.Hour)
		full := store.ConsentEntry{
			ID: "c1", SubjectKey: "sk-alice", Purpose: "marketing_email", Status: store.StatusGranted,
			Method: store.MethodFormCheckbox, Platform: "meta", Connector: "meta-brand-a", Form: "form-1",
			CheckboxKey: "optin_email", NoticeID: "privacy", NoticeVersion: "2024-05",
			ObtainedAt: t0, RecordedAt: t0.Add(time.Second), ExpiresAt: &exp,
			PayloadSHA256: strings.Repeat("ab", 32), RequestID: "req-1",
		}
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{full}), "append")
		hist, err := s.ConsentHistory(ctx, "sk-alice")
		ok(t, err, "history")
		equal(t, "history", hist, []store.ConsentEntry{full})
		cur, err := s.CurrentConsent(ctx, []string{"sk-alice", "sk-nobody"})
		ok(t, err, "current")
		equal(t, "current", cur["sk-alice"]["marketing_email"], full)
		equal(t, "unknown subject has no consent", len(cur["sk-nobody"]), 0)
	}},
	{"LatestObtainedWins", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		// A withdrawal is recorded first; a lead submitted before it arrives
		// later. The withdrawal still wins: it was chosen later.
		withdraw := entry("w", "sk", "marketing_email", store.StatusWithdrawn, t0.Add(time.Hour), t0.Add(time.Hour))
		lateLead := entry("g", "sk", "marketing_email", store.StatusGranted, t0, t0.Add(2*time.Hour))
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{withdraw}), "append withdrawal")
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{lateLead}), "append late lead")
		cur, err := s.CurrentConsent(ctx, []string{"sk"})
		ok(t, err, "current")
		equal(t, "winner", cur["sk"]["marketing_email"].ID, "w")
	}},
	{"TieOnObtainedLatestRecordedWins", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{
			entry("later", "sk", "analytics", store.StatusDenied, t0, t0.Add(2*time.Second)),
			entry("earlier", "sk", "analytics", store.StatusGranted, t0, t0.Add(time.Second)),
		}), "append")
		cur, err := s.CurrentConsent(ctx, []string{"sk"})
		ok(t, err, "current")
		equal(t, "winner", cur["sk"]["analytics"].ID, "later")
	}},
	{"FullTieLaterInsertWins", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{entry("first", "sk", "analytics", store.StatusGranted, t0, t0)}), "append first")
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{entry("second", "sk", "analytics", store.StatusDenied, t0, t0)}), "append second")
		cur, err := s.CurrentConsent(ctx, []string{"sk"})
		ok(t, err, "current")
		equal(t, "winner", cur["sk"]["analytics"].ID, "second")
	}},
	{"ManySubjectsInOneRead", func(t *testing.T, s store.Store) {
		// More subjects than one read statement looks up, with repeats.
		ctx := t.Context()
		var es []store.ConsentEntry
		var keys []string
		for i := range 300 {
			sk := fmt.Sprint("sk-", i)
			es = append(es, entry(fmt.Sprint("e-", i), sk, "marketing_email", store.StatusGranted, t0, t0))
			keys = append(keys, sk, sk)
		}
		ok(t, s.AppendConsent(ctx, es), "append")
		cur, err := s.CurrentConsent(ctx, append(keys, "sk-nobody"))
		ok(t, err, "current")
		equal(t, "subjects with consent", len(cur), 300)
		equal(t, "last subject", cur["sk-299"]["marketing_email"].ID, "e-299")
	}},
	{"CurrentPerSubjectAndPurpose", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{
			entry("a1", "sk-a", "marketing_email", store.StatusGranted, t0, t0),
			entry("a2", "sk-a", "marketing_sms", store.StatusDenied, t0, t0),
			entry("a3", "sk-a", "marketing_email", store.StatusWithdrawn, t0.Add(time.Minute), t0.Add(time.Minute)),
			entry("b1", "sk-b", "marketing_email", store.StatusGranted, t0, t0),
		}), "append")
		cur, err := s.CurrentConsent(ctx, []string{"sk-a", "sk-b"})
		ok(t, err, "current")
		got := map[string]string{}
		for subject, purposes := range cur {
			for purpose, e := range purposes {
				got[subject+"/"+purpose] = e.ID
			}
		}
		equal(t, "current entries", got, map[string]string{
			"sk-a/marketing_email": "a3", "sk-a/marketing_sms": "a2", "sk-b/marketing_email": "b1",
		})
		cur, err = s.CurrentConsent(ctx, nil)
		ok(t, err, "current of nobody")
		equal(t, "current of nobody", len(cur), 0)
	}},
	{"AppendOnlyDuplicateIDConflicts", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{entry("dup", "sk", "p", store.StatusGranted, t0, t0)}), "append")
		err := s.AppendConsent(ctx, []store.ConsentEntry{
			entry("new", "sk", "p", store.StatusDenied, t0.Add(time.Hour), t0.Add(time.Hour)),
			entry("dup", "sk", "p", store.StatusWithdrawn, t0.Add(time.Hour), t0.Add(time.Hour)),
		})
		wantErr(t, err, store.ErrConflict, "append an existing id")
		hist, err := s.ConsentHistory(ctx, "sk")
		ok(t, err, "history")
		equal(t, "the failed batch left nothing and changed nothing", len(hist), 1)
		equal(t, "original entry", hist[0].Status, store.StatusGranted)
	}},
	{"RejectsIncompleteEntries", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		good := entry("ok", "sk", "p", store.StatusGranted, t0, t0)
		noTime := entry("no-time", "sk", "p", store.StatusGranted, time.Time{}, t0)
		badStatus := entry("bad-status", "sk", "p", "maybe", t0, t0)
		for _, bad := range []store.ConsentEntry{noTime, badStatus} {
			err := s.AppendConsent(ctx, []store.ConsentEntry{good, bad})
			if err == nil || errors.Is(err, store.ErrConflict) {
				t.Fatalf("append entry %s: got %v, want a validation error", bad.ID, err)
			}
		}
		hist, err := s.ConsentHistory(ctx, "sk")
		ok(t, err, "history")
		equal(t, "nothing of a refused batch is kept", len(hist), 0)
	}},
	{"HistoryOrder", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{
			entry("third", "sk", "p", store.StatusWithdrawn, t0.Add(2*time.Hour), t0.Add(2*time.Hour)),
			entry("first", "sk", "p", store.StatusGranted, t0, t0.Add(3*time.Hour)),
			entry("other", "sk-other", "p", store.StatusGranted, t0, t0),
		}), "append")
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{
			entry("second", "sk", "q", store.StatusDenied, t0.Add(time.Hour), t0.Add(time.Hour)),
		}), "append")
		hist, err := s.ConsentHistory(ctx, "sk")
		ok(t, err, "history")
		var got []string
		for _, e := range hist {
			got = append(got, e.ID)
		}
		equal(t, "history oldest first by time of choice", got, []string{"first", "second", "third"})
		hist, err = s.ConsentHistory(ctx, "sk-unknown")
		ok(t, err, "history of unknown")
		equal(t, "history of unknown", len(hist), 0)
	}},
	{"EraseSubject", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		const victim, bystander = "sk-erase-me-7f3a9c", "sk-keep-me"
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{
			entry("e1", victim, "marketing_email", store.StatusGranted, t0, t0),
			entry("e2", victim, "marketing_sms", store.StatusDenied, t0, t0),
			entry("e3", victim, "marketing_email", store.StatusWithdrawn, t0.Add(time.Hour), t0.Add(time.Hour)),
			entry("k1", bystander, "marketing_email", store.StatusGranted, t0, t0),
		}), "append")
		d := decision("d-victim", "meta", "lead-1", "forwarded", t0)
		d.SubjectKey = victim
		m := message(1, t0)
		m.SubjectKey, m.Key = victim, []byte(victim)
		keep := message(2, t0)
		keep.SubjectKey, keep.Key = bystander, []byte(bystander)
		ok(t, s.CompleteEvents(ctx, store.Completion{Decisions: []store.Decision{d}, Outbox: []store.OutboxMessage{m, keep}}), "complete")

		n, err := s.EraseSubject(ctx, victim, t0.Add(2*time.Hour))
		ok(t, err, "erase")
		equal(t, "entries removed", n, int64(3))

		hist, err := s.ConsentHistory(ctx, victim)
		ok(t, err, "history")
		equal(t, "history after erasure", len(hist), 0)
		cur, err := s.CurrentConsent(ctx, []string{victim, bystander})
		ok(t, err, "current")
		equal(t, "current after erasure", len(cur[victim]), 0)
		equal(t, "bystander untouched", cur[bystander]["marketing_email"].ID, "k1")

		tombs, err := s.ListTombstones(ctx, 0)
		ok(t, err, "tombstones")
		equal(t, "tombstones", len(tombs), 1)
		equal(t, "tombstone entries", tombs[0].EntriesRemoved, int64(3))
		equal(t, "tombstone time", tombs[0].ErasedAt, t0.Add(2*time.Hour))
		if strings.Contains(tombs[0].ID, victim) {
			t.Fatal("tombstone id contains the subject key")
		}

		decs, err := s.ListDecisions(ctx, store.DecisionFilter{})
		ok(t, err, "decisions")
		equal(t, "the audit line stays", len(decs), 1)
		equal(t, "without the subject key", decs[0].SubjectKey, "")
		msgs, err := s.ClaimOutbox(ctx, 10, t0, lease)
		ok(t, err, "claim outbox")
		equal(t, "only the bystander's message is left", len(msgs), 1)
		equal(t, "left message", msgs[0].SubjectKey, bystander)

		if tt, isTT := s.(TableTexter); isTT {
			tables, err := tt.TableText(ctx)
			ok(t, err, "read every table")
			if len(tables) == 0 {
				t.Fatal("TableText returned no tables")
			}
			for table, rows := range tables {
				for _, row := range rows {
					if strings.Contains(row, victim) {
						t.Errorf("table %s still holds the erased subject key: %s", table, row)
					}
				}
			}
		} else {
			t.Log("backend has no TableText: checked the store API only")
		}

		n, err = s.EraseSubject(ctx, "sk-never-seen", t0.Add(3*time.Hour))
		ok(t, err, "erase unknown subject")
		equal(t, "entries removed for unknown subject", n, int64(0))
		tombs, err = s.ListTombstones(ctx, 0)
		ok(t, err, "tombstones")
		equal(t, "every erasure request leaves a tombstone, newest first", len(tombs), 2)
		equal(t, "newest tombstone", tombs[0].EntriesRemoved, int64(0))
	}},
}
