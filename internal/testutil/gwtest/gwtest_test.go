package gwtest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

const conn = `
id: web
platform: generic
secrets:
  signing_secret: {env: GWTEST_TEST_SECRET}
settings:
  signature: {scheme: hmac, header: X-Signature, encoding: hex, prefix: "sha256="}
  event_id_path: id
mapping:
  replace_defaults: true
  fields: {lead.email: email}
consent:
  checkboxes:
    - {key: consent.marketing_email, purpose: marketing_email}
`

// A started gateway answers signed webhooks, refuses unsigned ones with
// the JSON error shape, serves the admin API with the configured token,
// and stops once however often Stop is called.
func TestStartPostAPIStop(t *testing.T) {
	g := gwtest.Start(t, gwtest.Options{
		SQLite: true, Connectors: map[string]string{"web.yaml": conn},
		Env: map[string]string{"GWTEST_TEST_SECRET": "s3cret"}, SigningSecret: "s3cret",
	})
	body := gwtest.Lead("evt-1", map[string]any{"email": "a@example.com"}, map[string]any{"marketing_email": true})
	if r := g.Post("web", body, nil); r.Status != http.StatusOK || r.Summary("forwarded")+r.Summary("queued") != 1 {
		t.Fatalf("signed post: status %d body %s", r.Status, r.Raw)
	}
	r := g.Post("web", body, map[string]string{"X-Signature": ""})
	if r.Status != http.StatusUnauthorized || r.ErrorCode() != "unauthenticated" || !strings.Contains(r.ErrorMessage(), "X-Signature") {
		t.Errorf("unsigned post: status %d body %s", r.Status, r.Raw)
	}
	if r := g.API(http.MethodGet, "/connectors", nil); r.Status != http.StatusOK {
		t.Errorf("admin API with the default token: status %d body %s", r.Status, r.Raw)
	}
	if r := gwtest.Call(t, http.MethodGet, g.URL+"/api/v1/connectors", "wrong", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("admin API with a wrong token: status %d", r.Status)
	}
	if !strings.Contains(g.Logs(), `"level":`) {
		t.Errorf("no JSON log lines captured")
	}
	g.Stop()
	g.Stop()
	if _, err := gwtest.Send(g.URL, "web", "s3cret", body, nil); err == nil {
		t.Errorf("the gateway still answers after Stop")
	}
}

func TestResponseAccessors(t *testing.T) {
	r := gwtest.Response{Body: map[string]any{
		"error":   map[string]any{"code": "invalid", "message": "bad", "fields": map[string]any{"email": "required"}},
		"summary": map[string]any{"forwarded": 2.0},
	}}
	if r.ErrorCode() != "invalid" || r.ErrorMessage() != "bad" || r.FieldError("email") != "required" || r.Summary("forwarded") != 2 {
		t.Errorf("accessors: %q %q %q %d", r.ErrorCode(), r.ErrorMessage(), r.FieldError("email"), r.Summary("forwarded"))
	}
	if r.Path("nope", "deeper") != nil || r.Str("summary", "forwarded") != "" {
		t.Errorf("absent or non-string paths should be empty")
	}
	// The well-known HMAC-SHA256 example vector.
	if got := gwtest.SignHMAC("key", []byte("The quick brown fox jumps over the lazy dog")); got != "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Errorf("SignHMAC = %s", got)
	}
}
