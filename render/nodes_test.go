package render_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
	"github.com/ikesim/ikesim/sim/trace"
)

// TestNodeViewsAsOfEachEvent: the views NodeViews keeps for the web player are, at
// every event of every built-in scenario, what NodeLines replays for the terminal's
// node pane.
func TestNodeViewsAsOfEachEvent(t *testing.T) {
	for _, name := range rendertest.Scenarios() {
		t.Run(name, func(t *testing.T) {
			tr := rendertest.Trace(t, name)
			views := render.NodeViews(tr)
			for upTo := 0; upTo <= len(tr.Events); upTo++ {
				lines := render.NodeLines(tr, upTo)
				for node, vs := range views {
					if got := render.NodeViewAt(vs, upTo); !slices.Equal(got, lines[node]) {
						t.Fatalf("as of event %d, %s's view is\n%s\nwant\n%s", upTo, node, strings.Join(got, "\n"), strings.Join(lines[node], "\n"))
					}
				}
				if len(lines) > len(views) {
					t.Fatalf("as of event %d, %d nodes have lines but %d have views", upTo, len(lines), len(views))
				}
			}
		})
	}
}

// TestNodeViewAfterRestart: gw-a of ikev2-ping restarts with its SAs up; its view is
// then its trap policies alone, in the terminal's pane and in the web player's data.
func TestNodeViewAfterRestart(t *testing.T) {
	data, err := os.ReadFile("../scenarios/builtin/ikev2-ping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	at := 25 * time.Second
	src := strings.Replace(string(data), "timeline:\n", fmt.Sprintf("timeline:\n  - {at: %s, restart: {node: gw-a}}\n", at), 1)
	tr := rendertest.RunYAML(t, []byte(src), "restart.yaml").Sim.Trace
	upTo := 0 // the last event at the restart's instant
	for _, e := range tr.Events {
		if e.T.Duration() <= at {
			upTo = e.Seq
		}
	}
	want := []string{"  no SAs", "  SPD:",
		"    out 10.1.0.0-10.1.0.255 → 10.2.0.0-10.2.0.255 protect reqid 1 (site-to-site/net)",
		"    in  10.2.0.0-10.2.0.255 → 10.1.0.0-10.1.0.255 protect reqid 1 (site-to-site/net)"}
	views := render.NodeViews(tr)["gw-a"]
	if before := render.NodeViewAt(views, upTo-1); !slices.ContainsFunc(before, func(l string) bool { return strings.HasPrefix(l, "  Child SA") }) {
		t.Fatalf("before the restart gw-a has no Child SA:\n%s", strings.Join(before, "\n"))
	}
	if got := render.NodeViewAt(views, upTo); !slices.Equal(got, want) {
		t.Errorf("after the restart gw-a's view is\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := render.NodeLines(tr, upTo)["gw-a"]; !slices.Equal(got, want) {
		t.Errorf("after the restart gw-a's lines are\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNodeSPDLosesRemovedPolicies: the policies a Child SA going down took with it leave
// the node's SPD in the node pane; those it did not stay.
func TestNodeSPDLosesRemovedPolicies(t *testing.T) {
	out := trace.Policy{Name: "vpn/net", Dir: "out", Src: "10.1.0.0/24", Dst: "10.2.0.0/24", Action: "protect", ReqID: 1}
	in := trace.Policy{Name: "vpn/net", Dir: "in", Src: "10.2.0.0/24", Dst: "10.1.0.0/24", Action: "protect", ReqID: 1}
	other := trace.Policy{Name: "vpn/lan", Dir: "out", Src: "10.1.1.0/24", Dst: "10.2.1.0/24", Action: "protect", ReqID: 2}
	child := func(op trace.Op, ps ...trace.Policy) *trace.Event {
		return &trace.Event{Kind: trace.KindSA, Node: "gw", Op: op, SA: &trace.SARecord{Type: "child", Conn: "vpn", Child: "net",
			Instance: "net{1}", SPIIn: "c0000001", SPIOut: "c0000002", Policies: ps}}
	}
	tr := &trace.Trace{}
	tr.Emit(&trace.Event{Kind: trace.KindTopology, Node: "gw", Topology: &trace.Topology{NodeKind: "gateway", SPD: []trace.Policy{other}}})
	tr.Emit(child(trace.OpUp, out, in))
	tr.Emit(child(trace.OpDown, out, in))
	up := strings.Join(render.NodeLines(tr, 2)["gw"], "\n")
	down := strings.Join(render.NodeLines(tr, 3)["gw"], "\n")
	if !strings.Contains(up, "(vpn/net)") || !strings.Contains(up, "(vpn/lan)") {
		t.Errorf("the SPD while the Child SA is up lacks a policy:\n%s", up)
	}
	if strings.Contains(down, "(vpn/net)") || !strings.Contains(down, "(vpn/lan)") {
		t.Errorf("the SPD after the Child SA went down should hold vpn/lan only:\n%s", down)
	}
}
