package groupcommit

import (
	"context"
	"errors"
	"maps"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/consentgate/consentgate/internal/store"
)

func newStore(s store.Store, o Options) *Store {
	w := &Store{Store: s, reads: !o.SeparateReads}
	w.claim = &batcher[claimReq, []bool]{
		op: "claim events", name: "claim", max: o.MaxBatch, observe: o.Observe,
		fits: func(a, b claimReq) bool {
			return !a.solo && !b.solo && sameWindow(a.now, b.now, a.lease, b.lease, o.ClockSkew)
		},
		one: func(ctx context.Context, r claimReq) ([]bool, error) {
			return s.ClaimEvents(ctx, r.keys, r.now, r.lease)
		},
	}
	w.claim.many = w.claimMany
	w.begin = &batcher[beginReq, store.Begun]{
		op: "begin events", name: "begin", max: o.MaxBatch, observe: o.Observe,
		fits: func(a, b beginReq) bool {
			return !a.solo && !b.solo && sameWindow(a.Now, b.Now, a.Lease, b.Lease, o.ClockSkew)
		},
		one: func(ctx context.Context, r beginReq) (store.Begun, error) { return s.BeginEvents(ctx, r.Begin) },
	}
	w.begin.many = w.beginMany
	w.ledger = &batcher[[]store.ConsentEntry, struct{}]{
		op: "append consent", name: "append", max: o.MaxBatch, observe: o.Observe, fits: always[[]store.ConsentEntry],
		one: func(ctx context.Context, es []store.ConsentEntry) (struct{}, error) {
			return struct{}{}, s.AppendConsent(ctx, es)
		},
	}
	w.ledger.many = w.appendMany
	w.complete = &batcher[store.Completion, struct{}]{
		op: "complete events", name: "complete", max: o.MaxBatch, observe: o.Observe, fits: always[store.Completion],
		one: func(ctx context.Context, c store.Completion) (struct{}, error) {
			return struct{}{}, s.CompleteEvents(ctx, c)
		},
	}
	w.complete.many = w.completeMany
	w.current = &batcher[[]string, map[string]map[string]store.ConsentEntry]{
		op: "current consent", name: "current", max: o.MaxBatch, observe: o.Observe, fits: always[[]string],
		one: s.CurrentConsent,
	}
	w.current.many = w.currentMany
	if f, ok := s.(completeAndBeginner); ok && o.Writers == 1 && !o.SeparateWrites {
		w.fused = f
		w.begin.fuse, w.complete.fuse = w.fuseBegin, w.fuseComplete
	}
	if o.Writers > 0 {
		slot := make(chan struct{}, o.Writers)
		w.claim.writers, w.begin.writers, w.ledger.writers, w.complete.writers = slot, slot, slot, slot
	}
	w.claim.start(o.Flushers)
	w.begin.start(o.Flushers)
	w.ledger.start(o.Flushers)
	w.complete.start(o.Flushers)
	w.current.start(o.Flushers)
	return w
}

func always[Q any](Q, Q) bool { return true }

// sameWindow reports whether two claims may share a call: the same lease
// and clocks within skew (the call uses the latest of them).
func sameWindow(aNow, bNow time.Time, aLease, bLease, skew time.Duration) bool {
	d := aNow.Sub(bNow)
	return aLease == bLease && d <= skew && d >= -skew
}

// beginReq is a queued Begin; solo ones are never merged (see mergeable).
type beginReq struct {
	store.Begin
	solo bool
}

type claimReq struct {
	keys  []store.EventKey
	now   time.Time
	lease time.Duration
	solo  bool // never merged: see mergeable
}

// maxMergedKey bounds the key bytes of a merged claim: far above any
// platform's event ids, far below PostgreSQL's index-row limit.
const maxMergedKey = 1024

// mergeable reports whether keys cannot make a merged claim fail for
// everyone: PostgreSQL refuses invalid UTF-8, NUL bytes and index rows
// that are too long. Such keys are claimed in a call of their own, since
// a failed merged claim is not retried per caller.
func mergeable(keys []store.EventKey) bool {
	for _, k := range keys {
		for _, s := range []string{k.Connector, k.EventID} {
			if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
				return false
			}
		}
		if len(k.Connector)+len(k.EventID) > maxMergedKey {
			return false
		}
	}
	return true
}

// claimMany claims every caller's keys in one call, in queue order, so a
// key two callers want is won by the first. The call uses the latest
// caller clock of the batch (all are within ClockSkew).
func (s *Store) claimMany(ctx context.Context, batch []*call[claimReq, []bool]) {
	var keys []store.EventKey
	now := batch[0].req.now
	for _, c := range batch {
		keys = append(keys, c.req.keys...)
		if c.req.now.After(now) {
			now = c.req.now
		}
	}
	won, err := s.Store.ClaimEvents(ctx, keys, now, batch[0].req.lease)
	off := 0
	for _, c := range batch {
		if err != nil {
			c.err = err
			continue
		}
		c.res = won[off : off+len(c.req.keys) : off+len(c.req.keys)]
		off += len(c.req.keys)
	}
}

// beginMany runs every caller's Begin as one, in queue order (a key two
// callers want is won by the first), at the latest caller clock of the
// batch. Like a merged claim, a merged Begin that fails is not retried per
// caller: a failed COMMIT may have taken effect. Begins that could fail on
// their own (invalid entries, unmergeable keys) never join a batch.
func (s *Store) beginMany(ctx context.Context, batch []*call[beginReq, store.Begun]) {
	got, err := s.Store.BeginEvents(ctx, mergeBegins(batch))
	splitBegun(batch, got, err)
}

func mergeBegins(batch []*call[beginReq, store.Begun]) store.Begin {
	all := store.Begin{Now: batch[0].req.Now, Lease: batch[0].req.Lease}
	for _, c := range batch {
		n := len(c.req.Keys)
		all.Keys = append(all.Keys, c.req.Keys...)
		if c.req.Entries != nil {
			all.Entries = append(all.Entries, c.req.Entries...)
		} else {
			all.Entries = append(all.Entries, make([][]store.ConsentEntry, n)...)
		}
		if c.req.Subjects != nil {
			all.Subjects = append(all.Subjects, c.req.Subjects...)
		} else {
			all.Subjects = append(all.Subjects, make([]string, n)...)
		}
		if c.req.Linked != nil {
			all.Linked = append(all.Linked, c.req.Linked...)
		} else {
			all.Linked = append(all.Linked, make([][]string, n)...)
		}
		if c.req.Now.After(all.Now) {
			all.Now = c.req.Now
		}
	}
	return all
}

// splitBegun hands each caller its share of a merged Begin's answer: its
// won flags and, in maps of its own, the consent of its won subjects.
func splitBegun(batch []*call[beginReq, store.Begun], got store.Begun, err error) {
	off := 0
	for _, c := range batch {
		n := len(c.req.Keys)
		if err != nil {
			c.err = err
			continue
		}
		res := store.Begun{Won: got.Won[off : off+n : off+n], Current: map[string]map[string]store.ConsentEntry{}}
		for i := range n {
			if !res.Won[i] {
				continue
			}
			for _, k := range c.req.ReadSubjects(i) {
				if _, done := res.Current[k]; done {
					continue
				}
				if purposes, ok := got.Current[k]; ok {
					res.Current[k] = maps.Clone(purposes)
				}
			}
		}
		c.res = res
		off += n
	}
}

func mergeCompletions(batch []*call[store.Completion, struct{}]) store.Completion {
	var all store.Completion
	for _, c := range batch {
		all.Done = append(all.Done, c.req.Done...)
		all.Decisions = append(all.Decisions, c.req.Decisions...)
		all.Outbox = append(all.Outbox, c.req.Outbox...)
	}
	return all
}

// completeAndBeginner is a backend that can run a completion and a begin
// in one transaction (sqlstore does).
type completeAndBeginner interface {
	CompleteAndBegin(ctx context.Context, c store.Completion, b store.Begin) (store.Begun, error)
}

// fuseBegin runs a begin batch together with the completions queued
// meanwhile; fuseComplete the other way round. With a single writer the
// two operations only ever take turns, so one transaction for both halves
// the commits without making anyone wait longer.
func (s *Store) fuseBegin(begins []*call[beginReq, store.Begun]) bool {
	start := time.Now()
	comps, _ := s.complete.take()
	if len(comps) == 0 {
		return false
	}
	s.runFused(comps, begins)
	s.complete.finish(comps, start)
	return true
}

func (s *Store) fuseComplete(comps []*call[store.Completion, struct{}]) bool {
	start := time.Now()
	begins, _ := s.begin.take()
	if len(begins) == 0 {
		return false
	}
	s.runFused(comps, begins)
	s.begin.finish(begins, start)
	return true
}

// runFused makes one backend call for both batches. When it fails before
// COMMIT nothing was written, and each batch runs again on its own, so a
// bad completion cannot fail the begins nor the reverse. When COMMIT itself
// failed the begins fail (their claims may have been taken, see
// beginMany) and the completions, which may be written twice, are run
// again caller by caller.
func (s *Store) runFused(comps []*call[store.Completion, struct{}], begins []*call[beginReq, store.Begun]) {
	ctx, release := joinContexts(append(contexts(comps), contexts(begins)...))
	defer release()
	got, err := s.fused.CompleteAndBegin(ctx, mergeCompletions(comps), mergeBegins(begins))
	switch {
	case err == nil:
		splitBegun(begins, got, nil)
	case errors.Is(err, store.ErrCommitUnknown):
		splitBegun(begins, got, err)
		s.complete.retryEach(comps)
	default:
		s.completeMany(ctx, comps)
		s.beginMany(ctx, begins)
	}
}

func (s *Store) appendMany(ctx context.Context, batch []*call[[]store.ConsentEntry, struct{}]) {
	var all []store.ConsentEntry
	for _, c := range batch {
		all = append(all, c.req...)
	}
	if err := s.Store.AppendConsent(ctx, all); err != nil {
		s.ledger.retryEach(batch)
	}
}

func (s *Store) completeMany(ctx context.Context, batch []*call[store.Completion, struct{}]) {
	if err := s.Store.CompleteEvents(ctx, mergeCompletions(batch)); err != nil {
		s.complete.retryEach(batch)
	}
}

// currentMany reads the union of the callers' subjects once; each caller
// gets maps of its own, holding only the subjects it asked for.
func (s *Store) currentMany(ctx context.Context, batch []*call[[]string, map[string]map[string]store.ConsentEntry]) {
	seen := map[string]bool{}
	var keys []string
	for _, c := range batch {
		for _, k := range c.req {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	got, err := s.Store.CurrentConsent(ctx, keys)
	if err != nil {
		s.current.retryEach(batch)
		return
	}
	for _, c := range batch {
		out := make(map[string]map[string]store.ConsentEntry, len(c.req))
		for _, k := range c.req {
			if purposes, ok := got[k]; ok {
				mine := make(map[string]store.ConsentEntry, len(purposes))
				for p, e := range purposes {
					mine[p] = e
				}
				out[k] = mine
			}
		}
		c.res = out
	}
}
