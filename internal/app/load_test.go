package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/config"
)

// A hash key that cannot be read or is too short is reported at the line
// of hash_key, like every other problem of the file.
func TestLoadHashKeyProblemsNameTheLine(t *testing.T) {
	policy, err := filepath.Abs(filepath.Join("..", "..", "configs", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "connectors"), 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "consentgate.yaml")
	body := "listen: 127.0.0.1:8080\npolicy: " + policy + "\n\n\nhash_key: {env: R1_HASH_UNSET}\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ value, want string }{
		{"", path + ":5: hash_key: environment variable R1_HASH_UNSET is not set"},
		{"abc", path + ":5: hash_key: the key has 3 bytes"},
	} {
		t.Setenv("R1_HASH_UNSET", tc.value)
		cfg, err := config.LoadGateway(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Load(cfg, nil)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("hash key %q: got %v, want it to start with %q", tc.value, err, tc.want)
		}
	}
}

// CONSENTGATE_SECRET_KEYS_FILE is read from the working directory when
// relative, not from the config file's directory.
func TestKeyRingFileFromEnvIsRelativeToTheWorkingDirectory(t *testing.T) {
	work := t.TempDir()
	t.Chdir(work)
	if err := os.WriteFile(filepath.Join(work, "ring"), []byte("k1:0123456789abcdef0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvSecretKeysFile, "ring")
	cfg := &config.Gateway{Dir: t.TempDir()} // the config lives elsewhere
	ring, err := LoadKeyRing(cfg, nil)
	if err != nil || ring == nil {
		t.Fatalf("ring %v, err %v: want the file in the working directory read", ring, err)
	}
}

// brokenFiles writes a gateway file holding gateway beside a policy and a
// connector file that each have a problem; it returns their directory and
// the gateway file's path.
func brokenFiles(t *testing.T, gateway string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	for name, body := range map[string]string{
		"policy.yaml":         "version: x\notherwise: masked\n",
		"connectors/web.yaml": "id: web\nplatfrom: generic\n",
		"consentgate.yaml":    gateway,
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, filepath.Join(dir, "consentgate.yaml")
}

// A broken policy does not hide the connectors' problems: one run reports
// both files.
func TestLoadReportsPolicyAndConnectorProblemsTogether(t *testing.T) {
	_, path := brokenFiles(t, "hash_key: {env: LOAD_TEST_HASH_KEY}\n")
	t.Setenv("LOAD_TEST_HASH_KEY", strings.Repeat("k", 40))
	cfg, err := config.LoadGateway(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Load(cfg, nil)
	if err == nil {
		t.Fatal("loaded")
	}
	for _, want := range []string{"policy.yaml", "web.yaml:2: platfrom"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problems %q do not mention %q", err, want)
		}
	}
}

// A gateway file with problems does not hide those of the policy and
// connector files it names: serve and dev report all of them in one run,
// the gateway's hash_key problem once.
func TestConfigProblemsReportEveryFile(t *testing.T) {
	dir, path := brokenFiles(t, "kafka:\n  lingr: 5ms\nhash_key: {env: CHECK_TEST_UNSET}\n")
	cfg, err := config.ReadGateway(path)
	if err == nil || cfg == nil {
		t.Fatalf("read gateway: cfg %v, err %v: want the gateway as read and its problem", cfg, err)
	}
	got := ConfigProblems(cfg, err, nil).Error()
	for _, want := range []string{
		path + ":2: kafka.lingr: unknown key",
		filepath.Join(dir, "policy.yaml"),
		filepath.Join(dir, "connectors", "web.yaml") + ":2: platfrom",
		path + ":3: hash_key: environment variable CHECK_TEST_UNSET is not set",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems:\n%s\ndo not mention %q", got, want)
		}
	}
	if n := strings.Count(got, "hash_key"); n != 1 {
		t.Errorf("hash_key reported %d times:\n%s", n, got)
	}

	// A problem inside a key explains the key's own trouble: it is not
	// reported again, worse, by the check of the files.
	if err := os.WriteFile(path, []byte("hash_key: {evn: CHECK_TEST_UNSET}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err = config.ReadGateway(path)
	got = ConfigProblems(cfg, err, nil).Error()
	if !strings.Contains(got, "hash_key.evn: unknown key") || strings.Contains(got, "no source given") {
		t.Errorf("misspelt hash_key source:\n%s\nwant the unknown key reported, and no \"no source given\"", got)
	}

	// When the key naming the policy is itself wrong, the policy it would
	// name is not checked (its problems would mislead).
	if err := os.WriteFile(path, []byte("policy: [a]\nhash_key: {env: CHECK_TEST_UNSET}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err = config.ReadGateway(path)
	if err == nil {
		t.Fatal("a list for policy was accepted")
	}
	got = ConfigProblems(cfg, err, nil).Error()
	if got != err.Error() {
		t.Errorf("with policy at fault got\n%s\nwant only the gateway's problems\n%s", got, err)
	}
}
