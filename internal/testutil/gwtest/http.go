package gwtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

// Client bounds every request, so a hung gateway fails the test instead of
// hanging it.
var Client = &http.Client{Timeout: 30 * time.Second}

// Response is an HTTP answer with its JSON body decoded (Body is nil when
// the body is not a JSON object).
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// ErrorCode is error.code of the gateway's JSON error shape.
func (r Response) ErrorCode() string { return r.Str("error", "code") }

// ErrorMessage is error.message of the gateway's JSON error shape.
func (r Response) ErrorMessage() string { return r.Str("error", "message") }

// FieldError is the message for one field of an "invalid" error.
func (r Response) FieldError(field string) string { return r.Str("error", "fields", field) }

// Summary is summary.<key> of a webhook answer (0 when absent).
func (r Response) Summary(key string) int {
	n, _ := r.Path("summary", key).(float64)
	return int(n)
}

// Path digs a value out of nested JSON objects (nil when absent).
func (r Response) Path(keys ...string) any {
	var cur any = r.Body
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// Str is Path as a string ("" when absent or not a string).
func (r Response) Str(keys ...string) string {
	s, _ := r.Path(keys...).(string)
	return s
}

// Must fails the test unless the response has the status.
func (r Response) Must(t testing.TB, status int) Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	return r
}

// SignHMAC is the generic connector's hmac scheme: "sha256=" + hex.
func SignHMAC(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Send posts body to base/webhooks/connector as JSON, with X-Signature
// from secret (none when secret is ""), then headers (an empty value
// removes a header). It returns transport errors so load generators can
// count them.
func Send(base, connector, secret string, body []byte, headers map[string]string) (Response, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/"+connector, bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Signature", SignHMAC(secret, body))
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	return roundTrip(req)
}

// Do sends req and decodes the answer, failing the test on transport errors.
func Do(t testing.TB, req *http.Request) Response {
	t.Helper()
	r, err := roundTrip(req)
	Must(t, err)
	return r
}

// Call sends body (nil, a string sent as is, or a value sent as JSON) to
// url with a bearer token ("" = no Authorization header).
func Call(t testing.TB, method, url, token string, body any) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		Must(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	Must(t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return Do(t, req)
}

func roundTrip(req *http.Request) (Response, error) {
	resp, err := Client.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, err
	}
	r := Response{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	return r, nil
}

// Lead is a generic-connector body: id, a fixed occurred_at, the lead
// fields and the consent checkboxes.
func Lead(id string, fields, consent map[string]any) []byte {
	return LeadAt(id, "2026-11-20T10:00:00Z", fields, consent)
}

// LeadAt is Lead submitted at the given occurred_at.
func LeadAt(id, occurredAt string, fields, consent map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "occurred_at": occurredAt, "lead": fields, "consent": consent})
	return b
}
