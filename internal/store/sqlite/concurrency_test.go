package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
)

// Two stores on one file stand for two processes (the second has its own
// writer connection): their concurrent write transactions wait for each
// other instead of failing with SQLITE_BUSY.
func TestTwoWritersOnOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cg.db")
	a, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	now := time.Now()
	var g errgroup.Group
	for i := range 40 {
		s := a
		if i%2 == 1 {
			s = b
		}
		g.Go(func() error {
			k := []store.EventKey{{Connector: "c", EventID: fmt.Sprint(i)}}
			if _, err := s.ClaimEvents(t.Context(), k, now, time.Minute); err != nil {
				return err
			}
			return s.CompleteEvents(t.Context(), store.Completion{Done: k,
				Outbox: []store.OutboxMessage{{Topic: "t", Value: []byte("v"), CreatedAt: now}}})
		})
		g.Go(func() error {
			_, _, err := s.OutboxStats(t.Context(), now)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	depth, _, err := a.OutboxStats(t.Context(), now)
	if err != nil || depth != 40 {
		t.Fatalf("outbox depth %d, err %v; want 40", depth, err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cg.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutConnector(t.Context(), store.Connector{ID: "meta-a", Platform: "meta"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetConnector(t.Context(), "meta-a"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}

func TestOpenRejectsNonFiles(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "cg.db?mode=ro"} {
		if s, err := sqlite.Open(t.Context(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q): want error", p)
		}
	}
}

func TestPragmas(t *testing.T) {
	s := open(t)
	want := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "10000",
		"temp_store": "2", "cache_size": "-8192", "wal_autocheckpoint": "16384"}
	for pragma, w := range want {
		var got string
		if err := s.W.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Errorf("writer PRAGMA %s = %s, want %s", pragma, got, w)
		}
	}
	var qo string
	if err := s.R.QueryRowContext(t.Context(), "PRAGMA query_only").Scan(&qo); err != nil || qo != "1" {
		t.Errorf("reader query_only = %q, %v; want 1", qo, err)
	}
}
