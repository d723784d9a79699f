package fault

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
	"github.com/consentgate/consentgate/internal/testutil/pgtest"
)

// serveProcess is `consentgate serve` as an operator runs it.
type serveProcess struct {
	t    testing.TB
	dir  string
	Addr string
	cmd  *exec.Cmd
	out  *gwtest.LogBuffer
	done chan error
}

// writeServeConfig writes a production-style config directory.
func writeServeConfig(t testing.TB, dbURL string, brokers []string, listen string) string {
	t.Helper()
	dir := t.TempDir()
	writeConfigDir(t, dir, nil)
	cfg := fmt.Sprintf(`listen: %s
database: {url: %q}
kafka: {brokers: [%q], write_timeout: 3s}
policy: policy.yaml
connectors_dir: connectors
hash_key: {env: FAULT_HASH_KEY}
admin_token: {env: FAULT_ADMIN_TOKEN}
outbox: {kafka_timeout: 1s, relay_interval: 100ms}
http: {shutdown_timeout: 20s}
log: {level: debug, format: json}
`, listen, dbURL, brokers[0])
	gwtest.Must(t, os.WriteFile(filepath.Join(dir, "consentgate.yaml"), []byte(cfg), 0o600))
	return dir
}

func startServe(t testing.TB, dir, listen string) *serveProcess {
	t.Helper()
	cmd := exec.Command(gwtest.Binary(t), "serve", "--config", filepath.Join(dir, "consentgate.yaml"))
	cmd.Env = os.Environ()
	for k, v := range secretEnv() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &serveProcess{t: t, dir: dir, Addr: listen, cmd: cmd, out: &gwtest.LogBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	gwtest.Must(t, cmd.Start())
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	gwtest.WaitFor(t, 60*time.Second, "consentgate serve to be ready", func() bool {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("consentgate serve exited: %v\n%s", err, p.out.String())
		default:
		}
		resp, err := gwtest.Client.Get("http://" + listen + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// wait returns the exit error once the process has ended.
func (p *serveProcess) wait(timeout time.Duration) error {
	p.t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(timeout):
		p.t.Fatalf("consentgate did not exit within %s\n%s", timeout, p.out.String())
		return nil
	}
}

// The gateway process is killed with SIGKILL mid-load and started again:
// everything it answered 200 before dying ends up on the topic (from Kafka
// directly or from the outbox it left behind).
func TestGatewayKilledMidLoadLosesNothing(t *testing.T) {
	brokers := kafkatest.Broker(t)
	db := pgtest.URL(t)
	listen := gwtest.FreeAddr(t)
	dir := writeServeConfig(t, db, brokers, listen)
	p := startServe(t, dir, listen)

	l := startLoad(func() string { return "http://" + listen }, "kill", 8, 400, 10*time.Millisecond)
	defer l.finish()
	gwtest.WaitFor(t, 30*time.Second, "records acknowledged before the kill", func() bool { return l.ackedCount() >= 80 })
	gwtest.Must(t, p.cmd.Process.Signal(syscall.SIGKILL))
	_ = p.wait(10 * time.Second)
	l.finish()
	acked := l.ackedCount()

	startServe(t, dir, listen)
	got := readTopic(t, brokers, leadsTopic, l.acked, 60*time.Second)
	checkDelivered(t, l, got, "web")
	if acked == 0 {
		t.Fatal("nothing was acknowledged; the test proved nothing")
	}
}

// SIGTERM during load: readiness drops, in-flight requests finish, the
// producer is flushed, the process exits 0, and every request it answered
// 200 is on the topic.
func TestSIGTERMDuringLoadLosesNothing(t *testing.T) {
	brokers := kafkatest.Broker(t)
	db := pgtest.URL(t)
	listen := gwtest.FreeAddr(t)
	dir := writeServeConfig(t, db, brokers, listen)
	p := startServe(t, dir, listen)

	l := startLoad(func() string { return "http://" + listen }, "term", 8, 400, 10*time.Millisecond)
	defer l.finish()
	gwtest.WaitFor(t, 30*time.Second, "records acknowledged before SIGTERM", func() bool { return l.ackedCount() >= 80 })
	gwtest.Must(t, p.cmd.Process.Signal(syscall.SIGTERM))
	if err := p.wait(30 * time.Second); err != nil {
		t.Errorf("consentgate exited with %v after SIGTERM, want 0\n%s", err, p.out.String())
	}
	l.finish()

	got := readTopic(t, brokers, leadsTopic, l.acked, 30*time.Second)
	checkDelivered(t, l, got, "web")
	for st, n := range l.statuses {
		if st != http.StatusOK && st != http.StatusServiceUnavailable {
			t.Errorf("%d requests answered %d during shutdown", n, st)
		}
	}
}
