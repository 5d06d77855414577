package ikev1

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// checkChildPair checks that two IPsec SA pairs mirror each other: A's inbound SPI and
// keys are B's outbound ones and the reverse.
func checkChildPair(t *testing.T, a, b *ike.ChildSAInfo) {
	t.Helper()
	if a.SPIIn != b.SPIOut || a.SPIOut != b.SPIIn {
		t.Errorf("SPIs do not cross: a in %08x out %08x, b in %08x out %08x", a.SPIIn, a.SPIOut, b.SPIIn, b.SPIOut)
	}
	if !bytes.Equal(a.EncrKeyIn, b.EncrKeyOut) || !bytes.Equal(a.IntegKeyIn, b.IntegKeyOut) ||
		!bytes.Equal(a.EncrKeyOut, b.EncrKeyIn) || !bytes.Equal(a.IntegKeyOut, b.IntegKeyIn) {
		t.Error("KEYMAT differs between the peers")
	}
	if bytes.Equal(a.EncrKeyIn, a.EncrKeyOut) && bytes.Equal(a.IntegKeyIn, a.IntegKeyOut) {
		t.Error("both directions have the same key")
	}
	if a.Proposal.String() != b.Proposal.String() {
		t.Errorf("proposals %s and %s", a.Proposal, b.Proposal)
	}
}

// TestPhase1AndQuickMode runs main and aggressive mode with quick mode for several
// algorithm sets, and checks that both sides derive the same keys, report the Cisco
// state names, and that every message decrypts with the IVs of RFC 2409, Appendix B.
func TestPhase1AndQuickMode(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ike, esp   string
		aggressive bool
		encLen     int
	}{
		{"cisco walkthrough", "des-sha1-modp768", "aes192-md5", false, 8},
		{"3des needs Appendix B expansion", "3des-md5-modp1024", "3des-sha1", false, 24},
		{"aes256 with sha1 needs expansion", "aes256-sha1-modp2048", "aes256-sha256", false, 32},
		{"strong", "aes128-sha256-modp2048", "aes128-sha256-modp2048", false, 16},
		{"sha512 and ecp", "aes256-sha512-ecp384", "aes256gcm16-ecp384", false, 32},
		{"aggressive", "aes128-sha1-modp1536", "aes128-sha1", true, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNet(t)
			ca, cb := sitePair(t, tc.ike, tc.esp)
			ca.Aggressive = tc.aggressive
			a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
			a.d.Acquire(ca.Children[0].ReqID)
			n.run(10 * time.Second)
			if len(a.errors)+len(b.errors) > 0 {
				t.Fatalf("errors: %v %v", a.errors, b.errors)
			}
			if len(a.ikeUp) != 1 || len(b.ikeUp) != 1 || len(a.childUp) != 1 || len(b.childUp) != 1 {
				t.Fatalf("SAs up: a %d/%d, b %d/%d", len(a.ikeUp), len(a.childUp), len(b.ikeUp), len(b.childUp))
			}
			ia, ib := a.ikeUp[0], b.ikeUp[0]
			if ia.SPIi != ib.SPIi || ia.SPIr != ib.SPIr || !bytes.Equal(ia.EncKey, ib.EncKey) || len(ia.EncKey) != tc.encLen {
				t.Errorf("ISAKMP SAs differ: %016x/%016x %x vs %016x/%016x %x", ia.SPIi, ia.SPIr, ia.EncKey, ib.SPIi, ib.SPIr, ib.EncKey)
			}
			if !ia.Initiator || ib.Initiator || ia.Version != 1 {
				t.Errorf("roles: a initiator %v, b initiator %v, version %d", ia.Initiator, ib.Initiator, ia.Version)
			}
			checkChildPair(t, a.childUp[0], b.childUp[0])
			want := []string{"IKE_READY → IKE_I_MM1", "IKE_I_MM1 → IKE_I_MM2", "IKE_I_MM2 → IKE_I_MM3", "IKE_I_MM3 → IKE_I_MM4",
				"IKE_I_MM4 → IKE_I_MM5", "IKE_I_MM5 → IKE_I_MM6", "IKE_I_MM6 → IKE_P1_COMPLETE", "IKE_QM_READY → IKE_QM_I_QM1",
				"IKE_QM_I_QM1 → IKE_QM_PHASE2_COMPLETE"}
			wantB := []string{"IKE_READY → IKE_R_MM1", "IKE_R_MM4 → IKE_R_MM5", "IKE_R_MM5 → IKE_P1_COMPLETE",
				"IKE_QM_READY → IKE_QM_SPI_STARVE", "IKE_QM_SPI_STARVE → IKE_QM_R_QM2", "IKE_QM_R_QM2 → IKE_QM_PHASE2_COMPLETE"}
			if tc.aggressive {
				want = []string{"IKE_READY → IKE_I_AM1", "IKE_I_AM1 → IKE_P1_COMPLETE"}
				wantB = []string{"IKE_READY → IKE_R_AM1", "IKE_R_AM1 → IKE_R_AM2", "IKE_R_AM2 → IKE_P1_COMPLETE"}
			}
			for _, s := range want {
				if !has(a.states, s) {
					t.Errorf("initiator never goes %s; states %v", s, a.states)
				}
			}
			for _, s := range wantB {
				if !has(b.states, s) {
					t.Errorf("responder never goes %s; states %v", s, b.states)
				}
			}
			checkDissections(t, n)
		})
	}
}

// TestAggressiveModeShowsIdentity checks that aggressive mode's first message carries
// the identity in clear, and main mode's does not.
func TestAggressiveModeShowsIdentity(t *testing.T) {
	for _, aggressive := range []bool{false, true} {
		n := newTestNet(t)
		ca, cb := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
		ca.Aggressive = aggressive
		n.node("a", "192.0.2.1", ca)
		n.node("b", "192.0.2.2", cb)
		n.nodes[netip.MustParseAddr("192.0.2.1")].d.Acquire(1)
		n.run(5 * time.Second)
		first := n.dgrams[0]
		inClear := bytes.Contains(first.dg.Data, []byte("a.example"))
		if inClear != aggressive {
			t.Errorf("aggressive %v: identity in the first message's bytes: %v", aggressive, inClear)
		}
		if aggressive && (!strings.Contains(first.dg.Info.Summary, "IDii(a.example)") || !slices.Contains(first.dg.Info.Weak, "identity a.example in clear text")) {
			t.Errorf("summary %q, weak %v do not show the identity", first.dg.Info.Summary, first.dg.Info.Weak)
		}
	}
}

// TestWrongPSK: the keys derived from different pre-shared keys differ, so the
// responder cannot read main mode message 5 and says PAYLOAD-MALFORMED, in clear. Neither
// the unreadable message nor the notification in clear ends an SA at once (either could
// be a forgery): the initiator stops retransmitting message 5, waits for a valid answer
// until its phase 1 times out and then fails naming PAYLOAD-MALFORMED; the responder frees
// its half-open SA after 30 s. In aggressive mode the initiator finds HASH_R wrong each
// time the responder answers.
func TestWrongPSK(t *testing.T) {
	n := newTestNet(t)
	ca, cb := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
	cb.Local.PSK, cb.Remote.PSK = []byte("other"), []byte("other")
	a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
	a.d.Acquire(1)
	n.run(2 * time.Minute)
	if len(a.ikeUp)+len(b.ikeUp) != 0 {
		t.Fatal("an ISAKMP SA came up with different pre-shared keys")
	}
	for _, s := range n.dgrams {
		if s.dg.Info.Retransmit {
			t.Errorf("%s retransmits %s after the peer said PAYLOAD-MALFORMED", s.from.name, s.dg.Info.Summary)
		}
	}
	if !has(b.errors, "Main Mode message 5", "PAYLOAD-MALFORMED", "pre-shared keys") {
		t.Errorf("responder errors %v do not say message 5 is malformed", b.errors)
	}
	if !has(b.dropped, "Main Mode message 5", "cannot decrypt") {
		t.Errorf("responder drops %v", b.dropped)
	}
	if !has(a.errors, "PAYLOAD-MALFORMED") {
		t.Errorf("initiator errors %v do not name PAYLOAD-MALFORMED", a.errors)
	}
	if !has(a.states, "IKE_I_MM5 → IKE_DEST_SA") || !has(b.states, "IKE_R_MM4 → IKE_DEST_SA") {
		t.Errorf("states %v / %v", a.states, b.states)
	}
	if !has(b.errors, "half-open") || !slices.Equal(a.failed, []uint32{1}) {
		t.Errorf("responder errors %v lack the half-open timeout, or acquires failed %v", b.errors, a.failed)
	}
	if len(a.d.sas)+len(b.d.sas) != 0 {
		t.Errorf("SAs left: %d / %d", len(a.d.sas), len(b.d.sas))
	}

	n = newTestNet(t)
	ca, cb = sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
	ca.Aggressive = true
	cb.Local.PSK = []byte("other")
	a, b = n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
	a.d.Acquire(1)
	n.run(time.Minute)
	if !has(a.errors, "HASH_R does not verify") || len(a.ikeUp)+len(b.ikeUp) != 0 {
		t.Errorf("aggressive mode: initiator errors %v, SAs up %d", a.errors, len(a.ikeUp)+len(b.ikeUp))
	}
	if !has(a.errors, "phase 1 failed", "HASH_R does not verify") || !slices.Equal(a.failed, []uint32{1}) {
		t.Errorf("aggressive mode: the initiator's end names %v; acquires failed %v", a.errors, a.failed)
	}
}

// TestNoProposalChosen: phase 1 and quick mode proposals that share nothing end in
// NO-PROPOSAL-CHOSEN, which the initiator reports: for phase 1, in clear, only when its
// phase 1 times out (the notification could be forged), for quick mode at once.
func TestNoProposalChosen(t *testing.T) {
	n := newTestNet(t)
	ca, cb := sitePair(t, "3des-sha1-modp1024", "aes128-sha256")
	cb.Proposals = []ike.Proposal{mustProposal(t, "aes256-sha256-modp2048", ike.ProtoIKE)}
	a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
	a.d.Acquire(1)
	n.run(2 * time.Minute)
	if !has(b.errors, "NO-PROPOSAL-CHOSEN", "3des-sha1-modp1024", "aes256-sha256-modp2048") {
		t.Errorf("responder errors %v do not show both sides' proposals", b.errors)
	}
	if !has(a.errors, "NO-PROPOSAL-CHOSEN") {
		t.Errorf("initiator errors %v", a.errors)
	}
	if !slices.ContainsFunc(n.dgrams, func(s sentDatagram) bool { return s.dg.Info.Summary == "HDR, N(NO-PROPOSAL-CHOSEN)" }) {
		t.Error("no Informational with N(NO-PROPOSAL-CHOSEN) on the wire")
	}
	if !slices.Equal(a.failed, []uint32{1}) {
		t.Errorf("acquires failed %v: the queued packets of reqid 1 must be dropped", a.failed)
	}

	n = newTestNet(t)
	ca, cb = sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
	cb.Children[0].ESPProposals = []ike.Proposal{mustProposal(t, "3des-md5", ike.ProtoESP)}
	a, b = n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
	a.d.Acquire(1)
	n.run(5 * time.Second)
	if len(a.ikeUp) != 1 || len(a.childUp) != 0 || !has(a.errors, "NO-PROPOSAL-CHOSEN") || !has(b.errors, "NO-PROPOSAL-CHOSEN", "3des-md5") {
		t.Errorf("quick mode mismatch: ike %d child %d, errors %v / %v", len(a.ikeUp), len(a.childUp), a.errors, b.errors)
	}
	if !slices.Equal(a.failed, []uint32{1}) {
		t.Errorf("acquires failed %v after the quick mode failed", a.failed)
	}
	checkDissections(t, n)
}

// TestInvalidIDInformation: quick mode proxy IDs the responder has no child for.
func TestInvalidIDInformation(t *testing.T) {
	n := newTestNet(t)
	ca, cb := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
	cb.Children[0].RemoteTS = ts("10.9.0.0/24")
	a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
	a.d.Acquire(1)
	n.run(5 * time.Second)
	if !has(b.errors, "INVALID-ID-INFORMATION", "10.1.0.0/24") || !has(a.errors, "INVALID-ID-INFORMATION") || len(a.childUp) != 0 {
		t.Errorf("errors %v / %v, children %d", a.errors, b.errors, len(a.childUp))
	}
}

// TestRetransmission loses main mode message 6 and quick mode message 3 once each: the
// initiator retransmits message 5, the responder answers with message 6 again; the
// responder retransmits quick mode message 2, the initiator answers with message 3 again.
func TestRetransmission(t *testing.T) {
	n := newTestNet(t)
	ca, cb := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
	a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
	lost := map[string]bool{}
	n.drop = func(from *testNode, dg ike.Datagram) bool {
		s := dg.Info.Summary
		if (s == "HDR*, IDir, HASH_R" || s == "HDR*, HASH(3)") && !lost[s] && !dg.Info.Retransmit {
			lost[s] = true
			return true
		}
		return false
	}
	a.d.Acquire(1)
	n.run(30 * time.Second)
	if len(a.childUp) != 1 || len(b.childUp) != 1 || len(a.errors)+len(b.errors) > 0 {
		t.Fatalf("children %d/%d, errors %v %v", len(a.childUp), len(b.childUp), a.errors, b.errors)
	}
	checkChildPair(t, a.childUp[0], b.childUp[0])
	var retrans []string
	for _, s := range n.dgrams {
		if s.dg.Info.Retransmit {
			retrans = append(retrans, s.from.name+": "+s.dg.Info.Summary)
		}
	}
	for _, want := range []string{"a: HDR*, IDii, HASH_I", "b: HDR*, IDir, HASH_R", "b: HDR*, HASH(2), SA, Nr, IDci, IDcr", "a: HDR*, HASH(3)"} {
		if !slices.Contains(retrans, want) {
			t.Errorf("no retransmission %q among %v", want, retrans)
		}
	}
}

// TestGiveUp: a peer that never answers makes the initiator retransmit message 1 with a
// growing timeout (2 s, then 1.8 times longer each time) and give up after five tries.
func TestGiveUp(t *testing.T) {
	n := newTestNet(t)
	ca, _ := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
	a := n.node("a", "192.0.2.1", ca)
	a.d.Acquire(1)
	n.run(2 * time.Minute)
	var gaps []time.Duration
	for i := 1; i < len(n.dgrams); i++ {
		gaps = append(gaps, n.dgrams[i].at.Sub(n.dgrams[i-1].at))
	}
	want := []time.Duration{2 * time.Second, 3600 * time.Millisecond, 6480 * time.Millisecond, 11664 * time.Millisecond}
	if !slices.Equal(gaps, want) {
		t.Errorf("retransmission gaps %v, want %v", gaps, want)
	}
	if !has(a.errors, "giving up") || !has(a.states, "IKE_I_MM1 → IKE_DEST_SA") {
		t.Errorf("errors %v, states %v", a.errors, a.states)
	}
}

// TestXAuthModeConfig runs XAUTH and Mode Config, pull and push, and a wrong password.
func TestXAuthModeConfig(t *testing.T) {
	for _, tc := range []struct {
		name     string
		push     bool
		password string
	}{{"pull", false, "wonderland"}, {"push", true, "wonderland"}, {"wrong password", false, "guess"}} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNet(t)
			ca, cb := sitePair(t, "aes128-sha1-modp2048", "aes128-sha1")
			ca.Children[0].LocalTS = nil // dynamic: the virtual IP
			cb.Children[0].RemoteTS = ts("10.10.10.0/24")
			ca.XAuth = &ike.XAuthConfig{User: "alice", Password: tc.password}
			cb.XAuth = &ike.XAuthConfig{Users: map[string]string{"alice": "wonderland"}}
			ca.RequestVIP = true
			cb.Pools = []netip.Prefix{netip.MustParsePrefix("10.10.10.0/24")}
			cb.DNS = []netip.Addr{netip.MustParseAddr("10.2.0.53")}
			ca.ModeConfigPush, cb.ModeConfigPush = tc.push, tc.push
			a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
			if err := a.d.Initiate("a-b", ""); err != nil {
				t.Fatal(err)
			}
			n.run(10 * time.Second)
			if tc.password != "wonderland" {
				if len(a.childUp) != 0 || !has(b.errors, "XAUTH", "alice") || !has(a.errors, "XAUTH failed") {
					t.Errorf("children %d, errors %v / %v", len(a.childUp), a.errors, b.errors)
				}
				return
			}
			if a.vip != netip.MustParseAddr("10.10.10.1") {
				t.Fatalf("virtual IP %v; errors %v %v", a.vip, a.errors, b.errors)
			}
			if len(a.childUp) != 1 || a.childUp[0].LocalTS[0].String() != "10.10.10.1/32" {
				t.Fatalf("children %v", a.childUp)
			}
			checkChildPair(t, a.childUp[0], b.childUp[0])
			for _, s := range []string{"IKE_P1_COMPLETE → IKE_XAUTH_REPLY_SENT"} {
				if !has(a.states, s) {
					t.Errorf("client states %v lack %s", a.states, s)
				}
			}
			gw := "IKE_P1_COMPLETE → IKE_XAUTH_REQ_SENT"
			if tc.push && !has(b.states, "IKE_P1_COMPLETE → IKE_CONFIG_MODE_SET_SENT") {
				t.Errorf("gateway states %v lack the push", b.states)
			}
			if !tc.push && !has(a.states, "IKE_P1_COMPLETE → IKE_CONFIG_MODE_REQ_SENT") {
				t.Errorf("client states %v lack the pull", a.states)
			}
			if !has(b.states, gw) || !has(a.actions, "DNS server(s) [10.2.0.53]") {
				t.Errorf("gateway states %v, client actions lack the DNS server", b.states)
			}
			// The password is inside the encrypted transaction, never in clear.
			for _, s := range n.dgrams {
				if bytes.Contains(s.dg.Data, []byte("wonderland")) {
					t.Error("the XAUTH password travels in clear")
				}
			}
			checkDissections(t, n)
		})
	}
}

// TestDPD: an answered R-U-THERE keeps the SA; when the peer goes silent, the tries run
// out and the SAs are cleared.
func TestDPD(t *testing.T) {
	n := newTestNet(t)
	ca, cb := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
	ca.DPDDelay = 10 * time.Second
	a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
	a.d.Acquire(1)
	n.run(15 * time.Second)
	if !has(b.actions, "R-U-THERE") || !has(a.actions, "R-U-THERE-ACK", "alive") {
		t.Fatalf("no DPD exchange: %v", a.actions)
	}
	n.drop = func(*testNode, ike.Datagram) bool { return true }
	n.run(60 * time.Second)
	if !has(a.errors, "DPD", "dead") || len(a.childDn) != 1 || len(a.ikeDown) != 1 {
		t.Errorf("errors %v, children down %d, ISAKMP SAs down %d", a.errors, len(a.childDn), len(a.ikeDown))
	}
	var seqs []string
	for _, s := range n.dgrams {
		if s.from == a && strings.Contains(s.dg.Info.Summary, "R-U-THERE)") {
			seqs = append(seqs, s.dg.Info.Dissect().Find("Notification Data").Value)
		}
	}
	if len(seqs) < 3 || seqs[1] == seqs[2] {
		t.Errorf("R-U-THERE sequence numbers %v: each try needs a new one", seqs)
	}
	checkDissections(t, n)
}

// TestRekeyAndDelete rekeys the IPsec SA (the old one stays until it expires, as
// strongSwan keeps it) and the ISAKMP SA, then deletes everything.
func TestRekeyAndDelete(t *testing.T) {
	n := newTestNet(t)
	ca, cb := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
	a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
	a.d.Acquire(1)
	n.run(2 * time.Second)
	if err := a.d.Rekey("a-b", "net"); err != nil {
		t.Fatal(err)
	}
	n.run(4 * time.Second)
	if len(a.childUp) != 2 || a.childUp[1].Rekeyed != a.childUp[0].SPIIn || len(a.childDn) != 0 || len(b.childDn) != 0 {
		t.Fatalf("child rekey: up %d (rekeyed %08x), down %d/%d; errors %v %v", len(a.childUp), a.childUp[len(a.childUp)-1].Rekeyed,
			len(a.childDn), len(b.childDn), a.errors, b.errors)
	}
	checkChildPair(t, a.childUp[1], b.childUp[1])
	if err := a.d.Rekey("a-b", ""); err != nil {
		t.Fatal(err)
	}
	n.run(10 * time.Second)
	if len(a.ikeUp) != 2 || len(b.ikeUp) != 2 || len(a.ikeDown) != 1 || len(b.ikeDown) != 1 || a.ikeUp[1].SPIi == a.ikeUp[0].SPIi {
		t.Fatalf("phase 1 rekey: up %d/%d down %d/%d; errors %v %v", len(a.ikeUp), len(b.ikeUp), len(a.ikeDown), len(b.ikeDown), a.errors, b.errors)
	}
	if len(a.childDn) != 0 || len(b.childDn) != 0 {
		t.Errorf("the phase 1 rekey took IPsec SAs down: %d/%d", len(a.childDn), len(b.childDn))
	}
	if err := a.d.Delete("a-b", ""); err != nil {
		t.Fatal(err)
	}
	n.run(12 * time.Second)
	if len(a.childDn) != 2 || len(b.childDn) != 2 || len(a.ikeDown) != 2 || len(b.ikeDown) != 2 {
		t.Errorf("delete: children down %d/%d, ISAKMP down %d/%d", len(a.childDn), len(b.childDn), len(a.ikeDown), len(b.ikeDown))
	}
	if len(a.errors)+len(b.errors) > 0 {
		t.Errorf("errors %v %v", a.errors, b.errors)
	}
	checkDissections(t, n)
}

// TestForcedEncap: with encap set the NAT-D source hash is made wrong, so both sides
// float to UDP 4500 and negotiate UDP-encapsulated tunnel mode.
func TestForcedEncap(t *testing.T) {
	n := newTestNet(t)
	ca, cb := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
	ca.Encap = true
	a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
	a.d.Acquire(1)
	n.run(5 * time.Second)
	if len(a.childUp) != 1 || !a.childUp[0].Encap || !b.childUp[0].Encap || a.childUp[0].Local.Port() != 4500 || b.childUp[0].Remote.Port() != 4500 {
		t.Fatalf("children %+v %+v; errors %v %v", a.childUp, b.childUp, a.errors, b.errors)
	}
	for _, s := range n.dgrams {
		if strings.HasPrefix(s.dg.Info.Summary, "HDR*") && (s.dg.Local.Port() != 4500 || s.dg.Remote.Port() != 4500) {
			t.Errorf("%s: %s sent on %v → %v, want UDP 4500", s.from.name, s.dg.Info.Summary, s.dg.Local, s.dg.Remote)
		}
	}
	if f := n.dgrams[4].dg.Info.Dissect(); f.Find("Decrypted payloads") == nil {
		t.Error("message 5 does not decrypt")
	}
	if !has(b.actions, "NAT-D", "peer is behind a NAT") {
		t.Errorf("responder actions lack the NAT verdict")
	}
}

// TestSeveralProposals: the initiator offers several phase 1 transforms and several
// quick mode proposals; the responder takes its own first preference among them and
// answers with the chosen transform, under the number the initiator gave it.
func TestSeveralProposals(t *testing.T) {
	n := newTestNet(t)
	ca, cb := sitePair(t, "des-sha1-modp768", "3des-md5")
	ca.Proposals = append(ca.Proposals, mustProposal(t, "aes128-aes256-sha256-modp2048", ike.ProtoIKE))
	ca.Children[0].ESPProposals = append(ca.Children[0].ESPProposals, mustProposal(t, "aes128-sha256", ike.ProtoESP),
		mustProposal(t, "aes256-sha256-modp2048", ike.ProtoESP))
	cb.Proposals = []ike.Proposal{mustProposal(t, "aes256-sha256-modp2048", ike.ProtoIKE)}
	cb.Children[0].ESPProposals = []ike.Proposal{mustProposal(t, "aes128-sha256", ike.ProtoESP)}
	a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
	a.d.Acquire(1)
	n.run(5 * time.Second)
	if len(a.ikeUp) != 1 || a.ikeUp[0].Proposal.String() != "aes256-sha256-modp2048" {
		t.Fatalf("phase 1 chose %v; errors %v %v", a.ikeUp, a.errors, b.errors)
	}
	if len(a.childUp) != 1 || a.childUp[0].Proposal.String() != "aes128-sha256" {
		t.Fatalf("quick mode chose %v; errors %v %v", a.childUp, a.errors, b.errors)
	}
	m1, _ := Parse(n.dgrams[0].dg.Data)
	m2, _ := Parse(n.dgrams[1].dg.Data)
	offer, answer := payloadOf[*SA](m1.Payloads), payloadOf[*SA](m2.Payloads)
	if len(offer.Proposals) != 1 || len(offer.Proposals[0].Transforms) != 3 {
		t.Errorf("main mode offer holds %d proposals, first with %d transforms; want 1 with 3", len(offer.Proposals), len(offer.Proposals[0].Transforms))
	}
	if tr := answer.Proposals[0].Transforms; len(tr) != 1 || tr[0].Number != 3 {
		t.Errorf("the responder's answer %+v does not repeat transform #3", tr)
	}
	if !has(b.actions, "Accept aes128-sha256 (transform #1 of proposal #2)") {
		t.Errorf("responder actions do not name proposal #2")
	}
}

// FuzzHandleDatagram feeds any bytes to a responder that accepts the reference captures'
// proposals: it must never panic, whatever state the bytes drive it into.
func FuzzHandleDatagram(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		n := newTestNet(t)
		_, cb := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256-modp2048")
		cb.LocalAddrs, cb.RemoteAddrs = nil, nil
		cb.Remote.ID = ike.Identity{}
		nd := n.node("b", "192.0.2.2", cb)
		from := netip.MustParseAddrPort("192.0.2.1:500")
		nd.d.HandleDatagram(netip.MustParseAddrPort("192.0.2.2:500"), from, b)
		nd.d.HandleDatagram(netip.MustParseAddrPort("192.0.2.2:500"), from, b)
		n.run(time.Minute)
	})
}

// TestRekeyKeepsVirtualIP rekeys the ISAKMP SA of a Mode Config client: the gateway asks
// for XAUTH again on the new SA, the client keeps its virtual IP and its IPsec SA.
func TestRekeyKeepsVirtualIP(t *testing.T) {
	n := newTestNet(t)
	ca, cb := sitePair(t, "aes128-sha1-modp2048", "aes128-sha1")
	ca.Children[0].LocalTS, cb.Children[0].RemoteTS = nil, ts("10.10.10.0/24")
	ca.XAuth = &ike.XAuthConfig{User: "alice", Password: "wonderland"}
	cb.XAuth = &ike.XAuthConfig{Users: map[string]string{"alice": "wonderland"}}
	ca.RequestVIP, cb.Pools = true, []netip.Prefix{netip.MustParsePrefix("10.10.10.0/24")}
	a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
	if err := a.d.Initiate("a-b", ""); err != nil {
		t.Fatal(err)
	}
	n.run(5 * time.Second)
	if err := a.d.Rekey("a-b", ""); err != nil {
		t.Fatal(err)
	}
	n.run(10 * time.Second)
	if len(a.ikeUp) != 2 || len(b.ikeUp) != 2 || len(a.ikeDown) != 1 || len(b.ikeDown) != 1 {
		t.Fatalf("ISAKMP SAs up %d/%d down %d/%d; errors %v %v", len(a.ikeUp), len(b.ikeUp), len(a.ikeDown), len(b.ikeDown), a.errors, b.errors)
	}
	if a.vip != netip.MustParseAddr("10.10.10.1") || len(a.childDn) != 0 || len(b.childDn) != 0 {
		t.Errorf("virtual IP %v, IPsec SAs down %d/%d", a.vip, len(a.childDn), len(b.childDn))
	}
	if got := b.d.leases[netip.MustParseAddr("10.10.10.1")]; got != "a.example" {
		t.Errorf("lease of 10.10.10.1 is %q", got)
	}
	if len(a.errors)+len(b.errors) > 0 {
		t.Errorf("errors %v %v", a.errors, b.errors)
	}
	checkDissections(t, n)
}
