package httpapi_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/consentgate/consentgate/internal/store"
)

// logBuffer collects log lines; safe for the pipeline's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func loggedIntake(t *testing.T) (*intake, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	return newLoggedIntake(t, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))), logs
}

func (in *intake) post(t *testing.T, path string, body []byte, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", signFuzz(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	in.handler.ServeHTTP(rec, req)
	return rec
}

// An unknown connector id in the path is the sender's text: neither the
// access log nor the 404 body repeats it.
func TestUnknownConnectorIDIsNotLogged(t *testing.T) {
	in, logs := loggedIntake(t)
	const marker = "zz-marker-1@example.com"
	rec := in.post(t, "/webhooks/"+marker, []byte(`{}`), nil)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404: %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), marker) {
		t.Errorf("404 body echoes the path: %s", rec.Body)
	}
	if strings.Contains(logs.String(), marker) {
		t.Errorf("the log carries the path's connector id:\n%s", logs)
	}
	if !strings.Contains(logs.String(), `"connector":"unknown"`) {
		t.Errorf("the access log should say connector unknown:\n%s", logs)
	}

	logs.mu.Lock()
	logs.buf.Reset()
	logs.mu.Unlock()
	in.post(t, "/webhooks/fuzz", []byte(`{}`), nil)
	if !strings.Contains(logs.String(), `"connector":"fuzz"`) {
		t.Errorf("a configured connector's id belongs in the access log:\n%s", logs)
	}
}

// A client's X-Request-ID, an unmapped payload field's name and a payload
// event id are the sender's text: none reaches the answer, the logs, the
// decision log or the ledger's evidence (the event id is kept where
// de-duplication needs it: the decision's event_id).
func TestSenderTextStaysOutOfLogsAndAudit(t *testing.T) {
	in, logs := loggedIntake(t)
	const (
		reqMarker   = "zz-marker-1@example.com"
		fieldMarker = "zz-marker-2@example.com"
		eventMarker = "zz-marker-3@example.com"
	)
	lead := func(id string, consent map[string]any) []byte { // one subject per event
		b, _ := json.Marshal(map[string]any{
			"id": id, "occurred_at": "2026-11-20T10:00:00Z",
			"lead":    map[string]any{"email": id + ".subject@example.org", "first_name": "P", "do_not_sell": "false"},
			"consent": consent,
			"tags":    map[string]any{fieldMarker: 1, "campaign": "x"},
		})
		return b
	}
	hdr := map[string]string{"X-Request-ID": reqMarker}
	kept := in.post(t, "/webhooks/fuzz", lead("evt-kept", map[string]any{"marketing_email": true}), hdr)
	dropped := in.post(t, "/webhooks/fuzz", lead(eventMarker, nil), hdr)
	for name, rec := range map[string]*httptest.ResponseRecorder{"kept": kept, "dropped": dropped} {
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", name, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), reqMarker) {
			t.Errorf("%s: the answer echoes the client's request id: %s", name, rec.Body)
		}
		if got := rec.Header().Get("X-Request-ID"); got == reqMarker || got == "" {
			t.Errorf("%s: X-Request-ID answered %q, want the gateway's own", name, got)
		}
	}
	var sum struct {
		Summary map[string]int `json:"summary"`
	}
	_ = json.Unmarshal(kept.Body.Bytes(), &sum)
	if sum.Summary["forwarded"] != 1 {
		t.Fatalf("kept lead: %s, want 1 forwarded", kept.Body)
	}
	_ = json.Unmarshal(dropped.Body.Bytes(), &sum)
	if sum.Summary["dropped"] != 1 {
		t.Fatalf("dropped lead: %s, want 1 dropped", dropped.Body)
	}

	for _, m := range []string{reqMarker, fieldMarker, eventMarker} {
		if strings.Contains(logs.String(), m) {
			t.Errorf("the log carries %s:\n%s", m, logs)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"record dropped"`) {
		t.Errorf("no record dropped line:\n%s", logs)
	}

	ds, err := in.store.ListDecisions(t.Context(), store.DecisionFilter{Connector: "fuzz"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("%d decisions, want 2", len(ds))
	}
	for _, d := range ds {
		raw, _ := json.Marshal(d)
		if strings.Contains(string(raw), reqMarker) || strings.Contains(string(raw), fieldMarker) {
			t.Errorf("decision carries sender text: %s", raw)
		}
		// id, occurred_at and the two tags: read by the connector, named by no mapping.
		if d.Fields[store.UnmappedFields(4)] != "drop" {
			t.Errorf("decision fields %v, want the four unmapped fields counted as %q", d.Fields, store.UnmappedFields(4))
		}
		if d.Fields["lead.do_not_sell"] != "drop" || d.Fields["email"] == "" {
			t.Errorf("decision fields %v, want configured names (email, lead.do_not_sell) in clear", d.Fields)
		}
	}
	byEvent := map[string]store.Decision{}
	for _, d := range ds {
		byEvent[d.EventID] = d
	}
	if _, ok := byEvent[eventMarker]; !ok {
		t.Errorf("decisions %v, want the payload's event id stored as given", ds)
	}
	hist, err := in.store.ConsentHistory(t.Context(), byEvent["evt-kept"].SubjectKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) == 0 {
		t.Fatal("the checked box left no ledger entry")
	}
	for _, e := range hist {
		if e.RequestID == reqMarker || e.RequestID == "" {
			t.Errorf("ledger entry request id %q, want the gateway's own", e.RequestID)
		}
	}
}
