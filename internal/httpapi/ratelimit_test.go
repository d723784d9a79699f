package httpapi

import (
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/config"
)

func TestRateLimitTokenBucket(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	l := newRateLimits(func() time.Time { return now })
	lim := config.RateLimit{RPS: 2, Burst: 3}

	for i := range 3 {
		if ok, _ := l.allow("web", lim); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allow("web", lim)
	if ok {
		t.Fatal("fourth request in the same instant allowed; burst is 3")
	}
	if got := retryAfterSeconds(wait); got != 1 {
		t.Errorf("Retry-After %d s, want 1 (a token every 0.5 s)", got)
	}
	if ok, _ := l.allow("other", lim); !ok {
		t.Error("another connector shares the bucket")
	}

	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.allow("web", lim); !ok {
		t.Error("a token should have refilled after 0.5 s at 2 rps")
	}
	if ok, _ := l.allow("web", lim); ok {
		t.Error("only one token refilled")
	}

	// A reload with a new limit starts a full bucket.
	if ok, _ := l.allow("web", config.RateLimit{RPS: 10}); !ok {
		t.Error("changed limit did not take effect")
	}
	// No limit configured: always allowed.
	for range 100 {
		if ok, _ := l.allow("free", config.RateLimit{}); !ok {
			t.Fatal("unlimited connector refused")
		}
	}
}

func TestRateLimitSlowRateRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	l := newRateLimits(func() time.Time { return now })
	lim := config.RateLimit{RPS: 0.1} // burst defaults to 1
	if ok, _ := l.allow("slow", lim); !ok {
		t.Fatal("first request refused")
	}
	ok, wait := l.allow("slow", lim)
	if ok || retryAfterSeconds(wait) != 10 {
		t.Errorf("ok=%v Retry-After=%d, want refused with 10 s", ok, retryAfterSeconds(wait))
	}
}
