package generic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/consentgate/consentgate/internal/ingest"
)

// refDecodeStrict is the encoding/json Token-based decodeStrict that the
// hand-written scanner replaced, kept unchanged (only renamed) as the
// definition of the results and errors the scanner must reproduce. One
// change since: the duplicate-key error names the position but no longer
// quotes the key, which may be personal data; both sides changed together.
func refDecodeStrict(body []byte, maxDepth, maxField int) (*node, error) {
	if !utf8.Valid(body) {
		off := firstInvalidUTF8(body)
		line, col := position(body, int64(off))
		return nil, ingest.Errorf(ingest.ErrMalformed, "body is not valid UTF-8 at line %d, column %d (byte offset %d)", line, col, off)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, ingest.Errorf(ingest.ErrMalformed, "body is empty: send a JSON object")
	}
	d := &refDecoder{body: body, dec: json.NewDecoder(bytes.NewReader(body)), maxDepth: maxDepth, maxField: maxField}
	d.dec.UseNumber()
	root, err := d.value(1)
	if err != nil {
		return nil, err
	}
	end := d.dec.InputOffset()
	if _, err := d.dec.Token(); err != io.EOF {
		return nil, d.errAt(end, "unexpected data after the JSON value")
	}
	return root, nil
}

type refDecoder struct {
	body     []byte
	dec      *json.Decoder
	maxDepth int
	maxField int
}

func (d *refDecoder) token() (json.Token, error) {
	tok, err := d.dec.Token()
	if err == nil {
		return tok, nil
	}
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return nil, d.errAt(syn.Offset, "invalid JSON syntax")
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, d.errAt(int64(len(d.body)), "JSON ends early")
	default:
		return nil, d.errAt(d.dec.InputOffset(), "invalid JSON")
	}
}

func (d *refDecoder) value(depth int) (*node, error) {
	start := d.dec.InputOffset()
	tok, err := d.token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth > d.maxDepth {
			return nil, ingest.Errorf(ingest.ErrTooLarge, "JSON nests deeper than settings.limits.max_depth (%d) at %s",
				d.maxDepth, d.where(start))
		}
		if t == '{' {
			return d.object(depth)
		}
		return d.array(depth)
	case string:
		if len(t) > d.maxField {
			return nil, d.tooLong(start)
		}
		return &node{kind: kindString, text: t}, nil
	case json.Number:
		if len(t) > d.maxField {
			return nil, d.tooLong(start)
		}
		return &node{kind: kindNumber, text: string(t)}, nil
	case bool:
		if t {
			return &node{kind: kindBool, text: "true"}, nil
		}
		return &node{kind: kindBool, text: "false"}, nil
	default:
		return &node{kind: kindNull}, nil
	}
}

func (d *refDecoder) object(depth int) (*node, error) {
	n := &node{kind: kindObject}
	seen := map[string]struct{}{}
	for d.dec.More() {
		start := d.dec.InputOffset()
		tok, err := d.token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if len(key) > d.maxField {
			return nil, d.tooLong(start)
		}
		if _, dup := seen[key]; dup {
			return nil, ingest.Errorf(ingest.ErrMalformed, "duplicate object key at %s: the value to use is ambiguous; send each key once",
				d.where(start))
		}
		seen[key] = struct{}{}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, key)
		n.kids = append(n.kids, v)
	}
	if _, err := d.token(); err != nil {
		return nil, err
	}
	return n, nil
}

func (d *refDecoder) array(depth int) (*node, error) {
	n := &node{kind: kindArray}
	for d.dec.More() {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, v)
	}
	if _, err := d.token(); err != nil {
		return nil, err
	}
	return n, nil
}

func (d *refDecoder) tooLong(start int64) error {
	return ingest.Errorf(ingest.ErrTooLarge, "a value or key at %s is longer than settings.limits.max_field_bytes (%d)",
		d.where(start), d.maxField)
}

func (d *refDecoder) errAt(off int64, what string) error {
	return ingest.Errorf(ingest.ErrMalformed, "%s at %s", what, d.where(off))
}

func (d *refDecoder) where(off int64) string {
	for off < int64(len(d.body)) && strings.IndexByte(" \t\r\n,:", d.body[off]) >= 0 {
		off++
	}
	line, col := position(d.body, off)
	return fmt.Sprintf("line %d, column %d (byte offset %d)", line, col, off)
}
