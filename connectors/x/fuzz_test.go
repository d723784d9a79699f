package x

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/ingest"
)

// Seeds live in testdata/fuzz/<target>/ (the case bodies and signatures).

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"for_user_id":"1","tweet_create_events":[{"id_str":"2","user":{"id_str":"3"},"text":"@a hi","entities":{"user_mentions":[{"id_str":"1"}]}}]}`))
	plain := open(f, DefaultConfig())
	own := open(f, Config{Signature: SignatureLegacy, IgnoreOwnActivity: true})
	mapping := plain.DefaultMapping()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, c := range []*Connector{plain, own} {
			b, err := c.Parse(&ingest.Request{Method: "POST", Body: body})
			if err != nil {
				if !errors.Is(err, ingest.ErrMalformed) {
					t.Fatalf("error does not wrap ErrMalformed: %v", err)
				}
				continue
			}
			ids := map[string]bool{}
			for _, r := range b.Records {
				if r.EventID == "" || ids[r.EventID] {
					t.Fatalf("event id %q empty or repeated", r.EventID)
				}
				ids[r.EventID] = true
				if r.Kind != ingest.KindInteraction && r.Kind != ingest.KindDeletion {
					t.Fatalf("record %s has kind %q", r.EventID, r.Kind)
				}
				if !strings.HasPrefix(r.Type, "x.") {
					t.Fatalf("record %s has type %q", r.EventID, r.Type)
				}
				keyed := false
				for raw, v := range r.Fields {
					if v == "" {
						t.Fatalf("record %s has empty field %s", r.EventID, raw)
					}
					keyed = keyed || mapping[raw] == "platform_user_id"
				}
				if !keyed {
					t.Fatalf("record %s has no field mapped to platform_user_id", r.EventID)
				}
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	body := []byte(`{"for_user_id":"1","favorite_events":[]}`)
	f.Add(body, Sign([]byte(testConsumerSecret), body), "")
	f.Add(body, "sha256=", Sign([]byte(testClientSecret), body))
	conns := []*Connector{
		open(f, Config{Signature: SignatureLegacy}),
		open(f, Config{Signature: SignatureOAuth2}),
		open(f, Config{Signature: SignatureOAuth2OrLegacy}),
	}
	f.Fuzz(func(t *testing.T, body []byte, legacy, oauth2 string) {
		for _, c := range conns {
			req := &ingest.Request{Method: "POST", Header: map[string][]string{}, Body: body}
			if legacy != "" {
				req.Header.Set(HeaderSignature, legacy)
			}
			if oauth2 != "" {
				req.Header.Set(HeaderSignatureOAuth2, oauth2)
			}
			err := c.Verify(req)
			if err != nil {
				if !errors.Is(err, ingest.ErrUnauthenticated) {
					t.Fatalf("error does not wrap ErrUnauthenticated: %v", err)
				}
			} else if !genuine(req, c, body) {
				t.Fatalf("scheme %s accepted a signature that is not the body's HMAC", c.scheme)
			}

			// The right signature always passes, on any body.
			good := &ingest.Request{Method: "POST", Header: map[string][]string{}, Body: body}
			if c.client != nil {
				good.Header.Set(HeaderSignatureOAuth2, Sign(c.client, body))
			} else {
				good.Header.Set(HeaderSignature, Sign(c.consumer, body))
			}
			if err := c.Verify(good); err != nil {
				t.Fatalf("scheme %s refused a genuine signature: %v", c.scheme, err)
			}
		}
	})
}

// genuine reports whether the header that decided carries the body's HMAC.
func genuine(req *ingest.Request, c *Connector, body []byte) bool {
	name, key := HeaderSignature, c.consumer
	if c.scheme == SignatureOAuth2 || (c.scheme == SignatureOAuth2OrLegacy && req.Header.Get(HeaderSignatureOAuth2) != "") {
		name, key = HeaderSignatureOAuth2, c.client
	}
	v, ok := strings.CutPrefix(strings.TrimSpace(req.Header.Get(name)), sigPrefix)
	if !ok {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(v)
	return err == nil && hmac.Equal(got, mac(key, body))
}

func FuzzHandshake(f *testing.F) {
	f.Add("9b4507b3-9040-4669-9ca3-6b94edb50553")
	f.Add(`{"for_user_id":"1"}`)
	c := open(f, DefaultConfig())
	f.Fuzz(func(t *testing.T, token string) {
		req := &ingest.Request{Method: "GET", Query: map[string][]string{"crc_token": {token}}}
		resp, err := c.Handshake(req)
		if err != nil {
			if !errors.Is(err, ingest.ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if strings.ContainsAny(token, `{}"`) {
			t.Fatal("answered a token that could be a JSON body: a signing oracle")
		}
		var out struct {
			ResponseToken string `json:"response_token"`
		}
		if err := json.Unmarshal(resp.Body, &out); err != nil || out.ResponseToken != Sign(c.crcKey, []byte(token)) {
			t.Fatalf("response %q is not the token's HMAC (%v)", resp.Body, err)
		}
	})
}
