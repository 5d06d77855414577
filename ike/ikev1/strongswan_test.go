package ikev1

import (
	"slices"
	"testing"
	"time"
)

// Choices the RFCs leave open, made as strongSwan makes them (its captures in
// ike/testenv/testdata/captures show them on the wire).

// TestAggressiveResponderNATDBeforeHash: the responder's aggressive mode message puts
// the NAT-D payloads before HASH_R, as RFC 3947, Section 4 shows it
// ("HDR, SA, KE, Nr, IDir, [CERT,] VID, NAT-D, NAT-D, SIG_R/HASH_R") and strongSwan
// sends it.
func TestAggressiveResponderNATDBeforeHash(t *testing.T) {
	n := newTestNet(t)
	ca, cb := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
	ca.Aggressive, cb.Aggressive = true, true
	a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
	a.d.Acquire(1)
	n.run(2 * time.Second)
	if len(a.ikeUp) != 1 {
		t.Fatalf("aggressive mode did not complete: errors %v %v", a.errors, b.errors)
	}
	var types []PayloadType
	for _, s := range n.dgrams {
		if s.from != b {
			continue
		}
		m, err := Parse(s.dg.Data)
		if err != nil || m.Exchange != ExchangeAggressive {
			continue
		}
		for _, p := range m.Payloads {
			types = append(types, p.PayloadType())
		}
		break
	}
	want := []PayloadType{PayloadSA, PayloadKE, PayloadNonce, PayloadID, PayloadVendor, PayloadVendor, PayloadNATD, PayloadNATD, PayloadHash}
	if !slices.Equal(types, want) {
		t.Errorf("responder's aggressive mode message: payloads %v, want %v", types, want)
	}
}

// TestQuickModeRekeyKeepsOldSA: after a quick mode rekeys an IPsec SA, the old one stays
// installed until its lifetime ends, as strongSwan keeps it (charon.delete_rekeyed = no):
// no Delete right after the rekey; both go when the ISAKMP SA is deleted, each with its
// own Delete.
func TestQuickModeRekeyKeepsOldSA(t *testing.T) {
	n := newTestNet(t)
	ca, cb := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
	a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
	a.d.Acquire(1)
	n.run(2 * time.Second)
	if err := a.d.Rekey("a-b", "net"); err != nil {
		t.Fatal(err)
	}
	n.run(4 * time.Second)
	if len(a.childUp) != 2 || len(a.childDn)+len(b.childDn) != 0 {
		t.Fatalf("after the rekey: up %d, down %d/%d: the old IPsec SA must stay", len(a.childUp), len(a.childDn), len(b.childDn))
	}
	deletes := func() int {
		d := 0
		for _, s := range n.dgrams {
			if m, err := Parse(s.dg.Data); err == nil && m.Exchange == ExchangeInformational && s.from == a {
				d++
			}
		}
		return d
	}
	if d := deletes(); d != 0 {
		t.Errorf("%d informational messages after the rekey, want none", d)
	}
	if err := a.d.Delete("a-b", ""); err != nil {
		t.Fatal(err)
	}
	n.run(6 * time.Second)
	if len(a.childDn) != 2 || len(b.childDn) != 2 || len(a.ikeDown) != 1 || len(b.ikeDown) != 1 {
		t.Errorf("delete: IPsec SAs down %d/%d, ISAKMP SAs down %d/%d", len(a.childDn), len(b.childDn), len(a.ikeDown), len(b.ikeDown))
	}
	if d := deletes(); d != 3 {
		t.Errorf("%d informational messages for the delete, want 3 (two IPsec SAs, the ISAKMP SA)", d)
	}
}
