package httpapi

import (
	"math"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/config"
)

// rateLimits holds one token bucket per connector id. Limits are per
// gateway instance: with N instances behind a balancer a connector may
// receive up to N× its configured rate.
type rateLimits struct {
	mu      sync.Mutex
	now     func() time.Time
	buckets map[string]*bucket
}

// bucket is a token bucket: it refills at rate tokens per second up to
// burst, and each request takes one token.
type bucket struct {
	limit  config.RateLimit
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newRateLimits(now func() time.Time) *rateLimits {
	if now == nil {
		now = time.Now
	}
	return &rateLimits{now: now, buckets: map[string]*bucket{}}
}

// allow takes a token for the connector. When none is left it returns
// false and how long until the next token (the Retry-After to send).
func (l *rateLimits) allow(id string, lim config.RateLimit) (bool, time.Duration) {
	if lim.RPS <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[id]
	if b == nil || b.limit != lim {
		// New connector, or its limit changed on reload: start full, so a
		// reload never rejects traffic the old limit would have let in.
		burst := float64(lim.Burst)
		if burst <= 0 {
			burst = max(1, math.Ceil(lim.RPS))
		}
		b = &bucket{limit: lim, rate: lim.RPS, burst: burst, tokens: burst, last: now}
		l.buckets[id] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
	return false, wait
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1, as
// Retry-After takes delay-seconds.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
