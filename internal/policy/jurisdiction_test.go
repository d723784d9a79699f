package policy

import "testing"

func TestResolve(t *testing.T) {
	p, err := Parse("j.yaml", []byte(`
version: v1
purposes: {analytics: {}}
categories: {location: {fields: [country], purposes: [analytics], otherwise: redact}}
jurisdictions:
  default: opt_out
  opt_out: [US-CA, NO]
  opt_in: [EU, EEA, GB, US-NY, BR]
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name                      string
		country, region, fallback string
		want                      Resolution
	}{
		{"listed country", "DE", "", "US-CA", Resolution{"DE", OptIn, FromRecord, RuleRegimeListed}},
		{"lower case and spaces", " de ", "", "", Resolution{"DE", OptIn, FromRecord, RuleRegimeListed}},
		{"record country replaces connector default", "FR", "", "US-CA", Resolution{"FR", OptIn, FromRecord, RuleRegimeListed}},
		{"listed region", "US", "CA", "DE", Resolution{"US-CA", OptOut, FromRecord, RuleRegimeListed}},
		{"region written with country", "US", "US-CA", "", Resolution{"US-CA", OptOut, FromRecord, RuleRegimeListed}},
		{"US without region is not California", "US", "", "US-CA", Resolution{"US", OptIn, FromRecord, RuleRegimeRegionUnknown}},
		{"US with unknown region is unsure", "US", "California", "", Resolution{"US", OptIn, FromRecord, RuleRegimeRegionUnknown}},
		{"unlisted US state gets default", "US", "TX", "", Resolution{"US-TX", OptOut, FromRecord, RuleRegimeDefault}},
		{"region alone refines connector country", "", "CA", "US", Resolution{"US-CA", OptOut, FromRecord, RuleRegimeListed}},
		{"region of listed country inherits it", "BR", "SP", "", Resolution{"BR-SP", OptIn, FromRecord, RuleRegimeCountryListed}},
		{"explicit country beats its group", "NO", "", "", Resolution{"NO", OptOut, FromRecord, RuleRegimeListed}},
		{"group member", "IS", "", "", Resolution{"IS", OptIn, FromRecord, RuleRegimeListed}},
		{"unlisted ISO country gets default", "JP", "", "DE", Resolution{"JP", OptOut, FromRecord, RuleRegimeDefault}},
		{"not a country is unsure", "Germany", "", "US-CA", Resolution{Unknown, OptIn, FromRecord, RuleRegimeUnrecognised}},
		{"connector default country", "", "", "GB", Resolution{"GB", OptIn, FromConnector, RuleRegimeListed}},
		{"connector default region", "", "", "us-ca", Resolution{"US-CA", OptOut, FromConnector, RuleRegimeListed}},
		{"connector default group", "", "", "EU", Resolution{"EU", OptIn, FromConnector, RuleRegimeListed}},
		{"connector default garbage", "", "", "Mars", Resolution{Unknown, OptIn, FromConnector, RuleRegimeUnrecognised}},
		{"nothing known gets default", "", "", "", Resolution{Unknown, OptOut, FromNothing, RuleRegimeDefault}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := p.Resolve(tc.country, tc.region, tc.fallback)
			if got != tc.want {
				t.Errorf("Resolve(%q, %q, %q) = %+v, want %+v", tc.country, tc.region, tc.fallback, got, tc.want)
			}
			if r := p.Regime(tc.country, tc.region, tc.fallback); r != tc.want.Regime {
				t.Errorf("Regime = %s, want %s", r, tc.want.Regime)
			}
		})
	}
}

func TestUnlistedGroupIsStrictestOfMembers(t *testing.T) {
	p, err := Parse("j.yaml", []byte(`
version: v1
purposes: {analytics: {}}
categories: {location: {fields: [country], purposes: [analytics], otherwise: redact}}
jurisdictions: {default: opt_out, opt_in: [DE]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Resolve("", "", "EU"); got.Regime != OptIn || got.Rule != RuleRegimeUnrecognised {
		t.Errorf("EU with one opt_in member = %+v, want strictest", got)
	}
	if got := p.Resolve("", "", "US"); got.Regime != OptOut {
		t.Errorf("US with no listed regions under opt_out default = %+v", got)
	}
}
