package pipeline

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/store"
)

// Explanation says what the pipeline would do with a payload, field by
// field, and why. It is built without forwarding or storing anything.
type Explanation struct {
	Connector     string              `json:"connector"`
	PolicyVersion string              `json:"policy_version"`
	Records       []RecordExplanation `json:"records"`
	Jobs          int                 `json:"fetch_jobs"`
	Ignored       int                 `json:"ignored"`
	// Rejected are the items the delivery would refuse on their own.
	Rejected []ingest.Rejection `json:"rejected,omitempty"`
}

type RecordExplanation struct {
	EventID      string                    `json:"event_id"`
	Kind         string                    `json:"kind"`
	Type         string                    `json:"type"`
	SubjectKey   string                    `json:"subject_key"`
	KeySource    string                    `json:"key_source"`
	Jurisdiction string                    `json:"jurisdiction"`
	Regime       string                    `json:"regime"`
	GPC          bool                      `json:"gpc"`
	Outcome      string                    `json:"outcome"`
	DropRule     string                    `json:"drop_rule,omitempty"`
	Topic        string                    `json:"topic,omitempty"`
	Fields       []FieldExplanation        `json:"fields"`
	Purposes     map[string]PurposeReceipt `json:"purposes"`
	// Consent lists what the payload's checkboxes say, per purpose.
	Consent map[string]string `json:"payload_consent,omitempty"`
	// Output is what would be forwarded (values kept, hashed or masked).
	Output map[string]string `json:"output,omitempty"`
}

type FieldExplanation struct {
	Platform  string   `json:"platform_field"`
	Canonical string   `json:"canonical,omitempty"`
	Category  string   `json:"category,omitempty"`
	Action    string   `json:"action"`
	Rule      string   `json:"rule"`
	Purposes  []string `json:"purposes,omitempty"`
}

// Explain parses body as connector c would (without checking the
// signature) and decides each record against the payload's consent and,
// when useLedger is set, the subject's ledger (read-only).
func (p *Pipeline) Explain(ctx context.Context, c *config.Connector, req *ingest.Request, useLedger bool) (Explanation, error) {
	batch, err := c.Impl.Parse(req)
	if err != nil {
		return Explanation{}, err
	}
	ex := Explanation{Connector: c.ID, PolicyVersion: p.opts.PolicyVersion, Jobs: len(batch.Jobs), Ignored: batch.Ignored, Rejected: batch.Rejected}
	now := p.opts.Now()
	ev := evidence{requestID: req.RequestID, receivedAt: now, gpc: req.Header.Get("Sec-GPC") == "1"}
	for _, r := range batch.Records {
		w := p.prepare(c, r, store.EventKey{Connector: c.ID, EventID: r.EventID}, ev, "", now)
		var cur map[string]map[string]store.ConsentEntry
		if useLedger && p.opts.Store != nil && r.Kind != ingest.KindDeletion {
			var err error
			if cur, err = p.opts.Store.CurrentConsent(ctx, append([]string{w.subject}, w.linked...)); err != nil {
				return Explanation{}, fmt.Errorf("read consent ledger: %w", err)
			}
		}
		payload := map[string]string{}
		for _, e := range w.entries {
			payload[e.Purpose] = e.Status
		}
		// The payload's statements are not stored here; they are merged
		// exactly as the ledger would merge them on a real delivery.
		p.decide(c, w, w.ledger(cur, w.entries), ev, now)
		re := RecordExplanation{
			EventID: r.EventID, Kind: string(r.Kind), Type: r.Type, SubjectKey: w.subject, KeySource: w.keySrc,
			Jurisdiction: w.result.Jurisdiction, Regime: string(w.result.Regime), GPC: w.gpc,
			Outcome: w.decision.Outcome, DropRule: w.result.DropRule, Topic: w.decision.Topic,
			Purposes: map[string]PurposeReceipt{}, Consent: payload,
		}
		if !w.result.Drop {
			re.Output = w.result.Fields
		}
		for name, pd := range w.result.Purposes {
			re.Purposes[name] = PurposeReceipt{Status: pd.Status, EntryID: pd.EntryID, Rule: pd.Rule}
		}
		re.Fields = explainFields(c, r, w.result)
		ex.Records = append(ex.Records, re)
	}
	return ex, nil
}

func explainFields(c *config.Connector, r ingest.Record, res consent.Result) []FieldExplanation {
	names := make([]string, 0, len(r.Fields))
	for k := range r.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	used := map[string]bool{}
	var out []FieldExplanation
	for _, raw := range names {
		canon, ok := c.Mapping[raw]
		if !ok || canon == "" {
			out = append(out, FieldExplanation{Platform: raw, Action: "drop", Rule: "field.unmapped"})
			continue
		}
		fd, decided := res.FieldActions[canon]
		if !decided || used[canon] {
			out = append(out, FieldExplanation{Platform: raw, Canonical: canon, Action: "drop", Rule: "field.shadowed"})
			continue
		}
		used[canon] = true
		out = append(out, FieldExplanation{Platform: raw, Canonical: canon, Category: fd.Category, Action: fd.Action, Rule: fd.Rule, Purposes: fd.Purposes})
	}
	return out
}

// NewExplainer is a pipeline without store or Kafka, for offline
// explanations (consentgate policy explain).
func NewExplainer(o Options) *Pipeline {
	o.Store, o.Producer = nil, nil
	if o.Now == nil {
		o.Now = func() time.Time { return time.Now().UTC() }
	}
	return New(o)
}
