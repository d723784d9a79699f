package adminapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/consentgate/consentgate/internal/adminapi"
	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/pipeline"
	"github.com/consentgate/consentgate/internal/policy"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/consentgate/consentgate/internal/subject"
)

const (
	consentTopic = "crm.consent.v1"
	hashKey      = "adminapi-test-hash-key-0123456789abcdef0123456789"
)

// roleTokens authenticates one fixed token per role, so every route can be
// called as every role without the stored-token machinery.
type roleTokens struct{}

func (roleTokens) Authenticate(_ context.Context, token string) (adminapi.Principal, error) {
	for _, r := range adminapi.Roles {
		if token == string(r)+"-token" {
			return adminapi.Principal{Name: "test-" + string(r), Role: r}, nil
		}
	}
	return adminapi.Principal{}, adminapi.ErrBadToken
}

// consentHarness is the admin API on a real SQLite store, a real broker
// and the shipped policy, served over real HTTP.
type consentHarness struct {
	t       *testing.T
	URL     string
	Store   store.Store
	Brokers []string
	Keyer   *subject.Keyer
	Policy  *policy.Policy
	logs    *syncBuffer
}

type harnessOptions struct {
	kafkaDown bool // the broker is gone before the first request
}

func newConsentHarness(t *testing.T, o harnessOptions) *consentHarness {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cg.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })

	cluster := kafkatest.Cluster(t)
	brokers := cluster.ListenAddrs()
	kc := kafka.DefaultConfig()
	kc.Brokers, kc.WriteTimeout = brokers, 2*time.Second
	prod, err := kafka.New(kc)
	if err != nil {
		t.Fatalf("kafka producer: %v", err)
	}
	t.Cleanup(func() { _ = prod.Close() })
	if o.kafkaDown {
		cluster.Close()
	} else if err := prod.EnsureTopics(ctx, []string{consentTopic}, 1); err != nil {
		t.Fatalf("create topic: %v", err)
	}

	pol, err := policy.Load(filepath.Join("..", "..", "configs", "policy.yaml"))
	if err != nil {
		t.Fatalf("load policy: %v", err)
	}
	eng, err := consent.New(pol, []byte(hashKey))
	if err != nil {
		t.Fatal(err)
	}
	keyer, err := subject.NewKeyer([]byte(hashKey))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	pl := pipeline.New(pipeline.Options{
		Store: st, Producer: prod, Engine: eng, Keyer: keyer, PolicyVersion: pol.Version,
		ConsentTopic: consentTopic, Log: log, KafkaTimeout: time.Second,
	})
	r := gin.New()
	adminapi.Mount(r, adminapi.Deps{
		Store: st, Pipeline: pl, Producer: prod, Keyer: keyer, Policy: pol, Log: log, Auth: roleTokens{},
		Topics: config.Topics{Leads: "crm.leads.v1", Interactions: "crm.interactions.v1", Consent: consentTopic, Test: "crm.test.v1"},
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &consentHarness{t: t, URL: srv.URL + "/api/v1", Store: st, Brokers: brokers, Keyer: keyer, Policy: pol, logs: logs}
}

type apiResponse struct {
	Status int
	Raw    string
	Body   map[string]any
}

// call sends body (any JSON value, or a string sent as is) as role ("" =
// no Authorization header).
func (h *consentHarness) call(role, method, path string, body any) apiResponse {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+role+"-token")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := apiResponse{Status: resp.StatusCode, Raw: string(raw)}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// must fails unless the response has the status.
func (r apiResponse) must(t *testing.T, status int) apiResponse {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	return r
}

func (r apiResponse) errorCode() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// fieldError returns the message for one field of an "invalid" error.
func (r apiResponse) fieldError(field string) string {
	e, _ := r.Body["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	s, _ := f[field].(string)
	return s
}

func (r apiResponse) path(keys ...string) any {
	var cur any = r.Body
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func (r apiResponse) str(keys ...string) string {
	s, _ := r.path(keys...).(string)
	return s
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
