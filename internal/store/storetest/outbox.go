package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/consentgate/consentgate/internal/store"
)

func message(i int, created time.Time) store.OutboxMessage {
	m := store.OutboxMessage{
		Topic:      "crm.leads.v1",
		Key:        fmt.Appendf(nil, "subject-%d", i),
		Value:      fmt.Appendf(nil, `{"n":%d,"name":"Zoë 山田"}`, i),
		Headers:    map[string]string{"ce_id": fmt.Sprintf("id-%d", i), "content-type": "application/json"},
		SubjectKey: fmt.Sprintf("subject-%d", i),
		CreatedAt:  created,
	}
	if i%2 == 1 { // a record that carried other identifiers
		m.LinkedKeys = []string{fmt.Sprintf("phone-%d", i), fmt.Sprintf("user-%d", i)}
	}
	return m
}

func enqueue(t *testing.T, s store.Store, msgs ...store.OutboxMessage) {
	t.Helper()
	ok(t, s.CompleteEvents(t.Context(), store.Completion{Outbox: msgs}), "enqueue outbox")
}

func ids(msgs []store.OutboxMessage) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

var outboxTests = []test{
	{"OrderAndRoundTrip", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		var want []store.OutboxMessage
		for i := range 3 {
			want = append(want, message(i, t0.Add(time.Duration(i)*time.Second)))
		}
		want[2].Key = nil // keyless messages exist too
		enqueue(t, s, want...)

		got, err := s.ClaimOutbox(ctx, 2, t0, lease)
		ok(t, err, "claim")
		equal(t, "claimed count", len(got), 2)
		for i, m := range got {
			if m.ID == 0 {
				t.Fatalf("message %d has no id", i)
			}
			w := want[i]
			w.ID, w.Attempts = m.ID, 1
			equal(t, fmt.Sprintf("message %d", i), m, w)
		}
		if got[0].ID >= got[1].ID {
			t.Fatalf("oldest first: ids %v", ids(got))
		}
		rest, err := s.ClaimOutbox(ctx, 10, t0, lease)
		ok(t, err, "claim rest")
		equal(t, "rest", len(rest), 1)
		equal(t, "keyless message key", rest[0].Key, []byte(nil))
		equal(t, "keyless message value", rest[0].Value, want[2].Value)
	}},
	{"LeaseAndDelete", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		enqueue(t, s, message(1, t0), message(2, t0), message(3, t0))
		first, err := s.ClaimOutbox(ctx, 2, t0, lease)
		ok(t, err, "first claim")
		second, err := s.ClaimOutbox(ctx, 10, t0.Add(time.Second), lease)
		ok(t, err, "second claim")
		equal(t, "second claimer gets only the unleased message", len(second), 1)
		none, err := s.ClaimOutbox(ctx, 10, t0.Add(2*time.Second), lease)
		ok(t, err, "third claim")
		equal(t, "all leased", len(none), 0)

		ok(t, s.DeleteOutbox(ctx, ids(first[:1])), "delete published")
		again, err := s.ClaimOutbox(ctx, 10, t0.Add(2*lease), lease)
		ok(t, err, "claim after lease")
		equal(t, "expired leases come back, deleted does not", ids(again), append(ids(first[1:]), ids(second)...))
		for _, m := range again {
			equal(t, "attempts after second lease", m.Attempts, 2)
		}
		ok(t, s.DeleteOutbox(ctx, nil), "delete nothing")
		ok(t, s.DeleteOutbox(ctx, []int64{999999}), "delete unknown")
	}},
	{"ConcurrentClaimersNeverShare", func(t *testing.T, s store.Store) {
		const n = 60
		var msgs []store.OutboxMessage
		for i := range n {
			msgs = append(msgs, message(i, t0))
		}
		enqueue(t, s, msgs...)
		var mu sync.Mutex
		seen := make(map[int64]int)
		var g errgroup.Group
		for range 6 {
			g.Go(func() error {
				for {
					got, err := s.ClaimOutbox(t.Context(), 5, t0, lease)
					if err != nil || len(got) == 0 {
						return err
					}
					mu.Lock()
					for _, m := range got {
						seen[m.ID]++
					}
					mu.Unlock()
				}
			})
		}
		ok(t, g.Wait(), "concurrent claims")
		equal(t, "distinct messages claimed", len(seen), n)
		for id, c := range seen {
			if c != 1 {
				t.Fatalf("message %d claimed %d times within one lease", id, c)
			}
		}
	}},
	{"ParkKeepsRefusedMessagesAside", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		enqueue(t, s, message(1, t0), message(2, t0.Add(time.Second)), message(3, t0.Add(2*time.Second)))
		claimed, err := s.ClaimOutbox(ctx, 10, t0, lease)
		ok(t, err, "claim")
		equal(t, "claimed", len(claimed), 3)
		bad := claimed[0]
		ok(t, s.ParkOutbox(ctx, []int64{bad.ID}, "kafka: unknown topic", t0), "park")
		ok(t, s.ParkOutbox(ctx, nil, "nothing", t0), "park nothing")
		ok(t, s.ParkOutbox(ctx, []int64{999999}, "unknown", t0), "park unknown")

		dead, err := s.DeadOutbox(ctx)
		ok(t, err, "count dead")
		equal(t, "dead", dead, int64(1))
		parked, err := s.ListParkedOutbox(ctx, 0)
		ok(t, err, "list parked")
		equal(t, "parked list", parked, []store.ParkedMessage{{ID: bad.ID, Topic: bad.Topic, CreatedAt: bad.CreatedAt, DeadAt: t0, Reason: "kafka: unknown topic", Attempts: bad.Attempts}})
		depth, oldest, err := s.OutboxStats(ctx, t0.Add(time.Minute))
		ok(t, err, "stats")
		equal(t, "depth without the parked message", depth, int64(2))
		equal(t, "age of the oldest waiting message", oldest, time.Minute-time.Second)
		again, err := s.ClaimOutbox(ctx, 10, t0.Add(2*lease), lease)
		ok(t, err, "claim after lease")
		equal(t, "parked message is not claimed", ids(again), ids(claimed[1:]))

		// Deleting the published ones leaves the parked one in place.
		ok(t, s.DeleteOutbox(ctx, ids(again)), "delete published")
		depth, _, err = s.OutboxStats(ctx, t0.Add(time.Minute))
		ok(t, err, "stats")
		equal(t, "depth after delete", depth, int64(0))
		dead, err = s.DeadOutbox(ctx)
		ok(t, err, "count dead")
		equal(t, "dead after delete", dead, int64(1))
		none, err := s.ClaimOutbox(ctx, 10, t0.Add(4*lease), lease)
		ok(t, err, "claim")
		equal(t, "nothing to claim", len(none), 0)

		// Requeued, it is claimed again, whole.
		n, err := s.RequeueOutbox(ctx, []int64{999999})
		ok(t, err, "requeue unknown")
		equal(t, "requeued unknown", n, int64(0))
		n, err = s.RequeueOutbox(ctx, nil)
		ok(t, err, "requeue all")
		equal(t, "requeued", n, int64(1))
		parked, err = s.ListParkedOutbox(ctx, 0)
		ok(t, err, "list parked after requeue")
		equal(t, "parked after requeue", len(parked), 0)
		back, err := s.ClaimOutbox(ctx, 10, t0.Add(4*lease), lease)
		ok(t, err, "claim requeued")
		equal(t, "requeued count", len(back), 1)
		want := bad
		want.Attempts = 2
		equal(t, "requeued message", back[0], want)
		dead, err = s.DeadOutbox(ctx)
		ok(t, err, "count dead")
		equal(t, "dead after requeue", dead, int64(0))

		ok(t, s.ParkOutbox(ctx, ids(back), "again", t0), "park again")
		n, err = s.RequeueOutbox(ctx, ids(back))
		ok(t, err, "requeue by id")
		equal(t, "requeued by id", n, int64(1))
	}},
	{"Stats", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		depth, oldest, err := s.OutboxStats(ctx, t0)
		ok(t, err, "stats of empty outbox")
		equal(t, "empty depth", depth, int64(0))
		equal(t, "empty oldest", oldest, time.Duration(0))

		enqueue(t, s, message(1, t0.Add(10*time.Second)), message(2, t0))
		depth, oldest, err = s.OutboxStats(ctx, t0.Add(time.Minute))
		ok(t, err, "stats")
		equal(t, "depth", depth, int64(2))
		equal(t, "age of oldest", oldest, time.Minute)
		// Leased messages still count: they are not published yet.
		_, err = s.ClaimOutbox(ctx, 10, t0, lease)
		ok(t, err, "claim")
		depth, _, err = s.OutboxStats(ctx, t0.Add(time.Minute))
		ok(t, err, "stats")
		equal(t, "depth while leased", depth, int64(2))
	}},
}
