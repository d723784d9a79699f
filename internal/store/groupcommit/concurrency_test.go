package groupcommit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/groupcommit"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const lease = time.Minute

// gated is a real SQLite store whose first call of one operation blocks
// until the test opens the gate, so that the callers behind it queue up
// deterministically; it records how many items each backend call carried.
type gated struct {
	store.Store
	op      string
	entered chan struct{}
	gate    chan struct{}
	once    sync.Once

	mu    sync.Mutex
	sizes map[string][]int
}

func newGated(t *testing.T, op string) *gated {
	return &gated{Store: openSQLite(t), op: op, entered: make(chan struct{}), gate: make(chan struct{}), sizes: map[string][]int{}}
}

func (g *gated) hold(op string, n int) {
	g.mu.Lock()
	g.sizes[op] = append(g.sizes[op], n)
	g.mu.Unlock()
	if op == g.op {
		g.once.Do(func() {
			close(g.entered)
			<-g.gate
		})
	}
}

func (g *gated) backendCalls(op string) []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.sizes[op]...)
}

func (g *gated) ClaimEvents(ctx context.Context, keys []store.EventKey, now time.Time, lease time.Duration) ([]bool, error) {
	g.hold("claim", len(keys))
	return g.Store.ClaimEvents(ctx, keys, now, lease)
}

func (g *gated) BeginEvents(ctx context.Context, b store.Begin) (store.Begun, error) {
	g.hold("begin", len(b.Keys))
	return g.Store.BeginEvents(ctx, b)
}

func (g *gated) AppendConsent(ctx context.Context, es []store.ConsentEntry) error {
	g.hold("append", len(es))
	return g.Store.AppendConsent(ctx, es)
}

// queueBehindGate starts first, waits until its backend call is held, then
// starts the others and waits until all of them are queued.
func queueBehindGate(t *testing.T, s store.Store, g *gated, queued func(groupcommit.Stats) int64, first func(), others []func()) *sync.WaitGroup {
	t.Helper()
	var wg sync.WaitGroup
	wg.Go(first)
	<-g.entered
	for _, f := range others {
		wg.Go(f)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := groupcommit.StatsOf(s)
		if queued(st) == int64(len(others)+1) {
			return &wg
		}
		if time.Now().After(deadline) {
			t.Fatalf("callers not queued after 10s: %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestConcurrentClaimsShareOneCall(t *testing.T) {
	g := newGated(t, "claim")
	var observed []int
	s := groupcommit.Wrap(g, groupcommit.Options{Observe: func(op string, callers int, _ time.Duration) {
		if op == "claim" {
			observed = append(observed, callers) // one flusher: no race
		}
	}})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()

	const n = 20
	shared := store.EventKey{Connector: "c", EventID: "shared"}
	won := make([][]bool, n+1)
	errs := make([]error, n+1)
	claim := func(i int) func() {
		return func() {
			won[i], errs[i] = s.ClaimEvents(ctx, []store.EventKey{{Connector: "c", EventID: fmt.Sprint(i)}, shared}, t0, lease)
		}
	}
	var others []func()
	for i := 1; i <= n; i++ {
		others = append(others, claim(i))
	}
	wg := queueBehindGate(t, s, g, func(st groupcommit.Stats) int64 { return st.Claim.Calls }, claim(0), others)
	close(g.gate)
	wg.Wait()

	if got := g.backendCalls("claim"); len(got) != 2 || got[1] != 2*n {
		t.Fatalf("backend claim calls carried %v keys; want [2 %d]: the queued callers share one call", got, 2*n)
	}
	if !slices.Equal(observed, []int{1, n}) {
		t.Errorf("Observe saw batches of %v callers; want [1 %d]", observed, n)
	}
	sharedWins := 0
	for i := range won {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if !won[i][0] {
			t.Errorf("caller %d lost its own fresh key", i)
		}
		if won[i][1] {
			sharedWins++
		}
	}
	if sharedWins != 1 || !won[0][1] {
		t.Fatalf("key claimed by every caller: %d winners (first caller won: %v); want exactly the first", sharedWins, won[0][1])
	}
}

func entry(id, subject, purpose string) store.ConsentEntry {
	return store.ConsentEntry{ID: id, SubjectKey: subject, Purpose: purpose, Status: store.StatusGranted,
		Method: store.MethodFormCheckbox, ObtainedAt: t0, RecordedAt: t0}
}

func TestOneBadCallerDoesNotFailTheOthers(t *testing.T) {
	g := newGated(t, "append")
	s := groupcommit.Wrap(g, groupcommit.Options{})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()

	errs := make([]error, 6)
	callers := []store.ConsentEntry{
		entry("e0", "sk-0", "marketing_email"),
		entry("e1", "sk-1", "marketing_email"),
		entry("e2", "sk-2", ""), // invalid: no purpose
		entry("e3", "sk-3", "marketing_email"),
		entry("e1", "sk-4", "marketing_email"), // reuses e1's id: a conflict
		entry("e5", "sk-5", "marketing_email"),
	}
	do := func(i int) func() {
		return func() { errs[i] = s.AppendConsent(ctx, []store.ConsentEntry{callers[i]}) }
	}
	var others []func()
	for i := 1; i < len(callers); i++ {
		others = append(others, do(i))
	}
	wg := queueBehindGate(t, s, g, func(st groupcommit.Stats) int64 { return st.Append.Calls }, do(0), others)
	close(g.gate)
	wg.Wait()

	if errs[2] == nil {
		t.Error("entry without purpose: want an error")
	}
	// Callers 1 and 4 share an id: whichever queued first keeps it.
	winner, loser := 1, 4
	if errs[1] != nil {
		winner, loser = 4, 1
	}
	if !errors.Is(errs[loser], store.ErrConflict) {
		t.Errorf("second entry with id e1: got %v, want ErrConflict", errs[loser])
	}
	for _, i := range []int{0, 3, 5, winner} {
		if errs[i] != nil {
			t.Errorf("good caller %d failed with a bad neighbour's error: %v", i, errs[i])
		}
		h, err := s.ConsentHistory(ctx, callers[i].SubjectKey)
		if err != nil || len(h) != 1 || h[0].ID != callers[i].ID {
			t.Errorf("good caller %d: ledger holds %+v (err %v), want its entry", i, h, err)
		}
	}
	for _, i := range []int{2, loser} {
		if h, _ := s.ConsentHistory(ctx, callers[i].SubjectKey); len(h) != 0 {
			t.Errorf("refused caller %d's entry was stored: %+v", i, h)
		}
	}
}

func TestQueuedCallerLeavesOnCancel(t *testing.T) {
	g := newGated(t, "claim")
	s := groupcommit.Wrap(g, groupcommit.Options{})
	ctx := t.Context()

	first := func() {
		if _, err := s.ClaimEvents(ctx, []store.EventKey{{Connector: "c", EventID: "first"}}, t0, lease); err != nil {
			t.Errorf("first claim: %v", err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	gone := make(chan error, 1)
	leaver := func() {
		_, err := s.ClaimEvents(cctx, []store.EventKey{{Connector: "c", EventID: "left"}}, t0, lease)
		gone <- err
	}
	wg := queueBehindGate(t, s, g, func(st groupcommit.Stats) int64 { return st.Claim.Calls }, first, []func(){leaver})
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled queued caller: got %v, want context.Canceled", err)
	}
	close(g.gate)
	wg.Wait()

	won, err := s.ClaimEvents(ctx, []store.EventKey{{Connector: "c", EventID: "left"}}, t0, lease)
	if err != nil || !won[0] {
		t.Fatalf("the abandoned caller's key must stay unclaimed: won %v, err %v", won, err)
	}
	// Close drains and stops the flushers (goleak checks they are gone).
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimEvents(ctx, []store.EventKey{{Connector: "c", EventID: "late"}}, t0, lease); err == nil {
		t.Fatal("claim on a closed store: want the backend's error")
	}
}

func TestUnusualKeysAreClaimedAlone(t *testing.T) {
	g := newGated(t, "claim")
	s := groupcommit.Wrap(g, groupcommit.Options{})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()

	claim := func(id string) func() {
		return func() {
			if _, err := s.ClaimEvents(ctx, []store.EventKey{{Connector: "c", EventID: id}}, t0, lease); err != nil {
				t.Errorf("claim: %v", err)
			}
		}
	}
	others := []func(){claim("a"), claim("bad\xff"), claim("b"), claim("nul\x00"), claim("c")}
	wg := queueBehindGate(t, s, g, func(st groupcommit.Stats) int64 { return st.Claim.Calls }, claim("first"), others)
	close(g.gate)
	wg.Wait()
	got := g.backendCalls("claim")
	// The gated first call, then a+b+c merged and each unusual key alone,
	// in the order the callers happened to queue.
	if len(got) != 4 || !slices.Equal(slices.Sorted(slices.Values(got[1:])), []int{1, 1, 3}) {
		t.Fatalf("backend claim calls carried %v keys; want 1, then 3, 1 and 1 in any order", got)
	}
}

func TestCurrentConsentIsSplitPerCaller(t *testing.T) {
	s := groupcommit.Wrap(openSQLite(t), groupcommit.Options{})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	for i := range 8 {
		if err := s.AppendConsent(ctx, []store.ConsentEntry{entry(fmt.Sprint("e", i), fmt.Sprint("sk-", i), "marketing_email")}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			mine, other := fmt.Sprint("sk-", i), fmt.Sprint("sk-", (i+1)%8)
			for range 20 {
				got, err := s.CurrentConsent(ctx, []string{mine, "sk-none"})
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) != 1 || got[mine]["marketing_email"].ID != fmt.Sprint("e", i) {
					t.Errorf("caller %d got %v; want only its own subject", i, got)
					return
				}
				if _, leaked := got[other]; leaked {
					t.Errorf("caller %d sees another caller's subject", i)
				}
				got[mine]["x"] = store.ConsentEntry{} // must not reach other callers
			}
		})
	}
	wg.Wait()
}

func TestConcurrentBeginsShareOneCall(t *testing.T) {
	g := newGated(t, "begin")
	s := groupcommit.Wrap(g, groupcommit.Options{})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()

	const n = 12
	shared := store.EventKey{Connector: "c", EventID: "shared"}
	got := make([]store.Begun, n+1)
	errs := make([]error, n+1)
	begin := func(i int) func() {
		return func() {
			mine := fmt.Sprint("sk-", i)
			got[i], errs[i] = s.BeginEvents(ctx, store.Begin{
				Keys: []store.EventKey{{Connector: "c", EventID: fmt.Sprint(i)}, shared}, Now: t0, Lease: lease,
				Entries: [][]store.ConsentEntry{{entry(fmt.Sprint("own-", i), mine, "marketing_email")},
					{entry(fmt.Sprint("shared-", i), "sk-shared", "marketing_email")}},
				Subjects: []string{mine, "sk-shared"},
			})
		}
	}
	var others []func()
	for i := 1; i <= n; i++ {
		others = append(others, begin(i))
	}
	wg := queueBehindGate(t, s, g, func(st groupcommit.Stats) int64 { return st.Begin.Calls }, begin(0), others)
	close(g.gate)
	wg.Wait()

	if calls := g.backendCalls("begin"); len(calls) != 2 || calls[1] != 2*n {
		t.Fatalf("backend begin calls carried %v keys; want [2 %d]: the queued callers share one call", calls, 2*n)
	}
	for i := range got {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if !got[i].Won[0] {
			t.Errorf("caller %d lost its own fresh key", i)
		}
		if e := got[i].Current[fmt.Sprint("sk-", i)]["marketing_email"]; e.ID != fmt.Sprint("own-", i) {
			t.Errorf("caller %d reads %q for its subject; want its own entry", i, e.ID)
		}
		for k := range got[i].Current {
			if k != fmt.Sprint("sk-", i) && k != "sk-shared" {
				t.Errorf("caller %d sees subject %s of another caller", i, k)
			}
		}
		if wonShared := got[i].Won[1]; wonShared != (i == 0) {
			t.Errorf("caller %d won the shared key: %v; want only the first caller", i, wonShared)
		}
	}
	hist, err := s.ConsentHistory(ctx, "sk-shared")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].ID != "shared-0" {
		t.Fatalf("shared subject's ledger %v; want only the winner's entry shared-0", hist)
	}
}

// Begins merged into one call keep their linked subjects: each caller
// reads the statements under its record's other identifiers, and only its
// own.
func TestMergedBeginsReadEachCallersLinkedSubjects(t *testing.T) {
	g := newGated(t, "begin")
	s := groupcommit.Wrap(g, groupcommit.Options{})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	for i := 1; i <= 4; i++ {
		if err := g.Store.AppendConsent(ctx, []store.ConsentEntry{entry(fmt.Sprint("phone-", i), fmt.Sprint("sk-phone-", i), "marketing_sms")}); err != nil {
			t.Fatal(err)
		}
	}
	got := make([]store.Begun, 5)
	errs := make([]error, 5)
	begin := func(i int) func() {
		return func() {
			b := store.Begin{Keys: []store.EventKey{{Connector: "c", EventID: fmt.Sprint("l", i)}}, Now: t0, Lease: lease,
				Subjects: []string{fmt.Sprint("sk-mail-", i)}}
			if i%2 == 1 { // odd callers carry a phone; even ones leave Linked nil
				b.Linked = [][]string{{fmt.Sprint("sk-phone-", i)}}
			}
			got[i], errs[i] = s.BeginEvents(ctx, b)
		}
	}
	var others []func()
	for i := 1; i <= 4; i++ {
		others = append(others, begin(i))
	}
	wg := queueBehindGate(t, s, g, func(st groupcommit.Stats) int64 { return st.Begin.Calls }, begin(0), others)
	close(g.gate)
	wg.Wait()
	if calls := g.backendCalls("begin"); len(calls) != 2 || calls[1] != 4 {
		t.Fatalf("backend begin calls carried %v keys; want [1 4]", calls)
	}
	for i := 1; i <= 4; i++ {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		_, read := got[i].Current[fmt.Sprint("sk-phone-", i)]
		if read != (i%2 == 1) {
			t.Errorf("caller %d read its phone's statements: %v; want %v", i, read, i%2 == 1)
		}
		for k := range got[i].Current {
			if k != fmt.Sprint("sk-phone-", i) {
				t.Errorf("caller %d sees subject %s", i, k)
			}
		}
	}
}
