package app

import (
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestTuneRuntimeLeavesExplicitSettingsAlone(t *testing.T) {
	gc, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(limit) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	TuneRuntime(log, "postgres://db.example:5432/consentgate")
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("GOGC unset: gc percent %d, want %d", got, defaultGCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != defaultMemoryLimit {
		t.Errorf("GOMEMLIMIT unset: memory limit %d, want %d", got, defaultMemoryLimit)
	}

	// An operator's GOGC and GOMEMLIMIT win: the runtime read them at
	// start, and TuneRuntime must not overwrite what it finds.
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(1 << 30)
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "1GiB")
	TuneRuntime(log, "postgres://db.example:5432/consentgate")
	if got := debug.SetGCPercent(100); got != 150 {
		t.Errorf("GOGC=150: gc percent %d, want it left at 150", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("GOMEMLIMIT=1GiB: memory limit %d, want it left at 1 GiB", got)
	}
}

// On SQLite the gateway gets two more schedulers than CPUs, for the writer
// and checkpointer that sit in file system calls; on PostgreSQL, or when
// the operator sets GOMAXPROCS, the count is left as it is.
func TestTuneRuntimeSchedulers(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(procs) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	t.Setenv("GOMAXPROCS", "")
	TuneRuntime(log, "postgres://db.example:5432/consentgate")
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("PostgreSQL: GOMAXPROCS %d, want %d", got, procs)
	}
	TuneRuntime(log, "sqlite:data/consentgate.db")
	if got := runtime.GOMAXPROCS(0); got != procs+sqliteExtraProcs {
		t.Errorf("SQLite: GOMAXPROCS %d, want %d", got, procs+sqliteExtraProcs)
	}

	runtime.GOMAXPROCS(procs)
	t.Setenv("GOMAXPROCS", "3")
	TuneRuntime(log, "sqlite:data/consentgate.db")
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS set by the operator: %d, want it left at %d", got, procs)
	}
}
