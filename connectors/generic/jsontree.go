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

type nodeKind uint8

const (
	kindNull nodeKind = iota
	kindBool
	kindNumber
	kindString
	kindObject
	kindArray
)

// node is a decoded JSON value. Numbers keep their literal text so 64-bit
// and larger ids survive exactly; objects keep their keys in body order.
type node struct {
	kind nodeKind
	text string   // string contents, number literal, "true"/"false"
	keys []string // object keys, parallel to kids
	kids []*node  // object values or array elements
}

// decodeStrict reads body as exactly one JSON value and refuses what
// encoding/json would let through silently: invalid UTF-8 (it would become
// U+FFFD), duplicate keys (the last would win, so sender and receiver could
// read different data), and trailing data. Nesting deeper than maxDepth or a
// string, number or key longer than maxField is ErrTooLarge, because it is a
// limit rather than broken JSON. Errors give positions, never content.
func decodeStrict(body []byte, maxDepth, maxField int) (*node, error) {
	if !utf8.Valid(body) {
		off := firstInvalidUTF8(body)
		line, col := position(body, int64(off))
		return nil, ingest.Errorf(ingest.ErrMalformed, "body is not valid UTF-8 at line %d, column %d (byte offset %d)", line, col, off)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, ingest.Errorf(ingest.ErrMalformed, "body is empty: send a JSON object")
	}
	d := &decoder{body: body, dec: json.NewDecoder(bytes.NewReader(body)), maxDepth: maxDepth, maxField: maxField}
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

type decoder struct {
	body     []byte
	dec      *json.Decoder
	maxDepth int
	maxField int
}

func (d *decoder) token() (json.Token, error) {
	tok, err := d.dec.Token()
	if err == nil {
		return tok, nil
	}
	// Not the decoder's message: it quotes the offending character.
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

func (d *decoder) value(depth int) (*node, error) {
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

func (d *decoder) object(depth int) (*node, error) {
	n := &node{kind: kindObject}
	seen := map[string]struct{}{}
	for d.dec.More() {
		start := d.dec.InputOffset()
		tok, err := d.token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string) // the decoder only hands back strings in key position
		if len(key) > d.maxField {
			return nil, d.tooLong(start)
		}
		if _, dup := seen[key]; dup {
			return nil, ingest.Errorf(ingest.ErrMalformed, "duplicate object key %s at %s: the value to use is ambiguous",
				quoteName(key), d.where(start))
		}
		seen[key] = struct{}{}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, key)
		n.kids = append(n.kids, v)
	}
	if _, err := d.token(); err != nil { // '}'
		return nil, err
	}
	return n, nil
}

func (d *decoder) array(depth int) (*node, error) {
	n := &node{kind: kindArray}
	for d.dec.More() {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, v)
	}
	if _, err := d.token(); err != nil { // ']'
		return nil, err
	}
	return n, nil
}

func (d *decoder) tooLong(start int64) error {
	return ingest.Errorf(ingest.ErrTooLarge, "a value or key at %s is longer than settings.limits.max_field_bytes (%d)",
		d.where(start), d.maxField)
}

func (d *decoder) errAt(off int64, what string) error {
	return ingest.Errorf(ingest.ErrMalformed, "%s at %s", what, d.where(off))
}

// where names a position; InputOffset sits before any whitespace that
// precedes a token, so skip it to point at the token itself.
func (d *decoder) where(off int64) string {
	for off < int64(len(d.body)) && strings.IndexByte(" \t\r\n,:", d.body[off]) >= 0 {
		off++
	}
	line, col := position(d.body, off)
	return fmt.Sprintf("line %d, column %d (byte offset %d)", line, col, off)
}

// position turns a byte offset into a 1-based line and column (in bytes).
func position(body []byte, off int64) (line, col int) {
	if off > int64(len(body)) {
		off = int64(len(body))
	}
	before := body[:off]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}
