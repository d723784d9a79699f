// Package kafkatest gives tests a real Kafka-protocol broker (franz-go's
// kfake, in process, one node on a random 127.0.0.1 port) and reads topics
// back with kafka-go, so tests check what a CRM consumer would actually see.
package kafkatest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// DefaultPartitions is the partition count of auto-created test topics:
// more than one, so ordering and balancing bugs can show.
const DefaultPartitions = 3

// Cluster starts a one-node broker with auto topic creation on, closed when
// the test ends. Extra options are appended (they win on conflict).
func Cluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	all := append([]kfake.Opt{
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(DefaultPartitions),
	}, opts...)
	c, err := kfake.NewCluster(all...)
	if err != nil {
		t.Fatalf("kafkatest: start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// Broker starts a broker like Cluster and returns its bootstrap addresses.
func Broker(t testing.TB) []string {
	t.Helper()
	return Cluster(t).ListenAddrs()
}

// Consume reads topic from the beginning of every partition until it has n
// messages, failing the test with what it got if timeout passes first.
func Consume(t testing.TB, brokers []string, topic string, n int, timeout time.Duration) []kafkago.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	got, err := read(ctx, brokers, topic, func(got int, _ time.Duration) bool { return got >= n })
	if len(got) < n {
		t.Fatalf("kafkatest: consume %s: want %d messages within %s, got %d (%v): %s",
			topic, n, timeout, len(got), err, summary(got))
	}
	return got
}

// ConsumeAll reads topic from the beginning of every partition until no new
// message has arrived for quiet, and returns everything read. Use it to
// assert that something did NOT reach the topic.
func ConsumeAll(t testing.TB, brokers []string, topic string, quiet time.Duration) []kafkago.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), quiet+30*time.Second)
	defer cancel()
	got, err := read(ctx, brokers, topic, func(_ int, idle time.Duration) bool { return idle >= quiet })
	if err != nil {
		t.Fatalf("kafkatest: consume all of %s: %v (got %d)", topic, err, len(got))
	}
	return got
}

// read runs one partition reader per partition and collects messages until
// done says so or ctx ends. ctx ending is not an error; anything else is.
func read(ctx context.Context, brokers []string, topic string, done func(got int, idle time.Duration) bool) ([]kafkago.Message, error) {
	parts, err := partitions(ctx, brokers, topic)
	if err != nil {
		return nil, err
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()

	msgs := make(chan kafkago.Message)
	errc := make(chan error, len(parts))
	var wg sync.WaitGroup
	for _, p := range parts {
		r := kafkago.NewReader(kafkago.ReaderConfig{
			Brokers:         brokers,
			Topic:           topic,
			Partition:       p,
			MaxWait:         100 * time.Millisecond,
			ReadLagInterval: -1,
		})
		wg.Go(func() {
			defer r.Close()
			for {
				m, err := r.ReadMessage(rctx)
				if err != nil {
					if rctx.Err() == nil {
						errc <- fmt.Errorf("read %s/%d: %w", topic, p, err)
					}
					return
				}
				select {
				case msgs <- m:
				case <-rctx.Done():
					return
				}
			}
		})
	}
	defer func() {
		stop()
		wg.Wait()
	}()

	var got []kafkago.Message
	const tick = 20 * time.Millisecond
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	last := time.Now()
	for !done(len(got), time.Since(last)) {
		select {
		case m := <-msgs:
			got = append(got, m)
			last = time.Now()
		case err := <-errc:
			return got, err
		case <-ticker.C:
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
	return got, nil
}

// partitions waits until topic has metadata; asking for it creates the
// topic on brokers that auto-create, which is what tests want anyway.
func partitions(ctx context.Context, brokers []string, topic string) ([]int, error) {
	var last error
	for ctx.Err() == nil {
		ids, err := partitionsOnce(ctx, brokers[0], topic)
		if err == nil && len(ids) > 0 {
			return ids, nil
		}
		last = err
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil, errors.Join(fmt.Errorf("no metadata for topic %s", topic), last)
}

func partitionsOnce(ctx context.Context, addr, topic string) ([]int, error) {
	conn, err := kafkago.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	ps, err := conn.ReadPartitions(topic)
	if err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(ps))
	for _, p := range ps {
		if p.Topic == topic {
			ids = append(ids, p.ID)
		}
	}
	return ids, nil
}

func summary(msgs []kafkago.Message) string {
	const max = 5
	s := ""
	for i, m := range msgs {
		if i == max {
			s += fmt.Sprintf(" … and %d more", len(msgs)-max)
			break
		}
		s += fmt.Sprintf(" [p%d@%d key=%q %dB]", m.Partition, m.Offset, m.Key, len(m.Value))
	}
	return s
}
