package linkedin

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

// Config is the `settings:` section of a connector file for platform
// "linkedin". Zero values are never used: the gateway decodes the section
// over DefaultConfig().
type Config struct {
	// BaseURL is the LinkedIn REST host the fetcher calls, without the
	// /rest path. Default "https://api.linkedin.com". Tests point it at a
	// local fake.
	BaseURL string `yaml:"base_url" json:"base_url"`
	// APIVersion is sent as the LinkedIn-Version header (YYYYMM, optionally
	// with a ".NN" patch suffix). Default "202603". LinkedIn sunsets each
	// monthly version about a year after release and then answers 426, so
	// re-check https://learn.microsoft.com/linkedin/marketing/versioning
	// before go-live and at least yearly.
	APIVersion string `yaml:"api_version" json:"api_version"`
	// FormPath is the REST path used to read the lead form that labels the
	// answers. Placeholders: {form_id} (numeric form id), {version} (form
	// version), {form_urn} and {versioned_form_urn} (URL-escaped URNs).
	// Default "/rest/leadForms/{form_id}".
	FormPath string `yaml:"form_path" json:"form_path"`
	// SignatureEncoding is how X-LI-Signature encodes the HMAC: "hex"
	// (default; what the challenge uses and what every known integration
	// sees) or "base64". LinkedIn does not document it for POSTs.
	SignatureEncoding string `yaml:"signature_encoding" json:"signature_encoding"`
	// SignatureMessagePrefix is prepended to the raw body before the HMAC
	// is computed. Default "hmacsha256=", as LinkedIn's webhook guide says;
	// set "" only if a live test shows the plain body is signed.
	SignatureMessagePrefix string `yaml:"signature_message_prefix" json:"signature_message_prefix"`
	// CustomQuestionKey names the Fields key of answers to custom (not
	// predefined) questions: "id" (default) gives "question.<questionId>",
	// stable across form languages; "name" gives "question.<name>" using
	// the question's name in the form author's language.
	CustomQuestionKey string `yaml:"custom_question_key" json:"custom_question_key"`
	// FormCacheSize bounds how many form versions are kept in memory.
	// Default 1000. Form versions never change, so entries never expire;
	// the oldest is dropped when the cache is full.
	FormCacheSize int `yaml:"form_cache_size" json:"form_cache_size"`
	// MaxNotifications caps the notifications accepted in one delivery;
	// more is answered 413. Default 1000.
	MaxNotifications int `yaml:"max_notifications" json:"max_notifications"`
}

// DefaultConfig holds the defaults; they live here only.
func DefaultConfig() Config {
	return Config{
		BaseURL:                "https://api.linkedin.com",
		APIVersion:             "202603",
		FormPath:               "/rest/leadForms/{form_id}",
		SignatureEncoding:      "hex",
		SignatureMessagePrefix: "hmacsha256=",
		CustomQuestionKey:      "id",
		FormCacheSize:          1000,
		MaxNotifications:       1000,
	}
}

// FileOnlySettings may be set in connector files only, not through the
// admin API: base_url is where the fetcher sends the access token.
var FileOnlySettings = []string{"base_url"}

// Secrets names the secrets this platform reads through env.Secret.
var Secrets = []string{secretClientSecret, secretAccessToken}

const (
	secretClientSecret = "client_secret"
	secretAccessToken  = "access_token"
)

// Connector is one configured LinkedIn Lead Sync integration.
type Connector struct {
	cfg          Config
	clientSecret []byte
	accessToken  string
	baseURL      string
	client       *http.Client
	now          func() time.Time
	forms        *formCache
}

var (
	_ ingest.Connector  = (*Connector)(nil)
	_ ingest.Handshaker = (*Connector)(nil)
	_ ingest.Fetcher    = (*Connector)(nil)
)

var apiVersionRE = regexp.MustCompile(`^[0-9]{6}(\.[0-9]{2})?$`)

// Open validates cfg and the secrets it needs, reporting every problem at
// once.
func Open(cfg Config, env ingest.Env) (*Connector, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad(`settings.base_url: must be an absolute http(s) URL such as "https://api.linkedin.com"`)
	}
	if !apiVersionRE.MatchString(cfg.APIVersion) {
		bad(`settings.api_version: must look like "202603" (YYYYMM)`)
	}
	if !strings.HasPrefix(cfg.FormPath, "/") ||
		!(strings.Contains(cfg.FormPath, "{form_id}") || strings.Contains(cfg.FormPath, "{form_urn}") ||
			strings.Contains(cfg.FormPath, "{versioned_form_urn}")) {
		bad(`settings.form_path: must start with "/" and contain {form_id}, {form_urn} or {versioned_form_urn}`)
	}
	if cfg.SignatureEncoding != "hex" && cfg.SignatureEncoding != "base64" {
		bad(`settings.signature_encoding: must be "hex" or "base64"`)
	}
	if cfg.CustomQuestionKey != "id" && cfg.CustomQuestionKey != "name" {
		bad(`settings.custom_question_key: must be "id" or "name"`)
	}
	if cfg.FormCacheSize < 1 {
		bad("settings.form_cache_size: must be at least 1")
	}
	if cfg.MaxNotifications < 1 {
		bad("settings.max_notifications: must be at least 1")
	}

	secret := func(name, envHint string) string {
		if env.Secret == nil {
			bad(`secret %q is not set: add secrets.%s {env: %s}`, name, name, envHint)
			return ""
		}
		v, ok := env.Secret(name)
		if !ok || v == "" {
			bad(`secret %q is not set: add secrets.%s {env: %s}`, name, name, envHint)
		}
		return v
	}
	clientSecret := secret(secretClientSecret, "LINKEDIN_CLIENT_SECRET")
	accessToken := secret(secretAccessToken, "LINKEDIN_ACCESS_TOKEN")

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c := &Connector{
		cfg:          cfg,
		clientSecret: []byte(clientSecret),
		accessToken:  accessToken,
		baseURL:      strings.TrimRight(cfg.BaseURL, "/"),
		client:       env.HTTPClient,
		now:          env.Now,
		forms:        newFormCache(cfg.FormCacheSize),
	}
	if c.client == nil {
		c.client = &http.Client{Timeout: 30 * time.Second}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// DefaultMapping maps LinkedIn's predefined question fields (and the lead
// URN) to canonical fields.
//
// The lead URN stands in for platform_user_id because it is the only id a
// DELETED notification carries; the member URN ("submitter") is app-scoped
// and absent from deletions, so it is left unmapped. WORK_EMAIL and
// WORK_PHONE_NUMBER are left unmapped so that a form asking both personal
// and work contacts never yields two values for one canonical field; map
// them explicitly when a form asks only the work variant.
func (c *Connector) DefaultMapping() map[string]string {
	return map[string]string{
		"FIRST_NAME":          "first_name",
		"LAST_NAME":           "last_name",
		"EMAIL":               "email",
		"PHONE_NUMBER":        "phone",
		"COMPANY_NAME":        "company",
		"JOB_TITLE":           "job_title",
		"CITY":                "city",
		"STATE":               "region",
		"COUNTRY":             "country",
		"ZIP_CODE":            "postal_code",
		"GENDER":              "gender",
		"leadGenFormResponse": "platform_user_id",
	}
}
