package gwtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The consentgate binary is built once per test binary: the build is the
// slow part of every out-of-process test.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/consentgate (once per test binary) and returns its
// path; call RemoveBinary from TestMain to delete it afterwards.
func Binary(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "consentgate-bin-")
		if err != nil {
			buildErr = fmt.Errorf("build consentgate: %w", err)
			return
		}
		binPath = filepath.Join(dir, "consentgate")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/consentgate")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// RemoveBinary deletes what Binary built, if anything.
func RemoveBinary() {
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
}
