package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"time"

	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/kafka"
)

// Value is the JSON value of a record on crm.leads.v1 and
// crm.interactions.v1 (docs/schemas/record.v1.json).
type Value struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	EventType  string            `json:"event_type"`
	Source     Source            `json:"source"`
	Subject    Subject           `json:"subject"`
	OccurredAt *time.Time        `json:"occurred_at,omitempty"`
	ReceivedAt time.Time         `json:"received_at"`
	Test       bool              `json:"test,omitempty"`
	Fields     map[string]string `json:"fields"`
	Consent    *Receipt          `json:"consent,omitempty"`
}

type Source struct {
	Platform  string `json:"platform"`
	Connector string `json:"connector"`
	EventID   string `json:"event_id"`
	Form      string `json:"form,omitempty"`
}

type Subject struct {
	Key          string `json:"key"`
	KeySource    string `json:"key_source"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
	Regime       string `json:"regime,omitempty"`
}

// Receipt is the consent receipt a CRM can keep with the profile.
type Receipt struct {
	PolicyVersion string                    `json:"policy_version"`
	GPC           bool                      `json:"gpc,omitempty"`
	Purposes      map[string]PurposeReceipt `json:"purposes"`
	Fields        map[string]FieldReceipt   `json:"fields"`
}

type PurposeReceipt struct {
	Status  string `json:"status"`
	EntryID string `json:"entry_id,omitempty"`
	Rule    string `json:"rule"`
}

type FieldReceipt struct {
	Action   string   `json:"action"`
	Rule     string   `json:"rule"`
	Category string   `json:"category,omitempty"`
	Purposes []string `json:"purposes,omitempty"`
}

// EventID is the CloudEvents id: stable across redeliveries of the same
// platform event, so consumers can de-duplicate what at-least-once repeats.
func EventID(connector, platformEventID string) string {
	s := sha256.Sum256([]byte(connector + "\x00" + platformEventID))
	return "cg_" + hex.EncodeToString(s[:16])
}

func ceType(k ingest.Kind) string { return "com.consentgate." + string(k) + ".v1" }

func (p *Pipeline) message(c *config.Connector, w *prepared, topic string, fields map[string]string, res *consent.Result, ev evidence, now time.Time) *kafka.Message {
	r := w.rec
	v := Value{
		ID: EventID(c.ID, r.EventID), Type: string(r.Kind), EventType: r.Type,
		Source:     Source{Platform: c.Platform, Connector: c.ID, EventID: r.EventID, Form: r.Form},
		Subject:    Subject{Key: w.subject, KeySource: w.keySrc},
		ReceivedAt: ev.receivedAt.UTC(), Test: r.Test, Fields: fields,
	}
	if v.Fields == nil {
		v.Fields = map[string]string{}
	}
	if !r.OccurredAt.IsZero() {
		t := r.OccurredAt.UTC()
		v.OccurredAt = &t
	}
	if res != nil {
		v.Subject.Jurisdiction, v.Subject.Regime = res.Jurisdiction, string(res.Regime)
		rc := &Receipt{PolicyVersion: res.PolicyVersion, GPC: w.gpc, Purposes: map[string]PurposeReceipt{}, Fields: map[string]FieldReceipt{}}
		for name, pd := range res.Purposes {
			rc.Purposes[name] = PurposeReceipt{Status: pd.Status, EntryID: pd.EntryID, Rule: pd.Rule}
		}
		for name, fd := range res.FieldActions {
			rc.Fields[name] = FieldReceipt{Action: fd.Action, Rule: fd.Rule, Category: fd.Category, Purposes: fd.Purposes}
		}
		v.Consent = rc
	}
	body, _ := v.marshalJSON() // errs only on a time RFC 3339 cannot hold, leaving body nil as json.Marshal does
	t := now
	if v.OccurredAt != nil {
		t = *v.OccurredAt
	}
	return &kafka.Message{
		Topic: topic,
		Key:   []byte(w.subject),
		Value: body,
		Headers: []kafka.Header{
			{Key: "ce_specversion", Value: "1.0"},
			{Key: "ce_id", Value: v.ID},
			{Key: "ce_source", Value: "/consentgate/connectors/" + c.ID},
			{Key: "ce_type", Value: ceType(r.Kind)},
			{Key: "ce_time", Value: t.UTC().Format(time.RFC3339Nano)},
			{Key: "ce_subject", Value: w.subject},
			{Key: "content-type", Value: "application/json"},
		},
	}
}

// headersFrom restores a stable header order for outbox messages.
func headersFrom(h map[string]string) []kafka.Header {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]kafka.Header, len(keys))
	for i, k := range keys {
		out[i] = kafka.Header{Key: k, Value: h[k]}
	}
	return out
}
