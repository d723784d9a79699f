package linkedin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/ingest/ingesttest"
)

const (
	testClientSecret = "test-client-secret"
	testAccessToken  = "test-access-token"
)

var testNow = time.Date(2024, 10, 27, 3, 35, 0, 0, time.UTC)

func testEnv(client *http.Client) ingest.Env {
	secrets := map[string]string{secretClientSecret: testClientSecret, secretAccessToken: testAccessToken}
	return ingest.Env{
		Secret:     func(name string) (string, bool) { v, ok := secrets[name]; return v, ok },
		Now:        func() time.Time { return testNow },
		HTTPClient: client,
	}
}

func openTest(t testing.TB, mutate func(*Config), client *http.Client) *Connector {
	t.Helper()
	cfg := DefaultConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := Open(cfg, testEnv(client))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return c
}

func liHMAC(secret, msg []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(msg)
	return m.Sum(nil)
}

// sign implements the case-file sign modes: valid | bad | none | garbage |
// body_only | wrong_secret | valid_prefixed | valid_upper.
func sign(t *testing.T, mode string, req *ingest.Request, c ingesttest.Case) {
	t.Helper()
	if req.Method == http.MethodGet || mode == "none" {
		return
	}
	prefixed := append([]byte("hmacsha256="), req.Body...)
	good := hex.EncodeToString(liHMAC([]byte(testClientSecret), prefixed))
	var v string
	switch mode {
	case "valid":
		v = good
	case "valid_prefixed":
		v = "hmacsha256=" + good
	case "valid_upper":
		v = strings.ToUpper(good)
	case "bad":
		v = hex.EncodeToString(liHMAC([]byte(testClientSecret), append(prefixed, ' ')))
	case "garbage":
		v = "not-a-signature"
	case "body_only":
		v = hex.EncodeToString(liHMAC([]byte(testClientSecret), req.Body))
	case "wrong_secret":
		v = hex.EncodeToString(liHMAC([]byte("another-secret"), prefixed))
	default:
		t.Fatalf("%s: unknown sign mode %q", c.File, mode)
	}
	req.Header.Set(headerSignature, v)
}

func TestCases(t *testing.T) {
	ingesttest.Run(t, "testdata", openTest(t, nil, nil), sign, testNow)
}

func TestVerifyBase64Encoding(t *testing.T) {
	c := openTest(t, func(cfg *Config) { cfg.SignatureEncoding = "base64" }, nil)
	body := []byte(`{"type":"LEAD_ACTION"}`)
	mac := liHMAC([]byte(testClientSecret), append([]byte("hmacsha256="), body...))
	for name, header := range map[string]string{
		"padded":   base64.StdEncoding.EncodeToString(mac),
		"unpadded": base64.RawStdEncoding.EncodeToString(mac),
	} {
		t.Run(name, func(t *testing.T) {
			req := &ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body}
			req.Header.Set(headerSignature, header)
			if err := c.Verify(req); err != nil {
				t.Fatalf("verify: %v", err)
			}
		})
	}
	req := &ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body}
	req.Header.Set(headerSignature, hex.EncodeToString(mac))
	if err := c.Verify(req); !errors.Is(err, ingest.ErrUnauthenticated) {
		t.Fatalf("hex signature under base64 setting: err = %v, want ErrUnauthenticated", err)
	}
}

func TestVerifyWithoutMessagePrefix(t *testing.T) {
	c := openTest(t, func(cfg *Config) { cfg.SignatureMessagePrefix = "" }, nil)
	body := []byte(`{"type":"LEAD_ACTION"}`)
	req := &ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body}
	req.Header.Set(headerSignature, hex.EncodeToString(liHMAC([]byte(testClientSecret), body)))
	if err := c.Verify(req); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

func TestParseTooManyNotifications(t *testing.T) {
	c := openTest(t, func(cfg *Config) { cfg.MaxNotifications = 1 }, nil)
	body := `[{"type":"LEAD_ACTION","leadAction":"CREATED","leadGenFormResponse":"urn:li:leadGenFormResponse:a-1"},` +
		`{"type":"LEAD_ACTION","leadAction":"CREATED","leadGenFormResponse":"urn:li:leadGenFormResponse:a-2"}]`
	_, err := c.Parse(&ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: []byte(body)})
	if ingest.StatusOf(err) != http.StatusRequestEntityTooLarge {
		t.Fatalf("err = %v, want 413", err)
	}
}

func TestOpenReportsEveryProblem(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BaseURL = "api.linkedin.com"
	cfg.APIVersion = "v2"
	cfg.FormPath = "leadForms"
	cfg.SignatureEncoding = "b32"
	cfg.CustomQuestionKey = "label"
	cfg.FormCacheSize = 0
	cfg.MaxNotifications = 0
	_, err := Open(cfg, ingest.Env{Secret: func(string) (string, bool) { return "", false }})
	if err == nil {
		t.Fatal("Open accepted a broken config")
	}
	for _, want := range []string{
		"settings.base_url", "settings.api_version", "settings.form_path", "settings.signature_encoding",
		"settings.custom_question_key", "settings.form_cache_size", "settings.max_notifications",
		`secret "client_secret" is not set: add secrets.client_secret`, `secret "access_token" is not set`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), testClientSecret) {
		t.Error("error leaks a secret")
	}
}

func TestDefaultConfigOpens(t *testing.T) {
	c := openTest(t, nil, nil)
	m := c.DefaultMapping()
	for raw, canon := range map[string]string{
		"EMAIL": "email", "FIRST_NAME": "first_name", "PHONE_NUMBER": "phone",
		"STATE": "region", "ZIP_CODE": "postal_code", "leadGenFormResponse": "platform_user_id",
	} {
		if m[raw] != canon {
			t.Errorf("DefaultMapping[%q] = %q, want %q", raw, m[raw], canon)
		}
	}
}
