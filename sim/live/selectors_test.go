package live

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// TestInboundSelectors: the live host opens ESP with the SAs of sim.NewChildSAs, so a
// packet that decrypts under a Child SA but comes from outside its selectors is dropped
// with the reason in the trace (RFC 4301, Section 5.2), as in a simulated node.
func TestInboundSelectors(t *testing.T) {
	h, err := New(Config{Node: "gw", Listen: netip.MustParseAddrPort("127.0.0.1:0"), Addrs: []netip.Addr{netip.MustParseAddr("10.1.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	p := mustProposal(t, "aes128-sha256", ike.ProtoESP)
	info := &ike.ChildSAInfo{Conn: "c", Child: "net", ReqID: 1, Protocol: ike.ProtoESP, Proposal: p, Encap: true,
		Local: netip.MustParseAddrPort("127.0.0.1:4500"), Remote: netip.MustParseAddrPort("127.0.0.2:4500"),
		SPIIn: 0x1000, SPIOut: 0x2000, EncrKeyIn: make([]byte, 16), IntegKeyIn: make([]byte, 32),
		EncrKeyOut: make([]byte, 16), IntegKeyOut: make([]byte, 32),
		LocalTS:  []ike.TrafficSelector{ike.TSFromPrefix(netip.MustParsePrefix("10.1.0.0/24"))},
		RemoteTS: []ike.TrafficSelector{ike.TSFromPrefix(netip.MustParsePrefix("10.2.0.0/24"))}}
	h.ChildSAUp(info)
	_, peerOut, err := sim.NewChildSAs(&ike.ChildSAInfo{Proposal: p, ReqID: 1, Local: info.Remote, Remote: info.Local,
		SPIOut: info.SPIIn, EncrKeyOut: info.EncrKeyIn, IntegKeyOut: info.IntegKeyIn}, h.rand, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := ipsec.NewEchoRequest(netip.MustParseAddr("10.9.9.9"), netip.MustParseAddr("10.1.0.1"), 1, 7, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := peerOut.Protect(inner)
	if err != nil {
		t.Fatal(err)
	}
	ip, err := ipsec.ParseIPv4(outer)
	if err != nil {
		t.Fatal(err)
	}
	h.receiveESP(info.Local, info.Remote, ip.Payload, &trace.Event{})
	var drops []string
	for _, e := range h.Trace.Events {
		if e.Kind == trace.KindDrop {
			drops = append(drops, e.Text)
			if e.Cause() != trace.DropSelectors {
				t.Errorf("drop %q has cause %q, want %q", e.Text, e.Cause(), trace.DropSelectors)
			}
		}
		if e.Kind == trace.KindAction && strings.Contains(e.Text, "echo") {
			t.Errorf("the packet from outside the selectors was handled: %s", e.Text)
		}
	}
	if len(drops) != 1 || !strings.Contains(drops[0], "selectors") || !strings.Contains(drops[0], "10.9.9.9") {
		t.Errorf("drops %q, want one naming the selectors and 10.9.9.9", drops)
	}
}
