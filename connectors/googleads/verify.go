package googleads

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"

	"github.com/consentgate/consentgate/internal/ingest"
)

// keyField is the body member that carries the advertiser's shared key.
const keyField = "google_key"

// redacted replaces the key's value in the body once Parse has seen it.
const redacted = `"[redacted]"`

// keyMember is where the top-level google_key member sits in a body.
type keyMember struct {
	value json.RawMessage
	// [start, end) runs from just after the member's name to the end of its
	// value: the colon, any spaces and the value itself.
	start, end int64
}

// findKey walks the top-level members of body without decoding anything
// else, so Verify touches no lead data. found is false when the body is not
// a JSON object or breaks off before the key; dup is true when the key
// appears twice (which of two values would count is ambiguous, so refuse).
func findKey(body []byte) (km keyMember, found, dup bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return km, false, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		name, ok := tok.(string)
		if !ok {
			break
		}
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			break
		}
		if name != keyField {
			continue
		}
		if found {
			return km, true, true
		}
		km, found = keyMember{value: raw, start: start, end: dec.InputOffset()}, true
	}
	return km, found, false
}

// Verify checks that the body's google_key equals the configured key, in
// constant time. It reads only that one member; a body that is not JSON
// cannot carry the key and is refused as unauthenticated.
func (c *Connector) Verify(req *ingest.Request) error {
	km, found, dup := findKey(req.Body)
	switch {
	case dup:
		return ingest.Errorf(ingest.ErrUnauthenticated, "field %s appears more than once", keyField)
	case !found:
		return ingest.Errorf(ingest.ErrUnauthenticated, "field %s is missing (the body must be a JSON object carrying it)", keyField)
	}
	var got string
	if err := json.Unmarshal(km.value, &got); err != nil {
		return ingest.Errorf(ingest.ErrUnauthenticated, "field %s must be a string", keyField)
	}
	d := sha256.Sum256([]byte(got))
	if !hmac.Equal(d[:], c.keyDigest[:]) {
		return ingest.Errorf(ingest.ErrUnauthenticated, "field %s does not match the key configured for this connector", keyField)
	}
	return nil
}

// redactKey returns body with the google_key value replaced, byte-exact
// elsewhere, so evidence and logs kept after Parse never hold the key.
func redactKey(body []byte) []byte {
	km, found, _ := findKey(body)
	if !found {
		return body
	}
	out := make([]byte, 0, len(body))
	out = append(out, body[:km.start]...)
	out = append(out, ':')
	out = append(out, redacted...)
	return append(out, body[km.end:]...)
}
