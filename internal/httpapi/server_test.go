package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// A path that differs from a route only by a trailing slash or by case gets
// the gateway's JSON 404, not gin's 301/307 redirect with an empty or HTML
// body: webhook senders do not follow redirects on POST, and API clients
// expect the JSON error.
func TestNearMissPathsAreJSON404(t *testing.T) {
	s := New(Options{Mount: []func(*gin.Engine){func(r *gin.Engine) {
		r.GET("/api/v1/connectors", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"connectors": []string{}}) })
	}}})
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "/webhooks/sample-generic/"},
		{http.MethodGet, "/webhooks/sample-generic/"},
		{http.MethodGet, "/api/v1/connectors/"},
		{http.MethodGet, "/API/v1/connectors"},
		{http.MethodGet, "/healthz/"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, strings.NewReader(`{}`)))
			if w.Code != http.StatusNotFound {
				t.Fatalf("status %d (Location %q), want 404", w.Code, w.Header().Get("Location"))
			}
			if loc := w.Header().Get("Location"); loc != "" {
				t.Errorf("Location %q: a 404 redirects nowhere", loc)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			var body struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Code != "not_found" || body.Error.Message == "" {
				t.Errorf("body %s (%v), want error.code not_found with a message", w.Body, err)
			}
		})
	}

	// The exact paths still answer.
	for _, p := range []string{"/api/v1/connectors", "/healthz"} {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, p, nil))
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", p, w.Code)
		}
	}
}

// A wrong admin API path points at the API's own reference, not at the
// webhook route.
func TestUnknownAPIPathNamesTheAPI(t *testing.T) {
	s := New(Options{})
	for path, want := range map[string]string{"/api/v1/nope": "openapi.yaml", "/nope": "/webhooks/{connector-id}"} {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), want) {
			t.Errorf("GET %s: %d %s, want 404 mentioning %q", path, w.Code, w.Body, want)
		}
	}
}
