package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
)

// TestTopologyFragment: --topology replaces the inferred topology with the fragment's;
// the traffic is still inferred, from the fragment's nodes, and the pair still runs. A
// fragment with connections is refused.
func TestTopologyFragment(t *testing.T) {
	var inputs []config.Input
	for _, n := range []struct{ node, file string }{{"R3", "r3-main-mode.cfg"}, {"R2", "r2-main-mode.cfg"}} {
		path := "../ios/testdata/cisco-walkthrough/" + n.file
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, config.Input{Node: n.node, Path: path, Data: data})
	}
	frag := `# one LAN, no router
hint: "Compare the two access lists."
topology:
  nodes:
    - {name: R3, kind: gateway, addresses: [10.1.13.3/24, 3.3.3.3/32]}
    - {name: R2, kind: gateway, addresses: [10.1.13.2/24, 2.2.2.2/32]}
  links:
    - {between: [R3, R2], delay: 5ms}
`
	r, err := config.Import(inputs, config.Options{Fragment: []byte(frag), FragmentPath: "lan.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.YAML), "# from lan.yaml\ntopology:\n  nodes:\n    - {name: R3, kind: gateway, addresses: [10.1.13.3/24, 3.3.3.3/32]}") ||
		!strings.Contains(string(r.YAML), "# from lan.yaml\nhint: \"Compare the two access lists.\"") {
		t.Errorf("the fragment's topology is not in the scenario:\n%s", r.YAML)
	}
	run, err := r.Simulate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if res := scenarios.Grade(run.Scenario, run.Sim.Trace); len(res) != 3 || !scenarios.Passed(res) {
		t.Errorf("expectations:\n%s", scenarios.FormatResults(res))
	}
	if _, err := config.Import(inputs, config.Options{Fragment: []byte("connections: {}\n"), FragmentPath: "bad.yaml"}); err == nil ||
		!strings.Contains(err.Error(), `bad.yaml: a fragment holds name, description, hint, solution, seed, duration, topology, timeline, faults, expect, not "connections"`) {
		t.Errorf("a fragment with connections: %v", err)
	}
}
