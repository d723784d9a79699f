package generic

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/ingest"
)

// decodeCase is a body and the limits to read it with; want, when set, pins
// the message so the table also documents what the reference reports.
type decodeCase struct {
	name     string
	body     string
	maxDepth int
	maxField int
	want     string
}

const (
	defDepth = 32
	defField = 64 << 10
	// zeroLimit asks for a limit of 0: a 0 in a case means the default.
	zeroLimit = -1
)

func (c decodeCase) limits() (maxDepth, maxField int) {
	pick := func(v, def int) int {
		switch v {
		case 0:
			return def
		case zeroLimit:
			return 0
		}
		return v
	}
	return pick(c.maxDepth, defDepth), pick(c.maxField, defField)
}

// decodeCases cover every error kind and the quirks of the Token walk that
// decodeStrict must keep. Offsets of syntax errors inside strings, numbers
// and literals count only the bytes of those read before (see parser.lits).
var decodeCases = []decodeCase{
	// Valid documents.
	{name: "empty object", body: `{}`},
	{name: "empty array", body: `[]`},
	{name: "spaces everywhere", body: " \t\r\n{ \"a\" :\n[ 1 ,\t2 ] , \"b\" : { } }\r\n"},
	{name: "scalar string root", body: `"str"`},
	{name: "scalar number root", body: `123`},
	{name: "scalar literals", body: `[true,false,null]`},
	{name: "root null", body: `null`},
	{name: "numbers", body: `[0,-0,1,-1,0.5,-0.5e+10,1E-2,12e3,0e0,1.25E+07,12345678901234567890123]`},
	{name: "nested", body: `{"a":{"b":{"c":[[],{},[{}]]}},"d":[1,[2,[3]]]}`},
	{name: "utf8 text", body: `{"é":"測試🚀","arabic":"مرحبا"}`},
	{name: "simple escapes", body: `["\"\\\/\b\f\n\r\t"]`},
	{name: "unicode escapes", body: `["\u00e9\u6E2C\u0000\u001f\u007F"]`},
	{name: "surrogate pair", body: `["\ud83d\ude80 rocket"]`},
	{name: "lone high surrogate", body: `["\ud83d"]`},
	{name: "lone high then text", body: `["\ud83dx"]`},
	{name: "lone low surrogate", body: `["\ude80"]`},
	{name: "high high low", body: `["\ud83d\ud83d\ude80"]`},
	{name: "high then bmp escape", body: `["\ud83d\u0041"]`},
	{name: "high then other escape", body: `["\ud83d\n"]`},
	{name: "low then high low", body: `["\udc00\ud83d\ude80"]`},
	{name: "high at string end", body: `["ab\ud800","\udbff\udfff"]`},
	{name: "DEL and high bytes raw", body: "[\"\x7f\u00a0\u2028\"]"},
	{name: "escaped keys", body: `{"\u0062":1,"a\nb":2,"\ud83d":3}`},
	{name: "same key in sibling objects", body: `{"a":{"a":1},"b":{"a":2}}`},
	{name: "many keys", body: manyKeys(40, -1)},
	{name: "long string", body: `["` + strings.Repeat("x", 2000) + `"]`},
	{name: "deep array", body: strings.Repeat("[", 5000) + strings.Repeat("]", 5000), maxDepth: 1 << 30},

	// Not JSON at all.
	{name: "empty", body: ``, want: "body is empty"},
	{name: "only spaces", body: " \n\t\r ", want: "body is empty"},
	{name: "unicode space", body: "\u00a0\v\f", want: "body is empty"},
	{name: "vertical tab", body: "\v{}", want: "invalid JSON syntax at line 1, column 2 (byte offset 1)"},
	{name: "invalid utf8", body: "{\"a\":\"\xff\"}", want: "body is not valid UTF-8 at line 1, column 7 (byte offset 6)"},
	{name: "invalid utf8 surrogate", body: "[\"\xed\xa0\x80\"]"},
	{name: "invalid utf8 truncated rune", body: "\n[\"\xe6\xb8\"]"},

	// Data after the value.
	{name: "two objects", body: "{}\n{}", want: "unexpected data after the JSON value at line 2, column 1 (byte offset 3)"},
	{name: "junk after", body: `{}x`},
	{name: "comma after", body: `{},`, want: "unexpected data after the JSON value at line 1, column 4 (byte offset 3)"},
	{name: "colon space after", body: "{}: x"},
	{name: "bracket after", body: `{}]`},
	{name: "two numbers", body: `1 2`},
	{name: "two strings", body: `"a""b"`},
	{name: "literal with tail", body: `truex`},
	{name: "leading zero root", body: `01`},
	{name: "open string after", body: `[] "unterminated`},
	{name: "space then junk", body: "{}\n\n  x"},

	// Misplaced bytes between values: at their own offset.
	{name: "comma first in object", body: `{,}`, want: "invalid JSON syntax at line 1, column 3 (byte offset 2)"},
	{name: "trailing comma object", body: `{"a":1,}`},
	{name: "missing colon", body: `{"a" 1}`},
	{name: "missing colon string", body: "{\n  \"email\": \"a@example.com\",\n  \"name\" \"Ana\"\n}", want: "invalid JSON syntax at line 3, column 10"},
	{name: "missing comma object", body: `{"a":1 "b":2}`},
	{name: "missing comma array", body: `[1 2]`},
	{name: "trailing comma array", body: `[1,]`},
	{name: "leading comma array", body: `[,1]`},
	{name: "object closed by bracket", body: `{]`},
	{name: "array closed by brace", body: `[}`},
	{name: "value then bracket", body: `{"a":1]`},
	{name: "element then brace", body: `[1}`},
	{name: "colon as key", body: `{:}`},
	{name: "double colon", body: `{"a"::1}`},
	{name: "comma as value", body: `{"a":,}`},
	{name: "number key", body: `{1:2}`},
	{name: "double comma", body: `{"a":1,,"b":2}`},
	{name: "comma then brace", body: `{"a":1, }`},
	{name: "object as key", body: `{{}:1}`},
	{name: "lone colon", body: `:`},
	{name: "lone comma", body: `,`},
	{name: "lone bracket", body: `]`},
	{name: "lone brace", body: `}`},
	{name: "colon in array", body: `[:]`},
	{name: "value after key then colon", body: `{"a" "b":1}`},
	{name: "array after value", body: `[1[]]`},
	{name: "object after value", body: `{"a":1{}}`},
	{name: "nested bad close", body: `{"a":{]}`},
	{name: "leading zero", body: `[01]`},
	{name: "leading zero negative", body: `[-01]`},
	{name: "two dots", body: `[1.5.3]`},
	{name: "two exponents", body: `[1e5e5]`},
	{name: "hex number", body: `[0x10]`},
	{name: "minus inside", body: `[1-2]`},

	// Bad bytes inside strings, numbers and literals: counted in lits.
	{name: "bad first byte", body: `x`, want: "invalid JSON syntax at line 1, column 2 (byte offset 1)"},
	{name: "plus number", body: `+1`},
	{name: "plus number in array", body: `[+1]`},
	{name: "bad value after literals", body: `{"ab":1, "c": x}`, want: "invalid JSON syntax at line 1, column 10 (byte offset 9)"},
	{name: "bad true", body: `{"a": tru}`, want: "invalid JSON syntax at line 1, column 8 (byte offset 7)"},
	{name: "bad null", body: `{"a": nul}`},
	{name: "bad false", body: `{"a":fals}`},
	{name: "bad false early", body: `[fxlse]`},
	{name: "control in value", body: "{\"a\":\"b\x01\"}"},
	{name: "tab in string", body: "[\"a\tb\"]"},
	{name: "newline in string", body: "{\"k\":1,\n\"s\":\"a\nb\"}"},
	{name: "control in key", body: "{\"a\x01\":1}"},
	{name: "bad escape", body: `{"a":"\q"}`},
	{name: "single quote escape", body: `["\'"]`},
	{name: "bad unicode escape", body: `{"a":"\u12G4"}`},
	{name: "short unicode escape", body: `["\u12"]`},
	{name: "minus alone", body: `{"a":-}`},
	{name: "minus letter", body: `{"a":-x}`},
	{name: "dot then brace", body: `{"a":1.}`},
	{name: "dot then exponent", body: `{"a":1.e5}`},
	{name: "empty exponent", body: `{"a":1e}`},
	{name: "signed empty exponent", body: `{"a":1e+}`},
	{name: "exponent letter", body: `{"a":1ex}`},
	{name: "leading dot", body: `[.5]`},
	{name: "single quotes", body: `[1,'a']`},
	{name: "infinity", body: `[Infinity]`},
	{name: "NaN", body: `[NaN]`},
	{name: "bad value after many", body: `{"key":"value","n":12,"t":true,"z":null,"s":"x\y"}`},
	{name: "bad value far", body: `[` + strings.Repeat(`"abcdefghij",`, 60) + `tx]`},
	{name: "bad value across lines", body: "{\n\"a\": \"bb\",\n\"c\": [1, 22,\n  -]}"},

	// The body ends inside a value.
	{name: "open object", body: `{`, want: "JSON ends early at line 1, column 2 (byte offset 1)"},
	{name: "open array", body: `[`},
	{name: "key only", body: `{"a"`},
	{name: "key colon", body: `{"a":`},
	{name: "no close", body: `{"a":1`},
	{name: "comma end", body: `{"a":1,`},
	{name: "array comma end", body: `[1,`},
	{name: "open string", body: `"abc`},
	{name: "open string key", body: `{"abc`},
	{name: "open escape", body: `"abc\`},
	{name: "open unicode escape", body: `"\u12`},
	{name: "open true", body: `tr`},
	{name: "minus end", body: `-`},
	{name: "dot end", body: `1.`},
	{name: "exponent end", body: `1e`},
	{name: "exponent sign end", body: `[1e+`},
	{name: "nested open", body: "{\"a\":[\n"},
	{name: "truncated lead", body: `{"email": "a@example.com", "lead": {"name": "An`},

	// Limits.
	{name: "depth exceeded", body: `{"a":{"b":1}}`, maxDepth: 1, want: "JSON nests deeper than settings.limits.max_depth (1) at line 1, column 6 (byte offset 5)"},
	{name: "depth exceeded array", body: "[ [\n [ ] ] ]", maxDepth: 2},
	{name: "depth zero object", body: ` {}`, maxDepth: zeroLimit},
	{name: "depth zero scalar", body: ` 1`, maxDepth: zeroLimit},
	{name: "depth exact", body: `[[1]]`, maxDepth: 2},
	{name: "depth before syntax", body: `{"a":{"b" x}}`, maxDepth: 1},
	{name: "syntax before depth", body: `{"a" x {"b":1}}`, maxDepth: 1},
	{name: "depth in second element", body: `[1, [2]]`, maxDepth: 1},
	{name: "key too long", body: `{"aaaa":1}`, maxField: 3, want: "a value or key at line 1, column 2 (byte offset 1) is longer than settings.limits.max_field_bytes (3)"},
	{name: "second key too long", body: `{"a":1,  "bbbb":1}`, maxField: 3},
	{name: "value too long", body: `{"a": "bbbb"}`, maxField: 3},
	{name: "escaped value fits", body: `["\u00e9\u00e9"]`, maxField: 4},
	{name: "escaped value too long", body: `["\u00e9\u00e9"]`, maxField: 3},
	{name: "number too long", body: `[1, 12345]`, maxField: 4},
	{name: "number fits", body: `[1, 1234]`, maxField: 4},
	{name: "literals ignore limit", body: `[true,false,null]`, maxField: zeroLimit},
	{name: "empty key at zero", body: `{"":""}`, maxField: zeroLimit},
	{name: "long key before dup", body: `{"aaaa":1,"aaaa":2}`, maxField: 3},
	{name: "long value before syntax", body: `["aaaa" x]`, maxField: 3},
	{name: "syntax inside long value", body: `["aaaa\x"]`, maxField: 3},

	// Duplicate keys.
	{name: "duplicate", body: "{\n  \"a\": 1,\n  \"a\": 2\n}", want: "duplicate object key at line 3, column 3 (byte offset 14): the value to use is ambiguous; send each key once"},
	{name: "duplicate by escape", body: `{"a":1,"\u0061":2}`},
	{name: "duplicate nested", body: `{"x":{"b":1,"b":{}}}`},
	{name: "duplicate long name", body: `{"` + strings.Repeat("é", 70) + `":1,"` + strings.Repeat("é", 70) + `":2}`},
	{name: "duplicate in big object", body: manyKeys(40, 7)},
	{name: "duplicate at map threshold", body: manyKeys(16, 0)},
	{name: "duplicate before bad value", body: `{"a":1,"a":x}`},
}

// manyKeys is an object with n distinct keys, and then key dupOf again
// unless it is negative.
func manyKeys(n, dupOf int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		b.WriteString(`"k` + strconv.Itoa(i) + `":` + strconv.Itoa(i) + `,`)
	}
	if dupOf >= 0 {
		b.WriteString(`"k` + strconv.Itoa(dupOf) + `":0,`)
	}
	b.WriteString(`"last":true}`)
	return b.String()
}

func TestDecodeStrictMatchesReference(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			depth, field := c.limits()
			_, err := sameAsReference(t, []byte(c.body), depth, field)
			if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestDecodeErrorsQuoteNoContent: every error decodeStrict makes goes into
// the 400 body and the log, so it may name a position but never repeat a
// key or value, which may be personal data.
func TestDecodeErrorsQuoteNoContent(t *testing.T) {
	const marker = "zz-marker@example.com"
	for _, c := range []decodeCase{
		{name: "duplicate key", body: `{"` + marker + `":1,"` + marker + `":2}`, want: "duplicate object key at line 1, column 28 (byte offset 27)"},
		{name: "duplicate nested key", body: `{"lead":{"` + marker + `":1,"` + marker + `":2}}`, want: "send each key once"},
		{name: "key too long", body: `{"` + marker + `":1}`, maxField: 3, want: "a value or key at line 1, column 2"},
		{name: "value too long", body: `{"a":"` + marker + `"}`, maxField: 3, want: "a value or key at line 1, column 6"},
		{name: "syntax after a key", body: `{"` + marker + `" x}`, want: "invalid JSON syntax at line 1"},
		{name: "syntax in a value", body: `["` + marker + `\x"]`, want: "invalid JSON syntax at line 1"},
		{name: "ends inside a value", body: `{"a":"` + marker, want: "JSON ends early at line 1"},
		{name: "data after the value", body: `{} "` + marker + `"`, want: "unexpected data after the JSON value"},
	} {
		t.Run(c.name, func(t *testing.T) {
			depth, field := c.limits()
			_, err := decodeStrict([]byte(c.body), depth, field)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want it to contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "zz-marker") {
				t.Fatalf("error = %v, repeats payload content", err)
			}
		})
	}
}

// sameAsReference decodes body with both implementations and fails unless
// the trees and the error messages and kinds are identical.
func sameAsReference(t testing.TB, body []byte, maxDepth, maxField int) (*node, error) {
	t.Helper()
	want, wantErr := refDecodeStrict(body, maxDepth, maxField)
	got, gotErr := decodeStrict(body, maxDepth, maxField)
	if errText(gotErr) != errText(wantErr) || errKind(gotErr) != errKind(wantErr) {
		t.Fatalf("body %q, limits %d/%d:\n got error %v (%v)\nwant error %v (%v)",
			body, maxDepth, maxField, gotErr, errKind(gotErr), wantErr, errKind(wantErr))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("body %q, limits %d/%d: trees differ:\n got %s\nwant %s", body, maxDepth, maxField, dump(got), dump(want))
	}
	checkCaps(t, got)
	return got, gotErr
}

// checkCaps: slices cut from a shared chunk must have no spare capacity,
// or an append by a caller would overwrite the next node's data.
func checkCaps(t testing.TB, n *node) {
	t.Helper()
	if n == nil {
		return
	}
	if cap(n.kids) != len(n.kids) || cap(n.keys) != len(n.keys) {
		t.Fatalf("node with %d kids has spare capacity", len(n.kids))
	}
	for _, k := range n.kids {
		checkCaps(t, k)
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func errKind(err error) error {
	for _, s := range []error{ingest.ErrMalformed, ingest.ErrTooLarge} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

func dump(n *node) string {
	if n == nil {
		return "nil"
	}
	switch n.kind {
	case kindObject:
		parts := make([]string, len(n.kids))
		for i, k := range n.kids {
			parts[i] = strconv.Quote(n.keys[i]) + ":" + dump(k)
		}
		return "{" + strings.Join(parts, ",") + "}"
	case kindArray:
		parts := make([]string, len(n.kids))
		for i, k := range n.kids {
			parts[i] = dump(k)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case kindString:
		return strconv.Quote(n.text)
	case kindNull:
		return "null" + n.text
	}
	return strconv.Itoa(int(n.kind)) + ":" + n.text
}

// FuzzDecodeStrict: for any body and limits, the parser gives the tree and
// the error of the encoding/json Token walk it replaced.
func FuzzDecodeStrict(f *testing.F) {
	for _, c := range decodeCases {
		if len(c.body) > 1024 {
			continue // minimizing inputs grown from it would stall the fuzzer
		}
		depth, field := c.limits()
		f.Add([]byte(c.body), uint8(min(depth, 255)), uint16(min(field, 0xffff)))
	}
	for _, body := range testdataBodies(f) {
		f.Add(body, uint8(defDepth), uint16(0xffff))
		f.Add(body, uint8(2), uint16(8))
	}
	f.Fuzz(func(t *testing.T, body []byte, depth uint8, field uint16) {
		sameAsReference(t, body, defDepth, defField)
		sameAsReference(t, body, int(depth), int(field))
	})
}

// testdataBodies gathers the request bodies of the connector's case files
// and the FuzzParse corpus.
func testdataBodies(f *testing.F) [][]byte {
	f.Helper()
	var bodies [][]byte
	cases, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range cases {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var c struct {
			Request struct {
				Body     json.RawMessage `json:"body"`
				BodyText *string         `json:"body_text"`
			} `json:"request"`
			Extra struct {
				BodyBase64 string `json:"body_base64"`
			} `json:"extra"`
		}
		if err := json.Unmarshal(data, &c); err != nil {
			f.Fatalf("%s: %v", file, err)
		}
		if c.Request.Body != nil {
			bodies = append(bodies, c.Request.Body)
		}
		if c.Request.BodyText != nil {
			bodies = append(bodies, []byte(*c.Request.BodyText))
		}
		if c.Extra.BodyBase64 != "" {
			b, err := base64.StdEncoding.DecodeString(c.Extra.BodyBase64)
			if err != nil {
				f.Fatalf("%s: %v", file, err)
			}
			bodies = append(bodies, b)
		}
	}
	corpus, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range corpus {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if s, ok := strings.CutPrefix(line, "[]byte("); ok {
				b, err := strconv.Unquote(strings.TrimSuffix(s, ")"))
				if err != nil {
					f.Fatalf("%s: %v", file, err)
				}
				bodies = append(bodies, []byte(b))
			}
		}
	}
	if len(bodies) < 20 {
		f.Fatalf("only %d seed bodies found", len(bodies))
	}
	return bodies
}
