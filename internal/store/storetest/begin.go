package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/consentgate/consentgate/internal/store"
)

var beginTests = []test{
	{"WinnerWritesAndReads", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		// An earlier grant the new delivery must see next to its own entry.
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{
			entry("old-sms", "sk-a", "marketing_sms", store.StatusGranted, t0.Add(-time.Hour), t0.Add(-time.Hour)),
		}), "append earlier grant")
		mine := entry("new-email", "sk-a", "marketing_email", store.StatusGranted, t0, t0)
		exp := t0.Add(365 * 24 * time.Hour)
		mine.ExpiresAt, mine.Platform, mine.Connector, mine.NoticeID = &exp, "meta", "meta-a", "privacy"
		got, err := s.BeginEvents(ctx, store.Begin{
			Keys: []store.EventKey{key("web", "e1")}, Now: t0, Lease: lease,
			Entries: [][]store.ConsentEntry{{mine}}, Subjects: []string{"sk-a"},
		})
		ok(t, err, "begin")
		equal(t, "won", got.Won, []bool{true})
		equal(t, "own entry read back", got.Current["sk-a"]["marketing_email"], mine)
		equal(t, "earlier grant read", got.Current["sk-a"]["marketing_sms"].ID, "old-sms")

		hist, err := s.ConsentHistory(ctx, "sk-a")
		ok(t, err, "history")
		equal(t, "ledger holds both", len(hist), 2)
		// The claim is a claim like any other: a second delivery loses it.
		won, err := s.ClaimEvents(ctx, []store.EventKey{key("web", "e1")}, t0.Add(time.Second), lease)
		ok(t, err, "claim again")
		equal(t, "claimed by begin", won, []bool{false})
	}},
	{"AgainAfterReleaseRecordsAStatementOnce", func(t *testing.T, s store.Store) {
		// A delivery processed again after its claim was released sends
		// its statements under the same ids: the ledger keeps the first
		// attempt's entry, evidence included, and reads it back as current.
		ctx := t.Context()
		first := entry("stmt-1", "sk-r", "marketing_email", store.StatusGranted, t0, t0)
		first.RequestID = "req-first"
		k := key("web", "r1")
		got, err := s.BeginEvents(ctx, store.Begin{Keys: []store.EventKey{k}, Now: t0, Lease: lease,
			Entries: [][]store.ConsentEntry{{first}}, Subjects: []string{"sk-r"}})
		ok(t, err, "first begin")
		equal(t, "first won", got.Won, []bool{true})
		ok(t, s.ReleaseEvents(ctx, []store.EventKey{k}), "release")

		again := first
		again.RequestID, again.RecordedAt = "req-again", t0.Add(time.Minute)
		got, err = s.BeginEvents(ctx, store.Begin{Keys: []store.EventKey{k}, Now: t0.Add(time.Minute), Lease: lease,
			Entries: [][]store.ConsentEntry{{again}}, Subjects: []string{"sk-r"}})
		ok(t, err, "begin again")
		equal(t, "won again", got.Won, []bool{true})
		cur := got.Current["sk-r"]["marketing_email"]
		equal(t, "current entry", cur.ID, "stmt-1")
		equal(t, "current evidence is the first attempt's", cur.RequestID, "req-first")
		hist, err := s.ConsentHistory(ctx, "sk-r")
		ok(t, err, "history")
		equal(t, "entries in the ledger", len(hist), 1)
	}},
	{"ReadsLinkedSubjectsOfWonKeysOnly", func(t *testing.T, s store.Store) {
		// A record's other identifiers (its phone beside the e-mail that
		// keys it) are read too, for the keys the call wins; a lost key's
		// linked subjects are not.
		ctx := t.Context()
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{
			entry("by-phone", "sk-phone", "marketing_sms", store.StatusWithdrawn, t0.Add(-time.Hour), t0.Add(-time.Hour)),
			entry("by-user", "sk-user", "analytics", store.StatusDenied, t0.Add(-time.Hour), t0.Add(-time.Hour)),
			entry("other", "sk-lost-phone", "analytics", store.StatusDenied, t0.Add(-time.Hour), t0.Add(-time.Hour)),
		}), "append statements under other identifiers")
		_, err := s.ClaimEvents(ctx, []store.EventKey{key("web", "l-taken")}, t0, lease)
		ok(t, err, "claim the key that will be lost")
		got, err := s.BeginEvents(ctx, store.Begin{
			Keys: []store.EventKey{key("web", "l1"), key("web", "l-taken")}, Now: t0, Lease: lease,
			Subjects: []string{"sk-mail", "sk-lost"},
			Linked:   [][]string{{"sk-phone", "sk-user"}, {"sk-lost-phone"}},
		})
		ok(t, err, "begin")
		equal(t, "won", got.Won, []bool{true, false})
		equal(t, "linked phone read", got.Current["sk-phone"]["marketing_sms"].ID, "by-phone")
		equal(t, "linked account read", got.Current["sk-user"]["analytics"].ID, "by-user")
		if _, read := got.Current["sk-lost-phone"]; read {
			t.Fatalf("the lost key's linked subject was read: %v", got.Current)
		}
	}},
	{"ReadsWhatCurrentConsentReads", func(t *testing.T, s store.Store) {
		// The begin's read is the one the engine decides on: per purpose
		// the latest obtained, then recorded, then appended entry, over
		// the history and the call's own entries alike, each exactly as
		// the ledger holds it.
		ctx := t.Context()
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{
			entry("mail-old", "sk-h", "marketing_email", store.StatusGranted, t0.Add(-2*time.Hour), t0.Add(-time.Minute)),
			entry("mail-new", "sk-h", "marketing_email", store.StatusDenied, t0.Add(-time.Hour), t0.Add(-3*time.Hour)),
			entry("sms-1", "sk-h", "marketing_sms", store.StatusGranted, t0, t0),
			entry("sms-2", "sk-h", "marketing_sms", store.StatusWithdrawn, t0, t0),
			entry("ana-hist", "sk-h", "analytics", store.StatusGranted, t0, t0),
		}), "append history")
		berlin := time.FixedZone("CET", 3600)
		exp := time.Date(2026, 3, 1, 13, 0, 0, 123456789, berlin)
		phone := entry("phone-own", "sk-h", "marketing_phone", store.StatusGranted,
			time.Date(2025, 3, 1, 13, 30, 0, 987654321, berlin), time.Time{})
		phone.ExpiresAt, phone.Form, phone.NoticeVersion = &exp, "Anfrage \xff\xfe form", "v2"
		late := entry("ana-own", "sk-h", "analytics", store.StatusDenied, t0.Add(-time.Hour), t0.Add(time.Hour))
		got, err := s.BeginEvents(ctx, store.Begin{
			Keys: []store.EventKey{key("web", "h1")}, Now: t0, Lease: lease,
			Entries: [][]store.ConsentEntry{{phone, late}}, Subjects: []string{"sk-h"},
		})
		ok(t, err, "begin")
		want, err := s.CurrentConsent(ctx, []string{"sk-h"})
		ok(t, err, "current consent")
		equal(t, "begin's read against CurrentConsent", got.Current["sk-h"], want["sk-h"])
		ids := map[string]string{}
		for p, e := range got.Current["sk-h"] {
			ids[p] = e.ID
		}
		equal(t, "current entry per purpose", ids, map[string]string{
			"marketing_email": "mail-new", "marketing_sms": "sms-2", "analytics": "ana-hist", "marketing_phone": "phone-own",
		})
		// (Invalid UTF-8 is kept by SQLite and replaced by PostgreSQL; the
		// comparison above holds either way.)
		own := got.Current["sk-h"]["marketing_phone"]
		if own.RecordedAt.IsZero() || own.NoticeVersion != "v2" || !own.ExpiresAt.Equal(exp.Truncate(time.Microsecond)) {
			t.Fatalf("own entry as read: recorded %v, notice version %q, expires %v", own.RecordedAt, own.NoticeVersion, own.ExpiresAt)
		}
	}},
	{"LoserWritesAndReadsNothing", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		_, err := s.ClaimEvents(ctx, []store.EventKey{key("web", "dup")}, t0, lease)
		ok(t, err, "first claim")
		ok(t, s.AppendConsent(ctx, []store.ConsentEntry{
			entry("g1", "sk-b", "marketing_email", store.StatusGranted, t0, t0),
		}), "append")
		got, err := s.BeginEvents(ctx, store.Begin{
			Keys: []store.EventKey{key("web", "dup"), key("web", "fresh")}, Now: t0.Add(time.Second), Lease: lease,
			Entries: [][]store.ConsentEntry{
				{entry("lost-1", "sk-b", "marketing_email", store.StatusWithdrawn, t0.Add(time.Second), t0.Add(time.Second))},
				nil,
			},
			Subjects: []string{"sk-b", "sk-c"},
		})
		ok(t, err, "begin")
		equal(t, "won", got.Won, []bool{false, true})
		_, read := got.Current["sk-b"]
		equal(t, "subject of a lost key is not read", read, false)
		hist, err := s.ConsentHistory(ctx, "sk-b")
		ok(t, err, "history")
		equal(t, "entry of a lost key is not appended", len(hist), 1)
	}},
	{"KeyTwiceInOneCall", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		a := key("web", "twice")
		got, err := s.BeginEvents(ctx, store.Begin{
			Keys: []store.EventKey{a, a}, Now: t0, Lease: lease,
			Entries: [][]store.ConsentEntry{
				{entry("first", "sk-d", "marketing_email", store.StatusGranted, t0, t0)},
				{entry("second", "sk-d", "marketing_email", store.StatusDenied, t0.Add(time.Second), t0)},
			},
			Subjects: []string{"sk-d", "sk-d"},
		})
		ok(t, err, "begin")
		equal(t, "first occurrence wins", got.Won, []bool{true, false})
		equal(t, "only the winner's entry", got.Current["sk-d"]["marketing_email"].ID, "first")
	}},
	{"InvalidEntryChangesNothing", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		bad := entry("bad", "sk-e", "", store.StatusGranted, t0, t0) // no purpose
		_, err := s.BeginEvents(ctx, store.Begin{
			Keys: []store.EventKey{key("web", "e-bad")}, Now: t0, Lease: lease,
			Entries: [][]store.ConsentEntry{{bad}}, Subjects: []string{"sk-e"},
		})
		if err == nil {
			t.Fatal("begin with an entry without purpose: want an error")
		}
		won, err := s.ClaimEvents(ctx, []store.EventKey{key("web", "e-bad")}, t0, lease)
		ok(t, err, "claim after failed begin")
		equal(t, "failed begin claimed nothing", won, []bool{true})

		_, err = s.BeginEvents(ctx, store.Begin{Keys: []store.EventKey{key("web", "x")}, Subjects: []string{"a", "b"}, Now: t0, Lease: lease})
		if err == nil {
			t.Fatal("begin with 2 subjects for 1 key: want an error")
		}
	}},
	{"ConcurrentBeginsOneWinnerEach", func(t *testing.T, s store.Store) {
		// Many deliveries at once, each event delivered twice: every event
		// is won exactly once and its entry appended exactly once.
		ctx := t.Context()
		const events = 24
		var wins atomic.Int64
		var g errgroup.Group
		for copy := range 2 {
			for i := range events {
				g.Go(func() error {
					sk := fmt.Sprintf("sk-%d", i)
					got, err := s.BeginEvents(ctx, store.Begin{
						Keys: []store.EventKey{key("web", fmt.Sprintf("c-%d", i))}, Now: t0, Lease: lease,
						Entries:  [][]store.ConsentEntry{{entry(fmt.Sprintf("e-%d-%d", i, copy), sk, "marketing_email", store.StatusGranted, t0, t0)}},
						Subjects: []string{sk},
					})
					if err != nil {
						return err
					}
					if got.Won[0] {
						wins.Add(1)
						if _, ok := got.Current[sk]["marketing_email"]; !ok {
							return fmt.Errorf("winner of %s does not see its own entry", sk)
						}
					}
					return nil
				})
			}
		}
		ok(t, g.Wait(), "concurrent begins")
		equal(t, "one winner per event", wins.Load(), int64(events))
		for i := range events {
			hist, err := s.ConsentHistory(ctx, fmt.Sprintf("sk-%d", i))
			ok(t, err, "history")
			equal(t, "one entry per event", len(hist), 1)
		}
	}},
}

// completeAndBeginner is implemented by backends that can run a completion
// and a begin in one transaction (the group-commit wrapper uses it).
type completeAndBeginner interface {
	CompleteAndBegin(ctx context.Context, c store.Completion, b store.Begin) (store.Begun, error)
}

var fusedTests = []test{
	{"CompleteThenBeginInOneCall", func(t *testing.T, s store.Store) {
		f, can := s.(completeAndBeginner)
		if !can {
			t.Skip("backend has no CompleteAndBegin")
		}
		ctx := t.Context()
		old := key("web", "old")
		_, err := s.ClaimEvents(ctx, []store.EventKey{old}, t0, lease)
		ok(t, err, "claim")
		got, err := f.CompleteAndBegin(ctx,
			store.Completion{Done: []store.EventKey{old}, Decisions: []store.Decision{decision("d-old", "web", "old", "forwarded", t0)}},
			store.Begin{
				Keys: []store.EventKey{old, key("web", "new")}, Now: t0.Add(lease + time.Second), Lease: lease,
				Entries:  [][]store.ConsentEntry{nil, {entry("g-new", "sk-new", "marketing_email", store.StatusGranted, t0, t0)}},
				Subjects: []string{"sk-old", "sk-new"},
			})
		ok(t, err, "complete and begin")
		// Past the lease a pending claim could be taken over; completed in
		// the same call, it is a duplicate.
		equal(t, "won", got.Won, []bool{false, true})
		equal(t, "new subject's grant", got.Current["sk-new"]["marketing_email"].ID, "g-new")
		ds, err := s.ListDecisions(ctx, store.DecisionFilter{})
		ok(t, err, "decisions")
		equal(t, "decision stored", decisionIDs(ds), []string{"d-old"})

		_, err = f.CompleteAndBegin(ctx, store.Completion{}, store.Begin{
			Keys: []store.EventKey{key("web", "bad")}, Now: t0, Lease: lease,
			Entries: [][]store.ConsentEntry{{entry("bad", "sk-bad", "", store.StatusGranted, t0, t0)}},
		})
		if err == nil {
			t.Fatal("complete and begin with an entry without purpose: want an error")
		}
	}},
}
