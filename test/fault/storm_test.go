package fault

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

// A platform retry storm: the same delivery 50 times at once yields
// exactly one record; every copy is answered 200 (the platform stops).
func TestRetryStormForwardsOnce(t *testing.T) {
	gw := startGateway(t, gwtest.Options{})
	body := lead("evt-storm", "storm@example.com", "Stormy")

	const n = 50
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		sum      = map[string]int{}
		start    = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-start
			r, err := gwtest.Send(gw.URL, "web", testSecret, body, nil)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				statuses[-1]++
				return
			}
			statuses[r.Status]++
			for _, k := range []string{"forwarded", "queued", "duplicates"} {
				sum[k] += r.Summary(k)
			}
		})
	}
	close(start)
	wg.Wait()

	if statuses[http.StatusOK] != n {
		t.Errorf("statuses %v, want all %d answered 200", statuses, n)
	}
	if sum["forwarded"]+sum["queued"] != 1 || sum["duplicates"] != n-1 {
		t.Errorf("summaries add up to %v, want 1 forwarded and %d duplicates", sum, n-1)
	}
	got := readTopic(t, gw.Brokers, leadsTopic, map[string]bool{"evt-storm": true}, 20*time.Second)
	if len(got) != 1 || len(got["evt-storm"]) != 1 {
		t.Errorf("topic holds %d copies of the stormed record (%d ids), want exactly 1", len(got["evt-storm"]), len(got))
	}
}
