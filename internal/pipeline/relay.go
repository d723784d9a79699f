package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/consentgate/consentgate/internal/kafka"
)

// RunRelay drains the outbox into Kafka until ctx ends. Messages are
// claimed oldest first and produced in one call, so per-key order holds.
func (p *Pipeline) RunRelay(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := p.RelayOnce(ctx)
		if err != nil && ctx.Err() == nil {
			p.opts.Log.Warn("outbox relay", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RelayOnce publishes one batch from the outbox; it returns how many
// messages it published.
func (p *Pipeline) RelayOnce(ctx context.Context) (int, error) {
	st := p.opts.Store
	now := p.opts.Now()
	if depth, age, err := st.OutboxStats(ctx, now); err == nil {
		p.opts.Metrics.Outbox.WithLabelValues("depth").Set(float64(depth))
		p.opts.Metrics.Outbox.WithLabelValues("oldest_age_seconds").Set(age.Seconds())
		if depth == 0 {
			return 0, nil
		}
	}
	msgs, err := st.ClaimOutbox(ctx, 500, now, 30*time.Second)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	out := make([]kafka.Message, len(msgs))
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = kafka.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: headersFrom(m.Headers)}
		ids[i] = m.ID
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.opts.Producer.Produce(pctx, out...); err != nil {
		return 0, fmt.Errorf("publish %d outbox messages: %w", len(out), err)
	}
	if err := st.DeleteOutbox(context.WithoutCancel(ctx), ids); err != nil {
		// Published but not deleted: they will be published again after
		// the lease — at-least-once, with stable CloudEvents ids.
		return len(out), fmt.Errorf("delete %d published outbox messages: %w", len(ids), err)
	}
	return len(out), nil
}
