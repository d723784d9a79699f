package policy

import "strings"

// Unknown is the jurisdiction reported when none could be established.
const Unknown = "unknown"

// Where the jurisdiction came from; these are rule names too.
const (
	FromRecord    = "jurisdiction.from_record"
	FromConnector = "jurisdiction.from_connector"
	FromNothing   = "jurisdiction.none"
)

// Rules that decide the regime of a jurisdiction.
const (
	// RuleRegimeListed: the code (or its group) is listed in the policy.
	RuleRegimeListed = "regime.listed"
	// RuleRegimeCountryListed: a region not listed inherits its listed country.
	RuleRegimeCountryListed = "regime.country_listed"
	// RuleRegimeDefault: nothing listed applies; the policy default.
	RuleRegimeDefault = "regime.default"
	// RuleRegimeRegionUnknown: a country whose regions differ was given
	// without a region (e.g. "US" when US-CA is listed): strictest.
	RuleRegimeRegionUnknown = "regime.region_unknown_strictest"
	// RuleRegimeUnrecognised: the record named a country that is not an ISO
	// code, or a group whose members differ: strictest.
	RuleRegimeUnrecognised = "regime.unrecognised_strictest"
)

// Resolution is the jurisdiction of one record and how it was found.
type Resolution struct {
	// Jurisdiction is "DE", "US-CA", "EU", … or Unknown; never a raw
	// record value that is not a recognised code.
	Jurisdiction string
	Regime       Regime
	// Source is FromRecord, FromConnector or FromNothing.
	Source string
	// Rule is one of the regime.* rules.
	Rule string
}

// Regime returns the regime for a record's country and region, falling
// back to the connector default when the record names no country.
func (p *Policy) Regime(country, region, fallback string) Regime {
	return p.Resolve(country, region, fallback).Regime
}

// Resolve finds the jurisdiction of a record. The record's country (and
// region) replaces the connector's fallback entirely; a region alone
// refines the fallback's country. When unsure the strictest regime
// (opt_in) applies; an ISO country the policy does not list gets the
// policy default.
func (p *Policy) Resolve(country, region, fallback string) Resolution {
	country = strings.ToUpper(strings.TrimSpace(country))
	region = strings.ToUpper(strings.TrimSpace(region))
	fallback = strings.ToUpper(strings.TrimSpace(fallback))
	fbCountry, _, _ := strings.Cut(fallback, "-")

	var code, source string
	switch {
	case country != "":
		source = FromRecord
		if !countries[country] {
			return Resolution{Jurisdiction: Unknown, Regime: OptIn, Source: source, Rule: RuleRegimeUnrecognised}
		}
		code = withRegion(country, region)
	case region != "" && countries[fbCountry]:
		source = FromRecord
		code = withRegion(fbCountry, region)
	case fallback != "":
		source = FromConnector
		if c, msg := checkCode(fallback); msg == "" {
			code = c
		} else {
			return Resolution{Jurisdiction: Unknown, Regime: OptIn, Source: source, Rule: RuleRegimeUnrecognised}
		}
	default:
		return Resolution{Jurisdiction: Unknown, Regime: p.Default, Source: FromNothing, Rule: RuleRegimeDefault}
	}
	r, rule := p.regimeOf(code)
	return Resolution{Jurisdiction: code, Regime: r, Source: source, Rule: rule}
}

func withRegion(country, region string) string {
	if region == "" {
		return country
	}
	if r := normRegion(country, region); r != "" {
		return country + "-" + r
	}
	return country
}

func (p *Policy) regimeOf(code string) (Regime, string) {
	if r, ok := p.byCode[code]; ok {
		return r, RuleRegimeListed
	}
	if members, ok := groups[code]; ok {
		first, _ := p.regimeOf(members[0])
		for _, m := range members[1:] {
			if r, _ := p.regimeOf(m); r != first {
				return OptIn, RuleRegimeUnrecognised
			}
		}
		return first, RuleRegimeDefault
	}
	if country, _, ok := strings.Cut(code, "-"); ok {
		if r, ok := p.byCode[country]; ok {
			return r, RuleRegimeCountryListed
		}
		return p.Default, RuleRegimeDefault
	}
	for listed := range p.byCode {
		if strings.HasPrefix(listed, code+"-") {
			return OptIn, RuleRegimeRegionUnknown
		}
	}
	return p.Default, RuleRegimeDefault
}
