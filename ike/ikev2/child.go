package ikev2

import (
	"fmt"
	"net/netip"

	"github.com/ikesim/ikesim/ike"
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
}

func (ch *childSA) name() string { return "CHILD_SA " + ch.instance() }

func (ch *childSA) instance() string { return fmt.Sprintf("%s{%d}", ch.cfg.Name, ch.serial) }

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

func (sa *ikeSA) childByName(name string) *childSA {
	var found *childSA
	for _, ch := range sa.children {
		if ch.cfg.Name == name && ch.state == "INSTALLED" {
			found = ch
		}
	}
	return found
}

// withoutDH strips Diffie-Hellman transforms: IKE_AUTH's Child SA uses the IKE SA's keys.
func withoutDH(ps []ike.Proposal) []ike.Proposal {
	out := make([]ike.Proposal, len(ps))
	for i, p := range ps {
		q := ike.Proposal{Protocol: p.Protocol}
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
func keyLens(p ike.Proposal) (encr *ike.EncrAlg, bits int, integ *ike.IntegAlg, ek, ik int, err error) {
	et, ok := pickTransform(p, ike.TransformENCR)
	if !ok || ike.Encr(et.ID) == nil {
		return nil, 0, nil, 0, 0, fmt.Errorf("no usable encryption transform in %s", p)
	}
	encr, bits = ike.Encr(et.ID), et.KeyLen
	if bits == 0 && len(encr.KeyBits) > 0 {
		bits = encr.KeyBits[0]
	}
	ek = encr.KeyBytes(bits)
	if it, ok := pickTransform(p, ike.TransformINTEG); ok && it.ID != 0 {
		if integ = ike.Integ(it.ID); integ == nil {
			return nil, 0, nil, 0, 0, fmt.Errorf("unknown integrity transform %d", it.ID)
		}
		ik = integ.KeySize
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
	if encr.AEAD() {
		keys = "an AEAD key with its salt for each direction, and no integrity key (RFC 4106, Section 8.1)"
	}
	sa.d.action("Derive Child SA keys: KEYMAT = prf+(SK_d, %s): %s", seed, keys)
	sa.serialChild()
	ch := &childSA{sa: sa, cfg: cfg, spiIn: spiIn, spiOut: spiOut, proposal: p, localTS: localTS, remoteTS: remoteTS,
		serial: sa.d.childSerial}
	local, remote := sa.local, sa.remote
	ch.reqid = sa.d.allocReqid(cfg, localTS, remoteTS)
	info := &ike.ChildSAInfo{Conn: sa.conn.Name, Child: cfg.Name, ReqID: ch.reqid, Protocol: ike.ProtoESP,
		Transport: transport, Local: local, Remote: remote, Encap: sa.behindNAT(), SPIIn: spiIn, SPIOut: spiOut,
		Proposal: p, LocalTS: localTS, RemoteTS: remoteTS, LifeTime: cfg.LifeTime, Established: sa.d.env.Clock.Now(),
		Instance: ch.instance()}
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
	}
	ch.info = info
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
// that initiated the IKE SA rekeys by time, so the two sides do not collide.
func (sa *ikeSA) armChildTimers(ch *childSA) {
	clock := sa.d.env.Clock
	if ch.cfg.RekeyTime > 0 && sa.initiator {
		ch.timers = append(ch.timers, clock.AfterFunc(ch.cfg.RekeyTime, "rekey "+ch.name(), func() {
			if ch.state == "INSTALLED" && sa.state == stateEstablished {
				sa.d.action("Rekey time of %s reached: rekey it with CREATE_CHILD_SA", ch.name())
				sa.queueRequest(func() { sa.createChild(ch.cfg, ch) })
			}
		}))
	}
	if ch.cfg.LifeTime > 0 {
		ch.timers = append(ch.timers, clock.AfterFunc(ch.cfg.LifeTime, "hard lifetime "+ch.name(), func() {
			if ch.state == "INSTALLED" || ch.state == "REKEYING" {
				sa.d.action("Hard lifetime of %s expired: delete it", ch.name())
				sa.queueRequest(func() { sa.deleteChildren([]*childSA{ch}) })
			}
		}))
	}
}

// down removes the child from the host.
func (ch *childSA) down(reason string) {
	if ch.state == "DESTROYED" {
		return
	}
	for _, t := range ch.timers {
		t.Stop()
	}
	ch.setState("DESTROYED")
	ch.sa.d.held.Release(ch.reqid)
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
// leased to it (remote). A side that asks for a virtual IP keeps its own empty until
// it has one.
func (sa *ikeSA) dynamicTS(ts []ike.TrafficSelector, local bool) []ike.TrafficSelector {
	if len(ts) > 0 || local && sa.conn.RequestVIP {
		return ts
	}
	a := sa.remote.Addr()
	switch {
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
