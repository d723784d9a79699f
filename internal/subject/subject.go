package subject

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"

	"github.com/consentgate/consentgate/internal/keyedmac"
)

// ErrInvalidPhone reports a value that is not a possible phone number. It
// never carries the value.
var ErrInvalidPhone = errors.New("not a possible phone number")

// NormalizeEmail trims and lower-cases an e-mail address for matching.
// Non-ASCII text is put in Unicode NFC first (a Mac keyboard's decomposed
// "u + ¨" and a form's "ü" are one letter) and an internationalised domain
// in its Unicode form ("xn--bcher-kva.de" is "bücher.de"), so one address
// written two ways keeps one subject key. Deliverability rules (dots,
// +tags) are deliberately not applied: two addresses a provider may treat
// alike are still two statements of consent.
func NormalizeEmail(s string) (string, bool) {
	e := strings.TrimSpace(s)
	if !isASCII(e) {
		e = norm.NFC.String(e)
	}
	e = strings.ToLower(e)
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 || strings.ContainsAny(e, " \t\r\n") {
		return "", false
	}
	if domain := e[at+1:]; !isASCII(domain) || strings.Contains(domain, "xn--") {
		// A domain IDNA refuses is kept as written: it still keys the
		// same way every time.
		if u, err := idna.Lookup.ToUnicode(domain); err == nil {
			e = e[:at+1] + u
		}
	}
	return e, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
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
	// Most numbers arrive already in E.164; the full parser spends its time
	// in regular expressions that cannot change such a number.
	if possible, ok := checkE164(raw); ok {
		if !possible {
			return "", ErrInvalidPhone
		}
		return raw, nil
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

// checkE164 answers for the plain E.164 strings ("+" and ASCII digits)
// whose parse is certain without running phonenumbers.Parse, and reports
// whether the number is possible. ok is false whenever Parse could do
// anything but split off the country code: a national part that is too
// short, too long or starts with 0 (Italian leading zeros, or an IDD retry
// after an unknown code), and a national part the region's national prefix
// or carrier code pattern matches (+7 8…, +54 9…), which Parse may strip or
// rewrite. For the rest Parse yields exactly this country code and
// national number, and Format(E164) gives back the input, since a national
// number without leading zeros prints as written.
func checkE164(s string) (possible, ok bool) {
	// 1–3 code digits, then 2–17 national digits (Parse's own bounds).
	if len(s) < 4 || len(s) > 21 || s[0] != '+' || s[1] == '0' {
		return false, false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false, false
		}
	}
	codes := callingCodes()
	cc, n := 0, 1
	for ; n <= 3; n++ {
		cc = cc*10 + int(s[n]-'0')
		if codes[cc].known {
			break
		}
	}
	if n > 3 {
		return false, false
	}
	national := s[1+n:]
	if len(national) < 2 || len(national) > 17 || national[0] == '0' {
		return false, false
	}
	if c := &codes[cc]; c.prefixDigits&(1<<(national[0]-'0')) != 0 &&
		(c.prefix == nil || c.prefix.MatchString(national)) {
		return false, false
	}
	nn, err := strconv.ParseUint(national, 10, 64)
	if err != nil {
		return false, false
	}
	code := int32(cc)
	num := phonenumbers.PhoneNumber{CountryCode: &code, NationalNumber: &nn}
	return phonenumbers.IsPossibleNumberWithReason(&num) == phonenumbers.IS_POSSIBLE, true
}

// callingCode is what checkE164 needs to know about one country calling
// code.
type callingCode struct {
	known bool
	// prefixDigits has bit d set when the national-prefix-for-parsing
	// pattern of the code's main region could match a national number
	// starting with digit d; all bits when it could match anything. Most
	// numbers are thus cleared without running the pattern.
	prefixDigits uint16
	// prefix is that pattern compiled as Parse compiles it; nil when there
	// is none or it does not compile.
	prefix *regexp.Regexp
}

const allDigits = 1<<10 - 1

// callingCodes is indexed by country calling code. It is derived from the
// library's metadata once, on first use, so programs that never see a
// phone number pay nothing.
var callingCodes = sync.OnceValue(buildCallingCodes)

func buildCallingCodes() *[1000]callingCode {
	var codes [1000]callingCode
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return &codes // nothing known: every number takes the full parser
	}
	regions := make(map[string]*phonenumbers.PhoneMetadata)
	nonGeo := make(map[int32]*phonenumbers.PhoneMetadata)
	for _, m := range coll.GetMetadata() {
		if m.GetId() == "001" {
			nonGeo[m.GetCountryCode()] = m
		} else {
			regions[m.GetId()] = m
		}
	}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		if cc <= 0 || cc >= len(codes) {
			continue
		}
		// Parse strips national prefixes with the metadata of the code's
		// main region (non-geographic codes have their own).
		m := regions[phonenumbers.GetRegionCodeForCountryCode(cc)]
		if m == nil {
			m = nonGeo[int32(cc)]
		}
		c := callingCode{known: true, prefixDigits: allDigits}
		if m != nil {
			pattern := m.GetNationalPrefixForParsing()
			c.prefixDigits = firstDigits(pattern)
			if pattern != "" {
				c.prefix, _ = regexp.Compile("^(?:" + pattern + ")")
			}
		}
		codes[cc] = c
	}
	return &codes
}

// firstDigits returns the set of digits (bit d for digit d) that can start
// a string the anchored pattern matches, as phonenumbers compiles it for
// national prefixes. It errs towards more digits: all of them when the
// pattern can match the empty string (it then applies to every number) or
// does not compile. An empty pattern matches nothing.
func firstDigits(pattern string) uint16 {
	if pattern == "" {
		return 0
	}
	re, err := syntax.Parse("^(?:"+pattern+")", syntax.Perl)
	if err != nil {
		return allDigits
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return allDigits
	}
	// Walk every path that consumes no input; the instructions that end
	// such paths decide the first character.
	var set uint16
	seen := make([]bool, len(prog.Inst))
	stack := []uint32{uint32(prog.Start)}
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Out, in.Arg)
		case syntax.InstCapture, syntax.InstNop, syntax.InstEmptyWidth:
			// Assertions are taken as passing: that can only add digits.
			stack = append(stack, in.Out)
		case syntax.InstFail:
		case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			set = allDigits
		case syntax.InstRune, syntax.InstRune1:
			for d := range 10 {
				if in.MatchRune('0' + rune(d)) {
					set |= 1 << d
				}
			}
		default: // InstMatch: the empty string matches
			return allDigits
		}
	}
	return set
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
	mac *keyedmac.MAC
}

// NewKeyer builds a Keyer from the deployment's subject secret.
func NewKeyer(secret []byte) (*Keyer, error) {
	if len(secret) < MinKeyLen {
		return nil, errors.New("subject key secret must be at least 32 bytes; generate one with `openssl rand -base64 48`")
	}
	return &Keyer{mac: keyedmac.New(secret)}, nil
}

func (k *Keyer) derive(kind, value string) string {
	var sum [keyedmac.Size]byte
	return keyPrefix + hex.EncodeToString(k.mac.Sum(sum[:0], nil, domain, kind, "\x00", value))
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

// StableID returns a UUID (version 8, RFC 9562) derived from parts with
// the deployment key: the same parts always give the same id, and the id
// reveals nothing of them. A statement taken from a webhook gets one, so a
// delivery processed again records and publishes the same entry, not a
// second one.
func (k *Keyer) StableID(parts ...string) string {
	// NUL between parts, so ("ab", "c") and ("a", "bc") differ: callers'
	// parts (ids, keys, names) never hold one.
	msg := make([]string, 0, 2+2*len(parts))
	msg = append(msg, domain, "id")
	for _, p := range parts {
		msg = append(msg, "\x00", p)
	}
	var sum [keyedmac.Size]byte
	b := k.mac.Sum(sum[:0], nil, msg...)
	b[6] = b[6]&0x0f | 0x80 // version 8
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
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
	key, source, _ = k.AllForFields(fields, kind, platform, defaultRegion)
	return key, source
}

// AllForFields is ForFields that also returns the subject keys of the
// record's other usable identifiers (say, its phone number when it is
// keyed by e-mail), so statements recorded under those can be found too.
func (k *Keyer) AllForFields(fields map[string]string, kind, platform, defaultRegion string) (key, source string, others []string) {
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
	order := [3]func() (string, string){email, phone, user}
	if kind == "interaction" || kind == "deletion" {
		order = [3]func() (string, string){user, email, phone}
	}
	for _, try := range order {
		got, src := try()
		switch {
		case got == "":
		case key == "":
			key, source = got, src
		case got != key:
			others = append(others, got)
		}
	}
	return key, source, others
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
