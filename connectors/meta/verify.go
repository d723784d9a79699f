package meta

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/consentgate/consentgate/internal/ingest"
)

const (
	headerSig256 = "X-Hub-Signature-256"
	headerSig1   = "X-Hub-Signature"
	// maxChallenge bounds what we echo: Meta sends a short integer.
	maxChallenge = 256
)

var (
	sha256New = sha256.New
	sha1New   = sha1.New
)

// Handshake answers Meta's subscription check. It echoes hub.challenge only
// when hub.verify_token matches the configured token.
func (c *Connector) Handshake(req *ingest.Request) (ingest.Response, error) {
	for _, p := range []string{"hub.mode", "hub.verify_token", "hub.challenge"} {
		if req.Query.Get(p) == "" {
			return ingest.Response{}, ingest.Errorf(ingest.ErrMalformed, "query parameter %s is missing", p)
		}
	}
	token := []byte(req.Query.Get("hub.verify_token"))
	// Open refuses an empty token, so an empty parameter can never match.
	if subtle.ConstantTimeCompare(token, c.verifyToken) != 1 {
		return ingest.Response{}, ingest.Errorf(ingest.ErrUnauthenticated, "query parameter hub.verify_token does not match the connector's verify_token")
	}
	if req.Query.Get("hub.mode") != "subscribe" {
		return ingest.Response{}, ingest.Errorf(ingest.ErrMalformed, `query parameter hub.mode must be "subscribe"`)
	}
	challenge := req.Query.Get("hub.challenge")
	if len(challenge) > maxChallenge {
		return ingest.Response{}, ingest.Errorf(ingest.ErrMalformed, "query parameter hub.challenge is longer than %d bytes", maxChallenge)
	}
	return ingest.Response{
		Status:      http.StatusOK,
		ContentType: "text/plain; charset=utf-8",
		Body:        []byte(challenge),
	}, nil
}

// Verify checks the delivery's HMAC over the raw body.
func (c *Connector) Verify(req *ingest.Request) error {
	header, prefix, newHash := headerSig256, "sha256=", sha256New
	value := req.Header.Get(headerSig256)
	if value == "" && c.cfg.AcceptSHA1 && req.Header.Get(headerSig1) != "" {
		header, prefix, newHash = headerSig1, "sha1=", sha1New
		value = req.Header.Get(headerSig1)
	}
	if value == "" {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s is missing", headerSig256)
	}
	if len(value) < len(prefix) || !strings.EqualFold(value[:len(prefix)], prefix) {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s must look like %q", header, prefix+"<hex>")
	}
	got, err := hex.DecodeString(strings.TrimSpace(value[len(prefix):]))
	if err != nil || len(got) != newHash().Size() {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s is not a hex %s digest", header, strings.TrimSuffix(prefix, "="))
	}
	if hmac.Equal(got, hmacSum(newHash, c.appSecret, req.Body)) {
		return nil
	}
	// Meta signs an escaped-unicode rendering of the payload; a body that
	// reached us with raw UTF-8 (re-encoded on the way) is checked in that form.
	if escaped, ok := escapeNonASCII(req.Body); ok && hmac.Equal(got, hmacSum(newHash, c.appSecret, escaped)) {
		return nil
	}
	return ingest.Errorf(ingest.ErrUnauthenticated, "header %s does not match the body signed with the connector's app_secret", header)
}

func hmacSum(newHash func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(newHash, key)
	m.Write(msg)
	return m.Sum(nil)
}

func hmacHex(newHash func() hash.Hash, key, msg []byte) string {
	return hex.EncodeToString(hmacSum(newHash, key, msg))
}

// escapeNonASCII rewrites every non-ASCII rune of a UTF-8 body as a
// lowercase \uXXXX escape (a surrogate pair above the BMP), which is how
// Meta renders the payload it signs. ok is false when there is nothing to
// rewrite or the body is not valid UTF-8.
func escapeNonASCII(body []byte) (out []byte, ok bool) {
	ascii := true
	for _, b := range body {
		if b >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii || !utf8.Valid(body) {
		return nil, false
	}
	const digits = "0123456789abcdef"
	put := func(u rune) {
		out = append(out, '\\', 'u', digits[u>>12&0xf], digits[u>>8&0xf], digits[u>>4&0xf], digits[u&0xf])
	}
	out = make([]byte, 0, len(body)+len(body)/2)
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRune(body[i:])
		i += size
		switch {
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		case r > 0xffff:
			r -= 0x10000
			put(0xd800 + r>>10)
			put(0xdc00 + r&0x3ff)
		default:
			put(r)
		}
	}
	return out, true
}
