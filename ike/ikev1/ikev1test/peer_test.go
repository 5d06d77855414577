package ikev1test_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev1"
	"github.com/ikesim/ikesim/ike/ikev1/ikev1test"
)

var (
	victimAddr = netip.MustParseAddr("192.0.2.1")
	peerAddr   = netip.MustParseAddr("192.0.2.2")
	localNet   = ike.TSFromPrefix(netip.MustParsePrefix("10.2.0.0/24")) // the peer's side
	remoteNet  = ike.TSFromPrefix(netip.MustParsePrefix("10.1.0.0/24")) // the victim's side
)

func setup(t *testing.T, aggressive bool) (*ikev1test.Net, *ikev1test.Peer) {
	t.Helper()
	c, err := ikev1test.SiteToSite(victimAddr, peerAddr, "secret", "aes128-sha256-modp2048", "aes128-sha256", "10.1.0.0/24", "10.2.0.0/24")
	if err != nil {
		t.Fatal(err)
	}
	n, err := ikev1test.NewNet(victimAddr, []*ike.Connection{c}, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := n.NewPeer(ikev1test.PeerConfig{Addr: netip.AddrPortFrom(peerAddr, 500), PSK: []byte("secret"),
		ID: ikev1test.AddrID(peerAddr), Proposals: c.Proposals})
	p.Aggressive = aggressive
	return n, p
}

// TestPeerCompletesPhase1AndQuickMode: the peer completes main and aggressive mode with
// the engine, a quick mode, and a DPD exchange under the ISAKMP SA; the engine installs
// the IPsec SA and answers R-U-THERE.
func TestPeerCompletesPhase1AndQuickMode(t *testing.T) {
	for _, aggressive := range []bool{false, true} {
		n, p := setup(t, aggressive)
		var err error
		if aggressive {
			err = p.AggressiveMode(3)
		} else {
			err = p.MainMode(5)
		}
		if err != nil {
			t.Fatalf("aggressive %v: %v", aggressive, err)
		}
		v := n.Victim
		if len(v.Since(0, ikev1test.KindIKESAUp)) != 1 || !p.Established {
			t.Fatalf("aggressive %v: no ISAKMP SA; errors %v", aggressive, v.Texts(0, ikev1test.KindError))
		}
		esp, _ := ike.ParseProposal("aes128-sha256", ike.ProtoESP)
		if _, err := p.QuickMode(p.MessageID(), esp, 0x1234, localNet, remoteNet); err != nil {
			t.Fatal(err)
		}
		ups := v.Since(0, ikev1test.KindChildSAUp)
		if len(ups) != 1 || ups[0].ChildSA.SPIOut != 0x1234 {
			t.Fatalf("child SAs %v; errors %v", ups, v.Texts(0, ikev1test.KindError))
		}
		id := p.MessageID()
		seq := []byte{0, 0, 0, 7}
		if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeInformational, MessageID: id, Payloads: []ikev1.Payload{
			&ikev1.Notify{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoISAKMP, SPI: p.Cookies(), Type: ikev1.R_U_THERE, Data: seq}}}); err != nil {
			t.Fatal(err)
		}
		r, err := p.Expect(ikev1.ExchangeInformational)
		if err != nil {
			t.Fatal(err)
		}
		if n := r.Msg.Payloads[1].(*ikev1.Notify); n.Type != ikev1.R_U_THERE_ACK || string(n.Data) != string(seq) {
			t.Errorf("answer %v", r.Msg.Payloads)
		}
		n.Advance(time.Minute)
	}
}

// TestAggressiveMessage3InClear: RFC 2409 draws aggressive mode message 3 in clear; the
// engine accepts it so, its HASH_I verified, as it accepts it encrypted.
func TestAggressiveMessage3InClear(t *testing.T) {
	n, p := setup(t, true)
	p.ClearAggressive3 = true
	if err := p.AggressiveMode(3); err != nil {
		t.Fatal(err)
	}
	if len(n.Victim.Since(0, ikev1test.KindIKESAUp)) != 1 {
		t.Fatalf("no ISAKMP SA; victim %v", n.Victim.Since(0, ikev1test.KindDropped, ikev1test.KindError))
	}
}

// TestPeerAsResponder: the engine initiates to the peer, which answers main mode as a
// responder; the engine completes phase 1 and starts quick mode.
func TestPeerAsResponder(t *testing.T) {
	n, p := setup(t, false)
	if err := n.Victim.D.Initiate("site", "net"); err != nil {
		t.Fatal(err)
	}
	if err := p.RespondMainMode(6); err != nil {
		t.Fatal(err)
	}
	if len(n.Victim.Since(0, ikev1test.KindIKESAUp)) != 1 {
		t.Fatalf("no ISAKMP SA; errors %v", n.Victim.Texts(0, ikev1test.KindError))
	}
	if _, err := p.Expect(ikev1.ExchangeQuick); err != nil {
		t.Fatal(err)
	}
}
