package consent

import (
	"errors"
	"slices"
	"time"

	"github.com/consentgate/consentgate/internal/keyedmac"
	"github.com/consentgate/consentgate/internal/policy"
)

// Ledger statuses a State may carry.
const (
	StatusGranted   = "granted"
	StatusDenied    = "denied"
	StatusWithdrawn = "withdrawn"
)

// Further statuses a PurposeDecision may report.
const (
	// StatusExpired: a grant older than its validity; counts as absent.
	StatusExpired = "expired"
	// StatusAbsent: no statement (silence).
	StatusAbsent = "absent"
	// StatusOptedOut: blocked by a GPC / do-not-sell signal on the record.
	StatusOptedOut = "opted_out"
	// StatusAllowedOptOut: no refusal in an opt_out regime, so allowed.
	StatusAllowedOptOut = "allowed_opt_out"
)

// Field actions reported in FieldDecision.
const (
	ActionKeep   = "keep"
	ActionRedact = "redact"
	ActionHash   = "hash"
	ActionMask   = "mask"
	ActionDrop   = "drop"
)

// State is the latest ledger statement for one (subject, purpose).
type State struct {
	Status     string // granted | denied | withdrawn
	EntryID    string
	ObtainedAt time.Time
	// ExpiresAt is the entry's own expiry, if it has one; the policy's
	// validity for the purpose applies as well, the earlier one winning.
	ExpiresAt *time.Time
}

// Input is one record as the engine sees it.
type Input struct {
	// Fields maps canonical field → value (already mapped; unmapped fields
	// never arrive).
	Fields map[string]string
	// DefaultJurisdiction is the connector's, e.g. "DE", "US-CA", "EU"; the
	// record's country/region fields replace it entirely.
	DefaultJurisdiction string
	// Consent maps purpose → latest ledger state for this subject, with
	// the record's own checkbox answers already appended.
	Consent map[string]State
	// GPC is a Sec-GPC or do-not-sell signal carried by the record.
	GPC bool
	// Now is the decision time; zero means time.Now().
	Now time.Time
}

// FieldDecision explains what happened to one input field.
type FieldDecision struct {
	Action   string `json:"action"`             // keep | redact | hash | mask | drop
	Category string `json:"category,omitempty"` // "" for a field in no category
	Rule     string `json:"rule"`
	// Purposes are the granted (or allowed) purposes that kept the field
	// in clear; empty for every other action.
	Purposes []string `json:"purposes,omitempty"`
}

// PurposeDecision is the status of one policy purpose for this record.
type PurposeDecision struct {
	Status string `json:"status"`
	// EntryID is the ledger entry behind the status, if any.
	EntryID string `json:"entry_id,omitempty"`
	Rule    string `json:"rule"`
}

// Result is the decision for one record: what may be forwarded and why.
type Result struct {
	Drop bool `json:"drop"`
	// DropRule names why the record was dropped, e.g.
	// "category.special.drop_record" or RuleNoClearField.
	DropRule     string        `json:"drop_rule,omitempty"`
	Jurisdiction string        `json:"jurisdiction"`
	Regime       policy.Regime `json:"regime"`
	// Fields is what may be forwarded: clear values kept, pseudonyms
	// ("h_…") and masks. Empty when Drop.
	Fields map[string]string `json:"fields"`
	// FieldActions has an entry for every input field, also when Drop.
	FieldActions map[string]FieldDecision `json:"field_actions"`
	// Purposes has an entry for every purpose the policy declares.
	Purposes map[string]PurposeDecision `json:"purposes"`
	// Rules lists every rule that fired, once each, in order.
	Rules         []string `json:"rules"`
	PolicyVersion string   `json:"policy_version"`
}

// Engine applies one policy. It holds no state between decisions and is
// safe for concurrent use.
type Engine struct {
	p        *policy.Policy
	hashMAC  *keyedmac.MAC   // under the field-hash key
	purposes []string        // sorted
	gpc      map[string]bool // purposes a GPC signal blocks
	// specialOnly purposes serve only special categories, so an opt-out
	// default must never allow them.
	specialOnly map[string]bool
}

// MinHashKeyLen is the shortest field-hash key New accepts (256 bits).
const MinHashKeyLen = 32

// GPCPurposes are the purposes a Global Privacy Control or do-not-sell
// signal blocks, in every jurisdiction (DESIGN §3).
var GPCPurposes = []string{"profiling", "third_party_sharing"}

// New builds an engine for p. hashKey keys the pseudonyms of hashed
// fields; it must be at least 32 bytes and stay the same for the life of
// the deployment, or CRMs can no longer join on them.
func New(p *policy.Policy, hashKey []byte) (*Engine, error) {
	if p == nil {
		return nil, errors.New("consent engine: policy is nil")
	}
	if len(hashKey) < MinHashKeyLen {
		return nil, errors.New("consent engine: field hash key must be at least 32 bytes")
	}
	e := &Engine{
		p:           p,
		hashMAC:     keyedmac.New(hashKey),
		purposes:    p.PurposeNames(),
		gpc:         map[string]bool{},
		specialOnly: map[string]bool{},
	}
	for _, g := range GPCPurposes {
		e.gpc[g] = true
	}
	ordinary := map[string]bool{}
	for _, c := range p.Categories {
		for _, pu := range c.Purposes {
			if c.Special {
				e.specialOnly[pu] = true
			} else {
				ordinary[pu] = true
			}
		}
	}
	for pu := range ordinary {
		delete(e.specialOnly, pu)
	}
	return e, nil
}

// Policy returns the policy the engine applies.
func (e *Engine) Policy() *policy.Policy { return e.p }

// Decide applies the policy to one record. It is deterministic: the same
// input gives the same result.
func (e *Engine) Decide(in Input) Result {
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	res := Result{
		Fields:        map[string]string{},
		FieldActions:  make(map[string]FieldDecision, len(in.Fields)),
		Purposes:      make(map[string]PurposeDecision, len(e.purposes)),
		PolicyVersion: e.p.Version,
	}
	fired := ruleList{}

	where := e.p.Resolve(in.Fields["country"], in.Fields["region"], in.DefaultJurisdiction)
	res.Jurisdiction, res.Regime = where.Jurisdiction, where.Regime
	fired.add(where.Source, where.Rule)

	for _, name := range e.purposes {
		d := e.purpose(name, in, where.Regime, now)
		res.Purposes[name] = d
		fired.add(d.Rule)
	}

	fields := make([]string, 0, len(in.Fields))
	for f := range in.Fields {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	kept := false
	for _, f := range fields {
		d, out, ok := e.field(f, in.Fields[f], res.Purposes, where.Jurisdiction)
		res.FieldActions[f] = d
		fired.add(d.Rule)
		if ok {
			res.Fields[f] = out
		}
		switch {
		case d.Action == ActionKeep:
			kept = true
		case d.Action == ActionDrop && d.Rule != RuleFieldUnmapped && d.Rule != RuleFieldEmpty && !res.Drop:
			res.Drop, res.DropRule = true, d.Rule
		}
	}
	if !res.Drop && !kept {
		res.Drop, res.DropRule = true, RuleNoClearField
	}
	if res.Drop {
		clear(res.Fields)
		fired.add(RuleRecordDrop)
	} else {
		fired.add(RuleRecordForward)
	}
	res.Rules = fired.list
	return res
}

// purpose decides the status of one purpose for this record.
func (e *Engine) purpose(name string, in Input, regime policy.Regime, now time.Time) PurposeDecision {
	if in.GPC && e.gpc[name] {
		return PurposeDecision{Status: StatusOptedOut, Rule: RuleSignalGPC}
	}
	st, has := in.Consent[name]
	silent := StatusAbsent
	silentRule := RulePurposeAbsent
	if has {
		switch st.Status {
		case StatusGranted:
			if !e.expired(name, st, now) {
				return PurposeDecision{Status: StatusGranted, EntryID: st.EntryID, Rule: RulePurposeGranted}
			}
			silent, silentRule = StatusExpired, RulePurposeExpired
		case StatusDenied:
			return PurposeDecision{Status: StatusDenied, EntryID: st.EntryID, Rule: RulePurposeDenied}
		case StatusWithdrawn:
			return PurposeDecision{Status: StatusWithdrawn, EntryID: st.EntryID, Rule: RulePurposeWithdrawn}
		default:
			// A status this engine does not know is not a grant; treating it as
			// a refusal keeps opt_out regimes from reading it as silence.
			return PurposeDecision{Status: StatusDenied, EntryID: st.EntryID, Rule: RulePurposeUnrecognised}
		}
	}
	// Silence, or a grant that has lapsed (which counts as silence).
	d := PurposeDecision{Status: silent, EntryID: st.EntryID, Rule: silentRule}
	if regime == policy.OptOut {
		if e.specialOnly[name] {
			d.Rule = RulePurposeSpecialNeedsGrant
		} else {
			d.Status, d.Rule = StatusAllowedOptOut, RulePurposeOptOutDefault
		}
	}
	return d
}

func (e *Engine) expired(name string, st State, now time.Time) bool {
	if st.ExpiresAt != nil && !now.Before(*st.ExpiresAt) {
		return true
	}
	if v := e.p.Purposes[name].Validity; v > 0 {
		// A grant whose time is unknown cannot be shown to be within its
		// validity, so it is treated as lapsed.
		return st.ObtainedAt.IsZero() || !now.Before(st.ObtainedAt.Add(v))
	}
	return false
}

// field decides one field; out is the value to forward when ok.
func (e *Engine) field(name, value string, purposes map[string]PurposeDecision, jurisdiction string) (d FieldDecision, out string, ok bool) {
	catName, cat, known := e.p.Category(name)
	if !known {
		return FieldDecision{Action: ActionDrop, Rule: RuleFieldUnmapped}, "", false
	}
	d.Category = catName
	if isBlank(value) {
		d.Action, d.Rule = ActionDrop, RuleFieldEmpty
		return d, "", false
	}
	explicit := false
	for _, p := range cat.Purposes {
		switch purposes[p].Status {
		case StatusGranted:
			d.Purposes = append(d.Purposes, p)
			explicit = true
		case StatusAllowedOptOut:
			if !cat.Special {
				d.Purposes = append(d.Purposes, p)
			}
		}
	}
	if len(d.Purposes) > 0 {
		d.Action, d.Rule = ActionKeep, RuleFieldKeepOptOut
		if explicit {
			d.Rule = RuleFieldKeepGranted
		}
		return d, value, true
	}
	d.Rule = OtherwiseRule(catName, cat.Otherwise)
	switch cat.Otherwise {
	case policy.Hash:
		d.Action = ActionHash
		return d, e.hashField(name, value, jurisdiction), true
	case policy.Mask:
		d.Action = ActionMask
		return d, maskField(name, value, jurisdiction), true
	case policy.Redact:
		d.Action = ActionRedact
	default: // drop_record, and anything a future policy adds: fail closed
		d.Action = ActionDrop
	}
	return d, "", false
}

// OtherwiseRule names the rule of a category's fallback action, e.g.
// "category.contact.email.hash".
func OtherwiseRule(category string, a policy.Action) string {
	return "category." + category + "." + string(a)
}

// ruleList keeps rule names once each, in the order they first fired.
type ruleList struct {
	list []string
}

func (r *ruleList) add(names ...string) {
	for _, n := range names {
		if n != "" && !slices.Contains(r.list, n) {
			r.list = append(r.list, n)
		}
	}
}
