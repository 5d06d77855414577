package ikev1

import (
	"fmt"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/daemon"
)

// ipsecSA is one IPsec SA pair (an SPI each way) made by a quick mode. In IKEv1 it does
// not depend on its ISAKMP SA: when the peer deletes that one, it stays installed until
// its lifetime ends or a Delete names it.
type ipsecSA struct {
	d         *Daemon
	sa        *isakmpSA // nil while no ISAKMP SA owns it
	cfg       *ike.ChildConfig
	serial    int
	spiIn     uint32
	spiOut    uint32
	info      *ike.ChildSAInfo
	bundle    *ike.ChildSAInfo // the AH SAs of an AH+ESP bundle, over info's ESP SAs
	state     State
	life      lifetimes
	initiator bool   // this side ran the quick mode as initiator: it rekeys by time
	peer      string // the identity of the peer it was made with
	timers    []ike.Timer
	reqid     uint32 // the policies' link to the SA pair (ike.Reqids)
}

// hasOutbound reports whether spi is an outbound SPI of the pair (or of its bundle).
func (ch *ipsecSA) hasOutbound(spi uint32) bool {
	return ch.spiOut == spi || (ch.bundle != nil && ch.bundle.SPIOut == spi)
}

func (ch *ipsecSA) name() string { return "IPsec SA " + ch.instance() }

func (ch *ipsecSA) instance() string { return fmt.Sprintf("%s{%d}", ch.cfg.Name, ch.serial) }

func (ch *ipsecSA) setState(s State) {
	if ch.state == s {
		return
	}
	from := ch.state
	if from == "" {
		from = ChildCreated
	}
	ch.d.env.Observer.State(ike.StateChange{Machine: ch.name(), Kind: "IPsec SA", Instance: ch.instance(), Type: ike.SATypeChild, Conn: ch.info.Conn,
		Child: ch.cfg.Name, From: string(from), To: string(s)})
	ch.state = s
}

// armTimers starts the rekey (the quick mode's initiator only, at the configured rekey
// time or at 90 % of the lifetime, as a Cisco router does) and expiry timers.
func (ch *ipsecSA) armTimers() {
	ch.stopTimers()
	clock := ch.d.env.Clock
	elapsed := clock.Now().Sub(ch.info.Established)
	rekey := ch.cfg.RekeyTime
	if rekey == 0 {
		rekey = ch.life.seconds * 9 / 10
	}
	if ch.initiator && rekey > elapsed {
		ch.timers = append(ch.timers, clock.AfterFunc(rekey-elapsed, "rekey "+ch.name(), func() {
			if ch.state != ChildInstalled {
				return
			}
			ch.d.action("Rekey time of %s reached: negotiate its successor with a new Quick Mode", ch.name())
			ch.rekey()
		}))
	}
	if ch.life.seconds > elapsed {
		ch.timers = append(ch.timers, clock.AfterFunc(ch.life.seconds-elapsed, "lifetime "+ch.name(), func() {
			if ch.state == ChildDestroyed {
				return
			}
			ch.d.action("Lifetime of %s (%s) expired: delete it", ch.name(), secs(ch.life.seconds))
			ch.expire("lifetime expired")
		}))
	}
}

// rekey negotiates the IPsec SA's successor, on its ISAKMP SA or a new one.
func (ch *ipsecSA) rekey() {
	if ch.sa != nil && !ch.sa.deleted {
		ch.sa.whenReady(func() { ch.sa.startQuickMode(ch.cfg, ch) })
		return
	}
	if c, err := ch.d.core.Conn(ch.info.Conn); err == nil {
		ch.d.startChild(c, ch.cfg, ch)
	}
}

// expire ends the IPsec SA at its lifetime: with a Delete while an ISAKMP SA owns it.
func (ch *ipsecSA) expire(reason string) {
	if ch.sa != nil && !ch.sa.deleted {
		ch.sa.deleteChild(ch, reason)
		return
	}
	ch.d.dropOrphan(ch)
	ch.down(reason)
}

func (ch *ipsecSA) stopTimers() {
	for _, t := range ch.timers {
		t.Stop()
	}
	ch.timers = nil
}

// down removes the IPsec SA pair from the host.
func (ch *ipsecSA) down(reason string) {
	if ch.state == ChildDestroyed {
		return
	}
	ch.stopTimers()
	ch.setState(ChildDestroyed)
	ch.d.core.ReleaseReqid(ch.reqid)
	if ch.bundle != nil {
		ch.d.env.Observer.ChildSADown(ch.bundle, reason)
	}
	ch.d.env.Observer.ChildSADown(ch.info, reason)
}

func (d *Daemon) dropOrphan(ch *ipsecSA) {
	for i, o := range d.orphans {
		if o == ch {
			d.orphans = append(d.orphans[:i], d.orphans[i+1:]...)
			return
		}
	}
}

// removeChild takes an IPsec SA off the ISAKMP SA and the host.
func (sa *isakmpSA) removeChild(ch *ipsecSA, reason string) {
	ch.down(reason)
	for i, c := range sa.children {
		if c == ch {
			sa.children = append(sa.children[:i], sa.children[i+1:]...)
			break
		}
	}
}

// deleteChild tells the peer that an IPsec SA pair is gone (a Delete with our inbound
// SPI, RFC 2408, Section 3.15) and removes it.
func (sa *isakmpSA) deleteChild(ch *ipsecSA, reason string) {
	if ch.state == ChildDestroyed || ch.state == ChildDeleting {
		return
	}
	ch.setState(ChildDeleting)
	proto := ProtoIPsecESP
	if ch.info.Protocol == ike.ProtoAH {
		proto = ProtoIPsecAH
	}
	sa.action("Delete %s: send an Informational with Delete(%s, SPI 0x%08x), our inbound SPI", ch.name(), proto, ch.spiIn)
	dels := []Payload{&Delete{DOI: DOIIPsec, Protocol: proto, SPISize: 4, SPIs: [][]byte{spiBytes(ch.spiIn)}}}
	if ch.bundle != nil {
		sa.action("and Delete(PROTO_IPSEC_AH, SPI 0x%08x) for the AH part of the bundle", ch.bundle.SPIIn)
		dels = append(dels, &Delete{DOI: DOIIPsec, Protocol: ProtoIPsecAH, SPISize: 4, SPIs: [][]byte{spiBytes(ch.bundle.SPIIn)}})
	}
	sa.sendInformational(dels)
	sa.removeChild(ch, reason)
}

// findChild finds an installed IPsec SA of the connection made with peer by its
// outbound SPI, on any of the peer's ISAKMP SAs (an older one the new one replaced) or
// among the orphans. Another peer on the same connection cannot reach it: strongSwan
// looks a deleted SPI up among the IKE SA's own Child SAs.
func (d *Daemon) findChild(c *ike.Connection, peer string, spiOut uint32) (*ipsecSA, *isakmpSA) {
	for _, sa := range d.byConn[c] {
		for _, ch := range sa.children {
			if ch.hasOutbound(spiOut) && ch.peer == peer && ch.state != ChildDestroyed {
				return ch, sa
			}
		}
	}
	for _, ch := range d.orphans {
		if ch.info.Conn == c.Name && ch.peer == peer && ch.hasOutbound(spiOut) {
			return ch, nil
		}
	}
	return nil, nil
}

// Traffic is what the IPsec SA carried, when the host counts it (ike.TrafficHost).
func (ch *ipsecSA) Traffic() (ike.Traffic, bool) {
	return daemon.Traffic(ch.d.env.Observer, ch.spiIn, ch.spiOut)
}

var _ ike.Expirer = (*Daemon)(nil)

// Expire acts on the host's word that an IPsec SA reached its volume lifetime: the
// kilobytes negotiated in quick mode (hard) or rekey_bytes, rekey_packets (soft; by
// default 90 % of the kilobytes, as the time rekey is at 90 % of the seconds). As with
// time, only the quick mode's initiator rekeys.
func (d *Daemon) Expire(spiIn uint32, hard bool) {
	var all []*ipsecSA
	for _, sa := range d.sas {
		all = append(all, sa.children...)
	}
	all = append(all, d.orphans...)
	for _, ch := range all {
		if ch.spiIn != spiIn || ch.state == ChildDestroyed {
			continue
		}
		if hard {
			d.action("%s reached its volume lifetime: delete it", ch.name())
			ch.expire("volume lifetime reached")
		} else if ch.initiator && ch.state == ChildInstalled {
			d.action("%s reached its rekey volume: negotiate its successor with a new Quick Mode", ch.name())
			ch.rekey()
		}
		return
	}
}
