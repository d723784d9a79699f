package adminapi_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/consentgate/consentgate/internal/adminapi"
	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/connsync"
	"github.com/consentgate/consentgate/internal/pipeline"
	"github.com/consentgate/consentgate/internal/secretbox"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

const (
	bootstrapToken = "bootstrap-admin-token-for-tests"
	fileSecret     = "file-connector-signing-secret"
	testKeyRing    = "k1:adminapi-test-key-material-0123456789abcdef"
)

// adminHarness is the admin API with stored tokens, a file connector, the
// connector syncer and a key ring, on SQLite, over real HTTP.
type adminHarness struct {
	t        *testing.T
	URL      string
	Store    store.Store
	Pipeline *pipeline.Pipeline
	Sync     *connsync.Syncer
	tokens   map[adminapi.Role]string
	logs     *gwtest.LogBuffer
	// SecretDir is the directory API connectors may reference files in
	// (api_secret_refs.file_dirs); env references need the prefix
	// ADMINAPI_TEST_.
	SecretDir string
}

// fileConnectorYAML is the file connector "web-file" (read-only via API).
const fileConnectorYAML = `
id: web-file
platform: generic
secrets:
  signing_secret: {env: ADMINAPI_TEST_FILE_SECRET}
settings:
  signature: {scheme: hmac, header: X-Signature, encoding: hex, prefix: "sha256="}
  event_id_path: id
mapping:
  replace_defaults: true
  fields: {lead.email: email, lead.phone: phone}
consent:
  checkboxes:
    - {key: consent.marketing_email, purpose: marketing_email}
`

func newAdminHarness(t *testing.T, ringText string) *adminHarness {
	t.Helper()
	ctx := t.Context()
	t.Setenv("ADMINAPI_TEST_FILE_SECRET", fileSecret)
	st := openSQLite(t)
	pol, eng, keyer := shippedPolicy(t)
	logs, log := debugLog()
	pl := pipeline.New(pipeline.Options{Store: st, Engine: eng, Keyer: keyer, PolicyVersion: pol.Version, ConsentTopic: consentTopic, Log: log})

	gw := config.Default()
	gw.PublicURL = "https://gw.example"
	secretDir := t.TempDir()
	gw.APISecretRefs = config.APISecretRefs{EnvPrefixes: []string{"ADMINAPI_TEST_"}, FileDirs: []string{secretDir}}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "web-file.yaml"), []byte(fileConnectorYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := config.ConnectorOptions{Gateway: &gw, Policy: app.PolicyView{P: pol}}
	files, err := config.LoadConnectors(dir, opts)
	if err != nil {
		t.Fatalf("load file connectors: %v", err)
	}
	var ring *secretbox.Ring
	if ringText != "" {
		if ring, err = secretbox.ParseRing(ringText); err != nil {
			t.Fatal(err)
		}
	}
	sy := connsync.New(connsync.Options{Store: st, Target: pl, Files: files, Log: log,
		Builder: &connsync.Builder{Options: opts, Ring: ring}})
	if err := sy.Start(ctx); err != nil {
		t.Fatalf("start connector sync: %v", err)
	}

	h := &adminHarness{t: t, Store: st, Pipeline: pl, Sync: sy, logs: logs, tokens: map[adminapi.Role]string{adminapi.RoleAdmin: bootstrapToken}, SecretDir: secretDir}
	for _, role := range adminapi.Roles[1:] {
		tok, hash := adminapi.NewToken()
		if err := st.CreateAdminToken(ctx, store.AdminToken{ID: "tok-" + string(role), Name: "test " + string(role), Role: string(role), Hash: hash, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		h.tokens[role] = tok
	}
	r := gin.New()
	adminapi.Mount(r, adminapi.Deps{
		Store: st, Pipeline: pl, Keyer: keyer, Policy: pol, Log: log, Topics: gw.Topics,
		Auth:       adminapi.StoredTokens{Store: st, Bootstrap: bootstrapToken, Log: log},
		Connectors: sy, PublicURL: gw.PublicURL,
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	h.URL = srv.URL + "/api/v1"
	return h
}

// as sends body (any JSON value, or a string sent as is) with the token of
// role ("" = no Authorization header).
func (h *adminHarness) as(role adminapi.Role, method, path string, body any) gwtest.Response {
	h.t.Helper()
	return h.withToken(h.tokens[role], method, path, body)
}

func (h *adminHarness) withToken(token, method, path string, body any) gwtest.Response {
	h.t.Helper()
	return gwtest.Call(h.t, method, h.URL+path, token, body)
}

func (h *adminHarness) audit(action string) []store.AuditEntry {
	h.t.Helper()
	es, err := h.Store.ListAudit(h.t.Context(), store.AuditFilter{Action: action})
	if err != nil {
		h.t.Fatal(err)
	}
	return es
}

// apiSpec is a generic connector spec created through the API.
func apiSpec(id string, secret map[string]any) map[string]any {
	return map[string]any{
		"id": id, "platform": "generic", "name": "Web form " + id, "default_jurisdiction": "EU",
		"secrets": map[string]any{"signing_secret": secret},
		"settings": map[string]any{
			"signature":     map[string]any{"scheme": "hmac", "header": "X-Signature", "encoding": "hex", "prefix": "sha256="},
			"event_id_path": "id",
		},
		"mapping": map[string]any{"replace_defaults": true, "fields": map[string]any{"lead.email": "email", "lead.phone": "phone"}},
		"consent": map[string]any{"checkboxes": []any{
			map[string]any{"key": "consent.marketing_email", "purpose": "marketing_email", "notice": map[string]any{"id": "web-privacy", "version": "3"}},
		}},
	}
}
