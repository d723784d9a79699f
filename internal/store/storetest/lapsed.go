package storetest

import (
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

// lapsedTests cover LapsedGrants, which the expiry sweeper uses to publish
// one "expired" event per grant whose purpose validity ran out.
var lapsedTests = []test{
	{"OnlyCurrentGrantsInTheWindow", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		day := 24 * time.Hour
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{
			// In the window and still current: listed.
			entry("in-1", "sk-a", "marketing_email", store.StatusGranted, t0.Add(time.Hour), t0),
			entry("in-2", "sk-b", "marketing_email", store.StatusGranted, t0.Add(2*time.Hour), t0),
			// In the window but withdrawn later: nothing left to expire.
			entry("replaced", "sk-c", "marketing_email", store.StatusGranted, t0.Add(time.Hour), t0),
			entry("withdrawal", "sk-c", "marketing_email", store.StatusWithdrawn, t0.Add(3*time.Hour), t0),
			// In the window but renewed later: the renewal has its own clock.
			entry("renewed-old", "sk-d", "marketing_email", store.StatusGranted, t0.Add(time.Hour), t0),
			entry("renewed-new", "sk-d", "marketing_email", store.StatusGranted, t0.Add(5*day), t0),
			// Same obtained time, a later denial recorded: the denial is current.
			entry("tie-grant", "sk-e", "marketing_email", store.StatusGranted, t0.Add(time.Hour), t0),
			entry("tie-deny", "sk-e", "marketing_email", store.StatusDenied, t0.Add(time.Hour), t0.Add(time.Minute)),
			// Denials never lapse; other purposes and times are outside.
			entry("denied", "sk-f", "marketing_email", store.StatusDenied, t0.Add(time.Hour), t0),
			entry("other-purpose", "sk-a", "analytics", store.StatusGranted, t0.Add(time.Hour), t0),
			entry("before", "sk-g", "marketing_email", store.StatusGranted, t0.Add(-time.Second), t0),
			entry("at-end", "sk-h", "marketing_email", store.StatusGranted, t0.Add(day), t0),
			entry("at-start", "sk-i", "marketing_email", store.StatusGranted, t0, t0),
		}), "append")
		got, err := s.LapsedGrants(ctx, "marketing_email", t0, t0.Add(day))
		ok(t, err, "lapsed grants")
		var ids []string
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		equal(t, "lapsed grants, oldest first, window [from, before)", ids, []string{"at-start", "in-1", "in-2"})
		equal(t, "entries come back whole", got[1].SubjectKey, "sk-a")

		none, err := s.LapsedGrants(ctx, "marketing_email", t0.Add(10*day), t0.Add(11*day))
		ok(t, err, "empty window")
		equal(t, "empty window", len(none), 0)
	}},
}
