package x

import (
	"errors"
	"fmt"

	"github.com/consentgate/consentgate/internal/ingest"
)

// Platform is the platform kind this package implements.
const Platform = "x"

// Signature schemes (settings.signature).
const (
	// SignatureLegacy: X-Twitter-Webhooks-Signature keyed with consumer_secret.
	SignatureLegacy = "legacy"
	// SignatureOAuth2: X-Twitter-Webhooks-Signature-OAuth2 keyed with client_secret.
	SignatureOAuth2 = "oauth2"
	// SignatureOAuth2OrLegacy: the OAuth2 header when present (and then it
	// alone decides), else the legacy header.
	SignatureOAuth2OrLegacy = "oauth2_or_legacy"
)

// Config is the `settings:` section of a connector file for platform x.
type Config struct {
	// Signature selects the header and secret that authenticate deliveries
	// and the secret that answers the CRC: "legacy" (X-Twitter-Webhooks-Signature,
	// secret consumer_secret), "oauth2" (X-Twitter-Webhooks-Signature-OAuth2,
	// secret client_secret; what X recommends for apps with an OAuth 2.0
	// client secret) or "oauth2_or_legacy" (both secrets; the OAuth2 header
	// when X sends it, else the legacy one; for apps migrating between the
	// two). Default (absent or empty): chosen from the secrets that are set,
	// as X documents ("generate [the CRC response_token] with the OAuth 2.0
	// client secret when available, or with the OAuth 1.0 consumer secret for
	// existing OAuth 1.0-only integrations"): both secrets → "oauth2_or_legacy",
	// only client_secret → "oauth2", otherwise "legacy".
	Signature string `yaml:"signature" json:"signature"`
	// IgnoreOwnActivity counts events performed by the subscribed account
	// itself (its own posts, likes, follows, blocks, mutes, sent DMs) as
	// ignored instead of forwarding them keyed by the brand's own user id.
	// Deletions are always forwarded. Default false.
	IgnoreOwnActivity bool `yaml:"ignore_own_activity" json:"ignore_own_activity"`
}

// DefaultConfig returns the defaults; the connector file's settings are
// decoded on top of it. Signature stays empty: Open picks the scheme from
// the secrets (see Config.Signature), because a fixed default would answer
// the CRC with the consumer secret of an app X expects to use its client
// secret.
func DefaultConfig() Config {
	return Config{}
}

// defaultScheme is the scheme used when settings.signature is not given.
func defaultScheme(hasConsumer, hasClient bool) string {
	switch {
	case hasConsumer && hasClient:
		return SignatureOAuth2OrLegacy
	case hasClient:
		return SignatureOAuth2
	default:
		return SignatureLegacy
	}
}

const (
	secretConsumer = "consumer_secret"
	secretClient   = "client_secret"
)

// Secrets names the secrets this platform reads through env.Secret:
// "consumer_secret" (the app's OAuth 1.0a API Key Secret) and
// "client_secret" (its OAuth 2.0 Client Secret); settings.signature decides
// which are required, and when it is not given, the ones set decide it.
var Secrets = []string{secretConsumer, secretClient}

// Connector is one configured X Account Activity integration.
type Connector struct {
	scheme    string
	consumer  []byte // key of X-Twitter-Webhooks-Signature, nil when unused
	client    []byte // key of X-Twitter-Webhooks-Signature-OAuth2, nil when unused
	crcKey    []byte
	ignoreOwn bool
}

var (
	_ ingest.Connector  = (*Connector)(nil)
	_ ingest.Handshaker = (*Connector)(nil)
)

// Open validates cfg and the secrets it needs and returns the connector.
// Every problem is reported at once, each naming the key or secret and the fix.
func Open(cfg Config, env ingest.Env) (*Connector, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	lookup := func(name string) string {
		if env.Secret == nil {
			return ""
		}
		v, _ := env.Secret(name)
		return v
	}
	scheme, alt := cfg.Signature, ""
	if scheme == "" {
		scheme = defaultScheme(lookup(secretConsumer) != "", lookup(secretClient) != "")
		// Without settings.signature either secret would do; say so.
		alt = ", or add secrets.client_secret {env: X_CLIENT_SECRET} (the app's OAuth 2.0 Client Secret) instead"
	}
	secret := func(name, envVar, what, alt string) []byte {
		v := lookup(name)
		if v == "" {
			bad("secret %q is not set: add secrets.%s {env: %s} (%s)%s", name, name, envVar, what, alt)
			return nil
		}
		return []byte(v)
	}
	consumer := func() []byte {
		return secret(secretConsumer, "X_CONSUMER_SECRET", "the app's API Key Secret, OAuth 1.0a", alt)
	}
	client := func() []byte {
		return secret(secretClient, "X_CLIENT_SECRET", "the app's OAuth 2.0 Client Secret", "")
	}

	c := &Connector{scheme: scheme, ignoreOwn: cfg.IgnoreOwnActivity}
	switch scheme {
	case SignatureLegacy:
		c.consumer = consumer()
		c.crcKey = c.consumer
	case SignatureOAuth2:
		c.client = client()
		c.crcKey = c.client
	case SignatureOAuth2OrLegacy:
		c.client = client()
		c.consumer = consumer()
		// X: "generate [the CRC response_token] with the OAuth 2.0 client
		// secret when available".
		c.crcKey = c.client
	default:
		bad("settings.signature: must be %q, %q or %q, or left out to follow the secrets that are set", SignatureLegacy, SignatureOAuth2, SignatureOAuth2OrLegacy)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// DefaultMapping maps the raw field names Parse produces to canonical
// fields. Each record carries only one of the names mapped to the same
// canonical field, so they never compete.
func (c *Connector) DefaultMapping() map[string]string {
	return map[string]string{
		// Tweet author (x.post, x.mention) and liker (x.favorite).
		"user.id_str":      "platform_user_id",
		"user.screen_name": "handle",
		"user.name":        "full_name",
		// Acting user of follow, block and mute events.
		"source.id_str":      "platform_user_id",
		"source.screen_name": "handle",
		"source.name":        "full_name",
		// DM sender and its entry in the delivery's users map.
		"message_create.sender_id": "platform_user_id",
		"sender.screen_name":       "handle",
		"sender.name":              "full_name",
		// Deletions: tweet author, and the user who revoked the app.
		"status.user_id": "platform_user_id",
		"source.user_id": "platform_user_id",
		// Content: public tweets as comments, DMs as messages.
		"text":                             "comment_text",
		"extended_tweet.full_text":         "comment_text",
		"message_create.message_data.text": "message_text",
	}
}
