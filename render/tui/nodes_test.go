package tui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/sim/trace"
)

func builtinTrace(t testing.TB, name string) *trace.Trace {
	t.Helper()
	s, err := scenarios.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := scenarios.Build(s, s.Seed)
	if err != nil {
		t.Fatal(err)
	}
	r.Execute()
	return r.Sim.Trace
}

// nodePane is the node pane's text as of event upTo.
func nodePane(tr *trace.Trace, lanes []string, upTo int) string {
	nodes := nodeStates(tr, upTo)
	var b strings.Builder
	for _, l := range lanes {
		fmt.Fprintf(&b, "%s\n", l)
		if n := nodes[l]; n != nil {
			writeNode(&b, n)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestNodePane: the SPD is there from the first step, SAs show while they are being
// negotiated, no SA is listed twice, ESP SAs show their protocol and SPI.
func TestNodePane(t *testing.T) {
	tr := builtinTrace(t, "ikev2-ping")
	lanes := []string{"host-a", "gw-a", "gw-b", "host-b"}
	first := nodePane(tr, lanes, 4)
	if !strings.Contains(first, "out 10.1.0.0-10.1.0.255 → 10.2.0.0-10.2.0.255 protect reqid 1 (site-to-site/net)") {
		t.Errorf("gw-a's trap policy is missing at the first steps:\n%s", first)
	}
	negotiating, established := false, false
	line := regexp.MustCompile(`(?m)^  (IKE SA \S+|Child SA \S+)`)
	for upTo := 1; upTo <= len(tr.Events); upTo++ {
		text := nodePane(tr, lanes, upTo)
		negotiating = negotiating || strings.Contains(text, "IKE SA site-to-site[1[]  CONNECTING (negotiating)")
		established = established || strings.Contains(text, "ESP tunnel") && strings.Contains(text, "in  ESP SPI 0x")
		for _, node := range strings.Split(text, "\n\n") {
			seen := map[string]bool{}
			for _, m := range line.FindAllString(node, -1) {
				if seen[m] {
					t.Fatalf("at event %d an SA is listed twice:\n%s", upTo, text)
				}
				seen[m] = true
			}
		}
	}
	if !negotiating || !established {
		t.Errorf("negotiating IKE SA shown: %t; ESP SAs with protocol and SPI shown: %t", negotiating, established)
	}
	if last := nodePane(tr, lanes, len(tr.Events)); strings.Count(last, "Child SA site-to-site/") != 4 {
		t.Errorf("at the end, want the two Child SAs on each gateway:\n%s", last)
	}
}
