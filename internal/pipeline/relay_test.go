package pipeline_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/pipeline"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
)

// A message Kafka refuses for good at the head of the outbox (its topic
// does not exist and auto-creation is off; one too large) is parked, logged
// and counted, and the records queued behind it are published, a
// subject's in order. Nothing is deleted: requeued once the topic exists,
// the parked message is published too.
func TestRelayParksWhatKafkaRefusesAndPublishesTheRest(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "crm.leads.v1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	brokers := c.ListenAddrs()
	kc := kafka.DefaultConfig()
	kc.Brokers, kc.AutoCreateTopics, kc.WriteTimeout = brokers, false, 3*time.Second
	prod, err := kafka.New(kc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = prod.Close() })
	var logs bytes.Buffer
	metrics := pipeline.NewMetrics(nil)
	p := pipeline.New(pipeline.Options{Store: st, Producer: prod, Metrics: metrics,
		Log: slog.New(slog.NewJSONHandler(&logs, nil))})

	msg := func(topic, key, value string) store.OutboxMessage {
		return store.OutboxMessage{Topic: topic, Key: []byte(key), Value: []byte(value),
			Headers: map[string]string{"ce_id": key + "-" + value}, SubjectKey: key, CreatedAt: time.Now()}
	}
	tooLarge := msg("crm.leads.v1", "sk_b", strings.Repeat("x", 2<<20))
	queued := []store.OutboxMessage{
		msg("crm.missing.v1", "sk_a", "secret-missing"),
		msg("crm.leads.v1", "sk_a", "a1"),
		msg("crm.leads.v1", "sk_b", "b1"),
		tooLarge,
		msg("crm.leads.v1", "sk_b", "b2"),
		msg("crm.leads.v1", "sk_c", "c1"),
	}
	if err := st.CompleteEvents(ctx, store.Completion{Outbox: queued}); err != nil {
		t.Fatal(err)
	}

	n, err := p.RelayOnce(ctx)
	if err != nil || n != len(queued) {
		t.Fatalf("relay: %d handled, %v; want %d, nil", n, err, len(queued))
	}
	got := kafkatest.Consume(t, brokers, "crm.leads.v1", 4, 10*time.Second)
	byKey := map[string][]string{}
	for _, m := range got {
		byKey[string(m.Key)] = append(byKey[string(m.Key)], string(m.Value))
	}
	if want := "map[sk_a:[a1] sk_b:[b1 b2] sk_c:[c1]]"; fmt.Sprint(byKey) != want {
		t.Errorf("published %v, want %s", byKey, want)
	}

	if dead, err := st.DeadOutbox(ctx); err != nil || dead != 2 {
		t.Errorf("dead outbox messages: %d, %v; want 2", dead, err)
	}
	if depth, _, err := st.OutboxStats(ctx, time.Now()); err != nil || depth != 0 {
		t.Errorf("outbox depth: %d, %v; want 0", depth, err)
	}
	var gauge dto.Metric
	if err := metrics.Outbox.WithLabelValues("dead").Write(&gauge); err != nil || gauge.GetGauge().GetValue() != 2 {
		t.Errorf(`consentgate_outbox{measure="dead"} = %v (%v), want 2`, gauge.GetGauge().GetValue(), err)
	}
	var parkedLines int
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.Contains(line, "outbox message parked") {
			continue
		}
		parkedLines++
		if !strings.Contains(line, `"level":"ERROR"`) || !strings.Contains(line, `"outbox_id":`) || !strings.Contains(line, `"topic":"crm.`) {
			t.Errorf("parked log line lacks level, outbox id or topic: %s", line)
		}
		if strings.Contains(line, "secret-missing") || strings.Contains(line, "xxxx") || strings.Contains(line, "sk_") {
			t.Errorf("parked log line carries a key or payload: %.300s", line)
		}
	}
	if parkedLines != 2 {
		t.Errorf("%d parked log lines, want 2:\n%.2000s", parkedLines, logs.String())
	}
	if n, err := p.RelayOnce(ctx); err != nil || n != 0 {
		t.Errorf("relay of an outbox with only parked messages: %d, %v; want 0, nil", n, err)
	}

	// The operator creates the topic and requeues: the message is
	// published; the one too large is refused again and parked again.
	if err := prod.EnsureTopics(ctx, []string{"crm.missing.v1"}, 1); err != nil {
		t.Fatal(err)
	}
	if n, err := st.RequeueOutbox(ctx, nil); err != nil || n != 2 {
		t.Fatalf("requeue: %d, %v; want 2", n, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		n, err := p.RelayOnce(ctx)
		if err == nil && n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("relay of requeued messages: %d, %v", n, err)
		}
		time.Sleep(200 * time.Millisecond) // the lease of a held remainder is per RelayOnce
	}
	if m := kafkatest.Consume(t, brokers, "crm.missing.v1", 1, 10*time.Second); string(m[0].Value) != "secret-missing" {
		t.Errorf("requeued message published as %q", m[0].Value)
	}
	if dead, err := st.DeadOutbox(ctx); err != nil || dead != 1 {
		t.Errorf("dead after requeue: %d, %v; want 1 (the message too large)", dead, err)
	}
}
