package graph

import (
	"strings"
	"testing"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
)

// TestGolden writes the topology inferred from each trace and the state machines of
// its first node with state changes, and compares with testdata/*.dot.golden (go test
// -update rewrites them).
func TestGolden(t *testing.T) {
	for _, name := range rendertest.Scenarios() {
		t.Run(name, func(t *testing.T) {
			d := rendertest.Diagram(t, name, render.Options{})
			rendertest.Golden(t, name+".topology.dot.golden", TopologyDOT(TopologyOf(d, name)))
			nodes := States(d)
			if len(nodes) == 0 {
				t.Fatalf("no node has state changes")
			}
			dot, err := StatesDOT(d, nodes[0])
			if err != nil {
				t.Fatal(err)
			}
			rendertest.Golden(t, name+".states.dot.golden", dot)
		})
	}
}

// TestTopologyOfNATTrace infers the NAT scenario's network from its trace alone: the
// NAT box sits between gw-a and gw-b, and the IKE peers are gw-a and gw-b, not the
// hops their messages crossed.
func TestTopologyOfNATTrace(t *testing.T) {
	d := rendertest.Diagram(t, "ikev2-nat", render.Options{})
	topo := TopologyOf(d, "nat")
	links := map[[2]string]bool{}
	for _, l := range topo.Links {
		links[[2]string{l.A, l.B}] = true
	}
	for _, want := range [][2]string{{"gw-a", "nat"}, {"gw-b", "nat"}, {"gw-a", "host-a"}, {"gw-b", "host-b"}} {
		if !links[pair(want[0], want[1])] {
			t.Errorf("no link %v in %v", want, topo.Links)
		}
	}
	if links[pair("gw-a", "gw-b")] {
		t.Errorf("a direct gw-a to gw-b link, but the NAT is between them")
	}
	if len(topo.Peers) != 1 || topo.Peers[0].A != "gw-a" || topo.Peers[0].B != "gw-b" {
		t.Errorf("peers %v, want gw-a and gw-b", topo.Peers)
	}
	for _, n := range topo.Nodes {
		if n.Name == "gw-a" && (len(n.Addrs) == 0 || n.Addrs[0] != "10.1.0.1" && n.Addrs[0] != "192.168.1.2") {
			t.Errorf("gw-a's addresses are %v", n.Addrs)
		}
	}
}

// TestStatesMarkTheRun checks that the states ikev2-ping's gw-a went through, and
// only they, are marked seen.
func TestStatesMarkTheRun(t *testing.T) {
	d := rendertest.Diagram(t, "ikev2-ping", render.Options{})
	dot, err := StatesDOT(d, "gw-a")
	if err != nil {
		t.Fatal(err)
	}
	s := string(dot)
	for st, seen := range map[string]bool{"IKE SA-CONNECTING": true, "IKE SA-ESTABLISHED": true, "IKE SA-REKEYING": false, "CHILD_SA-INSTALLED": true, "CHILD_SA-DELETING": false} {
		line := s[strings.Index(s, `id="state-`+st+`"`):]
		line = line[:strings.Index(line, "\n")]
		if got := strings.Contains(line, "seen"); got != seen {
			t.Errorf("state %s: seen %v, want %v (%s)", st, got, seen, line)
		}
	}
	if _, err := StatesDOT(d, "nowhere"); err == nil || !strings.Contains(err.Error(), "gw-a") {
		t.Errorf("an unknown node gives %v, want an error naming the nodes with states", err)
	}
}

// TestQuote keeps DOT's syntax and Graphviz's label escapes out of names.
func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		`a"b`:      `"a\"b"`,
		`c\N\l`:    `"c\\N\\l"`,
		"x\ny\x01": `"x y"`,
	} {
		if got := q(in); got != want {
			t.Errorf("q(%q) = %s, want %s", in, got, want)
		}
	}
}
