package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/store"
)

// split sends msgs again topic by topic after first (the error of sending
// them together) said some are refused for good, and the messages of a
// topic that refuses single messages (too large) one by one, to find which
// ones Kafka will never take. It returns each message's outcome: nil
// (published), an error matching kafka.ErrRefused (to be parked), or
// another error (to be held). Within a topic, a message that fails for now
// holds every later one, so a subject's records keep their order; topics
// are independent (Kafka orders only within a partition).
func (r *relay) split(ctx context.Context, msgs []kafka.Message, first error) []error {
	var topics []string
	byTopic := map[string][]int{}
	for i, m := range msgs {
		if _, seen := byTopic[m.Topic]; !seen {
			topics = append(topics, m.Topic)
		}
		byTopic[m.Topic] = append(byTopic[m.Topic], i)
	}
	errs := make([]error, len(msgs))
	for _, topic := range topics {
		idx := byTopic[topic]
		err := first // one topic: that was its send
		if len(topics) > 1 {
			group := make([]kafka.Message, len(idx))
			for k, i := range idx {
				group[k] = msgs[i]
			}
			err = r.produce(ctx, group...)
		}
		if err == nil || !errors.Is(err, kafka.ErrRefused) || errors.Is(err, kafka.ErrTopicRefused) || len(idx) == 1 {
			for _, i := range idx {
				errs[i] = err
			}
			continue
		}
		for k, i := range idx {
			errs[i] = r.produce(ctx, msgs[i])
			if errs[i] != nil && !errors.Is(errs[i], kafka.ErrRefused) {
				for _, j := range idx[k+1:] {
					errs[j] = errs[i]
				}
				break
			}
		}
	}
	return errs
}

// park marks refused messages dead in the outbox, so they stop holding up
// the ones behind them, and logs each (outbox id, topic, error: never a
// key or payload). fates holds each batch message's error.
func (r *relay) park(ctx context.Context, refused, batch []store.OutboxMessage, fates []error) error {
	if len(refused) == 0 {
		return nil
	}
	reason := make(map[int64]error, len(refused))
	for i, m := range batch {
		if fates[i] != nil {
			reason[m.ID] = fates[i]
		}
	}
	// One update per distinct reason: a topic's messages share theirs.
	var order []string
	byReason := map[string][]int64{}
	for _, m := range refused {
		text := reason[m.ID].Error()
		if _, seen := byReason[text]; !seen {
			order = append(order, text)
		}
		byReason[text] = append(byReason[text], m.ID)
	}
	now := r.p.opts.Now()
	for _, text := range order {
		if err := r.p.opts.Store.ParkOutbox(ctx, byReason[text], text, now); err != nil {
			return fmt.Errorf("park %d outbox messages Kafka refused: %w", len(refused), err)
		}
	}
	for _, m := range refused {
		r.p.opts.Log.Error("outbox message parked: Kafka refuses it for good; fix the cause and requeue it (docs/reliability.md)",
			"outbox_id", m.ID, "topic", m.Topic, "attempts", m.Attempts, "err", reason[m.ID])
	}
	return nil
}
