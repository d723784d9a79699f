package adminapi_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/adminapi"
	"github.com/consentgate/consentgate/internal/store"
)

// concrete fills a route's path parameters.
func concrete(path string) string {
	return strings.NewReplacer(":id", "x-1", ":name", "signing_secret", ":key", "sk_x").Replace(path)
}

// TestEveryRouteEnforcesItsRoles calls every route of the table as every
// role: a role the route does not list is refused with 403 before the
// handler runs; no token or an unknown one gets 401.
func TestEveryRouteEnforcesItsRoles(t *testing.T) {
	h := newAdminHarness(t, testKeyRing)
	for _, rt := range adminapi.Routes() {
		path := concrete(rt.Path)
		for _, role := range adminapi.Roles {
			allowed := role == adminapi.RoleAdmin || slices.Contains(rt.Roles, role)
			if allowed {
				continue // exercised by the route's own tests
			}
			r := h.as(role, rt.Method, path, map[string]any{})
			if r.Status != http.StatusForbidden || r.ErrorCode() != "forbidden" {
				t.Errorf("%s %s as %s: %d %s, want 403", rt.Method, rt.Path, role, r.Status, r.Raw)
			}
		}
		if r := h.withToken("", rt.Method, path, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d, want 401", rt.Method, rt.Path, r.Status)
		}
		if r := h.withToken("cgt_not-a-real-token", rt.Method, path, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("%s %s with an unknown token: %d, want 401", rt.Method, rt.Path, r.Status)
		}
	}
}

// TestRoleMatrix pins who may do what on the routes of this package's
// connector, dead-letter, token and audit files (contract, issue 6).
func TestRoleMatrix(t *testing.T) {
	want := map[string]string{ // route → roles besides admin
		"GET /connectors":                    "marketer,auditor",
		"POST /connectors":                   "marketer",
		"GET /connectors/:id":                "marketer,auditor",
		"PUT /connectors/:id":                "marketer",
		"DELETE /connectors/:id":             "marketer",
		"POST /connectors/:id/enable":        "marketer",
		"POST /connectors/:id/disable":       "marketer",
		"POST /connectors/:id/secrets/:name": "marketer",
		"POST /connectors/:id/dry-run":       "marketer",
		"GET /deadletters":                   "marketer,auditor",
		"POST /deadletters/:id/retry":        "marketer",
		"DELETE /deadletters/:id":            "marketer",
		"GET /tokens":                        "auditor",
		"POST /tokens":                       "",
		"DELETE /tokens/:id":                 "",
		"GET /audit":                         "auditor",
		"GET /whoami":                        "marketer,privacy,auditor",
	}
	got := map[string]string{}
	for _, rt := range adminapi.Routes() {
		roles := make([]string, len(rt.Roles))
		for i, r := range rt.Roles {
			roles[i] = string(r)
		}
		got[rt.Method+" "+rt.Path] = strings.Join(roles, ",")
	}
	for route, roles := range want {
		if got[route] != roles {
			t.Errorf("%s: roles %q, want %q", route, got[route], roles)
		}
	}
}

func TestTokens(t *testing.T) {
	h := newAdminHarness(t, testKeyRing)
	who := h.as(adminapi.RoleAdmin, http.MethodGet, "/whoami", nil).Must(t, http.StatusOK)
	if who.Str("role") != "admin" || who.Str("token_id") != "bootstrap" {
		t.Fatalf("whoami as bootstrap admin: %s", who.Raw)
	}

	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"role": "marketer"}, "name"},
		{map[string]any{"name": "x", "role": "superuser"}, "role"},
		{map[string]any{"name": strings.Repeat("n", 101), "role": "auditor"}, "name"},
	} {
		if r := h.as(adminapi.RoleAdmin, http.MethodPost, "/tokens", tc.body); r.Status != http.StatusBadRequest || r.FieldError(tc.field) == "" {
			t.Errorf("create token %v: %s, want 400 on %s", tc.body, r.Raw, tc.field)
		}
	}
	h.as(adminapi.RoleAdmin, http.MethodPost, "/tokens", map[string]any{"name": "x", "role": "auditor", "extra": 1}).Must(t, http.StatusBadRequest)

	created := h.as(adminapi.RoleAdmin, http.MethodPost, "/tokens", map[string]any{"name": "ci deploy", "role": "marketer"}).Must(t, http.StatusCreated)
	tok, id := created.Str("token"), created.Str("id")
	if !strings.HasPrefix(tok, "cgt_") || id == "" {
		t.Fatalf("created token: %s", created.Raw)
	}
	me := h.withToken(tok, http.MethodGet, "/whoami", nil).Must(t, http.StatusOK)
	if me.Str("name") != "ci deploy" || me.Str("role") != "marketer" || me.Str("token_id") != id {
		t.Fatalf("whoami with the new token: %s", me.Raw)
	}
	h.withToken(tok, http.MethodGet, "/connectors", nil).Must(t, http.StatusOK)
	h.withToken(tok, http.MethodPost, "/tokens", map[string]any{"name": "y", "role": "admin"}).Must(t, http.StatusForbidden)

	list := h.as(adminapi.RoleAuditor, http.MethodGet, "/tokens", nil).Must(t, http.StatusOK)
	if strings.Contains(list.Raw, tok) || strings.Contains(list.Raw, adminapi.HashToken(tok)) {
		t.Fatal("the token list shows a token or its hash")
	}
	var mine map[string]any
	for _, x := range list.Body["tokens"].([]any) {
		if m := x.(map[string]any); m["id"] == id {
			mine = m
		}
	}
	if mine == nil || mine["last_used_at"] == nil || mine["revoked_at"] != nil {
		t.Fatalf("listed token: %v, want last_used_at set and not revoked", mine)
	}
	stored, err := h.Store.AdminTokenByHash(t.Context(), adminapi.HashToken(tok))
	if err != nil || stored.ID != id {
		t.Fatalf("the store keeps the token's hash: %v %v", stored, err)
	}

	h.as(adminapi.RoleAdmin, http.MethodDelete, "/tokens/"+id, nil).Must(t, http.StatusNoContent)
	h.withToken(tok, http.MethodGet, "/whoami", nil).Must(t, http.StatusUnauthorized)
	h.as(adminapi.RoleAdmin, http.MethodDelete, "/tokens/nope", nil).Must(t, http.StatusNotFound)
	h.as(adminapi.RoleAdmin, http.MethodDelete, "/tokens/bootstrap", nil).Must(t, http.StatusConflict)

	var actions []string
	for _, e := range h.audit("token.") {
		actions = append(actions, e.Action+" "+e.Target)
		if strings.Contains(e.Details["name"]+e.Target, tok) {
			t.Fatal("the audit log holds the token")
		}
	}
	if strings.Join(actions, ",") != "token.revoke "+id+",token.create "+id {
		t.Fatalf("audit %v", actions)
	}
}

func TestDeadLetters(t *testing.T) {
	h := newAdminHarness(t, testKeyRing)
	ctx := t.Context()
	now := time.Now()
	if err := h.Store.EnqueueJobs(ctx, []store.Job{
		{Connector: "meta-a", EventID: "l1", Ref: "lead-1", State: store.JobPending, NextAttempt: now, CreatedAt: now, UpdatedAt: now},
		{Connector: "meta-a", EventID: "l2", Ref: "lead-2", State: store.JobPending, NextAttempt: now, CreatedAt: now, UpdatedAt: now},
	}); err != nil {
		t.Fatal(err)
	}
	jobs, _ := h.Store.ListJobs(ctx, store.JobPending, 10)
	var dead, pending int64
	for _, j := range jobs {
		if j.EventID == "l1" {
			dead = j.ID
		} else {
			pending = j.ID
		}
	}
	if err := h.Store.DeadLetterJob(ctx, dead, "lead not found (404)"); err != nil {
		t.Fatal(err)
	}
	list := h.as(adminapi.RoleAuditor, http.MethodGet, "/deadletters", nil).Must(t, http.StatusOK)
	js := list.Body["jobs"].([]any)
	if len(js) != 1 || js[0].(map[string]any)["last_error"] != "lead not found (404)" {
		t.Fatalf("dead letters: %s", list.Raw)
	}
	h.as(adminapi.RoleMarketer, http.MethodGet, "/deadletters?limit=0", nil).Must(t, http.StatusBadRequest)
	h.as(adminapi.RoleMarketer, http.MethodPost, "/deadletters/abc/retry", nil).Must(t, http.StatusBadRequest)
	h.as(adminapi.RoleMarketer, http.MethodPost, "/deadletters/999999/retry", nil).Must(t, http.StatusNotFound)
	h.as(adminapi.RoleMarketer, http.MethodPost, "/deadletters/"+itoa(pending)+"/retry", nil).Must(t, http.StatusConflict)

	h.as(adminapi.RoleMarketer, http.MethodPost, "/deadletters/"+itoa(dead)+"/retry", nil).Must(t, http.StatusNoContent)
	if p, _ := h.Store.ListJobs(ctx, store.JobPending, 10); len(p) != 2 {
		t.Fatalf("retried job not pending: %v", p)
	}
	if err := h.Store.DeadLetterJob(ctx, dead, "still 404"); err != nil {
		t.Fatal(err)
	}
	h.as(adminapi.RoleMarketer, http.MethodDelete, "/deadletters/"+itoa(pending), nil).Must(t, http.StatusConflict)
	h.as(adminapi.RoleMarketer, http.MethodDelete, "/deadletters/"+itoa(dead), nil).Must(t, http.StatusNoContent)
	if all, _ := h.Store.ListJobs(ctx, "", 10); len(all) != 1 || all[0].ID != pending {
		t.Fatalf("after discard: %v", all)
	}
	var actions []string
	for _, e := range h.audit("deadletter.") {
		actions = append(actions, e.Action+" "+e.Target+" by "+e.Role)
	}
	if strings.Join(actions, ",") != "deadletter.discard "+itoa(dead)+" by marketer,deadletter.retry "+itoa(dead)+" by marketer" {
		t.Fatalf("audit %v", actions)
	}
}

func TestAuditLogFilters(t *testing.T) {
	h := newAdminHarness(t, testKeyRing)
	h.as(adminapi.RoleAdmin, http.MethodPost, "/tokens", map[string]any{"name": "a", "role": "auditor"}).Must(t, http.StatusCreated)
	t.Setenv("ADMINAPI_TEST_API_SECRET", "x")
	h.as(adminapi.RoleMarketer, http.MethodPost, "/connectors", apiSpec("web-api", map[string]any{"env": "ADMINAPI_TEST_API_SECRET"})).Must(t, http.StatusCreated)

	all := h.as(adminapi.RoleAuditor, http.MethodGet, "/audit", nil).Must(t, http.StatusOK)
	entries := all.Body["entries"].([]any)
	if len(entries) != 2 || entries[0].(map[string]any)["action"] != "connector.create" {
		t.Fatalf("audit, newest first: %s", all.Raw)
	}
	first := entries[0].(map[string]any)
	if first["actor"] != "test marketer" || first["role"] != "marketer" || first["target"] != "web-api" || first["token_id"] != "tok-marketer" {
		t.Fatalf("who/what/target: %v", first)
	}
	byActor := h.as(adminapi.RoleAuditor, http.MethodGet, "/audit?actor=bootstrap-admin", nil).Must(t, http.StatusOK)
	if n := len(byActor.Body["entries"].([]any)); n != 1 {
		t.Fatalf("by actor: %d entries", n)
	}
	byAction := h.as(adminapi.RoleAuditor, http.MethodGet, "/audit?action=connector.", nil).Must(t, http.StatusOK)
	if n := len(byAction.Body["entries"].([]any)); n != 1 {
		t.Fatalf("by action prefix: %d entries", n)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if n := len(h.as(adminapi.RoleAuditor, http.MethodGet, "/audit?since="+future, nil).Must(t, http.StatusOK).Body["entries"].([]any)); n != 0 {
		t.Fatalf("since the future: %d entries", n)
	}
	for _, q := range []string{"since=yesterday", "limit=0", "limit=5000", "action=a%25b"} {
		if r := h.as(adminapi.RoleAuditor, http.MethodGet, "/audit?"+q, nil); r.Status != http.StatusBadRequest || r.ErrorCode() != "invalid" {
			t.Errorf("audit?%s: %d %s, want 400", q, r.Status, r.Raw)
		}
	}
	h.as(adminapi.RoleMarketer, http.MethodGet, "/audit", nil).Must(t, http.StatusForbidden)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
