package main

import (
	"testing"

	"github.com/spf13/pflag"
)

// pflag takes a back-quoted word in a usage string as the value's
// placeholder: "--token consentgate dev" in every client command's help.
func TestClientFlagPlaceholders(t *testing.T) {
	for _, name := range []string{"server", "token"} {
		f := newConnectors().PersistentFlags().Lookup(name)
		if f == nil {
			t.Fatalf("no --%s flag", name)
		}
		if placeholder, _ := pflag.UnquoteUsage(f); placeholder != "string" {
			t.Errorf("--%s shows the placeholder %q", name, placeholder)
		}
	}
}
