package meta

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/ingest/ingesttest"
)

const (
	testAppSecret   = "test-app-secret"
	testVerifyToken = "test-verify-token"
	testPageToken   = "test-page-token-EAAB"
)

var testNow = time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC)

func testEnv(secrets map[string]string, client *http.Client) ingest.Env {
	return ingest.Env{
		Secret: func(name string) (string, bool) {
			v, ok := secrets[name]
			return v, ok
		},
		Now:        func() time.Time { return testNow },
		HTTPClient: client,
	}
}

func allSecrets() map[string]string {
	return map[string]string{
		secretAppSecret:   testAppSecret,
		secretVerifyToken: testVerifyToken,
		secretPageToken:   testPageToken,
	}
}

func openTest(t *testing.T, cfg Config) *Connector {
	t.Helper()
	c, err := Open(cfg, testEnv(allSecrets(), nil))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return c
}

func sign256(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// escapeLikeMeta renders non-ASCII runes as lowercase \uXXXX UTF-16 units,
// written independently of the connector's escapeNonASCII.
func escapeLikeMeta(body []byte) []byte {
	var b strings.Builder
	for _, r := range string(body) {
		if r < 0x80 {
			b.WriteRune(r)
			continue
		}
		for _, u := range utf16.Encode([]rune{r}) {
			fmt.Fprintf(&b, `\u%04x`, u)
		}
	}
	return []byte(b.String())
}

// signer computes Meta's headers at test time; modes beyond the shared
// ones: escaped (signature over the escaped-unicode form), escaped_bad,
// tampered (body changed after signing), sha1 (legacy header only).
func signer(t *testing.T, mode string, req *ingest.Request, c ingesttest.Case) {
	t.Helper()
	if req.Method == http.MethodGet {
		return
	}
	switch mode {
	case "", "valid":
		req.Header.Set(headerSig256, sign256(testAppSecret, req.Body))
	case "bad":
		req.Header.Set(headerSig256, sign256("another-secret", req.Body))
	case "escaped":
		req.Header.Set(headerSig256, sign256(testAppSecret, escapeLikeMeta(req.Body)))
	case "escaped_bad":
		req.Header.Set(headerSig256, sign256("another-secret", escapeLikeMeta(req.Body)))
	case "tampered":
		req.Header.Set(headerSig256, sign256(testAppSecret, req.Body))
		req.Body = []byte(strings.Replace(string(req.Body), "222222222222222", "222222222222229", 1))
	case "sha1":
		m := hmac.New(sha1.New, []byte(testAppSecret))
		m.Write(req.Body)
		req.Header.Set(headerSig1, "sha1="+hex.EncodeToString(m.Sum(nil)))
	case "none":
	default:
		t.Fatalf("%s: unknown sign mode %q", c.File, mode)
	}
}

func TestCases(t *testing.T) {
	ingesttest.Run(t, "testdata", openTest(t, DefaultConfig()), signer, testNow)
}

func TestVerifyAcceptsSHA1WhenEnabled(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AcceptSHA1 = true
	conn := openTest(t, cfg)
	body := []byte(`{"object":"page","entry":[]}`)
	m := hmac.New(sha1.New, []byte(testAppSecret))
	m.Write(body)
	good := "sha1=" + hex.EncodeToString(m.Sum(nil))
	for name, tc := range map[string]struct {
		header string
		ok     bool
	}{
		"right sha1":   {good, true},
		"wrong sha1":   {"sha1=" + strings.Repeat("0", 40), false},
		"sha256 value": {sign256(testAppSecret, body), false},
	} {
		t.Run(name, func(t *testing.T) {
			req := &ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body}
			req.Header.Set(headerSig1, tc.header)
			err := conn.Verify(req)
			if (err == nil) != tc.ok {
				t.Fatalf("Verify = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestVerifyAcceptsUppercaseHex(t *testing.T) {
	conn := openTest(t, DefaultConfig())
	body := []byte(`{"object":"page","entry":[]}`)
	req := &ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body}
	req.Header.Set(headerSig256, "SHA256="+strings.ToUpper(strings.TrimPrefix(sign256(testAppSecret, body), "sha256=")))
	if err := conn.Verify(req); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestEscapeNonASCII(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"äöå", `\u00e4\u00f6\u00e5`},
		{`{"t":"Grüße 😀"}`, `{"t":"Gr\u00fc\u00dfe \ud83d\ude00"}`},
		{"東京", `\u6771\u4eac`},
	} {
		got, ok := escapeNonASCII([]byte(tc.in))
		if !ok || string(got) != tc.want {
			t.Errorf("escapeNonASCII(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
		if string(escapeLikeMeta([]byte(tc.in))) != tc.want {
			t.Errorf("test helper disagrees for %q", tc.in)
		}
	}
	for _, in := range []string{"plain ascii", "bad \xff utf8"} {
		if _, ok := escapeNonASCII([]byte(in)); ok {
			t.Errorf("escapeNonASCII(%q) should not rewrite", in)
		}
	}
}

func TestErrorsNeverEchoPayload(t *testing.T) {
	conn := openTest(t, DefaultConfig())
	bodies := []string{
		`{"object": "page", "entry": [{"id": "secret@example.com"`,
		`{"object": "page", "entry": [{"id": "x", "time": "secret@example.com", "changes": [{"field": "leadgen", "value": {"leadgen_id": "secret@example.com"}}]}]}`,
		`{"object": "instagram", "entry": [{"id": true}]}`,
		`{"object": "page", "entry": [{"id": "1", "changes": [{"field": "leadgen", "value": "secret@example.com"}]}]}`,
	}
	for _, b := range bodies {
		_, err := conn.Parse(&ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: []byte(b)})
		if err == nil {
			t.Errorf("Parse(%s) succeeded, want an error", b)
			continue
		}
		if strings.Contains(err.Error(), "secret@example.com") || strings.Contains(err.Error(), "true") {
			t.Errorf("error echoes the payload: %v", err)
		}
	}
}

func TestOpenReportsEveryProblem(t *testing.T) {
	cfg := Config{BaseURL: "ftp://x", APIVersion: "21", TestFormIDs: []string{"abc"}}
	_, err := Open(cfg, testEnv(map[string]string{}, nil))
	if err == nil {
		t.Fatal("Open succeeded with a broken config")
	}
	for _, want := range []string{
		"settings.base_url", "settings.api_version", "settings.timeout", "settings.rate_limit_wait",
		"settings.test_form_ids[0]", `secret "app_secret" is not set`, `secret "verify_token" is not set`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error lacks %q:\n%v", want, err)
		}
	}
}

func TestOpenWithoutPageTokenServesWebhooks(t *testing.T) {
	secrets := allSecrets()
	delete(secrets, secretPageToken)
	conn, err := Open(DefaultConfig(), testEnv(secrets, nil))
	if err != nil {
		t.Fatalf("Open without page token: %v", err)
	}
	_, err = conn.Fetch(t.Context(), ingest.FetchJob{EventID: "1", Ref: "1"})
	if err == nil || !strings.Contains(err.Error(), `"page_access_token" is not set`) {
		t.Fatalf("Fetch without token = %v, want a permanent error naming the secret", err)
	}
}

func TestDefaultMappingTargetsCanonicalFields(t *testing.T) {
	canonical := map[string]bool{}
	for _, f := range []string{"email", "phone", "full_name", "first_name", "last_name", "company", "job_title",
		"city", "region", "country", "postal_code", "date_of_birth", "gender", "interests", "handle",
		"platform_user_id", "message_text", "comment_text"} {
		canonical[f] = true
	}
	m := openTest(t, DefaultConfig()).DefaultMapping()
	for raw, c := range m {
		if !canonical[c] {
			t.Errorf("mapping %q -> %q: not a canonical field", raw, c)
		}
	}
	for _, raw := range []string{"from.id", "sender.id"} {
		if m[raw] != "platform_user_id" {
			t.Errorf("mapping[%q] = %q, want platform_user_id", raw, m[raw])
		}
	}
}
