package ios_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
	_ "github.com/ikesim/ikesim/scenarios/ios"
	"github.com/ikesim/ikesim/sim/trace"
)

const walkthrough = "testdata/cisco-walkthrough"

func importFiles(t *testing.T, files map[string]string) *config.Result {
	t.Helper()
	var inputs []config.Input
	for _, node := range []string{"R3", "R2"} {
		path := filepath.Join(walkthrough, files[node])
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, config.Input{Node: node, Path: path, Data: data})
	}
	r, err := config.Import(inputs, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func run(t *testing.T, r *config.Result) (*scenarios.Scenario, *scenarios.Run) {
	t.Helper()
	run, err := r.Simulate(nil)
	if err != nil {
		t.Fatal(err)
	}
	return run.Scenario, run
}

// states lists the states a node's state machines reached, in order, of those named.
func states(tr *trace.Trace, node string, of []string) []string {
	var out []string
	for _, e := range tr.Events {
		if e.Kind == trace.KindState && e.Node == node && slices.Contains(of, e.ToState()) {
			out = append(out, e.ToState())
		}
	}
	return out
}

// TestCiscoWalkthrough: the IOS configurations of Cisco's IKEv1 walkthrough import and
// run as the routers' debug output shows (testdata/cisco-walkthrough/README.md): phase 1
// with IOS's default policy (DES, SHA, group 1, pre-shared key, 86400 s) in main or
// aggressive mode through Cisco's states, then quick mode with esp-aes 192 and
// esp-md5-hmac in tunnel mode (3600 s, 4608000 KB) between the loopbacks, which carries
// the pings.
func TestCiscoWalkthrough(t *testing.T) {
	phase1 := []string{"IKE_I_MM1", "IKE_I_MM2", "IKE_I_MM3", "IKE_I_MM4", "IKE_I_MM5", "IKE_I_MM6", "IKE_I_AM1", "IKE_I_AM2", "IKE_P1_COMPLETE"}
	quick := []string{"IKE_QM_I_QM1", "IKE_QM_PHASE2_COMPLETE"}
	for _, c := range []struct {
		mode   string
		files  map[string]string
		phase1 []string
	}{
		{"main", map[string]string{"R3": "r3-main-mode.cfg", "R2": "r2-main-mode.cfg"},
			[]string{"IKE_I_MM1", "IKE_I_MM2", "IKE_I_MM3", "IKE_I_MM4", "IKE_I_MM5", "IKE_I_MM6", "IKE_P1_COMPLETE"}},
		{"aggressive", map[string]string{"R3": "r3-aggressive-mode.cfg", "R2": "r2-aggressive-mode.cfg"},
			[]string{"IKE_I_AM1", "IKE_P1_COMPLETE"}},
	} {
		t.Run(c.mode, func(t *testing.T) {
			r := importFiles(t, c.files)
			sc, run := run(t, r)
			conns, err := sc.NodeConnections("R3")
			if err != nil || len(conns) != 1 || len(conns[0].Children) != 1 {
				t.Fatalf("R3's connections: %v %v", conns, err)
			}
			conn, child := conns[0], conns[0].Children[0]
			if conn.Version != 1 || conn.Aggressive != (c.mode == "aggressive") || conn.LifeTime != 86400*time.Second ||
				len(conn.Proposals) != 1 || conn.Proposals[0].String() != "des-sha1-modp768" || conn.Local.Method != "psk" {
				t.Errorf("R3's phase 1: version %d, aggressive %t, lifetime %s, proposals %v, auth %s", conn.Version, conn.Aggressive,
					conn.LifeTime, conn.Proposals, conn.Local.Method)
			}
			if child.LifeTime != 3600*time.Second || child.LifeBytes != 4608000*1024 || child.Transport {
				t.Errorf("R3's quick mode: lifetime %s, %d bytes, transport %t", child.LifeTime, child.LifeBytes, child.Transport)
			}
			tr := run.Sim.Trace
			if got := states(tr, "R3", phase1); !slices.Equal(got, c.phase1) {
				t.Errorf("R3's phase 1 states %v, want %v", got, c.phase1)
			}
			if got := states(tr, "R3", quick); !slices.Equal(got, quick) {
				t.Errorf("R3's quick mode states %v, want %v", got, quick)
			}
			var ikeSA, childSA *trace.SARecord
			for _, e := range tr.Events {
				if e.Kind == trace.KindSA && e.Op == "up" && e.Node == "R3" {
					if e.SA.Type == "ike" {
						ikeSA = e.SA
					} else {
						childSA = e.SA
					}
				}
			}
			if ikeSA == nil || ikeSA.Encr != ike.ENCR_DES || ikeSA.Integ != ike.AUTH_HMAC_SHA1_96 || ikeSA.Proposal != "des-sha1-modp768" {
				t.Errorf("R3's ISAKMP SA %+v: want DES, SHA, group 1", ikeSA)
			}
			if childSA == nil || childSA.Encr != ike.ENCR_AES_CBC || childSA.EncrKeyBits != 192 || childSA.Integ != ike.AUTH_HMAC_MD5_96 ||
				childSA.Mode != "tunnel" || childSA.LifeTime != trace.Seconds(3600*time.Second) ||
				!slices.Equal(childSA.LocalTS, []string{"3.3.3.3/32"}) || !slices.Equal(childSA.RemoteTS, []string{"2.2.2.2/32"}) {
				t.Errorf("R3's IPsec SA %+v: want ESP AES 192, HMAC-MD5, tunnel, 3600 s, 3.3.3.3/32 ↔ 2.2.2.2/32", childSA)
			}
			res := scenarios.Grade(sc, tr)
			if len(res) != 3 || !scenarios.Passed(res) {
				t.Errorf("expectations:\n%s", scenarios.FormatResults(res))
			}
		})
	}
}
