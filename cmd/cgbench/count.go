package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// endOffsets returns each partition's next offset. A missing topic gives an
// empty map: everything later found on it is new.
func endOffsets(ctx context.Context, brokers []string, topic string) (map[int]int64, error) {
	tr := &kafkago.Transport{ClientID: "cgbench"}
	defer tr.CloseIdleConnections()
	c := &kafkago.Client{Addr: kafkago.TCP(brokers...), Transport: tr, Timeout: 10 * time.Second}
	meta, err := c.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	var reqs []kafkago.OffsetRequest
	for _, t := range meta.Topics {
		if t.Name != topic {
			continue
		}
		if errors.Is(t.Error, kafkago.UnknownTopicOrPartition) {
			return map[int]int64{}, nil
		}
		if t.Error != nil {
			return nil, t.Error
		}
		for _, p := range t.Partitions {
			reqs = append(reqs, kafkago.LastOffsetOf(p.ID))
		}
	}
	out := map[int]int64{}
	if len(reqs) == 0 {
		return out, nil
	}
	resp, err := c.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, err
	}
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("partition %d: %w", po.Partition, po.Error)
		}
		out[po.Partition] = po.LastOffset
	}
	return out, nil
}

// countRun reads every partition from its start offset and counts the
// records carrying this run's ids (the payload id appears in the value, as
// the raw body for the baseline and as the source event id for the
// gateway). It stops once every partition has reached the offsets it had
// when counting began and nothing new has arrived for quiet, so records
// the gateway forwards late (from its outbox) are still counted.
func countRun(ctx context.Context, brokers []string, topic string, start map[int]int64, run string, quiet time.Duration) (records, distinct int, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	end, err := endOffsets(ctx, brokers, topic)
	if err != nil {
		return 0, 0, err
	}
	type hit struct {
		partition int
		offset    int64
		n         int64 // the run's sequence number, -1 if not ours
	}
	hits := make(chan hit, 1024)
	errc := make(chan error, len(end))
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stop()
		wg.Wait()
	}()
	marker := []byte("cgb-" + run + "-")
	for p := range end {
		r := kafkago.NewReader(kafkago.ReaderConfig{
			Brokers: brokers, Topic: topic, Partition: p,
			MaxWait: 200 * time.Millisecond, ReadLagInterval: -1,
		})
		from, ok := start[p]
		if !ok {
			from = kafkago.FirstOffset
		}
		if err := r.SetOffset(from); err != nil {
			r.Close()
			return 0, 0, err
		}
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
				case hits <- hit{p, m.Offset, seqOf(m, marker)}:
				case <-rctx.Done():
					return
				}
			}
		})
	}

	pos := map[int]int64{}
	for p, o := range start {
		pos[p] = o
	}
	caughtUp := func() bool {
		for p, e := range end {
			if pos[p] < e {
				return false
			}
		}
		return true
	}
	seen := map[int64]bool{}
	last := time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !(caughtUp() && time.Since(last) >= quiet) {
		select {
		case h := <-hits:
			pos[h.partition] = h.offset + 1
			last = time.Now()
			if h.n >= 0 {
				records++
				seen[h.n] = true
			}
		case err := <-errc:
			return records, len(seen), err
		case <-tick.C:
		case <-ctx.Done():
			return records, len(seen), fmt.Errorf("gave up counting: %w", ctx.Err())
		}
	}
	return records, len(seen), nil
}

// seqOf finds this run's id in the value or a header and returns its
// sequence number, or -1.
func seqOf(m kafkago.Message, marker []byte) int64 {
	if n := seqIn(m.Value, marker); n >= 0 {
		return n
	}
	for _, h := range m.Headers {
		if n := seqIn(h.Value, marker); n >= 0 {
			return n
		}
	}
	return -1
}

func seqIn(b, marker []byte) int64 {
	i := bytes.Index(b, marker)
	if i < 0 {
		return -1
	}
	rest := b[i+len(marker):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, err := strconv.ParseInt(string(rest[:j]), 10, 64)
	if err != nil {
		return -1
	}
	return n
}
