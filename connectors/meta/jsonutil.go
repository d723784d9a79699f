package meta

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/jsonstrict"
)

const (
	// Limits on one notification value: Meta's are a few levels deep and a
	// few dozen leaves; anything far beyond is not a Meta payload.
	maxDepth  = 8
	maxLeaves = 256
)

// idText is a JSON string or integer kept as the exact text Meta sent, so
// 64-bit ids never pass through float64.
type idText string

func (t *idText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = idText(s)
		return nil
	case isDigits(string(b)):
		*t = idText(b)
		return nil
	}
	// A type error lets the decoder name the field in the message.
	return &json.UnmarshalTypeError{Value: "non-integer value", Type: reflect.TypeFor[idText]()}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decodeErr turns a JSON error into a client-safe message: it names the
// position or Go field, never the offending bytes.
func decodeErr(what string, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return ingest.Errorf(ingest.ErrMalformed, "%s is not valid JSON (syntax error at byte %d)", what, syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ingest.Errorf(ingest.ErrMalformed, "%s is not valid JSON (it ends too early)", what)
	case errors.As(err, &typ) && typ.Field != "":
		return ingest.Errorf(ingest.ErrMalformed, "%s: field %s has the wrong JSON type: Meta sends a JSON %s", what, typ.Field, jsonstrict.Kind(typ.Type.Kind()))
	default:
		return ingest.Errorf(ingest.ErrMalformed, "%s does not have the shape of a Meta webhook", what)
	}
}

// flatten turns a JSON value into dotted-path leaves: objects by key,
// arrays by index. Numbers keep their exact text, booleans become
// "true"/"false", nulls and empty containers vanish.
func flatten(raw json.RawMessage, path string) (map[string]string, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]string{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, decodeErr(path, err)
	}
	out := map[string]string{}
	if err := flattenInto(out, "", v, 0, path); err != nil {
		return nil, err
	}
	return out, nil
}

func flattenInto(out map[string]string, prefix string, v any, depth int, path string) error {
	if depth > maxDepth {
		return ingest.Errorf(ingest.ErrTooLarge, "%s nests deeper than %d levels", path, maxDepth)
	}
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if err := flattenInto(out, join(k), e, depth+1, path); err != nil {
				return err
			}
		}
		return nil
	case []any:
		for i, e := range x {
			if err := flattenInto(out, join(strconv.Itoa(i)), e, depth+1, path); err != nil {
				return err
			}
		}
		return nil
	case nil:
		return nil
	}
	if len(out) >= maxLeaves {
		return ingest.Errorf(ingest.ErrTooLarge, "%s has more than %d fields", path, maxLeaves)
	}
	switch x := v.(type) {
	case string:
		out[prefix] = x
	case json.Number:
		out[prefix] = x.String()
	case bool:
		out[prefix] = strconv.FormatBool(x)
	}
	return nil
}

// unixTime reads a Unix timestamp in seconds or milliseconds: Meta's Page
// payloads use seconds, Instagram messaging uses milliseconds, so the
// magnitude decides (1e11 s is the year 5138, 1e11 ms is 1973).
func unixTime(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	if n >= 1e11 {
		return time.UnixMilli(n).UTC(), true
	}
	return time.Unix(n, 0).UTC(), true
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
