package scenarios

import (
	"bytes"
	"testing"
	"text/template"

	"github.com/ikesim/ikesim/sim/trace"
)

// Volume lifetimes are enforced in both IKE versions: the node counts what each Child
// SA carries and the engine rekeys at rekey_packets or rekey_bytes (the IKE SA's
// initiator) and ends the SA at life_packets or life_bytes. 30 pings of 60 bytes each
// way flow.
func TestVolumeLifetimes(t *testing.T) {
	tmpl := template.Must(template.ParseFiles("testdata/volume-lifetimes.yaml.tmpl"))
	for _, tc := range []struct {
		name    string
		version int
		limits  string
		ups     int // Child SAs that come up on gw-a
	}{
		// 30 pings, a rekey after every 8th: 4 Child SAs in turn.
		{"v2 rekey_packets", 2, "rekey_packets: 8", 4},
		{"v1 rekey_packets", 1, "rekey_packets: 8", 4},
		// 1 KB is 17 pings of 60 bytes.
		{"v2 rekey_bytes", 2, "rekey_bytes: 1KB, life_bytes: 2KB", 2},
		// IKEv1 offers life_bytes in quick mode and rekeys at 90 % of it: 16 pings.
		{"v1 life_bytes", 1, "life_bytes: 1KB", 2},
		// No rekey: the SA ends after 10 packets, and the next ping meets the trap, which
		// sets up another. Both children trap (start_action trigger): as in strongSwan, a
		// child without a trap takes its policies with it.
		{"v2 life_packets", 2, "life_packets: 10", 4},
		{"v1 life_packets", 1, "life_packets: 10", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tmpl.Execute(&b, map[string]any{"Version": tc.version, "Limits": tc.limits}); err != nil {
				t.Fatal(err)
			}
			sc, err := Parse(b.Bytes(), "volume.yaml")
			if err != nil {
				t.Fatal(err)
			}
			r, err := Build(sc, 1)
			if err != nil {
				t.Fatal(err)
			}
			r.Execute()
			if res := Grade(sc, r.Sim.Trace); !Passed(res) {
				t.Errorf("%s", FormatResults(res))
			}
			ups := 0
			for _, e := range r.Sim.Trace.Events {
				if e.Kind == trace.KindSA && e.Node == "gw-a" && e.SA != nil && e.SA.Type == "child" && e.Op == trace.OpUp {
					ups++
				}
			}
			if ups != tc.ups {
				t.Errorf("%d Child SAs came up on gw-a, want %d", ups, tc.ups)
			}
		})
	}
}
