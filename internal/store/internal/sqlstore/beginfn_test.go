package sqlstore

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestAppendEntriesMatchesEncodingJSON: the hand-written encoder of the
// begin function's entries says what encoding/json would, for values that
// need escaping too, so PostgreSQL stores the same ledger rows.
func TestAppendEntriesMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 4, 21, 7, 3, 123456000, time.UTC)
	rows := []entryRow{
		{K: 1, ID: "0193-a", SubjectKey: "sk_1", Purpose: "marketing_email", Status: "granted", Method: "checkbox",
			Platform: "generic", Connector: "web", Form: `form "A" \ <b>&`, CheckboxKey: "consent.ünï\u2028", NoticeID: "n\x01",
			NoticeVersion: "3", ObtainedAt: at, RecordedAt: at.Add(time.Microsecond), ExpiresAt: nil,
			PayloadSHA256: "ab12", RequestID: "req\t1"},
		{K: 12, ID: "0193-b", ObtainedAt: int64(1733346423123456), RecordedAt: int64(1), ExpiresAt: at},
	}
	for _, rs := range [][]entryRow{rows, {}} {
		got, err := appendEntries(nil, rs)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(rs)
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("appendEntries wrote invalid JSON %s: %v", got, err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("appendEntries\n got %s\nwant %s", got, want)
		}
	}
	if _, err := appendEntries(nil, []entryRow{{ObtainedAt: "yesterday"}}); err == nil {
		t.Error("a timestamp of an unknown type was encoded instead of refused")
	}
}
