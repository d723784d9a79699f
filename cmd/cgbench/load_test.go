package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
)

// The load tool against the baseline: every 200 is a record on the topic,
// counted once, and records from before the run are not counted.
func TestLoadAgainstBaselineCountsEveryAcceptedRecord(t *testing.T) {
	brokers := kafkatest.Broker(t)
	cfg := kafka.DefaultConfig()
	cfg.Brokers = brokers
	p, err := kafka.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const topic = "crm.leads.v1"
	if err := p.EnsureTopics(t.Context(), []string{topic}, 3); err != nil {
		t.Fatal(err)
	}
	// An earlier run's record must not be counted.
	if err := p.Produce(t.Context(), kafka.Message{Topic: topic, Value: []byte(`{"id":"cgb-old-1"}`)}); err != nil {
		t.Fatal(err)
	}

	s, _ := newSigner(vectorSecret)
	w := rawWriter(cfg)
	defer w.Close()
	srv := httptest.NewServer(baselineHandler(s, w, topic, time.Now))
	defer srv.Close()

	start, err := endOffsets(t.Context(), brokers, topic)
	if err != nil {
		t.Fatal(err)
	}
	f := loadFlags{url: srv.URL, concurrency: 8, duration: 300 * time.Millisecond, timeout: 10 * time.Second}
	run := runID()
	res, err := drive(t.Context(), f, s, run)
	if err != nil {
		t.Fatal(err)
	}
	if res.ok == 0 || res.ok != res.requests() {
		t.Fatalf("%d of %d requests answered 200 (statuses %v)", res.ok, res.requests(), res.statuses)
	}
	records, distinct, err := countRun(t.Context(), brokers, topic, start, run, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if records != res.ok || distinct != res.ok {
		t.Fatalf("records %d, distinct %d, want both %d", records, distinct, res.ok)
	}

	// A wrong secret: every request refused, nothing forwarded.
	wrong, _ := newSigner("whsec_c2VjcmV0LXR3bw==")
	start, _ = endOffsets(t.Context(), brokers, topic)
	run = runID()
	if res, err = drive(t.Context(), f, wrong, run); err != nil {
		t.Fatal(err)
	}
	if res.ok != 0 || res.statuses["401"] != res.requests() {
		t.Fatalf("wrong secret: statuses %v", res.statuses)
	}
	records, _, err = countRun(t.Context(), brokers, topic, start, run, 300*time.Millisecond)
	if err != nil || records != 0 {
		t.Fatalf("wrong secret: %d records on topic (%v)", records, err)
	}
}

func TestSeqIn(t *testing.T) {
	marker := []byte("cgb-abc-")
	for in, want := range map[string]int64{
		`{"id":"cgb-abc-42","x":1}`: 42,
		`{"id":"cgb-abd-42"}`:       -1,
		`{"id":"cgb-abc-"}`:         -1,
		`cgb-abc-7`:                 7,
	} {
		if got := seqIn([]byte(in), marker); got != want {
			t.Errorf("seqIn(%s) = %d, want %d", in, got, want)
		}
	}
}

// The lean client keeps working when a server streams a chunked answer or
// closes the connection after answering, and counts what it got.
func TestClientSurvivesChunkedAndClosingAnswers(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !json.Valid(body) || r.Header.Get("webhook-signature") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch n.Add(1) % 3 {
		case 0:
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusAccepted)
		case 1:
			w.(http.Flusher).Flush() // no Content-Length: chunked
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		default:
			_, _ = w.Write([]byte(`{}`))
		}
	}))
	defer srv.Close()
	s, _ := newSigner(vectorSecret)
	f := loadFlags{url: srv.URL + "/webhooks/x?y=1", concurrency: 2, duration: 200 * time.Millisecond, timeout: 5 * time.Second}
	res, err := drive(t.Context(), f, s, runID())
	if err != nil {
		t.Fatal(err)
	}
	if res.netErr != 0 || res.statuses["400"] != 0 || res.statuses["202"] == 0 || res.ok == 0 {
		t.Fatalf("statuses %v, network errors %d", res.statuses, res.netErr)
	}

	if _, err := drive(t.Context(), loadFlags{url: "https://example.com/", concurrency: 1}, s, "r"); err == nil || !strings.Contains(err.Error(), "http://") {
		t.Fatalf("https URL: err = %v, want one naming the http:// form", err)
	}
}
