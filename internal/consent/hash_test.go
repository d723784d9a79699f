package consent

import (
	"testing"

	"github.com/consentgate/consentgate/internal/keyedmac"
)

// TestHashKnownAnswer pins the field pseudonym (HMAC-SHA256 over the
// domain and the normalised value; checked with openssl): CRMs join on
// hashed e-mails, so no version may change them.
func TestHashKnownAnswer(t *testing.T) {
	e := &Engine{hashMAC: keyedmac.New(hashKey)}
	const want = "h_2b0dbc6eb511cdfa0ab51afe9efc6bb603f78411fba6f325d8f28a824bb93f3e"
	for range 2 { // the second call reuses the first one's hash state
		if got := e.hashField("email", " Jane@Example.com ", "EU"); got != want {
			t.Fatalf("hash of jane@example.com = %s, want %s", got, want)
		}
	}
}
