package generic

import (
	"unicode/utf16"
	"unicode/utf8"
)

// The readers below take the grammar of strings, numbers and literals, and
// the unescaping, from encoding/json (scanner.go and unquote in decode.go),
// whose results decodeStrict must keep: a number ends where that scanner's
// would ("01" is "0" followed by a stray "1"), and a bad byte or the end of
// the body is found at the same place.

// plain marks the string bytes that need no attention: not a quote, a
// backslash or a control character.
var plain = func() (t [256]bool) {
	for c := 0x20; c < len(t); c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads the string whose opening quote is at p.pos and returns its
// contents unescaped. A key is cut from one copy of the whole body rather
// than copied alone: keys never outlive the parse (flatten copies them into
// field names), while values do, and must not pin the body in memory.
func (p *parser) str(key bool) (string, error) {
	b, start := p.body, p.pos
	escaped := false
	i := start + 1
	for {
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			return "", p.endsEarly()
		}
		switch b[i] {
		case '"':
			p.pos = i + 1
			p.lits += p.pos - start
			switch {
			case escaped:
				return p.unescape(b[start+1 : i]), nil
			case key:
				if p.text == "" {
					p.text = string(b)
				}
				return p.text[start+1 : i], nil
			}
			return string(b[start+1 : i]), nil
		case '\\':
			escaped = true
			i++
			if i >= len(b) {
				return "", p.endsEarly()
			}
			switch b[i] {
			case 'b', 'f', 'n', 'r', 't', '\\', '/', '"':
				i++
			case 'u':
				for k := i + 1; k <= i+4; k++ {
					if k >= len(b) {
						return "", p.endsEarly()
					}
					if !isHex(b[k]) {
						return "", p.syntaxIn(start, k)
					}
				}
				i += 5
			default:
				return "", p.syntaxIn(start, i)
			}
		default: // a control character
			return "", p.syntaxIn(start, i)
		}
	}
}

// unescape decodes the contents of a string that str has checked. A \u
// escape of half a surrogate pair that is not followed by the other half
// becomes U+FFFD, as in encoding/json; raw bytes are copied, since the
// body is known to be valid UTF-8.
func (p *parser) unescape(s []byte) string {
	buf := p.buf[:0]
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' {
				j++
			}
			buf = append(buf, s[i:j]...)
			i = j
			continue
		}
		switch c := s[i+1]; c {
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r := hex4(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = hex4(s[i+2 : i+6])
				}
				if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
					r = pair
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
			continue
		default: // '"', '\\', '/'
			buf = append(buf, c)
		}
		i += 2
	}
	p.buf = buf
	return string(buf)
}

// number reads the number that starts at p.pos and returns its literal text.
func (p *parser) number() (string, error) {
	b, start := p.body, p.pos
	i := start
	if b[i] == '-' {
		i++
		if err := p.digitAt(start, i); err != nil {
			return "", err
		}
	}
	if b[i] == '0' {
		i++
	} else {
		i = digits(b, i)
	}
	if i < len(b) && b[i] == '.' {
		i++
		if err := p.digitAt(start, i); err != nil {
			return "", err
		}
		i = digits(b, i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if err := p.digitAt(start, i); err != nil {
			return "", err
		}
		i = digits(b, i)
	}
	p.pos = i
	p.lits += i - start
	return string(b[start:i]), nil
}

// digitAt requires a digit at i, inside the number that starts at start:
// after a minus sign, a decimal point or an exponent.
func (p *parser) digitAt(start, i int) error {
	if i >= len(p.body) {
		return p.endsEarly()
	}
	if !isDigit(p.body[i]) {
		return p.syntaxIn(start, i)
	}
	return nil
}

// word reads the literal lit (true, false or null) that starts at p.pos.
// Like encoding/json, it does not look at the byte after it.
func (p *parser) word(lit string, kind nodeKind, text string) (*node, error) {
	start := p.pos
	for k := 1; k < len(lit); k++ {
		i := start + k
		if i >= len(p.body) {
			return nil, p.endsEarly()
		}
		if p.body[i] != lit[k] {
			return nil, p.syntaxIn(start, i)
		}
	}
	p.pos += len(lit)
	p.lits += len(lit)
	return p.newNode(kind, text), nil
}

func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// hex4 decodes four hex digits that str has checked.
func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
