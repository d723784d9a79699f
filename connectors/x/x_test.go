package x

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/ingest/ingesttest"
)

// Fixed test secrets; signatures are computed from them at test time.
const (
	testConsumerSecret = "test-consumer-secret"
	testClientSecret   = "test-client-secret"
)

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func testEnv() ingest.Env {
	secrets := map[string]string{secretConsumer: testConsumerSecret, secretClient: testClientSecret}
	return ingest.Env{
		Secret: func(name string) (string, bool) { v, ok := secrets[name]; return v, ok },
		Now:    func() time.Time { return testNow },
	}
}

func open(t testing.TB, cfg Config) *Connector {
	t.Helper()
	c, err := Open(cfg, testEnv())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return c
}

// signer signs as X does. "valid" uses the header of the connector's
// scheme (the OAuth2 one when it has a choice); the other modes name what
// they send.
func signer(scheme string) ingesttest.Signer {
	return func(t *testing.T, mode string, req *ingest.Request, c ingesttest.Case) {
		legacy := func() { req.Header.Set(HeaderSignature, Sign([]byte(testConsumerSecret), req.Body)) }
		oauth2 := func() { req.Header.Set(HeaderSignatureOAuth2, Sign([]byte(testClientSecret), req.Body)) }
		wrong := Sign([]byte("not-the-secret"), req.Body)
		switch mode {
		case "valid", "":
			if scheme == SignatureLegacy {
				legacy()
			} else {
				oauth2()
			}
		case "legacy":
			legacy()
		case "oauth2":
			oauth2()
		case "both":
			legacy()
			oauth2()
		case "oauth2_bad_legacy_ok":
			legacy()
			req.Header.Set(HeaderSignatureOAuth2, wrong)
		case "bad":
			req.Header.Set(HeaderSignature, wrong)
			req.Header.Set(HeaderSignatureOAuth2, wrong)
		case "no_prefix":
			legacy()
			req.Header.Set(HeaderSignature, strings.TrimPrefix(req.Header.Get(HeaderSignature), sigPrefix))
		case "hex":
			m := hmac.New(sha256.New, []byte(testConsumerSecret))
			m.Write(req.Body)
			req.Header.Set(HeaderSignature, sigPrefix+hex.EncodeToString(m.Sum(nil)))
		case "not_base64":
			req.Header.Set(HeaderSignature, sigPrefix+"%%%")
		case "tampered":
			legacy()
			req.Body = append(append([]byte{}, req.Body...), ' ')
		case "none":
		default:
			t.Fatalf("%s: unknown sign mode %q", c.File, mode)
		}
	}
}

func TestCases(t *testing.T) {
	for _, tc := range []struct {
		dir string
		cfg Config
	}{
		{"testdata", Config{Signature: SignatureLegacy}},
		// Default settings with both secrets set (testEnv): what an app
		// that has an OAuth 2.0 client secret gets without settings.signature.
		{"testdata/default", DefaultConfig()},
		{"testdata/oauth2", Config{Signature: SignatureOAuth2}},
		{"testdata/migration", Config{Signature: SignatureOAuth2OrLegacy}},
		{"testdata/own", Config{Signature: SignatureLegacy, IgnoreOwnActivity: true}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			c := open(t, tc.cfg)
			ingesttest.Run(t, tc.dir, c, signer(c.scheme), testNow)
		})
	}
}

// Every forwarded record must be keyable by the gateway: exactly one of its
// fields maps to platform_user_id, and no two fields compete for one
// canonical field.
func TestRecordsCarryMappedUserID(t *testing.T) {
	c := open(t, Config{Signature: SignatureLegacy})
	mapping := c.DefaultMapping()
	sign := signer(SignatureLegacy)
	seen := 0
	for _, tc := range ingesttest.Load(t, "testdata") {
		req := ingesttest.BuildRequest(tc, testNow)
		if req.Method != "POST" || tc.Want.Status != 0 && tc.Want.Status != 200 {
			continue
		}
		sign(t, tc.Sign, req, tc)
		b, err := c.Parse(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.File, err)
		}
		for _, r := range b.Records {
			seen++
			byCanonical := map[string]string{}
			for raw := range r.Fields {
				canon, ok := mapping[raw]
				if !ok {
					continue
				}
				if prev, dup := byCanonical[canon]; dup {
					t.Errorf("%s %s: fields %q and %q both map to %s", tc.File, r.EventID, prev, raw, canon)
				}
				byCanonical[canon] = raw
			}
			if byCanonical["platform_user_id"] == "" {
				t.Errorf("%s %s: no field maps to platform_user_id", tc.File, r.EventID)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("only %d records checked; the cases went missing", seen)
	}
}

func TestOpen(t *testing.T) {
	only := func(names ...string) ingest.Env {
		return ingest.Env{Secret: func(name string) (string, bool) {
			for _, n := range names {
				if n == name {
					return "s3cret", true
				}
			}
			return "", false
		}}
	}
	for _, tc := range []struct {
		name    string
		cfg     Config
		env     ingest.Env
		wantErr []string
	}{
		{"legacy needs consumer_secret", Config{Signature: SignatureLegacy}, only(secretClient), []string{`secret "consumer_secret" is not set: add secrets.consumer_secret`}},
		{"legacy alone is enough", Config{Signature: SignatureLegacy}, only(secretConsumer), nil},
		{"default needs a secret", DefaultConfig(), ingest.Env{},
			[]string{`secret "consumer_secret" is not set: add secrets.consumer_secret {env: X_CONSUMER_SECRET}`, `or add secrets.client_secret {env: X_CLIENT_SECRET}`}},
		{"default with consumer_secret alone", DefaultConfig(), only(secretConsumer), nil},
		{"default with client_secret alone", DefaultConfig(), only(secretClient), nil},
		{"oauth2 needs client_secret", Config{Signature: SignatureOAuth2}, only(secretConsumer), []string{`secret "client_secret" is not set`}},
		{"migration needs both", Config{Signature: SignatureOAuth2OrLegacy}, ingest.Env{},
			[]string{`secret "client_secret" is not set`, `secret "consumer_secret" is not set`}},
		{"unknown scheme", Config{Signature: "hmac"}, only(secretConsumer), []string{`settings.signature: must be "legacy", "oauth2" or "oauth2_or_legacy"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(tc.cfg, tc.env)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("open succeeded, want an error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

// Without settings.signature the scheme, and with it the CRC key, follows
// the secrets that are set: X answers the CRC of an app with an OAuth 2.0
// client secret with that secret, and sends such an app only the OAuth2
// header when it has no consumer secret.
func TestDefaultScheme(t *testing.T) {
	const token = "9b4507b3-9040-4669-9ca3-6b94edb50553"
	env := func(names ...string) ingest.Env {
		e := testEnv()
		all := e.Secret
		e.Secret = func(name string) (string, bool) {
			for _, n := range names {
				if n == name {
					return all(name)
				}
			}
			return "", false
		}
		return e
	}
	for _, tc := range []struct {
		name    string
		env     ingest.Env
		want    string
		crcWith string
	}{
		{"both secrets", env(secretConsumer, secretClient), SignatureOAuth2OrLegacy, testClientSecret},
		{"client_secret only", env(secretClient), SignatureOAuth2, testClientSecret},
		{"consumer_secret only", env(secretConsumer), SignatureLegacy, testConsumerSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Open(DefaultConfig(), tc.env)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if c.scheme != tc.want {
				t.Errorf("scheme = %q, want %q", c.scheme, tc.want)
			}
			resp, err := c.Handshake(&ingest.Request{Method: "GET", Query: map[string][]string{"crc_token": {token}}})
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			want := `{"response_token":"` + Sign([]byte(tc.crcWith), []byte(token)) + `"}`
			if string(resp.Body) != want {
				t.Errorf("CRC body = %s, want %s", resp.Body, want)
			}
		})
	}
	// An explicit setting keeps its meaning whatever secrets are set.
	c := open(t, Config{Signature: SignatureLegacy})
	if c.scheme != SignatureLegacy || string(c.crcKey) != testConsumerSecret {
		t.Errorf("explicit legacy: scheme %q, CRC key %q", c.scheme, c.crcKey)
	}
}

// Errors go back to the sender, so they must not echo payload values.
func TestErrorsDoNotEchoPayload(t *testing.T) {
	c := open(t, DefaultConfig())
	const pii = "anna@example.com"
	bodies := []string{
		`{"for_user_id":"1","tweet_create_events":[{"id_str":"1","text":{"x":"` + pii + `"}}]}`,
		`{"for_user_id":"1","tweet_create_events":[{"id_str":"1","user":{"id_str":"2","name":1` + pii + `}}]}`,
		`{"for_user_id":"1","favorite_events":[{"id":"1","user":{"id_str":"2"},"created_at":"` + pii + `"}]}`,
		`{"for_user_id":"1","direct_message_events":[{"type":"message_create","id":"1","message_create":{"sender_id":"2"}}],"users":{"2":"` + pii + `"}}`,
		`{"user_event":{"revoke":{"date_time":"` + pii + `","source":{"user_id":"1"}}}}`,
	}
	for i, body := range bodies {
		_, err := c.Parse(&ingest.Request{Method: "POST", Body: []byte(body)})
		if !errors.Is(err, ingest.ErrMalformed) {
			t.Errorf("body %d: err = %v, want ErrMalformed", i, err)
			continue
		}
		if strings.Contains(err.Error(), pii) || strings.Contains(err.Error(), "anna") {
			t.Errorf("body %d: error echoes the payload: %v", i, err)
		}
	}
}
