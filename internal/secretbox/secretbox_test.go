package secretbox

import (
	"errors"
	"strings"
	"testing"
)

const (
	oldMaterial = "old-key-material-0123456789abcdef0123456789"
	newMaterial = "new-key-material-fedcba9876543210fedcba9876"
)

func ring(t *testing.T, text string) *Ring {
	t.Helper()
	r, err := ParseRing(text)
	if err != nil {
		t.Fatalf("parse ring: %v", err)
	}
	return r
}

func TestRoundTrip(t *testing.T) {
	r := ring(t, "k1:"+oldMaterial)
	const ad = "connector/meta-a/secret/app_secret"
	sealed, err := r.Seal([]byte("s3cr3t-value"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "s3cr3t") || !strings.HasPrefix(sealed, "cgsb1:k1:") {
		t.Fatalf("sealed value %q: want cgsb1:k1:… without the plaintext", sealed)
	}
	got, err := r.Open(sealed, ad)
	if err != nil || string(got) != "s3cr3t-value" {
		t.Fatalf("open: %q, %v", got, err)
	}
	again, _ := r.Seal([]byte("s3cr3t-value"), ad)
	if again == sealed {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
	if _, err := r.Open(sealed, "connector/other/secret/app_secret"); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("open with other additional data: %v, want ErrWrongKey (a value must not move between connectors)", err)
	}
}

func TestWrongKeyFailsClearly(t *testing.T) {
	sealed, err := ring(t, "k1:"+oldMaterial).Seal([]byte("v"), "ad")
	if err != nil {
		t.Fatal(err)
	}
	// Same id, other material: the operator pasted the wrong key.
	_, err = ring(t, "k1:"+newMaterial).Open(sealed, "ad")
	if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), `"k1"`) {
		t.Fatalf("wrong material: %v, want ErrWrongKey naming k1", err)
	}
	// The key is missing from the ring.
	_, err = ring(t, "k2:"+newMaterial).Open(sealed, "ad")
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), `"k1"`) {
		t.Fatalf("missing key: %v, want ErrUnknownKey naming k1", err)
	}
	// No ring at all.
	var none *Ring
	if _, err := none.Open(sealed, "ad"); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("no ring: %v, want ErrNoKeys", err)
	}
	if _, err := none.Seal([]byte("v"), "ad"); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("seal without ring: %v, want ErrNoKeys", err)
	}
	// Tampering is detected, not decrypted to garbage.
	b := []byte(sealed)
	b[len(b)-3] ^= 'A' ^ 'B'
	if _, err := ring(t, "k1:"+oldMaterial).Open(string(b), "ad"); err == nil {
		t.Fatal("tampered value opened")
	}
}

func TestRotation(t *testing.T) {
	old := ring(t, "k1:"+oldMaterial)
	sealedOld, _ := old.Seal([]byte("before rotation"), "ad")

	rotated := ring(t, "k2:"+newMaterial+",\nk1:"+oldMaterial)
	if rotated.Primary() != "k2" {
		t.Fatalf("primary %q, want the first key k2", rotated.Primary())
	}
	got, err := rotated.Open(sealedOld, "ad")
	if err != nil || string(got) != "before rotation" {
		t.Fatalf("old value under the rotated ring: %q, %v", got, err)
	}
	sealedNew, _ := rotated.Seal([]byte("after rotation"), "ad")
	if id, _ := KeyID(sealedNew); id != "k2" {
		t.Fatalf("new value sealed under %q, want k2", id)
	}
	if _, err := old.Open(sealedNew, "ad"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("new value under the old ring: %v, want ErrUnknownKey", err)
	}
}

func TestParseRing(t *testing.T) {
	// Without an id the id is a fingerprint of the key: stable, and the
	// same material always gets the same id.
	a, b := ring(t, oldMaterial), ring(t, " "+oldMaterial+" ")
	if a.Primary() == "" || a.Primary() != b.Primary() {
		t.Fatalf("derived ids %q and %q: want equal and non-empty", a.Primary(), b.Primary())
	}
	if strings.Contains(a.Primary(), oldMaterial[:8]) {
		t.Fatal("derived id shows key material")
	}
	for _, tc := range []struct{ name, text, want string }{
		{"empty", " , \n", "no secret encryption key"},
		{"short", "k1:short-material", "at least 32"},
		{"duplicate id", "k1:" + oldMaterial + ",k1:" + newMaterial, "appears twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRing(tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "material") && strings.Contains(err.Error(), oldMaterial) {
				t.Fatal("error shows key material")
			}
		})
	}
}
