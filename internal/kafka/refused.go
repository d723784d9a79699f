package kafka

import (
	"errors"
	"fmt"

	kafkago "github.com/segmentio/kafka-go"
)

// Produce errors carry one of these sentinels when retrying the same
// messages cannot succeed until an operator acts, so a caller with a
// queue (the outbox relay) sets them aside instead of retrying them ahead
// of everything else. Everything else (brokers unreachable, timeouts, a
// leader election, too few in-sync replicas) is transient.
var (
	// ErrRefused: the brokers refused the message itself (too large, an
	// invalid record or timestamp); other messages may go through.
	ErrRefused = errors.New("refused for good")
	// ErrTopicRefused: the brokers refuse every message of the topic (it
	// does not exist and auto-creation is off, writing to it is not
	// authorized, its name is invalid). It matches ErrRefused too.
	ErrTopicRefused = fmt.Errorf("topic %w", ErrRefused)
)

// refusal returns the sentinel err deserves, or nil when err is transient.
func (p *Producer) refusal(err error) error {
	var ke kafkago.Error
	if !errors.As(err, &ke) {
		return nil
	}
	switch ke {
	case kafkago.UnknownTopicOrPartition:
		if p.cfg.AutoCreateTopics {
			return nil // being created: the next metadata round has it
		}
		return ErrTopicRefused
	case kafkago.TopicAuthorizationFailed, kafkago.InvalidTopic:
		return ErrTopicRefused
	case kafkago.MessageSizeTooLarge, kafkago.RecordListTooLarge, kafkago.InvalidRecord, kafkago.InvalidTimestamp:
		// RecordListTooLarge may be the batch's fault: a caller that
		// splits finds out whether the message alone is refused.
		return ErrRefused
	}
	return nil
}
