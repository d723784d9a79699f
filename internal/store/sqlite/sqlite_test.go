package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/consentgate/consentgate/internal/store/storetest"
)

func open(tb testing.TB) *sqlite.Store {
	s, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "data", "consentgate.db"))
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
