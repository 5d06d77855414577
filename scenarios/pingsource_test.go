package scenarios

import (
	"strings"
	"testing"

	"github.com/ikesim/ikesim/sim/trace"
)

// pingSourceLab: R3 protects its loopback 3.3.3.3 towards R2's 2.2.2.2; a ping leaves
// from the loopback only when the step names it as its source.
const pingSourceLab = `name: ping-source
topology:
  nodes:
    - {name: R3, kind: gateway, addresses: [10.1.13.3/24, 3.3.3.3/32]}
    - {name: R2, kind: gateway, addresses: [10.1.13.2/24, 2.2.2.2/32]}
  links:
    - {between: [R3, R2]}
connections:
  R3:
    vpn:
      local_addrs: [3.3.3.3]
      remote_addrs: [2.2.2.2]
      proposals: [aes128-sha256-modp2048]
      local: {id: 3.3.3.3}
      remote: {id: 2.2.2.2}
      children:
        lo: {local_ts: [3.3.3.3/32], remote_ts: [2.2.2.2/32], start_action: trigger}
  R2:
    vpn:
      local_addrs: [2.2.2.2]
      remote_addrs: [3.3.3.3]
      proposals: [aes128-sha256-modp2048]
      local: {id: 2.2.2.2}
      remote: {id: 3.3.3.3}
      children:
        lo: {local_ts: [2.2.2.2/32], remote_ts: [3.3.3.3/32]}
secrets:
  - {ids: [3.3.3.3, 2.2.2.2], secret: cisco123}
timeline:
  - {at: 0s, ping: {from: R3, to: 2.2.2.2, count: 2SOURCE}}
`

func TestPingSource(t *testing.T) {
	for _, c := range []struct {
		source string
		esp    bool
	}{{", source: 3.3.3.3", true}, {"", false}} {
		s, err := Parse([]byte(strings.Replace(pingSourceLab, "SOURCE", c.source, 1)), "ping-source.yaml")
		if err != nil {
			t.Fatal(err)
		}
		r, err := Build(s, 1)
		if err != nil {
			t.Fatal(err)
		}
		r.Execute()
		esp := 0
		for _, e := range r.Sim.Trace.Events {
			if e.Kind == trace.KindMessage && e.Proto() == "esp" && !e.Forwarded() {
				esp++
			}
		}
		if (esp == 4) != c.esp || r.Net.Pings[0].Answered != 2 {
			t.Errorf("ping%s: %d ESP packets, %d of 2 answered; want the pings in ESP: %t", c.source, esp, r.Net.Pings[0].Answered, c.esp)
		}
	}
	_, err := Parse([]byte(strings.Replace(pingSourceLab, "SOURCE", ", source: 2.2.2.2", 1)), "ping-source.yaml")
	if err == nil || !strings.Contains(err.Error(), `ping-source.yaml:30:62: ping source 2.2.2.2 is not an address of node "R3"`) {
		t.Errorf("a source of another node: %v", err)
	}
}

// TestPoliciesGoWithTheirChildSA: as strongSwan does, a Child SA that goes takes its
// policies with it unless a trap keeps them: start_action trigger (R3's), or on R2
// close_action trap. After R3 deletes the child, R2 without a trap has no policy left:
// its ping leaves in clear and starts no IKE. With close_action trap R2 keeps them, and
// its ping sets the child up again. The down events say which policies went.
func TestPoliciesGoWithTheirChildSA(t *testing.T) {
	for _, tc := range []struct {
		name        string
		closeAction string
		removed     int  // R2's policies that go with the Child SA
		trap        bool // R2's ping starts IKE
	}{{"no trap", "", 2, false}, {"close_action trap", ", close_action: trap", 0, true}} {
		t.Run(tc.name, func(t *testing.T) {
			lab := strings.Replace(pingSourceLab, "  - {at: 0s, ping: {from: R3, to: 2.2.2.2, count: 2SOURCE}}\n",
				`  - {at: 0s, ping: {from: R3, to: 2.2.2.2, count: 1, source: 3.3.3.3}}
  - {at: 5s, delete: {node: R3, child: lo}}
  - {at: 10s, ping: {from: R2, to: 3.3.3.3, count: 1, source: 2.2.2.2}}
`, 1)
			lab = strings.Replace(lab, "lo: {local_ts: [2.2.2.2/32], remote_ts: [3.3.3.3/32]}",
				"lo: {local_ts: [2.2.2.2/32], remote_ts: [3.3.3.3/32]"+tc.closeAction+"}", 1)
			s, err := Parse([]byte(lab), "policies.yaml")
			if err != nil {
				t.Fatal(err)
			}
			r := run(t, s, 1)
			removed := map[string]int{}
			var deleted trace.Seconds
			for _, e := range r.Sim.Trace.Events {
				if e.Kind == trace.KindSA && e.Op == trace.OpDown && e.SA != nil && e.SA.Type == "child" {
					removed[e.Node] += len(e.SA.Policies)
					deleted = e.T
				}
			}
			if deleted == 0 {
				t.Fatal("the Child SA never went down")
			}
			if removed["R2"] != tc.removed || removed["R3"] != 0 {
				t.Errorf("policies removed with the Child SA: R2 %d, R3 %d; want %d, 0 (its trap's stay)", removed["R2"], removed["R3"], tc.removed)
			}
			if n := len(r.Net.Node("R3").SPD.Policies()); n != 2 {
				t.Errorf("R3 keeps %d policies, want its trap's 2", n)
			}
			clear, exchanges := 0, 0
			for _, e := range r.Sim.Trace.Events {
				if e.Kind != trace.KindMessage || e.T <= deleted || e.From() != "R2" {
					continue
				}
				switch {
				case e.Proto() == "icmp":
					clear++
				case e.Exchange() != "" && !e.Response():
					exchanges++
				}
			}
			if tc.trap && (clear != 0 || exchanges == 0) {
				t.Errorf("R2 sent %d packets in clear and started %d exchanges; want its trap to start IKE", clear, exchanges)
			}
			if !tc.trap && (clear != 1 || exchanges != 0) {
				t.Errorf("R2 sent %d packets in clear and started %d exchanges; want its echo request in clear, no IKE", clear, exchanges)
			}
		})
	}
}
