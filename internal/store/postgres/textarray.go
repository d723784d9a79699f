package postgres

import (
	"database/sql/driver"
	"strings"

	"github.com/lib/pq"
)

// textArray is a text[] parameter written in one buffer. lib/pq's
// StringArray converts every element to []byte on the way, one allocation
// per element, and the begin and completion batches send a dozen arrays
// of one element per request each.
type textArray []string

// Value writes the array literal: every element quoted, with backslash and
// double quote escaped, so commas, braces, spaces and the word NULL stay
// text. (PostgreSQL refuses NUL bytes and invalid UTF-8 in text as it did
// through StringArray; callers never merge such values with others.)
func (a textArray) Value() (driver.Value, error) {
	n := 2
	for _, s := range a {
		n += len(s) + 3
	}
	var b strings.Builder
	b.Grow(n + 8)
	b.WriteByte('{')
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for len(s) > 0 {
			j := strings.IndexAny(s, `"\`)
			if j < 0 {
				b.WriteString(s)
				break
			}
			b.WriteString(s[:j])
			b.WriteByte('\\')
			b.WriteByte(s[j])
			s = s[j+1:]
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

// array is the dialect's array parameter: text arrays by textArray,
// anything else by lib/pq.
func array(v any) any {
	if s, ok := v.([]string); ok {
		return textArray(s)
	}
	return pq.Array(v)
}
