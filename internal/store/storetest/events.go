package storetest

import (
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/consentgate/consentgate/internal/store"
)

const lease = time.Minute

var eventTests = []test{
	{"ClaimSecondLoses", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		a, b := key("meta-1", "lead-1"), key("meta-1", "lead-2")
		won, err := s.ClaimEvents(ctx, []store.EventKey{a}, t0, lease)
		ok(t, err, "first claim")
		equal(t, "first claim", won, []bool{true})

		won, err = s.ClaimEvents(ctx, []store.EventKey{a, b}, t0.Add(time.Second), lease)
		ok(t, err, "second claim")
		equal(t, "second claim (a taken, b new)", won, []bool{false, true})

		// The same event id under another connector is another event.
		won, err = s.ClaimEvents(ctx, []store.EventKey{key("meta-2", "lead-1")}, t0, lease)
		ok(t, err, "claim other connector")
		equal(t, "other connector", won, []bool{true})

		won, err = s.ClaimEvents(ctx, nil, t0, lease)
		ok(t, err, "claim nothing")
		equal(t, "claim nothing", len(won), 0)
	}},
	{"ClaimDuplicateInBatch", func(t *testing.T, s store.Store) {
		a, b := key("x", "1"), key("x", "2")
		won, err := s.ClaimEvents(t.Context(), []store.EventKey{a, b, a}, t0, lease)
		ok(t, err, "claim")
		equal(t, "a key listed twice is won once", won, []bool{true, true, false})
	}},
	{"ClaimAfterLeaseExpiry", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		a := []store.EventKey{key("tiktok", "e1")}
		_, err := s.ClaimEvents(ctx, a, t0, lease)
		ok(t, err, "claim")
		won, err := s.ClaimEvents(ctx, a, t0.Add(lease-time.Second), lease)
		ok(t, err, "claim within lease")
		equal(t, "within lease", won, []bool{false})
		won, err = s.ClaimEvents(ctx, a, t0.Add(lease+time.Second), lease)
		ok(t, err, "claim after lease")
		equal(t, "abandoned claim is re-claimable", won, []bool{true})
		// The re-claim starts a new lease.
		won, err = s.ClaimEvents(ctx, a, t0.Add(lease+2*time.Second), lease)
		ok(t, err, "claim within new lease")
		equal(t, "within new lease", won, []bool{false})
	}},
	{"CompletedIsNeverWonAgain", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		a := []store.EventKey{key("li", "urn:li:lead:1")}
		_, err := s.ClaimEvents(ctx, a, t0, lease)
		ok(t, err, "claim")
		ok(t, s.CompleteEvents(ctx, store.Completion{Done: a}), "complete")
		won, err := s.ClaimEvents(ctx, a, t0.Add(24*time.Hour), lease)
		ok(t, err, "claim completed")
		equal(t, "completed key long after lease", won, []bool{false})
		ok(t, s.ReleaseEvents(ctx, a), "release completed")
		won, err = s.ClaimEvents(ctx, a, t0.Add(24*time.Hour), lease)
		ok(t, err, "claim after release of completed")
		equal(t, "release does not undo completion", won, []bool{false})
	}},
	{"CompleteWithoutClaim", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		a := []store.EventKey{key("g", "1")}
		ok(t, s.CompleteEvents(ctx, store.Completion{Done: a}), "complete unclaimed")
		won, err := s.ClaimEvents(ctx, a, t0, lease)
		ok(t, err, "claim")
		equal(t, "completed without claim is a duplicate", won, []bool{false})
	}},
	{"ReleaseLetsClaimAgain", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		a := []store.EventKey{key("x", "tweet-1")}
		_, err := s.ClaimEvents(ctx, a, t0, lease)
		ok(t, err, "claim")
		ok(t, s.ReleaseEvents(ctx, a), "release")
		won, err := s.ClaimEvents(ctx, a, t0.Add(time.Second), lease)
		ok(t, err, "claim after release")
		equal(t, "released key", won, []bool{true})
		ok(t, s.ReleaseEvents(ctx, nil), "release nothing")
		ok(t, s.ReleaseEvents(ctx, []store.EventKey{key("x", "never")}), "release unknown")
	}},
	{"ConcurrentClaimersOneWinner", func(t *testing.T, s store.Store) {
		a := []store.EventKey{key("meta", "contested")}
		var winners atomic.Int32
		var g errgroup.Group
		for range 50 {
			g.Go(func() error {
				won, err := s.ClaimEvents(t.Context(), a, t0, lease)
				if err == nil && won[0] {
					winners.Add(1)
				}
				return err
			})
		}
		ok(t, g.Wait(), "concurrent claims")
		equal(t, "winners of one key among 50 claimers", winners.Load(), int32(1))
	}},
	{"ConcurrentOverlappingBatches", func(t *testing.T, s store.Store) {
		// Batches sharing keys in different orders must neither deadlock
		// nor hand a key to two claimers.
		all := keys("meta", 20)
		wins := make([]atomic.Int32, len(all))
		index := make(map[store.EventKey]int, len(all))
		for i, k := range all {
			index[k] = i
		}
		var g errgroup.Group
		for i := range 8 {
			batch := append([]store.EventKey(nil), all...)
			r := rand.New(rand.NewPCG(uint64(i), 7))
			r.Shuffle(len(batch), func(a, b int) { batch[a], batch[b] = batch[b], batch[a] })
			g.Go(func() error {
				won, err := s.ClaimEvents(t.Context(), batch, t0, lease)
				for j, w := range won {
					if w {
						wins[index[batch[j]]].Add(1)
					}
				}
				return err
			})
		}
		ok(t, g.Wait(), "concurrent batches")
		for i := range wins {
			equal(t, "winners of "+all[i].EventID, wins[i].Load(), int32(1))
		}
	}},
	{"CompleteIsAtomic", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		a := []store.EventKey{key("meta", "lead-9")}
		_, err := s.ClaimEvents(ctx, a, t0, lease)
		ok(t, err, "claim")
		d := decision("d1", "meta", "lead-9", "forwarded", t0)
		bad := store.Completion{Done: a, Decisions: []store.Decision{d},
			Outbox: []store.OutboxMessage{{Topic: "", Value: []byte(`{}`)}}} // no topic: refused
		if err := s.CompleteEvents(ctx, bad); err == nil {
			t.Fatal("complete with an invalid outbox message: want error, got nil")
		}
		got, err := s.ListDecisions(ctx, store.DecisionFilter{})
		ok(t, err, "list decisions")
		equal(t, "decisions after failed completion", len(got), 0)
		depth, _, err := s.OutboxStats(ctx, t0)
		ok(t, err, "outbox stats")
		equal(t, "outbox depth after failed completion", depth, int64(0))
		won, err := s.ClaimEvents(ctx, a, t0.Add(lease+time.Second), lease)
		ok(t, err, "re-claim")
		equal(t, "event of failed completion is still only pending", won, []bool{true})

		good := store.Completion{Done: a, Decisions: []store.Decision{d},
			Outbox: []store.OutboxMessage{{Topic: "crm.leads.v1", Value: []byte(`{}`), CreatedAt: t0}}}
		ok(t, s.CompleteEvents(ctx, good), "complete")
		got, err = s.ListDecisions(ctx, store.DecisionFilter{})
		ok(t, err, "list decisions")
		equal(t, "decisions after completion", len(got), 1)
		depth, _, err = s.OutboxStats(ctx, t0)
		ok(t, err, "outbox stats")
		equal(t, "outbox depth after completion", depth, int64(1))
		won, err = s.ClaimEvents(ctx, a, t0.Add(time.Hour), lease)
		ok(t, err, "claim completed")
		equal(t, "completed", won, []bool{false})
	}},
	{"PendingEventsTellsInFlightFromDone", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		now := time.Now()
		inflight, done, absent := store.EventKey{Connector: "c", EventID: "inflight"}, store.EventKey{Connector: "c", EventID: "done"}, store.EventKey{Connector: "c", EventID: "absent"}
		if _, err := s.ClaimEvents(ctx, []store.EventKey{inflight, done}, now, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteEvents(ctx, store.Completion{Done: []store.EventKey{done}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.PendingEvents(ctx, []store.EventKey{inflight, done, absent, inflight})
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{true, false, false, true}; !slices.Equal(got, want) {
			t.Errorf("pending = %v, want %v (in flight, done, never seen, in flight again)", got, want)
		}
		if err := s.ReleaseEvents(ctx, []store.EventKey{inflight}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.PendingEvents(ctx, []store.EventKey{inflight}); got[0] {
			t.Errorf("a released claim is still reported pending")
		}
	}},
	{"PurgeSeen", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		old, recent, stale := key("c", "old"), key("c", "recent"), key("c", "stale")
		_, err := s.ClaimEvents(ctx, []store.EventKey{old, stale}, t0, lease)
		ok(t, err, "claim old")
		_, err = s.ClaimEvents(ctx, []store.EventKey{recent}, t0.Add(2*time.Hour), lease)
		ok(t, err, "claim recent")
		ok(t, s.CompleteEvents(ctx, store.Completion{Done: []store.EventKey{old, recent}}), "complete")

		n, err := s.PurgeSeen(ctx, t0.Add(time.Hour))
		ok(t, err, "purge")
		equal(t, "purged (completed old + abandoned stale)", n, int64(2))
		won, err := s.ClaimEvents(ctx, []store.EventKey{old, recent, stale}, t0.Add(3*time.Hour), lease)
		ok(t, err, "claim after purge")
		equal(t, "after purge: old forgotten, recent kept, stale forgotten", won, []bool{true, false, true})
	}},
}
