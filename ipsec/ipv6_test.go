package ipsec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/ikesim/ikesim/ike"
)

// The IPv6 vectors below come from Scapy 2.5 (scapy.layers.inet6, scapy.layers.ipsec), an
// independent implementation, by the script testdata/ipv6_vectors.py, whose output is
// testdata/ipv6_vectors.txt. Hosts 2001:db8:1::10 and 2001:db8:2::20, gateways
// 2001:db8:ff::1 and ::2; the ping has Traffic Class 0x10, Flow Label 0x12345 and Hop
// Limit 63, which AH zeroes for its ICV.
var (
	h6A, h6B = netip.MustParseAddr("2001:db8:1::10"), netip.MustParseAddr("2001:db8:2::20")
	g6A, g6B = netip.MustParseAddr("2001:db8:ff::1"), netip.MustParseAddr("2001:db8:ff::2")

	echo6           = "6101234500203a3f20010db800010000000000000000001020010db80002000000000000000000208000c157001d0001696b6573696d2049507636206b6e6f776e20616e73776572"
	ah6Transport    = [3]string{"0102030405060708090a0b0c0d0e0f1011121314", "6101234500203a3f20010db800010000000000000000001020010db80002000000000000000000208000c157001d0001696b6573696d2049507636206b6e6f776e20616e73776572", "610123450038333f20010db800010000000000000000001020010db80002000000000000000000203a040000c0ffee0200000001093a199648d51d9df025f0d68000c157001d0001696b6573696d2049507636206b6e6f776e20616e73776572"}                                                                                                                                                                                             // HMAC-SHA1-96: key, inner, outer
	ah6TransportHBH = [3]string{"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f", "610123450028003f20010db800010000000000000000001020010db80002000000000000000000203a003e02aabb01008000c157001d0001696b6573696d2049507636206b6e6f776e20616e73776572", "610123450048003f20010db800010000000000000000001020010db800020000000000000000002033003e02aabb01003a060000c0ffee0200000001f31c015e0f006f66b88048dcb0fc4f46000000008000c157001d0001696b6573696d2049507636206b6e6f776e20616e73776572"}                                                                                                                     // HMAC-SHA2-256-128, a Hop-by-Hop header with a mutable option
	ah6Tunnel       = [3]string{"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f", "6101234500203a3f20010db800010000000000000000001020010db80002000000000000000000208000c157001d0001696b6573696d2049507636206b6e6f776e20616e73776572", "610000000068334020010db800ff0000000000000000000120010db800ff0000000000000000000229060000c0ffee02000000016174fc2e5f8f1d21c44c16d975b4b45f000000006101234500203a3f20010db800010000000000000000001020010db80002000000000000000000208000c157001d0001696b6573696d2049507636206b6e6f776e20616e73776572"}                                                                     // HMAC-SHA2-256-128
	esp6Tunnel      = [4]string{"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f", "101112131415161718191a1b1c1d1e1f", "6101234500203a3f20010db800010000000000000000001020010db80002000000000000000000208000c157001d0001696b6573696d2049507636206b6e6f776e20616e73776572", "610000000078324020010db800ff0000000000000000000120010db800ff00000000000000000002c0ffee0200000001a0a1a2a3a4a5a6a7a8a9aaabacadaeafabea9082f83a42e515b9428f5ca728d65c2b6732d4c05d361369914fc09724194331e4864ede3c83d5c667d1ac17968b04f785f4cfad71cddd270adddc1f035e84d7f993e6f9f04c1cf98307a117e7d57834485336bdc53d909f3e13431b9d10"} // AES-CBC-128, HMAC-SHA2-256-128: integrity key, encryption key, inner, outer
	esp4in6Tunnel   = [4]string{"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f", "101112131415161718191a1b1c1d1e1f", "45000034010100003f0166ba0a0100050a02000708009557001d0001696b6573696d2049507636206b6e6f776e20616e73776572", "600000000068324020010db800ff0000000000000000000120010db800ff00000000000000000002c0ffee0200000001a0a1a2a3a4a5a6a7a8a9aaabacadaeaf03316d40b1e27c2f8df6ac57dcfd051bc96c6b83b470dfab166b3e80072ad08c3cef251ebe9551b48b337e40863c6595f86a7211f41b7d2f25cdebd5807e6622bb94f84ff2ba9fe9b808696c03a20545"}
)

func TestIPv6KnownAnswers(t *testing.T) {
	want := unhex(t, echo6)
	m := ICMP{Type: ICMPv6EchoRequest, ID: 0x1d, Seq: 1, Data: []byte("ikesim IPv6 known answer")}
	p := IPv4{Version: 6, TOS: 0x10, FlowLabel: 0x12345, TTL: 63, Protocol: ProtoICMPv6, Src: h6A, Dst: h6B, Payload: m.AppendV6(nil, h6A, h6B)}
	got, err := p.Marshal()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("echo request = %x (%v)\nwant %x", got, err, want)
	}
	back, err := ParseIP(want)
	if err != nil || !back.Is6() || back.Src != h6A || back.Dst != h6B || back.Protocol != ProtoICMPv6 || back.TTL != 63 ||
		back.TOS != 0x10 || back.FlowLabel != 0x12345 || back.HeaderLen() != 40 {
		t.Fatalf("ParseIP = %+v, %v", back, err)
	}
	if _, err := ParseICMPv6(back.Payload, h6A, h6B); err != nil {
		t.Errorf("ICMPv6 checksum: %v", err)
	}
	if _, err := ParseICMPv6(back.Payload, g6A, h6B); err == nil {
		t.Error("ICMPv6 checksum ignores the pseudo-header")
	}
	reply, err := EchoReply(want, 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseIP(reply)
	if err != nil || r.Src != h6B || r.Dst != h6A || r.Payload[0] != ICMPv6EchoReply {
		t.Fatalf("reply %+v, %v", r, err)
	}
	if _, err := ParseICMPv6(r.Payload, h6B, h6A); err != nil {
		t.Errorf("reply checksum: %v", err)
	}
	if f, err := FlowOf(want); err != nil || f.Src != h6A || f.Proto != ProtoICMPv6 {
		t.Errorf("FlowOf = %v, %v", f, err)
	}
}

func TestAHIPv6KnownAnswers(t *testing.T) {
	for _, c := range []struct {
		name  string
		v     [3]string
		integ uint16
		mode  Mode
	}{
		{"transport", ah6Transport, ike.AUTH_HMAC_SHA1_96, Transport},
		{"transport, Hop-by-Hop", ah6TransportHBH, ike.AUTH_HMAC_SHA2_256_128, Transport},
		{"tunnel", ah6Tunnel, ike.AUTH_HMAC_SHA2_256_128, Tunnel},
	} {
		inner, want := unhex(t, c.v[1]), unhex(t, c.v[2])
		mk := func() *SA {
			sa := &SA{Protocol: ProtoAH, SPI: 0xc0ffee02, Src: g6A, Dst: g6B, Integ: ike.Integ(c.integ), IntegKey: unhex(t, c.v[0]), Mode: c.mode}
			if c.mode == Transport {
				sa.Src, sa.Dst = h6A, h6B
			}
			return sa
		}
		got, err := mk().Protect(inner)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: Protect = %x (%v)\nwant %x", c.name, got, err, want)
		}
		sad := &SAD{}
		if err := sad.AddInbound(mk()); err != nil {
			t.Fatal(err)
		}
		// A router changes the Hop Limit, Traffic Class and Flow Label, and a mutable
		// option's data: AH does not cover them (RFC 4302, Section 3.3.3.1.2).
		moved := bytes.Clone(want)
		moved[7]--
		binary.BigEndian.PutUint32(moved, 6<<28|0xb8<<20|0xfffff)
		if c.name == "transport, Hop-by-Hop" {
			moved[40+4] ^= 0xff // the data of option 0x3E
		}
		back, _, err := sad.Unprotect(moved)
		if err != nil {
			t.Fatalf("%s: Unprotect: %v", c.name, err)
		}
		if c.mode == Tunnel && !bytes.Equal(back, inner) {
			t.Errorf("%s: Unprotect = %x\nwant %x", c.name, back, inner)
		}
		// In transport mode the header comes back as the router left it; the ICMPv6
		// message is the sender's.
		msg := 8 + len("ikesim IPv6 known answer")
		if c.mode == Transport && (len(back) != len(inner) || !bytes.Equal(back[len(back)-msg:], inner[len(inner)-msg:])) {
			t.Errorf("%s: Unprotect = %x\nwant %x", c.name, back, inner)
		}
		bad := bytes.Clone(want)
		bad[8+15] ^= 1 // the source address
		if _, _, err := sad.Unprotect(bad); err == nil {
			t.Errorf("%s: a changed source address went unnoticed", c.name)
		}
	}
}

// TestESPIPv6KnownAnswers opens ESP packets in IPv6 that Scapy sealed (AES-CBC with a
// fixed IV), carrying IPv6 and IPv4, and seals and opens its own.
func TestESPIPv6KnownAnswers(t *testing.T) {
	for _, v := range [][4]string{esp6Tunnel, esp4in6Tunnel} {
		inner, outer := unhex(t, v[2]), unhex(t, v[3])
		mk := func() *SA {
			return &SA{SPI: 0xc0ffee02, Src: g6A, Dst: g6B, Encr: aesCBC, EncrKeyBits: 128, EncrKey: unhex(t, v[1]),
				Integ: sha256I, IntegKey: unhex(t, v[0]), Mode: Tunnel, Rand: seeded(1)}
		}
		sad := &SAD{}
		if err := sad.AddInbound(mk()); err != nil {
			t.Fatal(err)
		}
		got, _, err := sad.Unprotect(outer)
		if err != nil || !bytes.Equal(got, inner) {
			t.Fatalf("Unprotect = %x (%v)\nwant %x", got, err, inner)
		}
		mine, err := mk().Protect(inner)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mine[:40], outer[:40]) {
			t.Errorf("outer header %x, want %x", mine[:40], outer[:40])
		}
		other := &SAD{}
		if err := other.AddInbound(mk()); err != nil {
			t.Fatal(err)
		}
		if got, _, err := other.Unprotect(mine); err != nil || !bytes.Equal(got, inner) {
			t.Errorf("round trip: %v", err)
		}
		if s := fieldText(sad.Dissect(outer)); !bytes.Contains([]byte(s), []byte("ICMP")) || !bytes.Contains([]byte(s), []byte("IPv6")) {
			t.Errorf("dissection:\n%s", s)
		}
	}
}

// TestESPInUDPOverIPv6: ESP in UDP between IPv6 addresses carries a real UDP checksum
// (RFC 8200, Section 8.1 forbids zero), which the receiver checks.
func TestESPInUDPOverIPv6(t *testing.T) {
	mk := func() *SA {
		return &SA{SPI: 0xc0ffee04, Src: g6A, Dst: g6B, Encr: gcm16, EncrKeyBits: 128, EncrKey: make([]byte, 20),
			Mode: Tunnel, Encap: &UDPEncap{SrcPort: PortNATT, DstPort: PortNATT}}
	}
	ping, err := NewEchoRequest(h6A, h6B, 0, 1, 1, []byte("in UDP"))
	if err != nil {
		t.Fatal(err)
	}
	outer, err := mk().Protect(ping)
	if err != nil {
		t.Fatal(err)
	}
	ip, err := ParseIP(outer)
	if err != nil || ip.Protocol != ProtoUDP {
		t.Fatalf("outer %+v, %v", ip, err)
	}
	if u, err := ParseUDP(ip.Payload, g6A, g6B); err != nil || u.Checksum == 0 {
		t.Fatalf("UDP checksum 0x%04x, %v", u.Checksum, err)
	}
	sad := &SAD{}
	if err := sad.AddInbound(mk()); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(outer)
	bad[40+6] ^= 1
	if _, _, err := sad.Unprotect(bad); !errors.Is(err, DropChecksum) {
		t.Errorf("a wrong UDP checksum: %v", err)
	}
	if got, _, err := sad.Unprotect(outer); err != nil || !bytes.Equal(got, ping) {
		t.Errorf("Unprotect: %v", err)
	}
}
