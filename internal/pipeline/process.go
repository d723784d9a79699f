package pipeline

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/store"
)

// evidence is what a delivery contributes to ledger entries.
type evidence struct {
	requestID  string
	receivedAt time.Time
	payload    []byte // hashed, never stored
	payloadSum string // the hash itself, when the payload is not at hand (fetch jobs)
	gpc        bool   // Sec-GPC header
}

type processed struct {
	forwarded, queued, dropped, duplicates int
}

// prepared is one claimed record on its way out.
type prepared struct {
	rec      ingest.Record
	key      store.EventKey
	fields   map[string]string // canonical
	subject  string
	keySrc   string
	linked   []string // subject keys of the record's other identifiers
	gpc      bool
	entries  []store.ConsentEntry
	result   consent.Result
	msg      *kafka.Message
	decision store.Decision
}

// process de-duplicates, resolves consent, filters and forwards records.
// It returns an error only when nothing could be kept (claims released).
func (p *Pipeline) process(ctx context.Context, c *config.Connector, recs []ingest.Record, ev evidence) (processed, error) {
	var res processed
	st := p.opts.Store
	now := p.opts.Now()

	payloadSum := ev.payloadSum
	if len(ev.payload) > 0 {
		s := sha256.Sum256(ev.payload)
		payloadSum = hex.EncodeToString(s[:])
	}

	// Everything a record needs before its filter runs is one store call:
	// the claim, the payload's consent (evidence: it enters the ledger
	// before the filter runs, so the filter sees it exactly as any later
	// reader will) and the subject's current consent. The store writes and
	// reads only for the claims it grants.
	all := make([]*prepared, len(recs))
	begin := store.Begin{
		Keys: make([]store.EventKey, len(recs)), Now: now, Lease: p.opts.Lease,
		Entries: make([][]store.ConsentEntry, len(recs)), Subjects: make([]string, len(recs)),
		Linked: make([][]string, len(recs)),
	}
	for i, r := range recs {
		begin.Keys[i] = store.EventKey{Connector: c.ID, EventID: r.EventID}
		all[i] = p.prepare(c, r, begin.Keys[i], ev, payloadSum, now)
		if !r.Test {
			// A platform's test lead is no one's statement: its
			// checkboxes decide its own record only (see below) and
			// never enter the ledger or the consent topic.
			begin.Entries[i] = all[i].entries
		}
		if r.Kind != ingest.KindDeletion {
			begin.Subjects[i] = all[i].subject
			begin.Linked[i] = all[i].linked
		}
	}
	// From before the claim until the answer, an erasure of one of these
	// subjects waits for this delivery, and one already running holds it
	// back until it is done (see flights).
	var subjects []string
	for i := range begin.Keys {
		subjects = append(subjects, begin.ReadSubjects(i)...)
	}
	end, err := p.flights.start(ctx, subjects)
	if err != nil {
		return res, fmt.Errorf("wait for an erasure of a subject of the delivery: %w", err)
	}
	defer end()

	begun, err := st.BeginEvents(ctx, begin)
	if err != nil {
		return res, fmt.Errorf("claim %d events and record their consent: %w", len(recs), err)
	}

	var (
		work    []*prepared
		lost    []store.EventKey
		entries []store.ConsentEntry
	)
	for i, w := range all {
		if !begun.Won[i] {
			res.duplicates++
			lost = append(lost, w.key)
			p.opts.Metrics.records.WithLabelValues(c.ID, "duplicate").Inc()
			continue
		}
		work = append(work, w)
		if !w.rec.Test {
			for _, e := range w.entries {
				// A statement an earlier attempt recorded is published as
				// the ledger holds it (that attempt's evidence), when the
				// read returned it.
				if held, ok := begun.Current[e.SubjectKey][e.Purpose]; ok && held.ID == e.ID {
					e = held
				}
				entries = append(entries, e)
			}
		}
	}
	if len(work) == 0 {
		return res, p.awaitInFlight(ctx, lost)
	}
	claimed := make([]store.EventKey, len(work))
	for i, w := range work {
		claimed[i] = w.key
	}
	release := func(cause error) error {
		if rerr := st.ReleaseEvents(context.WithoutCancel(ctx), claimed); rerr != nil {
			p.opts.Log.Error("release claims", "connector", c.ID, "err", rerr)
		}
		return cause
	}
	current := begun.Current

	var msgs []kafka.Message
	decisions := make([]store.Decision, 0, len(work))
	for _, w := range work {
		var unstored []store.ConsentEntry
		if w.rec.Test {
			unstored = w.entries
		}
		p.decide(c, w, w.ledger(current, unstored), ev, now)
		if w.msg != nil {
			msgs = append(msgs, *w.msg)
		}
		decisions = append(decisions, w.decision)
	}
	// Consent events travel with the records: one produce call and the
	// same outbox fallback, so statements and the records they justify
	// become durable together.
	msgs = append(msgs, p.ConsentMessages(entries)...)

	// The audit lines and the records go out side by side: both must be
	// durable before the answer, and neither needs the other, so the store
	// writes the decisions while the producer waits for its acknowledgement
	// instead of after it. The claims stay pending until both are done.
	queued, audited := false, false
	if len(msgs) > 0 {
		var auditErr error
		var audit sync.WaitGroup
		audit.Go(func() {
			done := p.marks.take() // earlier deliveries' marks ride along
			auditErr = st.CompleteEvents(context.WithoutCancel(ctx), store.Completion{Decisions: decisions, Done: done})
			if auditErr != nil {
				p.marks.add(done)
			}
		})
		pctx, cancel := context.WithTimeout(ctx, p.opts.KafkaTimeout)
		err := p.opts.Producer.Produce(pctx, msgs...)
		cancel()
		audit.Wait()
		if err != nil {
			p.opts.Log.Warn("kafka did not take the records in time; using the outbox", "connector", c.ID, "records", len(msgs), "err", err)
			queued = true
		}
		if auditErr != nil {
			p.opts.Log.Warn("record decisions beside the kafka produce; retrying with the completion", "connector", c.ID, "records", len(decisions), "err", auditErr)
		}
		audited = auditErr == nil
	}
	comp := store.Completion{Done: claimed, Decisions: decisions}
	switch {
	case queued:
		// Stored again with the outcome queued: a decision stored again
		// replaces the first one's outcome.
		comp.Decisions = slices.Clone(decisions)
		// msgs begins with the records, in work's order: each keeps its
		// other identifiers' keys for the relay's recheck.
		var linked [][]string
		for _, w := range work {
			if w.msg != nil {
				linked = append(linked, w.linked)
			}
		}
		for i, m := range msgs {
			o := toOutbox(m, now)
			if i < len(linked) {
				o.LinkedKeys = linked[i]
			}
			comp.Outbox = append(comp.Outbox, o)
		}
		for i := range comp.Decisions {
			if comp.Decisions[i].Outcome == OutcomeForwarded || comp.Decisions[i].Outcome == OutcomeTest {
				comp.Decisions[i].Outcome = OutcomeQueued
			}
		}
		if err := st.CompleteEvents(context.WithoutCancel(ctx), comp); err != nil {
			if audited {
				p.unaudit(ctx, c, decisions)
			}
			return res, release(fmt.Errorf("kafka unavailable and outbox write failed: %w", err))
		}
	case audited:
		// Kafka has the records and the store their decisions: the answer
		// need not wait for the claims to be marked done (see marks).
		p.marks.add(claimed)
	default:
		if err := st.CompleteEvents(context.WithoutCancel(ctx), comp); err != nil {
			// Kafka has the records (or none were to be sent): the answer
			// is 200. The pending claims expire after the lease, so a
			// platform retry may forward a second copy — at-least-once,
			// with a stable CloudEvents id.
			p.opts.Log.Error("complete events after kafka ack", "connector", c.ID, "err", err)
		}
	}
	for _, d := range comp.Decisions {
		switch d.Outcome {
		case OutcomeForwarded, OutcomeTest:
			res.forwarded++
		case OutcomeQueued:
			res.queued++
		case OutcomeDropped:
			res.dropped++
		}
		p.opts.Metrics.records.WithLabelValues(c.ID, d.Outcome).Inc()
		if d.Outcome == OutcomeDropped {
			p.opts.Log.Info("record dropped", "connector", c.ID, "event_ref", EventRef(d.EventID), "request_id", d.RequestID, "rules", d.Rules)
		}
	}
	for _, w := range work {
		p.opts.Metrics.observe(c.ID, w.result)
	}
	return res, p.awaitInFlight(ctx, lost)
}

// EventRef names an event in log lines: the first 12 hex digits of the
// SHA-256 of its platform event id. The id itself is payload text (the
// generic connector takes it from the body) and may be personal data; the
// decision log keeps it, so an operator finds the line from a decision by
// hashing its event_id.
func EventRef(eventID string) string {
	s := sha256.Sum256([]byte(eventID))
	return hex.EncodeToString(s[:6])
}

// unaudit stores decisions again as failed: they were recorded beside a
// produce that did not succeed, and the delivery is answered with an error,
// so the platform's retry makes the decisions that count. Best effort: the
// store has just failed once.
func (p *Pipeline) unaudit(ctx context.Context, c *config.Connector, decisions []store.Decision) {
	failed := slices.Clone(decisions)
	for i := range failed {
		failed[i].Outcome, failed[i].Topic = OutcomeFailed, ""
	}
	if err := p.opts.Store.CompleteEvents(context.WithoutCancel(ctx), store.Completion{Decisions: failed}); err != nil {
		p.opts.Log.Error("mark decisions of an undelivered request failed", "connector", c.ID, "records", len(failed), "err", err)
	}
}

// Drain marks the claims of answered deliveries done. Call it after the
// HTTP server and the workers stopped, before the store closes.
func (p *Pipeline) Drain() { p.marks.drain() }

// errInFlight: a duplicate whose first delivery is not durable yet.
var errInFlight = errors.New("an earlier delivery of the same event is still being processed; retry shortly")

// awaitInFlight makes sure a lost claim is a real duplicate before the
// platform is told 200: a claim still pending belongs to a delivery in
// flight (here or on another instance) or to a process that died, and if
// that delivery fails, a 200 here would lose the record for good. It waits
// a little for the first delivery to finish, then asks for a retry.
func (p *Pipeline) awaitInFlight(ctx context.Context, lost []store.EventKey) error {
	if len(lost) == 0 {
		return nil
	}
	deadline := time.Now().Add(min(p.opts.KafkaTimeout+2*time.Second, 10*time.Second))
	wait := 10 * time.Millisecond
	for {
		pending, err := p.opts.Store.PendingEvents(ctx, lost)
		if err != nil {
			return fmt.Errorf("check %d duplicate events: %w", len(lost), err)
		}
		var still []store.EventKey
		for i, k := range lost {
			if pending[i] {
				still = append(still, k)
			}
		}
		if len(still) == 0 {
			return nil
		}
		if time.Now().Add(wait).After(deadline) {
			return errInFlight
		}
		select {
		case <-ctx.Done():
			return errInFlight
		case <-time.After(wait):
		}
		lost, wait = still, min(wait*2, 250*time.Millisecond)
	}
}

// Decision outcomes.
const (
	OutcomeForwarded = "forwarded"
	OutcomeDropped   = "dropped"
	OutcomeQueued    = "queued"
	OutcomeTest      = "test"
	// OutcomeFailed: decided, but neither Kafka nor the outbox took the
	// record; the delivery was answered with an error (the platform retries).
	OutcomeFailed = "failed"
)

// prepare maps fields, keys the subject and turns checkbox answers into
// ledger entries.
func (p *Pipeline) prepare(c *config.Connector, r ingest.Record, key store.EventKey, ev evidence, payloadSum string, now time.Time) *prepared {
	w := &prepared{rec: r, key: key, fields: mapFields(c.Mapping, r.Fields)}
	w.gpc = ev.gpc || r.GPC || (c.GPCField != "" && truthy(r.Fields[c.GPCField]) == answerYes)
	w.subject, w.keySrc, w.linked = p.opts.Keyer.AllForFields(w.fields, string(r.Kind), userNamespace(c), phoneRegion(w.fields, c.DefaultJurisdiction))
	if w.subject == "" {
		// No identifier at all: key by the event, so the record still has
		// a stable, identifier-free key.
		w.subject, w.keySrc = p.opts.Keyer.Hash("event:"+c.ID+":"+r.EventID), "event"
	}
	if r.Kind == ingest.KindDeletion {
		return w
	}
	// A statement is never dated later than it reached us (beyond clock
	// skew): a payload claiming a submission in 2999 would otherwise
	// outrank every withdrawal recorded until then.
	obtained := r.OccurredAt
	if obtained.IsZero() || obtained.After(ev.receivedAt.Add(maxClockSkew)) {
		obtained = ev.receivedAt
	}
	for _, cb := range c.Checkboxes {
		var status string
		if v, ok := r.Checkboxes[cb.Key]; ok {
			status = grantOrDeny(v)
		} else if s, ok := r.Fields[cb.Key]; ok {
			switch truthy(s) {
			case answerYes:
				status = store.StatusGranted
			case answerNo:
				status = store.StatusDenied
			}
		}
		if status == "" {
			continue // silence is neither consent nor denial
		}
		e := store.ConsentEntry{
			// The id is the statement's, not the attempt's: a delivery
			// processed again (after a 503, or a crash before the answer)
			// finds its statements recorded and publishes them under the
			// same ids, so the ledger and the consent topic keep one each.
			// The answer and the payload's time are part of it: a
			// statement dated by its arrival (the payload gives no time)
			// is a new one on every attempt, so one sent again after the
			// dedupe window is recorded again rather than silently
			// skipped. The payload's own time, not the clamped one, so a
			// future-dated payload's retries keep one id.
			ID: p.opts.Keyer.StableID("statement", c.ID, r.EventID, cb.Key, cb.Purpose, w.subject,
				status, cmp.Or(r.OccurredAt, obtained).UTC().Format(time.RFC3339Nano)),
			SubjectKey: w.subject, Purpose: cb.Purpose, Status: status,
			Method: store.MethodFormCheckbox, Platform: c.Platform, Connector: c.ID, Form: r.Form,
			CheckboxKey: cb.Key, ObtainedAt: obtained.UTC(), RecordedAt: now.UTC(),
			PayloadSHA256: payloadSum, RequestID: ev.requestID,
		}
		if cb.Notice != nil {
			e.NoticeID, e.NoticeVersion = cb.Notice.ID, cb.Notice.Version
		}
		w.entries = append(w.entries, e)
	}
	// Two checkboxes of one form may serve the same purpose; their
	// statements share a time, so the ledger's last-written rule decides
	// between them. Writing grants first lets a refusal made at the same
	// moment win, whatever the order of the connector's checkbox list.
	slices.SortStableFunc(w.entries, func(a, b store.ConsentEntry) int {
		return cmp.Compare(statusRank(a.Status), statusRank(b.Status))
	})
	return w
}

// withStatements is ledger (not changed) with es applied as the ledger
// would: per purpose the later statement wins, and of two at the same
// time the one written last.
func withStatements(ledger map[string]store.ConsentEntry, es []store.ConsentEntry) map[string]store.ConsentEntry {
	out := maps.Clone(ledger)
	if out == nil {
		out = map[string]store.ConsentEntry{}
	}
	for _, e := range es {
		if old, ok := out[e.Purpose]; !ok || !old.ObtainedAt.After(e.ObtainedAt) {
			out[e.Purpose] = e
		}
	}
	return out
}

// ledger is what the record is filtered by: its subject's current consent
// in current, with the record's statements the store does not hold
// (unstored: a test lead's, a dry run's) merged in as the ledger would
// merge them, and then the refusals of its other identifiers.
func (w *prepared) ledger(current map[string]map[string]store.ConsentEntry, unstored []store.ConsentEntry) map[string]store.ConsentEntry {
	own := current[w.subject]
	if len(unstored) > 0 {
		own = withStatements(own, unstored)
	}
	return withLinkedRefusals(own, w.linked, current)
}

// withLinkedRefusals is own, a subject's current consent, where a refusal
// (denied, withdrawn) recorded under one of the record's other identifiers
// replaces an older or equally old statement, or the absence of one. A withdrawal recorded by phone thus
// reaches a lead keyed by its e-mail that carries the same phone. Grants
// do not travel: a number or account typed into someone else's form must
// not release that person's data on the strength of another's consent.
func withLinkedRefusals(own map[string]store.ConsentEntry, linked []string, current map[string]map[string]store.ConsentEntry) map[string]store.ConsentEntry {
	out, copied := own, false
	for _, k := range linked {
		for purpose, e := range current[k] {
			if e.Status == store.StatusGranted {
				continue
			}
			if old, ok := out[purpose]; ok && (old.ObtainedAt.After(e.ObtainedAt) ||
				old.Status != store.StatusGranted && !e.ObtainedAt.After(old.ObtainedAt)) {
				continue // a newer statement, or an as old refusal, stands
			}
			if !copied {
				// own may be shared with other records of the subject.
				out, copied = maps.Clone(own), true
				if out == nil {
					out = map[string]store.ConsentEntry{}
				}
			}
			out[purpose] = e
		}
	}
	return out
}

// maxClockSkew is how far ahead of our clock a platform's submission time
// may be before it is taken as the time we received it (as the consent
// API allows a minute).
const maxClockSkew = time.Minute

func statusRank(s string) int {
	if s == store.StatusGranted {
		return 0
	}
	return 1
}

// userNamespace is the namespace of the connector's platform user ids in
// subject keys: the platform's name, except for generic connectors, whose
// user ids are each source system's own, so user 42 of one connector is
// not user 42 of another.
func userNamespace(c *config.Connector) string {
	if c.Platform == "generic" {
		return "generic:" + c.ID
	}
	return c.Platform
}

// decide runs the policy and builds the Kafka message and the decision.
func (p *Pipeline) decide(c *config.Connector, w *prepared, ledger map[string]store.ConsentEntry, ev evidence, now time.Time) {
	r := w.rec
	d := store.Decision{
		ID: store.NewID(), At: now.UTC(), Connector: c.ID, EventID: r.EventID,
		SubjectKey: w.subject, PolicyVersion: p.opts.PolicyVersion, RequestID: ev.requestID,
		Fields: map[string]string{},
	}
	topic := topicFor(c, r)
	if r.Kind == ingest.KindDeletion {
		// A deletion carries no personal data, only whom and what to delete.
		d.Outcome, d.Topic, d.Rules = OutcomeForwarded, topic, []string{"deletion.forward"}
		w.msg = p.message(c, w, topic, nil, nil, ev, now)
		w.decision = d
		return
	}
	states := make(map[string]consent.State, len(ledger))
	for purpose, e := range ledger {
		states[purpose] = consent.State{Status: e.Status, EntryID: e.ID, ObtainedAt: e.ObtainedAt, ExpiresAt: e.ExpiresAt}
	}
	w.result = p.opts.Engine.Decide(consent.Input{
		Fields: w.fields, DefaultJurisdiction: c.DefaultJurisdiction, Consent: states, GPC: w.gpc, Now: now,
	})
	d.Rules = w.result.Rules
	for f, fa := range w.result.FieldActions {
		d.Fields[f] = fa.Action
	}
	// Platform field names are the sender's text (a generic payload's
	// keys, Google Ads column ids, Meta question names) and may be personal
	// data themselves: only names the connector's configuration holds are
	// kept; the rest are counted.
	unmapped := 0
	for raw := range r.Fields {
		if _, mapped := c.Mapping[raw]; mapped {
			continue
		}
		if !configuredField(c, raw) {
			unmapped++
			continue
		}
		if _, set := d.Fields[raw]; !set {
			d.Fields[raw] = "drop"
		}
	}
	if unmapped > 0 {
		d.Fields[store.UnmappedFields(unmapped)] = "drop"
	}
	if w.result.Drop {
		d.Outcome = OutcomeDropped
		w.decision = d
		return
	}
	d.Outcome, d.Topic = OutcomeForwarded, topic
	if r.Test {
		d.Outcome = OutcomeTest
	}
	w.msg = p.message(c, w, topic, w.result.Fields, &w.result, ev, now)
	w.decision = d
}

// configuredField reports whether the connector's configuration names the
// platform field raw outside its mapping: a consent checkbox or the GPC
// field.
func configuredField(c *config.Connector, raw string) bool {
	if c.GPCField != "" && raw == c.GPCField {
		return true
	}
	for _, cb := range c.Checkboxes {
		if cb.Key == raw {
			return true
		}
	}
	return false
}

func topicFor(c *config.Connector, r ingest.Record) string {
	switch {
	case r.Test:
		return c.Topics.Test
	case r.Kind == ingest.KindInteraction:
		return c.Topics.Interactions
	case r.Kind == ingest.KindDeletion && !strings.Contains(r.Type, "lead"):
		return c.Topics.Interactions
	}
	return c.Topics.Leads
}

// mapFields applies the connector's mapping. When several platform fields
// map to one canonical field the first non-empty in name order wins, so
// the outcome does not depend on map iteration.
func mapFields(mapping, raw map[string]string) map[string]string {
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make(map[string]string, len(mapping))
	for _, k := range names {
		canon, ok := mapping[k]
		if !ok || canon == "" || raw[k] == "" {
			continue
		}
		if _, set := out[canon]; !set {
			out[canon] = raw[k]
		}
	}
	return out
}

type answer int

const (
	answerNone answer = iota
	answerYes
	answerNo
)

func truthy(s string) answer {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "1", "y", "on", "checked":
		return answerYes
	case "false", "no", "0", "n", "off", "unchecked":
		return answerNo
	}
	return answerNone
}

func grantOrDeny(v bool) string {
	if v {
		return store.StatusGranted
	}
	return store.StatusDenied
}

// phoneRegion is the region used to read national phone numbers.
func phoneRegion(fields map[string]string, jurisdiction string) string {
	if c := strings.ToUpper(strings.TrimSpace(fields["country"])); len(c) == 2 {
		return c
	}
	if len(jurisdiction) >= 2 && jurisdiction != "EU" && jurisdiction != "EEA" {
		return jurisdiction[:2]
	}
	return ""
}

func toOutbox(m kafka.Message, now time.Time) store.OutboxMessage {
	h := make(map[string]string, len(m.Headers))
	for _, kv := range m.Headers {
		h[kv.Key] = kv.Value
	}
	return store.OutboxMessage{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: h, SubjectKey: string(m.Key), CreatedAt: now.UTC()}
}
