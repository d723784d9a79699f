package generic

import (
	"bytes"
	"fmt"
	"slices"
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
//
// A hand-written parser reads the body in one pass: encoding/json's
// Decoder.Token, used before, allocates for every token, and this runs for
// every delivery. Its errors, positions included, are those of that Token
// walk, kept in jsontree_ref_test.go as the reference, because operators
// and tests match on them.
func decodeStrict(body []byte, maxDepth, maxField int) (*node, error) {
	if !utf8.Valid(body) {
		off := firstInvalidUTF8(body)
		line, col := position(body, int64(off))
		return nil, ingest.Errorf(ingest.ErrMalformed, "body is not valid UTF-8 at line %d, column %d (byte offset %d)", line, col, off)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, ingest.Errorf(ingest.ErrMalformed, "body is empty: send a JSON object")
	}
	p := &parser{body: body, maxDepth: maxDepth, maxField: maxField, chunk: min(max(len(body)/16, 8), 256)}
	p.kids, p.keys = p.kidStack[:0], p.keyStack[:0]
	root, err := p.value(1)
	if err != nil {
		return nil, err
	}
	if end := p.pos; p.skipSpace() {
		return nil, p.errAt(end, "unexpected data after the JSON value")
	}
	return root, nil
}

type parser struct {
	body     []byte
	pos      int
	maxDepth int
	maxField int

	// lits counts the bytes of the strings (keys included), numbers and
	// literals read so far. encoding/json read each of those with a scanner
	// whose byte count it never reset, and put that count, not the input
	// offset, into a syntax error found inside one; see syntaxIn.
	lits int

	// Nodes and the kids and keys slices are cut from shared chunks of
	// chunk elements: a typical body then needs a few allocations instead
	// of one per value.
	chunk   int
	nodes   []node
	kidSlab []*node
	keySlab []string

	// kids and keys hold the children of the containers being read,
	// innermost last, until a container knows its length and copies its
	// own into the slabs. They start in the arrays, enough for most bodies.
	kids     []*node
	keys     []string
	kidStack [16]*node
	keyStack [16]string

	buf  []byte // unescaping scratch
	text string // the body as a string, made for the first key; see str
}

// value reads the value that starts at the next non-space byte, where
// encoding/json's Token would accept a value.
func (p *parser) value(depth int) (*node, error) {
	if !p.skipSpace() {
		return nil, p.endsEarly()
	}
	start := p.pos
	switch c := p.body[start]; c {
	case '{', '[':
		if depth > p.maxDepth {
			return nil, ingest.Errorf(ingest.ErrTooLarge, "JSON nests deeper than settings.limits.max_depth (%d) at %s",
				p.maxDepth, p.where(start))
		}
		p.pos++
		if c == '{' {
			return p.object(depth)
		}
		return p.array(depth)
	case ']', '}', ',', ':':
		return nil, p.syntaxAt(start)
	case '"':
		s, err := p.str(false)
		if err != nil {
			return nil, err
		}
		if len(s) > p.maxField {
			return nil, p.tooLong(start)
		}
		return p.newNode(kindString, s), nil
	case 't':
		return p.word("true", kindBool, "true")
	case 'f':
		return p.word("false", kindBool, "false")
	case 'n':
		return p.word("null", kindNull, "")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		s, err := p.number()
		if err != nil {
			return nil, err
		}
		if len(s) > p.maxField {
			return nil, p.tooLong(start)
		}
		return p.newNode(kindNumber, s), nil
	default:
		// Token handed any other byte to its value scanner, which failed
		// on it; see syntaxIn.
		return nil, p.syntaxIn(start, start)
	}
}

// object and array accept what encoding/json's Token accepted in each
// state, and report a byte out of place at its own offset, as it did.
func (p *parser) object(depth int) (*node, error) {
	n := p.newNode(kindObject, "")
	kidBase, keyBase := len(p.kids), len(p.keys)
	var index map[string]struct{}
	for first := true; ; first = false {
		if done, err := p.nextItem(first, '}'); done || err != nil {
			if err != nil {
				return nil, err
			}
			break
		}
		if !p.skipSpace() {
			return nil, p.endsEarly()
		}
		if p.body[p.pos] != '"' {
			return nil, p.syntaxAt(p.pos)
		}
		start := p.pos
		key, err := p.str(true)
		if err != nil {
			return nil, err
		}
		if len(key) > p.maxField {
			return nil, p.tooLong(start)
		}
		if isDup(p.keys[keyBase:], key, &index) {
			return nil, ingest.Errorf(ingest.ErrMalformed, "duplicate object key at %s: the value to use is ambiguous; send each key once",
				p.where(start)) // the position, not the key: a key may be personal data
		}
		if !p.skipSpace() {
			return nil, p.endsEarly()
		}
		if p.body[p.pos] != ':' {
			return nil, p.syntaxAt(p.pos)
		}
		p.pos++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.keys = append(p.keys, key)
		p.kids = append(p.kids, v)
	}
	n.keys = carve(&p.keySlab, p.keys[keyBase:], p.chunk)
	n.kids = carve(&p.kidSlab, p.kids[kidBase:], p.chunk)
	p.keys, p.kids = p.keys[:keyBase], p.kids[:kidBase]
	return n, nil
}

// nextItem reads what comes before an element of an object or array: the
// closing byte (done), or, before every element but the first, a comma.
func (p *parser) nextItem(first bool, closing byte) (done bool, err error) {
	if !p.skipSpace() {
		return false, p.endsEarly()
	}
	c := p.body[p.pos]
	if c == closing {
		p.pos++
		return true, nil
	}
	if !first {
		if c != ',' {
			return false, p.syntaxAt(p.pos)
		}
		p.pos++
	}
	return false, nil
}

func (p *parser) array(depth int) (*node, error) {
	n := p.newNode(kindArray, "")
	base := len(p.kids)
	for first := true; ; first = false {
		if done, err := p.nextItem(first, ']'); done || err != nil {
			if err != nil {
				return nil, err
			}
			break
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.kids = append(p.kids, v)
	}
	n.kids = carve(&p.kidSlab, p.kids[base:], p.chunk)
	p.kids = p.kids[:base]
	return n, nil
}

// isDup reports whether key is among keys, the object's earlier ones, and
// remembers it. Small objects are searched directly; a map pays off only
// once an object has many keys.
func isDup(keys []string, key string, index *map[string]struct{}) bool {
	const direct = 16
	if *index == nil {
		if len(keys) < direct {
			return slices.Contains(keys, key)
		}
		*index = make(map[string]struct{}, 2*len(keys))
		for _, k := range keys {
			(*index)[k] = struct{}{}
		}
	}
	if _, dup := (*index)[key]; dup {
		return true
	}
	(*index)[key] = struct{}{}
	return false
}

func (p *parser) newNode(kind nodeKind, text string) *node {
	if len(p.nodes) == cap(p.nodes) {
		p.nodes = make([]node, 0, p.chunk)
	}
	p.nodes = p.nodes[:len(p.nodes)+1]
	n := &p.nodes[len(p.nodes)-1]
	n.kind, n.text = kind, text
	return n
}

// carve copies src into a slice cut from *slab, capped at its length so an
// append to it can never overwrite a neighbour. Empty stays nil, as it was
// when nodes were built with append.
func carve[T any](slab *[]T, src []T, chunk int) []T {
	n := len(src)
	if n == 0 {
		return nil
	}
	if cap(*slab)-len(*slab) < n {
		*slab = make([]T, 0, max(n, chunk))
	}
	i := len(*slab)
	*slab = append(*slab, src...)
	return (*slab)[i : i+n : i+n]
}

// skipSpace moves past JSON whitespace and reports whether a byte is left.
func (p *parser) skipSpace() bool {
	for ; p.pos < len(p.body); p.pos++ {
		switch p.body[p.pos] {
		case ' ', '\t', '\r', '\n':
		default:
			return true
		}
	}
	return false
}

func (p *parser) tooLong(start int) error {
	return ingest.Errorf(ingest.ErrTooLarge, "a value or key at %s is longer than settings.limits.max_field_bytes (%d)",
		p.where(start), p.maxField)
}

// syntaxAt is a misplaced byte between values: encoding/json's Token
// reported it at its input offset.
func (p *parser) syntaxAt(off int) error {
	return p.errAt(off, "invalid JSON syntax")
}

// syntaxIn is a bad byte at off inside the string, number or literal that
// starts at start; see parser.lits for the offset encoding/json gave it.
func (p *parser) syntaxIn(start, off int) error {
	return p.errAt(p.lits+off-start+1, "invalid JSON syntax")
}

func (p *parser) endsEarly() error {
	return p.errAt(len(p.body), "JSON ends early")
}

func (p *parser) errAt(off int, what string) error {
	return ingest.Errorf(ingest.ErrMalformed, "%s at %s", what, p.where(off))
}

// where names a position. encoding/json's offsets could sit on the
// whitespace, comma or colon before a token, and the messages have always
// named the token itself, so skip those. (The parser reports limits and
// duplicate keys at the token's own offset, where that skip also ends.)
func (p *parser) where(off int) string {
	for off < len(p.body) && strings.IndexByte(" \t\r\n,:", p.body[off]) >= 0 {
		off++
	}
	line, col := position(p.body, int64(off))
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
