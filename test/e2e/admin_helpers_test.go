package e2e

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

const (
	adminKeyRing = "k1:e2e-secret-key-material-0123456789abcdef"
)

// cliResult is one run of the consentgate binary.
type cliResult struct {
	Out, Err string
	Code     int
}

// cli runs the consentgate binary against g's admin API with token.
func cli(t *testing.T, g *gwtest.Gateway, token string, args ...string) cliResult {
	t.Helper()
	return runCLI(t, []string{"CONSENTGATE_SERVER=" + g.URL, "CONSENTGATE_TOKEN=" + token}, args...)
}

// runCLI runs the consentgate binary with env added to this process's.
func runCLI(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, gwtest.Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := cliResult{Out: out.String(), Err: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run consentgate %v: %v", args, err)
	}
	return res
}

// ok fails unless the command succeeded.
func (r cliResult) ok(t *testing.T) cliResult {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.Code, r.Out, r.Err)
	}
	return r
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	gwtest.Must(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

// startRaw starts a gateway on an existing database and broker the way
// startGateway does, but returns the start error instead of failing, for
// tests of start-up refusals.
func startRaw(t *testing.T, databaseURL string, brokers []string) (*app.Gateway, func(), error) {
	t.Helper()
	dir := t.TempDir()
	gwtest.WriteConfigDir(t, dir, "", nil)
	gwFile := writeFile(t, dir, "consentgate.yaml", "listen: 127.0.0.1:8080\nhash_key: {env: E2E_HASH_KEY}\nadmin_token: {env: E2E_ADMIN_TOKEN}\n")
	t.Setenv("E2E_HASH_KEY", testHashKey)
	t.Setenv("E2E_ADMIN_TOKEN", adminTestToken)
	cfg, err := config.LoadGateway(gwFile)
	gwtest.Must(t, err)
	cfg.Database.URL, cfg.Kafka.Brokers = databaseURL, brokers
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	gwtest.Must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	g, wait, err := app.Start(ctx, cfg, app.Options{Log: discardLogger(), Listener: ln, StartTimeout: 20 * time.Second})
	if err != nil {
		cancel()
		ln.Close()
		return nil, nil, err
	}
	return g, func() { cancel(); _ = wait() }, nil
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// adminPost posts a webhook with a signature header.
func adminPost(t *testing.T, url string, body []byte, signature string) gwtest.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	gwtest.Must(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", signature)
	return gwtest.Do(t, req)
}
