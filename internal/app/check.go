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
	for _, p := range own {
		if under(p.Key, "policy") || under(p.Key, "connectors_dir") {
			return gatewayErr
		}
	}
	_, err := Load(cfg, secret)
	all := append(yamlx.Problems(nil), own...)
	for _, p := range yamlx.AsProblems(cfg.File, err) {
		if !reportedUnder(own, p) {
			all = append(all, p)
		}
	}
	return all.Err()
}

// reportedUnder reports whether the gateway file's problems already cover
// p: one of them is about p's key or a key inside it (hash_key.evn, an
// unknown key, explains "hash_key: no source given" better than it).
func reportedUnder(own yamlx.Problems, p yamlx.Problem) bool {
	for _, o := range own {
		if o.File == p.File && p.Key != "" && under(o.Key, p.Key) {
			return true
		}
	}
	return false
}

// under reports whether key is k or one of its sub-keys.
func under(key, k string) bool {
	return key == k || strings.HasPrefix(key, k+".") || strings.HasPrefix(key, k+"[")
}
