package adminapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
)

func TestNoticesRegistry(t *testing.T) {
	h := newConsentHarness(t, harnessOptions{})
	text := "We send offers by e-mail. Unsubscribe any time."
	sum := sha256.Sum256([]byte(text))
	body := map[string]any{"id": "web-privacy", "version": "3", "url": "https://example.org/privacy/3", "text": text, "effective_from": "2026-01-01T00:00:00+01:00"}

	r := h.call("privacy", "POST", "/notices", body).Must(t, http.StatusCreated)
	if r.Str("text_sha256") != hex.EncodeToString(sum[:]) || r.Str("effective_from") != "2025-12-31T23:00:00Z" {
		t.Errorf("registered notice = %s", r.Raw)
	}
	if strings.Contains(r.Raw, "Unsubscribe") {
		t.Errorf("the notice text is returned; only its hash is kept")
	}
	h.call("privacy", "POST", "/notices", body).Must(t, http.StatusOK) // same content: no-op

	changed := map[string]any{"id": "web-privacy", "version": "3", "text": text + " Changed.", "effective_from": "2026-01-01T00:00:00Z"}
	if r := h.call("privacy", "POST", "/notices", changed); r.Status != http.StatusConflict || r.ErrorCode() != "conflict" {
		t.Errorf("changed content under the same version: %d %s, want 409", r.Status, r.Raw)
	}
	byHash := map[string]any{"id": "app-privacy", "version": "1", "text_sha256": strings.Repeat("ab", 32), "effective_from": "2026-02-01T00:00:00Z"}
	h.call("admin", "POST", "/notices", byHash).Must(t, http.StatusCreated)

	list := h.call("marketer", "GET", "/notices", nil).Must(t, 200)
	if ns, _ := list.Path("notices").([]any); len(ns) != 2 {
		t.Errorf("notices = %s", list.Raw)
	}
	one := h.call("auditor", "GET", "/notices/web-privacy/3", nil).Must(t, 200)
	if one.Str("url") != "https://example.org/privacy/3" {
		t.Errorf("notice = %s", one.Raw)
	}
	if r := h.call("auditor", "GET", "/notices/web-privacy/9", nil); r.Status != http.StatusNotFound {
		t.Errorf("unknown version: %d", r.Status)
	}

	bad := []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"version": "1", "text": "x", "effective_from": "2026-01-01T00:00:00Z"}, "id"},
		{map[string]any{"id": "n", "text": "x", "effective_from": "2026-01-01T00:00:00Z"}, "version"},
		{map[string]any{"id": "n", "version": "1", "effective_from": "2026-01-01T00:00:00Z"}, "text"},
		{map[string]any{"id": "n", "version": "1", "text": "x", "text_sha256": strings.Repeat("ab", 32), "effective_from": "2026-01-01T00:00:00Z"}, "text"},
		{map[string]any{"id": "n", "version": "1", "text_sha256": "ABC", "effective_from": "2026-01-01T00:00:00Z"}, "text_sha256"},
		{map[string]any{"id": "n", "version": "1", "text": "x", "effective_from": "1 Jan"}, "effective_from"},
		{map[string]any{"id": "n", "version": "1", "text": "x"}, "effective_from"},
		{map[string]any{"id": "n", "version": "1", "text": "x", "url": "not a url", "effective_from": "2026-01-01T00:00:00Z"}, "url"},
	}
	for _, b := range bad {
		r := h.call("privacy", "POST", "/notices", b.body)
		if r.Status != http.StatusBadRequest || r.FieldError(b.field) == "" {
			t.Errorf("POST /notices %v: %d %s, want 400 naming %s", b.body, r.Status, r.Raw, b.field)
		}
	}

	// A grant may name the notice only once it is in effect.
	early := h.call("privacy", "POST", "/consent/grant", map[string]any{
		"subject": map[string]any{"email": "a@example.org"}, "purpose": "analytics", "obtained_at": "2026-01-15T00:00:00Z",
		"notice": map[string]any{"id": "app-privacy", "version": "1"},
	})
	if early.Status != http.StatusBadRequest || !strings.Contains(early.FieldError("notice"), "not yet in effect") {
		t.Errorf("grant before the notice took effect: %d %s", early.Status, early.Raw)
	}
}
