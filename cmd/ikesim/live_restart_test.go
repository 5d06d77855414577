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
// childless (RFC 6023) or an IKEv1 ISAKMP SA alone. With dpd, b checks the liveness of
// its peer after a second of silence and gives up after three unanswered tries half a
// second apart.
func restartScenario(t *testing.T, version int, dpd bool) string {
	t.Helper()
	conn := func(local, remote, lid, rid string) string {
		return fmt.Sprintf(`    vpn:
      version: %d
      local_addrs: [%s]
      remote_addrs: [%s]
      proposals: [aes128-sha256-modp2048]
      childless: %t
      local: {auth: psk, id: %s}
      remote: {auth: psk, id: %s}
`, version, local, remote, version == 2, lid, rid)
	}
	// unique: never keeps every IKE SA between the two identities, N(INITIAL_CONTACT)
	// or not (strongSwan's uniqueids=never): what a restarted peer leaves behind stays,
	// as with a peer that sends no INITIAL_CONTACT.
	liveness := "      unique: never\n"
	if dpd {
		liveness += "      dpd_delay: 1s\n      retransmit: {timeout: 0.5s, base: 1, tries: 3}\n"
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
` + conn("192.0.2.2", "192.0.2.1", "b.test", "a.test") + liveness + `secrets:
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
			scenario := restartScenario(t, version, false)
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
		return e.Kind == trace.KindMessage && e.From() == from && e.SPIi() == sa.SPIi && e.SPIr() == sa.SPIr &&
			slices.ContainsFunc(e.Deletes(), func(d trace.SARef) bool { return d.Proto != "esp" && d.Proto != "ah" })
	}
}

// TestLiveStaleIKESA: node a restarts three times without deleting anything, as a
// crashed daemon or one that drops an IKE SA after a failed kernel install does; each
// time it brings up a new IKE SA with b. b's dead peer detection finds each older IKE
// SA silent and ends it, so that b ends with the newest IKE SA alone, still up: stale IKE
// SAs do not accumulate.
func TestLiveStaleIKESA(t *testing.T) {
	for _, version := range []int{2, 1} {
		t.Run(fmt.Sprintf("ikev%d", version), func(t *testing.T) {
			scenario := restartScenario(t, version, true)
			a := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), freePort(t, "127.0.0.1"))
			b := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), freePort(t, "127.0.0.2"))
			nb := startLive(t, liveOptions{scenario: scenario, node: "b", listen: b, peers: peerFlags{"a": a}})
			const restarts = 3
			var na *liveNode
			for i := 0; i <= restarts; i++ {
				if na != nil {
					na.crash(t)
				}
				na = startLive(t, liveOptions{scenario: scenario, node: "a", listen: a, peers: peerFlags{"b": b}, initiate: true,
					grace: 10 * time.Millisecond})
				nb.waitFor(t, fmt.Sprintf("IKE SA %d on b", i+1), func(tr *trace.Trace) bool { return count(tr, saUp("ike")) == i+1 })
			}
			nb.waitFor(t, "the end of every stale IKE SA", func(tr *trace.Trace) bool { return count(tr, ikeDown("")) == restarts })
			var up, down []*trace.SARecord
			held := 0
			nb.do(func() {
				held = nb.host.IKESAs()
				for _, e := range nb.host.Trace.Events {
					switch {
					case saUp("ike")(e):
						up = append(up, e.SA)
					case ikeDown("")(e):
						down = append(down, e.SA)
					}
				}
			})
			if held != 1 {
				t.Errorf("b holds %d IKE SAs, want the newest alone", held)
			}
			ended := map[[2]string]string{}
			for _, sa := range down {
				ended[[2]string{sa.SPIi, sa.SPIr}] = sa.Reason
			}
			for i, sa := range up {
				why, gone := ended[[2]string{sa.SPIi, sa.SPIr}]
				switch {
				case i == restarts && gone:
					t.Errorf("b's newest IKE SA %s/%s ended (%s)", sa.SPIi, sa.SPIr, why)
				case i < restarts && why != "peer did not answer" && why != "peer dead (DPD)":
					t.Errorf("b's stale IKE SA %d (%s/%s) did not end by dead peer detection (%q)", i+1, sa.SPIi, sa.SPIr, why)
				}
			}
			nb.waitFor(t, "the newest IKE SA's answered liveness check", liveness(version, "b", "a"))
		})
	}
}
