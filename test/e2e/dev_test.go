package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

// devProcess is `consentgate dev` running as a user would run it.
type devProcess struct {
	cmd    *exec.Cmd
	out    *gwtest.LogBuffer
	banner chan string
}

func startDev(t *testing.T, dataDir, listen, kafkaAddr string) *devProcess {
	t.Helper()
	cmd := exec.Command(gwtest.Binary(t), "dev", "--data-dir", dataDir, "--listen", listen, "--kafka-listen", kafkaAddr)
	cmd.Dir = gwtest.RepoRoot(t)
	cmd.Env = append(os.Environ(), "CONSENTGATE_DATABASE_URL=")
	stdout, err := cmd.StdoutPipe()
	gwtest.Must(t, err)
	p := &devProcess{cmd: cmd, out: &gwtest.LogBuffer{}, banner: make(chan string, 1)}
	cmd.Stderr = p.out
	gwtest.Must(t, cmd.Start())
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if !sent && strings.HasPrefix(sc.Text(), "go run ./cmd/consentgate tail") {
				p.banner <- b.String()
				sent = true
			}
		}
		if !sent {
			p.banner <- b.String()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *devProcess) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("consentgate dev exited badly on SIGTERM: %v\n%s", err, p.out.String())
		}
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Errorf("consentgate dev did not stop within 30s of SIGTERM")
	}
}

func (p *devProcess) waitBanner(t *testing.T) string {
	t.Helper()
	select {
	case b := <-p.banner:
		if !strings.Contains(b, "curl") {
			t.Fatalf("dev printed no curl line:\n%s\nstderr:\n%s", b, p.out.String())
		}
		return b
	case <-time.After(90 * time.Second):
		t.Fatalf("dev printed no banner in 90s; stderr:\n%s", p.out.String())
	}
	return ""
}

// curlCommand cuts the printed curl out of the banner.
func curlCommand(t *testing.T, banner string) string {
	t.Helper()
	i := strings.Index(banner, "curl ")
	if i < 0 {
		t.Fatalf("no curl in banner:\n%s", banner)
	}
	rest := banner[i:]
	var lines []string
	for _, l := range strings.Split(rest, "\n") {
		lines = append(lines, l)
		if !strings.HasSuffix(l, "\\") {
			break
		}
	}
	return strings.Join(lines, "\n")
}

// kcatRead reads the topic with kcat as the README tells users to.
func kcatRead(t *testing.T, broker, topic string, want int) []map[string]any {
	t.Helper()
	if _, err := exec.LookPath("kcat"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kcat is not installed (.ci/run installs it with apt-get install -y kcat)")
		}
		t.Skip("SKIPPING: kcat is not installed (apt-get install -y kcat)")
	}
	deadline := time.Now().Add(30 * time.Second)
	var got []map[string]any
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, err := exec.CommandContext(ctx, "kcat", "-b", broker, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\n").Output()
		cancel()
		got = got[:0]
		if err == nil {
			for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
				var v map[string]any
				if json.Unmarshal(line, &v) == nil {
					got = append(got, v)
				}
			}
			if len(got) >= want {
				return got
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("kcat read %d records from %s, want %d", len(got), topic, want)
	return nil
}

// As a user: `consentgate dev`, paste the printed curl, read the topic with
// kcat; restart and find the data still there.
func TestDevModeAsAUser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	data := t.TempDir()
	listen, kafkaAddr := gwtest.FreeAddr(t), gwtest.FreeAddr(t)
	p := startDev(t, data, listen, kafkaAddr)
	banner := p.waitBanner(t)
	curl := curlCommand(t, banner)
	out, err := exec.Command("bash", "-c", curl).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"accepted"`) {
		t.Fatalf("the printed curl failed: %v\n%s\ncommand:\n%s", err, out, curl)
	}
	recs := kcatRead(t, kafkaAddr, "crm.leads.v1", 1)
	fields, _ := recs[0]["fields"].(map[string]any)
	if _, ok := fields["email"]; !ok {
		t.Errorf("the sample's consented e-mail is missing: %v", fields)
	}
	if _, ok := fields["favourite_colour"]; ok {
		t.Errorf("the sample's unmapped field reached the topic")
	}
	// company is identity: kept because the sample grants marketing_email;
	// country is location, which needs sales_contact (denied) or analytics.
	if fields["company"] != "ACME GmbH" {
		t.Errorf("company = %v, want it kept (identity serves the granted marketing_email)", fields["company"])
	}
	if _, ok := fields["country"]; ok {
		t.Errorf("country reached the topic without a granted location purpose")
	}

	// Restart on the same data directory: topic and secrets survive.
	p.stop(t)
	p2 := startDev(t, data, listen, kafkaAddr)
	banner2 := p2.waitBanner(t)
	if got := kcatRead(t, kafkaAddr, "crm.leads.v1", 1); len(got) < 1 {
		t.Fatalf("records lost across restart")
	}
	// The same curl (same secret, same event id) is now a duplicate.
	out, err = exec.Command("bash", "-c", curl).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"duplicates":1`) {
		t.Errorf("replaying the first curl after restart: %v %s", err, out)
	}
	if !strings.Contains(banner2, "curl") {
		t.Errorf("no curl after restart")
	}
}
