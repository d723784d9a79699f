package googleads

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/ingest/ingesttest"
)

// testKey contains a quote and a backslash so the tests exercise JSON
// escaping of the key in the body.
const testKey = `gk-test-K3y"with\escapes`

var testNow = time.Date(2026, 1, 15, 10, 20, 30, 0, time.UTC)

const placeholder = "$GOOGLE_KEY"

func testEnv(secrets map[string]string) ingest.Env {
	return ingest.Env{
		Secret: func(name string) (string, bool) { v, ok := secrets[name]; return v, ok },
		Now:    func() time.Time { return testNow },
	}
}

func openTest(t testing.TB) *Connector {
	t.Helper()
	c, err := Open(DefaultConfig(), testEnv(map[string]string{"google_key": testKey}))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return c
}

// jsonEscaped is testKey as it appears inside a JSON string.
var jsonEscaped = strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(testKey)

// signer puts the key into the body where the case file has the
// placeholder: the real key (valid), another key (bad), or leaves it (none).
func signer(t *testing.T, mode string, req *ingest.Request, c ingesttest.Case) {
	switch mode {
	case "valid":
		req.Body = bytes.ReplaceAll(req.Body, []byte(placeholder), []byte(jsonEscaped))
	case "bad":
		req.Body = bytes.ReplaceAll(req.Body, []byte(placeholder), []byte("some-other-key"))
	case "none":
	default:
		t.Fatalf("%s: unknown sign mode %q", c.File, mode)
	}
}

func TestCases(t *testing.T) {
	ingesttest.Run(t, "testdata", openTest(t), signer, testNow)
}

// The key must be gone from everything the gateway keeps after Parse: the
// records and the request body.
func TestKeyNeverLeavesParse(t *testing.T) {
	conn := openTest(t)
	for _, c := range ingesttest.Load(t, "testdata") {
		if c.Sign != "valid" || c.Want.Status != 0 && c.Want.Status != http.StatusOK {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			req := ingesttest.BuildRequest(c, testNow)
			signer(t, c.Sign, req, c)
			if err := conn.Verify(req); err != nil {
				t.Fatalf("verify: %v", err)
			}
			b, err := conn.Parse(req)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if bytes.Contains(req.Body, []byte(jsonEscaped)) {
				t.Errorf("request body still holds the key after Parse")
			}
			if !bytes.Contains(req.Body, []byte(`"google_key":"[redacted]"`)) &&
				!bytes.Contains(req.Body, []byte(`"google_key": "[redacted]"`)) {
				t.Errorf("google_key member was not redacted in place: %s", req.Body)
			}
			for _, r := range b.Records {
				for k, v := range r.Fields {
					if k == "google_key" || strings.Contains(v, testKey) {
						t.Errorf("field %s carries the key", k)
					}
				}
			}
		})
	}
}

func TestRedactKeepsOtherBytes(t *testing.T) {
	in := []byte(`{ "a" : 1 , "google_key" :  "s3cr\"et" , "b":[1,2] }`)
	want := `{ "a" : 1 , "google_key":"[redacted]" , "b":[1,2] }`
	if got := string(redactKey(in)); got != want {
		t.Fatalf("redactKey = %s, want %s", got, want)
	}
}

func TestErrorsCarryNoPayload(t *testing.T) {
	conn := openTest(t)
	secretish := "ada.private@example.com"
	for _, body := range []string{
		`{"google_key":"` + secretish + `"}`,
		`{"google_key":"x","lead_id":"` + secretish + `",}`,
		`{"google_key":"x","user_column_data":[{"column_id":"EMAIL","string_value":{"v":"` + secretish + `"}}]}`,
	} {
		req := &ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: []byte(body)}
		err := conn.Verify(req)
		if err == nil {
			_, err = conn.Parse(req)
		}
		if err == nil {
			t.Fatalf("body %s accepted", body)
		}
		if strings.Contains(err.Error(), secretish) || strings.Contains(err.Error(), "ada") {
			t.Errorf("error %q echoes payload", err)
		}
	}
}

func TestTooManyColumns(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxColumns = 1
	conn, err := Open(cfg, testEnv(map[string]string{"google_key": "k"}))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"lead_id":"l","google_key":"k","user_column_data":[{"column_id":"A","string_value":"1"},{"column_id":"B","string_value":"2"}]}`)
	_, err = conn.Parse(&ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body})
	if ingest.StatusOf(err) != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d (err %v), want 413", ingest.StatusOf(err), err)
	}
}

func TestColumnNameFallbackOff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ColumnNameFallback = false
	conn, err := Open(cfg, testEnv(map[string]string{"google_key": "k"}))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"lead_id":"l","user_column_data":[{"column_name":"Full Name","string_value":"Ada"}]}`)
	b, err := conn.Parse(&ingest.Request{Method: http.MethodPost, Header: http.Header{}, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Records[0].Fields["Full Name"]; ok {
		t.Fatalf("column keyed by column_name with the fallback off: %v", b.Records[0].Fields)
	}
}

func TestOpenErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxColumns = 0
	_, err := Open(cfg, testEnv(nil))
	if err == nil {
		t.Fatal("Open accepted a broken config")
	}
	for _, want := range []string{"settings.max_columns", `secret "google_key" is not set`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if _, err := Open(DefaultConfig(), testEnv(map[string]string{"google_key": ""})); err == nil {
		t.Error("Open accepted an empty google_key: any body with an empty key would pass")
	}
}

func TestDefaultMappingTargetsCanonicalFields(t *testing.T) {
	canonical := map[string]bool{"email": true, "phone": true, "full_name": true, "first_name": true,
		"last_name": true, "company": true, "job_title": true, "city": true, "region": true, "country": true,
		"postal_code": true}
	for raw, to := range openTest(t).DefaultMapping() {
		if !canonical[to] {
			t.Errorf("%s maps to %q, not a canonical field", raw, to)
		}
	}
}
