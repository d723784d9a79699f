package groupcommit

import (
	"context"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

// Options tune the batchers; the zero value gives the defaults.
type Options struct {
	// MaxBatch is the most callers merged into one backend call.
	// Default 128.
	MaxBatch int
	// Flushers is how many batches of one operation may run at the same
	// time. One (the default) gives the largest batches; more can help a
	// PostgreSQL pool with spare connections.
	Flushers int
	// ClockSkew is how far apart the clocks (now) of ClaimEvents callers
	// may be for them to share a call. Default 1s: requests in flight
	// together read the clock within milliseconds of each other, while a
	// lease is minutes long.
	ClockSkew time.Duration
	// Writers, when positive, caps the write batches (claim, begin,
	// append, complete) running at once across operations. Set 1 for a backend
	// with a single writer connection (SQLite): a batch then forms while
	// the writer is busy with another, rather than queueing for it. Zero:
	// no shared cap (PostgreSQL, whose pool serves writes in parallel).
	Writers int
	// SeparateWrites keeps completions and begins in transactions of
	// their own even with Writers = 1. By default a single-writer backend
	// that can (store backends built on sqlstore) runs the completions
	// queued while a begin batch waits for the writer in that batch's
	// transaction, and the reverse: one commit instead of two.
	SeparateWrites bool
	// SeparateReads passes CurrentConsent through instead of merging the
	// subjects of concurrent callers into one query.
	SeparateReads bool
	// Observe, when set, is told of every backend call a batcher makes:
	// the operation ("claim", "begin", "append", "complete", "current"), how many
	// callers it served and how long it took. For metrics; it must be fast.
	Observe func(op string, callers int, took time.Duration)
}

func (o Options) withDefaults() Options {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 128
	}
	if o.Flushers <= 0 {
		o.Flushers = 1
	}
	if o.ClockSkew <= 0 {
		o.ClockSkew = time.Second
	}
	return o
}

// Store is the wrapper; Wrap returns it as a store.Store that also carries
// the backend's optional interfaces.
type Store struct {
	store.Store // every method not overridden passes through

	claim    *batcher[claimReq, []bool]
	begin    *batcher[beginReq, store.Begun]
	ledger   *batcher[[]store.ConsentEntry, struct{}]
	complete *batcher[store.Completion, struct{}]
	current  *batcher[[]string, map[string]map[string]store.ConsentEntry]
	reads    bool
	fused    completeAndBeginner // nil: begins and completions commit apart

	closeOnce sync.Once
}

// Stats counts, per operation, the calls made and the backend calls they
// became; Calls/Batches is the average batch size.
type Stats struct {
	Claim, Begin, Append, Complete, Current OpStats
}

// OpStats is one operation's counters.
type OpStats struct {
	Calls, Batches int64
}

// tableTexter mirrors storetest.TableTexter (a test helper this package
// must not import) so the erasure contract test still sees every table.
type tableTexter interface {
	TableText(ctx context.Context) (map[string][]string, error)
}

// Wrap starts the batchers over s. Close the returned store to stop them;
// that also closes s.
func Wrap(s store.Store, opts Options) store.Store {
	w := newStore(s, opts.withDefaults())
	m, isM := s.(store.Migrator)
	tt, isT := s.(tableTexter)
	switch {
	case isM && isT:
		return struct {
			*Store
			store.Migrator
			tableTexter
		}{w, m, tt}
	case isM:
		return struct {
			*Store
			store.Migrator
		}{w, m}
	case isT:
		return struct {
			*Store
			tableTexter
		}{w, tt}
	}
	return w
}

// StatsOf returns the counters of a store made by Wrap.
func StatsOf(s store.Store) (Stats, bool) {
	w, ok := s.(interface{ stats() Stats })
	if !ok {
		return Stats{}, false
	}
	return w.stats(), true
}

func (s *Store) stats() Stats {
	return Stats{
		Claim:    OpStats{s.claim.calls.Load(), s.claim.batches.Load()},
		Begin:    OpStats{s.begin.calls.Load(), s.begin.batches.Load()},
		Append:   OpStats{s.ledger.calls.Load(), s.ledger.batches.Load()},
		Complete: OpStats{s.complete.calls.Load(), s.complete.batches.Load()},
		Current:  OpStats{s.current.calls.Load(), s.current.batches.Load()},
	}
}

// Close lets queued calls finish, then closes the backend.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.claim.close()
		s.begin.close()
		s.ledger.close()
		s.complete.close()
		s.current.close()
	})
	return s.Store.Close()
}

// ClaimEvents joins the claim batch.
func (s *Store) ClaimEvents(ctx context.Context, keys []store.EventKey, now time.Time, lease time.Duration) ([]bool, error) {
	if len(keys) == 0 {
		return s.Store.ClaimEvents(ctx, keys, now, lease)
	}
	return s.claim.do(ctx, claimReq{keys: keys, now: now, lease: lease, solo: !mergeable(keys)})
}

// BeginEvents joins the begin batch. A Begin the backend would refuse
// fails on its own, before it could fail a merged call for everyone.
func (s *Store) BeginEvents(ctx context.Context, b store.Begin) (store.Begun, error) {
	if len(b.Keys) == 0 || b.Check() != nil {
		return s.Store.BeginEvents(ctx, b)
	}
	return s.begin.do(ctx, beginReq{Begin: b, solo: !mergeable(b.Keys)})
}

// AppendConsent joins the ledger batch.
func (s *Store) AppendConsent(ctx context.Context, entries []store.ConsentEntry) error {
	if len(entries) == 0 {
		return s.Store.AppendConsent(ctx, entries)
	}
	_, err := s.ledger.do(ctx, entries)
	return err
}

// CompleteEvents joins the completion batch.
func (s *Store) CompleteEvents(ctx context.Context, c store.Completion) error {
	if len(c.Done)+len(c.Decisions)+len(c.Outbox) == 0 {
		return s.Store.CompleteEvents(ctx, c)
	}
	_, err := s.complete.do(ctx, c)
	return err
}

// CurrentConsent joins the read batch (unless Options.SeparateReads).
func (s *Store) CurrentConsent(ctx context.Context, subjectKeys []string) (map[string]map[string]store.ConsentEntry, error) {
	if !s.reads || len(subjectKeys) == 0 {
		return s.Store.CurrentConsent(ctx, subjectKeys)
	}
	return s.current.do(ctx, subjectKeys)
}
