package app

import (
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/consentgate/consentgate/internal/store/backend"
)

// Garbage-collector defaults of the gateway process, used unless GOGC or
// GOMEMLIMIT is set. The webhook path allocates many small, short-lived
// objects against a small live heap, so with Go's default (GOGC=100) the
// collector ran so often that it took about a sixth of the CPU under load;
// at 400 it runs a quarter as often, for about 60 MiB more memory in the
// benchmark (docs/performance.md). The soft limit makes the collector work
// harder again before the heap gets anywhere near a small container's
// memory.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 768 << 20
)

// sqliteExtraProcs is how many schedulers (GOMAXPROCS) a gateway on SQLite
// gets beyond Go's default of one per CPU. SQLite's writer and its
// checkpointer spend much of their time in blocking file system calls
// (about a dozen pwrite and pread calls per request), and a goroutine in
// such a call keeps its scheduler until the runtime takes it back, so on
// two CPUs the rest of the gateway often had one. With two more, readied
// requests waited about half as long to run (1.3 -> 0.8 ms after a store
// batch) and dev mode took 5-19 % more requests/s (docs/performance.md).
// PostgreSQL's client calls go through the network poller, which frees
// the scheduler, and showed no steady gain, so serve on PostgreSQL keeps
// Go's default.
const sqliteExtraProcs = 2

// TuneRuntime applies the defaults above where the environment does not
// choose, and logs what it chose. databaseURL is the store the gateway
// opens.
func TuneRuntime(log *slog.Logger, databaseURL string) {
	if kind, _, err := backend.Parse(databaseURL); err == nil && kind == backend.KindSQLite && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + sqliteExtraProcs)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	gc := debug.SetGCPercent(100) // the only way to read it is to set it
	debug.SetGCPercent(gc)
	log.Debug("go runtime", "gc_percent", gc, "memory_limit_bytes", debug.SetMemoryLimit(-1), "gomaxprocs", runtime.GOMAXPROCS(0))
}
