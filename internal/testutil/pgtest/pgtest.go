package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/consentgate/consentgate/internal/store/postgres"
)

// DefaultURL is used when TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL returns TEST_DATABASE_URL, or DefaultURL when it is unset: the
// server on which URL creates test databases.
func ServerURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// URL creates a throwaway database consentgate_test_<random> on the server
// at TEST_DATABASE_URL and returns its URL; the database is dropped (with
// FORCE, so leftover sessions do not keep it alive) when the test ends.
//
// An unreachable server fails the test when CI is set and skips it
// otherwise, loudly, so a developer without PostgreSQL still runs the rest.
func URL(tb testing.TB) string {
	tb.Helper()
	admin := ServerURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	db, err := sql.Open("postgres", admin)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		msg := fmt.Sprintf("PostgreSQL not reachable at %s: %v: set TEST_DATABASE_URL",
			postgres.Redact(admin), postgres.RedactError(err, admin))
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip("SKIPPING: " + msg)
	}
	defer db.Close()

	name := "consentgate_test_" + randomHex(6)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		tb.Fatalf("create test database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("postgres", admin)
		if err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	return withDatabase(tb, admin, name)
}

// Terminate ends every server session connected to the database of url, as
// a server restart or failover would, and returns how many it ended. It
// waits until each session is gone (PostgreSQL 14 or later), so what the
// test does next meets dead connections, not dying ones.
func Terminate(tb testing.TB, dbURL string) int {
	tb.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		tb.Fatalf("terminate sessions: parse URL: %v", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	db, err := sql.Open("postgres", ServerURL())
	if err != nil {
		tb.Fatalf("terminate sessions of %s: %v", name, err)
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(tb.Context(), `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000))
		FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name).Scan(&n)
	if err != nil {
		tb.Fatalf("terminate sessions of %s: %v", name, err)
	}
	return n
}

// withDatabase returns admin with its database name replaced.
func withDatabase(tb testing.TB, admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("TEST_DATABASE_URL %s: want postgres://user@host:port/db?sslmode=disable", postgres.Redact(admin))
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
