package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
)

func newProducer(t testing.TB, brokers []string, mod func(*kafka.Config)) *kafka.Producer {
	t.Helper()
	cfg := kafka.DefaultConfig()
	cfg.Brokers = brokers
	cfg.AutoCreateTopics = true
	if mod != nil {
		mod(&cfg)
	}
	p, err := kafka.New(cfg)
	if err != nil {
		t.Fatalf("new producer: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// Every concurrent caller gets its acknowledgement, and what a consumer
// reads back is exactly what was produced: keys, values, headers, and the
// order of each subject's records.
func TestProduceConcurrentAllAcknowledgedAndReadable(t *testing.T) {
	brokers := kafkatest.Broker(t)
	p := newProducer(t, brokers, nil)
	const topic, workers, perWorker = "crm.leads.v1", 64, 10

	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			// One subject per worker, produced in sequence: its records
			// must come back in this order.
			key := fmt.Appendf(nil, "subject-%02d", w)
			for i := range perWorker {
				err := p.Produce(t.Context(), kafka.Message{
					Topic: topic,
					Key:   key,
					Value: fmt.Appendf(nil, `{"worker":%d,"seq":%d,"name":"Zoë 😀"}`, w, i),
					Headers: []kafka.Header{
						{Key: "ce_id", Value: fmt.Sprintf("ev-%02d-%02d", w, i)},
						{Key: "content-type", Value: "application/json"},
					},
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("produce: %v", err)
	}

	got := kafkatest.Consume(t, brokers, topic, workers*perWorker, 20*time.Second)
	if len(got) != workers*perWorker {
		t.Fatalf("read %d messages, produced %d", len(got), workers*perWorker)
	}
	seen := map[string]bool{}
	lastSeq := map[string]int{}
	partitionOf := map[string]int{}
	// Consume merges partitions; within one partition it keeps log order.
	for _, m := range got {
		hdr := map[string]string{}
		for _, h := range m.Headers {
			hdr[h.Key] = string(h.Value)
		}
		var w, seq int
		if _, err := fmt.Sscanf(hdr["ce_id"], "ev-%d-%d", &w, &seq); err != nil {
			t.Fatalf("message at %d/%d: ce_id header %q: %v", m.Partition, m.Offset, hdr["ce_id"], err)
		}
		if seen[hdr["ce_id"]] {
			t.Errorf("%s read twice", hdr["ce_id"])
		}
		seen[hdr["ce_id"]] = true
		if want := fmt.Sprintf("subject-%02d", w); string(m.Key) != want {
			t.Errorf("%s: key %q, want %q", hdr["ce_id"], m.Key, want)
		}
		if want := fmt.Sprintf(`{"worker":%d,"seq":%d,"name":"Zoë 😀"}`, w, seq); string(m.Value) != want {
			t.Errorf("%s: value %q, want %q", hdr["ce_id"], m.Value, want)
		}
		if hdr["content-type"] != "application/json" {
			t.Errorf("%s: content-type header %q", hdr["ce_id"], hdr["content-type"])
		}
		k := string(m.Key)
		if prev, ok := partitionOf[k]; ok && prev != m.Partition {
			t.Errorf("%s: subject spread over partitions %d and %d", k, prev, m.Partition)
		}
		partitionOf[k] = m.Partition
		if prev, ok := lastSeq[k]; ok && seq != prev+1 {
			t.Errorf("%s: seq %d read after %d", k, seq, prev)
		}
		lastSeq[k] = seq
	}
}

// A multi-message call is all-or-nothing from the caller's view and lands
// on several topics at once.
func TestProduceSeveralTopicsInOneCall(t *testing.T) {
	brokers := kafkatest.Broker(t)
	p := newProducer(t, brokers, nil)
	err := p.Produce(t.Context(),
		kafka.Message{Topic: "crm.leads.v1", Key: []byte("a"), Value: []byte("1")},
		kafka.Message{Topic: "crm.consent.v1", Key: []byte("a"), Value: []byte("2")},
	)
	if err != nil {
		t.Fatalf("produce: %v", err)
	}
	kafkatest.Consume(t, brokers, "crm.leads.v1", 1, 10*time.Second)
	kafkatest.Consume(t, brokers, "crm.consent.v1", 1, 10*time.Second)
}

// When the broker goes away, callers get an error naming the topic and what
// to check — they never hang past the write timeout.
func TestProduceToClosedBrokerFails(t *testing.T) {
	c := kafkatest.Cluster(t)
	brokers := c.ListenAddrs()
	p := newProducer(t, brokers, func(cfg *kafka.Config) { cfg.WriteTimeout = 2 * time.Second })
	msg := kafka.Message{Topic: "crm.leads.v1", Key: []byte("k"), Value: []byte("v")}
	if err := p.Produce(t.Context(), msg); err != nil {
		t.Fatalf("produce while broker is up: %v", err)
	}
	c.Close()

	err := produceWithin(t, p, 3, msg)
	if err == nil {
		t.Fatal("produce to a closed broker succeeded")
	}
	for _, want := range []string{"kafka: produce 3 messages to crm.leads.v1", "check kafka.brokers"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestProduceToDeadAddressFails(t *testing.T) {
	p := newProducer(t, []string{deadAddr(t)}, func(cfg *kafka.Config) { cfg.WriteTimeout = time.Second })
	err := produceWithin(t, p, 1, kafka.Message{Topic: "crm.leads.v1", Value: []byte("v")})
	if err == nil || !strings.Contains(err.Error(), "check kafka.brokers") {
		t.Fatalf("got %v, want an error pointing at kafka.brokers", err)
	}
}

// produceWithin produces n copies of msg and fails the test if the call is
// still blocked well after the configured write timeout.
func produceWithin(t *testing.T, p *kafka.Producer, n int, msg kafka.Message) error {
	t.Helper()
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = msg
	}
	done := make(chan error, 1)
	go func() { done <- p.Produce(context.Background(), msgs...) }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("produce hung past its write timeout")
		return nil
	}
}

func TestEnsureTopicsIdempotent(t *testing.T) {
	brokers := kafkatest.Broker(t)
	p := newProducer(t, brokers, func(cfg *kafka.Config) { cfg.AutoCreateTopics = false })
	topics := []string{"crm.leads.v1", "crm.interactions.v1", "crm.consent.v1"}
	for i := range 2 {
		if err := p.EnsureTopics(t.Context(), topics, 5); err != nil {
			t.Fatalf("ensure topics (call %d): %v", i+1, err)
		}
	}
	for _, topic := range topics {
		if n := partitionCount(t, brokers[0], topic); n != 5 {
			t.Errorf("%s has %d partitions, want 5", topic, n)
		}
	}
	if err := p.Produce(t.Context(), kafka.Message{Topic: "crm.consent.v1", Value: []byte("{}")}); err != nil {
		t.Fatalf("produce to ensured topic: %v", err)
	}
}

// Managed clusters often forbid topic creation; that must not stop the
// gateway from starting.
func TestEnsureTopicsToleratesNotAllowed(t *testing.T) {
	c := kafkatest.Cluster(t)
	c.ControlKey(int16(kmsg.CreateTopics), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		creq := req.(*kmsg.CreateTopicsRequest)
		resp := creq.ResponseKind().(*kmsg.CreateTopicsResponse)
		for _, rt := range creq.Topics {
			st := kmsg.NewCreateTopicsResponseTopic()
			st.Topic = rt.Topic
			st.ErrorCode = kerr.TopicAuthorizationFailed.Code
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	p := newProducer(t, c.ListenAddrs(), nil)
	if err := p.EnsureTopics(t.Context(), []string{"crm.leads.v1"}, 3); err != nil {
		t.Fatalf("ensure topics with creation forbidden: %v", err)
	}
}

func TestPing(t *testing.T) {
	live := newProducer(t, kafkatest.Broker(t), nil)
	if err := live.Ping(t.Context()); err != nil {
		t.Fatalf("ping live broker: %v", err)
	}
	dead := newProducer(t, []string{deadAddr(t)}, func(cfg *kafka.Config) { cfg.WriteTimeout = time.Second })
	err := dead.Ping(t.Context())
	if err == nil || !strings.Contains(err.Error(), "check kafka.brokers") {
		t.Fatalf("ping dead address: got %v, want an error pointing at kafka.brokers", err)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	cfg := kafka.DefaultConfig()
	cfg.BatchSize = 0
	_, err := kafka.New(cfg)
	if err == nil {
		t.Fatal("config without brokers accepted")
	}
	for _, want := range []string{"kafka.brokers", "kafka.batch_size"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func BenchmarkProduceParallel(b *testing.B) {
	brokers := kafkatest.Broker(b)
	p := newProducer(b, brokers, nil)
	value := []byte(strings.Repeat("x", 512))
	b.SetParallelism(16) // 16 × GOMAXPROCS callers, like a busy gateway
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := p.Produce(context.Background(), kafka.Message{Topic: "bench", Key: []byte("k"), Value: value}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// deadAddr returns an address nothing listens on.
func deadAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func partitionCount(t *testing.T, addr, topic string) int {
	t.Helper()
	conn, err := kafkago.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ps, err := conn.ReadPartitions(topic)
	if err != nil {
		t.Fatalf("read partitions of %s: %v", topic, err)
	}
	return len(ps)
}

// Errors that retrying cannot cure are marked, so the relay sets their
// messages aside; a broker that is away is not one of them.
func TestProduceMarksRefusalsForGood(t *testing.T) {
	c := kafkatest.Cluster(t, kfake.SeedTopics(1, "crm.leads.v1"))
	brokers := c.ListenAddrs()
	strict := newProducer(t, brokers, func(cfg *kafka.Config) {
		cfg.AutoCreateTopics, cfg.WriteTimeout = false, 2*time.Second
	})
	err := strict.Produce(t.Context(), kafka.Message{Topic: "no.such.topic", Value: []byte("v")})
	if !errors.Is(err, kafka.ErrTopicRefused) || !errors.Is(err, kafka.ErrRefused) {
		t.Errorf("unknown topic, auto-create off: %v, want ErrTopicRefused", err)
	}
	big := kafka.Message{Topic: "crm.leads.v1", Value: make([]byte, 2<<20)}
	err = newProducer(t, brokers, nil).Produce(t.Context(), big)
	if !errors.Is(err, kafka.ErrRefused) || errors.Is(err, kafka.ErrTopicRefused) {
		t.Errorf("message too large: %v, want ErrRefused only", err)
	}
	ok := kafka.Message{Topic: "crm.leads.v1", Value: []byte("v")}
	if err := strict.Produce(t.Context(), ok); err != nil {
		t.Fatalf("produce to an existing topic: %v", err)
	}
	c.Close()
	err = produceWithin(t, strict, 1, ok)
	if err == nil || errors.Is(err, kafka.ErrRefused) {
		t.Errorf("broker down: %v, want a transient error", err)
	}
}

// A topic created after the producer cached its metadata is not refused
// for good: kafka-go answers "unknown topic" from its cache for seconds,
// and only a fresh answer from a broker is final.
func TestProduceToATopicCreatedSinceIsNotRefused(t *testing.T) {
	c := kafkatest.Cluster(t, kfake.SeedTopics(1, "crm.leads.v1"))
	brokers := c.ListenAddrs()
	strict := newProducer(t, brokers, func(cfg *kafka.Config) {
		cfg.AutoCreateTopics, cfg.WriteTimeout = false, 2*time.Second
	})
	if err := strict.Produce(t.Context(), kafka.Message{Topic: "crm.leads.v1", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	// An operator creates a topic elsewhere; the producer's cache is
	// still the one from before.
	if err := newProducer(t, brokers, nil).EnsureTopics(t.Context(), []string{"created.since"}, 1); err != nil {
		t.Fatal(err)
	}
	if err := strict.Produce(t.Context(), kafka.Message{Topic: "created.since", Value: []byte("v")}); errors.Is(err, kafka.ErrRefused) {
		t.Fatalf("a topic that exists was refused for good: %v", err)
	}
}
