package graph

import (
	"strings"
	"testing"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
)

// TestGolden writes the topology each trace records and the state machines of its
// first node with state changes, and compares with testdata/*.dot.golden (go test
// -update rewrites them).
func TestGolden(t *testing.T) {
	for _, name := range rendertest.Scenarios() {
		t.Run(name, func(t *testing.T) {
			d := rendertest.Diagram(t, name, render.Options{})
			rendertest.Golden(t, name+".topology.dot.golden", TopologyDOT(render.TopologyOf(rendertest.Trace(t, name), name)))
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
