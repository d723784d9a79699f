package adminapi_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
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
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
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
	logs    *gwtest.LogBuffer
}

type harnessOptions struct {
	kafkaDown bool // the broker is gone before the first request
}

func newConsentHarness(t *testing.T, o harnessOptions) *consentHarness {
	t.Helper()
	ctx := t.Context()
	st := openSQLite(t)

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

	pol, eng, keyer := shippedPolicy(t)
	logs, log := debugLog()
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

// call sends body (any JSON value, or a string sent as is) as role ("" =
// no Authorization header).
func (h *consentHarness) call(role, method, path string, body any) gwtest.Response {
	h.t.Helper()
	token := ""
	if role != "" {
		token = role + "-token"
	}
	return gwtest.Call(h.t, method, h.URL+path, token, body)
}

// openSQLite is a fresh SQLite store, closed when the test ends.
func openSQLite(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cg.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// shippedPolicy is the shipped policy with its consent engine and subject
// keyer under hashKey.
func shippedPolicy(t *testing.T) (*policy.Policy, *consent.Engine, *subject.Keyer) {
	t.Helper()
	pol, err := policy.Load(filepath.Join(gwtest.RepoRoot(t), "configs", "policy.yaml"))
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
	return pol, eng, keyer
}

// debugLog is a debug-level JSON logger and the buffer tests read it from.
func debugLog() (*gwtest.LogBuffer, *slog.Logger) {
	logs := &gwtest.LogBuffer{}
	return logs, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
