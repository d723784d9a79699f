package fault

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

// No personal data and no secret appears in any log line (debug level
// included), error body or metric, whatever the request did: forwarded,
// dropped, duplicate, queued, refused for its signature, its JSON or its
// rate. The topic legitimately carries consented values; it is not
// scanned here.
func TestNoPersonalDataOrSecretsLeak(t *testing.T) {
	k := startBroker(t)
	gw := startGateway(t, gwtest.Options{Brokers: k.Addrs, Connectors: map[string]string{
		"web.yaml": webConnector, "std.yaml": stdConnector, "limited.yaml": limitedConnector,
	}})

	pii := []string{
		"leak.forwarded@example.com", "Annegret", "Zwiebelmeyer",
		"leak.dropped@example.com", "Bartholomew",
		"leak.badsig@example.com", "Cordula",
		"leak.malformed@example.com", "Dagobert",
		"leak.queued@example.com", "Eustachius",
		"+49 151 98765432", "98765432", "+1 415 555 0199", "5550199",
	}
	secrets := []string{testSecret, stdSecret, testHashKey, testAdminToken}
	var bodies []string
	post := func(connector string, body []byte, headers map[string]string) gwtest.Response {
		r := gw.Post(connector, body, headers)
		bodies = append(bodies, r.Raw)
		return r
	}

	forwarded := gwtest.Lead("leak-1", map[string]any{"email": pii[0], "first_name": pii[1], "last_name": pii[2], "phone": pii[11]}, map[string]any{"marketing_email": true})
	post("web", forwarded, nil)
	post("web", forwarded, nil) // duplicate
	post("web", gwtest.Lead("leak-2", map[string]any{"email": pii[3], "first_name": pii[4], "phone": "+1 415 555 0199"}, map[string]any{"marketing_email": false}), nil)
	post("web", gwtest.Lead("leak-3", map[string]any{"email": pii[5], "first_name": pii[6]}, nil), map[string]string{"X-Signature": "sha256=" + strings.Repeat("a", 64)})
	post("web", []byte(`{"id":"leak-4","lead":{"email":"`+pii[7]+`","first_name":"`+pii[8]+`",}`), nil)
	post("web", []byte(`{"id":"leak-5","lead":{"email":"`+pii[7]+`","email":"`+pii[8]+`"}}`), nil)
	post("web", []byte(`{"id":"leak-6","lead":{"email":"`+pii[7]+`"}} trailing `+pii[8]), nil)
	post("std", []byte(`{"lead":{"email":"`+pii[7]+`"}}`), stdHeaders("msg_leak", time.Now().Add(-time.Hour), []byte(`{"lead":{"email":"`+pii[7]+`"}}`)))
	for i := range 4 {
		post("limited", gwtest.Lead("leak-rl-"+string(rune('a'+i)), map[string]any{"email": pii[0]}, map[string]any{"marketing_email": true}), nil)
	}
	// A handshake query with a secret-looking token, and an unknown route.
	req, _ := http.NewRequest(http.MethodGet, gw.URL+"/webhooks/web?token="+testSecret, nil)
	if resp, err := gwtest.Client.Do(req); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		bodies = append(bodies, string(b))
	}
	// Kafka away: the record goes through the outbox and the relay.
	k.stop()
	post("web", gwtest.Lead("leak-7", map[string]any{"email": pii[9], "first_name": pii[10]}, map[string]any{"marketing_email": true}), nil)
	k.start()
	gwtest.WaitFor(t, 30*time.Second, "the outbox to drain", func() bool { return gw.OutboxDepth() == 0 })

	resp, err := gwtest.Client.Get(gw.URL + "/metrics")
	gwtest.Must(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	gw.Stop() // shutdown lines too
	sources := map[string]string{"logs": gw.Logs(), "error bodies": strings.Join(bodies, "\n"), "metrics": string(metrics)}
	if !strings.Contains(sources["logs"], "http request") || !strings.Contains(sources["metrics"], "consentgate_requests_total") {
		t.Fatal("nothing captured: the scan would prove nothing")
	}
	for where, text := range sources {
		lower := strings.ToLower(text)
		for _, v := range append(pii, secrets...) {
			if strings.Contains(lower, strings.ToLower(v)) {
				t.Errorf("%s contain %q", where, v)
			}
		}
		// The local part of an address alone is personal data too.
		if strings.Contains(lower, "leak.") {
			t.Errorf("%s contain part of a posted e-mail address", where)
		}
	}
}
