package policy

import (
	"slices"
	"strings"
	"time"
)

// Action is what happens to a field when none of its category's purposes
// is consented.
type Action string

const (
	// Redact removes the field from the forwarded record.
	Redact Action = "redact"
	// Hash replaces the value by a keyed HMAC-SHA256 pseudonym.
	Hash Action = "hash"
	// Mask keeps a hint of the value (first letter and domain of an
	// e-mail, country code and last digits of a phone number).
	Mask Action = "mask"
	// DropRecord drops the whole record.
	DropRecord Action = "drop_record"
)

// Actions lists every action, in the order documented.
var Actions = []Action{Redact, Hash, Mask, DropRecord}

// Regime is how a jurisdiction treats silence.
type Regime string

const (
	// OptIn needs an explicit grant (GDPR, UK GDPR).
	OptIn Regime = "opt_in"
	// OptOut allows until the subject denies or withdraws (CCPA/CPRA).
	OptOut Regime = "opt_out"
)

// Purpose is a reason to process personal data, named in the policy.
type Purpose struct {
	Name        string
	Description string
	// Validity is how long a grant lasts after it was obtained; zero means
	// it does not expire by policy (a ledger entry may still carry its own
	// expiry).
	Validity time.Duration
}

// Category groups canonical fields that serve the same purposes.
type Category struct {
	Name string
	// Fields are canonical field names, each in exactly one category.
	Fields []string
	// Purposes are the purposes a field of this category may serve; a
	// field is kept in clear only if one of them is consented.
	Purposes []string
	// Otherwise is applied when none of Purposes is consented.
	Otherwise Action
	// Special marks special-category data (health, religion, …): kept only
	// on an explicit grant, never by an opt-out default. A category is
	// special when it is named "special" or "special.<anything>".
	Special bool
}

// Policy is a validated policy file. Treat it as read-only: the engine and
// the gateway share one value across goroutines.
type Policy struct {
	// File is the name the policy was loaded from, for messages.
	File string
	// Version is echoed in every consent receipt.
	Version    string
	Purposes   map[string]Purpose
	Categories map[string]Category
	// Default is the regime of countries not listed.
	Default Regime
	// Listed maps each listed code, as written (country "DE", region
	// "US-CA" or group "EU"), to its regime.
	Listed map[string]Regime

	byField  map[string]string // field → category name
	byCode   map[string]Regime // listed codes with groups expanded to countries
	warnings []string
}

// Category returns the category a canonical field belongs to.
func (p *Policy) Category(field string) (name string, c Category, ok bool) {
	name, ok = p.byField[field]
	if !ok {
		return "", Category{}, false
	}
	return name, p.Categories[name], true
}

// Warnings are things that are allowed but probably unintended (a purpose
// no category serves, a code listed twice), formatted like Problems.
func (p *Policy) Warnings() []string { return slices.Clone(p.warnings) }

// PurposeNames returns the declared purposes, sorted.
func (p *Policy) PurposeNames() []string { return sortedKeys(p.Purposes) }

// CategoryNames returns the declared categories, sorted.
func (p *Policy) CategoryNames() []string { return sortedKeys(p.Categories) }

// Fields returns every canonical field the policy names, sorted.
func (p *Policy) Fields() []string { return sortedKeys(p.byField) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func isSpecial(category string) bool {
	return category == "special" || strings.HasPrefix(category, "special.")
}
