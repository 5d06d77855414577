package tui

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
	"github.com/ikesim/ikesim/sim/trace"
)

// nodePane is the node pane's text as of event upTo, with these lanes.
func nodePane(tr *trace.Trace, lanes []string, upTo int) string {
	var ls []render.Lane
	for _, l := range lanes {
		ls = append(ls, render.Lane{Name: l})
	}
	return nodesText(tr, ls, upTo)
}

// TestNodePane: the SPD is there from the first step, SAs show while they are being
// negotiated, no SA is listed twice, ESP SAs show their protocol and SPI.
func TestNodePane(t *testing.T) {
	tr := rendertest.Trace(t, "ikev2-ping")
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

// TestNodePaneAfterRestart: a node that restarts loses its SAs and the policies they
// added, and installs its trap policies afresh; the node pane shows that SPD and no SA
// from before the restart.
func TestNodePaneAfterRestart(t *testing.T) {
	for _, tc := range []struct {
		scenario, node string
		at             time.Duration
		want           string
	}{
		// gw-a's Child SA has a trap: its policies come back.
		{"ikev2-ping", "gw-a", 25 * time.Second, "[::b]gw-a[::-]\n  no SAs\n  SPD:\n" +
			"    out 10.1.0.0-10.1.0.255 → 10.2.0.0-10.2.0.255 protect reqid 1 (site-to-site/net)\n" +
			"    in  10.2.0.0-10.2.0.255 → 10.1.0.0-10.1.0.255 protect reqid 1 (site-to-site/net)\n"},
		// gw-b's Child SA has none: its policies are gone.
		{"lab-dpd", "gw-b", 5 * time.Second, "[::b]gw-b[::-]\n  no SAs\n"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			data, err := os.ReadFile("../../scenarios/builtin/" + tc.scenario + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			step := fmt.Sprintf("timeline:\n  - {at: %s, restart: {node: %s}}\n", tc.at, tc.node)
			tr := rendertest.RunYAML(t, []byte(strings.Replace(string(data), "timeline:\n", step, 1)), "restart.yaml").Sim.Trace
			upTo := 0 // the last event at the restart's instant
			for _, e := range tr.Events {
				if e.T.Duration() <= tc.at {
					upTo = e.Seq
				}
			}
			before := strings.Split(nodePane(tr, []string{tc.node}, upTo-1), "\n\n")[0]
			if !strings.Contains(before, "Child SA") || !strings.Contains(before, "SPD:") {
				t.Fatalf("before the restart %s has no Child SA or no SPD:\n%s", tc.node, before)
			}
			if got := strings.Split(nodePane(tr, []string{tc.node}, upTo), "\n\n")[0] + "\n"; got != tc.want {
				t.Errorf("after the restart the pane is\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
