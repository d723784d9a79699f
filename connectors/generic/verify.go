package generic

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/keyedmac"
)

// Standard Webhooks header names (spec v1.0.0).
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// Verify checks the delivery's signature over the raw body, and its
// timestamp against the tolerance, before anything is parsed.
func (c *Connector) Verify(req *ingest.Request) error {
	switch c.sig.Scheme {
	case SchemeStandardWebhooks:
		return c.verifyStandard(req)
	case SchemeStripe:
		return c.verifyStripe(req)
	default:
		return c.verifyHMAC(req)
	}
}

func (c *Connector) verifyStandard(req *ingest.Request) error {
	id := req.Header.Get(HeaderWebhookID)
	tsText := req.Header.Get(HeaderWebhookTimestamp)
	sigs := req.Header.Get(HeaderWebhookSignature)
	for _, h := range []struct{ name, v string }{
		{HeaderWebhookID, id}, {HeaderWebhookTimestamp, tsText}, {HeaderWebhookSignature, sigs},
	} {
		if h.v == "" {
			return ingest.Errorf(ingest.ErrUnauthenticated, "header %s is missing", h.name)
		}
	}
	if err := c.checkTimestamp(HeaderWebhookTimestamp, tsText); err != nil {
		return err
	}
	want := c.mac.Sum(make([]byte, 0, keyedmac.Size), req.Body, id, ".", tsText, ".")
	seen := false
	// Several signatures appear while the sender rotates keys: any match wins.
	for _, s := range strings.Fields(sigs) {
		version, enc, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue // v1a (ed25519) and future versions are not ours to check
		}
		seen = true
		if got, err := base64.StdEncoding.DecodeString(enc); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	if !seen {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s has no v1 signature", HeaderWebhookSignature)
	}
	return ingest.Errorf(ingest.ErrUnauthenticated, "header %s: no signature matches the body", HeaderWebhookSignature)
}

func (c *Connector) verifyStripe(req *ingest.Request) error {
	name := c.sig.Header
	v := req.Header.Get(name)
	if v == "" {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s is missing", name)
	}
	var ts string
	var sigs []string
	for _, part := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			if ts != "" {
				return ingest.Errorf(ingest.ErrUnauthenticated, "header %s has more than one t=", name)
			}
			ts = val
		case "v1":
			sigs = append(sigs, val)
		}
	}
	if ts == "" {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s has no t= timestamp", name)
	}
	if len(sigs) == 0 {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s has no v1= signature", name)
	}
	if err := c.checkTimestamp(name+" t=", ts); err != nil {
		return err
	}
	want := c.mac.Sum(make([]byte, 0, keyedmac.Size), req.Body, ts, ".")
	for _, s := range sigs {
		if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ingest.Errorf(ingest.ErrUnauthenticated, "header %s: no v1 signature matches the body", name)
}

func (c *Connector) verifyHMAC(req *ingest.Request) error {
	name := c.sig.Header
	v := strings.TrimSpace(req.Header.Get(name))
	if v == "" {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s is missing", name)
	}
	if p := c.sig.Prefix; p != "" {
		if len(v) < len(p) || !strings.EqualFold(v[:len(p)], p) {
			return ingest.Errorf(ingest.ErrUnauthenticated, "header %s must start with %q", name, p)
		}
		v = v[len(p):]
	}
	var got []byte
	var err error
	if c.sig.Encoding == "base64" {
		got, err = decodeBase64(v)
	} else {
		got, err = hex.DecodeString(v)
	}
	if err != nil {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s is not %s", name, c.sig.Encoding)
	}
	var want []byte
	if th := c.sig.TimestampHeader; th != "" {
		ts := req.Header.Get(th)
		if ts == "" {
			return ingest.Errorf(ingest.ErrUnauthenticated, "header %s is missing", th)
		}
		if err := c.checkTimestamp(th, ts); err != nil {
			return err
		}
		want = c.mac.Sum(make([]byte, 0, keyedmac.Size), req.Body, ts, ".")
	} else {
		want = c.mac.Sum(make([]byte, 0, keyedmac.Size), req.Body)
	}
	if !hmac.Equal(got, want) {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s does not match the body", name)
	}
	return nil
}

// checkTimestamp refuses a timestamp outside the tolerance, in either
// direction: old ones are replays, future ones would stay replayable longer.
func (c *Connector) checkTimestamp(name, text string) error {
	secs, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return ingest.Errorf(ingest.ErrUnauthenticated, "%s must be unix seconds", name)
	}
	tol := c.sig.Tolerance
	// Compare in seconds: time.Unix of an absurd value would overflow Sub.
	skew := c.now().Unix() - secs
	limit := int64(tol / time.Second)
	switch {
	case skew > limit:
		return ingest.Errorf(ingest.ErrUnauthenticated, "%s is older than the %s tolerance", name, tol)
	case skew < -limit:
		return ingest.Errorf(ingest.ErrUnauthenticated, "%s is more than %s in the future", name, tol)
	}
	return nil
}

// decodeBase64 accepts the standard and URL alphabets, padded or not:
// senders differ and the HMAC comparison is what decides.
func decodeBase64(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}
