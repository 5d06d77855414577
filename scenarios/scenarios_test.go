package scenarios

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/sim/trace"
)

func run(t testing.TB, s *Scenario, seed uint64) *Run {
	t.Helper()
	r, err := Build(s, seed)
	if err != nil {
		t.Fatalf("build %s: %v", s.File.Name, err)
	}
	r.Execute()
	return r
}

func TestBuiltinsPassTheirExpectations(t *testing.T) {
	names := Builtins()
	if len(names) < 3 {
		t.Fatalf("only %d built-in scenarios: %v", len(names), names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.File.Expect) == 0 {
				t.Fatalf("%s has no expectations", name)
			}
			r := run(t, s, s.Seed)
			res := Grade(s, r.Sim.Trace)
			if !Passed(res) {
				t.Errorf("%s:\n%s", name, FormatResults(res))
			}
			for _, e := range r.Sim.Trace.Events {
				// Walkthroughs run clean; labs may teach failures, graded by their expectations.
				if e.Kind == trace.KindError && !strings.HasPrefix(name, "lab-") && !expectsFailure(s) {
					t.Errorf("%s: error event at %s on %s: %s", name, e.T, e.Node, e.Text)
				}
			}
		})
	}
}

// expectsFailure reports whether a scenario teaches a failure: it expects an IKE SA to
// fail or an error notify on the wire.
func expectsFailure(s *Scenario) bool {
	for _, e := range s.File.Expect {
		if (e.IKESA != nil && e.IKESA.State == "failed") || (e.Message != nil && e.Message.Notify != "") {
			return true
		}
	}
	return false
}

func traceBytes(t *testing.T, r *Run) (jsonl, pcap []byte) {
	t.Helper()
	var a, b bytes.Buffer
	if err := r.Sim.Trace.WriteJSON(&a); err != nil {
		t.Fatal(err)
	}
	if err := trace.WritePcap(r.Sim.Trace, &b, true); err != nil {
		t.Fatal(err)
	}
	return a.Bytes(), b.Bytes()
}

func TestSameSeedSameBytes(t *testing.T) {
	for _, name := range Builtins() {
		s, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		j1, p1 := traceBytes(t, run(t, s, 42))
		j2, p2 := traceBytes(t, run(t, s, 42))
		if !bytes.Equal(j1, j2) || !bytes.Equal(p1, p2) {
			t.Errorf("%s: two runs with seed 42 differ", name)
		}
		j3, _ := traceBytes(t, run(t, s, 43))
		if bytes.Equal(j1, j3) {
			t.Errorf("%s: seeds 42 and 43 give the same trace", name)
		}
	}
}

func TestOtherSeedOtherSPIsNoncesKeys(t *testing.T) {
	s, err := Load("ikev2-ping")
	if err != nil {
		t.Fatal(err)
	}
	ikeSA := func(r *Run) *trace.SARecord {
		for _, e := range r.Sim.Trace.Events {
			if e.Kind == trace.KindSA && e.SA.Type == "ike" && e.Op == "up" {
				return e.SA
			}
		}
		t.Fatal("no IKE SA")
		return nil
	}
	a, b := ikeSA(run(t, s, 1)), ikeSA(run(t, s, 2))
	if a.SPIi == b.SPIi || a.SPIr == b.SPIr || bytes.Equal(a.SKei, b.SKei) || bytes.Equal(a.SKai, b.SKai) {
		t.Errorf("seeds 1 and 2 share SPIs or keys: %s/%s vs %s/%s", a.SPIi, a.SPIr, b.SPIi, b.SPIr)
	}
	nonce := func(r *Run) string {
		for _, e := range r.Sim.Trace.Events {
			if e.Kind == trace.KindMessage && e.Exchange() == "IKE_SA_INIT" {
				if f := e.Fields().Find("Nonce Data"); f != nil {
					return f.Value
				}
			}
		}
		t.Fatal("no nonce in IKE_SA_INIT")
		return ""
	}
	if nonce(run(t, s, 1)) == nonce(run(t, s, 2)) {
		t.Error("seeds 1 and 2 give the same Ni")
	}
}

// variant loads ikev2-ping with some text replaced.
func variant(t *testing.T, replace ...string) *Scenario {
	t.Helper()
	data, err := builtinFS.ReadFile("builtin/ikev2-ping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	for i := 0; i < len(replace); i += 2 {
		if !strings.Contains(src, replace[i]) {
			t.Fatalf("ikev2-ping.yaml has no %q", replace[i])
		}
		src = strings.Replace(src, replace[i], replace[i+1], 1)
	}
	s, err := Parse([]byte(src), "variant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func count(tr *trace.Trace, f func(*trace.Event) bool) int {
	n := 0
	for _, e := range tr.Events {
		if f(e) {
			n++
		}
	}
	return n
}

func hasError(tr *trace.Trace, node, text string) bool {
	return count(tr, func(e *trace.Event) bool {
		return e.Kind == trace.KindError && e.Node == node && strings.Contains(e.Text, text)
	}) > 0
}

func TestWrongPSKEndsInAuthenticationFailed(t *testing.T) {
	s := variant(t, `secrets:
`, `secrets:
  - {type: ike, ids: [gw-a.example, gw-b.example], secret: "not-the-classroom-secret", nodes: [gw-b]}
`)
	r := run(t, s, 1)
	tr := r.Sim.Trace
	if !hasError(tr, "gw-b", "AUTHENTICATION_FAILED") {
		t.Error("gw-b does not report AUTHENTICATION_FAILED")
	}
	if !hasError(tr, "gw-a", "AUTHENTICATION_FAILED") {
		t.Error("gw-a does not learn of AUTHENTICATION_FAILED")
	}
	if n := count(tr, func(e *trace.Event) bool {
		return e.Kind == trace.KindMessage && strings.Contains(e.Summary(), "N(AUTHENTICATION_FAILED)")
	}); n == 0 {
		t.Error("no N(AUTHENTICATION_FAILED) on the wire")
	}
	if n := count(tr, func(e *trace.Event) bool { return e.Kind == trace.KindSA && e.Op == "up" }); n != 0 {
		t.Errorf("%d SAs came up with mismatched keys", n)
	}
	for _, p := range r.Net.Pings {
		if p.Answered != 0 {
			t.Errorf("%d pings answered without a tunnel", p.Answered)
		}
	}
}

func TestProposalMismatchEndsInNoProposalChosen(t *testing.T) {
	s := variant(t, "proposals: [3des-md5-modp1024]\n      local: {auth: psk, id: gw-b.example}",
		"proposals: [aes256-sha512-ecp384]\n      local: {auth: psk, id: gw-b.example}")
	tr := run(t, s, 1).Sim.Trace
	if !hasError(tr, "gw-b", "NO_PROPOSAL_CHOSEN") || !hasError(tr, "gw-a", "NO_PROPOSAL_CHOSEN") {
		t.Error("both gateways should report NO_PROPOSAL_CHOSEN")
	}
	if n := count(tr, func(e *trace.Event) bool {
		return e.Kind == trace.KindMessage && e.Exchange() == "IKE_SA_INIT" && e.Response() && strings.Contains(e.Summary(), "N(NO_PROPOSAL_CHOSEN)")
	}); n == 0 {
		t.Error("no IKE_SA_INIT response with N(NO_PROPOSAL_CHOSEN)")
	}
	if n := count(tr, func(e *trace.Event) bool { return e.Kind == trace.KindMessage && e.Exchange() == "IKE_AUTH" }); n != 0 {
		t.Errorf("IKE_AUTH sent %d times after a failed IKE_SA_INIT", n)
	}
}

func TestThirtyPercentLossConverges(t *testing.T) {
	s := variant(t, "{between: [gw-a, gw-b], delay: 20ms}", "{between: [gw-a, gw-b], delay: 20ms, loss: 30%}",
		"count: 3, interval: 1s}}", "count: 20, interval: 1s}}")
	converged, lost, retx := 0, 0, 0
	for seed := uint64(1); seed <= 10; seed++ {
		tr := run(t, s, seed).Sim.Trace
		lost += count(tr, func(e *trace.Event) bool { return e.Kind == trace.KindDrop && strings.Contains(e.Text, "loss") })
		retx += count(tr, func(e *trace.Event) bool { return e.Kind == trace.KindMessage && e.Retransmit() })
		if count(tr, func(e *trace.Event) bool {
			return e.Kind == trace.KindSA && e.Op == "up" && e.SA.Type == "child" && e.Node == "gw-a"
		}) > 0 {
			converged++
		}
	}
	if lost == 0 || retx == 0 {
		t.Fatalf("30%% loss lost %d datagrams and caused %d retransmissions", lost, retx)
	}
	if converged < 9 {
		t.Errorf("only %d of 10 seeds brought the tunnel up through 30%% loss", converged)
	}
}

func TestParseErrorsNameLineAndColumn(t *testing.T) {
	good, _ := builtinFS.ReadFile("builtin/ikev2-ping.yaml")
	for _, c := range []struct{ from, to, want string }{
		{"proposals: [3des-md5-modp1024]", "proposals: [3des-md5-modp1025]", `variant.yaml:31:19: unknown algorithm "modp1025" in proposal "3des-md5-modp1025" (did you mean "modp1024"?)`},
		{"{name: host-b, kind: host, address: 10.2.0.20/24}", "{name: host-b, kind: hots, address: 10.2.0.20/24}", `variant.yaml:19:28: node kind "hots" is not one of host, gateway, router, nat (did you mean "host"?)`},
		{"address: 10.1.0.10/24}", "address: 10.1.0.300/24}", `variant.yaml:16:43: "10.1.0.300/24" is not an IP address`},
		{"{between: [gw-b, host-b], delay: 1ms}", "{between: [gw-b, host-c], delay: 1ms}", `variant.yaml:23:24: unknown node "host-c" (did you mean "host-a"?)`},
		{"      version: 2\n      local_addrs: [198.51.100.1]", "      version: 2\n      colour: blue\n      local_addrs: [198.51.100.1]", `variant.yaml:29:7: unknown field "colour"`},
	} {
		src := strings.Replace(string(good), c.from, c.to, 1)
		_, err := Parse([]byte(src), "variant.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q → %q: got %v, want %q", c.from, c.to, err, c.want)
		}
	}
}
