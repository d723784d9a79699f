package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Header is one Kafka record header (CloudEvents attributes travel here).
type Header struct {
	Key   string
	Value string
}

// Message is one record to produce. Key decides the partition (murmur2, as
// the Java client does), so records of one subject stay in order.
type Message struct {
	Topic   string
	Key     []byte
	Value   []byte
	Headers []Header
}

// Producer is safe for concurrent use; the gateway holds exactly one.
type Producer struct {
	cfg       Config
	transport *kafkago.Transport
	writer    *kafkago.Writer
	gather    gather
}

// New builds the producer. It does not contact the brokers: call Ping to
// find out whether they are reachable.
func New(cfg Config) (*Producer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kafka: invalid config: %w", err)
	}
	transport := &kafkago.Transport{
		ClientID:    cfg.ClientID,
		DialTimeout: min(5*time.Second, cfg.WriteTimeout),
	}
	p := &Producer{cfg: cfg, transport: transport}
	p.writer = &kafkago.Writer{
		Addr:         kafkago.TCP(cfg.Brokers...),
		Balancer:     kafkago.Murmur2Balancer{},
		RequiredAcks: kafkago.RequireAll,
		BatchSize:    cfg.BatchSize,
		// The producer lingers itself (gather.go); kafka-go reads 0 as
		// "use the 1s default", a nanosecond means "now".
		BatchTimeout:           time.Nanosecond,
		WriteTimeout:           cfg.WriteTimeout,
		ReadTimeout:            cfg.WriteTimeout,
		AllowAutoTopicCreation: cfg.AutoCreateTopics,
		Transport:              transport,
		MaxAttempts:            attemptsWithin(cfg.WriteTimeout),
		WriteBackoffMin:        backoffMin,
		WriteBackoffMax:        backoffMax,
		Async:                  true, // callers wait in gather.go
		Completion:             p.completed,
	}
	return p, nil
}

// Produce blocks until every message is acknowledged by all in-sync
// replicas, or fails. On failure none of msgs may be assumed delivered;
// an error matching ErrRefused (or ErrTopicRefused) will not go away by
// retrying the same messages.
func (p *Producer) Produce(ctx context.Context, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.WriteTimeout)
	defer cancel()

	// kafka-go wants header values as []byte: they are copied into one
	// buffer and sliced from it, one allocation per call instead of one
	// per header (a record carries ten CloudEvents headers).
	nh, size := 0, 0
	for _, m := range msgs {
		nh += len(m.Headers)
		for _, h := range m.Headers {
			size += len(h.Value)
		}
	}
	km := make([]kafkago.Message, len(msgs))
	headers := make([]kafkago.Header, nh)
	values := make([]byte, 0, size)
	for i, m := range msgs {
		if m.Topic == "" {
			return fmt.Errorf("kafka: produce %d messages: message %d has no topic", len(msgs), i)
		}
		km[i] = kafkago.Message{Topic: m.Topic, Key: m.Key, Value: m.Value}
		if len(m.Headers) > 0 {
			hs := headers[:len(m.Headers):len(m.Headers)]
			headers = headers[len(m.Headers):]
			for j, h := range m.Headers {
				start := len(values)
				values = append(values, h.Value...)
				hs[j] = kafkago.Header{Key: h.Key, Value: values[start:len(values):len(values)]}
			}
			km[i].Headers = hs
		}
	}
	start, ok := arrival(ctx)
	if !ok {
		start = time.Now()
	}
	c := &call{msgs: km, sendBy: start.Add(p.cfg.Linger), done: make(chan struct{})}
	for i := range km {
		km[i].WriterData = c
	}
	err := p.enqueue(c)
	if err == nil {
		select {
		case <-c.done:
			err = c.err
		case <-ctx.Done():
			// Taken back if still waiting; if already sent it may land,
			// which the contract allows (at-least-once).
			p.withdraw(c)
			err = ctx.Err()
		}
	}
	if err == nil {
		return nil
	}
	err = firstCause(err)
	noun := "messages"
	if len(msgs) == 1 {
		noun = "message"
	}
	if r := p.refusal(err, topicList(msgs)); r != nil {
		return fmt.Errorf("kafka: produce %d %s to %s: %s: %w (%w)",
			len(msgs), noun, topicsOf(msgs), p.hint(err), err, r)
	}
	return fmt.Errorf("kafka: produce %d %s to %s: %s: %w",
		len(msgs), noun, topicsOf(msgs), p.hint(err), err)
}

const (
	backoffMin = 100 * time.Millisecond
	backoffMax = time.Second
)

// attemptsWithin is how many attempts kafka-go's backoff (attempt² × min,
// capped at max) fits into d. The writer keeps retrying a batch after the
// caller has given up; stopping near the caller's deadline keeps Close
// prompt when the brokers are gone and limits late duplicates of messages
// the caller already handed to the outbox.
func attemptsWithin(d time.Duration) int {
	const ceiling = 10 // kafka-go's default
	attempts, spent := 1, time.Duration(0)
	for attempts < ceiling {
		next := min(time.Duration(attempts*attempts)*backoffMin, backoffMax)
		if spent+next > d {
			break
		}
		spent += next
		attempts++
	}
	return max(attempts, 2)
}

// Ping does a metadata round trip with the first broker that answers. It
// bypasses the producer's metadata cache, so /readyz sees a dead cluster.
func (p *Producer) Ping(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.cfg.WriteTimeout)
		defer cancel()
	}
	d := &kafkago.Dialer{ClientID: p.cfg.ClientID, Timeout: p.cfg.WriteTimeout}
	var errs []error
	for _, addr := range p.cfg.Brokers {
		err := pingOne(ctx, d, addr)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("kafka: ping: no broker answered at %s: check kafka.brokers: %w",
		p.cfg.brokerList(), errors.Join(errs...))
}

func pingOne(ctx context.Context, d *kafkago.Dialer, addr string) error {
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	_, err = conn.Brokers()
	return err
}

// Close sends what is still batched, waits for the acknowledgements and
// releases the connections. Produce calls after Close fail.
func (p *Producer) Close() error {
	p.closeGather()
	err := p.writer.Close()
	p.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("kafka: close producer: %w", err)
	}
	return nil
}

// firstCause unpacks kafka-go's per-message error slice (which does not
// unwrap) so errors.Is works on the result, and drops the offending message
// from a too-large error so no payload rides along in the error chain.
func firstCause(err error) error {
	var we kafkago.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if e != nil {
				err = e
				break
			}
		}
	}
	var tooLarge kafkago.MessageTooLargeError
	if errors.As(err, &tooLarge) {
		return kafkago.MessageSizeTooLarge
	}
	return err
}

func (p *Producer) hint(err error) string {
	brokers := p.cfg.brokerList()
	var ke kafkago.Error
	var ne net.Error
	switch {
	case errors.As(err, &ke):
		switch ke {
		case kafkago.UnknownTopicOrPartition:
			return "topic does not exist: create it (gateway start does) or set kafka.auto_create_topics"
		case kafkago.TopicAuthorizationFailed, kafkago.ClusterAuthorizationFailed:
			return "not authorized to write: check the broker ACLs for client id " + p.cfg.ClientID
		case kafkago.MessageSizeTooLarge:
			return "message too large: raise the topic's max.message.bytes"
		case kafkago.NotEnoughReplicas, kafkago.NotEnoughReplicasAfterAppend:
			return "not enough in-sync replicas for acks=all: check broker health"
		default:
			return "broker refused the write (" + ke.Title() + ")"
		}
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no acknowledgement within %s: broker unreachable or overloaded at %s: check kafka.brokers", p.cfg.WriteTimeout, brokers)
	case errors.Is(err, errClosed):
		return "the producer is closed (the gateway is shutting down)"
	case errors.Is(err, context.Canceled):
		return "cancelled before the acknowledgement"
	case errors.As(err, &ne):
		return "broker unreachable at " + brokers + ": check kafka.brokers"
	default:
		return "brokers " + brokers
	}
}

func topicsOf(msgs []Message) string { return strings.Join(topicList(msgs), ",") }

func topicList(msgs []Message) []string {
	var ts []string
	for _, m := range msgs {
		if !slices.Contains(ts, m.Topic) {
			ts = append(ts, m.Topic)
		}
	}
	return ts
}
