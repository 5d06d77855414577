package ikev2

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/daemon"
)

// childSA is one Child SA pair (one SPI each way) of an IKE SA.
type childSA struct {
	sa       *ikeSA
	cfg      *ike.ChildConfig
	spiIn    uint32 // chosen by this side: the peer sends with it
	spiOut   uint32
	proposal ike.Proposal
	localTS  []ike.TrafficSelector
	remoteTS []ike.TrafficSelector
	info     *ike.ChildSAInfo
	state    string
	serial   int
	timers   []ike.Timer
	reqid    uint32 // the policies' link to the SA pair (ike.Reqids)
	// rekeyTimer is the soft lifetime's timer, re-armed when the IKE SA's roles change.
	rekeyTimer ike.Timer
	born       time.Time
	// ni and nr are the nonces of the exchange that made the SA: a rekey collision is
	// settled by them (RFC 7296, Section 2.8.1).
	ni, nr []byte
	// passive is the SA the peer's rekey of this one made while this side's own rekey
	// of it was under way: a collision, settled when our response arrives.
	passive *childSA
	// peerDeleted says the peer deleted the SA while this side's rekey of it was under
	// way: it stays until the rekey's response, as strongSwan keeps it.
	peerDeleted bool
}

// protocol is the Child SA's IPsec protocol: ESP, or AH when an AH proposal was chosen.
func (ch *childSA) protocol() ike.Protocol {
	if ch.proposal.Protocol == ike.ProtoAH {
		return ike.ProtoAH
	}
	return ike.ProtoESP
}

func (ch *childSA) name() string { return "CHILD_SA " + ch.instance() }

func (ch *childSA) instance() string { return ch.cfg.Name + "{" + strconv.Itoa(ch.serial) + "}" }

func (ch *childSA) setState(s string) {
	if ch.state == s {
		return
	}
	from := ch.state
	if from == "" {
		from = "CREATED"
	}
	ch.sa.d.env.Observer.State(ike.StateChange{Machine: ch.name(), Kind: "CHILD_SA", Instance: ch.instance(), Type: ike.SATypeChild, Conn: ch.sa.connName(),
		Child: ch.cfg.Name, From: from, To: s})
	ch.state = s
}

// InstalledChild is the newest installed Child SA of the configuration named name
// (daemon.NamedChild).
func (sa *ikeSA) InstalledChild(name string) (*childSA, bool) {
	var found *childSA
	for _, ch := range sa.children {
		if ch.cfg.Name == name && ch.state == "INSTALLED" {
			found = ch
		}
	}
	return found, found != nil
}

// withoutDH strips Diffie-Hellman transforms: IKE_AUTH's Child SA uses the IKE SA's keys.
func withoutDH(ps []ike.Proposal) []ike.Proposal {
	out := make([]ike.Proposal, len(ps))
	for i, p := range ps {
		q := ike.Proposal{Protocol: p.Protocol}
		if len(p.Transforms) > 0 {
			q.Transforms = make([]ike.Transform, 0, len(p.Transforms))
		}
		for _, t := range p.Transforms {
			if t.Type != ike.TransformDH {
				q.Transforms = append(q.Transforms, t)
			}
		}
		out[i] = q
	}
	return out
}

// keyLens is how many KEYMAT bytes one direction of a Child SA takes.
// An AH proposal (RFC 4302) has no encryption key: encr is nil and ek 0.
func keyLens(p ike.Proposal) (encr *ike.EncrAlg, bits int, integ *ike.IntegAlg, ek, ik int, err error) {
	if p.Protocol != ike.ProtoAH {
		et, ok := pickTransform(p, ike.TransformENCR)
		if !ok || ike.Encr(et.ID) == nil {
			return nil, 0, nil, 0, 0, fmt.Errorf("no usable encryption transform in %s", p)
		}
		encr, bits = ike.Encr(et.ID), et.KeyLen
		if bits == 0 && len(encr.KeyBits) > 0 {
			bits = encr.KeyBits[0]
		}
		ek = encr.KeyBytes(bits)
	}
	if it, ok := pickTransform(p, ike.TransformINTEG); ok && it.ID != 0 {
		if integ = ike.Integ(it.ID); integ == nil {
			return nil, 0, nil, 0, 0, fmt.Errorf("unknown integrity transform %d", it.ID)
		}
		ik = integ.KeySize
	}
	if encr == nil && integ == nil {
		return nil, 0, nil, 0, 0, fmt.Errorf("no usable integrity transform in AH proposal %s", p)
	}
	return encr, bits, integ, ek, ik, nil
}

// installChild derives KEYMAT (RFC 7296 2.17) and reports the new Child SA.
// exchInitiator says whether this side initiated the exchange that made it; ni and nr
// are that exchange's nonces and gir its optional PFS secret.
func (sa *ikeSA) installChild(cfg *ike.ChildConfig, p ike.Proposal, spiIn, spiOut uint32, localTS, remoteTS []ike.TrafficSelector,
	transport, exchInitiator bool, ni, nr, gir []byte, replaces *childSA) (*childSA, error) {
	encr, _, _, ek, ik, err := keyLens(p)
	if err != nil {
		return nil, err
	}
	keymat := ike.ChildKeymat(sa.prf, sa.keys.SKd, gir, ni, nr, 2*(ek+ik))
	ei, ai, er, ar := keymat[:ek], keymat[ek:ek+ik], keymat[ek+ik:2*ek+ik], keymat[2*ek+ik:]
	seed := "Ni | Nr"
	if gir != nil {
		seed = "g^ir (new, PFS) | Ni | Nr"
	}
	keys := "encryption and integrity keys for each direction"
	switch {
	case encr == nil:
		keys = "an integrity key for each direction: AH does not encrypt (RFC 4302)"
	case encr.AEAD():
		keys = "an AEAD key with its salt for each direction, and no integrity key (RFC 4106, Section 8.1)"
	}
	sa.d.say("Derive Child SA keys: KEYMAT = prf+(SK_d, " + seed + "): " + keys)
	sa.serialChild()
	ch := &childSA{sa: sa, cfg: cfg, spiIn: spiIn, spiOut: spiOut, proposal: p, localTS: localTS, remoteTS: remoteTS,
		serial: sa.d.childSerial, born: sa.d.env.Clock.Now(), ni: ni, nr: nr}
	local, remote := sa.local, sa.remote
	ch.reqid = sa.d.core.AllocReqid(cfg, localTS, remoteTS)
	info := &ike.ChildSAInfo{Conn: sa.conn.Name, Child: cfg.Name, ReqID: ch.reqid, Protocol: p.Protocol,
		Transport: transport, Local: local, Remote: remote, Encap: sa.behindNAT() && p.Protocol != ike.ProtoAH,
		BehindNAT: sa.behindNAT(), SPIIn: spiIn, SPIOut: spiOut,
		Proposal: p, LocalTS: localTS, RemoteTS: remoteTS, LifeTime: cfg.LifeTime, Established: sa.d.env.Clock.Now(),
		Instance: ch.instance(), RekeyBytes: cfg.RekeyBytes, LifeBytes: cfg.LifeBytes, RekeyPackets: cfg.RekeyPackets,
		LifePackets: cfg.LifePackets, TrapOnEnd: cfg.DPDAction == "trap" || cfg.CloseAction == "trap"}
	if exchInitiator {
		info.EncrKeyOut, info.IntegKeyOut, info.EncrKeyIn, info.IntegKeyIn = ei, ai, er, ar
	} else {
		info.EncrKeyIn, info.IntegKeyIn, info.EncrKeyOut, info.IntegKeyOut = ei, ai, er, ar
	}
	if replaces != nil {
		info.Rekeyed = replaces.spiIn
		// The rekey's responder goes on sending on the old SA until the initiator
		// deletes it: the initiator may not have the new inbound SA yet.
		info.KeepOldOutbound = !exchInitiator
		// The loser of a rekey collision never sends on its own new SA: it deletes it
		// at once (RFC 7296, Section 2.8.1; strongSwan leaves its outbound SA out).
		if exchInitiator && replaces.passive != nil && collisionLost(ni, nr, replaces.passive) {
			info.NoOutbound = true
		}
	}
	ch.info = info
	if info.BehindNAT && p.Protocol == ike.ProtoAH {
		sa.d.action("A NAT is in the path, but AH cannot be UDP encapsulated (RFC 3948 covers ESP only): AH goes as IP protocol 51, and its ICV covers the addresses the NAT rewrites")
	}
	sa.d.action("Install Child SA %s: SPIs in 0x%08x / out 0x%08x, %s, %s ↔ %s", cfg.Name, spiIn, spiOut, p,
		tsList(localTS), tsList(remoteTS))
	ch.setState("INSTALLED")
	sa.children = append(sa.children, ch)
	sa.d.env.Observer.ChildSAUp(info)
	sa.armChildTimers(ch)
	return ch, nil
}

func (sa *ikeSA) serialChild() { sa.d.childSerial++ }

func tsList(ts []ike.TrafficSelector) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += ","
		}
		s += t.String()
	}
	return s
}

// armChildTimers starts the rekey and hard-lifetime timers of a child. Only the side
// that is the IKE SA's original initiator rekeys by time, so that two ikesim nodes do
// not collide every time (strongSwan spreads the two sides apart with rand_time
// instead); rearmRekey moves the timer when an IKE SA rekey turns the roles round. The
// timers act on the IKE SA the child is on when they fire, not the one it was made on.
func (sa *ikeSA) armChildTimers(ch *childSA) {
	if ch.cfg.RekeyTime > 0 && sa.initiator {
		ch.rekeyTimer = sa.d.env.Clock.AfterFunc(ch.cfg.RekeyTime, "rekey "+ch.name(), func() { ch.softExpire("Rekey time") })
	}
	if ch.cfg.LifeTime > 0 {
		ch.timers = append(ch.timers, sa.d.env.Clock.AfterFunc(ch.cfg.LifeTime, "hard lifetime "+ch.name(), ch.hardExpire))
	}
}

// rearmRekey starts or stops the child's rekey timer after its IKE SA changed: the
// original initiator of the IKE SA it is on now rekeys it.
func (ch *childSA) rearmRekey() {
	sa := ch.sa
	if ch.cfg.RekeyTime <= 0 || ch.state == "DESTROYED" {
		return
	}
	if !sa.initiator {
		if ch.rekeyTimer != nil {
			ch.rekeyTimer.Stop()
			ch.rekeyTimer = nil
		}
		return
	}
	if ch.rekeyTimer != nil {
		return
	}
	left := ch.cfg.RekeyTime - sa.d.env.Clock.Now().Sub(ch.born)
	if left < 0 {
		left = 0
	}
	ch.rekeyTimer = sa.d.env.Clock.AfterFunc(left, "rekey "+ch.name(), func() { ch.softExpire("Rekey time") })
}

// softExpire rekeys the child at its rekey time, on the IKE SA it is on now. An SA the
// peer already rekeyed (REKEYED) is not rekeyed again (strongSwan ignores that soft
// expiry too).
func (ch *childSA) softExpire(what string) {
	if what == "Rekey time" {
		ch.rekeyTimer = nil
	}
	sa := ch.sa
	if ch.state == "INSTALLED" && sa.state == stateEstablished {
		sa.d.action("%s of %s reached: rekey it with CREATE_CHILD_SA", what, ch.name())
		sa.queueRequest(func() { ch.sa.createChild(ch.cfg, ch) })
	}
}

// hardExpire ends the child at its hard lifetime. An SA the peer rekeyed, whose Delete
// has not come, goes at once and without a Delete of our own: the peer deletes it
// anyway (strongSwan does the same, to avoid crossing a delayed response).
func (ch *childSA) hardExpire() {
	sa := ch.sa
	switch ch.state {
	case "INSTALLED", "REKEYING":
		sa.d.action("Hard lifetime of %s expired: delete it", ch.name())
		sa.queueRequest(func() { ch.sa.deleteChildren([]*childSA{ch}) })
	case "REKEYED":
		sa.d.action("Hard lifetime of %s expired; the peer rekeyed it and will delete it: remove it now, without a Delete of our own", ch.name())
		sa.removeChild(ch, "hard lifetime expired")
	}
}

// collides says whether the peer rekeyed the child while this side's rekey of it was
// under way, and that SA is still there.
func (ch *childSA) collides() bool { return ch.passive != nil && ch.passive.state != "DESTROYED" }

// collisionLost says whether the SA made with nonces ni and nr is the redundant one of
// a rekey collision with other: the new SA that holds the lowest of the four nonces
// is redundant (RFC 7296, Sections 2.8.1 and 2.8.2).
func collisionLost(ni, nr []byte, other *childSA) bool { return lowestIn(ni, nr, other.ni, other.nr) }

// lowestIn says whether the lowest of the four nonces is a or b.
func lowestIn(a, b, c, d []byte) bool {
	low := a
	if bytes.Compare(b, low) < 0 {
		low = b
	}
	return bytes.Compare(low, c) < 0 && bytes.Compare(low, d) < 0
}

// down removes the child from the host.
func (ch *childSA) down(reason string) {
	if ch.state == "DESTROYED" {
		return
	}
	for _, t := range ch.timers {
		t.Stop()
	}
	if ch.rekeyTimer != nil {
		ch.rekeyTimer.Stop()
	}
	ch.setState("DESTROYED")
	ch.sa.d.core.ReleaseReqid(ch.reqid)
	ch.sa.d.env.Observer.ChildSADown(ch.info, reason)
}

func (sa *ikeSA) removeChild(ch *childSA, reason string) {
	ch.down(reason)
	for i, c := range sa.children {
		if c == ch {
			sa.children = append(sa.children[:i], sa.children[i+1:]...)
			break
		}
	}
}

// pickChildConfig finds the child whose selectors admit the proposed ones, narrowed
// (RFC 7296 2.9). tsi are the initiator's, tsr the responder's; this side answers.
func (sa *ikeSA) pickChildConfig(tsi, tsr []ike.TrafficSelector) (*ike.ChildConfig, []ike.TrafficSelector, []ike.TrafficSelector) {
	for _, cfg := range sa.conn.Children {
		ni := narrowAll(tsi, sa.dynamicTS(cfg.RemoteTS, false))
		nr := narrowAll(tsr, sa.dynamicTS(cfg.LocalTS, true))
		if len(ni) > 0 && len(nr) > 0 {
			return cfg, ni, nr
		}
	}
	return nil, nil, nil
}

// dynamicTS is a child's selectors with dynamic (none written) resolved, as swanctl's
// dynamic is: this side's address on the IKE SA (local), the peer's or the virtual IP
// leased to it (remote). A side that asks for a virtual IP proposes its own as the
// whole range of each family it asks for until it has one, as strongSwan does
// (child_create.c proposes 0.0.0.0/0 for a virtual IP not yet assigned), and the
// responder narrows it to the lease; then the virtual IP.
func (sa *ikeSA) dynamicTS(ts []ike.TrafficSelector, local bool) []ike.TrafficSelector {
	if len(ts) > 0 {
		return ts
	}
	if c := sa.conn; local && (c.RequestVIP || c.RequestVIP6) && !sa.ownVIP.IsValid() {
		var full []ike.TrafficSelector
		if c.RequestVIP {
			full = append(full, ike.TSFromPrefix(netip.MustParsePrefix("0.0.0.0/0")))
		}
		if c.RequestVIP6 {
			full = append(full, ike.TSFromPrefix(netip.MustParsePrefix("::/0")))
		}
		return full
	}
	a := sa.remote.Addr()
	switch {
	case local && sa.ownVIP.IsValid():
		a = sa.ownVIP
	case local:
		a = sa.local.Addr()
	case sa.peerVIP.IsValid():
		a = sa.peerVIP
	case sa.conn.Pools != nil:
		return ts // a virtual IP is leased later, and vipTS narrows to it
	}
	return []ike.TrafficSelector{ike.TSFromPrefix(netip.PrefixFrom(a, a.BitLen()))}
}

func narrowAll(offered, local []ike.TrafficSelector) []ike.TrafficSelector {
	var out []ike.TrafficSelector
	for _, o := range offered {
		for _, l := range local {
			if n, ok := o.Narrow(l); ok {
				out = append(out, n)
			}
		}
	}
	return out
}

// toWireTS and fromWireTS convert between engine and payload selectors.
func toWireTS(ts []ike.TrafficSelector, responder bool) *TS {
	p := &TS{Responder: responder}
	for _, t := range ts {
		typ := TSIPv4AddrRange
		if t.Start.Is6() {
			typ = TSIPv6AddrRange
		}
		p.Selectors = append(p.Selectors, TrafficSelector{Type: typ, IPProtocol: t.Proto, StartPort: t.StartPort,
			EndPort: t.EndPort, StartAddr: t.Start, EndAddr: t.End})
	}
	return p
}

func fromWireTS(p *TS) []ike.TrafficSelector {
	if p == nil {
		return nil
	}
	var out []ike.TrafficSelector
	for _, s := range p.Selectors {
		if s.Type != TSIPv4AddrRange && s.Type != TSIPv6AddrRange {
			continue
		}
		out = append(out, ike.TrafficSelector{Proto: s.IPProtocol, StartPort: s.StartPort, EndPort: s.EndPort,
			Start: s.StartAddr, End: s.EndAddr})
	}
	return out
}

func spiBytes(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func spiValue(b []byte) uint32 {
	if len(b) != 4 {
		return 0
	}
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// Traffic is what the child carried, when the host counts it (ike.TrafficHost).
func (ch *childSA) Traffic() (ike.Traffic, bool) {
	return daemon.Traffic(ch.sa.d.env.Observer, ch.spiIn, ch.spiOut)
}

var _ ike.Expirer = (*Daemon)(nil)

// Expire acts on the host's word that a Child SA reached a volume lifetime (rekey_bytes,
// rekey_packets: soft; life_bytes, life_packets: hard). As with the rekey time, only
// the IKE SA's original initiator rekeys at the soft limit; the hard limit ends the SA
// on either side.
func (d *Daemon) Expire(spiIn uint32, hard bool) {
	for _, sa := range d.sas {
		for _, ch := range sa.children {
			if ch.spiIn != spiIn || ch.state == "DESTROYED" {
				continue
			}
			switch {
			case hard:
				d.action("%s reached its volume lifetime (life_bytes or life_packets)", ch.name())
				ch.hardExpire()
			case sa.initiator && ch.state == "INSTALLED":
				ch.softExpire("Rekey volume (rekey_bytes or rekey_packets)")
			}
			return
		}
	}
}
