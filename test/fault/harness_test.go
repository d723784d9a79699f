package fault

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/consentgate/consentgate/internal/broker"
	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/pipeline"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

// Secrets the tests use; TestNoPersonalDataOrSecretsLeak looks for each.
const (
	testHashKey    = "fault-hash-key-0123456789abcdef-0123456789abcdef"
	testSecret     = "fault-signing-secret-6c1f"
	testAdminToken = "fault-admin-token-93ab"
	leadsTopic     = "crm.leads.v1"
)

// stdSecret is the standard-webhooks secret ("whsec_" + base64 key).
var stdSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("fault-standard-webhooks-key-0042"))

// webConnector is signed with HMAC-SHA256 hex over the body; event id in
// the body. Only forwarded with a marketing_email grant (EU, opt-in).
const webConnector = `
id: web
platform: generic
default_jurisdiction: EU
secrets:
  signing_secret: {env: FAULT_SIGNING_SECRET}
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
consent:
  checkboxes:
    - {key: consent.marketing_email, purpose: marketing_email}
    - {key: consent.sales_contact, purpose: sales_contact}
`

// stdConnector uses Standard Webhooks: the signed webhook-id is the event
// id, the signed timestamp has a 5 minute window.
const stdConnector = `
id: std
platform: generic
default_jurisdiction: EU
secrets:
  signing_secret: {env: FAULT_STD_SECRET}
settings:
  signature: {scheme: standard_webhooks, tolerance: 5m}
mapping:
  replace_defaults: true
  fields:
    lead.email: email
    lead.first_name: first_name
consent:
  checkboxes:
    - {key: consent.marketing_email, purpose: marketing_email}
`

// kafkaBroker is the embedded broker with a data directory, so it can be
// stopped and started again on the same port without losing the topic.
type kafkaBroker struct {
	t     testing.TB
	cfg   broker.Config
	mu    sync.Mutex
	b     *broker.Broker
	Addrs []string
}

func startBroker(t testing.TB) *kafkaBroker {
	t.Helper()
	k := &kafkaBroker{t: t, cfg: broker.Config{
		Addr: gwtest.FreeAddr(t), DataDir: t.TempDir(), Partitions: kafkatest.DefaultPartitions,
		Topics: []string{leadsTopic}, Logger: slog.New(slog.DiscardHandler),
	}}
	k.start()
	k.Addrs = []string{k.cfg.Addr}
	t.Cleanup(k.stop)
	return k
}

func (k *kafkaBroker) start() {
	k.t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		k.b, err = broker.Start(ctx, k.cfg)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("start broker on %s: %v", k.cfg.Addr, err)
		}
		time.Sleep(50 * time.Millisecond) // the port is being released
	}
}

func (k *kafkaBroker) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.b != nil {
		k.b.Close()
		k.b = nil
	}
}

// writeConfigDir writes the shipped policy and connectors (default web +
// std) into dir.
func writeConfigDir(t testing.TB, dir string, connectors map[string]string) {
	t.Helper()
	if connectors == nil {
		connectors = map[string]string{"web.yaml": webConnector, "std.yaml": stdConnector}
	}
	gwtest.WriteConfigDir(t, dir, "", connectors)
}

// secretEnv is the environment the connector and gateway files refer to.
func secretEnv() map[string]string {
	return map[string]string{
		"FAULT_HASH_KEY": testHashKey, "FAULT_ADMIN_TOKEN": testAdminToken,
		"FAULT_SIGNING_SECRET": testSecret, "FAULT_STD_SECRET": stdSecret,
	}
}

// startGateway starts an in-process gateway (gwtest) with the fault
// secrets, short Kafka timeouts and, unless o says otherwise, the web and
// std connectors.
func startGateway(t testing.TB, o gwtest.Options) *gwtest.Gateway {
	t.Helper()
	if o.Connectors == nil {
		o.Connectors = map[string]string{"web.yaml": webConnector, "std.yaml": stdConnector}
	}
	o.HashKey, o.AdminToken, o.SigningSecret, o.Env = testHashKey, testAdminToken, testSecret, secretEnv()
	mutate := o.Mutate
	o.Mutate = func(c *config.Gateway) {
		c.Kafka.WriteTimeout = 3 * time.Second
		c.Outbox.KafkaTimeout = time.Second
		if mutate != nil {
			mutate(c)
		}
	}
	return gwtest.Start(t, o)
}

// lead is a web lead with a marketing e-mail grant, so it is forwarded.
func lead(id, email, first string) []byte {
	return gwtest.Lead(id, map[string]any{"email": email, "first_name": first, "phone": "+49 151 " + fmt.Sprint(len(id)) + "2345678"},
		map[string]any{"marketing_email": true})
}

// load posts distinct leads from several workers until stopped and keeps
// what each request was answered.
type load struct {
	mu       sync.Mutex
	acked    map[string]bool // event id → answered 200
	sent     map[string]bool
	statuses map[int]int
	failures int // no HTTP answer (connection refused, reset)
	bodies   []string
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// startLoad runs workers, each sending up to perWorker requests at most
// every pace, to the gateway at *base (read per request, so a restarted
// gateway on another address can be followed).
func startLoad(base func() string, prefix string, workers, perWorker int, pace time.Duration) *load {
	l := &load{acked: map[string]bool{}, sent: map[string]bool{}, statuses: map[int]int{}, stop: make(chan struct{})}
	for w := range workers {
		l.wg.Go(func() {
			tick := time.NewTicker(pace)
			defer tick.Stop()
			for i := range perWorker {
				select {
				case <-l.stop:
					return
				case <-tick.C:
				}
				id := fmt.Sprintf("%s-%d-%d", prefix, w, i)
				body := lead(id, fmt.Sprintf("load.%d.%d@example.com", w, i), "Loadtester")
				l.mu.Lock()
				l.sent[id] = true
				l.mu.Unlock()
				r, err := gwtest.Send(base(), "web", testSecret, body, nil)
				l.mu.Lock()
				if err != nil {
					l.failures++
				} else {
					l.statuses[r.Status]++
					if r.Status == http.StatusOK {
						l.acked[id] = true
					} else {
						l.bodies = append(l.bodies, r.Raw)
					}
				}
				l.mu.Unlock()
			}
		})
	}
	return l
}

func (l *load) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// finish stops the workers and waits for their last requests.
func (l *load) finish() {
	l.stopOnce.Do(func() { close(l.stop) })
	l.wg.Wait()
}

func (l *load) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("sent %d, answered 200: %d, statuses %v, no answer %d", len(l.sent), len(l.acked), l.statuses, l.failures)
}

// topicRecord is what the tests read back of a record.
type topicRecord struct {
	EventID string
	CEID    string
	Fields  map[string]string
}

// readTopic returns the records on topic by platform event id, polling
// until every id in want is there (or the deadline passes, which fails).
func readTopic(t testing.TB, brokers []string, topic string, want map[string]bool, timeout time.Duration) map[string][]topicRecord {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := map[string][]topicRecord{}
		for _, m := range kafkatest.ConsumeAll(t, brokers, topic, 500*time.Millisecond) {
			var v pipeline.Value
			if err := json.Unmarshal(m.Value, &v); err != nil {
				t.Fatalf("a record on %s is not JSON: %v", topic, err)
			}
			rec := topicRecord{EventID: v.Source.EventID, Fields: v.Fields}
			for _, h := range m.Headers {
				if h.Key == "ce_id" {
					rec.CEID = string(h.Value)
				}
			}
			got[v.Source.EventID] = append(got[v.Source.EventID], rec)
		}
		missing := 0
		for id := range want {
			if len(got[id]) == 0 {
				missing++
			}
		}
		if missing == 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged records never reached %s (it holds %d distinct ids)", missing, len(want), topic, len(got))
		}
	}
}

// checkDelivered asserts the at-least-once contract: every acknowledged
// id is on the topic; every copy of an id carries the same stable
// CloudEvents id, so consumers de-duplicate; nothing that was never sent
// appears.
func checkDelivered(t testing.TB, l *load, got map[string][]topicRecord, connector string) {
	t.Helper()
	dups := 0
	for id, recs := range got {
		if !l.sent[id] {
			t.Errorf("record %s is on the topic but was never sent", id)
		}
		if len(recs) > 1 {
			dups += len(recs) - 1
		}
		for _, r := range recs {
			if r.CEID != pipeline.EventID(connector, id) {
				t.Errorf("record %s carries ce_id %q, want the stable %q", id, r.CEID, pipeline.EventID(connector, id))
			}
		}
	}
	for id := range l.acked {
		if len(got[id]) == 0 {
			t.Errorf("acknowledged record %s is not on the topic", id)
		}
	}
	t.Logf("%s; distinct ids on the topic %d, extra copies %d (same ce_id)", l, len(got), dups)
}

// countRows counts rows of a table in the PostgreSQL database at dbURL.
func countRows(t testing.TB, dbURL, table string) int {
	t.Helper()
	db, err := sql.Open("postgres", dbURL)
	gwtest.Must(t, err)
	defer db.Close()
	var n int
	gwtest.Must(t, db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n))
	return n
}

// TestMain removes the consentgate binary the out-of-process tests build.
func TestMain(m *testing.M) {
	code := m.Run()
	gwtest.RemoveBinary()
	os.Exit(code)
}
