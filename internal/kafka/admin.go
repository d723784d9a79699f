package kafka

import (
	"context"
	"errors"
	"fmt"

	kafkago "github.com/segmentio/kafka-go"
)

// EnsureTopics creates the topics that do not exist yet, with partitions
// partitions each (<= 0: the broker's default) and the broker's default
// replication (1 on a single-broker cluster, which may default higher).
// Existing topics are left as they are. A broker that refuses creation
// (ACLs, policy) is logged, not fatal: in managed clusters topics are often
// created by the platform team, and Produce will say if one is missing.
func (p *Producer) EnsureTopics(ctx context.Context, topics []string, partitions int) error {
	if len(topics) == 0 {
		return nil
	}
	client := &kafkago.Client{Addr: kafkago.TCP(p.cfg.Brokers...), Transport: p.transport, Timeout: p.cfg.WriteTimeout}

	meta, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: topics})
	if err != nil {
		return fmt.Errorf("kafka: ensure topics: read cluster metadata from %s: check kafka.brokers: %w", p.cfg.brokerList(), err)
	}
	replication := -1
	if len(meta.Brokers) == 1 {
		replication = 1
	}
	if partitions <= 0 {
		partitions = -1
	}
	req := &kafkago.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafkago.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: replication})
	}
	resp, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("kafka: ensure topics: create on %s: %w", p.cfg.brokerList(), err)
	}

	var errs []error
	for _, t := range topics {
		terr := resp.Errors[t]
		switch {
		case terr == nil:
			p.cfg.logger().Info("kafka topic created", "topic", t, "partitions", partitions, "replication", replication)
		case errors.Is(terr, kafkago.TopicAlreadyExists):
		case errors.Is(terr, kafkago.TopicAuthorizationFailed),
			errors.Is(terr, kafkago.ClusterAuthorizationFailed),
			errors.Is(terr, kafkago.PolicyViolation):
			p.cfg.logger().Warn("kafka topic creation not allowed; assuming it is managed elsewhere",
				"topic", t, "reason", terr.Error())
		default:
			errs = append(errs, fmt.Errorf("kafka: ensure topic %s: %w", t, terr))
		}
	}
	return errors.Join(errs...)
}
