package gwtest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/testutil/pgtest"
)

// The gateway file reads its secrets from these variables, so secrets
// never sit in a file the test leaves behind.
const (
	hashKeyEnv    = "GWTEST_HASH_KEY"
	adminTokenEnv = "GWTEST_ADMIN_TOKEN"
)

// Options says how to start a gateway; the zero value is usable.
type Options struct {
	// DatabaseURL is the database to use; "" means a throwaway PostgreSQL
	// database (or a SQLite file when SQLite is set).
	DatabaseURL string
	// SQLite uses a throwaway SQLite file when DatabaseURL is "".
	SQLite bool
	// Brokers are the Kafka brokers; nil means a fresh kfake cluster.
	Brokers []string
	// Connectors are connector files: file name → YAML.
	Connectors map[string]string
	// Policy is the policy YAML; "" means the shipped configs/policy.yaml.
	Policy string
	// Env is set (t.Setenv) before the config is loaded: the secrets that
	// connector files name with {env: ...}.
	Env map[string]string
	// HashKey and AdminToken are the gateway's secrets; defaults below.
	HashKey, AdminToken string
	// SigningSecret signs Post bodies (HMAC-SHA256 hex in X-Signature);
	// "" sends them unsigned.
	SigningSecret string
	// PublicURL sets the gateway's public URL to its own address (the
	// admin API and console show webhook URLs from it).
	PublicURL bool
	// Mutate changes the loaded config last, before the gateway starts.
	Mutate func(*config.Gateway)
	// DiscardLogs logs at info level (the shipped default) to nowhere, for
	// benchmarks: the lines are still encoded, as in production, but not
	// kept. Logs then returns "".
	DiscardLogs bool
}

// Defaults for Options.HashKey and Options.AdminToken.
const (
	DefaultHashKey    = "gwtest-hash-key-0123456789abcdef-0123456789abcdef"
	DefaultAdminToken = "gwtest-admin-token"
)

// Gateway is one running in-process gateway.
type Gateway struct {
	URL     string   // http://host:port
	Brokers []string // the Kafka brokers it writes to
	DB      string   // its database URL
	G       *app.Gateway
	Store   store.Store

	t          testing.TB
	secret     string
	adminToken string
	logs       *LogBuffer
	stopOnce   sync.Once
	stop       func()
}

// WriteConfigDir writes policy (the shipped one when "") and the connector
// files into dir, laid out as the gateway expects.
func WriteConfigDir(t testing.TB, dir, policy string, connectors map[string]string) {
	t.Helper()
	if policy == "" {
		b, err := os.ReadFile(filepath.Join(RepoRoot(t), "configs", "policy.yaml"))
		Must(t, err)
		policy = string(b)
	}
	Must(t, os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(policy), 0o600))
	Must(t, os.MkdirAll(filepath.Join(dir, "connectors"), 0o700))
	for name, body := range connectors {
		Must(t, os.WriteFile(filepath.Join(dir, "connectors", name), []byte(body), 0o600))
	}
}

// Start writes a config directory and starts the gateway on it; it is
// stopped when the test ends.
func Start(t testing.TB, o Options) *Gateway {
	t.Helper()
	dir := t.TempDir()
	WriteConfigDir(t, dir, o.Policy, o.Connectors)
	if o.Brokers == nil {
		o.Brokers = kafkatest.Broker(t)
	}
	if o.DatabaseURL == "" {
		if o.SQLite {
			o.DatabaseURL = "sqlite:" + filepath.Join(dir, "consentgate.db")
		} else {
			o.DatabaseURL = pgtest.URL(t)
		}
	}
	if o.HashKey == "" {
		o.HashKey = DefaultHashKey
	}
	if o.AdminToken == "" {
		o.AdminToken = DefaultAdminToken
	}
	t.Setenv(hashKeyEnv, o.HashKey)
	t.Setenv(adminTokenEnv, o.AdminToken)
	for k, v := range o.Env {
		t.Setenv(k, v)
	}
	gwFile := filepath.Join(dir, "consentgate.yaml")
	Must(t, os.WriteFile(gwFile, []byte("listen: 127.0.0.1:8080\nhash_key: {env: "+hashKeyEnv+"}\nadmin_token: {env: "+adminTokenEnv+"}\n"), 0o600))
	cfg, err := config.LoadGateway(gwFile)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	cfg.Database.URL = o.DatabaseURL
	cfg.Kafka.Brokers = o.Brokers
	cfg.Outbox.KafkaTimeout = 2 * time.Second
	cfg.Outbox.RelayInterval = 100 * time.Millisecond
	if o.Mutate != nil {
		o.Mutate(cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Must(t, err)
	if o.PublicURL {
		cfg.PublicURL = "http://" + ln.Addr().String()
	}
	logs := &LogBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.DiscardLogs {
		log = slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	g, wait, err := app.Start(ctx, cfg, app.Options{Log: log, Listener: ln, StartTimeout: 20 * time.Second})
	if err != nil {
		cancel()
		t.Fatalf("start gateway: %v", err)
	}
	gw := &Gateway{
		URL: "http://" + g.Addr, Brokers: o.Brokers, DB: o.DatabaseURL, G: g, Store: g.Store,
		t: t, secret: o.SigningSecret, adminToken: o.AdminToken, logs: logs,
	}
	gw.stop = func() {
		cancel()
		if err := wait(); err != nil {
			t.Errorf("gateway stopped with error: %v", err)
		}
	}
	t.Cleanup(gw.Stop)
	return gw
}

// Stop shuts the gateway down and waits for it; later calls do nothing.
func (g *Gateway) Stop() { g.stopOnce.Do(g.stop) }

// Logs returns what the gateway logged so far (JSON lines, debug level).
func (g *Gateway) Logs() string { return g.logs.String() }

// OutboxDepth is the number of records waiting for Kafka, -1 when the
// store cannot say.
func (g *Gateway) OutboxDepth() int64 {
	n, _, err := g.Store.OutboxStats(context.Background(), time.Now())
	if err != nil {
		return -1
	}
	return n
}

// Post sends body to the connector's webhook, signed with the signing
// secret unless headers override (an empty value removes a header).
func (g *Gateway) Post(connector string, body []byte, headers map[string]string) Response {
	g.t.Helper()
	r, err := Send(g.URL, connector, g.secret, body, headers)
	Must(g.t, err)
	return r
}

// API calls the admin API (path below /api/v1) with the bootstrap admin
// token; body is nil, a string sent as is, or a value sent as JSON.
func (g *Gateway) API(method, path string, body any) Response {
	g.t.Helper()
	return Call(g.t, method, g.URL+"/api/v1"+path, g.adminToken, body)
}
