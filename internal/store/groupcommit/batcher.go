package groupcommit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Call states: a queued call is either taken by a flusher or abandoned by
// its caller, whichever happens first.
const (
	stateQueued int32 = iota
	stateTaken
	stateAbandoned
)

type call[Q, R any] struct {
	ctx   context.Context
	req   Q
	res   R
	err   error
	state atomic.Int32
	done  chan struct{}
}

// batcher queues calls of one operation and runs them in batches.
type batcher[Q, R any] struct {
	op      string // names the operation in errors, like the backends do
	name    string // short name for Options.Observe
	max     int
	observe func(op string, callers int, took time.Duration)
	// writers, when set, is a slot shared by the write batchers: one
	// backend write at a time (SQLite's single writer connection).
	writers chan struct{}
	// fits reports whether c may share first's batch.
	fits func(first, c Q) bool
	// one runs a single call on the backend.
	one func(ctx context.Context, req Q) (R, error)
	// many runs a batch of two or more in one backend call (ctx ends only
	// when every caller has gone) and sets each call's res and err.
	many func(ctx context.Context, batch []*call[Q, R])
	// fuse, when set, may run the batch together with another operation's
	// queued calls in one backend call; it reports whether it did (and set
	// every res and err).
	fuse func(batch []*call[Q, R]) bool

	mu     sync.Mutex
	queue  []*call[Q, R]
	closed bool
	wake   chan struct{}
	exited sync.WaitGroup

	calls, batches atomic.Int64
}

func (b *batcher[Q, R]) start(flushers int) {
	b.wake = make(chan struct{}, 1)
	for range max(1, flushers) {
		b.exited.Go(b.loop)
	}
}

// do queues req and waits for its batch.
func (b *batcher[Q, R]) do(ctx context.Context, req Q) (R, error) {
	var zero R
	if err := ctx.Err(); err != nil {
		return zero, fmt.Errorf("%s: %w", b.op, err)
	}
	c := &call[Q, R]{ctx: ctx, req: req, done: make(chan struct{})}
	b.mu.Lock()
	b.calls.Add(1) // counted once queued, so tests can wait for a full queue
	if b.closed {
		b.mu.Unlock()
		b.batches.Add(1)
		return b.one(ctx, req)
	}
	b.queue = append(b.queue, c)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default: // a flusher is awake already
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		if c.state.CompareAndSwap(stateQueued, stateAbandoned) {
			return zero, fmt.Errorf("%s: %w", b.op, ctx.Err())
		}
		<-c.done // taken: the write may happen, so wait to report it
	}
	return c.res, c.err
}

// close stops taking new calls once the queue is drained.
func (b *batcher[Q, R]) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	// Every flusher must see the flag; each one re-signals before leaving.
	select {
	case b.wake <- struct{}{}:
	default:
	}
	b.exited.Wait()
}

func (b *batcher[Q, R]) loop() {
	for b.waitWork() {
		// With a shared writer slot, the batch is taken only once the slot
		// is free: what queues meanwhile joins it, instead of waiting for
		// the backend's one connection in a batch of its own.
		if b.writers != nil {
			b.writers <- struct{}{}
		}
		if batch, _ := b.take(); len(batch) > 0 {
			b.run(batch)
		}
		if b.writers != nil {
			<-b.writers
		}
	}
}

// waitWork blocks until a call is queued (true) or the batcher is closed
// and drained (false).
func (b *batcher[Q, R]) waitWork() bool {
	for {
		b.mu.Lock()
		n, closed := len(b.queue), b.closed
		b.mu.Unlock()
		if n > 0 {
			return true
		}
		if closed {
			select {
			case b.wake <- struct{}{}: // pass the news to the next flusher
			default:
			}
			return false
		}
		<-b.wake
	}
}

// take removes from the queue the first call still waiting and every later
// one that fits with it, up to max, keeping the others' order.
func (b *batcher[Q, R]) take() ([]*call[Q, R], bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var batch []*call[Q, R]
	rest := b.queue[:0]
	for _, c := range b.queue {
		if len(batch) < b.max && (len(batch) == 0 || b.fits(batch[0].req, c.req)) {
			if c.state.CompareAndSwap(stateQueued, stateTaken) {
				batch = append(batch, c)
			}
			continue // taken now, or abandoned: either way out of the queue
		}
		if c.state.Load() != stateAbandoned {
			rest = append(rest, c)
		}
	}
	clear(b.queue[len(rest):])
	b.queue = rest
	return batch, b.closed
}

func (b *batcher[Q, R]) run(batch []*call[Q, R]) {
	start := time.Now()
	if b.fuse == nil || !b.fuse(batch) {
		if len(batch) == 1 {
			c := batch[0]
			c.res, c.err = b.one(c.ctx, c.req)
		} else {
			ctx, release := joinContexts(contexts(batch))
			b.many(ctx, batch)
			release()
		}
	}
	b.finish(batch, start)
}

// finish counts and reports a batch that ran, here or fused into another
// operation's call, and wakes its callers.
func (b *batcher[Q, R]) finish(batch []*call[Q, R], start time.Time) {
	b.batches.Add(1)
	if b.observe != nil {
		b.observe(b.name, len(batch), time.Since(start))
	}
	for _, c := range batch {
		close(c.done)
	}
}

// retryEach runs every call of a failed merged batch on its own, so the
// error stays with the caller that caused it.
func (b *batcher[Q, R]) retryEach(batch []*call[Q, R]) {
	for _, c := range batch {
		c.res, c.err = b.one(c.ctx, c.req)
	}
}

func contexts[Q, R any](batch []*call[Q, R]) []context.Context {
	out := make([]context.Context, len(batch))
	for i, c := range batch {
		out[i] = c.ctx
	}
	return out
}

// joinContexts returns a context that ends when every caller's context has
// ended: the merged call is abandoned only when nobody waits for it.
// Values of the callers' contexts are not carried: the backends use none.
func joinContexts(ctxs []context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var left atomic.Int64
	left.Store(int64(len(ctxs)))
	stops := make([]func() bool, len(ctxs))
	for i, c := range ctxs {
		stops[i] = context.AfterFunc(c, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}
