package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/config"
)

// The banner may show a PostgreSQL URL from CONSENTGATE_DATABASE_URL.
func TestDevBannerHidesPassword(t *testing.T) {
	g := &app.Gateway{Config: &config.Gateway{PublicURL: "http://127.0.0.1:8080"}}
	g.Config.Database.URL = "postgres://u:S3cretPW@db:5432/cg"
	var out bytes.Buffer
	printBanner(&out, g, "data", "127.0.0.1:9092")
	if strings.Contains(out.String(), "S3cret") || strings.Contains(out.String(), "PW") {
		t.Fatalf("banner shows the password:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "postgres://u:xxxxx@db:5432/cg") {
		t.Fatalf("banner does not show the redacted database URL:\n%s", out.String())
	}
}

// The banner's curl goes to a connector that reads its body as a record:
// sample-generic first, never one whose shape differs (the sample body
// has no records_path array), even when its id sorts first.
func TestDevBannerCurlFitsItsConnector(t *testing.T) {
	conn := func(id, settings string) *config.Connector {
		t.Helper()
		y := "id: " + id + "\nplatform: generic\nsecrets: {signing_secret: {env: X}}\nsettings:\n  signature: {scheme: hmac, header: X-Signature, encoding: hex, prefix: \"sha256=\"}\n  event_id_path: id\n" + settings
		c, err := config.ParseConnector(id+".yaml", []byte(y), config.ConnectorOptions{
			Secret: func(_, _ string, _ config.SecretRef) (string, error) { return "dev-secret", nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	events := conn("a-events", "  records_path: events\n")
	sample := conn("sample-generic", "")
	for _, tc := range []struct {
		name string
		cs   []*config.Connector
		want string // "" = no curl
	}{
		{"sample-generic wins over an id sorting first", []*config.Connector{events, sample}, "/webhooks/sample-generic"},
		{"a connector of another shape gets no curl", []*config.Connector{events}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &app.Gateway{Config: &config.Gateway{PublicURL: "http://127.0.0.1:8080"}, Connectors: tc.cs}
			var out bytes.Buffer
			printBanner(&out, g, "data", "127.0.0.1:9092")
			got := out.String()
			if tc.want == "" && strings.Contains(got, "curl ") || tc.want != "" && !strings.Contains(got, "curl -sS -X POST http://127.0.0.1:8080"+tc.want+" ") {
				t.Fatalf("banner:\n%s\nwant curl for %q", got, tc.want)
			}
			if strings.Contains(got, "/webhooks/a-events") {
				t.Fatalf("curl for a connector that refuses the sample:\n%s", got)
			}
		})
	}
}
