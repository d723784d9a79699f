package adminapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/adminapi"
	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

const rawEmail = "Priya.Example@Example.org"

// Every consent, decision and notice route, called as every role: the
// allowed roles get their 2xx, the others 403, and nobody without a
// valid token gets past 401.
func TestConsentRoutesRoles(t *testing.T) {
	h := newConsentHarness(t, harnessOptions{})
	key, _ := h.Keyer.Email(rawEmail)
	subj := map[string]any{"email": rawEmail}
	notice := func(v string) map[string]any {
		return map[string]any{"id": "roles-notice", "version": v, "text": "We e-mail offers.", "effective_from": "2026-01-01T00:00:00Z"}
	}
	nv := 0
	cases := []roleCase{
		{"POST", "/consent/grant", func() any { return map[string]any{"subject": subj, "purpose": "marketing_email"} }, 201, []adminapi.Role{"privacy"}},
		{"POST", "/consent/withdraw", func() any { return map[string]any{"subject": subj, "purpose": "marketing_email"} }, 201, []adminapi.Role{"privacy"}},
		{"POST", "/consent/lookup", func() any { return map[string]any{"subject": subj} }, 200, []adminapi.Role{"privacy", "auditor"}},
		{"GET", "/consent/subjects/" + key, nil, 200, []adminapi.Role{"privacy", "auditor"}},
		{"POST", "/consent/erase", func() any { return map[string]any{"subject": subj} }, 200, []adminapi.Role{"privacy"}},
		{"GET", "/consent/tombstones", nil, 200, []adminapi.Role{"privacy", "auditor"}},
		{"GET", "/notices", nil, 200, []adminapi.Role{"privacy", "auditor", "marketer"}},
		{"POST", "/notices", func() any { nv++; return notice(string(rune('a' + nv))) }, 201, []adminapi.Role{"privacy"}},
		{"GET", "/notices/roles-notice/b", nil, 200, []adminapi.Role{"privacy", "auditor", "marketer"}},
		{"GET", "/decisions", nil, 200, []adminapi.Role{"privacy", "auditor", "marketer"}},
		{"GET", "/decisions/stats", nil, 200, []adminapi.Role{"privacy", "auditor", "marketer"}},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.method+" "+c.route()] = true
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			body := func() any {
				if c.body == nil {
					return nil
				}
				return c.body()
			}
			for _, role := range adminapi.Roles {
				allowed := role == adminapi.RoleAdmin
				for _, r := range c.roles {
					allowed = allowed || r == role
				}
				r := h.call(string(role), c.method, c.path, body())
				switch {
				case allowed && r.Status != c.ok:
					t.Errorf("role %s: status %d, want %d: %s", role, r.Status, c.ok, r.Raw)
				case !allowed && (r.Status != http.StatusForbidden || r.ErrorCode() != "forbidden"):
					t.Errorf("role %s: status %d (%s), want 403 forbidden", role, r.Status, r.ErrorCode())
				}
			}
			if r := h.call("", c.method, c.path, body()); r.Status != http.StatusUnauthorized || r.ErrorCode() != "unauthenticated" {
				t.Errorf("no token: status %d (%s), want 401 unauthenticated", r.Status, r.ErrorCode())
			}
			if r := h.call("nobody", c.method, c.path, body()); r.Status != http.StatusUnauthorized {
				t.Errorf("unknown token: status %d, want 401", r.Status)
			}
		})
	}
	for _, rt := range adminapi.Routes() {
		area := strings.Split(rt.Path, "/")[1]
		if (area == "consent" || area == "notices" || area == "decisions") && !covered[rt.Method+" "+rt.Path] {
			t.Errorf("route %s %s has no role test", rt.Method, rt.Path)
		}
	}
}

// A grant and a withdrawal by e-mail land in the ledger under the subject
// key, are published on the consent topic, and the lookup shows the
// current state and the history — never the e-mail.
func TestGrantWithdrawLookupErase(t *testing.T) {
	h := newConsentHarness(t, harnessOptions{})
	key, _ := h.Keyer.Email(rawEmail)
	h.call("privacy", "POST", "/notices", map[string]any{
		"id": "web-privacy", "version": "3", "url": "https://example.org/privacy/3", "text": "We e-mail you offers.", "effective_from": "2026-01-01T00:00:00Z",
	}).Must(t, 201)

	g := h.call("privacy", "POST", "/consent/grant", map[string]any{
		"subject": map[string]any{"email": "  " + strings.ToUpper(rawEmail) + " "}, "purpose": "marketing_email",
		"obtained_at": "2026-03-01T09:00:00Z", "notice": map[string]any{"id": "web-privacy", "version": "3"},
	}).Must(t, 201)
	if g.Str("entry", "subject_key") != key {
		t.Errorf("grant keyed %q, want the key of the normalised e-mail %q", g.Str("entry", "subject_key"), key)
	}
	if g.Str("entry", "method") != "api" || g.Str("entry", "status") != "granted" || g.Str("entry", "payload_sha256") == "" {
		t.Errorf("entry = %v", g.Body["entry"])
	}
	if g.Str("entry", "expires_at") != "2028-02-29T09:00:00Z" {
		t.Errorf("expires_at = %q, want obtained_at + 730d validity", g.Str("entry", "expires_at"))
	}
	grantID := g.Str("entry", "id")

	w := h.call("privacy", "POST", "/consent/withdraw", map[string]any{
		"subject": map[string]any{"key": key}, "purpose": "marketing_email", "method": "admin",
	}).Must(t, 201)
	withdrawID := w.Str("entry", "id")
	if w.Str("event", "delivery") != "published" {
		t.Errorf("event = %v, want published", w.Body["event"])
	}

	msgs := kafkatest.Consume(t, h.Brokers, consentTopic, 2, 15*time.Second)
	byID := map[string]map[string]any{}
	for _, m := range msgs {
		if string(m.Key) != key {
			t.Errorf("message key %q, want the subject key", m.Key)
		}
		var v map[string]any
		if err := json.Unmarshal(m.Value, &v); err != nil {
			t.Fatalf("consent event is not JSON: %v", err)
		}
		byID[v["id"].(string)] = v
		hdr := map[string]string{}
		for _, kv := range m.Headers {
			hdr[kv.Key] = string(kv.Value)
		}
		if hdr["ce_type"] != "com.consentgate.consent.v1" || hdr["ce_id"] != v["id"] || hdr["ce_specversion"] != "1.0" {
			t.Errorf("headers %v", hdr)
		}
		if strings.Contains(strings.ToLower(string(m.Value)), "priya") {
			t.Errorf("raw e-mail on the consent topic: %s", m.Value)
		}
	}
	if v := byID[grantID]; v["type"] != "granted" || v["purpose"] != "marketing_email" || v["method"] != "api" ||
		v["notice"].(map[string]any)["version"] != "3" || v["obtained_at"] != "2026-03-01T09:00:00Z" {
		t.Errorf("grant event = %v", v)
	}
	if v := byID[withdrawID]; v["type"] != "withdrawn" || v["method"] != "admin" {
		t.Errorf("withdrawal event = %v", v)
	}

	for _, r := range []gwtest.Response{
		h.call("auditor", "POST", "/consent/lookup", map[string]any{"subject": map[string]any{"email": rawEmail}}),
		h.call("auditor", "GET", "/consent/subjects/"+key, nil),
	} {
		r.Must(t, 200)
		if r.Str("subject_key") != key {
			t.Errorf("lookup subject_key = %q", r.Str("subject_key"))
		}
		if st := r.Str("current", "marketing_email", "status"); st != "withdrawn" || r.Str("current", "marketing_email", "entry_id") != withdrawID {
			t.Errorf("current = %v, want the withdrawal", r.Body["current"])
		}
		if hist, _ := r.Path("history").([]any); len(hist) != 2 {
			t.Errorf("history has %d entries, want 2", len(hist))
		}
		if strings.Contains(strings.ToLower(r.Raw), "priya") {
			t.Errorf("lookup answer holds the raw e-mail")
		}
	}

	e := h.call("privacy", "POST", "/consent/erase", map[string]any{"subject": map[string]any{"email": rawEmail}}).Must(t, 200)
	if n, _ := e.Path("entries_removed").(float64); n != 2 || e.Str("subject_key") != key {
		t.Errorf("erase = %s", e.Raw)
	}
	all := kafkatest.Consume(t, h.Brokers, consentTopic, 3, 15*time.Second)
	var erased map[string]any
	for _, m := range all {
		var v map[string]any
		_ = json.Unmarshal(m.Value, &v)
		if v["type"] == "erased" {
			erased = v
			for _, kv := range m.Headers {
				if kv.Key == "ce_type" && string(kv.Value) != "com.consentgate.erasure.v1" {
					t.Errorf("erasure ce_type = %s", kv.Value)
				}
			}
		}
	}
	if erased == nil || erased["subject"].(map[string]any)["key"] != key || erased["erasure"].(map[string]any)["entries_removed"] != 2.0 {
		t.Errorf("erasure event = %v", erased)
	}
	r := h.call("privacy", "GET", "/consent/subjects/"+key, nil).Must(t, 200)
	if hist, _ := r.Path("history").([]any); len(hist) != 0 {
		t.Errorf("history after erasure has %d entries", len(hist))
	}
	ts := h.call("auditor", "GET", "/consent/tombstones", nil).Must(t, 200)
	if list, _ := ts.Path("tombstones").([]any); len(list) != 1 || strings.Contains(ts.Raw, key) {
		t.Errorf("tombstones = %s", ts.Raw)
	}
	if strings.Contains(strings.ToLower(h.logs.String()), "priya") {
		t.Errorf("the raw e-mail appears in the logs")
	}
}

// A grant older than its purpose's validity is still history but counts
// as expired; a purpose without validity never expires.
func TestLookupShowsExpiredGrants(t *testing.T) {
	h := newConsentHarness(t, harnessOptions{})
	old := time.Now().Add(-3 * 365 * 24 * time.Hour).UTC().Format(time.RFC3339)
	for _, p := range []string{"marketing_email", "analytics"} {
		h.call("privacy", "POST", "/consent/grant", map[string]any{"subject": map[string]any{"phone": "+49 151 2345 6789"}, "purpose": p, "obtained_at": old}).Must(t, 201)
	}
	r := h.call("privacy", "POST", "/consent/lookup", map[string]any{"subject": map[string]any{"phone": "+4915123456789"}}).Must(t, 200)
	if s := r.Str("current", "marketing_email", "effective_status"); s != "expired" {
		t.Errorf("marketing_email effective_status = %q, want expired (730d validity)", s)
	}
	if s := r.Str("current", "marketing_email", "status"); s != "granted" {
		t.Errorf("marketing_email status = %q, want granted (the ledger entry itself)", s)
	}
	if s := r.Str("current", "analytics", "effective_status"); s != "granted" || r.Path("current", "analytics", "expires_at") != nil {
		t.Errorf("analytics = %v, want granted without expiry", r.Path("current", "analytics"))
	}
}

// Bad requests get 400 with one message per field, naming the rule and
// never echoing the value sent.
func TestConsentValidation(t *testing.T) {
	h := newConsentHarness(t, harnessOptions{})
	secretish := "leaky.value@example.net"
	cases := []struct {
		name  string
		path  string
		body  any
		field string
		want  string
	}{
		{"unknown purpose", "/consent/grant", map[string]any{"subject": map[string]any{"email": secretish}, "purpose": "world_domination"}, "purpose", "declared: analytics, health_outreach"},
		{"no purpose", "/consent/grant", map[string]any{"subject": map[string]any{"email": secretish}}, "purpose", "is required"},
		{"no subject", "/consent/withdraw", map[string]any{"purpose": "analytics"}, "subject", "is required"},
		{"empty subject", "/consent/grant", map[string]any{"subject": map[string]any{}, "purpose": "analytics"}, "subject", "give one of"},
		{"two identifiers", "/consent/grant", map[string]any{"subject": map[string]any{"email": secretish, "phone": "+4915123456789"}, "purpose": "analytics"}, "subject", "only one"},
		{"not an e-mail", "/consent/grant", map[string]any{"subject": map[string]any{"email": "leaky-no-at"}, "purpose": "analytics"}, "subject.email", "not an e-mail"},
		{"local phone", "/consent/grant", map[string]any{"subject": map[string]any{"phone": "0151 2345678"}, "purpose": "analytics"}, "subject.phone", "international form"},
		{"bad key", "/consent/grant", map[string]any{"subject": map[string]any{"key": "sk_nothex"}, "purpose": "analytics"}, "subject.key", "subject key"},
		{"platform without user", "/consent/grant", map[string]any{"subject": map[string]any{"platform": "meta"}, "purpose": "analytics"}, "subject.user_id", "required with platform"},
		{"bad time", "/consent/grant", map[string]any{"subject": map[string]any{"email": secretish}, "purpose": "analytics", "obtained_at": "yesterday-leaky"}, "obtained_at", "RFC 3339"},
		{"future time", "/consent/grant", map[string]any{"subject": map[string]any{"email": secretish}, "purpose": "analytics", "obtained_at": time.Now().Add(time.Hour).Format(time.RFC3339)}, "obtained_at", "future"},
		{"zero time", "/consent/grant", map[string]any{"subject": map[string]any{"email": secretish}, "purpose": "analytics", "obtained_at": "0001-01-01T00:00:00Z"}, "obtained_at", "must be between 1970-01-01T00:00:00Z and now"},
		{"form method", "/consent/grant", map[string]any{"subject": map[string]any{"email": secretish}, "purpose": "analytics", "method": "form_checkbox"}, "method", "one of: api, admin, import"},
		{"unregistered notice", "/consent/grant", map[string]any{"subject": map[string]any{"email": secretish}, "purpose": "analytics", "notice": map[string]any{"id": "nope", "version": "1"}}, "notice", "not registered"},
		{"notice without version", "/consent/grant", map[string]any{"subject": map[string]any{"email": secretish}, "purpose": "analytics", "notice": map[string]any{"id": "nope"}}, "notice.version", "is required"},
		{"unknown field", "/consent/grant", map[string]any{"subject": map[string]any{"email": secretish}, "purpose": "analytics", "extra": 1}, "extra", "unknown field"},
		{"wrong type", "/consent/grant", map[string]any{"subject": map[string]any{"email": 42}, "purpose": "analytics"}, "subject.email", "must be a JSON string"},
		{"lookup without subject", "/consent/lookup", map[string]any{}, "subject", "is required"},
		{"erase bad e-mail", "/consent/erase", map[string]any{"subject": map[string]any{"email": "leaky"}}, "subject.email", "not an e-mail"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.call("privacy", "POST", c.path, c.body).Must(t, http.StatusBadRequest)
			if r.ErrorCode() != "invalid" {
				t.Errorf("code %q, want invalid", r.ErrorCode())
			}
			if msg := r.FieldError(c.field); !strings.Contains(msg, c.want) {
				t.Errorf("fields.%s = %q, want it to contain %q (all: %s)", c.field, msg, c.want, r.Raw)
			}
			if strings.Contains(r.Raw, "leaky") {
				t.Errorf("the error echoes the value sent: %s", r.Raw)
			}
		})
	}
	r := h.call("privacy", "POST", "/consent/grant", `{"subject": {"email": "x@example.org"}, "purpose": `)
	if r.Status != http.StatusBadRequest || r.ErrorCode() != "malformed" {
		t.Errorf("broken JSON: %d %s", r.Status, r.Raw)
	}
	r = h.call("auditor", "GET", "/consent/subjects/not-a-key", nil)
	if r.Status != http.StatusBadRequest || r.FieldError("key") == "" {
		t.Errorf("bad key in path: %d %s", r.Status, r.Raw)
	}
	if hist, _ := h.Store.ListTombstones(t.Context(), 0); len(hist) != 0 {
		t.Errorf("a refused erase erased something")
	}
}

// obtained_at is checked against 1970-01-01 .. now + clock skew (the floor
// the generic connector applies to a record's time) before anything is
// written: a refused statement leaves no ledger entry and no event.
func TestConsentObtainedAtRange(t *testing.T) {
	h := newConsentHarness(t, harnessOptions{kafkaDown: true})
	now := time.Now().UTC()
	for i, c := range []struct {
		name, at string
		want     string // "" = accepted
	}{
		{"zero time, the store's unset", "0001-01-01T00:00:00Z", "is before 1970"},
		{"year 2", "0002-01-01T00:00:00Z", "is before 1970"},
		{"a second before 1970", "1969-12-31T23:59:59Z", "is before 1970"},
		{"before 1970 in UTC, though not in its own offset", "1970-01-01T00:30:00+01:00", "is before 1970"},
		{"an hour ahead", now.Add(time.Hour).Format(time.RFC3339), "is in the future"},
		{"the epoch itself", "1970-01-01T00:00:00Z", ""},
		{"within the clock skew", now.Add(20 * time.Second).Format(time.RFC3339Nano), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			email := fmt.Sprintf("range-%d@example.org", i)
			key, ok := h.Keyer.Email(email)
			if !ok {
				t.Fatalf("test e-mail %q refused", email)
			}
			depth0, _, err := h.Store.OutboxStats(t.Context(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			body := map[string]any{"subject": map[string]any{"email": email}, "purpose": "analytics", "obtained_at": c.at}
			r := h.call("privacy", "POST", "/consent/grant", body)
			hist, err := h.Store.ConsentHistory(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			depth, _, _ := h.Store.OutboxStats(t.Context(), time.Now())
			if c.want == "" {
				r.Must(t, http.StatusCreated)
				if len(hist) != 1 || depth != depth0+1 {
					t.Errorf("accepted, but %d ledger entries and outbox %d→%d, want 1 and one more", len(hist), depth0, depth)
				}
				return
			}
			r.Must(t, http.StatusBadRequest)
			msg := r.FieldError("obtained_at")
			for _, w := range []string{c.want, "must be between 1970-01-01T00:00:00Z and now", "1m0s"} {
				if !strings.Contains(msg, w) {
					t.Errorf("fields.obtained_at = %q, want it to contain %q", msg, w)
				}
			}
			if len(hist) != 0 || depth != depth0 {
				t.Errorf("refused, but %d ledger entries written and outbox %d→%d", len(hist), depth0, depth)
			}
		})
	}
}

// With Kafka gone, an API grant still applies at once and its event waits
// in the outbox for the relay.
func TestGrantWithKafkaDownQueuesTheEvent(t *testing.T) {
	h := newConsentHarness(t, harnessOptions{kafkaDown: true})
	r := h.call("privacy", "POST", "/consent/grant", map[string]any{"subject": map[string]any{"email": rawEmail}, "purpose": "analytics"}).Must(t, 201)
	if r.Str("event", "delivery") != "queued" {
		t.Errorf("event = %v, want queued", r.Body["event"])
	}
	depth, _, err := h.Store.OutboxStats(t.Context(), time.Now())
	if err != nil || depth != 1 {
		t.Fatalf("outbox depth %d (%v), want 1", depth, err)
	}
	msgs, err := h.Store.ClaimOutbox(t.Context(), 10, time.Now(), time.Minute)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("claim outbox: %v %d", err, len(msgs))
	}
	key, _ := h.Keyer.Email(rawEmail)
	if msgs[0].Topic != consentTopic || string(msgs[0].Key) != key || msgs[0].Headers["ce_type"] != "com.consentgate.consent.v1" {
		t.Errorf("outbox message = %+v", msgs[0])
	}
	e := h.call("privacy", "POST", "/consent/erase", map[string]any{"subject": map[string]any{"key": key}}).Must(t, 200)
	if e.Str("event", "delivery") != "queued" {
		t.Errorf("erasure event = %v, want queued", e.Body["event"])
	}
}

type roleCase struct {
	method, path string
	body         func() any
	ok           int
	roles        []adminapi.Role
}

// route turns a concrete path back into its pattern in the routes table.
func (c roleCase) route() string {
	switch {
	case strings.HasPrefix(c.path, "/consent/subjects/"):
		return "/consent/subjects/:key"
	case strings.HasPrefix(c.path, "/notices/"):
		return "/notices/:id/:version"
	}
	return c.path
}
