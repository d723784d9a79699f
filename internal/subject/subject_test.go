package subject

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

var secret = bytes.Repeat([]byte("k"), 32)

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"  Jane.Doe@Example.COM \n": "jane.doe@example.com",
		"JOSÉ@Exämple.de":           "josé@exämple.de",
		"a+tag@x.io":                "a+tag@x.io",
		// One address written two ways keeps one key: decomposed letters
		// (as a Mac keyboard may send them) and a domain in punycode.
		"Ju\u0308rgen@Bu\u0308cher.de": "jürgen@bücher.de",
		"jürgen@xn--bcher-kva.de":      "jürgen@bücher.de",
		"JÜRGEN@BÜCHER.DE":             "jürgen@bücher.de",
		"a@xn--invalid--.de":           "a@xn--invalid--.de", // refused by IDNA: kept as written
	} {
		if got, ok := NormalizeEmail(in); !ok || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "jane", "@example.com", "jane@", "ja ne@x.io"} {
		if got, ok := NormalizeEmail(in); ok {
			t.Errorf("NormalizeEmail(%q) accepted as %q", in, got)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	cases := []struct{ raw, region, want string }{
		{"+49 151 12345678", "", "+4915112345678"},
		{"0151 12345678", "DE", "+4915112345678"},
		{"(415) 555-2671", "US", "+14155552671"},
		{"+1-415-555-2671", "DE", "+14155552671"},
		{"020 7946 0958", "gb", "+442079460958"},
		{"+39 06 6982 1234", "", "+390669821234"}, // Italian leading zero kept
	}
	for _, tc := range cases {
		got, err := NormalizePhone(tc.raw, tc.region)
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.raw, tc.region, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ raw, region string }{
		{"0151 12345678", ""}, {"", "DE"}, {"call me", "DE"}, {"123", "DE"}, {"+49 1", ""},
	} {
		got, err := NormalizePhone(tc.raw, tc.region)
		if !errors.Is(err, ErrInvalidPhone) {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want ErrInvalidPhone", tc.raw, tc.region, got, err)
		}
		if err != nil && tc.raw != "" && strings.Contains(err.Error(), tc.raw) {
			t.Errorf("error leaks the raw value: %v", err)
		}
	}
}

func TestNewKeyerRejectsShortSecret(t *testing.T) {
	if _, err := NewKeyer(make([]byte, 31)); err == nil {
		t.Fatal("accepted a 31-byte secret")
	}
}

func TestKeysAreStableSeparatedAndOpaque(t *testing.T) {
	k, _ := NewKeyer(secret)
	other, _ := NewKeyer(bytes.Repeat([]byte("x"), 32))

	e1, _ := k.Email("Jane@Example.com")
	e2, _ := k.Email(" jane@example.com")
	if e1 != e2 {
		t.Error("e-mail keys differ across case and spacing")
	}
	if !IsKey(e1) || strings.Contains(e1, "jane") {
		t.Errorf("key %q has the wrong shape or leaks the value", e1)
	}
	if e3, _ := other.Email("jane@example.com"); e3 == e1 {
		t.Error("a different secret gave the same key")
	}
	p1, err := k.Phone("+49 151 12345678")
	if err != nil {
		t.Fatal(err)
	}
	if p2, _ := k.Phone("+4915112345678"); p1 != p2 {
		t.Error("phone keys differ across formatting")
	}
	// Domain separation: the same string as different identifier types.
	u, _ := k.PlatformUser("meta", "jane@example.com")
	if u == e1 || k.Hash("jane@example.com") == e1 || k.Hash("+4915112345678") == p1 {
		t.Error("identifier types share a key")
	}
	if a, _ := k.PlatformUser("Meta", "123"); a != mustUser(k, "meta", "123") {
		t.Error("platform name case changes the key")
	}
	if a, b := mustUser(k, "meta", "123"), mustUser(k, "x", "123"); a == b {
		t.Error("two platforms share a key for the same id")
	}
	if _, ok := k.PlatformUser("meta", " "); ok {
		t.Error("empty platform id keyed")
	}
	if IsKey("sk_XYZ") || IsKey(strings.ToUpper(e1)) {
		t.Error("IsKey accepted a malformed key")
	}
}

func mustUser(k *Keyer, platform, id string) string {
	key, _ := k.PlatformUser(platform, id)
	return key
}

func TestForFields(t *testing.T) {
	k, _ := NewKeyer(secret)
	email, _ := k.Email("jane@example.com")
	phone, _ := k.Phone("+4915112345678")
	user := mustUser(k, "meta", "1784")
	all := map[string]string{"email": "Jane@example.com", "phone": "0151 12345678", "platform_user_id": "1784"}
	cases := []struct {
		name       string
		fields     map[string]string
		kind       string
		wantKey    string
		wantSource string
		wantOthers []string
	}{
		{"lead prefers e-mail", all, "lead", email, SourceEmail, []string{phone, user}},
		{"lead falls back to phone with region", map[string]string{"email": "not-an-address", "phone": "0151 12345678", "platform_user_id": "1784"}, "lead", phone, SourcePhone, []string{user}},
		{"lead falls back to platform user", map[string]string{"phone": "n/a", "platform_user_id": "1784"}, "lead", user, SourcePlatformUser, nil},
		{"interaction prefers platform user", all, "interaction", user, SourcePlatformUser, []string{email, phone}},
		{"deletion prefers platform user", all, "deletion", user, SourcePlatformUser, []string{email, phone}},
		{"interaction without user falls back to e-mail", map[string]string{"email": "jane@example.com"}, "interaction", email, SourceEmail, nil},
		{"nothing usable", map[string]string{"full_name": "Jane"}, "lead", "", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, source := k.ForFields(tc.fields, tc.kind, "meta", "DE")
			if key != tc.wantKey || source != tc.wantSource {
				t.Errorf("ForFields = %q, %q; want %q, %q", key, source, tc.wantKey, tc.wantSource)
			}
			key, source, others := k.AllForFields(tc.fields, tc.kind, "meta", "DE")
			if key != tc.wantKey || source != tc.wantSource || !slices.Equal(others, tc.wantOthers) {
				t.Errorf("AllForFields = %q, %q, %q; want %q, %q, %q", key, source, others, tc.wantKey, tc.wantSource, tc.wantOthers)
			}
		})
	}
}

func TestSplitPhone(t *testing.T) {
	for in, want := range map[string][2]string{
		"+4915112345678": {"49", "15112345678"},
		"+14155552671":   {"1", "4155552671"},
		"+390669821234":  {"39", "0669821234"},
		"+35312345678":   {"353", "12345678"},
	} {
		cc, nat, ok := SplitPhone(in)
		if !ok || cc != want[0] || nat != want[1] {
			t.Errorf("SplitPhone(%q) = %q, %q, %v; want %v", in, cc, nat, ok, want)
		}
	}
	for _, in := range []string{"", "4915112345678", "+49 151", "+"} {
		if _, _, ok := SplitPhone(in); ok {
			t.Errorf("SplitPhone(%q) accepted", in)
		}
	}
}

// TestKeyKnownAnswer pins the derivation (HMAC-SHA256 over the domain,
// the kind, a NUL and the normalised value; checked with openssl): ledgers
// and CRMs join on these keys, so no version may change them.
func TestKeyKnownAnswer(t *testing.T) {
	k, err := NewKeyer(secret)
	if err != nil {
		t.Fatal(err)
	}
	const want = "sk_9f37d65cca05d9d446bd565fb72771e1c8603bbcc0d7b18e49a2f0b9acb4d9c9"
	for range 2 { // the second call reuses the first one's hash state
		if got, _ := k.Email(" Jane@Example.com"); got != want {
			t.Fatalf("subject key of jane@example.com = %s, want %s", got, want)
		}
	}
}

// Statement ids are UUIDs that depend on every part and on the key, and
// on nothing else.
func TestStableID(t *testing.T) {
	k, _ := NewKeyer(secret)
	other, _ := NewKeyer([]byte(strings.Repeat("o", 40)))
	id := k.StableID("web", "evt-1", "consent.email")
	if _, err := uuid.Parse(id); err != nil || id[14] != '8' || !strings.ContainsAny(id[19:20], "89ab") {
		t.Fatalf("StableID = %q: want a version 8 UUID (%v)", id, err)
	}
	if again := k.StableID("web", "evt-1", "consent.email"); again != id {
		t.Errorf("same parts gave %q and %q", id, again)
	}
	for _, diff := range []string{
		k.StableID("web", "evt-2", "consent.email"),
		k.StableID("web", "evt-1c", "onsent.email"),
		k.StableID("web", "evt-1", "consent.email", ""),
		other.StableID("web", "evt-1", "consent.email"),
	} {
		if diff == id {
			t.Errorf("different parts or key gave the same id %q", id)
		}
	}
}
