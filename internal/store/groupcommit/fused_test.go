package groupcommit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/groupcommit"
)

// fusing is a gated SQLite store that can also run a completion and a
// begin in one transaction, as the real backends can, and records how
// often it did.
type fusing struct {
	*gated
	mu    sync.Mutex
	fused []int // keys completed + begun per fused call
}

func (f *fusing) CompleteAndBegin(ctx context.Context, c store.Completion, b store.Begin) (store.Begun, error) {
	f.mu.Lock()
	f.fused = append(f.fused, len(c.Done)+len(b.Keys))
	f.mu.Unlock()
	return f.gated.Store.(interface {
		CompleteAndBegin(context.Context, store.Completion, store.Begin) (store.Begun, error)
	}).CompleteAndBegin(ctx, c, b)
}

func (f *fusing) fusedCalls() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.fused...)
}

// beginOne begins one fresh event with a grant for its own subject.
func beginOne(ctx context.Context, s store.Store, id string) (store.Begun, error) {
	return s.BeginEvents(ctx, store.Begin{
		Keys: []store.EventKey{{Connector: "c", EventID: id}}, Now: t0, Lease: lease,
		Entries:  [][]store.ConsentEntry{{entry("e-"+id, "sk-"+id, "marketing_email")}},
		Subjects: []string{"sk-" + id},
	})
}

// With one writer, completions and begins that queue while the writer is
// busy share one transaction, and every caller still gets its own answer.
func TestCompletionsAndBeginsShareOneTransaction(t *testing.T) {
	f := &fusing{gated: newGated(t, "begin")}
	s := groupcommit.Wrap(f, groupcommit.Options{Writers: 1})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()

	// Events the completions will finish: claimed before the gate.
	const n = 6
	for i := range n {
		if won, err := s.ClaimEvents(ctx, []store.EventKey{{Connector: "c", EventID: fmt.Sprint("old-", i)}}, t0, lease); err != nil || !won[0] {
			t.Fatalf("claim old-%d: %v %v", i, won, err)
		}
	}
	begun := make([]store.Begun, n+1)
	errs := make([]error, 2*n+1)
	var others []func()
	for i := 1; i <= n; i++ {
		others = append(others, func() { begun[i], errs[i] = beginOne(ctx, s, fmt.Sprint("new-", i)) })
		others = append(others, func() {
			errs[n+i] = s.CompleteEvents(ctx, store.Completion{Done: []store.EventKey{{Connector: "c", EventID: fmt.Sprint("old-", i-1)}}})
		})
	}
	queued := func(st groupcommit.Stats) int64 { return st.Begin.Calls + st.Complete.Calls }
	wg := queueBehindGate(t, s, f.gated, queued, func() { begun[0], errs[0] = beginOne(ctx, s, "new-0") }, others)
	close(f.gate)
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	if calls := f.fusedCalls(); len(calls) != 1 || calls[0] != 2*n {
		t.Fatalf("fused calls carried %v keys; want one call with the %d queued completions and begins", calls, 2*n)
	}
	for i := range n + 1 {
		id := fmt.Sprint("new-", i)
		if !begun[i].Won[0] || begun[i].Current["sk-"+id]["marketing_email"].ID != "e-"+id {
			t.Errorf("begin %s: won %v, consent %v; want its own claim and entry", id, begun[i].Won, begun[i].Current)
		}
	}
	pending, err := s.PendingEvents(ctx, []store.EventKey{{Connector: "c", EventID: "old-0"}, {Connector: "c", EventID: "old-5"}})
	if err != nil || pending[0] || pending[1] {
		t.Fatalf("completed events still pending: %v %v", pending, err)
	}
}

// A completion the backend refuses fails alone: the begins and the other
// completions fused with it are run again apart and succeed.
func TestBadCompletionDoesNotFailFusedBegins(t *testing.T) {
	f := &fusing{gated: newGated(t, "begin")}
	s := groupcommit.Wrap(f, groupcommit.Options{Writers: 1})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()

	var badErr, goodErr, beginErr error
	var got store.Begun
	others := []func(){
		func() {
			// The outbox refuses a message without topic.
			badErr = s.CompleteEvents(ctx, store.Completion{Outbox: []store.OutboxMessage{{Value: []byte("x"), CreatedAt: t0}}})
		},
		func() {
			goodErr = s.CompleteEvents(ctx, store.Completion{Done: []store.EventKey{{Connector: "c", EventID: "good"}}})
		},
		func() { got, beginErr = beginOne(ctx, s, "after") },
	}
	queued := func(st groupcommit.Stats) int64 { return st.Begin.Calls + st.Complete.Calls }
	wg := queueBehindGate(t, s, f.gated, queued, func() { _, _ = beginOne(ctx, s, "first") }, others)
	close(f.gate)
	wg.Wait()

	if len(f.fusedCalls()) == 0 {
		t.Fatal("no fused call: the test did not exercise the fused path")
	}
	if badErr == nil {
		t.Error("completion with an outbox message without topic succeeded")
	}
	if goodErr != nil || beginErr != nil {
		t.Fatalf("callers fused with a bad completion failed: complete %v, begin %v", goodErr, beginErr)
	}
	if !got.Won[0] {
		t.Error("begin fused with a bad completion lost its fresh key")
	}
}
