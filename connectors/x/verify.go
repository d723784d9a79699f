package x

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/consentgate/consentgate/internal/ingest"
)

// Signature headers, as X names them.
const (
	HeaderSignature       = "X-Twitter-Webhooks-Signature"
	HeaderSignatureOAuth2 = "X-Twitter-Webhooks-Signature-OAuth2"
)

const sigPrefix = "sha256="

// maxCRCToken bounds the challenge; X's tokens are a few dozen characters.
const maxCRCToken = 1024

// Verify checks the delivery's signature over the raw body, as the
// configured scheme says. Errors wrap ingest.ErrUnauthenticated.
func (c *Connector) Verify(req *ingest.Request) error {
	switch c.scheme {
	case SignatureOAuth2:
		return checkHeader(req, HeaderSignatureOAuth2, c.client)
	case SignatureOAuth2OrLegacy:
		// A present OAuth2 header decides alone: falling back to the legacy
		// header after a failed OAuth2 check would let the weaker secret
		// rescue a forgery of the stronger one.
		if req.Header.Get(HeaderSignatureOAuth2) != "" {
			return checkHeader(req, HeaderSignatureOAuth2, c.client)
		}
		if req.Header.Get(HeaderSignature) == "" {
			return ingest.Errorf(ingest.ErrUnauthenticated, "headers %s and %s are both missing", HeaderSignatureOAuth2, HeaderSignature)
		}
		return checkHeader(req, HeaderSignature, c.consumer)
	default:
		return checkHeader(req, HeaderSignature, c.consumer)
	}
}

func checkHeader(req *ingest.Request, name string, key []byte) error {
	v := strings.TrimSpace(req.Header.Get(name))
	if v == "" {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s is missing", name)
	}
	enc, ok := strings.CutPrefix(v, sigPrefix)
	if !ok {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s must start with %q", name, sigPrefix)
	}
	got, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s is not base64 after %q", name, sigPrefix)
	}
	if !hmac.Equal(got, mac(key, req.Body)) {
		return ingest.Errorf(ingest.ErrUnauthenticated, "header %s does not match the body", name)
	}
	return nil
}

func mac(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}

// Sign returns the header value X would send for body under key:
// "sha256=" + base64(HMAC-SHA256(key, body)). Tests and the dev sample
// request use it.
func Sign(key, body []byte) string {
	return sigPrefix + base64.StdEncoding.EncodeToString(mac(key, body))
}

// Handshake answers X's Challenge-Response Check. It does no I/O.
func (c *Connector) Handshake(req *ingest.Request) (ingest.Response, error) {
	token := req.Query.Get("crc_token")
	if token == "" {
		return ingest.Response{}, ingest.Errorf(ingest.ErrMalformed, "query parameter crc_token is missing")
	}
	if !plausibleCRCToken(token) {
		return ingest.Response{}, ingest.Errorf(ingest.ErrMalformed,
			"query parameter crc_token must be at most %d letters, digits or -_.~+/= characters", maxCRCToken)
	}
	body, err := json.Marshal(struct {
		ResponseToken string `json:"response_token"`
	}{Sign(c.crcKey, []byte(token))})
	if err != nil {
		return ingest.Response{}, err
	}
	return ingest.Response{Status: http.StatusOK, ContentType: "application/json", Body: body}, nil
}

// plausibleCRCToken keeps the CRC answer from being a signing oracle: the
// answer is the very HMAC that signs POST bodies, and no JSON body can be
// written in this alphabet (base64, base64url and UUID tokens can).
func plausibleCRCToken(s string) bool {
	if len(s) > maxCRCToken {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		case strings.IndexByte("-_.~+/=", b) >= 0:
		default:
			return false
		}
	}
	return true
}
