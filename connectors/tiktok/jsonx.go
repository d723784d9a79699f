package tiktok

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
)

// maxDepth bounds how deep nested answers are flattened into dotted paths.
const maxDepth = 8

// checkContentType refuses bodies declared as something other than JSON; a
// delivery without a Content-Type is read as JSON.
func checkContentType(req *ingest.Request) error {
	ct := req.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return ingest.Errorf(ingest.ErrUnsupportedMediaType, "Content-Type must be application/json")
	}
	return nil
}

// decodeObject reads one JSON object and nothing after it. Errors name the
// byte offset, never the offending text, which may be personal data.
func decodeObject(data []byte, what string) (map[string]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, ingest.Errorf(ingest.ErrMalformed, "%s is empty", what)
	}
	if data[0] != '{' {
		return nil, ingest.Errorf(ingest.ErrMalformed, "%s must be a JSON object", what)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil {
		return nil, ingest.Errorf(ingest.ErrMalformed, "%s is not valid JSON%s", what, offsetOf(err))
	}
	if dec.InputOffset() != int64(len(data)) {
		return nil, ingest.Errorf(ingest.ErrMalformed, "%s has data after the JSON object", what)
	}
	return m, nil
}

func offsetOf(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return " (at byte " + strconv.FormatInt(se.Offset, 10) + ")"
	}
	return ""
}

// scalar renders a JSON scalar as a string. Numbers keep their exact digits,
// so 19-digit ids survive. ok is false for null, objects and arrays.
func scalar(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case 't', 'f':
		return string(raw), string(raw) == "true" || string(raw) == "false"
	case 'n', '{', '[':
		return "", false
	default:
		return string(raw), true
	}
}

// flatten puts raw into out under name: scalars as they are, objects as
// dotted paths (name.key), arrays of scalars joined with ", ", other arrays
// by index (name.0.key). Nulls and anything deeper than maxDepth are dropped.
func flatten(out map[string]string, name string, raw json.RawMessage, depth int) {
	if depth > maxDepth {
		return
	}
	if s, ok := scalar(raw); ok {
		out[name] = s
		return
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return
	}
	switch raw[0] {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return
		}
		for k, v := range m {
			flatten(out, name+"."+k, v, depth+1)
		}
	case '[':
		var xs []json.RawMessage
		if json.Unmarshal(raw, &xs) != nil {
			return
		}
		parts := make([]string, 0, len(xs))
		for _, x := range xs {
			s, ok := scalar(x)
			if !ok {
				parts = nil
				break
			}
			parts = append(parts, s)
		}
		if parts != nil || len(xs) == 0 {
			out[name] = strings.Join(parts, ", ")
			return
		}
		for i, x := range xs {
			flatten(out, name+"."+strconv.Itoa(i), x, depth+1)
		}
	}
}

// parseBool reads a checkbox-like answer. ok is false when it is neither a
// clear yes nor a clear no, which the gateway treats as silence.
func parseBool(raw json.RawMessage) (value, ok bool) {
	s, isScalar := scalar(raw)
	if !isScalar {
		// A one-element list such as ["true"] is read as its element.
		var xs []json.RawMessage
		if json.Unmarshal(raw, &xs) != nil || len(xs) != 1 {
			return false, false
		}
		if s, isScalar = scalar(xs[0]); !isScalar {
			return false, false
		}
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "y", "on", "checked", "agree", "agreed", "accepted":
		return true, true
	case "false", "0", "no", "n", "off", "unchecked", "":
		return false, true
	}
	return false, false
}

// parseTime reads unix seconds or milliseconds (told apart by magnitude),
// RFC 3339, or "2006-01-02 15:04:05" taken as UTC. ok is false otherwise.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case n <= 0:
			return time.Time{}, false
		case n >= 1e11: // beyond year 5138 in seconds: must be milliseconds
			return time.UnixMilli(n).UTC(), true
		default:
			return time.Unix(n, 0).UTC(), true
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
