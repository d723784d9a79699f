package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

func decision(id, conn, event, outcome string, at time.Time) store.Decision {
	return store.Decision{
		ID: id, At: at, Connector: conn, EventID: event, SubjectKey: "sk-" + event, Outcome: outcome,
		Rules:  []string{"purpose_granted", "unmapped_dropped"},
		Fields: map[string]string{"email": "keep", "phone": "hash"}, PolicyVersion: "v3",
		Topic: "crm.leads.v1", RequestID: "req-" + id,
	}
}

func decisionIDs(ds []store.Decision) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

var catalogTests = []test{
	{"PingAndMigrate", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		ok(t, s.Ping(ctx), "ping")
		m, isM := s.(store.Migrator)
		if !isM {
			t.Skip("backend has no migrations")
		}
		ok(t, m.Migrate(ctx), "migrate an up-to-date store")
		cur, latest, err := m.SchemaVersion(ctx)
		ok(t, err, "schema version")
		if cur != latest || cur == 0 {
			t.Fatalf("schema version: current %d, latest %d", cur, latest)
		}
	}},
	{"Connectors", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		_, err := s.GetConnector(ctx, "meta-a")
		wantErr(t, err, store.ErrNotFound, "get missing connector")
		wantErr(t, s.DeleteConnector(ctx, "meta-a"), store.ErrNotFound, "delete missing connector")
		list, err := s.ListConnectors(ctx)
		ok(t, err, "list empty")
		equal(t, "empty list", len(list), 0)

		spec := json.RawMessage(`{"settings": {"api_version": "v21.0"}, "secrets": {"app_secret": {"env": "META_APP_SECRET"}}}`)
		a := store.Connector{ID: "meta-a", Platform: "meta", Name: "Brand A", Enabled: true, Spec: spec, UpdatedAt: t0}
		b := store.Connector{ID: "li-b", Platform: "linkedin", Name: "Brand B", Enabled: false, Spec: json.RawMessage(`{}`), UpdatedAt: t0}
		ok(t, s.PutConnector(ctx, a), "put a")
		ok(t, s.PutConnector(ctx, b), "put b")
		got, err := s.GetConnector(ctx, "meta-a")
		ok(t, err, "get a")
		equal(t, "connector a (spec byte for byte)", got, a)

		a.Name, a.Enabled, a.UpdatedAt = "Brand A (EU)", false, t0.Add(time.Hour)
		ok(t, s.PutConnector(ctx, a), "replace a")
		list, err = s.ListConnectors(ctx)
		ok(t, err, "list")
		equal(t, "list by id", list, []store.Connector{b, a})

		ok(t, s.DeleteConnector(ctx, "meta-a"), "delete a")
		_, err = s.GetConnector(ctx, "meta-a")
		wantErr(t, err, store.ErrNotFound, "get deleted connector")
		if err := s.PutConnector(ctx, store.Connector{ID: "bad", Platform: "meta", Spec: json.RawMessage(`{`)}); err == nil {
			t.Fatal("put connector with invalid JSON spec: want error")
		}
	}},
	{"DecisionsFilter", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		all := []store.Decision{
			decision("d1", "meta", "e1", "forwarded", t0),
			decision("d2", "meta", "e2", "dropped", t0.Add(time.Minute)),
			decision("d3", "linkedin", "e3", "forwarded", t0.Add(2*time.Minute)),
			decision("d4", "meta", "e4", "forwarded", t0.Add(3*time.Minute)),
		}
		all[1].Rules, all[1].Fields, all[1].Topic = []string{"no_consent"}, map[string]string{}, ""
		ok(t, s.CompleteEvents(ctx, store.Completion{Decisions: all}), "store decisions")
		// Storing the same decision again is harmless (a retried completion).
		ok(t, s.CompleteEvents(ctx, store.Completion{Decisions: all[:1]}), "store a decision again")

		cases := []struct {
			name string
			f    store.DecisionFilter
			want []string
		}{
			{"all, newest first", store.DecisionFilter{}, []string{"d4", "d3", "d2", "d1"}},
			{"connector", store.DecisionFilter{Connector: "meta"}, []string{"d4", "d2", "d1"}},
			{"outcome", store.DecisionFilter{Outcome: "forwarded"}, []string{"d4", "d3", "d1"}},
			{"connector and outcome", store.DecisionFilter{Connector: "meta", Outcome: "dropped"}, []string{"d2"}},
			{"since inclusive, until exclusive", store.DecisionFilter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, []string{"d3", "d2"}},
			{"limit", store.DecisionFilter{Limit: 2}, []string{"d4", "d3"}},
			{"nothing matches", store.DecisionFilter{Connector: "tiktok"}, []string{}},
		}
		for _, c := range cases {
			got, err := s.ListDecisions(ctx, c.f)
			ok(t, err, "list "+c.name)
			equal(t, c.name, decisionIDs(got), c.want)
		}
		got, err := s.ListDecisions(ctx, store.DecisionFilter{Outcome: "dropped"})
		ok(t, err, "list dropped")
		equal(t, "round trip", got, []store.Decision{all[1]})
	}},
	{"DecisionStoredAgainTakesNewOutcome", func(t *testing.T, s store.Store) {
		// The gateway records decisions while Kafka is still to answer; when
		// Kafka fails and the outbox takes the records, it stores them again
		// as queued, in the completion that also marks the claims done.
		ctx := t.Context()
		d := decision("q1", "meta", "e1", "forwarded", t0)
		other := decision("q2", "meta", "e2", "dropped", t0.Add(time.Second))
		ok(t, s.CompleteEvents(ctx, store.Completion{Decisions: []store.Decision{d, other}}), "store decisions")
		queued := d
		queued.Outcome = "queued"
		k := key("meta", "e1")
		won, err := s.ClaimEvents(ctx, []store.EventKey{k}, t0, time.Minute)
		ok(t, err, "claim")
		equal(t, "won", won, []bool{true})
		ok(t, s.CompleteEvents(ctx, store.Completion{Done: []store.EventKey{k}, Decisions: []store.Decision{queued}}), "store again as queued")
		got, err := s.ListDecisions(ctx, store.DecisionFilter{})
		ok(t, err, "list")
		equal(t, "after the second store", got, []store.Decision{other, queued})
		pending, err := s.PendingEvents(ctx, []store.EventKey{k})
		ok(t, err, "pending")
		equal(t, "claim done", pending, []bool{false})

		// Merged completions may carry one id twice: the later one counts.
		failed := d
		failed.Outcome, failed.Topic = "failed", ""
		ok(t, s.CompleteEvents(ctx, store.Completion{Decisions: []store.Decision{queued, failed}}), "store twice in one call")
		got, err = s.ListDecisions(ctx, store.DecisionFilter{Connector: "meta", Outcome: "failed"})
		ok(t, err, "list failed")
		equal(t, "later one counts", got, []store.Decision{failed})
	}},
	{"Notices", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		_, err := s.GetNotice(ctx, "privacy", "1")
		wantErr(t, err, store.ErrNotFound, "get missing notice")
		n1 := store.Notice{ID: "privacy", Version: "1", URL: "https://example.com/privacy/v1",
			TextSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", EffectiveFrom: t0}
		n2 := n1
		n2.Version, n2.URL, n2.TextSHA256, n2.EffectiveFrom = "2", "https://example.com/privacy/v2",
			"60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752", t0.Add(30*24*time.Hour)
		terms := store.Notice{ID: "ads-terms", Version: "2024", TextSHA256: "aa", EffectiveFrom: t0}
		ok(t, s.PutNotice(ctx, n2), "put v2")
		ok(t, s.PutNotice(ctx, n1), "put v1")
		ok(t, s.PutNotice(ctx, terms), "put terms")
		ok(t, s.PutNotice(ctx, n1), "put v1 again, same content")

		changed := n1
		changed.TextSHA256 = "0000000000000000000000000000000000000000000000000000000000000000"
		wantErr(t, s.PutNotice(ctx, changed), store.ErrConflict, "put v1 with another text")
		got, err := s.GetNotice(ctx, "privacy", "1")
		ok(t, err, "get v1")
		equal(t, "v1 unchanged", got, n1)

		list, err := s.ListNotices(ctx)
		ok(t, err, "list")
		equal(t, "by id then effective date", list, []store.Notice{terms, n1, n2})
	}},
}
