// Package keyedmac computes HMAC-SHA256 under one fixed key, reusing the
// hash states between calls.
//
// hmac.New allocates four times and hashes the key's inner and outer pads
// on every call; the webhook path computes a MAC for the signature, one
// per subject identifier and one per hashed field, so it paid that a few
// times per request. A MAC here keeps states in a sync.Pool and resets
// them after use.
package keyedmac

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// Size is the length of a MAC in bytes.
const Size = sha256.Size

// MAC is HMAC-SHA256 with one key. Safe for concurrent use.
type MAC struct {
	key  []byte
	pool sync.Pool
}

type state struct {
	h   hash.Hash
	buf []byte // the string parts, joined, so they cost one Write
}

// New returns a MAC for key (copied).
func New(key []byte) *MAC {
	m := &MAC{key: append([]byte(nil), key...)}
	m.pool.New = func() any { return &state{h: hmac.New(sha256.New, m.key)} }
	return m
}

// Sum appends to dst the MAC of parts followed by tail, as if they were
// one message.
func (m *MAC) Sum(dst, tail []byte, parts ...string) []byte {
	s := m.pool.Get().(*state)
	s.buf = s.buf[:0]
	for _, p := range parts {
		s.buf = append(s.buf, p...)
	}
	s.h.Write(s.buf)
	s.h.Write(tail)
	dst = s.h.Sum(dst)
	s.h.Reset()
	if cap(s.buf) <= 1<<12 { // a pathological part is not kept alive
		m.pool.Put(s)
	}
	return dst
}
