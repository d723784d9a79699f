package tiktok

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/consentgate/consentgate/internal/ingest"
)

// Verify checks the delivery's signature over the raw body with the scheme
// chosen in settings.signature.scheme.
func (c *Connector) Verify(req *ingest.Request) error {
	value := strings.TrimSpace(req.Header.Get(c.header))
	if value == "" {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s is missing", c.header)
	}
	switch c.cfg.Signature.Scheme {
	case SchemeTikTokSignature:
		return c.verifyTimestamped(value, req.Body)
	default:
		return c.verifyPlain(value, req.Body)
	}
}

// verifyTimestamped implements TikTok's documented developer-webhook check:
// signature first, then the age of the signed timestamp.
func (c *Connector) verifyTimestamped(value string, body []byte) error {
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(value, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "t":
			ts = strings.TrimSpace(v)
		case "s":
			// Several s= entries are accepted, as Stripe does during secret
			// rotation; one must match.
			if b, err := hex.DecodeString(strings.TrimSpace(v)); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ts == "" || ts[0] == '+' || ts[0] == '-' || len(sigs) == 0 {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s must look like t=<unix seconds>,s=<hex HMAC-SHA256>", c.header)
	}
	prefix := []byte(ts + ".")
	if !c.matchAny(sigs, prefix, body) {
		return ingest.Errorf(ingest.ErrUnauthenticated, "signature in header %s does not match the body", c.header)
	}
	signed := time.Unix(unix, 0)
	if d := c.now().Sub(signed); d > c.tolerance || d < -c.tolerance {
		return ingest.Errorf(ingest.ErrUnauthenticated,
			"timestamp in header %s is more than %d seconds from the gateway clock: replayed or clock skew",
			c.header, int(c.tolerance/time.Second))
	}
	return nil
}

// verifyPlain checks a bare hex HMAC of the body (open_signature, plain_hmac).
func (c *Connector) verifyPlain(value string, body []byte) error {
	value = strings.TrimPrefix(value, "sha256=")
	sig, err := hex.DecodeString(value)
	if err != nil || len(sig) != sha256.Size {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s must hold a hex HMAC-SHA256", c.header)
	}
	if !c.matchAny([][]byte{sig}, nil, body) {
		return ingest.Errorf(ingest.ErrUnauthenticated, "signature in header %s does not match the body", c.header)
	}
	return nil
}

// matchAny reports whether one of sigs is the HMAC of prefix+body, or, when
// the fallback is on and the body has non-ASCII bytes, of prefix+escaped body.
// open_signature's reported rule is the escaped form; the raw form is tried
// too because an ASCII-only sender produces the same bytes either way.
func (c *Connector) matchAny(sigs [][]byte, prefix, body []byte) bool {
	want := c.mac(prefix, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return true
		}
	}
	escapedToo := c.cfg.Signature.EscapedBodyFallback || c.cfg.Signature.Scheme == SchemeOpenSignature
	if !escapedToo || !hasNonASCII(body) {
		return false
	}
	want = c.mac(prefix, escapeNonASCII(body))
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return true
		}
	}
	return false
}

func (c *Connector) mac(prefix, body []byte) []byte {
	m := hmac.New(sha256.New, c.secret)
	m.Write(prefix)
	m.Write(body)
	return m.Sum(nil)
}

func hasNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// escapeNonASCII rewrites each non-ASCII rune as a lowercase \uXXXX escape
// (a surrogate pair above the BMP) and leaves every other byte as received,
// so key order and whitespace still match what the sender hashed. Bytes that
// are not valid UTF-8 pass through unchanged.
func escapeNonASCII(body []byte) []byte {
	out := make([]byte, 0, len(body)+len(body)/2)
	for i := 0; i < len(body); {
		b := body[i]
		if b < utf8.RuneSelf {
			out = append(out, b)
			i++
			continue
		}
		r, size := utf8.DecodeRune(body[i:])
		if r == utf8.RuneError && size <= 1 {
			out = append(out, b)
			i++
			continue
		}
		if r > 0xFFFF {
			r -= 0x10000
			out = fmt.Appendf(out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += size
	}
	return out
}
