package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
)

// Config configures the embedded broker.
type Config struct {
	// Addr is the host:port to listen on and to advertise to clients.
	// Default 127.0.0.1:9092. Port 0 picks a free port (see Addrs).
	Addr string `yaml:"addr" json:"addr"`
	// DataDir persists topics and records across restarts (e.g.
	// ./data/kafka). Empty keeps everything in memory.
	DataDir string `yaml:"data_dir" json:"data_dir"`
	// RetentionMs is how long records are kept, in milliseconds.
	// Default 7 days. -1 keeps them forever.
	RetentionMs int64 `yaml:"retention_ms" json:"retention_ms"`
	// RetentionBytes caps each partition's log, in bytes; the oldest
	// records go first. Default 256 MiB. -1 means no cap.
	RetentionBytes int64 `yaml:"retention_bytes" json:"retention_bytes"`
	// RetentionCheck is how often retention is enforced. Default 5 minutes
	// (Kafka's log.retention.check.interval.ms).
	RetentionCheck time.Duration `yaml:"retention_check" json:"retention_check"`
	// Partitions is the partition count of seeded and auto-created topics.
	// Default 3.
	Partitions int `yaml:"partitions" json:"partitions"`
	// Topics are created at start if missing.
	Topics []string `yaml:"topics" json:"topics"`

	// Logger receives the broker's warnings and errors. Nil: slog.Default().
	Logger *slog.Logger `yaml:"-" json:"-"`
}

// DefaultConfig holds the defaults.
func DefaultConfig() Config {
	return Config{
		Addr:           "127.0.0.1:9092",
		RetentionMs:    7 * 24 * time.Hour.Milliseconds(),
		RetentionBytes: 256 << 20,
		RetentionCheck: 5 * time.Minute,
		Partitions:     3,
	}
}

// withDefaults fills zero values, so callers may set only what they change.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Addr == "" {
		c.Addr = d.Addr
	}
	if c.RetentionMs == 0 {
		c.RetentionMs = d.RetentionMs
	}
	if c.RetentionBytes == 0 {
		c.RetentionBytes = d.RetentionBytes
	}
	if c.RetentionCheck <= 0 {
		c.RetentionCheck = d.RetentionCheck
	}
	if c.Partitions <= 0 {
		c.Partitions = d.Partitions
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
	stop    context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once
}

// Start listens on cfg.Addr, loads cfg.DataDir if it holds a previous run,
// and creates the seed topics. ctx bounds only the start, not the broker's
// life: call Close.
func Start(ctx context.Context, cfg Config) (*Broker, error) {
	cfg = cfg.withDefaults()
	host, port, err := splitAddr(cfg.Addr)
	if err != nil {
		return nil, err
	}
	if host == "" || net.ParseIP(host).IsUnspecified() {
		// kfake advertises the address it listens on; clients cannot dial
		// 0.0.0.0, so metadata would send them nowhere.
		return nil, fmt.Errorf("broker: listen address %q must name a host clients can reach, e.g. 127.0.0.1:%d", cfg.Addr, port)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		// kfake binds 127.0.0.1 itself; this lets --kafka-listen pick the host.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(cfg.Partitions),
		kfake.BrokerConfigs(map[string]string{
			"log.retention.ms":    strconv.FormatInt(cfg.RetentionMs, 10),
			"log.retention.bytes": strconv.FormatInt(cfg.RetentionBytes, 10),
		}),
		kfake.WithLogger(slogAdapter{cfg.Logger}),
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("broker: %s is in use: stop the other broker or pass --kafka-listen", cfg.Addr)
		}
		if cfg.DataDir != "" {
			return nil, fmt.Errorf("broker: start on %s with data dir %s: %w", cfg.Addr, cfg.DataDir, err)
		}
		return nil, fmt.Errorf("broker: start on %s: %w", cfg.Addr, err)
	}

	for _, t := range cfg.Topics {
		err := c.CreateTopic(t, int32(cfg.Partitions), nil)
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			c.Close()
			return nil, fmt.Errorf("broker: create seed topic %s: %w", t, err)
		}
	}

	rctx, stop := context.WithCancel(context.Background())
	b := &Broker{cluster: c, stop: stop}
	// Data loaded from an old run may already be past retention.
	c.ApplyRetention()
	b.wg.Go(func() { b.enforceRetention(rctx, cfg.RetentionCheck) })
	return b, nil
}

func (b *Broker) enforceRetention(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.cluster.ApplyRetention()
		}
	}
}

// Addrs are the bootstrap addresses clients should use.
func (b *Broker) Addrs() []string { return b.cluster.ListenAddrs() }

// Close stops accepting connections and, with a DataDir, saves the state
// that is not written continuously. Safe to call more than once.
func (b *Broker) Close() error {
	b.once.Do(func() {
		b.stop()
		b.wg.Wait()
		b.cluster.Close()
	})
	return nil
}

func splitAddr(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("broker: listen address %q: want host:port, e.g. 127.0.0.1:9092: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("broker: listen address %q: port must be a number 0-65535", addr)
	}
	return host, port, nil
}

// slogAdapter forwards kfake's warnings and errors; its info and debug
// lines are per request and would drown the dev console.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Logf(level kfake.LogLevel, format string, args ...any) {
	switch level {
	case kfake.LogLevelError:
		a.l.Error("kafka broker: " + fmt.Sprintf(format, args...))
	case kfake.LogLevelWarn:
		a.l.Warn("kafka broker: " + fmt.Sprintf(format, args...))
	}
}
