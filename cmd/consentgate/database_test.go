package main

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/testutil/leak"
)

// Commands that write to the database refuse to guess it: the dev default
// (a new ./data/consentgate.db) would let a deploy step that forgot the
// URL report success.
func TestDatabaseCommandsNeedADatabase(t *testing.T) {
	t.Setenv(envDatabaseURL, "")
	t.Chdir(t.TempDir())
	for _, args := range [][]string{
		{"migrate"},
		{"reseal-secrets"},
		{"tokens", "create", "--bootstrap", "--name", "ops", "--role", "admin"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, err := run(t, args...)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("got %v, want a usage error", err)
			}
			for _, want := range []string{"--database-url", envDatabaseURL, "--config"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q does not name %s", err, want)
				}
			}
			if _, err := os.Stat("data"); err == nil {
				t.Error("a database was created anyway")
			}
		})
	}
}

// Every command that opens the database keeps the password out of its
// error and says how to fix the URL. Port 1 refuses at once.
func TestDatabaseErrorsHidePassword(t *testing.T) {
	t.Setenv("CONSENTGATE_SECRET_KEYS", "k1:0123456789abcdef0123456789abcdef0123")
	urls := []struct{ name, url, want string }{
		{"slash", "postgres://u:S3cret/PW@127.0.0.1:1/x", "percent-encode"},
		{"question mark", "postgres://u:S3cret?PW@127.0.0.1:1/x", "percent-encode"},
		{"hash", "postgres://u:S3cret#PW@127.0.0.1:1/x", "percent-encode"},
		{"no slashes", "postgresql:u:S3cretPW@h/x", "postgresql://user:pass@host"},
		{"key=value", "host=127.0.0.1 port=1 password=S3cret PW", "use postgres://"},
		{"clean", "postgres://u:S3cretPW@127.0.0.1:1/x", "127.0.0.1:1"},
		{"clean encoded at", "postgres://u:S3cret%40PW@127.0.0.1:1/x", "127.0.0.1:1"},
		{"bad sslmode", "postgres://u:S3cretPW@127.0.0.1:1/x?sslmode=bogus", "supported values are"},
	}
	commands := [][]string{
		{"migrate"},
		{"tokens", "create", "--bootstrap", "--name", "t"},
		{"reseal-secrets"},
	}
	for _, u := range urls {
		for _, args := range commands {
			t.Run(u.name+"/"+args[0], func(t *testing.T) {
				t.Setenv("CONSENTGATE_DATABASE_URL", u.url)
				out, err := run(t, args...)
				if err == nil {
					t.Fatalf("succeeded:\n%s", out)
				}
				leak.Check(t, err.Error()+"\n"+out, leak.PasswordPieces, u.want, "CONSENTGATE_DATABASE_URL")
			})
		}
	}
}
