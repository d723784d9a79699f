package adminapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

// seedDecisions stores decisions at fixed times through the same
// transaction the pipeline uses.
func seedDecisions(t *testing.T, h *consentHarness, base time.Time) {
	t.Helper()
	var ds []store.Decision
	add := func(id, connector, outcome string, at time.Time) {
		ds = append(ds, store.Decision{ID: id, At: at, Connector: connector, EventID: "evt-" + id, SubjectKey: "sk_x",
			Outcome: outcome, Rules: []string{"record.forward"}, Fields: map[string]string{"email": "keep"}, PolicyVersion: "v1"})
	}
	add("d1", "web", "forwarded", base.Add(5*time.Minute))
	add("d2", "web", "dropped", base.Add(10*time.Minute))
	add("d3", "meta", "forwarded", base.Add(70*time.Minute))
	add("d4", "web", "queued", base.Add(130*time.Minute))
	add("d5", "web", "forwarded", base.Add(135*time.Minute))
	if err := h.Store.CompleteEvents(t.Context(), store.Completion{Decisions: ds}); err != nil {
		t.Fatal(err)
	}
}

func ids(r gwtest.Response) []string {
	list, _ := r.Path("decisions").([]any)
	var out []string
	for _, d := range list {
		out = append(out, d.(map[string]any)["id"].(string))
	}
	return out
}

func TestDecisionLogFilters(t *testing.T) {
	h := newConsentHarness(t, harnessOptions{})
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	seedDecisions(t, h, base)
	ts := func(d time.Duration) string { return url.QueryEscape(base.Add(d).Format(time.RFC3339)) }

	cases := []struct {
		query string
		want  string
	}{
		{"", "d5 d4 d3 d2 d1"},
		{"?connector=web", "d5 d4 d2 d1"},
		{"?outcome=forwarded", "d5 d3 d1"},
		{"?connector=web&outcome=forwarded", "d5 d1"},
		{"?since=" + ts(time.Hour), "d5 d4 d3"},
		{"?until=" + ts(time.Hour), "d2 d1"},
		{"?since=" + ts(10*time.Minute) + "&until=" + ts(130*time.Minute), "d3 d2"},
		{"?limit=2", "d5 d4"},
	}
	for _, c := range cases {
		r := h.call("marketer", "GET", "/decisions"+c.query, nil).Must(t, 200)
		if got := strings.Join(ids(r), " "); got != c.want {
			t.Errorf("GET /decisions%s = %s, want %s", c.query, got, c.want)
		}
	}
	r := h.call("auditor", "GET", "/decisions?limit=2", nil).Must(t, 200)
	if r.Path("more") != true {
		t.Errorf("a full page must say more=true")
	}
	if d := r.Path("decisions").([]any)[0].(map[string]any); d["policy_version"] != "v1" || d["fields"].(map[string]any)["email"] != "keep" {
		t.Errorf("decision = %v", d)
	}
}

func TestDecisionLogBadParameters(t *testing.T) {
	h := newConsentHarness(t, harnessOptions{})
	cases := []struct{ path, field string }{
		{"/decisions?since=yesterday", "since"},
		{"/decisions?until=2026-13-01T00:00:00Z", "until"},
		{"/decisions?since=2026-11-20T10:00:00Z&until=2026-11-20T09:00:00Z", "until"},
		{"/decisions?outcome=maybe", "outcome"},
		{"/decisions?limit=0", "limit"},
		{"/decisions?limit=5000", "limit"},
		{"/decisions?limit=ten", "limit"},
		{"/decisions/stats?bucket=soon", "bucket"},
		{"/decisions/stats?bucket=10s", "bucket"},
		{"/decisions/stats?bucket=1m&since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z", "bucket"},
		{"/decisions/stats?since=2999-01-01T00:00:00Z", "since"},
	}
	for _, c := range cases {
		r := h.call("privacy", "GET", c.path, nil)
		if r.Status != http.StatusBadRequest || r.ErrorCode() != "invalid" || r.FieldError(c.field) == "" {
			t.Errorf("GET %s: %d %s, want 400 naming %s", c.path, r.Status, r.Raw, c.field)
		}
	}
}

// Stats count every outcome per bucket, empty buckets included, so a chart
// can draw them directly.
func TestDecisionStats(t *testing.T) {
	h := newConsentHarness(t, harnessOptions{})
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	seedDecisions(t, h, base)
	q := "?bucket=1h&since=" + url.QueryEscape(base.Format(time.RFC3339)) + "&until=" + url.QueryEscape(base.Add(4*time.Hour).Format(time.RFC3339))
	r := h.call("marketer", "GET", "/decisions/stats"+q, nil).Must(t, 200)
	buckets, _ := r.Path("buckets").([]any)
	if len(buckets) != 4 {
		t.Fatalf("%d buckets, want 4: %s", len(buckets), r.Raw)
	}
	want := []map[string]float64{
		{"forwarded": 1, "dropped": 1, "queued": 0, "test": 0},
		{"forwarded": 1, "dropped": 0, "queued": 0, "test": 0},
		{"forwarded": 1, "dropped": 0, "queued": 1, "test": 0},
		{"forwarded": 0, "dropped": 0, "queued": 0, "test": 0},
	}
	for i, b := range buckets {
		bm := b.(map[string]any)
		if bm["start"] != base.Add(time.Duration(i)*time.Hour).Format(time.RFC3339) {
			t.Errorf("bucket %d starts %v", i, bm["start"])
		}
		counts := bm["counts"].(map[string]any)
		for o, n := range want[i] {
			if counts[o] != n {
				t.Errorf("bucket %d %s = %v, want %v", i, o, counts[o], n)
			}
		}
	}
	if r.Path("totals", "forwarded") != 3.0 || r.Path("bucket_seconds") != 3600.0 || r.Path("truncated") != false {
		t.Errorf("totals/bucket/truncated: %s", r.Raw)
	}
	r = h.call("marketer", "GET", "/decisions/stats"+q+"&connector=meta", nil).Must(t, 200)
	if r.Path("totals", "forwarded") != 1.0 {
		t.Errorf("connector filter: totals %v", r.Path("totals"))
	}
}
