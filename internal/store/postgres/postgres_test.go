package postgres_test

import (
	"strings"
	"testing"

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

// Sessions plan prepared statements per execution unless the URL says
// otherwise: a generic plan made while the ledger was empty would keep
// scanning the whole table as it grows (docs/performance.md).
func TestPlanCacheMode(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{"", "force_custom_plan"},
		{"plan_cache_mode=auto", "auto"},
		{"options=-c%20plan_cache_mode%3Dforce_generic_plan", "force_generic_plan"},
	} {
		url := pgtest.URL(t)
		if tc.query != "" {
			sep := "?"
			if strings.Contains(url, "?") {
				sep = "&"
			}
			url += sep + tc.query
		}
		s, err := postgres.Open(t.Context(), url, postgres.WithMaxConns(1))
		if err != nil {
			t.Fatalf("open with %q: %v", tc.query, err)
		}
		var got string
		if err := s.W.QueryRowContext(t.Context(), "SHOW plan_cache_mode").Scan(&got); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if got != tc.want {
			t.Errorf("URL query %q: plan_cache_mode = %s, want %s", tc.query, got, tc.want)
		}
	}
}
