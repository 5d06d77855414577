package sim

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/ikesim/ikesim/ipsec"
)

// TestPacketSummary checks the summaries of ICMP and other packets, written without
// fmt, against the fmt formats they replace: echo requests and replies over IPv4 and
// IPv6, other ICMP types, a packet of another protocol, and addresses not set.
func TestPacketSummary(t *testing.T) {
	v4a, v4b := netip.MustParseAddr("10.1.0.2"), netip.MustParseAddr("10.2.0.10")
	v6a, v6b := netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("fd00::a")
	icmp4 := func(typ uint8) *ipsec.IPv4 {
		m := ipsec.ICMP{Type: typ, ID: 7, Seq: 4242}
		return &ipsec.IPv4{Protocol: ipsec.ProtoICMP, Src: v4a, Dst: v4b, Payload: m.Marshal()}
	}
	icmp6 := func(typ uint8) *ipsec.IPv4 {
		m := ipsec.ICMP{Type: typ, ID: 7, Seq: 65535}
		return &ipsec.IPv4{Version: 6, Protocol: ipsec.ProtoICMPv6, Src: v6a, Dst: v6b, Payload: m.AppendV6(nil, v6a, v6b)}
	}
	cases := []struct {
		ip   *ipsec.IPv4
		want string
	}{
		{icmp4(ipsec.ICMPEchoRequest), "ICMP echo request 10.1.0.2 → 10.2.0.10 seq 4242"},
		{icmp4(ipsec.ICMPEchoReply), "ICMP echo reply 10.1.0.2 → 10.2.0.10 seq 4242"},
		{icmp4(ipsec.ICMPTimeExceeded), fmt.Sprintf("ICMP type %d 10.1.0.2 → 10.2.0.10 seq 4242", ipsec.ICMPTimeExceeded)},
		{icmp6(ipsec.ICMPv6EchoRequest), "ICMPv6 echo request 2001:db8::2 → fd00::a seq 65535"},
		{icmp6(ipsec.ICMPv6EchoReply), "ICMPv6 echo reply 2001:db8::2 → fd00::a seq 65535"},
		{icmp6(1), "ICMPv6 type 1 2001:db8::2 → fd00::a seq 65535"},
		{&ipsec.IPv4{Protocol: ipsec.ProtoUDP, Src: v4a, Dst: v4b}, "udp 10.1.0.2 → 10.2.0.10"},
		{&ipsec.IPv4{Version: 6, Protocol: ipsec.ProtoESP, Src: v6a, Dst: v6b}, "esp 2001:db8::2 → fd00::a"},
		{&ipsec.IPv4{Protocol: 99}, "ip invalid IP → invalid IP"},
	}
	for _, c := range cases {
		if got := PacketSummary(c.ip); got != c.want {
			t.Errorf("PacketSummary = %q, want %q", got, c.want)
		}
	}
}
