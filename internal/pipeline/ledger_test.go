package pipeline

import (
	"maps"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

// Which statement a record is filtered by, per purpose, when its other
// identifiers hold statements too.
func TestLedgerTakesRefusalsOfLinkedIdentifiers(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	st := func(id, status string, at time.Time) store.ConsentEntry {
		return store.ConsentEntry{ID: id, Purpose: "marketing_email", Status: status, ObtainedAt: at}
	}
	type ledger = map[string]store.ConsentEntry
	cases := []struct {
		name     string
		own      *store.ConsentEntry // under the record's key
		linked   *store.ConsentEntry // under its phone
		unstored *store.ConsentEntry // the record's own, not in the store
		want     string              // entry id deciding; "" = none
	}{
		{"a newer refusal by phone wins", ptr(st("own", store.StatusGranted, t0)), ptr(st("phone", store.StatusWithdrawn, t0.Add(time.Hour))), nil, "phone"},
		{"a newer own grant stands", ptr(st("own", store.StatusGranted, t0.Add(time.Hour))), ptr(st("phone", store.StatusWithdrawn, t0)), nil, "own"},
		{"at the same time the refusal wins", ptr(st("own", store.StatusGranted, t0)), ptr(st("phone", store.StatusDenied, t0)), nil, "phone"},
		{"an own refusal as old stays the receipt", ptr(st("own", store.StatusDenied, t0)), ptr(st("phone", store.StatusWithdrawn, t0)), nil, "own"},
		{"a refusal by phone fills silence", nil, ptr(st("phone", store.StatusWithdrawn, t0)), nil, "phone"},
		{"a grant by phone does not travel", nil, ptr(st("phone", store.StatusGranted, t0)), nil, ""},
		{"an unstored grant as old as a refusal by phone loses", nil, ptr(st("phone", store.StatusWithdrawn, t0)), ptr(st("test", store.StatusGranted, t0)), "phone"},
		{"a newer unstored grant stands", nil, ptr(st("phone", store.StatusWithdrawn, t0)), ptr(st("test", store.StatusGranted, t0.Add(time.Minute))), "test"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			current := map[string]ledger{}
			if tc.own != nil {
				current["sk-mail"] = ledger{"marketing_email": *tc.own}
			}
			if tc.linked != nil {
				current["sk-phone"] = ledger{"marketing_email": *tc.linked}
			}
			before := maps.Clone(current["sk-mail"])
			var unstored []store.ConsentEntry
			if tc.unstored != nil {
				unstored = []store.ConsentEntry{*tc.unstored}
			}
			w := &prepared{subject: "sk-mail", linked: []string{"sk-phone"}}
			got := w.ledger(current, unstored)["marketing_email"].ID
			if got != tc.want {
				t.Errorf("decided by %q, want %q", got, tc.want)
			}
			if !maps.Equal(current["sk-mail"], before) {
				t.Errorf("the subject's shared ledger was changed: %v, was %v", current["sk-mail"], before)
			}
		})
	}
}
