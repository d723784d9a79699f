package storetest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

// BenchClaimComplete measures what one accepted webhook costs the store: a
// claim of its event, then a completion with one decision and one outbox
// message, from parallel goroutines as concurrent requests would.
func BenchClaimComplete(b *testing.B, s store.Store) {
	var seq atomic.Int64
	now := time.Now()
	value := []byte(`{"id":"x","fields":{"email":"a@example.com"}}`)
	// Requests overlap on I/O, not CPU: run more of them than cores.
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := b.Context()
		for pb.Next() {
			n := seq.Add(1)
			k := store.EventKey{Connector: "bench", EventID: fmt.Sprint(n)}
			won, err := s.ClaimEvents(ctx, []store.EventKey{k}, now, time.Minute)
			if err != nil {
				b.Error(err)
				return
			}
			if !won[0] {
				b.Errorf("fresh key %v not won", k)
				return
			}
			err = s.CompleteEvents(ctx, store.Completion{
				Done: []store.EventKey{k},
				Decisions: []store.Decision{{At: now, Connector: "bench", EventID: k.EventID,
					SubjectKey: "sk", Outcome: "forwarded", Rules: []string{"r"}, Fields: map[string]string{"email": "keep"}}},
				Outbox: []store.OutboxMessage{{Topic: "crm.leads.v1", Key: []byte("sk"), Value: value, CreatedAt: now}},
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchBegin measures a webhook's begin: the claim of its event, the
// append of one checkbox statement and the read of its subject's current
// consent, from parallel goroutines. With linked, each record also carries
// a second identifier (a phone beside the e-mail) whose statements are
// read too.
func BenchBegin(b *testing.B, s store.Store, linked bool) {
	var seq atomic.Int64
	now := time.Now()
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := b.Context()
		for pb.Next() {
			n := seq.Add(1)
			subject := fmt.Sprint("sk-mail-", n)
			begin := store.Begin{
				Keys: []store.EventKey{{Connector: "bench", EventID: fmt.Sprint(n)}}, Now: now, Lease: time.Minute,
				Entries: [][]store.ConsentEntry{{{ID: fmt.Sprint("e-", n), SubjectKey: subject, Purpose: "marketing_email",
					Status: store.StatusGranted, Method: store.MethodFormCheckbox, ObtainedAt: now, RecordedAt: now}}},
				Subjects: []string{subject},
			}
			if linked {
				begin.Linked = [][]string{{fmt.Sprint("sk-phone-", n)}}
			}
			got, err := s.BeginEvents(ctx, begin)
			if err != nil {
				b.Error(err)
				return
			}
			if !got.Won[0] {
				b.Errorf("fresh key %d not won", n)
				return
			}
		}
	})
}
