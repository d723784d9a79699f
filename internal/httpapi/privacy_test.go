package httpapi_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// logBuffer collects log lines; safe for the pipeline's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func loggedIntake(t *testing.T) (*intake, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	return newLoggedIntake(t, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))), logs
}

func (in *intake) post(t *testing.T, path string, body []byte, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", signFuzz(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	in.handler.ServeHTTP(rec, req)
	return rec
}

// An unknown connector id in the path is the sender's text: neither the
// access log nor the 404 body repeats it.
func TestUnknownConnectorIDIsNotLogged(t *testing.T) {
	in, logs := loggedIntake(t)
	const marker = "zz-marker-1@example.com"
	rec := in.post(t, "/webhooks/"+marker, []byte(`{}`), nil)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404: %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), marker) {
		t.Errorf("404 body echoes the path: %s", rec.Body)
	}
	if strings.Contains(logs.String(), marker) {
		t.Errorf("the log carries the path's connector id:\n%s", logs)
	}
	if !strings.Contains(logs.String(), `"connector":"unknown"`) {
		t.Errorf("the access log should say connector unknown:\n%s", logs)
	}

	logs.mu.Lock()
	logs.buf.Reset()
	logs.mu.Unlock()
	in.post(t, "/webhooks/fuzz", []byte(`{}`), nil)
	if !strings.Contains(logs.String(), `"connector":"fuzz"`) {
		t.Errorf("a configured connector's id belongs in the access log:\n%s", logs)
	}
}
