package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
)

// maxItems bounds the updates in one delivery; Meta sends at most 1000.
const maxItems = 5000

type envelope struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID        idText            `json:"id"`
	Time      idText            `json:"time"`
	Changes   []change          `json:"changes"`
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
		if len(envs) > 1 {
			where = fmt.Sprintf("body[%d]", ei)
		}
		if env.Object == "" {
			return ingest.Batch{}, ingest.Errorf(ingest.ErrMalformed, "%s: field object is missing", where)
		}
		if len(env.Entry) == 0 {
			return ingest.Batch{}, ingest.Errorf(ingest.ErrMalformed, "%s: field entry is missing or empty", where)
		}
		for i, e := range env.Entry {
			if err := p.entry(env.Object, fmt.Sprintf("entry[%d]", i), e); err != nil {
				return ingest.Batch{}, fmt.Errorf("parse meta %s: %w", deliveryOf(env.Object), err)
			}
		}
	}
	return p.batch, nil
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
	items int
}

func (p *parser) entry(object, path string, e entry) error {
	changes := e.Changes
	if e.Field != "" {
		changes = append(changes, change{Field: e.Field, Value: e.Value})
	}
	n := len(changes) + len(e.Messaging)
	if p.items += max(n, 1); p.items > maxItems {
		return ingest.Errorf(ingest.ErrTooLarge, "body carries more than %d updates", maxItems)
	}
	sent, _ := unixTime(string(e.Time))
	switch object {
	case "page":
		for j, ch := range changes {
			if err := p.pageChange(fmt.Sprintf("%s.changes[%d]", path, j), ch, sent); err != nil {
				return err
			}
		}
		// Messenger events for the Page are not ours to forward.
		p.batch.Ignored += len(e.Messaging)
	case "instagram":
		for j, ch := range changes {
			if err := p.instagramChange(fmt.Sprintf("%s.changes[%d]", path, j), string(e.ID), ch, sent); err != nil {
				return err
			}
		}
		for j, m := range e.Messaging {
			if err := p.messaging(fmt.Sprintf("%s.messaging[%d]", path, j), m, sent); err != nil {
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
