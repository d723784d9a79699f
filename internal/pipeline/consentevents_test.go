package pipeline_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/pipeline"
	"github.com/consentgate/consentgate/internal/policy"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
)

const sweepPolicy = `
version: "t1"
purposes:
  marketing_email: {validity: 30d}
  analytics: {}
categories:
  contact.email: {fields: [email], purposes: [marketing_email, analytics], otherwise: hash}
jurisdictions:
  default: opt_in
`

// The sweeper announces each grant whose validity ran out in its window,
// once per grant with a stable id, and nothing for grants that were
// withdrawn or renewed, or whose purpose has no validity.
func TestSweepExpiredPublishesLapsedGrants(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	brokers := kafkatest.Broker(t)
	kc := kafka.DefaultConfig()
	kc.Brokers, kc.AutoCreateTopics = brokers, true
	prod, err := kafka.New(kc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = prod.Close() })
	pol, err := policy.Parse("policy.yaml", []byte(sweepPolicy))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := consent.New(pol, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	p := pipeline.New(pipeline.Options{Store: st, Producer: prod, Engine: eng, ConsentTopic: "crm.consent.v1", Now: func() time.Time { return now }})

	day := 24 * time.Hour
	lapses := now.Add(-30*day - time.Hour) // validity ran out an hour ago
	entry := func(id, subject, purpose, status string, obtained time.Time) store.ConsentEntry {
		return store.ConsentEntry{ID: id, SubjectKey: subject, Purpose: purpose, Status: status, Method: store.MethodAPI, ObtainedAt: obtained, RecordedAt: obtained}
	}
	if err := st.AppendConsent(ctx, []store.ConsentEntry{
		entry("lapsed", "sk_a", "marketing_email", store.StatusGranted, lapses),
		entry("forever", "sk_a", "analytics", store.StatusGranted, lapses),
		entry("then-withdrawn", "sk_b", "marketing_email", store.StatusGranted, lapses),
		entry("withdrawal", "sk_b", "marketing_email", store.StatusWithdrawn, lapses.Add(time.Minute)),
		entry("still-valid", "sk_c", "marketing_email", store.StatusGranted, now.Add(-29*day)),
	}); err != nil {
		t.Fatal(err)
	}

	n, err := p.SweepExpired(ctx, now.Add(-2*time.Hour), now)
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d events, %v; want 1", n, err)
	}
	if n, err := p.SweepExpired(ctx, now.Add(-2*time.Hour), now); err != nil || n != 1 {
		t.Fatalf("second sweep of the same window: %d, %v", n, err)
	}
	if n, _ := p.SweepExpired(ctx, now, now.Add(time.Hour)); n != 0 {
		t.Errorf("the next window announced %d expiries, want 0", n)
	}
	msgs := kafkatest.Consume(t, brokers, "crm.consent.v1", 2, 15*time.Second)
	var first, second pipeline.ConsentEvent
	_ = json.Unmarshal(msgs[0].Value, &first)
	_ = json.Unmarshal(msgs[1].Value, &second)
	if first.Type != "expired" || first.EntryID != "lapsed" || first.Subject.Key != "sk_a" || first.Purpose != "marketing_email" {
		t.Errorf("expiry event = %+v", first)
	}
	if first.ExpiresAt == nil || !first.ExpiresAt.Equal(lapses.Add(30*day)) {
		t.Errorf("expires_at = %v, want obtained_at + 30d", first.ExpiresAt)
	}
	if first.ID == "" || first.ID != second.ID {
		t.Errorf("a repeated sweep must repeat the event id: %q vs %q", first.ID, second.ID)
	}
	if string(msgs[0].Key) != "sk_a" {
		t.Errorf("key %q, want the subject key", msgs[0].Key)
	}
}
