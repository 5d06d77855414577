package ikev2

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/daemon"
)

// IKE_SA_INIT (RFC 7296 1.2):
//
//	HDR, SAi1, KEi, Ni, N(NAT_DETECTION_*)  -->
//	                                        <--  HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*)
//
// A responder under load answers HDR, N(COOKIE) first (2.6); one that wants another
// Diffie-Hellman group answers HDR, N(INVALID_KE_PAYLOAD) (1.2, 2.7).

// startIKE makes a new IKE SA as initiator and sends IKE_SA_INIT.
func (d *Daemon) startIKE(c *ike.Connection, ch *ike.ChildConfig) *ikeSA {
	if len(c.LocalAddrs) == 0 || len(c.RemoteAddrs) == 0 {
		d.env.Observer.Error(ike.Failure{Conn: c.Name, Reason: ike.FailConfig,
			Text: fmt.Sprintf("connection %s needs local_addrs and remote_addrs to initiate", c.Name)})
		return nil
	}
	lport, rport := c.Ports()
	local := netip.AddrPortFrom(c.LocalAddrs[0], lport)
	remote := netip.AddrPortFrom(c.RemoteAddrs[0], rport)
	sa := d.newSA(c, true, local, remote)
	sa.spiI = d.spi64()
	d.sas[sa.spiI] = sa
	if ch != nil {
		sa.pendingChildren = append(sa.pendingChildren, ch)
	}
	sa.setState(stateConnecting)
	sa.keGroup = firstGroup(c.Proposals)
	d.action("Start %s with %s: choose initiator SPI %016x", sa.name(), remote.Addr(), sa.spiI)
	sa.sendInit()
	return sa
}

func firstGroup(ps []ike.Proposal) uint16 {
	for _, p := range ps {
		for _, t := range p.Transforms {
			if t.Type == ike.TransformDH {
				return t.ID
			}
		}
	}
	return 0
}

// offersGroup reports whether any proposal offers group g.
func offersGroup(ps []ike.Proposal, g uint16) bool {
	for _, p := range ps {
		for _, t := range p.Transforms {
			if t.Type == ike.TransformDH && t.ID == g {
				return true
			}
		}
	}
	return false
}

// initNarration says what building an IKE_SA_INIT request does: a first request
// generates its KEi and Ni; a retry with a COOKIE re-sends the very same SAi1, KEi and
// Ni (RFC 7296, Section 2.6); a retry for another group computes only a new KEi.
func initNarration(proposals []ike.Proposal, group string, niLen int, cookie, freshKE, freshNi bool) string {
	if cookie && !freshKE {
		return "Send IKE_SA_INIT again with N(COOKIE) first, followed by the same SAi1, KEi and Ni as before (RFC 7296, Section 2.6): nothing new is generated"
	}
	props := make([]string, len(proposals))
	for i, p := range proposals {
		props[i] = p.String()
	}
	switch {
	case freshKE && freshNi:
		return fmt.Sprintf("Offer IKE proposals %v; generate a Diffie-Hellman private value and compute KEi for group %s; generate nonce Ni (%d bytes)",
			props, group, niLen)
	case freshKE:
		return fmt.Sprintf("Offer IKE proposals %v again; generate a new Diffie-Hellman private value and compute KEi for group %s; keep nonce Ni", props, group)
	}
	return fmt.Sprintf("Offer IKE proposals %v again with the same KEi (group %s) and Ni", props, group)
}

func (sa *ikeSA) sendInit() {
	d := sa.d
	sa.dh = ike.DH(sa.keGroup)
	if sa.dh == nil {
		sa.failWith(0, ike.FailConfig, "no supported Diffie-Hellman group in the proposals")
		return
	}
	// A retry after a COOKIE repeats every other payload unchanged (RFC 7296 2.6); only a
	// retry for another group (INVALID_KE_PAYLOAD) needs a new KE.
	freshKE, freshNi := false, false
	if sa.dhPriv == nil || sa.keGroupOf != sa.keGroup {
		freshKE = true
		var err error
		if sa.dhPriv, err = sa.dh.Generate(d.env.Rand); err != nil {
			sa.failWith(0, ike.FailInternal, "Diffie-Hellman: %v", err)
			return
		}
		sa.keGroupOf = sa.keGroup
	}
	if sa.ni == nil {
		sa.ni, freshNi = d.core.Random(nonceSize), true
	}
	d.say(initNarration(sa.conn.Proposals, sa.dh.Name, len(sa.ni), sa.cookie != nil, freshKE, freshNi))
	var ps []Payload
	if sa.cookie != nil {
		ps = append(ps, &Notify{Type: COOKIE, Data: sa.cookie})
	}
	ps = append(ps, NewSA(nil, sa.conn.Proposals...), &KE{Group: sa.keGroup, Data: sa.dhPriv.Public()},
		&Nonce{Data: sa.ni})
	ps = append(ps, sa.natDetection()...)
	ps = append(ps, sa.initNotifies()...) // hook (auth.go): fragmentation, RFC 7427 hashes
	ps = append(ps, childlessSupport(sa.conn)...)
	sa.nextRequestID = 0
	sa.sendRequest(IKE_SA_INIT, ps, nil) // its response goes to onInitResponse
	if sa.outstanding != nil {
		sa.initRequest = sa.outstanding.raw
	}
}

// natHash is SHA-1(SPIi | SPIr | IP | Port) (RFC 7296 2.23).
func natHash(spiI, spiR uint64, ap netip.AddrPort) []byte {
	h := sha1.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], spiI)
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], spiR)
	h.Write(b[:])
	h.Write(ap.Addr().AsSlice())
	binary.BigEndian.PutUint16(b[:2], ap.Port())
	h.Write(b[:2])
	return h.Sum(nil)
}

// natDetection makes this side's NAT_DETECTION_SOURCE_IP and _DESTINATION_IP notifies.
// With encap forced, the source hash is made wrong on purpose, so the peer sees a NAT.
func (sa *ikeSA) natDetection() []Payload {
	src := natHash(sa.spiI, sa.spiR, sa.local)
	if sa.conn != nil && sa.conn.Encap {
		src = natHash(sa.spiI, sa.spiR, netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
	}
	return []Payload{
		&Notify{Type: NAT_DETECTION_SOURCE_IP, Data: src},
		&Notify{Type: NAT_DETECTION_DESTINATION_IP, Data: natHash(sa.spiI, sa.spiR, sa.remote)},
	}
}

// checkNAT compares the peer's NAT detection hashes with the addresses the message
// really had, and says what it finds. The hashes cover the SPIs of the message's own
// header: in the IKE_SA_INIT request SPIr is still zero.
func (sa *ikeSA) checkNAT(h *Header, ps []Payload, local, remote netip.AddrPort) {
	src, dst := notifyIn(ps, NAT_DETECTION_SOURCE_IP), notifyIn(ps, NAT_DETECTION_DESTINATION_IP)
	if src == nil || dst == nil {
		return
	}
	sa.natRemote = !bytes.Equal(src.Data, natHash(h.SPIi, h.SPIr, remote))
	sa.natLocal = !bytes.Equal(dst.Data, natHash(h.SPIi, h.SPIr, local))
	var text string
	switch {
	case sa.natLocal && sa.natRemote:
		text = "NAT detection: both sides are behind a NAT"
	case sa.natLocal:
		text = "NAT detection: the hash of our address does not match: this side is behind a NAT"
	case sa.natRemote:
		text = fmt.Sprintf("NAT detection: the peer's source hash does not match %s: the peer is behind a NAT", remote)
	default:
		text = "NAT detection: both hashes match: no NAT between the peers"
	}
	sa.d.env.Observer.NATDetected(ike.NATInfo{Conn: sa.connName(), Local: sa.natLocal, Remote: sa.natRemote, Text: text})
}

// childlessSupport announces RFC 6023 (IKE_AUTH without a Child SA) in IKE_SA_INIT for a
// connection configured childless. RFC 6023, Section 3 has both ends announce it; a
// real peer sets up a childless IKE SA only with an end that did (strongSwan's initiator
// with childless = force gives up without it, its responder refuses an IKE_AUTH without
// SAi2). Connections that are not childless send nothing new, as before.
func childlessSupport(c *ike.Connection) []Payload {
	if c == nil || !c.Childless {
		return nil
	}
	return []Payload{&Notify{Type: CHILDLESS_IKEV2_SUPPORTED}}
}

// behindNAT reports whether IKE and ESP use UDP encapsulation: a NAT was detected, or
// this side forces it (encap), which counts as a NAT on its own side as strongSwan's
// faked NAT does: the NAT detection hashes alone tell only the peer, so without this
// an initiator that forces encapsulation would float and encapsulate nothing while
// its peer encapsulates ESP.
func (sa *ikeSA) behindNAT() bool {
	return sa.natLocal || sa.natRemote || (sa.conn != nil && sa.conn.Encap)
}

// onInitResponse takes an IKE_SA_INIT response to this side's request. The message is
// not protected, so it counts only as the answer to the outstanding request, from the
// address the request went to, and it never moves the IKE SA to another address. An
// answer this side cannot use (an error notify, a proposal or a group it did not
// offer, missing payloads) is noted and the request stays outstanding until its
// retransmissions run out: "because all error notifications are completely
// unauthenticated, the recipient should continue trying for some time before giving
// up" (RFC 7296, Section 2.21.1). strongSwan gives up at once; a forged answer must not
// end the attempt. COOKIE and INVALID_KE_PAYLOAD, the answers the RFC gives a
// corrective action, are acted on at once.
func (sa *ikeSA) onInitResponse(dg ike.Datagram, infoIn *ike.MessageInfo, m *Message) {
	obs := sa.d.env.Observer
	r := sa.outstanding
	infoIn.Dissect = sa.d.lazyDissect(m.Raw, nil)
	dg.Info = infoIn
	switch {
	case !sa.initiator || sa.state != stateConnecting || r == nil || r.exchange != IKE_SA_INIT || m.MessageID != r.id:
		obs.Dropped(dg, fmt.Sprintf("unexpected IKE_SA_INIT response with message ID %d", m.MessageID))
		return
	case dg.Remote != sa.remote:
		obs.Dropped(dg, fmt.Sprintf("IKE_SA_INIT response from %s, but the request went to %s", dg.Remote, sa.remote))
		return
	}
	infoIn.MessageFacts = Describe(m, false)
	obs.Received(dg)
	sa.lastIn = sa.d.env.Clock.Now()
	if why := sa.takeInitReply(m); why != "" {
		sa.initRejected = why
		text := fmt.Sprintf("unusable IKE_SA_INIT response: %s. It is not authenticated and may be forged: keep waiting for a valid one until the retransmissions run out (RFC 7296, Section 2.21.1)", why)
		if n := errorNotify(m.Payloads); n != nil {
			// A notify received is an error to report, even if it may be forged.
			sa.initRejectedNotify = n.Type
			sa.d.failure(sa, "", n.Type, ike.FailPeerNotify, "%s: %s", sa.name(), text)
		} else {
			sa.d.say(strings.ToUpper(text[:1]) + text[1:])
		}
	}
}

// answered ends the outstanding request: its response is taken.
func (sa *ikeSA) answered() {
	sa.outstanding.timer.Stop()
	sa.outstanding = nil
	sa.nextRequestID++
}

// takeInitReply acts on an IKE_SA_INIT response, or says why it cannot be used.
func (sa *ikeSA) takeInitReply(m *Message) (unusable string) {
	d := sa.d
	ps := m.Payloads
	if n := notifyIn(ps, COOKIE); n != nil {
		if len(n.Data) < 1 || len(n.Data) > 64 {
			return fmt.Sprintf("its N(COOKIE) has %d bytes, not 1 to 64 (RFC 7296, Section 3.10.1)", len(n.Data))
		}
		sa.answered()
		if sa.initTries++; sa.initTries > 3 {
			sa.failWith(COOKIE, ike.FailPeerNotify, "responder keeps asking for a COOKIE")
			return ""
		}
		d.action("Responder demands a COOKIE (it is under load): send IKE_SA_INIT again with N(COOKIE) first")
		sa.cookie = n.Data
		sa.sendInit()
		return ""
	}
	if n := notifyIn(ps, INVALID_KE_PAYLOAD); n != nil {
		if len(n.Data) != 2 {
			return "INVALID_KE_PAYLOAD without a group"
		}
		g := binary.BigEndian.Uint16(n.Data)
		if !offersGroup(sa.conn.Proposals, g) || g == sa.keGroup {
			return fmt.Sprintf("the responder wants Diffie-Hellman group %d, which we do not offer", g)
		}
		sa.answered()
		if sa.initTries++; sa.initTries > 3 {
			sa.failWith(INVALID_KE_PAYLOAD, ike.FailPeerNotify, "responder wants Diffie-Hellman group %d, which we do not offer", g)
			return ""
		}
		gname := fmt.Sprint(g)
		if grp := ike.DH(g); grp != nil {
			gname = grp.Name
		}
		d.action("INVALID_KE_PAYLOAD: the responder wants group %s: compute a new KEi for it and retry", gname)
		sa.keGroup = g
		sa.sendInit()
		return ""
	}
	if n := errorNotify(ps); n != nil {
		return fmt.Sprintf("the responder says %s", n.Type)
	}
	sap, ke, nr := payloadOf[*SA](ps), payloadOf[*KE](ps), noncePayload(ps)
	if sap == nil || ke == nil || nr == nil || len(sap.Proposals) != 1 || m.Header.SPIr == 0 {
		return "it lacks SA, KE or Nr, or has no responder SPI"
	}
	chosen := sap.Proposals[0].IKE()
	if _, _, ok := ike.SelectProposal([]ike.Proposal{chosen}, sa.conn.Proposals); !ok {
		return fmt.Sprintf("the responder chose %s, which we did not offer", chosen)
	}
	if g, _ := pickTransform(chosen, ike.TransformDH); ke.Group != sa.keGroup || g.ID != sa.keGroup {
		return fmt.Sprintf("the responder's KE uses group %d and its proposal group %d, not our %d", ke.Group, g.ID, sa.keGroup)
	}
	gir, err := sa.dhPriv.Shared(ke.Data)
	if err != nil {
		return fmt.Sprintf("Diffie-Hellman with the responder's KE payload failed: %v", err)
	}
	if err := sa.setTransforms(chosen); err != nil {
		return err.Error()
	}
	sa.answered()
	sa.spiR = m.Header.SPIr
	sa.nr = nr.Data
	sa.initReply = m.Raw
	d.action("Responder selected %s", chosen)
	sa.deriveFrom(gir)
	sa.checkNAT(&m.Header, ps, sa.local, sa.remote)
	if sa.behindNAT() {
		sa.floatPorts()
	}
	sa.readInitReply(ps) // hook (auth.go): the responder's CERTREQ, fragmentation, RFC 7427 hashes
	sa.sendAuth()
	return ""
}

// floatPorts moves IKE from port 500 to 4500 once a NAT is detected (RFC 7296 2.23), so
// that IKE_AUTH and ESP in UDP share one NAT mapping; an end on another port stays
// (ike.FloatPorts).
func (sa *ikeSA) floatPorts() {
	var moved bool
	if sa.local, sa.remote, moved = ike.FloatPorts(sa.local, sa.remote); !moved {
		sa.d.say(ike.StayOnPorts(sa.local, sa.remote))
		return
	}
	sa.d.action("A NAT is in the path: move IKE to UDP port 4500 (with the non-ESP marker) for IKE_AUTH and ESP in UDP")
}

// setTransforms looks up the algorithms of the selected IKE proposal.
func (sa *ikeSA) setTransforms(p ike.Proposal) error {
	sa.proposal = p
	sa.encr, sa.integ, sa.prf, sa.dh = nil, nil, nil, nil
	for _, t := range p.Transforms {
		switch t.Type {
		case ike.TransformENCR:
			sa.encr, sa.encrBits = ike.Encr(t.ID), t.KeyLen
		case ike.TransformINTEG:
			sa.integ = ike.Integ(t.ID)
		case ike.TransformPRF:
			sa.prf = ike.PRF(t.ID)
		case ike.TransformDH:
			sa.dh = ike.DH(t.ID)
		}
	}
	if sa.encr == nil || sa.prf == nil || sa.dh == nil || (sa.integ == nil && !sa.encr.AEAD()) {
		return fmt.Errorf("selected proposal %s lacks a usable ENCR, PRF, INTEG or DH transform", p)
	}
	if sa.encrBits == 0 && len(sa.encr.KeyBits) > 0 {
		sa.encrBits = sa.encr.KeyBits[0]
	}
	return nil
}

// deriveKeys computes g^ir, SKEYSEED and the seven keys (RFC 7296 2.14).
func (sa *ikeSA) deriveKeys(peerKE []byte) error {
	gir, err := sa.dhPriv.Shared(peerKE)
	if err != nil {
		return fmt.Errorf("Diffie-Hellman with the peer's KE payload failed: %v", err)
	}
	sa.deriveFrom(gir)
	return nil
}

// deriveFrom computes SKEYSEED and the seven keys from g^ir.
func (sa *ikeSA) deriveFrom(gir []byte) {
	skeyseed := ike.SKEYSEED(sa.prf, sa.ni, sa.nr, gir)
	sa.keys = ike.DeriveIKEKeys(sa.prf, skeyseed, sa.ni, sa.nr, sa.spiI, sa.spiR, sa.encr, sa.encrBits, sa.integ)
	keys := "SK_d, SK_ai, SK_ar, SK_ei, SK_er, SK_pi, SK_pr"
	if sa.encr.AEAD() {
		// RFC 5282, Section 7: an AEAD cipher needs no integrity keys; SK_ei and SK_er
		// hold its key and salt.
		keys = "SK_d, SK_ei, SK_er (each the AEAD key and its salt), SK_pi, SK_pr; no SK_a: the cipher's tag protects integrity"
	}
	sa.d.say("Compute the Diffie-Hellman shared secret g^ir (" + strconv.Itoa(len(gir)) +
		" bytes); generate SKEYSEED = prf(Ni | Nr, g^ir) and derive " + keys + " with prf+")
}

// replyStateless answers an IKE_SA_INIT request without making state.
func (d *Daemon) replyStateless(local, remote netip.AddrPort, req *Message, n *Notify) {
	m := &Message{Header: Header{SPIi: req.Header.SPIi, Exchange: IKE_SA_INIT, Flags: FlagResponse}, Payloads: []Payload{n}}
	raw, err := m.Marshal(nil, nil)
	if err != nil {
		d.failure(nil, "", 0, ike.FailInternal, "cannot build IKE_SA_INIT response: %v", err)
		return
	}
	info := &ike.MessageInfo{Version: 2, Exchange: IKE_SA_INIT.String(), Response: true, MessageFacts: Describe(m, false),
		Dissect: d.lazyDissect(raw, nil)}
	d.env.Transport.Send(ike.Datagram{Local: local, Remote: remote, Data: raw, Info: info})
}

// initKey names a responder's IKE SA by the request that made it: a SHA-256 over the
// initiator's address and its IKE_SA_INIT request. strongSwan hashes the request alone
// to tell a retransmission from a new request with the same SPIi; with the address, a
// request replayed from elsewhere is not taken for a retransmission and answered there.
type initKey [sha256.Size]byte

func initKeyOf(remote netip.AddrPort, raw []byte) initKey {
	h := sha256.New()
	a, _ := remote.MarshalBinary()
	h.Write(a)
	h.Write(raw)
	var k initKey
	h.Sum(k[:0])
	return k
}

// handleInitRequest takes an IKE_SA_INIT request: a retransmission of one that made an
// IKE SA (the same bytes from the same address) goes to that SA; any other starts a
// new one. A request with a responder SPI, a message ID or without the I flag starts
// nothing.
func (d *Daemon) handleInitRequest(local, remote netip.AddrPort, m *Message) {
	h := &m.Header
	if h.SPIr != 0 || h.MessageID != 0 || !h.FromInitiator() {
		d.env.Observer.Dropped(ike.Datagram{Local: local, Remote: remote, Data: m.Raw,
			Info: &ike.MessageInfo{Version: 2, Exchange: "IKE_SA_INIT", MessageID: h.MessageID, Dissect: d.lazyDissect(m.Raw, nil)}},
			fmt.Sprintf("IKE_SA_INIT request with responder SPI %016x, message ID %d, flags %s: it does not start an IKE SA (RFC 7296, Section 3.1)",
				h.SPIr, h.MessageID, h.Flags))
		return
	}
	key := initKeyOf(remote, m.Raw)
	if sa := d.initHashes[key]; sa != nil {
		sa.retransmitInit(local, remote, m)
		return
	}
	d.respondInit(local, remote, m, key)
}

// retransmitInit answers a retransmitted IKE_SA_INIT request with the cached response,
// as long as IKE_AUTH has not begun.
func (sa *ikeSA) retransmitInit(local, remote netip.AddrPort, m *Message) {
	dg := ike.Datagram{Local: local, Remote: remote, Data: m.Raw}
	infoIn := &ike.MessageInfo{Version: 2, Exchange: m.Exchange.String(), MessageID: m.MessageID}
	if sa.nextPeerID == 1 && sa.lastReply != nil && sa.lastReplyID == 0 {
		sa.resendReply(dg, infoIn, m)
		return
	}
	infoIn.Dissect = sa.d.lazyDissect(m.Raw, sa.skIn())
	dg.Info = infoIn
	sa.d.env.Observer.Dropped(dg, fmt.Sprintf("request message ID %d, expected %d", m.MessageID, sa.nextPeerID))
}

// respondInit handles an IKE_SA_INIT request that starts a new IKE SA; key names the
// request (initKeyOf). Before any state is made, the node's defences against peers
// that have not authenticated apply (cookie.go).
func (d *Daemon) respondInit(local, remote netip.AddrPort, m *Message, key initKey) {
	obs := d.env.Observer
	dg := ike.Datagram{Local: local, Remote: remote, Data: m.Raw,
		Info: &ike.MessageInfo{Version: 2, Exchange: IKE_SA_INIT.String(), MessageFacts: Describe(m, true), Dissect: d.lazyDissect(m.Raw, nil), Weak: weakIn(m)}}
	c := d.core.Match(local.Addr(), remote.Addr())
	if c == nil {
		obs.Dropped(dg, fmt.Sprintf("no IKEv2 connection configured for %s → %s", remote.Addr(), local.Addr()))
		return
	}
	ps := m.Payloads
	sap, ke, ni := payloadOf[*SA](ps), payloadOf[*KE](ps), noncePayload(ps)
	if sap == nil || ke == nil || ni == nil {
		obs.Received(dg)
		d.action("IKE_SA_INIT request lacks SA, KE or Ni: answer INVALID_SYNTAX")
		d.replyStateless(local, remote, m, &Notify{Type: INVALID_SYNTAX})
		return
	}
	why := d.cookieRequired(c, remote.Addr())
	cookieOK := why != "" && d.cookieValid(notifyIn(ps, COOKIE), ni.Data, remote, m.Header.SPIi)
	if why != "" && !cookieOK {
		obs.Received(dg)
		d.action("%s: answer statelessly with N(COOKIE) to prove the initiator's address", why)
		d.replyStateless(local, remote, m, &Notify{Type: COOKIE, Data: d.cookieFor(ni.Data, remote, m.Header.SPIi)})
		return
	}
	if why := d.overLimit(remote.Addr()); why != "" {
		obs.Dropped(dg, why)
		return
	}
	obs.Received(dg)
	if cookieOK {
		d.action("The COOKIE matches: the initiator really is at %s", remote.Addr())
	}
	offered := sap.IKEProposals()
	d.action("Compare the initiator's proposals with local policy and select one")
	chosen, idx, ok := ike.SelectProposal(offered, c.Proposals)
	if !ok {
		obs.Error(ike.Failure{Conn: c.Name, Notify: NO_PROPOSAL_CHOSEN.String(), Reason: ike.FailRefused,
			Text: fmt.Sprintf("NO_PROPOSAL_CHOSEN: initiator offered %s, connection %s accepts %s",
				proposalList(offered), c.Name, proposalList(c.Proposals))})
		d.replyStateless(local, remote, m, &Notify{Type: NO_PROPOSAL_CHOSEN})
		return
	}
	group, _ := pickTransform(chosen, ike.TransformDH)
	if ke.Group != group.ID {
		var data [2]byte
		binary.BigEndian.PutUint16(data[:], group.ID)
		d.action("Initiator's KE uses group %d but the selected proposal has group %d: answer INVALID_KE_PAYLOAD", ke.Group, group.ID)
		d.replyStateless(local, remote, m, &Notify{Type: INVALID_KE_PAYLOAD, Data: data[:]})
		return
	}
	sa := d.newSA(c, false, local, remote)
	sa.spiI = m.Header.SPIi
	sa.spiR = d.spi64()
	d.sas[sa.spiR] = sa
	sa.initHash = key
	d.initHashes[key] = sa
	sa.replyLocal, sa.replyRemote = local, remote
	d.countHalfOpen(sa)
	sa.setState(stateConnecting)
	if err := sa.setTransforms(chosen); err != nil {
		sa.failWith(0, ike.FailInternal, "%v", err)
		return
	}
	var err error
	if sa.dhPriv, err = sa.dh.Generate(d.env.Rand); err != nil {
		sa.failWith(0, ike.FailInternal, "Diffie-Hellman: %v", err)
		return
	}
	sa.ni, sa.nr = ni.Data, d.core.Random(nonceSize)
	sa.initRequest = m.Raw
	d.action("Selected %s; choose responder SPI %016x; generate a Diffie-Hellman private value, KEr and nonce Nr", chosen, sa.spiR)
	if err := sa.deriveKeys(ke.Data); err != nil {
		sa.failWith(0, ike.FailInternal, "%v", err)
		return
	}
	sa.checkNAT(&m.Header, ps, local, remote)
	sa.nextPeerID = 1
	resp := []Payload{&SA{Proposals: []*Proposal{NewProposal(sap.Proposals[idx].Number, nil, chosen)}},
		&KE{Group: group.ID, Data: sa.dhPriv.Public()}, &Nonce{Data: sa.nr}}
	resp = append(resp, sa.natDetection()...)
	resp = append(resp, sa.initResponse(ps)...) // hook (auth.go): CERTREQ, fragmentation, RFC 7427 hashes
	resp = append(resp, childlessSupport(c)...)
	sa.sendResponse(IKE_SA_INIT, 0, resp)
	sa.initReply = sa.lastReply
	sa.startTimer("IKE_SA_INIT half-open timeout", 30*daemon.DefaultRetransmitTimeout, func() {
		if sa.state == stateConnecting {
			sa.failWith(0, ike.FailTimeout, "IKE_AUTH never came: half-open IKE SA times out")
		}
	})
}

func pickTransform(p ike.Proposal, t ike.TransformType) (ike.Transform, bool) {
	for _, x := range p.Transforms {
		if x.Type == t {
			return x, true
		}
	}
	return ike.Transform{}, false
}

func proposalList(ps []ike.Proposal) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ", "
		}
		s += p.String()
	}
	return s
}
