package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
)

const (
	testHashKey = "browser-hash-key-0123456789abcdef-0123456789abcdef"
	adminToken  = "browser-admin-token"
	testSecret  = "browser-signing-secret"
)

// repoRoot finds the module root, so tests read the shipped policy.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// gateway is one in-process gateway on kfake and a throwaway SQLite file.
type gateway struct {
	t    testing.TB
	URL  string
	G    *app.Gateway
	logs *lockedWriter
}

// startGateway starts a gateway with the shipped policy and the given
// connector files (file name → YAML), with the admin API on.
func startGateway(t testing.TB, connectors map[string]string) *gateway {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	pol, err := os.ReadFile(filepath.Join(root, "configs", "policy.yaml"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "policy.yaml"), pol, 0o600))
	must(t, os.MkdirAll(filepath.Join(dir, "connectors"), 0o700))
	for name, body := range connectors {
		must(t, os.WriteFile(filepath.Join(dir, "connectors", name), []byte(body), 0o600))
	}
	gwFile := filepath.Join(dir, "consentgate.yaml")
	must(t, os.WriteFile(gwFile, []byte("listen: 127.0.0.1:8080\nhash_key: {env: BROWSER_HASH_KEY}\nadmin_token: {env: BROWSER_ADMIN_TOKEN}\n"), 0o600))
	t.Setenv("BROWSER_HASH_KEY", testHashKey)
	t.Setenv("BROWSER_ADMIN_TOKEN", adminToken)
	t.Setenv("BROWSER_SIGNING_SECRET", testSecret)
	// Secrets typed into the console are stored sealed under this ring.
	t.Setenv("CONSENTGATE_SECRET_KEYS", "browser-test:0123456789abcdef0123456789abcdef0123")
	cfg, err := config.LoadGateway(gwFile)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	cfg.Database.URL = "sqlite:" + filepath.Join(dir, "consentgate.db")
	cfg.Kafka.Brokers = kafkatest.Broker(t)
	cfg.Outbox.KafkaTimeout = 2 * time.Second
	cfg.Outbox.RelayInterval = 100 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	cfg.PublicURL = "http://" + ln.Addr().String() // the console shows webhook URLs from it
	logs := &lockedWriter{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	g, wait, err := app.Start(ctx, cfg, app.Options{Log: log, Listener: ln, StartTimeout: 20 * time.Second})
	if err != nil {
		cancel()
		t.Fatalf("start gateway: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := wait(); err != nil {
			t.Errorf("gateway stopped with error: %v", err)
		}
	})
	return &gateway{t: t, URL: "http://" + g.Addr, G: g, logs: logs}
}

// api calls the admin API as admin and decodes the JSON answer into out.
func (g *gateway) api(method, path string, body any, out any) int {
	g.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		must(g.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, g.URL+"/api/v1"+path, rd)
	must(g.t, err)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	must(g.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		_ = json.Unmarshal(raw, out)
	}
	return resp.StatusCode
}

// requireRoute skips the test when the admin API does not serve a route
// yet (the API is built alongside the console).
func (g *gateway) requireRoute(method, path string) {
	g.t.Helper()
	if isNoRoute(g, method, path) {
		g.t.Skipf("SKIP: admin API route %s /api/v1%s does not exist yet", method, path)
	}
}

// isNoRoute tells a missing route from a missing resource: gin's NoRoute
// answer names the webhook path.
func isNoRoute(g *gateway, method, path string) bool {
	req, _ := http.NewRequest(method, g.URL+"/api/v1"+path, strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusNotFound && strings.Contains(string(raw), "no such endpoint")
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}
