package generic

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/consentgate/consentgate/internal/ingest"
)

func TestOpenReportsEveryProblemByKey(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Signature.Scheme = "hmac-sha1"
	cfg.Signature.Tolerance = 0
	cfg.RecordsPath = "data..leads"
	cfg.Kind = "deletion"
	cfg.Type = "has space"
	cfg.Limits.MaxDepth = 0
	_, err := Open(cfg, ingest.Env{Secret: func(string) (string, bool) { return "", false }})
	if err == nil {
		t.Fatal("Open accepted a broken config")
	}
	for _, want := range []string{
		"settings.signature.scheme: must be standard_webhooks, hmac or stripe",
		"settings.signature.tolerance: must be a positive duration",
		"settings.records_path: must be keys separated by single dots",
		"settings.kind: must be lead or interaction",
		"settings.type: must be 1–128 letters",
		"settings.limits.max_depth: must be a positive number",
		`secret "signing_secret" is not set: add secrets.signing_secret {env: GENERIC_SIGNING_SECRET}`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestOpenRefusesSettingsTheSchemeIgnores(t *testing.T) {
	tests := []struct {
		name string
		sig  SignatureConfig
		want string
	}{
		{"standard with header", SignatureConfig{Scheme: SchemeStandardWebhooks, Header: "X-Sig"}, "settings.signature.header: is not used by scheme standard_webhooks"},
		{"standard with prefix", SignatureConfig{Scheme: SchemeStandardWebhooks, Prefix: "v1,"}, "settings.signature.prefix: is not used"},
		{"stripe with encoding", SignatureConfig{Scheme: SchemeStripe, Encoding: "base64"}, "settings.signature.encoding: is not used by scheme stripe"},
		{"hmac bad encoding", SignatureConfig{Scheme: SchemeHMAC, Encoding: "base32"}, "settings.signature.encoding: must be hex or base64"},
		{"hmac bad header", SignatureConfig{Scheme: SchemeHMAC, Header: "X Sig"}, "settings.signature.header: must be an HTTP header name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.sig.Tolerance = time.Minute
			cfg.Signature = tt.sig
			_, err := Open(cfg, testEnv(testSecret(cfg)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestOpenRefusesStandardSecretThatIsNotBase64(t *testing.T) {
	_, err := Open(DefaultConfig(), testEnv("whsec_not base64!"))
	if err == nil || !strings.Contains(err.Error(), `secret "signing_secret": must be "whsec_" followed by base64`) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "not base64!") {
		t.Fatalf("error echoes the secret: %v", err)
	}
}

// The gateway decodes `settings:` strictly over DefaultConfig.
func TestConfigDecodesFromYAML(t *testing.T) {
	src := `
signature:
  scheme: hmac
  header: X-Acme-Signature
  encoding: base64
  prefix: "sha256="
  timestamp_header: X-Acme-Timestamp
  tolerance: 90s
records_path: data.leads
event_id_path: id
kind: interaction
limits:
  max_records: 10
`
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got := cfg.Signature.Tolerance; got != 90*time.Second {
		t.Errorf("tolerance = %v, want 90s", got)
	}
	if cfg.Limits.MaxRecords != 10 || cfg.Limits.MaxDepth != 32 {
		t.Errorf("limits = %+v: want max_records set and the other defaults kept", cfg.Limits)
	}
	if _, err := Open(cfg, testEnv(testHMACSecret)); err != nil {
		t.Errorf("open: %v", err)
	}
	bad := DefaultConfig()
	if err := yaml.Unmarshal([]byte("signature: {tolerance: soon}"), &bad); err == nil {
		t.Error("tolerance \"soon\" was accepted")
	}
}

// The helpers other packages use to sign must produce what Verify accepts.
func TestSignHelpersRoundTrip(t *testing.T) {
	body := []byte(`{"email":"ana@example.com"}`)
	configs := map[string]SignatureConfig{
		"standard":          {Scheme: SchemeStandardWebhooks},
		"hmac hex":          {Scheme: SchemeHMAC},
		"hmac base64":       {Scheme: SchemeHMAC, Encoding: "base64", Prefix: "sha256=", Header: "X-Hub-Signature-256"},
		"hmac timestamp":    {Scheme: SchemeHMAC, TimestampHeader: "X-Timestamp"},
		"stripe":            {Scheme: SchemeStripe},
		"stripe own header": {Scheme: SchemeStripe, Header: "Acme-Signature"},
	}
	for name, sig := range configs {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			sig.Tolerance = cfg.Signature.Tolerance
			cfg.Signature = sig
			secret := testSecret(cfg)
			conn, err := Open(cfg, testEnv(secret))
			if err != nil {
				t.Fatal(err)
			}
			req := &ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body}
			for k, v := range SignHMAC(cfg, secret, testNow, body) {
				req.Header.Set(k, v)
			}
			if err := conn.Verify(req); err != nil {
				t.Fatalf("verify: %v", err)
			}
			req.Body = []byte(`{"email":"eve@example.com"}`)
			if err := conn.Verify(req); !errors.Is(err, ingest.ErrUnauthenticated) {
				t.Fatalf("verify of a changed body: %v", err)
			}
			// What `consentgate dev` prints must be accepted too.
			sample := &ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body}
			for k, v := range conn.SampleHeaders(body, testNow) {
				sample.Header.Set(k, v)
			}
			if err := conn.Verify(sample); err != nil {
				t.Fatalf("verify sample headers: %v", err)
			}
		})
	}
}

func TestSignStandardMatchesSpecLayout(t *testing.T) {
	sig := SignStandard(testStandardSecret, "msg_1", testNow, []byte("{}"))
	if !strings.HasPrefix(sig, "v1,") || len(sig) != len("v1,")+44 {
		t.Fatalf("signature %q is not v1,<base64 of 32 bytes>", sig)
	}
	if SignStandard(strings.TrimPrefix(testStandardSecret, "whsec_"), "msg_1", testNow, []byte("{}")) != sig {
		t.Fatal("the whsec_ prefix changed the key")
	}
}

// A sender re-serialising the same event (other key order, whitespace)
// must hit the same de-dup id; other content must not.
func TestHashEventIDIgnoresLayoutOnly(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Signature = SignatureConfig{Scheme: SchemeHMAC, Tolerance: cfg.Signature.Tolerance}
	conn, err := Open(cfg, testEnv(testHMACSecret))
	if err != nil {
		t.Fatal(err)
	}
	id := func(body string) string {
		t.Helper()
		req := &ingest.Request{Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
		b, err := conn.Parse(req)
		if err != nil {
			t.Fatalf("parse %s: %v", body, err)
		}
		return b.Records[0].EventID
	}
	a := id(`{"email":"a@example.com","n":12345678901234567890,"tags":["x","y"]}`)
	if b := id("{\n  \"tags\": [\"x\", \"y\"],\n  \"n\": 12345678901234567890,\n  \"email\": \"a@example.com\"\n}"); a != b {
		t.Errorf("reordered body got id %s, want %s", b, a)
	}
	if c := id(`{"email":"a@example.com","n":12345678901234567891,"tags":["x","y"]}`); a == c {
		t.Error("different content got the same id")
	}
	if d := id(`{"email":"a@example.com","n":12345678901234567890,"tags":["y","x"]}`); a == d {
		t.Error("array order is content, yet got the same id")
	}
}

// Error messages are shown to the sender and logged: they must never carry
// payload values or the secret.
func TestErrorsNeverEchoValues(t *testing.T) {
	const pii = "ana.secret@example.com"
	cfg := DefaultConfig()
	cfg.Signature = SignatureConfig{Scheme: SchemeHMAC, Tolerance: cfg.Signature.Tolerance}
	cfg.EventIDPath = "id"
	cfg.OccurredAtPath = "at"
	cfg.TypePath = "type"
	cfg.Limits.MaxFieldBytes = 40
	conn, err := Open(cfg, testEnv(testHMACSecret))
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{
		`{"id":"1","email":"` + pii + `" "x":1}`,
		`{"id":"1","email":"` + pii + `"} "` + pii + `"`,
		`{"id":"1","email":"` + pii + `","email":"` + pii + `"}`,
		`{"id":"1","at":"` + pii + `"}`,
		`{"id":"1","type":"` + pii + `"}`,
		`{"id":{"v":"` + pii + `"}}`,
		`{"id":"1","note":"` + pii + pii + `"}`,
		`{"id":"1","email":"` + pii,
		`{"id":"1","email":"` + pii + `",}`,
		`{"id":"1","email":` + pii + `}`,
	}
	for _, body := range bodies {
		req := &ingest.Request{Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
		_, err := conn.Parse(req)
		if err == nil {
			t.Errorf("parse %s: no error", body)
			continue
		}
		if strings.Contains(err.Error(), "ana") || strings.Contains(err.Error(), "example") {
			t.Errorf("error echoes the payload: %v", err)
		}
	}
	req := &ingest.Request{Header: http.Header{"X-Signature": {"00"}}, Body: []byte(pii)}
	if err := conn.Verify(req); err == nil || strings.Contains(err.Error(), testHMACSecret) || strings.Contains(err.Error(), "ana") {
		t.Errorf("verify error = %v", err)
	}
}
