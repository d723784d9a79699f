package tiktok

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/ingest/ingesttest"
)

const testSecret = "tiktok-test-client-secret"

var testNow = time.Date(2026, 1, 15, 10, 20, 30, 0, time.UTC)

func testEnv(secrets map[string]string) ingest.Env {
	return ingest.Env{
		Secret: func(name string) (string, bool) { v, ok := secrets[name]; return v, ok },
		Now:    func() time.Time { return testNow },
	}
}

func openTest(t testing.TB, mutate func(*Config)) *Connector {
	t.Helper()
	cfg := DefaultConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := Open(cfg, testEnv(map[string]string{"client_secret": testSecret}))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return c
}

func hmacHex(secret string, parts ...[]byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	for _, p := range parts {
		m.Write(p)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// timestampedSigner signs like TikTok's developer webhooks.
func timestampedSigner(t *testing.T, mode string, req *ingest.Request, c ingesttest.Case) {
	header := func(ts time.Time, secret string, body []byte) {
		t := strconv.FormatInt(ts.Unix(), 10)
		req.Header.Set("TikTok-Signature", "t="+t+",s="+hmacHex(secret, []byte(t+"."), body))
	}
	switch mode {
	case "valid":
		header(testNow, testSecret, req.Body)
	case "bad":
		header(testNow, "some-other-secret", req.Body)
	case "none":
	case "stale":
		header(testNow.Add(-301*time.Second), testSecret, req.Body)
	case "future":
		header(testNow.Add(301*time.Second), testSecret, req.Body)
	case "garbled":
		req.Header.Set("TikTok-Signature", "sha256="+hmacHex(testSecret, req.Body))
	case "escaped":
		header(testNow, testSecret, escapeNonASCII(req.Body))
	case "tampered":
		header(testNow, testSecret, req.Body)
		req.Body = []byte(strings.Replace(string(req.Body), "ada@example.com", "eve@example.com", 1))
	default:
		t.Fatalf("%s: unknown sign mode %q", c.File, mode)
	}
}

// openSigner signs like the reported X-Open-Signature scheme.
func openSigner(t *testing.T, mode string, req *ingest.Request, c ingesttest.Case) {
	switch mode {
	case "valid":
		req.Header.Set("X-Open-Signature", hmacHex(testSecret, escapeNonASCII(req.Body)))
	case "raw":
		req.Header.Set("X-Open-Signature", hmacHex(testSecret, req.Body))
	case "bad":
		req.Header.Set("X-Open-Signature", hmacHex("some-other-secret", escapeNonASCII(req.Body)))
	case "garbled":
		req.Header.Set("X-Open-Signature", "not-hex")
	case "none":
	default:
		t.Fatalf("%s: unknown sign mode %q", c.File, mode)
	}
}

func TestCases(t *testing.T) {
	conn := openTest(t, func(c *Config) {
		c.Payload.CheckboxFields = []string{"marketing_opt_in", "privacy_policy_consent", "sms_opt_in"}
		c.Payload.TestFormIDs = []string{"7300000000000000099"}
	})
	ingesttest.Run(t, "testdata", conn, timestampedSigner, testNow)
}

func TestOpenSignatureCases(t *testing.T) {
	conn := openTest(t, func(c *Config) { c.Signature.Scheme = SchemeOpenSignature })
	ingesttest.Run(t, "testdata/open_signature", conn, openSigner, testNow)
}

func TestPlainHMACOverRawBody(t *testing.T) {
	conn := openTest(t, func(c *Config) {
		c.Signature.Scheme = SchemePlainHMAC
		c.Signature.Header = "X-TT-Signature"
		c.Signature.EscapedBodyFallback = false
	})
	body := []byte(`{"object":1,"entry":[{"id":7234567890123456789,"changes":[{"field":"name","value":"Zoë"}]}]}`)
	req := &ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body}

	req.Header.Set("X-TT-Signature", "sha256="+hmacHex(testSecret, body))
	if err := conn.Verify(req); err != nil {
		t.Fatalf("raw-body signature with sha256= prefix refused: %v", err)
	}
	// With the fallback off, a signature over the escaped body must not pass.
	req.Header.Set("X-TT-Signature", hmacHex(testSecret, escapeNonASCII(body)))
	if err := conn.Verify(req); ingest.StatusOf(err) != http.StatusUnauthorized {
		t.Fatalf("escaped-body signature with fallback off: status %d (err %v), want 401", ingest.StatusOf(err), err)
	}
}

func TestDeveloperLeadEvent(t *testing.T) {
	conn := openTest(t, func(c *Config) { c.Payload.LeadEvents = []string{"lead.create"} })
	body := []byte(`{"client_key":"bwo2m45353a6k85","event":"lead.create","create_time":1768472400,` +
		`"user_openid":"act.example12345","content":"{\"id\":7234567890123456789,\"page_id\":\"7300000000000000001\",` +
		`\"changes\":[{\"field\":\"email\",\"value\":\"ada@example.com\"}]}"}`)
	b, err := conn.Parse(&ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if len(b.Records) != 1 {
		t.Fatalf("records = %d, want 1", len(b.Records))
	}
	r := b.Records[0]
	if r.EventID != "7234567890123456789" || r.Form != "7300000000000000001" {
		t.Errorf("event id %q form %q", r.EventID, r.Form)
	}
	if !r.OccurredAt.Equal(time.Unix(1768472400, 0)) {
		t.Errorf("occurred at %v, want the envelope's create_time", r.OccurredAt)
	}
	if r.Fields["email"] != "ada@example.com" || r.Fields["user_openid"] != "act.example12345" {
		t.Errorf("fields = %v", r.Fields)
	}

	// The same envelope with an event not listed is ignored.
	other := []byte(strings.Replace(string(body), "lead.create", "video.publish.completed", 1))
	b, err = conn.Parse(&ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: other})
	if err != nil || b.Ignored != 1 || len(b.Records) != 0 {
		t.Fatalf("unlisted event: batch %+v err %v, want ignored 1", b, err)
	}
}

func TestRenamedPayloadKeys(t *testing.T) {
	conn := openTest(t, func(c *Config) {
		c.Payload.LeadObject = "lead"
		c.Payload.Keys = KeysConfig{Entries: "leads", LeadID: "lead_id", FormID: "form_id",
			CreateTime: "created_at", Answers: "answers", AnswerName: "name", AnswerValue: "answer"}
	})
	body := []byte(`{"object":"lead","leads":[{"lead_id":"L-1","form_id":"F-9","created_at":"2026-01-15T10:00:00Z",` +
		`"answers":[{"name":"email","answer":"ada@example.com"}]}]}`)
	b, err := conn.Parse(&ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if len(b.Records) != 1 || b.Records[0].EventID != "L-1" || b.Records[0].Form != "F-9" ||
		b.Records[0].Fields["email"] != "ada@example.com" || b.Records[0].OccurredAt.IsZero() {
		t.Fatalf("batch = %+v", b)
	}
}

func TestTooManyLeads(t *testing.T) {
	conn := openTest(t, func(c *Config) { c.MaxLeadsPerDelivery = 2 })
	body := []byte(`{"object":1,"entry":[{"id":1},{"id":2},{"id":3}]}`)
	_, err := conn.Parse(&ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body})
	if ingest.StatusOf(err) != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d (err %v), want 413", ingest.StatusOf(err), err)
	}
}

func TestOpenReportsEveryProblem(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Signature.Scheme = "md5"
	cfg.Signature.ToleranceSeconds = 0
	cfg.Signature.Header = "Bad Header"
	cfg.Payload.Keys.LeadID = ""
	cfg.MaxLeadsPerDelivery = 0
	_, err := Open(cfg, testEnv(nil))
	if err == nil {
		t.Fatal("Open accepted a broken config")
	}
	for _, want := range []string{
		"settings.signature.scheme", "settings.signature.tolerance_seconds", "settings.signature.header",
		"settings.payload.keys.lead_id", "settings.max_leads_per_delivery", `secret "client_secret" is not set`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestOpenRefusesEmptySecret(t *testing.T) {
	_, err := Open(DefaultConfig(), testEnv(map[string]string{"client_secret": ""}))
	if err == nil || !strings.Contains(err.Error(), "client_secret") {
		t.Fatalf("err = %v, want it to name client_secret", err)
	}
}

func TestEscapeNonASCII(t *testing.T) {
	for in, want := range map[string]string{
		`{"n":"äöå"}`:      `{"n":"\u00e4\u00f6\u00e5"}`,
		`{"n":"🚀"}`:        `{"n":"\ud83d\ude80"}`,
		`{"n":"plain"}`:    `{"n":"plain"}`,
		"{\"n\":\"\xff\"}": "{\"n\":\"\xff\"}",
	} {
		if got := string(escapeNonASCII([]byte(in))); got != want {
			t.Errorf("escapeNonASCII(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultMappingTargetsCanonicalFields(t *testing.T) {
	canonical := map[string]bool{"email": true, "phone": true, "full_name": true, "first_name": true,
		"last_name": true, "company": true, "job_title": true, "city": true, "region": true, "country": true,
		"postal_code": true, "date_of_birth": true, "gender": true, "interests": true, "handle": true,
		"platform_user_id": true, "message_text": true, "comment_text": true}
	for raw, to := range openTest(t, nil).DefaultMapping() {
		if !canonical[to] {
			t.Errorf("%s maps to %q, not a canonical field", raw, to)
		}
	}
}
