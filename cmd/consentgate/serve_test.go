package main

import (
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/config"
)

// serve --help names every variable the gateway reads.
func TestServeHelpListsEveryVariable(t *testing.T) {
	help := newServe().Long
	want := []string{"CONSENTGATE_HASH_KEY", "CONSENTGATE_ADMIN_TOKEN", app.EnvSecretKeys, app.EnvSecretKeysFile, app.EnvPprofListen}
	for _, o := range config.EnvOverrides() {
		want = append(want, o[0])
	}
	for _, v := range want {
		if !strings.Contains(help, v+" ") {
			t.Errorf("serve --help does not mention %s", v)
		}
	}
}
