package linkedin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/consentgate/consentgate/internal/ingest"
)

const (
	headerSignature = "X-LI-Signature"
	// headerValuePrefix is stripped from X-LI-Signature when present: some
	// integrations report LinkedIn sending it, the guide does not say.
	headerValuePrefix = "hmacsha256="
	// maxChallengeLen bounds what we echo back; LinkedIn sends a UUID.
	maxChallengeLen = 256
)

// Verify checks X-LI-Signature: HMAC-SHA256 keyed with the client secret
// over settings.signature_message_prefix + the raw body, compared in
// constant time.
func (c *Connector) Verify(req *ingest.Request) error {
	got := strings.TrimSpace(req.Header.Get(headerSignature))
	if got == "" {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s is missing", headerSignature)
	}
	if len(got) >= len(headerValuePrefix) && strings.EqualFold(got[:len(headerValuePrefix)], headerValuePrefix) {
		got = got[len(headerValuePrefix):]
	}
	sig, ok := c.decodeSignature(got)
	if !ok {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s is not a %s HMAC-SHA256", headerSignature, c.cfg.SignatureEncoding)
	}
	if !hmac.Equal(sig, c.sign(req.Body)) {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s does not match the body", headerSignature)
	}
	return nil
}

// sign returns the raw HMAC LinkedIn should have sent for body.
func (c *Connector) sign(body []byte) []byte {
	m := hmac.New(sha256.New, c.clientSecret)
	m.Write([]byte(c.cfg.SignatureMessagePrefix))
	m.Write(body)
	return m.Sum(nil)
}

func (c *Connector) decodeSignature(s string) ([]byte, bool) {
	var (
		b   []byte
		err error
	)
	if c.cfg.SignatureEncoding == "base64" {
		b, err = base64.StdEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(s)
		}
	} else {
		// hex.DecodeString accepts either case, so "ABCD" and "abcd" agree.
		b, err = hex.DecodeString(s)
	}
	return b, err == nil && len(b) == sha256.Size
}

type challengeAnswer struct {
	ChallengeCode     string `json:"challengeCode"`
	ChallengeResponse string `json:"challengeResponse"`
}

// Handshake answers LinkedIn's endpoint validation: GET ?challengeCode=X →
// 200 application/json {"challengeCode":X,"challengeResponse":hex(HMAC(X))}.
// LinkedIn allows 3 seconds and re-validates every 2 hours, so this does no
// I/O. A parent/child applicationId parameter is ignored: the connector's
// client_secret must be that application's secret.
func (c *Connector) Handshake(req *ingest.Request) (ingest.Response, error) {
	code := req.Query.Get("challengeCode")
	if code == "" {
		return ingest.Response{}, ingest.Errorf(ingest.ErrMalformed, "query parameter challengeCode is missing")
	}
	if !utf8.ValidString(code) {
		return ingest.Response{}, ingest.Errorf(ingest.ErrMalformed, "query parameter challengeCode is not UTF-8 text")
	}
	if len(code) > maxChallengeLen {
		return ingest.Response{}, ingest.Errorf(ingest.ErrMalformed, "query parameter challengeCode is longer than %d bytes", maxChallengeLen)
	}
	m := hmac.New(sha256.New, c.clientSecret)
	m.Write([]byte(code))
	body, err := json.Marshal(challengeAnswer{ChallengeCode: code, ChallengeResponse: hex.EncodeToString(m.Sum(nil))})
	if err != nil {
		return ingest.Response{}, ingest.Errorf(ingest.ErrMalformed, "query parameter challengeCode cannot be echoed")
	}
	return ingest.Response{Status: http.StatusOK, ContentType: "application/json", Body: body}, nil
}
