package sim

import (
	"math"
	"os"
	"runtime/debug"
)

// GC settings for ikesim's processes (see TuneGC).
const (
	// GCPercent lets the heap grow to five times what was live after a collection.
	GCPercent = 400
	// GCMemoryShare is the share of the memory the process may use (the machine's, or
	// its container's limit) at which the collector works harder again (a soft limit,
	// debug.SetMemoryLimit).
	GCMemoryShare = 0.5
)

// TuneGC sets Go's garbage collector for a process that runs simulations, unless GOGC
// or GOMEMLIMIT in its environment set it otherwise. Most of a simulation's heap is its
// trace, which lives as long as the run is looked at: with Go's default (GOGC=100) the
// collector marks the whole trace again each time the heap doubles, and at 10,000 road
// warriors that was about a fifth of the run's CPU time, for memory that was never
// garbage. With GCPercent the collector waits until the heap has grown to five times
// what was live after a collection, not twice; the soft limit at GCMemoryShare of the
// memory the process may use brings it back when memory gets short. A daemon on real
// sockets keeps Go's default (ikesim live). TuneGC returns a function that puts back
// the settings it changed.
func TuneGC() (restore func()) {
	percent, limit := -2, int64(-1)
	if os.Getenv("GOGC") == "" {
		percent = debug.SetGCPercent(GCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if m := physicalMemory(); m > 0 {
			limit = debug.SetMemoryLimit(int64(math.Min(float64(m)*GCMemoryShare, math.MaxInt64)))
		}
	}
	return func() {
		if percent != -2 {
			debug.SetGCPercent(percent)
		}
		if limit >= 0 {
			debug.SetMemoryLimit(limit)
		}
	}
}
