package ipsec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
)

// ahVectors are AH packets (RFC 4302) computed by an independent implementation: Scapy
// 2.5's scapy.layers.ipsec (SecurityAssociation with proto AH), by the script
// testdata/ah_vectors.py, whose output is testdata/ah_vectors.txt. Scapy has no
// AES-XCBC-MAC-96; for it the script takes Scapy's packet with its mutable fields zeroed
// and computes the MAC from AES itself, checked against RFC 3566's test cases.
//
// The inner packet is an ICMP echo request 10.1.0.5 -> 10.2.0.7 with TOS 0x10, DF and TTL
// 63, which transport mode zeroes for the ICV; the options case adds Router Alert
// (immutable) and Record Route (mutable). Tunnel mode's outer header is 198.51.100.1 ->
// 203.0.113.2 with Identification 0x1234, TTL 64, and the inner TOS and DF.
var ahVectors = []struct {
	integ   uint16
	mode    Mode
	esnHigh uint32 // the high 32 bits of the sequence number, 0 without ESN
	seq     uint32
	key     string
	inner   string
	outer   string
}{
	{ike.AUTH_HMAC_SHA1_96, Transport, 0, 1, "0102030405060708090a0b0c0d0e0f1011121314",
		"45100032010140003f0126ac0a0100050a0200070800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572",
		"4510004a010140003f3326620a0100050a02000701040000c0ffee01000000014afce8fcc8a9ec6f7a63ce7a0800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572"},
	{ike.AUTH_HMAC_SHA1_96, Tunnel, 0, 1, "0102030405060708090a0b0c0d0e0f1011121314",
		"45100032010140003f0126ac0a0100050a0200070800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572",
		"4510005e123440004033c1f1c6336401cb00710204040000c0ffee010000000135216b2029fb4b2aa4e188a745100032010140003f0126ac0a0100050a0200070800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572"},
	{ike.AUTH_HMAC_MD5_96, Transport, 0, 1, "202122232425262728292a2b2c2d2e2f",
		"45100032010140003f0126ac0a0100050a0200070800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572",
		"4510004a010140003f3326620a0100050a02000701040000c0ffee0100000001054a697ac9b4585b927232cf0800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572"},
	{ike.AUTH_HMAC_SHA2_256_128, Tunnel, 0, 1, "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f",
		"45100032010140003f0126ac0a0100050a0200070800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572",
		"45100062123440004033c1edc6336401cb00710204050000c0ffee0100000001f9bd7f505245f004a218bebdfac8d2fc45100032010140003f0126ac0a0100050a0200070800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572"},
	{ike.AUTH_HMAC_SHA2_384_192, Transport, 0, 1, "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f",
		"45100032010140003f0126ac0a0100050a0200070800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572",
		"45100056010140003f3326560a0100050a02000701070000c0ffee0100000001b4d41e11f42f4e8333c5bb183979f17025380e5e048694770800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572"},
	{ike.AUTH_HMAC_SHA2_512_256, Tunnel, 0, 1, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
		"45100032010140003f0126ac0a0100050a0200070800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572",
		"45100072123440004033c1ddc6336401cb00710204090000c0ffee0100000001bd69adab724819f6522f66799a797534333f7d8bc888f3ab04c922bd1d91cfef45100032010140003f0126ac0a0100050a0200070800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572"},
	{ike.AUTH_HMAC_SHA2_256_128, Transport, 1, 5, "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f",
		"45100032010140003f0126ac0a0100050a0200070800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572",
		"4510004e010140003f33265e0a0100050a02000701050000c0ffee0100000005cd3fb84cd3d59392250fe7cfd711bf1b0800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572"},
	{ike.AUTH_HMAC_SHA1_96, Transport, 0, 1, "0102030405060708090a0b0c0d0e0f1011121314",
		"4810003e010140003f017ad20a0100050a02000794040000070704c0000209000800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572",
		"48100056010140003f337a880a0100050a02000794040000070704c00002090001040000c0ffee0100000001b0c838d6fbf38a96cfb613880800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572"},
	{ike.AUTH_AES_XCBC_96, Tunnel, 0, 1, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		"45100032010140003f0126ac0a0100050a0200070800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572",
		"4510005e123440004033c1f1c6336401cb00710204040000c0ffee0100000001238f84f6f40189e4fc24bc7c45100032010140003f0126ac0a0100050a0200070800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572"},
	{ike.AUTH_AES_XCBC_96, Transport, 2, 7, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		"45100032010140003f0126ac0a0100050a0200070800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572",
		"4510004a010140003f3326620a0100050a02000701040000c0ffee010000000748bde030d7a6924518ad9f740800d3d5001d0001696b6573696d204148206b6e6f776e20616e73776572"},
}

func TestAHKnownAnswers(t *testing.T) {
	for i, v := range ahVectors {
		integ := ike.Integ(v.integ)
		esn := v.esnHigh > 0
		seq := uint64(v.esnHigh)<<32 | uint64(v.seq)
		inner, want := unhex(t, v.inner), unhex(t, v.outer)
		mk := func() *SA {
			sa := &SA{Protocol: ProtoAH, SPI: 0xc0ffee01, Src: gwA, Dst: gwB, Integ: integ, IntegKey: unhex(t, v.key),
				Mode: v.mode, ESN: esn, NextID: func() uint16 { return 0x1234 }}
			if v.mode == Transport {
				sa.Src, sa.Dst = hostA, hostB
			}
			return sa
		}
		out, in := mk(), mk()
		if err := out.Init(); err != nil {
			t.Fatalf("%d %s: %v", i, integ.Name, err)
		}
		out.seq = seq - 1
		got, err := out.Protect(inner)
		if err != nil {
			t.Fatalf("%d %s %v: %v", i, integ.Name, v.mode, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%d %s %v: Protect =\n%x\nwant\n%x", i, integ.Name, v.mode, got, want)
		}
		sad := &SAD{}
		if err := sad.AddInbound(in); err != nil {
			t.Fatal(err)
		}
		if esn {
			in.replay.Update(seq - 2) // the window's right edge in the same 2^32 subspace
		}
		back, sa, err := sad.Unprotect(want)
		if err != nil {
			t.Fatalf("%d %s %v: Unprotect: %v", i, integ.Name, v.mode, err)
		}
		if sa != in || !bytes.Equal(back, inner) {
			t.Errorf("%d %s %v: Unprotect =\n%x\nwant\n%x", i, integ.Name, v.mode, back, inner)
		}
		if st := in.Stats(); st.Packets != 1 || st.Seq != seq {
			t.Errorf("%d: inbound stats %+v, want one packet, seq %d", i, st, seq)
		}
	}
}

// ahPair is an outbound AH SA from gwA to gwB (hostA to hostB in transport mode) and a SAD
// with its inbound twin.
func ahPair(t testing.TB, integ uint16, mode Mode) (out *SA, sad *SAD) {
	t.Helper()
	a := ike.Integ(integ)
	key := make([]byte, a.KeySize)
	seeded(3).Read(key)
	mk := func() *SA {
		sa := &SA{Protocol: ProtoAH, SPI: 0xa4000001, Src: gwA, Dst: gwB, Reqid: 1, Integ: a, IntegKey: key, Mode: mode}
		if mode == Transport {
			sa.Src, sa.Dst = hostA, hostB
		}
		return sa
	}
	out, sad = mk(), &SAD{}
	if err := sad.AddInbound(mk()); err != nil {
		t.Fatal(err)
	}
	return out, sad
}

// setIPv4 rewrites a byte of an IPv4 header and fixes its checksum, as a router does.
func setIPv4(p []byte, i int, b byte) []byte {
	p = bytes.Clone(p)
	p[i] = b
	hl := int(p[0]&0x0f) * 4
	p[10], p[11] = 0, 0
	binary.BigEndian.PutUint16(p[10:], checksum(p[:hl], 0))
	return p
}

// TestAHMutableFields: a router may change TOS, TTL and the flags (RFC 4302, Section
// 3.3.3.1.1.1), and the ICV still verifies; a NAT that rewrites an address breaks it,
// and the error says which address changed.
func TestAHMutableFields(t *testing.T) {
	for _, mode := range []Mode{Tunnel, Transport} {
		out, sad := ahPair(t, ike.AUTH_HMAC_SHA2_256_128, mode)
		p := ping(t, 1, 24)
		for seq, edit := range []func([]byte) []byte{
			func(b []byte) []byte { return b },
			func(b []byte) []byte { return setIPv4(b, 8, b[8]-3) },    // TTL
			func(b []byte) []byte { return setIPv4(b, 1, 0xb8) },      // TOS (DSCP EF)
			func(b []byte) []byte { return setIPv4(b, 6, b[6]^0x40) }, // DF
		} {
			outer, err := out.Protect(p)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := sad.Unprotect(edit(outer)); err != nil {
				t.Errorf("%v edit %d: %v", mode, seq, err)
			}
		}
		outer, err := out.Protect(p)
		if err != nil {
			t.Fatal(err)
		}
		nat := setIPv4(outer, 12, outer[12]^0x80) // the source address, as a NAT rewrites it
		_, _, err = sad.Unprotect(nat)
		if !errors.Is(err, DropICV) || !strings.Contains(err.Error(), "outer source address") {
			t.Errorf("%v after a NAT: %v, want an ICV mismatch naming the source address", mode, err)
		}
		for _, i := range []int{4, 9, 16, 2} { // Identification, Protocol, destination, Total Length
			bad := setIPv4(outer, i, outer[i]^1)
			if _, _, err := sad.Unprotect(bad); err == nil {
				t.Errorf("%v: changing header byte %d went unnoticed", mode, i)
			}
		}
	}
}

// TestAHTamper flips every bit after the IPv4 header of an AH packet: each is refused.
func TestAHTamper(t *testing.T) {
	for _, integ := range []uint16{ike.AUTH_HMAC_SHA1_96, ike.AUTH_AES_XCBC_96, ike.AUTH_HMAC_SHA2_512_256} {
		out, sad := ahPair(t, integ, Tunnel)
		outer, err := out.Protect(ping(t, 1, 30))
		if err != nil {
			t.Fatal(err)
		}
		for i := ipv4HeaderLen; i < len(outer); i++ {
			bad := bytes.Clone(outer)
			bad[i] ^= 1 << (i % 8)
			var de *DropError
			if _, _, err := sad.Unprotect(bad); !errors.As(err, &de) {
				t.Fatalf("byte %d: %v, want a *DropError", i, err)
			}
		}
		if _, _, err := sad.Unprotect(outer); err != nil {
			t.Fatalf("the original: %v", err)
		}
		if _, _, err := sad.Unprotect(outer); !errors.Is(err, DropReplay) {
			t.Errorf("the original again: %v, want a replay drop", err)
		}
		if st := sad.Inbound(out.SPI).Stats(); st.ICVFailures == 0 || st.ReplayDrops != 1 || st.Packets != 1 {
			t.Errorf("stats %+v", st)
		}
	}
}

func TestAHConfigErrors(t *testing.T) {
	base := func() *SA {
		return &SA{Protocol: ProtoAH, SPI: 0x1000, Src: gwA, Dst: gwB, Mode: Tunnel,
			Integ: sha256I, IntegKey: make([]byte, sha256I.KeySize)}
	}
	for _, c := range []struct {
		name string
		edit func(*SA)
		want string
	}{
		{"cipher", func(sa *SA) { sa.Encr = aesCBC }, "AH takes no encryption"},
		{"no integ", func(sa *SA) { sa.Integ, sa.IntegKey = nil, nil }, "without an integrity"},
		{"encap", func(sa *SA) { sa.Encap = &UDPEncap{PortNATT, PortNATT} }, "cannot be UDP encapsulated"},
		{"key", func(sa *SA) { sa.IntegKey = sa.IntegKey[1:] }, "takes a 32-byte key"},
		{"protocol", func(sa *SA) { sa.Protocol = ProtoUDP }, "neither ESP nor AH"},
	} {
		sa := base()
		c.edit(sa)
		if err := sa.Init(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if err := base().Init(); err != nil {
		t.Errorf("valid: %v", err)
	}
}

// bundlePair is an AH+ESP bundle of Reqid 1: an ESP SA in tunnel mode and an AH SA in
// transport mode over it, in out (the sender's SAD) and in (the receiver's).
func bundlePair(t *testing.T) (espOut, espIn, ahOut, ahIn *SA, out, in *SAD) {
	t.Helper()
	espOut, espIn, in = newPair(t, saConfig{encr: aesCBC, keyBits: 128, integ: sha256I, mode: Tunnel})
	ahOut, ahSAD := ahPair(t, ike.AUTH_HMAC_SHA1_96, Transport)
	ahOut.Src, ahOut.Dst = gwA, gwB
	ahIn = ahSAD.Inbound(ahOut.SPI)
	ahIn.Src, ahIn.Dst = gwA, gwB
	ahIn.ready = false
	if err := in.AddInbound(ahIn); err != nil {
		t.Fatal(err)
	}
	out = &SAD{}
	for _, sa := range []*SA{espOut, ahOut} {
		if err := out.AddOutbound(sa); err != nil {
			t.Fatal(err)
		}
	}
	return espOut, espIn, ahOut, ahIn, out, in
}

// TestAHBundle: an ESP SA in tunnel mode and an AH SA in transport mode over its outer
// header, with one Reqid, are an SA bundle: Protect applies both, Unprotect removes both.
func TestAHBundle(t *testing.T) {
	espOut, espIn, _, ahIn, out, espSAD := bundlePair(t)
	p := ping(t, 1, 20)
	outer, sa, err := out.Protect(1, p)
	if err != nil || sa != espOut {
		t.Fatalf("Protect: %v, SA %v", err, sa)
	}
	if outer[9] != ProtoAH || outer[ipv4HeaderLen] != ProtoESP {
		t.Fatalf("bundle is %s then %s, want AH then ESP", ProtoName(outer[9]), ProtoName(outer[ipv4HeaderLen]))
	}
	inner, sa, err := espSAD.Unprotect(outer)
	if err != nil || sa != espIn || !bytes.Equal(inner, p) {
		t.Fatalf("Unprotect: %v, SA %v, inner %x", err, sa, inner)
	}
	if ahIn.Stats().Packets != 1 {
		t.Errorf("AH SA stats %+v", ahIn.Stats())
	}
	f := espSAD.Dissect(outer)
	if s := fieldText(f); !strings.Contains(s, "verified") || !strings.Contains(s, "ICMP") {
		t.Errorf("dissection of the bundle:\n%s", s)
	}
}

// TestAHBundleEnforced: where the inbound SAs of a Reqid are an AH+ESP bundle, an ESP
// packet without the AH, or an AH packet without the ESP inside, is refused with
// DropBundle, as a kernel's inbound policy check refuses a packet that did not come
// through every SA of the policy's templates; the whole bundle still passes, and once
// the AH SA is gone, ESP alone passes again.
func TestAHBundleEnforced(t *testing.T) {
	espOut, espIn, ahOut, ahIn, bundle, sad := bundlePair(t)
	espAlone, err := espOut.Protect(ping(t, 1, 20))
	if err != nil {
		t.Fatal(err)
	}
	ahAlone, err := ahOut.Protect(ping(t, 2, 20))
	if err != nil {
		t.Fatal(err)
	}
	both, _, err := bundle.Protect(1, ping(t, 3, 20))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		pkt    []byte
		spi    uint32
		detail string
	}{
		{"ESP alone", espAlone, espIn.SPI, "ESP packet without the AH"},
		{"AH alone", ahAlone, ahIn.SPI, "AH packet without the ESP"},
	} {
		_, _, err := sad.Unprotect(c.pkt)
		var de *DropError
		if !errors.As(err, &de) || de.Reason != DropBundle || de.SPI != c.spi || !strings.Contains(de.Detail, c.detail) {
			t.Errorf("%s: %v, want %s of SPI 0x%08x", c.name, err, DropBundle, c.spi)
		}
	}
	if _, sa, err := sad.Unprotect(both); err != nil || sa != espIn {
		t.Errorf("the whole bundle: %v, SA %v", err, sa)
	}
	sad.DeleteInbound(ahIn.SPI)
	again, err := espOut.Protect(ping(t, 4, 20))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sad.Unprotect(again); err != nil {
		t.Errorf("ESP alone once the AH SA is gone: %v", err)
	}
}

// TestAHWrongProtocol: an ESP packet for an AH SA's SPI is refused, and the reverse.
func TestAHWrongProtocol(t *testing.T) {
	espOut, _, sad := newPair(t, saConfig{encr: aesCBC, keyBits: 128, integ: sha256I, mode: Tunnel})
	ahOut, _ := ahPair(t, ike.AUTH_HMAC_SHA1_96, Tunnel)
	ahOut.SPI = espOut.SPI
	outer, err := ahOut.Protect(ping(t, 1, 8))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sad.Unprotect(outer); !errors.Is(err, DropWrongProtocol) {
		t.Errorf("AH to an ESP SA: %v", err)
	}
	if f := sad.Dissect(outer); strings.Contains(fieldText(f), "verified") {
		t.Errorf("an AH packet dissected with an ESP SA:\n%s", fieldText(f))
	}
}

func TestDissectAH(t *testing.T) {
	out, sad := ahPair(t, ike.AUTH_HMAC_SHA2_256_128, Tunnel)
	outer, err := out.Protect(ping(t, 7, 16))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f    *ike.Field
		want []string
	}{
		{DissectIPv4(outer), []string{"AH", "Next Header", "IPv4 (4)", "Payload Length", "5 (28 bytes)", "SPI", "0xa4000001", "ICMP", "seq=7"}},
		{sad.Dissect(outer), []string{"(verified, AUTH_HMAC_SHA2_256_128)"}},
		{sad.Dissect(setIPv4(outer, 12, 1)), []string{"outer source address is 1.51.100.1"}},
		{DissectIPv4(outer[:ipv4HeaderLen+10]), []string{"truncated"}},
	} {
		s := fieldText(c.f)
		for _, w := range c.want {
			if !strings.Contains(s, w) {
				t.Errorf("dissection lacks %q:\n%s", w, s)
			}
		}
	}
}

// fieldText is a dissection as text, one field a line, with its errors.
func fieldText(f *ike.Field) string {
	var b strings.Builder
	f.Walk(func(f *ike.Field, depth int) {
		b.WriteString(strings.Repeat("  ", depth) + f.Name + ": " + f.Value)
		if f.Error != "" {
			b.WriteString(" ERROR " + f.Error)
		}
		b.WriteString("\n")
	})
	return b.String()
}
