package linkedin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/jsonstrict"
)

const (
	typeLeadAction  = "LEAD_ACTION"
	actionCreated   = "CREATED"
	actionDeleted   = "DELETED"
	leadURNPrefix   = "urn:li:leadGenFormResponse:"
	recordTypeLead  = "linkedin.lead"
	recordTypeGone  = "linkedin.lead_deleted"
	maxFlattenDepth = 4
)

// Parse turns a verified delivery into fetch jobs (CREATED leads) and
// deletion records (DELETED leads). LinkedIn documents one notification
// object per POST; a JSON array of them, or an envelope
// {"type":..., "notifications":[...]} as LinkedIn's other webhook families
// use, is accepted too and every notification becomes its own job/record.
// A notification that cannot be read is rejected alone (Batch.Rejected);
// the delivery is refused only when none of its notifications could be.
func (c *Connector) Parse(req *ingest.Request) (ingest.Batch, error) {
	if ct := req.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
			return ingest.Batch{}, ingest.Errorf(ingest.ErrUnsupportedMediaType, "Content-Type must be application/json")
		}
	}
	items, envType, err := splitNotifications(req.Body)
	if err != nil {
		return ingest.Batch{}, err
	}
	if len(items) > c.cfg.MaxNotifications {
		return ingest.Batch{}, ingest.Errorf(ingest.ErrTooLarge, "more than %d notifications in one delivery", c.cfg.MaxNotifications)
	}
	var b ingest.Batch
	seen := make(map[string]bool, len(items))
	for i, raw := range items {
		n, err := decodeNotification(raw, envType)
		if err != nil {
			// Rejected alone: refusing the delivery would refuse the
			// other leads of the batch on every retry too.
			b.Reject(i, ingest.Errorf(ingest.ErrMalformed, "notification %d: %s", i, err))
			continue
		}
		if n.Type != typeLeadAction || (n.Action != actionCreated && n.Action != actionDeleted) {
			b.Ignored++
			continue
		}
		id := eventID(n.Lead, n.Action)
		if seen[id] {
			continue // the same notification twice in one delivery
		}
		seen[id] = true
		if n.Action == actionCreated {
			b.Jobs = append(b.Jobs, ingest.FetchJob{EventID: id, Ref: n.Lead, Form: n.Form, OccurredAt: n.OccurredAt})
			continue
		}
		b.Records = append(b.Records, ingest.Record{
			EventID:    id,
			Kind:       ingest.KindDeletion,
			Type:       recordTypeGone,
			Form:       n.Form,
			OccurredAt: n.OccurredAt,
			Fields:     n.Fields,
		})
	}
	return b.Result()
}

// eventID is the de-dup key: LinkedIn gives lead notifications no
// notification id, and a lead is created and deleted at most once each, so
// the lead URN plus the action identifies the event across redeliveries
// (and keeps a deletion distinct from the creation it undoes).
func eventID(leadURN, action string) string { return leadURN + "|" + action }

// splitNotifications returns the raw notification objects of a body and
// the envelope's type, if the body was an envelope.
func splitNotifications(body []byte) ([]json.RawMessage, string, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, "", ingest.Errorf(ingest.ErrMalformed, "body is empty")
	}
	var top json.RawMessage
	if err := decodeStrict(trimmed, &top); err != nil {
		return nil, "", ingest.Errorf(ingest.ErrMalformed, "body is not valid JSON")
	}
	switch trimmed[0] {
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, "", ingest.Errorf(ingest.ErrMalformed, "body is not a JSON array of notifications")
		}
		return items, "", nil
	case '{':
		var env struct {
			Type          json.RawMessage   `json:"type"`
			Notifications []json.RawMessage `json:"notifications"`
		}
		if err := json.Unmarshal(trimmed, &env); err != nil {
			return nil, "", ingest.Errorf(ingest.ErrMalformed, "field notifications must be an array of objects")
		}
		if env.Notifications == nil {
			return []json.RawMessage{trimmed}, "", nil
		}
		var typ string
		if len(env.Type) > 0 && json.Unmarshal(env.Type, &typ) != nil {
			return nil, "", ingest.Errorf(ingest.ErrMalformed, "field type must be a string")
		}
		return env.Notifications, typ, nil
	default:
		return nil, "", ingest.Errorf(ingest.ErrMalformed, "body must be a JSON object or array")
	}
}

// decodeStrict decodes exactly one JSON value, numbers kept as text.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

type notification struct {
	Type       string
	Action     string
	Lead       string
	Form       string
	OccurredAt time.Time
	// Fields are the notification's ids, for deletion records.
	Fields map[string]string
}

// decodeNotification reads one notification; errors name the field only.
func decodeNotification(raw json.RawMessage, envType string) (notification, error) {
	// A key given twice or invalid UTF-8 is refused, not resolved:
	// {"leadAction":"CREATED","leadAction":"DELETED"} would otherwise be
	// taken for a deletion.
	if err := jsonstrict.Check(raw); err != nil {
		return notification{}, err
	}
	var m map[string]any
	if err := decodeStrict(raw, &m); err != nil || m == nil {
		return notification{}, errors.New("must be a JSON object")
	}
	str := func(key string) (string, error) {
		v, ok := m[key]
		if !ok || v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", errors.New("field " + key + " must be a string")
		}
		return s, nil
	}
	var n notification
	var err error
	if n.Type, err = str("type"); err != nil {
		return n, err
	}
	if n.Type == "" {
		n.Type = envType
	}
	if n.Action, err = str("leadAction"); err != nil {
		return n, err
	}
	if n.Lead, err = str("leadGenFormResponse"); err != nil {
		return n, err
	}
	if n.Form, err = str("leadGenForm"); err != nil {
		return n, err
	}
	if n.Type == "" {
		if n.Lead == "" {
			return n, errors.New("field type is missing")
		}
		n.Type = typeLeadAction // the lead URN alone says what it is
	}
	if n.Type != typeLeadAction {
		return n, nil
	}
	if n.Action == "" {
		return n, errors.New("field leadAction is missing")
	}
	if !validLeadURN(n.Lead) {
		return n, errors.New("field leadGenFormResponse must be a urn:li:leadGenFormResponse URN")
	}
	if v, ok := m["occurredAt"]; ok && v != nil {
		num, ok := v.(json.Number)
		if !ok {
			return n, errors.New("field occurredAt must be a number of milliseconds")
		}
		ms, err := strconv.ParseInt(num.String(), 10, 64)
		if err != nil || ms < 0 {
			return n, errors.New("field occurredAt must be a non-negative integer of milliseconds")
		}
		n.OccurredAt = time.UnixMilli(ms).UTC()
	}
	n.Fields = map[string]string{"leadGenFormResponse": n.Lead, "leadAction": n.Action}
	if n.Form != "" {
		n.Fields["leadGenForm"] = n.Form
	}
	if lt, err := str("leadType"); err != nil {
		return n, err
	} else if lt != "" {
		n.Fields["leadType"] = lt
	}
	for _, key := range []string{"owner", "associatedEntity"} {
		if v, ok := m[key]; ok && v != nil {
			if _, isObj := v.(map[string]any); !isObj {
				return n, errors.New("field " + key + " must be an object")
			}
			flatten(key, v, 0, n.Fields)
		}
	}
	return n, nil
}

func validLeadURN(s string) bool {
	id, ok := strings.CutPrefix(s, leadURNPrefix)
	return ok && id != "" && !strings.ContainsAny(id, "/?#") && len(s) <= 512
}

// flatten writes the scalar leaves of v under dotted paths of prefix.
// Numbers keep their exact text, so 64-bit ids survive.
func flatten(prefix string, v any, depth int, out map[string]string) {
	switch t := v.(type) {
	case string:
		out[prefix] = t
	case json.Number:
		out[prefix] = t.String()
	case bool:
		out[prefix] = strconv.FormatBool(t)
	case map[string]any:
		if depth >= maxFlattenDepth {
			return
		}
		for k, child := range t {
			flatten(prefix+"."+k, child, depth+1, out)
		}
	case []any:
		if depth >= maxFlattenDepth {
			return
		}
		for i, child := range t {
			flatten(prefix+"."+strconv.Itoa(i), child, depth+1, out)
		}
	}
}
