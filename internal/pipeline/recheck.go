package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/policy"
	"github.com/consentgate/consentgate/internal/store"
)

// Rules a relay recheck writes into decisions.
const (
	// RuleRecheckDropped: consent changed while the record waited in the
	// outbox and nothing may be kept in clear any more.
	RuleRecheckDropped = "relay.recheck.consent_changed"
	// RuleRecheckRewritten: consent changed while the record waited and
	// some fields were redacted, hashed or masked before publishing.
	RuleRecheckRewritten = "relay.recheck.fields_changed"
)

// recheck is the verdict on one outbox message.
type recheck struct {
	drop     bool
	value    []byte // rewritten value; nil = publish as stored
	decision *store.Decision
}

// recheckOutbox runs every record in msgs through the engine again with the
// subject's current ledger, so a withdrawal that arrived after the webhook
// was answered but before the record left wins. Only the fields the record
// kept in clear are decided again: hashed and masked values stay as they
// are (they are already the policy's fallback), and a field can only lose
// clarity here, never regain it. Messages that are not consent-filtered
// records (deletions, anything without a receipt) pass unchanged.
func (p *Pipeline) recheckOutbox(ctx context.Context, msgs []store.OutboxMessage) ([]recheck, error) {
	out := make([]recheck, len(msgs))
	values := make([]*Value, len(msgs))
	subjects := map[string]bool{}
	for i, m := range msgs {
		var v Value
		if err := json.Unmarshal(m.Value, &v); err != nil || v.Consent == nil || v.Subject.Key == "" {
			continue
		}
		values[i] = &v
		subjects[v.Subject.Key] = true
		for _, k := range m.LinkedKeys {
			subjects[k] = true
		}
	}
	if len(subjects) == 0 {
		return out, nil
	}
	ledger, err := p.opts.Store.CurrentConsent(ctx, slices.Sorted(maps.Keys(subjects)))
	if err != nil {
		return nil, fmt.Errorf("read current consent of %d subjects: %w", len(subjects), err)
	}
	now := p.opts.Now()
	for i, v := range values {
		if v != nil {
			// Refusals under the record's other identifiers count, as
			// they did when it was first filtered.
			w := prepared{subject: v.Subject.Key, linked: msgs[i].LinkedKeys}
			out[i] = p.recheckOne(v, w.ledger(ledger, nil), now)
		}
	}
	return out, nil
}

func (p *Pipeline) recheckOne(v *Value, ledger map[string]store.ConsentEntry, now time.Time) recheck {
	clear := map[string]string{}
	for f, fr := range v.Consent.Fields {
		if fr.Action == consent.ActionKeep {
			if val, ok := v.Fields[f]; ok {
				clear[f] = val
			}
		}
	}
	states := make(map[string]consent.State, len(ledger))
	for purpose, e := range ledger {
		states[purpose] = consent.State{Status: e.Status, EntryID: e.ID, ObtainedAt: e.ObtainedAt, ExpiresAt: e.ExpiresAt}
	}
	res := p.opts.Engine.Decide(consent.Input{
		Fields: clear, DefaultJurisdiction: recheckJurisdiction(v.Subject), Consent: states, GPC: v.Consent.GPC, Now: now,
	})

	changed := res.Drop
	for f := range clear {
		if res.FieldActions[f].Action != consent.ActionKeep {
			changed = true
		}
	}
	if !changed {
		return recheck{}
	}
	d := store.Decision{
		ID: store.NewID(), At: now.UTC(), Connector: v.Source.Connector, EventID: v.Source.EventID,
		SubjectKey: v.Subject.Key, PolicyVersion: res.PolicyVersion, Fields: map[string]string{},
	}
	for f, fa := range res.FieldActions {
		d.Fields[f] = fa.Action
	}
	if res.Drop {
		d.Outcome = OutcomeDropped
		d.Rules = append([]string{RuleRecheckDropped}, res.Rules...)
		return recheck{drop: true, decision: &d}
	}

	nv := *v
	nv.Fields = map[string]string{}
	rc := *v.Consent
	rc.Fields = maps.Clone(v.Consent.Fields)
	rc.Purposes = map[string]PurposeReceipt{}
	rc.PolicyVersion = res.PolicyVersion
	for f, val := range v.Fields {
		if _, rechecked := clear[f]; !rechecked {
			nv.Fields[f] = val // hashed or masked before: unchanged
		}
	}
	for f := range clear {
		fa := res.FieldActions[f]
		rc.Fields[f] = FieldReceipt{Action: fa.Action, Rule: fa.Rule, Category: fa.Category, Purposes: fa.Purposes}
		if val, ok := res.Fields[f]; ok {
			nv.Fields[f] = val
		}
		d.Fields[f] = fa.Action
	}
	for name, pd := range res.Purposes {
		rc.Purposes[name] = PurposeReceipt{Status: pd.Status, EntryID: pd.EntryID, Rule: pd.Rule}
	}
	nv.Consent = &rc
	body, _ := nv.marshalJSON() // errs only on a time RFC 3339 cannot hold, leaving body nil as json.Marshal does
	d.Outcome, d.Rules = OutcomeForwarded, append([]string{RuleRecheckRewritten}, res.Rules...)
	return recheck{value: body, decision: &d}
}

// recheckJurisdiction reproduces the jurisdiction the record was decided
// under without its redacted location fields. A record whose jurisdiction
// was unknown keeps the regime it had: the policy default when nothing was
// known, otherwise the strictest.
func recheckJurisdiction(s Subject) string {
	if s.Jurisdiction != policy.Unknown {
		return s.Jurisdiction
	}
	if s.Regime == string(policy.OptIn) {
		return policy.Unknown // not a code: resolves to opt_in
	}
	return ""
}
