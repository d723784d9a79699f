package pipeline

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// flights orders deliveries and erasures of one subject on this instance.
// A delivery is under way from before its claim until its answer; an
// erasure first closes the subject to new deliveries, waits for those
// under way, and opens it again once it is done. Without this a delivery
// under way would publish its record after the erasure's event, and one
// that began during the delete could keep its statement in the ledger.
type flights struct {
	mu sync.Mutex
	// under lists the deliveries under way. Erasures are rare and scan it;
	// a delivery, on every webhook, costs one insert and one delete.
	under   map[*flight]struct{}
	erasing map[string]*closure
	hold    time.Duration // 0: holdLimit
}

// closure keeps a subject closed while any of its erasures runs.
type closure struct {
	open    chan struct{} // closed when the last erasure ends
	erasers int
}

// holdLimit bounds how long a delivery waits for an erasure of its
// subject: past it the delivery is refused (503, the platform retries)
// rather than left open until the sender's own timeout.
const holdLimit = 10 * time.Second

type flight struct {
	subjects []string
	done     chan struct{}
}

// start registers a delivery of subjects, first waiting for any erasure of
// one of them to end; call the returned func when the delivery has ended.
func (f *flights) start(ctx context.Context, subjects []string) (func(), error) {
	fl := &flight{subjects: subjects, done: make(chan struct{})}
	var hold <-chan time.Time
	for {
		f.mu.Lock()
		var gate chan struct{}
		for _, s := range subjects {
			if c, ok := f.erasing[s]; ok {
				gate = c.open
				break
			}
		}
		if gate == nil {
			break // still locked
		}
		f.mu.Unlock()
		if hold == nil {
			t := time.NewTimer(cmp.Or(f.hold, holdLimit))
			defer t.Stop()
			hold = t.C
		}
		select {
		case <-gate:
		case <-hold:
			return nil, errors.New("an erasure of the subject is still running")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.under == nil {
		f.under = map[*flight]struct{}{}
	}
	f.under[fl] = struct{}{}
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		delete(f.under, fl)
		f.mu.Unlock()
		close(fl.done)
	}, nil
}

// erase closes subject to new deliveries and waits for those under way.
// The returned func opens it again once every erasure of the subject has
// called its own; it is returned even with an error (ctx ended while
// waiting), and must be called either way. Erasures of one subject share
// the closure, so one that ends does not open the subject under another.
func (f *flights) erase(ctx context.Context, subject string) (func(), error) {
	f.mu.Lock()
	if f.erasing == nil {
		f.erasing = map[string]*closure{}
	}
	c := f.erasing[subject]
	if c == nil {
		c = &closure{open: make(chan struct{})}
		f.erasing[subject] = c
	}
	c.erasers++
	var pending []*flight
	for fl := range f.under {
		if slices.Contains(fl.subjects, subject) {
			pending = append(pending, fl)
		}
	}
	f.mu.Unlock()
	var once sync.Once
	open := func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if c.erasers--; c.erasers == 0 {
				delete(f.erasing, subject)
				close(c.open)
			}
		})
	}
	for _, fl := range pending {
		select {
		case <-fl.done:
		case <-ctx.Done():
			return open, ctx.Err()
		}
	}
	return open, nil
}
