package sim

import (
	"runtime/debug"
	"testing"
)

// gcPercent is the collector's current GOGC.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestTuneGC: with neither GOGC nor GOMEMLIMIT set, TuneGC sets GCPercent and, where
// the machine's memory is known, a soft limit at GCMemoryShare of it, and its restore
// puts both back; a GOGC or GOMEMLIMIT in the environment is left to rule.
func TestTuneGC(t *testing.T) {
	percent, limit := gcPercent(), debug.SetMemoryLimit(-1)
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	restore := TuneGC()
	if p := gcPercent(); p != GCPercent {
		t.Errorf("GOGC %d after TuneGC, want %d", p, GCPercent)
	}
	if m := physicalMemory(); m > 0 {
		if got, want := debug.SetMemoryLimit(-1), int64(float64(m)*GCMemoryShare); got != want {
			t.Errorf("memory limit %d after TuneGC, want %d (%g of %d)", got, want, GCMemoryShare, m)
		}
	}
	restore()
	if p, l := gcPercent(), debug.SetMemoryLimit(-1); p != percent || l != limit {
		t.Errorf("after restore: GOGC %d and limit %d, want %d and %d", p, l, percent, limit)
	}

	t.Setenv("GOGC", "50")
	t.Setenv("GOMEMLIMIT", "1GiB")
	restore = TuneGC()
	defer restore()
	if p, l := gcPercent(), debug.SetMemoryLimit(-1); p != percent || l != limit {
		t.Errorf("with GOGC and GOMEMLIMIT set: GOGC %d and limit %d, want them left at %d and %d", p, l, percent, limit)
	}
}
