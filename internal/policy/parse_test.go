package policy

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the *.golden and *.warnings files")

// Each testdata/bad/X.yaml must be refused with exactly the message in
// X.golden: operators read these, so their wording is part of the contract.
func TestBadPoliciesGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad policies: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			p, err := Load(file)
			if err == nil {
				t.Fatalf("Load accepted a bad policy (version %q)", p.Version)
			}
			var probs Problems
			if !errors.As(err, &probs) || len(probs) == 0 {
				t.Fatalf("error is %T, want Problems: %v", err, err)
			}
			for _, pr := range probs {
				if pr.File != file {
					t.Errorf("problem names file %q, want %q", pr.File, file)
				}
			}
			checkGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", err.Error()+"\n")
		})
	}
}

func TestGoodPolicies(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.yaml")
	files = append(files, "../../configs/policy.yaml")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			p, err := Load(file)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if p.Version == "" {
				t.Error("empty version")
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".warnings"
			if strings.HasPrefix(file, "testdata/") {
				checkGolden(t, golden, strings.Join(p.Warnings(), "\n")+"\n")
			} else if w := p.Warnings(); len(w) > 0 {
				t.Errorf("shipped policy has warnings:\n%s", strings.Join(w, "\n"))
			}
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create): %v", err)
	}
	if got != string(want) {
		t.Errorf("message differs from %s\n--- got ---\n%s--- want ---\n%s", path, got, want)
	}
}

func TestSamplePolicyModel(t *testing.T) {
	p, err := Load("../../configs/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	name, c, ok := p.Category("email")
	if !ok || name != "contact.email" || c.Otherwise != Hash || !slices.Contains(c.Purposes, "marketing_email") {
		t.Errorf("Category(email) = %q %+v %v", name, c, ok)
	}
	if _, c, _ := p.Category("health_condition"); !c.Special || c.Otherwise != DropRecord {
		t.Errorf("health_condition category = %+v, want special drop_record", c)
	}
	if _, _, ok := p.Category("shoe_size"); ok {
		t.Error("Category(shoe_size) found a category for a field the policy never names")
	}
	if got := p.Purposes["marketing_email"].Validity; got != 730*24*time.Hour {
		t.Errorf("marketing_email validity = %v", got)
	}
	if p.Purposes["analytics"].Validity != 0 {
		t.Error("analytics has a validity the file does not give")
	}
}

func TestAnchorsResolve(t *testing.T) {
	p, err := Load("testdata/good/anchors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Purposes["analytics"].Validity != 365*24*time.Hour {
		t.Errorf("aliased purpose validity = %v", p.Purposes["analytics"].Validity)
	}
	if _, c, _ := p.Category("city"); !slices.Equal(c.Purposes, []string{"sales_contact", "analytics"}) {
		t.Errorf("aliased purposes = %v", c.Purposes)
	}
}

func TestSelfReferencingAliasDoesNotLoop(t *testing.T) {
	data := []byte("version: v1\npurposes: &p {analytics: *p}\n")
	if _, err := Parse("loop.yaml", data); err == nil {
		t.Fatal("accepted a self-referencing policy")
	}
}

func TestParseValidity(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"730d": 730 * 24 * time.Hour, "1d12h": 36 * time.Hour, "8760h": 8760 * time.Hour,
		"90m": 90 * time.Minute, "1.5d": 36 * time.Hour,
	} {
		if got, err := ParseValidity(in); err != nil || got != want {
			t.Errorf("ParseValidity(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2y", "0d", "-1h", "d", "7 days"} {
		if _, err := ParseValidity(in); err == nil {
			t.Errorf("ParseValidity(%q) accepted", in)
		}
	}
}
