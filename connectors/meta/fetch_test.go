package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/ingest/ingesttest"
)

type graphRoute struct {
	status int
	file   string // under testdata/graph; body used when empty
	body   string
	header map[string]string
}

// fakeGraph serves documented-shape Graph responses by lead id and checks
// that every call authenticates the way Meta expects.
func fakeGraph(t *testing.T, routes map[string]graphRoute) *httptest.Server {
	t.Helper()
	m := hmac.New(sha256.New, []byte(testAppSecret))
	m.Write([]byte(testPageToken))
	wantProof := hex.EncodeToString(m.Sum(nil))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+testPageToken {
			t.Errorf("Authorization header = %q", got)
		}
		q := r.URL.Query()
		if q.Get("access_token") != "" {
			t.Errorf("token sent in the URL")
		}
		if q.Get("appsecret_proof") != wantProof {
			t.Errorf("appsecret_proof = %q, want %q", q.Get("appsecret_proof"), wantProof)
		}
		if !strings.Contains(q.Get("fields"), "custom_disclaimer_responses") || !strings.Contains(q.Get("fields"), "field_data") {
			t.Errorf("fields = %q, want field_data and custom_disclaimer_responses", q.Get("fields"))
		}
		id, ok := strings.CutPrefix(r.URL.Path, "/v26.0/")
		rt, known := routes[id]
		if !ok || !known {
			t.Errorf("unexpected Graph call %s", r.URL.Path)
			http.NotFound(w, r)
			return
		}
		body := []byte(rt.body)
		if rt.file != "" {
			var err error
			if body, err = os.ReadFile(filepath.Join("testdata", "graph", rt.file)); err != nil {
				t.Errorf("read %s: %v", rt.file, err)
			}
		}
		for k, v := range rt.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(rt.status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func openFetcher(t *testing.T, srv *httptest.Server, mutate func(*Config)) *Connector {
	t.Helper()
	cfg := DefaultConfig()
	cfg.BaseURL = srv.URL + "/"
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := Open(cfg, testEnv(allSecrets(), srv.Client()))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return c
}

func TestFetchLead(t *testing.T) {
	srv := fakeGraph(t, map[string]graphRoute{
		"222222222222222":      {status: 200, file: "lead_ok.json"},
		"18446744073709551615": {status: 200, file: "lead_variants.json"},
	})
	conn := openFetcher(t, srv, func(c *Config) { c.TestFormIDs = []string{"9223372036854775807"} })
	jobTime := time.Date(2026, 1, 15, 10, 29, 0, 0, time.UTC)

	for _, tc := range []struct {
		name string
		job  ingest.FetchJob
		want ingesttest.WantRecord
	}{
		{
			name: "answers, multi-value answer and disclaimer checkboxes",
			job:  ingest.FetchJob{EventID: "222222222222222", Ref: "222222222222222", Form: "333333333333333", OccurredAt: jobTime},
			want: ingesttest.WantRecord{
				EventID: "222222222222222", Kind: "lead", Type: "meta.leadgen", Form: "333333333333333",
				OccurredAt: "2026-01-15T10:29:50Z",
				Fields: map[string]string{
					"full_name": "Zoë Ångström", "email": "zoe@example.com", "phone_number": "+4915550100",
					"state": "Bayern", "zip_code": "80331", "which_products_interest_you?": "solar, heat_pump",
					"lead.ad_id": "444444444444444", "lead.form_id": "333333333333333",
					"lead.is_organic": "false", "lead.platform": "fb",
				},
				Checkboxes: map[string]bool{"marketing_optin": true, "partner_share": false},
			},
		},
		{
			name: "numeric ids, tolerant checkbox answers, test form, job time when created_time is absent",
			job:  ingest.FetchJob{EventID: "18446744073709551615", Ref: "18446744073709551615", OccurredAt: jobTime},
			want: ingesttest.WantRecord{
				EventID: "18446744073709551615", Kind: "lead", Type: "meta.leadgen", Form: "9223372036854775807",
				OccurredAt: "2026-01-15T10:29:00Z",
				Fields: map[string]string{
					"email": "a@example.com", "lead.form_id": "9223372036854775807", "lead.is_organic": "true",
				},
				Checkboxes: map[string]bool{
					"bool_true": true, "bool_false": false, "string_zero": false, "string_true": true, "missing_answer": false,
				},
				Test: true,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := conn.Fetch(t.Context(), tc.job)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if len(recs) != 1 {
				t.Fatalf("got %d records, want 1", len(recs))
			}
			if got := ingesttest.FromRecord(recs[0]); !reflect.DeepEqual(got, tc.want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				w, _ := json.MarshalIndent(tc.want, "", "  ")
				t.Errorf("record differs\n got: %s\nwant: %s", g, w)
			}
		})
	}
}

func TestFetchFailures(t *testing.T) {
	retryDate := testNow.Add(90 * time.Second).Format(http.TimeFormat)
	srv := fakeGraph(t, map[string]graphRoute{
		"1001": {status: 429, file: "error_throttled.json", header: map[string]string{"Retry-After": "120"}},
		"1002": {status: 400, file: "error_leadgen_limit.json", header: map[string]string{
			"X-Business-Use-Case-Usage": `{"111111111111111":[{"type":"leadgen","call_count":100,"total_cputime":3,"total_time":4,"estimated_time_to_regain_access":7}]}`}},
		"1003": {status: 403, file: "error_throttled.json"},
		"1004": {status: 429, body: "Too Many Requests", header: map[string]string{"Retry-After": retryDate}},
		"1005": {status: 500, body: "<html>upstream broke</html>"},
		"1006": {status: 500, file: "error_transient.json"},
		"1007": {status: 400, file: "error_oauth.json"},
		"1008": {status: 403, file: "error_permission.json"},
		"1009": {status: 400, body: `{"error":{"message":"Unsupported get request. Object with ID '1009' does not exist","type":"GraphMethodException","code":100,"error_subcode":33}}`},
		"1010": {status: 200, body: "<html>not json</html>"},
		"1011": {status: 503, body: "unavailable", header: map[string]string{"Retry-After": "30"}},
		// Graph's answer is remote text: type and fbtrace_id are named only
		// in their documented shapes, so a marker planted in them is dropped.
		"1012": {status: 400, file: "error_hostile.json"},
		"1013": {status: 400, file: "error_unknown_type.json"},
	})
	conn := openFetcher(t, srv, nil)

	const retry, permanent = "retry", "permanent"
	for _, tc := range []struct {
		ref   string
		want  string        // retry | permanent | retry-after
		after time.Duration // for retry-after
		msg   string
	}{
		{ref: "1001", want: "retry-after", after: 120 * time.Second, msg: "HTTP 429"},
		{ref: "1002", want: "retry-after", after: 7 * time.Minute, msg: "graph error code 80005"},
		{ref: "1003", want: "retry-after", after: 5 * time.Minute, msg: "graph error code 17"},
		{ref: "1004", want: "retry-after", after: 90 * time.Second},
		{ref: "1005", want: retry, msg: "HTTP 500"},
		{ref: "1006", want: retry, msg: "graph error code 2"},
		{ref: "1007", want: permanent, msg: "graph error code 190 subcode 463 (OAuthException), fbtrace_id AbCdEfGh123"},
		{ref: "1008", want: permanent, msg: "graph error code 10"},
		{ref: "1009", want: permanent, msg: "graph error code 100"},
		{ref: "1010", want: retry, msg: "lead response"},
		{ref: "1011", want: retry, msg: "HTTP 503"},
		{ref: "1012", want: permanent, msg: "fetch meta lead 1012: HTTP 400, graph error code 100 subcode 33: permanent failure"},
		{ref: "1013", want: permanent, msg: "fetch meta lead 1013: HTTP 400, graph error code 100, fbtrace_id AbCdEfGh128: permanent failure"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			_, err := conn.Fetch(t.Context(), ingest.FetchJob{EventID: tc.ref, Ref: tc.ref})
			if err == nil {
				t.Fatal("Fetch succeeded, want an error")
			}
			var ra *ingest.RetryAfterError
			isRA := errors.As(err, &ra)
			isPerm := errors.Is(err, ingest.ErrPermanent)
			switch tc.want {
			case "retry-after":
				if !isRA || ra.After != tc.after {
					t.Errorf("err = %v, want RetryAfterError after %s", err, tc.after)
				}
			case retry:
				if isRA || isPerm {
					t.Errorf("err = %v, want a plain retryable error", err)
				}
			case permanent:
				if isRA || !isPerm {
					t.Errorf("err = %v, want ErrPermanent", err)
				}
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want it to mention %q", err, tc.msg)
			}
			assertNoSecrets(t, err)
		})
	}
}

func TestFetchRefusesNonNumericRef(t *testing.T) {
	srv := fakeGraph(t, nil)
	conn := openFetcher(t, srv, nil)
	for _, ref := range []string{"", "../me", "123?fields=x", "12 3"} {
		_, err := conn.Fetch(t.Context(), ingest.FetchJob{EventID: "x", Ref: ref})
		if !errors.Is(err, ingest.ErrPermanent) {
			t.Errorf("Fetch(ref %q) = %v, want ErrPermanent", ref, err)
		}
	}
}

func TestFetchNetworkFailureIsRetryableAndClean(t *testing.T) {
	srv := fakeGraph(t, nil)
	conn := openFetcher(t, srv, nil)
	srv.Close()
	_, err := conn.Fetch(t.Context(), ingest.FetchJob{EventID: "222222222222222", Ref: "222222222222222"})
	if err == nil || errors.Is(err, ingest.ErrPermanent) {
		t.Fatalf("Fetch against a closed server = %v, want a retryable error", err)
	}
	assertNoSecrets(t, err)
}

func TestFetchTimeoutIsRetryable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	conn := openFetcher(t, srv, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	_, err := conn.Fetch(t.Context(), ingest.FetchJob{EventID: "1", Ref: "1"})
	if err == nil || errors.Is(err, ingest.ErrPermanent) {
		t.Fatalf("Fetch on a hung server = %v, want a retryable error", err)
	}
	assertNoSecrets(t, err)
}

// assertNoSecrets checks an error text carries neither credentials nor
// anything Graph said in prose (which may quote ids or user data).
func assertNoSecrets(t *testing.T, err error) {
	t.Helper()
	m := hmac.New(sha256.New, []byte(testAppSecret))
	m.Write([]byte(testPageToken))
	for _, s := range []string{testPageToken, testAppSecret, hex.EncodeToString(m.Sum(nil)), "appsecret_proof", "Session has expired", "zoe@example.com", "zz-marker", "Zzmarker"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error text leaks %q: %v", s, err)
		}
	}
}
