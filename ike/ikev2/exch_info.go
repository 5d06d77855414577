package ikev2

import (
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/daemon"
)

// INFORMATIONAL (RFC 7296 1.4): HDR, SK {[N,] [D,] [CP,] ...}. An empty one is a
// liveness check (dead peer detection); Delete payloads close Child SAs or the IKE SA.

// liveness sends an empty INFORMATIONAL request.
func (sa *ikeSA) liveness() {
	if sa.state != stateEstablished {
		return
	}
	sa.d.action("Liveness check: send an empty INFORMATIONAL request; the peer must answer")
	sa.sendRequest(INFORMATIONAL, nil, func(*Message, []Payload) {
		sa.d.action("The peer answered the liveness check: it is alive")
	})
}

// deleteChildren deletes Child SAs with one Delete payload.
func (sa *ikeSA) deleteChildren(list []*childSA) {
	var live []*childSA
	var dels []Payload // one Delete per protocol, ESP first (RFC 7296, Section 3.11)
	for _, proto := range []ike.Protocol{ike.ProtoESP, ike.ProtoAH} {
		var spis [][]byte
		for _, ch := range list {
			if ch.state == "DESTROYED" || ch.state == "DELETING" || ch.protocol() != proto {
				continue
			}
			ch.setState("DELETING")
			spis = append(spis, spiBytes(ch.spiIn))
			live = append(live, ch)
		}
		if len(spis) > 0 {
			dels = append(dels, &Delete{Protocol: proto, SPISize: 4, SPIs: spis})
		}
	}
	if len(live) == 0 {
		return
	}
	sa.d.action("Delete %d Child SA(s): send Delete with our inbound SPI(s)", len(live))
	sa.sendRequest(INFORMATIONAL, dels, func(*Message, []Payload) {
		for _, ch := range live {
			ch.sa.removeChild(ch, "deleted")
		}
	})
	sa.markChildTask()
}

// deleteIKE deletes the IKE SA and with it every Child SA.
func (sa *ikeSA) deleteIKE() {
	if sa.state == stateDestroyed || sa.state == stateDeleting {
		return
	}
	sa.setState(stateDeleting)
	switch {
	case sa.rekeyed != nil:
		sa.d.action("Delete %s: send Delete for the old IKE SA (its Child SAs already moved to the new one)", sa.name())
	case len(sa.children) > 0:
		sa.d.action("Delete %s: send Delete for the IKE SA (its Child SAs go with it)", sa.name())
	default:
		sa.d.action("Delete %s: send Delete for the IKE SA", sa.name())
	}
	sa.sendRequest(INFORMATIONAL, []Payload{&Delete{Protocol: ike.ProtoIKE}}, func(*Message, []Payload) {
		sa.destroy("deleted")
	})
}

// respondInformational answers an INFORMATIONAL request.
func (sa *ikeSA) respondInformational(m *Message, inner []Payload) {
	d := sa.d
	id := m.Header.MessageID
	var resp []Payload
	var closed []*ike.ChildConfig // Child SAs the peer closed, not replaced
	defer func() { d.afterClose(sa.conn, closed) }()
	deleteIKE := false
	for _, p := range inner {
		switch p := p.(type) {
		case *Delete:
			switch p.Protocol {
			case ike.ProtoIKE:
				deleteIKE = true
			case ike.ProtoESP, ike.ProtoAH:
				var ours [][]byte
				for _, spi := range p.SPIs {
					v := spiValue(spi)
					if !sa.hasChildOut(v) {
						sa.rememberUnknownDelete(v)
					}
					for _, ch := range sa.children {
						if ch.spiOut == v && ch.state == "REKEYING" {
							// Our rekey of it is under way (strongSwan's child_rekey):
							// answer with our SPI. When the peer's own rekey of it made
							// a new SA, that one takes over now; else the SA stays until
							// our rekey's response settles it.
							ours = append(ours, spiBytes(ch.spiIn))
							if ch.collides() {
								d.action("Peer deletes %s, which its own rekey replaced while ours is under way: remove it; its new SA takes over", ch.name())
								sa.removeChild(ch, "deleted by peer")
							} else {
								d.action("Peer deletes %s while our rekey of it is under way: answer, and keep it until the rekey's response comes", ch.name())
								ch.peerDeleted = true
								ch.setState("DELETING")
							}
							break
						}
						if ch.spiOut == v && ch.state == "DELETING" && !ch.peerDeleted {
							// RFC 7296, Section 1.4.1: deletes that cross. The response
							// must not name the SA again; the response to our own Delete
							// removes it.
							d.action("Peer deletes %s, which we are deleting too: our answer does not name it again (RFC 7296, Section 1.4.1); the answer to our Delete removes it",
								ch.name())
							break
						}
						if ch.spiOut == v && ch.state != "DESTROYED" {
							ours = append(ours, spiBytes(ch.spiIn))
							d.action("Peer deletes the Child SA with our outbound SPI 0x%08x: delete ours (inbound 0x%08x) too", v, ch.spiIn)
							replaced := ch.state == "REKEYED" || sa.childReplaced(ch)
							sa.removeChild(ch, "deleted by peer")
							if !replaced {
								closed = append(closed, ch.cfg)
							}
							break
						}
					}
				}
				if len(ours) > 0 {
					resp = append(resp, &Delete{Protocol: p.Protocol, SPISize: 4, SPIs: ours})
				}
			}
		case *Notify:
			if p.Type.IsError() {
				d.failure(sa, "", p.Type, ike.FailPeerNotify, "%s: peer reports %s", sa.name(), p.Type)
			}
		}
	}
	if len(inner) == 0 {
		d.action("Liveness check from the peer: answer with an empty INFORMATIONAL response")
	}
	if deleteIKE && sa.state == stateRekeying && sa.passive != nil && sa.passive.state != stateDestroyed {
		// The peer's crossing rekey won and our own request is lost or late:
		// strongSwan's ike_rekey adopts the peer's new IKE SA on this Delete.
		d.action("Peer deletes %s, which its crossing rekey replaced: move to %s; our own rekey is void", sa.name(), sa.passive.name())
		sa.adopt(sa.passive)
	}
	if deleteIKE && sa.state == stateRekeyed {
		if sa.rekeyed != nil {
			d.action("Peer deletes the old %s: answer, then remove it (its Child SAs are on %s)", sa.name(), sa.rekeyed.name())
		} else {
			d.action("Peer deletes %s, redundant after a rekey collision: answer, then remove it", sa.name())
		}
		sa.sendResponse(INFORMATIONAL, id, nil)
		sa.destroy("deleted by peer")
		return
	}
	if deleteIKE {
		d.action("Peer deletes %s: answer, then remove it and all its Child SAs", sa.name())
		sa.sendResponse(INFORMATIONAL, id, nil)
		children := sa.childConfigs()
		sa.destroy("deleted by peer")
		d.afterClose(sa.conn, children)
		return
	}
	sa.sendResponse(INFORMATIONAL, id, resp)
}

// armTimers starts the IKE SA's liveness, rekey, lifetime and NAT keep-alive timers.
func (sa *ikeSA) armTimers() {
	c := sa.conn
	if c.DPDDelay > 0 {
		// strongSwan's send_dpd: a probe only after dpd_delay with nothing received,
		// IKE or ESP (RFC 7296, Section 2.4); otherwise look again when that much
		// silence could have passed.
		var dpd func()
		dpd = func() {
			if sa.state != stateEstablished {
				return
			}
			quiet := sa.d.env.Clock.Now().Sub(sa.lastHeard())
			if quiet < c.DPDDelay {
				sa.startTimer("DPD", c.DPDDelay-quiet, dpd)
				return
			}
			if sa.outstanding == nil {
				sa.d.action("Nothing heard from the peer for %s, neither IKE nor ESP: dead peer detection", quiet.Round(time.Millisecond))
				sa.queueRequest(sa.liveness)
			}
			sa.startTimer("DPD", c.DPDDelay, dpd)
		}
		sa.startTimer("DPD", c.DPDDelay, dpd)
	}
	if c.RekeyTime > 0 && sa.initiator {
		sa.startTimer("IKE SA rekey", c.RekeyTime, func() {
			sa.d.action("Rekey time of %s reached: rekey it", sa.name())
			sa.queueRequest(sa.rekeyIKE)
		})
	}
	if c.ReauthTime > 0 && sa.initiator {
		sa.startTimer("IKE SA reauthentication", c.ReauthTime, func() {
			sa.queueRequest(sa.reauth)
		})
	}
	if c.LifeTime > 0 {
		sa.startTimer("IKE SA lifetime", c.LifeTime, func() {
			sa.d.action("Hard lifetime of %s expired", sa.name())
			sa.queueRequest(sa.deleteIKE)
		})
	}
	if sa.natLocal {
		daemon.Keepalive{Every: c.Keepalive, LastSent: sa.lastSent,
			Gone: func() bool { return sa.state == stateDestroyed || sa.state == stateRekeyed },
			Send: func(quiet, _ time.Duration) {
				sa.d.action("Behind a NAT and nothing sent for %s: send a NAT-keepalive to keep the mapping alive", quiet.Round(time.Millisecond))
				sa.d.env.Transport.SendKeepalive(sa.local, sa.remote)
				sa.lastOut = sa.d.env.Clock.Now()
			}}.Arm(&sa.timers)
	}
}

// lastHeard is when the peer was last heard from: an IKE message, or ESP on a Child
// SA, as far as the host counts it.
func (sa *ikeSA) lastHeard() time.Time { return daemon.LastHeard(sa.lastIn, sa.children) }

// lastSent is when this side last sent the peer anything: an IKE message, a NAT
// keep-alive, or ESP on a Child SA.
func (sa *ikeSA) lastSent() time.Time { return daemon.LastSent(sa.lastOut, sa.children) }

// hasChildOut says whether a Child SA of the IKE SA has this outbound SPI.
func (sa *ikeSA) hasChildOut(spi uint32) bool {
	for _, ch := range sa.children {
		if ch.spiOut == spi && ch.state != "DESTROYED" {
			return true
		}
	}
	return false
}

// childConfigs lists the configurations of the SA's Child SAs.
func (sa *ikeSA) childConfigs() []*ike.ChildConfig {
	var out []*ike.ChildConfig
	for _, ch := range sa.children {
		if ch.state != "DESTROYED" {
			out = append(out, ch.cfg)
		}
	}
	return out
}

// childReplaced says whether another SA of the child's configuration is up: the one
// deleted was replaced (a rekey collision's redundant SA, or the old SA of a rekey).
func (sa *ikeSA) childReplaced(ch *childSA) bool {
	for _, o := range sa.children {
		if o != ch && o.cfg == ch.cfg && (o.state == "INSTALLED" || o.state == "REKEYING") {
			return true
		}
	}
	return false
}

// afterDeath applies the children's dpd_action once the peer stopped answering an
// established IKE SA (strongSwan's reestablish): restart sets them up again at once;
// with trap the host kept their policies as a trap (ChildSAInfo.TrapOnEnd), and with
// clear they went with the SAs.
func (d *Daemon) afterDeath(c *ike.Connection, children []*ike.ChildConfig) {
	for _, ch := range children {
		switch ch.DPDAction {
		case "restart":
			d.action("dpd_action restart: set up Child SA %s again", ch.Name)
			d.startChild(c, ch)
		case "trap":
			d.action("dpd_action trap: Child SA %s comes back when traffic matches its policy", ch.Name)
		}
	}
}

// afterClose applies the children's close_action once the peer closed them or their
// IKE SA: start sets them up again; trap leaves it to their policies, which the host
// kept as a trap (ChildSAInfo.TrapOnEnd).
func (d *Daemon) afterClose(c *ike.Connection, children []*ike.ChildConfig) {
	for _, ch := range children {
		switch ch.CloseAction {
		case "start":
			d.action("close_action start: set up Child SA %s again", ch.Name)
			d.startChild(c, ch)
		case "trap":
			d.action("close_action trap: Child SA %s comes back when traffic matches its policy", ch.Name)
		}
	}
}
