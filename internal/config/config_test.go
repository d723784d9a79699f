package config_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/policy"
)

var update = flag.Bool("update", false, "rewrite golden files")

type policyView struct{ p *policy.Policy }

func (v policyView) HasPurpose(n string) bool { _, ok := v.p.Purposes[n]; return ok }
func (v policyView) PurposeNames() []string   { return v.p.PurposeNames() }
func (v policyView) HasField(f string) bool   { _, _, ok := v.p.Category(f); return ok }
func (v policyView) FieldNames() []string     { return v.p.Fields() }

func loadPolicy(t *testing.T) policyView {
	t.Helper()
	p, err := policy.Load(filepath.Join("..", "..", "configs", "policy.yaml"))
	if err != nil {
		t.Fatalf("the shipped policy must load: %v", err)
	}
	return policyView{p}
}

// golden compares got with testdata/<file>.golden (or rewrites it).
func golden(t *testing.T, file, got string) {
	t.Helper()
	g := strings.TrimSuffix(file, filepath.Ext(file)) + ".golden"
	if *update {
		if err := os.WriteFile(g, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(g)
	if err != nil {
		t.Fatalf("missing golden file %s (run go test -update): %v", g, err)
	}
	if got != string(want) {
		t.Errorf("message for %s:\n--- got\n%s\n--- want\n%s", file, got, want)
	}
}

// Every bad gateway file is refused with a message naming file, line, key
// and fix — one golden file per case.
func TestBadGatewayConfigGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/gateway/*.yaml")
	if len(files) == 0 {
		t.Fatal("no cases")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := config.LoadGateway(f)
			if err == nil {
				t.Fatal("a bad config was accepted")
			}
			golden(t, f, err.Error()+"\n")
		})
	}
}

func TestBadConnectorGolden(t *testing.T) {
	t.Setenv("CONSENTGATE_TEST_SECRET", "s3cr3t-value-never-echoed")
	pv := loadPolicy(t)
	files, _ := filepath.Glob("testdata/bad/connector/*.yaml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = config.ParseConnector(f, data, config.ConnectorOptions{Policy: pv})
			if err == nil {
				t.Fatal("a bad connector was accepted")
			}
			if strings.Contains(err.Error(), "s3cr3t-value-never-echoed") {
				t.Fatal("the error echoes a secret")
			}
			golden(t, f, err.Error()+"\n")
		})
	}
}

func TestDuplicateConnectorIDsAcrossFiles(t *testing.T) {
	t.Setenv("CONSENTGATE_TEST_SECRET", "x")
	_, err := config.LoadConnectors("testdata/good/connectors", config.ConnectorOptions{Policy: loadPolicy(t)})
	if err == nil || !strings.Contains(err.Error(), `"web" is already used by`) {
		t.Fatalf("want a duplicate-id error, got %v", err)
	}
}

func TestShippedConfigsLoad(t *testing.T) {
	g, err := config.LoadGateway(filepath.Join("..", "..", "configs", "consentgate.yaml"))
	if err != nil {
		t.Fatalf("configs/consentgate.yaml: %v", err)
	}
	if g.Kafka.Linger <= 0 || g.Topics.Leads != "crm.leads.v1" {
		t.Errorf("unexpected defaults: %+v", g.Kafka)
	}
	// Env overrides beat the file.
	t.Setenv("CONSENTGATE_KAFKA_BROKERS", "k1:9092, k2:9092")
	t.Setenv("CONSENTGATE_DATABASE_URL", "postgres://u@db/x")
	g, err = config.LoadGateway(filepath.Join("..", "..", "configs", "consentgate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Kafka.Brokers) != 2 || g.Kafka.Brokers[1] != "k2:9092" || g.Database.URL != "postgres://u@db/x" {
		t.Errorf("env overrides not applied: %v %s", g.Kafka.Brokers, g.Database.URL)
	}
}

// The example connector files in configs/examples load with the shipped
// policy once their secrets are set.
func TestExampleConnectorsLoad(t *testing.T) {
	for _, v := range []string{"META_APP_SECRET", "META_VERIFY_TOKEN", "META_PAGE_TOKEN", "LINKEDIN_CLIENT_SECRET",
		"LINKEDIN_ACCESS_TOKEN", "X_CONSUMER_SECRET", "TIKTOK_CLIENT_SECRET", "GOOGLE_ADS_WEBHOOK_KEY"} {
		t.Setenv(v, "example-secret-value")
	}
	t.Setenv("WEB_FORMS_SIGNING_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	cs, err := config.LoadConnectors(filepath.Join("..", "..", "configs", "examples", "connectors"), config.ConnectorOptions{Policy: loadPolicy(t)})
	if err != nil {
		t.Fatalf("examples must load:\n%v", err)
	}
	platforms := map[string]bool{}
	for _, c := range cs {
		platforms[c.Platform] = true
	}
	for _, p := range []string{"generic", "meta", "linkedin", "x", "tiktok", "googleads"} {
		if !platforms[p] {
			t.Errorf("no example for platform %s", p)
		}
	}
}

// A secret reference in a file replaces the default's source: hash_key and
// admin_token default to {env: …}, and {file: …} must mean the file only.
func TestSecretRefInFileReplacesDefault(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "consentgate.yaml")
	body := "hash_key: {file: hash.key}\nadmin_token: {file: /run/secrets/admin}\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := config.LoadGateway(path)
	if err != nil {
		t.Fatalf("file references refused: %v", err)
	}
	if g.HashKey != (config.SecretRef{File: "hash.key"}) || g.AdminToken != (config.SecretRef{File: "/run/secrets/admin"}) {
		t.Fatalf("hash_key %+v, admin_token %+v: want the files alone", g.HashKey, g.AdminToken)
	}
}

// The allowlist for API connectors' references, on its own.
func TestAPISecretRefsAllowRef(t *testing.T) {
	dir := t.TempDir()
	allowed := filepath.Join(dir, "allowed")
	if err := os.Mkdir(allowed, 0o700); err != nil {
		t.Fatal(err)
	}
	a := config.APISecretRefs{EnvPrefixes: []string{"CONNECTOR_"}, FileDirs: []string{"allowed"}}
	for _, tc := range []struct {
		ref  config.SecretRef
		want string // "" = allowed
	}{
		{config.SecretRef{Env: "CONNECTOR_META"}, ""},
		{config.SecretRef{Env: "CONSENTGATE_SECRET_KEYS"}, "gateway's own"},
		{config.SecretRef{Env: "AWS_SECRET_ACCESS_KEY"}, "does not start with"},
		{config.SecretRef{File: filepath.Join(allowed, "meta.token")}, ""},
		{config.SecretRef{File: "meta.token"}, ""}, // relative to base = allowed
		{config.SecretRef{File: allowed + "/../x"}, `may not contain ".."`},
		{config.SecretRef{File: allowed + "/link/../secret"}, `may not contain ".."`},
		{config.SecretRef{File: allowed}, "outside"},
	} {
		err := a.AllowRef(tc.ref, allowed, dir)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v refused: %v", tc.ref, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want it to mention %q", tc.ref, err, tc.want)
		}
	}
	if err := (config.APISecretRefs{}).AllowRef(config.SecretRef{Env: "CONNECTOR_META"}, "", ""); err == nil || !strings.Contains(err.Error(), "env references are off") {
		t.Errorf("no list: %v, want references off", err)
	}
}

// A value an environment variable set is blamed on the variable, not on
// a line of the file that it replaced.
func TestEnvOverrideProblemsNameTheVariable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "consentgate.yaml")
	body := "listen: 127.0.0.1:8080\nkafka:\n  brokers: [127.0.0.1:9092]\nhash_key: {env: HASH}\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CONSENTGATE_KAFKA_BROKERS", "k1:9092,kafka2")
	t.Setenv("CONSENTGATE_LISTEN", "8080")
	_, err := config.LoadGateway(path)
	want := "CONSENTGATE_KAFKA_BROKERS (overrides kafka.brokers): kafka.brokers[1]: must be host:port, e.g. \"127.0.0.1:9092\"\n" +
		"CONSENTGATE_LISTEN (overrides listen): must be host:port, e.g. \"127.0.0.1:8080\""
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
}

// Relative paths from the environment are the caller's, relative to the
// working directory; relative paths in the file stay relative to the file.
func TestEnvPathsRelativeToWorkingDirectory(t *testing.T) {
	cfgDir, cwd := t.TempDir(), t.TempDir()
	path := filepath.Join(cfgDir, "consentgate.yaml")
	if err := os.WriteFile(path, []byte("hash_key: {env: HASH}\npolicy: p.yaml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(cwd)
	g, err := config.LoadGateway(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := g.Path(g.Policy), filepath.Join(cfgDir, "p.yaml"); got != want {
		t.Errorf("file's policy: %s, want %s", got, want)
	}
	t.Setenv("CONSENTGATE_POLICY", "t/base/policy.yaml")
	t.Setenv("CONSENTGATE_CONNECTORS_DIR", "conn")
	if g, err = config.LoadGateway(path); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd() // cwd with its symbolic links as Getwd sees them
	if got, want := g.Path(g.Policy), filepath.Join(wd, "t", "base", "policy.yaml"); got != want {
		t.Errorf("CONSENTGATE_POLICY: %s, want %s", got, want)
	}
	if got, want := g.Path(g.ConnectorsDir), filepath.Join(wd, "conn"); got != want {
		t.Errorf("CONSENTGATE_CONNECTORS_DIR: %s, want %s", got, want)
	}
}
