package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/pipeline"
)

// Check is one readiness dependency (Kafka, store).
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Options configure the HTTP edge.
type Options struct {
	Pipeline     *pipeline.Pipeline
	Log          *slog.Logger
	Gatherer     prometheus.Gatherer
	MaxBodyBytes int64
	MaxInFlight  int
	Checks       []Check
	// Mount adds more routes (admin API, console) to the engine.
	Mount []func(r *gin.Engine)
}

// Server holds the router and the readiness switch.
type Server struct {
	opts     Options
	engine   *gin.Engine
	ready    atomic.Bool
	inFlight chan struct{}
	rates    *rateLimits
}

func init() { gin.SetMode(gin.ReleaseMode) }

// New builds the router.
func New(o Options) *Server {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 1024
	}
	s := &Server{opts: o, inFlight: make(chan struct{}, o.MaxInFlight), rates: newRateLimits(nil)}
	s.ready.Store(true)
	r := gin.New()
	// gin would answer a stray or missing trailing slash with a 301/307 and
	// an empty or HTML body; webhook senders do not follow redirects on POST
	// and API clients expect JSON, so such paths get the JSON 404 below.
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = true
	r.Use(s.requestID, s.accessLog, s.recover)
	r.NoRoute(func(c *gin.Context) {
		msg := "no such endpoint; webhooks go to /webhooks/{connector-id}"
		if strings.HasPrefix(c.Request.URL.Path, "/api/") {
			msg = "no such admin API endpoint; docs/openapi.yaml lists them all under /api/v1"
		}
		writeError(c, http.StatusNotFound, "not_found", msg)
	})
	r.NoMethod(func(c *gin.Context) {
		writeError(c, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this endpoint")
	})
	r.POST("/webhooks/:id", s.limit, s.deliver)
	r.GET("/webhooks/:id", s.limit, s.handshake)
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.readyz)
	if o.Gatherer != nil {
		r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{})))
	}
	for _, m := range o.Mount {
		m(r)
	}
	s.engine = r
	return s
}

// Handler is the root http.Handler.
func (s *Server) Handler() http.Handler { return s.engine }

// SetReady flips readiness (false from the start of shutdown).
func (s *Server) SetReady(v bool) { s.ready.Store(v) }

const requestIDKey = "request_id"

// RequestID returns the id of the request being served.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// requestID gives every request an id of the gateway's own. A client's
// X-Request-ID is ignored: the id lands in the access log, the decision
// log and the consent ledger's evidence, and a client-chosen value could
// carry personal data into all three.
func (s *Server) requestID(c *gin.Context) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	c.Set(requestIDKey, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	lvl := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		lvl = slog.LevelWarn
	}
	attrs := []any{"method", c.Request.Method, "route", route, "status", c.Writer.Status(),
		"duration_ms", float64(time.Since(start).Microseconds()) / 1000, "request_id", RequestID(c)}
	if route == "/webhooks/:id" {
		attrs = append(attrs, "connector", s.connectorLabel(c.Param("id")))
	}
	s.opts.Log.Log(c.Request.Context(), lvl, "http request", attrs...)
}

// connectorLabel is the path's connector id when it names a configured
// connector (enabled or not), else "unknown": the path is the sender's
// text and may carry anything, personal data included.
func (s *Server) connectorLabel(id string) string {
	if s.opts.Pipeline != nil {
		if _, ok := s.opts.Pipeline.Connectors()[id]; ok {
			return id
		}
	}
	return "unknown"
}

func (s *Server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.opts.Log.Error("panic serving request", "request_id", RequestID(c), "route", c.FullPath(), "panic", r)
			writeError(c, http.StatusInternalServerError, "internal", "internal error; the request id identifies it in the gateway logs")
		}
	}()
	c.Next()
}

// limit bounds in-flight webhook work: overload answers 503 with
// Retry-After rather than queueing without bound.
func (s *Server) limit(c *gin.Context) {
	select {
	case s.inFlight <- struct{}{}:
		defer func() { <-s.inFlight }()
		c.Next()
	default:
		c.Header("Retry-After", "1")
		writeError(c, http.StatusServiceUnavailable, "overloaded", "the gateway is at its in-flight limit; retry shortly")
	}
}

func (s *Server) request(c *gin.Context, body []byte) *ingest.Request {
	return &ingest.Request{
		Method: c.Request.Method, Header: c.Request.Header, Query: c.Request.URL.Query(),
		Body: body, ReceivedAt: time.Now().UTC(), RequestID: RequestID(c),
	}
}

func (s *Server) deliver(c *gin.Context) {
	start := time.Now()
	p := s.opts.Pipeline
	conn, ok := p.Connector(c.Param("id"))
	if !ok {
		writeError(c, http.StatusNotFound, "unknown_connector", "no enabled connector with this id; check the webhook URL or enable the connector")
		return
	}
	defer func() { p.Metrics().Latency.WithLabelValues(conn.ID).Observe(time.Since(start).Seconds()) }()
	// The rate limit comes before the body is read: refusing must stay cheap.
	if ok, wait := s.rates.allow(conn.ID, conn.RateLimit); !ok {
		c.Header("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
		writeError(c, http.StatusTooManyRequests, "rate_limited", "this connector is over its configured rate limit (rate_limit.rps); retry after the Retry-After delay")
		return
	}
	if c.Request.ContentLength > s.opts.MaxBodyBytes {
		writeError(c, http.StatusRequestEntityTooLarge, "too_large", "body is larger than the limit of "+strconv.FormatInt(s.opts.MaxBodyBytes, 10)+" bytes")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(c, http.StatusRequestEntityTooLarge, "too_large", "body is larger than the limit of "+strconv.FormatInt(s.opts.MaxBodyBytes, 10)+" bytes")
			return
		}
		writeError(c, http.StatusBadRequest, "malformed", "could not read the request body")
		return
	}
	// The Kafka linger counts from the webhook's arrival: time spent in the
	// store's batches is time already spent waiting for company.
	out := p.Deliver(kafka.WithArrival(c.Request.Context(), start), conn, s.request(c, body))
	if out.Status != http.StatusOK {
		if out.RetryAfter > 0 {
			c.Header("Retry-After", strconv.Itoa(int(out.RetryAfter.Seconds())))
		}
		writeError(c, out.Status, out.Code, out.Message)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "accepted", "request_id": RequestID(c), "summary": out.Summary})
}

func (s *Server) handshake(c *gin.Context) {
	p := s.opts.Pipeline
	conn, ok := p.Connector(c.Param("id"))
	if !ok {
		writeError(c, http.StatusNotFound, "unknown_connector", "no enabled connector with this id; check the webhook URL or enable the connector")
		return
	}
	resp, out := p.Handshake(conn, s.request(c, nil))
	if out.Status != http.StatusOK && resp.Status == 0 {
		if out.Status == http.StatusMethodNotAllowed {
			c.Header("Allow", "POST") // this platform has no GET handshake
		}
		writeError(c, out.Status, out.Code, out.Message)
		return
	}
	ct := resp.ContentType
	if ct == "" {
		ct = "text/plain; charset=utf-8"
	}
	c.Data(resp.Status, ct, resp.Body)
}

func (s *Server) readyz(c *gin.Context) {
	if !s.ready.Load() {
		writeError(c, http.StatusServiceUnavailable, "shutting_down", "the gateway is shutting down")
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{}
	ok := true
	for _, ch := range s.opts.Checks {
		if err := ch.Ping(ctx); err != nil {
			s.opts.Log.Warn("readiness check failed", "check", ch.Name, "err", err)
			checks[ch.Name] = "unreachable"
			ok = false
			continue
		}
		checks[ch.Name] = "ok"
	}
	if !ok {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not_ready", "checks": checks})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": checks})
}

// writeError writes the one JSON error shape.
func writeError(c *gin.Context, status int, code, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": gin.H{"code": code, "message": msg, "request_id": RequestID(c)}})
}

// WriteError is writeError for other packages mounting routes.
func WriteError(c *gin.Context, status int, code, msg string) { writeError(c, status, code, msg) }
