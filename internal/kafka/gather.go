package kafka

import (
	"context"
	"errors"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// The producer does its own lingering instead of leaving it to kafka-go,
// for two reasons kafka-go's per-partition batch timers cannot serve:
//
//   - The linger is a latency budget, and a webhook starts spending it when
//     it arrives, not when its record reaches the producer. The gateway's
//     store batches requests before they produce (the claim and the
//     evidence must be durable first), so by then a record has usually
//     waited a few milliseconds in company already; holding it another full
//     linger only adds latency. Callers say when their work began
//     (WithArrival) and the waiting records are sent once the oldest one's
//     budget is spent.
//   - When a send is slow, records that would each have started a small
//     batch of their own and queued behind it are better sent together: a
//     flush waits for the one before it (for at most a linger), so batches
//     grow with load instead of produce requests multiplying.
//
// Each flush is one asynchronous WriteMessages call, which kafka-go (batch
// timeout "now") turns into one batch per partition; its Completion
// callback hands every call its outcome from the partition writer's
// goroutine, so a caller is woken once, as with a synchronous write.

type arrivalKey struct{}

// WithArrival records when the work a produce serves began (a webhook's
// arrival), so the linger counts from then. Without it, from the Produce
// call.
func WithArrival(ctx context.Context, at time.Time) context.Context {
	return context.WithValue(ctx, arrivalKey{}, at)
}

func arrival(ctx context.Context) (time.Time, bool) {
	at, ok := ctx.Value(arrivalKey{}).(time.Time)
	return at, ok && !at.IsZero()
}

// call is one Produce call waiting for, or in, a flush.
type call struct {
	msgs   []kafkago.Message
	sendBy time.Time
	done   chan struct{} // closed once every message has its outcome
	err    error         // the first failure; read after done

	f    *flight // set when a flush takes the call
	left int     // messages without an outcome; guarded by f.mu
}

// flight is one flush between its WriteMessages and its last outcome.
type flight struct {
	mu   sync.Mutex
	left int
}

// gather holds the calls not yet sent.
type gather struct {
	mu        sync.Mutex
	pending   []*call
	due       time.Time // earliest sendBy in pending
	inFlight  int
	lastFlush time.Time // start of the newest flush in flight
	timer     *time.Timer
	armed     time.Time // what the timer is set for; zero when idle
	closed    bool
	flushes   sync.WaitGroup
}

var errClosed = errors.New("producer closed")

// enqueue adds c and sends what is due.
func (p *Producer) enqueue(c *call) error {
	g := &p.gather
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return errClosed
	}
	g.pending = append(g.pending, c)
	if g.due.IsZero() || c.sendBy.Before(g.due) {
		g.due = c.sendBy
	}
	due := p.scheduleLocked(time.Now())
	g.mu.Unlock()
	p.send(due)
	return nil
}

// withdraw takes c back if no flush has taken it yet, so a caller that
// gives up does not leave behind a record it will write elsewhere.
func (p *Producer) withdraw(c *call) {
	g := &p.gather
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, q := range g.pending {
		if q == c {
			g.pending = append(g.pending[:i], g.pending[i+1:]...)
			return // g.due may now be early: at worst one early flush
		}
	}
}

// scheduleLocked takes the pending calls if the oldest is due (the caller
// sends them after unlocking), or sets the timer for when it will be.
// While a flush is in flight the next waits for it, but no longer than a
// linger after it started, so one slow partition does not hold up the
// rest for its whole retry budget.
func (p *Producer) scheduleLocked(now time.Time) []*call {
	g := &p.gather
	if len(g.pending) == 0 {
		return nil
	}
	at := g.due
	if g.inFlight > 0 && !g.closed {
		at = later(at, g.lastFlush.Add(p.cfg.Linger))
	}
	if g.closed || !now.Before(at) {
		calls := g.pending
		g.pending, g.due = nil, time.Time{}
		g.inFlight++
		g.lastFlush = now
		g.flushes.Add(1)
		return calls
	}
	if !g.armed.IsZero() && !at.Before(g.armed) {
		return nil // the timer fires earlier and will look again
	}
	g.armed = at
	if g.timer == nil {
		g.timer = time.AfterFunc(at.Sub(now), p.onTimer)
	} else {
		g.timer.Reset(at.Sub(now))
	}
	return nil
}

func (p *Producer) onTimer() {
	g := &p.gather
	g.mu.Lock()
	g.armed = time.Time{}
	due := p.scheduleLocked(time.Now())
	g.mu.Unlock()
	p.send(due)
}

// send hands calls to kafka-go in one asynchronous WriteMessages.
func (p *Producer) send(calls []*call) {
	if len(calls) == 0 {
		return
	}
	f := &flight{}
	n := 0
	for _, c := range calls {
		c.f, c.left = f, len(c.msgs)
		n += len(c.msgs)
	}
	f.left = n
	msgs := make([]kafkago.Message, 0, n)
	for _, c := range calls {
		msgs = append(msgs, c.msgs...) // each carries its call as WriterData
	}
	if err := p.write(msgs); err != nil {
		// Refused before anything was batched (a message too large, a
		// topic the broker does not know): that may be one caller's doing,
		// so each call is tried on its own and only the one at fault fails.
		if len(calls) == 1 {
			p.finish(calls[0], len(msgs), err)
			return
		}
		for _, c := range calls {
			if err := p.write(c.msgs); err != nil {
				p.finish(c, len(c.msgs), err)
			}
		}
	}
}

func (p *Producer) write(msgs []kafkago.Message) error {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.WriteTimeout)
	defer cancel()
	return p.writer.WriteMessages(ctx, msgs...)
}

// completed is kafka-go's Completion callback, once per batch sent.
func (p *Producer) completed(msgs []kafkago.Message, err error) {
	for _, m := range msgs {
		if c, ok := m.WriterData.(*call); ok {
			p.finish(c, 1, err)
		}
	}
}

// finish records the outcome of n of c's messages.
func (p *Producer) finish(c *call, n int, err error) {
	f := c.f
	f.mu.Lock()
	if err != nil && c.err == nil {
		c.err = err
	}
	c.left -= n
	callDone := c.left == 0
	f.left -= n
	flightDone := f.left == 0
	f.mu.Unlock()
	if callDone {
		close(c.done)
	}
	if flightDone {
		g := &p.gather
		g.mu.Lock()
		g.inFlight--
		due := p.scheduleLocked(time.Now())
		g.mu.Unlock()
		g.flushes.Done()
		p.send(due)
	}
}

// closeGather sends what is pending at once and waits for every flush.
func (p *Producer) closeGather() {
	g := &p.gather
	g.mu.Lock()
	g.closed = true
	if g.timer != nil {
		g.timer.Stop()
	}
	due := p.scheduleLocked(time.Now())
	g.mu.Unlock()
	p.send(due)
	g.flushes.Wait()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
