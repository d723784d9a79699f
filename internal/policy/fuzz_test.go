package policy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: any input either loads or yields Problems; it never panics
// and never returns another error type.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, file := range append(files, "../../configs/policy.yaml") {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			var probs Problems
			if !errors.As(err, &probs) || len(probs) == 0 {
				t.Fatalf("error %T is not Problems: %v", err, err)
			}
			return
		}
		for _, f := range p.Fields() {
			if _, _, ok := p.Category(f); !ok {
				t.Fatalf("field %q listed but has no category", f)
			}
		}
		_ = p.Resolve("US", "", "EU")
	})
}
