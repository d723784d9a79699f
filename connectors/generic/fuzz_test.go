package generic

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/consentgate/consentgate/internal/ingest"
)

// FuzzParse: any body either parses into records with usable, unique ids
// and UTF-8 fields, or fails with a 400 or 413, never a panic or a 5xx.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@example.com","n":12345678901234567890123}`,
		`{"items":[{"id":"1","a":[1,[2,{}]]},{"id":"2","b":null}]}`,
		`[{"id":1},{"id":1}]`,
		`{"a.b":1,"a":{"b":2}}`,
		`{"a":1,"a":2}`,
		"{\"a\":\"\xff\"}",
		`{"a":1} x`,
		`{"at":"2025-03-01T12:00:00Z","gpc":"yes","type":"x.y"}`,
		``,
	} {
		f.Add([]byte(s))
	}
	whole := openForFuzz(f, func(c *Config) {
		c.Signature = SignatureConfig{Scheme: SchemeHMAC, Tolerance: c.Signature.Tolerance}
		c.OccurredAtPath, c.GPCPath, c.TypePath, c.FormPath = "at", "gpc", "type", "form"
		c.Limits.MaxDepth = 8
	})
	batched := openForFuzz(f, func(c *Config) {
		c.RecordsPath, c.EventIDPath = "items", "id"
		c.Limits.MaxRecords = 5
	})
	root := openForFuzz(f, func(c *Config) { c.RecordsPath = "$" })
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, conn := range []*Connector{whole, batched, root} {
			req := &ingest.Request{
				Header: http.Header{"Content-Type": {"application/json"}, HeaderWebhookID: {"msg_fuzz"}},
				Body:   body,
			}
			b, err := conn.Parse(req)
			if err != nil {
				if s := ingest.StatusOf(err); s != http.StatusBadRequest && s != http.StatusRequestEntityTooLarge {
					t.Fatalf("status %d for %v", s, err)
				}
				continue
			}
			seen := map[string]bool{}
			for _, r := range b.Records {
				if r.EventID == "" || seen[r.EventID] {
					t.Fatalf("event id %q empty or repeated", r.EventID)
				}
				seen[r.EventID] = true
				for k, v := range r.Fields {
					if !utf8.ValidString(k) || !utf8.ValidString(v) {
						t.Fatalf("field %q is not UTF-8", k)
					}
				}
			}
		}
	})
}

// FuzzVerify: whatever the headers, Verify answers nil or a 401, and a
// correctly signed body always verifies, whatever its bytes.
func FuzzVerify(f *testing.F) {
	f.Add("msg_1", "1740830400", "v1,AAAA v1a,BBBB", []byte(`{}`))
	f.Add("", "-9223372036854775808", "t=1740830400,v1=00,v1=zz", []byte(``))
	f.Add("msg_2", "9223372036854775807", "sha256=abcdef", []byte("\xff\x00"))
	f.Add("a.b.c", "+1740830400", "t=,v1=,t=1", []byte(`{"a":1}`))
	standard := openForFuzz(f, func(*Config) {})
	stripe := openForFuzz(f, func(c *Config) { c.Signature = SignatureConfig{Scheme: SchemeStripe, Tolerance: c.Signature.Tolerance} })
	hmacTS := openForFuzz(f, func(c *Config) {
		c.Signature = SignatureConfig{Scheme: SchemeHMAC, Prefix: "sha256=", TimestampHeader: "X-Timestamp", Tolerance: c.Signature.Tolerance}
	})
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(HeaderWebhookID, id)
		h.Set(HeaderWebhookTimestamp, ts)
		h.Set(HeaderWebhookSignature, sig)
		h.Set("Stripe-Signature", sig)
		h.Set("X-Signature", sig)
		h.Set("X-Timestamp", ts)
		for _, conn := range []*Connector{standard, stripe, hmacTS} {
			err := conn.Verify(&ingest.Request{Header: h, Body: body})
			if err != nil && !errors.Is(err, ingest.ErrUnauthenticated) {
				t.Fatalf("error without ErrUnauthenticated: %v", err)
			}
		}
		if id == "" {
			return
		}
		good := http.Header{}
		good.Set(HeaderWebhookID, id)
		good.Set(HeaderWebhookTimestamp, strconv.FormatInt(testNow.Unix(), 10))
		good.Set(HeaderWebhookSignature, sig+" "+SignStandard(testStandardSecret, id, testNow, body))
		if err := standard.Verify(&ingest.Request{Header: good, Body: body}); err != nil {
			t.Fatalf("a valid signature among others was refused: %v", err)
		}
	})
}

func openForFuzz(f *testing.F, edit func(*Config)) *Connector {
	f.Helper()
	cfg := DefaultConfig()
	edit(&cfg)
	conn, err := Open(cfg, testEnv(testSecret(cfg)))
	if err != nil {
		f.Fatal(err)
	}
	return conn
}
