package meta

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
)

// Platform is the platform kind this package implements.
const Platform = "meta"

// Config is the `settings:` section of a connector file for platform meta.
type Config struct {
	// BaseURL is the Graph API root used to fetch leads, without version.
	// Default "https://graph.facebook.com". Tests point it at a fake server.
	BaseURL string `yaml:"base_url" json:"base_url"`
	// APIVersion is the pinned Graph API version, e.g. "v26.0".
	// Default "v26.0" (current on Meta's changelog as of 2026-11).
	APIVersion string `yaml:"api_version" json:"api_version"`
	// Timeout bounds one Graph API call, e.g. "10s". Default 10s.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// RateLimitWait is how long to wait before fetching again when Graph
	// throttles without saying for how long, e.g. "5m". Default 5m.
	RateLimitWait time.Duration `yaml:"rate_limit_wait" json:"rate_limit_wait"`
	// AppSecretProof sends appsecret_proof (HMAC-SHA256 of the Page token
	// under the app secret) with every Graph call, as Meta requires when the
	// app has "Require App Secret" on. Default true.
	AppSecretProof bool `yaml:"appsecret_proof" json:"appsecret_proof"`
	// AcceptSHA1 also accepts the legacy X-Hub-Signature (HMAC-SHA1) header
	// when X-Hub-Signature-256 is absent. Default false: SHA-1 only for old
	// app setups that cannot send the SHA-256 header.
	AcceptSHA1 bool `yaml:"accept_sha1" json:"accept_sha1"`
	// TestFormIDs lists lead form ids whose leads are test traffic (e.g. the
	// form used with Meta's Lead Ads Testing Tool); their records are marked
	// as test and never reach the production leads topic. Default none.
	TestFormIDs []string `yaml:"test_form_ids" json:"test_form_ids"`
}

// DefaultConfig returns the defaults; the connector file's settings are
// decoded on top of it.
func DefaultConfig() Config {
	return Config{
		BaseURL:        "https://graph.facebook.com",
		APIVersion:     "v26.0",
		Timeout:        10 * time.Second,
		RateLimitWait:  5 * time.Minute,
		AppSecretProof: true,
	}
}

// FileOnlySettings may be set in connector files only, not through the
// admin API: base_url is where the fetcher sends the access token.
var FileOnlySettings = []string{"base_url"}

// Secrets names the secrets this platform reads through env.Secret.
var Secrets = []string{secretAppSecret, secretVerifyToken, secretPageToken}

const (
	secretAppSecret   = "app_secret"
	secretVerifyToken = "verify_token"
	secretPageToken   = "page_access_token"
)

var (
	apiVersionRe = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)
	numericIDRe  = regexp.MustCompile(`^[0-9]{1,32}$`)
)

// Connector is one configured Meta integration.
type Connector struct {
	cfg         Config
	base        string // BaseURL without trailing slash
	appSecret   []byte
	verifyToken []byte
	pageToken   string
	proof       string // appsecret_proof for pageToken, "" when off
	testForms   map[string]bool
	now         func() time.Time
	client      *http.Client
}

var (
	_ ingest.Connector  = (*Connector)(nil)
	_ ingest.Handshaker = (*Connector)(nil)
	_ ingest.Fetcher    = (*Connector)(nil)
)

// Open validates cfg and the secrets and returns the connector. Every
// problem is reported at once, each naming the key or secret and the fix.
func Open(cfg Config, env ingest.Env) (*Connector, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad(`settings.base_url: must be an http(s) URL without query, like "https://graph.facebook.com"`)
	}
	if !apiVersionRe.MatchString(cfg.APIVersion) {
		bad(`settings.api_version: must look like "v26.0"`)
	}
	if cfg.Timeout <= 0 || cfg.Timeout > 5*time.Minute {
		bad(`settings.timeout: must be between 1ms and 5m, like "10s"`)
	}
	if cfg.RateLimitWait <= 0 || cfg.RateLimitWait > 24*time.Hour {
		bad(`settings.rate_limit_wait: must be between 1ms and 24h, like "5m"`)
	}
	testForms := make(map[string]bool, len(cfg.TestFormIDs))
	for i, id := range cfg.TestFormIDs {
		if !numericIDRe.MatchString(id) {
			bad("settings.test_form_ids[%d]: must be a numeric lead form id", i)
		}
		testForms[id] = true
	}

	secret := func(name string) string {
		if env.Secret == nil {
			return ""
		}
		v, ok := env.Secret(name)
		if !ok {
			return ""
		}
		return v
	}
	appSecret := secret(secretAppSecret)
	if appSecret == "" {
		bad(`secret %q is not set: add secrets.%s {env: META_APP_SECRET} (the app's App Secret)`, secretAppSecret, secretAppSecret)
	}
	verifyToken := secret(secretVerifyToken)
	if verifyToken == "" {
		bad(`secret %q is not set: add secrets.%s {env: META_VERIFY_TOKEN} (the Verify Token typed in the Webhooks dashboard)`, secretVerifyToken, secretVerifyToken)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	c := &Connector{
		cfg:         cfg,
		base:        base,
		appSecret:   []byte(appSecret),
		verifyToken: []byte(verifyToken),
		pageToken:   secret(secretPageToken),
		testForms:   testForms,
		now:         env.Now,
		client:      env.HTTPClient,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.client == nil {
		c.client = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.AppSecretProof && c.pageToken != "" {
		c.proof = hmacHex(sha256New, c.appSecret, []byte(c.pageToken))
	}
	return c, nil
}

// DefaultMapping maps Meta's standard lead-form question names and the
// Instagram notification paths to canonical fields.
func (c *Connector) DefaultMapping() map[string]string {
	return map[string]string{
		// Lead Ads standard questions (field_data names).
		"email":         "email",
		"phone_number":  "phone",
		"full_name":     "full_name",
		"first_name":    "first_name",
		"last_name":     "last_name",
		"company_name":  "company",
		"job_title":     "job_title",
		"city":          "city",
		"state":         "region",
		"province":      "region",
		"country":       "country",
		"zip_code":      "postal_code",
		"post_code":     "postal_code",
		"date_of_birth": "date_of_birth",
		"gender":        "gender",
		// Instagram comments and live comments.
		"from.id":       "platform_user_id",
		"from.username": "handle",
		"text":          "comment_text",
		// Instagram direct messages (and their deletion).
		"sender.id":    "platform_user_id",
		"message.text": "message_text",
	}
}
