package ikev1

import (
	"bytes"
	"crypto/hmac"
	"fmt"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/daemon"
)

// Phase 1 (RFC 2409, Sections 5 and 5.4) with a pre-shared key:
//
//	Main Mode                                  Aggressive Mode
//	HDR, SA                    -->             HDR, SA, KE, Ni, IDii        -->
//	                           <-- HDR, SA                 <-- HDR, SA, KE, Nr, IDir, HASH_R
//	HDR, KE, Ni                -->             HDR, HASH_I                  -->
//	                           <-- HDR, KE, Nr
//	HDR*, IDii, HASH_I         -->
//	                           <-- HDR*, IDir, HASH_R
//
// with the vendor IDs of NAT traversal, DPD and XAUTH in the first messages, and the
// NAT-D payloads of RFC 3947 beside the key exchange. RFC 2409, Section 5.4 shows the
// third aggressive mode message in clear; ikesim encrypts it (HDR*, HASH_I) with the
// keys both sides hold by then, an implementation's choice that strongSwan accepts (see
// the interop tests).

// authMethod is the phase 1 authentication method a connection uses: pre-shared key, or
// XAUTHInitPreShared when the initiator will also log in with XAUTH.
func authMethod(c *ike.Connection, initiator bool) uint16 {
	if signatures(c) { // hook (auth_sig.go)
		return AuthRSASig
	}
	if c.XAuth != nil && ((initiator && c.XAuth.User != "") || (!initiator && len(c.XAuth.Users) > 0)) {
		return AuthXAUTHInitPSK
	}
	return AuthPSK
}

// phase1Life is the lifetime a connection proposes for its ISAKMP SA.
func phase1Life(c *ike.Connection) time.Duration {
	switch {
	case c.LifeTime > 0:
		return c.LifeTime
	case c.RekeyTime > 0:
		return c.RekeyTime * 11 / 10
	}
	return defaultPhase1Lifetime
}

// startPhase1 makes a new ISAKMP SA as initiator and sends the first message. ch is a
// child to negotiate once it is up; replaces the ISAKMP SA this one rekeys.
func (d *Daemon) startPhase1(c *ike.Connection, ch *ike.ChildConfig, replaces *isakmpSA) {
	if len(c.LocalAddrs) == 0 || len(c.RemoteAddrs) == 0 {
		d.errorf(nil, 0, ike.FailConfig, "connection %s needs local_addrs and remote_addrs to initiate", c.Name)
		return
	}
	lport, rport := c.Ports()
	sa := d.newSA(c, true, netip.AddrPortFrom(c.LocalAddrs[0], lport), netip.AddrPortFrom(c.RemoteAddrs[0], rport))
	sa.icookie = d.cookie()
	d.register(sa)
	sa.aggressive = c.Aggressive
	sa.replaces = replaces
	if ch != nil {
		sa.pending = append(sa.pending, ch.ReqID)
		sa.whenReady(func() { sa.startQuickMode(ch, nil) })
	}
	mode := ExchangeMain
	if sa.aggressive {
		mode = ExchangeAggressive
	}
	d.action("Begin %s exchange with %s: choose initiator cookie %016x", mode, sa.remote.Addr(), sa.icookie)
	offer := sa.phase1Offer()
	var err error
	if sa.saiB, err = PayloadBody(offer); err != nil {
		sa.failWith(0, ike.FailInternal, "cannot build the SA payload: %v", err)
		return
	}
	ps := []Payload{offer}
	if sa.aggressive {
		if !sa.generateDH() {
			return
		}
		sa.ni = d.core.Random(nonceSize)
		ps = append(ps, NewKE(sa.gxi), NewNonce(sa.ni), IdentityID(c.Local.ID))
		ps = append(ps, sa.certRequests()...) // hook (auth_sig.go): CR
		d.action("Aggressive mode: send the Diffie-Hellman value (KE), nonce Ni and our identity %s in the first message, "+
			"in clear text: an eavesdropper learns who we are", c.Local.ID)
	}
	ps = append(ps, sa.vendorIDs()...)
	sa.startTimer("phase 1 timeout", 30*daemon.DefaultRetransmitTimeout, func() {
		if !sa.established {
			sa.failWith(sa.peerError, ike.FailTimeout, "phase 1 did not complete in time%s", sa.peerSaid())
		}
	})
	if sa.send(outMsg{ex: sa.exchange(), payloads: ps, exchInitiator: true, wait: true, giveUp: sa.giveUpPhase1}) {
		if sa.aggressive {
			sa.setState(IKE_I_AM1)
		} else {
			sa.setState(IKE_I_MM1)
		}
	}
}

func (sa *isakmpSA) exchange() ExchangeType {
	if sa.aggressive {
		return ExchangeAggressive
	}
	return ExchangeMain
}

// giveUpPhase1 ends a phase 1 whose retransmissions ran out.
func (sa *isakmpSA) giveUpPhase1() {
	if sa.authError != "" {
		sa.d.errorf(sa, AUTHENTICATION_FAILED, ike.FailRefused, "%s: phase 1 failed: %s", sa.name(), sa.authError)
		sa.destroy("phase 1 failed: "+sa.authError, false)
		return
	}
	if sa.peerError != 0 {
		sa.d.errorf(sa, sa.peerError, ike.FailPeerNotify, "%s: phase 1 failed: the peer reports %v%s", sa.name(), sa.peerError, phase1ErrorWhy(sa.peerError))
		sa.destroy("phase 1 failed: the peer reports "+sa.peerError.String(), false)
		return
	}
	sa.destroy("the peer did not answer", false)
}

// peerSaid is what a failing phase 1 adds about the peer's last error notification.
func (sa *isakmpSA) peerSaid() string {
	if sa.peerError == 0 {
		return ""
	}
	return fmt.Sprintf("; the peer reports %v%s", sa.peerError, phase1ErrorWhy(sa.peerError))
}

// phase1ErrorWhy explains what an error notification in phase 1 says about the two
// configurations.
func phase1ErrorWhy(t NotifyType) string {
	switch t {
	case PAYLOAD_MALFORMED:
		return ": it could not read our encrypted message, so the pre-shared keys differ"
	case NO_PROPOSAL_CHOSEN:
		return ": none of our ISAKMP policies matches its own"
	case AUTHENTICATION_FAILED:
		return ": our HASH did not verify, so the pre-shared keys differ"
	}
	return ""
}

// phase1Offer is the initiator's SA payload: one proposal with a transform for every
// combination of the connection's proposals. Aggressive mode sends its KE at once, so it
// offers the first group only.
func (sa *isakmpSA) phase1Offer() *SA {
	c := sa.conn
	auth, life := authMethod(c, true), phase1Life(c)
	var group uint16
	if sa.aggressive {
		group = firstGroup(c)
	}
	offer, offered, _ := Phase1Offer(c.Proposals, auth, life, group) // New checked the proposals
	names := make([]string, len(offered))
	for i, p := range offered {
		names[i] = p.String()
	}
	sa.action("Offer %d ISAKMP policy transform(s) %v, authentication %s, lifetime %s",
		len(offered), names, nameOr(authNames, auth, "method"), secs(life))
	return offer
}

func firstGroup(c *ike.Connection) uint16 {
	for _, p := range c.Proposals {
		if ts, err := phase1Transforms(p); err == nil {
			return ts[0].group
		}
	}
	return 0
}

// vendorIDs announces NAT traversal (RFC 3947), DPD (RFC 3706) and, when configured,
// XAUTH.
func (sa *isakmpSA) vendorIDs() []Payload {
	ps := []Payload{NewVendorID(VendorNATT), NewVendorID(VendorDPD)}
	if sa.conn.XAuth != nil {
		ps = append(ps, NewVendorID(VendorXAUTH))
	}
	return ps
}

// learnVendors records what the peer's vendor IDs announce.
func (sa *isakmpSA) learnVendors(ps []Payload) {
	sa.peerNATT = hasVendor(ps, VendorNATT)
	sa.peerDPD = hasVendor(ps, VendorDPD)
	sa.peerXAUTH = hasVendor(ps, VendorXAUTH)
	var what []string
	if sa.peerNATT {
		what = append(what, "NAT traversal (RFC 3947)")
	}
	if sa.peerDPD {
		what = append(what, "dead peer detection (RFC 3706)")
	}
	if sa.peerXAUTH {
		what = append(what, "XAUTH")
	}
	if len(what) > 0 {
		sa.action("The peer's vendor IDs announce %v", what)
	}
}

// generateDH draws this side's Diffie-Hellman value for the negotiated (or, in
// aggressive mode, the first offered) group.
func (sa *isakmpSA) generateDH() bool {
	priv, err := sa.newDH()
	if err != nil {
		sa.failWith(0, ike.FailInternal, "Diffie-Hellman: %v", err)
		return false
	}
	sa.adoptDH(priv)
	return true
}

func (sa *isakmpSA) newDH() (ike.DHPrivate, error) {
	if sa.group == nil {
		sa.group = ike.DH(firstGroup(sa.conn))
	}
	return sa.group.Generate(sa.d.env.Rand)
}

// adoptDH makes priv this side's Diffie-Hellman value.
func (sa *isakmpSA) adoptDH(priv ike.DHPrivate) {
	sa.dhPriv = priv
	if sa.initiator {
		sa.gxi = sa.dhPriv.Public()
	} else {
		sa.gxr = sa.dhPriv.Public()
	}
	weak := ""
	if sa.group.Weak {
		weak = " (weak: too small for today's attackers)"
	}
	sa.action("Generate a Diffie-Hellman private value and the public value g^x for group %s%s", sa.group.Name, weak)
}

// setTransform adopts the chosen phase 1 transform.
func (sa *isakmpSA) setTransform(o p1Offer) {
	sa.chosen = o
	sa.proposal = o.proposal()
	sa.encr = ike.Encr(o.encr.ID)
	sa.hash = o.hash
	sa.prf = o.hash.PRF
	sa.group = ike.DH(o.group)
	sa.life = o.life
}

// deriveKeys takes g^xy and computes SKEYID and its three derivatives, the encryption
// key and the first IV (RFC 2409, Section 5 and Appendix B).
func (sa *isakmpSA) deriveKeys(gxy []byte) bool {
	sa.gxy = gxy
	skeyid, how, err := sa.skeyid() // hook (auth_sig.go): from the pre-shared key, or for signatures from the nonces
	if err != nil {
		sa.failWith(0, ike.FailInternal, "%v", err)
		return false
	}
	sa.keys = DeriveKeys(sa.prf, skeyid, sa.gxy, sa.icookie, sa.rcookie)
	n := sa.encr.KeyBytes(sa.chosen.encr.KeyLen)
	sa.encKey = EncryptionKey(sa.prf, sa.keys.SKEYID_e, n)
	sa.ivs = NewIVs(sa.hash, sa.encr.BlockSize, sa.gxi, sa.gxr)
	expand := "the first bytes of SKEYID_e"
	if len(sa.keys.SKEYID_e) < n {
		expand = "K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1) (Appendix B: SKEYID_e is too short)"
	}
	sa.action("Compute g^xy (%d bytes); %s; derive SKEYID_d, SKEYID_a, SKEYID_e; "+
		"the %d-byte %s key is %s; first IV = hash(g^xi | g^xr)", len(sa.gxy), how, n, sa.encr.Name, expand)
	return true
}

func (sa *isakmpSA) hashI(idiiB []byte) []byte {
	return HashI(sa.prf, sa.keys.SKEYID, sa.gxi, sa.gxr, sa.icookie, sa.rcookie, sa.saiB, idiiB)
}

func (sa *isakmpSA) hashR(idirB []byte) []byte {
	return HashR(sa.prf, sa.keys.SKEYID, sa.gxi, sa.gxr, sa.icookie, sa.rcookie, sa.saiB, idirB)
}

// natD makes this side's NAT-D payloads: the destination first, then the source (RFC
// 3947, Section 3.2). With encap forced, the source hash is made wrong on purpose, so the
// peer sees a NAT.
func (sa *isakmpSA) natD() []Payload {
	if !sa.peerNATT {
		return nil
	}
	src := NATDHash(sa.hash, sa.icookie, sa.rcookie, sa.local.Addr().AsSlice(), sa.local.Port())
	if sa.conn.Encap {
		src = NATDHash(sa.hash, sa.icookie, sa.rcookie, netip.IPv4Unspecified().AsSlice(), 0)
	}
	dst := NATDHash(sa.hash, sa.icookie, sa.rcookie, sa.remote.Addr().AsSlice(), sa.remote.Port())
	return []Payload{&NATD{Hash: dst}, &NATD{Hash: src}}
}

// checkNAT compares the peer's NAT-D payloads with the addresses the message really had
// (local and remote).
func (sa *isakmpSA) checkNAT(ps []Payload, local, remote netip.AddrPort) {
	var hashes [][]byte
	for _, p := range ps {
		if n, ok := p.(*NATD); ok {
			hashes = append(hashes, n.Hash)
		}
	}
	if len(hashes) < 2 {
		return
	}
	mine := NATDHash(sa.hash, sa.icookie, sa.rcookie, local.Addr().AsSlice(), local.Port())
	peer := NATDHash(sa.hash, sa.icookie, sa.rcookie, remote.Addr().AsSlice(), remote.Port())
	sa.natLocal = !bytes.Equal(hashes[0], mine) || sa.conn.Encap
	if sa.conn.Encap {
		sa.action("UDP encapsulation is forced (encap): act as if this side were behind a NAT")
	}
	sa.natRemote = true
	for _, h := range hashes[1:] {
		if bytes.Equal(h, peer) {
			sa.natRemote = false
		}
	}
	var text string
	switch {
	case sa.natLocal && sa.natRemote:
		text = "NAT-D: neither hash matches: both sides are behind a NAT"
	case sa.natLocal:
		text = fmt.Sprintf("NAT-D: the hash of our address %s does not match what the peer saw: this side is behind a NAT", local)
	case sa.natRemote:
		text = fmt.Sprintf("NAT-D: no hash matches the peer's address %s: the peer is behind a NAT", remote)
	default:
		text = "NAT-D: both hashes match: no NAT between the peers"
	}
	sa.d.env.Observer.NATDetected(ike.NATInfo{Conn: sa.connName(), Local: sa.natLocal, Remote: sa.natRemote, Text: text})
}

func (sa *isakmpSA) behindNAT() bool { return sa.natLocal || sa.natRemote }

// float moves to UDP 4500 when a NAT is in the path (RFC 3947, Section 4). Only an end
// on port 500 moves: one on any other port (a real peer's charon.port, say) frames every
// IKE message with the non-ESP marker already and stays, as strongSwan does
// (ike.FloatPorts).
func (sa *isakmpSA) float() {
	if !sa.behindNAT() || sa.local.Port() == ike.PortNATT {
		return
	}
	var moved bool
	if sa.local, sa.remote, moved = ike.FloatPorts(sa.local, sa.remote); !moved {
		sa.action("%s", ike.StayOnPorts(sa.local, sa.remote))
		return
	}
	sa.action("A NAT is in the path: float to UDP port 4500 (with the non-ESP marker) for the rest of IKE and for ESP in UDP")
}

// phase1 hands a phase 1 message to the step its state waits for.
func (sa *isakmpSA) phase1(m *Message) {
	// Main mode messages 5 and 6 travel encrypted (HDR*), the earlier ones in clear (RFC
	// 2409, Section 5). Aggressive mode message 3 may come either way: the RFC shows it
	// in clear, ikesim and strongSwan encrypt it; its HASH_I authenticates it in both.
	if sa.state != "IKE_R_AM2" {
		last := sa.state == "IKE_I_MM5" || sa.state == "IKE_R_MM4"
		if m.Encrypted() != last {
			sa.drop(fmt.Sprintf("%v message in state %s is encrypted: %v, want %v", m.Exchange, sa.state, m.Encrypted(), last))
			return
		}
	}
	if m.RCookie == 0 && (sa.state == "IKE_I_MM1" || sa.state == "IKE_I_AM1") {
		// RFC 2408, Section 3.1: the responder's answer carries its cookie. One without is
		// a first message, maybe our own sent back.
		sa.drop(fmt.Sprintf("%v message without a responder cookie is no answer", m.Exchange))
		return
	}
	switch sa.state {
	case IKE_I_MM1:
		sa.onMM2(m)
	case IKE_I_MM3:
		sa.onMM4(m)
	case IKE_I_MM5:
		sa.onMM6(m)
	case IKE_I_AM1:
		sa.onAM2(m)
	case IKE_R_MM2:
		sa.onMM3(m)
	case IKE_R_MM4:
		sa.onMM5(m)
	case IKE_R_AM2:
		sa.onAM3(m)
	default:
		sa.drop(fmt.Sprintf("unexpected %v message in state %s", m.Exchange, sa.state))
	}
}

// unprotectedError handles an error notification that came in clear in phase 1 (in a
// phase 1 message or an Informational): anyone who saw the cookies could have sent it,
// so it ends nothing. RFC 7296, Section 2.21.1 says so for IKEv2 and RFC 2408 gives no
// other rule; strongSwan's IKEv1 would end phase 1 at once. This side stops sending its
// last message again (the same bytes would meet the same answer, and Wireshark, which
// chains phase 1 IVs from frame to frame, cannot read a retransmitted encrypted one) and
// waits for a valid answer until the phase 1 or half-open timeout, whose error names the
// notification.
func (sa *isakmpSA) unprotectedError(n *Notify) {
	sa.peerError = n.Type
	sa.action("The peer reports %v in clear%s; anyone could have sent it, so keep waiting for a valid answer", n.Type, phase1ErrorWhy(n.Type))
	if f := sa.flights[0]; f != nil && f.waiting {
		sa.stopWaiting(0)
		sa.action("Stop retransmitting our %v message: wait for a valid answer until phase 1 times out", f.exchange)
	}
}

// checkChoice reads the responder's SA payload: one proposal with one transform, which
// must be one we offered.
func (sa *isakmpSA) checkChoice(p *SA) (p1Offer, error) {
	if p == nil || len(p.Proposals) != 1 || len(p.Proposals[0].Transforms) != 1 {
		return p1Offer{}, fmt.Errorf("the responder's SA payload does not hold exactly one transform")
	}
	o, err := parsePhase1Transform(p.Proposals[0].Transforms[0])
	if err != nil {
		return o, fmt.Errorf("the responder chose a transform we cannot use: %v", err)
	}
	for _, q := range sa.conn.Proposals {
		ts, _ := phase1Transforms(q)
		for _, t := range ts {
			if t == o.p1Transform && o.auth == authMethod(sa.conn, true) {
				return o, nil
			}
		}
	}
	return o, fmt.Errorf("the responder chose %s, which we did not offer", o.proposal())
}

// onMM2: the responder chose a transform; send KE, Ni (and NAT-D).
func (sa *isakmpSA) onMM2(m *Message) {
	if n := errorNotify(m.Payloads); n != nil {
		sa.drop(fmt.Sprintf("Main Mode message 2 carries N(%v), in clear", n.Type))
		sa.unprotectedError(n)
		return
	}
	o, err := sa.checkChoice(payloadOf[*SA](m.Payloads))
	if err != nil {
		sa.drop(fmt.Sprintf("Main Mode message 2: %v; keep waiting for a valid answer", err))
		return
	}
	sa.accept(m)
	sa.rcookie = m.RCookie
	sa.setTransform(o)
	sa.setState(IKE_I_MM2)
	sa.action("The responder accepts ISAKMP policy %s (authentication %s, lifetime %s); its cookie is %016x",
		sa.proposal, nameOr(authNames, o.auth, "method"), secs(o.life), sa.rcookie)
	sa.learnVendors(m.Payloads)
	if !sa.generateDH() {
		return
	}
	sa.ni = sa.d.core.Random(nonceSize)
	sa.action("Send KE (g^xi) and nonce Ni (%d bytes)", len(sa.ni))
	ps := append([]Payload{NewKE(sa.gxi), NewNonce(sa.ni)}, sa.certRequests()...) // hook (auth_sig.go): CR
	ps = append(ps, sa.natD()...)
	if sa.send(outMsg{ex: ExchangeMain, payloads: ps, exchInitiator: true, answers: m, wait: true, giveUp: sa.giveUpPhase1}) {
		sa.setState(IKE_I_MM3)
	}
}

// onMM4: derive the keys; send the identity and HASH_I, encrypted.
func (sa *isakmpSA) onMM4(m *Message) {
	ke, nr := payloadOf[*KE](m.Payloads), payloadOf[*Nonce](m.Payloads)
	if ke == nil || nr == nil {
		sa.drop("Main Mode message 4 lacks KE or Nr")
		return
	}
	gxy, err := sa.dhPriv.Shared(ke.Data)
	if err != nil {
		sa.drop(fmt.Sprintf("Main Mode message 4: Diffie-Hellman with its KE payload fails: %v", err))
		return
	}
	sa.accept(m)
	sa.setState(IKE_I_MM4)
	sa.gxr, sa.nr = ke.Data, nr.Data
	if !sa.deriveKeys(gxy) {
		return
	}
	sa.checkNAT(m.Payloads, sa.local, sa.remote)
	sa.float()
	id := IdentityID(sa.conn.Local.ID)
	idB, _ := PayloadBody(id)
	sa.action("Compute HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b); send it with our identity %s, encrypted (message 5)",
		sa.conn.Local.ID)
	proof, err := sa.proof(true, idB) // hook (auth_sig.go): HASH_I, or CERT and SIG_I
	if err != nil {
		sa.failWith(0, ike.FailInternal, "%v", err)
		return
	}
	if sa.send(outMsg{ex: ExchangeMain, payloads: append([]Payload{id}, proof...), encrypt: true, exchInitiator: true,
		answers: m, wait: true, giveUp: sa.giveUpPhase1}) {
		sa.setState(IKE_I_MM5)
	}
}

// onMM6: verify the responder's identity and HASH_R.
func (sa *isakmpSA) onMM6(m *Message) {
	if !sa.verifyPeer(m, false) {
		return
	}
	sa.setState(IKE_I_MM6)
	sa.complete()
}

// verifyPeer checks the peer's ID and HASH_I / HASH_R (or signature) in an encrypted
// main mode message, accepts the message when they verify and then holds the peer to
// the identity the connection expects. A message that does not verify changes nothing:
// the peer is told AUTHENTICATION-FAILED (as strongSwan does) and the SA waits on.
func (sa *isakmpSA) verifyPeer(m *Message, peerIsInitiator bool) bool {
	id, why := sa.checkPeer(m, peerIsInitiator)
	if why != "" {
		sa.authFailed(why)
		return false
	}
	sa.accept(m)
	sa.peerID = id
	if want := sa.conn.Remote.ID; len(want.Value) > 0 && !sa.peerID.Equal(want) {
		sa.failNotify(INVALID_ID_INFORMATION, fmt.Sprintf("the peer identifies as %s, expected %s", sa.peerID, want))
		return false
	}
	return true
}

// checkPeer verifies the peer's HASH_I or HASH_R (or with signatures its certificate
// and SIG) over its ID payload. It returns the identity, or why the message does not
// authenticate the peer; it changes nothing.
func (sa *isakmpSA) checkPeer(m *Message, peerIsInitiator bool) (ike.Identity, string) {
	idx, hashIdx := -1, -1
	for i, p := range m.Payloads {
		switch p.(type) {
		case *ID:
			if idx < 0 {
				idx = i
			}
		case *Hash, *Sig: // hook (auth_sig.go): SIG with signatures
			hashIdx = i
		}
	}
	if idx < 0 || hashIdx < 0 {
		return ike.Identity{}, fmt.Sprintf("%v message lacks the peer's ID or HASH", m.Exchange)
	}
	id := m.Payloads[idx].(*ID).Identity()
	idB := m.PayloadBytes(idx)[genericHeaderLen:]
	if sig, ok := m.Payloads[hashIdx].(*Sig); ok { // hook (auth_sig.go)
		if err := sa.verifySignature(m.Payloads, sig.Data, idB, id, peerIsInitiator); err != nil {
			return id, "AUTHENTICATION-FAILED: " + ike.Reason(err)
		}
		return id, ""
	}
	want, name := sa.hashR(idB), "HASH_R"
	if peerIsInitiator {
		want, name = sa.hashI(idB), "HASH_I"
	}
	sa.action("Verify the peer's identity %s and its %s with the pre-shared key", id, name)
	if got := m.Payloads[hashIdx].(*Hash).Data; !hmac.Equal(got, want) {
		sa.d.mismatch = &ike.AuthMismatch{Payload: name, Method: "psk", Received: got, Computed: want}
		return id, fmt.Sprintf("%s does not verify: the pre-shared keys differ", name)
	}
	return id, ""
}

// authFailed drops a phase 1 message that does not authenticate the peer and tells the
// peer AUTHENTICATION-FAILED in clear; the SA waits on for a message that does, until
// the half-open timeout or the end of the retransmissions.
func (sa *isakmpSA) authFailed(reason string) {
	if sa.rx != nil {
		sa.reject(sa.rx.dg.Data)
	}
	sa.drop(reason)
	sa.authError = reason
	sa.d.errorf(sa, AUTHENTICATION_FAILED, ike.FailRefused, "%s: %s", sa.name(), reason)
	sa.notify(AUTHENTICATION_FAILED, 0, nil)
}

// complete marks phase 1 done, reports the ISAKMP SA and starts what follows: XAUTH,
// Mode Config, quick modes.
func (sa *isakmpSA) complete() {
	sa.stopTimer("phase 1 timeout")
	sa.stopTimer("half-open timeout")
	sa.stopWaiting(0)
	sa.d.opened(sa)
	sa.established = true
	sa.setState(IKE_P1_COMPLETE)
	sa.d.env.Observer.IKESAUp(sa.info())
	sa.action("%s established between %s and %s (%s, lifetime %s): phase 1 complete", sa.name(), sa.local, sa.remote, sa.proposal, secs(sa.life))
	sa.armTimers()
	if old := sa.replaces; old != nil {
		sa.takeOver(old)
	}
	sa.adoptOrphans()
	sa.afterPhase1()
}

// adoptOrphans adopts IPsec SAs of the connection whose ISAKMP SA the peer deleted.
func (sa *isakmpSA) adoptOrphans() {
	var keep []*ipsecSA
	for _, ch := range sa.d.orphans {
		if ch.info.Conn == sa.conn.Name && ch.state == ChildInstalled {
			ch.sa = sa
			sa.children = append(sa.children, ch)
			continue
		}
		keep = append(keep, ch)
	}
	sa.d.orphans = keep
}

// respondPhase1 answers a first Main or Aggressive Mode message: pick a connection and a
// transform, and make the responder SA.
func (d *Daemon) respondPhase1(local, remote netip.AddrPort, m *Message) {
	obs := d.env.Observer
	dg := ike.Datagram{Local: local, Remote: remote, Data: m.Raw, Info: &ike.MessageInfo{Version: 1, Exchange: m.Exchange.String(),
		MessageFacts: Describe(m, true), Dissect: lazyDissect(m.Raw, nil)}}
	c := d.core.Match(local.Addr(), remote.Addr())
	if c == nil {
		obs.Dropped(dg, fmt.Sprintf("no IKEv1 connection configured for %s → %s", remote.Addr(), local.Addr()))
		return
	}
	sa := d.newSA(c, false, local, remote)
	dg.Info.Weak = sa.weakIn(m)
	obs.Received(dg)
	sa.icookie = m.ICookie
	sa.aggressive = m.Exchange == ExchangeAggressive
	sa.lastIn = d.env.Clock.Now()
	sa.flight(0, m.Exchange).remember(m.Raw, nil)
	saIdx := -1
	for i, p := range m.Payloads {
		if _, ok := p.(*SA); ok && saIdx < 0 {
			saIdx = i
		}
	}
	if saIdx < 0 {
		sa.failNotify(PAYLOAD_MALFORMED, "the first message has no SA payload")
		return
	}
	sa.saiB = m.PayloadBytes(saIdx)[genericHeaderLen:]
	offer := m.Payloads[saIdx].(*SA)
	if sa.aggressive {
		sa.setState(IKE_R_AM1)
	} else {
		sa.setState(IKE_R_MM1)
	}
	sa.learnVendors(m.Payloads)
	sa.action("Check the initiator's ISAKMP policy transforms against our policies")
	prop, tr, o, why := sa.selectPhase1(offer, m)
	if tr == nil {
		sa.failNotify(NO_PROPOSAL_CHOSEN, why)
		return
	}
	sa.rcookie = d.cookie()
	d.register(sa)
	sa.setTransform(o)
	sa.action("Transform #%d is acceptable: %s, authentication %s, lifetime %s; choose responder cookie %016x",
		tr.Number, sa.proposal, nameOr(authNames, o.auth, "method"), secs(o.life), sa.rcookie)
	chosen := &SA{DOI: offer.DOI, Situation: offer.Situation, Proposals: []*Proposal{{Number: prop.Number, Protocol: ProtoISAKMP, Transforms: []*Transform{tr}}}}
	sa.startTimer("half-open timeout", d.limits.HalfOpenTimeout, func() {
		if !sa.established {
			sa.failWith(sa.peerError, ike.FailTimeout, "phase 1 did not complete in time: half-open ISAKMP SA times out%s", sa.peerSaid())
		}
	})
	if !sa.aggressive {
		if sa.send(outMsg{ex: ExchangeMain, payloads: append([]Payload{chosen}, sa.vendorIDs()...), answers: m}) {
			sa.setState(IKE_R_MM2)
		}
		return
	}
	sa.respondAM1(m, chosen)
}

// selectPhase1 walks our transforms in order of preference and, for each, the offered
// ones in order: the first offered transform with the same algorithms and authentication
// method wins (RFC 2409, Section 5: the responder returns the one it accepts, unchanged).
func (sa *isakmpSA) selectPhase1(offer *SA, m *Message) (*Proposal, *Transform, p1Offer, string) {
	var offered []string
	var props []*Proposal
	for _, p := range offer.Proposals {
		if p.Protocol == ProtoISAKMP {
			props = append(props, p)
		}
	}
	auth := authMethod(sa.conn, false)
	for _, q := range sa.conn.Proposals {
		local, _ := phase1Transforms(q)
		for _, l := range local {
			for _, p := range props {
				for _, tr := range p.Transforms {
					o, err := parsePhase1Transform(tr)
					if err != nil || o.p1Transform != l || o.auth != auth {
						continue
					}
					if sa.aggressive {
						if ke := payloadOf[*KE](m.Payloads); ke == nil || len(ke.Data) != ike.DH(o.group).PublicSize {
							continue
						}
					}
					life := phase1Life(sa.conn)
					if o.life == 0 || o.life > life {
						o.life = life
					}
					return p, tr, o, ""
				}
			}
		}
	}
	for _, p := range props {
		for _, tr := range p.Transforms {
			if o, err := parsePhase1Transform(tr); err == nil {
				offered = append(offered, fmt.Sprintf("%s/%s", o.proposal(), nameOr(authNames, o.auth, "method")))
			} else {
				offered = append(offered, "unusable: "+err.Error())
			}
		}
	}
	return nil, nil, p1Offer{}, fmt.Sprintf("NO-PROPOSAL-CHOSEN: the initiator offered %v, connection %s accepts %s with %s",
		offered, sa.conn.Name, proposalList(sa.conn.Proposals), nameOr(authNames, auth, "method"))
}

// onMM3: the initiator's KE and Ni; derive the keys and answer with ours.
func (sa *isakmpSA) onMM3(m *Message) {
	ke, ni := payloadOf[*KE](m.Payloads), payloadOf[*Nonce](m.Payloads)
	if ke == nil || ni == nil {
		sa.drop("Main Mode message 3 lacks KE or Ni")
		return
	}
	priv, err := sa.newDH()
	if err != nil {
		sa.failWith(0, ike.FailInternal, "Diffie-Hellman: %v", err)
		return
	}
	gxy, err := priv.Shared(ke.Data)
	if err != nil {
		sa.drop(fmt.Sprintf("Main Mode message 3: Diffie-Hellman with its KE payload fails: %v", err))
		return
	}
	sa.accept(m)
	sa.setState(IKE_R_MM3)
	sa.gxi, sa.ni = ke.Data, ni.Data
	sa.adoptDH(priv)
	sa.nr = sa.d.core.Random(nonceSize)
	if sa.conn != nil && signatures(sa.conn) {
		sa.action("Main mode with signatures: no pre-shared key; SKEYID comes from the nonces and g^xy, and the peer's identity and certificate come in message 5")
	} else {
		sa.action("Main mode finds the pre-shared key by the peer's address %s (its identity comes only in message 5)", sa.remote.Addr())
	}
	if !sa.deriveKeys(gxy) {
		return
	}
	sa.checkNAT(m.Payloads, sa.local, sa.remote)
	ps := append([]Payload{NewKE(sa.gxr), NewNonce(sa.nr)}, sa.certRequests()...) // hook (auth_sig.go): CR
	ps = append(ps, sa.natD()...)
	if sa.send(outMsg{ex: ExchangeMain, payloads: ps, answers: m}) {
		sa.setState(IKE_R_MM4)
	}
}

// onMM5: verify the initiator; answer with our identity and HASH_R.
func (sa *isakmpSA) onMM5(m *Message) {
	if !sa.verifyPeer(m, true) {
		return
	}
	sa.setState(IKE_R_MM5)
	id := IdentityID(sa.conn.Local.ID)
	idB, _ := PayloadBody(id)
	sa.action("Compute HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b); send it with our identity %s, encrypted (message 6)",
		sa.conn.Local.ID)
	proof, err := sa.proof(false, idB) // hook (auth_sig.go): HASH_R, or CERT and SIG_R
	if err != nil {
		sa.failNotify(AUTHENTICATION_FAILED, err.Error())
		return
	}
	if sa.send(outMsg{ex: ExchangeMain, payloads: append([]Payload{id}, proof...), encrypt: true, answers: m}) {
		sa.complete()
	}
}

// respondAM1: derive the keys at once and answer with our KE, Nr, identity and HASH_R.
func (sa *isakmpSA) respondAM1(m *Message, chosen *SA) {
	ke, ni := payloadOf[*KE](m.Payloads), payloadOf[*Nonce](m.Payloads)
	ids := idsOf(m.Payloads)
	if ke == nil || ni == nil || len(ids) == 0 {
		sa.failNotify(PAYLOAD_MALFORMED, "Aggressive Mode message 1 lacks KE, Ni or IDii")
		return
	}
	sa.gxi, sa.ni, sa.peerID = ke.Data, ni.Data, ids[0].Identity()
	for i, p := range m.Payloads {
		if p == Payload(ids[0]) {
			sa.peerIDb = clone(m.PayloadBytes(i)[genericHeaderLen:])
		}
	}
	sa.action("Aggressive mode: the initiator's identity %s came in clear text in message 1", sa.peerID)
	if want := sa.conn.Remote.ID; len(want.Value) > 0 && !sa.peerID.Equal(want) {
		sa.failNotify(INVALID_ID_INFORMATION, fmt.Sprintf("the initiator identifies as %s, expected %s", sa.peerID, want))
		return
	}
	if !sa.generateDH() {
		return
	}
	sa.nr = sa.d.core.Random(nonceSize)
	gxy, err := sa.dhPriv.Shared(sa.gxi)
	if err != nil {
		sa.failNotify(INVALID_KEY_INFORMATION, fmt.Sprintf("Diffie-Hellman with the peer's KE payload failed: %v", err))
		return
	}
	if !sa.deriveKeys(gxy) {
		return
	}
	sa.checkNAT(m.Payloads, sa.local, sa.remote)
	id := IdentityID(sa.conn.Local.ID)
	idB, _ := PayloadBody(id)
	sa.action("Compute HASH_R and answer with SA, KE, Nr, our identity %s (in clear) and HASH_R", sa.conn.Local.ID)
	proof, err := sa.proof(false, idB) // hook (auth_sig.go): HASH_R, or CERT and SIG_R
	if err != nil {
		sa.failNotify(AUTHENTICATION_FAILED, err.Error())
		return
	}
	// RFC 3947, Section 4: HDR, SA, KE, Nr, IDir, [CERT,] VID, NAT-D, NAT-D, SIG_R/HASH_R,
	// the order strongSwan sends.
	ps := append(append([]Payload{chosen, NewKE(sa.gxr), NewNonce(sa.nr), id}, sa.certRequests()...), proof[:len(proof)-1]...)
	ps = append(append(append(ps, sa.vendorIDs()...), sa.natD()...), proof[len(proof)-1])
	if sa.send(outMsg{ex: ExchangeAggressive, payloads: ps, answers: m, wait: true, giveUp: sa.giveUpPhase1}) {
		sa.setState(IKE_R_AM2)
	}
}

// onAM2: check the responder's choice and HASH_R; send HASH_I encrypted. Until HASH_R
// verifies, nothing the message says is kept: the responder cookie, transform and keys
// it led to are undone, and this side waits for a valid answer.
func (sa *isakmpSA) onAM2(m *Message) {
	if n := errorNotify(m.Payloads); n != nil {
		sa.drop(fmt.Sprintf("Aggressive Mode message 2 carries N(%v), in clear", n.Type))
		sa.unprotectedError(n)
		return
	}
	o, err := sa.checkChoice(payloadOf[*SA](m.Payloads))
	if err != nil {
		sa.drop(fmt.Sprintf("Aggressive Mode message 2: %v; keep waiting for a valid answer", err))
		return
	}
	ke, nr := payloadOf[*KE](m.Payloads), payloadOf[*Nonce](m.Payloads)
	if ke == nil || nr == nil || o.group != sa.group.ID {
		sa.drop("Aggressive Mode message 2 lacks KE or Nr, or changes the group")
		return
	}
	gxy, err := sa.dhPriv.Shared(ke.Data)
	if err != nil {
		sa.drop(fmt.Sprintf("Aggressive Mode message 2: Diffie-Hellman with its KE payload fails: %v", err))
		return
	}
	before := *sa
	sa.rcookie = m.RCookie
	sa.setTransform(o)
	sa.learnVendors(m.Payloads)
	sa.gxr, sa.nr = ke.Data, nr.Data
	if !sa.deriveKeys(gxy) {
		return
	}
	id, why := sa.checkPeer(m, false)
	if why != "" {
		*sa = before // nothing of an answer that does not authenticate the responder stays
		sa.authFailed(why)
		return
	}
	sa.accept(m)
	sa.peerID = id
	if want := sa.conn.Remote.ID; len(want.Value) > 0 && !sa.peerID.Equal(want) {
		sa.failNotify(INVALID_ID_INFORMATION, fmt.Sprintf("the peer identifies as %s, expected %s", sa.peerID, want))
		return
	}
	sa.checkNAT(m.Payloads, sa.local, sa.remote)
	sa.float()
	idB, _ := PayloadBody(IdentityID(sa.conn.Local.ID))
	sa.action("Send HASH_I, encrypted (message 3)")
	proof, err := sa.proof(true, idB) // hook (auth_sig.go): HASH_I, or CERT and SIG_I
	if err != nil {
		sa.failWith(0, ike.FailInternal, "%v", err)
		return
	}
	ps := append(proof, sa.natD()...)
	if sa.send(outMsg{ex: ExchangeAggressive, payloads: ps, encrypt: true, exchInitiator: true, answers: m}) {
		sa.complete()
	}
}

// onAM3: verify HASH_I (or SIG_I) over the identity of message 1; a message 3 that
// does not verify changes nothing.
func (sa *isakmpSA) onAM3(m *Message) {
	var why string
	if sig := payloadOf[*Sig](m.Payloads); sig != nil { // hook (auth_sig.go)
		if err := sa.verifySignature(m.Payloads, sig.Data, sa.peerIDb, sa.peerID, true); err != nil {
			why = "AUTHENTICATION-FAILED: " + ike.Reason(err)
		}
	} else if h := payloadOf[*Hash](m.Payloads); h == nil {
		why = "Aggressive Mode message 3 lacks HASH_I"
	} else {
		sa.action("Verify the initiator's HASH_I with the pre-shared key")
		if want := sa.hashI(sa.peerIDb); !hmac.Equal(h.Data, want) {
			sa.d.mismatch = &ike.AuthMismatch{Payload: "HASH_I", Method: "psk", Received: h.Data, Computed: want}
			why = "HASH_I does not verify: the pre-shared keys differ"
		}
	}
	if why != "" {
		sa.authFailed(why)
		return
	}
	sa.checkNAT(m.Payloads, sa.rx.local, sa.rx.remote)
	sa.accept(m)
	sa.complete()
}
