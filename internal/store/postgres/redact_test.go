package postgres

import (
	"errors"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://app:s3cret@db:5432/cg?sslmode=disable", "postgres://app:xxxxx@db:5432/cg?sslmode=disable"},
		{"postgresql://app@db/cg", "postgresql://app@db/cg"},
		{"postgres://app:p@ss/w0rd@db/cg", "postgres://app:xxxxx@db/cg"},
		{"postgres://db/cg?user=app&password=s3cret&sslmode=require", "postgres://db/cg?user=app&password=xxxxx&sslmode=require"},
		{"host=db user=app password=s3cret dbname=cg", "host=db user=app password=xxxxx dbname=cg"},
		{"postgres://app:a@db/cg?sslpassword=k3y", "postgres://app:xxxxx@db/cg?sslpassword=xxxxx"},
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
