package sim

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim/trace"
)

// TestInboundSelectors: a peer that holds a Child SA for 10.2.0.0/24 → 10.1.0.0/24
// sends, under that SA's keys, a packet from an address outside its selectors. RFC 4301,
// Section 5.2 (step 4) makes the receiver drop it after decryption; the trace says why.
// A packet inside the selectors still goes through.
func TestInboundSelectors(t *testing.T) {
	s := New(3)
	n := NewNetwork(s)
	gw, _ := n.AddNode("gw", KindGateway, netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("10.1.0.1/24"))
	n.AddNode("host", KindHost, netip.MustParsePrefix("10.1.0.5/24"))
	n.AddNode("peer", KindGateway, netip.MustParsePrefix("192.0.2.2/24"))
	for _, l := range [][2]string{{"gw", "peer"}, {"gw", "host"}} {
		if _, err := n.Connect(l[0], l[1], netip.Addr{}, netip.Addr{}, LinkParams{Delay: time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	n.Start()
	p, err := ike.ParseProposal("aes128-sha256", ike.ProtoESP)
	if err != nil {
		t.Fatal(err)
	}
	info := &ike.ChildSAInfo{Conn: "c", Child: "net", ReqID: 1, Protocol: ike.ProtoESP, Proposal: p,
		Local: netip.MustParseAddrPort("192.0.2.1:500"), Remote: netip.MustParseAddrPort("192.0.2.2:500"),
		SPIIn: 0x1000, SPIOut: 0x2000, EncrKeyIn: make([]byte, 16), IntegKeyIn: make([]byte, 32),
		EncrKeyOut: make([]byte, 16), IntegKeyOut: make([]byte, 32),
		LocalTS:  []ike.TrafficSelector{ike.TSFromPrefix(netip.MustParsePrefix("10.1.0.0/24"))},
		RemoteTS: []ike.TrafficSelector{ike.TSFromPrefix(netip.MustParsePrefix("10.2.0.0/24"))}}
	gw.ChildSAUp(info)
	// The peer's outbound SA is gw's inbound one: same SPI, same keys.
	_, peerOut, err := NewChildSAs(&ike.ChildSAInfo{Proposal: p, ReqID: 1, Local: info.Remote, Remote: info.Local,
		SPIOut: info.SPIIn, EncrKeyOut: info.EncrKeyIn, IntegKeyOut: info.IntegKeyIn}, s.Rand("peer"), time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	send := func(src string, seq uint16) {
		inner, err := ipsec.NewEchoRequest(netip.MustParseAddr(src), netip.MustParseAddr("10.1.0.5"), seq, 7, seq, nil)
		if err != nil {
			t.Fatal(err)
		}
		outer, err := peerOut.Protect(inner)
		if err != nil {
			t.Fatal(err)
		}
		n.Node("peer").output(netip.MustParseAddr("192.0.2.1"), outer, nil, 0)
	}
	send("10.9.9.9", 1) // outside 10.2.0.0/24
	send("10.2.0.7", 2) // inside
	s.Run(time.Second)

	var drops []string
	reached := map[string]bool{}
	for _, e := range s.Trace.Events {
		if e.Kind == trace.KindDrop && e.Node == "gw" {
			drops = append(drops, e.Text)
			if e.Cause() != trace.DropSelectors {
				t.Errorf("drop %q has cause %q, want %q", e.Text, e.Cause(), trace.DropSelectors)
			}
		}
		if e.Kind == trace.KindRecv && e.Node == "host" {
			reached[e.Summary()] = true
		}
	}
	if len(drops) != 1 || !strings.Contains(drops[0], "10.9.9.9") || !strings.Contains(drops[0], "selectors") {
		t.Errorf("gw drops %q, want one drop of the packet from 10.9.9.9 naming the selectors", drops)
	}
	for summary := range reached {
		if strings.Contains(summary, "10.9.9.9") {
			t.Errorf("the packet from outside the selectors reached the host: %s", summary)
		}
	}
	if len(reached) == 0 {
		t.Error("the packet inside the selectors did not reach the host")
	}
}
