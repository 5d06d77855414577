package tui

import (
	"testing"

	"github.com/ikesim/ikesim/sim/trace"
)

// TestSelfMessageDraws: a trace whose only node sends to itself opens and draws.
func TestSelfMessageDraws(t *testing.T) {
	tr := &trace.Trace{}
	tr.Emit(&trace.Event{Kind: trace.KindMessage, Node: "127.0.0.1", Wire: &trace.Wire{From: "127.0.0.1", To: "127.0.0.1",
		Proto: "ike", Summary: "HDR"}})
	_, scr := screenUI(t, tr, 100, 30)
	if !contains(screenText(scr), "↻") {
		t.Errorf("no loop for the self-message:\n%v", screenText(scr))
	}
}
