package ikev1

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// Quick Mode (RFC 2409, Section 5.5), under the protection of the ISAKMP SA:
//
//	HDR*, HASH(1), SA, Ni [, KE ] [, IDci, IDcr ]  -->
//	                                             <--  HDR*, HASH(2), SA, Nr [, KE ] [, IDci, IDcr ]
//	HDR*, HASH(3)                                  -->
//
//	HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [ | KE ] [ | IDci | IDcr ])
//	HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [ | KE ] [ | IDci | IDcr ])
//	HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
//	KEYMAT  = prf(SKEYID_d, [ g(qm)^xy | ] protocol | SPI | Ni_b | Nr_b)

// quickMode is one quick mode exchange in progress.
type quickMode struct {
	sa        *isakmpSA
	msgID     uint32
	initiator bool
	cfg       *ike.ChildConfig
	rekeys    *ipsecSA
	spiIn     uint32 // ours: the peer sends to it
	spiOut    uint32
	ni, nr    []byte
	dhPriv    ike.DHPrivate
	gqm       []byte // g(qm)^xy with PFS
	localTS   ike.TrafficSelector
	remoteTS  ike.TrafficSelector
	offered   []espTransform
	chosen    espOffer
	// An AH+ESP bundle: spiIn, spiOut and chosen are ESP's, these AH's. (A child of AH
	// alone has its AH SA in spiIn, spiOut and chosen.)
	bundleIn, bundleOut uint32
	bundleAH            *espOffer
	transport           bool
	state               State
	done                bool
}

func (qm *quickMode) name() string {
	return "Quick Mode " + qm.instance()
}

func (qm *quickMode) instance() string {
	return fmt.Sprintf("%s M-ID 0x%08x", qm.cfg.Name, qm.msgID)
}

func (qm *quickMode) setState(s State) {
	if qm.state == s {
		return
	}
	from := qm.state
	if from == "" {
		from = IKE_QM_READY
	}
	qm.sa.d.env.Observer.State(ike.StateChange{Machine: qm.name(), Kind: "Quick Mode", Instance: qm.instance(), Type: ike.SATypeChild, Conn: qm.sa.connName(),
		Child: qm.cfg.Name, From: string(from), To: string(s)})
	qm.state = s
}

// abort ends a quick mode that will not complete.
func (qm *quickMode) abort() {
	if qm.done {
		return
	}
	qm.done = true
	delete(qm.sa.quickModes, qm.msgID)
}

// childLife is what a child proposes: its lifetime (RekeyTime + 10 % or a Cisco router's
// default 3600 s when none is set) and its volume in kilobytes.
func childLife(ch *ike.ChildConfig) lifetimes {
	l := lifetimes{seconds: ch.LifeTime, kbytes: ch.LifeBytes / 1024}
	if l.seconds == 0 {
		l.seconds = ch.RekeyTime * 11 / 10
	}
	if l.seconds == 0 {
		l.seconds = defaultPhase2Lifetime
	}
	return l
}

// encapMode is the Encapsulation Mode to offer (RFC 2407, Section 4.5; RFC 3947,
// Section 5.3 in UDP when a NAT is in the path).
func (sa *isakmpSA) encapMode(transport bool) uint16 {
	switch {
	case transport && sa.behindNAT():
		return EncapUDPTransport
	case transport:
		return EncapTransport
	case sa.behindNAT():
		return EncapUDPTunnel
	}
	return EncapTunnel
}

// localSelector and remoteSelector resolve a child's selectors; none means "dynamic":
// the virtual IP Mode Config gave, or the address of the side.
func (sa *isakmpSA) localSelector(ch *ike.ChildConfig) ike.TrafficSelector {
	if len(ch.LocalTS) > 0 {
		return ch.LocalTS[0]
	}
	a := sa.local.Addr()
	if sa.cfg != nil && sa.cfg.vip.IsValid() && sa.initiator {
		a = sa.cfg.vip
	}
	return ike.TSFromPrefix(netip.PrefixFrom(a, a.BitLen()))
}

func (sa *isakmpSA) remoteSelector(ch *ike.ChildConfig) ike.TrafficSelector {
	if len(ch.RemoteTS) > 0 {
		return ch.RemoteTS[0]
	}
	a := sa.remote.Addr()
	return ike.TSFromPrefix(netip.PrefixFrom(a, a.BitLen()))
}

// startQuickMode negotiates the IPsec SAs of child ch; old is the IPsec SA it rekeys.
func (sa *isakmpSA) startQuickMode(ch *ike.ChildConfig, old *ipsecSA) {
	d := sa.d
	if sa.deleted || !sa.established {
		return
	}
	for _, qm := range sa.quickModes {
		if qm.cfg == ch && qm.initiator && !qm.done && old == nil {
			return // one is running already
		}
	}
	qm := &quickMode{sa: sa, msgID: d.messageID(sa), initiator: true, cfg: ch, rekeys: old, spiIn: d.core.SPI32(),
		ni: d.core.Random(nonceSize), transport: ch.Transport}
	sa.quickModes[qm.msgID] = qm
	qm.localTS, qm.remoteTS = sa.localSelector(ch), sa.remoteSelector(ch)
	if old != nil {
		old.setState(ChildRekeying)
		qm.localTS, qm.remoteTS = old.info.LocalTS[0], old.info.RemoteTS[0]
	}
	wantAH, wantESP := childProtocols(ch)
	if wantAH && sa.behindNAT() {
		// strongSwan offers AH in a UDP encapsulation mode all the same, and fails when
		// the kernel refuses to install an AH SA in UDP; ikesim refuses before the offer,
		// with the same cause.
		qm.failedWith(0, ike.FailConfig, ahBehindNAT)
		return
	}
	life := childLife(ch)
	encap := sa.encapMode(ch.Transport)
	espSPI, ahSPI := qm.spiIn, uint32(0)
	switch {
	case wantAH && wantESP:
		qm.bundleIn = d.core.SPI32()
		ahSPI = qm.bundleIn
	case wantAH:
		espSPI, ahSPI = 0, qm.spiIn
	}
	offer, err := IPsecOffer(ch.ESPProposals, espSPI, ahSPI, encap, life.seconds, life.kbytes)
	if err != nil {
		d.errorf(sa, 0, ike.FailInternal, "%s: cannot build quick mode: %v", sa.name(), err)
		return
	}
	names := make([]string, len(ch.ESPProposals))
	for i, p := range ch.ESPProposals {
		names[i] = p.String()
	}
	var group uint16
	for _, prop := range offer.Proposals {
		for _, tr := range prop.Transforms {
			o, _ := parseIPsecTransform(prop.Protocol, tr)
			qm.offered = append(qm.offered, o.espTransform)
			if group == 0 {
				group = o.group
			}
		}
	}
	ps := []Payload{nil, offer, NewNonce(qm.ni)}
	pfs := ""
	if group != 0 {
		grp := ike.DH(group)
		var err error
		if qm.dhPriv, err = grp.Generate(d.env.Rand); err != nil {
			d.errorf(sa, 0, ike.FailInternal, "%s: Diffie-Hellman: %v", sa.name(), err)
			return
		}
		ps = append(ps, NewKE(qm.dhPriv.Public()))
		pfs = fmt.Sprintf("; PFS: a fresh Diffie-Hellman value for group %s (KE)", grp.Name)
	}
	ps = append(ps, SelectorID(qm.localTS), SelectorID(qm.remoteTS))
	ps = append(ps, sa.natOA(ch.Transport)...)
	after, err := ChainBytes(ps[1:])
	if err != nil {
		d.errorf(sa, 0, ike.FailInternal, "%s: cannot build quick mode: %v", sa.name(), err)
		return
	}
	ps[0] = NewHash(QuickHash1(sa.prf, sa.keys.SKEYID_a, qm.msgID, after))
	what := "Begin Quick Mode"
	if old != nil {
		what = fmt.Sprintf("Rekey %s with a new Quick Mode", old.name())
	}
	d.action("%s for %s, M-ID 0x%08x: offer transform set(s) %v, %s mode, lifetime %s%s; inbound SPI 0x%08x; proxy IDs %s ↔ %s%s; HASH(1) = prf(SKEYID_a, M-ID | SA | Ni | ...)",
		what, ch.Name, qm.msgID, names, encapNames[encap], secs(life.seconds), kbText(life.kbytes), qm.spiIn, qm.localTS, qm.remoteTS, pfs)
	if sa.send(outMsg{ex: ExchangeQuick, id: qm.msgID, payloads: ps, encrypt: true, exchInitiator: true, wait: true,
		giveUp: func() { qm.failedWith(0, ike.FailTimeout, "no answer to Quick Mode message 1") }}) {
		qm.setState(IKE_QM_I_QM1)
	}
}

// secs writes a lifetime the way routers print it: "86400 s".
func secs(d time.Duration) string { return fmt.Sprintf("%d s", int64(d/time.Second)) }

func kbText(kb uint64) string {
	if kb == 0 {
		return ""
	}
	return fmt.Sprintf(" / %d KB", kb)
}

// natOA is the NAT-OA payloads of a transport mode SA through a NAT (RFC 3947, Section
// 5.2): the original addresses, which the peer needs to fix the transport checksums.
func (sa *isakmpSA) natOA(transport bool) []Payload {
	if !transport || !sa.behindNAT() {
		return nil
	}
	return []Payload{&NATOA{Addr: sa.local.Addr()}, &NATOA{Addr: sa.remote.Addr()}}
}

func spiBytes(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func spiValue(b []byte) uint32 {
	if len(b) != 4 {
		return 0
	}
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// failed ends a quick mode with an error in what the peer sent.
func (qm *quickMode) failed(why string) { qm.failedWith(0, ike.FailMalformed, why) }

// failedWith ends a quick mode with an error, the notify sent or received (0: none) and
// the reason of the failure.
func (qm *quickMode) failedWith(n NotifyType, reason ike.FailReason, why string) {
	if qm.done {
		return
	}
	qm.sa.d.failure(qm.sa, qm.cfg.Name, n, reason, fmt.Sprintf("%s: %s: %s", qm.sa.name(), qm.name(), why))
	if qm.rekeys != nil && qm.rekeys.state == ChildRekeying {
		qm.rekeys.setState(ChildInstalled)
	}
	if qm.initiator && qm.rekeys == nil {
		qm.sa.d.core.AcquireFailed(qm.cfg.ReqID, why)
	}
	qm.abort()
}

// admitQuickMode says why a quick mode message must be dropped, or "": one in an
// exchange in progress must be the message its state waits for; one that starts a new
// exchange may come only once phase 1 and XAUTH are done
// (strongSwan ignores quick mode requests until the IKE SA is established, which with
// XAUTH is after it), and only so many at once.
func (sa *isakmpSA) admitQuickMode(m *Message) string {
	if qm := sa.quickModes[m.MessageID]; qm != nil {
		if (qm.initiator && qm.state == IKE_QM_I_QM1) || (!qm.initiator && qm.state == IKE_QM_R_QM2) {
			return ""
		}
		return fmt.Sprintf("unexpected Quick Mode message in state %s", qm.state)
	}
	if !sa.ready {
		return "Quick Mode request before XAUTH and Mode Config are done: the peer has not logged in yet"
	}
	if len(sa.quickModes) >= maxQuickModes {
		return fmt.Sprintf("Quick Mode request while %d quick modes are in progress on this ISAKMP SA (limit %d)", len(sa.quickModes), maxQuickModes)
	}
	return ""
}

// quickMode hands a quick mode message, whose HASH has verified, to its exchange, or
// starts a responder one.
func (sa *isakmpSA) quickMode(m *Message) {
	qm := sa.quickModes[m.MessageID]
	switch {
	case qm == nil:
		sa.respondQuickMode(m)
	case qm.initiator && qm.state == IKE_QM_I_QM1:
		qm.onQM2(m)
	case !qm.initiator && qm.state == IKE_QM_R_QM2:
		qm.onQM3()
	}
}

// onQM2: HASH(2) verified; check the responder's choice, send HASH(3) and install the
// SAs.
func (qm *quickMode) onQM2(m *Message) {
	sa := qm.sa
	nr := payloadOf[*Nonce](m.Payloads)
	if nr == nil {
		qm.failed("Quick Mode message 2 lacks Nr")
		return
	}
	sa.action("Verify HASH(2) = prf(SKEYID_a, M-ID | Ni | SA | Nr | ...)")
	p := payloadOf[*SA](m.Payloads)
	main, ah, why := qm.chosenProposals(p)
	if why != "" {
		qm.failed(why)
		return
	}
	o, why := qm.chosenTransform(main)
	if why != "" {
		qm.failed(why)
		return
	}
	if ah != nil {
		oa, why := qm.chosenTransform(ah)
		if why != "" {
			qm.failed(why)
			return
		}
		qm.bundleAH, qm.bundleOut = &oa, spiValue(ah.SPI)
	}
	var err error
	if ids := idsOf(m.Payloads); len(ids) == 2 {
		tsi, err1 := ids[0].Selector()
		tsr, err2 := ids[1].Selector()
		if err1 != nil || err2 != nil || tsi != qm.localTS || tsr != qm.remoteTS {
			qm.failed("the responder changed the proxy IDs")
			return
		}
	}
	if o.group != 0 {
		ke := payloadOf[*KE](m.Payloads)
		if ke == nil || qm.dhPriv == nil {
			qm.failed("PFS was chosen but a KE payload is missing")
			return
		}
		if qm.gqm, err = qm.dhPriv.Shared(ke.Data); err != nil {
			qm.failedWith(0, ike.FailInternal, fmt.Sprintf("PFS Diffie-Hellman failed: %v", err))
			return
		}
	}
	qm.chosen = o
	if n := notifyOf(m.Payloads, RESPONDER_LIFETIME); n != nil {
		qm.responderLifetime(n)
	}
	qm.spiOut = spiValue(main.SPI)
	qm.nr = nr.Data
	sa.action("The responder accepts %s with its inbound SPI 0x%08x; send HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni | Nr)",
		o.proposal(), qm.spiOut)
	hash3 := NewHash(QuickHash3(sa.prf, sa.keys.SKEYID_a, qm.msgID, qm.ni, qm.nr))
	if sa.send(outMsg{ex: ExchangeQuick, id: qm.msgID, payloads: []Payload{hash3}, encrypt: true, exchInitiator: true, answers: m}) {
		qm.install()
	}
}

// childProtocols says which IPsec protocols a child's proposals hold.
func childProtocols(ch *ike.ChildConfig) (ah, esp bool) {
	for _, p := range ch.ESPProposals {
		if p.Protocol == ike.ProtoAH {
			ah = true
		} else {
			esp = true
		}
	}
	return ah, esp
}

// chosenProposals checks the shape of the responder's SA payload: one proposal number,
// one proposal payload per protocol the child offered (RFC 2408, Section 4.2), each
// with one transform and an SPI. main is the ESP one, or the AH one of a child of AH
// alone; ah is the AH one of a bundle.
func (qm *quickMode) chosenProposals(p *SA) (main, ah *Proposal, why string) {
	wantAH, wantESP := childProtocols(qm.cfg)
	n := 1
	if wantAH && wantESP {
		n = 2
	}
	if p == nil || len(p.Proposals) != n {
		return nil, nil, fmt.Sprintf("the responder's SA payload does not hold %d proposal(s) with one transform and an SPI", n)
	}
	for _, prop := range p.Proposals {
		switch {
		case len(prop.Transforms) != 1 || len(prop.SPI) != 4 || prop.Number != p.Proposals[0].Number:
			return nil, nil, fmt.Sprintf("the responder's SA payload does not hold %d proposal(s) with one transform and an SPI", n)
		case prop.Protocol == ProtoIPsecESP && wantESP:
			main = prop
		case prop.Protocol == ProtoIPsecAH && wantAH && wantESP:
			ah = prop
		case prop.Protocol == ProtoIPsecAH && wantAH:
			main = prop
		}
	}
	if main == nil || (wantAH && wantESP && ah == nil) {
		return nil, nil, "the responder's SA payload does not answer with the protocols we offered"
	}
	return main, ah, ""
}

// chosenTransform reads the transform the responder chose in prop and checks that we
// offered it.
func (qm *quickMode) chosenTransform(prop *Proposal) (espOffer, string) {
	o, err := parseIPsecTransform(prop.Protocol, prop.Transforms[0])
	if err != nil {
		return o, fmt.Sprintf("the responder chose a transform we cannot use: %v", err)
	}
	for _, t := range qm.offered {
		if t == o.espTransform {
			return o, ""
		}
	}
	return o, fmt.Sprintf("the responder chose %s, which we did not offer", o.proposal())
}

// responderLifetime adopts the shorter lifetime the responder announced (RFC 2407,
// Section 4.6.3.1).
func (qm *quickMode) responderLifetime(n *Notify) {
	as, err := parseAttributes(n.Data, 0)
	if err != nil {
		return
	}
	lifeType := uint64(LifeSeconds)
	for _, a := range as {
		switch a.Type {
		case IPsecAttrLifeType:
			lifeType = a.Uint()
		case IPsecAttrLifeDuration:
			if lifeType == LifeSeconds {
				qm.chosen.life.seconds = time.Duration(a.Uint()) * time.Second
			} else {
				qm.chosen.life.kbytes = a.Uint()
			}
		}
	}
	qm.sa.action("RESPONDER-LIFETIME: the responder uses a shorter lifetime: %s%s", secs(qm.chosen.life.seconds), kbText(qm.chosen.life.kbytes))
}

// respondQuickMode answers the peer's first quick mode message, whose HASH(1) verified.
func (sa *isakmpSA) respondQuickMode(m *Message) {
	d := sa.d
	p, ni := payloadOf[*SA](m.Payloads), payloadOf[*Nonce](m.Payloads)
	if p == nil || ni == nil || len(p.Proposals) == 0 {
		d.errorf(sa, 0, ike.FailMalformed, "%s: Quick Mode message 1 lacks SA or Ni", sa.name())
		sa.notify(PAYLOAD_MALFORMED, 0, nil)
		return
	}
	firstSPI := p.Proposals[0].SPI
	ids := idsOf(m.Payloads)
	tsi := ike.TSFromPrefix(netip.PrefixFrom(sa.remote.Addr(), sa.remote.Addr().BitLen()))
	tsr := ike.TSFromPrefix(netip.PrefixFrom(sa.local.Addr(), sa.local.Addr().BitLen()))
	if len(ids) >= 2 {
		var err1, err2 error
		tsi, err1 = ids[0].Selector()
		tsr, err2 = ids[1].Selector()
		if err1 != nil || err2 != nil {
			d.errorf(sa, INVALID_ID_INFORMATION, ike.FailRefused, "%s: INVALID-ID-INFORMATION: unusable proxy IDs %v, %v", sa.name(), ids[0], ids[1])
			sa.notify(INVALID_ID_INFORMATION, ProtoIPsecESP, firstSPI)
			return
		}
	}
	cfg := sa.pickChild(tsi, tsr)
	if cfg == nil {
		d.errorf(sa, INVALID_ID_INFORMATION, ike.FailRefused, "%s: INVALID-ID-INFORMATION: proxy IDs %s ↔ %s match no child of connection %s", sa.name(), tsi, tsr, sa.conn.Name)
		sa.notify(INVALID_ID_INFORMATION, ProtoIPsecESP, firstSPI)
		return
	}
	qm := &quickMode{sa: sa, msgID: m.MessageID, cfg: cfg, ni: ni.Data, localTS: tsr, remoteTS: tsi, transport: cfg.Transport}
	sa.quickModes[qm.msgID] = qm
	for _, ch := range sa.children {
		if ch.cfg == cfg && ch.state == ChildInstalled && ch.info.LocalTS[0] == tsr && ch.info.RemoteTS[0] == tsi {
			qm.rekeys = ch // the peer rekeys it; its Delete for the old SA follows
		}
	}
	d.action("Quick Mode 0x%08x from the peer: HASH(1) verifies; proxy IDs %s ↔ %s fit child %s", qm.msgID, tsi, tsr, cfg.Name)
	var ahPick *pick
	prop, tr, o, why := qm.selectESP(p, payloadOf[*KE](m.Payloads))
	if wantAH, _ := childProtocols(cfg); wantAH {
		var main *pick
		main, ahPick, why = qm.selectAH(p, payloadOf[*KE](m.Payloads))
		prop, tr, o = nil, nil, espOffer{}
		if main != nil {
			prop, tr, o = main.prop, main.tr, main.o
		}
	}
	if tr == nil {
		qm.abort()
		d.errorf(sa, NO_PROPOSAL_CHOSEN, ike.FailRefused, "%s: NO-PROPOSAL-CHOSEN for %s: %s", sa.name(), cfg.Name, why)
		sa.notify(NO_PROPOSAL_CHOSEN, ProtoIPsecESP, firstSPI)
		return
	}
	qm.chosen, qm.spiOut = o, spiValue(prop.SPI)
	var kePs []Payload
	if o.group != 0 {
		ke := payloadOf[*KE](m.Payloads)
		grp := ike.DH(o.group)
		priv, err := grp.Generate(d.env.Rand)
		if err == nil {
			qm.gqm, err = priv.Shared(ke.Data)
		}
		if err != nil {
			qm.abort()
			d.errorf(sa, 0, ike.FailInternal, "%s: PFS Diffie-Hellman failed: %v", sa.name(), err)
			sa.notify(INVALID_KEY_INFORMATION, ProtoIPsecESP, firstSPI)
			return
		}
		kePs = []Payload{NewKE(priv.Public())}
		d.action("PFS: generate a fresh Diffie-Hellman value for group %s and compute g(qm)^xy", grp.Name)
	}
	qm.setState(IKE_QM_SPI_STARVE)
	qm.spiIn = d.core.SPI32()
	qm.nr = d.core.Random(nonceSize)
	d.action("Accept %s (transform #%d of proposal #%d); allocate inbound SPI 0x%08x", o.proposal(), tr.Number, prop.Number, qm.spiIn)
	chosen := []*Proposal{{Number: prop.Number, Protocol: prop.Protocol, SPI: spiBytes(qm.spiIn), Transforms: []*Transform{tr}}}
	if ahPick != nil {
		qm.bundleIn, qm.bundleOut, qm.bundleAH = d.core.SPI32(), spiValue(ahPick.prop.SPI), &ahPick.o
		d.action("Accept %s with it (transform #%d of the AH part of proposal #%d): an AH+ESP bundle; allocate inbound AH SPI 0x%08x",
			ahPick.o.proposal(), ahPick.tr.Number, prop.Number, qm.bundleIn)
		chosen = append([]*Proposal{{Number: prop.Number, Protocol: ProtoIPsecAH, SPI: spiBytes(qm.bundleIn), Transforms: []*Transform{ahPick.tr}}}, chosen...)
	}
	ps := []Payload{nil, &SA{DOI: p.DOI, Situation: p.Situation, Proposals: chosen}, NewNonce(qm.nr)}
	ps = append(ps, kePs...)
	if len(ids) >= 2 {
		ps = append(ps, ids[0], ids[1])
	}
	if local := childLife(cfg); (local.seconds > 0 && local.seconds < o.life.seconds) || (local.kbytes > 0 && local.kbytes < o.life.kbytes) {
		qm.chosen.life = local
		var data []byte
		for _, a := range []Attribute{TV(IPsecAttrLifeType, LifeSeconds), Number(IPsecAttrLifeDuration, uint64(local.seconds/time.Second))} {
			b, _ := PayloadBody(&Attributes{Attributes: []Attribute{a}})
			data = append(data, b[4:]...)
		}
		ps = append(ps, &Notify{DOI: DOIIPsec, Protocol: ProtoIPsecESP, SPI: spiBytes(qm.spiIn), Type: RESPONDER_LIFETIME, Data: data})
		d.action("Our lifetime %s is shorter than the offered %s: announce it with RESPONDER-LIFETIME", secs(local.seconds), secs(o.life.seconds))
	}
	ps = append(ps, sa.natOA(cfg.Transport)...)
	after, err := ChainBytes(ps[1:])
	if err != nil {
		d.errorf(sa, 0, ike.FailInternal, "%s: cannot build Quick Mode message 2: %v", sa.name(), err)
		return
	}
	ps[0] = NewHash(QuickHash2(sa.prf, sa.keys.SKEYID_a, qm.msgID, qm.ni, after))
	d.action("Send HASH(2) = prf(SKEYID_a, M-ID | Ni | SA | Nr | ...); install the IPsec SAs when HASH(3) arrives")
	if sa.send(outMsg{ex: ExchangeQuick, id: qm.msgID, payloads: ps, encrypt: true, answers: m, wait: true,
		giveUp: func() { qm.failedWith(0, ike.FailTimeout, "Quick Mode message 3 never came") }}) {
		qm.setState(IKE_QM_R_QM2)
	}
}

// pickChild finds the child whose selectors contain the proxy IDs: tsi is the
// initiator's (ours remote), tsr ours.
func (sa *isakmpSA) pickChild(tsi, tsr ike.TrafficSelector) *ike.ChildConfig {
	for _, ch := range sa.conn.Children {
		if sa.remoteFits(ch, tsi) && sa.localFits(ch, tsr) {
			return ch
		}
	}
	return nil
}

func within(ts ike.TrafficSelector, list []ike.TrafficSelector) bool {
	for _, l := range list {
		if n, ok := ts.Narrow(l); ok && n == ts {
			return true
		}
	}
	return false
}

func (sa *isakmpSA) localFits(ch *ike.ChildConfig, ts ike.TrafficSelector) bool {
	if len(ch.LocalTS) > 0 {
		return within(ts, ch.LocalTS)
	}
	return ts.Start == ts.End && ts.Start == sa.local.Addr()
}

// remoteFits accepts the peer's proxy ID; a dynamic one is the peer's virtual IP, its
// address, or (behind a NAT) the single address it says it has.
func (sa *isakmpSA) remoteFits(ch *ike.ChildConfig, ts ike.TrafficSelector) bool {
	if len(ch.RemoteTS) > 0 {
		return within(ts, ch.RemoteTS)
	}
	if ts.Start != ts.End {
		return false
	}
	vip := sa.cfg != nil && sa.cfg.vip == ts.Start
	return vip || ts.Start == sa.remote.Addr() || sa.natRemote
}

// selectESP chooses the responder's transform: our proposals in order of preference, for
// each the offered transforms in order (RFC 2409, Section 5.5; ike.SelectProposal's rule).
func (qm *quickMode) selectESP(p *SA, ke *KE) (*Proposal, *Transform, espOffer, string) {
	sa := qm.sa
	var cands []pick
	var offered []ike.Proposal
	var names []string
	wantEncap := sa.encapMode(qm.cfg.Transport)
	for _, prop := range p.Proposals {
		if prop.Protocol != ProtoIPsecESP || len(prop.SPI) != 4 {
			continue
		}
		for _, c := range usableTransforms(prop, wantEncap, ke, &names) {
			cands = append(cands, c)
			offered = append(offered, c.o.proposal())
		}
	}
	chosen, idx, ok := ike.SelectProposal(offered, qm.cfg.ESPProposals)
	if !ok {
		return nil, nil, espOffer{}, fmt.Sprintf("offered %v in %s mode; child %s accepts %s", names, encapNames[wantEncap],
			qm.cfg.Name, proposalList(qm.cfg.ESPProposals))
	}
	_ = chosen
	c := cands[idx]
	return c.prop, c.tr, c.o, ""
}

// pick is one transform of a received proposal payload.
type pick struct {
	prop *Proposal
	tr   *Transform
	o    espOffer
}

// usableTransforms lists the transforms of prop in the encapsulation mode we want whose
// PFS group, if any, the KE payload is of, and adds every transform's name to names.
func usableTransforms(prop *Proposal, wantEncap uint16, ke *KE, names *[]string) []pick {
	var out []pick
	for _, tr := range prop.Transforms {
		o, err := parseIPsecTransform(prop.Protocol, tr)
		if err != nil {
			*names = append(*names, "unusable: "+err.Error())
			continue
		}
		*names = append(*names, o.proposal().String()+" "+nameOr(encapNames, o.encap, "mode"))
		// A transform with a PFS group needs a KE payload of that group; one without
		// ignores the KE.
		if o.encap != wantEncap || (o.group != 0 && (ke == nil || len(ke.Data) != ike.DH(o.group).PublicSize)) {
			continue
		}
		out = append(out, pick{prop, tr, o})
	}
	return out
}

// ahBehindNAT is why a child with AH is refused when NAT detection found a NAT.
const ahBehindNAT = "AH cannot cross the NAT between the peers: UDP encapsulation carries ESP alone (RFC 3948, Section 1: " +
	"AH was left out, as it protects the outer addresses), and a NAT rewrites the addresses AH's ICV covers (RFC 4302, Section 3.3.3)"

// selectAH is selectESP for a child with AH proposals: it takes the first proposal
// number, in the initiator's order, that holds what the child wants (AH alone, or an AH
// and an ESP payload: a bundle) with transforms the child accepts, in the mode it wants
// and with one PFS group. main is the ESP pick of a bundle or the AH pick of AH alone;
// ah is a bundle's AH pick.
func (qm *quickMode) selectAH(p *SA, ke *KE) (main, ah *pick, why string) {
	if qm.sa.behindNAT() {
		// A peer behind a NAT offers AH in a UDP encapsulation mode (RFC 3947, Section
		// 5), which no one can install.
		return nil, nil, ahBehindNAT
	}
	_, wantESP := childProtocols(qm.cfg)
	wantEncap := qm.sa.encapMode(qm.cfg.Transport)
	var names []string
	// acceptable lists the transforms of prop the child accepts.
	acceptable := func(prop *Proposal) []pick {
		var out []pick
		for _, c := range usableTransforms(prop, wantEncap, ke, &names) {
			if _, _, ok := ike.SelectProposal([]ike.Proposal{c.o.proposal()}, qm.cfg.ESPProposals); ok {
				out = append(out, c)
			}
		}
		return out
	}
	for i := 0; i < len(p.Proposals); {
		// The proposal payloads of one number, taken together (RFC 2408, Section 4.2).
		j := i
		for j < len(p.Proposals) && p.Proposals[j].Number == p.Proposals[i].Number {
			j++
		}
		var ahs, esps []pick
		other := false
		for _, prop := range p.Proposals[i:j] {
			switch {
			case len(prop.SPI) != 4:
				other = true
			case prop.Protocol == ProtoIPsecAH:
				ahs = append(ahs, acceptable(prop)...)
			case prop.Protocol == ProtoIPsecESP:
				esps = append(esps, acceptable(prop)...)
			default:
				other = true
			}
		}
		i = j
		switch {
		case other || len(ahs) == 0:
		case wantESP && len(esps) > 0:
			for _, a := range ahs {
				for _, e := range esps {
					if a.o.group == e.o.group {
						return &e, &a, ""
					}
				}
			}
		case !wantESP && len(esps) == 0:
			return &ahs[0], nil, ""
		}
	}
	want := "AH"
	if wantESP {
		want = "an AH+ESP bundle"
	}
	return nil, nil, fmt.Sprintf("offered %v; child %s wants %s of %s", names, qm.cfg.Name, want, proposalList(qm.cfg.ESPProposals))
}

// onQM3: HASH(3), verified, confirms the initiator installed the SAs; install ours.
func (qm *quickMode) onQM3() {
	sa := qm.sa
	sa.action("HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni | Nr) verifies: the initiator has the SAs")
	qm.install()
}

// install derives KEYMAT for both directions and reports the IPsec SA pair.
func (qm *quickMode) install() {
	sa := qm.sa
	d := sa.d
	qm.done = true
	delete(sa.quickModes, qm.msgID)
	sa.stopWaiting(qm.msgID)
	p := qm.chosen.proposal()
	ek, ik := keyLens(qm.chosen.espTransform)
	proto, infoProto := ProtoIPsecESP, ike.ProtoESP
	if qm.chosen.isAH() {
		proto, infoProto = ProtoIPsecAH, ike.ProtoAH
	}
	ni, nr := qm.ni, qm.nr
	in := KEYMAT(sa.prf, sa.keys.SKEYID_d, qm.gqm, proto, qm.spiIn, ni, nr, ek+ik)
	out := KEYMAT(sa.prf, sa.keys.SKEYID_d, qm.gqm, proto, qm.spiOut, ni, nr, ek+ik)
	pfs := ""
	if qm.gqm != nil {
		pfs = "g(qm)^xy | "
	}
	d.action("KEYMAT = prf(SKEYID_d, %sprotocol | SPI | Ni | Nr) for each direction (inbound SPI 0x%08x, outbound SPI 0x%08x): encryption key, then authentication key",
		pfs, qm.spiIn, qm.spiOut)
	d.childSerial++
	ch := &ipsecSA{d: d, sa: sa, cfg: qm.cfg, serial: d.childSerial, spiIn: qm.spiIn, spiOut: qm.spiOut, life: qm.chosen.life,
		initiator: qm.initiator, peer: sa.peerID.String()}
	encap := qm.chosen.encap == EncapUDPTunnel || qm.chosen.encap == EncapUDPTransport
	ch.reqid = d.core.AllocReqid(qm.cfg, []ike.TrafficSelector{qm.localTS}, []ike.TrafficSelector{qm.remoteTS})
	ch.info = &ike.ChildSAInfo{Conn: sa.conn.Name, Child: qm.cfg.Name, ReqID: ch.reqid, Protocol: infoProto,
		Transport: qm.transport, Local: sa.local, Remote: sa.remote, Encap: encap, SPIIn: qm.spiIn, SPIOut: qm.spiOut,
		Proposal: p, EncrKeyIn: in[:ek], IntegKeyIn: in[ek:], EncrKeyOut: out[:ek], IntegKeyOut: out[ek:],
		LocalTS: []ike.TrafficSelector{qm.localTS}, RemoteTS: []ike.TrafficSelector{qm.remoteTS},
		LifeTime: qm.chosen.life.seconds, Established: d.env.Clock.Now(), Instance: ch.instance(),
		LifeBytes: qm.chosen.life.kbytes * 1024, RekeyBytes: qm.cfg.RekeyBytes, LifePackets: qm.cfg.LifePackets,
		RekeyPackets: qm.cfg.RekeyPackets, TrapOnEnd: qm.cfg.DPDAction == "trap" || qm.cfg.CloseAction == "trap"}
	if ch.info.RekeyBytes == 0 {
		ch.info.RekeyBytes = ch.info.LifeBytes * 9 / 10
	}
	if qm.rekeys != nil {
		ch.info.Rekeyed = qm.rekeys.spiIn
	}
	if qm.bundleAH != nil {
		// The AH part of the bundle: its own SPIs and KEYMAT (RFC 2409, Section 5.5:
		// the protocol and SPI are in the KEYMAT input), an integrity key alone.
		_, ik := keyLens(qm.bundleAH.espTransform)
		ain := KEYMAT(sa.prf, sa.keys.SKEYID_d, qm.gqm, ProtoIPsecAH, qm.bundleIn, ni, nr, ik)
		aout := KEYMAT(sa.prf, sa.keys.SKEYID_d, qm.gqm, ProtoIPsecAH, qm.bundleOut, ni, nr, ik)
		ah := *ch.info
		ah.Protocol, ah.Bundle, ah.Encap, ah.SPIIn, ah.SPIOut = ike.ProtoAH, true, false, qm.bundleIn, qm.bundleOut
		ah.Proposal, ah.EncrKeyIn, ah.EncrKeyOut, ah.IntegKeyIn, ah.IntegKeyOut = qm.bundleAH.proposal(), nil, nil, ain, aout
		if qm.rekeys != nil && qm.rekeys.bundle != nil {
			ah.Rekeyed = qm.rekeys.bundle.SPIIn
		}
		ch.bundle = &ah
		d.action("KEYMAT for the AH part of the bundle likewise (inbound SPI 0x%08x, outbound SPI 0x%08x): an authentication key alone",
			qm.bundleIn, qm.bundleOut)
	}
	qm.setState(IKE_QM_PHASE2_COMPLETE)
	d.action("Install IPsec SA %s: SPIs in 0x%08x / out 0x%08x, %s, %s ↔ %s, lifetime %s%s", qm.cfg.Name, qm.spiIn, qm.spiOut,
		p, qm.localTS, qm.remoteTS, secs(qm.chosen.life.seconds), kbText(qm.chosen.life.kbytes))
	ch.setState(ChildInstalled)
	sa.children = append(sa.children, ch)
	if ch.bundle != nil {
		d.action("Install the AH SAs of the bundle, which go over the ESP SAs: SPIs in 0x%08x / out 0x%08x, %s", ch.bundle.SPIIn, ch.bundle.SPIOut, ch.bundle.Proposal)
		d.env.Observer.ChildSAUp(ch.bundle)
	}
	d.env.Observer.ChildSAUp(ch.info)
	ch.armTimers()
	if old := qm.rekeys; old != nil {
		// The old IPsec SA stays installed until its lifetime ends (or its ISAKMP SA is
		// deleted), as strongSwan keeps it (charon.delete_rekeyed = no): packets still
		// in flight on it are not lost. New packets take the new one.
		old.setState(ChildRekeyed)
	}
}

// keyLens is how many KEYMAT bytes one direction of an SA of the transform takes: the
// cipher's key (none for AH), then the authentication key.
func keyLens(t espTransform) (ek, ik int) {
	if encr := ike.Encr(t.encr.ID); encr != nil && !t.isAH() {
		ek = encr.KeyBytes(t.encr.KeyLen)
	}
	if integ := ike.Integ(t.integ); integ != nil {
		ik = integ.KeySize
	}
	return ek, ik
}
