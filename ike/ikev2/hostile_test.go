package ikev2_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev2"
	"github.com/ikesim/ikesim/ike/ikev2/ikev2test"
)

// The engine against a hostile peer (ikev2test.Peer): each test here is one way an
// attacker, or a peer that holds the IKE SA's keys but breaks the rules, tried to make
// the engine change state, and what RFC 7296 requires instead.

const (
	victim   = "192.0.2.1"
	attacker = "192.0.2.66"
	ikeProp  = "aes128-sha256-x25519"
	espProp  = "aes128-sha256"
	psk      = "k"
)

// peerESPSPI is the inbound SPI of the Child SA the attacker proposes in IKE_AUTH.
const peerESPSPI = 0x1234

var (
	victimPort   = netip.MustParseAddrPort(victim + ":500")
	attackerPort = netip.MustParseAddrPort(attacker + ":500")
)

// bench is a victim daemon and an attacker on one Net.
type bench struct {
	c   *ike.Connection // the victim's connection
	n   *ikev2test.Net
	d   *ikev2.Daemon
	rec *ikev2test.Recorder
	p   *ikev2test.Peer
	esp ike.Proposal
}

func newBench(t testing.TB, seed uint64) *bench {
	t.Helper()
	n := ikev2test.NewNet(seed)
	c, err := ikev2test.PSKConn(victim, attacker, psk, ikeProp, espProp)
	if err != nil {
		t.Fatal(err)
	}
	d, rec, err := n.Daemon(victim, c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ikev2test.NewPeer(n, attackerPort.String(), victimPort.String(), ikeProp)
	if err != nil {
		t.Fatal(err)
	}
	return &bench{c: c, n: n, d: d, rec: rec, p: p, esp: c.Children[0].ESPProposals[0]}
}

// halfOpen has the attacker complete IKE_SA_INIT only: the victim is a responder
// waiting for IKE_AUTH.
func (b *bench) halfOpen(t testing.TB) {
	t.Helper()
	if _, err := b.p.Init(); err != nil {
		t.Fatal(err)
	}
}

// established has the attacker bring the IKE SA and one Child SA up as initiator.
func (b *bench) established(t testing.TB) {
	t.Helper()
	b.halfOpen(t)
	resp, err := b.p.AuthPSK(ikev2test.ID(attacker), []byte(psk), b.childPayloads(peerESPSPI)...)
	if err != nil {
		t.Fatal(err)
	}
	if s := b.sa(t); s.State != "ESTABLISHED" || len(s.Children) != 1 {
		t.Fatalf("victim SA %+v after IKE_AUTH %s; errors %v", s, ikev2.Summary(resp, false), b.rec.Errors)
	}
}

// rogue has the victim initiate and the attacker answer IKE_SA_INIT as a rogue
// responder: the victim has sent IKE_AUTH and waits for the answer.
func (b *bench) rogue(t testing.TB) {
	t.Helper()
	b.d.Acquire(1)
	if _, err := b.p.Serve(); err != nil {
		t.Fatal(err)
	}
	if b.p.Await(time.Second, func(m *ikev2.Message) bool { return m.Exchange == ikev2.IKE_AUTH }) == nil {
		t.Fatal("the victim sent no IKE_AUTH request")
	}
}

// sa is the victim's only IKE SA.
func (b *bench) sa(t testing.TB) ikev2.SAStatus {
	t.Helper()
	sas := b.d.SAs()
	if len(sas) != 1 {
		t.Fatalf("victim has %d IKE SAs, want 1: %+v", len(sas), sas)
	}
	return sas[0]
}

// childPayloads proposes a Child SA between the two addresses with inbound SPI spi:
// SA, TSi, TSr; CREATE_CHILD_SA adds a nonce.
func (b *bench) childPayloads(spi uint32) []ikev2.Payload {
	return []ikev2.Payload{ikev2test.ChildSA(spi, b.esp),
		ikev2test.TS(false, netip.PrefixFrom(attackerPort.Addr(), 32)), ikev2test.TS(true, netip.PrefixFrom(victimPort.Addr(), 32))}
}

// newChild is a CREATE_CHILD_SA request body for a new Child SA.
func (b *bench) newChild(spi uint32) []ikev2.Payload {
	ps := b.childPayloads(spi)
	return []ikev2.Payload{ps[0], &ikev2.Nonce{Data: bytes.Repeat([]byte{7}, 32)}, ps[1], ps[2]}
}

// rekeyIKE is a CREATE_CHILD_SA request body that rekeys the IKE SA with a new SPI.
func (b *bench) rekeyIKE(t testing.TB) []ikev2.Payload {
	t.Helper()
	priv, err := ike.DH(ike.Curve25519).Generate(b.p.Rand)
	if err != nil {
		t.Fatal(err)
	}
	return []ikev2.Payload{ikev2.NewSA(ikev2test.SPI64(0x0123456789abcdef), b.p.Proposal),
		&ikev2.Nonce{Data: bytes.Repeat([]byte{8}, 32)}, &ikev2.KE{Group: ike.Curve25519, Data: priv.Public()}}
}

// silent fails the test when the victim answered.
func silent(t *testing.T, got []ikev2test.Received, what string) {
	t.Helper()
	if len(got) != 0 {
		t.Errorf("%s: the victim answered %s, want silence", what, summaries(got))
	}
}

// refused sends a request before IKE_AUTH completed and fails the test when the victim
// answers it or brings an SA up.
func (b *bench) refused(t *testing.T, what string, raw []byte) {
	t.Helper()
	silent(t, b.p.Roundtrip(raw), what)
	if len(b.rec.ChildUp) != 0 || len(b.rec.IKEUp) != 0 {
		t.Errorf("SAs came up: %d IKE, %d Child", len(b.rec.IKEUp), len(b.rec.ChildUp))
	}
}

func summaries(got []ikev2test.Received) []string {
	var s []string
	for _, r := range got {
		if r.Msg == nil {
			s = append(s, "unparsable")
			continue
		}
		s = append(s, r.Msg.Exchange.String()+" "+ikev2.Summary(r.Msg, !r.Msg.IsResponse()))
	}
	return s
}

// TestNoChildSABeforeIKEAuth: a peer that completed only IKE_SA_INIT holds keys, but
// CREATE_CHILD_SA and INFORMATIONAL are for after the initial exchanges (RFC 7296,
// Sections 1.3 and 1.4). The victim answers neither, creates nothing and moves no
// window; a CREATE_CHILD_SA ends the half-open SA as strongSwan ends it.
func TestNoChildSABeforeIKEAuth(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ex      ikev2.ExchangeType
		body    func(*bench, *testing.T) []ikev2.Payload
		destroy bool
	}{
		{"new Child SA", ikev2.CREATE_CHILD_SA, func(b *bench, _ *testing.T) []ikev2.Payload { return b.newChild(0x5678) }, true},
		{"IKE SA rekey", ikev2.CREATE_CHILD_SA, func(b *bench, t *testing.T) []ikev2.Payload { return b.rekeyIKE(t) }, true},
		{"liveness", ikev2.INFORMATIONAL, func(*bench, *testing.T) []ikev2.Payload { return nil }, false},
		{"delete IKE SA", ikev2.INFORMATIONAL, func(*bench, *testing.T) []ikev2.Payload {
			return []ikev2.Payload{&ikev2.Delete{Protocol: ike.ProtoIKE}}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBench(t, 1)
			b.halfOpen(t)
			b.refused(t, tc.name, b.p.Protect(b.p.Header(tc.ex, 1, false), tc.body(b, t)...))
			sas := b.d.SAs()
			total, from := b.d.HalfOpen(attackerPort.Addr())
			switch {
			case tc.destroy && (len(sas) != 0 || total != 0 || from != 0):
				t.Errorf("after %s: SAs %+v, half-open %d (%d from the peer), want none", tc.name, sas, total, from)
			case !tc.destroy && (len(sas) != 1 || sas[0].State != "CONNECTING" || sas[0].NextPeerID != 1 || total != 1):
				t.Errorf("after %s: SAs %+v, half-open %d, want one CONNECTING expecting request 1", tc.name, sas, total)
			}
		})
	}
}

// TestRogueResponderCannotActBeforeIKEAuth: the same holds for a victim that initiates:
// its rogue responder holds the keys after IKE_SA_INIT, but a request it sends before it
// has answered IKE_AUTH is ignored (strongSwan's task manager ignores every request to a
// half-open initiator).
func TestRogueResponderCannotActBeforeIKEAuth(t *testing.T) {
	for _, tc := range []struct {
		name string
		ex   ikev2.ExchangeType
		body func(*bench, *testing.T) []ikev2.Payload
	}{
		{"new Child SA", ikev2.CREATE_CHILD_SA, func(b *bench, _ *testing.T) []ikev2.Payload { return b.newChild(0x5678) }},
		{"IKE SA rekey", ikev2.CREATE_CHILD_SA, func(b *bench, t *testing.T) []ikev2.Payload { return b.rekeyIKE(t) }},
		{"delete IKE SA", ikev2.INFORMATIONAL, func(*bench, *testing.T) []ikev2.Payload {
			return []ikev2.Payload{&ikev2.Delete{Protocol: ike.ProtoIKE}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBench(t, 2)
			b.rogue(t)
			b.refused(t, tc.name, b.p.Protect(b.p.Header(tc.ex, 0, false), tc.body(b, t)...))
			if s := b.sa(t); s.State != "CONNECTING" || s.NextPeerID != 0 || !s.Outstanding {
				t.Errorf("victim SA %+v, want CONNECTING with IKE_AUTH outstanding, expecting request 0", s)
			}
		})
	}
}

// TestUnverifiableSKPayloadIsDropped: an SK payload too short for its IV and ICV, one
// whose ciphertext is no whole number of blocks, and a message without one cannot
// pass the integrity check, so nothing may answer them or move the window (RFC 7296,
// Sections 2.21.2 and 3.14).
func TestUnverifiableSKPayloadIsDropped(t *testing.T) {
	for _, tc := range []struct {
		name     string
		payloads []ikev2.Payload
	}{
		{"SK too short", []ikev2.Payload{&ikev2.Encrypted{Ciphertext: []byte{1, 2, 3}}}},
		{"SK not whole blocks", []ikev2.Payload{&ikev2.Encrypted{Ciphertext: bytes.Repeat([]byte{9}, 16+17+16)}}},
		{"no SK", []ikev2.Payload{&ikev2.Notify{Type: ikev2.INVALID_SYNTAX}}},
		{"empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBench(t, 3)
			b.established(t)
			before := b.sa(t)
			silent(t, b.p.Roundtrip(b.p.Forge(b.p.Header(ikev2.INFORMATIONAL, b.p.NextID, false), tc.payloads...)), tc.name)
			if after := b.sa(t); after.NextPeerID != before.NextPeerID || after.State != "ESTABLISHED" {
				t.Errorf("victim SA %+v after the forgery, was %+v", after, before)
			}
		})
	}
}

// TestPlaintextIKESAInitInsideAnIKESA: a message typed IKE_SA_INIT that carries an
// established SA's SPIs is not protected and cannot be that SA's IKE_SA_INIT: it may
// not move the peer's address nor the window.
func TestPlaintextIKESAInitInsideAnIKESA(t *testing.T) {
	b := newBench(t, 4)
	b.established(t)
	before := b.sa(t)
	elsewhere := netip.MustParseAddrPort(attacker + ":4500")
	for _, resp := range []bool{false, true} {
		b.p.SendFrom(elsewhere, b.p.Forge(b.p.Header(ikev2.IKE_SA_INIT, before.NextPeerID, resp), &ikev2.Nonce{Data: make([]byte, 32)}))
	}
	b.n.Run(time.Second)
	silent(t, b.p.Take(), "plaintext IKE_SA_INIT")
	if after := b.sa(t); after.Remote != before.Remote || after.NextPeerID != before.NextPeerID || after.State != "ESTABLISHED" {
		t.Errorf("victim SA %+v after the forgeries, was %+v", after, before)
	}
	for _, dg := range b.n.Sent() {
		if dg.Remote == elsewhere {
			t.Errorf("the victim sent %d bytes to the forger's address", len(dg.Data))
		}
	}
}

// TestRetransmissionMustBeTheSameRequest: only the very bytes of the last request earn
// its cached response again (strongSwan compares a hash of the message); anything
// else with that message ID is dropped unanswered.
func TestRetransmissionMustBeTheSameRequest(t *testing.T) {
	b := newBench(t, 5)
	b.established(t)
	last := b.p.Sent()[len(b.p.Sent())-1] // the IKE_AUTH request, message ID 1
	forged := b.p.Forge(b.p.Header(ikev2.IKE_AUTH, 1, false), &ikev2.Encrypted{Ciphertext: bytes.Repeat([]byte{1}, 64)})
	silent(t, b.p.Roundtrip(forged), "a forgery with the last request's message ID")
	got := b.p.Roundtrip(last)
	if len(got) != 1 || got[0].Msg == nil || got[0].Msg.Exchange != ikev2.IKE_AUTH || !got[0].Msg.IsResponse() {
		t.Errorf("the retransmitted IKE_AUTH request got %s, want the cached response", summaries(got))
	}
}

// TestErrorInIKESAInitResponseDoesNotAbort: an IKE_SA_INIT response is unprotected,
// so an error notify in it may be forged: the initiator keeps waiting for a valid
// answer until its retransmissions run out (RFC 7296, Section 2.21.1).
func TestErrorInIKESAInitResponseDoesNotAbort(t *testing.T) {
	b := newBench(t, 6)
	b.d.Acquire(1)
	b.n.Run(20 * time.Millisecond) // the request waits, untaken, in the attacker's inbox
	var spiI uint64
	for _, s := range b.d.SAs() {
		spiI = s.SPIi
	}
	b.p.Send(b.p.Forge(ikev2.Header{SPIi: spiI, Exchange: ikev2.IKE_SA_INIT, Flags: ikev2.FlagResponse},
		&ikev2.Notify{Type: ikev2.NO_PROPOSAL_CHOSEN}))
	b.n.Run(20 * time.Millisecond)
	if _, err := b.p.Serve(); err != nil { // the genuine answer comes second
		t.Fatal(err)
	}
	if b.p.Await(time.Second, func(m *ikev2.Message) bool { return m.Exchange == ikev2.IKE_AUTH }) == nil {
		t.Fatalf("the victim gave up on the forged error: errors %v", b.rec.Errors)
	}
}

// TestIKESAInitResponseFromElsewhere: a COOKIE or INVALID_KE_PAYLOAD answer from an
// address the request did not go to may not redirect the initiator there.
func TestIKESAInitResponseFromElsewhere(t *testing.T) {
	for _, n := range []*ikev2.Notify{
		{Type: ikev2.COOKIE, Data: bytes.Repeat([]byte{3}, 20)},
		{Type: ikev2.INVALID_KE_PAYLOAD, Data: []byte{0, ike.ECP_256}},
	} {
		t.Run(n.Type.String(), func(t *testing.T) {
			b := newBench(t, 7)
			b.c.Proposals = append(b.c.Proposals,
				ikev2.MustProposal(t, "aes128-sha256-ecp256", ike.ProtoIKE)) // so that the group could be had
			b.d.Acquire(1)
			b.n.Run(20 * time.Millisecond)
			s := b.sa(t)
			elsewhere := netip.MustParseAddrPort("198.51.100.9:500")
			b.p.SendFrom(elsewhere, b.p.Forge(ikev2.Header{SPIi: s.SPIi, Exchange: ikev2.IKE_SA_INIT, Flags: ikev2.FlagResponse}, n))
			b.n.Run(time.Second)
			for _, dg := range b.n.Sent() {
				if dg.Remote.Addr() == elsewhere.Addr() {
					t.Fatalf("the victim sent to %s, where the forged %s came from", dg.Remote, n.Type)
				}
			}
			if s := b.sa(t); s.Remote != attackerPort {
				t.Errorf("victim's peer is now %s, want %s", s.Remote, attackerPort)
			}
		})
	}
}

// TestAddressMovesOnlyBehindANAT: a protected request from another address is
// answered there, but it moves the IKE SA to that address only when the peer is
// behind a NAT (RFC 7296, Section 2.23).
func TestAddressMovesOnlyBehindANAT(t *testing.T) {
	for _, nat := range []bool{false, true} {
		name := "no NAT"
		if nat {
			name = "peer behind a NAT"
		}
		t.Run(name, func(t *testing.T) {
			b := newBench(t, 8)
			if nat {
				b.natPeer(t)
			} else {
				b.halfOpen(t)
			}
			if _, err := b.p.AuthPSK(ikev2test.ID(attacker), []byte(psk)); err != nil {
				t.Fatal(err)
			}
			moved := netip.MustParseAddrPort(attacker + ":4501")
			b.p.SendFrom(moved, b.p.Protect(b.p.Header(ikev2.INFORMATIONAL, b.p.NextID, false)))
			b.n.Run(time.Second)
			var answered bool
			for _, dg := range b.n.Sent() {
				answered = answered || dg.Remote == moved
			}
			if !answered {
				t.Error("the request from the new address was not answered there (RFC 7296, Section 2.11)")
			}
			want := attackerPort
			if nat {
				want = moved
			}
			if s := b.sa(t); s.Remote != want {
				t.Errorf("victim's peer is %s, want %s", s.Remote, want)
			}
		})
	}
}

// natPeer is halfOpen with NAT detection notifies that tell the victim the peer is
// behind a NAT: the source hash is of an address the peer does not have.
func (b *bench) natPeer(t testing.TB) {
	t.Helper()
	hash := func(ap netip.AddrPort, spiI uint64) []byte {
		h := sha1.New()
		binary.Write(h, binary.BigEndian, spiI)
		binary.Write(h, binary.BigEndian, uint64(0))
		h.Write(ap.Addr().AsSlice())
		binary.Write(h, binary.BigEndian, ap.Port())
		return h.Sum(nil)
	}
	const spiI = 0x5eed5eed5eed5eed // the hashes cover it: Init takes it as given
	b.p.SPIi = spiI
	if _, err := b.p.Init(&ikev2.Notify{Type: ikev2.NAT_DETECTION_SOURCE_IP, Data: hash(netip.MustParseAddrPort("10.0.0.2:500"), spiI)},
		&ikev2.Notify{Type: ikev2.NAT_DETECTION_DESTINATION_IP, Data: hash(victimPort, spiI)}); err != nil {
		t.Fatal(err)
	}
	if b.p.SPIi != spiI {
		t.Fatalf("SPI %016x, expected %016x", b.p.SPIi, spiI)
	}
}

// TestIKERekeyResponseMustFitTheOffer: the responder of an IKE SA rekey must choose
// one of the proposals offered and send KEr in its group (RFC 7296, Sections 1.3.2 and
// 2.7); anything else fails the rekey and leaves the old IKE SA in place.
func TestIKERekeyResponseMustFitTheOffer(t *testing.T) {
	for _, tc := range []struct {
		name, proposal string
		group          uint16
	}{
		{"proposal not offered", "aes256-sha384-x25519", ike.Curve25519},
		{"KE of another group", ikeProp, ike.ECP_256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBench(t, 9)
			b.established(t)
			if err := b.d.Rekey("c", ""); err != nil {
				t.Fatal(err)
			}
			req := b.p.Await(time.Second, func(m *ikev2.Message) bool { return m.Exchange == ikev2.CREATE_CHILD_SA })
			if req == nil {
				t.Fatal("the victim sent no rekey request")
			}
			priv, err := ike.DH(ike.Curve25519).Generate(b.p.Rand)
			if err != nil {
				t.Fatal(err)
			}
			b.p.Respond(ikev2.CREATE_CHILD_SA, req.MessageID,
				ikev2.NewSA(ikev2test.SPI64(0xfeed), ikev2.MustProposal(t, tc.proposal, ike.ProtoIKE)),
				&ikev2.Nonce{Data: bytes.Repeat([]byte{5}, 32)}, &ikev2.KE{Group: tc.group, Data: priv.Public()})
			b.n.Run(time.Second)
			if len(b.rec.IKEUp) != 1 {
				t.Errorf("%d IKE SAs came up, want only the first: the rekey must fail", len(b.rec.IKEUp))
			}
			if s := b.d.SAs(); len(s) != 1 || s[0].State != "ESTABLISHED" {
				t.Errorf("victim SAs %+v, want the old one ESTABLISHED", s)
			}
		})
	}
}

// TestCrossingDeletes: when both sides delete the same Child SA at once, the response
// to the peer's Delete must not name it again (RFC 7296, Section 1.4.1).
func TestCrossingDeletes(t *testing.T) {
	b := newBench(t, 10)
	b.established(t)
	if err := b.d.Delete("c", "net"); err != nil {
		t.Fatal(err)
	}
	b.n.Run(20 * time.Millisecond) // the victim's Delete is on its way
	got := b.p.Roundtrip(b.p.Protect(b.p.Header(ikev2.INFORMATIONAL, b.p.NextID, false),
		&ikev2.Delete{Protocol: ike.ProtoESP, SPISize: 4, SPIs: [][]byte{ikev2test.SPI(peerESPSPI)}}))
	var resp *ikev2.Message
	for _, r := range got {
		if r.Msg != nil && r.Msg.IsResponse() {
			resp = r.Msg
		}
	}
	if resp == nil {
		t.Fatalf("no response to the peer's Delete: %s", summaries(got))
	}
	for _, p := range resp.Inner() {
		if _, ok := p.(*ikev2.Delete); ok {
			t.Errorf("the response %s deletes the Child SA a second time", ikev2.Summary(resp, false))
		}
	}
}

// TestNonceLength: a nonce must be 16 to 256 octets long (RFC 7296, Section 3.9).
func TestNonceLength(t *testing.T) {
	for _, n := range []int{8, 15, 257} {
		b := newBench(t, 11)
		grp, _ := ike.DH(ike.Curve25519).Generate(b.p.Rand)
		req := b.p.Forge(ikev2.Header{SPIi: 0x1111, Exchange: ikev2.IKE_SA_INIT, Flags: ikev2.FlagInitiator},
			ikev2.NewSA(nil, b.p.Proposal), &ikev2.KE{Group: ike.Curve25519, Data: grp.Public()}, &ikev2.Nonce{Data: make([]byte, n)})
		if got := b.p.Roundtrip(req); len(got) != 0 || len(b.d.SAs()) != 0 {
			t.Errorf("a %d-byte Ni made %d IKE SAs and got %s", n, len(b.d.SAs()), summaries(got))
		}
	}
	b := newBench(t, 12)
	b.established(t)
	ps := b.newChild(0x5678)
	ps[1] = &ikev2.Nonce{Data: make([]byte, 8)}
	got := b.p.Roundtrip(b.p.Protect(b.p.Header(ikev2.CREATE_CHILD_SA, b.p.NextID, false), ps...))
	if len(b.rec.ChildUp) != 1 {
		t.Errorf("a CREATE_CHILD_SA with an 8-byte Ni made a Child SA")
	}
	if len(got) != 1 || got[0].Msg == nil || !hasNotify(got[0].Msg.Inner(), ikev2.INVALID_SYNTAX) {
		t.Errorf("a CREATE_CHILD_SA with an 8-byte Ni got %s, want N(INVALID_SYNTAX)", summaries(got))
	}
}

// TestIDiAndIDrApart: the responder reads the initiator's identity from IDi, wherever
// IDr stands in the request.
func TestIDiAndIDrApart(t *testing.T) {
	b := newBench(t, 13)
	b.halfOpen(t)
	me := ikev2test.ID(attacker)
	octets := ikev2.SignedOctets(b.p.PRF, b.p.InitRequest, b.p.Nr, b.p.Keys.SKpi, me)
	idr := ikev2test.ID(victim)
	b.p.Request(ikev2.IKE_AUTH, &ikev2.ID{Responder: true, Type: ikev2.IDType(idr.Type), Data: idr.Value},
		&ikev2.ID{Type: ikev2.IDType(me.Type), Data: me.Value},
		&ikev2.Auth{Method: ikev2.AuthSharedKeyMIC, Data: ikev2.PSKAuth(b.p.PRF, []byte(psk), octets)})
	b.n.Run(time.Second)
	if s := b.sa(t); s.State != "ESTABLISHED" {
		t.Errorf("victim SA %s, want ESTABLISHED: errors %v", s.State, b.rec.Errors)
	}
}

func hasNotify(ps []ikev2.Payload, t ikev2.NotifyType) bool {
	for _, p := range ps {
		if n, ok := p.(*ikev2.Notify); ok && n.Type == t {
			return true
		}
	}
	return false
}
