package pipeline

import (
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
)

// Claims of answered deliveries end up done: carried by the next
// completion when one comes along, written on their own when none does,
// and written at once by drain (shutdown).
func TestMarksReachTheStore(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	keys := []store.EventKey{{Connector: "web", EventID: "idle"}, {Connector: "web", EventID: "carried"}, {Connector: "web", EventID: "drained"}}
	won, err := st.ClaimEvents(ctx, keys, time.Now(), time.Minute)
	if err != nil || !slices.Equal(won, []bool{true, true, true}) {
		t.Fatalf("claim: %v, %v", won, err)
	}
	pending := func(k store.EventKey) bool {
		t.Helper()
		p, err := st.PendingEvents(ctx, []store.EventKey{k})
		if err != nil {
			t.Fatal(err)
		}
		return p[0]
	}
	m := &marks{st: st, log: slog.New(slog.DiscardHandler)}

	m.add(keys[:1])
	deadline := time.Now().Add(5 * time.Second)
	for pending(keys[0]) {
		if time.Now().After(deadline) {
			t.Fatal("an answered claim was never marked done while nothing else was written")
		}
		time.Sleep(5 * time.Millisecond)
	}

	m.add(keys[1:2])
	if got := m.take(); !slices.Equal(got, keys[1:2]) {
		t.Fatalf("take: %v, want the queued claim for the completion about to be written", got)
	}
	if err := st.CompleteEvents(ctx, store.Completion{Done: keys[1:2]}); err != nil {
		t.Fatal(err)
	}

	m.add(keys[2:])
	m.drain()
	for _, k := range keys {
		if pending(k) {
			t.Errorf("%s still pending after drain", k.EventID)
		}
	}
	if got := m.take(); len(got) != 0 {
		t.Errorf("marks left after drain: %v", got)
	}
}
