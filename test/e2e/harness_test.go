package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/consentgate/consentgate/internal/testutil/pgtest"
)

// repoRoot finds the module root, so tests read the shipped configs.
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

const (
	testHashKey = "test-hash-key-0123456789abcdef-0123456789abcdef"
	testSecret  = "test-signing-secret"
)

// gateway is one in-process gateway on a real broker and a real database.
type gateway struct {
	t       testing.TB
	URL     string
	Brokers []string
	G       *app.Gateway
	logs    *lockedWriter
	stop    func()
}

type gwOptions struct {
	databaseURL string // default: a throwaway PostgreSQL database
	brokers     []string
	connectors  map[string]string // file name → YAML; default the sample
	policy      string            // default configs/policy.yaml
	mutate      func(*config.Gateway)
}

// startGateway writes a config directory and starts the gateway on it.
func startGateway(t testing.TB, o gwOptions) *gateway {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	if o.policy == "" {
		b, err := os.ReadFile(filepath.Join(root, "configs", "policy.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		o.policy = string(b)
	}
	must(t, os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(o.policy), 0o600))
	must(t, os.MkdirAll(filepath.Join(dir, "connectors"), 0o700))
	if o.connectors == nil {
		o.connectors = map[string]string{"sample.yaml": sampleConnector}
	}
	for name, body := range o.connectors {
		must(t, os.WriteFile(filepath.Join(dir, "connectors", name), []byte(body), 0o600))
	}
	if o.brokers == nil {
		o.brokers = kafkatest.Broker(t)
	}
	if o.databaseURL == "" {
		o.databaseURL = pgtest.URL(t)
	}
	gwFile := filepath.Join(dir, "consentgate.yaml")
	must(t, os.WriteFile(gwFile, []byte("listen: 127.0.0.1:8080\nhash_key: {env: E2E_HASH_KEY}\nadmin_token: {env: E2E_ADMIN_TOKEN}\n"), 0o600))
	t.Setenv("E2E_HASH_KEY", testHashKey)
	t.Setenv("E2E_ADMIN_TOKEN", "e2e-admin-token")
	t.Setenv("E2E_SIGNING_SECRET", testSecret)
	cfg, err := config.LoadGateway(gwFile)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	cfg.Database.URL = o.databaseURL
	cfg.Kafka.Brokers = o.brokers
	cfg.Outbox.KafkaTimeout = 2 * time.Second
	cfg.Outbox.RelayInterval = 100 * time.Millisecond
	if o.mutate != nil {
		o.mutate(cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	logs := &lockedWriter{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	g, wait, err := app.Start(ctx, cfg, app.Options{Log: log, Listener: ln, StartTimeout: 20 * time.Second})
	if err != nil {
		cancel()
		t.Fatalf("start gateway: %v", err)
	}
	gw := &gateway{t: t, URL: "http://" + g.Addr, Brokers: o.brokers, G: g, logs: logs}
	var stopped bool
	gw.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := wait(); err != nil {
			t.Errorf("gateway stopped with error: %v", err)
		}
	}
	t.Cleanup(gw.stop)
	return gw
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sampleConnector is a generic connector signed with HMAC-SHA256 hex.
const sampleConnector = `
id: web
platform: generic
default_jurisdiction: EU
secrets:
  signing_secret: {env: E2E_SIGNING_SECRET}
settings:
  signature: {scheme: hmac, header: X-Signature, encoding: hex, prefix: "sha256="}
  event_id_path: id
  occurred_at_path: occurred_at
mapping:
  replace_defaults: true
  fields:
    lead.email: email
    lead.phone: phone
    lead.first_name: first_name
    lead.last_name: last_name
    lead.country: country
    lead.health: health_condition
consent:
  checkboxes:
    - {key: consent.marketing_email, purpose: marketing_email, notice: {id: web-privacy, version: "3"}}
    - {key: consent.sales_contact, purpose: sales_contact}
    - {key: consent.health, purpose: health_outreach}
`

func sign(body []byte) string {
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// post sends body to the connector, signed unless headers say otherwise.
func (g *gateway) post(connector string, body []byte, headers map[string]string) response {
	g.t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.URL+"/webhooks/"+connector, bytes.NewReader(body))
	must(g.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", sign(body))
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	return do(g.t, req)
}

func do(t testing.TB, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

// errorCode digs the error code out of the JSON error body.
func (r response) errorCode() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (r response) errorMessage() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// lead builds a sample lead body.
func lead(id string, fields map[string]any, consent map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": id, "occurred_at": "2026-11-20T10:00:00Z", "lead": fields, "consent": consent,
	})
	return b
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

// Logs returns what the gateway logged so far.
func (g *gateway) Logs() string { return g.logs.String() }

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
