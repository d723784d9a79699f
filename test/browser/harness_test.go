package browser

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

const (
	testHashKey = "browser-hash-key-0123456789abcdef-0123456789abcdef"
	adminToken  = "browser-admin-token"
	testSecret  = "browser-signing-secret"
)

// startGateway starts an in-process gateway (gwtest) on kfake and a
// throwaway SQLite file, with the shipped policy, the given connector
// files (file name → YAML) and the admin API on.
func startGateway(t testing.TB, connectors map[string]string) *gwtest.Gateway {
	t.Helper()
	return gwtest.Start(t, gwtest.Options{
		SQLite: true, PublicURL: true, Connectors: connectors,
		HashKey: testHashKey, AdminToken: adminToken, SigningSecret: testSecret,
		Env: map[string]string{
			"BROWSER_SIGNING_SECRET": testSecret,
			// Secrets typed into the console are stored sealed under this ring.
			"CONSENTGATE_SECRET_KEYS": "browser-test:0123456789abcdef0123456789abcdef0123",
		},
	})
}

// api calls the admin API as admin and decodes the JSON answer into out.
func api(g *gwtest.Gateway, method, path string, body any, out any) int {
	r := g.API(method, path, body)
	if out != nil && len(r.Raw) > 0 {
		_ = json.Unmarshal([]byte(r.Raw), out)
	}
	return r.Status
}

// requireRoute skips the test when the admin API does not serve a route
// yet (the API is built alongside the console).
func requireRoute(t testing.TB, g *gwtest.Gateway, method, path string) {
	t.Helper()
	if isNoRoute(g, method, path) {
		t.Skipf("SKIP: admin API route %s /api/v1%s does not exist yet", method, path)
	}
}

// isNoRoute tells a missing route from a missing resource: gin's NoRoute
// answer names the webhook path.
func isNoRoute(g *gwtest.Gateway, method, path string) bool {
	r := g.API(method, path, "{}")
	return r.Status == http.StatusNotFound && strings.Contains(r.Raw, "no such endpoint")
}
