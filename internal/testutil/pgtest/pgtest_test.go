package pgtest_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	_ "github.com/lib/pq"

	"github.com/consentgate/consentgate/internal/testutil/pgtest"
)

func TestURLGivesAFreshDatabaseAndDropsIt(t *testing.T) {
	var url string
	t.Run("use", func(t *testing.T) {
		url = pgtest.URL(t)
		db, err := sql.Open("postgres", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var name string
		if err := db.QueryRowContext(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "consentgate_test_") {
			t.Fatalf("database %q", name)
		}
		// A session left open must not keep the database from being dropped.
		if _, err := db.ExecContext(t.Context(), "CREATE TABLE t (x int)"); err != nil {
			t.Fatal(err)
		}
		if n := pgtest.Terminate(t, url); n != 1 {
			t.Fatalf("terminated %d sessions, want 1", n)
		}
	})
	if url == "" {
		t.Skip("no PostgreSQL")
	}
	db, err := sql.Open("postgres", pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := url[strings.LastIndex(url, "/")+1:]
	name, _, _ = strings.Cut(name, "?")
	var exists bool
	if err := db.QueryRowContext(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %s still exists after the test ended", name)
	}
}

// fakeTB records how URL gave up; Fatal and Skip stop it like the real ones.
type fakeTB struct {
	testing.TB
	how, msg string
}

type stop struct{}

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Cleanup(func())            {}
func (f *fakeTB) Fatal(args ...any)         { f.how, f.msg = "fatal", fmt.Sprint(args...); panic(stop{}) }
func (f *fakeTB) Fatalf(s string, a ...any) { f.Fatal(fmt.Sprintf(s, a...)) }
func (f *fakeTB) Skip(args ...any)          { f.how, f.msg = "skip", fmt.Sprint(args...); panic(stop{}) }

func unreachable(t *testing.T) *fakeTB {
	f := &fakeTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != (stop{}) {
				panic(r)
			}
		}()
		pgtest.URL(f)
	}()
	return f
}

func TestUnreachableServer(t *testing.T) {
	t.Setenv("TEST_DATABASE_URL", "postgres://app:s3cret@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")

	t.Setenv("CI", "")
	f := unreachable(t)
	if f.how != "skip" || !strings.HasPrefix(f.msg, "SKIPPING: PostgreSQL not reachable at ") ||
		!strings.Contains(f.msg, "TEST_DATABASE_URL") {
		t.Errorf("without CI: %s %q, want a loud skip", f.how, f.msg)
	}
	if strings.Contains(f.msg, "s3cret") {
		t.Errorf("message shows the password: %q", f.msg)
	}

	t.Setenv("CI", "true")
	if f := unreachable(t); f.how != "fatal" {
		t.Errorf("with CI: %s %q, want fatal", f.how, f.msg)
	}
}
