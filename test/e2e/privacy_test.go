package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

// What a sender controls — the X-Request-ID header, the connector id in
// the path, the names of payload fields no mapping names, a generic
// payload's event id — may be personal data. None of it reaches the
// answers, the logs or the decision log, except the event id, which the
// decision keeps for de-duplication and CRM correlation. The dry-run
// still names every field to its caller, who sent the payload.
func TestSenderTextStaysOutOfLogsAndDecisions(t *testing.T) {
	gw := startGateway(t, gwtest.Options{})
	const (
		reqMarker   = "zz-marker-1@example.com"
		fieldMarker = "zz-marker-2@example.com"
		eventMarker = "zz-marker-3@example.com"
	)
	body, _ := json.Marshal(map[string]any{
		"id": eventMarker, "occurred_at": "2026-11-20T10:00:00Z",
		"lead": map[string]any{"email": "q@example.org", "first_name": "Q"},
		"tags": map[string]any{fieldMarker: 1},
	})
	r := gw.Post("web", body, map[string]string{"X-Request-ID": reqMarker})
	if r.Status != http.StatusOK || r.Summary("dropped") != 1 {
		t.Fatalf("lead without consent: %d %s", r.Status, r.Raw)
	}
	if strings.Contains(r.Raw, reqMarker) || r.Header.Get("X-Request-ID") == reqMarker {
		t.Errorf("the answer echoes the client's request id: %s", r.Raw)
	}
	unknown := gw.Post(reqMarker, body, nil)
	if unknown.Status != http.StatusNotFound || strings.Contains(unknown.Raw, reqMarker) {
		t.Errorf("unknown connector: %d %s, want 404 without the id", unknown.Status, unknown.Raw)
	}

	ds := gw.API(http.MethodGet, "/decisions?connector=web", nil).Must(t, http.StatusOK)
	if strings.Contains(ds.Raw, reqMarker) || strings.Contains(ds.Raw, fieldMarker) {
		t.Errorf("the decision log carries sender text: %s", ds.Raw)
	}
	list, _ := ds.Body["decisions"].([]any)
	if len(list) != 1 {
		t.Fatalf("decisions: %s", ds.Raw)
	}
	d := list[0].(map[string]any)
	fields, _ := d["fields"].(map[string]any)
	// id, occurred_at and the tag: read by the connector, named by no mapping.
	if d["event_id"] != eventMarker || fields["(unmapped: 3)"] != "drop" || fields["email"] == nil {
		t.Errorf("decision %v, want the event id as given and 3 unmapped fields counted by name", d)
	}

	dry := gw.API(http.MethodPost, "/connectors/web/dry-run", map[string]any{"payload": json.RawMessage(body)}).Must(t, http.StatusOK)
	if !strings.Contains(dry.Raw, "tags."+fieldMarker) {
		t.Errorf("the dry-run should name the unmapped field to its caller: %s", dry.Raw)
	}

	gwtest.WaitFor(t, 5*time.Second, "the access log line of the unknown connector", func() bool {
		return strings.Contains(gw.Logs(), `"connector":"unknown"`)
	})
	logs := gw.Logs()
	for _, m := range []string{reqMarker, fieldMarker, eventMarker} {
		if strings.Contains(logs, m) {
			t.Errorf("the logs carry %s", m)
		}
	}
	if !strings.Contains(logs, `"record dropped"`) {
		t.Errorf("no record dropped line in the logs")
	}
}
