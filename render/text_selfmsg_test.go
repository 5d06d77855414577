package render

import (
	"strings"
	"testing"

	"github.com/ikesim/ikesim/sim/trace"
)

// TestWriteTextSelfMessage: a message from a node to itself, the only node of the trace,
// is drawn as a loop, not a crash.
func TestWriteTextSelfMessage(t *testing.T) {
	tr := &trace.Trace{}
	tr.Emit(&trace.Event{Kind: trace.KindMessage, Node: "127.0.0.1", Wire: &trace.Wire{From: "127.0.0.1", To: "127.0.0.1",
		Proto: "ike", Summary: "HDR"}})
	var b strings.Builder
	if err := WriteText(&b, Build(tr, Options{}), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "↻  HDR") {
		t.Errorf("no loop for the self-message:\n%s", b.String())
	}
}
