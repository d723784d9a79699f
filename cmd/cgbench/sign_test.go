package main

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

const vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// The published Standard Webhooks vector: if this matches, every receiver
// library accepts what cgbench load sends.
func TestSignMatchesPublishedVector(t *testing.T) {
	s, err := newSigner(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	got := s.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

// setHeaders signs a delivery as cgbench load does, into h.
func (s *signer) setHeaders(h http.Header, id string, now time.Time, body []byte) {
	ts := now.Unix()
	h.Set(hdrID, id)
	h.Set(hdrTimestamp, strconv.FormatInt(ts, 10))
	h.Set(hdrSignature, s.sign(id, ts, body))
}

func TestVerify(t *testing.T) {
	s, _ := newSigner(vectorSecret)
	other, _ := newSigner("whsec_" + "c2VjcmV0LXR3bw==")
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"id":"a"}`)
	signed := func(by *signer, at time.Time, b []byte) http.Header {
		h := http.Header{}
		by.setHeaders(h, "msg_1", at, b)
		return h
	}
	rotated := signed(s, now, body)
	rotated.Set(hdrSignature, "v1,AAAA "+rotated.Get(hdrSignature))

	for _, tc := range []struct {
		name string
		h    http.Header
		body []byte
		ok   bool
	}{
		{"valid", signed(s, now, body), body, true},
		{"one of several signatures", rotated, body, true},
		{"other key", signed(other, now, body), body, false},
		{"body changed", signed(s, now, body), []byte(`{"id":"b"}`), false},
		{"stale", signed(s, now.Add(-6*time.Minute), body), body, false},
		{"future", signed(s, now.Add(6*time.Minute), body), body, false},
		{"no headers", http.Header{}, body, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.verify(tc.h, tc.body, now)
			if (err == nil) != tc.ok {
				t.Fatalf("verify = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	st := summarize(d)
	if st.p50 != 5 || st.p99 != 10 {
		t.Fatalf("p50=%d p99=%d, want 5 and 10", st.p50, st.p99)
	}
	// One slow answer among fast ones: p99 of 100 samples hides it, the
	// mean and the maximum do not.
	d = make([]time.Duration, 1000)
	for i := range d {
		d[i] = 2
	}
	d[500] = 2002
	st = summarize(d)
	if st.p99 != 2 || st.p999 != 2 || st.max != 2002 || st.mean != 4 || st.p90 != 2 {
		t.Fatalf("got %+v, want p90=p99=p999=2, max=2002, mean=4", st)
	}
}
