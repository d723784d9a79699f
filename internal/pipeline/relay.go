package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/store"
)

const (
	// relayBatch bounds one claim: one produce call, one transaction.
	relayBatch = 500
	// relayLease protects a claimed batch from other instances; it must
	// outlast relayProduceTimeout by enough for a retry or two.
	relayLease = 30 * time.Second
	// relayProduceTimeout bounds one publish of a batch.
	relayProduceTimeout = 10 * time.Second
)

// relay is the state of one RunRelay loop. A batch Kafka did not take is
// held and retried before anything newer is claimed: claiming past it would
// publish a subject's later records before its earlier ones.
type relay struct {
	p *Pipeline
	// held is a claimed batch not yet published, leased until heldUntil.
	held      []store.OutboxMessage
	heldUntil time.Time
	// blockedUntil: a held batch was given up near the end of its lease;
	// nothing is claimed before the lease ends, so it is claimed first.
	blockedUntil time.Time
}

// RunRelay drains the outbox into Kafka until ctx ends. Messages are
// claimed oldest first (SKIP LOCKED on PostgreSQL, so instances share the
// work) and produced in one call per batch, so per-key order holds within
// a batch and, because a failed batch is retried before anything newer is
// claimed, across batches of one instance. A message Kafka refuses for
// good (kafka.ErrRefused: unknown topic with auto-create off, not
// authorized, too large) is parked instead (park.go): marked dead in the
// outbox, logged and counted, so it no longer holds up the records behind
// it. A batch in progress when ctx ends is finished (published and
// deleted) before RunRelay returns.
func (p *Pipeline) RunRelay(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = time.Second
	}
	r := &relay{p: p}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := r.once(ctx)
		if err != nil && ctx.Err() == nil {
			p.opts.Log.Warn("outbox relay", "err", err)
		}
		if n > 0 && err == nil && ctx.Err() == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RelayOnce publishes one batch from the outbox and returns how many
// messages it handled (published, or dropped by the consent recheck). A batch Kafka does not take stays leased (30 s)
// and is claimed again after the lease; RunRelay retries it sooner.
func (p *Pipeline) RelayOnce(ctx context.Context) (int, error) {
	return (&relay{p: p}).once(ctx)
}

func (r *relay) once(ctx context.Context) (int, error) {
	p := r.p
	st := p.opts.Store
	now := p.opts.Now()
	depth := r.stats(ctx, now)

	batch := r.held
	switch {
	case batch != nil && now.Add(relayProduceTimeout).After(r.heldUntil):
		// The lease would end mid-publish: let it lapse and claim the
		// batch again (it is the oldest) rather than race another relay.
		r.held, r.blockedUntil = nil, r.heldUntil
		return 0, nil
	case batch != nil:
	case now.Before(r.blockedUntil):
		return 0, nil
	default:
		if ctx.Err() != nil || depth == 0 {
			return 0, nil
		}
		msgs, err := st.ClaimOutbox(ctx, relayBatch, now, relayLease)
		if err != nil {
			return 0, fmt.Errorf("claim outbox: %w", err)
		}
		if len(msgs) == 0 {
			return 0, nil
		}
		batch, r.heldUntil = msgs, now.Add(relayLease)
	}
	// From here on the batch is finished even when ctx ends (shutdown):
	// the relay lets its batch complete rather than leave it leased.
	bg := context.WithoutCancel(ctx)
	n, held, err := r.publish(bg, batch)
	r.held = held
	if n > 0 {
		r.stats(bg, p.opts.Now())
	}
	return n, err
}

// publish rechecks consent, produces what may still go out, records the
// decisions of what changed and deletes what is done from the outbox;
// messages Kafka refuses for good are parked (park.go). It returns how
// many messages it handled and the ones still to publish: those are
// retried before anything newer is claimed.
func (r *relay) publish(ctx context.Context, batch []store.OutboxMessage) (int, []store.OutboxMessage, error) {
	p := r.p
	st := p.opts.Store
	verdicts, err := p.recheckOutbox(ctx, batch)
	if err != nil {
		return 0, batch, err
	}
	out := make([]kafka.Message, 0, len(batch))
	sent := make([]int, 0, len(batch)) // out[k] is batch[sent[k]]
	for i, m := range batch {
		v := verdicts[i]
		if v.drop {
			continue
		}
		value := m.Value
		if v.value != nil {
			value = v.value
		}
		out = append(out, kafka.Message{Topic: m.Topic, Key: m.Key, Value: value, Headers: headersFrom(m.Headers)})
		sent = append(sent, i)
	}
	// fates[i] is nil once batch[i] is done (published or dropped).
	fates := make([]error, len(batch))
	if len(out) > 0 {
		err := r.produce(ctx, out...)
		if err != nil && !errors.Is(err, kafka.ErrRefused) {
			// Kafka is away or slow: hold the whole batch, in order.
			return 0, batch, fmt.Errorf("publish %d outbox messages: %w", len(out), err)
		}
		if err != nil {
			for k, e := range r.split(ctx, out, err) {
				fates[sent[k]] = e
			}
		}
	}

	var done []int64
	var decisions []store.Decision
	var refused, held []store.OutboxMessage
	var heldErr error
	for i, m := range batch {
		switch err := fates[i]; {
		case err == nil:
			done = append(done, m.ID)
			if d := verdicts[i].decision; d != nil {
				decisions = append(decisions, *d)
			}
		case errors.Is(err, kafka.ErrRefused):
			refused = append(refused, m)
		default:
			held = append(held, m)
			heldErr = cmp.Or(heldErr, err)
		}
	}
	if len(decisions) > 0 {
		// Decisions before the delete: a crash in between republishes
		// (at-least-once) and rechecks again, but never loses the audit line.
		if err := st.CompleteEvents(ctx, store.Completion{Decisions: decisions}); err != nil {
			return 0, batch, fmt.Errorf("record %d recheck decisions: %w", len(decisions), err)
		}
		for _, d := range decisions {
			if d.Outcome == OutcomeDropped {
				p.opts.Metrics.records.WithLabelValues(d.Connector, OutcomeDropped).Inc()
				p.opts.Metrics.drops.WithLabelValues(d.Connector, RuleRecheckDropped).Inc()
			}
		}
	}
	if err := r.park(ctx, refused, batch, fates); err != nil {
		held = append(held, refused...)
		slices.SortFunc(held, func(a, b store.OutboxMessage) int { return cmp.Compare(a.ID, b.ID) })
		heldErr = cmp.Or(heldErr, err)
	}
	if err := st.DeleteOutbox(ctx, done); err != nil {
		// Published but not deleted: published again after the lease —
		// at-least-once, with stable CloudEvents ids.
		p.opts.Log.Error("delete published outbox messages", "messages", len(done), "err", err)
	}
	if len(held) > 0 {
		return len(batch) - len(held), held, fmt.Errorf("publish %d of %d outbox messages: %w", len(held), len(batch), heldErr)
	}
	return len(batch), nil, nil
}

func (r *relay) produce(ctx context.Context, msgs ...kafka.Message) error {
	ctx, cancel := context.WithTimeout(ctx, relayProduceTimeout)
	defer cancel()
	return r.p.opts.Producer.Produce(ctx, msgs...)
}

// stats refreshes the depth and age gauges and returns the depth (-1 when
// unknown, so the caller still tries to claim).
func (r *relay) stats(ctx context.Context, now time.Time) int64 {
	depth, age, err := r.p.opts.Store.OutboxStats(ctx, now)
	if err != nil {
		return -1
	}
	r.p.opts.Metrics.Outbox.WithLabelValues("depth").Set(float64(depth))
	r.p.opts.Metrics.Outbox.WithLabelValues("oldest_age_seconds").Set(age.Seconds())
	if dead, err := r.p.opts.Store.DeadOutbox(ctx); err == nil {
		r.p.opts.Metrics.Outbox.WithLabelValues("dead").Set(float64(dead))
	}
	return depth
}
