package pipeline

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/jsonw"
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
	b = jsonw.AppendString(b, v.ID)
	b = append(b, `,"type":`...)
	b = jsonw.AppendString(b, v.Type)
	b = append(b, `,"event_type":`...)
	b = jsonw.AppendString(b, v.EventType)

	b = append(b, `,"source":{"platform":`...)
	b = jsonw.AppendString(b, v.Source.Platform)
	b = append(b, `,"connector":`...)
	b = jsonw.AppendString(b, v.Source.Connector)
	b = append(b, `,"event_id":`...)
	b = jsonw.AppendString(b, v.Source.EventID)
	if v.Source.Form != "" {
		b = append(b, `,"form":`...)
		b = jsonw.AppendString(b, v.Source.Form)
	}

	b = append(b, `},"subject":{"key":`...)
	b = jsonw.AppendString(b, v.Subject.Key)
	b = append(b, `,"key_source":`...)
	b = jsonw.AppendString(b, v.Subject.KeySource)
	if v.Subject.Jurisdiction != "" {
		b = append(b, `,"jurisdiction":`...)
		b = jsonw.AppendString(b, v.Subject.Jurisdiction)
	}
	if v.Subject.Regime != "" {
		b = append(b, `,"regime":`...)
		b = jsonw.AppendString(b, v.Subject.Regime)
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
	b = jsonw.AppendMap(b, v.Fields, jsonw.AppendString)
	if v.Consent != nil {
		b = append(b, `,"consent":`...)
		b = appendReceipt(b, v.Consent)
	}
	return append(b, '}'), nil
}

func appendReceipt(b []byte, r *Receipt) []byte {
	b = append(b, `{"policy_version":`...)
	b = jsonw.AppendString(b, r.PolicyVersion)
	if r.GPC {
		b = append(b, `,"gpc":true`...)
	}
	b = append(b, `,"purposes":`...)
	b = jsonw.AppendMap(b, r.Purposes, appendPurposeReceipt)
	b = append(b, `,"fields":`...)
	b = jsonw.AppendMap(b, r.Fields, appendFieldReceipt)
	return append(b, '}')
}

func appendPurposeReceipt(b []byte, p PurposeReceipt) []byte {
	b = append(b, `{"status":`...)
	b = jsonw.AppendString(b, p.Status)
	if p.EntryID != "" {
		b = append(b, `,"entry_id":`...)
		b = jsonw.AppendString(b, p.EntryID)
	}
	b = append(b, `,"rule":`...)
	b = jsonw.AppendString(b, p.Rule)
	return append(b, '}')
}

func appendFieldReceipt(b []byte, f FieldReceipt) []byte {
	b = append(b, `{"action":`...)
	b = jsonw.AppendString(b, f.Action)
	b = append(b, `,"rule":`...)
	b = jsonw.AppendString(b, f.Rule)
	if f.Category != "" {
		b = append(b, `,"category":`...)
		b = jsonw.AppendString(b, f.Category)
	}
	if len(f.Purposes) > 0 {
		b = append(b, `,"purposes":`...)
		b = jsonw.AppendStrings(b, f.Purposes)
	}
	return append(b, '}')
}

// appendJSON appends json.Marshal(v) to b.
func (v *ConsentEvent) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = jsonw.AppendString(b, v.ID)
	b = append(b, `,"type":`...)
	b = jsonw.AppendString(b, v.Type)
	b = append(b, `,"subject":{"key":`...)
	b = jsonw.AppendString(b, v.Subject.Key)
	b = append(b, '}')
	if v.EntryID != "" {
		b = append(b, `,"entry_id":`...)
		b = jsonw.AppendString(b, v.EntryID)
	}
	if v.Purpose != "" {
		b = append(b, `,"purpose":`...)
		b = jsonw.AppendString(b, v.Purpose)
	}
	if v.Method != "" {
		b = append(b, `,"method":`...)
		b = jsonw.AppendString(b, v.Method)
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
		b = jsonw.AppendString(b, n.ID)
		b = append(b, `,"version":`...)
		b = jsonw.AppendString(b, n.Version)
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
	return jsonw.AppendString(b, s)
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
