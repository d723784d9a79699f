package connsync

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/store"
)

// Target receives the merged live set (pipeline.Pipeline).
type Target interface {
	SetConnectors(cs []*config.Connector)
}

// Options wire a Syncer.
type Options struct {
	Store  store.Connectors
	Target Target
	// Files are the connectors loaded from the connectors directory; they
	// are read-only through the API and win over a stored connector of the
	// same id.
	Files   []*config.Connector
	Builder *Builder
	Log     *slog.Logger
	// NewTopics, when set, is told the topics of every stored connector
	// built, in the background (the gateway creates the missing ones, as
	// it does for file connectors at start). It must be safe for
	// concurrent use and cheap for topics it has seen.
	NewTopics func(ctx context.Context, topics []string)
}

// Syncer keeps the live connector set equal to the files plus the stored
// connectors. Every instance runs one: an API change written by any
// instance is picked up by the others within one poll interval.
type Syncer struct {
	o     Options
	files map[string]*config.Connector

	mu       sync.Mutex
	stamps   map[string][32]byte
	built    map[string]*config.Connector
	errs     map[string]error
	shadowed map[string]bool
	synced   bool
}

// New returns a Syncer; call Start before serving.
func New(o Options) *Syncer {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	s := &Syncer{o: o, files: map[string]*config.Connector{}, stamps: map[string][32]byte{},
		built: map[string]*config.Connector{}, errs: map[string]error{}, shadowed: map[string]bool{}}
	for _, c := range o.Files {
		s.files[c.ID] = c
	}
	return s
}

// Builder is the builder stored connectors are built with.
func (s *Syncer) Builder() *Builder { return s.o.Builder }

// File returns a file connector.
func (s *Syncer) File(id string) (*config.Connector, bool) {
	c, ok := s.files[id]
	return c, ok
}

// Files lists the file connectors by id.
func (s *Syncer) Files() []*config.Connector {
	out := make([]*config.Connector, 0, len(s.files))
	for _, c := range s.files {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Stored returns the live build of a stored connector, or why it has none
// on this instance.
func (s *Syncer) Stored(id string) (*config.Connector, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.built[id], s.errs[id]
}

// Start runs the first sync. A stored secret that does not open (no key,
// a key missing from the ring, the wrong key) fails it: the gateway must
// not start with secrets it cannot read. Other problems of a stored
// connector leave that connector out and are logged.
func (s *Syncer) Start(ctx context.Context) error {
	if err := s.Sync(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var keyErrs []error
	ids := make([]string, 0, len(s.errs))
	for id := range s.errs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if errors.Is(s.errs[id], ErrKey) {
			keyErrs = append(keyErrs, s.errs[id])
		}
	}
	if len(keyErrs) > 0 {
		return fmt.Errorf("stored connector secrets cannot be decrypted; set CONSENTGATE_SECRET_KEYS (or CONSENTGATE_SECRET_KEYS_FILE) to the key ring they were sealed with (docs/admin-api.md, \"Secrets at rest\"):\n%w", errors.Join(keyErrs...))
	}
	return nil
}

// Run polls the store every interval until ctx ends. Polling is cheap:
// one small query, and a connector is rebuilt only when its row changed.
func (s *Syncer) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
			s.o.Log.Warn("connector sync", "err", err)
		}
	}
}

// Sync reads the stored connectors once, rebuilds the changed ones and
// swaps the live set when anything changed. A connector whose new version
// does not build keeps its last good version (logged), so a bad write by
// another instance cannot take a working connector down.
func (s *Syncer) Sync(ctx context.Context) error {
	rows, err := s.o.Store.ListConnectors(ctx)
	if err != nil {
		return fmt.Errorf("list stored connectors: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := !s.synced
	s.synced = true
	present := map[string]bool{}
	for _, row := range rows {
		present[row.ID] = true
		if _, isFile := s.files[row.ID]; isFile {
			if !s.shadowed[row.ID] {
				s.shadowed[row.ID] = true
				s.o.Log.Warn("stored connector ignored: a connector file has the same id", "connector", row.ID)
			}
			continue
		}
		st := stamp(row)
		if old, ok := s.stamps[row.ID]; ok && old == st {
			continue
		}
		s.stamps[row.ID] = st
		c, err := s.o.Builder.BuildStored(row)
		if err != nil {
			s.errs[row.ID] = err
			s.o.Log.Error("stored connector does not build; its last good version stays live", "connector", row.ID, "err", err)
			continue
		}
		delete(s.errs, row.ID)
		s.built[row.ID] = c
		changed = true
		if s.o.NewTopics != nil {
			topics := []string{c.Topics.Leads, c.Topics.Interactions, c.Topics.Test}
			go s.o.NewTopics(context.WithoutCancel(ctx), topics)
		}
	}
	for id := range s.stamps {
		if !present[id] {
			delete(s.stamps, id)
			delete(s.built, id)
			delete(s.errs, id)
			changed = true
		}
	}
	for id := range s.shadowed {
		if !present[id] {
			delete(s.shadowed, id)
		}
	}
	if changed {
		live := make([]*config.Connector, 0, len(s.files)+len(s.built))
		for _, c := range s.files {
			live = append(live, c)
		}
		for _, c := range s.built {
			live = append(live, c)
		}
		s.o.Target.SetConnectors(live)
	}
	return nil
}

// stamp fingerprints a row: updated_at alone would miss two writes in the
// same microsecond, so the spec and flag are included.
func stamp(c store.Connector) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%d|%t|%s|%s|", c.UpdatedAt.UnixMicro(), c.Enabled, c.Platform, c.Name)
	h.Write(c.Spec)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
