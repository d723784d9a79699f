package linkedin

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/consentgate/consentgate/internal/ingest"
)

func classified(err error) bool {
	for _, s := range []error{ingest.ErrMalformed, ingest.ErrUnsupportedMediaType, ingest.ErrTooLarge} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzParse: any body either parses into well-formed jobs/records with
// unique event ids, or fails with a classified (4xx) error. Never a panic.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"created_single.json", "deleted_single.json", "batched_array.json", "huge_ids.json"} {
		f.Add(loadCaseBody(f, name))
	}
	f.Add([]byte(`{"type":"LEAD_ACTION","notifications":[{"leadAction":"DELETED","leadGenFormResponse":"urn:li:leadGenFormResponse:x-1"}]}`))
	f.Add([]byte(`[{"leadGenFormResponse":"urn:li:leadGenFormResponse:x-1","leadAction":"CREATED","occurredAt":1e3}]`))
	f.Add([]byte(`{"owner":[],"type":7}`))
	c := openTest(f, nil, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := c.Parse(&ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body})
		if err != nil {
			if !classified(err) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, j := range b.Jobs {
			if j.EventID == "" || j.Ref == "" || seen[j.EventID] {
				t.Fatalf("bad or duplicate job %+v", j)
			}
			seen[j.EventID] = true
		}
		for _, r := range b.Records {
			if r.EventID == "" || r.Kind != ingest.KindDeletion || r.Fields["leadGenFormResponse"] == "" || seen[r.EventID] {
				t.Fatalf("bad or duplicate record %+v", r)
			}
			seen[r.EventID] = true
		}
	})
}

// FuzzVerify: the right signature verifies any body; anything else in the
// header is refused with ErrUnauthenticated. Never a panic.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"type":"LEAD_ACTION"}`), "hmacsha256=00")
	f.Add([]byte{}, "")
	f.Add([]byte("\xff\xfe"), "HMACSHA256=ZZ")
	c := openTest(f, nil, nil)
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		req := &ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body}
		good := hex.EncodeToString(c.sign(body))
		req.Header.Set(headerSignature, good)
		if err := c.Verify(req); err != nil {
			t.Fatalf("valid signature refused: %v", err)
		}
		req.Header.Set(headerSignature, header)
		err := c.Verify(req)
		if err != nil && !errors.Is(err, ingest.ErrUnauthenticated) {
			t.Fatalf("unclassified error: %v", err)
		}
		if err == nil {
			// Only an encoding of the right MAC may pass.
			if sig, ok := c.decodeSignature(stripPrefix(header)); !ok || hex.EncodeToString(sig) != good {
				t.Fatalf("header %q accepted", header)
			}
		}
	})
}

// FuzzHandshake: any query answers 200 JSON or a malformed error.
func FuzzHandshake(f *testing.F) {
	f.Add("f2d8a8a1-2b3c-4d5e-8f90-123456789abc")
	f.Add("")
	f.Add("\"<script>\u2028")
	c := openTest(f, nil, nil)
	f.Fuzz(func(t *testing.T, code string) {
		req := &ingest.Request{Method: http.MethodGet, Query: map[string][]string{"challengeCode": {code}}}
		resp, err := c.Handshake(req)
		if err != nil {
			if !errors.Is(err, ingest.ErrMalformed) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if resp.Status != http.StatusOK || resp.ContentType != "application/json" || len(resp.Body) == 0 {
			t.Fatalf("bad answer %+v", resp)
		}
	})
}

// FuzzLeadRecord: any lead and form answers from the API turn into a
// record or an error, never a panic.
func FuzzLeadRecord(f *testing.F) {
	lead, _ := os.ReadFile(filepath.Join("testdata", "api", "lead_with_consents.json"))
	form, _ := os.ReadFile(filepath.Join("testdata", "api", "form_7234246_v1.json"))
	f.Add(lead, form)
	f.Add([]byte(`{"formResponse":{"answers":[{"questionId":1,"answerDetails":{"multipleChoiceAnswer":{"options":[0]}}}]}}`), []byte(`{}`))
	c := openTest(f, nil, nil)
	ref, _ := parseFormURN(formV1)
	f.Fuzz(func(t *testing.T, leadBody, formBody []byte) {
		var l leadDoc
		if decodeStrict(leadBody, &l) != nil {
			return
		}
		var d leadFormDoc
		if decodeStrict(formBody, &d) != nil {
			return
		}
		rec, err := c.leadRecord(jobFor(leadURN), ref, l, compileForm(d, "name"))
		if err == nil && (rec.EventID == "" || rec.Fields["leadGenFormResponse"] != leadURN) {
			t.Fatalf("bad record %+v", rec)
		}
	})
}

func stripPrefix(h string) string {
	if len(h) >= len(headerValuePrefix) && equalFoldASCII(h[:len(headerValuePrefix)], headerValuePrefix) {
		return h[len(headerValuePrefix):]
	}
	return h
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func loadCaseBody(f *testing.F, name string) []byte {
	f.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatalf("read %s: %v", name, err)
	}
	var c struct {
		Request struct {
			Body json.RawMessage `json:"body"`
		} `json:"request"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		f.Fatalf("decode %s: %v", name, err)
	}
	return c.Request.Body
}
