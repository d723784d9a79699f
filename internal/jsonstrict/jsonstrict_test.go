package jsonstrict

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string // want "" = accepted
	}{
		{"plain", `{"a":1,"b":{"c":[1,{"d":2}],"e":"x"}}`, ""},
		{"same key in sibling objects", `{"a":{"k":1},"b":{"k":2},"c":[{"k":1},{"k":2}]}`, ""},
		{"duplicate at the top", `{"purpose":"spam","purpose":"analytics"}`, "given twice"},
		{"duplicate nested", `{"a":{"x":1,"y":[{"k":1,"k":2}]}}`, "given twice"},
		{"duplicate after a nested value", `{"a":{"b":1},"a":2}`, "given twice"},
		{"invalid UTF-8", "{\"email\":\"a\xff@example.com\"}", "UTF-8"},
		{"not JSON", `{"a":`, ""}, // left to the decoder
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check([]byte(tc.body))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), "purpose") || strings.Contains(err.Error(), "example.com")) {
				t.Fatalf("the error quotes the body: %v", err)
			}
		})
	}
}
