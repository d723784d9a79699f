package tiktok

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/consentgate/consentgate/internal/ingest"
)

// Seeds live in testdata/fuzz/Fuzz*/ (the lead bodies of the case files).

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"object":1,"entry":[{"id":7234567890123456789,"changes":[{"field":"email","value":"a@b.c"}]}]}`))
	conn := openTest(f, func(c *Config) {
		c.Payload.CheckboxFields = []string{"marketing_opt_in"}
		c.Payload.LeadEvents = []string{"lead.create"}
	})
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := conn.Parse(&ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body})
		if err != nil {
			if s := ingest.StatusOf(err); s < 400 || s >= 500 {
				t.Fatalf("error without a 4xx sentinel (status %d): %v", s, err)
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range b.Records {
			if r.EventID == "" || seen[r.EventID] {
				t.Fatalf("event id %q empty or repeated in one batch", r.EventID)
			}
			seen[r.EventID] = true
			if r.Kind != ingest.KindLead || r.Type != RecordType {
				t.Fatalf("record kind %q type %q", r.Kind, r.Type)
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add("t=1768472430,s=00", []byte(`{"object":1,"entry":[]}`))
	conn := openTest(f, nil)
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		req := &ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body}
		req.Header.Set("TikTok-Signature", header)
		if err := conn.Verify(req); err != nil && ingest.StatusOf(err) != http.StatusUnauthorized {
			t.Fatalf("status %d for a verify failure: %v", ingest.StatusOf(err), err)
		}
		// Whatever the body, a correct signature made now must pass.
		ts := strconv.FormatInt(testNow.Unix(), 10)
		req.Header.Set("TikTok-Signature", "t="+ts+",s="+hmacHex(testSecret, []byte(ts+"."), body))
		if err := conn.Verify(req); err != nil {
			t.Fatalf("correctly signed body refused: %v", err)
		}
	})
}
