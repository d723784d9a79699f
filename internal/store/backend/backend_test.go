package backend_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/backend"
	"github.com/consentgate/consentgate/internal/testutil/leak"
	"github.com/consentgate/consentgate/internal/testutil/pgtest"
)

func TestParse(t *testing.T) {
	cases := []struct{ url, kind, target string }{
		{"postgres://app:pw@db:5432/cg?sslmode=require", backend.KindPostgres, "postgres://app:pw@db:5432/cg?sslmode=require"},
		{"postgresql://db/cg", backend.KindPostgres, "postgresql://db/cg"},
		{"sqlite:data/consentgate.db", backend.KindSQLite, "data/consentgate.db"},
		{"sqlite:///var/lib/cg/cg.db", backend.KindSQLite, "/var/lib/cg/cg.db"},
		{"file:./data/cg.sqlite", backend.KindSQLite, "./data/cg.sqlite"},
		{"data/consentgate.db", backend.KindSQLite, "data/consentgate.db"},
		{"/abs/consentgate.db", backend.KindSQLite, "/abs/consentgate.db"},
	}
	for _, c := range cases {
		kind, target, err := backend.Parse(c.url)
		if err != nil || kind != c.kind || target != c.target {
			t.Errorf("Parse(%q) = %q, %q, %v; want %q, %q", c.url, kind, target, err, c.kind, c.target)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ url, want string }{
		{"", "empty"},
		{"mysql://root:hunter2@db/cg", `unsupported scheme "mysql"`},
		{"postgres:db/cg", "postgres://user:pass@host"},
		{"sqlite:", "no file path"},
		{"sqlite:cg.db?_journal_mode=DELETE", "remove"},
		{"data/consentgate.sqlite", "no scheme"},
	}
	for _, c := range cases {
		_, _, err := backend.Parse(c.url)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) error = %v, want it to mention %q", c.url, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Parse(%q) error shows the password: %v", c.url, err)
		}
	}
}

// However a password is written, backend.Open's error holds no piece of
// it and tells how to fix the URL. Port 1 refuses at once.
func TestOpenErrorsHidePassword(t *testing.T) {
	cases := []struct{ name, url, want string }{
		{"slash", "postgres://u:S3cret/PW@127.0.0.1:1/x", "percent-encode"},
		{"question mark", "postgres://u:S3cret?PW@127.0.0.1:1/x", "percent-encode"},
		{"hash", "postgres://u:S3cret#PW@127.0.0.1:1/x", "percent-encode"},
		{"no slashes", "postgresql:u:S3cretPW@h/x", "postgresql://user:pass@host"},
		{"no slashes no host", "postgresql:u:S3cretPW", "postgresql://user:pass@host"},
		{"unsupported scheme", "mysql://u:S3cret/PW@h/x", "unsupported scheme"},
		{"unsupported scheme no slashes", "mysql:u:S3cretPW@h/x", "unsupported scheme"},
		{"key=value", "host=127.0.0.1 port=1 user=u password=S3cretPW dbname=x", "use postgres://"},
		{"key=value with space", "host=127.0.0.1 port=1 password=S3cret PW", "use postgres://"},
		{"clean", "postgres://u:S3cretPW@127.0.0.1:1/x", "127.0.0.1:1"},
		{"clean encoded at", "postgres://u:S3cret%40PW@127.0.0.1:1/x", "127.0.0.1:1"},
		{"bad sslmode", "postgres://u:S3cretPW@127.0.0.1:1/x?sslmode=bogus", "supported values are"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			s, err := backend.Open(ctx, c.url)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			leak.Check(t, err.Error(), leak.PasswordPieces, c.want)
		})
	}
}

func roundTrip(t *testing.T, s store.Store) {
	t.Helper()
	defer s.Close()
	ctx := t.Context()
	if err := s.PutConnector(ctx, store.Connector{ID: "c", Platform: "meta"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetConnector(ctx, "c"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "cg.db")
	s, err := backend.Open(t.Context(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, s)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
}

func TestOpenPostgres(t *testing.T) {
	s, err := backend.Open(t.Context(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, s)
}

func TestOpenWithoutMigrate(t *testing.T) {
	s, err := backend.Open(t.Context(), filepath.Join(t.TempDir(), "cg.db"), backend.WithoutMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := s.(store.Migrator)
	cur, latest, err := m.SchemaVersion(t.Context())
	if err != nil || cur != 0 || latest == 0 {
		t.Fatalf("before migrate: current %d latest %d err %v", cur, latest, err)
	}
	if err := m.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, s)
}
