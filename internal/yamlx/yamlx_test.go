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
