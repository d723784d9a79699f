package consent

import (
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/consentgate/consentgate/internal/keyedmac"
	"github.com/consentgate/consentgate/internal/policy"
	"github.com/consentgate/consentgate/internal/subject"
)

// hashDomain separates field pseudonyms from subject keys even if an
// operator configures the same secret for both.
const hashDomain = "consentgate/field/v1\x00"

// hashField returns "h_" + hex(HMAC-SHA256(hashKey, value)). E-mail and
// phone are normalised first so a CRM can join pseudonyms of the same
// address or number written differently.
func (e *Engine) hashField(field, value, jurisdiction string) string {
	v := strings.TrimSpace(value)
	switch field {
	case "email":
		if n, ok := subject.NormalizeEmail(v); ok {
			v = n
		}
	case "phone":
		if n, err := subject.NormalizePhone(v, regionOf(jurisdiction)); err == nil {
			v = n
		}
	}
	var sum [keyedmac.Size]byte
	return "h_" + hex.EncodeToString(e.hashMAC.Sum(sum[:0], nil, hashDomain, v))
}

const stars = "***"

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// maskField keeps only a hint: the first character and domain of an
// e-mail (j***@example.com), the country code and last four digits of a
// phone number (+49*******5678); anything else, or anything that does not
// parse, becomes "***".
func maskField(field, value, jurisdiction string) string {
	switch field {
	case "email":
		e, ok := subject.NormalizeEmail(value)
		if !ok {
			return stars
		}
		at := strings.LastIndexByte(e, '@')
		first, _ := utf8.DecodeRuneInString(e)
		hint := string(first)
		if !unicode.IsLetter(first) && !unicode.IsDigit(first) {
			hint = "*" // not a control or direction mark that reorders the hint
		}
		// An internationalised domain is shown in its ASCII form: in a
		// masked hint a look-alike (Cyrillic "аррӏе.com") must not pass
		// for the real one. One IDNA refuses (invisible or direction
		// characters) is not shown at all.
		domain := e[at+1:]
		if a, err := idna.Lookup.ToASCII(domain); err == nil {
			domain = a
		} else if !isPrintableASCII(domain) {
			domain = stars
		}
		return hint + stars + "@" + domain
	case "phone":
		n, err := subject.NormalizePhone(value, regionOf(jurisdiction))
		if err != nil {
			return stars
		}
		cc, national, ok := subject.SplitPhone(n)
		if !ok || len(national) <= 4 {
			return stars
		}
		return "+" + cc + strings.Repeat("*", len(national)-4) + national[len(national)-4:]
	}
	return stars
}

// regionOf gives the country of a resolved jurisdiction ("US-CA" → "US"),
// used to read phone numbers written without a country code.
func regionOf(jurisdiction string) string {
	c, _, _ := strings.Cut(jurisdiction, "-")
	if policy.IsCountry(c) {
		return c
	}
	return ""
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }
