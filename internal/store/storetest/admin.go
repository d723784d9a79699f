package storetest

import (
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

var adminTests = []test{
	{"AdminTokens", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		_, err := s.AdminTokenByHash(ctx, "nope")
		wantErr(t, err, store.ErrNotFound, "find unknown token")
		a := store.AdminToken{ID: "tok-a", Name: "ci deploy", Role: "marketer", Hash: "hash-a", CreatedAt: t0}
		b := store.AdminToken{ID: "tok-b", Name: "dpo", Role: "privacy", Hash: "hash-b", CreatedAt: t0.Add(time.Minute)}
		ok(t, s.CreateAdminToken(ctx, a), "create a")
		ok(t, s.CreateAdminToken(ctx, b), "create b")
		wantErr(t, s.CreateAdminToken(ctx, store.AdminToken{ID: "tok-c", Name: "x", Role: "admin", Hash: "hash-a", CreatedAt: t0}),
			store.ErrConflict, "create with a used hash")
		wantErr(t, s.CreateAdminToken(ctx, store.AdminToken{ID: "tok-a", Name: "x", Role: "admin", Hash: "hash-z", CreatedAt: t0}),
			store.ErrConflict, "create with a used id")

		got, err := s.AdminTokenByHash(ctx, "hash-a")
		ok(t, err, "find a")
		equal(t, "token a", got, a)

		used := t0.Add(time.Hour)
		ok(t, s.TouchAdminToken(ctx, "tok-a", used), "touch a")
		ok(t, s.TouchAdminToken(ctx, "tok-a", t0.Add(time.Minute)), "touch a with an older time")
		revoked := t0.Add(2 * time.Hour)
		ok(t, s.RevokeAdminToken(ctx, "tok-b", revoked), "revoke b")
		ok(t, s.RevokeAdminToken(ctx, "tok-b", revoked.Add(time.Hour)), "revoke b again")
		wantErr(t, s.RevokeAdminToken(ctx, "tok-zz", revoked), store.ErrNotFound, "revoke unknown")

		list, err := s.ListAdminTokens(ctx)
		ok(t, err, "list")
		a.LastUsedAt, b.RevokedAt = &used, &revoked
		equal(t, "tokens, oldest first, last use moved forward only, first revocation kept", list, []store.AdminToken{a, b})
	}},
	{"AdminAudit", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		entries := []store.AuditEntry{
			{ID: "a1", At: t0, Actor: "bootstrap-admin", Role: "admin", Action: "token.create", Target: "tok-a", Details: map[string]string{"role": "marketer"}},
			{ID: "a2", At: t0.Add(time.Minute), Actor: "ci deploy", Role: "marketer", TokenID: "tok-a", Action: "connector.create", Target: "meta-a"},
			{ID: "a3", At: t0.Add(2 * time.Minute), Actor: "ci deploy", Role: "marketer", TokenID: "tok-a", Action: "connector_x.update", Target: "meta-a"},
			{ID: "a4", At: t0.Add(3 * time.Minute), Actor: "ci deploy", Role: "marketer", TokenID: "tok-a", Action: "connector.secret.rotate", Target: "meta-a", Details: map[string]string{"secret": "app_secret"}},
		}
		for _, e := range entries {
			ok(t, s.AppendAudit(ctx, e), "append "+e.ID)
		}
		ids := func(es []store.AuditEntry) []string {
			out := make([]string, len(es))
			for i, e := range es {
				out[i] = e.ID
			}
			return out
		}
		for _, tc := range []struct {
			name string
			f    store.AuditFilter
			want []string
		}{
			{"all, newest first", store.AuditFilter{}, []string{"a4", "a3", "a2", "a1"}},
			{"actor", store.AuditFilter{Actor: "bootstrap-admin"}, []string{"a1"}},
			{"exact action", store.AuditFilter{Action: "connector.create"}, []string{"a2"}},
			// '_' is a LIKE wildcard: a prefix filter must not match connector_x.
			{"action prefix", store.AuditFilter{Action: "connector."}, []string{"a4", "a2"}},
			{"since inclusive, until exclusive", store.AuditFilter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, []string{"a3", "a2"}},
			{"limit", store.AuditFilter{Limit: 1}, []string{"a4"}},
		} {
			got, err := s.ListAudit(ctx, tc.f)
			ok(t, err, "list audit "+tc.name)
			equal(t, "audit "+tc.name, ids(got), tc.want)
		}
		got, err := s.ListAudit(ctx, store.AuditFilter{Limit: 4})
		ok(t, err, "list audit")
		equal(t, "entry round trip", got[0], entries[3])
		equal(t, "entry without details", got[2], entries[1])
	}},
	{"DiscardJob", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		ok(t, s.EnqueueJobs(ctx, []store.Job{job("meta", "e1", t0), job("meta", "e2", t0)}), "enqueue")
		jobs, err := s.ListJobs(ctx, store.JobPending, 10)
		ok(t, err, "list")
		equal(t, "jobs", len(jobs), 2)
		dead, live := jobs[0].ID, jobs[1].ID
		ok(t, s.DeadLetterJob(ctx, dead, "lead not found (404)"), "dead-letter")
		wantErr(t, s.DiscardJob(ctx, live), store.ErrConflict, "discard a pending job")
		wantErr(t, s.DiscardJob(ctx, 424242), store.ErrNotFound, "discard unknown job")
		ok(t, s.DiscardJob(ctx, dead), "discard dead letter")
		left, err := s.ListJobs(ctx, "", 10)
		ok(t, err, "list after discard")
		equal(t, "jobs left", jobIDs(left), jobIDs(jobs[1:]))
	}},
}
