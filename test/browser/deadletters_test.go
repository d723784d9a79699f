package browser

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

// webConnector is a file connector; generic cannot fetch, so a fetch job
// queued for it is dead-lettered at the first attempt.
const webConnector = `
id: web
platform: generic
secrets:
  signing_secret: {env: BROWSER_SIGNING_SECRET}
settings:
  signature: {scheme: hmac}
`

// TestDeadLetters: a marketer sees the lead fetches that failed, discards
// one and queues another again.
func TestDeadLetters(t *testing.T) {
	gw := startGateway(t, map[string]string{"web.yaml": webConnector})
	requireRoute(t, gw, http.MethodGet, "/deadletters")
	st := gw.G.Store
	now := time.Now().UTC()
	gwtest.Must(t, st.EnqueueJobs(t.Context(), []store.Job{
		{Connector: "web", EventID: "lead-a", Ref: "lead-a", OccurredAt: now},
		{Connector: "web", EventID: "lead-b", Ref: "lead-b", OccurredAt: now},
	}))
	dead := waitDead(t, st, "lead-a", "lead-b")

	b := newBrowser(t, gw)
	b.signIn(adminToken)
	discard, retry := dead["lead-a"], dead["lead-b"]
	b.run("list",
		chromedp.Click(`//nav//a[text()="Dead letters"]`),
		chromedp.WaitVisible(`//table//tr[td/code[text()="lead-a"]]`),
		chromedp.WaitVisible(`//table//tr[td/code[text()="lead-b"]]`),
	)
	b.run("discard",
		chromedp.Click(byAria(fmt.Sprintf("Discard job %d", discard))),
		chromedp.WaitNotPresent(`//table//tr[td/code[text()="lead-a"]]`),
		// The status line says what was done (for screen readers too).
		chromedp.WaitVisible(fmt.Sprintf(`//*[@id="status" and contains(., "Job %d discarded")]`, discard)),
	)
	b.run("retry",
		chromedp.Click(byAria(fmt.Sprintf("Retry job %d", retry))),
		chromedp.WaitVisible(fmt.Sprintf(`//*[@id="status" and contains(., "Job %d queued again")]`, retry)),
	)
	jobs, err := st.ListJobs(t.Context(), "", 100)
	gwtest.Must(t, err)
	if slices.ContainsFunc(jobs, func(j store.Job) bool { return j.ID == discard }) {
		t.Fatalf("discarded job %d is still stored", discard)
	}
}

// waitDead waits until the jobs with these event ids are dead-lettered and
// returns their ids.
func waitDead(t *testing.T, st store.Store, events ...string) map[string]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	for {
		jobs, err := st.ListJobs(ctx, store.JobDeadLetter, 100)
		got := map[string]int64{}
		for _, j := range jobs {
			got[j.EventID] = j.ID
		}
		if err == nil && len(got) >= len(events) {
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("jobs %v not dead-lettered within 15s (got %v, err %v)", events, got, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
