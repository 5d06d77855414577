package ipsec

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
)

// Packets printed in RFC 3602, Section 4, Case #5 (before and after ESP): their header
// checksums are 0xf9fe and 0xf9a5, and the ICMP echo request's checksum is 0x0ebd.
const (
	rfc3602Case5Inner = `45000054 08f20000 4001f9fe c0a87b03 c0a87b64
		08000ebd a70a0000 8e9c083d b95b0700 08090a0b 0c0d0e0f 10111213 14151617
		18191a1b 1c1d1e1f 20212223 24252627 28292a2b 2c2d2e2f 30313233 34353637`
	rfc3602Case5OuterHeader = `4500007c 08f20000 4032f9a5 c0a87b03 c0a87b64`
)

// gcmTestUDP is the inner packet of the second AES-GCM case of draft-mcgrew-gcm-test-01,
// Section 4: a DNS query from 192.168.1.2 to 192.168.1.1 with UDP checksum 0x2343.
const gcmTestUDP = `4500003e698f000080114dccc0a80102 c0a801010a980035002a2343b2d00100
	00010000000000000373697009637962 65726369747902646b0000010001`

func TestIPv4KnownAnswers(t *testing.T) {
	tests := []struct {
		name string
		pkt  string
		want IPv4
	}{
		{"RFC 3602 case 5, original", rfc3602Case5Inner, IPv4{ID: 0x08f2, TTL: 64, Protocol: ProtoICMP, Checksum: 0xf9fe,
			Src: addr("192.168.123.3"), Dst: addr("192.168.123.100")}},
		{"RFC 3602 case 5, ESP header only", rfc3602Case5OuterHeader + strings.Repeat("00", 104), IPv4{ID: 0x08f2, TTL: 64, Protocol: ProtoESP,
			Checksum: 0xf9a5, Src: addr("192.168.123.3"), Dst: addr("192.168.123.100")}},
		{"draft-mcgrew-gcm-test UDP", gcmTestUDP, IPv4{ID: 0x698f, TTL: 128, Protocol: ProtoUDP, Checksum: 0x4dcc,
			Src: addr("192.168.1.2"), Dst: addr("192.168.1.1")}},
	}
	for _, tt := range tests {
		b := unhex(t, tt.pkt)
		p, err := ParseIPv4(b)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if p.ID != tt.want.ID || p.TTL != tt.want.TTL || p.Protocol != tt.want.Protocol || p.Checksum != tt.want.Checksum ||
			p.Src != tt.want.Src || p.Dst != tt.want.Dst || p.TOS != 0 || p.Flags != 0 || p.FragOff != 0 || len(p.Options) != 0 {
			t.Errorf("%s: got %+v", tt.name, p)
		}
		// Rebuilding the packet computes the same checksum.
		again, err := p.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Errorf("%s: Marshal gave\n%x\nwant\n%x (%v)", tt.name, again, b, err)
		}
	}
}

func TestParseIPv4Errors(t *testing.T) {
	good := unhex(t, rfc3602Case5Inner)
	edit := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	tests := []struct {
		name string
		pkt  []byte
		want DropReason
	}{
		{"empty", nil, DropTruncated},
		{"19 bytes", good[:19], DropTruncated},
		{"version 6", edit(func(b []byte) { b[0] = 0x65 }), DropMalformed},
		{"IHL 4", edit(func(b []byte) { b[0] = 0x44 }), DropMalformed},
		{"total length under the header", edit(func(b []byte) { b[2], b[3] = 0, 19 }), DropMalformed},
		{"total length beyond the bytes", good[:83], DropTruncated},
		{"bad checksum", edit(func(b []byte) { b[8] = 63 }), DropChecksum},
		{"IHL 15: the checksum now covers 60 bytes", edit(func(b []byte) { b[0] = 0x4f }), DropChecksum},
		{"IHL 15 beyond the Total Length", edit(func(b []byte) { b[0], b[2], b[3] = 0x4f, 0, 40 }), DropMalformed},
	}
	for _, tt := range tests {
		_, err := ParseIPv4(tt.pkt)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	// Link-layer padding after the Total Length is ignored.
	p, err := ParseIPv4(append(bytes.Clone(good), 0, 0, 0, 0))
	if err != nil || len(p.Payload) != 64 {
		t.Errorf("padded packet: %d bytes of payload, %v", len(p.Payload), err)
	}
}

func TestIPv4MarshalErrors(t *testing.T) {
	tests := []IPv4{
		{Src: netip.MustParseAddr("2001:db8::1"), Dst: hostB},
		{Src: hostA, Dst: hostB, Options: []byte{1, 2, 3}},
		{Src: hostA, Dst: hostB, Options: make([]byte, 44)},
		{Src: hostA, Dst: hostB, Payload: make([]byte, 65516)},
		{Src: hostA, Dst: hostB, FragOff: 0x2000},
	}
	for i, p := range tests {
		if _, err := p.Marshal(); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
	p := IPv4{Src: hostA, Dst: hostB, TTL: 1, Protocol: 99, Options: []byte{1, 1, 1, 0}, Payload: []byte("x")}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseIPv4(b)
	if err != nil || !bytes.Equal(q.Options, p.Options) || string(q.Payload) != "x" || q.HeaderLen() != 24 {
		t.Errorf("options round trip: %+v, %v", q, err)
	}
}

func TestICMP(t *testing.T) {
	pkt := unhex(t, rfc3602Case5Inner)
	m, err := ParseICMP(pkt[ipv4HeaderLen:])
	if err != nil || m.Type != ICMPEchoRequest || m.ID != 0xa70a || m.Seq != 0 || m.Checksum != 0x0ebd || len(m.Data) != 56 {
		t.Fatalf("RFC 3602 echo request: %+v, %v", m, err)
	}
	if again := m.Marshal(); !bytes.Equal(again, pkt[ipv4HeaderLen:]) {
		t.Errorf("Marshal: %x", again)
	}
	bad := bytes.Clone(pkt[ipv4HeaderLen:])
	bad[20] ^= 0xff
	if _, err := ParseICMP(bad); !errors.Is(err, DropChecksum) {
		t.Errorf("bad checksum: %v", err)
	}
	if _, err := ParseICMP(bad[:7]); !errors.Is(err, DropTruncated) {
		t.Errorf("short: %v", err)
	}
}

func TestEchoReply(t *testing.T) {
	req := unhex(t, rfc3602Case5Inner)
	rep, err := EchoReply(req, 0x1234)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseIPv4(rep)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseICMP(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if p.Src != addr("192.168.123.100") || p.Dst != addr("192.168.123.3") || p.ID != 0x1234 || p.TTL != 64 ||
		m.Type != ICMPEchoReply || m.ID != 0xa70a || !bytes.Equal(m.Data, req[28:]) {
		t.Errorf("reply %+v %+v", p, m)
	}
	if _, err := EchoReply(rep, 1); err == nil {
		t.Error("answered an echo reply")
	}
	udp, _ := NewUDPPacket(netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:2"), 1, nil)
	if _, err := EchoReply(udp, 1); err == nil {
		t.Error("answered a UDP packet")
	}
}

func TestUDP(t *testing.T) {
	pkt := unhex(t, gcmTestUDP)
	ip, _ := ParseIPv4(pkt)
	u, err := ParseUDP(ip.Payload, ip.Src, ip.Dst)
	if err != nil || u.SrcPort != 2712 || u.DstPort != 53 || u.Checksum != 0x2343 || len(u.Payload) != 34 {
		t.Fatalf("draft-mcgrew-gcm-test UDP: %+v, %v", u, err)
	}
	again, err := u.Append(nil, ip.Src, ip.Dst)
	if err != nil || !bytes.Equal(again, ip.Payload) {
		t.Errorf("Append: %x, %v", again, err)
	}
	if _, err := ParseUDP(ip.Payload, ip.Dst, ip.Src); err != nil {
		t.Errorf("swapped addresses give the same sum: %v", err)
	}
	if _, err := ParseUDP(ip.Payload, ip.Src, addr("192.168.1.3")); !errors.Is(err, DropChecksum) {
		t.Errorf("wrong pseudo-header: %v", err)
	}
	if _, err := ParseUDP(ip.Payload, netip.Addr{}, netip.Addr{}); err != nil {
		t.Errorf("unchecked: %v", err)
	}
	short := bytes.Clone(ip.Payload)
	short[5] = 7 // length 7
	if _, err := ParseUDP(short, netip.Addr{}, netip.Addr{}); !errors.Is(err, DropMalformed) {
		t.Errorf("length 7: %v", err)
	}
	if _, err := ParseUDP(ip.Payload[:20], ip.Src, ip.Dst); !errors.Is(err, DropTruncated) {
		t.Errorf("cut: %v", err)
	}
	// A datagram whose sum is 0xffff sends 0xffff rather than 0 (RFC 768).
	for i := range 1 << 16 {
		u := UDP{SrcPort: uint16(i), DstPort: 1}
		b, _ := u.Append(nil, hostA, hostB)
		if b[6] == 0 && b[7] == 0 {
			t.Fatal("a computed checksum of 0 was sent as 0")
		}
		if b[6] == 0xff && b[7] == 0xff {
			if _, err := ParseUDP(b, hostA, hostB); err != nil {
				t.Fatalf("checksum 0xffff does not verify: %v", err)
			}
			return
		}
	}
	t.Error("no source port gave the checksum 0xffff")
}

// checkOffsets walks a dissection and checks that every field lies inside its byte space:
// the packet, or the Plain bytes of the nearest field above it that has them.
func checkOffsets(t *testing.T, f *ike.Field, space int) {
	t.Helper()
	if f.Offset < 0 || f.Length < 0 || f.Offset+f.Length > space {
		t.Errorf("field %q [%d, +%d] lies outside its %d bytes", f.Name, f.Offset, f.Length, space)
	}
	inner := space
	if f.Plain != nil {
		inner = len(f.Plain)
	}
	for _, c := range f.Children {
		checkOffsets(t, c, inner)
	}
}

func TestDissectIPv4(t *testing.T) {
	pkt := unhex(t, rfc3602Case5Inner)
	f := DissectIPv4(pkt)
	checkOffsets(t, f, len(pkt))
	want := map[string]string{
		"Header Checksum": "0xf9fe (correct)",
		"Protocol":        "ICMP (1)",
		"Source Address":  "192.168.123.3",
		"Type":            "8 (Echo Request)",
		"Identifier":      "0xa70a",
		"Checksum":        "0x0ebd (correct)",
	}
	for name, v := range want {
		if g := f.Find(name); g == nil || g.Value != v {
			t.Errorf("%s: %+v, want %q", name, g, v)
		}
	}
	if g := f.Find("ICMP"); g == nil || g.Offset != 20 || g.Length != 64 {
		t.Errorf("ICMP field %+v", g)
	}
	bad := bytes.Clone(pkt)
	bad[30] ^= 1
	if g := DissectIPv4(bad).Find("Checksum"); g == nil || !strings.Contains(g.Value, "incorrect") {
		t.Errorf("bad ICMP checksum shows %+v", g)
	}
	if g := DissectIPv4(pkt[:10]); g.Error == "" {
		t.Error("truncated packet has no error")
	}

	udp := unhex(t, gcmTestUDP)
	f = DissectIPv4(udp)
	checkOffsets(t, f, len(udp))
	if g := f.Find("Destination Port"); g == nil || g.Value != "53" || g.Offset != 22 {
		t.Errorf("UDP port %+v", g)
	}
	if g := f.Find("UDP").Find("Checksum"); g == nil || g.Value != "0x2343 (correct)" {
		t.Errorf("UDP checksum %+v", g)
	}
}

// TestDissectNATT dissects what travels on UDP 4500 and 500: keepalives, IKE behind the
// non-ESP marker (through the IKE hook, with its offsets moved) and ESP.
func TestDissectNATT(t *testing.T) {
	udp := func(sport, dport uint16, payload []byte) []byte {
		b, err := NewUDPPacket(netip.AddrPortFrom(gwA, sport), netip.AddrPortFrom(gwB, dport), 1, payload)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ikeHook := func(msg []byte) *ike.Field {
		f := &ike.Field{Name: "IKEv2", Offset: 0, Length: len(msg)}
		f.Add("Initiator SPI", "", 0, 8)
		return f
	}
	d := Dissector{IKE: ikeHook}

	f := d.IPv4(udp(4500, 4500, []byte{0xff}))
	if f.Find("NAT-Keepalive") == nil {
		t.Error("keepalive not shown")
	}
	msg := append([]byte{0, 0, 0, 0}, bytes.Repeat([]byte{1}, 28)...)
	pkt := udp(4500, 4500, msg)
	f = d.IPv4(pkt)
	checkOffsets(t, f, len(pkt))
	if g := f.Find("Initiator SPI"); f.Find("Non-ESP Marker") == nil || g == nil || g.Offset != 32 {
		t.Errorf("IKE behind the marker: %+v", g)
	}
	pkt = udp(500, 500, msg[4:])
	if g := d.IPv4(pkt).Find("IKEv2"); g == nil || g.Offset != 28 {
		t.Errorf("IKE on port 500: %+v", g)
	}
	if g := DissectIPv4(pkt).Find("IKE Message"); g == nil || g.Length != 28 {
		t.Errorf("IKE without a hook: %+v", g)
	}
	if g := DissectIPv4(udp(4500, 4500, bytes.Repeat([]byte{7}, 40))).Find("SPI"); g == nil || g.Value != "0x07070707" {
		t.Errorf("ESP in UDP: %+v", g)
	}
}

// TestDissectESP opens ESP packets in the dissection with the SA, in every mode, and
// checks that dissecting changes no state.
func TestDissectESP(t *testing.T) {
	for _, c := range []saConfig{
		{encr: gcm16, keyBits: 128, mode: Tunnel, encap: true},
		{encr: aesCBC, keyBits: 256, integ: sha256I, mode: Transport, esn: true},
		{encr: ike.Encr(ike.ENCR_NULL), integ: sha256I, mode: Tunnel},
	} {
		t.Run(c.String(), func(t *testing.T) {
			out, in, sad := newPair(t, c)
			inner := ping(t, 9, 13)
			outer, err := out.Protect(inner)
			if err != nil {
				t.Fatal(err)
			}
			f := sad.Dissect(outer)
			checkOffsets(t, f, len(outer))
			enc := f.Find("Encrypted Data")
			if enc == nil || enc.Plain == nil || enc.Error != "" {
				t.Fatalf("not opened: %+v", enc)
			}
			if g := f.Find("ICV"); g == nil || !strings.HasSuffix(g.Value, "(verified)") {
				t.Errorf("ICV %+v", g)
			}
			wantNH := "IPv4 (4)"
			if c.mode == Transport {
				wantNH = "ICMP (1)"
			}
			if g := enc.Find("Next Header"); g == nil || g.Value != wantNH {
				t.Errorf("Next Header %+v", g)
			}
			if g := enc.Find("Sequence Number"); g == nil || g.Value != "9" {
				t.Errorf("inner echo sequence %+v", g)
			}
			if c.esn != (f.Find("Extended Sequence Number") != nil) {
				t.Error("Extended Sequence Number field")
			}
			if st := in.Stats(); st.Packets != 0 || st.Seq != 0 {
				t.Errorf("dissecting changed the SA: %+v", st)
			}
			// The sender's SAD opens what it sent, with its outbound SA.
			var sender SAD
			if err := sender.AddOutbound(out); err != nil {
				t.Fatal(err)
			}
			if g := sender.Dissect(outer).Find("Encrypted Data"); g == nil || g.Plain == nil {
				t.Errorf("sender cannot open its own packet: %+v", g)
			}
			// A corrupted packet shows why it does not open.
			bad := bytes.Clone(outer)
			bad[len(bad)-1] ^= 1
			if g := sad.Dissect(bad).Find("Encrypted Data"); g == nil || !strings.Contains(g.Error, "ICV") {
				t.Errorf("corrupted: %+v", g)
			}
			// Without keys the ESP header is all there is.
			if g := DissectIPv4(outer); g.Find("Encrypted Data").Plain != nil || g.Find("SPI").Value != "0xc0ffee01" {
				t.Error("dissected without keys")
			}
			if _, _, err := sad.Unprotect(outer); err != nil {
				t.Fatalf("after dissecting: %v", err)
			}
		})
	}
	// A sender past 2^32 dissects its own ESN packets with the right high bits.
	out, _, _ := newPair(t, saConfig{encr: gcm16, keyBits: 128, mode: Tunnel, esn: true})
	out.seq = 1<<32 + 4
	outer, err := out.Protect(ping(t, 1, 8))
	if err != nil {
		t.Fatal(err)
	}
	ip, _ := ParseIPv4(outer)
	if g := DissectESP(ip.Payload, out).Find("Extended Sequence Number"); g == nil || g.Value != "4294967301" {
		t.Errorf("sender's ESN: %+v", g)
	}
	if f := DissectESP([]byte{1, 2, 3}, nil); f.Error == "" {
		t.Error("short ESP has no error")
	}
}

func TestDissectParts(t *testing.T) {
	pkt := unhex(t, rfc3602Case5Inner)
	if f := DissectICMP(pkt[ipv4HeaderLen:]); f.Value != "Echo Request id=0xa70a seq=0" || f.Offset != 0 {
		t.Errorf("DissectICMP: %+v", f)
	}
	unreachable := (&ICMP{Type: ICMPDestUnreachable, Code: 3, Data: pkt[:28]}).Marshal()
	if f := DissectICMP(unreachable); f.Find("Rest of Header") == nil || f.Value != "Destination Unreachable" {
		t.Errorf("Destination Unreachable: %+v", f)
	}
	udp := unhex(t, gcmTestUDP)
	if f := DissectUDP(udp[ipv4HeaderLen:], netip.Addr{}, netip.Addr{}); f.Find("Checksum").Value != "0x2343" {
		t.Errorf("DissectUDP without addresses: %+v", f.Find("Checksum"))
	}
	tcp := IPv4{TTL: 64, Protocol: ProtoTCP, Src: hostA, Dst: hostB, Payload: []byte{0x30, 0x39, 0, 80, 0, 0, 0, 1}}
	b, _ := tcp.Marshal()
	if f := DissectIPv4(b).Find("TCP"); f == nil || f.Value != "12345 -> 80" {
		t.Errorf("TCP: %+v", f)
	}
	frag := IPv4{TTL: 64, Protocol: ProtoUDP, FragOff: 100, Flags: FlagMF, Src: hostA, Dst: hostB, Payload: make([]byte, 16)}
	b, _ = frag.Marshal()
	if f := DissectIPv4(b); f.Find("Fragment Data") == nil || f.Find("Flags").Value != "0x1 (More Fragments)" {
		t.Errorf("fragment: %+v", f)
	}
}
