package linkedin

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/ingest/ingesttest"
)

const (
	leadID      = "249592fc-d272-44ba-a7db-c2bdce579507-6"
	leadURN     = leadURNPrefix + leadID
	testLeadID  = "7c9e6679-7425-40de-944b-e07fc1f90ae7-1"
	formV1      = "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:7234246,1)"
	leadPath    = "/rest/leadFormResponses/" + leadID
	testLeadPth = "/rest/leadFormResponses/" + testLeadID
	formPath    = "/rest/leadForms/7234246"
)

type fakeResp struct {
	status int
	header map[string]string
	body   []byte
}

// fakeLinkedIn serves scripted answers per path: the n-th call to a path
// gets its n-th answer, the last one repeating. It refuses requests that
// lack the versioned-API headers the way LinkedIn does.
type fakeLinkedIn struct {
	t      *testing.T
	mu     sync.Mutex
	routes map[string][]fakeResp
	calls  map[string]int
}

func newFake(t *testing.T, mutate ...func(*Config)) (*fakeLinkedIn, *Connector) {
	f := &fakeLinkedIn{t: t, routes: map[string][]fakeResp{}, calls: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := openTest(t, func(cfg *Config) {
		cfg.BaseURL = srv.URL
		for _, m := range mutate {
			m(cfg)
		}
	}, srv.Client())
	return f, c
}

func (f *fakeLinkedIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.Header.Get("Authorization") != "Bearer "+testAccessToken ||
		r.Header.Get("LinkedIn-Version") != DefaultConfig().APIVersion || r.Header.Get("X-Restli-Protocol-Version") != "2.0.0" {
		f.t.Errorf("request %s %s lacks LinkedIn's required headers: %v", r.Method, r.URL.Path, r.Header)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	path := r.URL.EscapedPath()
	f.mu.Lock()
	f.calls[path]++
	n := f.calls[path]
	script := f.routes[path]
	f.mu.Unlock()
	if len(script) == 0 {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	resp := script[min(n, len(script))-1]
	for k, v := range resp.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.status)
	w.Write(resp.body)
}

func (f *fakeLinkedIn) on(path string, resps ...fakeResp) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[path] = resps
}

func (f *fakeLinkedIn) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

func fixture(t *testing.T, name string) fakeResp {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "api", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return fakeResp{status: http.StatusOK, body: b}
}

func status(code int, header map[string]string) fakeResp {
	// LinkedIn's error shape; the connector must not need (or echo) it.
	return fakeResp{status: code, header: header, body: []byte(`{"status":` + strconv.Itoa(code) + `,"serviceErrorCode":100,"message":"denied"}`)}
}

func jobFor(ref string) ingest.FetchJob {
	return ingest.FetchJob{EventID: ref + "|CREATED", Ref: ref, Form: formV1, OccurredAt: time.UnixMilli(1689894600000).UTC()}
}

func TestFetchLeadWithConsents(t *testing.T) {
	f, c := newFake(t)
	f.on(leadPath, fixture(t, "lead_with_consents.json"))
	f.on(formPath, fixture(t, "form_7234246_v1.json"))

	recs, err := c.Fetch(t.Context(), jobFor(leadURN))
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	want := []ingesttest.WantRecord{{
		EventID:    leadURN + "|CREATED",
		Kind:       "lead",
		Type:       "linkedin.lead",
		Form:       formV1,
		OccurredAt: "2023-07-20T23:09:59.288Z",
		Fields: map[string]string{
			"leadGenFormResponse":                 leadURN,
			"versionedLeadGenFormUrn":             formV1,
			"id":                                  leadID,
			"submitter":                           "urn:li:person:BcLKblgopR",
			"leadType":                            "SPONSORED",
			"owner.sponsoredAccount":              "urn:li:sponsoredAccount:1234567",
			"associatedEntity.associatedCreative": "urn:li:sponsoredCreative:241257736",
			"leadMetadata.sponsoredLeadMetadata.campaign": "urn:li:sponsoredCampaign:198356826",
			"hidden.utm_campaign":                         "otoño-2023",
			"FIRST_NAME":                                  "Zoë",
			"LAST_NAME":                                   "García Núñez",
			"EMAIL":                                       "zoe.garcia@example.com",
			"JOB_TITLE":                                   "Ingeniera sénior",
			"PHONE_NUMBER":                                "+34 612 345 678",
			"COMPANY_NAME":                                "株式会社テスト",
			"COUNTRY":                                     "ES",
			"question.10707234246":                        "Rojo; Verde",
			"question.10807234246":                        "Ciudad de México 🇲🇽",
			"question.99907234246":                        "sin etiqueta",
		},
		Checkboxes: map[string]bool{"0": true, "1": false, "2": true},
	}}
	if got := fromRecords(recs); !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("records differ\n got: %s\nwant: %s", g, w)
	}
}

func TestFetchTestLeadWithoutConsents(t *testing.T) {
	f, c := newFake(t)
	f.on(testLeadPth, fixture(t, "lead_test_no_consents.json"))
	f.on(formPath, fixture(t, "form_7234246_v1.json"))

	recs, err := c.Fetch(t.Context(), jobFor(leadURNPrefix+testLeadID))
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if len(recs) != 1 || !recs[0].Test || recs[0].Checkboxes != nil {
		t.Fatalf("want one test record with no checkboxes (silence), got %+v", recs)
	}
	if got := recs[0].Fields["EMAIL"]; got != "test@example.com" {
		t.Errorf("EMAIL = %q", got)
	}
	if got := recs[0].OccurredAt.Format(time.RFC3339Nano); got != "2024-10-27T03:33:20.123Z" {
		t.Errorf("OccurredAt = %s, want submittedAt", got)
	}
}

func TestFetchCachesFormVersion(t *testing.T) {
	f, c := newFake(t)
	f.on(leadPath, fixture(t, "lead_with_consents.json"))
	f.on(testLeadPth, fixture(t, "lead_test_no_consents.json"))
	f.on(formPath, fixture(t, "form_7234246_v1.json"))

	for _, ref := range []string{leadURN, leadURNPrefix + testLeadID, leadURN} {
		recs, err := c.Fetch(t.Context(), jobFor(ref))
		if err != nil {
			t.Fatalf("fetch %s: %v", ref, err)
		}
		if recs[0].Fields["EMAIL"] == "" {
			t.Fatalf("fetch %s: EMAIL not labelled from the cached form", ref)
		}
	}
	if n := f.count(formPath); n != 1 {
		t.Errorf("form endpoint called %d times for one form version, want 1", n)
	}
	if n := f.count(leadPath); n != 2 {
		t.Errorf("lead endpoint called %d times, want 2 (leads are not cached)", n)
	}
}

func TestFetchFormCacheIsBounded(t *testing.T) {
	f, c := newFake(t)
	c.forms = newFormCache(1)
	v2 := strings.Replace(string(fixture(t, "lead_test_no_consents.json").body), "7234246,1)", "7234246,2)", 1)
	f.on(leadPath, fixture(t, "lead_with_consents.json"))
	f.on(testLeadPth, fakeResp{status: http.StatusOK, body: []byte(v2)})
	form := fixture(t, "form_7234246_v1.json")
	form2 := fakeResp{status: http.StatusOK, body: []byte(strings.Replace(string(form.body), `"versionId": 1`, `"versionId": 2`, 1))}
	f.on(formPath, form, form2, form)

	for _, ref := range []string{leadURN, leadURNPrefix + testLeadID, leadURN} {
		if _, err := c.Fetch(t.Context(), jobFor(ref)); err != nil {
			t.Fatalf("fetch %s: %v", ref, err)
		}
	}
	if n := f.count(formPath); n != 3 {
		t.Errorf("form endpoint called %d times, want 3 (v1, v2, v1 again after eviction)", n)
	}
	if c.forms.len() != 1 {
		t.Errorf("cache holds %d forms, want at most 1", c.forms.len())
	}
}

func TestFetchRetryAfterOn429(t *testing.T) {
	f, c := newFake(t)
	f.on(leadPath, status(http.StatusTooManyRequests, map[string]string{"Retry-After": "120"}))
	_, err := c.Fetch(t.Context(), jobFor(leadURN))
	var ra *ingest.RetryAfterError
	if !errors.As(err, &ra) {
		t.Fatalf("err = %v, want *ingest.RetryAfterError", err)
	}
	if ra.After != 120*time.Second {
		t.Errorf("After = %s, want 2m0s", ra.After)
	}
	if errors.Is(err, ingest.ErrPermanent) {
		t.Error("429 must not be permanent")
	}
}

func TestFetchRetryAfterHTTPDate(t *testing.T) {
	f, c := newFake(t)
	at := testNow.Add(90 * time.Second).Format(http.TimeFormat)
	f.on(leadPath, fixture(t, "lead_with_consents.json"))
	f.on(formPath, status(http.StatusTooManyRequests, map[string]string{"Retry-After": at}))
	_, err := c.Fetch(t.Context(), jobFor(leadURN))
	var ra *ingest.RetryAfterError
	if !errors.As(err, &ra) || ra.After != 90*time.Second {
		t.Fatalf("err = %v, want RetryAfterError of 90s from the form endpoint", err)
	}
}

func TestFetchServerErrorThenSuccess(t *testing.T) {
	f, c := newFake(t)
	f.on(leadPath, status(http.StatusInternalServerError, nil), fixture(t, "lead_with_consents.json"))
	f.on(formPath, status(http.StatusBadGateway, nil), fixture(t, "form_7234246_v1.json"))

	for attempt := 1; attempt <= 2; attempt++ {
		_, err := c.Fetch(t.Context(), jobFor(leadURN))
		var ra *ingest.RetryAfterError
		if err == nil || errors.Is(err, ingest.ErrPermanent) || errors.As(err, &ra) {
			t.Fatalf("attempt %d: err = %v, want a plain retryable error", attempt, err)
		}
	}
	recs, err := c.Fetch(t.Context(), jobFor(leadURN))
	if err != nil || len(recs) != 1 || recs[0].Fields["EMAIL"] == "" {
		t.Fatalf("third attempt: recs=%v err=%v, want the lead", recs, err)
	}
}

func TestFetchPermanentErrors(t *testing.T) {
	for _, code := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUpgradeRequired} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			f, c := newFake(t)
			f.on(leadPath, status(code, nil))
			_, err := c.Fetch(t.Context(), jobFor(leadURN))
			if !errors.Is(err, ingest.ErrPermanent) {
				t.Fatalf("err = %v, want ErrPermanent", err)
			}
		})
	}
	t.Run("form forbidden", func(t *testing.T) {
		f, c := newFake(t)
		f.on(leadPath, fixture(t, "lead_with_consents.json"))
		f.on(formPath, status(http.StatusForbidden, nil))
		_, err := c.Fetch(t.Context(), jobFor(leadURN))
		if !errors.Is(err, ingest.ErrPermanent) {
			t.Fatalf("err = %v, want ErrPermanent", err)
		}
		if strings.Contains(err.Error(), "zoe.garcia") || strings.Contains(err.Error(), testAccessToken) {
			t.Errorf("error leaks PII or the token: %v", err)
		}
	})
	t.Run("bad job ref", func(t *testing.T) {
		_, c := newFake(t)
		_, err := c.Fetch(t.Context(), jobFor("urn:li:person:AbCdEf"))
		if !errors.Is(err, ingest.ErrPermanent) {
			t.Fatalf("err = %v, want ErrPermanent", err)
		}
	})
}

// TestFetchErrorsQuoteNoAnswer: a fetch error is logged and stored as
// fetch_jobs.last_error, so it names LinkedIn's status, never what the
// answer said (an error body may reflect request data or personal data).
func TestFetchErrorsQuoteNoAnswer(t *testing.T) {
	const marker = "zz-marker@example.com"
	hostile := []byte(`{"status":400,"serviceErrorCode":100,"code":"` + marker + `","message":"` + marker + `"}`)
	for _, tc := range []struct {
		name string
		resp fakeResp
		want string
	}{
		{name: "400", resp: fakeResp{status: http.StatusBadRequest, body: hostile}, want: "LinkedIn answered 400"},
		{name: "429", resp: fakeResp{status: http.StatusTooManyRequests, body: hostile}, want: "LinkedIn answered 429"},
		{name: "500", resp: fakeResp{status: http.StatusInternalServerError, body: hostile}, want: "LinkedIn answered 500"},
		{name: "wrong type", resp: fakeResp{status: http.StatusOK, body: []byte(`{"id":["` + marker + `"]}`)}, want: "field id has an unexpected type"},
		{name: "not JSON", resp: fakeResp{status: http.StatusOK, body: []byte(`{"id":"` + marker + `" x}`)}, want: "answer is not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t)
			f.on(leadPath, tc.resp)
			_, err := c.Fetch(t.Context(), jobFor(leadURN))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "zz-marker") {
				t.Errorf("error repeats the answer: %v", err)
			}
		})
	}
}

func TestFetchCustomQuestionsByName(t *testing.T) {
	f, c := newFake(t, func(cfg *Config) { cfg.CustomQuestionKey = "name" })
	f.on(leadPath, fixture(t, "lead_with_consents.json"))
	f.on(formPath, fixture(t, "form_7234246_v1.json"))
	recs, err := c.Fetch(t.Context(), jobFor(leadURN))
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if got := recs[0].Fields["question.Custom question 0"]; got != "Rojo; Verde" {
		t.Errorf(`Fields["question.Custom question 0"] = %q`, got)
	}
	if got := recs[0].Fields["question.99907234246"]; got != "sin etiqueta" {
		t.Errorf("a question missing from the form keeps its id key, got %q", got)
	}
}

func fromRecords(recs []ingest.Record) []ingesttest.WantRecord {
	out := make([]ingesttest.WantRecord, 0, len(recs))
	for _, r := range recs {
		out = append(out, ingesttest.FromRecord(r))
	}
	return out
}

func TestFetchNewerFormVersionIsNotCachedAsOlder(t *testing.T) {
	f, c := newFake(t)
	f.on(leadPath, fixture(t, "lead_with_consents.json"))
	form := fixture(t, "form_7234246_v1.json")
	f.on(formPath, fakeResp{status: http.StatusOK, body: []byte(strings.Replace(string(form.body), `"versionId": 1`, `"versionId": 3`, 1))})
	for range 2 {
		recs, err := c.Fetch(t.Context(), jobFor(leadURN))
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		if recs[0].Fields["EMAIL"] == "" {
			t.Fatal("answers not labelled from the newer form version")
		}
	}
	if n := f.count(formPath); n != 2 {
		t.Errorf("form endpoint called %d times, want 2: version 3 must not be cached as version 1", n)
	}
}

func TestFetchConcurrentWorkersShareTheCache(t *testing.T) {
	f, c := newFake(t)
	f.on(leadPath, fixture(t, "lead_with_consents.json"))
	f.on(formPath, fixture(t, "form_7234246_v1.json"))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			if _, err := c.Fetch(t.Context(), jobFor(leadURN)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("fetch: %v", err)
	}
	warm := f.count(formPath)
	if _, err := c.Fetch(t.Context(), jobFor(leadURN)); err != nil {
		t.Fatal(err)
	}
	if n := f.count(formPath); n != warm {
		t.Errorf("form endpoint called again (%d → %d) once the version was cached", warm, n)
	}
}
