package ikev1

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/iketest"
)

// firstMessage is a main mode message 1 with initiator cookie icookie offering proposal
// p: what anyone can send to start a half-open ISAKMP SA.
func firstMessage(t testing.TB, icookie uint64, p ike.Proposal) []byte {
	t.Helper()
	offer, _, err := Phase1Offer([]ike.Proposal{p}, AuthPSK, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := &Message{Header: Header{ICookie: icookie, Exchange: ExchangeMain}, Payloads: []Payload{offer}}
	raw, err := m.Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// responderNode is a node that answers main mode from any address.
func responderNode(t *testing.T, n *testNet) (*testNode, ike.Proposal) {
	_, cb := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
	cb.LocalAddrs, cb.RemoteAddrs = nil, nil
	cb.Remote.ID = ike.Identity{}
	return n.node("b", "192.0.2.2", cb), cb.Proposals[0]
}

func peerAddr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(100 + i/250), byte(1 + i%250)}), 500)
}

// TestHalfOpenSAsAreFreed: first messages that are never followed up leave half-open
// ISAKMP SAs, which the half-open timeout (strongSwan's 30 s) ends and the daemon then
// forgets: nothing of them stays in its tables.
func TestHalfOpenSAsAreFreed(t *testing.T) {
	n := newTestNet(t)
	nd, p := responderNode(t, n)
	local := netip.MustParseAddrPort("192.0.2.2:500")
	for i := range 10 {
		nd.d.HandleDatagram(local, peerAddr(i), firstMessage(t, uint64(1000+i), p))
	}
	if len(nd.d.sas) != 10 {
		t.Fatalf("%d ISAKMP SAs after 10 first messages", len(nd.d.sas))
	}
	n.run(2 * time.Minute)
	if len(nd.d.sas) != 0 {
		t.Errorf("%d ISAKMP SAs left after their phase 1 timed out", len(nd.d.sas))
	}
}

// TestHalfOpenLimits: a sixth half-open SA from one address is refused (strongSwan's
// block threshold), as is one beyond the node's limit; a retransmitted first message is
// answered by its SA and counts once; SAs freed make room again.
func TestHalfOpenLimits(t *testing.T) {
	n := newTestNet(t)
	nd, p := responderNode(t, n)
	nd.d.SetLimits(Limits{InitLimitHalfOpen: 8})
	local := netip.MustParseAddrPort("192.0.2.2:500")
	one := peerAddr(0)
	for i := range 6 {
		msg := firstMessage(t, uint64(1+i), p)
		nd.d.HandleDatagram(local, one, msg)
		nd.d.HandleDatagram(local, one, msg) // a retransmission
	}
	if total, from := nd.d.HalfOpen(one.Addr()); total != 5 || from != 5 {
		t.Fatalf("half-open %d, from %v %d: want 5 and 5", total, one, from)
	}
	if !has(nd.dropped, "half-open already (block_threshold 5)") {
		t.Errorf("the sixth SA from one address is not refused: %v", nd.dropped)
	}
	for i := 1; i <= 5; i++ {
		nd.d.HandleDatagram(local, peerAddr(i), firstMessage(t, uint64(100+i), p))
	}
	if total, _ := nd.d.HalfOpen(one.Addr()); total != 8 || !has(nd.dropped, "(init_limit_half_open 8)") {
		t.Errorf("half-open %d with a node limit of 8; drops %v", total, nd.dropped)
	}
	n.run(time.Minute)
	nd.d.HandleDatagram(local, one, firstMessage(t, 77, p))
	if total, from := nd.d.HalfOpen(one.Addr()); total != 1 || from != 1 {
		t.Errorf("after the timeout: half-open %d, from %v %d", total, one, from)
	}
}

// TestLimitsFromCharon: a node's charon settings reach the IKEv1 engine through its
// connections: block_threshold per address (0: none) and init_limit_half_open in all,
// where 0 keeps IKEv1's own bound, for want of cookies.
func TestLimitsFromCharon(t *testing.T) {
	for _, tc := range []struct {
		charon *ike.Limits
		want   Limits
	}{
		{nil, Limits{InitLimitHalfOpen: DefaultInitLimitHalfOpen, BlockThreshold: DefaultBlockThreshold}},
		{&ike.Limits{BlockThreshold: 2, InitLimitHalfOpen: 3}, Limits{InitLimitHalfOpen: 3, BlockThreshold: 2}},
		{&ike.Limits{CookieThresholdIP: 3, BlockThreshold: 2}, Limits{InitLimitHalfOpen: DefaultInitLimitHalfOpen, BlockThreshold: 4}},
		{&ike.Limits{}, Limits{InitLimitHalfOpen: DefaultInitLimitHalfOpen, BlockThreshold: -1}}, // dos_protection: no
	} {
		n := newTestNet(t)
		_, cb := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
		cb.Limits = tc.charon
		nd := n.node("b", "192.0.2.2", cb)
		got := nd.d.limits
		got.HalfOpenTimeout = 0
		if got != tc.want {
			t.Errorf("charon %+v: limits %+v, want %+v", tc.charon, got, tc.want)
		}
	}
}

// TestCompletedSAIsNotHalfOpen: an ISAKMP SA whose phase 1 completes leaves the
// half-open counts, and the flights of a long-lived SA stay bounded.
func TestCompletedSAIsNotHalfOpen(t *testing.T) {
	n := newTestNet(t)
	ca, cb := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
	ca.DPDDelay = time.Second
	a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
	a.d.Acquire(1)
	n.run(2 * time.Minute) // a DPD exchange every second or so
	if total, _ := b.d.HalfOpen(netip.MustParseAddr("192.0.2.1")); total != 0 {
		t.Errorf("%d half-open SAs after phase 1 completed", total)
	}
	for _, nd := range []*testNode{a, b} {
		for _, s := range nd.d.SAs() {
			if s.Exchanges > maxFlights+1 {
				t.Errorf("%s remembers %d exchanges", nd.name, s.Exchanges)
			}
		}
		for _, sa := range nd.d.sas {
			if len(sa.ivs.next) > maxFlights+1 {
				t.Errorf("%s keeps the IVs of %d exchanges", nd.name, len(sa.ivs.next))
			}
		}
	}
}

// quietEnv is an engine environment that records nothing and never fires a timer: what
// a benchmark of the engine alone needs.
type quietEnv struct {
	iketest.Discard
	now time.Time
}

func (e quietEnv) Now() time.Time                                  { return e.now }
func (quietEnv) AfterFunc(time.Duration, string, func()) ike.Timer { return quietTimer{} }

type quietTimer struct{}

func (quietTimer) Stop() bool { return true }

// BenchmarkFirstMessage is the cost of answering a main mode message 1 with 100 and with
// 10,000 half-open ISAKMP SAs present: SAs are found by cookie, so the two should cost
// about the same.
func BenchmarkFirstMessage(b *testing.B) {
	for _, present := range []int{100, 10000} {
		b.Run(fmt.Sprintf("halfopen=%d", present), func(b *testing.B) {
			_, cb := sitePair(&testing.T{}, "aes128-sha256-modp2048", "aes128-sha256")
			cb.LocalAddrs, cb.RemoteAddrs = nil, nil
			q := quietEnv{now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
			d, err := New(ike.Env{Transport: q, Clock: q, Rand: rand.NewChaCha8([32]byte{1}), Observer: q}, "b", []*ike.Connection{cb})
			if err != nil {
				b.Fatal(err)
			}
			d.SetLimits(Limits{InitLimitHalfOpen: -1, BlockThreshold: -1})
			local := netip.MustParseAddrPort("192.0.2.2:500")
			for i := range present {
				d.HandleDatagram(local, peerAddr(i), firstMessage(b, uint64(1+i), cb.Proposals[0]))
			}
			msgs := make([][]byte, b.N)
			for i := range msgs {
				msgs[i] = firstMessage(b, 1<<62+uint64(i), cb.Proposals[0])
			}
			b.ResetTimer()
			for i := range b.N {
				d.HandleDatagram(local, peerAddr(present+i%1000), msgs[i])
			}
		})
	}
}
