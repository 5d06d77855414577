package ike

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// A selector prints as a prefix exactly when some prefix covers its range: the quick
// test agrees with trying every prefix length, for random IPv4 and IPv6 ranges that are
// prefixes, nearly prefixes (one bit off at either end) and neither.
func TestSelectorPrefixAgreesWithEveryLength(t *testing.T) {
	slow := func(ts TrafficSelector) (netip.Prefix, bool) {
		for bits := 0; bits <= ts.Start.BitLen(); bits++ {
			p := netip.PrefixFrom(ts.Start, bits)
			if q := TSFromPrefix(p); q.Start == ts.Start && q.End == ts.End {
				return p, true
			}
		}
		return netip.Prefix{}, false
	}
	r := rand.New(rand.NewPCG(1, 2))
	flip := func(a netip.Addr) netip.Addr {
		b := a.AsSlice()
		i := r.IntN(len(b))
		b[i] ^= 1 << r.IntN(8)
		a, _ = netip.AddrFromSlice(b)
		return a
	}
	for i := range 20000 {
		var a netip.Addr
		if i%2 == 0 {
			a = netip.AddrFrom4([4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())})
		} else {
			var b [16]byte
			for j := range b {
				b[j] = byte(r.Uint32())
			}
			a = netip.AddrFrom16(b)
		}
		ts := TSFromPrefix(netip.PrefixFrom(a, r.IntN(a.BitLen()+1)))
		switch i % 5 {
		case 1:
			ts.Start = flip(ts.Start)
		case 2:
			ts.End = flip(ts.End)
		case 3:
			ts.Start, ts.End = a, flip(a)
		}
		p, ok := ts.prefix()
		if q, want := slow(ts); ok != want || p != q {
			t.Fatalf("%s-%s: prefix %v %v, want %v %v", ts.Start, ts.End, p, ok, q, want)
		}
	}
}
