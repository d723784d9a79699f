package postgres_test

import (
	"database/sql"
	"slices"
	"testing"

	"github.com/lib/pq"

	"github.com/consentgate/consentgate/internal/store/postgres"
	"github.com/consentgate/consentgate/internal/testutil/pgtest"
)

// TestTextArrayRoundTrip: what the store sends as a text array, PostgreSQL reads back as
// the same strings, whatever they hold (quotes, backslashes, the array
// syntax's own characters, the word NULL, empty strings, non-ASCII), on a
// prepared statement and on a one-off query alike.
func TestTextArrayRoundTrip(t *testing.T) {
	db, err := sql.Open("postgres", pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cases := [][]string{
		{},
		{""},
		{"web", "msg_2Lq8vYz"},
		{`a "quoted" word`, `back\slash`, `\"`, `\\`, `"`, `\`},
		{"{braces}", "a,b", " spaced ", "NULL", "null", "()", "'single'"},
		{"Zoë Ångström", "東京", "emoji 🙂", "\t\n"},
		{"2026-12-04 21:07:03.123456Z", "sk_9f37d65cca05d9d446bd565fb72771e1c8603bbcc0d7b18e49a2f0b9acb4d9c9"},
	}
	stmt, err := db.PrepareContext(t.Context(), "SELECT $1::text[]")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	for _, in := range cases {
		for _, via := range []string{"prepared", "query"} {
			var out pq.StringArray
			var row *sql.Row
			if via == "prepared" {
				row = stmt.QueryRowContext(t.Context(), postgres.TextArray(in))
			} else {
				row = db.QueryRowContext(t.Context(), "SELECT $1::text[]", postgres.TextArray(in))
			}
			if err := row.Scan(&out); err != nil {
				t.Fatalf("%s %q: %v", via, in, err)
			}
			if !slices.Equal([]string(out), in) && !(len(in) == 0 && len(out) == 0) {
				t.Errorf("%s: sent %q, PostgreSQL read %q", via, in, []string(out))
			}
		}
	}
}
