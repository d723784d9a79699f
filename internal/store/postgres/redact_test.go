package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/testutil/leak"
)

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://app:s3cret@db:5432/cg?sslmode=disable", "postgres://app:xxxxx@db:5432/cg?sslmode=disable"},
		{"postgresql://app@db/cg", "postgresql://app@db/cg"},
		{"postgres://app:p@ss/w0rd@db/cg", "postgres://app:xxxxx@db/cg"},
		{"postgres://app:pa#ss@db/cg", "postgres://app:xxxxx@db/cg"},
		{"postgres://db/cg?user=app&password=s3cret&sslmode=require", "postgres://db/cg?user=app&password=xxxxx&sslmode=require"},
		{"postgres://db/cg?password=s3#cret&sslmode=require", "postgres://db/cg?password=xxxxx&sslmode=require"},
		{"postgres://app:a@db/cg?sslpassword=k3y", "postgres://app:xxxxx@db/cg?sslpassword=xxxxx"},
		{"postgresql:app:s3cret@db/cg", "postgresql:xxxxx@db/cg"},
		{"mysql:root:s3cret@db/cg", "mysql:xxxxx@db/cg"},
		{"sqlite:data/cg.db", "sqlite:data/cg.db"},
		{"host=db user=app password=s3cret dbname=cg", "host=db user=app password=xxxxx dbname=cg"},
		{"host=db:5432 password=s3cret", "host=db:5432 password=xxxxx"},
		{"host=db password = s3cret dbname=cg", "host=db password = xxxxx dbname=cg"},
		{`host=db password='s3 c\'ret' dbname=cg`, "host=db password=xxxxx dbname=cg"},
		{"host=db sslpassword=k3y", "host=db sslpassword=xxxxx"},
		// Not what lib/pq accepts: from the password to the end is hidden.
		{"host=db password=s3 cret dbname=cg", "host=db password=xxxxx"},
		{"host=db password='s3 cret", "host=db password=xxxxx"},
		{`host=db password=s3cret\`, "host=db password=xxxxx"},
	}
	for _, c := range cases {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRedactError(t *testing.T) {
	dsn := "postgres://app:s3cret%zz@db/cg"
	inner := errors.New(`parse "` + dsn + `": invalid URL escape "%zz"`)
	err := RedactError(inner, dsn)
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("password in error: %v", err)
	}
	if !errors.Is(err, inner) {
		t.Fatal("redacted error lost its cause")
	}
}

// Every way of writing (or miswriting) a password gives an error that
// holds no piece of it and says what to do. Port 1 refuses at once, so the
// forms that parse fail fast too.
func TestOpenErrorsHidePassword(t *testing.T) {
	cases := []struct{ name, dsn, want string }{
		{"slash", "postgres://u:S3cret/PW@127.0.0.1:1/x", "percent-encode"},
		{"question mark", "postgres://u:S3cret?PW@127.0.0.1:1/x", "percent-encode"},
		{"hash", "postgres://u:S3cret#PW@127.0.0.1:1/x", "percent-encode"},
		{"digits then slash", "postgres://u:1234/PW@127.0.0.1:1/x", "percent-encode"},
		{"bad escape", "postgres://u:S3cret%zzPW@127.0.0.1:1/x", "percent-encode"},
		{"postgresql scheme", "postgresql://u:S3cret/PW@127.0.0.1:1/x", "percent-encode"},
		{"key=value unquoted space", "host=127.0.0.1 port=1 user=u password=S3cret PW", "quote a value"},
		{"key=value open quote", "host=127.0.0.1 port=1 user=u password='S3cret PW", "quote a value"},
		{"clean", "postgres://u:S3cretPW@127.0.0.1:1/x", "127.0.0.1:1"},
		{"clean encoded at", "postgres://u:S3cret%40PW@127.0.0.1:1/x", "127.0.0.1:1"},
		{"clean key=value", "host=127.0.0.1 port=1 user=u password=S3cretPW dbname=x", "127.0.0.1:1"},
		{"clean key=value quoted", "host=127.0.0.1 port=1 user=u password='S3cret PW' dbname=x", "127.0.0.1:1"},
		{"clean query password", "postgres://u@127.0.0.1:1/x?password=S3cretPW", "127.0.0.1:1"},
		{"bad sslmode", "postgres://u:S3cretPW@127.0.0.1:1/x?sslmode=bogus", "supported values are"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			s, err := Open(ctx, c.dsn)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			leak.Check(t, err.Error(), leak.PasswordPieces, c.want)
		})
	}
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{"postgres://u:S3cret/PW@h/x", "host=h password='a b'", "postgresql:u:p@h", "password = x y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		_ = Redact(dsn) // must not panic on any input
		_ = checkDSN(dsn)
	})
}
