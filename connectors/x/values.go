package x

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/jsonstrict"
)

// scalar is a JSON string, number or boolean kept as its exact text. X sends
// some values either way (timestamp_ms is a number in favorite_events and a
// string in tweet_delete_events; user_has_blocked is "false").
type scalar struct {
	s      string
	number bool
}

func (v *scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*v = scalar{}
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = scalar{s: s}
	case string(b) == "true" || string(b) == "false":
		*v = scalar{s: string(b)}
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		// The decoder has already checked the literal's syntax.
		*v = scalar{s: string(b), number: true}
	default:
		return errNotScalar
	}
	return nil
}

var errNotScalar = errors.New("not a string, number or boolean")

// maxExact is the largest integer below which every integer survives a
// float64 round trip; X's JSON encoder rounds larger numeric ids.
const maxExact = 1 << 53

// id returns v as an id: strings as sent, numbers only when they are
// integers small enough to be exact. ok is false for anything else.
func (v scalar) id() (string, bool) {
	if !v.number {
		return v.s, v.s != ""
	}
	n, err := strconv.ParseUint(v.s, 10, 64)
	if err != nil || n > maxExact {
		return "", false
	}
	return v.s, true
}

// user is a v1.1 User object, or the part of one this connector reads.
type user struct {
	ID         scalar `json:"id"`
	IDStr      string `json:"id_str"`
	ScreenName string `json:"screen_name"`
	Name       string `json:"name"`
}

// userID prefers id_str; id is used only when it is exact.
func (u *user) userID() string {
	if u == nil {
		return ""
	}
	if u.IDStr != "" {
		return u.IDStr
	}
	id, _ := u.ID.id()
	return id
}

// fields collects a record's raw fields, leaving out empty values so that
// absent and empty look the same to the mapping.
type fields map[string]string

func (f fields) set(key, value string) {
	if value != "" {
		f[key] = value
	}
}

// setUser writes u's id, screen name and name under prefix ("user", "source").
func (f fields) setUser(prefix string, u *user) {
	if u == nil {
		return
	}
	f.set(prefix+".id_str", u.userID())
	f.set(prefix+".screen_name", u.ScreenName)
	f.set(prefix+".name", u.Name)
}

// unixMillis parses X's millisecond timestamps ("1517588749178" or a number).
func unixMillis(v scalar) (time.Time, bool) {
	ms, err := strconv.ParseInt(v.s, 10, 64)
	if err != nil || ms < 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), true
}

// occurredAt reads the first timestamp present among ms (milliseconds) and
// createdAt (v1.1 "Mon Mar 26 16:33:26 +0000 2018"). where names the element
// for the error, which never quotes the value.
func occurredAt(where, msName string, ms scalar, createdAt string) (time.Time, error) {
	if ms.s != "" {
		t, ok := unixMillis(ms)
		if !ok {
			return time.Time{}, ingest.Errorf(ingest.ErrMalformed, "%s.%s: must be milliseconds since the epoch", where, msName)
		}
		return t, nil
	}
	if createdAt != "" {
		t, err := time.Parse(time.RubyDate, createdAt)
		if err != nil {
			return time.Time{}, ingest.Errorf(ingest.ErrMalformed, `%s.created_at: must look like "Mon Mar 26 16:33:26 +0000 2018"`, where)
		}
		return t.UTC(), nil
	}
	return time.Time{}, nil
}

// decodeElem decodes one event element, describing a failure by position
// and field name only: encoding/json's own messages may quote the value.
func decodeElem(where string, raw json.RawMessage, dst any) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		return ingest.Errorf(ingest.ErrMalformed, "%s: %s", where, describe(err))
	}
	return nil
}

func describe(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Sprintf("field %s has the wrong JSON type (want %s)", typeErr.Field, jsonstrict.Kind(typeErr.Type.Kind()))
	case errors.As(err, &typeErr):
		return fmt.Sprintf("has the wrong JSON type (want %s)", jsonstrict.Kind(typeErr.Type.Kind()))
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("invalid JSON at byte %d", syntaxErr.Offset)
	case errors.Is(err, errNotScalar):
		return "a field that must be a string, number or boolean is not"
	default:
		return "not the documented shape"
	}
}
