package yamlx

import (
	"testing"
	"time"
)

type sample struct {
	Count  int               `yaml:"count"`
	Rate   float64           `yaml:"rate"`
	Name   string            `yaml:"name"`
	Wait   time.Duration     `yaml:"wait"`
	On     *bool             `yaml:"on"`
	List   []string          `yaml:"list"`
	Labels map[string]string `yaml:"labels"`
	Nested struct {
		Depth int `yaml:"depth"`
	} `yaml:"nested"`
}

func decode(t *testing.T, text string) Problems {
	t.Helper()
	root, ps := Parse("f.yaml", []byte(text))
	if len(ps) > 0 {
		t.Fatalf("parse: %v", ps)
	}
	var s sample
	return Decode("f.yaml", root, &s, "")
}

// Wrong types read as "got X, want Y" for lists and mappings too (yaml.v3
// writes no value for them), with articles that fit.
func TestWrongTypeMessages(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"count: [1]", "f.yaml:1: count: wrong type: got a list, want a whole number"},
		{"count: {a: 1}", "f.yaml:1: count: wrong type: got a mapping, want a whole number"},
		{"count: abc", "f.yaml:1: count: wrong type: got a string, want a whole number"},
		{"name: [x]", "f.yaml:1: name: wrong type: got a list, want a string"},
		{"rate: fast", "f.yaml:1: rate: wrong type: got a string, want a number"},
		{"rate: [1]", "f.yaml:1: rate: wrong type: got a list, want a number"},
		{"wait: 5", "f.yaml:1: wait: wrong type: got a whole number, want a duration such as \"5s\" or \"168h\""},
		{"on: 2", "f.yaml:1: on: wrong type: got a whole number, want true or false"},
		{"list: 3", "f.yaml:1: list: wrong type: got a whole number, want a list"},
		{"labels: 1.5", "f.yaml:1: labels: wrong type: got a decimal number, want a mapping"},
		{"nested: 7", "f.yaml:1: nested: wrong type: got a whole number, want a mapping"},
	} {
		t.Run(tc.yaml, func(t *testing.T) {
			got := decode(t, tc.yaml).Error()
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// A key written twice is one problem naming both lines; the first copy is
// kept, so the rest of the mapping still decodes (no false "is required").
func TestDuplicateKeys(t *testing.T) {
	root, ps := Parse("f.yaml", []byte("count: 1\nname: a\nnested:\n  depth: 1\n  depth: 2\nlabels:\n  a: x\n  a: y\ncount: 2\n"))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	var s sample
	got := Decode("f.yaml", root, &s, "").Err()
	want := "f.yaml:5: nested.depth: defined twice (first at line 4); keep one\n" +
		"f.yaml:8: labels.a: defined twice (first at line 7); keep one\n" +
		"f.yaml:9: count: defined twice (first at line 1); keep one"
	if got == nil || got.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", got, want)
	}
	if s.Count != 1 || s.Name != "a" || s.Nested.Depth != 1 || s.Labels["a"] != "x" {
		t.Errorf("the rest did not decode from the first copies: %+v", s)
	}
}

// Decoder messages lose only their leading "line N: ", not the lines they
// mention.
func TestTypeMsgKeepsInnerLines(t *testing.T) {
	got := typeMsg(`line 12: mapping key "kafka" already defined at line 3`)
	if want := `mapping key "kafka" already defined at line 3`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// yaml.v3 would silently truncate 1.5 to 1 for an integer field.
func TestFractionForWholeNumber(t *testing.T) {
	got := decode(t, "count: 1.5\nnested:\n  depth: 2.0\nwait: 1.5\n").Error()
	want := "f.yaml:1: count: wrong type: got a decimal number, want a whole number\n" +
		`f.yaml:4: wait: wrong type: got a decimal number, want a duration such as "5s" or "168h"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
