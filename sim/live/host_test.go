package live

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev2"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// Two live hosts on loopback, each on its own UDP port (so every IKE message carries the
// non-ESP marker), run IKEv2 with each other over real sockets: the IKE SA and a Child
// SA come up, pings cross in ESP in UDP both ways, a liveness check is answered, and a
// shutdown deletes the IKE SA on both sides.

func mustProposal(t testing.TB, s string, proto ike.Protocol) ike.Proposal {
	t.Helper()
	p, err := ike.ParseProposal(s, proto)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustID(t testing.TB, s string) ike.Identity {
	t.Helper()
	id, err := ike.ParseIdentity(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// pair is one end of the test tunnel.
type pair struct {
	name      string
	addr      netip.Addr // outer
	inner     netip.Addr
	host      *Host
	daemon    ike.Daemon
	cancel    context.CancelFunc
	done      chan struct{}
	exchanges chan string // "IKE_AUTH response received" and the like, from OnEvent
}

func newPair(t *testing.T, name, addr, inner, peerName, peerAddr string) *pair {
	t.Helper()
	p := &pair{name: name, addr: netip.MustParseAddr(addr), inner: netip.MustParseAddr(inner),
		done: make(chan struct{}), exchanges: make(chan string, 256)}
	h, err := New(Config{Node: name, Listen: netip.AddrPortFrom(p.addr, 0), Addrs: []netip.Addr{p.inner},
		Peers: map[netip.Addr]string{netip.MustParseAddr(peerAddr): peerName},
		OnEvent: func(e *trace.Event) {
			switch {
			case e.Kind == trace.KindRecv && e.Exchange() != "":
				kind := "request"
				if e.Response() {
					kind = "response"
				}
				p.exchanges <- e.Exchange() + " " + kind + " received"
			case e.Kind == trace.KindAction && e.Ping != nil && e.Ping.Op == trace.PingReply:
				p.exchanges <- "echo reply received"
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	p.host = h
	t.Cleanup(h.Close)
	return p
}

// connect gives the pair its connection to the other end and starts its event loop.
func (p *pair) connect(t *testing.T, other *pair, initiator bool) {
	t.Helper()
	c := &ike.Connection{Name: "tunnel", Version: 2, LocalAddrs: []netip.Addr{p.addr}, RemoteAddrs: []netip.Addr{other.addr},
		LocalPort: p.host.Addr().Port(), RemotePort: other.host.Addr().Port(),
		Proposals: []ike.Proposal{mustProposal(t, "aes128-sha256-modp2048", ike.ProtoIKE)},
		Local:     ike.AuthConfig{Method: "psk", ID: mustID(t, p.name+".test"), PSK: []byte("live-test-psk")},
		Remote:    ike.AuthConfig{Method: "psk", ID: mustID(t, other.name+".test"), PSK: []byte("live-test-psk")},
		Encap:     initiator, // no NAT on loopback: ask for ESP in UDP, which the sockets carry
		Children: []*ike.ChildConfig{{Name: "net", StartAction: "none",
			LocalTS:      []ike.TrafficSelector{ike.TSFromPrefix(netip.PrefixFrom(p.inner, p.inner.BitLen()))},
			RemoteTS:     []ike.TrafficSelector{ike.TSFromPrefix(netip.PrefixFrom(other.inner, other.inner.BitLen()))},
			ESPProposals: []ike.Proposal{mustProposal(t, "aes128gcm16", ike.ProtoESP)}}}}
	d, err := ikev2.New(p.host.Env(), p.name, []*ike.Connection{c})
	if err != nil {
		t.Fatal(err)
	}
	p.daemon = d
	p.host.SetDaemon(d)
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() {
		p.host.Run(ctx)
		p.host.Shutdown(3 * time.Second)
		close(p.done)
	}()
	t.Cleanup(func() { cancel(); <-p.done })
}

// await waits for OnEvent to report what.
func (p *pair) await(t *testing.T, what string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-p.exchanges:
			if got == what {
				return
			}
		case <-timeout:
			t.Fatalf("%s: no %q within 10 s", p.name, what)
		}
	}
}

func (p *pair) ikeSAs() int {
	n := -1
	p.host.Do(func() { n = p.host.IKESAs() })
	return n
}

// establish makes alice and bob, on 127.0.0.1 and 127.0.0.2 with the inner addresses
// given, and has alice bring the IKE SA and the Child SA up.
func establish(t *testing.T, aliceInner, bobInner string) (a, b *pair) {
	t.Helper()
	a = newPair(t, "alice", "127.0.0.1", aliceInner, "bob", "127.0.0.2")
	b = newPair(t, "bob", "127.0.0.2", bobInner, "alice", "127.0.0.1")
	a.connect(t, b, true)
	b.connect(t, a, false)
	a.host.Do(func() {
		if err := a.daemon.Initiate("tunnel", ""); err != nil {
			t.Error(err)
		}
	})
	a.await(t, "IKE_AUTH response received")
	return a, b
}

func TestTwoLiveHosts(t *testing.T) {
	a, b := establish(t, "10.9.1.1", "10.9.2.1")
	if n, m := a.ikeSAs(), b.ikeSAs(); n != 1 || m != 1 {
		t.Fatalf("established IKE SAs: alice %d, bob %d; want 1 each", n, m)
	}

	a.host.Do(func() { a.host.Ping(b.inner, 2, 20*time.Millisecond) })
	a.await(t, "echo reply received")
	a.await(t, "echo reply received")
	b.host.Do(func() { b.host.Ping(a.inner, 1, 0) })
	b.await(t, "echo reply received")

	b.host.Do(func() {
		if err := b.daemon.Liveness("tunnel"); err != nil {
			t.Error(err)
		}
	})
	b.await(t, "INFORMATIONAL response received")

	a.cancel() // as Ctrl-C does: alice deletes her IKE SA and waits for bob's answer
	select {
	case <-a.done:
	case <-time.After(5 * time.Second):
		t.Fatal("alice did not shut down")
	}
	if n := a.host.IKESAs(); n != 0 {
		t.Errorf("alice still has %d IKE SAs after the shutdown", n)
	}
	if n := b.ikeSAs(); n != 0 {
		t.Errorf("bob still has %d IKE SAs after alice's delete", n)
	}

	checkTrace(t, a.host.Trace, "alice", "bob")
}

// TestLiveICMPv6Echo: with IPv6 inner addresses, a live host answers an ICMPv6 echo
// request that comes through its Child SA, as a simulated node does, and its peer counts
// the replies.
func TestLiveICMPv6Echo(t *testing.T) {
	a, b := establish(t, "fd00:1::1", "fd00:2::1")
	var ping *sim.Ping
	a.host.Do(func() { ping = a.host.Ping(b.inner, 2, 20*time.Millisecond) })
	a.await(t, "echo reply received")
	a.await(t, "echo reply received")
	a.host.Do(func() {
		if ping.Sent != 2 || ping.Answered != 2 {
			t.Errorf("ping: %d sent, %d answered; want 2, 2", ping.Sent, ping.Answered)
		}
	})
	// Bob took each request out of the Child SA and answered it through the SA.
	var requests, replies int
	b.host.Do(func() {
		for _, e := range b.host.Trace.Events {
			switch {
			case e.Kind == trace.KindDrop:
				t.Errorf("bob dropped event %d: %s (%s)", e.Ref(), e.Cause(), e.Text)
			case e.Kind == trace.KindMessage && e.Proto() == "esp" && e.From() == "alice":
				requests++
			case e.Kind == trace.KindMessage && e.Proto() == "esp" && e.From() == "bob":
				replies++
			}
		}
	})
	if requests != 2 || replies != 2 {
		t.Errorf("bob's trace: %d ESP packets from alice, %d to her; want 2, 2", requests, replies)
	}
}

// checkTrace looks at alice's trace as a renderer would.
func checkTrace(t *testing.T, tr *trace.Trace, me, peer string) {
	t.Helper()
	var sent, received, esp, deletes int
	for _, e := range tr.Events {
		if e.Kind != trace.KindMessage {
			continue
		}
		if e.Dissection() == nil || len(e.Bytes()) < 28 {
			t.Errorf("message %d (%s) has no bytes or no dissection", e.Seq, e.Summary())
			continue
		}
		switch {
		case e.From() == me && e.To() == peer:
			sent++
		case e.From() == peer && e.To() == me:
			received++
		default:
			t.Errorf("message %d goes from %q to %q", e.Seq, e.From(), e.To())
		}
		if e.Proto() == "esp" {
			esp++
			if !strings.Contains(e.Summary(), "ICMP echo") {
				t.Errorf("ESP message %d does not show its inner packet: %s", e.Seq, e.Summary())
			}
		}
		if e.Exchange() == "INFORMATIONAL" && len(e.Deletes()) > 0 {
			deletes++
		}
		// Every IKE message, sent or received, dissects from its non-ESP marker on, and
		// its SK payload decrypted.
		if strings.HasPrefix(e.Proto(), "ikev") {
			var marker, decrypted bool
			e.Dissection().Walk(func(f *ike.Field, _ int) {
				marker = marker || f.Name == "Non-ESP Marker"
				decrypted = decrypted || f.Plain != nil
			})
			if !marker {
				t.Errorf("%s %s: no non-ESP marker in the dissection", e.Exchange(), e.Summary())
			}
			if e.Exchange() != "IKE_SA_INIT" && !decrypted {
				t.Errorf("%s %s: SK payload not decrypted in the dissection", e.Exchange(), e.Summary())
			}
		}
	}
	if sent == 0 || received == 0 || esp != 6 || deletes != 1 {
		t.Errorf("%s's trace: %d sent, %d received, %d ESP, %d delete requests; want some, some, 6, 1", me, sent, received, esp, deletes)
	}
}
