package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/store"
)

// Consent event types on the consent topic (docs/schemas/consent.v1.json).
const (
	ConsentGranted   = store.StatusGranted
	ConsentDenied    = store.StatusDenied
	ConsentWithdrawn = store.StatusWithdrawn
	ConsentExpired   = "expired"
	ConsentErased    = "erased"
)

// CloudEvents types of the consent topic.
const (
	CETypeConsent = "com.consentgate.consent.v1"
	CETypeErasure = "com.consentgate.erasure.v1"
)

// ConsentEvent is the JSON value of a message on crm.consent.v1. It names
// the subject only by its key: no raw identifier ever reaches this topic.
type ConsentEvent struct {
	// ID is stable per statement: the ledger entry id for grants, denials
	// and withdrawals, a hash of it for an expiry, so a redelivery or a
	// second sweeping instance repeats the same id.
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Subject ConsentSubject `json:"subject"`
	// EntryID is the ledger entry the event is about (for an expiry, the
	// grant that lapsed); empty for an erasure.
	EntryID    string          `json:"entry_id,omitempty"`
	Purpose    string          `json:"purpose,omitempty"`
	Method     string          `json:"method,omitempty"`
	Source     *ConsentSource  `json:"source,omitempty"`
	Notice     *ConsentNotice  `json:"notice,omitempty"`
	ObtainedAt *time.Time      `json:"obtained_at,omitempty"`
	RecordedAt time.Time       `json:"recorded_at"`
	ExpiresAt  *time.Time      `json:"expires_at,omitempty"`
	Evidence   *ConsentProof   `json:"evidence,omitempty"`
	Erasure    *ConsentErasure `json:"erasure,omitempty"`
}

type ConsentSubject struct {
	Key string `json:"key"`
}

type ConsentSource struct {
	Platform    string `json:"platform,omitempty"`
	Connector   string `json:"connector,omitempty"`
	Form        string `json:"form,omitempty"`
	CheckboxKey string `json:"checkbox_key,omitempty"`
}

type ConsentNotice struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

type ConsentProof struct {
	PayloadSHA256 string `json:"payload_sha256,omitempty"`
	RequestID     string `json:"request_id,omitempty"`
}

type ConsentErasure struct {
	EntriesRemoved int64 `json:"entries_removed"`
}

// ExpiresAt is when a grant stops counting: the earlier of the entry's own
// expiry and ObtainedAt+validity (validity 0: none). Denials and
// withdrawals do not expire; nil means "does not expire".
func ExpiresAt(e store.ConsentEntry, validity time.Duration) *time.Time {
	if e.Status != store.StatusGranted {
		return nil
	}
	var out *time.Time
	if e.ExpiresAt != nil {
		t := e.ExpiresAt.UTC()
		out = &t
	}
	if validity > 0 {
		t := e.ObtainedAt.Add(validity).UTC()
		if out == nil || t.Before(*out) {
			out = &t
		}
	}
	return out
}

func (p *Pipeline) validity(purpose string) time.Duration {
	if p.opts.Engine == nil {
		return 0
	}
	return p.opts.Engine.Policy().Purposes[purpose].Validity
}

// ConsentMessages turns ledger entries into consent-topic messages; nil
// when no consent topic is configured.
func (p *Pipeline) ConsentMessages(entries []store.ConsentEntry) []kafka.Message {
	if p.opts.ConsentTopic == "" || len(entries) == 0 {
		return nil
	}
	out := make([]kafka.Message, 0, len(entries))
	for _, e := range entries {
		v := entryEvent(e, e.Status, e.ID)
		v.ExpiresAt = ExpiresAt(e, p.validity(e.Purpose))
		out = append(out, p.consentMessage(v, CETypeConsent, sourceURI(e), e.ObtainedAt))
	}
	return out
}

func entryEvent(e store.ConsentEntry, typ, id string) ConsentEvent {
	obtained := e.ObtainedAt.UTC()
	v := ConsentEvent{
		ID: id, Type: typ, Subject: ConsentSubject{Key: e.SubjectKey}, EntryID: e.ID,
		Purpose: e.Purpose, Method: e.Method, ObtainedAt: &obtained, RecordedAt: e.RecordedAt.UTC(),
	}
	if e.Platform != "" || e.Connector != "" || e.Form != "" || e.CheckboxKey != "" {
		v.Source = &ConsentSource{Platform: e.Platform, Connector: e.Connector, Form: e.Form, CheckboxKey: e.CheckboxKey}
	}
	if e.NoticeID != "" {
		v.Notice = &ConsentNotice{ID: e.NoticeID, Version: e.NoticeVersion}
	}
	if e.PayloadSHA256 != "" || e.RequestID != "" {
		v.Evidence = &ConsentProof{PayloadSHA256: e.PayloadSHA256, RequestID: e.RequestID}
	}
	return v
}

func sourceURI(e store.ConsentEntry) string {
	if e.Connector != "" {
		return "/consentgate/connectors/" + e.Connector
	}
	return "/consentgate/api"
}

// ExpiryMessage announces that a grant's validity ran out at expired.
func (p *Pipeline) ExpiryMessage(e store.ConsentEntry, expired, now time.Time) kafka.Message {
	v := entryEvent(e, ConsentExpired, expiryID(e.ID))
	v.RecordedAt = now.UTC()
	t := expired.UTC()
	v.ExpiresAt = &t
	return p.consentMessage(v, CETypeConsent, "/consentgate/expiry", expired)
}

func expiryID(entryID string) string {
	s := sha256.Sum256([]byte("expired\x00" + entryID))
	return "exp_" + hex.EncodeToString(s[:16])
}

// ErasureMessage announces that every ledger entry of a subject was
// erased, so CRMs delete or suppress the profile keyed by it.
func (p *Pipeline) ErasureMessage(subjectKey string, removed int64, at time.Time) kafka.Message {
	v := ConsentEvent{
		ID: store.NewID(), Type: ConsentErased, Subject: ConsentSubject{Key: subjectKey},
		RecordedAt: at.UTC(), Erasure: &ConsentErasure{EntriesRemoved: removed},
	}
	return p.consentMessage(v, CETypeErasure, "/consentgate/api", at)
}

func (p *Pipeline) consentMessage(v ConsentEvent, ceType, source string, at time.Time) kafka.Message {
	body, _ := v.marshalJSON() // errs only on a time RFC 3339 cannot hold, leaving body nil as json.Marshal does
	return kafka.Message{
		Topic: p.opts.ConsentTopic,
		Key:   []byte(v.Subject.Key),
		Value: body,
		Headers: []kafka.Header{
			{Key: "ce_specversion", Value: "1.0"},
			{Key: "ce_id", Value: v.ID},
			{Key: "ce_source", Value: source},
			{Key: "ce_type", Value: ceType},
			{Key: "ce_time", Value: at.UTC().Format(time.RFC3339Nano)},
			{Key: "ce_subject", Value: v.Subject.Key},
			{Key: "content-type", Value: "application/json"},
		},
	}
}

// ConsentTopic is the topic consent events go to ("" = not published).
func (p *Pipeline) ConsentTopic() string { return p.opts.ConsentTopic }

// PublishConsent produces consent events made outside a delivery (API,
// expiry sweep). When Kafka does not take them in time they go to the
// durable outbox, which the relay drains; queued says so. An error means
// neither worked.
func (p *Pipeline) PublishConsent(ctx context.Context, msgs ...kafka.Message) (queued bool, err error) {
	if len(msgs) == 0 {
		return false, nil
	}
	pctx, cancel := context.WithTimeout(ctx, p.opts.KafkaTimeout)
	perr := p.opts.Producer.Produce(pctx, msgs...)
	cancel()
	if perr == nil {
		return false, nil
	}
	p.opts.Log.Warn("kafka did not take the consent events in time; using the outbox", "events", len(msgs), "err", perr)
	now := p.opts.Now()
	comp := store.Completion{Outbox: make([]store.OutboxMessage, 0, len(msgs))}
	for _, m := range msgs {
		comp.Outbox = append(comp.Outbox, toOutbox(m, now))
	}
	if err := p.opts.Store.CompleteEvents(context.WithoutCancel(ctx), comp); err != nil {
		return false, fmt.Errorf("publish %d consent events: kafka: %v; outbox: %w", len(msgs), perr, err)
	}
	return true, nil
}

// SweepExpired publishes an "expired" event for every current grant whose
// purpose validity ran out in [from, to). It returns how many it published.
// Grants carrying only their own expires_at (and no purpose validity) are
// not swept; nothing in the gateway writes such entries today.
func (p *Pipeline) SweepExpired(ctx context.Context, from, to time.Time) (int, error) {
	if p.opts.ConsentTopic == "" || p.opts.Engine == nil || !from.Before(to) {
		return 0, nil
	}
	now := p.opts.Now()
	var msgs []kafka.Message
	for _, name := range p.opts.Engine.Policy().PurposeNames() {
		v := p.validity(name)
		if v <= 0 {
			continue
		}
		lapsed, err := p.opts.Store.LapsedGrants(ctx, name, from.Add(-v), to.Add(-v))
		if err != nil {
			return 0, fmt.Errorf("list lapsed grants of purpose %s: %w", name, err)
		}
		for _, e := range lapsed {
			msgs = append(msgs, p.ExpiryMessage(e, *ExpiresAt(e, v), now))
		}
	}
	if _, err := p.PublishConsent(ctx, msgs...); err != nil {
		return 0, err
	}
	return len(msgs), nil
}

// RunExpirySweeper calls SweepExpired every interval until ctx ends. The
// first window starts lookback before now, so expiries that fell while no
// instance ran are still announced (a window is not persisted). Several
// instances each announce the same expiry, with the same event id:
// consumers de-duplicate on it as on every other at-least-once message.
func (p *Pipeline) RunExpirySweeper(ctx context.Context, interval, lookback time.Duration) error {
	if interval <= 0 {
		interval = time.Minute
	}
	if lookback < interval {
		lookback = interval
	}
	from := p.opts.Now().Add(-lookback)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		to := p.opts.Now()
		n, err := p.SweepExpired(ctx, from, to)
		switch {
		case err != nil && ctx.Err() == nil:
			p.opts.Log.Warn("consent expiry sweep", "err", err)
		case err == nil:
			from = to // a failed window is retried whole next time
			if n > 0 {
				p.opts.Log.Info("consent expiry sweep", "expired", n)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
