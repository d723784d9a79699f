package pipeline

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Record values and consent events are encoded by hand: json.Marshal spent
// most of its time in reflection and in sorting map keys through
// reflect.Value. The output must stay byte for byte what json.Marshal gives
// for the same struct, so nothing downstream sees a change; encode_test.go
// checks it against json.Marshal on randomized values and pins the types'
// fields and tags.

// bufPool holds encoding buffers, so a record costs one allocation: its own
// copy of the bytes.
var bufPool = sync.Pool{New: func() any { return new(make([]byte, 0, 2048)) }}

// Buffers grown beyond this are not worth keeping in the pool.
const maxPooledBuf = 64 << 10

// The encoders are called directly rather than through a shared function
// value so the compiler sees they keep no reference to v, which then stays
// on the caller's stack.

// marshalJSON is json.Marshal(v) without reflection.
func (v *Value) marshalJSON() ([]byte, error) {
	p := bufPool.Get().(*[]byte)
	b, err := v.appendJSON((*p)[:0])
	return release(p, b, err)
}

// marshalJSON is json.Marshal(v) without reflection.
func (v *ConsentEvent) marshalJSON() ([]byte, error) {
	p := bufPool.Get().(*[]byte)
	b, err := v.appendJSON((*p)[:0])
	return release(p, b, err)
}

// release returns a copy of b, the encoding in the pooled buffer p, and
// puts p back. Like json.Marshal it gives nil bytes with an error.
func release(p *[]byte, b []byte, err error) ([]byte, error) {
	var out []byte
	if err == nil {
		out = bytes.Clone(b)
	}
	if cap(b) <= maxPooledBuf {
		*p = b
		bufPool.Put(p)
	}
	return out, err
}

// appendJSON appends json.Marshal(v) to b.
func (v *Value) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, v.ID)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, v.Type)
	b = append(b, `,"event_type":`...)
	b = appendJSONString(b, v.EventType)

	b = append(b, `,"source":{"platform":`...)
	b = appendJSONString(b, v.Source.Platform)
	b = append(b, `,"connector":`...)
	b = appendJSONString(b, v.Source.Connector)
	b = append(b, `,"event_id":`...)
	b = appendJSONString(b, v.Source.EventID)
	if v.Source.Form != "" {
		b = append(b, `,"form":`...)
		b = appendJSONString(b, v.Source.Form)
	}

	b = append(b, `},"subject":{"key":`...)
	b = appendJSONString(b, v.Subject.Key)
	b = append(b, `,"key_source":`...)
	b = appendJSONString(b, v.Subject.KeySource)
	if v.Subject.Jurisdiction != "" {
		b = append(b, `,"jurisdiction":`...)
		b = appendJSONString(b, v.Subject.Jurisdiction)
	}
	if v.Subject.Regime != "" {
		b = append(b, `,"regime":`...)
		b = appendJSONString(b, v.Subject.Regime)
	}
	b = append(b, '}')

	var err error
	if v.OccurredAt != nil {
		b = append(b, `,"occurred_at":`...)
		if b, err = appendJSONTime(b, *v.OccurredAt); err != nil {
			return nil, fmt.Errorf("encode occurred_at: %w", err)
		}
	}
	b = append(b, `,"received_at":`...)
	if b, err = appendJSONTime(b, v.ReceivedAt); err != nil {
		return nil, fmt.Errorf("encode received_at: %w", err)
	}
	if v.Test {
		b = append(b, `,"test":true`...)
	}
	b = append(b, `,"fields":`...)
	b = appendMap(b, v.Fields, appendJSONString)
	if v.Consent != nil {
		b = append(b, `,"consent":`...)
		b = appendReceipt(b, v.Consent)
	}
	return append(b, '}'), nil
}

func appendReceipt(b []byte, r *Receipt) []byte {
	b = append(b, `{"policy_version":`...)
	b = appendJSONString(b, r.PolicyVersion)
	if r.GPC {
		b = append(b, `,"gpc":true`...)
	}
	b = append(b, `,"purposes":`...)
	b = appendMap(b, r.Purposes, appendPurposeReceipt)
	b = append(b, `,"fields":`...)
	b = appendMap(b, r.Fields, appendFieldReceipt)
	return append(b, '}')
}

func appendPurposeReceipt(b []byte, p PurposeReceipt) []byte {
	b = append(b, `{"status":`...)
	b = appendJSONString(b, p.Status)
	if p.EntryID != "" {
		b = append(b, `,"entry_id":`...)
		b = appendJSONString(b, p.EntryID)
	}
	b = append(b, `,"rule":`...)
	b = appendJSONString(b, p.Rule)
	return append(b, '}')
}

func appendFieldReceipt(b []byte, f FieldReceipt) []byte {
	b = append(b, `{"action":`...)
	b = appendJSONString(b, f.Action)
	b = append(b, `,"rule":`...)
	b = appendJSONString(b, f.Rule)
	if f.Category != "" {
		b = append(b, `,"category":`...)
		b = appendJSONString(b, f.Category)
	}
	if len(f.Purposes) > 0 {
		b = append(b, `,"purposes":[`...)
		for i, p := range f.Purposes {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, p)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendMap encodes m as json.Marshal does: null when nil, keys in byte
// order (strings.Compare).
func appendMap[V any](b []byte, m map[string]V, elem func([]byte, V) []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	// Records carry a handful of fields; a stack array spares the
	// allocation for them.
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = elem(b, m[k])
	}
	return append(b, '}')
}

// appendJSON appends json.Marshal(v) to b.
func (v *ConsentEvent) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, v.ID)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, v.Type)
	b = append(b, `,"subject":{"key":`...)
	b = appendJSONString(b, v.Subject.Key)
	b = append(b, '}')
	if v.EntryID != "" {
		b = append(b, `,"entry_id":`...)
		b = appendJSONString(b, v.EntryID)
	}
	if v.Purpose != "" {
		b = append(b, `,"purpose":`...)
		b = appendJSONString(b, v.Purpose)
	}
	if v.Method != "" {
		b = append(b, `,"method":`...)
		b = appendJSONString(b, v.Method)
	}
	if s := v.Source; s != nil {
		b = append(b, `,"source":{`...)
		start := len(b)
		b = appendOptString(b, start, `"platform":`, s.Platform)
		b = appendOptString(b, start, `"connector":`, s.Connector)
		b = appendOptString(b, start, `"form":`, s.Form)
		b = appendOptString(b, start, `"checkbox_key":`, s.CheckboxKey)
		b = append(b, '}')
	}
	if n := v.Notice; n != nil {
		b = append(b, `,"notice":{"id":`...)
		b = appendJSONString(b, n.ID)
		b = append(b, `,"version":`...)
		b = appendJSONString(b, n.Version)
		b = append(b, '}')
	}
	var err error
	if v.ObtainedAt != nil {
		b = append(b, `,"obtained_at":`...)
		if b, err = appendJSONTime(b, *v.ObtainedAt); err != nil {
			return nil, fmt.Errorf("encode obtained_at: %w", err)
		}
	}
	b = append(b, `,"recorded_at":`...)
	if b, err = appendJSONTime(b, v.RecordedAt); err != nil {
		return nil, fmt.Errorf("encode recorded_at: %w", err)
	}
	if v.ExpiresAt != nil {
		b = append(b, `,"expires_at":`...)
		if b, err = appendJSONTime(b, *v.ExpiresAt); err != nil {
			return nil, fmt.Errorf("encode expires_at: %w", err)
		}
	}
	if p := v.Evidence; p != nil {
		b = append(b, `,"evidence":{`...)
		start := len(b)
		b = appendOptString(b, start, `"payload_sha256":`, p.PayloadSHA256)
		b = appendOptString(b, start, `"request_id":`, p.RequestID)
		b = append(b, '}')
	}
	if x := v.Erasure; x != nil {
		b = append(b, `,"erasure":{"entries_removed":`...)
		b = strconv.AppendInt(b, x.EntriesRemoved, 10)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendOptString writes an omitempty string member of an object whose
// members all are optional, opened at start.
func appendOptString(b []byte, start int, key, s string) []byte {
	if s == "" {
		return b
	}
	if len(b) > start {
		b = append(b, ',')
	}
	b = append(b, key...)
	return appendJSONString(b, s)
}

// appendJSONTime writes t as time.Time.MarshalJSON does, failing as it does
// for a time RFC 3339 cannot represent.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	out, err := t.AppendText(b)
	if err != nil {
		return b, err
	}
	return append(out, '"'), nil
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes encoding/json writes unescaped with its
// default HTML escaping: printable ASCII and DEL, except " \ < > &.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

// appendJSONString is encoding/json's appendString with escapeHTML set, the
// escaping json.Marshal applies to every string and map key.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// JSON allows U+2028 and U+2029 raw, JavaScript (JSONP) does not.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
