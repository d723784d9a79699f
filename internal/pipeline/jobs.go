package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/store"
)

// JobOptions tune the fetch workers of notify-only platforms.
type JobOptions struct {
	Workers     int
	MaxAttempts int
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// Poll is how often idle workers look for due jobs.
	Poll time.Duration
	// Lease protects a claimed job from other instances while it runs.
	Lease time.Duration
}

// RunJobs fetches notify-only leads until ctx ends. Several instances may
// run it: claims are leases (SKIP LOCKED on PostgreSQL).
func (p *Pipeline) RunJobs(ctx context.Context, o JobOptions) error {
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	t := time.NewTicker(o.Poll)
	defer t.Stop()
	var counted time.Time
	for {
		if now := time.Now(); now.Sub(counted) >= backlogEvery {
			counted = now
			p.countBacklog(ctx)
		}
		n, err := p.RunJobsOnce(ctx, o)
		if err != nil && ctx.Err() == nil {
			p.opts.Log.Warn("fetch jobs", "err", err)
		}
		if n > 0 {
			counted = time.Time{} // the backlog changed: count it next round
			continue              // more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// backlogEvery spaces the backlog counts: two index range counts, cheap,
// but no need to run them on every poll.
const backlogEvery = 5 * time.Second

// countBacklog refreshes the fetch-job backlog gauges.
func (p *Pipeline) countBacklog(ctx context.Context) {
	pending, dead, oldest, err := p.opts.Store.JobStats(ctx, p.opts.Now())
	if err != nil {
		if ctx.Err() == nil {
			p.opts.Log.Warn("count fetch jobs", "err", err)
		}
		return
	}
	p.opts.Metrics.Backlog.WithLabelValues(store.JobPending).Set(float64(pending))
	p.opts.Metrics.Backlog.WithLabelValues(store.JobDeadLetter).Set(float64(dead))
	p.opts.Metrics.Backlog.WithLabelValues("oldest_age_seconds").Set(oldest.Seconds())
}

// RunJobsOnce claims one round of due jobs and runs them; it returns how
// many it ran.
func (p *Pipeline) RunJobsOnce(ctx context.Context, o JobOptions) (int, error) {
	jobs, err := p.opts.Store.ClaimJobs(ctx, max(o.Workers, 1)*4, p.opts.Now(), o.Lease)
	if err != nil {
		return 0, fmt.Errorf("claim fetch jobs: %w", err)
	}
	sem := make(chan struct{}, max(o.Workers, 1))
	done := make(chan struct{})
	for _, j := range jobs {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; done <- struct{}{} }()
			p.runJob(ctx, j, o)
		}()
	}
	for range jobs {
		<-done
	}
	return len(jobs), nil
}

func (p *Pipeline) runJob(ctx context.Context, j store.Job, o JobOptions) {
	st := p.opts.Store
	log := p.opts.Log.With("connector", j.Connector, "job", j.ID, "event_ref", EventRef(j.EventID))
	bg := context.WithoutCancel(ctx)
	c, ok := p.Connectors()[j.Connector]
	if !ok {
		p.retryOrDead(bg, j, o, errors.New("connector is not configured on this instance"), 0)
		return
	}
	f, ok := c.Impl.(ingest.Fetcher)
	if !ok {
		_ = st.DeadLetterJob(bg, j.ID, fmt.Sprintf("platform %s cannot fetch", c.Platform))
		return
	}
	recs, err := f.Fetch(ctx, ingest.FetchJob{EventID: j.EventID, Ref: j.Ref, Form: j.Form, OccurredAt: j.OccurredAt})
	if err != nil {
		var ra *ingest.RetryAfterError
		switch {
		case errors.Is(err, ingest.ErrPermanent):
			log.Warn("fetch failed permanently; dead-lettered", "err", err)
			p.opts.Metrics.Jobs.WithLabelValues(j.Connector, "dead_letter").Inc()
			if derr := st.DeadLetterJob(bg, j.ID, err.Error()); derr != nil {
				log.Error("dead-letter job", "err", derr)
			}
		case errors.As(err, &ra):
			p.retryOrDead(bg, j, o, err, ra.After)
		default:
			p.retryOrDead(bg, j, o, err, 0)
		}
		return
	}
	for i := range recs {
		if recs[i].EventID == "" {
			recs[i].EventID = j.EventID
		}
	}
	// The statements point at the notification that announced the lead
	// (jobs stored before its evidence was kept name the job instead).
	ev := evidence{requestID: j.RequestID, payloadSum: j.PayloadSHA256, receivedAt: p.opts.Now()}
	if ev.requestID == "" {
		ev.requestID = fmt.Sprintf("job-%d", j.ID)
	}
	if _, err := p.process(ctx, c, recs, ev); err != nil {
		p.retryOrDead(bg, j, o, err, 0)
		return
	}
	p.opts.Metrics.Jobs.WithLabelValues(j.Connector, "done").Inc()
	if err := st.FinishJob(bg, j.ID); err != nil {
		log.Error("finish job", "err", err)
	}
}

// retryOrDead schedules the next attempt with exponential backoff and
// full jitter (or the platform's Retry-After), or dead-letters the job.
func (p *Pipeline) retryOrDead(ctx context.Context, j store.Job, o JobOptions, cause error, after time.Duration) {
	// ClaimJobs counted this attempt already, so a worker that crashes
	// mid-fetch still moves the job towards the dead letter.
	attempts := j.Attempts
	if o.MaxAttempts > 0 && attempts >= o.MaxAttempts {
		p.opts.Metrics.Jobs.WithLabelValues(j.Connector, "dead_letter").Inc()
		reason := fmt.Sprintf("gave up after %d attempts: %v", attempts, cause)
		if err := p.opts.Store.DeadLetterJob(ctx, j.ID, reason); err != nil {
			p.opts.Log.Error("dead-letter job", "job", j.ID, "err", err)
		}
		return
	}
	if after <= 0 {
		after = Backoff(attempts, o.BaseBackoff, o.MaxBackoff)
	}
	p.opts.Metrics.Jobs.WithLabelValues(j.Connector, "retry").Inc()
	if err := p.opts.Store.RetryJob(ctx, j.ID, p.opts.Now().Add(after), cause.Error()); err != nil {
		p.opts.Log.Error("retry job", "job", j.ID, "err", err)
	}
}

// Backoff is base·2^(attempt-1), capped, with jitter in [½, 1]× so many
// instances do not retry in lock-step.
func Backoff(attempt int, base, maxWait time.Duration) time.Duration {
	if base <= 0 {
		base = time.Second
	}
	if maxWait <= 0 {
		maxWait = 10 * time.Minute
	}
	d := base
	for i := 1; i < attempt && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}
