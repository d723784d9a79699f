package main

import (
	"strings"
	"testing"
)

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
				msg := err.Error() + "\n" + out
				for _, piece := range []string{"S3cret", "PW"} {
					if strings.Contains(msg, piece) {
						t.Errorf("shows %q of the password: %s", piece, msg)
					}
				}
				for _, want := range []string{u.want, "CONSENTGATE_DATABASE_URL"} {
					if !strings.Contains(msg, want) {
						t.Errorf("%q does not mention %q", msg, want)
					}
				}
			})
		}
	}
}
