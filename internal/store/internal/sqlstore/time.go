package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"
)

// Time scans a timestamp as either backend stores it: PostgreSQL's
// timestamptz arrives as time.Time, SQLite's INTEGER as microseconds since
// the Unix epoch. NULL scans as the zero time. Results are in UTC.
type Time struct{ time.Time }

// Scan implements sql.Scanner.
func (t *Time) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.Time = time.Time{}
	case time.Time:
		t.Time = v.UTC()
	case int64:
		t.Time = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("scan timestamp: unsupported type %T", src)
	}
	return nil
}

// ptr returns nil for the zero time.
func (t Time) ptr() *time.Time {
	if t.IsZero() {
		return nil
	}
	v := t.Time
	return &v
}

// UnixMicro encodes a timestamp as SQLite stores it: INTEGER microseconds.
func UnixMicro(t time.Time) any { return t.UnixMicro() }

// jsonText encodes v as JSON text for a TEXT column.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
