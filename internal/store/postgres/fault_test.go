package postgres_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres"
	"github.com/consentgate/consentgate/internal/testutil/pgtest"
)

// A database restart kills every session; the store must carry on without
// a restart of its own and without failing the calls that meet the dead
// connections.
func TestSurvivesTerminatedSessions(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url, postgres.WithMaxConns(4))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Fill the pool with idle connections.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := s.ListConnectors(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	now := time.Now()
	for round := range 3 {
		if n := pgtest.Terminate(t, url); n == 0 {
			t.Fatalf("round %d: no session to terminate", round)
		}
		k := []store.EventKey{{Connector: "meta", EventID: "after-restart-" + string(rune('a'+round))}}
		won, err := s.ClaimEvents(ctx, k, now, time.Minute)
		if err != nil {
			t.Fatalf("round %d: claim after sessions were terminated: %v", round, err)
		}
		if !won[0] {
			t.Fatalf("round %d: fresh key not won", round)
		}
		if err := s.CompleteEvents(ctx, store.Completion{Done: k}); err != nil {
			t.Fatalf("round %d: complete: %v", round, err)
		}
		pgtest.Terminate(t, url)
		if _, err := s.ListDecisions(ctx, store.DecisionFilter{}); err != nil {
			t.Fatalf("round %d: read after sessions were terminated: %v", round, err)
		}
		pgtest.Terminate(t, url)
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("round %d: ping after sessions were terminated: %v", round, err)
		}
	}
}

// Instances starting together migrate one at a time under the advisory
// lock; all of them open.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), url)
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
}

func TestOpenErrorHidesPassword(t *testing.T) {
	url := "postgres://app:s3cret-pw@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"
	_, err := postgres.Open(t.Context(), url)
	if err == nil {
		t.Fatal("open of a closed port: want error")
	}
	if got := err.Error(); !strings.Contains(got, "127.0.0.1:1") || strings.Contains(got, "s3cret-pw") {
		t.Fatalf("error should name the host but not the password: %v", err)
	}
}
