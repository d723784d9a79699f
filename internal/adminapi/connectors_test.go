package adminapi_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/adminapi"
	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

const storedSecret = "api-stored-signing-secret-7f3a"

// verifies reports whether the live connector id accepts a body signed
// with secret: the behaviour a secret change must have.
func (h *adminHarness) verifies(id, secret string) bool {
	h.t.Helper()
	c, ok := h.Pipeline.Connector(id)
	if !ok {
		h.t.Fatalf("connector %s is not live", id)
	}
	body := []byte(`{"id":"e1","lead":{"email":"a@example.com"}}`)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	hdr := http.Header{}
	hdr.Set("X-Signature", "sha256="+hex.EncodeToString(m.Sum(nil)))
	hdr.Set("Content-Type", "application/json")
	return c.Impl.Verify(&ingest.Request{Method: http.MethodPost, Header: hdr, Query: url.Values{}, Body: body, ReceivedAt: time.Now()}) == nil
}

func TestConnectorLifecycle(t *testing.T) {
	h := newAdminHarness(t, testKeyRing)
	spec := apiSpec("web-api", map[string]any{"value": storedSecret})

	created := h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors", spec).Must(t, http.StatusCreated)
	if created.Str("source") != "api" || created.Str("webhook_url") != "https://gw.example/webhooks/web-api" {
		t.Fatalf("created connector: %s", created.Raw)
	}
	if s, _ := created.Path("secrets", "signing_secret").(map[string]any); s["set"] != true || s["source"] != "stored" {
		t.Fatalf("secret status %v, want set from stored", s)
	}
	if created.Str("effective_mapping", "lead.email") != "email" {
		t.Fatalf("effective mapping missing: %s", created.Raw)
	}
	if !h.verifies("web-api", storedSecret) {
		t.Fatal("the created connector is not live with its secret")
	}
	h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors", spec).Must(t, http.StatusConflict)

	// The stored row holds ciphertext only.
	row, err := h.Store.GetConnector(t.Context(), "web-api")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(row.Spec), storedSecret) || !strings.Contains(string(row.Spec), "cgsb1:k1:") {
		t.Fatalf("stored spec must hold the secret sealed under k1, not in clear: %s", row.Spec)
	}

	// The same spec again: nothing written, nothing audited.
	auditBefore := len(h.audit("connector."))
	again := h.as(adminapi.RoleMarketer, http.MethodPut, "/connectors/web-api", spec).Must(t, http.StatusOK)
	if again.Path("changed") != false {
		t.Fatalf("same spec again: %s, want changed false", again.Raw)
	}
	// What GET returned, sent back (secrets only say "set"): also no change.
	got := h.as(adminapi.RoleAuditor, http.MethodGet, "/connectors/web-api", nil).Must(t, http.StatusOK)
	if h.as(adminapi.RoleMarketer, http.MethodPut, "/connectors/web-api", got.Body).Must(t, http.StatusOK).Path("changed") != false {
		t.Fatal("GET then PUT of the same connector changed it")
	}
	if row2, _ := h.Store.GetConnector(t.Context(), "web-api"); !row2.UpdatedAt.Equal(row.UpdatedAt) || len(h.audit("connector.")) != auditBefore {
		t.Fatal("an unchanged PUT wrote the row or the audit log")
	}

	// A real change: new mapping, secret kept (left out of the body).
	spec["mapping"] = map[string]any{"replace_defaults": true, "fields": map[string]any{"lead.email": "email"}}
	delete(spec, "secrets")
	changed := h.as(adminapi.RoleMarketer, http.MethodPut, "/connectors/web-api", spec).Must(t, http.StatusOK)
	if changed.Path("changed") != true || changed.Str("connector", "effective_mapping", "lead.phone") != "" {
		t.Fatalf("mapping change: %s", changed.Raw)
	}
	if !h.verifies("web-api", storedSecret) {
		t.Fatal("a secret left out of the body was not kept")
	}
	upd := h.audit("connector.update")
	if len(upd) != 1 || upd[0].Details["changed"] != "mapping" || upd[0].Actor != "test marketer" || upd[0].Role != "marketer" {
		t.Fatalf("audit of the update: %+v", upd)
	}

	// Rotate the secret: the old one stops working at once.
	h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors/web-api/secrets/signing_secret", map[string]string{"value": "rotated-secret-value"}).Must(t, http.StatusNoContent)
	if h.verifies("web-api", storedSecret) || !h.verifies("web-api", "rotated-secret-value") {
		t.Fatal("rotation did not take effect")
	}
	if r := h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors/web-api/secrets/app_secret", map[string]string{"value": "x"}); r.Status != http.StatusBadRequest || r.FieldError("name") == "" {
		t.Fatalf("rotate a secret the platform does not read: %s", r.Raw)
	}

	// Disable and enable: the live set follows.
	if h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors/web-api/disable", nil).Must(t, http.StatusOK).Path("enabled") != false {
		t.Fatal("disable did not answer enabled false")
	}
	if _, live := h.Pipeline.Connector("web-api"); live {
		t.Fatal("a disabled connector is still live")
	}
	h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors/web-api/enable", nil).Must(t, http.StatusOK)
	if _, live := h.Pipeline.Connector("web-api"); !live {
		t.Fatal("an enabled connector is not live")
	}

	list := h.as(adminapi.RoleAuditor, http.MethodGet, "/connectors", nil).Must(t, http.StatusOK)
	ids := []string{}
	for _, c := range list.Body["connectors"].([]any) {
		m := c.(map[string]any)
		ids = append(ids, m["id"].(string)+"/"+m["source"].(string))
	}
	if strings.Join(ids, ",") != "web-api/api,web-file/file" {
		t.Fatalf("list: %v", ids)
	}

	h.as(adminapi.RoleMarketer, http.MethodDelete, "/connectors/web-api", nil).Must(t, http.StatusNoContent)
	h.as(adminapi.RoleMarketer, http.MethodDelete, "/connectors/web-api", nil).Must(t, http.StatusNotFound)
	if _, live := h.Pipeline.Connector("web-api"); live {
		t.Fatal("a deleted connector is still live")
	}

	var actions []string
	for _, e := range h.audit("connector.") {
		actions = append([]string{e.Action}, actions...)
	}
	want := "connector.create,connector.update,connector.secret.rotate,connector.disable,connector.enable,connector.delete"
	if strings.Join(actions, ",") != want {
		t.Fatalf("audit actions %v, want %s", actions, want)
	}
	for _, secret := range []string{storedSecret, "rotated-secret-value"} {
		if strings.Contains(h.logs.String(), secret) || strings.Contains(h.as(adminapi.RoleAuditor, http.MethodGet, "/audit", nil).Raw, secret) {
			t.Fatal("a secret value reached the log or the audit log")
		}
	}
}

func TestConnectorValidation(t *testing.T) {
	h := newAdminHarness(t, testKeyRing)
	for _, tc := range []struct {
		name   string
		mutate func(m map[string]any)
		field  string
		want   string
	}{
		{"unknown platform", func(m map[string]any) { m["platform"] = "myspace" }, "platform", "unknown platform"},
		{"bad id", func(m map[string]any) { m["id"] = "Bad Id!" }, "id", "lower-case"},
		{"unknown key", func(m map[string]any) { m["colour"] = "teal" }, "colour", ""},
		{"unknown canonical field", func(m map[string]any) {
			m["mapping"] = map[string]any{"fields": map[string]any{"lead.email": "e_mail"}}
		}, "mapping.fields.lead.email", "no policy category"},
		{"unknown purpose", func(m map[string]any) {
			m["consent"] = map[string]any{"checkboxes": []any{map[string]any{"key": "c", "purpose": "spamming"}}}
		}, "consent.checkboxes[0].purpose", "unknown purpose"},
		{"bad jurisdiction", func(m map[string]any) { m["default_jurisdiction"] = "Europe" }, "default_jurisdiction", "ISO"},
		{"secret the platform does not read", func(m map[string]any) {
			m["secrets"] = map[string]any{"signing_secret": map[string]any{"value": "v"}, "app_secret": map[string]any{"value": "v"}}
		}, "secrets.app_secret", "reads no secret"},
		{"secret with two sources", func(m map[string]any) {
			m["secrets"] = map[string]any{"signing_secret": map[string]any{"value": "v", "env": "X"}}
		}, "secrets.signing_secret", "one of"},
		{"unset env secret", func(m map[string]any) {
			m["secrets"] = map[string]any{"signing_secret": map[string]any{"env": "ADMINAPI_TEST_UNSET_VARIABLE"}}
		}, "secrets.signing_secret", "ADMINAPI_TEST_UNSET_VARIABLE"},
		{"enabled not a boolean", func(m map[string]any) { m["enabled"] = "yes" }, "enabled", "true or false"},
		{"id not a string", func(m map[string]any) { m["id"] = 5 }, "id", "must be a string"},
		{"id missing", func(m map[string]any) { delete(m, "id") }, "id", "is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := apiSpec("web-api", map[string]any{"value": storedSecret})
			tc.mutate(spec)
			r := h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors", spec)
			if r.Status != http.StatusBadRequest || r.ErrorCode() != "invalid" {
				t.Fatalf("status %d: %s, want 400 invalid", r.Status, r.Raw)
			}
			msg := r.FieldError(tc.field)
			if msg == "" || !strings.Contains(msg, tc.want) {
				t.Fatalf("error.fields[%q] = %q, want it to mention %q; body %s", tc.field, msg, tc.want, r.Raw)
			}
			if strings.Contains(r.Raw, storedSecret) {
				t.Fatal("a validation error echoes the secret")
			}
		})
	}
	h.as(adminapi.RoleMarketer, http.MethodPut, "/connectors/other", apiSpec("web-api", map[string]any{"env": "X"})).Must(t, http.StatusBadRequest)
	h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors", "not json").Must(t, http.StatusBadRequest)
	if list, _ := h.Store.ListConnectors(t.Context()); len(list) != 0 {
		t.Fatalf("invalid specs were stored: %v", list)
	}
}

// A connector written through the API may reference only the variables
// and files the operator allowed: a reference is read on the gateway's
// host and the secret then goes to the platform, so without the list a
// marketer could have the admin token or the key ring sent out. Nothing
// is stored for a refused reference.
func TestAPISecretReferencesAreAllowlisted(t *testing.T) {
	h := newAdminHarness(t, testKeyRing)
	t.Setenv("CONSENTGATE_ADMIN_TOKEN", "cgt_not-for-connectors")
	t.Setenv("OTHER_SECRET", "s3cr3t-other")
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte(storedSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(h.SecretDir, "link")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		secret map[string]any
		want   string
	}{
		{"the gateway's own variable", map[string]any{"env": "CONSENTGATE_ADMIN_TOKEN"}, "gateway's own settings"},
		{"a variable without the allowed prefix", map[string]any{"env": "OTHER_SECRET"}, "api_secret_refs.env_prefixes (ADMINAPI_TEST_)"},
		{"a file outside the allowed directories", map[string]any{"file": outside}, "outside api_secret_refs.file_dirs"},
		{"a system file", map[string]any{"file": "/etc/passwd"}, "outside api_secret_refs.file_dirs"},
		{"a link out of the allowed directory", map[string]any{"file": link}, "outside api_secret_refs.file_dirs"},
		{"a way out of the allowed directory", map[string]any{"file": filepath.Join(h.SecretDir, "..", filepath.Base(filepath.Dir(outside)), "outside")}, "outside api_secret_refs.file_dirs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.as(adminapi.RoleMarketer, http.MethodPut, "/connectors/web-api", apiSpec("web-api", tc.secret))
			if r.Status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.Status, r.Raw)
			}
			if msg := r.FieldError("secrets.signing_secret"); !strings.Contains(msg, tc.want) || !strings.Contains(msg, `{"value"`) {
				t.Fatalf("error.fields[secrets.signing_secret] = %q, want it to mention %q and the value form", msg, tc.want)
			}
			for _, v := range []string{"cgt_not-for-connectors", "s3cr3t-other", storedSecret, "root:"} {
				if strings.Contains(r.Raw, v) {
					t.Fatalf("the answer carries what the reference points at: %s", r.Raw)
				}
			}
		})
	}
	if list, _ := h.Store.ListConnectors(t.Context()); len(list) != 0 {
		t.Fatalf("refused references were stored: %v", list)
	}

	// What the operator allowed works.
	inside := filepath.Join(h.SecretDir, "web-api.secret")
	if err := os.WriteFile(inside, []byte(storedSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.as(adminapi.RoleMarketer, http.MethodPut, "/connectors/web-api", apiSpec("web-api", map[string]any{"file": inside})).Must(t, http.StatusOK)
	if !h.verifies("web-api", storedSecret) {
		t.Fatal("the allowed file secret is not used")
	}
}

// Where a fetcher sends its platform token is for connector files only:
// through the API, changing it would send a stored token elsewhere.
func TestAPIConnectorsCannotSetBaseURL(t *testing.T) {
	h := newAdminHarness(t, testKeyRing)
	spec := map[string]any{
		"id": "meta-api", "platform": "meta",
		"secrets": map[string]any{
			"app_secret": map[string]any{"value": "app-secret"}, "verify_token": map[string]any{"value": "verify"},
			"page_access_token": map[string]any{"value": "page-token"},
		},
		"settings": map[string]any{"base_url": "http://127.0.0.1:1"},
	}
	r := h.as(adminapi.RoleMarketer, http.MethodPut, "/connectors/meta-api", spec)
	if r.Status != http.StatusBadRequest || !strings.Contains(r.FieldError("settings.base_url"), "only in a connector file") {
		t.Fatalf("base_url through the API: %d %s", r.Status, r.Raw)
	}
	delete(spec["settings"].(map[string]any), "base_url")
	h.as(adminapi.RoleMarketer, http.MethodPut, "/connectors/meta-api", spec).Must(t, http.StatusOK)
}

func TestSecretValueNeedsKey(t *testing.T) {
	h := newAdminHarness(t, "")
	r := h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors", apiSpec("web-api", map[string]any{"value": storedSecret}))
	if r.Status != http.StatusBadRequest || !strings.Contains(r.FieldError("secrets.signing_secret"), "CONSENTGATE_SECRET_KEYS") {
		t.Fatalf("secret value without a key: %s", r.Raw)
	}
	// References need no key.
	t.Setenv("ADMINAPI_TEST_API_SECRET", storedSecret)
	h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors", apiSpec("web-api", map[string]any{"env": "ADMINAPI_TEST_API_SECRET"})).Must(t, http.StatusCreated)
	if !h.verifies("web-api", storedSecret) {
		t.Fatal("env secret not used")
	}
}

func TestFileConnectorsAreReadOnly(t *testing.T) {
	h := newAdminHarness(t, testKeyRing)
	got := h.as(adminapi.RoleMarketer, http.MethodGet, "/connectors/web-file", nil).Must(t, http.StatusOK)
	if got.Str("source") != "file" || got.Str("settings", "event_id_path") != "id" {
		t.Fatalf("file connector view: %s", got.Raw)
	}
	if s, _ := got.Path("secrets", "signing_secret").(map[string]any); s["source"] != "env" || s["env"] != "ADMINAPI_TEST_FILE_SECRET" {
		t.Fatalf("file connector secret: %v", s)
	}
	if strings.Contains(got.Raw, fileSecret) {
		t.Fatal("GET returned a secret value")
	}
	for _, call := range []struct{ method, path string }{
		{http.MethodPut, "/connectors/web-file"},
		{http.MethodPost, "/connectors"},
		{http.MethodDelete, "/connectors/web-file"},
		{http.MethodPost, "/connectors/web-file/disable"},
		{http.MethodPost, "/connectors/web-file/secrets/signing_secret"},
	} {
		r := h.as(adminapi.RoleMarketer, call.method, call.path, apiSpec("web-file", map[string]any{"value": "v"}))
		if r.Status != http.StatusConflict || r.ErrorCode() != "file_connector" || !strings.Contains(r.Raw, "read-only") {
			t.Fatalf("%s %s on a file connector: %d %s", call.method, call.path, r.Status, r.Raw)
		}
	}
	h.as(adminapi.RoleMarketer, http.MethodGet, "/connectors/nope", nil).Must(t, http.StatusNotFound)
}

// use_ledger reads the subject's consent from the ledger, read-only: for a
// subject the ledger has never seen it still answers (it used to panic),
// and a grant in the ledger keeps a field the payload alone would not.
func TestDryRunWithLedger(t *testing.T) {
	h := newAdminHarness(t, testKeyRing)
	dry := func(useLedger bool, consent map[string]any) (action, subject string) {
		payload := map[string]any{"id": "evt-ledger", "lead": map[string]any{"email": "ledger.dry@example.com"}, "consent": consent}
		r := h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors/web-file/dry-run", map[string]any{"payload": payload, "use_ledger": useLedger}).Must(t, http.StatusOK)
		recs, _ := r.Body["records"].([]any)
		if len(recs) != 1 {
			t.Fatalf("dry-run: %s", r.Raw)
		}
		rec := recs[0].(map[string]any)
		for _, f := range rec["fields"].([]any) {
			if m := f.(map[string]any); m["platform_field"] == "lead.email" {
				return m["action"].(string), rec["subject_key"].(string)
			}
		}
		t.Fatalf("no lead.email in %s", r.Raw)
		return "", ""
	}
	got, subject := dry(true, map[string]any{"marketing_email": false})
	if got == "keep" || subject == "" {
		t.Fatalf("e-mail %s (subject %q) for a subject without consent", got, subject)
	}
	now := time.Now()
	if err := h.Store.AppendConsent(t.Context(), []store.ConsentEntry{{ID: store.NewID(), SubjectKey: subject, Purpose: "marketing_email",
		Status: store.StatusGranted, Method: "api", ObtainedAt: now, RecordedAt: now}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := dry(true, nil); got != "keep" {
		t.Fatalf("with the ledger's grant the e-mail is %s, want keep", got)
	}
	if got, _ := dry(false, nil); got == "keep" {
		t.Fatal("without use_ledger the ledger's grant was used")
	}
}

func TestDryRun(t *testing.T) {
	h := newAdminHarness(t, testKeyRing)
	payload := map[string]any{"id": "evt-1", "lead": map[string]any{"email": "dry.run@example.com", "phone": "+49 151 23456789"},
		"consent": map[string]any{"marketing_email": true}}
	r := h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors/web-file/dry-run", map[string]any{"payload": payload}).Must(t, http.StatusOK)
	recs, _ := r.Body["records"].([]any)
	if len(recs) != 1 {
		t.Fatalf("dry-run: %s", r.Raw)
	}
	actions := map[string]string{}
	for _, f := range recs[0].(map[string]any)["fields"].([]any) {
		m := f.(map[string]any)
		actions[m["platform_field"].(string)] = m["action"].(string) + "/" + m["rule"].(string)
	}
	if !strings.HasPrefix(actions["lead.email"], "keep/") || strings.HasPrefix(actions["lead.phone"], "keep/") {
		t.Fatalf("field actions %v: want email kept (marketing e-mail granted) and phone not kept", actions)
	}
	// Nothing was stored: no decision, no ledger entry, no de-dup claim.
	ds, _ := h.Store.ListDecisions(t.Context(), store.DecisionFilter{})
	if len(ds) != 0 {
		t.Fatalf("dry-run stored %d decisions", len(ds))
	}
	again := h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors/web-file/dry-run", map[string]any{"payload": payload}).Must(t, http.StatusOK)
	if recs2, _ := again.Body["records"].([]any); len(recs2) != 1 || recs2[0].(map[string]any)["outcome"] != recs[0].(map[string]any)["outcome"] {
		t.Fatalf("a second dry-run of the same event differs (was it de-duplicated?): %s", again.Raw)
	}
	if strings.Contains(h.logs.String(), "dry.run@example.com") {
		t.Fatal("the dry-run payload was logged")
	}

	bad := h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors/web-file/dry-run", map[string]any{"payload_text": "{not json"})
	if bad.Status != http.StatusBadRequest || bad.FieldError("payload") == "" {
		t.Fatalf("malformed payload: %s", bad.Raw)
	}
	h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors/web-file/dry-run", map[string]any{}).Must(t, http.StatusBadRequest)
	h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors/nope/dry-run", map[string]any{"payload": payload}).Must(t, http.StatusNotFound)
	h.as(adminapi.RoleAuditor, http.MethodPost, "/connectors/web-file/dry-run", map[string]any{"payload": payload}).Must(t, http.StatusForbidden)
}

// Admin API bodies are JSON, one value and nothing after it: another
// content type gets 415, trailing data (even a stray '}') 400, and neither
// stores anything.
func TestAdminBodiesAreOneJSONValue(t *testing.T) {
	h := newAdminHarness(t, testKeyRing)
	raw, err := json.Marshal(apiSpec("web-api", map[string]any{"value": storedSecret}))
	if err != nil {
		t.Fatal(err)
	}
	send := func(path, ctype, body string) gwtest.Response {
		req, err := http.NewRequest(http.MethodPut, h.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+h.tokens[adminapi.RoleAdmin])
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		return gwtest.Do(t, req)
	}
	if r := send("/connectors/web-api", "text/plain", string(raw)); r.Status != http.StatusUnsupportedMediaType || !strings.Contains(r.ErrorMessage(), "application/json") {
		t.Fatalf("text/plain spec: %d %s, want 415 naming application/json", r.Status, r.Raw)
	}
	if r := send("/connectors/web-api", "application/json", string(raw)+" }"); r.Status != http.StatusBadRequest || r.ErrorCode() != "malformed" {
		t.Fatalf("spec with a stray '}': %d %s, want 400 malformed", r.Status, r.Raw)
	}
	if list, _ := h.Store.ListConnectors(t.Context()); len(list) != 0 {
		t.Fatalf("refused bodies stored connectors: %v", list)
	}
	grant := `{"subject":{"email":"trailing@example.com"},"purpose":"marketing_email"}`
	for _, tc := range []struct {
		ctype, body string
		status      int
	}{
		{"text/plain", grant, http.StatusUnsupportedMediaType},
		{"application/json", grant + " }", http.StatusBadRequest},
		{"application/json", `{"subject":{"email":"trailing@example.com"},"purpose":"spam","purpose":"marketing_email"}`, http.StatusBadRequest},
		{"application/json", "{\"subject\":{\"email\":\"trailing\xff@example.com\"},\"purpose\":\"marketing_email\"}", http.StatusBadRequest},
	} {
		req, err := http.NewRequest(http.MethodPost, h.URL+"/consent/grant", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+h.tokens[adminapi.RolePrivacy])
		req.Header.Set("Content-Type", tc.ctype)
		if r := gwtest.Do(t, req); r.Status != tc.status {
			t.Fatalf("consent grant %s %q: %d %s, want %d", tc.ctype, tc.body, r.Status, r.Raw, tc.status)
		}
	}
	look := h.as(adminapi.RolePrivacy, http.MethodPost, "/consent/lookup", map[string]any{"subject": map[string]any{"email": "trailing@example.com"}})
	if strings.Contains(look.Raw, "marketing_email") {
		t.Fatalf("a refused grant reached the ledger: %s", look.Raw)
	}
}
