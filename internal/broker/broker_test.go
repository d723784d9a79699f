package broker_test

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/consentgate/consentgate/internal/broker"
	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T, cfg broker.Config) *broker.Broker {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	b, err := broker.Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func produce(t *testing.T, brokers []string, msgs ...kafka.Message) {
	t.Helper()
	cfg := kafka.DefaultConfig()
	cfg.Brokers = brokers
	cfg.AutoCreateTopics = true
	p, err := kafka.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Produce(t.Context(), msgs...); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// A dev gateway restarted with the same data dir still has what it sent.
func TestDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := broker.Config{Addr: "127.0.0.1:0", DataDir: dir, Topics: []string{"crm.leads.v1"}}
	b, err := broker.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []kafka.Message
	for i := range 20 {
		msgs = append(msgs, kafka.Message{
			Topic:   "crm.leads.v1",
			Key:     fmt.Appendf(nil, "subject-%d", i),
			Value:   fmt.Appendf(nil, `{"n":%d}`, i),
			Headers: []kafka.Header{{Key: "ce_id", Value: fmt.Sprint("ev-", i)}},
		})
	}
	produce(t, b.Addrs(), msgs...)
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	b2 := start(t, cfg)
	got := kafkatest.Consume(t, b2.Addrs(), "crm.leads.v1", len(msgs), 10*time.Second)
	values := map[string]string{}
	for _, m := range got {
		values[string(m.Key)] = string(m.Value)
		if len(m.Headers) != 1 || m.Headers[0].Key != "ce_id" {
			t.Errorf("%s: headers %v after restart", m.Key, m.Headers)
		}
	}
	for _, m := range msgs {
		if values[string(m.Key)] != string(m.Value) {
			t.Errorf("%s: after restart value %q, want %q", m.Key, values[string(m.Key)], m.Value)
		}
	}
	// New writes continue after the old ones, not over them.
	produce(t, b2.Addrs(), kafka.Message{Topic: "crm.leads.v1", Key: []byte("after"), Value: []byte("x")})
	kafkatest.Consume(t, b2.Addrs(), "crm.leads.v1", len(msgs)+1, 10*time.Second)
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = broker.Start(t.Context(), broker.Config{Addr: ln.Addr().String()})
	want := ln.Addr().String() + " is in use: stop the other broker or pass --kafka-listen"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want an error containing %q", err, want)
	}
}

func TestUnreachableListenAddressRefused(t *testing.T) {
	_, err := broker.Start(t.Context(), broker.Config{Addr: "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), "must name a host clients can reach") {
		t.Fatalf("got %v", err)
	}
}

func TestSeedAndAutoCreatedTopics(t *testing.T) {
	b := start(t, broker.Config{Partitions: 4, Topics: []string{"crm.leads.v1", "crm.consent.v1"}})
	for _, topic := range []string{"crm.leads.v1", "crm.consent.v1"} {
		if n := partitions(t, b.Addrs()[0], topic); n != 4 {
			t.Errorf("seed topic %s has %d partitions, want 4", topic, n)
		}
	}
	produce(t, b.Addrs(), kafka.Message{Topic: "crm.other.v1", Value: []byte("{}")})
	if n := partitions(t, b.Addrs()[0], "crm.other.v1"); n != 4 {
		t.Errorf("auto-created topic has %d partitions, want 4", n)
	}
}

// A long-running dev broker must not grow without bound.
func TestRetentionBytesDropsOldest(t *testing.T) {
	b := start(t, broker.Config{Partitions: 1, RetentionBytes: 2048, RetentionCheck: 20 * time.Millisecond})
	value := bytes.Repeat([]byte("x"), 300)
	for range 30 { // separate calls: separate batches, the unit retention drops
		produce(t, b.Addrs(), kafka.Message{Topic: "t", Value: value})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		first, last := offsets(t, b.Addrs()[0], "t")
		if first > 0 {
			if last != 30 {
				t.Errorf("high watermark %d after retention, want 30", last)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log start offset still 0 after 10s with 9000 bytes over a 2048-byte cap")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kcat stands in for every non-Go client a developer might point at the
// dev broker. CI installs it (apt-get install -y kcat).
func TestKcat(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat not installed (apt-get install -y kcat)")
	}
	b := start(t, broker.Config{Topics: []string{"crm.leads.v1"}})
	addr := b.Addrs()[0]

	in := "subj-1:{\"email\":\"zoë@example.com\"}\nsubj-2:{\"n\":2}\n"
	cmd := exec.CommandContext(t.Context(), kcat, "-P", "-b", addr, "-t", "crm.leads.v1", "-K:", "-X", "acks=all")
	cmd.Stdin = strings.NewReader(in)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat produce: %v\n%s", err, out)
	}
	// kafka-go reads what kcat wrote...
	got := kafkatest.Consume(t, []string{addr}, "crm.leads.v1", 2, 10*time.Second)
	if len(got) != 2 {
		t.Fatalf("kafka-go read %d messages written by kcat", len(got))
	}
	// ...and kcat reads what the gateway's producer writes.
	produce(t, b.Addrs(), kafka.Message{Topic: "crm.leads.v1", Key: []byte("subj-3"), Value: []byte(`{"n":3}`)})
	out, err := exec.CommandContext(t.Context(), kcat, "-C", "-b", addr, "-t", "crm.leads.v1",
		"-o", "beginning", "-e", "-q", "-f", "%k=%s\n").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat consume: %v\n%s", err, out)
	}
	for _, want := range []string{`subj-1={"email":"zoë@example.com"}`, `subj-2={"n":2}`, `subj-3={"n":3}`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("kcat output lacks %s:\n%s", want, out)
		}
	}
}

func partitions(t *testing.T, addr, topic string) int {
	t.Helper()
	conn, err := kafkago.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ps, err := conn.ReadPartitions(topic)
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	return len(ps)
}

func offsets(t *testing.T, addr, topic string) (first, last int64) {
	t.Helper()
	conn, err := kafkago.DialLeader(t.Context(), "tcp", addr, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	first, last, err = conn.ReadOffsets()
	if err != nil {
		t.Fatal(err)
	}
	return first, last
}
