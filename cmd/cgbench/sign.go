package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks scheme, kept local so the benchmark's baseline does
// not depend on the gateway code it is measured against.
const (
	hdrID        = "webhook-id"
	hdrTimestamp = "webhook-timestamp"
	hdrSignature = "webhook-signature"
	tolerance    = 5 * time.Minute
)

type signer struct{ key []byte }

// newSigner takes the secret as platforms hand it out: "whsec_" followed by
// the base64 key. The prefix is optional, as in the reference libraries.
func newSigner(secret string) (*signer, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, errors.New(`--secret: want "whsec_" followed by a base64 key`)
	}
	return &signer{key: key}, nil
}

// sign returns the webhook-signature header value for one delivery.
func (s *signer) sign(id string, ts int64, body []byte) string {
	return string(appendSignature(nil, s.mac(), id, ts, body))
}

// mac returns an HMAC-SHA256 of the signer's key, for appendSignature.
func (s *signer) mac() hash.Hash { return hmac.New(sha256.New, s.key) }

// appendSignature appends the webhook-signature value ("v1," and the
// base64 HMAC of id.timestamp.body) to b. mac comes from signer.mac and
// is reset here, so a caller signing many deliveries keeps one.
func appendSignature(b []byte, mac hash.Hash, id string, ts int64, body []byte) []byte {
	var scratch [sha256.Size]byte
	mac.Reset()
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(scratch[:0], ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	b = append(b, "v1,"...)
	return base64.StdEncoding.AppendEncode(b, mac.Sum(scratch[:0]))
}

// verify checks the three headers against body. Errors name the header,
// never its value.
func (s *signer) verify(h http.Header, body []byte, now time.Time) error {
	id, tsText, sigs := h.Get(hdrID), h.Get(hdrTimestamp), h.Get(hdrSignature)
	if id == "" || tsText == "" || sigs == "" {
		return fmt.Errorf("missing %s, %s or %s header", hdrID, hdrTimestamp, hdrSignature)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%s: not unix seconds", hdrTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%s: outside ±%s", hdrTimestamp, tolerance)
	}
	want := s.sign(id, ts, body)
	// The header may carry several space-separated signatures (key
	// rotation); one match is enough.
	for _, sig := range strings.Fields(sigs) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("%s: no valid v1 signature", hdrSignature)
}
