package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

//go:embed assets
var assets embed.FS

// Prefix is where the console is served.
const Prefix = "/console/"

// csp keeps everything same-origin; 'unsafe-inline' is not needed because
// the page has no inline script or style attribute.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Assets returns the embedded files (index.html, app.css, js/…).
func Assets() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory exists
	}
	return sub
}

// Mount serves the console under /console/ and redirects /console to it.
func Mount(r *gin.Engine) {
	h := Handler()
	r.GET("/console", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, Prefix) })
	r.GET(Prefix+"*file", gin.WrapH(h))
	r.HEAD(Prefix+"*file", gin.WrapH(h))
}

// Handler serves the embedded assets for paths under Prefix. Unknown paths
// without an extension get index.html, so a reload on a deep link works.
func Handler() http.Handler {
	files := Assets()
	static := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		// Assets change with the binary; revalidating is cheap and avoids a
		// stale console after an upgrade.
		h.Set("Cache-Control", "no-cache")
		name := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(r.URL.Path, Prefix)), "/")
		if name == "" || name == "." {
			name = "index.html"
		}
		if _, err := fs.Stat(files, name); err != nil {
			if path.Ext(name) != "" {
				http.NotFound(w, r)
				return
			}
			name = "index.html"
		}
		if name == "index.html" {
			// FileServer would redirect /index.html to ./; serve it directly.
			b, err := fs.ReadFile(files, name)
			if err != nil {
				http.Error(w, "console assets missing", http.StatusInternalServerError)
				return
			}
			h.Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(b)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + name
		static.ServeHTTP(w, r2)
	})
}
