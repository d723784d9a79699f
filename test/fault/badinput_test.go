package fault

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/connectors/generic"
	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

const victim = "matrix.victim@example.com"

// stdHeaders signs body for the std connector as a Standard Webhooks
// sender would at ts.
func stdHeaders(id string, ts time.Time, body []byte) map[string]string {
	return map[string]string{
		"X-Signature":       "",
		"webhook-id":        id,
		"webhook-timestamp": strconv.FormatInt(ts.Unix(), 10),
		"webhook-signature": generic.SignStandard(stdSecret, id, ts, body),
	}
}

// Every kind of bad input (the one table of bad-input cases; test/e2e has
// none) gets its documented status, a JSON error naming
// what is wrong (never echoing the payload), and changes nothing: no
// record on Kafka, no decision, no ledger entry, no de-dup entry, no
// outbox message.
func TestBadInputMatrixChangesNothing(t *testing.T) {
	disabled := strings.Replace(webConnector, "id: web", "id: off\nenabled: false", 1)
	gw := startGateway(t, gwtest.Options{Connectors: map[string]string{"web.yaml": webConnector, "std.yaml": stdConnector, "off.yaml": disabled}})

	good := gwtest.Lead("evt-matrix", map[string]any{"email": victim, "first_name": "Mallory"}, map[string]any{"marketing_email": true})
	deep := []byte(`{"id":"evt-deep","lead":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`)
	hugeNumber := []byte(`{"id":"evt-num","lead":{"email":"` + victim + `","score":` + strings.Repeat("9", 70000) + `}}`)
	invalidUTF8 := append([]byte(`{"id":"evt-utf","lead":{"email":"`+victim+`","first_name":"`), 0xff, 0xfe, '"', '}', '}')
	now := time.Now()
	big := bytes.Repeat([]byte("a"), 1<<20+1)
	stdBody := []byte(`{"lead":{"email":"` + victim + `"},"consent":{"marketing_email":true}}`)

	cases := []struct {
		name      string
		connector string
		body      []byte
		headers   map[string]string
		status    int
		code      string
		mentions  string
	}{
		{"malformed JSON", "web", []byte(`{"id": "evt-m", "lead": {"email": "` + victim + `",}}`), nil, 400, "malformed", "line"},
		{"truncated JSON", "web", good[:len(good)/2], nil, 400, "malformed", "JSON"},
		{"unterminated object", "web", []byte(`{"id": "x", "lead": {`), nil, 400, "malformed", "JSON"},
		{"trailing data", "web", append(append([]byte{}, good...), []byte(` {"id":"x"}`)...), nil, 400, "malformed", "after"},
		{"empty body", "web", nil, nil, 400, "malformed", "empty"},
		{"wrong content type", "web", good, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type", "application/json"},
		{"invalid UTF-8", "web", invalidUTF8, nil, 400, "malformed", "UTF-8"},
		{"10 000-deep nesting", "web", deep, nil, 413, "too_large", "max_depth"},
		{"huge number", "web", hugeNumber, nil, 413, "too_large", "max_field_bytes"},
		{"event id with a NUL character", "web", []byte(`{"id":"evt-nul\u0000x","lead":{"email":"` + victim + `"}}`), nil, 400, "malformed", "event id"},
		{"event id with a control character", "web", []byte(`{"id":"evt-tab\tx","lead":{"email":"` + victim + `"}}`), nil, 400, "malformed", "event id"},
		{"duplicate keys", "web", []byte(`{"id":"evt-dup","lead":{"email":"` + victim + `","email":"other@example.com"}}`), nil, 400, "malformed", "duplicate"},
		{"oversized body", "web", big, nil, 413, "too_large", "limit"},
		{"unknown connector", "nope", good, nil, 404, "unknown_connector", "connector"},
		{"disabled connector", "off", good, nil, 404, "unknown_connector", "connector"},
		{"wrong signature", "web", good, map[string]string{"X-Signature": "sha256=" + strings.Repeat("0", 64)}, 401, "unauthenticated", "signature"},
		{"missing signature", "web", good, map[string]string{"X-Signature": ""}, 401, "unauthenticated", "X-Signature"},
		{"bad signature on malformed JSON (checked first)", "web", []byte(`{"id": "evt-bs", "lead": {`), map[string]string{"X-Signature": "sha256=" + strings.Repeat("1", 64)}, 401, "unauthenticated", "signature"},
		{"signature of another body", "web", good, map[string]string{"X-Signature": gwtest.SignHMAC(testSecret, stdBody)}, 401, "unauthenticated", "signature"},
		{"signature of an empty object", "web", good, map[string]string{"X-Signature": gwtest.SignHMAC(testSecret, []byte("{}"))}, 401, "unauthenticated", "signature"},
		{"stale timestamp", "std", stdBody, stdHeaders("msg_stale", now.Add(-10*time.Minute), stdBody), 401, "unauthenticated", "webhook-timestamp"},
		{"timestamp from the future", "std", stdBody, stdHeaders("msg_future", now.Add(10*time.Minute), stdBody), 401, "unauthenticated", "webhook-timestamp"},
		{"replayed signature (captured 6 minutes ago)", "std", stdBody, stdHeaders("msg_old", now.Add(-6*time.Minute), stdBody), 401, "unauthenticated", "webhook-timestamp"},
		{"signature replayed onto another body", "std", []byte(`{"lead":{"email":"other@example.com"}}`), stdHeaders("msg_swap", now, stdBody), 401, "unauthenticated", "signature"},
		{"timestamp not a number", "std", stdBody, map[string]string{"X-Signature": "", "webhook-id": "msg_x", "webhook-timestamp": "yesterday", "webhook-signature": "v1,AAAA"}, 401, "unauthenticated", "webhook-timestamp"},
		{"missing webhook-id", "std", stdBody, map[string]string{"X-Signature": "", "webhook-timestamp": strconv.FormatInt(now.Unix(), 10), "webhook-signature": generic.SignStandard(stdSecret, "", now, stdBody)}, 401, "unauthenticated", "webhook-id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := gw.Post(c.connector, c.body, c.headers)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d; body %s", r.Status, c.status, r.Raw)
			}
			if r.ErrorCode() != c.code {
				t.Errorf("error code %q, want %q (body %s)", r.ErrorCode(), c.code, r.Raw)
			}
			if !strings.Contains(strings.ToLower(r.ErrorMessage()), strings.ToLower(c.mentions)) {
				t.Errorf("message %q should mention %q", r.ErrorMessage(), c.mentions)
			}
			if r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("content type %q, want the JSON error shape", r.Header.Get("Content-Type"))
			}
			for _, leak := range []string{victim, "Mallory", "other@example.com", testSecret, stdSecret} {
				if strings.Contains(r.Raw, leak) {
					t.Errorf("the error body echoes %q", leak)
				}
			}
		})
	}

	// An oversized body announced by Content-Length is refused before
	// anything reads it.
	req, err := http.NewRequest(http.MethodPost, gw.URL+"/webhooks/web", bytes.NewReader(big))
	gwtest.Must(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Length", strconv.Itoa(len(big)))
	if r := gwtest.Do(t, req); r.Status != 413 {
		t.Errorf("announced oversized body: status %d", r.Status)
	}

	if all := kafkatest.ConsumeAll(t, gw.Brokers, leadsTopic, time.Second); len(all) != 0 {
		t.Errorf("bad input forwarded %d records", len(all))
	}
	for _, table := range []string{"decisions", "consent_ledger", "seen_events", "outbox", "fetch_jobs"} {
		if n := countRows(t, gw.DB, table); n != 0 {
			t.Errorf("bad input left %d rows in %s", n, table)
		}
	}
	if ds, err := gw.Store.ListDecisions(t.Context(), store.DecisionFilter{}); err != nil || len(ds) != 0 {
		t.Errorf("bad input left %d decisions visible through the store (err %v)", len(ds), err)
	}
	// After all that the valid delivery still goes through: nothing was
	// claimed by the refused attempts.
	if r := gw.Post("web", good, nil); r.Status != 200 || r.Summary("forwarded") != 1 {
		t.Errorf("the valid delivery after refusals: status %d summary %v", r.Status, r.Body["summary"])
	}
}

// A replayed event id (Standard Webhooks' signed webhook-id), whether the
// exact request again or a freshly signed different body, is answered 200
// as a duplicate and forwards nothing; numbers beyond 2^53 stay exact.
func TestReplayedEventIDForwardsOnce(t *testing.T) {
	gw := startGateway(t, gwtest.Options{})
	body := []byte(`{"lead":{"email":"replay@example.com","first_name":123456789012345678901234567890},"consent":{"marketing_email":true}}`)
	h := stdHeaders("msg_replay_1", time.Now(), body)

	r := gw.Post("std", body, h)
	if r.Status != 200 || r.Summary("forwarded") != 1 {
		t.Fatalf("first delivery: status %d body %s", r.Status, r.Raw)
	}
	r = gw.Post("std", body, h)
	if r.Status != 200 || r.Summary("duplicates") != 1 || r.Summary("forwarded") != 0 {
		t.Errorf("exact replay: status %d summary %v, want a duplicate", r.Status, r.Body["summary"])
	}
	other := []byte(`{"lead":{"email":"someone.else@example.com"},"consent":{"marketing_email":true}}`)
	r = gw.Post("std", other, stdHeaders("msg_replay_1", time.Now(), other))
	if r.Status != 200 || r.Summary("duplicates") != 1 {
		t.Errorf("same id, new body: status %d summary %v, want a duplicate", r.Status, r.Body["summary"])
	}

	got := readTopic(t, gw.Brokers, leadsTopic, map[string]bool{"msg_replay_1": true}, 20*time.Second)
	if len(got["msg_replay_1"]) != 1 || len(got) != 1 {
		t.Fatalf("topic holds %d copies (%d ids), want 1", len(got["msg_replay_1"]), len(got))
	}
	if f := got["msg_replay_1"][0].Fields["first_name"]; f != "123456789012345678901234567890" {
		t.Errorf("a huge number changed on the way: %q", f)
	}
	if n := countRows(t, gw.DB, "decisions"); n != 1 {
		t.Errorf("%d decisions, want 1 (duplicates leave none)", n)
	}
}
