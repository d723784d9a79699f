package fault

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

// limitedConnector is web with a tight per-connector rate limit.
var limitedConnector = strings.Replace(webConnector, "id: web", "id: limited\nrate_limit: {rps: 0.2, burst: 2}", 1)

// A connector over its rate limit gets 429 with Retry-After before its
// body is read; other connectors are not affected; nothing is stored for
// the refused request.
func TestRateLimitAnswers429WithRetryAfter(t *testing.T) {
	gw := startGateway(t, gwtest.Options{Connectors: map[string]string{"web.yaml": webConnector, "limited.yaml": limitedConnector}})
	for i := range 2 {
		if r := gw.Post("limited", lead("rl-"+strconv.Itoa(i), "rl@example.com", "Rudi"), nil); r.Status != 200 {
			t.Fatalf("request %d within the burst: status %d %s", i, r.Status, r.Raw)
		}
	}
	r := gw.Post("limited", lead("rl-over", "rl@example.com", "Rudi"), nil)
	if r.Status != http.StatusTooManyRequests || r.ErrorCode() != "rate_limited" {
		t.Fatalf("over the limit: status %d code %q, want 429 rate_limited", r.Status, r.ErrorCode())
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 5 {
		t.Errorf("Retry-After %q, want 1-5 s at 0.2 rps", r.Header.Get("Retry-After"))
	}
	if !strings.Contains(r.ErrorMessage(), "rate_limit") {
		t.Errorf("message %q should name the setting", r.ErrorMessage())
	}
	if r := gw.Post("web", lead("rl-other", "other@example.com", "Otto"), nil); r.Status != 200 {
		t.Errorf("another connector was limited too: %d", r.Status)
	}
	ds := countRows(t, gw.DB, "seen_events")
	if ds != 3 {
		t.Errorf("%d de-dup entries, want 3 (the refused request leaves none)", ds)
	}
}

// Beyond limits.max_in_flight concurrent webhooks the gateway answers 503
// with Retry-After at once instead of queueing without bound. Kafka is
// stopped so each admitted request stays in flight for the Kafka timeout.
func TestInFlightLimitAnswers503WithRetryAfter(t *testing.T) {
	k := startBroker(t)
	gw := startGateway(t, gwtest.Options{Brokers: k.Addrs, Mutate: func(c *config.Gateway) { c.Limits.MaxInFlight = 2 }})
	k.stop()

	const n = 12
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		retry    = map[string]bool{}
		start    = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			r, err := gwtest.Send(gw.URL, "web", testSecret, lead("inflight-"+strconv.Itoa(i), "busy@example.com", "Bea"), nil)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			statuses[r.Status]++
			if r.Status == http.StatusServiceUnavailable {
				retry[r.Header.Get("Retry-After")] = true
				if r.ErrorCode() != "overloaded" {
					t.Errorf("503 code %q, want overloaded", r.ErrorCode())
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if statuses[http.StatusServiceUnavailable] == 0 || statuses[http.StatusOK] == 0 || statuses[http.StatusOK] > n-1 {
		t.Errorf("statuses %v, want some admitted (200 via the outbox) and some refused with 503", statuses)
	}
	if retry[""] {
		t.Errorf("a 503 without Retry-After")
	}
	k.start()
	gwtest.WaitFor(t, 30*time.Second, "the outbox to drain", func() bool { return gw.OutboxDepth() == 0 })
}
