package generic

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestDecodeStrictRandomDocuments compares the parser with the reference
// on generated documents, valid and slightly broken, with small and
// default limits. The seed is fixed so a failure reproduces.
func TestDecodeStrictRandomDocuments(t *testing.T) {
	g := &docGen{r: rand.New(rand.NewPCG(2026, 11))}
	limits := [][2]int{{defDepth, defField}, {3, 8}, {1, 3}, {0, 0}, {6, 1}}
	valid, n := 0, 4000
	if testing.Short() {
		n = 500
	}
	for i := range n {
		doc := g.document()
		lim := limits[i%len(limits)]
		if _, err := sameAsReference(t, doc, defDepth, defField); err == nil {
			valid++
		}
		sameAsReference(t, doc, lim[0], lim[1])
		for range 3 {
			sameAsReference(t, g.mutate(doc), lim[0], lim[1])
			sameAsReference(t, g.mutate(doc), defDepth, defField)
		}
	}
	t.Logf("%d of %d generated documents are valid JSON", valid, n)
	// Guard against a generator that only makes errors or only valid JSON.
	if valid < n/2 || valid == n {
		t.Fatalf("%d of %d generated documents are valid", valid, n)
	}
}

// docGen writes JSON with the variety that matters to the parser: every
// escape, surrogate halves, UTF-8, every number form, odd whitespace,
// repeated keys, and now and then a broken token.
type docGen struct {
	r *rand.Rand
	b []byte
}

func (g *docGen) document() []byte {
	g.b = g.b[:0]
	g.space()
	if g.r.IntN(10) == 0 {
		g.value(3)
	} else {
		g.object(1 + g.r.IntN(4))
	}
	g.space()
	return append([]byte(nil), g.b...)
}

func (g *docGen) value(depth int) {
	n := g.r.IntN(10)
	switch {
	case depth > 0 && n < 2:
		g.object(depth - 1)
	case depth > 0 && n < 3:
		g.array(depth - 1)
	case n < 6:
		g.str()
	case n < 8:
		g.number()
	default:
		g.b = append(g.b, pick(g.r, "true", "false", "null")...)
		if g.r.IntN(60) == 0 {
			g.b = append(g.b[:len(g.b)-1], pick(g.r, "", "x", "ey")...)
		}
	}
}

func (g *docGen) object(depth int) {
	g.b = append(g.b, '{')
	for i := range g.r.IntN(6) {
		if i > 0 {
			g.b = append(g.b, ',')
		}
		g.space()
		// Few distinct keys, some spelt with escapes, so duplicates occur.
		g.b = append(g.b, pick(g.r, `"id"`, `"type"`, `"lead"`, `"a"`, `"\u0061"`, `"b"`, `"k`+strconv.Itoa(g.r.IntN(40))+`"`,
			`"em\u00e9"`, `"emé"`, `""`, `"a\"b"`, `"long key name over eight"`)...)
		g.space()
		g.b = append(g.b, ':')
		g.space()
		g.value(depth)
		g.space()
	}
	g.b = append(g.b, '}')
}

func (g *docGen) array(depth int) {
	g.b = append(g.b, '[')
	for i := range g.r.IntN(6) {
		if i > 0 {
			g.b = append(g.b, ',')
		}
		g.space()
		g.value(depth)
		g.space()
	}
	g.b = append(g.b, ']')
}

func (g *docGen) str() {
	g.b = append(g.b, '"')
	for range g.r.IntN(12) {
		if g.r.IntN(3) > 0 {
			g.b = append(g.b, byte('a'+g.r.IntN(26)))
			continue
		}
		g.b = append(g.b, pick(g.r,
			`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u00e9`, `\u6E2C`, `\u0000`, `\u001F`,
			`\ud83d\ude80`, `\uD83D\uDE80`, `\ud83d`, `\ude80`, `\ud83d\ud83d`, `\udbff\udfff`, `\ud800\u0041`,
			"é", "測", "🚀", "\u00a0", "\x7f", " ")...)
	}
	if g.r.IntN(60) == 0 {
		g.b = append(g.b, pick(g.r, `\x`, `\u12g4`, `\u`, "\x01", "\t", "\n")...)
	}
	g.b = append(g.b, '"')
}

func (g *docGen) number() {
	g.b = append(g.b, pick(g.r, "", "", "", "-")...)
	if g.r.IntN(4) == 0 {
		g.b = append(g.b, '0')
	} else {
		g.b = strconv.AppendUint(g.b, g.r.Uint64()>>g.r.IntN(64), 10)
	}
	if g.r.IntN(3) == 0 {
		g.b = append(g.b, '.')
		g.b = strconv.AppendInt(g.b, int64(g.r.IntN(1000)), 10)
	}
	if g.r.IntN(4) == 0 {
		g.b = append(g.b, pick(g.r, "e", "E", "e+", "E-", "e-")...)
		g.b = strconv.AppendInt(g.b, int64(g.r.IntN(400)), 10)
	}
	if g.r.IntN(60) == 0 {
		g.b = append(g.b, pick(g.r, ".", "e", "-", "0", "x", ".e1")...)
	}
}

func (g *docGen) space() {
	for g.r.IntN(4) == 0 {
		g.b = append(g.b, pick(g.r, " ", "\t", "\r", "\n", "\n  ")...)
	}
}

// mutate breaks doc in one to three places, mostly with bytes that mean
// something to JSON.
func (g *docGen) mutate(doc []byte) []byte {
	out := append([]byte(nil), doc...)
	for range 1 + g.r.IntN(3) {
		if len(out) == 0 {
			break
		}
		i := g.r.IntN(len(out))
		switch g.r.IntN(6) {
		case 0:
			out = append(out[:i], out[i+1:]...)
		case 1:
			out = append(out[:i], append([]byte{g.byte()}, out[i:]...)...)
		case 2:
			out[i] = g.byte()
		case 3:
			out = out[:i]
		case 4:
			j := min(len(out), i+1+g.r.IntN(8))
			out = append(out[:j], append(append([]byte(nil), out[i:j]...), out[j:]...)...)
		default:
			j := g.r.IntN(len(out))
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

func (g *docGen) byte() byte {
	const interesting = "{}[],:\"\\ \t\n0123456789.-+eEtfnulx'\x01\x00\xff\xc3"
	return interesting[g.r.IntN(len(interesting))]
}

func pick(r *rand.Rand, choices ...string) string { return choices[r.IntN(len(choices))] }
