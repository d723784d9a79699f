package generic

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/ingest/ingesttest"
)

var (
	testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	// Standard Webhooks secrets are shown to users as whsec_ + base64.
	testStandardSecret  = "whsec_" + base64.StdEncoding.EncodeToString([]byte("consentgate generic test key 32b"))
	wrongStandardSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("an attacker's guess at the key!!"))
)

const (
	testHMACSecret  = "generic-test-secret"
	wrongHMACSecret = "not-the-secret"
)

// caseExtra is what a case's "extra" may carry so one set of files covers
// several configurations.
type caseExtra struct {
	// Settings is decoded strictly over DefaultConfig.
	Settings json.RawMessage `json:"settings"`
	// Secret replaces the default test secret of the scheme.
	Secret string `json:"secret"`
	// BodyBase64 replaces the body with bytes a JSON case file cannot hold
	// (invalid UTF-8).
	BodyBase64 string `json:"body_base64"`
}

// TestCases runs every testdata/*.json case. ingesttest.Run takes one
// connector for all files; here each case may configure its own, so the
// same runner pieces (Load, BuildRequest, Check) are used per case.
func TestCases(t *testing.T) {
	for _, c := range ingesttest.Load(t, "testdata") {
		t.Run(c.Name, func(t *testing.T) {
			cfg, secret, body := caseSetup(t, c)
			conn, err := Open(cfg, testEnv(secret))
			if err != nil {
				t.Fatalf("%s: open: %v", c.File, err)
			}
			req := ingesttest.BuildRequest(c, testNow)
			if body != nil {
				req.Body = body
			}
			signCase(t, c.Sign, req, cfg, secret)
			ingesttest.Check(t, c, conn, req)
		})
	}
}

func caseSetup(t *testing.T, c ingesttest.Case) (Config, string, []byte) {
	t.Helper()
	cfg := DefaultConfig()
	var x caseExtra
	if len(c.Extra) > 0 {
		dec := json.NewDecoder(bytes.NewReader(c.Extra))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&x); err != nil {
			t.Fatalf("%s: extra: %v", c.File, err)
		}
	}
	if len(x.Settings) > 0 {
		// Through the YAML decoder (JSON is YAML), strictly, as the gateway
		// decodes a connector file's settings.
		dec := yaml.NewDecoder(bytes.NewReader(x.Settings))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil {
			t.Fatalf("%s: extra.settings: %v", c.File, err)
		}
	}
	secret := x.Secret
	if secret == "" {
		secret = testSecret(cfg)
	}
	var body []byte
	if x.BodyBase64 != "" {
		var err error
		if body, err = base64.StdEncoding.DecodeString(x.BodyBase64); err != nil {
			t.Fatalf("%s: extra.body_base64: %v", c.File, err)
		}
	}
	return cfg, secret, body
}

func testSecret(cfg Config) string {
	if cfg.Signature.Scheme == SchemeStandardWebhooks {
		return testStandardSecret
	}
	return testHMACSecret
}

func testEnv(secret string) ingest.Env {
	return ingest.Env{
		Secret: func(name string) (string, bool) { return secret, name == SecretSigningSecret },
		Now:    func() time.Time { return testNow },
	}
}

// signCase signs req as a sender configured like cfg would, then spoils it
// as the mode asks:
//
//	valid          signed now
//	none / ""      no signature header (id and timestamp still sent)
//	bad            signed with the wrong secret
//	stale, future  signed 6 minutes before / after now (tolerance 5m)
//	skewed         signed 4 minutes ago: still inside the tolerance
//	multi          several signatures, only one of them valid
//	v1a            standard_webhooks: only an ed25519 (v1a) signature
//	no_id          standard_webhooks: no webhook-id header
//	no_timestamp   no timestamp header
//	bad_timestamp  a timestamp that is not unix seconds
//	unprefixed     hmac: the configured prefix left out
func signCase(t *testing.T, mode string, req *ingest.Request, cfg Config, secret string) {
	t.Helper()
	ts := testNow
	switch mode {
	case "stale":
		ts = testNow.Add(-6 * time.Minute)
	case "future":
		ts = testNow.Add(6 * time.Minute)
	case "skewed":
		ts = testNow.Add(-4 * time.Minute)
	}
	sig := cfg.Signature.withSchemeDefaults()
	if sig.Scheme == SchemeStandardWebhooks {
		signStandardCase(t, mode, req, ts, secret)
		return
	}
	key := secret
	if mode == "bad" {
		key = wrongHMACSecret
	}
	h := SignHMAC(cfg, key, ts, req.Body)
	switch mode {
	case "none", "":
		delete(h, sig.Header)
	case "no_timestamp":
		delete(h, sig.TimestampHeader)
	case "bad_timestamp":
		if sig.Scheme == SchemeStripe {
			h[sig.Header] = strings.Replace(h[sig.Header], "t="+strconv.FormatInt(ts.Unix(), 10), "t=soon", 1)
		} else {
			h[sig.TimestampHeader] = "soon"
		}
	case "unprefixed":
		h[sig.Header] = strings.TrimPrefix(h[sig.Header], sig.Prefix)
	case "multi":
		if sig.Scheme != SchemeStripe {
			t.Fatalf("sign mode multi is for stripe and standard_webhooks")
		}
		bad := SignHMAC(cfg, wrongHMACSecret, ts, req.Body)[sig.Header]
		_, badV1, _ := strings.Cut(bad, ",")
		_, goodV1, _ := strings.Cut(h[sig.Header], ",")
		h[sig.Header] = "t=" + strconv.FormatInt(ts.Unix(), 10) + "," + badV1 + "," + goodV1 + ",v0=00ff"
	case "valid", "bad", "stale", "future", "skewed":
	default:
		t.Fatalf("unknown sign mode %q", mode)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
}

func signStandardCase(t *testing.T, mode string, req *ingest.Request, ts time.Time, secret string) {
	t.Helper()
	id := req.Header.Get(HeaderWebhookID)
	if id == "" {
		id = "msg_test"
		if mode != "no_id" {
			req.Header.Set(HeaderWebhookID, id)
		}
	}
	switch mode {
	case "no_timestamp":
	case "bad_timestamp":
		req.Header.Set(HeaderWebhookTimestamp, "soon")
	default:
		req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	}
	key := secret
	if mode == "bad" {
		key = wrongStandardSecret
	}
	good := SignStandard(key, id, ts, req.Body)
	switch mode {
	case "none", "":
		return
	case "multi":
		bad := SignStandard(wrongStandardSecret, id, ts, req.Body)
		req.Header.Set(HeaderWebhookSignature, bad+" v1a,"+base64.StdEncoding.EncodeToString(make([]byte, 64))+" "+good)
	case "v1a":
		req.Header.Set(HeaderWebhookSignature, "v1a,"+base64.StdEncoding.EncodeToString(make([]byte, 64)))
	case "valid", "bad", "stale", "future", "skewed", "no_id", "no_timestamp", "bad_timestamp":
		req.Header.Set(HeaderWebhookSignature, good)
	default:
		t.Fatalf("unknown sign mode %q", mode)
	}
}
