package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
	"github.com/consentgate/consentgate/internal/testutil/pgtest"
)

const cliSecret = "cli-applied-signing-secret-51c0"

// cliConnector is a connector file as it would live in git: the secret is
// stored (encrypted) by the gateway.
const cliConnector = `
id: web-cli
platform: generic
name: Web form applied from git
default_jurisdiction: EU
secrets:
  signing_secret: {value: "` + cliSecret + `"}
settings:
  signature: {scheme: hmac, header: X-Signature, encoding: hex, prefix: "sha256="}
  event_id_path: id
mapping:
  replace_defaults: true
  fields:
    lead.email: email
    lead.country: country
consent:
  checkboxes:
    - {key: consent.marketing_email, purpose: marketing_email, notice: {id: web-privacy, version: 3}}
`

// TestCLIConnectorsAgainstRunningGateway drives the connectors commands as
// an operator would, against an in-process gateway on PostgreSQL and a
// real broker.
func TestCLIConnectorsAgainstRunningGateway(t *testing.T) {
	t.Setenv(app.EnvSecretKeys, adminKeyRing)
	g := startGateway(t, gwtest.Options{})
	dir := t.TempDir()
	file := writeFile(t, dir, "web-cli.yaml", cliConnector)

	if out := cli(t, g, adminTestToken, "connectors", "apply", "-f", file).ok(t).Out; strings.TrimSpace(out) != "connector/web-cli configured" {
		t.Fatalf("first apply: %q", out)
	}
	if out := cli(t, g, adminTestToken, "connectors", "apply", "-f", dir).ok(t).Out; strings.TrimSpace(out) != "connector/web-cli unchanged" {
		t.Fatalf("second apply: %q, want unchanged", out)
	}

	// Live without a restart: a signed lead is forwarded.
	body := []byte(`{"id":"cli-1","lead":{"email":"cli@example.com","country":"DE"},"consent":{"marketing_email":true}}`)
	r := adminPost(t, g.URL+"/webhooks/web-cli", body, gwtest.SignHMAC(cliSecret, body))
	if r.Status != http.StatusOK || r.Summary("forwarded") != 1 {
		t.Fatalf("lead to the applied connector: %d %s", r.Status, r.Raw)
	}

	list := cli(t, g, adminTestToken, "connectors", "list").ok(t).Out
	if !containsAll(list, "web-cli", "api", "web ", "file") {
		t.Fatalf("list:\n%s", list)
	}
	got := cli(t, g, adminTestToken, "connectors", "get", "web-cli").ok(t).Out
	if !containsAll(got, `"source": "api"`, `"source": "stored"`, "/webhooks/web-cli") || strings.Contains(got, cliSecret) {
		t.Fatalf("get (must not show the secret):\n%s", got)
	}

	payload := writeFile(t, dir, "lead.json", `{"id":"dry-1","lead":{"email":"dry@example.com","country":"DE"},"consent":{"marketing_email":true}}`)
	dry := cli(t, g, adminTestToken, "connectors", "dry-run", "web-cli", "--payload", payload).ok(t).Out
	if !containsAll(dry, "nothing was forwarded or stored", "lead.country", "redact", "lead.email", "keep") {
		t.Fatalf("dry-run output:\n%s", dry)
	}

	// Errors are clear and exit non-zero.
	fileConn := cli(t, g, adminTestToken, "connectors", "delete", "web")
	if fileConn.Code == 0 || !strings.Contains(fileConn.Err, "read-only") {
		t.Fatalf("delete a file connector: %+v", fileConn)
	}
	bad := writeFile(t, dir, "bad.yaml", strings.Replace(cliConnector, "lead.country: country", "lead.country: land", 1))
	invalid := cli(t, g, adminTestToken, "connectors", "apply", "-f", bad)
	if invalid.Code == 0 || !strings.Contains(invalid.Err, "mapping.fields.lead.country") {
		t.Fatalf("apply an invalid file: %+v", invalid)
	}
	if noToken := cli(t, g, "", "connectors", "list"); noToken.Code != 2 || !strings.Contains(noToken.Err, "CONSENTGATE_TOKEN") {
		t.Fatalf("no token: %+v", noToken)
	}

	cli(t, g, adminTestToken, "connectors", "delete", "web-cli").ok(t)
	if r := adminPost(t, g.URL+"/webhooks/web-cli", body, gwtest.SignHMAC(cliSecret, body)); r.Status != http.StatusNotFound {
		t.Fatalf("webhook of a deleted connector: %d", r.Status)
	}
	if strings.Contains(g.Logs(), cliSecret) {
		t.Fatal("the secret value reached the gateway log")
	}
}

// TestCLITokensAndRoles: an admin creates a marketer token with the CLI;
// the marketer may manage connectors but not tokens; revoking works at once.
func TestCLITokensAndRoles(t *testing.T) {
	g := startGateway(t, gwtest.Options{})
	created := cli(t, g, adminTestToken, "tokens", "create", "--name", "ci deploy", "--role", "marketer").ok(t).Out
	lines := strings.Fields(created)
	token := lines[len(lines)-1]
	id := lines[1]
	if !strings.HasPrefix(token, "cgt_") || !strings.HasPrefix(id, "tok_") {
		t.Fatalf("tokens create output:\n%s", created)
	}
	cli(t, g, token, "connectors", "list").ok(t)
	cli(t, g, token, "deadletters", "list").ok(t)
	if out := cli(t, g, token, "outbox", "parked").ok(t).Out; !strings.HasPrefix(out, "ID") {
		t.Fatalf("outbox parked output:\n%s", out)
	}
	if out := cli(t, g, token, "outbox", "requeue", "--all").ok(t).Out; !strings.Contains(out, "0 parked message(s) requeued") {
		t.Fatalf("outbox requeue output:\n%s", out)
	}
	if r := cli(t, g, token, "outbox", "requeue"); r.Code != 2 {
		t.Fatalf("outbox requeue without --id or --all: %+v, want a usage error", r)
	}
	if r := cli(t, g, token, "tokens", "create", "--name", "x", "--role", "admin"); r.Code == 0 || !strings.Contains(r.Err, "403") {
		t.Fatalf("marketer creating a token: %+v", r)
	}
	if r := cli(t, g, token, "consent", "grant", "--email", "a@example.com", "--purpose", "marketing_email"); r.Code == 0 || !strings.Contains(r.Err, "403") {
		t.Fatalf("marketer granting consent: %+v", r)
	}
	listed := cli(t, g, adminTestToken, "tokens", "list").ok(t).Out
	if !containsAll(listed, id, "ci deploy", "marketer") || strings.Contains(listed, token) {
		t.Fatalf("tokens list:\n%s", listed)
	}
	cli(t, g, adminTestToken, "tokens", "revoke", id).ok(t)
	if r := cli(t, g, token, "connectors", "list"); r.Code == 0 || !strings.Contains(r.Err, "401") {
		t.Fatalf("revoked token: %+v", r)
	}

	// Privacy tasks through the CLI (routes of the consent API).
	cli(t, g, adminTestToken, "consent", "grant", "--email", "cli.subject@example.com", "--purpose", "marketing_email").ok(t)
	cli(t, g, adminTestToken, "consent", "withdraw", "--email", "cli.subject@example.com", "--purpose", "marketing_email").ok(t)
	hist := cli(t, g, adminTestToken, "consent", "history", "--email", "cli.subject@example.com").ok(t).Out
	if !containsAll(hist, "marketing_email", "withdrawn", "granted") || strings.Contains(hist, "cli.subject@example.com") {
		t.Fatalf("history:\n%s", hist)
	}
	if r := cli(t, g, adminTestToken, "consent", "erase", "--email", "cli.subject@example.com"); r.Code != 2 {
		t.Fatalf("erase without --yes: %+v", r)
	}
	if out := cli(t, g, adminTestToken, "consent", "erase", "--email", "cli.subject@example.com", "--yes").ok(t).Out; !strings.Contains(out, "2 ledger entries removed") {
		t.Fatalf("erase: %s", out)
	}
}

// TestStoredSecretsNeedTheirKeyAtStart: a gateway restarted with a key ring
// that cannot open the stored secrets refuses to start, naming the key;
// with the old key kept after a new one (rotation) it starts.
func TestStoredSecretsNeedTheirKeyAtStart(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "cg.db")
	brokers := kafkatest.Broker(t)
	t.Setenv(app.EnvSecretKeys, adminKeyRing)
	g := startGateway(t, gwtest.Options{DatabaseURL: db, Brokers: brokers})
	file := writeFile(t, t.TempDir(), "web-cli.yaml", cliConnector)
	cli(t, g, adminTestToken, "connectors", "apply", "-f", file).ok(t)
	g.Stop()

	for _, tc := range []struct{ name, ring, want string }{
		{"no key", "", "CONSENTGATE_SECRET_KEYS"},
		{"other key", "k2:another-e2e-key-material-0123456789abcdef", `"k1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(app.EnvSecretKeys, tc.ring)
			_, stop, err := startRaw(t, db, brokers)
			if err == nil {
				stop()
				t.Fatal("the gateway started with stored secrets it cannot decrypt")
			}
			if !containsAll(err.Error(), tc.want, "web-cli", "signing_secret") || strings.Contains(err.Error(), cliSecret) {
				t.Fatalf("start error: %v", err)
			}
		})
	}
	// Rotation: new key first, old key kept; re-seal; then drop the old key.
	newKey := "k2:another-e2e-key-material-0123456789abcdef"
	t.Setenv(app.EnvSecretKeys, newKey+","+adminKeyRing)
	g2, stop, err := startRaw(t, db, brokers)
	if err != nil {
		t.Fatalf("start with a rotated ring: %v", err)
	}
	if _, ok := g2.Pipeline.Connector("web-cli"); !ok {
		t.Fatal("stored connector not live after restart")
	}
	stop()
	out := runCLI(t, nil, "reseal-secrets", "--database-url", db).ok(t).Out
	if !strings.Contains(out, "connector/web-cli: 1 secret(s) re-encrypted under key k2") || strings.Contains(out, cliSecret) {
		t.Fatalf("reseal-secrets: %s", out)
	}
	// The bootstrap command: a first admin token without a running gateway.
	boot := runCLI(t, nil, "tokens", "create", "--bootstrap", "--name", "ops", "--database-url", db).ok(t).Out
	fields := strings.Fields(boot)
	bootToken := fields[len(fields)-1]

	t.Setenv(app.EnvSecretKeys, newKey)
	g3, stop3, err := startRaw(t, db, brokers)
	if err != nil {
		t.Fatalf("start with the new key only, after reseal: %v", err)
	}
	defer stop3()
	if _, ok := g3.Pipeline.Connector("web-cli"); !ok {
		t.Fatal("stored connector not live under the new key")
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+g3.Addr+"/api/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+bootToken)
	if r := gwtest.Do(t, req); r.Status != http.StatusOK || r.Body["role"] != "admin" || r.Body["name"] != "ops" {
		t.Fatalf("bootstrap token: %d %s", r.Status, r.Raw)
	}
}

// TestConnectorChangesReachEveryInstance: two gateways share one
// PostgreSQL database; a connector applied through one goes live, is
// disabled and is deleted on the other without a restart.
func TestConnectorChangesReachEveryInstance(t *testing.T) {
	t.Setenv(app.EnvSecretKeys, adminKeyRing)
	db, brokers := pgtest.URL(t), kafkatest.Broker(t)
	a := startGateway(t, gwtest.Options{DatabaseURL: db, Brokers: brokers})
	b := startGateway(t, gwtest.Options{DatabaseURL: db, Brokers: brokers})
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("instance b: %s not seen within 15s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	live := func() bool { _, ok := b.G.Pipeline.Connector("web-cli"); return ok }

	cli(t, a, adminTestToken, "connectors", "apply", "-f", writeFile(t, t.TempDir(), "c.yaml", cliConnector)).ok(t)
	eventually("the new connector", live)
	body := []byte(`{"id":"multi-1","lead":{"email":"multi@example.com"},"consent":{"marketing_email":true}}`)
	if r := adminPost(t, b.URL+"/webhooks/web-cli", body, gwtest.SignHMAC(cliSecret, body)); r.Status != http.StatusOK {
		t.Fatalf("lead to instance b: %d %s", r.Status, r.Raw)
	}

	req, _ := http.NewRequest(http.MethodPost, a.URL+"/api/v1/connectors/web-cli/disable", nil)
	req.Header.Set("Authorization", "Bearer "+adminTestToken)
	if r := gwtest.Do(t, req); r.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", r.Status, r.Raw)
	}
	eventually("the disabled connector", func() bool { return !live() })

	cli(t, a, adminTestToken, "connectors", "delete", "web-cli").ok(t)
	eventually("the deleted connector", func() bool { _, ok := b.G.Pipeline.Connectors()["web-cli"]; return !ok })
}
