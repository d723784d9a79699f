package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

const schemaBase = "https://consentgate.dev/schemas/"

// loadSchemas compiles docs/schemas/*.json, each under its $id so their
// relative $refs resolve without a network.
func loadSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	dir := filepath.Join(gwtest.RepoRoot(t), "docs", "schemas")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	gwtest.Must(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range files {
		raw, err := os.ReadFile(f)
		gwtest.Must(t, err)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id != schemaBase+filepath.Base(f) {
			t.Fatalf("%s: $id %q, want %q", f, id, schemaBase+filepath.Base(f))
		}
		gwtest.Must(t, c.AddResource(id, doc))
	}
	out := map[string]*jsonschema.Schema{}
	for _, name := range []string{"record.v1.json", "deletion.v1.json", "consent.v1.json"} {
		s, err := c.Compile(schemaBase + name)
		if err != nil {
			t.Fatalf("compile %s: %v", name, err)
		}
		out[name] = s
	}
	return out
}

const commentsConnector = `
id: web-comments
platform: generic
default_jurisdiction: US-CA
secrets:
  signing_secret: {env: E2E_SIGNING_SECRET}
settings:
  signature: {scheme: hmac, header: X-Signature, encoding: hex, prefix: "sha256="}
  event_id_path: id
  occurred_at_path: at
  kind: interaction
  type_path: event
mapping:
  replace_defaults: true
  fields:
    user.id: platform_user_id
    user.handle: handle
    text: comment_text
`

const xConnector = `
id: x-brand
platform: x
default_jurisdiction: EU
secrets:
  consumer_secret: {env: E2E_X_SCHEMA_SECRET}
`

// Real messages of every kind — a lead, an interaction, a deletion, and
// granted, denied, withdrawn, expired and erased consent events — are
// produced through the gateway, consumed from Kafka and validated against
// the published JSON Schemas, CloudEvents headers included.
func TestProducedMessagesMatchTheSchemas(t *testing.T) {
	schemas := loadSchemas(t)
	t.Setenv("E2E_X_SCHEMA_SECRET", "x-schema-secret")
	gw := startGateway(t, gwtest.Options{Connectors: map[string]string{
		"web.yaml": sampleConnector, "comments.yaml": commentsConnector, "x.yaml": xConnector,
	}})

	send := func(connector string, body []byte, h map[string]string) {
		t.Helper()
		r := gw.Post(connector, body, h)
		if r.Status != http.StatusOK || r.Summary("forwarded")+r.Summary("queued") != 1 {
			t.Fatalf("%s: %d %s, want one record forwarded", connector, r.Status, r.Raw)
		}
	}
	send("web", gwtest.Lead("evt-schema-1", map[string]any{"email": "schema@example.com", "phone": "+49 151 23456789", "first_name": "S", "country": "DE"},
		map[string]any{"marketing_email": true, "sales_contact": false}), nil)
	send("web-comments", mustJSON(t, map[string]any{"id": "c-1", "at": "2026-11-20T11:00:00Z", "event": "comment",
		"user": map[string]any{"id": "1234567890123456789", "handle": "@schema"}, "text": "Love it"}), nil)
	xBody := mustJSON(t, map[string]any{"for_user_id": "930524282358325248", "tweet_delete_events": []any{map[string]any{
		"status": map[string]any{"id": "1045405559317569537", "user_id": "2244994945"}, "timestamp_ms": "1432228155593"}}})
	m := hmac.New(sha256.New, []byte("x-schema-secret"))
	m.Write(xBody)
	send("x-brand", xBody, map[string]string{"X-Signature": "", "X-Twitter-Webhooks-Signature": "sha256=" + base64.StdEncoding.EncodeToString(m.Sum(nil))})

	notice := gw.API("POST", "/notices", map[string]any{"id": "app-privacy", "version": "1", "text": "Offers by e-mail.", "effective_from": "2020-01-01T00:00:00Z"})
	if notice.Status != http.StatusCreated {
		t.Fatalf("notice: %d %s", notice.Status, notice.Raw)
	}
	old := time.Now().Add(-3 * 365 * 24 * time.Hour).UTC().Truncate(time.Second)
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/consent/grant", map[string]any{"subject": map[string]any{"platform": "x", "user_id": "2244994945"}, "purpose": "analytics",
			"notice": map[string]any{"id": "app-privacy", "version": "1"}}},
		{"/consent/grant", map[string]any{"subject": map[string]any{"phone": "+4915123456789"}, "purpose": "marketing_sms", "obtained_at": old.Format(time.RFC3339), "method": "import"}},
		{"/consent/withdraw", map[string]any{"subject": map[string]any{"platform": "x", "user_id": "2244994945"}, "purpose": "analytics"}},
		{"/consent/erase", map[string]any{"subject": map[string]any{"email": "schema@example.com"}}},
	} {
		if r := gw.API("POST", c.path, c.body); r.Status/100 != 2 {
			t.Fatalf("%s: %d %s", c.path, r.Status, r.Raw)
		}
	}
	// The import grant above lapsed long ago (marketing_sms: 730d).
	if n, err := gw.G.Pipeline.SweepExpired(t.Context(), old, time.Now()); err != nil || n != 1 {
		t.Fatalf("expiry sweep: %d events, %v; want 1", n, err)
	}

	leads := kafkatest.Consume(t, gw.Brokers, "crm.leads.v1", 1, 15*time.Second)
	inter := kafkatest.Consume(t, gw.Brokers, "crm.interactions.v1", 2, 15*time.Second)
	// 2 checkbox events, 3 API statements, 1 erasure, 1 expiry.
	cons := kafkatest.Consume(t, gw.Brokers, "crm.consent.v1", 7, 15*time.Second)

	seen := map[string]bool{}
	for _, msg := range append(leads, inter...) {
		v := validate(t, schemas["record.v1.json"], msg.Topic, msg.Value)
		typ, _ := v["type"].(string)
		seen["record:"+typ] = true
		if typ == "deletion" {
			validate(t, schemas["deletion.v1.json"], msg.Topic, msg.Value)
		}
		checkCloudEvents(t, msg.Topic, headers(msg), v, "com.consentgate."+typ+".v1")
	}
	for _, msg := range cons {
		v := validate(t, schemas["consent.v1.json"], msg.Topic, msg.Value)
		typ, _ := v["type"].(string)
		seen["consent:"+typ] = true
		want := "com.consentgate.consent.v1"
		if typ == "erased" {
			want = "com.consentgate.erasure.v1"
		}
		checkCloudEvents(t, msg.Topic, headers(msg), v, want)
	}
	for _, k := range []string{"record:lead", "record:interaction", "record:deletion", "consent:granted", "consent:denied",
		"consent:withdrawn", "consent:expired", "consent:erased"} {
		if !seen[k] {
			t.Errorf("no %s message was produced; the schema check did not cover it (seen %v)", k, seen)
		}
	}

	// The schemas are strict: a value with an unknown field, or a raw
	// identifier where a subject key belongs, is refused.
	var bad map[string]any
	gwtest.Must(t, json.Unmarshal(cons[0].Value, &bad))
	bad["email"] = "schema@example.com"
	if err := schemas["consent.v1.json"].Validate(bad); err == nil {
		t.Errorf("consent schema accepts an unknown field")
	}
	delete(bad, "email")
	bad["subject"] = map[string]any{"key": "schema@example.com"}
	if err := schemas["consent.v1.json"].Validate(bad); err == nil {
		t.Errorf("consent schema accepts an e-mail as subject key")
	}
}

func validate(t *testing.T, s *jsonschema.Schema, topic string, value []byte) map[string]any {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(value))
	if err != nil {
		t.Fatalf("%s: value is not JSON: %v", topic, err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s: value does not match %s:\n%v\nvalue: %s", topic, s.Location, err, value)
	}
	m, _ := inst.(map[string]any)
	return m
}

func checkCloudEvents(t *testing.T, topic string, h map[string]string, v map[string]any, ceType string) {
	t.Helper()
	for _, k := range []string{"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "content-type"} {
		if h[k] == "" {
			t.Errorf("%s: header %s missing", topic, k)
		}
	}
	if h["ce_specversion"] != "1.0" || h["ce_id"] != v["id"] || h["ce_type"] != ceType || h["content-type"] != "application/json" {
		t.Errorf("%s: headers %v do not match value id %v / type %s", topic, h, v["id"], ceType)
	}
	if _, err := time.Parse(time.RFC3339Nano, h["ce_time"]); err != nil {
		t.Errorf("%s: ce_time %q is not RFC 3339", topic, h["ce_time"])
	}
	subj, _ := v["subject"].(map[string]any)
	if h["ce_subject"] != subj["key"] || !strings.HasPrefix(h["ce_subject"], "sk_") {
		t.Errorf("%s: ce_subject %q, want the subject key", topic, h["ce_subject"])
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	gwtest.Must(t, err)
	return b
}
