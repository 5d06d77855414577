package ipsec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sync"
	"testing"

	"github.com/ikesim/ikesim/ike"
)

// allConfigs is every encryption algorithm of the registry at every key size, each
// non-AEAD one with every integrity algorithm and with none (except ENCR_NULL, which
// needs one).
func allConfigs() []saConfig {
	var cs []saConfig
	for _, e := range ike.EncrAlgs() {
		bits := e.KeyBits
		if len(bits) == 0 {
			bits = []int{0}
		}
		integs := []*ike.IntegAlg{nil}
		if !e.AEAD() {
			integs = append(integs, ike.IntegAlgs()...)
			if e.ID == ike.ENCR_NULL {
				integs = integs[1:]
			}
		}
		for _, b := range bits {
			for _, i := range integs {
				cs = append(cs, saConfig{encr: e, keyBits: b, integ: i})
			}
		}
	}
	return cs
}

func (c saConfig) String() string {
	s := fmt.Sprintf("%s/%d", c.encr.Name, c.keyBits)
	if c.integ != nil {
		s += "+" + c.integ.Name
	}
	s += "/" + c.mode.String()
	if c.encap {
		s += "/udp"
	}
	if c.esn {
		s += "/esn"
	}
	return s
}

// variants is c in both modes, with and without UDP encapsulation and ESN.
func (c saConfig) variants() []saConfig {
	var vs []saConfig
	for _, mode := range []Mode{Tunnel, Transport} {
		for _, encap := range []bool{false, true} {
			for _, esn := range []bool{false, true} {
				c.mode, c.encap, c.esn = mode, encap, esn
				vs = append(vs, c)
			}
		}
	}
	return vs
}

// TestRoundTripAllAlgorithms protects packets of several sizes with every algorithm of
// the registry, in tunnel and transport mode, with and without UDP encapsulation and ESN,
// and checks the outer packet's layout and that the peer gets the packet back.
func TestRoundTripAllAlgorithms(t *testing.T) {
	for _, base := range allConfigs() {
		for _, c := range base.variants() {
			t.Run(c.String(), func(t *testing.T) {
				out, in, sad := newPair(t, c)
				for i, n := range []int{0, 1, 13, 56, 1372} {
					inner := ping(t, uint16(i), n)
					outer, err := out.Protect(inner)
					if err != nil {
						t.Fatal(err)
					}
					checkOuter(t, c, out, inner, outer)
					got, sa, err := sad.Unprotect(outer)
					if err != nil {
						t.Fatalf("packet %d: %v", i, err)
					}
					if sa != in || !bytes.Equal(got, inner) {
						t.Fatalf("packet %d: got\n%x\nwant\n%x", i, got, inner)
					}
				}
				if st := in.Stats(); st.Packets != 5 || st.Seq != 5 {
					t.Errorf("inbound stats %+v", st)
				}
				if st := out.Stats(); st.Packets != 5 || st.Seq != 5 {
					t.Errorf("outbound stats %+v", st)
				}
			})
		}
	}
}

// checkOuter checks the outer packet of inner protected by sa: addresses, protocol, the
// UDP header, the SPI and sequence number, and the alignment of RFC 4303, Section 2.4.
func checkOuter(t *testing.T, c saConfig, sa *SA, inner, outer []byte) {
	t.Helper()
	ip, err := ParseIPv4(outer)
	if err != nil {
		t.Fatalf("outer packet: %v", err)
	}
	in, _ := ParseIPv4(inner)
	if ip.Src != sa.Src || ip.Dst != sa.Dst {
		t.Errorf("outer %v -> %v, want %v -> %v", ip.Src, ip.Dst, sa.Src, sa.Dst)
	}
	if c.mode == Transport && (ip.ID != in.ID || ip.TTL != in.TTL) {
		t.Errorf("transport mode changed the header: ID %d TTL %d", ip.ID, ip.TTL)
	}
	esp := ip.Payload
	if c.encap {
		if ip.Protocol != ProtoUDP {
			t.Fatalf("protocol %d, want UDP", ip.Protocol)
		}
		u, err := ParseUDP(esp, ip.Src, ip.Dst)
		if err != nil || u.SrcPort != PortNATT || u.DstPort != PortNATT || u.Checksum != 0 {
			t.Fatalf("UDP header %+v: %v", u, err)
		}
		esp = u.Payload
	} else if ip.Protocol != ProtoESP {
		t.Fatalf("protocol %d, want ESP", ip.Protocol)
	}
	if spi := binary.BigEndian.Uint32(esp); spi != sa.SPI {
		t.Errorf("SPI 0x%x", spi)
	}
	if seq := binary.BigEndian.Uint32(esp[4:]); uint64(seq) != sa.Stats().Seq {
		t.Errorf("sequence number %d, SA sent %d", seq, sa.Stats().Seq)
	}
	encrypted := len(esp) - espHeaderLen - sa.ivSize - sa.icvSize
	if encrypted%4 != 0 || encrypted%max(c.encr.BlockSize, 1) != 0 {
		t.Errorf("%d encrypted bytes break the alignment", encrypted)
	}
}

// TestTamper flips every bit of an ESP packet in turn (bit i mod 8 of byte i, and the
// lowest bit of every byte) and expects Unprotect to refuse each copy, without panic,
// and the untouched packet to pass afterwards.
func TestTamper(t *testing.T) {
	configs := []saConfig{
		{encr: gcm16, keyBits: 256, mode: Tunnel},
		{encr: ike.Encr(ike.ENCR_AES_GCM_8), keyBits: 128, mode: Transport, esn: true},
		{encr: ike.Encr(ike.ENCR_CHACHA20_POLY1305), keyBits: 256, mode: Tunnel, encap: true},
		{encr: aesCBC, keyBits: 128, integ: sha256I, mode: Tunnel, esn: true},
		{encr: aesCBC, keyBits: 256, integ: ike.Integ(ike.AUTH_AES_XCBC_96), mode: Transport, encap: true},
		{encr: ike.Encr(ike.ENCR_NULL), integ: ike.Integ(ike.AUTH_HMAC_SHA1_96), mode: Tunnel},
	}
	for _, c := range configs {
		t.Run(c.String(), func(t *testing.T) {
			out, _, sad := newPair(t, c)
			outer, err := out.Protect(ping(t, 1, 40))
			if err != nil {
				t.Fatal(err)
			}
			espStart := ipv4HeaderLen
			if c.encap {
				espStart += udpHeaderLen
			}
			for i := espStart; i < len(outer); i++ {
				for _, bit := range []uint{uint(i % 8), 0} {
					bad := bytes.Clone(outer)
					bad[i] ^= 1 << bit
					_, _, err := sad.Unprotect(bad)
					var de *DropError
					switch {
					case !errors.As(err, &de):
						t.Fatalf("byte %d bit %d: got %v, want a *DropError", i, bit, err)
					case i < espStart+4 && de.Reason != DropUnknownSPI:
						t.Errorf("byte %d (SPI): %v", i, err)
					case i < espStart+8 && de.Reason == DropReplay:
						// a flipped sequence number may become 0
					case i >= espStart+4 && de.Reason != DropICV:
						t.Errorf("byte %d: %v, want ICV mismatch", i, err)
					}
				}
			}
			if _, _, err := sad.Unprotect(outer); err != nil {
				t.Fatalf("the original after tampering: %v", err)
			}
		})
	}
}

// TestUnprotectRefuses feeds Unprotect packets it must refuse and checks the reason.
func TestUnprotectRefuses(t *testing.T) {
	tunnel := saConfig{encr: gcm16, keyBits: 128, mode: Tunnel}
	encap := saConfig{encr: gcm16, keyBits: 128, mode: Tunnel, encap: true}
	nullSHA := saConfig{encr: ike.Encr(ike.ENCR_NULL), integ: sha256I, mode: Tunnel}

	// espPacket wraps an ESP packet that sa seals around payload in an IPv4 header.
	espPacket := func(t *testing.T, sa *SA, seq uint64, payload []byte, nh uint8, edit func(body []byte)) []byte {
		n, _ := sa.espLen(len(payload))
		esp := make([]byte, n)
		if err := sa.seal(esp, seq, payload, nh, nil); err != nil {
			t.Fatal(err)
		}
		if edit != nil { // ENCR_NULL: edit the clear body, then recompute the ICV
			edit(esp[espHeaderLen : len(esp)-sa.icvSize])
			copy(esp[len(esp)-sa.icvSize:], sa.computeICV(esp[:len(esp)-sa.icvSize], seq))
		}
		h := IPv4{TTL: 64, Protocol: ProtoESP, Src: sa.Src, Dst: sa.Dst, Payload: esp}
		b, err := h.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	udpPacket := func(t *testing.T, payload []byte) []byte {
		b, err := NewUDPPacket(netip.AddrPortFrom(gwA, PortNATT), netip.AddrPortFrom(gwB, PortNATT), 1, payload)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	tests := []struct {
		name   string
		config saConfig
		packet func(t *testing.T, out *SA) []byte
		want   DropReason
	}{
		{"non-ESP marker: IKE", encap, func(t *testing.T, out *SA) []byte {
			return udpPacket(t, append([]byte{0, 0, 0, 0}, bytes.Repeat([]byte{0xab}, 28)...))
		}, DropIKE},
		{"NAT-keepalive", encap, func(t *testing.T, out *SA) []byte { return udpPacket(t, []byte{0xff}) }, DropKeepalive},
		{"UDP not on port 4500", encap, func(t *testing.T, out *SA) []byte {
			b, _ := NewUDPPacket(netip.AddrPortFrom(gwA, PortIKE), netip.AddrPortFrom(gwB, PortIKE), 1, make([]byte, 40))
			return b
		}, DropNotESP},
		{"short ESP in UDP", encap, func(t *testing.T, out *SA) []byte { return udpPacket(t, []byte{1, 2, 3, 4, 5}) }, DropTruncated},
		{"unknown SPI", tunnel, func(t *testing.T, out *SA) []byte {
			b, _ := out.Protect(ping(t, 1, 8))
			b[ipv4HeaderLen+3] ^= 0x55
			return b
		}, DropUnknownSPI},
		{"plain ESP for a UDP SA", encap, func(t *testing.T, out *SA) []byte {
			return espPacket(t, out, 1, ping(t, 1, 8), ProtoIPIP, nil)
		}, DropEncapMismatch},
		{"UDP ESP for a plain SA", tunnel, func(t *testing.T, out *SA) []byte {
			b, _ := out.Protect(ping(t, 1, 8))
			ip, _ := ParseIPv4(b)
			return udpPacket(t, ip.Payload)
		}, DropEncapMismatch},
		{"sequence number 0", tunnel, func(t *testing.T, out *SA) []byte {
			return espPacket(t, out, 0, ping(t, 1, 8), ProtoIPIP, nil)
		}, DropReplay},
		{"truncated ICV", tunnel, func(t *testing.T, out *SA) []byte {
			b, _ := out.Protect(ping(t, 1, 8))
			b = b[:ipv4HeaderLen+espHeaderLen+10]
			fixIPv4Header(b, ipv4HeaderLen, len(b), ProtoESP)
			return b
		}, DropTruncated},
		{"bad padding", nullSHA, func(t *testing.T, out *SA) []byte {
			return espPacket(t, out, 1, ping(t, 1, 9), ProtoIPIP, func(body []byte) { body[len(body)-3] = 7 })
		}, DropBadPadding},
		{"Pad Length beyond the payload", nullSHA, func(t *testing.T, out *SA) []byte {
			return espPacket(t, out, 1, ping(t, 1, 9), ProtoIPIP, func(body []byte) { body[len(body)-2] = 250 })
		}, DropBadPadding},
		{"transport payload on a tunnel SA", tunnel, func(t *testing.T, out *SA) []byte {
			return espPacket(t, out, 1, make([]byte, 16), ProtoICMP, nil)
		}, DropBadNextHeader},
		{"dummy packet", tunnel, func(t *testing.T, out *SA) []byte {
			return espPacket(t, out, 1, make([]byte, 16), ProtoNone, nil)
		}, DropDummy},
		{"inner packet is not IPv4", tunnel, func(t *testing.T, out *SA) []byte {
			return espPacket(t, out, 1, make([]byte, 24), ProtoIPIP, nil)
		}, DropMalformed},
		{"fragment", tunnel, func(t *testing.T, out *SA) []byte {
			b, _ := out.Protect(ping(t, 1, 8))
			b[6] |= 0x20 // MF
			fixIPv4Header(b, ipv4HeaderLen, len(b), ProtoESP)
			return b
		}, DropFragment},
		{"bad IP header checksum", tunnel, func(t *testing.T, out *SA) []byte {
			b, _ := out.Protect(ping(t, 1, 8))
			b[11] ^= 1
			return b
		}, DropChecksum},
		{"TCP, not ESP", tunnel, func(t *testing.T, out *SA) []byte {
			h := IPv4{TTL: 64, Protocol: ProtoTCP, Src: gwA, Dst: gwB, Payload: make([]byte, 20)}
			b, _ := h.Marshal()
			return b
		}, DropNotESP},
		{"short IPv4", tunnel, func(t *testing.T, out *SA) []byte { return []byte{0x45, 0} }, DropTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, sad := newPair(t, tt.config)
			_, _, err := sad.Unprotect(tt.packet(t, out))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var de *DropError
			if !errors.As(err, &de) || de.Error() == "" {
				t.Fatalf("%v is not a *DropError", err)
			}
		})
	}
}

// TestReplayAndReorder sends packets out of order through an SA with a 64-packet window:
// late packets inside the window pass once, repeats and packets older than the window are
// refused and counted.
func TestReplayAndReorder(t *testing.T) {
	out, in, sad := newPair(t, saConfig{encr: gcm16, keyBits: 128, mode: Tunnel})
	in.WindowSize = 64
	in.ready = false // pick up the new window size
	var sent [][]byte
	for i := range 100 {
		b, err := out.Protect(ping(t, uint16(i), 8))
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, b)
	}
	steps := []struct {
		seq  int // 1-based
		want error
	}{
		{5, nil}, {3, nil}, {3, DropReplay}, {100, nil}, {37, nil}, {36, DropReplay},
		{99, nil}, {100, DropReplay}, {1, DropReplay},
	}
	for _, s := range steps {
		_, _, err := sad.Unprotect(sent[s.seq-1])
		if (s.want == nil) != (err == nil) || (s.want != nil && !errors.Is(err, s.want)) {
			t.Errorf("seq %d: got %v, want %v", s.seq, err, s.want)
		}
	}
	st := in.Stats()
	if st.Packets != 5 || st.ReplayDrops != 4 || st.Seq != 100 {
		t.Errorf("stats %+v", st)
	}
}

// TestSequenceNumbers checks the end of the sequence number space: without ESN the SA
// refuses to send past 2^32-1 (RFC 4303, Section 3.3.3); with ESN it goes on past 2^32 and
// the receiver infers the high bits.
func TestSequenceNumbers(t *testing.T) {
	out, _, _ := newPair(t, saConfig{encr: gcm16, keyBits: 128, mode: Tunnel})
	out.seq = math.MaxUint32 - 1
	if _, err := out.Protect(ping(t, 1, 8)); err != nil {
		t.Fatal(err)
	}
	if _, err := out.Protect(ping(t, 1, 8)); !errors.Is(err, DropSeqOverflow) {
		t.Fatalf("past 2^32-1 without ESN: %v", err)
	}

	for _, c := range []saConfig{
		{encr: gcm16, keyBits: 128, mode: Tunnel, esn: true},
		{encr: aesCBC, keyBits: 128, integ: sha256I, mode: Transport, esn: true},
	} {
		out, in, sad := newPair(t, c)
		out.seq = 1<<32 - 3
		in.replay.Update(1<<32 - 3)
		for i := range 5 {
			b, err := out.Protect(ping(t, uint16(i), 8))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := sad.Unprotect(b); err != nil {
				t.Fatalf("%v packet %d: %v", c, i, err)
			}
		}
		if got := in.Stats().Seq; got != 1<<32+2 {
			t.Errorf("%v: receiver at %d, want 2^32+2", c, got)
		}
	}
}

// TestTransportUDPEncap checks transport mode behind a NAT: the rebuilt packet carries
// the outer addresses and a zero UDP checksum (RFC 3948, Section 3.1.2).
func TestTransportUDPEncap(t *testing.T) {
	out, _, sad := newPair(t, saConfig{encr: gcm16, keyBits: 128, mode: Transport, encap: true})
	inner, err := NewUDPPacket(netip.AddrPortFrom(hostA, 1234), netip.AddrPortFrom(hostB, 53), 9, []byte("query"))
	if err != nil {
		t.Fatal(err)
	}
	outer, err := out.Protect(inner)
	if err != nil {
		t.Fatal(err)
	}
	// A NAT rewrites the source address on the way.
	nat := netip.MustParseAddr("192.0.2.99")
	a := nat.As4()
	copy(outer[12:16], a[:])
	fixIPv4Header(outer, ipv4HeaderLen, len(outer), ProtoUDP)
	got, _, err := sad.Unprotect(outer)
	if err != nil {
		t.Fatal(err)
	}
	ip, err := ParseIPv4(got)
	if err != nil || ip.Src != nat || ip.Protocol != ProtoUDP {
		t.Fatalf("rebuilt packet %+v: %v", ip, err)
	}
	u, err := ParseUDP(ip.Payload, ip.Src, ip.Dst)
	if err != nil || u.Checksum != 0 || string(u.Payload) != "query" || u.DstPort != 53 {
		t.Fatalf("inner UDP %+v: %v", u, err)
	}
}

// TestProtectOptions checks the outer header of tunnel mode (TTL, ID, TOS and DF copied)
// and that AppendProtect and AppendUnprotect keep what dst held.
func TestProtectOptions(t *testing.T) {
	out, _, sad := newPair(t, saConfig{encr: gcm16, keyBits: 128, mode: Tunnel})
	out.TTL = 17
	out.NextID = func() uint16 { return 0xbeef }
	inner := ping(t, 1, 8)
	inner[1] = 0xb8 // DSCP EF
	inner[6] |= 0x40
	fixIPv4Header(inner, ipv4HeaderLen, len(inner), ProtoICMP)
	b, err := out.AppendProtect([]byte("head"), inner)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:4]) != "head" {
		t.Fatalf("AppendProtect lost dst: %q", b[:4])
	}
	ip, err := ParseIPv4(b[4:])
	if err != nil || ip.TTL != 17 || ip.ID != 0xbeef || ip.TOS != 0xb8 || ip.Flags != FlagDF {
		t.Fatalf("outer header %+v: %v", ip, err)
	}
	got, _, err := sad.AppendUnprotect([]byte("pre"), b[4:])
	if err != nil || string(got[:3]) != "pre" || !bytes.Equal(got[3:], inner) {
		t.Fatalf("AppendUnprotect: %q, %v", got, err)
	}
}

// TestSAConfigErrors checks that misconfigured SAs are refused before use.
func TestSAConfigErrors(t *testing.T) {
	good := func() *SA {
		return &SA{SPI: 0x1000, Src: gwA, Dst: gwB, Mode: Tunnel, Encr: aesCBC, EncrKeyBits: 128,
			EncrKey: make([]byte, 16), Integ: sha256I, IntegKey: make([]byte, 32), Rand: seeded(1)}
	}
	tests := []struct {
		name string
		edit func(*SA)
	}{
		{"no cipher", func(sa *SA) { sa.Encr = nil }},
		{"no mode", func(sa *SA) { sa.Mode = 0 }},
		{"IPv6 address", func(sa *SA) { sa.Dst = netip.MustParseAddr("2001:db8::1") }},
		{"short key", func(sa *SA) { sa.EncrKey = make([]byte, 15) }},
		{"unknown key size", func(sa *SA) { sa.EncrKeyBits = 100 }},
		{"integrity with AEAD", func(sa *SA) {
			sa.Encr, sa.EncrKey = gcm16, make([]byte, 20)
		}},
		{"NULL without integrity", func(sa *SA) {
			sa.Encr, sa.EncrKeyBits, sa.EncrKey, sa.Integ = ike.Encr(ike.ENCR_NULL), 0, nil, nil
		}},
		{"short integrity key", func(sa *SA) { sa.IntegKey = make([]byte, 31) }},
		{"CBC without Rand", func(sa *SA) { sa.Rand = nil }},
	}
	if err := good().Init(); err != nil {
		t.Fatalf("the good SA: %v", err)
	}
	for _, tt := range tests {
		sa := good()
		tt.edit(sa)
		err := sa.Init()
		if !errors.Is(err, DropConfig) {
			t.Errorf("%s: got %v", tt.name, err)
		}
		if _, err := sa.Protect(ping(t, 1, 8)); err == nil {
			t.Errorf("%s: Protect worked", tt.name)
		}
	}
}

// TestSAD checks installing, finding and deleting SAs, and rekeying an outbound SA.
func TestSAD(t *testing.T) {
	var d SAD
	mk := func(spi, reqid uint32) *SA {
		return &SA{SPI: spi, Reqid: reqid, Src: gwA, Dst: gwB, Mode: Tunnel, Encr: gcm16, EncrKey: make([]byte, 20)}
	}
	if err := d.AddInbound(mk(0x10, 1)); err == nil {
		t.Error("reserved SPI 0x10 accepted")
	}
	if err := d.AddInbound(mk(0x1000, 1)); err != nil {
		t.Fatal(err)
	}
	if err := d.AddInbound(mk(0x1000, 2)); err == nil {
		t.Error("duplicate inbound SPI accepted")
	}
	old, rekeyed := mk(0x2000, 7), mk(0x3000, 7)
	for _, sa := range []*SA{old, rekeyed, mk(0x4000, 8)} {
		if err := d.AddOutbound(sa); err != nil {
			t.Fatal(err)
		}
	}
	if d.Outbound(7) != rekeyed || d.Outbound(9) != nil || d.Inbound(0x1000) == nil {
		t.Error("lookup")
	}
	if _, sa, err := d.Protect(8, ping(t, 1, 8)); err != nil || sa.SPI != 0x4000 {
		t.Errorf("Protect with reqid 8: %v, %v", sa, err)
	}
	if _, _, err := d.Protect(9, ping(t, 1, 8)); !errors.Is(err, DropNoSA) {
		t.Errorf("Protect with no SA: %v", err)
	}
	if d.DeleteOutbound(0x3000) != rekeyed || d.Outbound(7) != old {
		t.Error("deleting the new outbound SA should fall back to the old one")
	}
	if d.DeleteInbound(0x1000) == nil || d.Inbound(0x1000) != nil || d.DeleteInbound(0x1000) != nil {
		t.Error("DeleteInbound")
	}
	in, out := d.SAs()
	if len(in) != 0 || len(out) != 2 {
		t.Errorf("SAs: %d in, %d out", len(in), len(out))
	}
	if s := old.String(); s == "" || !bytes.Contains([]byte(s), []byte("0x00002000")) {
		t.Errorf("String: %q", s)
	}
}

// TestSplitKeymat checks the RFC 7296, Section 2.17 order: encryption key (with salt),
// then integrity key.
func TestSplitKeymat(t *testing.T) {
	keymat := make([]byte, 100)
	for i := range keymat {
		keymat[i] = byte(i)
	}
	tests := []struct {
		encr       *ike.EncrAlg
		bits       int
		integ      *ike.IntegAlg
		encr0, enc int
		integ0, in int
	}{
		{aesCBC, 128, sha256I, 0, 16, 16, 32},
		{aesCBC, 256, ike.Integ(ike.AUTH_HMAC_SHA1_96), 0, 32, 32, 20},
		{gcm16, 256, nil, 0, 36, 0, 0},
		{ike.Encr(ike.ENCR_NULL), 0, sha256I, 0, 0, 0, 32},
	}
	for _, tt := range tests {
		ek, ik := SplitKeymat(keymat, tt.encr, tt.bits, tt.integ)
		if !bytes.Equal(ek, keymat[tt.encr0:tt.enc]) || !bytes.Equal(ik, keymat[tt.integ0:tt.integ0+tt.in]) {
			t.Errorf("%s/%d: encr %x integ %x", tt.encr.Name, tt.bits, ek, ik)
		}
		if n := KeymatLen(tt.encr, tt.bits, tt.integ); n != tt.enc+tt.in {
			t.Errorf("%s: KeymatLen %d", tt.encr.Name, n)
		}
		if ek, ik := SplitKeymat(keymat[:KeymatLen(tt.encr, tt.bits, tt.integ)-1], tt.encr, tt.bits, tt.integ); ek != nil || ik != nil {
			t.Errorf("%s: short keymat split", tt.encr.Name)
		}
	}
	ek, _ := SplitKeymat(keymat, aesCBC, 128, nil)
	ek[0] = 0xff
	if keymat[0] != 0 {
		t.Error("SplitKeymat aliases keymat")
	}
}

func TestNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{Tunnel.String(), "tunnel"}, {Mode(9).String(), "Mode(9)"},
		{In.String(), "in"}, {ActionDiscard.String(), "discard"}, {Action(0).String(), "Action(0)"},
		{DropICV.Error(), "ipsec: ICV mismatch"}, {DropReason(200).String(), "DropReason(200)"},
		{(&DropError{Reason: DropReplay, SPI: 0x1234, Seq: 7, Detail: "already received"}).Error(),
			"ipsec: replayed sequence number (SPI 0x00001234, seq 7): already received"},
		{ProtoName(ProtoESP), "ESP"}, {ProtoName(200), "200"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestConcurrentUse protects and unprotects on one SA pair from several goroutines (run
// it with -race): every packet gets its own sequence number and every one is accepted.
// The goroutines hand the packets over in any order, so the replay window must span them
// all.
func TestConcurrentUse(t *testing.T) {
	const workers, each = 4, 50
	out, in, sad := newPair(t, saConfig{encr: aesCBC, keyBits: 128, integ: sha256I, mode: Tunnel, window: 2 * workers * each})
	packets := make(chan []byte, workers*each)
	errs := make(chan error, 2*workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				b, err := out.Protect(ping(t, uint16(w*each+i), 20))
				if err != nil {
					errs <- err
					return
				}
				packets <- b
			}
		})
	}
	wg.Wait()
	close(packets)
	for range workers {
		wg.Go(func() {
			for b := range packets {
				if _, _, err := sad.Unprotect(b); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := in.Stats(); st.Packets != workers*each || st.Seq != workers*each {
		t.Errorf("inbound stats %+v", st)
	}
}
