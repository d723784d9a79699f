package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

const (
	testHashKey    = "test-hash-key-0123456789abcdef-0123456789abcdef"
	testSecret     = "test-signing-secret"
	adminTestToken = "e2e-admin-token"
)

// startGateway starts an in-process gateway (gwtest) with the e2e
// secrets and, unless o says otherwise, the sample connector.
func startGateway(t testing.TB, o gwtest.Options) *gwtest.Gateway {
	t.Helper()
	if o.Connectors == nil {
		o.Connectors = map[string]string{"sample.yaml": sampleConnector}
	}
	o.HashKey, o.AdminToken, o.SigningSecret = testHashKey, adminTestToken, testSecret
	o.Env = map[string]string{"E2E_SIGNING_SECRET": testSecret}
	return gwtest.Start(t, o)
}

// sampleConnector is a generic connector signed with HMAC-SHA256 hex.
const sampleConnector = `
id: web
platform: generic
default_jurisdiction: EU
secrets:
  signing_secret: {env: E2E_SIGNING_SECRET}
settings:
  signature: {scheme: hmac, header: X-Signature, encoding: hex, prefix: "sha256="}
  event_id_path: id
  occurred_at_path: occurred_at
mapping:
  replace_defaults: true
  fields:
    lead.email: email
    lead.phone: phone
    lead.first_name: first_name
    lead.last_name: last_name
    lead.country: country
    lead.health: health_condition
consent:
  checkboxes:
    - {key: consent.marketing_email, purpose: marketing_email, notice: {id: web-privacy, version: "3"}}
    - {key: consent.sales_contact, purpose: sales_contact}
    - {key: consent.health, purpose: health_outreach}
`

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// TestMain removes the consentgate binary the out-of-process tests build.
func TestMain(m *testing.M) {
	code := m.Run()
	gwtest.RemoveBinary()
	os.Exit(code)
}
