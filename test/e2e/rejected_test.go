package e2e

import (
	"database/sql"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

// One malformed change in a Meta leadgen batch is rejected alone: the two
// valid leads become fetch jobs and reach Kafka, the answer is 200 with the
// rejection counted, and nothing is stored for the broken change. Before,
// the whole delivery was refused with 400 and Meta's retries failed the
// same way until it dropped the batch after 36 h, valid leads included.
func TestMetaBatchWithOneBadChangeKeepsTheOthers(t *testing.T) {
	var mu sync.Mutex
	var fetched []string
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetched = append(fetched, filepath.Base(r.URL.Path))
		mu.Unlock()
		b, _ := os.ReadFile(filepath.Join(gwtest.RepoRoot(t), "connectors", "meta", "testdata", "graph", "lead_ok.json"))
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	defer graph.Close()
	conn := metaConnector(t, graph.URL, `{key: marketing_optin, purpose: marketing_email, notice: {id: meta-form-notice, version: "1"}}`)
	gw := startGateway(t, gwtest.Options{Connectors: map[string]string{"meta.yaml": conn}})

	// Two valid leadgen changes, one without leadgen_id (its ad_id holds
	// a planted marker), and one feed change Meta also sends.
	body := platformBody(t, "meta", "leadgen_batched_one_bad.json")
	sig := "sha256=" + hex.EncodeToString(hmacSum("meta-app-secret", body))
	r := postRaw(t, gw.URL+"/webhooks/meta-a", body, map[string]string{"X-Hub-Signature-256": sig})
	if r.Status != http.StatusOK || r.Summary("jobs") != 2 || r.Summary("rejected") != 1 || r.Summary("ignored") != 1 {
		t.Fatalf("batch with one bad change: %d %s, want 200 with jobs 2, rejected 1, ignored 1", r.Status, r.Raw)
	}
	if strings.Contains(r.Raw, "pii.marker") {
		t.Errorf("the answer carries payload content: %s", r.Raw)
	}

	msgs := kafkatest.Consume(t, gw.Brokers, "crm.leads.v1", 2, 20*time.Second)
	var ids []string
	for _, m := range msgs {
		ids = append(ids, decodeValue(t, m.Value).Source["event_id"])
	}
	slices.Sort(ids)
	if want := []string{"222222222222221", "222222222222223"}; !slices.Equal(ids, want) {
		t.Errorf("leads on crm.leads.v1: %v, want %v", ids, want)
	}
	mu.Lock()
	slices.Sort(fetched)
	got := slices.Clone(fetched)
	mu.Unlock()
	if want := []string{"222222222222221", "222222222222223"}; !slices.Equal(got, want) {
		t.Errorf("leads fetched from the Graph API: %v, want %v", got, want)
	}

	// Nothing is stored for the broken change: two jobs, two decisions.
	db, err := sql.Open("postgres", gw.DB)
	gwtest.Must(t, err)
	defer db.Close()
	var jobs int
	gwtest.Must(t, db.QueryRow(`SELECT count(*) FROM fetch_jobs WHERE connector = 'meta-a'`).Scan(&jobs))
	if jobs != 2 {
		t.Errorf("%d fetch jobs stored, want 2", jobs)
	}
	ds := gw.API(http.MethodGet, "/decisions?connector=meta-a", nil).Must(t, http.StatusOK)
	if list, _ := ds.Body["decisions"].([]any); len(list) != 2 {
		t.Errorf("decisions: %s, want 2", ds.Raw)
	}

	// One warn line for the delivery, with the count and the first
	// reason; the rejection is counted by connector and outcome only.
	logs := gw.Logs()
	if n := strings.Count(logs, "delivery items rejected"); n != 1 {
		t.Errorf("%d log lines for the rejection, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "entry[0].changes[1].value.leadgen_id is missing") || strings.Contains(logs, "pii.marker") {
		t.Errorf("the rejection log line must name the position and never the content:\n%s", logs)
	}
	resp, err := gwtest.Client.Get(gw.URL + "/metrics")
	gwtest.Must(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `consentgate_records_total{connector="meta-a",outcome="rejected"} 1`) {
		t.Errorf("metrics lack the rejected count:\n%s", grepLines(string(metrics), "consentgate_records_total"))
	}

	// A delivery whose only change is broken is still refused: the sender
	// can fix it.
	only := platformBody(t, "meta", "leadgen_missing_id.json")
	sig = "sha256=" + hex.EncodeToString(hmacSum("meta-app-secret", only))
	if r := postRaw(t, gw.URL+"/webhooks/meta-a", only, map[string]string{"X-Hub-Signature-256": sig}); r.Status != http.StatusBadRequest {
		t.Errorf("delivery with only a bad change: %d %s, want 400", r.Status, r.Raw)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
