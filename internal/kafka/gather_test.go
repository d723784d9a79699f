package kafka

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
)

// An hour's linger makes any record that waits for its own budget hang
// the test: each test below passes only if the record went out for the
// reason it names.
func hourLinger(t *testing.T) (*Producer, []string) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Brokers = kafkatest.Broker(t)
	cfg.AutoCreateTopics = true
	cfg.Linger = time.Hour
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p, cfg.Brokers
}

func within(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func waitPending(t *testing.T, p *Producer, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		p.gather.mu.Lock()
		got := len(p.gather.pending)
		p.gather.mu.Unlock()
		if got == n {
			return
		}
	}
	t.Fatalf("never saw %d produce calls waiting", n)
}

func produceAsync(ctx context.Context, p *Producer, m Message) <-chan error {
	done := make(chan error, 1)
	go func() { done <- p.Produce(ctx, m) }()
	return done
}

// A webhook that spent its linger before reaching the producer (in the
// store's batches) is sent at once, and takes every waiting record along.
func TestLingerCountsFromArrival(t *testing.T) {
	p, brokers := hourLinger(t)
	young := produceAsync(within(t), p, Message{Topic: "t", Key: []byte("young"), Value: []byte("1")})
	waitPending(t, p, 1)

	old := WithArrival(within(t), time.Now().Add(-2*time.Hour))
	if err := p.Produce(old, Message{Topic: "t", Key: []byte("old"), Value: []byte("2")}); err != nil {
		t.Fatalf("a record past its linger was not sent: %v", err)
	}
	if err := <-young; err != nil {
		t.Fatalf("the waiting record did not go with the due one: %v", err)
	}
	if got := kafkatest.Consume(t, brokers, "t", 2, 10*time.Second); len(got) != 2 {
		t.Fatalf("read %d records, want 2", len(got))
	}
}

// Close sends what is still waiting for company, and only then returns.
func TestCloseSendsWhatIsWaiting(t *testing.T) {
	p, brokers := hourLinger(t)
	done := produceAsync(within(t), p, Message{Topic: "t", Key: []byte("k"), Value: []byte("v")})
	waitPending(t, p, 1)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("record waiting at Close: %v", err)
	}
	kafkatest.Consume(t, brokers, "t", 1, 10*time.Second)
	err := p.Produce(within(t), Message{Topic: "t", Value: []byte("late")})
	if err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("produce after Close: got %v, want an error saying the producer is closed", err)
	}
}

// A caller that gives up while its record still waits takes it back: it
// will write the record to the outbox, and a second copy on the topic
// would be a duplicate.
func TestGivingUpTakesTheRecordBack(t *testing.T) {
	p, brokers := hourLinger(t)
	if err := p.Produce(WithArrival(within(t), time.Now().Add(-2*time.Hour)), Message{Topic: "t", Value: []byte("kept")}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := produceAsync(ctx, p, Message{Topic: "t", Value: []byte("withdrawn")})
	waitPending(t, p, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	waitPending(t, p, 0)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	got := kafkatest.ConsumeAll(t, brokers, "t", time.Second)
	if len(got) != 1 || string(got[0].Value) != "kept" {
		t.Fatalf("topic holds %d records, want only the one kept", len(got))
	}
}

// Calls that share a flush do not share a failure that is one caller's
// own: a record too large for the broker fails alone.
func TestOneCallersBadRecordFailsOnlyThatCall(t *testing.T) {
	p, brokers := hourLinger(t)
	good := produceAsync(within(t), p, Message{Topic: "t", Key: []byte("good"), Value: []byte("fine")})
	waitPending(t, p, 1)

	huge := make([]byte, 2<<20) // over kafka-go's 1 MiB batch limit
	err := p.Produce(WithArrival(within(t), time.Now().Add(-2*time.Hour)), Message{Topic: "t", Value: huge})
	if err == nil || !strings.Contains(err.Error(), "message too large") {
		t.Fatalf("oversized record: got %v, want a message-too-large error", err)
	}
	if err := <-good; err != nil {
		t.Fatalf("a good record failed with another caller's: %v", err)
	}
	if got := kafkatest.Consume(t, brokers, "t", 1, 10*time.Second); string(got[0].Value) != "fine" {
		t.Fatalf("read %q, want the good record", got[0].Value)
	}
}
