package jsonw

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// Decision rules and field actions reach the audit table through these
// encoders; what they write must be what json.Marshal wrote before them.
var tricky = []string{
	"", "plain", `quote " and \ backslash`, "<script>&</script>", "tab\tnew\nline\r",
	"\x00\x01\x1f\x7f", "é ü 東京 🙂", "\u2028\u2029", "bad \xff utf-8 \xc3", "purpose.granted",
}

func TestMatchesJSONMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	random := func() string {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return string(b)
	}
	strs := append([]string(nil), tricky...)
	for range 500 {
		strs = append(strs, random())
	}
	same := func(name string, got []byte, v any) {
		t.Helper()
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: got %s, json.Marshal gives %s", name, got, want)
		}
	}
	for _, s := range strs {
		same("string", AppendString(nil, s), s)
	}
	same("nil slice", AppendStrings(nil, nil), []string(nil))
	same("empty slice", AppendStrings(nil, []string{}), []string{})
	same("slice", AppendStrings(nil, strs), strs)
	same("nil map", AppendMap(nil, map[string]string(nil), AppendString), map[string]string(nil))
	same("empty map", AppendMap(nil, map[string]string{}, AppendString), map[string]string{})
	m := map[string]string{}
	for i, s := range strs {
		m[s] = strs[len(strs)-1-i]
	}
	same("map", AppendMap(nil, m, AppendString), m)
	// Appending keeps what the buffer held.
	if got := string(AppendStrings([]byte("x="), []string{"a"})); got != `x=["a"]` {
		t.Errorf("append to a buffer: %s", got)
	}
}

// Decoded must say what a decoder reads back from AppendString, or the
// PostgreSQL begin would rebuild its own ledger entries wrong.
func TestDecodedIsWhatADecoderReadsBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	strs := append([]string(nil), tricky...)
	for range 2000 {
		b := make([]byte, rng.IntN(16))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		strs = append(strs, string(b))
	}
	for _, s := range strs {
		var back string
		if err := json.Unmarshal(AppendString(nil, s), &back); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if got := Decoded(s); got != back {
			t.Errorf("Decoded(%q) = %q, a decoder reads %q", s, got, back)
		}
	}
}

// A decision's columns as the gateway writes them for a typical lead.
var (
	benchRules  = []string{"purpose.granted", "category.contact.email", "field.phone.mask", "field.country.redact", "unmapped.drop", "record.forward"}
	benchFields = map[string]string{"email": "keep", "first_name": "keep", "last_name": "keep", "company": "keep", "phone": "mask", "country": "redact", "favourite_colour": "drop"}
)

func BenchmarkDecisionColumns(b *testing.B) {
	b.Run("jsonw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var arr [512]byte // as sqlstore encodes a decision
			buf := AppendStrings(arr[:0], benchRules)
			_ = string(buf)
			_ = string(AppendMap(buf[:0], benchFields, AppendString))
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, _ := json.Marshal(benchRules)
			f, _ := json.Marshal(benchFields)
			_, _ = string(r), string(f)
		}
	})
}
