package app

import (
	"log/slog"
	"os"
	"runtime/debug"
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

// TuneRuntime applies the defaults above where the environment does not
// choose, and logs what it chose.
func TuneRuntime(log *slog.Logger) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	gc := debug.SetGCPercent(100) // the only way to read it is to set it
	debug.SetGCPercent(gc)
	log.Debug("go runtime", "gc_percent", gc, "memory_limit_bytes", debug.SetMemoryLimit(-1))
}
