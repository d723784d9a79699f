package sqlstore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/internal/sqlstore"
	"github.com/consentgate/consentgate/internal/store/sqlite"
)

// SQLite finds a subject's decisions with a scan before its write
// transaction, outside the write lock. A decision that names the subject
// and lands after that scan, before the erasure commits, must lose the key
// too: the erasure covers everything stored before it answered.
func TestEraseSubjectUnlinksDecisionsWrittenDuringTheScan(t *testing.T) {
	ctx := t.Context()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "consentgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	dec := func(id, subject string) store.Decision {
		return store.Decision{ID: id, At: at, Connector: "web", EventID: id, SubjectKey: subject,
			Outcome: "forwarded", PolicyVersion: "v1", Rules: []string{}, Fields: map[string]string{}}
	}
	const victim = "sk-victim-51c2"
	if err := s.CompleteEvents(ctx, store.Completion{Decisions: []store.Decision{dec("d-before", victim), dec("d-other", "sk-other")}}); err != nil {
		t.Fatal(err)
	}
	sqlstore.SetAfterDecisionScan(func() {
		if err := s.CompleteEvents(ctx, store.Completion{Decisions: []store.Decision{dec("d-during", victim)}}); err != nil {
			t.Error(err)
		}
	})
	defer sqlstore.SetAfterDecisionScan(nil)

	if _, err := s.EraseSubject(ctx, victim, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	decs, err := s.ListDecisions(ctx, store.DecisionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range decs {
		got[d.ID] = d.SubjectKey
	}
	want := map[string]string{"d-before": "", "d-during": "", "d-other": "sk-other"}
	for id, key := range want {
		if k, ok := got[id]; !ok || k != key {
			t.Errorf("decision %s: subject key %q (present %v), want %q", id, k, ok, key)
		}
	}
}
