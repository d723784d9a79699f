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
