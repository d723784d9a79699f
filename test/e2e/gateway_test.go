package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

type recordValue struct {
	ID      string            `json:"id"`
	Type    string            `json:"type"`
	Source  map[string]string `json:"source"`
	Subject map[string]string `json:"subject"`
	Fields  map[string]string `json:"fields"`
	Consent struct {
		PolicyVersion string `json:"policy_version"`
		Purposes      map[string]struct {
			Status  string `json:"status"`
			EntryID string `json:"entry_id"`
			Rule    string `json:"rule"`
		} `json:"purposes"`
		Fields map[string]struct {
			Action string `json:"action"`
			Rule   string `json:"rule"`
		} `json:"fields"`
	} `json:"consent"`
}

func headers(m kafkago.Message) map[string]string {
	out := map[string]string{}
	for _, h := range m.Headers {
		out[h.Key] = string(h.Value)
	}
	return out
}

// A signed lead reaches the topic with exactly the fields its consent
// allows, keyed by subject, with CloudEvents headers and a receipt.
func TestSignedLeadReachesTopicWithOnlyConsentedFields(t *testing.T) {
	gw := startGateway(t, gwtest.Options{})
	const email = "Ana.Muster@Example.com"
	body := gwtest.Lead("evt-1001", map[string]any{
		"email": email, "phone": "+49 151 23456789", "first_name": "Ana", "last_name": "Muster",
		"country": "DE", "favourite_colour": "teal",
	}, map[string]any{"marketing_email": true, "sales_contact": false})

	r := gw.Post("web", body, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.Status, r.Raw)
	}
	msgs := kafkatest.Consume(t, gw.Brokers, "crm.leads.v1", 1, 15*time.Second)
	m := msgs[0]
	var v recordValue
	if err := json.Unmarshal(m.Value, &v); err != nil {
		t.Fatalf("record is not JSON: %v", err)
	}

	wantFields := map[string]string{"email": email, "first_name": "Ana", "last_name": "Muster"}
	for k, want := range wantFields {
		if v.Fields[k] != want {
			t.Errorf("field %s = %q, want %q", k, v.Fields[k], want)
		}
	}
	if _, ok := v.Fields["country"]; ok {
		t.Errorf("country forwarded without a granted purpose (location needs sales_contact or analytics)")
	}
	if _, ok := v.Fields["favourite_colour"]; ok {
		t.Errorf("an unmapped field was forwarded")
	}
	if p := v.Fields["phone"]; p == "" || strings.Contains(p, "23456789") || !strings.HasSuffix(p, "6789") {
		t.Errorf("phone = %q, want a mask keeping only the last digits", p)
	}
	if len(v.Fields) != 4 {
		t.Errorf("forwarded fields %v, want exactly email, first_name, last_name, masked phone", keys(v.Fields))
	}

	if string(m.Key) == "" || string(m.Key) != v.Subject["key"] {
		t.Errorf("message key %q must equal the subject key %q", m.Key, v.Subject["key"])
	}
	if strings.Contains(strings.ToLower(string(m.Key)), "example") {
		t.Errorf("the key must be a keyed hash, not the e-mail")
	}
	h := headers(m)
	for _, k := range []string{"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"} {
		if h[k] == "" {
			t.Errorf("header %s missing (CloudEvents binary mode)", k)
		}
	}
	if h["ce_specversion"] != "1.0" || h["ce_id"] != v.ID || h["content-type"] != "application/json" {
		t.Errorf("headers %v do not match the record id %s", h, v.ID)
	}
	if v.Source["event_id"] != "evt-1001" || v.Source["connector"] != "web" || v.Source["platform"] != "generic" {
		t.Errorf("source = %v", v.Source)
	}
	if ps := v.Consent.Purposes["marketing_email"]; ps.Status != "granted" || ps.EntryID == "" {
		t.Errorf("receipt for marketing_email = %+v, want granted with the ledger entry id", ps)
	}
	if ps := v.Consent.Purposes["sales_contact"]; ps.Status != "denied" {
		t.Errorf("receipt for sales_contact = %+v, want denied (an unchecked box is a denial)", ps)
	}
	if fa := v.Consent.Fields["country"]; fa.Action != "redact" || fa.Rule == "" {
		t.Errorf("receipt for country = %+v, want redact with its rule", fa)
	}
	if v.Consent.PolicyVersion == "" {
		t.Errorf("receipt without policy version")
	}

	// The platform retries the same event: 200, nothing forwarded again.
	r = gw.Post("web", body, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("redelivery: status %d, body %s", r.Status, r.Raw)
	}
	if n := r.Summary("duplicates"); n != 1 {
		t.Errorf("redelivery summary %v, want 1 duplicate", r.Body["summary"])
	}
	// A reused id with a different body is still the same event.
	r = gw.Post("web", gwtest.Lead("evt-1001", map[string]any{"email": "other@example.com"}, map[string]any{"marketing_email": true}), nil)
	if r.Status != http.StatusOK || r.Summary("duplicates") != 1 {
		t.Errorf("reused id: status %d, summary %v", r.Status, r.Body["summary"])
	}
	if all := kafkatest.ConsumeAll(t, gw.Brokers, "crm.leads.v1", time.Second); len(all) != 1 {
		t.Errorf("topic holds %d records after redeliveries, want 1", len(all))
	}
	if strings.Contains(gw.Logs(), "Ana.Muster") || strings.Contains(strings.ToLower(gw.Logs()), "ana.muster") {
		t.Errorf("the e-mail appears in the logs")
	}
}

// A record with special-category data and no explicit grant is dropped
// whole; a record whose only clear fields lack consent too.
func TestRecordsWithoutConsentAreDroppedWhole(t *testing.T) {
	gw := startGateway(t, gwtest.Options{})
	cases := []struct {
		name string
		body []byte
	}{
		{"special category without grant", gwtest.Lead("evt-s1", map[string]any{"email": "a@example.com", "health": "asthma"}, map[string]any{"marketing_email": true})},
		{"no consent at all in an opt-in jurisdiction", gwtest.Lead("evt-s2", map[string]any{"email": "b@example.com", "first_name": "B"}, nil)},
		{"every box unchecked", gwtest.Lead("evt-s3", map[string]any{"email": "c@example.com", "first_name": "C"}, map[string]any{"marketing_email": false, "sales_contact": false})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := gw.Post("web", c.body, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("status %d, body %s", r.Status, r.Raw)
			}
			if r.Summary("dropped") != 1 {
				t.Errorf("summary %v, want 1 dropped", r.Body["summary"])
			}
		})
	}
	if all := kafkatest.ConsumeAll(t, gw.Brokers, "crm.leads.v1", time.Second); len(all) != 0 {
		t.Errorf("topic holds %d records, want none", len(all))
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
