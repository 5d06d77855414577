package ike

import (
	"net/netip"
	"testing"
)

// TestReqids: the first selectors of a configuration get its own reqid, the same
// selectors share theirs (a rekey), others get a fresh one that no configuration has,
// and a reqid whose last Child SA is gone is free again.
func TestReqids(t *testing.T) {
	ts := func(s string) []TrafficSelector { return []TrafficSelector{TSFromPrefix(netip.MustParsePrefix(s))} }
	net := ts("10.0.0.0/24")
	configured := func(id uint32) bool { return id <= 2 }
	var r Reqids
	steps := []struct {
		op     string // alloc, release
		cfg    uint32
		remote string
		id     uint32 // alloc: want; release: which
	}{
		{"alloc", 1, "172.16.1.1/32", 1},
		{"alloc", 1, "172.16.1.2/32", 3}, // 2 is a configuration's
		{"alloc", 1, "172.16.1.1/32", 1}, // a rekey of the first
		{"alloc", 2, "172.16.1.1/32", 2}, // another configuration: its own
		{"alloc", 1, "172.16.1.3/32", 4},
		{"release", 0, "", 3},
		{"alloc", 1, "172.16.1.2/32", 5}, // fresh again: counting on
		{"release", 0, "", 1},
		{"alloc", 1, "172.16.1.9/32", 6}, // 1 is still held once
		{"release", 0, "", 1},
		{"alloc", 1, "172.16.1.9/32", 6}, // shares with the SA that holds 6
		{"alloc", 1, "172.16.1.1/32", 1}, // 1 is free: the configuration's own
	}
	for i, s := range steps {
		switch s.op {
		case "alloc":
			if got := r.Alloc(s.cfg, net, ts(s.remote), configured); got != s.id {
				t.Fatalf("step %d: Alloc(%d, %s) = %d, want %d", i+1, s.cfg, s.remote, got, s.id)
			}
		case "release":
			r.Release(s.id)
		}
	}
}
