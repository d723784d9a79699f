package tiktok

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/jsonstrict"
)

// RecordType is the Record.Type of every TikTok lead.
const RecordType = "tiktok.lead"

// Parse turns a verified delivery into one record per lead. Two envelopes
// arrive at a TikTok callback URL:
//
//   - the lead-generation envelope {object, time, entry[]} (shape reported by
//     third parties, names configurable): object == settings.payload.lead_object
//     is a lead delivery, anything else (ad review, creative fatigue, ...) is
//     counted as ignored;
//   - the developer-platform envelope {client_key, event, create_time,
//     user_openid, content} (documented): events listed in
//     settings.payload.lead_events carry one lead in content, every other
//     event is counted as ignored.
//
// A lead entry that cannot be read (no lead id, answers of the wrong shape)
// is rejected alone (Batch.Rejected) and the other entries go on; the
// delivery is refused only when none of its entries could be read.
func (c *Connector) Parse(req *ingest.Request) (ingest.Batch, error) {
	if err := checkContentType(req); err != nil {
		return ingest.Batch{}, err
	}
	top, err := decodeObject(req.Body, "body")
	if err != nil {
		return ingest.Batch{}, err
	}
	if obj, ok := top["object"]; ok {
		return c.parseLeadEnvelope(top, obj)
	}
	if ev, ok := top["event"]; ok {
		return c.parseDeveloperEvent(top, ev)
	}
	return ingest.Batch{}, ingest.Errorf(ingest.ErrMalformed, "body has neither an object nor an event field")
}

func (c *Connector) parseLeadEnvelope(top map[string]json.RawMessage, obj json.RawMessage) (ingest.Batch, error) {
	keys := c.cfg.Payload.Keys
	var entries []json.RawMessage
	rawEntries, hasEntries := top[keys.Entries]
	if hasEntries && !isNull(rawEntries) {
		if err := json.Unmarshal(rawEntries, &entries); err != nil {
			return ingest.Batch{}, ingest.Errorf(ingest.ErrMalformed, "field %s must be an array", keys.Entries)
		}
	}
	if v, ok := scalar(obj); !ok || v != c.cfg.Payload.LeadObject {
		// Not a lead: understood, acknowledged, not forwarded. One count per
		// entry so the metric reflects how many events were dropped.
		return ingest.Batch{Ignored: max(1, len(entries))}, nil
	}
	if !hasEntries {
		return ingest.Batch{}, ingest.Errorf(ingest.ErrMalformed, "field %s is missing", keys.Entries)
	}
	if len(entries) > c.cfg.MaxLeadsPerDelivery {
		return ingest.Batch{}, ingest.Errorf(ingest.ErrTooLarge,
			"field %s holds more than %d leads (settings.max_leads_per_delivery)", keys.Entries, c.cfg.MaxLeadsPerDelivery)
	}
	envTest := c.isTestValue(top)
	var b ingest.Batch
	seen := make(map[string]bool, len(entries))
	for i, raw := range entries {
		where := keys.Entries + "[" + strconv.Itoa(i) + "]"
		m, err := decodeObject(raw, where)
		if err == nil {
			// encoding/json lets the last of two equal keys win.
			if serr := jsonstrict.Check(raw); serr != nil {
				err = ingest.Errorf(ingest.ErrMalformed, "%s: %v", where, serr)
			}
		}
		var r ingest.Record
		if err == nil {
			r, err = c.record(m, where, time.Time{})
		}
		if err != nil {
			if !errors.Is(err, ingest.ErrMalformed) {
				return ingest.Batch{}, err // a limit: the delivery as a whole
			}
			// Rejected alone: TikTok retries a refused delivery whole,
			// which would refuse the other leads of the batch each time.
			b.Reject(i, err)
			continue
		}
		r.Test = r.Test || envTest
		if seen[r.EventID] {
			// The same lead twice in one delivery: forward it once.
			b.Ignored++
			continue
		}
		seen[r.EventID] = true
		b.Records = append(b.Records, r)
	}
	return b.Result()
}

func (c *Connector) parseDeveloperEvent(top map[string]json.RawMessage, ev json.RawMessage) (ingest.Batch, error) {
	name, ok := scalar(ev)
	if !ok || !c.leadEvent[name] {
		return ingest.Batch{Ignored: 1}, nil
	}
	// content is documented as a serialized JSON string: parse it again.
	var content string
	if err := json.Unmarshal(top["content"], &content); err != nil {
		return ingest.Batch{}, ingest.Errorf(ingest.ErrMalformed, "field content must be a string holding a JSON object")
	}
	m, err := decodeObject([]byte(content), "field content")
	if err != nil {
		return ingest.Batch{}, err
	}
	// The envelope's create_time is documented as when the event occurred.
	var fallback time.Time
	if s, ok := scalar(top["create_time"]); ok {
		fallback, _ = parseTime(s)
	}
	r, err := c.record(m, "content", fallback)
	if err != nil {
		return ingest.Batch{}, err
	}
	if s, ok := scalar(top["user_openid"]); ok {
		if _, taken := r.Fields["user_openid"]; !taken {
			r.Fields["user_openid"] = s
		}
	}
	r.Test = r.Test || c.isTestValue(top)
	return ingest.Batch{Records: []ingest.Record{r}}, nil
}

// record turns one lead entry into a record. Answers go in first and the
// entry's own members after, so an answer cannot pose as the lead id, form or
// advertiser.
func (c *Connector) record(m map[string]json.RawMessage, where string, fallback time.Time) (ingest.Record, error) {
	keys := c.cfg.Payload.Keys
	fields := map[string]string{}
	checkboxes := map[string]bool{}
	if ans, ok := m[keys.Answers]; ok && !isNull(ans) {
		if err := c.answers(fields, checkboxes, ans, where+"."+keys.Answers); err != nil {
			return ingest.Record{}, err
		}
	}
	for k, v := range m {
		if k != keys.Answers {
			flatten(fields, k, v, 0)
		}
	}
	id := fields[keys.LeadID]
	if id == "" {
		return ingest.Record{}, ingest.Errorf(ingest.ErrMalformed, "%s.%s (the lead id) is missing", where, keys.LeadID)
	}
	occurred := fallback
	if t, ok := parseTime(fields[keys.CreateTime]); ok {
		occurred = t
	}
	form := fields[keys.FormID]
	r := ingest.Record{
		EventID:    id,
		Kind:       ingest.KindLead,
		Type:       RecordType,
		Form:       form,
		OccurredAt: occurred,
		Fields:     fields,
		Test:       c.isTestValue(m) || (form != "" && c.testForm[form]),
	}
	if len(checkboxes) > 0 {
		r.Checkboxes = checkboxes
	}
	return r, nil
}

// answers reads the entry's answers: an array of {name, value} objects, or an
// object keyed by question name. Answers without a name cannot be mapped and
// are dropped.
func (c *Connector) answers(fields map[string]string, boxes map[string]bool, raw json.RawMessage, where string) error {
	keys := c.cfg.Payload.Keys
	put := func(name string, v json.RawMessage) {
		if c.checkbox[name] {
			if b, ok := parseBool(v); ok {
				boxes[name] = b
			}
			return
		}
		flatten(fields, name, v, 0)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return ingest.Errorf(ingest.ErrMalformed, "%s must be an array or an object", where)
		}
		for name, v := range m {
			if name != "" {
				put(name, v)
			}
		}
		return nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return ingest.Errorf(ingest.ErrMalformed, "%s must be an array or an object", where)
	}
	for i, item := range list {
		var a map[string]json.RawMessage
		if err := json.Unmarshal(item, &a); err != nil {
			return ingest.Errorf(ingest.ErrMalformed, "%s[%d] must be an object", where, i)
		}
		name, ok := scalar(a[keys.AnswerName])
		if !ok || name == "" {
			continue
		}
		put(name, a[keys.AnswerValue])
	}
	return nil
}

func (c *Connector) isTestValue(m map[string]json.RawMessage) bool {
	v, ok := m[c.cfg.Payload.TestKey]
	if !ok {
		return false
	}
	b, ok := parseBool(v)
	return ok && b
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}
