package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ikesim/ikesim/sim/trace"
)

// restartScenario is a connection between nodes a and b with no Child SA: IKEv2
// childless (RFC 6023) or an IKEv1 ISAKMP SA alone.
func restartScenario(t *testing.T, version int) string {
	t.Helper()
	conn := func(local, remote, lid, rid string) string {
		return fmt.Sprintf(`    vpn:
      version: %d
      local_addrs: [%s]
      remote_addrs: [%s]
      proposals: [aes128-sha256-modp2048]
      childless: %t
      dpd_delay: %s
      local: {auth: psk, id: %s}
      remote: {auth: psk, id: %s}
`, version, local, remote, version == 2, "0s", lid, rid)
	}
	s := `name: restart
topology:
  nodes:
    - {name: a, kind: gateway, addresses: [192.0.2.1/24]}
    - {name: b, kind: gateway, addresses: [192.0.2.2/24]}
  links:
    - {between: [a, b]}
connections:
  a:
` + conn("192.0.2.1", "192.0.2.2", "a.test", "b.test") + `  b:
` + conn("192.0.2.2", "192.0.2.1", "b.test", "a.test") + `secrets:
  - {type: ike, ids: [a.test, b.test], secret: "restart-psk"}
`
	p := filepath.Join(t.TempDir(), "restart.yaml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// crash stops a live node the way a crashed or killed daemon stops: its sockets close
// and nothing is deleted.
func (n *liveNode) crash(t *testing.T) {
	t.Helper()
	n.do(n.host.Close)
	n.stop()
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("ikesim live %s did not stop", n.name)
	}
	n.done <- nil // for the cleanup
}

// TestLiveShutdownDeletesEveryIKESA: node a brings up an IKE SA with node b, crashes,
// and comes back to bring up another, so b holds two IKE SAs of one connection, as it
// does with a peer that restarts. On Ctrl-C b deletes both, the older one too.
func TestLiveShutdownDeletesEveryIKESA(t *testing.T) {
	for _, version := range []int{2, 1} {
		t.Run(fmt.Sprintf("ikev%d", version), func(t *testing.T) {
			scenario := restartScenario(t, version)
			a := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), freePort(t, "127.0.0.1"))
			b := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), freePort(t, "127.0.0.2"))
			nb := startLive(t, liveOptions{scenario: scenario, node: "b", listen: b, peers: peerFlags{"a": a}, grace: time.Second})
			for i := 1; i <= 2; i++ {
				na := startLive(t, liveOptions{scenario: scenario, node: "a", listen: a, peers: peerFlags{"b": b}, initiate: true,
					grace: 10 * time.Millisecond})
				na.waitFor(t, "the IKE SA", func(tr *trace.Trace) bool { return has(tr, saUp("ike")) })
				nb.waitFor(t, fmt.Sprintf("IKE SA %d on b", i), func(tr *trace.Trace) bool { return count(tr, saUp("ike")) == i })
				if i == 1 {
					na.crash(t)
				}
			}
			if err := nb.shutdown(t); err != nil {
				t.Fatal(err)
			}
			var up []*trace.SARecord
			for _, e := range nb.host.Trace.Events {
				if saUp("ike")(e) {
					up = append(up, e.SA)
				}
			}
			for _, sa := range up {
				if !has(nb.host.Trace, deleteSent("b", sa)) {
					t.Errorf("b did not delete its IKE SA %s/%s on Ctrl-C", sa.SPIi, sa.SPIr)
				}
			}
		})
	}
}

// count counts the trace's events that match accepts.
func count(tr *trace.Trace, match func(e *trace.Event) bool) int {
	n := 0
	for _, e := range tr.Events {
		if match(e) {
			n++
		}
	}
	return n
}

// deleteSent matches a message that node from sent on the IKE SA sa (by the SPIs, IKEv1
// cookies, of its header) with a Delete of an IKE SA or ISAKMP SA in it.
func deleteSent(from string, sa *trace.SARecord) func(e *trace.Event) bool {
	return func(e *trace.Event) bool {
		return e.Kind == trace.KindMessage && e.From == from && e.SPIi == sa.SPIi && e.SPIr == sa.SPIr &&
			slices.ContainsFunc(e.Deletes, func(d trace.SARef) bool { return d.Proto != "esp" && d.Proto != "ah" })
	}
}
