package ikev2

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/ikesim/ikesim/ike"
)

// IKE_AUTH (RFC 7296 1.2) with a pre-shared key (2.15):
//
//	HDR, SK {IDi, [IDr,] AUTH, SAi2, TSi, TSr}  -->
//	                                            <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
//
// AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>), where the
// initiator signs RealMessage1 | NonceRData | prf(SK_pi, IDi') and the responder
// RealMessage2 | NonceIData | prf(SK_pr, IDr').

const keyPad = "Key Pad for IKEv2"

// idBody is RestOfInitIDPayload / RestOfRespIDPayload: ID type, three reserved bytes, data.
func idBody(id ike.Identity) []byte {
	b := make([]byte, 4, 4+len(id.Value))
	b[0] = id.Type
	return append(b, id.Value...)
}

// pskAuth computes the AUTH value for a pre-shared key.
func (sa *ikeSA) pskAuth(psk []byte, forInitiator bool, id ike.Identity) []byte {
	if p := sa.ext.pad; p == nil || !bytes.Equal(p.psk, psk) {
		sa.ext.pad = &paddedKey{psk: bytes.Clone(psk), padded: sa.prf.Sum(psk, []byte(keyPad))}
	}
	return sa.prf.Sum(sa.ext.pad.padded, sa.signedOctets(forInitiator, id))
}

func toID(id ike.Identity, responder bool) *ID {
	return &ID{Responder: responder, Type: IDType(id.Type), Data: id.Value}
}

func fromID(p *ID) ike.Identity { return ike.Identity{Type: uint8(p.Type), Value: p.Data} }

// sendAuth sends the initiator's IKE_AUTH request, with the first Child SA.
func (sa *ikeSA) sendAuth() {
	d := sa.d
	c := sa.conn
	// Hook (auth.go): CERT and AUTH by the local method; an EAP client sends no AUTH.
	certs, auth, err := sa.localAuth()
	if err != nil {
		sa.failWith(0, ike.FailInternal, "%v", err)
		return
	}
	ps := append([]Payload{toID(c.Local.ID, false)}, certs...)
	ps = append(ps, sa.certReq()...)
	if len(c.Remote.ID.Value) > 0 {
		ps = append(ps, toID(c.Remote.ID, true))
	}
	if !d.hasContact(sa) {
		// RFC 7296, Section 2.4: the first IKE SA to this peer says so, and the peer may
		// drop what it still holds from an earlier life of ours (strongSwan sends it too).
		ps = append(ps, &Notify{Type: INITIAL_CONTACT})
		d.action("No other IKE SA with %s: send N(INITIAL_CONTACT), so that it drops any SA left from before", sa.remote.Addr())
	}
	if auth != nil {
		ps = append(ps, auth)
	}
	if c.RequestVIP || c.RequestVIP6 {
		ps = append(ps, cpRequest(c.RequestVIP6))
		d.action("Ask the responder for a virtual IP and a DNS server with CP(CFG_REQUEST)")
	}
	var ch *ike.ChildConfig
	if len(sa.pendingChildren) > 0 && !c.Childless {
		ch = sa.pendingChildren[0]
		sa.pendingChildren = sa.pendingChildren[1:]
	}
	var spi uint32
	sa.authChild = ch
	if ch != nil {
		spi = d.core.SPI32()
		if ch.Transport {
			ps = append(ps, &Notify{Type: USE_TRANSPORT_MODE})
		}
		local, remote := sa.dynamicTS(ch.LocalTS, true), sa.dynamicTS(ch.RemoteTS, false)
		ps = append(ps, NewSA(spiBytes(spi), withoutDH(ch.ESPProposals)...), toWireTS(local, false), toWireTS(remote, true))
		d.action("Propose Child SA %s with inbound SPI 0x%08x, ESP proposals %s, TSi %s, TSr %s", ch.Name, spi,
			proposalList(withoutDH(ch.ESPProposals)), tsList(local), tsList(remote))
	}
	sa.sendRequest(IKE_AUTH, ps, func(m *Message, inner []Payload) { sa.onAuthReply(inner, ch, spi) })
}

// onAuthReply checks the responder's AUTH and installs the first Child SA.
func (sa *ikeSA) onAuthReply(inner []Payload, ch *ike.ChildConfig, spi uint32) {
	c := sa.conn
	// Hook (eap.go): an EAP client's rounds, up to the responder's AUTH after EAP-Success.
	inner, eapRound := sa.eapClientRound(inner, ch, spi)
	if eapRound {
		return
	}
	idr, auth := idPayload(inner, true), payloadOf[*Auth](inner)
	if auth == nil || idr == nil {
		if n := errorNotify(inner); n != nil {
			sa.failWith(n.Type, ike.FailPeerNotify, "IKE_AUTH failed: responder says %s", n.Type)
		} else {
			sa.failWith(0, ike.FailMalformed, "IKE_AUTH response lacks IDr or AUTH")
		}
		return
	}
	peer := fromID(idr)
	if len(c.Remote.ID.Value) > 0 && !peer.Equal(c.Remote.ID) {
		sa.failWith(AUTHENTICATION_FAILED, ike.FailRefused, "AUTHENTICATION_FAILED: responder identifies as %s, expected %s", peer, c.Remote.ID)
		return
	}
	// Hook (auth.go): the responder's AUTH (and CERT) by the method configured for it.
	if err := sa.verifyPeerAuth(peer, auth, inner); err != nil {
		sa.failWith(AUTHENTICATION_FAILED, ike.FailRefused, "AUTHENTICATION_FAILED: %s", ike.Reason(err))
		return
	}
	sa.establish()
	sa.takeCP(inner)
	if ch != nil {
		sa.authChild = nil
		sa.finishChild(inner, ch, spi, sa.ni, sa.nr, nil, nil)
	}
	for _, p := range sa.pendingChildren {
		p := p
		sa.queueRequest(func() { sa.createChild(p, nil) })
	}
	sa.pendingChildren = nil
	if old := sa.reauthOf; old != nil {
		// Make-before-break: the old IKE SA goes once every Child SA is up again here.
		sa.queueRequest(func() {
			sa.d.action("Reauthentication: %s and its Child SAs are up; delete the old %s", sa.name(), old.name())
			old.queueRequest(old.deleteIKE)
		})
	}
}

// reauth reauthenticates the IKE SA (RFC 7296, Section 2.8.3; swanctl.conf's
// reauth_time): unlike a rekey, a new IKE SA is made from scratch by IKE_SA_INIT and
// IKE_AUTH, with new authentication; its Child SAs are made anew on it, and the old IKE
// SA, with its Child SAs, is deleted only then (make-before-break, as strongSwan does
// with make_before_break = yes).
func (sa *ikeSA) reauth() {
	d := sa.d
	if sa.state != stateEstablished {
		return
	}
	cfgs := sa.childConfigs()
	d.action("Reauthentication time of %s reached: set up a new IKE SA with IKE_SA_INIT and IKE_AUTH, make its %d Child SA(s) anew on it, then delete the old one",
		sa.name(), len(cfgs))
	var first *ike.ChildConfig
	if len(cfgs) > 0 && !sa.conn.Childless {
		first, cfgs = cfgs[0], cfgs[1:]
	}
	n := d.startIKE(sa.conn, first)
	if n == nil {
		return
	}
	n.pendingChildren = append(n.pendingChildren, cfgs...)
	n.reauthOf = sa
}

// finishChild reads an initiator's view of a response that creates a Child SA. It
// returns the new SA, or nil and the error notify the responder sent (0: none). What
// becomes of the SA a rekey replaces is settleRekey's business.
func (sa *ikeSA) finishChild(inner []Payload, ch *ike.ChildConfig, spi uint32, ni, nr, gir []byte, old *childSA) (*childSA, NotifyType) {
	if n := errorNotify(inner); n != nil {
		if old == nil || (n.Type != TEMPORARY_FAILURE && n.Type != CHILD_SA_NOT_FOUND) {
			sa.d.failure(sa, ch.Name, n.Type, ike.FailPeerNotify, "%s: Child SA %s not created: responder says %s", sa.name(), ch.Name, n.Type)
		}
		if old == nil {
			sa.d.core.AcquireFailed(ch.ReqID, "the responder says "+n.Type.String())
		}
		return nil, n.Type
	}
	sap := payloadOf[*SA](inner)
	tsi, tsr := tsPayload(inner, false), tsPayload(inner, true)
	if sap == nil || len(sap.Proposals) != 1 || tsi == nil || tsr == nil {
		sa.d.failure(sa, ch.Name, 0, ike.FailMalformed, "%s: Child SA %s: response lacks SA, TSi or TSr", sa.name(), ch.Name)
		return nil, 0
	}
	p := sap.Proposals[0]
	chosen := p.IKE()
	if _, _, ok := ike.SelectProposal([]ike.Proposal{chosen}, ch.ESPProposals); !ok {
		if _, _, ok2 := ike.SelectProposal([]ike.Proposal{chosen}, withoutDH(ch.ESPProposals)); !ok2 {
			sa.d.failure(sa, "", 0, ike.FailMalformed, "%s: responder chose ESP %s, which we did not offer", sa.name(), chosen)
			return nil, 0
		}
	}
	transport := ch.Transport && notifyIn(inner, USE_TRANSPORT_MODE) != nil
	n, _ := sa.installChild(ch, chosen, spi, spiValue(p.SPI), fromWireTS(tsi), fromWireTS(tsr), transport, true, ni, nr, gir, old)
	return n, 0
}

// establish marks the IKE SA up and starts its timers.
func (sa *ikeSA) establish() {
	sa.d.uncountHalfOpen(sa)
	sa.timers.Stop("IKE_SA_INIT half-open timeout")
	sa.setState(stateEstablished)
	sa.d.peers.add(sa)
	sa.ext.pad = nil // AUTH is done
	sa.d.env.Observer.IKESAUp(sa.info())
	sa.d.say(sa.name() + " established between " + sa.local.String() + " and " + sa.remote.String() + " (" + sa.proposal.String() + ")")
	sa.armTimers()
}

// respondAuth handles the initiator's IKE_AUTH request.
func (sa *ikeSA) respondAuth(m *Message, inner []Payload) {
	c := sa.conn
	id := m.Header.MessageID
	// Hook (eap.go): EAP rounds; after EAP-Success the initiator's AUTH joins the payloads
	// of its first request.
	inner, eapRound := sa.eapServerRound(id, inner)
	if eapRound {
		return
	}
	idi, auth := idPayload(inner, false), payloadOf[*Auth](inner)
	if sa.state != stateConnecting || idi == nil || auth == nil {
		sa.sendResponse(IKE_AUTH, id, []Payload{&Notify{Type: INVALID_SYNTAX}})
		sa.failWith(0, ike.FailMalformed, "IKE_AUTH request lacks IDi or AUTH")
		return
	}
	peer := fromID(idi)
	// Hook (auth.go): the initiator's AUTH (and CERT) by the method configured for it.
	authErr := sa.verifyPeerAuth(peer, auth, inner)
	if (len(c.Remote.ID.Value) > 0 && !peer.Equal(c.Remote.ID)) || authErr != nil {
		var why string
		if len(c.Remote.ID.Value) > 0 && !peer.Equal(c.Remote.ID) {
			why = fmt.Sprintf("initiator identifies as %s, expected %s", peer, c.Remote.ID)
		} else {
			why = ike.Reason(authErr)
		}
		sa.sendResponse(IKE_AUTH, id, []Payload{&Notify{Type: AUTHENTICATION_FAILED}})
		sa.failWith(AUTHENTICATION_FAILED, ike.FailRefused, "AUTHENTICATION_FAILED: %s", why)
		return
	}
	// Hook (auth.go): IDr, CERT and AUTH by our method; after EAP the AUTH alone.
	ps, err := sa.responderAuth(inner)
	if err != nil {
		sa.sendResponse(IKE_AUTH, id, []Payload{&Notify{Type: AUTHENTICATION_FAILED}})
		sa.failWith(AUTHENTICATION_FAILED, ike.FailRefused, "%v", err)
		return
	}
	if !sa.checkUnique(notifyIn(inner, INITIAL_CONTACT) != nil) {
		sa.sendResponse(IKE_AUTH, id, []Payload{&Notify{Type: AUTHENTICATION_FAILED}})
		sa.failWith(AUTHENTICATION_FAILED, ike.FailRefused, "unique = keep: an IKE SA with %s already exists", sa.info().RemoteID)
		return
	}
	sa.establish()
	if req := payloadOf[*CP](inner); req != nil {
		if p := sa.answerCP(req); p != nil {
			ps = append(ps, p)
		}
	}
	var install func() *childSA
	if sap := payloadOf[*SA](inner); sap != nil && !c.Childless && !sa.vipFailed(ps) {
		saPs, tsPs, in := sa.acceptChild(inner, sa.ni, sa.nr, nil, nil, false)
		ps = append(append(ps, saPs...), tsPs...)
		install = in
	}
	sa.sendResponse(IKE_AUTH, id, ps)
	if install != nil {
		install()
	}
}

// acceptChild answers a proposed Child SA as responder: it returns the response payloads
// (the SA payload, or an error notify, and the narrowed TSi and TSr) and a function
// that installs the SA once the response is sent. ni and nr are the exchange's nonces,
// gir its PFS secret (nil without); pfs says whether the proposals may carry a DH group.
func (sa *ikeSA) acceptChild(inner []Payload, ni, nr, gir []byte, old *childSA, pfs bool) (saPs, tsPs []Payload, install func() *childSA) {
	d := sa.d
	c := sa.conn
	sap := payloadOf[*SA](inner)
	tsi, tsr := fromWireTS(tsPayload(inner, false)), fromWireTS(tsPayload(inner, true))
	var cfg *ike.ChildConfig
	var ntsi, ntsr []ike.TrafficSelector
	if old != nil {
		cfg, ntsi, ntsr = old.cfg, old.remoteTS, old.localTS
	} else {
		cfg, ntsi, ntsr = sa.pickChildConfig(tsi, tsr)
		if cfg != nil && sa.peerVIP.IsValid() {
			ntsi = sa.vipTS(ntsi)
			if len(ntsi) == 0 {
				cfg = nil
			}
		}
	}
	if cfg == nil {
		d.failure(sa, "", TS_UNACCEPTABLE, ike.FailRefused, "%s: TS_UNACCEPTABLE: proposed TSi %s / TSr %s match no child of %s",
			sa.name(), tsList(tsi), tsList(tsr), c.Name)
		return []Payload{&Notify{Type: TS_UNACCEPTABLE}}, nil, nil
	}
	d.action("Traffic selectors TSi %s, TSr %s fit child %s: narrowed to %s ↔ %s", tsList(tsi), tsList(tsr), cfg.Name,
		tsList(ntsi), tsList(ntsr))
	local := cfg.ESPProposals
	if !pfs {
		local = withoutDH(local)
	}
	offered := sap.IKEProposals()
	chosen, idx, ok := ike.SelectProposal(offered, local)
	if !ok {
		d.failure(sa, cfg.Name, NO_PROPOSAL_CHOSEN, ike.FailRefused, "%s: NO_PROPOSAL_CHOSEN for child %s: offered %s, accepted %s", sa.name(), cfg.Name,
			proposalList(offered), proposalList(local))
		return []Payload{&Notify{Type: NO_PROPOSAL_CHOSEN}}, nil, nil
	}
	spi := d.core.SPI32()
	peerSPI := spiValue(sap.Proposals[idx].SPI)
	transport := cfg.Transport && notifyIn(inner, USE_TRANSPORT_MODE) != nil
	d.action("Select ESP proposal %s for child %s; choose inbound SPI 0x%08x", chosen, cfg.Name, spi)
	var ps []Payload
	if transport {
		ps = append(ps, &Notify{Type: USE_TRANSPORT_MODE})
	}
	ps = append(ps, &SA{Proposals: []*Proposal{NewProposal(sap.Proposals[idx].Number, spiBytes(spi), chosen)}})
	return ps, []Payload{toWireTS(ntsi, false), toWireTS(ntsr, true)}, func() *childSA {
		ch, _ := sa.installChild(cfg, chosen, spi, peerSPI, ntsr, ntsi, transport, false, ni, nr, gir, old)
		return ch
	}
}

// vipFailed reports whether the response already says no virtual IP could be had, in
// which case no Child SA is made.
func (sa *ikeSA) vipFailed(ps []Payload) bool { return notifyIn(ps, INTERNAL_ADDRESS_FAILURE) != nil }

// hasContact says whether the node has another IKE SA with sa's peer (strongSwan's
// has_contact): only the first one sends INITIAL_CONTACT.
func (d *Daemon) hasContact(sa *ikeSA) bool {
	for _, o := range d.sas {
		if o != sa && o.remote.Addr() == sa.remote.Addr() && o.state != stateDestroyed && o.state != stateCreated {
			return true
		}
	}
	return false
}

// peerIndex holds the IKE SAs that came up, by the identity of the peer (remoteID), so
// that checkUnique finds a peer's without looking at every IKE SA of the node. An IKE
// SA enters it when it is established (an IKE SA that replaces another by a rekey too)
// and stays until it is destroyed; destroyed ones are swept out once they are as many
// as the live IKE SAs, so the index never holds more than about twice those.
type peerIndex struct {
	by map[string][]*ikeSA
	n  int // IKE SAs in by
}

func identityKey(id ike.Identity) string { return string(append([]byte{id.Type}, id.Value...)) }

// add records an IKE SA that has just come up.
func (x *peerIndex) add(sa *ikeSA) {
	if x.by == nil {
		x.by = map[string][]*ikeSA{}
	}
	if x.n >= 2*len(sa.d.sas)+16 {
		x.sweep()
	}
	k := identityKey(sa.remoteID())
	x.by[k] = append(x.by[k], sa)
	x.n++
}

// sweep lets the destroyed IKE SAs go.
func (x *peerIndex) sweep() {
	for k, sas := range x.by {
		live := slices.DeleteFunc(sas, func(sa *ikeSA) bool { return sa.state == stateDestroyed })
		x.n -= len(sas) - len(live)
		if len(live) == 0 {
			delete(x.by, k)
		} else {
			x.by[k] = live
		}
	}
}

// of returns the IKE SAs with the peer id that came up, and perhaps went down since.
func (x *peerIndex) of(id ike.Identity) []*ikeSA { return x.by[identityKey(id)] }

// remoteID is the peer's identity (info reports it): the connection's, or the one the
// peer proved when the connection takes any.
func (sa *ikeSA) remoteID() ike.Identity {
	if id := sa.conn.Remote.ID; len(id.Value) > 0 {
		return id
	}
	return sa.ext.peerID
}

// checkUnique applies the connection's uniqueness policy (swanctl.conf's unique) to a
// responder's IKE SA that has just authenticated its peer, as strongSwan's
// check_uniqueness does: the other IKE SAs between the same two identities are
// duplicates. With no (the default), INITIAL_CONTACT (ic) removes them at once and
// silently, since the peer restarted and has none; replace deletes them with a Delete
// (silently too with INITIAL_CONTACT); keep refuses the new IKE SA (false); never keeps
// everything, INITIAL_CONTACT or not.
func (sa *ikeSA) checkUnique(ic bool) bool {
	d := sa.d
	policy := sa.conn.Unique
	me, peer := sa.conn.Local.ID, sa.remoteID()
	var dups []*ikeSA
	for _, o := range d.peers.of(peer) {
		if o == sa || (o.state != stateEstablished && o.state != stateRekeying) || o.conn == nil {
			continue
		}
		if o.conn.Local.ID.Equal(me) && o.remoteID().Equal(peer) {
			dups = append(dups, o)
		}
	}
	if len(dups) == 0 || policy == "never" {
		return true
	}
	// In the order they were made: each removal is in the trace.
	slices.SortFunc(dups, func(a, b *ikeSA) int { return a.serial - b.serial })
	if policy == "keep" {
		d.action("unique = keep: %s already has an IKE SA with %s, refuse the new one", d.core.Node, peer)
		return false
	}
	for _, o := range dups {
		switch {
		case ic:
			d.action("N(INITIAL_CONTACT) from %s: it restarted, so %s is a leftover: remove it and its Child SAs without a word", peer, o.name())
			o.destroy("replaced: the peer sent INITIAL_CONTACT")
		case policy == "replace":
			d.action("unique = replace: a new IKE SA with %s replaces %s: delete the old one", peer, o.name())
			o.queueRequest(o.deleteIKE)
		}
	}
	return true
}
