package googleads

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/consentgate/consentgate/internal/ingest"
)

// Seeds live in testdata/fuzz/Fuzz*/ (the bodies of the case files).

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"lead_id":"l","google_key":"k","user_column_data":[{"column_id":"EMAIL","string_value":"a@b.c"}]}`))
	conn := openTest(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := &ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body}
		b, err := conn.Parse(req)
		if err != nil {
			if s := ingest.StatusOf(err); s < 400 || s >= 500 {
				t.Fatalf("error without a 4xx sentinel (status %d): %v", s, err)
			}
			return
		}
		if len(b.Records) != 1 || b.Records[0].EventID == "" {
			t.Fatalf("a parsed lead must give exactly one record with an event id: %+v", b)
		}
		if _, ok := b.Records[0].Fields["google_key"]; ok {
			t.Fatal("google_key reached the record")
		}
		if km, found, _ := findKey(req.Body); found && string(km.value) != redacted {
			t.Fatalf("google_key left in the body after Parse")
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"google_key":"k"}`))
	conn := openTest(f)
	quoted, _ := json.Marshal(testKey)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := &ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body}
		err := conn.Verify(req)
		if err != nil && ingest.StatusOf(err) != http.StatusUnauthorized {
			t.Fatalf("status %d for a verify failure: %v", ingest.StatusOf(err), err)
		}
		if err == nil && !bytes.Contains(body, quoted[1:len(quoted)-1]) && !bytes.Contains(body, []byte(`\u`)) {
			t.Fatalf("accepted a body that cannot hold the key")
		}
	})
}
