package generic

import (
	"errors"
	"fmt"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/keyedmac"
)

var _ ingest.Connector = (*Connector)(nil)

// Connector is one configured generic integration.
type Connector struct {
	cfg Config
	sig SignatureConfig // cfg.Signature with scheme defaults filled in
	mac *keyedmac.MAC   // under the signing key: Verify and SampleHeaders
	now func() time.Time

	recordsPath    []string
	recordsAtRoot  bool
	eventIDPath    []string
	typePath       []string
	formPath       []string
	occurredAtPath []string
	gpcPath        []string
	testPath       []string
}

// Open validates cfg and the signing secret.
func Open(cfg Config, env ingest.Env) (*Connector, error) {
	var errs []error
	if err := cfg.validate(); err != nil {
		errs = append(errs, err)
	}
	sig := cfg.Signature.withSchemeDefaults()
	var key []byte
	secret, ok := "", false
	if env.Secret != nil {
		secret, ok = env.Secret(SecretSigningSecret)
	}
	switch {
	case !ok || secret == "":
		errs = append(errs, fmt.Errorf("secret %q is not set: add secrets.%s {env: GENERIC_SIGNING_SECRET}",
			SecretSigningSecret, SecretSigningSecret))
	case sig.Scheme == SchemeStandardWebhooks:
		k, err := standardKey(secret)
		if err != nil {
			errs = append(errs, fmt.Errorf("secret %q: %v", SecretSigningSecret, err))
		}
		key = k
	default:
		key = []byte(secret)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	c := &Connector{
		cfg: cfg, sig: sig, mac: keyedmac.New(key), now: now,
		eventIDPath:    splitPath(cfg.EventIDPath),
		typePath:       splitPath(cfg.TypePath),
		formPath:       splitPath(cfg.FormPath),
		occurredAtPath: splitPath(cfg.OccurredAtPath),
		gpcPath:        splitPath(cfg.GPCPath),
		testPath:       splitPath(cfg.TestPath),
	}
	if cfg.RecordsPath == "$" {
		c.recordsAtRoot = true
	} else {
		c.recordsPath = splitPath(cfg.RecordsPath)
	}
	return c, nil
}

// DefaultMapping is empty: a generic sender has no standard field names, so
// the operator names every field (by its dotted path) in the connector's
// mapping, and everything unnamed is dropped by the gateway.
func (c *Connector) DefaultMapping() map[string]string { return map[string]string{} }
