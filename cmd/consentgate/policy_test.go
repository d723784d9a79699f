package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	return out.String(), err
}

func TestPolicyCheck(t *testing.T) {
	out, err := run(t, "policy", "check", filepath.Join("..", "..", "configs", "policy.yaml"))
	if err != nil || !strings.Contains(out, "is valid") {
		t.Fatalf("the shipped policy: %v\n%s", err, out)
	}
	_, err = run(t, "policy", "check", filepath.Join("testdata", "bad-policy.yaml"))
	if err == nil || !strings.Contains(err.Error(), `unknown purpose "marketing_mail"`) || !strings.Contains(err.Error(), "bad-policy.yaml:5") {
		t.Fatalf("a bad policy must be refused with file, line and the unknown purpose; got %v", err)
	}
}

// explain shows, per platform field, what would happen and why, without
// forwarding or storing anything (no broker or database is running here).
func TestPolicyExplain(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	out, err := run(t, "policy", "explain", "--connector", "sample-generic", "--payload", filepath.Join("cmd", "consentgate", "testdata", "sample-lead.json"))
	if err != nil {
		t.Fatalf("explain: %v\n%s", err, out)
	}
	for _, want := range []string{
		"outcome: forwarded",
		"lead.email", "keep", "marketing_email",
		"lead.phone", "mask",
		"lead.country", "redact",
		"lead.favourite_colour", "field.unmapped",
		"sales_contact", "denied",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Ana.Muster@example.com") {
		t.Errorf("explain prints field values; it must print decisions only")
	}
}

// explain without the gateway's hash key shows no subject key (one made
// with a stand-in key matches nothing in the ledger) and says why; with
// the key it shows the key the gateway would use.
func TestPolicyExplainSubjectKeyNeedsTheHashKey(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	args := []string{"policy", "explain", "--connector", "sample-generic", "--payload", filepath.Join("cmd", "consentgate", "testdata", "sample-lead.json")}
	t.Setenv("CONSENTGATE_HASH_KEY", "")
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("explain: %v\n%s", err, out)
	}
	if strings.Contains(out, "sk_") || !strings.Contains(out, "hash_key") {
		t.Fatalf("without the hash key: want no subject key and a note naming hash_key:\n%s", out)
	}
	t.Setenv("CONSENTGATE_HASH_KEY", strings.Repeat("k", 40))
	if out, err = run(t, args...); err != nil || !strings.Contains(out, "subject sk_") {
		t.Fatalf("with the hash key: want its subject key (%v):\n%s", err, out)
	}
}
