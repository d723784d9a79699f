package groupcommit_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/groupcommit"
	"github.com/consentgate/consentgate/internal/store/postgres"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/consentgate/consentgate/internal/store/storetest"
	"github.com/consentgate/consentgate/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openSQLite(tb testing.TB) store.Store {
	s, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "consentgate.db"))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func openPostgres(tb testing.TB) store.Store {
	s, err := postgres.Open(tb.Context(), pgtest.URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// The wrapper must be invisible to the contract: same suite, unchanged.
func TestContractSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return groupcommit.Wrap(openSQLite(t), groupcommit.Options{Writers: 1}) // as the gateway runs it
	})
}

func TestContractPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return groupcommit.Wrap(openPostgres(t), groupcommit.Options{})
	})
}

// BenchmarkClaimComplete compares one accepted webhook's store work with
// and without group commit, on both backends:
//
//	go test -run '^$' -bench ClaimComplete ./internal/store/groupcommit/
func BenchmarkClaimComplete(b *testing.B) {
	backends := []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}}
	for _, be := range backends {
		b.Run(be.name+"/direct", func(b *testing.B) {
			s := be.open(b)
			defer s.Close()
			storetest.BenchClaimComplete(b, s)
		})
		b.Run(be.name+"/groupcommit", func(b *testing.B) {
			o := groupcommit.Options{}
			if be.name == "sqlite" {
				o.Writers = 1
			}
			s := groupcommit.Wrap(be.open(b), o)
			defer s.Close()
			storetest.BenchClaimComplete(b, s)
			st, _ := groupcommit.StatsOf(s)
			if st.Claim.Batches > 0 {
				b.ReportMetric(float64(st.Claim.Calls)/float64(st.Claim.Batches), "claims/batch")
			}
		})
	}
}

// BenchmarkBegin is the webhook path's begin through group commit, with
// and without a linked identifier per record (what reading a phone's
// refusals beside the e-mail's statements costs the store):
//
//	go test -run '^$' -bench Begin -benchtime 5s ./internal/store/groupcommit/
func BenchmarkBegin(b *testing.B) {
	backends := []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}}
	for _, be := range backends {
		for _, linked := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/linked=%v", be.name, linked), func(b *testing.B) {
				o := groupcommit.Options{}
				if be.name == "sqlite" {
					o.Writers = 1
				}
				s := groupcommit.Wrap(be.open(b), o)
				defer s.Close()
				storetest.BenchBegin(b, s, linked)
			})
		}
	}
}
