package generic

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
)

// maxEventIDBytes keeps de-dup keys to a size any store column holds.
const maxEventIDBytes = 512

// Parse turns a verified JSON body into records: the whole body, or each
// element of the array at records_path. Every scalar becomes a field named
// by its dotted path; a repeated event id inside one delivery is counted in
// Ignored, like any other duplicate. A record of a batch that cannot be
// read (no event id, metadata of the wrong type) is rejected alone; the
// delivery is refused only when none of its records could be read.
func (c *Connector) Parse(req *ingest.Request) (ingest.Batch, error) {
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return ingest.Batch{}, err
	}
	lim := c.cfg.Limits
	root, err := decodeStrict(req.Body, lim.MaxDepth, lim.MaxFieldBytes)
	if err != nil {
		return ingest.Batch{}, fmt.Errorf("parse generic body: %w", err)
	}
	recs, batched, err := c.records(root)
	if err != nil {
		return ingest.Batch{}, err
	}
	if len(recs) > lim.MaxRecords {
		return ingest.Batch{}, ingest.Errorf(ingest.ErrTooLarge, "the body holds %d records, more than settings.limits.max_records (%d)",
			len(recs), lim.MaxRecords)
	}
	var b ingest.Batch
	seen := make(map[string]struct{}, len(recs))
	budget := lim.MaxFields
	for i, n := range recs {
		label := "body"
		if batched {
			label = fmt.Sprintf("record %d", i)
		}
		r, err := c.record(n, label, i, len(recs), req)
		if err == nil {
			r.Fields = make(map[string]string)
			if err = flatten(n, nil, r.Fields, &budget); err != nil {
				if budget < 0 {
					return ingest.Batch{}, ingest.Errorf(ingest.ErrTooLarge, "the body flattens to more than settings.limits.max_fields (%d) fields", lim.MaxFields)
				}
				err = fmt.Errorf("%s: %w", label, err)
			}
		}
		if err != nil {
			if !batched || !errors.Is(err, ingest.ErrMalformed) {
				return ingest.Batch{}, err
			}
			// One record of a batch is rejected alone: a sender retries
			// a refused delivery whole, good records included.
			b.Reject(i, err)
			continue
		}
		if _, dup := seen[r.EventID]; dup {
			b.Ignored++
			continue
		}
		seen[r.EventID] = struct{}{}
		b.Records = append(b.Records, r)
	}
	return b.Result()
}

// checkContentType accepts application/json and application/*+json, in
// UTF-8 (the only charset JSON on the wire may use, RFC 8259 §8.1).
func checkContentType(ct string) error {
	if ct == "" {
		return ingest.Errorf(ingest.ErrUnsupportedMediaType, "header Content-Type is missing: send application/json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !(mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return ingest.Errorf(ingest.ErrUnsupportedMediaType, "header Content-Type must be application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return ingest.Errorf(ingest.ErrUnsupportedMediaType, "header Content-Type: charset must be utf-8")
	}
	return nil
}

// records picks the record nodes; batched says they came from an array.
func (c *Connector) records(root *node) (recs []*node, batched bool, err error) {
	switch {
	case c.recordsAtRoot:
		if root.kind != kindArray {
			return nil, false, ingest.Errorf(ingest.ErrMalformed, "body must be a JSON array of records (settings.records_path is \"$\")")
		}
		return root.kids, true, nil
	case c.recordsPath != nil:
		n, ok := root.lookup(c.recordsPath)
		if !ok {
			return nil, false, ingest.Errorf(ingest.ErrMalformed, "settings.records_path %q is not in the body", c.cfg.RecordsPath)
		}
		if n.kind != kindArray {
			return nil, false, ingest.Errorf(ingest.ErrMalformed, "settings.records_path %q must name a JSON array", c.cfg.RecordsPath)
		}
		return n.kids, true, nil
	default:
		return []*node{root}, false, nil
	}
}

// record reads the configured metadata of one record; Fields come later.
func (c *Connector) record(n *node, label string, i, count int, req *ingest.Request) (ingest.Record, error) {
	if n.kind != kindObject {
		return ingest.Record{}, ingest.Errorf(ingest.ErrMalformed, "%s must be a JSON object", label)
	}
	r := ingest.Record{Kind: ingest.Kind(c.cfg.Kind), Type: c.cfg.Type}
	var err error
	if r.EventID, err = c.eventID(n, label, i, count, req); err != nil {
		return r, err
	}
	if v, ok := at(n, c.typePath); ok && v.kind != kindNull {
		if !isScalar(v) || !typeValue.MatchString(v.text) {
			return r, ingest.Errorf(ingest.ErrMalformed, "%s: the value at settings.type_path %q must be 1–128 letters, digits, '.', '_', ':' or '-'",
				label, c.cfg.TypePath)
		}
		r.Type = "generic." + v.text
	}
	if v, ok := at(n, c.formPath); ok && v.kind != kindNull {
		if !isScalar(v) {
			return r, ingest.Errorf(ingest.ErrMalformed, "%s: the value at settings.form_path %q must be a string or number", label, c.cfg.FormPath)
		}
		r.Form = v.text
	}
	if v, ok := at(n, c.occurredAtPath); ok && v.kind != kindNull {
		if r.OccurredAt, err = parseTime(v); err != nil {
			return r, ingest.Errorf(ingest.ErrMalformed, "%s: the value at settings.occurred_at_path %q %v", label, c.cfg.OccurredAtPath, err)
		}
	}
	if v, ok := at(n, c.gpcPath); ok {
		r.GPC = truthy(v)
	}
	if v, ok := at(n, c.testPath); ok {
		r.Test = truthy(v)
	}
	return r, nil
}

// eventID follows the order in Config.EventIDPath's documentation.
func (c *Connector) eventID(n *node, label string, i, count int, req *ingest.Request) (string, error) {
	var id string
	switch {
	case c.eventIDPath != nil:
		v, ok := n.lookup(c.eventIDPath)
		switch {
		case !ok || v.kind == kindNull:
			return "", ingest.Errorf(ingest.ErrMalformed, "%s has no event id at settings.event_id_path %q", label, c.cfg.EventIDPath)
		case v.kind != kindString && v.kind != kindNumber:
			return "", ingest.Errorf(ingest.ErrMalformed, "%s: the event id at settings.event_id_path %q must be a string or number", label, c.cfg.EventIDPath)
		case v.text == "":
			return "", ingest.Errorf(ingest.ErrMalformed, "%s: the event id at settings.event_id_path %q is empty", label, c.cfg.EventIDPath)
		}
		id = v.text
	case c.sig.Scheme == SchemeStandardWebhooks:
		// Only here is the header signed; elsewhere a replayer could change
		// it to slip a copy past de-duplication.
		id = req.Header.Get(HeaderWebhookID)
		if id == "" {
			return "", ingest.Errorf(ingest.ErrMalformed, "header %s is missing", HeaderWebhookID)
		}
		if count > 1 {
			id += ":" + strconv.Itoa(i)
		}
	default:
		sum := sha256.Sum256(canonical(nil, n))
		return "sha256:" + hex.EncodeToString(sum[:]), nil
	}
	if len(id) > maxEventIDBytes {
		return "", ingest.Errorf(ingest.ErrMalformed, "%s: the event id is longer than %d bytes", label, maxEventIDBytes)
	}
	return id, nil
}

// lookup follows a dotted path: keys in objects, decimal indexes in arrays.
func (n *node) lookup(path []string) (*node, bool) {
	cur := n
	for _, seg := range path {
		switch cur.kind {
		case kindObject:
			i := slices.Index(cur.keys, seg)
			if i < 0 {
				return nil, false
			}
			cur = cur.kids[i]
		case kindArray:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(cur.kids) || seg != strconv.Itoa(i) {
				return nil, false
			}
			cur = cur.kids[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// at is lookup for an optional setting: an unset path finds nothing.
func at(n *node, path []string) (*node, bool) {
	if path == nil {
		return nil, false
	}
	return n.lookup(path)
}

func isScalar(n *node) bool {
	return n.kind == kindString || n.kind == kindNumber || n.kind == kindBool
}

// flatten writes every non-null scalar under its dotted path. Two keys that
// flatten to one name ({"a.b":1,"a":{"b":2}}) are refused: which one the
// mapping meant is ambiguous. Its errors never quote a field name: names
// are made of payload keys, which may be personal data.
func flatten(n *node, prefix []byte, out map[string]string, budget *int) error {
	switch n.kind {
	case kindNull:
		return nil
	case kindObject, kindArray:
		for i, kid := range n.kids {
			p := prefix
			if len(p) > 0 {
				p = append(p, '.')
			}
			if n.kind == kindObject {
				p = append(p, n.keys[i]...)
			} else {
				p = strconv.AppendInt(p, int64(i), 10)
			}
			if len(p) > maxPathBytes {
				return ingest.Errorf(ingest.ErrTooLarge, "a flattened field name is longer than %d bytes: use shorter keys or nest less", maxPathBytes)
			}
			if err := flatten(kid, p, out, budget); err != nil {
				return err
			}
		}
		return nil
	default:
		name := string(prefix)
		if _, dup := out[name]; dup {
			return ingest.Errorf(ingest.ErrMalformed, "two keys flatten to the same field name: a dotted key collides with a nested one, "+
				`as "a.b" does with {"a":{"b":…}}; rename one of them`)
		}
		if *budget--; *budget < 0 {
			return ingest.ErrTooLarge
		}
		out[name] = n.text
		return nil
	}
}

// canonical writes n with object keys sorted and no whitespace, so a
// redelivery that reorders keys or reindents still hashes the same.
func canonical(buf []byte, n *node) []byte {
	switch n.kind {
	case kindNull:
		return append(buf, "null"...)
	case kindBool, kindNumber:
		return append(buf, n.text...)
	case kindString:
		s, _ := json.Marshal(n.text)
		return append(buf, s...)
	case kindArray:
		buf = append(buf, '[')
		for i, kid := range n.kids {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = canonical(buf, kid)
		}
		return append(buf, ']')
	default:
		order := make([]int, len(n.keys))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return strings.Compare(n.keys[a], n.keys[b]) })
		buf = append(buf, '{')
		for j, i := range order {
			if j > 0 {
				buf = append(buf, ',')
			}
			k, _ := json.Marshal(n.keys[i])
			buf = append(append(buf, k...), ':')
			buf = canonical(buf, n.kids[i])
		}
		return append(buf, '}')
	}
}

// parseTime reads RFC 3339, or unix seconds or milliseconds told apart by
// magnitude (1e11 seconds is the year 5138, 1e11 ms is 1973).
func parseTime(n *node) (time.Time, error) {
	fail := errors.New("must be an RFC 3339 time or unix seconds or milliseconds")
	text := strings.TrimSpace(n.text)
	var t time.Time
	switch n.kind {
	case kindString:
		if parsed, err := time.Parse(time.RFC3339Nano, n.text); err == nil {
			t = parsed
			break
		}
		fallthrough
	case kindNumber:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
			return time.Time{}, fail
		}
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			// Integers avoid float rounding of millisecond values.
			if i >= 1e11 || i <= -1e11 {
				t = time.UnixMilli(i)
			} else {
				t = time.Unix(i, 0)
			}
			break
		}
		if math.Abs(f) >= 1e11 {
			f /= 1000
		}
		sec, frac := math.Modf(f)
		t = time.Unix(int64(sec), int64(frac*1e9))
	default:
		return time.Time{}, fail
	}
	// Downstream JSON cannot encode years past 9999, and nothing real
	// happened before 1970.
	if t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, errors.New("is out of range (years 1970 to 9999)")
	}
	return t.UTC(), nil
}

// truthy reads a flag the way the gateway reads consent fields.
func truthy(n *node) bool {
	switch n.kind {
	case kindBool:
		return n.text == "true"
	case kindNumber:
		f, err := strconv.ParseFloat(n.text, 64)
		return err == nil && f != 0
	case kindString:
		switch strings.ToLower(strings.TrimSpace(n.text)) {
		case "true", "yes", "1":
			return true
		}
	}
	return false
}
