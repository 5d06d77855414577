package sim

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim/trace"
)

// TestBundleEnforcedInbound: two gateways with an IKEv1 AH+ESP bundle (an ESP Child SA
// and the AH SAs over it, of one ReqID). Pings through the whole bundle are answered;
// an ESP packet sent without the AH is dropped with cause esp and the ipsec fact's
// reason, as a kernel's inbound policy check drops it.
func TestBundleEnforcedInbound(t *testing.T) {
	s := New(1)
	n := NewNetwork(s)
	a, _ := n.AddNode("a", KindGateway, netip.MustParsePrefix("192.0.2.1/24"))
	b, _ := n.AddNode("b", KindGateway, netip.MustParsePrefix("192.0.2.2/24"))
	if _, err := n.Connect("a", "b", netip.Addr{}, netip.Addr{}, LinkParams{Delay: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	n.Start()
	esp, err := ike.ParseProposal("aes128-sha256", ike.ProtoESP)
	if err != nil {
		t.Fatal(err)
	}
	ah, err := ike.ParseProposal("sha256", ike.ProtoAH)
	if err != nil {
		t.Fatal(err)
	}
	key := func(n int, b byte) []byte {
		k := make([]byte, n)
		for i := range k {
			k[i] = b + byte(i)
		}
		return k
	}
	ends := []*Node{a, b}
	for i, nd := range ends {
		other := ends[1-i]
		local, remote := netip.AddrPortFrom(nd.Addr(), 500), netip.AddrPortFrom(other.Addr(), 500)
		// a's outbound keys are b's inbound ones
		spi := func(from int) uint32 { return uint32(0x1000 + from) }
		ts := func(nd *Node) []ike.TrafficSelector {
			return []ike.TrafficSelector{ike.TSFromPrefix(netip.PrefixFrom(nd.Addr(), 32))}
		}
		nd.ChildSAUp(&ike.ChildSAInfo{Conn: "c", Child: "net", ReqID: 1, Protocol: ike.ProtoESP, Proposal: esp,
			Local: local, Remote: remote, SPIIn: spi(1 - i), SPIOut: spi(i),
			EncrKeyIn: key(16, byte(1-i)), IntegKeyIn: key(32, byte(1-i)), EncrKeyOut: key(16, byte(i)), IntegKeyOut: key(32, byte(i)),
			LocalTS: ts(nd), RemoteTS: ts(other)})
		nd.ChildSAUp(&ike.ChildSAInfo{Conn: "c", Child: "net", ReqID: 1, Protocol: ike.ProtoAH, Proposal: ah, Bundle: true,
			Local: local, Remote: remote, SPIIn: spi(3 - i), SPIOut: spi(2 + i),
			IntegKeyIn: key(32, byte(3-i)), IntegKeyOut: key(32, byte(2+i)), LocalTS: ts(nd), RemoteTS: ts(other)})
	}
	p, err := n.Ping("a", b.Addr(), 2, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	n.Sim.Run(time.Second)
	if p.Answered != 2 {
		t.Fatalf("%d of 2 pings answered through the bundle", p.Answered)
	}
	// ESP alone, on a's outbound ESP SA of the bundle.
	echo, err := ipsec.NewEchoRequest(a.Addr(), b.Addr(), 99, 0x77, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, outs := a.SAD.SAs()
	var espOut *ipsec.SA
	for _, sa := range outs {
		if !sa.IsAH() {
			espOut = sa
		}
	}
	espAlone, err := espOut.Protect(echo)
	if err != nil {
		t.Fatal(err)
	}
	a.output(b.Addr(), espAlone, &PacketMeta{sa: espOut}, 0)
	n.Sim.Run(2 * time.Second)
	var drops []*trace.Event
	for _, e := range n.Sim.Trace.Events {
		if e.Kind == trace.KindDrop {
			drops = append(drops, e)
		}
	}
	if len(drops) != 1 || drops[0].Node != "b" || drops[0].Cause() != trace.DropESP || drops[0].IPsec() == nil ||
		drops[0].IPsec().Reason != ipsec.DropBundle.String() || drops[0].IPsec().Proto != "esp" || drops[0].IPsec().SPI != "00001000" {
		for _, d := range drops {
			t.Logf("drop on %s: %s %+v", d.Node, d.Text, d.IPsec())
		}
		t.Fatalf("%d drops, want b's one of the ESP packet without its AH", len(drops))
	}
	if replies := count(n.Sim.Trace, func(e *trace.Event) bool { return e.Kind == trace.KindMessage && e.From() == "b" }); replies != 2 {
		t.Errorf("b sent %d packets, want the 2 echo replies of the bundle's pings alone", replies)
	}
}
