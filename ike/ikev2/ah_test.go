package ikev2

import (
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// TestAHChildSA: a child with an AH proposal (and an ESP one after it) against a peer
// that takes AH alone: the Child SA is AH, with an integrity key and no encryption key
// for each direction, and deleting it sends a Delete with protocol AH.
func TestAHChildSA(t *testing.T) {
	p := []string{"aes128-sha256-modp2048"}
	w := newWorld(t)
	ca, cb := conn(t, ipA, ipB, p, nil, "k"), conn(t, ipB, ipA, p, nil, "k")
	ca.Children[0].ESPProposals = []ike.Proposal{mustProposal(t, "sha256", ike.ProtoAH), mustProposal(t, "aes128-sha256", ike.ProtoESP)}
	cb.Children[0].ESPProposals = []ike.Proposal{mustProposal(t, "sha256", ike.ProtoAH)}
	a, ra := w.add(ipA, ca, 1)
	_, rb := w.add(ipB, cb, 2)
	a.Acquire(1)
	w.run(time.Second)
	if len(ra.childUp) != 1 || len(rb.childUp) != 1 {
		t.Fatalf("Child SAs up: %d/%d; errors %v %v", len(ra.childUp), len(rb.childUp), ra.errors, rb.errors)
	}
	ia, ib := ra.childUp[0], rb.childUp[0]
	for _, c := range []*ike.ChildSAInfo{ia, ib} {
		if c.Protocol != ike.ProtoAH || c.Encap || len(c.EncrKeyIn)+len(c.EncrKeyOut) != 0 || len(c.IntegKeyIn) != 32 || len(c.IntegKeyOut) != 32 {
			t.Errorf("Child SA %+v: want AH with 32-byte integrity keys and no encryption keys", c)
		}
	}
	if string(ia.IntegKeyOut) != string(ib.IntegKeyIn) || ia.SPIOut != ib.SPIIn {
		t.Error("the two ends disagree on the AH SA")
	}
	w.sent = nil
	if err := a.Delete("c", "net"); err != nil {
		t.Fatal(err)
	}
	w.run(time.Second)
	if len(ra.childDown) != 1 || len(rb.childDown) != 1 {
		t.Fatalf("Child SAs down: %d/%d", len(ra.childDown), len(rb.childDown))
	}
	found := false
	for _, dg := range w.sent {
		if dg.Info == nil || dg.Info.Response {
			continue
		}
		for _, d := range dg.Info.Deletes {
			if d.Protocol == ike.ProtoAH && uint32(d.SPI) == ia.SPIIn {
				found = true
			}
		}
	}
	if !found {
		t.Error("no Delete with protocol AH was sent")
	}
}
