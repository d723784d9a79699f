package consent

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/policy"
)

var (
	now     = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	hashKey = bytes.Repeat([]byte("h"), 32)
)

func engine(t testing.TB, path string) *Engine {
	t.Helper()
	p, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(p, hashKey)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func granted(id string, ago time.Duration) State {
	return State{Status: StatusGranted, EntryID: id, ObtainedAt: now.Add(-ago)}
}

// ledger states of the matrix, for the purpose under test.
var states = map[string]*State{
	"granted":   {Status: StatusGranted, EntryID: "e-1", ObtainedAt: now.Add(-24 * time.Hour)},
	"denied":    {Status: StatusDenied, EntryID: "e-2", ObtainedAt: now.Add(-24 * time.Hour)},
	"withdrawn": {Status: StatusWithdrawn, EntryID: "e-3", ObtainedAt: now.Add(-24 * time.Hour)},
	"expired":   {Status: StatusGranted, EntryID: "e-4", ObtainedAt: now.Add(-31 * 24 * time.Hour)},
	"absent":    nil,
}

// Every fallback action × jurisdiction × consent state: the field under
// test is kept in clear exactly when its purpose is granted, or silent
// (absent/expired) under opt_out — except special data, which only an
// explicit grant keeps.
func TestMatrix(t *testing.T) {
	e := engine(t, "testdata/matrix.yaml")
	type subjectField struct {
		field, purpose, value string
		otherwise             string // expected action when not kept
		special               bool
	}
	fields := []subjectField{
		{"full_name", "p_redact", "Jane Doe", ActionRedact, false},
		{"email", "p_hash", "Jane@Example.com", ActionHash, false},
		{"phone", "p_mask", "+4915112345678", ActionMask, false},
		{"gender", "p_drop", "f", ActionDrop, false},
		{"health_condition", "p_special", "asthma", ActionDrop, true},
	}
	jurisdictions := []struct {
		name, country, region, fallback string
		regime                          policy.Regime
		want                            string
	}{
		{"opt_in", "DE", "", "", policy.OptIn, "DE"},
		{"opt_out", "", "", "US-CA", policy.OptOut, "US-CA"},
		{"unknown country", "JP", "", "US-CA", policy.OptIn, "JP"},
		{"US without region", "US", "", "US-CA", policy.OptIn, "US"},
	}
	for _, f := range fields {
		for _, j := range jurisdictions {
			for stName, st := range states {
				t.Run(fmt.Sprintf("%s/%s/%s", f.otherwise+"_"+f.field, j.name, stName), func(t *testing.T) {
					in := Input{
						Fields:              map[string]string{"note": "hello", f.field: f.value},
						DefaultJurisdiction: j.fallback,
						Consent:             map[string]State{"anchor": granted("e-0", time.Hour)},
						Now:                 now,
					}
					if j.country != "" {
						in.Fields["country"] = j.country // unmapped in this policy: steers jurisdiction only
					}
					if st != nil {
						in.Consent[f.purpose] = *st
					}
					res := e.Decide(in)
					if res.Jurisdiction != j.want || res.Regime != j.regime {
						t.Fatalf("jurisdiction = %s/%s, want %s/%s", res.Jurisdiction, res.Regime, j.want, j.regime)
					}
					allowed := stName == "granted" ||
						(!f.special && j.regime == policy.OptOut && (stName == "absent" || stName == "expired"))
					got := res.FieldActions[f.field]
					if allowed {
						if got.Action != ActionKeep || res.Fields[f.field] != f.value || !slices.Equal(got.Purposes, []string{f.purpose}) {
							t.Fatalf("field = %+v, forwarded %q; want kept for %s", got, res.Fields[f.field], f.purpose)
						}
						if res.Drop {
							t.Fatalf("record dropped by %s", res.DropRule)
						}
						return
					}
					if got.Action != f.otherwise || len(got.Purposes) != 0 {
						t.Fatalf("field = %+v, want %s", got, f.otherwise)
					}
					switch f.otherwise {
					case ActionRedact:
						assertAbsent(t, res, f.field)
					case ActionHash:
						if v := res.Fields[f.field]; !regexp.MustCompile(`^h_[0-9a-f]{64}$`).MatchString(v) {
							t.Fatalf("hashed value %q", v)
						}
					case ActionMask:
						if v := res.Fields[f.field]; v != "+49*******5678" {
							t.Fatalf("masked value %q", v)
						}
					case ActionDrop:
						if !res.Drop || res.DropRule != "category."+got.Category+".drop_record" || len(res.Fields) != 0 {
							t.Fatalf("drop = %v %q fields %v, want whole record dropped", res.Drop, res.DropRule, res.Fields)
						}
					}
				})
			}
		}
	}
}

func assertAbsent(t *testing.T, res Result, field string) {
	t.Helper()
	if v, ok := res.Fields[field]; ok {
		t.Fatalf("%s forwarded as %q", field, v)
	}
}

func TestPurposeStatuses(t *testing.T) {
	e := engine(t, "testdata/matrix.yaml")
	future := now.Add(time.Hour)
	past := now.Add(-time.Second)
	cases := []struct {
		name     string
		st       *State
		fallback string
		gpc      bool
		want     PurposeDecision
	}{
		{"granted", &State{Status: StatusGranted, EntryID: "a", ObtainedAt: now.Add(-time.Hour), ExpiresAt: &future}, "DE", false, PurposeDecision{StatusGranted, "a", RulePurposeGranted}},
		{"entry expiry passed", &State{Status: StatusGranted, EntryID: "b", ObtainedAt: now.Add(-time.Hour), ExpiresAt: &past}, "DE", false, PurposeDecision{StatusExpired, "b", RulePurposeExpired}},
		{"policy validity boundary is expired", &State{Status: StatusGranted, EntryID: "c", ObtainedAt: now.Add(-30 * 24 * time.Hour)}, "DE", false, PurposeDecision{StatusExpired, "c", RulePurposeExpired}},
		{"grant without time cannot prove validity", &State{Status: StatusGranted, EntryID: "d"}, "DE", false, PurposeDecision{StatusExpired, "d", RulePurposeExpired}},
		{"expired under opt_out is the default", &State{Status: StatusGranted, EntryID: "e", ObtainedAt: now.Add(-60 * 24 * time.Hour)}, "US-CA", false, PurposeDecision{StatusAllowedOptOut, "e", RulePurposeOptOutDefault}},
		{"absent opt_in", nil, "DE", false, PurposeDecision{StatusAbsent, "", RulePurposeAbsent}},
		{"absent opt_out", nil, "US-CA", false, PurposeDecision{StatusAllowedOptOut, "", RulePurposeOptOutDefault}},
		{"denied opt_out", &State{Status: StatusDenied, EntryID: "f", ObtainedAt: now}, "US-CA", false, PurposeDecision{StatusDenied, "f", RulePurposeDenied}},
		{"unknown status is a refusal", &State{Status: "maybe", EntryID: "g", ObtainedAt: now}, "US-CA", false, PurposeDecision{StatusDenied, "g", RulePurposeUnrecognised}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Fields: map[string]string{"email": "a@b.c"}, DefaultJurisdiction: tc.fallback, Consent: map[string]State{}, GPC: tc.gpc, Now: now}
			if tc.st != nil {
				in.Consent["p_hash"] = *tc.st
			}
			if got := e.Decide(in).Purposes["p_hash"]; got != tc.want {
				t.Errorf("p_hash = %+v, want %+v", got, tc.want)
			}
		})
	}
	// A special-only purpose is never allowed by an opt-out default.
	res := e.Decide(Input{Fields: map[string]string{"health_condition": "x"}, DefaultJurisdiction: "US-CA", Now: now})
	if got := res.Purposes["p_special"]; got.Status != StatusAbsent || got.Rule != RulePurposeSpecialNeedsGrant {
		t.Errorf("p_special under opt_out = %+v", got)
	}
	if len(res.Purposes) != len(e.Policy().Purposes) {
		t.Errorf("Purposes has %d entries, want one per policy purpose", len(res.Purposes))
	}
}

func TestGPCBlocksProfilingAndSharingEverywhere(t *testing.T) {
	e := engine(t, "../../configs/policy.yaml")
	for _, j := range []string{"DE", "US-CA", "JP", ""} {
		t.Run("jurisdiction "+j, func(t *testing.T) {
			in := Input{
				Fields: map[string]string{
					"email": "jane@example.com", "interests": "running", "handle": "@jane",
				},
				DefaultJurisdiction: j,
				Consent: map[string]State{
					"marketing_email":     granted("m", time.Hour),
					"profiling":           granted("p", time.Hour),
					"third_party_sharing": granted("s", time.Hour),
				},
				GPC: true,
				Now: now,
			}
			res := e.Decide(in)
			for _, p := range GPCPurposes {
				if d := res.Purposes[p]; d.Status != StatusOptedOut || d.Rule != RuleSignalGPC || d.EntryID != "" {
					t.Errorf("%s = %+v, want opted_out by GPC despite the grant", p, d)
				}
			}
			// interests serves profiling and marketing_email: kept only for the latter.
			if d := res.FieldActions["interests"]; d.Action != ActionKeep || !slices.Equal(d.Purposes, []string{"marketing_email"}) {
				t.Errorf("interests = %+v", d)
			}
			// handle serves sales_contact, analytics, third_party_sharing: under
			// opt_in nothing is granted, under opt_out analytics/sales are allowed.
			d := res.FieldActions["handle"]
			if res.Regime == policy.OptIn && d.Action != ActionHash {
				t.Errorf("handle under opt_in with GPC = %+v, want hash", d)
			}
			if res.Regime == policy.OptOut && (d.Action != ActionKeep || slices.Contains(d.Purposes, "third_party_sharing")) {
				t.Errorf("handle under opt_out with GPC = %+v, want kept without third_party_sharing", d)
			}
			if !slices.Contains(res.Rules, RuleSignalGPC) {
				t.Errorf("rules %v lack %s", res.Rules, RuleSignalGPC)
			}
		})
	}
}

func TestRecordLevelRules(t *testing.T) {
	e := engine(t, "../../configs/policy.yaml")
	t.Run("hashed and masked fields alone do not keep a record", func(t *testing.T) {
		res := e.Decide(Input{
			Fields:              map[string]string{"email": "jane@example.com", "phone": "+14155552671"},
			DefaultJurisdiction: "DE",
			Consent:             map[string]State{"analytics": granted("a", time.Hour)}, // granted, but no field serves it
			Now:                 now,
		})
		if !res.Drop || res.DropRule != RuleNoClearField || len(res.Fields) != 0 {
			t.Fatalf("got drop=%v rule=%q fields=%v", res.Drop, res.DropRule, res.Fields)
		}
		if res.FieldActions["email"].Action != ActionHash || res.FieldActions["phone"].Action != ActionMask {
			t.Errorf("field actions are still explained: %+v", res.FieldActions)
		}
	})
	t.Run("special data without explicit grant drops the record even under opt_out", func(t *testing.T) {
		res := e.Decide(Input{
			Fields:              map[string]string{"email": "jane@example.com", "health_condition": "asthma"},
			DefaultJurisdiction: "US-CA",
			Now:                 now,
		})
		if !res.Drop || res.DropRule != "category.special.drop_record" {
			t.Fatalf("got drop=%v rule=%q", res.Drop, res.DropRule)
		}
	})
	t.Run("special data with explicit grant is kept", func(t *testing.T) {
		res := e.Decide(Input{
			Fields:              map[string]string{"health_condition": "asthma"},
			DefaultJurisdiction: "DE",
			Consent:             map[string]State{"health_outreach": granted("h", time.Hour)},
			Now:                 now,
		})
		if res.Drop || res.Fields["health_condition"] != "asthma" || res.Purposes["health_outreach"].EntryID != "h" {
			t.Fatalf("got %+v", res)
		}
	})
	t.Run("record country replaces the connector default", func(t *testing.T) {
		res := e.Decide(Input{
			Fields:              map[string]string{"email": "jane@example.com", "country": "de"},
			DefaultJurisdiction: "US-CA",
			Now:                 now,
		})
		if res.Jurisdiction != "DE" || res.Regime != policy.OptIn || !res.Drop {
			t.Fatalf("got %s/%s drop=%v", res.Jurisdiction, res.Regime, res.Drop)
		}
	})
	t.Run("unmapped and empty fields are dropped, never forwarded", func(t *testing.T) {
		res := e.Decide(Input{
			Fields:              map[string]string{"email": "jane@example.com", "shoe_size": "42", "full_name": "  "},
			DefaultJurisdiction: "DE",
			Consent:             map[string]State{"sales_contact": granted("s", time.Hour)},
			Now:                 now,
		})
		if d := res.FieldActions["shoe_size"]; d.Action != ActionDrop || d.Rule != RuleFieldUnmapped || d.Category != "" {
			t.Errorf("shoe_size = %+v", d)
		}
		if d := res.FieldActions["full_name"]; d.Action != ActionDrop || d.Rule != RuleFieldEmpty {
			t.Errorf("full_name = %+v", d)
		}
		if res.Drop || len(res.Fields) != 1 || res.Fields["email"] != "jane@example.com" {
			t.Errorf("forwarded %v", res.Fields)
		}
		want := []string{RuleJurisdictionFromConnector, policy.RuleRegimeListed, RulePurposeAbsent,
			RulePurposeGranted, RuleFieldKeepGranted, RuleFieldEmpty, RuleFieldUnmapped, RuleRecordForward}
		if !slices.Equal(res.Rules, want) {
			t.Errorf("rules = %v\nwant    %v", res.Rules, want)
		}
		if res.PolicyVersion != "2026-11-01" {
			t.Errorf("policy version %q", res.PolicyVersion)
		}
	})
}

func TestMaskAndHash(t *testing.T) {
	for _, tc := range []struct{ field, value, jurisdiction, want string }{
		{"email", "John.Smith@Example.com", "", "j***@example.com"},
		{"email", "not an address", "", "***"},
		{"email", "Jürgen@Bücher.de", "", "j***@xn--bcher-kva.de"},                         // an IDN domain shows in ASCII
		{"email", "ceo@\u0430\u0440\u0440\u04cf\u0435.com", "", "c***@xn--80ak6aa92e.com"}, // a look-alike of apple.com
		{"email", "ceo@\u0430\u0440\u0440\u04cf\u0435.com\u200d", "", "c***@***"},          // IDNA refuses it: not shown
		{"email", "\u202eceo@example.com", "", "****@example.com"},                         // a direction mark is no hint

		{"phone", "+49 151 12345678", "", "+49*******5678"},
		{"phone", "(415) 555-4567", "US-CA", "+1******4567"},
		{"phone", "555-4567", "", "***"},
		{"full_name", "Jane Doe", "", "***"},
	} {
		if got := maskField(tc.field, tc.value, tc.jurisdiction); got != tc.want {
			t.Errorf("mask(%s, %q) = %q, want %q", tc.field, tc.value, got, tc.want)
		}
	}
	e := engine(t, "testdata/matrix.yaml")
	other, _ := New(e.Policy(), bytes.Repeat([]byte("o"), 32))
	a := e.hashField("email", "Jane@Example.com ", "")
	if a != e.hashField("email", "jane@example.com", "") {
		t.Error("hash of the same address written differently differs")
	}
	if a == other.hashField("email", "jane@example.com", "") {
		t.Error("hash does not depend on the key")
	}
	if strings.Contains(a, "jane") || !strings.HasPrefix(a, "h_") {
		t.Errorf("hash %q", a)
	}
	if e.hashField("phone", "0151 12345678", "DE") != e.hashField("phone", "+4915112345678", "") {
		t.Error("local phone not normalised with the jurisdiction's country before hashing")
	}
}

func TestNewRejectsBadArguments(t *testing.T) {
	p, err := policy.Load("testdata/matrix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(p, make([]byte, 16)); err == nil {
		t.Error("accepted a 16-byte hash key")
	}
	if _, err := New(nil, hashKey); err == nil {
		t.Error("accepted a nil policy")
	}
}

// The worked example of docs/policy.md, so the documentation cannot drift.
func TestWorkedExample(t *testing.T) {
	e := engine(t, "../../configs/policy.yaml")
	in := func(extra map[string]string) Input {
		f := map[string]string{
			"email": "Jane.Doe@example.com", "phone": "+49 151 12345678", "full_name": "Jane Doe",
			"city": "Berlin", "country": "DE", "interests": "running",
		}
		for k, v := range extra {
			f[k] = v
		}
		return Input{
			Fields:              f,
			DefaultJurisdiction: "US-CA",
			Consent: map[string]State{
				"marketing_email": {Status: StatusGranted, EntryID: "01J9Z3K2M4", ObtainedAt: now.Add(-time.Hour)},
				"sales_contact":   {Status: StatusDenied, EntryID: "01J9Z3K2M5", ObtainedAt: now.Add(-time.Hour)},
			},
			Now: now,
		}
	}
	withStaleHealthGrant := func(in Input) Input {
		in.Consent["health_outreach"] = State{Status: StatusGranted, EntryID: "01J0AAAA", ObtainedAt: now.Add(-400 * 24 * time.Hour)}
		return in
	}
	res := e.Decide(in(nil))
	want := map[string]string{"email": "Jane.Doe@example.com", "full_name": "Jane Doe", "interests": "running", "phone": "+49*******5678"}
	if res.Drop || !reflect.DeepEqual(res.Fields, want) {
		t.Errorf("DE: drop=%v fields=%v", res.Drop, res.Fields)
	}
	wantRules := []string{"jurisdiction.from_record", "regime.listed", "purpose.absent",
		"purpose.granted", "purpose.denied", "category.location.redact", "field.keep.granted",
		"category.contact.phone.mask", "record.forward"}
	if !slices.Equal(res.Rules, wantRules) {
		t.Errorf("DE rules = %v", res.Rules)
	}
	if res := e.Decide(withStaleHealthGrant(in(map[string]string{"health_condition": "asthma"}))); !res.Drop ||
		res.DropRule != "category.special.drop_record" || res.Purposes["health_outreach"].Status != StatusExpired {
		t.Errorf("with health_condition: drop=%v %q", res.Drop, res.DropRule)
	}
	ca := e.Decide(in(map[string]string{"country": "US", "region": "CA"}))
	if ca.Jurisdiction != "US-CA" || ca.Fields["phone"] != "+49 151 12345678" || ca.Fields["city"] != "Berlin" ||
		!slices.Equal(ca.FieldActions["phone"].Purposes, []string{"marketing_sms"}) {
		t.Errorf("US-CA: %s fields=%v", ca.Jurisdiction, ca.Fields)
	}
	if res := e.Decide(withStaleHealthGrant(in(map[string]string{"country": "US", "region": "CA", "health_condition": "asthma"}))); !res.Drop {
		t.Error("US-CA with special data and no valid grant was forwarded")
	}
}
