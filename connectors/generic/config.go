package generic

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
)

// Signature schemes.
const (
	// SchemeStandardWebhooks is Standard Webhooks v1: headers webhook-id,
	// webhook-timestamp, webhook-signature; signs "id.timestamp.body".
	SchemeStandardWebhooks = "standard_webhooks"
	// SchemeHMAC is a plain HMAC-SHA256 of the body (or "timestamp.body") in
	// one header, hex or base64, with an optional prefix such as "sha256=".
	SchemeHMAC = "hmac"
	// SchemeStripe is the Stripe-style header "t=<unix>,v1=<hex>[,v1=<hex>]"
	// over "t.body".
	SchemeStripe = "stripe"
)

// Per-scheme header defaults; the standard_webhooks names are fixed by its spec.
const (
	defaultHMACHeader   = "X-Signature"
	defaultStripeHeader = "Stripe-Signature"
)

// SecretSigningSecret is the one secret this platform reads.
const SecretSigningSecret = "signing_secret"

// Secrets names the secrets this platform reads through env.Secret.
var Secrets = []string{SecretSigningSecret}

// Config is the `settings:` section of a generic connector file.
type Config struct {
	// Signature says how deliveries are authenticated.
	Signature SignatureConfig `yaml:"signature" json:"signature"`

	// RecordsPath is a dotted JSON path to an array of records in the body,
	// for batched deliveries: each element becomes its own record. Empty
	// (default): the whole body is one record. "$": the body itself is the
	// array. Path syntax: object keys separated by ".", array elements by
	// their index ("data.0.items"); keys that contain "." cannot be named.
	RecordsPath string `yaml:"records_path" json:"records_path"`

	// EventIDPath is a dotted path, relative to the record, to the sender's
	// stable event id used for de-duplication (a string or number). A record
	// without it is refused (400). Empty (default): with scheme
	// standard_webhooks the signed webhook-id header is used (suffixed with
	// ":<index>" when a delivery holds several records); otherwise the id is
	// "sha256:" + the hex SHA-256 of the record's canonical JSON (keys sorted,
	// no whitespace), so a redelivery of the same content is recognised.
	EventIDPath string `yaml:"event_id_path" json:"event_id_path"`

	// Kind is the topic family of every record: "lead" (default) or
	// "interaction". Interactions are keyed by the platform user id, so map
	// a field to platform_user_id in the connector's mapping.
	Kind string `yaml:"kind" json:"kind"`

	// Type is the record type when TypePath is empty or absent from the
	// record. Default "generic.event".
	Type string `yaml:"type" json:"type"`

	// TypePath is a dotted path, relative to the record, to the event type.
	// Its value (1–128 letters, digits, ".", "_", ":" or "-") is prefixed with
	// "generic." so a sender cannot pose as another platform. Optional.
	TypePath string `yaml:"type_path" json:"type_path"`

	// FormPath is a dotted path, relative to the record, to the form (or
	// campaign) id or name. Optional.
	FormPath string `yaml:"form_path" json:"form_path"`

	// OccurredAtPath is a dotted path, relative to the record, to when the
	// subject acted: an RFC 3339 string, or unix time as a number or numeric
	// string (values of 100000000000 and more are read as milliseconds,
	// smaller ones as seconds). Consent from the record dates from it.
	// Optional; a value in another format is refused (400).
	OccurredAtPath string `yaml:"occurred_at_path" json:"occurred_at_path"`

	// GPCPath is a dotted path, relative to the record, to a Global Privacy
	// Control / do-not-sell flag. Truthy (true, 1, "true", "yes", "1") sets
	// the record's GPC signal. Optional.
	GPCPath string `yaml:"gpc_path" json:"gpc_path"`

	// TestPath is a dotted path, relative to the record, to a test-traffic
	// flag. Truthy marks the record as test traffic (routed to the test
	// topic). Optional.
	TestPath string `yaml:"test_path" json:"test_path"`

	// Limits bound what one delivery may contain.
	Limits Limits `yaml:"limits" json:"limits"`
}

// SignatureConfig is `settings.signature`.
type SignatureConfig struct {
	// Scheme is "standard_webhooks" (default), "hmac" or "stripe". Every
	// scheme uses HMAC-SHA256 keyed with secret "signing_secret".
	// standard_webhooks: the secret is "whsec_" + base64 (the prefix is
	// optional), and the base64-decoded bytes are the key. hmac and stripe:
	// the secret string itself is the key (a Stripe "whsec_..." included).
	Scheme string `yaml:"scheme" json:"scheme"`

	// Header carries the signature. hmac: default "X-Signature". stripe:
	// default "Stripe-Signature". Not used by standard_webhooks, whose
	// header names are fixed by its spec.
	Header string `yaml:"header" json:"header"`

	// Encoding of the signature in Header, hmac only: "hex" (default) or
	// "base64" (standard or URL alphabet, padding optional).
	Encoding string `yaml:"encoding" json:"encoding"`

	// Prefix before the encoded signature, hmac only, e.g. "sha256=".
	// Matched case-insensitively; required when set. Default none.
	Prefix string `yaml:"prefix" json:"prefix"`

	// TimestampHeader, hmac only: when set, the header carries unix seconds,
	// the signed content is "<timestamp>.<body>", and Tolerance applies.
	// Default none (the raw body alone is signed, with no replay window).
	TimestampHeader string `yaml:"timestamp_header" json:"timestamp_header"`

	// Tolerance is how far the signed timestamp may be from our clock, in
	// either direction, as a Go duration ("5m", "90s"). Default 5m.
	Tolerance time.Duration `yaml:"tolerance" json:"tolerance"`
}

// Limits is `settings.limits`. Exceeding any of them answers 413.
type Limits struct {
	// MaxRecords is the most records one delivery may hold. Default 500.
	MaxRecords int `yaml:"max_records" json:"max_records"`
	// MaxDepth is the deepest nesting of JSON objects and arrays, the body
	// itself being depth 1. Default 32.
	MaxDepth int `yaml:"max_depth" json:"max_depth"`
	// MaxFieldBytes is the longest string, number or object key, in bytes
	// once unescaped. Default 65536 (64 KiB).
	MaxFieldBytes int `yaml:"max_field_bytes" json:"max_field_bytes"`
	// MaxFields is the most flattened fields across all records of one
	// delivery; with the fixed 1024-byte cap on a flattened field name it
	// bounds the memory a small body can expand into. Default 50000.
	MaxFields int `yaml:"max_fields" json:"max_fields"`
}

// maxPathBytes caps one flattened field name (e.g. "lead.answers.3.value").
const maxPathBytes = 1024

// DefaultConfig returns the settings used for every key a connector file
// leaves out.
func DefaultConfig() Config {
	return Config{
		Signature: SignatureConfig{
			Scheme:    SchemeStandardWebhooks,
			Tolerance: 5 * time.Minute,
		},
		Kind: string(ingest.KindLead),
		Type: "generic.event",
		Limits: Limits{
			MaxRecords:    500,
			MaxDepth:      32,
			MaxFieldBytes: 64 << 10,
			MaxFields:     50000,
		},
	}
}

// withSchemeDefaults fills the defaults that depend on the chosen scheme.
func (s SignatureConfig) withSchemeDefaults() SignatureConfig {
	switch s.Scheme {
	case SchemeHMAC:
		if s.Header == "" {
			s.Header = defaultHMACHeader
		}
		if s.Encoding == "" {
			s.Encoding = "hex"
		}
	case SchemeStripe:
		if s.Header == "" {
			s.Header = defaultStripeHeader
		}
	}
	return s
}

var (
	headerName = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`)
	typeValue  = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
)

// validate reports every problem in cfg at once, each naming its key.
func (cfg Config) validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("settings.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	s := cfg.Signature
	switch s.Scheme {
	case SchemeStandardWebhooks:
		for key, v := range map[string]string{"header": s.Header, "encoding": s.Encoding, "prefix": s.Prefix, "timestamp_header": s.TimestampHeader} {
			if v != "" {
				bad("signature."+key, "is not used by scheme standard_webhooks (its headers are fixed by the spec); remove it")
			}
		}
	case SchemeStripe:
		for key, v := range map[string]string{"encoding": s.Encoding, "prefix": s.Prefix, "timestamp_header": s.TimestampHeader} {
			if v != "" {
				bad("signature."+key, "is not used by scheme stripe (its header carries t= and v1=); remove it")
			}
		}
	case SchemeHMAC:
		if s.Encoding != "" && s.Encoding != "hex" && s.Encoding != "base64" {
			bad("signature.encoding", "must be hex or base64")
		}
		if s.TimestampHeader != "" && !headerName.MatchString(s.TimestampHeader) {
			bad("signature.timestamp_header", "must be an HTTP header name such as X-Timestamp")
		}
	default:
		bad("signature.scheme", "must be standard_webhooks, hmac or stripe")
	}
	if s.Header != "" && !headerName.MatchString(s.Header) {
		bad("signature.header", "must be an HTTP header name such as X-Signature")
	}
	if s.Tolerance <= 0 {
		bad("signature.tolerance", "must be a positive duration such as \"5m\"")
	}
	if cfg.RecordsPath != "$" {
		if err := checkPath(cfg.RecordsPath); err != nil {
			bad("records_path", "%v", err)
		}
	}
	for key, p := range map[string]string{
		"event_id_path": cfg.EventIDPath, "type_path": cfg.TypePath, "form_path": cfg.FormPath,
		"occurred_at_path": cfg.OccurredAtPath, "gpc_path": cfg.GPCPath, "test_path": cfg.TestPath,
	} {
		if err := checkPath(p); err != nil {
			bad(key, "%v", err)
		}
	}
	if k := ingest.Kind(cfg.Kind); k != ingest.KindLead && k != ingest.KindInteraction {
		bad("kind", "must be lead or interaction")
	}
	if !typeValue.MatchString(cfg.Type) {
		bad("type", "must be 1–128 letters, digits, '.', '_', ':' or '-', e.g. \"acme.signup\"")
	}
	for key, v := range map[string]int{
		"max_records": cfg.Limits.MaxRecords, "max_depth": cfg.Limits.MaxDepth,
		"max_field_bytes": cfg.Limits.MaxFieldBytes, "max_fields": cfg.Limits.MaxFields,
	} {
		if v <= 0 {
			bad("limits."+key, "must be a positive number")
		}
	}
	// Keys come from maps: sort so the report reads the same every time.
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// checkPath accepts "" (not set) or dot-separated non-empty segments.
func checkPath(p string) error {
	if p == "" {
		return nil
	}
	for _, seg := range strings.Split(p, ".") {
		if seg == "" {
			return fmt.Errorf("must be keys separated by single dots, e.g. \"data.lead.id\"")
		}
	}
	return nil
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, ".")
}

// standardKey turns a Standard Webhooks secret into the HMAC key: the
// optional "whsec_" prefix is dropped and the rest base64-decoded.
func standardKey(secret string) ([]byte, error) {
	b64 := strings.TrimPrefix(secret, "whsec_")
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(b64)
	}
	if err != nil || len(key) == 0 {
		return nil, errors.New(`must be "whsec_" followed by base64 (as the sender shows it)`)
	}
	return key, nil
}
