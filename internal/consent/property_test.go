package consent

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/policy"
)

// TestPropertiesOverRandomPolicies generates random policies, records and
// ledgers and checks the guarantees that must hold whatever the policy:
// nothing leaves in clear without a consented purpose (checked against an
// independent reading of the input, not the engine's own purpose table),
// a record with no clear field is dropped, and Decide is deterministic.
func TestPropertiesOverRandomPolicies(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 11))
	const cases = 2000
	for i := range cases {
		src := randomPolicy(rng)
		p, err := policy.Parse(fmt.Sprintf("random-%d.yaml", i), []byte(src))
		if err != nil {
			t.Fatalf("case %d: generated policy rejected: %v\n%s", i, err, src)
		}
		e, err := New(p, hashKey)
		if err != nil {
			t.Fatal(err)
		}
		in := randomInput(rng, p)
		res := e.Decide(in)
		if again := e.Decide(in); !reflect.DeepEqual(res, again) {
			t.Fatalf("case %d: Decide is not deterministic", i)
		}
		if msg := checkProperties(p, in, res); msg != "" {
			t.Fatalf("case %d: %s\npolicy:\n%s\ninput: %+v\nresult: %+v", i, msg, src, in, res)
		}
	}
}

func checkProperties(p *policy.Policy, in Input, res Result) string {
	gpcBlocked := map[string]bool{}
	if in.GPC {
		for _, g := range GPCPurposes {
			gpcBlocked[g] = true
		}
	}
	// Independent reading of whether a purpose may keep a field of a
	// (special or ordinary) category in clear.
	allows := func(purpose string, special bool) bool {
		if gpcBlocked[purpose] {
			return false
		}
		st, has := in.Consent[purpose]
		validGrant := has && st.Status == StatusGranted && !lapsed(p, purpose, st, in.Now)
		if validGrant {
			return true
		}
		silent := !has || st.Status == StatusGranted // absent, or a lapsed grant
		return !special && silent && res.Regime == policy.OptOut
	}

	clear := 0
	for f := range in.Fields {
		if _, ok := res.FieldActions[f]; !ok {
			return fmt.Sprintf("field %q has no FieldAction", f)
		}
	}
	for f, v := range res.Fields {
		raw, ok := in.Fields[f]
		if !ok {
			return fmt.Sprintf("forwarded field %q that was not in the input", f)
		}
		d := res.FieldActions[f]
		_, cat, mapped := p.Category(f)
		if !mapped {
			return fmt.Sprintf("forwarded unmapped field %q", f)
		}
		switch d.Action {
		case ActionKeep:
			clear++
			if v != raw {
				return fmt.Sprintf("kept field %q was altered", f)
			}
			if len(d.Purposes) == 0 {
				return fmt.Sprintf("clear field %q names no purpose", f)
			}
			for _, pu := range d.Purposes {
				if !slices.Contains(cat.Purposes, pu) {
					return fmt.Sprintf("clear field %q names purpose %q its category does not serve", f, pu)
				}
				if !allows(pu, cat.Special) {
					return fmt.Sprintf("clear field %q names purpose %q that the input does not allow", f, pu)
				}
				if s := res.Purposes[pu].Status; s != StatusGranted && s != StatusAllowedOptOut {
					return fmt.Sprintf("clear field %q names purpose %q with status %s", f, pu, s)
				}
			}
		case ActionHash:
			if !strings.HasPrefix(v, "h_") || v == raw {
				return fmt.Sprintf("hashed field %q forwarded as %q", f, v)
			}
		case ActionMask:
			if !strings.Contains(v, "***") || v == raw {
				return fmt.Sprintf("masked field %q forwarded as %q", f, v)
			}
		default:
			return fmt.Sprintf("field %q forwarded with action %s", f, d.Action)
		}
		if d.Action != ActionKeep && cat.Special {
			return fmt.Sprintf("special field %q forwarded as %s", f, d.Action)
		}
	}
	// A field that could have been kept must have been: the filter must not
	// be stricter than the policy either.
	for f, d := range res.FieldActions {
		_, cat, mapped := p.Category(f)
		if !mapped || strings.TrimSpace(in.Fields[f]) == "" {
			continue
		}
		canKeep := slices.ContainsFunc(cat.Purposes, func(pu string) bool { return allows(pu, cat.Special) })
		if canKeep != (d.Action == ActionKeep) {
			return fmt.Sprintf("field %q: action %s, but the input allows keeping it: %v", f, d.Action, canKeep)
		}
		if !canKeep && cat.Otherwise == policy.DropRecord && !res.Drop {
			return fmt.Sprintf("field %q triggers drop_record but the record was forwarded", f)
		}
	}
	if res.Drop && len(res.Fields) != 0 {
		return "dropped record still has fields"
	}
	if !res.Drop && clear == 0 {
		return "record with no clear field was not dropped"
	}
	if res.Drop && res.DropRule == "" {
		return "dropped record names no rule"
	}
	if len(res.Purposes) != len(p.Purposes) {
		return "Purposes does not cover every policy purpose"
	}
	return ""
}

func lapsed(p *policy.Policy, purpose string, st State, now time.Time) bool {
	if st.ExpiresAt != nil && !st.ExpiresAt.After(now) {
		return true
	}
	v := p.Purposes[purpose].Validity
	return v > 0 && (st.ObtainedAt.IsZero() || !st.ObtainedAt.Add(v).After(now))
}

var (
	purposePool = []string{"marketing_email", "sales_contact", "analytics", "profiling", "third_party_sharing", "health_outreach"}
	fieldPool   = []string{"email", "phone", "full_name", "city", "country", "region", "interests", "handle", "platform_user_id", "message_text", "health_condition", "religion"}
	codePool    = []string{"EU", "EEA", "GB", "DE", "US-CA", "US-NY", "BR", "JP"}
	actionPool  = []string{"redact", "hash", "mask", "drop_record"}
)

func randomPolicy(rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString("version: r1\npurposes:\n")
	purposes := pick(rng, purposePool, 1+rng.IntN(len(purposePool)))
	for _, p := range purposes {
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "  %s: {validity: %dd}\n", p, 1+rng.IntN(60))
		} else {
			fmt.Fprintf(&b, "  %s: {}\n", p)
		}
	}
	b.WriteString("categories:\n")
	fields := pick(rng, fieldPool, 1+rng.IntN(len(fieldPool)))
	ncat := 1 + rng.IntN(min(5, len(fields)))
	for c := range ncat {
		var own []string
		for i := c; i < len(fields); i += ncat {
			own = append(own, fields[i])
		}
		name := fmt.Sprintf("cat%d", c)
		action := actionPool[rng.IntN(len(actionPool))]
		if c == 0 && rng.IntN(3) == 0 {
			name = "special"
			action = []string{"redact", "drop_record"}[rng.IntN(2)]
		}
		fmt.Fprintf(&b, "  %s: {fields: [%s], purposes: [%s], otherwise: %s}\n",
			name, strings.Join(own, ", "), strings.Join(pick(rng, purposes, rng.IntN(len(purposes)+1)), ", "), action)
	}
	codes := pick(rng, codePool, rng.IntN(len(codePool)+1))
	cut := rng.IntN(len(codes) + 1)
	fmt.Fprintf(&b, "jurisdictions: {default: %s, opt_in: [%s], opt_out: [%s]}\n",
		[]string{"opt_in", "opt_out"}[rng.IntN(2)], strings.Join(codes[:cut], ", "), strings.Join(codes[cut:], ", "))
	return b.String()
}

func randomInput(rng *rand.Rand, p *policy.Policy) Input {
	in := Input{
		Fields:              map[string]string{},
		DefaultJurisdiction: []string{"", "DE", "US-CA", "US", "EU", "JP", "Mars"}[rng.IntN(7)],
		Consent:             map[string]State{},
		GPC:                 rng.IntN(4) == 0,
		Now:                 now,
	}
	values := map[string][]string{
		"email":   {"Jane@Example.com", "not-an-email", " "},
		"phone":   {"+4915112345678", "(415) 555-4567", "n/a"},
		"country": {"DE", "us", "JP", "Germany", ""},
		"region":  {"CA", "US-NY", "TX", ""},
	}
	for _, f := range append(pick(rng, fieldPool, rng.IntN(len(fieldPool)+1)), pick(rng, []string{"shoe_size", "ip"}, rng.IntN(2))...) {
		if vs, ok := values[f]; ok {
			in.Fields[f] = vs[rng.IntN(len(vs))]
		} else {
			in.Fields[f] = fmt.Sprintf("value-%d", rng.IntN(1000))
		}
	}
	for _, pu := range p.PurposeNames() {
		if rng.IntN(4) == 0 {
			continue // silence
		}
		st := State{
			Status:     []string{StatusGranted, StatusGranted, StatusDenied, StatusWithdrawn, "bogus"}[rng.IntN(5)],
			EntryID:    fmt.Sprintf("e-%d", rng.IntN(1e6)),
			ObtainedAt: now.Add(-time.Duration(rng.IntN(90*24)) * time.Hour),
		}
		if rng.IntN(10) == 0 {
			st.ObtainedAt = time.Time{}
		}
		if rng.IntN(3) == 0 {
			exp := now.Add(time.Duration(rng.IntN(48)-24) * time.Hour)
			st.ExpiresAt = &exp
		}
		in.Consent[pu] = st
	}
	return in
}

// pick returns n distinct elements of pool in random order.
func pick(rng *rand.Rand, pool []string, n int) []string {
	out := slices.Clone(pool)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:n]
}

func BenchmarkDecide(b *testing.B) {
	e := engine(b, "../../configs/policy.yaml")
	in := Input{
		Fields: map[string]string{
			"email": "jane.doe@example.com", "phone": "+4915112345678", "full_name": "Jane Doe",
			"company": "Acme", "city": "Berlin", "country": "DE", "interests": "running",
			"platform_user_id": "17841400000000000", "message_text": "hello",
		},
		DefaultJurisdiction: "EU",
		Consent: map[string]State{
			"marketing_email": granted("e-1", 24*time.Hour),
			"analytics":       {Status: StatusDenied, EntryID: "e-2", ObtainedAt: now},
		},
		Now: now,
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Decide(in)
	}
}
