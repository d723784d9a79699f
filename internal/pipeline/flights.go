package pipeline

import (
	"context"
	"sync"
)

// flights tracks the deliveries between their begin and their answer, by
// subject, so an erasure can wait for those already under way: otherwise
// such a delivery would write its decision and publish its record after
// the erasure and its event, and the CRM would keep what it was told to
// delete.
type flights struct {
	mu sync.Mutex
	by map[string]map[*flight]struct{}
}

type flight struct{ done chan struct{} }

// start registers a delivery of subjects; call the returned func when it
// has ended.
func (f *flights) start(subjects []string) func() {
	fl := &flight{done: make(chan struct{})}
	f.mu.Lock()
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
	}
}

// wait blocks until every delivery of subject under way when it was called
// has ended, or ctx ends (then it returns ctx's error). Deliveries that
// start meanwhile are not waited for: they come after the erasure.
func (f *flights) wait(ctx context.Context, subject string) error {
	f.mu.Lock()
	var pending []*flight
	for fl := range f.by[subject] {
		pending = append(pending, fl)
	}
	f.mu.Unlock()
	for _, fl := range pending {
		select {
		case <-fl.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
