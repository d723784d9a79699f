// Package leak checks that a message keeps a secret out and still says
// what to do, for the tests of every layer that reports a database URL.
package leak

import (
	"strings"
	"testing"
)

// PasswordPieces are the two halves of the password the database URL
// tests write (S3cret…PW, with a separator or not): neither may show.
var PasswordPieces = []string{"S3cret", "PW"}

// Check fails t when msg holds any of pieces or lacks any of wants.
func Check(t testing.TB, msg string, pieces []string, wants ...string) {
	t.Helper()
	for _, p := range pieces {
		if strings.Contains(msg, p) {
			t.Errorf("message shows %q of the secret: %s", p, msg)
		}
	}
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q does not mention %q", msg, w)
		}
	}
}
