package fault

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

// A platform retry that arrives while the first attempt's claim is still
// pending — the first attempt is in flight on another instance, or its
// process died before answering — must not be acknowledged as a
// duplicate: nothing is durable yet, and if the first attempt never
// completes, a 200 here would lose the record for good. The safe answer is
// 503 with Retry-After; by the retry the claim is done (a real duplicate),
// released, or past its lease (taken over).
func TestRetryDuringPendingClaimIsNotAcknowledged(t *testing.T) {
	gw := startGateway(t, gwtest.Options{})
	won, err := gw.Store.ClaimEvents(context.Background(), []store.EventKey{{Connector: "web", EventID: "evt-pending"}}, time.Now(), 2*time.Minute)
	gwtest.Must(t, err)
	if !won[0] {
		t.Fatal("setup: could not take the claim")
	}
	r := gw.Post("web", lead("evt-pending", "pending@example.com", "Pia"), nil)
	if r.Status == http.StatusOK {
		t.Fatalf("a retry during a pending claim was acknowledged (summary %v) although nothing is durable", r.Body["summary"])
	}
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Errorf("status %d Retry-After %q, want 503 with Retry-After", r.Status, r.Header.Get("Retry-After"))
	}
}
