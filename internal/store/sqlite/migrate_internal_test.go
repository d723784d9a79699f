package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	"github.com/consentgate/consentgate/internal/store"
)

// A database made before seen_events was re-laid out keeps its claims: a
// completed event stays a duplicate and a pending one stays pending.
func TestSeenEventsMigrationKeepsClaims(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "consentgate.db")
	raw, err := sqlx.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, raw.DB, mustSub(migrationFiles, "migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := raw.ExecContext(ctx, `INSERT INTO seen_events (connector, event_id, state, claimed_at) VALUES
		('web', 'done-1', 'done', ?), ('web', 'pending-1', 'pending', ?)`, now.UnixMicro(), now.UnixMicro()); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	s, err := Open(ctx, path) // applies the rest
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if cur, latest, err := s.SchemaVersion(ctx); err != nil || cur != latest {
		t.Fatalf("schema %d of %d after open: %v", cur, latest, err)
	}
	keys := []store.EventKey{{Connector: "web", EventID: "done-1"}, {Connector: "web", EventID: "pending-1"}, {Connector: "web", EventID: "new"}}
	pending, err := s.PendingEvents(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if pending[0] || !pending[1] || pending[2] {
		t.Fatalf("pending after migration = %v; want [false true false]", pending)
	}
	won, err := s.ClaimEvents(ctx, keys, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if won[0] || won[1] || !won[2] {
		t.Fatalf("claims after migration = %v; want only the new event won", won)
	}
}
