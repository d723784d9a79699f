package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/subject"
)

// Producer is the part of the Kafka sink the pipeline uses.
type Producer interface {
	Produce(ctx context.Context, msgs ...kafka.Message) error
}

// Options wire a pipeline.
type Options struct {
	Store         store.Store
	Producer      Producer
	Engine        *consent.Engine
	Keyer         *subject.Keyer
	PolicyVersion string
	ConsentTopic  string
	Log           *slog.Logger
	Metrics       *Metrics
	Now           func() time.Time
	// KafkaTimeout bounds the wait for Kafka before the outbox takes over.
	KafkaTimeout time.Duration
	// Lease is how long a de-dup claim protects an event in flight.
	Lease time.Duration
}

// Pipeline processes deliveries for a set of connectors that can be
// swapped at run time (reload, admin API) without dropping requests.
type Pipeline struct {
	opts       Options
	connectors atomic.Pointer[map[string]*config.Connector]
	marks      *marks
	flights    flights
}

// EraseBarrier prepares an erasure of a subject on this instance: new
// deliveries of the subject wait at their start, and those already under
// way (from before their claim to their answer) are waited for, so their
// records precede the erasure's event and their statements are erased
// with the rest. Call the returned func once the erasure is done; it lets
// the waiting deliveries go on, as submissions made after it. Waiting
// gives up with an error, the subject still closed until the func is
// called, when ctx ends or after longer than a delivery takes with Kafka
// away (the Kafka timeout, then the outbox write).
func (p *Pipeline) EraseBarrier(ctx context.Context, subjectKey string) (func(), error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.KafkaTimeout+30*time.Second)
	defer cancel()
	open, err := p.flights.erase(ctx, subjectKey)
	if err != nil {
		return open, fmt.Errorf("wait for the subject's deliveries under way: %w", err)
	}
	return open, nil
}

// New returns a pipeline; call SetConnectors before use.
func New(o Options) *Pipeline {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.KafkaTimeout <= 0 {
		o.KafkaTimeout = 3 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	p := &Pipeline{opts: o, marks: &marks{st: o.Store, log: o.Log}}
	empty := map[string]*config.Connector{}
	p.connectors.Store(&empty)
	return p
}

// SetConnectors replaces the live connector set atomically.
func (p *Pipeline) SetConnectors(cs []*config.Connector) {
	m := make(map[string]*config.Connector, len(cs))
	for _, c := range cs {
		m[c.ID] = c
	}
	p.connectors.Store(&m)
}

// Connectors returns the live connector set.
func (p *Pipeline) Connectors() map[string]*config.Connector { return *p.connectors.Load() }

// Connector finds an enabled connector; ok is false for unknown or
// disabled ones (both answer 404: a disabled connector must look absent).
func (p *Pipeline) Connector(id string) (*config.Connector, bool) {
	c, ok := (*p.connectors.Load())[id]
	if !ok || !c.Enabled {
		return nil, false
	}
	return c, true
}

// Metrics exposes the pipeline's metrics (for the HTTP layer).
func (p *Pipeline) Metrics() *Metrics { return p.opts.Metrics }

// Outcome is the answer for one delivery.
type Outcome struct {
	Status int
	// Code and Message explain an error to the sender (no PII).
	Code    string
	Message string
	// RetryAfter is set on 429/503.
	RetryAfter time.Duration
	Summary    Summary
}

// Summary counts what a delivery turned into.
type Summary struct {
	Records    int `json:"records"`
	Forwarded  int `json:"forwarded"`
	Queued     int `json:"queued"`
	Dropped    int `json:"dropped"`
	Duplicates int `json:"duplicates"`
	Jobs       int `json:"jobs"`
	Ignored    int `json:"ignored"`
	// Rejected counts items refused on their own (see ingest.Rejection);
	// the delivery's other items were processed.
	Rejected int `json:"rejected"`
}

// maxEventID bounds an event id: far above any platform's, far below what
// the stores' indexes take.
const maxEventID = 1024

// checkEventIDs takes out, for every connector, the records and jobs whose
// event id a store would choke on or a log would mangle (PostgreSQL
// refuses NUL outright, which surfaced as a 503 the platform retried for
// days), as rejections of their own: like any bad item, they must not
// take the delivery's valid items down with them. The delivery is refused
// only when nothing usable is left.
func checkEventIDs(b ingest.Batch) (ingest.Batch, error) {
	bad := func(what string, i int, id string) error {
		switch {
		case len(id) > maxEventID:
			return fmt.Errorf("%w: %s %d: its event id is longer than %d bytes: send a shorter id", ingest.ErrMalformed, what, i, maxEventID)
		case !utf8.ValidString(id):
			return fmt.Errorf("%w: %s %d: its event id is not valid UTF-8: send ids of printable text", ingest.ErrMalformed, what, i)
		case strings.IndexFunc(id, unicode.IsControl) >= 0:
			return fmt.Errorf("%w: %s %d: its event id holds a control character (such as NUL or a tab): send ids of printable text", ingest.ErrMalformed, what, i)
		}
		return nil
	}
	clean := true
	for _, r := range b.Records {
		clean = clean && bad("record", 0, r.EventID) == nil
	}
	for _, j := range b.Jobs {
		clean = clean && bad("fetch job", 0, j.EventID) == nil
	}
	if clean {
		return b, nil // every delivery passes here: no copy
	}
	recs, jobs := b.Records[:0:0], b.Jobs[:0:0]
	for i, r := range b.Records {
		if err := bad("record", i, r.EventID); err != nil {
			b.Reject(i, err)
			continue
		}
		recs = append(recs, r)
	}
	for i, j := range b.Jobs {
		if err := bad("fetch job", i, j.EventID); err != nil {
			b.Reject(i, err)
			continue
		}
		jobs = append(jobs, j)
	}
	b.Records, b.Jobs = recs, jobs
	return b.Result()
}

func fail(err error) Outcome {
	st := ingest.StatusOf(err)
	return Outcome{Status: st, Code: codeOf(st), Message: err.Error()}
}

func codeOf(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusBadRequest:
		return "malformed"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusMethodNotAllowed:
		return "no_handshake"
	case http.StatusNotFound:
		return "unknown_connector"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "internal"
}

var errUnavailable = errors.New("the gateway could not store this delivery right now (Kafka and the database are unavailable); retry later")

// Handshake answers a platform's GET verification.
func (p *Pipeline) Handshake(c *config.Connector, req *ingest.Request) (ingest.Response, Outcome) {
	h, ok := c.Impl.(ingest.Handshaker)
	if !ok {
		return ingest.Response{}, fail(ingest.Errorf(ingest.ErrNoHandshake, "platform %s has no GET handshake; send deliveries with POST", c.Platform))
	}
	resp, err := h.Handshake(req)
	if err != nil {
		p.opts.Metrics.requests.WithLabelValues(c.ID, "handshake", statusLabel(ingest.StatusOf(err))).Inc()
		return ingest.Response{}, fail(err)
	}
	p.opts.Metrics.requests.WithLabelValues(c.ID, "handshake", "200").Inc()
	return resp, Outcome{Status: resp.Status}
}

// Deliver runs one verified-size delivery through the pipeline.
func (p *Pipeline) Deliver(ctx context.Context, c *config.Connector, req *ingest.Request) Outcome {
	out := p.deliver(ctx, c, req)
	p.opts.Metrics.requests.WithLabelValues(c.ID, "delivery", statusLabel(out.Status)).Inc()
	return out
}

func (p *Pipeline) deliver(ctx context.Context, c *config.Connector, req *ingest.Request) Outcome {
	log := p.opts.Log.With("connector", c.ID, "request_id", req.RequestID)
	if err := c.Impl.Verify(req); err != nil {
		log.Info("delivery refused", "status", ingest.StatusOf(err), "reason", err.Error())
		return fail(err)
	}
	batch, err := c.Impl.Parse(req)
	if err == nil {
		batch, err = checkEventIDs(batch)
	}
	if err != nil {
		log.Info("delivery refused", "status", ingest.StatusOf(err), "reason", err.Error())
		return fail(err)
	}
	sum := Summary{Records: len(batch.Records), Jobs: len(batch.Jobs), Ignored: batch.Ignored, Rejected: len(batch.Rejected)}
	if batch.Ignored > 0 {
		p.opts.Metrics.records.WithLabelValues(c.ID, "ignored").Add(float64(batch.Ignored))
	}
	if n := len(batch.Rejected); n > 0 {
		// One line per delivery, not per item: a batch of 1000 broken
		// updates must not flood the log. Reasons name positions and
		// fixed field names only.
		p.opts.Metrics.records.WithLabelValues(c.ID, "rejected").Add(float64(n))
		log.Warn("delivery items rejected", "rejected", n, "first_reason", batch.Rejected[0].Reason)
	}
	if len(batch.Jobs) > 0 {
		if err := p.enqueue(ctx, c, batch.Jobs, req); err != nil {
			log.Error("store fetch jobs", "err", err)
			return Outcome{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: errUnavailable.Error(), RetryAfter: 10 * time.Second}
		}
	}
	if len(batch.Records) > 0 {
		res, err := p.process(ctx, c, batch.Records, evidence{
			requestID:  req.RequestID,
			receivedAt: req.ReceivedAt,
			payload:    req.Body,
			gpc:        req.Header.Get("Sec-GPC") == "1",
		})
		if errors.Is(err, errInFlight) {
			log.Info("duplicate of a delivery still in flight; asking for a retry")
			return Outcome{Status: http.StatusServiceUnavailable, Code: "in_flight", Message: errInFlight.Error(), RetryAfter: 5 * time.Second}
		}
		if err != nil {
			log.Error("delivery not kept", "err", err)
			return Outcome{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: errUnavailable.Error(), RetryAfter: 10 * time.Second}
		}
		sum.Forwarded, sum.Queued, sum.Dropped, sum.Duplicates = res.forwarded, res.queued, res.dropped, res.duplicates
	}
	return Outcome{Status: http.StatusOK, Summary: sum}
}

// enqueue stores the delivery's fetch jobs with the notification's
// evidence (request id, body hash), which the fetched lead's consent
// statements will carry.
func (p *Pipeline) enqueue(ctx context.Context, c *config.Connector, jobs []ingest.FetchJob, req *ingest.Request) error {
	now := p.opts.Now()
	sum := ""
	if len(req.Body) > 0 {
		h := sha256.Sum256(req.Body)
		sum = hex.EncodeToString(h[:])
	}
	sj := make([]store.Job, len(jobs))
	for i, j := range jobs {
		sj[i] = store.Job{Connector: c.ID, EventID: j.EventID, Ref: j.Ref, Form: j.Form, OccurredAt: j.OccurredAt, State: store.JobPending, NextAttempt: now, CreatedAt: now, UpdatedAt: now,
			RequestID: req.RequestID, PayloadSHA256: sum}
	}
	return p.opts.Store.EnqueueJobs(ctx, sj)
}

func statusLabel(s int) string { return strconv.Itoa(s) }
