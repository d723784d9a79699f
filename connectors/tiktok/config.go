package tiktok

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
)

// Signature schemes an operator can choose with settings.signature.scheme.
// Only the first is documented by TikTok (developer-platform webhooks); the
// lead-generation webhook's scheme is unconfirmed, so the other two exist to
// be switched on after a live test lead shows which one TikTok sends.
const (
	// SchemeTikTokSignature: header `TikTok-Signature: t=<unix>,s=<hex>`,
	// HMAC-SHA256(client_secret, t + "." + body), timestamp tolerance applies.
	SchemeTikTokSignature = "tiktok_signature"
	// SchemeOpenSignature: header `X-Open-Signature: <hex>`,
	// HMAC-SHA256(client_secret, body with non-ASCII escaped as \uXXXX).
	SchemeOpenSignature = "open_signature"
	// SchemePlainHMAC: a hex HMAC-SHA256(client_secret, body) in a header
	// (TikTok-Signature unless settings.signature.header says otherwise).
	SchemePlainHMAC = "plain_hmac"
)

var schemes = []string{SchemeTikTokSignature, SchemeOpenSignature, SchemePlainHMAC}

// Config is the `settings:` section of a tiktok connector file.
type Config struct {
	// Signature says how deliveries prove they come from TikTok.
	Signature SignatureConfig `yaml:"signature" json:"signature"`
	// Payload names the parts of a lead delivery; TikTok's lead webhook
	// shape is unconfirmed, so every name can be changed here.
	Payload PayloadConfig `yaml:"payload" json:"payload"`
	// MaxLeadsPerDelivery refuses (413) a delivery carrying more leads than
	// this. Default 1000 leads.
	MaxLeadsPerDelivery int `yaml:"max_leads_per_delivery" json:"max_leads_per_delivery"`
}

// SignatureConfig selects and tunes the signature check.
type SignatureConfig struct {
	// Scheme is one of tiktok_signature (default; documented for TikTok
	// developer webhooks), open_signature or plain_hmac (both reported for
	// lead webhooks by third parties only).
	Scheme string `yaml:"scheme" json:"scheme"`
	// Header overrides the header that carries the signature. Default: empty,
	// meaning TikTok-Signature (tiktok_signature, plain_hmac) or
	// X-Open-Signature (open_signature).
	Header string `yaml:"header" json:"header"`
	// ToleranceSeconds is how far the signed timestamp may be from our clock,
	// either way, before a delivery is refused as stale (tiktok_signature
	// only). Default 300 seconds.
	ToleranceSeconds int `yaml:"tolerance_seconds" json:"tolerance_seconds"`
	// EscapedBodyFallback also accepts a signature computed over the body with
	// every non-ASCII character written as a lowercase \uXXXX escape, as Meta
	// does and TikTok reportedly does. open_signature always accepts it, as
	// that is the scheme's reported rule. Default true.
	EscapedBodyFallback bool `yaml:"escaped_body_fallback" json:"escaped_body_fallback"`
}

// PayloadConfig names the parts of a TikTok lead delivery.
type PayloadConfig struct {
	// LeadObject is the value of the top-level `object` field that marks a
	// lead delivery; any other value is counted as ignored. Default "1".
	LeadObject string `yaml:"lead_object" json:"lead_object"`
	// LeadEvents lists developer-platform event names (the `event` field)
	// whose `content` carries one lead in the same shape as an entry.
	// Default empty: every developer-platform event is ignored.
	LeadEvents []string `yaml:"lead_events" json:"lead_events"`
	// Keys names the members of a lead entry.
	Keys KeysConfig `yaml:"keys" json:"keys"`
	// CheckboxFields lists answer names that are consent or privacy
	// checkboxes; their answers become consent answers instead of fields.
	// Default empty (TikTok documents no consent answers).
	CheckboxFields []string `yaml:"checkbox_fields" json:"checkbox_fields"`
	// TestKey is a member of the entry (or the envelope) whose true value
	// marks a test lead. Default "is_test" (unconfirmed).
	TestKey string `yaml:"test_key" json:"test_key"`
	// TestFormIDs lists form ids whose leads are always test leads, for forms
	// kept for TikTok's test-lead tool. Default empty.
	TestFormIDs []string `yaml:"test_form_ids" json:"test_form_ids"`
}

// KeysConfig names the members of the lead envelope and of each entry.
type KeysConfig struct {
	// Entries is the envelope's array of leads. Default "entry".
	Entries string `yaml:"entries" json:"entries"`
	// LeadID is the entry's lead id, the de-duplication key. Default "id".
	LeadID string `yaml:"lead_id" json:"lead_id"`
	// FormID is the entry's form id. Default "page_id".
	FormID string `yaml:"form_id" json:"form_id"`
	// CreateTime is the entry's submission time (unix seconds or
	// milliseconds, or RFC 3339). Default "create_time".
	CreateTime string `yaml:"create_time" json:"create_time"`
	// Answers is the entry's list of answers. Default "changes".
	Answers string `yaml:"answers" json:"answers"`
	// AnswerName is the question name inside one answer. Default "field".
	AnswerName string `yaml:"answer_name" json:"answer_name"`
	// AnswerValue is the answer inside one answer. Default "value".
	AnswerValue string `yaml:"answer_value" json:"answer_value"`
}

// DefaultConfig holds every default of the tiktok settings.
func DefaultConfig() Config {
	return Config{
		Signature: SignatureConfig{
			Scheme:              SchemeTikTokSignature,
			ToleranceSeconds:    300,
			EscapedBodyFallback: true,
		},
		Payload: PayloadConfig{
			LeadObject: "1",
			Keys: KeysConfig{
				Entries:     "entry",
				LeadID:      "id",
				FormID:      "page_id",
				CreateTime:  "create_time",
				Answers:     "changes",
				AnswerName:  "field",
				AnswerValue: "value",
			},
			TestKey: "is_test",
		},
		MaxLeadsPerDelivery: 1000,
	}
}

// Secrets names the secrets a tiktok connector reads through env.Secret.
var Secrets = []string{"client_secret"}

// Connector is one configured TikTok lead integration.
type Connector struct {
	cfg       Config
	secret    []byte
	header    string
	tolerance time.Duration
	now       func() time.Time
	checkbox  map[string]bool
	leadEvent map[string]bool
	testForm  map[string]bool
}

var _ ingest.Connector = (*Connector)(nil)

// Open validates cfg and the client secret and returns a connector. Every
// problem is reported at once.
func Open(cfg Config, env ingest.Env) (*Connector, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	sig := cfg.Signature
	if !slices.Contains(schemes, sig.Scheme) {
		bad("settings.signature.scheme: must be one of %s", strings.Join(schemes, ", "))
	}
	if sig.Header != "" && !validHeaderName(sig.Header) {
		bad("settings.signature.header: must be an HTTP header name such as TikTok-Signature")
	}
	if sig.ToleranceSeconds < 1 || sig.ToleranceSeconds > 86400 {
		bad("settings.signature.tolerance_seconds: must be between 1 and 86400 (default 300)")
	}
	p := cfg.Payload
	if strings.TrimSpace(p.LeadObject) == "" {
		bad(`settings.payload.lead_object: must not be empty (default "1")`)
	}
	for name, v := range map[string]string{
		"entries": p.Keys.Entries, "lead_id": p.Keys.LeadID, "form_id": p.Keys.FormID,
		"create_time": p.Keys.CreateTime, "answers": p.Keys.Answers,
		"answer_name": p.Keys.AnswerName, "answer_value": p.Keys.AnswerValue,
	} {
		if strings.TrimSpace(v) == "" {
			bad("settings.payload.keys.%s: must not be empty", name)
		}
	}
	if cfg.MaxLeadsPerDelivery < 1 {
		bad("settings.max_leads_per_delivery: must be at least 1 (default 1000)")
	}
	secret, ok := "", false
	if env.Secret != nil {
		secret, ok = env.Secret("client_secret")
	}
	if !ok || secret == "" {
		bad(`secret "client_secret" is not set: add secrets.client_secret {env: TIKTOK_CLIENT_SECRET}`)
	}
	if len(errs) > 0 {
		// Sorted so the message is stable whatever the map order above.
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return nil, errors.Join(errs...)
	}

	c := &Connector{
		cfg:       cfg,
		secret:    []byte(secret),
		header:    sig.Header,
		tolerance: time.Duration(sig.ToleranceSeconds) * time.Second,
		now:       env.Now,
		checkbox:  set(p.CheckboxFields),
		leadEvent: set(p.LeadEvents),
		testForm:  set(p.TestFormIDs),
	}
	if c.header == "" {
		c.header = "TikTok-Signature"
		if sig.Scheme == SchemeOpenSignature {
			c.header = "X-Open-Signature"
		}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func validHeaderName(s string) bool {
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return http.CanonicalHeaderKey(s) != ""
}
