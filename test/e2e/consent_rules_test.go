package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
	"github.com/consentgate/consentgate/internal/testutil/pgtest"
)

// A payload's submission time is the statement's time only up to the
// moment the webhook arrived: a grant dated 2999 would otherwise outrank
// every withdrawal recorded until then and keep releasing the data.
func TestFutureDatedCheckboxDoesNotOutrankALaterWithdrawal(t *testing.T) {
	gw := startGateway(t, gwtest.Options{})
	fields := map[string]any{"email": "future@example.com", "first_name": "Fiona"}
	if r := gw.Post("web", gwtest.LeadAt("evt-f1", "2999-01-01T00:00:00Z", fields, map[string]any{"marketing_email": true}), nil); r.Status != http.StatusOK || r.Summary("forwarded") != 1 {
		t.Fatalf("future-dated lead: %d %s", r.Status, r.Raw)
	}
	if w := gw.API("POST", "/consent/withdraw", map[string]any{"subject": map[string]any{"email": "future@example.com"}, "purpose": "marketing_email"}); w.Status != http.StatusCreated {
		t.Fatalf("withdraw: %d %s", w.Status, w.Raw)
	}
	if r := gw.Post("web", gwtest.Lead("evt-f2", fields, nil), nil); r.Summary("forwarded") != 0 {
		t.Fatalf("the lead after the withdrawal was forwarded: %s", r.Raw)
	}
	look := gw.API("POST", "/consent/lookup", map[string]any{"subject": map[string]any{"email": "future@example.com"}})
	if strings.Contains(look.Raw, "2999") {
		t.Fatalf("the ledger keeps the future date: %s", look.Raw)
	}
}

// Generic connectors' user ids are each source system's own: user 42 of
// one connector is not user 42 of another, so one's consent must not
// release the other's data.
func TestGenericUserIDsAreScopedToTheirConnector(t *testing.T) {
	conn := func(id string) string {
		c := strings.Replace(sampleConnector, "id: web", "id: "+id, 1)
		return strings.Replace(c, "    lead.email: email\n", "    lead.email: email\n    lead.user_id: platform_user_id\n", 1)
	}
	gw := startGateway(t, gwtest.Options{Connectors: map[string]string{"a.yaml": conn("brand-a"), "b.yaml": conn("brand-b")}})
	alice := gw.Post("brand-a", gwtest.Lead("evt-a", map[string]any{"user_id": "42", "first_name": "Alice"}, map[string]any{"sales_contact": true}), nil)
	if alice.Status != http.StatusOK || alice.Summary("forwarded") != 1 {
		t.Fatalf("alice with consent: %d %s", alice.Status, alice.Raw)
	}
	bob := gw.Post("brand-b", gwtest.Lead("evt-b", map[string]any{"user_id": "42", "first_name": "Bob"}, nil), nil)
	if bob.Status != http.StatusOK || bob.Summary("forwarded") != 0 {
		t.Fatalf("bob, user 42 of another system, without consent was forwarded: %s", bob.Raw)
	}
}

// Two checkboxes of one form for the same purpose, one ticked and one
// not: the refusal wins, whichever comes first in the connector's list.
func TestRefusalWinsOverAGrantOfTheSamePurposeInOneRecord(t *testing.T) {
	conn := func(id string, first, second string) string {
		c := strings.Replace(sampleConnector, "id: web", "id: "+id, 1)
		i := strings.Index(c, "consent:\n")
		return c[:i] + "consent:\n  checkboxes:\n    - {key: consent." + first + ", purpose: marketing_email}\n    - {key: consent." + second + ", purpose: marketing_email}\n"
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			o := gwtest.Options{Connectors: map[string]string{
				"a.yaml": conn("news-first", "news", "partner"), "b.yaml": conn("partner-first", "partner", "news"),
			}}
			if backend == "postgres" {
				o.DatabaseURL = pgtest.URL(t)
			}
			gw := startGateway(t, o)
			for i, id := range []string{"news-first", "partner-first"} {
				email := id + "@example.com"
				r := gw.Post(id, gwtest.LeadAt("evt-o"+id, time.Now().UTC().Format(time.RFC3339), map[string]any{"email": email}, map[string]any{"news": true, "partner": false}), nil)
				if r.Status != http.StatusOK || r.Summary("forwarded") != 0 {
					t.Errorf("connector %d (%s): the grant beat the refusal: %s", i, id, r.Raw)
				}
			}
		})
	}
}

// A platform's test lead is no one's statement: its checkboxes decide its
// own record on the test topic, but never enter the ledger or the consent
// topic, so they cannot release a real lead of the same address later.
func TestTestLeadConsentStaysOutOfTheLedger(t *testing.T) {
	conn := strings.Replace(sampleConnector, "  event_id_path: id\n", "  event_id_path: id\n  test_path: is_test\n", 1)
	gw := startGateway(t, gwtest.Options{Connectors: map[string]string{"web.yaml": conn}})
	const email = "tester@example.com"
	body, _ := json.Marshal(map[string]any{"id": "evt-test-1", "is_test": true, "occurred_at": "2026-11-20T10:00:00Z",
		"lead": map[string]any{"email": email}, "consent": map[string]any{"marketing_email": true}})
	if r := gw.Post("web", body, nil); r.Status != http.StatusOK || r.Summary("forwarded") != 1 {
		t.Fatalf("test lead: %d %s, want forwarded to the test topic", r.Status, r.Raw)
	}
	test := kafkatest.Consume(t, gw.Brokers, "crm.leads.test.v1", 1, 15*time.Second)
	var v recordValue
	gwtest.Must(t, json.Unmarshal(test[0].Value, &v))
	if v.Fields["email"] != email {
		t.Errorf("the test record's own checkbox did not keep its e-mail: %v", keys(v.Fields))
	}
	look := gw.API("POST", "/consent/lookup", map[string]any{"subject": map[string]any{"email": email}})
	if strings.Contains(look.Raw, "granted") {
		t.Fatalf("the test lead's consent reached the ledger: %s", look.Raw)
	}
	if evs := kafkatest.ConsumeAll(t, gw.Brokers, "crm.consent.v1", time.Second); len(evs) != 0 {
		t.Fatalf("the test lead's consent was published: %d events", len(evs))
	}
	if r := gw.Post("web", gwtest.Lead("evt-real-1", map[string]any{"email": email}, nil), nil); r.Summary("forwarded") != 0 {
		t.Fatalf("a real lead without consent was released by the test lead's checkbox: %s", r.Raw)
	}
}

// A GET on a platform without a handshake (generic) is a JSON 405 that
// says which method the route takes.
func TestGetOnAConnectorWithoutHandshakeNamesPOST(t *testing.T) {
	gw := startGateway(t, gwtest.Options{})
	r := get(t, gw.URL+"/webhooks/web")
	if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "POST" || r.ErrorCode() != "no_handshake" {
		t.Fatalf("GET: %d Allow %q %s, want 405 with Allow: POST and code no_handshake", r.Status, r.Header.Get("Allow"), r.Raw)
	}
}

// A connector written through the admin API gets its topics created like
// a file connector's at start: with the gateway's partition count, not
// whatever the broker would pick when the first record arrives.
func TestAPIConnectorTopicsAreCreated(t *testing.T) {
	gw := startGateway(t, gwtest.Options{Mutate: func(c *config.Gateway) {
		c.Kafka.Partitions = 2 // the test broker's own default is 3
		c.APISecretRefs.EnvPrefixes = []string{"E2E_"}
	}})
	spec := map[string]any{
		"id": "api-web", "platform": "generic",
		"secrets":  map[string]any{"signing_secret": map[string]any{"env": "E2E_SIGNING_SECRET"}},
		"settings": map[string]any{"signature": map[string]any{"scheme": "hmac", "header": "X-Signature", "encoding": "hex", "prefix": "sha256="}, "event_id_path": "id"},
		"mapping":  map[string]any{"fields": map[string]any{"lead.email": "email"}},
		"topics":   map[string]any{"leads": "crm.api-leads.v1"},
	}
	if r := gw.API("PUT", "/connectors/api-web", spec); r.Status != http.StatusOK {
		t.Fatalf("create connector: %d %s", r.Status, r.Raw)
	}
	client := &kafkago.Client{Addr: kafkago.TCP(gw.Brokers...)}
	deadline := time.Now().Add(15 * time.Second)
	for {
		md, err := client.Metadata(t.Context(), &kafkago.MetadataRequest{})
		if err == nil {
			for _, tp := range md.Topics {
				if tp.Name == "crm.api-leads.v1" {
					if len(tp.Partitions) != 2 {
						t.Fatalf("crm.api-leads.v1 has %d partitions, want the gateway's 2", len(tp.Partitions))
					}
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("crm.api-leads.v1 was not created (metadata err %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// One record of a batch whose event id cannot be stored (a control
// character) is rejected alone; the batch's other records go through.
func TestBadEventIDInABatchIsRejectedAlone(t *testing.T) {
	conn := strings.Replace(sampleConnector, "  event_id_path: id\n", "  records_path: events\n  event_id_path: id\n", 1)
	conn = strings.Replace(conn, "  occurred_at_path: occurred_at\n", "", 1)
	gw := startGateway(t, gwtest.Options{Connectors: map[string]string{"web.yaml": conn}})
	body := []byte(`{"events":[` +
		`{"id":"evt-good","lead":{"email":"good@example.com"},"consent":{"marketing_email":true}},` +
		`{"id":"evt-bad\u0009x","lead":{"email":"bad@example.com"},"consent":{"marketing_email":true}}]}`)
	r := gw.Post("web", body, nil)
	if r.Status != http.StatusOK || r.Summary("forwarded") != 1 || r.Summary("rejected") != 1 {
		t.Fatalf("batch with one bad event id: %d %s, want 200 with 1 forwarded and 1 rejected", r.Status, r.Raw)
	}
	if strings.Contains(r.Raw, "bad@example.com") {
		t.Fatalf("the answer echoes the payload: %s", r.Raw)
	}
}

// A withdrawal recorded under a phone number reaches a lead keyed by its
// e-mail that carries the same number; a grant recorded under a number
// does not release another address's data; a grant by e-mail made after
// the withdrawal stands again.
func TestRefusalsReachRecordsThroughTheirOtherIdentifiers(t *testing.T) {
	gw := startGateway(t, gwtest.Options{})
	statement := func(verb string, subject map[string]any) {
		t.Helper()
		if r := gw.API("POST", "/consent/"+verb, map[string]any{"subject": subject, "purpose": "marketing_email"}); r.Status != http.StatusCreated {
			t.Fatalf("%s %v: %d %s", verb, subject, r.Status, r.Raw)
		}
	}
	forwarded := func(id string, fields map[string]any) int {
		t.Helper()
		r := gw.Post("web", gwtest.Lead(id, fields, nil), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("lead %s: %d %s", id, r.Status, r.Raw)
		}
		return r.Summary("forwarded")
	}
	lina := map[string]any{"email": "lina@example.com", "phone": "+49 151 12345678", "first_name": "Lina"}

	statement("grant", map[string]any{"email": "lina@example.com"})
	if n := forwarded("evt-l1", lina); n != 1 {
		t.Fatalf("lead with the e-mail's grant: %d forwarded, want 1", n)
	}
	statement("withdraw", map[string]any{"phone": "+4915112345678"})
	if n := forwarded("evt-l2", lina); n != 0 {
		t.Fatalf("lead after a withdrawal by its phone number: %d forwarded, want 0", n)
	}
	statement("grant", map[string]any{"email": "lina@example.com"})
	if n := forwarded("evt-l3", lina); n != 1 {
		t.Fatalf("lead after a newer grant by e-mail: %d forwarded, want 1", n)
	}

	statement("grant", map[string]any{"phone": "+4915187654321"})
	other := map[string]any{"email": "someone-else@example.com", "phone": "+49 151 87654321", "first_name": "Otto"}
	if n := forwarded("evt-o1", other); n != 0 {
		t.Fatalf("a grant under a phone number released another address's lead: %d forwarded", n)
	}
}
