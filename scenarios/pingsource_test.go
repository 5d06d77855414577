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
			if e.Kind == trace.KindMessage && e.Proto == "esp" && !e.Forwarded {
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
