package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres"
	"github.com/consentgate/consentgate/internal/store/storetest"
	"github.com/consentgate/consentgate/internal/testutil/pgtest"
)

func open(tb testing.TB) *postgres.Store {
	s, err := postgres.Open(tb.Context(), pgtest.URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func BenchmarkClaimComplete(b *testing.B) { storetest.BenchClaimComplete(b, open(b)) }

// The consent read of every webhook is a lookup on its index, even while
// the ledger has no statistics (a new database growing fast, before
// autovacuum's first ANALYZE): the planner's guess for a list of subjects
// would otherwise scan the whole ledger on each request.
func TestBeginReadsLedgerByIndex(t *testing.T) {
	ctx := t.Context()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.WithMaxConns(1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var entries []store.ConsentEntry
	for i := range 3000 {
		entries = append(entries, store.ConsentEntry{SubjectKey: fmt.Sprint("sk-", i), Purpose: "marketing_email",
			Status: store.StatusGranted, Method: store.MethodFormCheckbox, ObtainedAt: now})
	}
	if err := s.AppendConsent(ctx, entries); err != nil {
		t.Fatal(err)
	}
	seqScans := func() int64 {
		t.Helper()
		// One connection: the flush reports this session's counters.
		if _, err := s.W.ExecContext(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := s.W.QueryRowContext(ctx, "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'consent_ledger'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := seqScans()
	for round := range 8 { // past the five custom plans before a generic one
		b := store.Begin{Now: now, Lease: time.Minute}
		for i := range 16 {
			b.Keys = append(b.Keys, store.EventKey{Connector: "web", EventID: fmt.Sprint(round, "-", i)})
			b.Subjects = append(b.Subjects, fmt.Sprint("sk-", round*16+i))
		}
		got, err := s.BeginEvents(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Current) != 16 {
			t.Fatalf("round %d: read %d subjects, want 16", round, len(got.Current))
		}
	}
	if n := seqScans() - before; n != 0 {
		t.Errorf("BeginEvents scanned the whole ledger %d times; want index lookups only", n)
	}
}
