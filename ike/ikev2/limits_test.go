package ikev2_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev2"
	"github.com/ikesim/ikesim/ike/ikev2/ikev2test"
)

// The responder's defences against peers that have not authenticated (cookie.go): each
// case lets peers leave IKE SAs half-open and checks how the next IKE_SA_INIT fares.

// limitBench is a victim that accepts any peer address, with limits.
func limitBench(t *testing.T, l ike.Limits) *bench {
	t.Helper()
	b := newBench(t, 20)
	b.c.RemoteAddrs = nil
	b.c.Limits = &l
	if b2, _, err := b.n.Daemon(victim, b.c); err != nil { // the limits are read when the daemon is made
		t.Fatal(err)
	} else {
		b.d = b2
	}
	return b
}

// peer puts another attacker on the bench's Net at 198.51.100.i.
func (b *bench) peer(t *testing.T, i int) *ikev2test.Peer {
	t.Helper()
	p, err := ikev2test.NewPeer(b.n, fmt.Sprintf("198.51.100.%d:500", i), victimPort.String(), ikeProp)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cookies counts the COOKIE notifies the victim sent.
func (b *bench) cookies() int {
	n := 0
	for _, dg := range b.n.Sent() {
		if m, err := ikev2.Parse(dg.Data); err == nil && dg.Local == victimPort && m.Exchange == ikev2.IKE_SA_INIT &&
			hasNotify(m.Payloads, ikev2.COOKIE) {
			n++
		}
	}
	return n
}

func TestHalfOpenLimits(t *testing.T) {
	tests := []struct {
		name   string
		limits ike.Limits
		// froms are the peers (198.51.100.N) that start an IKE SA, in order; the last
		// one is the case.
		froms       []int
		wantCookies int  // COOKIE notifies in all
		wantUp      bool // the last request makes a half-open SA (after a COOKIE if one came)
	}{
		{"below every threshold", ike.DefaultLimits(), []int{1, 2, 3}, 0, true},
		{"cookie_threshold reached", ike.Limits{CookieThreshold: 2}, []int{1, 2, 3}, 1, true},
		{"cookie_threshold_ip reached", ike.Limits{CookieThresholdIP: 2}, []int{1, 1, 2, 1}, 1, true},
		{"block_threshold reached", ike.Limits{BlockThreshold: 2}, []int{1, 1, 1}, 0, false},
		{"block_threshold for one address only", ike.Limits{BlockThreshold: 2}, []int{1, 1, 2}, 0, true},
		{"init_limit_half_open reached", ike.Limits{InitLimitHalfOpen: 2}, []int{1, 2, 3}, 0, false},
		{"cookie before block", ike.Limits{CookieThresholdIP: 2, BlockThreshold: 3}, []int{1, 1, 1, 1}, 2, false},
		{"block raised above cookie_threshold_ip", ike.Limits{CookieThresholdIP: 2, BlockThreshold: 2}, []int{1, 1, 1}, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := limitBench(t, tc.limits)
			peers := map[int]*ikev2test.Peer{}
			var err error
			for _, i := range tc.froms {
				if peers[i] == nil {
					peers[i] = b.peer(t, i)
				}
				peers[i].SPIi = 0 // a new IKE SA each time
				_, err = peers[i].Init()
			}
			if got := b.cookies(); got != tc.wantCookies {
				t.Errorf("%d COOKIE notifies, want %d", got, tc.wantCookies)
			}
			total, _ := b.d.HalfOpen(victimPort.Addr())
			wantTotal := len(tc.froms)
			if !tc.wantUp {
				wantTotal--
				if err == nil {
					t.Error("the last IKE_SA_INIT was answered, want it ignored")
				}
			} else if err != nil {
				t.Errorf("the last IKE_SA_INIT: %v", err)
			}
			if total != wantTotal || len(b.d.SAs()) != wantTotal {
				t.Errorf("%d half-open of %d IKE SAs, want %d", total, len(b.d.SAs()), wantTotal)
			}
		})
	}
}

// TestCookiesCalmDown: once cookie_threshold was reached, cookies stay on for 10 s even
// when fewer SAs are half-open, so that an initiator's retransmissions are answered
// alike (strongSwan's COOKIE_CALMDOWN_DELAY).
func TestCookiesCalmDown(t *testing.T) {
	b := limitBench(t, ike.Limits{CookieThreshold: 2})
	var peers []*ikev2test.Peer
	start := func(i int) {
		p := b.peer(t, i)
		if _, err := p.Init(); err != nil {
			t.Fatal(err)
		}
		peers = append(peers, p)
	}
	start(1)
	start(2)
	start(3) // 2 half-open: a COOKIE first
	if b.cookies() != 1 {
		t.Fatalf("%d COOKIE notifies, want 1", b.cookies())
	}
	for _, p := range peers { // all three authenticate: none is half-open
		if _, err := p.AuthPSK(ikev2test.ID(attacker), []byte(psk)); err != nil {
			t.Fatal(err)
		}
	}
	if total, _ := b.d.HalfOpen(victimPort.Addr()); total != 0 {
		t.Fatalf("%d half-open, want 0", total)
	}
	start(4) // within 10 s of the threshold: still a COOKIE
	if b.cookies() != 2 {
		t.Errorf("%d COOKIE notifies, want 2: cookies must stay on for 10 s", b.cookies())
	}
	b.n.Run(11 * time.Second)
	start(5) // 1 half-open, the threshold last reached 11 s ago: no COOKIE
	if b.cookies() != 2 {
		t.Errorf("%d COOKIE notifies, want still 2 after the calm-down", b.cookies())
	}
}
