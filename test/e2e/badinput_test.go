package e2e

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/store"
)

// Bad input gets its documented status and a JSON error that says what is
// wrong, and nothing is forwarded or stored.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	disabled := strings.Replace(sampleConnector, "id: web", "id: off\nenabled: false", 1)
	gw := startGateway(t, gwOptions{connectors: map[string]string{"web.yaml": sampleConnector, "off.yaml": disabled}})
	good := lead("evt-bad-1", map[string]any{"email": "bad@example.com", "first_name": "Bad"}, map[string]any{"marketing_email": true})
	big := bytes.Repeat([]byte("a"), 1<<20+1)

	cases := []struct {
		name      string
		connector string
		body      []byte
		headers   map[string]string
		status    int
		code      string
		mentions  string
	}{
		{"wrong signature", "web", good, map[string]string{"X-Signature": "sha256=" + strings.Repeat("0", 64)}, 401, "unauthenticated", "signature"},
		{"missing signature", "web", good, map[string]string{"X-Signature": ""}, 401, "unauthenticated", "X-Signature"},
		{"signature of another body", "web", good, map[string]string{"X-Signature": sign([]byte("{}"))}, 401, "unauthenticated", "signature"},
		{"malformed JSON", "web", []byte(`{"id": "x", "lead": {`), nil, 400, "malformed", "JSON"},
		{"wrong content type", "web", good, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type", "application/json"},
		{"oversized body", "web", big, nil, 413, "too_large", "limit"},
		{"unknown connector", "nope", good, nil, 404, "unknown_connector", "connector"},
		{"disabled connector", "off", good, nil, 404, "unknown_connector", "connector"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := gw.post(c.connector, c.body, c.headers)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d; body %s", r.Status, c.status, r.Raw)
			}
			if r.errorCode() != c.code {
				t.Errorf("error code %q, want %q (body %s)", r.errorCode(), c.code, r.Raw)
			}
			if !strings.Contains(strings.ToLower(r.errorMessage()), strings.ToLower(c.mentions)) {
				t.Errorf("message %q should mention %q", r.errorMessage(), c.mentions)
			}
			if strings.Contains(r.Raw, "bad@example.com") {
				t.Errorf("the error echoes payload data")
			}
		})
	}

	// An oversized body announced by Content-Length and one that lies.
	req, _ := http.NewRequest(http.MethodPost, gw.URL+"/webhooks/web", bytes.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Length", strconv.Itoa(len(big)))
	if r := do(t, req); r.Status != 413 {
		t.Errorf("announced oversized body: status %d", r.Status)
	}

	if all := kafkatest.ConsumeAll(t, gw.Brokers, "crm.leads.v1", time.Second); len(all) != 0 {
		t.Errorf("bad input forwarded %d records", len(all))
	}
	ctx := context.Background()
	ds, err := gw.G.Store.ListDecisions(ctx, store.DecisionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 0 {
		t.Errorf("bad input left %d decisions", len(ds))
	}
	// The good request, after all that, still goes through: nothing was
	// claimed by the refused attempts.
	if r := gw.post("web", good, nil); r.Status != 200 || summary(r, "forwarded") != 1 {
		t.Errorf("the valid delivery after refusals: status %d summary %v", r.Status, r.Body["summary"])
	}
}
