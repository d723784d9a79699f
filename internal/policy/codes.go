package policy

import (
	"regexp"
	"strings"
)

// ISO 3166-1 alpha-2 codes (officially assigned), plus XK (Kosovo), which
// platforms and CRMs commonly use.
const countryList = `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ
VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW`

// US states, DC and territories (ISO 3166-2:US): the one country whose
// regions differ in privacy law today, so typos there are worth catching.
const usRegionList = `AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN
MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY
DC AS GU MP PR UM VI`

var (
	countries = setOf(countryList)
	usRegions = setOf(usRegionList)

	// Groups expand to their member states when listed.
	groups = map[string][]string{
		"EU": strings.Fields(`AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU
			MT NL PL PT RO SK SI ES SE`),
	}

	// Codes people write that ISO spells differently.
	aliasHints = map[string]string{"UK": "GB", "EL": "GR"}

	regionCode = regexp.MustCompile(`^[A-Z0-9]{1,3}$`)
)

func init() {
	groups["EEA"] = append(append([]string{}, groups["EU"]...), "IS", "LI", "NO")
}

func setOf(list string) map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(list) {
		m[c] = true
	}
	return m
}

// IsCountry reports whether c is a known ISO 3166-1 alpha-2 code
// (upper case).
func IsCountry(c string) bool { return countries[c] }

// normRegion returns the subdivision part of region for country, or ""
// when region is not a plausible ISO 3166-2 subdivision code. region may
// be written "CA" or "US-CA".
func normRegion(country, region string) string {
	region = strings.TrimPrefix(region, country+"-")
	if !regionCode.MatchString(region) {
		return ""
	}
	if country == "US" && !usRegions[region] {
		return ""
	}
	return region
}

// checkCode validates a jurisdiction code as written in the policy and
// returns it upper-cased, or a message saying how to fix it.
func checkCode(code string) (string, string) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if _, ok := groups[c]; ok || countries[c] {
		return c, ""
	}
	if hint, ok := aliasHints[c]; ok {
		return "", "unknown jurisdiction code \"" + code + "\"; use the ISO 3166-1 code \"" + hint + "\""
	}
	if country, region, ok := strings.Cut(c, "-"); ok {
		if !countries[country] {
			return "", "unknown country \"" + country + "\" in \"" + code + "\"; write an ISO 3166-1 alpha-2 code such as DE or US"
		}
		if normRegion(country, region) != region {
			return "", "unknown region \"" + region + "\" in \"" + code + "\"; write an ISO 3166-2 subdivision such as US-CA"
		}
		return c, ""
	}
	return "", "unknown jurisdiction code \"" + code + "\"; write an ISO 3166-1 alpha-2 country (DE), a country-region (US-CA) or a group (EU, EEA)"
}
