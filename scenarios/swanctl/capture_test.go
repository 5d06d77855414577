package swanctl_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
	_ "github.com/ikesim/ikesim/scenarios/swanctl"
	"github.com/ikesim/ikesim/sim"
)

// The configuration pairs of the reference captures (testenv.Captures), imported and simulated with the
// timeline of the recipe that made each capture (swanctl --initiate, ping, --rekey,
// --terminate, at the capture's times), against the capture itself, decrypted with its
// key tables.
var captureRuns = []struct {
	name     string
	timeline string
	// differ are the messages (by index in the capture) whose payloads may differ,
	// with why: what the capture shows of its environment, not of its configurations.
	differ map[int]string
}{
	{name: "ikev2-psk", timeline: `
timeline:
  - {at: 0s, initiate: {node: node-a, connection: ikev2-psk, child: net}}
  - {at: 0.03s, ping: {from: host-node-a, to: host-node-b, count: 3, interval: 0.3s}}
  - {at: 0.67s, rekey: {node: node-a, connection: ikev2-psk, child: net}}
  - {at: 1.7s, ping: {from: host-node-a, to: host-node-b, count: 2, interval: 0.3s}}
  - {at: 2.03s, rekey: {node: node-a, connection: ikev2-psk}}
  - {at: 7.19s, delete: {node: node-a, connection: ikev2-psk}}
duration: 8s
`},
	{name: "ikev2-psk-port500", timeline: `
timeline:
  - {at: 0s, initiate: {node: node-a, connection: ikev2-psk-port500}}
  - {at: 0.05s, initiate: {node: node-a, connection: ikev2-psk-port500, child: net}}
  - {at: 0.095s, rekey: {node: node-a, connection: ikev2-psk-port500}}
  - {at: 5.24s, delete: {node: node-a, connection: ikev2-psk-port500}}
duration: 6s
`, differ: map[int]string{5: "node b's kernel had no ESP, so it refused the Child SA it could not install (NO_PROPOSAL_CHOSEN)"}},
	{name: "ikev1-main", timeline: `
timeline:
  - {at: 0s, initiate: {node: node-a, connection: ikev1-main, child: net}}
  - {at: 0.036s, ping: {from: host-node-a, to: host-node-b, count: 3, interval: 0.3s}}
  - {at: 0.675s, rekey: {node: node-a, connection: ikev1-main, child: net}}
  - {at: 1.7s, ping: {from: host-node-a, to: host-node-b, count: 2, interval: 0.3s}}
  - {at: 6.088s, delete: {node: node-a, connection: ikev1-main}}
duration: 7s
`},
	{name: "ikev1-aggr", timeline: `
timeline:
  - {at: 0s, initiate: {node: node-a, connection: ikev1-aggr, child: net}}
  - {at: 0.031s, ping: {from: host-node-a, to: host-node-b, count: 3, interval: 0.3s}}
  - {at: 0.689s, rekey: {node: node-a, connection: ikev1-aggr, child: net}}
  - {at: 1.713s, ping: {from: host-node-a, to: host-node-b, count: 2, interval: 0.3s}}
  - {at: 6.089s, delete: {node: node-a, connection: ikev1-aggr}}
duration: 7s
`},
}

func readCapture(t *testing.T, dir, name string) []config.Message {
	t.Helper()
	keys, err := sim.ReadKeyDir(filepath.Join(dir, name+".keys"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, name+".pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := sim.Import(f, sim.ImportOptions{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return config.Messages(tr)
}

func importPair(t *testing.T, dir, name, fragment string) *config.Result {
	t.Helper()
	var inputs []config.Input
	for _, side := range []string{"a", "b"} {
		path := filepath.Join(dir, name+".swanctl-"+side+".conf")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, config.Input{Node: "node-" + side, Path: path, Data: data})
	}
	r, err := config.Import(inputs, config.Options{Fragment: []byte(fragment), FragmentPath: "timeline of " + name})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func simulate(t *testing.T, r *config.Result) *scenarios.Run {
	t.Helper()
	run, err := r.Simulate(nil)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// TestCapturesImportAndMatch: each configuration pair imports, and its simulation
// shows the capture's IKE messages: the same exchanges, requests and responses in the
// same order, each with the same payload types, apart from the announcements of what
// an implementation supports (config.Optional, compared apart). UDP ports are not
// compared: IKE floats to 4500 in both, the capture's because kernel-libipsec pretends a
// NAT, the simulation's because the configurations say encap = yes.
func TestCapturesImportAndMatch(t *testing.T) {
	dir := testenv.Captures(t)
	for _, c := range captureRuns {
		t.Run(c.name, func(t *testing.T) {
			real := readCapture(t, dir, c.name)
			if len(real) == 0 {
				t.Fatal("the capture has no IKE messages")
			}
			r := importPair(t, dir, c.name, c.timeline)
			got := config.Messages(simulate(t, r).Sim.Trace)
			for i := 0; i < max(len(real), len(got)); i++ {
				var want, have config.Message
				if i < len(real) {
					want = real[i]
				}
				if i < len(got) {
					have = got[i]
				}
				same := want.Exchange == have.Exchange && want.Response == have.Response &&
					slices.Equal(want.Core().Payloads, have.Core().Payloads)
				switch {
				case same:
					t.Logf("%2d  %s", i, want.Core())
				case c.differ[i] != "" && want.Exchange == have.Exchange && want.Response == have.Response:
					t.Logf("%2d  capture    %s\n    simulation %s\n    (known: %s)", i, want.Core(), have.Core(), c.differ[i])
				default:
					t.Errorf("%2d  capture    %s\n    simulation %s", i, want.Core(), have.Core())
				}
				if a, b := want.OptionalPayloads(), have.OptionalPayloads(); !slices.Equal(a, b) && (len(a) > 0 || len(b) > 0) {
					t.Logf("    announcements: strongSwan %s, ikesim %s", strings.Join(a, " "), strings.Join(b, " "))
				}
			}
		})
	}
}
