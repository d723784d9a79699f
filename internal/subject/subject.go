package subject

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalidPhone reports a value that is not a possible phone number. It
// never carries the value.
var ErrInvalidPhone = errors.New("not a possible phone number")

// NormalizeEmail trims and lower-cases an e-mail address for matching.
// Deliverability rules (dots, +tags) are deliberately not applied: two
// addresses a provider may treat alike are still two statements of consent.
func NormalizeEmail(s string) (string, bool) {
	e := strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 || strings.ContainsAny(e, " \t\r\n") {
		return "", false
	}
	return e, true
}

// NormalizePhone parses a phone number as written by a person and returns
// it in E.164 ("+4915112345678"). defaultRegion (ISO 3166-1, e.g. "DE") is
// used for numbers written without a country code; with "" only numbers in
// international form (leading +) are accepted. Numbers are checked for a
// possible length, not against current allocation, so new ranges missing
// from the library's metadata still get a key.
func NormalizePhone(raw, defaultRegion string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", ErrInvalidPhone
	}
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	if region == "" {
		region = "ZZ" // unknown region: the library then requires a leading +
	}
	num, err := phonenumbers.Parse(raw, region)
	// Local-only numbers (no area code) cannot match the same person across
	// records, so they are refused like impossible ones.
	if err != nil || phonenumbers.IsPossibleNumberWithReason(num) != phonenumbers.IS_POSSIBLE {
		return "", ErrInvalidPhone
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// MinKeyLen is the shortest secret a Keyer accepts (256 bits).
const MinKeyLen = 32

// Key prefix and domain-separation labels. Changing any of them changes
// every subject key, so they are part of the stored data's format.
const (
	keyPrefix = "sk_"
	domain    = "consentgate/subject/v1/"
)

// Sources name which identifier a subject key was derived from.
const (
	SourceEmail        = "email"
	SourcePhone        = "phone"
	SourcePlatformUser = "platform_user"
)

// Keyer derives subject keys: keyed HMAC-SHA256 pseudonyms of normalised
// identifiers, stable for one deployment secret, so the ledger and Kafka
// keys never need the raw identifier. Each identifier type has its own
// domain, so an e-mail and a platform id that happen to be equal strings
// never share a key. Safe for concurrent use.
type Keyer struct {
	secret []byte
}

// NewKeyer builds a Keyer from the deployment's subject secret.
func NewKeyer(secret []byte) (*Keyer, error) {
	if len(secret) < MinKeyLen {
		return nil, errors.New("subject key secret must be at least 32 bytes; generate one with `openssl rand -base64 48`")
	}
	return &Keyer{secret: append([]byte(nil), secret...)}, nil
}

func (k *Keyer) derive(kind, value string) string {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(domain))
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return keyPrefix + hex.EncodeToString(m.Sum(nil))
}

// Email returns the subject key of an e-mail address; false when it is
// not an address.
func (k *Keyer) Email(e string) (string, bool) {
	n, ok := NormalizeEmail(e)
	if !ok {
		return "", false
	}
	return k.derive(SourceEmail, n), true
}

// Phone returns the subject key of a phone number in international form
// (leading +; any spacing). Use NormalizePhone first for local numbers.
func (k *Keyer) Phone(p string) (string, error) {
	n, err := NormalizePhone(p, "")
	if err != nil {
		return "", err
	}
	return k.derive(SourcePhone, n), nil
}

// PlatformUser returns the subject key of a platform account. Platform
// names are case-insensitive; ids are kept exactly (some are case-sensitive).
func (k *Keyer) PlatformUser(platform, id string) (string, bool) {
	platform = strings.ToLower(strings.TrimSpace(platform))
	id = strings.TrimSpace(id)
	if platform == "" || id == "" {
		return "", false
	}
	return k.derive(SourcePlatformUser, platform+"\x00"+id), true
}

// Hash returns a keyed pseudonym of an arbitrary value in its own domain,
// for identifiers that are none of the above.
func (k *Keyer) Hash(value string) string {
	return k.derive("value", value)
}

// IsKey reports whether s has the shape of a subject key, so the consent
// API can tell a key from an identifier.
func IsKey(s string) bool {
	if len(s) != len(keyPrefix)+2*sha256.Size || !strings.HasPrefix(s, keyPrefix) {
		return false
	}
	_, err := hex.DecodeString(s[len(keyPrefix):])
	return err == nil && strings.ToLower(s) == s
}

// ForFields picks the identifier that keys a record and returns its
// subject key and which identifier it came from ("" when none is usable).
// fields are canonical fields. Leads are keyed by e-mail, else phone, else
// platform user; interactions and deletions by the platform user (a
// comment or a follow carries no e-mail), falling back to e-mail or phone.
// defaultRegion reads phone numbers written without a country code.
func (k *Keyer) ForFields(fields map[string]string, kind, platform, defaultRegion string) (key, source string) {
	email := func() (string, string) {
		if key, ok := k.Email(fields["email"]); ok {
			return key, SourceEmail
		}
		return "", ""
	}
	phone := func() (string, string) {
		if n, err := NormalizePhone(fields["phone"], defaultRegion); err == nil {
			return k.derive(SourcePhone, n), SourcePhone
		}
		return "", ""
	}
	user := func() (string, string) {
		if key, ok := k.PlatformUser(platform, fields["platform_user_id"]); ok {
			return key, SourcePlatformUser
		}
		return "", ""
	}
	order := []func() (string, string){email, phone, user}
	if kind == "interaction" || kind == "deletion" {
		order = []func() (string, string){user, email, phone}
	}
	for _, try := range order {
		if key, source := try(); key != "" {
			return key, source
		}
	}
	return "", ""
}

// SplitPhone splits a number in E.164 form into its country calling code
// and national significant number, for masking. Country codes are
// prefix-free, so the first 1–3 digits that name a known code are it; this
// avoids a second full parse of a number NormalizePhone already checked.
func SplitPhone(e164 string) (countryCode, national string, ok bool) {
	if len(e164) < 3 || e164[0] != '+' || strings.Trim(e164[1:], "0123456789") != "" {
		return "", "", false
	}
	for n := 1; n <= 3 && n < len(e164)-1; n++ {
		cc, _ := strconv.Atoi(e164[1 : 1+n])
		if phonenumbers.GetRegionCodeForCountryCode(cc) != "ZZ" {
			return e164[1 : 1+n], e164[1+n:], true
		}
	}
	return "", "", false
}
