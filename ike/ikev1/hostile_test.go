package ikev1_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev1"
	"github.com/ikesim/ikesim/ike/ikev1/ikev1test"
)

// The engine against a hostile peer (ikev1test): nothing an unauthenticated message says
// may change an ISAKMP SA, and what a peer may do depends on how far phase 1 and XAUTH
// went.

var (
	victimAddr  = netip.MustParseAddr("192.0.2.1")
	peerAddr    = netip.MustParseAddr("192.0.2.2")
	spoofed     = netip.MustParseAddrPort("203.0.113.9:500")
	victimNet   = ike.TSFromPrefix(netip.MustParsePrefix("10.1.0.0/24"))
	peerNet     = ike.TSFromPrefix(netip.MustParsePrefix("10.2.0.0/24"))
	espProposal = mustParse("aes128-sha256", ike.ProtoESP)
)

func mustParse(s string, proto ike.Protocol) ike.Proposal {
	p, err := ike.ParseProposal(s, proto)
	if err != nil {
		panic(err)
	}
	return p
}

// victim makes the engine at victimAddr with a site-to-site connection to peerAddr, and
// the peer with the right pre-shared key. tweak, when given, changes the connection.
func victim(t *testing.T, tweak func(*ike.Connection)) (*ikev1test.Net, *ikev1test.Peer) {
	t.Helper()
	return victimWith(t, "aes128-sha256-modp2048", tweak)
}

// victimWith is victim with another phase 1 proposal.
func victimWith(t *testing.T, ikeProposal string, tweak func(*ike.Connection)) (*ikev1test.Net, *ikev1test.Peer) {
	t.Helper()
	c, err := ikev1test.SiteToSite(victimAddr, peerAddr, "secret", ikeProposal, "aes128-sha256", "10.1.0.0/24", "10.2.0.0/24")
	if err != nil {
		t.Fatal(err)
	}
	if tweak != nil {
		tweak(c)
	}
	n, err := ikev1test.NewNet(victimAddr, []*ike.Connection{c}, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := n.NewPeer(ikev1test.PeerConfig{Addr: netip.AddrPortFrom(peerAddr, 500), PSK: []byte("secret"),
		ID: ikev1test.AddrID(peerAddr), Proposals: c.Proposals})
	return n, p
}

// established runs main mode with the peer as initiator.
func established(t *testing.T, tweak func(*ike.Connection)) (*ikev1test.Net, *ikev1test.Peer) {
	t.Helper()
	n, p := victim(t, tweak)
	if err := p.MainMode(5); err != nil {
		t.Fatalf("main mode: %v; victim errors %v", err, n.Victim.Texts(0, ikev1test.KindError))
	}
	return n, p
}

// garbage is a 44-byte forgery: the cookies in clear, the E flag, no payload named in the
// header and one block of random bytes. It decrypts to "no payloads and 16 bytes of
// padding", which the codec accepts: only the HASH can tell it from a real message.
func garbage(p *ikev1test.Peer, ex ikev1.ExchangeType, id uint32) []byte {
	return p.Forge(ex, id, ikev1.FlagEncryption, ikev1.PayloadNone, []byte("0123456789abcdef"))
}

func rUThere(p *ikev1test.Peer, seq byte) ikev1test.Out {
	return ikev1test.Out{Exchange: ikev1.ExchangeInformational, MessageID: p.MessageID(), Payloads: []ikev1.Payload{
		&ikev1.Notify{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoISAKMP, SPI: p.Cookies(), Type: ikev1.R_U_THERE, Data: []byte{0, 0, 0, seq}}}}
}

// answersDPD sends an R-U-THERE and reports whether the victim answers with its ACK.
func answersDPD(t *testing.T, p *ikev1test.Peer, seq byte) bool {
	t.Helper()
	if _, err := p.Send(rUThere(p, seq)); err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Drain() {
		if r.Err == nil && r.Msg.Exchange == ikev1.ExchangeInformational && len(r.Msg.Payloads) == 2 {
			if n, ok := r.Msg.Payloads[1].(*ikev1.Notify); ok && n.Type == ikev1.R_U_THERE_ACK && n.Data[3] == seq {
				return true
			}
		}
	}
	return false
}

// TestForgeryInQuickModeChangesNothing: while the victim waits for quick mode message 2,
// a 44-byte forgery with the cookies and the quick mode's message ID arrives from
// another address. It must not stop the retransmission timer, move the peer's address
// or advance the exchange's IV: the victim retransmits to the real peer, and the real
// answer still decrypts and completes the quick mode.
func TestForgeryInQuickModeChangesNothing(t *testing.T) {
	n, p := established(t, nil)
	if err := n.Victim.D.Initiate("site", "net"); err != nil {
		t.Fatal(err)
	}
	qm1, err := p.Expect(ikev1.ExchangeQuick)
	if err != nil {
		t.Fatal(err)
	}
	mark := n.Victim.Mark()
	p.RawFrom(spoofed, garbage(p, ikev1.ExchangeQuick, qm1.Msg.MessageID))
	if got := n.Victim.Since(mark, ikev1test.KindReceived); len(got) != 0 {
		t.Errorf("the victim accepted the forgery: %v", got)
	}
	if len(n.Victim.Since(mark, ikev1test.KindDropped)) != 1 {
		t.Errorf("the forgery is not recorded as dropped: %v", n.Victim.Since(mark))
	}
	n.Advance(2500 * time.Millisecond)
	again := p.Next()
	if again == nil || !again.Again {
		t.Fatalf("no retransmission of quick mode message 1 reached the real peer (retransmission stopped or sent elsewhere): %v",
			n.Victim.Since(mark, ikev1test.KindSent))
	}
	if err := p.RespondQuickMode(qm1, 0xabcd); err != nil {
		t.Fatalf("%v; victim: %v", err, n.Victim.Since(mark, ikev1test.KindDropped, ikev1test.KindError))
	}
	if len(n.Victim.Since(mark, ikev1test.KindChildSAUp)) != 1 {
		t.Errorf("no IPsec SA after the real answer: %v", n.Victim.Since(mark))
	}
}

// TestForgedMessageID0 sends a 44-byte forgery with message ID 0 to an established SA.
// The IV of every later exchange derives from the last phase 1 block (RFC 2409,
// Appendix B): a forgery that moved it would break every informational exchange after.
func TestForgedMessageID0(t *testing.T) {
	for _, ex := range []ikev1.ExchangeType{ikev1.ExchangeMain, ikev1.ExchangeInformational, ikev1.ExchangeQuick} {
		t.Run(ex.String(), func(t *testing.T) {
			n, p := established(t, nil)
			p.Raw(garbage(p, ex, 0))
			if !answersDPD(t, p, 1) {
				t.Fatalf("after a forgery with message ID 0 the victim cannot read a DPD request: %v",
					n.Victim.Since(0, ikev1test.KindDropped, ikev1test.KindError))
			}
		})
	}
}

// TestBadHashChangesNothing: protected messages whose HASH does not verify are dropped
// without an answer (RFC 2408, Section 5.11 makes the notification optional; sent under
// the SA's keys it would reach the real peer as if it came from the victim) and leave
// the exchange where it was: the same message with the right HASH then goes through.
func TestBadHashChangesNothing(t *testing.T) {
	n, p := established(t, nil)
	id := p.MessageID()
	ps, _, err := p.QuickOffer(espProposal, 0x5555, peerNet, victimNet)
	if err != nil {
		t.Fatal(err)
	}
	mark := n.Victim.Mark()
	if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeQuick, MessageID: id, Payloads: ps, BadHash: true}); err != nil {
		t.Fatal(err)
	}
	del := ikev1test.Out{Exchange: ikev1.ExchangeInformational, MessageID: p.MessageID(), BadHash: true, Payloads: []ikev1.Payload{
		&ikev1.Delete{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoISAKMP, SPISize: 16, SPIs: [][]byte{p.Cookies()}}}}
	if _, err := p.Send(del); err != nil {
		t.Fatal(err)
	}
	if p.Pending() != 0 {
		t.Errorf("the victim answered messages whose HASH does not verify: %v", p.Drain())
	}
	if d := n.Victim.Since(mark, ikev1test.KindDropped); len(d) != 2 || !strings.Contains(d[0].Text, "HASH") {
		t.Errorf("drops %v", d)
	}
	if len(n.Victim.Since(mark, ikev1test.KindIKESADown)) != 0 {
		t.Fatal("a Delete with a wrong HASH removed the ISAKMP SA")
	}
	if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeQuick, MessageID: id, Payloads: ps}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Expect(ikev1.ExchangeQuick); err != nil {
		t.Fatalf("the right quick mode message 1 after a wrong one: %v; victim %v", err, n.Victim.Since(mark, ikev1test.KindDropped))
	}
}

// TestNothingBeforePhase1Completes: quick mode, transaction and informational messages
// protected with the keys of a phase 1 that has not authenticated the peer yet (main mode
// before message 5 or 6 verified) are ignored, whichever side initiated: with
// signatures, anyone who did the Diffie-Hellman exchange holds SKEYID_a. Phase 1 then
// completes as if they never came.
func TestNothingBeforePhase1Completes(t *testing.T) {
	deleteSA := func(p *ikev1test.Peer) ikev1test.Out {
		return ikev1test.Out{Exchange: ikev1.ExchangeInformational, MessageID: p.MessageID(), Payloads: []ikev1.Payload{
			&ikev1.Delete{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoISAKMP, SPISize: 16, SPIs: [][]byte{p.Cookies()}}}}
	}
	errorNotify := func(p *ikev1test.Peer) ikev1test.Out {
		return ikev1test.Out{Exchange: ikev1.ExchangeInformational, MessageID: p.MessageID(), Payloads: []ikev1.Payload{
			&ikev1.Notify{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoISAKMP, SPI: p.Cookies(), Type: ikev1.INVALID_ID_INFORMATION}}}
	}
	quick := func(p *ikev1test.Peer) ikev1test.Out {
		ps, _, _ := p.QuickOffer(espProposal, 0x7777, peerNet, victimNet)
		return ikev1test.Out{Exchange: ikev1.ExchangeQuick, MessageID: p.MessageID(), Payloads: ps}
	}
	for _, tc := range []struct {
		name      string
		responder bool // the victim is the responder, waiting for main mode message 5
		msg       func(*ikev1test.Peer) ikev1test.Out
	}{
		{"responder: delete", true, deleteSA},
		{"responder: error notify", true, errorNotify},
		{"responder: quick mode", true, quick},
		{"initiator: delete", false, deleteSA},
		{"initiator: error notify", false, errorNotify},
		{"initiator: quick mode", false, quick},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, p := victim(t, nil)
			var err error
			if tc.responder {
				err = p.MainMode(3)
			} else {
				if err = n.Victim.D.Initiate("site", ""); err == nil {
					err = p.RespondMainMode(4)
				}
				// Read message 5, so that the peer's IV chain is where the victim's
				// is, and leave it for RespondMainMode(6).
				if mm5 := p.Next(); mm5 == nil || mm5.Err != nil {
					t.Fatalf("no readable message 5: %v", mm5)
				} else {
					p.Requeue(mm5)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			mark := n.Victim.Mark()
			if _, err := p.Send(tc.msg(p)); err != nil {
				t.Fatal(err)
			}
			if got := n.Victim.Since(mark, ikev1test.KindReceived, ikev1test.KindState, ikev1test.KindIKESADown, ikev1test.KindSent); len(got) != 0 {
				t.Errorf("the victim acted on it before phase 1 completed: %v", got)
			}
			if !n.Victim.Has(mark, ikev1test.KindDropped, "before phase 1 is complete") {
				t.Errorf("not dropped for coming before phase 1 completed (the check was not reached): %v", n.Victim.Since(mark))
			}
			if tc.responder {
				err = p.MainMode(5)
			} else {
				err = p.RespondMainMode(6)
			}
			if err != nil || len(n.Victim.Since(mark, ikev1test.KindIKESAUp)) != 1 {
				t.Errorf("phase 1 does not complete after it: %v; victim %v", err, n.Victim.Since(mark))
			}
		})
	}
}

// TestRogueResponder: the victim initiates main mode and whoever answers in clear can
// forge an answer. Error notifications and unacceptable choices in clear do not end the
// attempt (RFC 2408 sends them unprotected; as RFC 7296, Section 2.21.1 says for IKEv2,
// the initiator keeps waiting for a valid answer until it times out): the real answer
// that follows still completes phase 1.
func TestRogueResponder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rogue func(t *testing.T, p *ikev1test.Peer, mm1 *ikev1.Message)
	}{
		{"error notify", func(t *testing.T, p *ikev1test.Peer, mm1 *ikev1.Message) {
			p.ICookie = mm1.ICookie
			if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeInformational, MessageID: p.MessageID(), Clear: true, NoHash: true,
				Payloads: []ikev1.Payload{&ikev1.Notify{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoISAKMP, SPI: p.Cookies(),
					Type: ikev1.NO_PROPOSAL_CHOSEN}}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"transform not offered", func(t *testing.T, p *ikev1test.Peer, mm1 *ikev1.Message) {
			p.ICookie, p.RCookie = mm1.ICookie, 0x1111
			other, _, err := ikev1.Phase1Offer([]ike.Proposal{mustParse("3des-md5-modp1024", ike.ProtoIKE)}, ikev1.AuthPSK, time.Hour, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeMain, Clear: true, NoHash: true,
				Payloads: []ikev1.Payload{other}}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, p := victim(t, nil)
			if err := n.Victim.D.Initiate("site", ""); err != nil {
				t.Fatal(err)
			}
			mm1 := p.Peek() // the real responder answers it after the rogue
			if mm1 == nil {
				t.Fatal("no message 1")
			}
			mark := n.Victim.Mark()
			tc.rogue(t, p, mm1)
			if s := n.Victim.LastState("ISAKMP"); s != "IKE_I_MM1" {
				t.Fatalf("after the rogue answer the victim is in %s: %v", s, n.Victim.Since(mark))
			}
			p.Reset()
			n.Advance(time.Second)
			if err := p.RespondMainMode(6); err != nil {
				t.Fatalf("%v; victim %v", err, n.Victim.Since(mark))
			}
			if len(n.Victim.Since(mark, ikev1test.KindIKESAUp)) != 1 {
				t.Errorf("phase 1 did not complete after the rogue answer: %v", n.Victim.Since(mark))
			}
		})
	}
}

// TestRogueAggressiveResponder: an aggressive mode answer whose HASH_R does not verify
// changes nothing (not the responder cookie, the transform nor the keys): the victim
// retransmits message 1, and the real answer completes phase 1.
func TestRogueAggressiveResponder(t *testing.T) {
	n, p := victim(t, func(c *ike.Connection) { c.Aggressive = true })
	if err := n.Victim.D.Initiate("site", ""); err != nil {
		t.Fatal(err)
	}
	p.PSK = []byte("guess")
	if err := p.RespondAggressiveMode(); err != nil {
		t.Fatal(err)
	}
	mark := n.Victim.Mark()
	if s := n.Victim.LastState("ISAKMP"); s != "IKE_I_AM1" {
		t.Fatalf("after a wrong HASH_R the victim is in %s: %v", s, n.Victim.Since(0))
	}
	p.Drain()
	p.Reset()
	p.PSK = []byte("secret")
	n.Advance(2500 * time.Millisecond)
	if err := p.RespondAggressiveMode(); err != nil {
		t.Fatal(err)
	}
	if len(n.Victim.Since(mark, ikev1test.KindIKESAUp)) != 1 {
		t.Errorf("phase 1 did not complete with the real answer: %v", n.Victim.Since(mark))
	}
}

// xauthGateway is a victim that asks for XAUTH and leases addresses by Mode Config.
func xauthGateway(c *ike.Connection) {
	c.XAuth = &ike.XAuthConfig{Users: map[string]string{"alice": "wonderland"}}
	c.Pools = []netip.Prefix{netip.MustParsePrefix("10.10.10.0/24")}
	c.Children[0].RemoteTS = []ike.TrafficSelector{ike.TSFromPrefix(netip.MustParsePrefix("10.10.10.0/24"))}
}

// xauthPhase1 runs main mode with an XAUTH gateway and returns its XAUTH request.
func xauthPhase1(t *testing.T, p *ikev1test.Peer) *ikev1test.Received {
	t.Helper()
	p.Auth = ikev1.AuthXAUTHInitPSK
	if err := p.MainMode(5); err != nil {
		t.Fatal(err)
	}
	req, err := p.Expect(ikev1.ExchangeTransaction)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// sendXAuthReply answers the gateway's XAUTH request req (a new exchange when nil) with
// the right user name and password.
func sendXAuthReply(t *testing.T, p *ikev1test.Peer, req *ikev1test.Received) {
	t.Helper()
	id, ident := p.MessageID(), uint16(1)
	if req != nil {
		id, ident = req.Msg.MessageID, req.Msg.Payloads[1].(*ikev1.Attributes).Identifier
	}
	reply := &ikev1.Attributes{Type: ikev1.CfgReply, Identifier: ident, Attributes: []ikev1.Attribute{ikev1.TV(ikev1.XAuthType, 0),
		{Type: ikev1.XAuthUserName, Value: []byte("alice")}, {Type: ikev1.XAuthUserPassword, Value: []byte("wonderland")}}}
	if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeTransaction, MessageID: id, Payloads: []ikev1.Payload{reply}}); err != nil {
		t.Fatal(err)
	}
}

// xauthLogin answers the XAUTH request req, and acknowledges the gateway's SET.
func xauthLogin(t *testing.T, p *ikev1test.Peer, req *ikev1test.Received) {
	t.Helper()
	sendXAuthReply(t, p, req)
	set, err := p.Expect(ikev1.ExchangeTransaction)
	if err != nil {
		t.Fatal(err)
	}
	st := set.Msg.Payloads[1].(*ikev1.Attributes)
	ack := &ikev1.Attributes{Type: ikev1.CfgAck, Identifier: st.Identifier, Attributes: []ikev1.Attribute{ikev1.TV(ikev1.XAuthStatus, 1)}}
	if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeTransaction, MessageID: set.Msg.MessageID, Payloads: []ikev1.Payload{ack}}); err != nil {
		t.Fatal(err)
	}
}

// TestXAuthBeforeQuickMode: a gateway that asks for XAUTH serves no quick mode to a
// client that has not logged in (strongSwan ignores quick mode requests until the IKE SA
// is established, which with XAUTH is after it), and serves one once it has.
func TestXAuthBeforeQuickMode(t *testing.T) {
	n, p := victim(t, xauthGateway)
	req := xauthPhase1(t, p)
	vip := ike.TSFromPrefix(netip.MustParsePrefix("10.10.10.7/32"))
	mark := n.Victim.Mark()
	ps, ni, err := p.QuickOffer(espProposal, 0x4444, vip, victimNet)
	if err != nil {
		t.Fatal(err)
	}
	_ = ni
	if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeQuick, MessageID: p.MessageID(), Payloads: ps}); err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Drain() {
		if r.Msg != nil && r.Msg.Exchange == ikev1.ExchangeQuick {
			t.Fatal("the gateway answers quick mode before XAUTH succeeded")
		}
	}
	if len(n.Victim.Since(mark, ikev1test.KindChildSAUp)) != 0 {
		t.Fatal("an IPsec SA came up before XAUTH")
	}
	xauthLogin(t, p, req) // REPLY in the gateway's exchange, then ACK its SET
	if _, err := p.QuickMode(p.MessageID(), espProposal, 0x4545, vip, victimNet); err != nil {
		t.Fatalf("quick mode after XAUTH: %v; victim %v", err, n.Victim.Since(mark, ikev1test.KindError, ikev1test.KindDropped))
	}
}

// TestUnsolicitedTransactions: transaction messages that answer nothing the victim asked
// (an XAUTH REPLY or SET to a node without XAUTH, a Mode Config REPLY to a gateway, an
// ACK of nothing) are dropped: no panic, no state change, no virtual IP taken from the
// peer.
func TestUnsolicitedTransactions(t *testing.T) {
	attrs := func(typ ikev1.CfgType, as ...ikev1.Attribute) *ikev1.Attributes {
		return &ikev1.Attributes{Type: typ, Identifier: 9, Attributes: as}
	}
	user := ikev1.Attribute{Type: ikev1.XAuthUserName, Value: []byte("alice")}
	pass := ikev1.Attribute{Type: ikev1.XAuthUserPassword, Value: []byte("x")}
	status := ikev1.TV(ikev1.XAuthStatus, 1)
	addr := ikev1.Attribute{Type: ikev1.CfgInternalIP4Address, Value: []byte{10, 99, 0, 1}}
	for _, tc := range []struct {
		name  string
		tweak func(*ike.Connection)
		attrs *ikev1.Attributes
	}{
		{"XAUTH REPLY without XAUTH", nil, attrs(ikev1.CfgReply, user, pass)},
		{"XAUTH SET without XAUTH", nil, attrs(ikev1.CfgSet, status)},
		{"XAUTH ACK without XAUTH", nil, attrs(ikev1.CfgAck, status)},
		{"Mode Config REPLY to a node that asked nothing", nil, attrs(ikev1.CfgReply, addr)},
		{"Mode Config SET to a node that wants no address", nil, attrs(ikev1.CfgSet, addr)},
		{"XAUTH REPLY to a gateway that did not ask", xauthGateway, attrs(ikev1.CfgReply, user, pass)},
		{"XAUTH ACK to a gateway before its SET", xauthGateway, attrs(ikev1.CfgAck, status)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, p := victim(t, tc.tweak)
			if tc.tweak != nil {
				p.Auth = ikev1.AuthXAUTHInitPSK
			}
			if err := p.MainMode(5); err != nil {
				t.Fatal(err)
			}
			p.Drain()
			mark := n.Victim.Mark()
			if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeTransaction, MessageID: p.MessageID(),
				Payloads: []ikev1.Payload{tc.attrs}}); err != nil {
				t.Fatal(err)
			}
			bad := n.Victim.Since(mark, ikev1test.KindVirtualIP, ikev1test.KindState, ikev1test.KindIKESADown, ikev1test.KindSent)
			if len(bad) != 0 {
				t.Errorf("the victim acted on it: %v", bad)
			}
			if len(n.Victim.Since(mark, ikev1test.KindDropped)) != 1 {
				t.Errorf("not recorded as dropped: %v", n.Victim.Since(mark))
			}
			if !answersDPD(t, p, 2) {
				t.Error("the ISAKMP SA no longer answers")
			}
		})
	}
}

// TestSpoofedAddressMovesNothing: an authenticated message from a new address moves the
// peer's address only when a NAT is in play (RFC 3947; RFC 7296, Section 2.23 says the
// same for IKEv2); an unauthenticated one never does.
func TestSpoofedAddressMovesNothing(t *testing.T) {
	n, p := established(t, nil)
	mark := n.Victim.Mark()
	if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeInformational, MessageID: p.MessageID(), From: spoofed,
		Payloads: rUThere(p, 3).Payloads}); err != nil {
		t.Fatal(err)
	}
	for _, e := range n.Victim.Since(mark, ikev1test.KindSent) {
		if e.Datagram.Remote != p.Addr {
			t.Errorf("the victim answers to %v, not to the peer's address %v", e.Datagram.Remote, p.Addr)
		}
	}
	if slices.ContainsFunc(n.Victim.Texts(mark, ikev1test.KindAction), func(s string) bool { return strings.Contains(s, "address changed") }) {
		t.Error("the peer's address moved without a NAT")
	}
}

// TestDeleteOnlyOwnIPsecSAs: two peers share a gateway's connection (a group pre-shared
// key). One of them names the other's IPsec SA in a Delete, with an SPI it can read off
// the wire: the gateway removes only IPsec SAs of the peer that asks (strongSwan looks
// the SPI up among the IKE SA's own Child SAs).
func TestDeleteOnlyOwnIPsecSAs(t *testing.T) {
	n, alice := victim(t, func(c *ike.Connection) {
		c.RemoteAddrs = nil
		c.Remote.ID = ike.Identity{}
	})
	mallory := n.NewPeer(ikev1test.PeerConfig{Addr: netip.MustParseAddrPort("192.0.2.66:500"), PSK: []byte("secret"),
		ID: ikev1test.AddrID(netip.MustParseAddr("192.0.2.66")), Proposals: alice.Proposals})
	for _, p := range []*ikev1test.Peer{alice, mallory} {
		if err := p.MainMode(5); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := alice.QuickMode(alice.MessageID(), espProposal, 0xa11ce, peerNet, victimNet); err != nil {
		t.Fatal(err)
	}
	mark := n.Victim.Mark()
	if _, err := mallory.Send(ikev1test.Out{Exchange: ikev1.ExchangeInformational, MessageID: mallory.MessageID(), Payloads: []ikev1.Payload{
		&ikev1.Delete{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoIPsecESP, SPISize: 4, SPIs: [][]byte{{0, 0x0a, 0x11, 0xce}}}}}); err != nil {
		t.Fatal(err)
	}
	if down := n.Victim.Since(mark, ikev1test.KindChildSADown); len(down) != 0 {
		t.Errorf("one peer deleted another's IPsec SA: %v", down)
	}
}

// TestReflectedFirstMessage: the victim's own main mode message 1, sent back to it, is
// no message 2 (a responder's answer carries the responder cookie, RFC 2408, Section 3.1):
// nothing changes, and the real answer completes phase 1.
func TestReflectedFirstMessage(t *testing.T) {
	n, p := victim(t, nil)
	if err := n.Victim.D.Initiate("site", ""); err != nil {
		t.Fatal(err)
	}
	mm1 := p.Next()
	p.Raw(mm1.Datagram.Data)
	if s := n.Victim.LastState("ISAKMP"); s != "IKE_I_MM1" {
		t.Fatalf("after its own message 1 came back the victim is in %s: %v", s, n.Victim.Since(0))
	}
	n.Advance(2500 * time.Millisecond)
	if err := p.RespondMainMode(6); err != nil {
		t.Fatal(err)
	}
	if len(n.Victim.Since(0, ikev1test.KindIKESAUp)) != 1 {
		t.Errorf("phase 1 did not complete: %v", n.Victim.Since(0))
	}
}

// TestOneAnswerPerInformational: an informational message packed with R-U-THERE
// notifications gets one R-U-THERE-ACK, not one each: a peer must not make the victim
// send a hundred messages for one (strongSwan reads the first).
func TestOneAnswerPerInformational(t *testing.T) {
	n, p := established(t, nil)
	var ps []ikev1.Payload
	for i := range 100 {
		ps = append(ps, &ikev1.Notify{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoISAKMP, SPI: p.Cookies(), Type: ikev1.R_U_THERE,
			Data: []byte{0, 0, 1, byte(i)}})
	}
	mark := n.Victim.Mark()
	if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeInformational, MessageID: p.MessageID(), Payloads: ps}); err != nil {
		t.Fatal(err)
	}
	if sent := n.Victim.Since(mark, ikev1test.KindSent); len(sent) != 1 {
		t.Errorf("the victim sent %d messages for one informational", len(sent))
	}
}
