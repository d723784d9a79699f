package fault

import (
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/consentgate/consentgate/internal/testutil/gwtest"
	"github.com/consentgate/consentgate/internal/testutil/pgtest"
)

// PostgreSQL drops every session of the gateway's database, three times,
// mid-load: the gateway recovers without a restart, keeps answering, and
// everything it answered 200 reaches the topic.
func TestPostgresSessionsTerminatedMidLoad(t *testing.T) {
	gw := startGateway(t, gwtest.Options{})
	l := startLoad(func() string { return gw.URL }, "pgterm", 8, 300, 20*time.Millisecond)
	defer l.finish()

	gwtest.WaitFor(t, 20*time.Second, "first records acknowledged", func() bool { return l.ackedCount() >= 30 })
	for range 3 {
		pgtest.Terminate(t, gw.DB)
		n := l.ackedCount()
		gwtest.WaitFor(t, 30*time.Second, "acknowledgements to resume after the sessions were terminated", func() bool {
			return l.ackedCount() >= n+20
		})
	}
	l.finish()

	// Still serving and ready without a restart.
	r := gw.Post("web", lead("pgterm-after", "after.terminate@example.com", "Paula"), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("after the terminations: status %d body %s", r.Status, r.Raw)
	}
	l.acked["pgterm-after"], l.sent["pgterm-after"] = true, true
	resp, err := gwtest.Client.Get(gw.URL + "/readyz")
	gwtest.Must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz %d after the database came back", resp.StatusCode)
	}
	got := readTopic(t, gw.Brokers, leadsTopic, l.acked, 30*time.Second)
	checkDelivered(t, l, got, "web")
	for st, n := range l.statuses {
		if st != http.StatusOK && st != http.StatusServiceUnavailable {
			t.Errorf("%d requests answered %d; only 200 or 503 (retry) are acceptable", n, st)
		}
	}
	for _, b := range l.bodies {
		if strings.Contains(b, "@example.com") || strings.Contains(b, "postgres") {
			t.Errorf("a 503 body leaks data or internals: %s", b)
		}
	}
}

// blockDatabase refuses (or allows again) new connections to the database
// of dbURL and ends the existing ones: the store is unreachable until
// allowed, as during a failover.
func blockDatabase(t testing.TB, dbURL string, block bool) {
	t.Helper()
	u, err := url.Parse(dbURL)
	gwtest.Must(t, err)
	name := strings.TrimPrefix(u.Path, "/")
	admin, err := sql.Open("postgres", pgtest.ServerURL())
	gwtest.Must(t, err)
	defer admin.Close()
	allow := "true"
	if block {
		allow = "false"
	}
	_, err = admin.ExecContext(t.Context(), "ALTER DATABASE "+pq.QuoteIdentifier(name)+" ALLOW_CONNECTIONS "+allow)
	gwtest.Must(t, err)
	if block {
		pgtest.Terminate(t, dbURL)
		t.Cleanup(func() {
			a, err := sql.Open("postgres", pgtest.ServerURL())
			if err == nil {
				_, _ = a.Exec("ALTER DATABASE " + pq.QuoteIdentifier(name) + " ALLOW_CONNECTIONS true")
				a.Close()
			}
		})
	}
}
