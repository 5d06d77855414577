package ikev1

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/daemon"
)

// Informational exchanges (RFC 2409, Section 5.7) are one message each way at most:
//
//	HDR*, HASH(1), N/D    with HASH(1) = prf(SKEYID_a, M-ID | N/D)
//
// Before phase 1 is complete they travel unprotected (RFC 2408, Section 5.?): that is how
// NO-PROPOSAL-CHOSEN and PAYLOAD-MALFORMED reach the initiator. Dead peer detection (RFC
// 3706) is an R-U-THERE notification answered by an R-U-THERE-ACK, each in its own
// informational exchange.

// sendInformational sends notifications or deletes in a new informational exchange:
// encrypted with HASH(1) once phase 1 is complete, in clear before.
func (sa *isakmpSA) sendInformational(ps []Payload) {
	id := sa.d.messageID(sa)
	ack := notifyOf(ps, R_U_THERE_ACK) != nil // an answer, though in an exchange of its own
	if !sa.established {
		sa.send(outMsg{ex: ExchangeInformational, id: id, payloads: ps, exchInitiator: true})
		return
	}
	after, err := ChainBytes(ps)
	if err != nil {
		sa.d.errorf(sa, 0, ike.FailInternal, "%s: cannot build an Informational: %v", sa.name(), err)
		return
	}
	h := NewHash(QuickHash1(sa.prf, sa.keys.SKEYID_a, id, after))
	sa.send(outMsg{ex: ExchangeInformational, id: id, payloads: append([]Payload{h}, ps...), encrypt: true, exchInitiator: !ack})
}

// notify sends an error or status notification about an SA (protocol and SPI) or about
// the exchange.
func (sa *isakmpSA) notify(t NotifyType, proto ProtocolID, spi []byte) {
	if proto == 0 {
		proto = ProtoISAKMP
		spi = cookies(sa.icookie, sa.rcookie)
	}
	sa.action("Send an Informational with N(%v) to tell the peer", t)
	sa.sendInformational([]Payload{&Notify{DOI: DOIIPsec, Protocol: proto, SPI: spi, Type: t}})
}

// failNotify tells the peer why phase 1 fails, then ends the SA.
func (sa *isakmpSA) failNotify(t NotifyType, reason string) {
	sa.d.errorf(sa, t, ike.FailRefused, "%s: %s", sa.name(), reason)
	sa.notify(t, 0, nil)
	sa.destroy(reason, false)
}

// informational handles a notification or delete from the peer: protected by the
// ISAKMP SA (its HASH(1) verified), or in clear during phase 1, when only its error
// notifications are noted and nothing ends.
func (sa *isakmpSA) informational(m *Message) {
	if !m.Encrypted() {
		for _, p := range m.Payloads {
			if n, ok := p.(*Notify); ok && n.Type.IsError() {
				sa.unprotectedError(n)
			}
		}
		return
	}
	dpd := false
	for _, p := range m.Payloads {
		switch p := p.(type) {
		case *Notify:
			if p.Type == R_U_THERE {
				// One answer per message, as strongSwan reads the first R-U-THERE: a
				// message packed with them must not make this side send one each.
				if dpd {
					continue
				}
				dpd = true
			}
			sa.onNotify(p)
		case *Delete:
			sa.onDelete(p)
		}
	}
}

func (sa *isakmpSA) onNotify(n *Notify) {
	d := sa.d
	switch {
	case n.Type == R_U_THERE:
		if !sa.established || len(n.Data) != 4 {
			return
		}
		sa.action("DPD: the peer asks R-U-THERE (sequence %d): answer R-U-THERE-ACK", binary.BigEndian.Uint32(n.Data))
		sa.sendInformational([]Payload{&Notify{DOI: DOIIPsec, Protocol: ProtoISAKMP, SPI: cookies(sa.icookie, sa.rcookie),
			Type: R_U_THERE_ACK, Data: n.Data}})
	case n.Type == R_U_THERE_ACK:
		if len(n.Data) == 4 && binary.BigEndian.Uint32(n.Data) == sa.dpdSeq && sa.dpdPending {
			sa.dpdPending, sa.dpdTries = false, 0
			sa.stopTimer("DPD R-U-THERE-ACK")
			sa.action("DPD: R-U-THERE-ACK %d received: the peer is alive", sa.dpdSeq)
		}
	case n.Type.IsError():
		spi := spiValue(n.SPI)
		for _, id := range sa.flightOrder {
			if qm := sa.quickModes[id]; qm != nil && qm.initiator && (qm.spiIn == spi || n.Protocol == ProtoISAKMP) {
				qm.failedWith(n.Type, ike.FailPeerNotify, fmt.Sprintf("the responder says %v: %s", n.Type, n.Type.Explain()))
				return
			}
		}
		d.errorf(sa, n.Type, ike.FailPeerNotify, "%s: the peer reports %v", sa.name(), n.Type)
	default:
		sa.action("The peer notifies %v: %s", n.Type, n.Type.Explain())
	}
}

func (sa *isakmpSA) onDelete(p *Delete) {
	switch p.Protocol {
	case ProtoISAKMP:
		for _, spi := range p.SPIs {
			if len(spi) == 16 && binary.BigEndian.Uint64(spi) == sa.icookie && binary.BigEndian.Uint64(spi[8:]) == sa.rcookie {
				if len(sa.children) > 0 {
					sa.action("The peer deletes %s; its IPsec SAs stay up (in IKEv1 they do not depend on the ISAKMP SA)", sa.name())
				} else {
					sa.action("The peer deletes %s", sa.name())
				}
				sa.destroy("deleted by the peer", true)
				return
			}
		}
	case ProtoIPsecESP, ProtoIPsecAH:
		for _, spi := range p.SPIs {
			v := spiValue(spi)
			ch, owner := sa.d.findChild(sa.conn, sa.peerID.String(), v)
			if ch == nil {
				sa.action("The peer deletes SPI 0x%08x, which we do not know", v)
				continue
			}
			sa.action("The peer deletes its inbound SPI 0x%08x (our outbound): remove %s, both directions", v, ch.name())
			if owner != nil {
				owner.removeChild(ch, "deleted by the peer")
			} else {
				sa.d.dropOrphan(ch)
				ch.down("deleted by the peer")
			}
		}
	}
}

// deleteAll deletes every IPsec SA, then the ISAKMP SA, each in its own Informational
// (as strongSwan does).
func (sa *isakmpSA) deleteAll(reason string) {
	if sa.deleted {
		return
	}
	for _, ch := range append([]*ipsecSA(nil), sa.children...) {
		sa.deleteChild(ch, reason)
	}
	sa.deleteISAKMP(reason)
}

// deleteISAKMP sends Delete(PROTO_ISAKMP, CKY-I | CKY-R) and ends the ISAKMP SA.
func (sa *isakmpSA) deleteISAKMP(reason string) {
	if sa.deleted {
		return
	}
	sa.action("Delete %s: send an Informational with Delete(PROTO_ISAKMP, both cookies)", sa.name())
	sa.sendInformational([]Payload{&Delete{DOI: DOIIPsec, Protocol: ProtoISAKMP, SPISize: 16,
		SPIs: [][]byte{cookies(sa.icookie, sa.rcookie)}}})
	sa.destroy(reason, len(sa.children) > 0)
}

// sendRUThere asks the peer whether it is alive (RFC 3706, Section 5.2): a new sequence
// number each time, in a new Informational, until an ACK or the tries run out.
func (sa *isakmpSA) sendRUThere() {
	if !sa.established || sa.deleted {
		return
	}
	if sa.dpdSeq == 0 {
		sa.dpdSeq = binary.BigEndian.Uint32(sa.d.core.Random(4)) & 0x7fffffff
	}
	sa.dpdSeq++
	sa.dpdPending = true
	sa.action("DPD: send R-U-THERE with sequence number %d; the peer must answer R-U-THERE-ACK", sa.dpdSeq)
	sa.sendInformational([]Payload{&Notify{DOI: DOIIPsec, Protocol: ProtoISAKMP, SPI: cookies(sa.icookie, sa.rcookie),
		Type: R_U_THERE, Data: binary.BigEndian.AppendUint32(nil, sa.dpdSeq)}})
	timeout, _, tries := daemon.Retransmit(sa.conn)
	sa.startTimer("DPD R-U-THERE-ACK", timeout, func() {
		if !sa.dpdPending || sa.deleted {
			return
		}
		sa.dpdTries++
		// dpd_timeout (swanctl.conf): the peer is dead once it has been silent that
		// long, R-U-THEREs unanswered; without it, once the tries run out.
		quiet := sa.d.env.Clock.Now().Sub(sa.lastHeard())
		if dt := sa.conn.DPDTimeout; (dt > 0 && quiet >= dt) || (dt <= 0 && sa.dpdTries >= tries) {
			if dt > 0 {
				sa.d.errorf(sa, 0, ike.FailTimeout, "%s: DPD: nothing heard from the peer for %s, dpd_timeout %s: the peer is dead; clear its SAs",
					sa.name(), secs(quiet), secs(dt))
			} else {
				sa.d.errorf(sa, 0, ike.FailTimeout, "%s: DPD: no R-U-THERE-ACK after %d tries: the peer is dead; clear its SAs", sa.name(), tries)
			}
			children := sa.childConfigs()
			sa.destroy("peer dead (DPD)", false)
			sa.d.afterDeath(sa.conn, children)
			return
		}
		sa.action("DPD: no R-U-THERE-ACK within %s: ask again (try %d of %d)", timeout, sa.dpdTries+1, tries)
		sa.sendRUThere()
	})
}

// armTimers starts the ISAKMP SA's DPD, rekey, lifetime and NAT keep-alive timers.
func (sa *isakmpSA) armTimers() {
	c := sa.conn
	now := sa.d.env.Clock.Now()
	sa.lastIn = now
	if c.DPDDelay > 0 && sa.peerDPD {
		var dpd func()
		dpd = func() {
			if !sa.established || sa.deleted {
				return
			}
			next := c.DPDDelay
			idle := sa.d.env.Clock.Now().Sub(sa.lastHeard())
			switch {
			case sa.dpdPending:
			case idle >= c.DPDDelay:
				sa.action("Nothing heard from the peer for %s, neither IKE nor ESP: dead peer detection", secs(c.DPDDelay))
				sa.sendRUThere()
			default:
				next = c.DPDDelay - idle // check again when the peer will have been quiet that long
			}
			sa.startTimer("DPD", next, dpd)
		}
		sa.startTimer("DPD", c.DPDDelay, dpd)
	}
	rekey := c.RekeyTime
	if rekey == 0 {
		rekey = sa.life * 9 / 10
	}
	if sa.initiator && rekey > 0 {
		sa.startTimer("ISAKMP SA rekey", rekey, func() {
			sa.action("Rekey time of %s reached: negotiate a new ISAKMP SA", sa.name())
			sa.rekeyPhase1()
		})
	}
	if sa.life > 0 {
		sa.startTimer("ISAKMP SA lifetime", sa.life, func() {
			sa.action("Lifetime of %s (%s) expired", sa.name(), secs(sa.life))
			sa.deleteISAKMP("lifetime expired")
		})
	}
	if sa.natLocal {
		daemon.Keepalive{Every: c.Keepalive, LastSent: sa.lastSent, Gone: func() bool { return sa.deleted },
			Send: func(_, every time.Duration) {
				sa.action("Behind a NAT and nothing sent for %s: send a NAT-keepalive to keep the mapping alive", secs(every))
				sa.d.env.Transport.SendKeepalive(sa.local, sa.remote)
				sa.lastOut = sa.d.env.Clock.Now()
			}}.Arm(&sa.timers)
	}
}

// lastHeard is when the peer was last heard from: an IKE message, or ESP on one of the
// ISAKMP SA's IPsec SAs, as far as the host counts it (ike.TrafficHost).
func (sa *isakmpSA) lastHeard() time.Time { return daemon.LastHeard(sa.lastIn, sa.children) }

// lastSent is when this side last sent the peer anything: IKE, a NAT keep-alive, or ESP.
func (sa *isakmpSA) lastSent() time.Time { return daemon.LastSent(sa.lastOut, sa.children) }

// childConfigs lists the configurations of the SA's IPsec SAs.
func (sa *isakmpSA) childConfigs() []*ike.ChildConfig {
	var out []*ike.ChildConfig
	for _, ch := range sa.children {
		if ch.state != ChildDestroyed {
			out = append(out, ch.cfg)
		}
	}
	return out
}

// afterDeath applies the children's dpd_action once DPD declared the peer dead:
// restart sets them up again at once; with trap the host kept their policies as a trap
// (ChildSAInfo.TrapOnEnd), and with clear they went with the SAs.
func (d *Daemon) afterDeath(c *ike.Connection, children []*ike.ChildConfig) {
	for _, ch := range children {
		if ch.DPDAction == "restart" {
			d.action("dpd_action restart: set up IPsec SA %s again", ch.Name)
			d.startChild(c, ch, nil)
		}
	}
}

// rekeyPhase1 negotiates a new ISAKMP SA that replaces this one (a new main or
// aggressive mode with new cookies). The IPsec SAs move to it, then this one is deleted.
func (sa *isakmpSA) rekeyPhase1() {
	if sa.deleted || sa.replacedBy != nil {
		return
	}
	for _, o := range sa.d.sas {
		if o.replaces == sa && !o.deleted {
			return // already rekeying
		}
	}
	sa.d.startPhase1(sa.conn, nil, sa)
}

// takeOver moves the IPsec SAs of the ISAKMP SA this one rekeyed to it, and deletes
// the old one.
func (sa *isakmpSA) takeOver(old *isakmpSA) {
	old.replacedBy = sa
	for _, ch := range old.children {
		ch.sa = sa
	}
	sa.children = append(sa.children, old.children...)
	old.children = nil
	sa.action("%s replaces %s; its IPsec SAs move to it", sa.name(), old.name())
	old.deleteISAKMP("rekeyed")
}
