package keyedmac

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func reference(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// TestSumMatchesHMAC: reused states give what a fresh hmac.New gives, one
// call after another (a state not reset would carry the previous message)
// and from many goroutines at once.
func TestSumMatchesHMAC(t *testing.T) {
	key := []byte("a key longer than nothing, shorter than a block")
	m := New(key)
	cases := []struct {
		parts []string
		tail  string
	}{
		{nil, ""},
		{[]string{"msg_1", ".", "1733346423", "."}, `{"id":1}`},
		{[]string{"subject-v1", "email", "\x00", "ana@example.com"}, ""},
		{nil, strings.Repeat("x", 10_000)},
		{[]string{strings.Repeat("y", 5_000)}, "z"}, // a part too big to keep pooled
	}
	for range 3 {
		for _, c := range cases {
			msg := strings.Join(c.parts, "") + c.tail
			if got, want := m.Sum(nil, []byte(c.tail), c.parts...), reference(key, msg); !hmac.Equal(got, want) {
				t.Fatalf("Sum(%q + %q) = %x, want %x", c.parts, c.tail, got, want)
			}
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				msg := fmt.Sprintf("goroutine %d message %d", g, i)
				if got := m.Sum(nil, nil, msg); !hmac.Equal(got, reference(key, msg)) {
					t.Errorf("concurrent Sum(%q) wrong", msg)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestNewCopiesKey: changing the caller's slice afterwards changes nothing.
func TestNewCopiesKey(t *testing.T) {
	key := []byte("original key")
	m := New(key)
	copy(key, "XXXXXXXX")
	if got := m.Sum(nil, []byte("m")); !hmac.Equal(got, reference([]byte("original key"), "m")) {
		t.Fatal("the MAC follows a change to the caller's key slice")
	}
}

func BenchmarkSum(b *testing.B) {
	m := New([]byte("bench key"))
	body := []byte(strings.Repeat("b", 300))
	var out [Size]byte
	b.ReportAllocs()
	for b.Loop() {
		m.Sum(out[:0], body, "msg_2Lq8", ".", "1733346423", ".")
	}
}

func BenchmarkHMACNew(b *testing.B) {
	key := []byte("bench key")
	body := []byte(strings.Repeat("b", 300))
	b.ReportAllocs()
	for b.Loop() {
		h := hmac.New(sha256.New, key)
		h.Write([]byte("msg_2Lq8" + "." + "1733346423" + "."))
		h.Write(body)
		h.Sum(nil)
	}
}
