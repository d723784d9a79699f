package meta

import (
	"errors"
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/consentgate/consentgate/internal/ingest"
)

// Seeds live in testdata/fuzz/<target>/ (the shapes of the case files);
// these f.Add calls cover the edges.

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"object":"page","entry":[{"id":"1","time":1,"changes":[{"field":"leadgen","value":{"leadgen_id":18446744073709551615}}]}]}`))
	f.Add([]byte(`[{"object":"instagram","entry":[{"id":"1","field":"comments","value":{"comment_id":"2","from":{"id":"3"}}}]}]`))
	f.Add([]byte(`{"object":"instagram","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"message":{"mid":"m","is_deleted":true}}]}]}`))
	f.Add([]byte(`{"object":"instagram","entry":[{"id":"1","changes":[{"field":"mentions","value":{"media_id":"5"}}]}]}`))
	f.Add([]byte(`{}`))
	conn, err := Open(DefaultConfig(), testEnv(allSecrets(), nil))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := conn.Parse(&ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body})
		if err != nil {
			if !errors.Is(err, ingest.ErrMalformed) && !errors.Is(err, ingest.ErrTooLarge) {
				t.Fatalf("Parse error is not classified: %v", err)
			}
			return
		}
		if len(b.Rejected) > 0 && len(b.Records)+len(b.Jobs) == 0 {
			t.Fatalf("only rejections and no error: %+v", b.Rejected)
		}
		for _, r := range b.Rejected {
			if r.Reason == "" || r.Index < 0 {
				t.Fatalf("rejection without a reason or position: %+v", r)
			}
		}
		ids := map[string]bool{}
		for _, j := range b.Jobs {
			if ids[j.EventID] {
				t.Fatalf("event id %q twice in one batch", j.EventID)
			}
			ids[j.EventID] = true
			if !isDigits(j.Ref) {
				t.Fatalf("job ref %q is not a numeric id", j.Ref)
			}
		}
		for _, r := range b.Records {
			if ids[r.EventID] || r.EventID == "" {
				t.Fatalf("event id %q empty or twice in one batch", r.EventID)
			}
			ids[r.EventID] = true
			if r.Type != "meta.instagram.mention" && r.Fields["from.id"] == "" && r.Fields["sender.id"] == "" {
				t.Fatalf("%s record without a platform user id", r.Type)
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"object":"page","entry":[]}`), "sha256=00")
	f.Add([]byte(`{"t":"äöå 😀"}`), "")
	f.Add([]byte("\xff\xfe"), "sha256=zz")
	f.Add([]byte{}, "SHA256=")
	conn, err := Open(DefaultConfig(), testEnv(allSecrets(), nil))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		req := &ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body}
		req.Header.Set(headerSig256, header)
		if err := conn.Verify(req); err != nil && !errors.Is(err, ingest.ErrUnauthenticated) {
			t.Fatalf("Verify error is not ErrUnauthenticated: %v", err)
		}
		// The right signature over the raw body, or over Meta's escaped
		// rendering of it, always verifies.
		req.Header.Set(headerSig256, sign256(testAppSecret, body))
		if err := conn.Verify(req); err != nil {
			t.Fatalf("Verify rejects a valid signature: %v", err)
		}
		if utf8.Valid(body) {
			req.Header.Set(headerSig256, sign256(testAppSecret, escapeLikeMeta(body)))
			if err := conn.Verify(req); err != nil {
				t.Fatalf("Verify rejects a valid escaped-unicode signature: %v", err)
			}
		}
	})
}

func FuzzLeadRecord(f *testing.F) {
	f.Add([]byte(`{"id":"1","created_time":"2026-01-15T10:29:50+0000","field_data":[{"name":"email","values":["a@b"]}],"custom_disclaimer_responses":[{"checkbox_key":"k","is_checked":"1"}]}`))
	f.Add([]byte(`{"id":1,"is_organic":"1","field_data":[{"name":"x","values":[1,true,null,{}]}]}`))
	conn, err := Open(DefaultConfig(), testEnv(allSecrets(), nil))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec, err := conn.leadRecord(ingest.FetchJob{EventID: "1", Ref: "1"}, body)
		if err != nil {
			if !errors.Is(err, ingest.ErrMalformed) {
				t.Fatalf("leadRecord error is not classified: %v", err)
			}
			return
		}
		if rec.EventID != "1" || rec.Kind != ingest.KindLead {
			t.Fatalf("record lost its identity: %+v", rec)
		}
	})
}
