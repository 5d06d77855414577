package ipsec

import (
	"encoding/hex"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
)

// unhex decodes hex as the RFCs print it: with spaces and line breaks.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// seeded is a deterministic random source, as the simulator gives an SA.
func seeded(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

var (
	gwA     = netip.MustParseAddr("198.51.100.1") // tunnel endpoints
	gwB     = netip.MustParseAddr("203.0.113.2")
	hostA   = netip.MustParseAddr("10.1.0.5") // hosts behind them
	hostB   = netip.MustParseAddr("10.2.0.7")
	gcm16   = ike.Encr(ike.ENCR_AES_GCM_16)
	aesCBC  = ike.Encr(ike.ENCR_AES_CBC)
	sha256I = ike.Integ(ike.AUTH_HMAC_SHA2_256_128)
)

// saConfig is what differs between the SAs of the round-trip tests.
type saConfig struct {
	encr    *ike.EncrAlg
	keyBits int
	integ   *ike.IntegAlg
	mode    Mode
	encap   bool
	esn     bool
	window  int // inbound anti-replay window; 0: the default
}

// newPair returns an outbound SA from gwA to gwB (or hostA to hostB in transport mode),
// the matching inbound SA and a SAD holding it, keyed from a seeded source.
func newPair(t testing.TB, c saConfig) (out, in *SA, sad *SAD) {
	t.Helper()
	r := seeded(7)
	key := make([]byte, c.encr.KeyBytes(c.keyBits))
	r.Read(key)
	var ikey []byte
	if c.integ != nil {
		ikey = make([]byte, c.integ.KeySize)
		r.Read(ikey)
	}
	src, dst := gwA, gwB
	if c.mode == Transport {
		src, dst = hostA, hostB
	}
	mk := func() *SA {
		sa := &SA{SPI: 0xc0ffee01, Src: src, Dst: dst, Reqid: 1, Encr: c.encr, EncrKeyBits: c.keyBits,
			EncrKey: key, Integ: c.integ, IntegKey: ikey, Mode: c.mode, ESN: c.esn, Rand: seeded(9), WindowSize: c.window}
		if c.encap {
			sa.Encap = &UDPEncap{SrcPort: PortNATT, DstPort: PortNATT}
		}
		return sa
	}
	out, in = mk(), mk()
	sad = &SAD{}
	if err := sad.AddInbound(in); err != nil {
		t.Fatal(err)
	}
	if err := out.Init(); err != nil {
		t.Fatal(err)
	}
	return out, in, sad
}

// ping is an ICMP echo request from hostA to hostB with n bytes of data.
func ping(t testing.TB, seq uint16, n int) []byte {
	t.Helper()
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i)
	}
	p, err := NewEchoRequest(hostA, hostB, 0x1000+seq, 0x4242, seq, data)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
