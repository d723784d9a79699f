package kafka

import (
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
)

// Concurrent callers must share produce requests; one request per webhook
// would cap the gateway at one round trip per request.
func TestConcurrentCallersShareBatches(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Brokers = kafkatest.Broker(t)
	cfg.AutoCreateTopics = true
	cfg.Linger = 20 * time.Millisecond // wide enough that slow CI still groups callers
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Produce(t.Context(), Message{Topic: "t", Key: []byte("warm-up")}); err != nil {
		t.Fatal(err)
	}
	p.writer.Stats() // reset counters

	const callers, each = 64, 5
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range each {
				if err := p.Produce(t.Context(), Message{Topic: "t", Key: []byte("k"), Value: []byte("v")}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	st := p.writer.Stats()
	if st.Messages != callers*each {
		t.Fatalf("writer sent %d messages, want %d", st.Messages, callers*each)
	}
	if st.Writes > callers*each/4 {
		t.Errorf("%d produce requests for %d messages from %d callers: batches are not shared", st.Writes, st.Messages, callers)
	}
	t.Logf("%d messages in %d produce requests", st.Messages, st.Writes)
}

func TestAttemptsWithin(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{{0, 2}, {time.Second, 3}, {2 * time.Second, 4}, {10 * time.Second, 10}} {
		if got := attemptsWithin(tc.d); got != tc.want {
			t.Errorf("attemptsWithin(%s) = %d, want %d", tc.d, got, tc.want)
		}
	}
}
