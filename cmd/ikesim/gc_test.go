package main

import (
	"io"
	"runtime/debug"
	"testing"

	"github.com/ikesim/ikesim/sim"
)

// TestCollectorPerCommand: as main runs them, a command that runs a simulation sets
// the collector with sim.TuneGC, and live keeps Go's default (its memory must stay
// bounded under a flood, which TestLiveFlood checks of the binary).
func TestCollectorPerCommand(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	defer func() {
		tuneGC = false
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}()
	tuneGC = true
	for _, tt := range []struct {
		args []string
		want int
	}{
		{[]string{"live", "ikev2-ping"}, 100}, // fails for want of --node: after the collector is set
		{[]string{"check", "ikev2-ping"}, sim.GCPercent},
	} {
		debug.SetGCPercent(100)
		run(tt.args, io.Discard, io.Discard)
		if got := debug.SetGCPercent(100); got != tt.want {
			t.Errorf("ikesim %v: GOGC %d, want %d", tt.args, got, tt.want)
		}
	}
}
