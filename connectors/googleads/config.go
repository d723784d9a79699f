package googleads

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/consentgate/consentgate/internal/ingest"
)

// Config is the `settings:` section of a googleads connector file.
type Config struct {
	// MaxColumns refuses (413) a lead with more user_column_data entries than
	// this. Default 200 columns.
	MaxColumns int `yaml:"max_columns" json:"max_columns"`
	// ColumnNameFallback keys an answer by its column_name when column_id is
	// missing, as in older copies of Google's schema. Default true.
	ColumnNameFallback bool `yaml:"column_name_fallback" json:"column_name_fallback"`
}

// DefaultConfig holds every default of the googleads settings.
func DefaultConfig() Config {
	return Config{MaxColumns: 200, ColumnNameFallback: true}
}

// Secrets names the secrets a googleads connector reads through env.Secret:
// "google_key" is the key the advertiser typed into the lead form's webhook
// settings; Google sends it back in every lead body.
var Secrets = []string{"google_key"}

// Connector is one configured Google Ads lead form webhook.
type Connector struct {
	cfg Config
	// keyDigest is SHA-256 of the configured key: comparing digests keeps the
	// comparison constant-time even when the lengths differ.
	keyDigest [sha256.Size]byte
}

var _ ingest.Connector = (*Connector)(nil)

// Open validates cfg and the google_key secret and returns a connector.
func Open(cfg Config, env ingest.Env) (*Connector, error) {
	var errs []error
	if cfg.MaxColumns < 1 {
		errs = append(errs, fmt.Errorf("settings.max_columns: must be at least 1 (default 200)"))
	}
	key, ok := "", false
	if env.Secret != nil {
		key, ok = env.Secret("google_key")
	}
	if !ok || key == "" {
		errs = append(errs, fmt.Errorf(`secret "google_key" is not set: add secrets.google_key {env: GOOGLE_ADS_LEAD_KEY}, the key entered in the lead form's webhook settings`))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Connector{cfg: cfg, keyDigest: sha256.Sum256([]byte(key))}, nil
}
