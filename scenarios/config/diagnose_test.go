package config_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
	"github.com/ikesim/ikesim/sim/trace"
)

// pairConf is one side of a swanctl.conf pair; the tests change one line of one side.
const pairConf = `connections {
  vpn {
    local_addrs = LOCAL
    remote_addrs = REMOTE
    proposals = aes128-sha256-modp2048
    local {
      auth = psk
      id = ME.example
    }
    remote {
      auth = psk
      id = PEER.example
    }
    children {
      net {
        local_ts = LAN
        remote_ts = THEIRLAN
        esp_proposals = aes128-sha256
        start_action = START
      }
    }
  }
}
secrets {
  ike-1 {
    id-1 = gw-a.example
    id-2 = gw-b.example
    secret = "shared"
  }
}
`

func side(me, peer, local, remote, lan, peerLAN, start string) string {
	return strings.NewReplacer("LOCAL", local, "REMOTE", remote, "ME", me, "PEER", peer, "THEIRLAN", peerLAN, "LAN", lan, "START", start).Replace(pairConf)
}

// importPair writes the two configurations, each with one line replaced, and imports
// them as gw-a and gw-b.
func importPair(t *testing.T, changeA, changeB [2]string) *config.Result {
	t.Helper()
	return importPairWith(t, changeA, changeB, config.Options{})
}

func importPairWith(t *testing.T, changeA, changeB [2]string, o config.Options) *config.Result {
	t.Helper()
	dir := t.TempDir()
	a := side("gw-a", "gw-b", "192.0.2.1", "192.0.2.2", "10.1.0.0/24", "10.2.0.0/24", "trap")
	b := side("gw-b", "gw-a", "192.0.2.2", "192.0.2.1", "10.2.0.0/24", "10.1.0.0/24", "none")
	a = strings.Replace(a, changeA[0], changeA[1], 1)
	b = strings.Replace(b, changeB[0], changeB[1], 1)
	var inputs []config.Input
	for _, f := range []struct{ node, text string }{{"gw-a", a}, {"gw-b", b}} {
		path := filepath.Join(dir, f.node+".conf")
		if err := os.WriteFile(path, []byte(f.text), 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, config.Input{Node: f.node, Path: path, Data: []byte(f.text)})
	}
	r, err := config.Import(inputs, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDiagnose: a pair whose configurations disagree fails, and the diagnosis names the
// option, and the file and line of it on each side, with the reason; the trace gets it
// too. A pair that agrees gets no diagnosis.
func TestDiagnose(t *testing.T) {
	none := [2]string{"", ""}
	for _, c := range []struct {
		name           string
		a, b           [2]string
		option         string
		stage          config.Stage
		lineA, lineB   int
		reason, inText string
	}{
		{name: "agree", a: none, b: none},
		{name: "DH group", a: none, b: [2]string{"modp2048", "ecp384"}, option: "proposals", stage: config.StageIKE, lineA: 5, lineB: 5,
			reason: "no common DH group", inText: "gw-b's proposals (aes128-sha256-ecp384, gw-b.conf:5) share no proposal with gw-a's (aes128-sha256-modp2048, gw-a.conf:5): no common DH group"},
		{name: "every algorithm", a: [2]string{"aes128-sha256-modp2048", "aes256-sha384-ecp384"}, b: none, option: "proposals", stage: config.StageIKE,
			lineA: 5, lineB: 5, reason: "no common encryption algorithm, no common integrity algorithm, no common PRF, no common DH group"},
		{name: "ESP", a: none, b: [2]string{"esp_proposals = aes128-sha256", "esp_proposals = aes256gcm16"}, option: "esp_proposals",
			stage: config.StageChild, lineA: 18, lineB: 18, reason: "no common encryption algorithm"},
		{name: "pre-shared key", a: none, b: [2]string{`"shared"`, `"typo"`}, option: "secret", stage: config.StageIKE, lineA: 28, lineB: 28,
			reason: "the pre-shared keys differ", inText: "the pre-shared keys differ: gw-a's secret (gw-a.conf:28) is not gw-b's (gw-b.conf:28)"},
		{name: "identity", a: none, b: [2]string{"id = gw-a.example\n", "id = gw-x.example\n"}, option: "id", stage: config.StageIKE, lineA: 8, lineB: 12,
			reason: "identities differ", inText: "gw-b expects gw-a's identity gw-x.example (remote id, gw-b.conf:12), but gw-a is gw-a.example (local id, gw-a.conf:8)"},
		{name: "selectors", a: none, b: [2]string{"remote_ts = 10.1.0.0/24", "remote_ts = 10.9.0.0/24"}, option: "local_ts", stage: config.StageChild,
			lineA: 16, lineB: 17, reason: "traffic selectors do not match"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := importPair(t, c.a, c.b)
			run, err := r.Simulate(nil)
			if err != nil {
				t.Fatal(err)
			}
			results := scenarios.Grade(run.Scenario, run.Sim.Trace)
			findings := config.Diagnose(r, results, run.Sim.Trace)
			if c.option == "" {
				if !scenarios.Passed(results) || len(findings) > 0 {
					t.Fatalf("the pair agrees, but: %v\n%s", findings, scenarios.FormatResults(results))
				}
				return
			}
			if scenarios.Passed(results) {
				t.Fatalf("the pair came up although its configurations disagree:\n%s", scenarios.FormatResults(results))
			}
			var f *config.Finding
			for i := range findings {
				if findings[i].Option == c.option {
					f = &findings[i]
				}
			}
			if f == nil {
				t.Fatalf("no finding about %s: %v", c.option, findings)
			}
			if f.Stage != c.stage || f.A != "gw-a" || f.B != "gw-b" || filepath.Base(f.PosA.File) != "gw-a.conf" || f.PosA.Line != c.lineA ||
				filepath.Base(f.PosB.File) != "gw-b.conf" || f.PosB.Line != c.lineB || f.Reason != c.reason {
				t.Errorf("finding %+v: want stage %s, %s at gw-a.conf:%d and gw-b.conf:%d, %q", *f, c.stage, c.option, c.lineA, c.lineB, c.reason)
			}
			if c.inText != "" && !strings.Contains(strings.ReplaceAll(f.Text, filepath.Dir(f.PosA.File)+"/", ""), c.inText) {
				t.Errorf("finding says %q, want %q in it", f.Text, c.inText)
			}
			config.Record(run, findings)
			recorded := 0
			for _, e := range run.Sim.Trace.Events {
				d := e.Diagnosis
				if e.Kind != trace.KindInfo || e.Node != trace.ScenarioNode || d == nil || d.Option != c.option {
					continue
				}
				recorded++
				if d.Stage != ike.SAType(c.stage) || d.Reason != c.reason || len(d.Sides) != 2 ||
					d.Sides[0].Node != "gw-a" || d.Sides[0].Conn != f.ConnA || filepath.Base(d.Sides[0].File) != "gw-a.conf" || d.Sides[0].Line != c.lineA ||
					d.Sides[1].Node != "gw-b" || d.Sides[1].Conn != f.ConnB || filepath.Base(d.Sides[1].File) != "gw-b.conf" || d.Sides[1].Line != c.lineB {
					t.Errorf("the trace's diagnosis %+v does not match the finding %+v", *d, *f)
				}
			}
			if recorded != 1 {
				t.Errorf("the trace holds the finding %d times", recorded)
			}
		})
	}
}

// TestDiagnoseWithoutExpectations: with a fragment's timeline in place of the inferred
// traffic and its expectations (the IKE SA's stays), the errors in the trace still tell
// that the Child SA failed; a pair that comes up gets no diagnosis.
func TestDiagnoseWithoutExpectations(t *testing.T) {
	frag := config.Options{FragmentPath: "timeline.yaml", Fragment: []byte(`timeline:
  - {at: 0s, initiate: {node: gw-a, connection: vpn, child: net}}
duration: 1.5s
`)}
	for _, c := range []struct {
		name   string
		b      [2]string
		option string
	}{
		{"agree", [2]string{"", ""}, ""},
		{"ESP", [2]string{"esp_proposals = aes128-sha256", "esp_proposals = aes256gcm16"}, "esp_proposals"},
		{"IKE", [2]string{"modp2048", "ecp384"}, "proposals"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := importPairWith(t, [2]string{"", ""}, c.b, frag)
			run, err := r.Simulate(nil)
			if err != nil {
				t.Fatal(err)
			}
			results := scenarios.Grade(run.Scenario, run.Sim.Trace)
			if c.option != "proposals" && !scenarios.Passed(results) {
				t.Fatalf("the fragment's timeline left traffic expectations: %s", scenarios.FormatResults(results))
			}
			findings := config.Diagnose(r, results, run.Sim.Trace)
			switch {
			case c.option == "" && len(findings) > 0:
				t.Errorf("a pair that comes up: %v", findings)
			case c.option != "" && (len(findings) == 0 || findings[0].Option != c.option):
				t.Errorf("findings %v, want one about %s", findings, c.option)
			}
		})
	}
}

// TestCheckWarnsAtImport: Check finds the same disagreements before any run.
func TestCheckWarnsAtImport(t *testing.T) {
	r := importPair(t, [2]string{""}, [2]string{"modp2048", "ecp384"})
	fs := config.Check(r)
	if len(fs) != 1 || fs[0].Option != "proposals" || fs[0].Reason != "no common DH group" {
		t.Errorf("Check: %v", fs)
	}
	if fs := config.Check(importPair(t, [2]string{""}, [2]string{""})); len(fs) != 0 {
		t.Errorf("Check on a pair that agrees: %v", fs)
	}
}

// TestDiagnosedTraceFollowsSchema: the trace of a failed imported pair, with its
// diagnosis, follows docs/trace.schema.json.
func TestDiagnosedTraceFollowsSchema(t *testing.T) {
	schema, err := jsonschema.NewCompiler().Compile(filepath.Join("..", "..", "docs", "trace.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := importPair(t, [2]string{""}, [2]string{"modp2048", "ecp384"})
	run, err := r.Simulate(nil)
	if err != nil {
		t.Fatal(err)
	}
	findings := config.Diagnose(r, scenarios.Grade(run.Scenario, run.Sim.Trace), run.Sim.Trace)
	if len(findings) == 0 {
		t.Fatal("no diagnosis")
	}
	config.Record(run, findings)
	var buf bytes.Buffer
	if err := run.Sim.Trace.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(line))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(v); err != nil {
			t.Errorf("line %d does not follow the schema: %v\n%.200s", i+1, err, line)
		}
	}
}
