package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

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
// topics are the produce call's.
func (p *Producer) refusal(err error, topics []string) error {
	var ke kafkago.Error
	if !errors.As(err, &ke) {
		return nil
	}
	switch ke {
	case kafkago.UnknownTopicOrPartition:
		if p.cfg.AutoCreateTopics {
			return nil // being created: the next metadata round has it
		}
		// kafka-go answers from metadata cached for seconds: a topic
		// created since, or a broker that just restarted, looks unknown.
		// Only a fresh answer saying a topic does not exist is final.
		if p.topicMissing(topics) {
			return ErrTopicRefused
		}
		return nil
	case kafkago.TopicAuthorizationFailed, kafkago.InvalidTopic:
		return ErrTopicRefused
	case kafkago.MessageSizeTooLarge, kafkago.RecordListTooLarge, kafkago.InvalidRecord, kafkago.InvalidTimestamp:
		// RecordListTooLarge may be the batch's fault: a caller that
		// splits finds out whether the message alone is refused.
		return ErrRefused
	}
	return nil
}

// topicMissing asks a broker, past any cache, whether one of topics does
// not exist; without a clear answer it says no (transient).
func (p *Producer) topicMissing(topics []string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.WriteTimeout)
	defer cancel()
	fresh := &kafkago.Transport{ClientID: p.cfg.ClientID, DialTimeout: min(5*time.Second, p.cfg.WriteTimeout)}
	defer fresh.CloseIdleConnections()
	c := &kafkago.Client{Addr: kafkago.TCP(p.cfg.Brokers...), Transport: fresh, Timeout: p.cfg.WriteTimeout}
	md, err := c.Metadata(ctx, &kafkago.MetadataRequest{Topics: topics})
	if err != nil {
		return false
	}
	for _, t := range md.Topics {
		if errors.Is(t.Error, kafkago.UnknownTopicOrPartition) {
			return true
		}
	}
	return false
}
