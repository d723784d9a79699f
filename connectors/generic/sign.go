package generic

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/consentgate/consentgate/internal/keyedmac"
)

// SignStandard returns the webhook-signature header value ("v1,<base64>")
// for a Standard Webhooks delivery; send it with webhook-id id and
// webhook-timestamp ts.Unix(). secret is "whsec_<base64>" (prefix optional)
// as Open requires; like regexp.MustCompile it panics on a secret Open
// would refuse, since a caller signing test traffic has a bug to fix.
func SignStandard(secret, id string, ts time.Time, body []byte) string {
	key, err := standardKey(secret)
	if err != nil {
		panic("generic.SignStandard: secret " + err.Error())
	}
	sig := keyedmac.New(key).Sum(nil, body, id, ".", strconv.FormatInt(ts.Unix(), 10), ".")
	return "v1," + base64.StdEncoding.EncodeToString(sig)
}

// SignHMAC returns the headers a sender configured like cfg would set for
// body at ts (Content-Type is left to the caller). It serves every scheme,
// so a dev tool can sign for any generic connector from its settings:
//   - hmac: the signature header (prefix + hex or base64), plus the
//     timestamp header when cfg names one;
//   - stripe: the header with "t=<unix>,v1=<hex>";
//   - standard_webhooks: webhook-id, webhook-timestamp and webhook-signature,
//     the id derived from ts and body so a resend of the same call is a
//     duplicate while different bodies get different ids. secret must then
//     be "whsec_<base64>"; like SignStandard it panics on one Open refuses.
func SignHMAC(cfg Config, secret string, ts time.Time, body []byte) map[string]string {
	sig := cfg.Signature.withSchemeDefaults()
	key := []byte(secret)
	if sig.Scheme == SchemeStandardWebhooks {
		var err error
		if key, err = standardKey(secret); err != nil {
			panic("generic.SignHMAC: secret " + err.Error())
		}
	}
	return signHeaders(sig, keyedmac.New(key), ts, body)
}

// SampleHeaders signs body with the connector's own secret, so `consentgate
// dev` can print a curl that this connector accepts.
func (c *Connector) SampleHeaders(body []byte, now time.Time) map[string]string {
	return signHeaders(c.sig, c.mac, now, body)
}

// signHeaders signs with the same MAC and message layout Verify checks.
func signHeaders(sig SignatureConfig, mac *keyedmac.MAC, ts time.Time, body []byte) map[string]string {
	unix := strconv.FormatInt(ts.Unix(), 10)
	switch sig.Scheme {
	case SchemeStandardWebhooks:
		sum := sha256.Sum256(append([]byte(unix+"."), body...))
		id := "msg_" + hex.EncodeToString(sum[:12])
		return map[string]string{
			HeaderWebhookID:        id,
			HeaderWebhookTimestamp: unix,
			HeaderWebhookSignature: "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil, body, id, ".", unix, ".")),
		}
	case SchemeStripe:
		return map[string]string{sig.Header: "t=" + unix + ",v1=" + hex.EncodeToString(mac.Sum(nil, body, unix, "."))}
	default:
		h := map[string]string{}
		var m []byte
		if sig.TimestampHeader != "" {
			h[sig.TimestampHeader] = unix
			m = mac.Sum(nil, body, unix, ".")
		} else {
			m = mac.Sum(nil, body)
		}
		enc := hex.EncodeToString(m)
		if sig.Encoding == "base64" {
			enc = base64.StdEncoding.EncodeToString(m)
		}
		h[sig.Header] = sig.Prefix + enc
		return h
	}
}
