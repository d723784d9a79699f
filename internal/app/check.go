package app

import (
	"errors"
	"strings"

	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/yamlx"
)

// ConfigProblems is what to report when the gateway file did not load:
// its problems (gatewayErr) and, so that one run lists the problems of
// every file rather than one file per attempt, those of the policy, hash
// key and connector files it names. cfg is the gateway as read despite
// its problems (config.ReadGateway). The other files are checked only
// when the keys naming them are sound; a problem the gateway file
// already reports (say, hash_key) is not repeated.
func ConfigProblems(cfg *config.Gateway, gatewayErr error, secret func(config.SecretRef, string) (string, error)) error {
	var own yamlx.Problems
	if cfg == nil || !errors.As(gatewayErr, &own) {
		return gatewayErr
	}
	reported := map[string]bool{}
	for _, p := range own {
		if under(p.Key, "policy") || under(p.Key, "connectors_dir") {
			return gatewayErr
		}
		reported[p.File+"\x00"+p.Key] = true
	}
	_, err := Load(cfg, secret)
	all := append(yamlx.Problems(nil), own...)
	for _, p := range yamlx.AsProblems(cfg.File, err) {
		if !reported[p.File+"\x00"+p.Key] {
			all = append(all, p)
		}
	}
	return all.Err()
}

// under reports whether key is k or one of its sub-keys.
func under(key, k string) bool {
	return key == k || strings.HasPrefix(key, k+".") || strings.HasPrefix(key, k+"[")
}
