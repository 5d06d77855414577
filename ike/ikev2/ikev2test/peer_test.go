package ikev2test

import (
	"net/netip"
	"testing"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev2"
)

const (
	victimAddr = "192.0.2.1"
	peerAddr   = "192.0.2.66"
	ikeProp    = "aes128-sha256-x25519"
	espProp    = "aes128-sha256"
)

func mustProposal(t *testing.T, s string) ike.Proposal {
	t.Helper()
	p, err := ike.ParseProposal(s, ike.ProtoESP)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// victimAndPeer puts a daemon with a PSK connection to the peer's address on a new Net,
// and the peer.
func victimAndPeer(t *testing.T, seed uint64) (*ikev2.Daemon, *Recorder, *Peer) {
	t.Helper()
	n := NewNet(seed)
	c, err := PSKConn(victimAddr, peerAddr, "k", ikeProp, espProp)
	if err != nil {
		t.Fatal(err)
	}
	d, rec, err := n.Daemon(victimAddr, c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPeer(n, peerAddr+":500", victimAddr+":500", ikeProp)
	if err != nil {
		t.Fatal(err)
	}
	return d, rec, p
}

// TestPeerBringsUpAnIKESA: Init and AuthPSK are a correct initiator, so a victim that
// follows RFC 7296 establishes the IKE SA and the Child SA the peer proposes.
func TestPeerBringsUpAnIKESA(t *testing.T) {
	d, rec, p := victimAndPeer(t, 1)
	if _, err := p.Init(); err != nil {
		t.Fatal(err)
	}
	resp, err := p.AuthPSK(ID(peerAddr), []byte("k"), &ikev2.ID{Responder: true, Type: ikev2.IDFQDN, Data: ID(victimAddr).Value},
		ChildSA(0x1234, mustProposal(t, espProp)), TS(false, netip.MustParsePrefix(peerAddr+"/32")),
		TS(true, netip.MustParsePrefix(victimAddr+"/32")))
	if err != nil {
		t.Fatal(err)
	}
	if a := payload[*ikev2.Auth](resp.Inner()); a == nil {
		t.Fatalf("IKE_AUTH response %s has no AUTH; victim errors %v", ikev2.Summary(resp, false), rec.Errors)
	}
	sas := d.SAs()
	if len(sas) != 1 || sas[0].State != "ESTABLISHED" || len(sas[0].Children) != 1 || sas[0].NextPeerID != 2 {
		t.Fatalf("victim SAs %+v, want one ESTABLISHED with a child, expecting request 2", sas)
	}
	if got := sas[0].Children[0].SPIOut; got != 0x1234 {
		t.Errorf("victim sends on SPI %#x, want the peer's 0x1234", got)
	}
	// A liveness check from the peer gets an empty protected response.
	got := p.Roundtrip(p.Protect(p.Header(ikev2.INFORMATIONAL, p.NextID, false)))
	if len(got) != 1 || got[0].Err != nil || !got[0].Msg.IsResponse() || len(got[0].Msg.Inner()) != 0 {
		t.Fatalf("liveness check answered with %+v", got)
	}
}

// TestRogueResponderHoldsTheKeys: Serve answers a victim initiator's IKE_SA_INIT, and
// the victim's IKE_AUTH request opens with the keys the peer derived.
func TestRogueResponderHoldsTheKeys(t *testing.T) {
	d, _, p := victimAndPeer(t, 2)
	d.Acquire(1)
	if _, err := p.Serve(); err != nil {
		t.Fatal(err)
	}
	auth := p.Await(awaitTime, func(m *ikev2.Message) bool { return m.Exchange == ikev2.IKE_AUTH })
	if auth == nil || !auth.Encrypted().Decrypted {
		t.Fatalf("no IKE_AUTH request the peer could open: %v", auth)
	}
	if id := payload[*ikev2.ID](auth.Inner()); id == nil || string(id.Data) != "node-"+victimAddr {
		t.Errorf("IKE_AUTH request %s does not carry the victim's IDi", ikev2.Summary(auth, true))
	}
}
