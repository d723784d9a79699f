package pipeline

import (
	"context"
	"sync"
)

// flights orders deliveries and erasures of one subject on this instance.
// A delivery is under way from before its claim until its answer; an
// erasure first closes the subject to new deliveries, waits for those
// under way, and opens it again once it is done. Without this a delivery
// under way would publish its record after the erasure's event, and one
// that began during the delete could keep its statement in the ledger.
type flights struct {
	mu      sync.Mutex
	by      map[string]map[*flight]struct{}
	erasing map[string]chan struct{} // closed when the erasure ends
}

type flight struct{ done chan struct{} }

// start registers a delivery of subjects, first waiting for any erasure of
// one of them to end; call the returned func when the delivery has ended.
func (f *flights) start(ctx context.Context, subjects []string) (func(), error) {
	fl := &flight{done: make(chan struct{})}
	for {
		f.mu.Lock()
		var gate chan struct{}
		for _, s := range subjects {
			if g, ok := f.erasing[s]; ok {
				gate = g
				break
			}
		}
		if gate == nil {
			break // still locked
		}
		f.mu.Unlock()
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.by == nil {
		f.by = map[string]map[*flight]struct{}{}
	}
	for _, s := range subjects {
		m := f.by[s]
		if m == nil {
			m = map[*flight]struct{}{}
			f.by[s] = m
		}
		m[fl] = struct{}{}
	}
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		for _, s := range subjects {
			if m := f.by[s]; m != nil {
				delete(m, fl)
				if len(m) == 0 {
					delete(f.by, s)
				}
			}
		}
		f.mu.Unlock()
		close(fl.done)
	}, nil
}

// erase closes subject to new deliveries and waits for those under way.
// The returned func opens it again; it is returned even with an error
// (ctx ended while waiting), and must be called either way.
func (f *flights) erase(ctx context.Context, subject string) (func(), error) {
	for {
		f.mu.Lock()
		other, busy := f.erasing[subject]
		if !busy {
			break // still locked
		}
		f.mu.Unlock()
		select { // one erasure of a subject at a time
		case <-other:
		case <-ctx.Done():
			return func() {}, ctx.Err()
		}
	}
	gate := make(chan struct{})
	if f.erasing == nil {
		f.erasing = map[string]chan struct{}{}
	}
	f.erasing[subject] = gate
	var pending []*flight
	for fl := range f.by[subject] {
		pending = append(pending, fl)
	}
	f.mu.Unlock()
	open := func() {
		f.mu.Lock()
		delete(f.erasing, subject)
		f.mu.Unlock()
		close(gate)
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
