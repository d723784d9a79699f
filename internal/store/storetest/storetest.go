package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

// t0 is the suite's clock origin; every time is derived from it so the
// suite never depends on the wall clock.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// Run runs the whole contract suite. open must return a new, empty,
// migrated store for each call, and may be called from parallel subtests;
// Run closes the store when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	suites := []struct {
		name  string
		tests []test
	}{
		{"Events", eventTests},
		{"Begin", beginTests},
		{"CompleteAndBegin", fusedTests},
		{"Outbox", outboxTests},
		{"Ledger", ledgerTests},
		{"LapsedGrants", lapsedTests},
		{"Jobs", jobTests},
		{"Catalog", catalogTests},
		{"Admin", adminTests},
	}
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			for _, tc := range s.tests {
				t.Run(tc.name, func(t *testing.T) {
					// Each subtest has a store of its own; running them side
					// by side hides PostgreSQL's slow CREATE DATABASE.
					t.Parallel()
					st := open(t)
					t.Cleanup(func() { _ = st.Close() })
					tc.fn(t, st)
				})
			}
		})
	}
}

type test struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// TableTexter is implemented by backends that can render every stored row
// as text; the erasure test uses it to prove a subject key is gone from
// every table, including ones added after this suite was written.
type TableTexter interface {
	TableText(ctx context.Context) (map[string][]string, error)
}

func ok(t *testing.T, err error, doing string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", doing, err)
	}
}

func wantErr(t *testing.T, err, target error, doing string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", doing, err, target)
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func key(conn, id string) store.EventKey { return store.EventKey{Connector: conn, EventID: id} }

func keys(conn string, n int) []store.EventKey {
	out := make([]store.EventKey, n)
	for i := range out {
		out[i] = key(conn, fmt.Sprintf("ev-%03d", i))
	}
	return out
}
