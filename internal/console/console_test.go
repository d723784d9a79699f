package console

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func serve(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	r := gin.New()
	Mount(r)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

func TestServesThePageAndItsModules(t *testing.T) {
	cases := []struct {
		path   string
		status int
		ctype  string
	}{
		{"/console/", 200, "text/html"},
		{"/console/connectors/web", 200, "text/html"}, // deep link after a reload
		{"/console/app.css", 200, "text/css"},
		{"/console/js/app.js", 200, "text/javascript"},
		{"/console/js/missing.js", 404, ""},
	}
	for _, c := range cases {
		w := serve(t, c.path)
		if w.Code != c.status {
			t.Errorf("GET %s = %d, want %d", c.path, w.Code, c.status)
			continue
		}
		if c.ctype != "" && !strings.HasPrefix(w.Header().Get("Content-Type"), c.ctype) {
			t.Errorf("GET %s Content-Type = %q, want %s (browsers refuse modules otherwise)", c.path, w.Header().Get("Content-Type"), c.ctype)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s has no same-origin CSP: %q", c.path, csp)
		}
	}
	if w := serve(t, "/console"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/console/" {
		t.Errorf("GET /console = %d to %q, want a redirect to /console/", w.Code, w.Header().Get("Location"))
	}
}

func TestNothingOutsideTheAssetsIsServed(t *testing.T) {
	for _, p := range []string{"/console/../console.go", "/console/%2e%2e/console.go", "/console/assets/index.html"} {
		w := serve(t, p)
		if strings.Contains(w.Body.String(), "package console") {
			t.Errorf("GET %s served Go source", p)
		}
	}
}

// The console must work offline and under its CSP: no external URL, no
// inline script or style, no event-handler attributes.
func TestAssetsAreSelfContained(t *testing.T) {
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import\s+url\(\s*["']?https?:|from\s+["']https?:`)
	inline := regexp.MustCompile(`(?i)<script(?:[^>]*)>\s*[^<\s]|<style|\son[a-z]+\s*=|\sstyle\s*=`)
	err := fs.WalkDir(Assets(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Assets(), path)
		if err != nil {
			return err
		}
		if m := external.Find(b); m != nil {
			t.Errorf("%s loads something from another origin: %q", path, m)
		}
		if strings.HasSuffix(path, ".html") {
			if m := inline.Find(b); m != nil {
				t.Errorf("%s has inline script/style or a handler attribute (blocked by the CSP): %q", path, m)
			}
		}
		if strings.HasSuffix(path, ".js") && strings.Contains(string(b), "innerHTML") {
			t.Errorf("%s uses innerHTML; build elements with h() so data is never parsed as HTML", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
