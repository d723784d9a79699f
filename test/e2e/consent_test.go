package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
	"github.com/consentgate/consentgate/internal/testutil/pgtest"
)

type consentEvent struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Subject    map[string]string `json:"subject"`
	EntryID    string            `json:"entry_id"`
	Purpose    string            `json:"purpose"`
	Method     string            `json:"method"`
	Source     map[string]string `json:"source"`
	Notice     map[string]string `json:"notice"`
	ObtainedAt string            `json:"obtained_at"`
	ExpiresAt  string            `json:"expires_at"`
	Evidence   map[string]string `json:"evidence"`
	Erasure    map[string]int    `json:"erasure"`
	headers    map[string]string
}

func consentEvents(t *testing.T, msgs []kafkago.Message) []consentEvent {
	t.Helper()
	out := make([]consentEvent, 0, len(msgs))
	for _, m := range msgs {
		var e consentEvent
		if err := json.Unmarshal(m.Value, &e); err != nil {
			t.Fatalf("consent event is not JSON: %v", err)
		}
		e.headers = headers(m)
		if string(m.Key) != e.Subject["key"] {
			t.Errorf("consent event key %q, want its subject key %q", m.Key, e.Subject["key"])
		}
		out = append(out, e)
	}
	return out
}

// A withdrawal made through one instance's API filters the very next
// record through another instance: the pipeline reads the ledger for every
// record, with no cache to invalidate.
func TestAPIWithdrawalFiltersTheNextRecordOnEveryInstance(t *testing.T) {
	db, brokers := pgtest.URL(t), kafkatest.Broker(t)
	api := startGateway(t, gwtest.Options{DatabaseURL: db, Brokers: brokers})
	intake := startGateway(t, gwtest.Options{DatabaseURL: db, Brokers: brokers})
	const email = "Lena.Widerruf@Example.com"
	fields := map[string]any{"email": email, "first_name": "Lena"}

	g := api.API("POST", "/consent/grant", map[string]any{"subject": map[string]any{"email": email}, "purpose": "marketing_email"})
	if g.Status != http.StatusCreated {
		t.Fatalf("grant: %d %s", g.Status, g.Raw)
	}
	grantID := g.Str("entry", "id")

	r := intake.Post("web", gwtest.Lead("evt-w1", fields, nil), nil)
	if r.Status != http.StatusOK || r.Summary("forwarded") != 1 {
		t.Fatalf("lead after the API grant: %d %s, want forwarded", r.Status, r.Raw)
	}
	recs := kafkatest.Consume(t, brokers, "crm.leads.v1", 1, 15*time.Second)
	var v recordValue
	gwtest.Must(t, json.Unmarshal(recs[0].Value, &v))
	if v.Fields["email"] != email || v.Fields["first_name"] != "Lena" {
		t.Errorf("forwarded fields %v, want e-mail and name in clear", keys(v.Fields))
	}
	if p := v.Consent.Purposes["marketing_email"]; p.Status != "granted" || p.EntryID != grantID {
		t.Errorf("receipt %+v, want granted by the API entry %s", p, grantID)
	}

	w := api.API("POST", "/consent/withdraw", map[string]any{"subject": map[string]any{"email": " lena.widerruf@example.com"}, "purpose": "marketing_email"})
	if w.Status != http.StatusCreated {
		t.Fatalf("withdraw: %d %s", w.Status, w.Raw)
	}
	r = intake.Post("web", gwtest.Lead("evt-w2", fields, nil), nil)
	if r.Status != http.StatusOK || r.Summary("dropped") != 1 {
		t.Fatalf("lead right after the withdrawal: %d %s, want dropped (nothing left in clear)", r.Status, r.Raw)
	}
	if all := kafkatest.ConsumeAll(t, brokers, "crm.leads.v1", time.Second); len(all) != 1 {
		t.Errorf("crm.leads.v1 holds %d records, want only the one before the withdrawal", len(all))
	}

	evs := consentEvents(t, kafkatest.Consume(t, brokers, "crm.consent.v1", 2, 15*time.Second))
	types := map[string]string{}
	for _, e := range evs {
		types[e.ID] = e.Type
		if e.Method != "api" || e.Source != nil || e.headers["ce_source"] != "/consentgate/api" || e.Evidence["request_id"] == "" {
			t.Errorf("API event %+v", e)
		}
	}
	if types[grantID] != "granted" || types[w.Str("entry", "id")] != "withdrawn" {
		t.Errorf("consent events %v, want the grant and the withdrawal by entry id", types)
	}
}

// A lead with one box checked and one unchecked: two ledger entries, two
// events on the consent topic carrying the form evidence, published with
// the record.
func TestPayloadCheckboxesArePublishedAsConsentEvents(t *testing.T) {
	gw := startGateway(t, gwtest.Options{})
	body := gwtest.Lead("evt-cb1", map[string]any{"email": "cb@example.com", "first_name": "C"},
		map[string]any{"marketing_email": true, "sales_contact": false})
	// The client's X-Request-ID is ignored: the evidence names the
	// gateway's own id, the one its answer and its logs carry.
	r := gw.Post("web", body, map[string]string{"X-Request-ID": "req-checkboxes-1"})
	if r.Status != http.StatusOK || r.Summary("forwarded") != 1 {
		t.Fatalf("lead: %d %s", r.Status, r.Raw)
	}
	reqID := r.Str("request_id")
	if reqID == "" || reqID == "req-checkboxes-1" {
		t.Fatalf("request id %q, want the gateway's own", reqID)
	}
	var v recordValue
	gwtest.Must(t, json.Unmarshal(kafkatest.Consume(t, gw.Brokers, "crm.leads.v1", 1, 15*time.Second)[0].Value, &v))

	evs := consentEvents(t, kafkatest.Consume(t, gw.Brokers, "crm.consent.v1", 2, 15*time.Second))
	sum := sha256.Sum256(body)
	byPurpose := map[string]consentEvent{}
	for _, e := range evs {
		byPurpose[e.Purpose] = e
		if e.Method != "form_checkbox" || e.Source["connector"] != "web" || e.Source["platform"] != "generic" ||
			e.Evidence["payload_sha256"] != hex.EncodeToString(sum[:]) || e.Evidence["request_id"] != reqID ||
			e.ObtainedAt != "2026-11-20T10:00:00Z" || e.Subject["key"] != v.Subject["key"] {
			t.Errorf("checkbox event %+v", e)
		}
		if e.headers["ce_type"] != "com.consentgate.consent.v1" || e.headers["ce_source"] != "/consentgate/connectors/web" || e.headers["ce_id"] != e.ID {
			t.Errorf("headers %v", e.headers)
		}
		if got := v.Consent.Purposes[e.Purpose].EntryID; got != e.ID {
			t.Errorf("receipt names entry %s for %s, the consent event says %s", got, e.Purpose, e.ID)
		}
	}
	if e := byPurpose["marketing_email"]; e.Type != "granted" || e.Source["checkbox_key"] != "consent.marketing_email" ||
		e.Notice["id"] != "web-privacy" || e.Notice["version"] != "3" || e.ExpiresAt != "2028-11-19T10:00:00Z" {
		t.Errorf("marketing_email event %+v", e)
	}
	if e := byPurpose["sales_contact"]; e.Type != "denied" || e.ExpiresAt != "" {
		t.Errorf("sales_contact event %+v, want a denial without expiry", e)
	}
}

// Erasure removes the subject's ledger entries, publishes an erasure
// event keyed by the subject, and no raw e-mail ever appears on any topic
// or in the logs.
func TestEraseSubjectEndToEnd(t *testing.T) {
	gw := startGateway(t, gwtest.Options{})
	const email = "Erik.Erase@Example.net"
	r := gw.Post("web", gwtest.Lead("evt-e1", map[string]any{"email": email, "first_name": "Erik"}, map[string]any{"marketing_email": true, "sales_contact": false}), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("lead: %d %s", r.Status, r.Raw)
	}
	g := gw.API("POST", "/consent/grant", map[string]any{"subject": map[string]any{"email": email}, "purpose": "analytics"})
	if g.Status != http.StatusCreated {
		t.Fatalf("grant: %d %s", g.Status, g.Raw)
	}
	key := g.Str("entry", "subject_key")

	l := gw.API("POST", "/consent/lookup", map[string]any{"subject": map[string]any{"email": email}})
	if l.Status != http.StatusOK || l.Str("current", "marketing_email", "status") != "granted" ||
		l.Str("current", "sales_contact", "status") != "denied" || l.Str("current", "analytics", "status") != "granted" {
		t.Fatalf("lookup before erasure: %d %s", l.Status, l.Raw)
	}

	e := gw.API("POST", "/consent/erase", map[string]any{"subject": map[string]any{"email": email}})
	if e.Status != http.StatusOK || e.Body["entries_removed"] != 3.0 || e.Str("subject_key") != key {
		t.Fatalf("erase: %d %s", e.Status, e.Raw)
	}
	evs := consentEvents(t, kafkatest.Consume(t, gw.Brokers, "crm.consent.v1", 4, 15*time.Second))
	var erased *consentEvent
	for i := range evs {
		if evs[i].Type == "erased" {
			erased = &evs[i]
		}
	}
	if erased == nil || erased.Subject["key"] != key || erased.Erasure["entries_removed"] != 3 || erased.headers["ce_type"] != "com.consentgate.erasure.v1" {
		t.Fatalf("erasure event %+v", erased)
	}
	l = gw.API("GET", "/consent/subjects/"+key, nil)
	if hist, _ := l.Body["history"].([]any); l.Status != http.StatusOK || len(hist) != 0 {
		t.Errorf("history after erasure: %d %s", l.Status, l.Raw)
	}

	lower := strings.ToLower(email)
	for _, topic := range []string{"crm.leads.v1", "crm.interactions.v1", "crm.consent.v1"} {
		for _, m := range kafkatest.ConsumeAll(t, gw.Brokers, topic, 500*time.Millisecond) {
			if topic == "crm.leads.v1" {
				continue // the lead itself carries the e-mail in clear: marketing_email was granted
			}
			raw := strings.ToLower(string(m.Value) + string(m.Key) + fmtHeaders(m))
			if strings.Contains(raw, lower) || strings.Contains(raw, "erik.erase") {
				t.Errorf("raw e-mail on %s: %s", topic, m.Value)
			}
		}
	}
	if strings.Contains(strings.ToLower(gw.Logs()), "erik.erase") {
		t.Errorf("the raw e-mail appears in the logs")
	}
}

func fmtHeaders(m kafkago.Message) string {
	var b strings.Builder
	for _, h := range m.Headers {
		b.WriteString(h.Key + "=" + string(h.Value) + ";")
	}
	return b.String()
}

// With Kafka gone, a lead's checkbox statements wait in the outbox next to
// the record they justify, and leave with it.
func TestCheckboxEventsShareTheRecordsOutbox(t *testing.T) {
	cluster := kafkatest.Cluster(t)
	gw := startGateway(t, gwtest.Options{Brokers: cluster.ListenAddrs()})
	cluster.Close()
	r := gw.Post("web", gwtest.Lead("evt-ob1", map[string]any{"email": "outbox@example.com"}, map[string]any{"marketing_email": true, "sales_contact": false}), nil)
	if r.Status != http.StatusOK || r.Summary("queued") != 1 {
		t.Fatalf("lead with Kafka down: %d %s, want 200 queued", r.Status, r.Raw)
	}
	depth, _, err := gw.G.Store.OutboxStats(t.Context(), time.Now())
	if err != nil || depth != 3 {
		t.Fatalf("outbox depth %d (%v), want 3: the record and its two consent events", depth, err)
	}
}
