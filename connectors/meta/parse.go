package meta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/jsonstrict"
)

// maxItems bounds the updates in one delivery; Meta sends at most 1000.
const maxItems = 5000

type envelope struct {
	Object string `json:"object"`
	// Entries and their changes stay raw until read one by one, so one of
	// the wrong shape is rejected alone instead of failing the delivery.
	Entry []json.RawMessage `json:"entry"`
}

type entry struct {
	ID        idText            `json:"id"`
	Time      idText            `json:"time"`
	Changes   []json.RawMessage `json:"changes"`
	Messaging []json.RawMessage `json:"messaging"`
	// Some Instagram (Business Login) examples put one change's field and
	// value directly on the entry instead of in changes[].
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type change struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

// Parse turns a verified delivery into lead fetch jobs and Instagram records.
// Meta batches up to 1000 updates in one delivery and asks that each be
// handled on its own: an update that cannot be read is rejected alone
// (Batch.Rejected) and the others go on; the delivery is refused only when
// its envelope cannot be read or no update in it could.
func (c *Connector) Parse(req *ingest.Request) (ingest.Batch, error) {
	body := bytes.TrimSpace(req.Body)
	if len(body) == 0 {
		return ingest.Batch{}, ingest.Errorf(ingest.ErrMalformed, "body is empty")
	}
	if ct := req.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !bytes.HasSuffix([]byte(mt), []byte("+json"))) {
			return ingest.Batch{}, ingest.Errorf(ingest.ErrUnsupportedMediaType, "header Content-Type must be application/json")
		}
	}
	envs, err := decodeEnvelopes(body)
	if err != nil {
		return ingest.Batch{}, err
	}
	p := &parser{c: c, seen: map[string]bool{}}
	for ei, env := range envs {
		where := "body"
		prefix := ""
		if len(envs) > 1 {
			where = fmt.Sprintf("body[%d]", ei)
			prefix = where + "."
		}
		var bad error
		switch {
		case env.Object == "":
			bad = ingest.Errorf(ingest.ErrMalformed, "%s: field object is missing", where)
		case len(env.Entry) == 0:
			bad = ingest.Errorf(ingest.ErrMalformed, "%s: field entry is missing or empty", where)
		}
		if bad != nil {
			if len(envs) == 1 {
				return ingest.Batch{}, bad
			}
			// One envelope of an array is one item among the others.
			if err := p.count(1); err != nil {
				return ingest.Batch{}, err
			}
			p.batch.Reject(p.next-1, fmt.Errorf("parse meta delivery: %w", bad))
			continue
		}
		for i, raw := range env.Entry {
			if err := p.entry(env.Object, fmt.Sprintf("%sentry[%d]", prefix, i), raw); err != nil {
				return ingest.Batch{}, fmt.Errorf("parse meta %s: %w", deliveryOf(env.Object), err)
			}
		}
	}
	return p.batch.Result()
}

// knownObjects are the envelope objects Meta documents for Webhooks. Only
// these are named in an error: any other value is text the sender chose,
// which may be personal data.
var knownObjects = map[string]bool{
	"page": true, "instagram": true, "user": true, "permissions": true,
	"application": true, "whatsapp_business_account": true,
}

// deliveryOf names a delivery by its object for an error message.
func deliveryOf(object string) string {
	if knownObjects[object] {
		return object + " delivery"
	}
	return "delivery of an unsupported object"
}

// decodeEnvelopes reads one envelope, or an array of them: Meta's Instagram
// examples show the delivery wrapped in an array.
func decodeEnvelopes(body []byte) ([]envelope, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var envs []envelope
	var err error
	switch body[0] {
	case '{':
		var one envelope
		err = dec.Decode(&one)
		envs = []envelope{one}
	case '[':
		err = dec.Decode(&envs)
		if err == nil && len(envs) == 0 {
			return nil, ingest.Errorf(ingest.ErrMalformed, "body is an empty array")
		}
	default:
		return nil, ingest.Errorf(ingest.ErrMalformed, "body is not a JSON object")
	}
	if err != nil {
		return nil, decodeErr("body", err)
	}
	if dec.More() {
		return nil, ingest.Errorf(ingest.ErrMalformed, "body has data after the JSON value")
	}
	return envs, nil
}

type parser struct {
	c     *Connector
	batch ingest.Batch
	seen  map[string]bool
	// next is the position of the next update in the delivery, the index
	// of a rejection.
	next int
}

// count takes n updates (at least one per entry) against the limit.
func (p *parser) count(n int) error {
	if p.next += max(n, 1); p.next > maxItems {
		return ingest.Errorf(ingest.ErrTooLarge, "body carries more than %d updates", maxItems)
	}
	return nil
}

// item reads one update at index; a malformed update is rejected alone,
// any other error (a limit) refuses the delivery.
func (p *parser) item(object string, index int, read func() error) error {
	err := read()
	if err == nil || !errors.Is(err, ingest.ErrMalformed) {
		return err
	}
	p.batch.Reject(index, fmt.Errorf("parse meta %s: %w", deliveryOf(object), err))
	return nil
}

func (p *parser) entry(object, path string, raw json.RawMessage) error {
	e, err := decodeEntry(path, raw)
	if err != nil {
		// Its updates cannot be told apart: the entry counts as one.
		if err := p.count(1); err != nil {
			return err
		}
		return p.item(object, p.next-1, func() error { return err })
	}
	changes := e.Changes
	if e.Field != "" {
		direct, _ := json.Marshal(change{Field: e.Field, Value: e.Value})
		changes = append(changes, direct)
	}
	n := len(changes) + len(e.Messaging)
	first := p.next
	if err := p.count(n); err != nil {
		return err
	}
	sent, _ := unixTime(string(e.Time))
	var handle func(path string, ch change) error
	switch object {
	case "page":
		handle = func(path string, ch change) error { return p.pageChange(path, ch, sent) }
	case "instagram":
		handle = func(path string, ch change) error { return p.instagramChange(path, string(e.ID), ch, sent) }
	}
	switch object {
	case "page", "instagram":
		for j, raw := range changes {
			cpath := fmt.Sprintf("%s.changes[%d]", path, j)
			if err := p.item(object, first+j, func() error {
				ch, err := decodeChange(cpath, raw)
				if err != nil {
					return err
				}
				return handle(cpath, ch)
			}); err != nil {
				return err
			}
		}
		if object == "page" {
			// Messenger events for the Page are not ours to forward.
			p.batch.Ignored += len(e.Messaging)
			break
		}
		for j, m := range e.Messaging {
			mpath := fmt.Sprintf("%s.messaging[%d]", path, j)
			if err := p.item(object, first+len(changes)+j, func() error { return p.messaging(mpath, m, sent) }); err != nil {
				return err
			}
		}
	default:
		p.batch.Ignored += max(n, 1)
		return nil
	}
	if n == 0 {
		// changed_fields-only notifications ("Include Values" off) say
		// nothing we can forward.
		p.batch.Ignored++
	}
	return nil
}

// decodeEntry reads one entry, numbers kept as text.
func decodeEntry(path string, raw json.RawMessage) (entry, error) {
	var e entry
	if !isObject(raw) {
		return e, ingest.Errorf(ingest.ErrMalformed, "%s is not an object", path)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		return e, decodeErr(path, err)
	}
	return e, nil
}

// decodeChange reads one element of changes[].
func decodeChange(path string, raw json.RawMessage) (change, error) {
	var ch change
	if !isObject(raw) {
		return ch, ingest.Errorf(ingest.ErrMalformed, "%s is not an object", path)
	}
	// encoding/json lets the last of two equal keys win.
	if err := jsonstrict.Check(raw); err != nil {
		return ch, ingest.Errorf(ingest.ErrMalformed, "%s: %v", path, err)
	}
	if err := json.Unmarshal(raw, &ch); err != nil {
		return ch, decodeErr(path, err)
	}
	return ch, nil
}

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

func (p *parser) pageChange(path string, ch change, sent time.Time) error {
	if ch.Field != "leadgen" {
		p.batch.Ignored++
		return nil
	}
	v, err := objectValue(path+".value", ch.Value)
	if err != nil {
		return err
	}
	id := v["leadgen_id"]
	if !isDigits(id) {
		return ingest.Errorf(ingest.ErrMalformed, "%s.value.leadgen_id is missing or not a numeric id", path)
	}
	occurred, ok := unixTime(v["created_time"])
	if !ok {
		occurred = sent
	}
	if p.dup(id) {
		return nil
	}
	p.batch.Jobs = append(p.batch.Jobs, ingest.FetchJob{EventID: id, Ref: id, Form: v["form_id"], OccurredAt: occurred})
	return nil
}

func (p *parser) instagramChange(path, account string, ch change, sent time.Time) error {
	switch ch.Field {
	case "comments", "live_comments":
		v, err := objectValue(path+".value", ch.Value)
		if err != nil {
			return err
		}
		id := firstNonEmpty(v["id"], v["comment_id"])
		if id == "" {
			return ingest.Errorf(ingest.ErrMalformed, "%s.value.id is missing", path)
		}
		if v["from.id"] == "" {
			return ingest.Errorf(ingest.ErrMalformed, "%s.value.from.id is missing", path)
		}
		typ := "meta.instagram.comment"
		if ch.Field == "live_comments" {
			typ = "meta.instagram.live_comment"
		}
		p.record(id, ingest.KindInteraction, typ, v["media.id"], v, account, sent)
	case "mentions":
		v, err := objectValue(path+".value", ch.Value)
		if err != nil {
			return err
		}
		target := firstNonEmpty(v["comment_id"], v["media_id"])
		if target == "" {
			return ingest.Errorf(ingest.ErrMalformed, "%s.value has neither comment_id nor media_id", path)
		}
		p.record("mention:"+account+":"+target, ingest.KindInteraction, "meta.instagram.mention", v["media_id"], v, account, sent)
	case "messages":
		// The dashboard's test button sends a messaging event as a change.
		return p.messaging(path+".value", ch.Value, sent)
	default:
		p.batch.Ignored++
	}
	return nil
}

func (p *parser) messaging(path string, raw json.RawMessage, sent time.Time) error {
	v, err := objectValue(path, raw)
	if err != nil {
		return err
	}
	mid := v["message.mid"]
	if mid == "" || v["message.is_echo"] == "true" {
		// Reactions, read receipts, postbacks, referrals and echoes of the
		// account's own messages are not the subject's data to forward.
		p.batch.Ignored++
		return nil
	}
	if v["sender.id"] == "" {
		return ingest.Errorf(ingest.ErrMalformed, "%s.sender.id is missing", path)
	}
	if v["message.is_deleted"] == "true" {
		// Keep identifiers only: the deletion asks downstream to forget.
		keep := map[string]string{}
		for _, k := range []string{"sender.id", "recipient.id", "message.mid", "timestamp"} {
			if v[k] != "" {
				keep[k] = v[k]
			}
		}
		p.record("message_deleted:"+mid, ingest.KindDeletion, "meta.instagram.message_deleted", "", keep, "", sent)
		return nil
	}
	p.record(mid, ingest.KindInteraction, "meta.instagram.message", "", v, "", sent)
	return nil
}

// record adds an Instagram record; the event's own timestamp wins over the
// entry's send time.
func (p *parser) record(id string, kind ingest.Kind, typ, form string, fields map[string]string, account string, sent time.Time) {
	if p.dup(id) {
		return
	}
	occurred, ok := unixTime(fields["timestamp"])
	if !ok {
		occurred = sent
	}
	if account != "" {
		fields["entry.id"] = account
	}
	p.batch.Records = append(p.batch.Records, ingest.Record{
		EventID: id, Kind: kind, Type: typ, Form: form, OccurredAt: occurred, Fields: fields,
	})
}

// dup reports an event already taken from this delivery (Meta may repeat an
// update inside one batch); the repeat counts as ignored.
func (p *parser) dup(id string) bool {
	if p.seen[id] {
		p.batch.Ignored++
		return true
	}
	p.seen[id] = true
	return false
}

// objectValue flattens the JSON object at path.
func objectValue(path string, raw json.RawMessage) (map[string]string, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		return nil, ingest.Errorf(ingest.ErrMalformed, "%s is missing or not an object", path)
	}
	return flatten(t, path)
}
