package connsync_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/connsync"
	"github.com/consentgate/consentgate/internal/secretbox"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
)

// live is a Target that records the last set.
type live struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (l *live) SetConnectors(cs []*config.Connector) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids = map[string]bool{}
	for _, c := range cs {
		l.ids[c.ID] = c.Enabled
	}
}

func (l *live) has(id string) (enabled, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	enabled, ok = l.ids[id]
	return
}

const doc = `{"id":"web","platform":"generic","settings":{"signature":{"scheme":"hmac","header":"X-Signature"},"event_id_path":"id"},"mapping":{"fields":{"lead.email":"email"}}}`

func ring(t *testing.T, text string) *secretbox.Ring {
	t.Helper()
	r, err := secretbox.ParseRing(text)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sealedRow is a stored connector whose signing secret is sealed with r.
func sealedRow(t *testing.T, r *secretbox.Ring, at time.Time) store.Connector {
	t.Helper()
	spec, err := connsync.DecodeSpec([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := r.Seal([]byte("signing-secret"), connsync.AD("web", "signing_secret"))
	if err != nil {
		t.Fatal(err)
	}
	spec.Secrets["signing_secret"] = connsync.Secret{Sealed: sealed}
	raw, err := spec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return store.Connector{ID: "web", Platform: "generic", Name: "web", Enabled: true, Spec: raw, UpdatedAt: at}
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func syncer(st store.Store, r *secretbox.Ring, target connsync.Target) *connsync.Syncer {
	return connsync.New(connsync.Options{Store: st, Target: target, Builder: &connsync.Builder{Ring: r}})
}

// TestChangesReachOtherInstances: a change stored by one instance goes
// live on another through its poll loop alone.
func TestChangesReachOtherInstances(t *testing.T) {
	st := openStore(t)
	r := ring(t, "k1:connsync-test-key-material-0123456789abcdef")
	other := &live{}
	sy := syncer(st, r, other)
	if err := sy.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = sy.Run(ctx, 10*time.Millisecond) }()
	t.Cleanup(func() { cancel(); <-done })

	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not seen within 5s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	row := sealedRow(t, r, time.Now())
	if err := st.PutConnector(t.Context(), row); err != nil {
		t.Fatal(err)
	}
	eventually("created connector", func() bool { _, ok := other.has("web"); return ok })

	row.Enabled, row.UpdatedAt = false, row.UpdatedAt.Add(time.Millisecond)
	if err := st.PutConnector(t.Context(), row); err != nil {
		t.Fatal(err)
	}
	eventually("disabled connector", func() bool { en, ok := other.has("web"); return ok && !en })

	if err := st.DeleteConnector(t.Context(), "web"); err != nil {
		t.Fatal(err)
	}
	eventually("deleted connector", func() bool { _, ok := other.has("web"); return !ok })
}

// TestStartFailsOnKeyProblems: a stored secret that does not open stops
// the start with the connector, secret and key id named.
func TestStartFailsOnKeyProblems(t *testing.T) {
	st := openStore(t)
	k1 := ring(t, "k1:connsync-test-key-material-0123456789abcdef")
	if err := st.PutConnector(t.Context(), sealedRow(t, k1, time.Now())); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ring *secretbox.Ring
		want error
	}{
		{"no key", nil, secretbox.ErrNoKeys},
		{"key missing from the ring", ring(t, "k2:another-key-material-0123456789abcdef"), secretbox.ErrUnknownKey},
		{"wrong key under the same id", ring(t, "k1:another-key-material-0123456789abcdef"), secretbox.ErrWrongKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := &live{}
			err := syncer(st, tc.ring, target).Start(t.Context())
			if !errors.Is(err, tc.want) || !errors.Is(err, connsync.ErrKey) {
				t.Fatalf("start: %v, want %v", err, tc.want)
			}
			for _, part := range []string{"web", "signing_secret", `"k1"`, "CONSENTGATE_SECRET_KEYS"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not name %s", err, part)
				}
			}
			if _, ok := target.has("web"); ok {
				t.Fatal("a connector with an unreadable secret went live")
			}
		})
	}
	// Rotation: k2 first, k1 kept — the old value still opens.
	target := &live{}
	if err := syncer(st, ring(t, "k2:another-key-material-0123456789abcdef,k1:connsync-test-key-material-0123456789abcdef"), target).Start(t.Context()); err != nil {
		t.Fatalf("start with a rotated ring: %v", err)
	}
	if _, ok := target.has("web"); !ok {
		t.Fatal("connector not live after rotation")
	}
}

// TestBadVersionKeepsLastGood: a stored change that does not build on
// this instance leaves the working version live.
func TestBadVersionKeepsLastGood(t *testing.T) {
	st := openStore(t)
	r := ring(t, "k1:connsync-test-key-material-0123456789abcdef")
	target := &live{}
	sy := syncer(st, r, target)
	row := sealedRow(t, r, time.Now())
	if err := st.PutConnector(t.Context(), row); err != nil {
		t.Fatal(err)
	}
	if err := sy.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	row.Spec, row.UpdatedAt = []byte(`{"id":"web","platform":"myspace"}`), row.UpdatedAt.Add(time.Second)
	if err := st.PutConnector(t.Context(), row); err != nil {
		t.Fatal(err)
	}
	if err := sy.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	c, err := sy.Stored("web")
	if c == nil || err == nil || !strings.Contains(err.Error(), "unknown platform") {
		t.Fatalf("stored: %v, %v; want the last good build and the error", c, err)
	}
	if _, ok := target.has("web"); !ok {
		t.Fatal("the working version was taken down")
	}
}
