package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

// markDelay is how long a claim waits to be marked done when no other
// store write comes along to carry it. Under load a completion comes along
// within milliseconds; an idle gateway writes the marks on its own.
const markDelay = 20 * time.Millisecond

// marks holds the claims of answered deliveries until they are marked
// done. A mark is not needed for the answer (the record and its decision
// are durable by then), so instead of a store write of its own it rides
// along with the next completion, in the same statement or transaction.
//
// Until a mark lands, a retry of the same event finds its claim pending
// and waits for it (awaitInFlight). Should the process die first, the
// claim lapses after the lease and a retry would be forwarded again:
// at-least-once, as after any crash, with a stable CloudEvents id.
type marks struct {
	st  store.Store
	log *slog.Logger

	mu      sync.Mutex
	keys    []store.EventKey
	timer   *time.Timer // armed while keys wait
	writing sync.WaitGroup
}

// add queues keys to be marked done.
func (m *marks) add(keys []store.EventKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = append(m.keys, keys...)
	if m.timer == nil {
		m.writing.Add(1)
		m.timer = time.AfterFunc(markDelay, m.flush)
	}
}

// take hands the queued keys to a completion about to be written; put
// them back with add if that write fails.
func (m *marks) take() []store.EventKey {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := m.keys
	m.keys = nil
	return keys
}

// flush writes what no completion took. It runs once per armed timer.
func (m *marks) flush() {
	defer m.writing.Done()
	m.mu.Lock()
	keys := m.keys
	m.keys, m.timer = nil, nil
	m.mu.Unlock()
	if len(keys) == 0 {
		return
	}
	if err := m.st.CompleteEvents(context.Background(), store.Completion{Done: keys}); err != nil {
		// The claims stay pending and lapse after the lease (see marks).
		m.log.Error("mark answered events done", "events", len(keys), "err", err)
	}
}

// drain writes the marks still queued and waits for those being written.
func (m *marks) drain() {
	m.mu.Lock()
	if m.timer != nil && m.timer.Stop() {
		m.timer = nil
		m.mu.Unlock()
		m.flush() // in the stopped timer's place
	} else {
		m.mu.Unlock()
	}
	m.writing.Wait()
}
