package ipsec

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/ikesim/ikesim/ike"
)

// Run one target with, for example:
//
//	go test ./ipsec/ -run '^$' -fuzz FuzzUnprotect -fuzztime 20s

// fuzzSAD is a receiver with inbound SAs of several kinds (plain ESP, UDP-encapsulated,
// transport mode with ESN and CBC, AH in both modes) and outbound SAs that seal valid seeds for them.
func fuzzSAD(f *testing.F) (*SAD, [][]byte) {
	configs := []saConfig{
		{encr: gcm16, keyBits: 128, mode: Tunnel},
		{encr: ike.Encr(ike.ENCR_CHACHA20_POLY1305), keyBits: 256, mode: Tunnel, encap: true},
		{encr: aesCBC, keyBits: 128, integ: sha256I, mode: Transport, esn: true},
		{encr: ike.Encr(ike.ENCR_NULL), integ: ike.Integ(ike.AUTH_HMAC_SHA1_96), mode: Tunnel},
	}
	sad := &SAD{}
	var seeds [][]byte
	for i, c := range configs {
		out, in, _ := newPair(f, c)
		out.SPI, in.SPI = 0x1000+uint32(i), 0x1000+uint32(i)
		in.WindowSize = -1 // replayed seeds still reach the ICV check
		if i%2 == 0 {
			// The seeds' pings go from hostA to hostB: inside these selectors.
			in.Selectors = []Selector{SelectorOf(ike.TSFromPrefix(netip.PrefixFrom(hostA, 32)), ike.TSFromPrefix(netip.PrefixFrom(hostB, 32)))}
		}
		if err := sad.AddInbound(in); err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, sealSeeds(f, out)...)
	}
	// AH in tunnel mode, and in transport mode with ESN.
	for i, c := range []struct {
		integ uint16
		mode  Mode
	}{{ike.AUTH_HMAC_SHA1_96, Tunnel}, {ike.AUTH_AES_XCBC_96, Transport}} {
		out, ahSAD := ahPair(f, c.integ, c.mode)
		in := ahSAD.Inbound(out.SPI)
		out.SPI, in.SPI = 0x2000+uint32(i), 0x2000+uint32(i)
		out.Reqid, in.Reqid = 2+uint32(i), 2+uint32(i) // not a bundle with the ESP SAs of Reqid 1
		out.ESN, in.ESN = i == 1, i == 1
		in.WindowSize = -1
		if err := sad.AddInbound(in); err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, sealSeeds(f, out)...)
	}
	// ESP in IPv6 carrying IPv6 and IPv4, and AH in IPv6 (Scapy's packets).
	esp6 := &SA{SPI: 0xc0ffee02, Src: g6A, Dst: g6B, Encr: aesCBC, EncrKeyBits: 128, EncrKey: unhex(f, esp6Tunnel[1]),
		Integ: sha256I, IntegKey: unhex(f, esp6Tunnel[0]), Mode: Tunnel, WindowSize: -1, Rand: seeded(2)}
	ah6 := &SA{Protocol: ProtoAH, SPI: 0xc0ffee03, Src: h6A, Dst: h6B, Integ: ike.Integ(ike.AUTH_HMAC_SHA2_256_128),
		IntegKey: unhex(f, ah6TransportHBH[0]), Mode: Transport, WindowSize: -1, Reqid: 4}
	for _, sa := range []*SA{esp6, ah6} {
		if err := sad.AddInbound(sa); err != nil {
			f.Fatal(err)
		}
	}
	// An AH+ESP bundle of Reqid 5: the whole bundle, ESP alone and AH alone.
	esp := func() *SA {
		return &SA{SPI: 0x3000, Src: gwA, Dst: gwB, Reqid: 5, Encr: aesCBC, EncrKeyBits: 128, EncrKey: make([]byte, 16),
			Integ: sha256I, IntegKey: make([]byte, 32), Mode: Tunnel, Rand: seeded(3), WindowSize: -1}
	}
	ah := func() *SA {
		return &SA{Protocol: ProtoAH, SPI: 0x3001, Src: gwA, Dst: gwB, Reqid: 5, Integ: ike.Integ(ike.AUTH_HMAC_SHA1_96),
			IntegKey: make([]byte, 20), Mode: Transport, WindowSize: -1}
	}
	espB, ahB := esp(), ah()
	bundle := &SAD{}
	for _, sa := range []*SA{espB, ahB} {
		if err := bundle.AddOutbound(sa); err != nil {
			f.Fatal(err)
		}
	}
	for _, sa := range []*SA{esp(), ah()} {
		if err := sad.AddInbound(sa); err != nil {
			f.Fatal(err)
		}
	}
	whole, _, err := bundle.Protect(5, ping(f, 1, 20))
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, whole)
	seeds = append(seeds, sealSeeds(f, espB)...)
	seeds = append(seeds, sealSeeds(f, ahB)...)
	ahSeed := unhex(f, ah6TransportHBH[2])
	binary.BigEndian.PutUint32(ahSeed[48+4:], ah6.SPI)
	seeds = append(seeds, unhex(f, esp6Tunnel[3]), unhex(f, esp4in6Tunnel[3]), ahSeed, unhex(f, echo6))
	return sad, seeds
}

// sealSeeds are pings of 0 and 20 bytes of data sealed by out.
func sealSeeds(f *testing.F, out *SA) (seeds [][]byte) {
	for _, n := range []int{0, 20} {
		b, err := out.Protect(ping(f, 1, n))
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

func FuzzUnprotect(f *testing.F) {
	sad, seeds := fuzzSAD(f)
	for _, s := range seeds {
		f.Add(s)
	}
	keepalive, _ := NewUDPPacket(netip.AddrPortFrom(gwA, PortNATT), netip.AddrPortFrom(gwB, PortNATT), 1, []byte{0xff})
	f.Add(keepalive)
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)
		inner, sa, err := sad.Unprotect(b)
		if !bytes.Equal(b, orig) {
			t.Fatal("Unprotect changed its input")
		}
		if err != nil {
			return
		}
		if sa == nil {
			t.Fatal("no SA for an accepted packet")
		}
		if _, err := ParseIP(inner); err != nil {
			t.Fatalf("accepted packet's inner packet does not parse: %v", err)
		}
		if fl, err := FlowOf(inner); len(sa.Selectors) > 0 && (err != nil || !sa.Selectors[0].Matches(fl)) {
			t.Fatalf("accepted a packet outside the SA's selectors: %v (%v)", fl, err)
		}
	})
}

func FuzzDissectIPv4(f *testing.F) {
	sad, seeds := fuzzSAD(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add(unhex(f, rfc3602Case5Inner))
	f.Add(unhex(f, gcmTestUDP))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, fld := range []*ike.Field{DissectIPv4(b), sad.Dissect(b)} {
			checkOffsets(t, fld, len(b))
		}
	})
}

func FuzzDissectESP(f *testing.F) {
	sad, seeds := fuzzSAD(f)
	for _, s := range seeds {
		ip, _ := ParseIPv4(s)
		f.Add(ip.Payload)
	}
	sas, _ := sad.SAs()
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, sa := range sas {
			checkOffsets(t, DissectESP(b, sa), len(b))
		}
	})
}

func FuzzParsePackets(f *testing.F) {
	f.Add(unhex(f, rfc3602Case5Inner))
	f.Add(unhex(f, gcmTestUDP))
	// sameBut reports whether a and the start of b hold the same bytes outside the
	// checksum at cs: a zero sum may be sent as 0x0000 or 0xFFFF.
	sameBut := func(a, b []byte, cs int) bool {
		return len(b) >= len(a) && bytes.Equal(a[:cs], b[:cs]) && bytes.Equal(a[cs+2:], b[cs+2:len(a)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := ParseIPv4(b); err == nil {
			if again, err := p.Marshal(); err != nil || !sameBut(again, b, 10) {
				t.Fatalf("a parsed packet does not marshal back: %v", err)
			}
		}
		if m, err := ParseICMP(b); err == nil && !sameBut(m.Marshal(), b, 2) {
			t.Fatal("a parsed ICMP message does not marshal back")
		}
		if u, err := ParseUDP(b, gwA, gwB); err == nil && u.Checksum != 0 {
			if again, err := u.Append(nil, gwA, gwB); err != nil || !sameBut(again, b, 6) {
				t.Fatalf("a parsed UDP datagram does not marshal back: %v", err)
			}
		}
		_, _ = FlowOf(b)
		_, _ = EchoReply(b, 1)
	})
}
