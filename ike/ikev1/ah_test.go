package ikev1

import (
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// ahSitePair is sitePair with a child of AH proposals ah and ESP proposals esp.
func ahSitePair(t *testing.T, ah, esp []string) (ca, cb *ike.Connection) {
	t.Helper()
	ca, cb = sitePair(t, "aes128-sha1-modp2048", "aes128-sha1")
	for _, c := range []*ike.Connection{ca, cb} {
		c.Children[0].ESPProposals = nil
		for _, s := range ah {
			c.Children[0].ESPProposals = append(c.Children[0].ESPProposals, mustProposal(t, s, ike.ProtoAH))
		}
		for _, s := range esp {
			c.Children[0].ESPProposals = append(c.Children[0].ESPProposals, mustProposal(t, s, ike.ProtoESP))
		}
	}
	return ca, cb
}

// TestAHInQuickMode negotiates AH alone and the AH+ESP bundle of a Cisco transform set
// "ah-sha-hmac esp-aes": the SA payloads, the SA pairs each side reports, their keys
// (KEYMAT takes the protocol and SPI of each part), and the deletes of both parts.
func TestAHInQuickMode(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ah, esp   []string
		payloads  []ProtocolID // of the offer and of the answer
		protocols []ike.Protocol
	}{
		{"AH alone", []string{"sha256"}, nil, []ProtocolID{ProtoIPsecAH}, []ike.Protocol{ike.ProtoAH}},
		{"ah-sha-hmac esp-aes", []string{"sha1"}, []string{"aes128"}, []ProtocolID{ProtoIPsecAH, ProtoIPsecESP},
			[]ike.Protocol{ike.ProtoAH, ike.ProtoESP}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNet(t)
			ca, cb := ahSitePair(t, tc.ah, tc.esp)
			a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
			a.d.Acquire(ca.Children[0].ReqID)
			n.run(5 * time.Second)
			if len(a.errors)+len(b.errors) > 0 || len(a.childUp) != len(tc.protocols) || len(b.childUp) != len(tc.protocols) {
				t.Fatalf("SA pairs up %d/%d, want %d; errors %v %v", len(a.childUp), len(b.childUp), len(tc.protocols), a.errors, b.errors)
			}
			for i, p := range tc.protocols {
				ia, ib := a.childUp[i], b.childUp[i]
				if ia.Protocol != p || ib.Protocol != p || ia.ReqID != a.childUp[0].ReqID {
					t.Errorf("SA pair %d is %v/%v, want %v", i, ia.Protocol, ib.Protocol, p)
				}
				checkChildPair(t, ia, ib)
				bundled := p == ike.ProtoAH && len(tc.protocols) == 2
				if ia.Bundle != bundled || ia.Encap {
					t.Errorf("SA pair %d: bundle %v encap %v, want bundle %v", i, ia.Bundle, ia.Encap, bundled)
				}
				if p == ike.ProtoAH && (len(ia.EncrKeyIn) != 0 || len(ia.IntegKeyIn) != ike.Integ(ia.Proposal.Transforms[0].ID).KeySize) {
					t.Errorf("AH keys: encr %d bytes, integ %d bytes", len(ia.EncrKeyIn), len(ia.IntegKeyIn))
				}
			}
			if len(tc.protocols) == 2 && string(a.childUp[0].IntegKeyIn[:16]) == string(a.childUp[1].EncrKeyIn) {
				t.Error("AH and ESP share key material: KEYMAT must take each protocol and SPI")
			}
			for i := range 2 { // quick mode messages 1 and 2, after main mode's six
				info := n.dgrams[6+i].dg.Info
				if info == nil || info.Exchange != "Quick Mode" {
					t.Fatalf("message %d is %+v, want quick mode", 7+i, info)
				}
				var got []ProtocolID
				for _, c := range info.Creates {
					got = append(got, ProtocolID(c.Protocol))
				}
				if len(got) != len(tc.payloads) || got[0] != tc.payloads[0] {
					t.Errorf("message %d: proposal payloads %v, want %v", 7+i, got, tc.payloads)
				}
			}
			if err := a.d.Delete("a-b", "net"); err != nil {
				t.Fatal(err)
			}
			n.run(8 * time.Second)
			if len(a.childDn) != len(tc.protocols) || len(b.childDn) != len(tc.protocols) {
				t.Errorf("SA pairs down %d/%d, want %d", len(a.childDn), len(b.childDn), len(tc.protocols))
			}
			var deleted []ProtocolID
			for _, s := range n.dgrams {
				if s.from == a && s.dg.Info != nil {
					for _, d := range s.dg.Info.Deletes {
						deleted = append(deleted, ProtocolID(d.Protocol))
					}
				}
			}
			if len(deleted) != len(tc.protocols) {
				t.Errorf("deletes for %v, want one for each of %v", deleted, tc.protocols)
			}
		})
	}
}

// TestAHBehindNATRefused: AH cannot be UDP-encapsulated (RFC 3948 leaves it out, as it
// covers the outer addresses a NAT rewrites). An initiator whose NAT detection found a
// NAT (here: forced, as encap: yes does) starts no Quick Mode for a child with AH, AH
// alone or an AH+ESP bundle, and says why; its acquire fails. A responder behind a NAT
// refuses an AH offer in UDP encapsulation mode with NO-PROPOSAL-CHOSEN, saying why.
func TestAHBehindNATRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ah, esp []string
	}{
		{"AH alone", []string{"sha256"}, nil},
		{"ah-sha-hmac esp-aes", []string{"sha1"}, []string{"aes128"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNet(t)
			ca, cb := ahSitePair(t, tc.ah, tc.esp)
			ca.Encap = true // NAT detection says there is a NAT
			a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
			a.d.Acquire(ca.Children[0].ReqID)
			n.run(5 * time.Second)
			if len(a.ikeUp) != 1 || len(b.ikeUp) != 1 {
				t.Fatalf("ISAKMP SAs up %d/%d, want 1 each; errors %v %v", len(a.ikeUp), len(b.ikeUp), a.errors, b.errors)
			}
			if len(a.childUp)+len(b.childUp) != 0 {
				t.Errorf("SA pairs up %d/%d behind a NAT, want none", len(a.childUp), len(b.childUp))
			}
			if !has(a.errors, "AH cannot cross the NAT", "RFC 3948") || len(a.failed) != 1 || len(b.errors) != 0 {
				t.Errorf("errors %q / %q, failed acquires %v: want a's one naming the cause", a.errors, b.errors, a.failed)
			}
			for _, s := range n.dgrams {
				if s.dg.Info != nil && s.dg.Info.Exchange == "Quick Mode" {
					t.Errorf("a Quick Mode message was sent: %+v", s.dg.Info)
				}
			}
		})
	}
	t.Run("responder", func(t *testing.T) {
		ah := mustProposal(t, "sha256", ike.ProtoAH)
		offer, err := IPsecOffer([]ike.Proposal{ah}, 0, 0x1234, EncapUDPTunnel, time.Hour, 0)
		if err != nil {
			t.Fatal(err)
		}
		child := &ike.ChildConfig{Name: "net", ESPProposals: []ike.Proposal{ah}}
		qm := &quickMode{sa: &isakmpSA{natRemote: true}, cfg: child}
		if main, _, why := qm.selectAH(offer, nil); main != nil || !strings.Contains(why, "AH cannot cross the NAT") {
			t.Errorf("behind a NAT: chose %+v, why %q", main, why)
		}
		qm.sa.natRemote = false // without a NAT, the same AH in tunnel mode is taken
		offer, _ = IPsecOffer([]ike.Proposal{ah}, 0, 0x1234, EncapTunnel, time.Hour, 0)
		if main, _, why := qm.selectAH(offer, nil); main == nil {
			t.Errorf("without a NAT: %s", why)
		}
	})
}
