package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/consentgate/consentgate/internal/consent"
)

// Metrics are labelled by connector id, outcome, action and rule names:
// configuration, never data.
type Metrics struct {
	requests *prometheus.CounterVec
	records  *prometheus.CounterVec
	fields   *prometheus.CounterVec
	drops    *prometheus.CounterVec
	Latency  *prometheus.HistogramVec
	Outbox   *prometheus.GaugeVec
	Jobs     *prometheus.CounterVec
	// Backlog is the fetch-job queue: pending, dead_letter and the age of
	// the oldest pending job.
	Backlog *prometheus.GaugeVec
}

// NewMetrics registers the pipeline's metrics with reg (nil: a private
// registry, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "consentgate_requests_total", Help: "Webhook requests by connector, kind (delivery, handshake) and HTTP status."}, []string{"connector", "kind", "status"}),
		records:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "consentgate_records_total", Help: "Records by connector and outcome (forwarded, queued, dropped, duplicate, test, ignored, rejected)."}, []string{"connector", "outcome"}),
		fields:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "consentgate_field_actions_total", Help: "Field decisions by connector, action (keep, redact, hash, mask, drop) and rule."}, []string{"connector", "action", "rule"}),
		drops:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "consentgate_records_dropped_total", Help: "Records dropped whole, by connector and rule."}, []string{"connector", "rule"}),
		Latency:  prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "consentgate_request_duration_seconds", Help: "Webhook request latency by connector.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"connector"}),
		Outbox:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "consentgate_outbox", Help: "Outbox depth (messages) and age of the oldest message (seconds)."}, []string{"measure"}),
		Jobs:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "consentgate_fetch_jobs_total", Help: "Fetch job attempts by connector and result (done, retry, dead_letter)."}, []string{"connector", "result"}),
		Backlog:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "consentgate_fetch_jobs", Help: "Fetch jobs waiting (pending), dead-lettered (dead_letter) and the age of the oldest pending one (oldest_age_seconds)."}, []string{"measure"}),
	}
	reg.MustRegister(m.requests, m.records, m.fields, m.drops, m.Latency, m.Outbox, m.Jobs, m.Backlog)
	return m
}

func (m *Metrics) observe(connector string, r consent.Result) {
	for _, fa := range r.FieldActions {
		m.fields.WithLabelValues(connector, fa.Action, fa.Rule).Inc()
	}
	if r.Drop {
		m.drops.WithLabelValues(connector, r.DropRule).Inc()
	}
}
