package subject

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// referenceNormalizePhone is NormalizePhone before the E.164 fast path,
// kept verbatim as the oracle the current implementation must match.
func referenceNormalizePhone(raw, defaultRegion string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", ErrInvalidPhone
	}
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	if region == "" {
		region = "ZZ" // unknown region: the library then requires a leading +
	}
	num, err := phonenumbers.Parse(raw, region)
	if err != nil || phonenumbers.IsPossibleNumberWithReason(num) != phonenumbers.IS_POSSIBLE {
		return "", ErrInvalidPhone
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// phoneCases seed the table test and the fuzz corpus. The wanted results
// come from the reference, so the table is about coverage of the paths.
var phoneCases = []struct{ raw, region string }{
	// Plain E.164 across regions, the fast path's business.
	{"+4915112345678", ""}, {"+4930123456", "DE"}, {"+14155552671", ""}, {"+12125550100", "US"},
	{"+16135550123", ""}, {"+18095550123", ""}, {"+447911123456", "GB"}, {"+442079460958", ""},
	{"+33612345678", ""}, {"+34612345678", ""}, {"+31612345678", ""}, {"+32470123456", ""},
	{"+41791234567", ""}, {"+43664123456", ""}, {"+4520123456", ""}, {"+46701234567", ""},
	{"+4741234567", ""}, {"+48512345678", ""}, {"+351912345678", ""}, {"+353851234567", ""},
	{"+358401234567", ""}, {"+302101234567", ""}, {"+905321234567", ""}, {"+79161234567", ""},
	{"+380501234567", ""}, {"+919876543210", "IN"}, {"+8613812345678", ""}, {"+819012345678", ""},
	{"+821012345678", ""}, {"+6591234567", ""}, {"+61412345678", ""}, {"+64211234567", ""},
	{"+5511987654321", ""}, {"+5215512345678", ""}, {"+525512345678", ""}, {"+27821234567", ""},
	{"+2348012345678", ""}, {"+254712345678", ""}, {"+971501234567", ""}, {"+972501234567", ""},
	{"+966501234567", ""}, {"+85291234567", ""}, {"+886912345678", ""}, {"+80012345678", ""},
	{"+882123456789", ""}, {"+979123456789", ""}, {"+2616123456", ""}, {"+3780549123456", ""},
	{"+37861234", ""}, {"+672312345", ""}, {"+67212345", ""}, {"+2980199", ""},
	// Italian (and other) national numbers with leading zeros.
	{"+390669821234", ""}, {"+39 06 6982 1234", ""}, {"+3906", ""}, {"+39000000", ""},
	{"+3900012345", ""}, {"+3531234567", ""}, {"+4401234567890", ""}, {"+2250712345678", ""},
	// National prefixes and carrier codes after the country code.
	{"+5491112345678", ""}, {"+54 9 11 1234-5678", "AR"}, {"+541112345678", ""}, {"+5401112345678", ""},
	{"+5491512345678", ""}, {"+54111512345678", ""}, {"+5412", ""},
	{"+5215512345678", "MX"}, {"+52 1 55 1234 5678", ""}, {"+78123456789", ""}, {"+78005553535", ""},
	{"+7812345678", ""}, {"+5590119876543210", ""}, {"+55901198765432", ""}, {"+55021198765432", ""},
	{"+12345678901", ""}, {"+11234567890", ""}, {"+1123456789", ""}, {"+44180020123456", ""},
	{"+61183112345678", ""}, {"+86179123456789", ""}, {"+8617912345678", ""}, {"+81000212345678", ""},
	{"+37080012345", ""}, {"+375801234567", ""}, {"+26120123456", ""}, {"+2412123456", ""},
	{"+241011123456", ""}, {"+3521500123456", ""}, {"+50619001234567", ""}, {"+6921234567", ""},
	{"+99381234567", ""}, {"+59101123456789", ""}, {"+8611123456789", ""}, {"+8612012345678", ""},
	{"+861791234567", ""}, {"+86179123456789", "CN"}, {"+2612123456", ""}, {"+261321234567", ""},
	{"+8208512345678", ""}, {"+82851234567", ""}, {"+29810011234", ""}, {"+5061900123456", ""},
	// Too short, too long, no or unknown country code.
	{"+", ""}, {"+1", ""}, {"+12", ""}, {"+123", ""}, {"+4912", ""}, {"+491", ""}, {"+49", ""},
	{"+0", ""}, {"+0049151123", "DE"}, {"+004915112345678", "DE"}, {"+01234567", ""}, {"+00", "DE"},
	{"+999123456789", ""}, {"+9991234567", "DE"}, {"+2591234567", ""}, {"+8881234567890123456", ""},
	{"+491511234567890123", ""}, {"+4915112345678901234", ""}, {"+49151123456789012345678", ""},
	{"+1234567890123456789012345", ""}, {"+12345678901234567", ""}, {"+123456789012345678", ""},
	// Spacing, punctuation and other characters around an E.164 number.
	{"  +4915112345678  ", ""}, {"\t+14155552671\n", "DE"}, {"\u00a0+4915112345678\u2003", ""},
	{"+49 151 12345678", ""}, {"+49-151-12345678", ""}, {"+1 (415) 555-2671", ""},
	{"++4915112345678", ""}, {"＋4915112345678", ""}, {"+４９15112345678", ""}, {"+4915112345678x12", ""},
	{"+4915112345678 ext. 12", ""}, {"+4915112345678;ext=12", ""}, {"tel:+4915112345678", ""},
	{"+4915112345678a", ""}, {"+49151123456a78", ""}, {"+٤٩15112345678", ""},
	// National formats, which need the default region.
	{"0151 12345678", "DE"}, {"015112345678", "de"}, {"015112345678", ""}, {"4915112345678", "DE"},
	{"004915112345678", "DE"}, {"011 49 151 12345678", "US"}, {"(415) 555-2671", "US"},
	{"4155552671", "US"}, {"14155552671", "US"}, {"020 7946 0958", "gb"}, {"06 6982 1234", "IT"},
	{"011 15-1234-5678", "AR"}, {"8 (916) 123-45-67", "RU"}, {"55 1234 5678", "MX"},
	{"0151 12345678", "ZZ"}, {"0151 12345678", "001"}, {"+80012345678", "001"}, {"12345678", "001"},
	{"call me", "DE"}, {"123", "DE"}, {"", "DE"}, {"   ", ""}, {"1-800-FLOWERS", "US"},
}

func checkAgainstReference(t testing.TB, raw, region string) {
	t.Helper()
	got, err := NormalizePhone(raw, region)
	want, wantErr := referenceNormalizePhone(raw, region)
	if got != want || err != wantErr {
		t.Errorf("NormalizePhone(%q, %q) = %q, %v; reference gives %q, %v", raw, region, got, err, want, wantErr)
	}
}

func TestNormalizePhoneMatchesReference(t *testing.T) {
	for _, tc := range phoneCases {
		checkAgainstReference(t, tc.raw, tc.region)
	}
}

// TestNormalizePhoneFastPath pins which inputs skip the full parser, so a
// change that quietly sends everything to the slow path is noticed.
func TestNormalizePhoneFastPath(t *testing.T) {
	for _, s := range []string{
		"+4915112345678", "+14155552671", "+447911123456", "+33612345678", "+919876543210",
		"+5511987654321", "+5215512345678", "+61412345678", "+80012345678", "+4912",
		"+8613812345678", "+5591987654321", "+261321234567", "+74951234567",
	} {
		if _, ok := checkE164(s); !ok {
			t.Errorf("checkE164(%q) sent to the full parser", s)
		}
	}
	for _, s := range []string{
		"+390669821234", "+5491112345678", "+541112345678", "+78123456789", "+11234567890",
		"+0049151123", "+999123456789", "+49 151 12345678", "+4", "+491", "+49151123456789012345",
		"+8611123456789", "+5590119876543210", "+2612123456",
	} {
		if _, ok := checkE164(s); ok {
			t.Errorf("checkE164(%q) answered without the full parser", s)
		}
	}
}

// TestNormalizePhoneRandomE164 compares against the reference on random
// national numbers after every calling code the library knows: uniform
// lengths 1–17, plus lengths near the region's possible ones so that
// possible numbers are common too.
func TestNormalizePhoneRandomE164(t *testing.T) {
	// About 204k cases; the race detector slows the reference parser some
	// fifty-fold and adds nothing to a comparison of pure functions, so
	// race builds check a sample.
	perCode := 950
	if testing.Short() || raceEnabled {
		perCode = 40
	}
	codes := slices.Sorted(maps.Keys(phonenumbers.GetSupportedCallingCodes()))
	regions := []string{"", "DE", "US", "GB", "IT", "AR", "BR", "RU", "MX", "001", "zz", " fr "}
	spaces := []string{"", "", "", "", " ", "\t", "\n ", "\u00a0"}

	type phoneCase struct{ raw, region string }
	rng := rand.New(rand.NewPCG(20240611, 1))
	cases := make([]phoneCase, 0, perCode*len(codes))
	var digits []byte
	for _, cc := range codes {
		lengths := possibleLengths(cc)
		// Digits the national prefix pattern may start with lead a quarter
		// of the numbers, to exercise the pattern check.
		var prefixStarts []byte
		for d := range 10 {
			if callingCodes()[cc].prefixDigits&(1<<d) != 0 {
				prefixStarts = append(prefixStarts, byte('0'+d))
			}
		}
		for range perCode {
			n := 1 + rng.IntN(17)
			if len(lengths) > 0 && rng.IntN(2) == 0 {
				n = max(1, min(17, int(lengths[rng.IntN(len(lengths))])+rng.IntN(3)-1))
			}
			digits = digits[:0]
			for range n {
				digits = append(digits, byte('0'+rng.IntN(10)))
			}
			if len(prefixStarts) > 0 && rng.IntN(4) == 0 {
				digits[0] = prefixStarts[rng.IntN(len(prefixStarts))]
			}
			raw := spaces[rng.IntN(len(spaces))] + "+" + strconv.Itoa(cc) + string(digits) + spaces[rng.IntN(len(spaces))]
			cases = append(cases, phoneCase{raw, regions[rng.IntN(len(regions))]})
		}
	}

	// The reference parser dominates the run time; split the work.
	workers := runtime.GOMAXPROCS(0)
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(cases); i += workers {
				c := cases[i]
				got, err := NormalizePhone(c.raw, c.region)
				want, wantErr := referenceNormalizePhone(c.raw, c.region)
				if got != want || err != wantErr {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("NormalizePhone(%q, %q) = %q, %v; reference gives %q, %v",
						c.raw, c.region, got, err, want, wantErr))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(failures)
	for i, f := range failures {
		if i == 20 {
			t.Errorf("… and %d more", len(failures)-i)
			break
		}
		t.Error(f)
	}
	t.Logf("%d cases over %d calling codes", len(cases), len(codes))
}

// possibleLengths are the national number lengths of a calling code's main
// region, for steering random numbers towards possible ones.
func possibleLengths(cc int) []int32 {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil
	}
	region := phonenumbers.GetRegionCodeForCountryCode(cc)
	for _, m := range coll.GetMetadata() {
		if m.GetId() == region && (region != "001" || int(m.GetCountryCode()) == cc) {
			return m.GetGeneralDesc().GetPossibleLength()
		}
	}
	return nil
}

func TestFirstDigits(t *testing.T) {
	for pattern, want := range map[string]string{
		"":                      "",
		"0":                     "0",
		"06":                    "0",
		"[08]":                  "08",
		"0|80?":                 "08",
		"(183[12])|0":           "01",
		"([24-9]\\d{6})$|0":     "02456789",
		"0?(?:(11|2)15)?":       "0123456789", // matches the empty string
		"(?:)":                  "0123456789",
		"$":                     "0123456789",
		".":                     "0123456789",
		"\\d":                   "0123456789",
		"(?i)x":                 "",
		"(":                     "0123456789", // does not compile
		"(?:0|90)(?:(1)(\\d))?": "09",
	} {
		got := ""
		for d, set := 0, firstDigits(pattern); d < 10; d++ {
			if set&(1<<d) != 0 {
				got += strconv.Itoa(d)
			}
		}
		if got != want {
			t.Errorf("firstDigits(%q) = %q; want %q", pattern, got, want)
		}
	}
}

// TestFirstDigitsCoversMetadata checks the property checkE164 relies on for
// every national-prefix pattern in the metadata: whenever the anchored
// pattern matches a digit string, the string's first digit is in the set.
func TestFirstDigitsCoversMetadata(t *testing.T) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	buf := make([]byte, 0, 17)
	for _, m := range coll.GetMetadata() {
		pattern := m.GetNationalPrefixForParsing()
		if pattern == "" {
			continue
		}
		re := regexp.MustCompile("^(?:" + pattern + ")")
		set := firstDigits(pattern)
		for range 300 {
			buf = buf[:0]
			for range 1 + rng.IntN(17) {
				buf = append(buf, byte('0'+rng.IntN(10)))
			}
			if re.Match(buf) && set&(1<<(buf[0]-'0')) == 0 {
				t.Errorf("%s: pattern %q matches %q, first digit not in %010b", m.GetId(), pattern, buf, set)
			}
		}
	}
}

func FuzzNormalizePhone(f *testing.F) {
	for _, tc := range phoneCases {
		f.Add(tc.raw, tc.region)
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		checkAgainstReference(t, raw, region)
	})
}

var benchE164 = []string{
	"+4915112345678", "+14155552671", "+447911123456", "+33612345678",
	"+919876543210", "+5511987654321", "+61412345678", "+8613812345678",
}

func BenchmarkCallingCodes(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		buildCallingCodes()
	}
}

func BenchmarkNormalizePhone(b *testing.B) {
	run := func(name string, normalize func(string, string) (string, error), inputs []string, region string) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := normalize(inputs[i%len(inputs)], region); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	national := []string{"0151 12345678", "030 1234567", "089 12345678", "0171 1234567"}
	run("E164", NormalizePhone, benchE164, "DE")
	run("E164/reference", referenceNormalizePhone, benchE164, "DE")
	run("national", NormalizePhone, national, "DE")
	run("national/reference", referenceNormalizePhone, national, "DE")
}
