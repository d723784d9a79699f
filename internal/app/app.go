package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/consentgate/consentgate/internal/adminapi"
	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/connsync"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/httpapi"
	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/pipeline"
	"github.com/consentgate/consentgate/internal/policy"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/backend"
	"github.com/consentgate/consentgate/internal/store/groupcommit"
	"github.com/consentgate/consentgate/internal/subject"
	"github.com/consentgate/consentgate/internal/yamlx"
)

// Options adapt a run (dev mode, tests).
type Options struct {
	Log *slog.Logger
	// Secret resolves every secret reference; default config.ResolveSecret.
	Secret func(ref config.SecretRef, base string) (string, error)
	// Ready is called once the gateway listens.
	Ready func(g *Gateway)
	// StartTimeout bounds the start-up pings of Kafka and the database.
	StartTimeout time.Duration
	// Listener, when set, is used instead of listening on cfg.Listen.
	Listener net.Listener
}

// Gateway is a running gateway.
type Gateway struct {
	Config     *config.Gateway
	Policy     *policy.Policy
	Store      store.Store
	Producer   *kafka.Producer
	Pipeline   *pipeline.Pipeline
	Server     *httpapi.Server
	Connectors []*config.Connector
	Addr       string
	HashKey    []byte
	AdminToken string
	Registry   *prometheus.Registry
	Admin      *adminapi.API
	keyer      *subject.Keyer
	log        *slog.Logger
	secret     func(ref config.SecretRef, base string) (string, error)

	// Sync keeps the live connectors equal to files + stored connectors.
	Sync *connsync.Syncer
}

// Loaded is everything that comes from files, before any I/O.
type Loaded struct {
	Policy     *policy.Policy
	Engine     *consent.Engine
	Keyer      *subject.Keyer
	HashKey    []byte
	Connectors []*config.Connector
}

// PolicyView adapts a policy to what connector checks need.
type PolicyView struct{ P *policy.Policy }

func (v PolicyView) HasPurpose(n string) bool { _, ok := v.P.Purposes[n]; return ok }
func (v PolicyView) PurposeNames() []string   { return v.P.PurposeNames() }
func (v PolicyView) HasField(f string) bool   { _, _, ok := v.P.Category(f); return ok }
func (v PolicyView) FieldNames() []string     { return v.P.Fields() }

// Load reads the policy, the hash key and the connectors, reporting every
// problem of every file at once.
func Load(cfg *config.Gateway, secret func(config.SecretRef, string) (string, error)) (*Loaded, error) {
	if secret == nil {
		secret = config.ResolveSecret
	}
	var ps yamlx.Problems
	l := &Loaded{}
	pol, err := policy.Load(cfg.Path(cfg.Policy))
	if err != nil {
		ps = append(ps, yamlx.AsProblems(cfg.Path(cfg.Policy), err)...)
	}
	l.Policy = pol
	key, err := secret(cfg.HashKey, cfg.Dir)
	switch {
	case err != nil:
		ps = append(ps, cfg.Problem("hash_key", fmt.Sprintf("%v (the key must hold at least 32 random bytes, e.g. `openssl rand -base64 48`)", err)))
	case len(key) < 32:
		ps = append(ps, cfg.Problem("hash_key", fmt.Sprintf("the key has %d bytes; it must have at least 32 (e.g. `openssl rand -base64 48`)", len(key))))
	default:
		l.HashKey = []byte(key)
	}
	if pol != nil && l.HashKey != nil {
		if l.Engine, err = consent.New(pol, l.HashKey); err != nil {
			ps = append(ps, yamlx.Problem{File: cfg.Path(cfg.Policy), Msg: err.Error()})
		}
		if l.Keyer, err = subject.NewKeyer(l.HashKey); err != nil {
			ps = append(ps, cfg.Problem("hash_key", err.Error()))
		}
	}
	// Connectors are checked even when the policy is broken (without the
	// checks that need it), so one run reports the problems of every file.
	opts := config.ConnectorOptions{Gateway: cfg,
		Secret: func(_, _ string, ref config.SecretRef) (string, error) {
			return secret(ref, cfg.Path(cfg.ConnectorsDir))
		},
		HTTPClient: &http.Client{Timeout: 30 * time.Second}}
	if pol != nil {
		opts.Policy = PolicyView{pol}
	}
	cs, err := config.LoadConnectors(cfg.Path(cfg.ConnectorsDir), opts)
	if err != nil {
		ps = append(ps, yamlx.AsProblems(cfg.Path(cfg.ConnectorsDir), err)...)
	}
	l.Connectors = cs
	if len(ps) > 0 {
		return nil, ps
	}
	return l, nil
}

// Start loads everything, connects to the database and Kafka, and starts
// serving. Run blocks until ctx ends; use Start+Wait in tests.
func Start(ctx context.Context, cfg *config.Gateway, o Options) (*Gateway, func() error, error) {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	if o.Secret == nil {
		o.Secret = config.ResolveSecret
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 15 * time.Second
	}
	l, err := Load(cfg, o.Secret)
	if err != nil {
		return nil, nil, fmt.Errorf("configuration is invalid:\n%w", err)
	}
	for _, w := range l.Policy.Warnings() {
		log.Warn("policy", "warning", w)
	}
	g := &Gateway{Config: cfg, Policy: l.Policy, Connectors: l.Connectors, HashKey: l.HashKey, log: log, secret: o.Secret, keyer: l.Keyer}
	if tok, err := o.Secret(cfg.AdminToken, cfg.Dir); err == nil {
		g.AdminToken = tok
	} else {
		log.Warn("no bootstrap admin token: only stored tokens can use the admin API", "hint", "set "+cfg.AdminToken.String()+" or run consentgate tokens create --bootstrap")
	}

	sctx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()
	st, err := backend.Open(sctx, cfg.Database.URL)
	if err != nil {
		return nil, nil, fmt.Errorf("open database (database.url / CONSENTGATE_DATABASE_URL): %w", err)
	}
	if err := st.Ping(sctx); err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("database unreachable (database.url / CONSENTGATE_DATABASE_URL): %w", err)
	}
	// Concurrent webhooks share claim, ledger and completion transactions
	// instead of queueing for one commit each (docs/performance.md).
	batched := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "consentgate_store_batch_callers",
		Help:    "Requests served by one group-committed store call, by operation.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 8),
	}, []string{"op"})
	batchTime := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "consentgate_store_batch_seconds",
		Help:    "Time of one group-committed store call, by operation; with SQLite's single writer their sum over time is how busy the writer is.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14),
	}, []string{"op"})
	gc := groupcommit.Options{Observe: func(op string, n int, took time.Duration) {
		batched.WithLabelValues(op).Observe(float64(n))
		batchTime.WithLabelValues(op).Observe(took.Seconds())
	}}
	if kind, _, _ := backend.Parse(cfg.Database.URL); kind == backend.KindSQLite {
		gc.Writers = 1 // one writer connection: let batches form while it is busy
	}
	st = groupcommit.Wrap(st, gc)
	g.Store = st

	kc := kafka.DefaultConfig()
	kc.Brokers, kc.Linger, kc.WriteTimeout, kc.ClientID = cfg.Kafka.Brokers, cfg.Kafka.Linger, cfg.Kafka.WriteTimeout, cfg.Kafka.ClientID
	kc.AutoCreateTopics, kc.Logger = cfg.Kafka.AutoCreateTopics, log
	prod, err := kafka.New(kc)
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("kafka config: %w", err)
	}
	if err := pingUntil(sctx, prod.Ping); err != nil {
		prod.Close()
		st.Close()
		return nil, nil, fmt.Errorf("kafka unreachable at %v (kafka.brokers / CONSENTGATE_KAFKA_BROKERS): %w", cfg.Kafka.Brokers, err)
	}
	if cfg.Kafka.AutoCreateTopics {
		t := cfg.Topics
		if err := prod.EnsureTopics(sctx, topicsOf(t, l.Connectors), cfg.Kafka.Partitions); err != nil {
			log.Warn("could not create topics; they must exist already", "err", err)
		}
	}
	g.Producer = prod

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), batched, batchTime)
	g.Registry = reg
	g.Pipeline = pipeline.New(pipeline.Options{
		Store: st, Producer: prod, Engine: l.Engine, Keyer: l.Keyer, PolicyVersion: l.Policy.Version,
		ConsentTopic: cfg.Topics.Consent, Log: log, Metrics: pipeline.NewMetrics(reg),
		KafkaTimeout: cfg.Outbox.KafkaTimeout, Lease: cfg.Dedupe.Lease,
	})
	// File connectors plus those stored through the admin API; fails when
	// stored secrets cannot be decrypted with the configured key ring.
	if err := g.startConnectorSync(sctx, l, o.Secret); err != nil {
		prod.Close()
		st.Close()
		return nil, nil, err
	}

	g.Server = httpapi.New(httpapi.Options{
		Pipeline: g.Pipeline, Log: log, Gatherer: reg,
		MaxBodyBytes: cfg.Limits.MaxBodyBytes, MaxInFlight: cfg.Limits.MaxInFlight,
		Checks: []httpapi.Check{{Name: "store", Ping: st.Ping}, {Name: "kafka", Ping: prod.Ping}},
		Mount:  []func(*gin.Engine){g.mountAdmin},
	})

	ln := o.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			prod.Close()
			st.Close()
			return nil, nil, fmt.Errorf("listen on %s (listen / CONSENTGATE_LISTEN): %w", cfg.Listen, err)
		}
	}
	g.Addr = ln.Addr().String()
	srv := &http.Server{
		Handler: g.Server.Handler(), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: cfg.HTTP.ReadTimeout, WriteTimeout: cfg.HTTP.WriteTimeout, IdleTimeout: cfg.HTTP.IdleTimeout,
	}

	wctx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	workers, wctx := errgroup.WithContext(wctx)
	workers.Go(func() error { return g.Pipeline.RunRelay(wctx, cfg.Outbox.RelayInterval) })
	workers.Go(func() error {
		return g.Pipeline.RunJobs(wctx, pipeline.JobOptions{Workers: cfg.Jobs.Workers, MaxAttempts: cfg.Jobs.MaxAttempts, BaseBackoff: cfg.Jobs.BaseBackoff, MaxBackoff: cfg.Jobs.MaxBackoff})
	})
	workers.Go(func() error { return g.purgeSeen(wctx, cfg.Dedupe.Window) })
	// Expired grants are announced on the consent topic; the filter already
	// treats them as absent whether or not this has run.
	workers.Go(func() error { return g.Pipeline.RunExpirySweeper(wctx, time.Minute, 24*time.Hour) })
	workers.Go(func() error { return g.Sync.Run(wctx, connectorPollInterval) })

	if addr := os.Getenv(EnvPprofListen); addr != "" {
		startPprof(ctx, addr, log)
	}

	serveErr := make(chan error, 1)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
		close(serveErr)
	}()
	log.Info("consentgate listening", "addr", g.Addr, "connectors", len(l.Connectors), "policy_version", l.Policy.Version)
	if o.Ready != nil {
		o.Ready(g)
	}

	wait := func() error {
		var runErr error
		select {
		case <-ctx.Done():
		case err := <-serveErr:
			runErr = fmt.Errorf("http server: %w", err)
		}
		log.Info("shutting down: draining requests")
		g.Server.SetReady(false)
		shCtx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(shCtx); err != nil {
			log.Warn("http drain incomplete", "err", err)
		}
		stopWorkers()
		if err := workers.Wait(); err != nil {
			log.Warn("workers", "err", err)
		}
		g.Pipeline.Drain()
		if err := prod.Close(); err != nil {
			log.Warn("kafka flush", "err", err)
		}
		if err := st.Close(); err != nil {
			log.Warn("close store", "err", err)
		}
		log.Info("stopped")
		return runErr
	}
	return g, wait, nil
}

// Run starts the gateway and blocks until ctx ends and shutdown is done.
func Run(ctx context.Context, cfg *config.Gateway, o Options) error {
	_, wait, err := Start(ctx, cfg, o)
	if err != nil {
		return err
	}
	return wait()
}

func (g *Gateway) purgeSeen(ctx context.Context, window time.Duration) error {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if n, err := g.Store.PurgeSeen(ctx, time.Now().Add(-window)); err != nil && ctx.Err() == nil {
			g.log.Warn("purge de-dup window", "err", err)
		} else if n > 0 {
			g.log.Info("purged de-dup window", "events", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func pingUntil(ctx context.Context, ping func(context.Context) error) error {
	var err error
	for {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err = ping(pctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func topicsOf(t config.Topics, cs []*config.Connector) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range []string{t.Leads, t.Interactions, t.Consent, t.Test} {
		add(s)
	}
	for _, c := range cs {
		add(c.Topics.Leads)
		add(c.Topics.Interactions)
		add(c.Topics.Test)
	}
	return out
}

// NewLogger builds the JSON (or text) slog logger of the config.
func NewLogger(c config.Log) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}
