package kafka

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Config is the `kafka:` section of the gateway configuration.
type Config struct {
	// Brokers are the bootstrap addresses, host:port. Required.
	Brokers []string `yaml:"brokers" json:"brokers"`
	// Linger is how long a message may wait for company before it is
	// sent, counted from when its work began (WithArrival; else from the
	// Produce call). Higher means fewer, larger produce requests and
	// higher latency per webhook. Default 5ms.
	Linger time.Duration `yaml:"linger" json:"linger"`
	// BatchSize is the most messages sent to one partition in one request.
	// Default 100. kafka-go allocates room for BatchSize messages with
	// every batch, however few it ends up holding: at the default linger a
	// batch carries tens of messages, and 1000 made these allocations a
	// third of the gateway's bytes allocated. A full batch is sent at once,
	// so a smaller size costs nothing at low load and caps one request's
	// size at high load.
	BatchSize int `yaml:"batch_size" json:"batch_size"`
	// WriteTimeout bounds how long one Produce call waits for the
	// acknowledgement, retries included. Default 10s.
	WriteTimeout time.Duration `yaml:"write_timeout" json:"write_timeout"`
	// ClientID is sent to the brokers so their logs and quotas can tell
	// this gateway apart. Default "consentgate".
	ClientID string `yaml:"client_id" json:"client_id"`
	// AutoCreateTopics lets a produce to a missing topic create it with the
	// broker's defaults (only where the broker allows auto-creation).
	// Default false: topics are created by EnsureTopics at start.
	AutoCreateTopics bool `yaml:"auto_create_topics" json:"auto_create_topics"`

	// Logger receives the few operational notes the producer makes (topic
	// creation refused, for instance). Nil means slog.Default().
	Logger *slog.Logger `yaml:"-" json:"-"`
}

// DefaultConfig holds the defaults; Brokers is left empty on purpose.
func DefaultConfig() Config {
	return Config{
		Linger:       5 * time.Millisecond,
		BatchSize:    100,
		WriteTimeout: 10 * time.Second,
		ClientID:     "consentgate",
	}
}

// Validate reports every problem at once, each naming the key to fix.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New(`kafka.brokers: at least one broker is required, e.g. ["127.0.0.1:9092"]`))
	}
	for i, b := range c.Brokers {
		if strings.TrimSpace(b) == "" || !strings.Contains(b, ":") {
			errs = append(errs, fmt.Errorf("kafka.brokers[%d]: %q must be host:port", i, b))
		}
	}
	if c.Linger < 0 {
		errs = append(errs, errors.New("kafka.linger: must not be negative"))
	}
	if c.BatchSize < 1 {
		errs = append(errs, errors.New("kafka.batch_size: must be at least 1"))
	}
	if c.WriteTimeout <= 0 {
		errs = append(errs, errors.New(`kafka.write_timeout: must be positive, e.g. "10s"`))
	}
	return errors.Join(errs...)
}

func (c Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

func (c Config) brokerList() string { return strings.Join(c.Brokers, ",") }
