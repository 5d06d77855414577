package ikev2

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// CREATE_CHILD_SA (RFC 7296 1.3):
//
//	new Child SA:    HDR, SK {SA, Ni, [KEi], TSi, TSr}
//	rekey Child SA:  HDR, SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr}
//	rekey IKE SA:    HDR, SK {SA, Ni, KEi}
//	                                  <--  HDR, SK {SA, Nr, [KEr], [TSi, TSr]}

// createChild negotiates a new Child SA, or rekeys old when it is given.
func (sa *ikeSA) createChild(cfg *ike.ChildConfig, old *childSA) {
	d := sa.d
	if sa.state != stateEstablished {
		return
	}
	if old != nil && (old.state != "INSTALLED" || old.sa != sa) {
		return
	}
	spi := d.core.SPI32()
	ni := d.core.Random(nonceSize)
	var priv ike.DHPrivate
	var ps []Payload
	if old != nil {
		old.setState("REKEYING")
		ps = append(ps, &Notify{Type: REKEY_SA, Protocol: old.protocol(), SPI: spiBytes(old.spiIn)})
		d.action("Rekey %s: propose a new Child SA that replaces inbound SPI 0x%08x", old.name(), old.spiIn)
	}
	if cfg.Transport {
		ps = append(ps, &Notify{Type: USE_TRANSPORT_MODE})
	}
	ps = append(ps, NewSA(spiBytes(spi), cfg.ESPProposals...), &Nonce{Data: ni})
	if g := firstGroup(cfg.ESPProposals); g != 0 {
		grp := ike.DH(g)
		if grp == nil {
			d.failure(sa, "", 0, ike.FailConfig, "%s: unknown DH group %d in ESP proposals", sa.name(), g)
			return
		}
		var err error
		if priv, err = grp.Generate(d.env.Rand); err != nil {
			d.failure(sa, "", 0, ike.FailInternal, "%s: Diffie-Hellman: %v", sa.name(), err)
			return
		}
		ps = append(ps, &KE{Group: g, Data: priv.Public()})
		d.action("PFS: generate a fresh Diffie-Hellman value for group %s (KEi)", grp.Name)
	}
	local, remote := sa.dynamicTS(cfg.LocalTS, true), sa.dynamicTS(cfg.RemoteTS, false)
	if old != nil {
		local, remote = old.localTS, old.remoteTS
	}
	ps = append(ps, toWireTS(local, false), toWireTS(remote, true))
	d.action("Propose Child SA %s with inbound SPI 0x%08x and nonce Ni", cfg.Name, spi)
	sa.sendRequest(CREATE_CHILD_SA, ps, func(m *Message, inner []Payload) {
		failed := func() {
			if old != nil {
				sa.settleRekey(old, nil, 0)
			}
		}
		var gir []byte
		if priv != nil {
			ke := payloadOf[*KE](inner)
			if ke == nil {
				if n := errorNotify(inner); n == nil {
					d.failure(sa, "", 0, ike.FailMalformed, "%s: CREATE_CHILD_SA response lacks KEr although PFS was proposed", sa.name())
					failed()
					return
				}
			} else if g := firstGroup(cfg.ESPProposals); ke.Group != g {
				d.failure(sa, cfg.Name, 0, ike.FailMalformed, "%s: CREATE_CHILD_SA response: KEr of group %d, our KEi is of group %d", sa.name(), ke.Group, g)
				failed()
				return
			} else {
				var err error
				if gir, err = priv.Shared(ke.Data); err != nil {
					d.failure(sa, "", 0, ike.FailInternal, "%s: PFS Diffie-Hellman failed: %v", sa.name(), err)
					failed()
					return
				}
			}
		}
		nr := noncePayload(inner)
		if nr == nil && errorNotify(inner) == nil {
			d.failure(sa, "", 0, ike.FailMalformed, "%s: CREATE_CHILD_SA response lacks Nr", sa.name())
			failed()
			return
		}
		var nrData []byte
		if nr != nil {
			nrData = nr.Data
		}
		n, refused := sa.finishChild(inner, cfg, spi, ni, nrData, gir, old)
		if old != nil {
			sa.settleRekey(old, n, refused)
		} else if refused == TEMPORARY_FAILURE {
			sa.retryLater("create "+cfg.Name, func(cur *ikeSA) { cur.createChild(cfg, nil) })
		}
	})
	sa.markChildTask()
}

// duplicateChild says whether a child of this configuration is already up on the SA.
func (sa *ikeSA) duplicateChild(cfg *ike.ChildConfig) bool {
	for _, ch := range sa.children {
		if ch.cfg == cfg && (ch.state == "INSTALLED" || ch.state == "REKEYING") {
			return true
		}
	}
	return false
}

// settleRekey decides what becomes of old once the response to this side's rekey of it
// has come: n is the new SA (nil: none was made) and refused the error notify the
// responder sent. It follows RFC 7296, Sections 2.8.1 and 2.25.1, and strongSwan's
// child_rekey where the RFC leaves a choice:
//   - a collision (the peer rekeyed old meanwhile): the new SA with the lowest nonce is
//     redundant. The winner deletes old; the loser deletes its own new SA and waits for
//     the winner's Delete of old;
//   - the peer deleted old meanwhile: old goes without a Delete of our own;
//   - TEMPORARY_FAILURE: try again later, unless the peer's rekey or delete explains it;
//   - CHILD_SA_NOT_FOUND: the peer lost old; it goes, and a new SA replaces it, unless
//     the peer's own rekey already replaced it.
func (sa *ikeSA) settleRekey(old, n *childSA, refused NotifyType) {
	d := sa.d
	gone := old.state == "DESTROYED"
	// The peer may have deleted the new SA before its response reached us (we answered
	// that Delete empty, not knowing the SPI yet): it is gone already.
	if n != nil && sa.deletedEarly(n.spiOut) {
		d.action("The peer deleted our new SA %s before its CREATE_CHILD_SA response arrived: remove it", n.name())
		lost := old.passive != nil && collisionLost(n.ni, n.nr, old.passive)
		n.sa.removeChild(n, "deleted by peer")
		if !lost && !gone {
			// Nothing replaces old now; it goes as it would have after the rekey.
			if old.peerDeleted {
				old.sa.removeChild(old, "deleted by peer")
			} else {
				old.setState("REKEYED")
				sa.queueRequest(func() { old.sa.deleteChildren([]*childSA{old}) })
			}
		} else if !gone {
			old.setState("REKEYED")
		}
		return
	}
	switch {
	case n != nil && old.passive != nil:
		// A collision, even if the peer's new SA is gone meanwhile: the nonces decide.
		p := old.passive
		d.action("Rekey collision on %s: our new SA %s has nonces %s, the peer's %s has %s", old.name(), n.name(), nonces(n.ni, n.nr), p.name(), nonces(p.ni, p.nr))
		if collisionLost(n.ni, n.nr, p) {
			d.action("Rekey collision on %s: the lowest nonce is in our new SA %s, so it is redundant: delete it and keep the peer's %s (RFC 7296, Section 2.8.1)",
				old.name(), n.name(), p.name())
			if !gone {
				old.setState("REKEYED") // the peer, which won, deletes it
			}
			n.setState("REKEYED")
			sa.queueRequest(func() { n.sa.deleteChildren([]*childSA{n}) })
			return
		}
		d.action("Rekey collision on %s: the lowest nonce is in the peer's new SA %s, so ours, %s, survives: delete the old SA; the peer deletes its redundant one (RFC 7296, Section 2.8.1)",
			old.name(), p.name(), n.name())
		if p.state != "DESTROYED" {
			p.setState("REKEYED")
		}
		switch {
		case gone:
		case old.peerDeleted:
			old.sa.removeChild(old, "deleted by peer")
		default:
			old.setState("REKEYED")
			sa.queueRequest(func() { old.sa.deleteChildren([]*childSA{old}) })
		}
	case n != nil && (gone || old.peerDeleted):
		d.action("The peer already deleted %s: the new SA %s replaces it, with no Delete of our own", old.name(), n.name())
		if !gone {
			old.sa.removeChild(old, "deleted by peer")
		}
	case n != nil:
		old.setState("REKEYED")
		sa.queueRequest(func() { old.sa.deleteChildren([]*childSA{old}) })
	case gone:
	case old.collides():
		d.action("Our rekey of %s failed (%s), but the peer's rekey replaced it: wait for the peer's Delete of the old SA", old.name(), notifyName(refused))
		old.setState("REKEYED")
	case old.peerDeleted:
		d.action("Our rekey of %s failed (%s) and the peer deleted it: remove it", old.name(), notifyName(refused))
		old.sa.removeChild(old, "deleted by peer")
	case refused == CHILD_SA_NOT_FOUND:
		d.failure(sa, old.cfg.Name, CHILD_SA_NOT_FOUND, ike.FailPeerNotify, "%s: the peer has no %s any more (CHILD_SA_NOT_FOUND): remove it and create it anew", sa.name(), old.name())
		cfg := old.cfg
		old.sa.removeChild(old, "the peer lost it")
		sa.queueRequest(func() { sa.createChild(cfg, nil) })
	case refused == TEMPORARY_FAILURE:
		old.setState("INSTALLED")
		sa.retryLater("rekey "+old.name(), func(cur *ikeSA) { cur.createChild(old.cfg, old) })
	default:
		old.setState("INSTALLED")
	}
}

// deletedEarly says whether the peer deleted the SA with this outbound SPI of ours
// while it was unknown here (rememberUnknownDelete).
func (sa *ikeSA) deletedEarly(spiOut uint32) bool { return slices.Contains(sa.unknownDeletes, spiOut) }

// maxUnknownDeletes bounds the record of Deletes of SPIs this side did not know.
const maxUnknownDeletes = 8

// rememberUnknownDelete notes a Delete for an SPI this side does not know, while one of
// its own rekeys is under way: it may name the new SA whose response is still on its
// way (strongSwan's child_rekey handles the same case).
func (sa *ikeSA) rememberUnknownDelete(spi uint32) {
	rekeying := false
	for _, ch := range sa.children {
		rekeying = rekeying || ch.state == "REKEYING" || ch.state == "DELETING" && ch.peerDeleted
	}
	if !rekeying {
		return
	}
	if len(sa.unknownDeletes) == maxUnknownDeletes {
		sa.unknownDeletes = sa.unknownDeletes[1:]
	}
	sa.unknownDeletes = append(sa.unknownDeletes, spi)
}

func notifyName(n NotifyType) string {
	if n == 0 {
		return "no usable response"
	}
	return n.String()
}

// Retrying after TEMPORARY_FAILURE: strongSwan's child_create and ike_rekey wait 15 s
// less a random jitter of up to 10 s, so that two peers do not collide again.
const (
	retryInterval = 15 * time.Second
	retryJitter   = 10 * time.Second
)

// retryLater runs f after the retry interval, on the IKE SA that is current then (a
// rekey may have replaced sa meanwhile).
func (sa *ikeSA) retryLater(what string, f func(cur *ikeSA)) {
	var b [2]byte
	io.ReadFull(sa.d.env.Rand, b[:])
	wait := retryInterval - time.Duration(binary.BigEndian.Uint16(b[:]))*retryJitter/65536
	sa.d.action("The peer answered TEMPORARY_FAILURE: %s again in %s (RFC 7296, Section 2.25)", what, wait.Round(time.Millisecond))
	sa.d.env.Clock.AfterFunc(wait, "retry "+what, func() {
		cur := sa
		for cur.rekeyed != nil {
			cur = cur.rekeyed
		}
		if cur.state == stateDestroyed || cur.state == stateDeleting || cur.state == stateRekeyed {
			return
		}
		cur.queueRequest(func() { f(cur) })
	})
}

// respondCreateChild answers a CREATE_CHILD_SA request.
func (sa *ikeSA) respondCreateChild(m *Message, inner []Payload) {
	d := sa.d
	id := m.Header.MessageID
	sap, ni := payloadOf[*SA](inner), noncePayload(inner)
	if sap == nil || ni == nil || len(sap.Proposals) == 0 {
		sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&Notify{Type: INVALID_SYNTAX}})
		d.failure(sa, "", 0, ike.FailMalformed, "%s: CREATE_CHILD_SA request lacks SA or Ni", sa.name())
		return
	}
	// While this side rekeys or deletes the IKE SA it creates and rekeys nothing, as
	// strongSwan answers (child_create, ike_rekey): TEMPORARY_FAILURE (RFC 7296,
	// Section 2.25). RFC 7296, Section 2.8.2 would have a rekey collision answered and
	// settled by the nonces; this engine does not, and only the original initiator
	// rekeys by time, so two ikesim nodes do not collide.
	rekeyIKE := sap.Proposals[0].Protocol == ike.ProtoIKE
	// RFC 7296, Section 2.8.2: an IKE SA rekey that crosses ours is answered, and the
	// nonces settle which new IKE SA survives when our response comes.
	collision := rekeyIKE && sa.state == stateRekeying && sa.passive == nil
	if (sa.state == stateRekeying || sa.state == stateDeleting) && !collision {
		sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&Notify{Type: TEMPORARY_FAILURE}})
		d.action("CREATE_CHILD_SA request while %s is %s: answer TEMPORARY_FAILURE, the peer may try again later",
			sa.name(), sa.state)
		return
	}
	if rekeyIKE && sa.outstanding != nil && sa.outstanding.childTask {
		// strongSwan's ike_rekey: no IKE SA rekey while a Child SA is being created,
		// rekeyed or deleted (RFC 7296, Section 2.25.2).
		sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&Notify{Type: TEMPORARY_FAILURE}})
		d.action("Peer rekeys %s while our Child SA exchange is under way: answer TEMPORARY_FAILURE", sa.name())
		return
	}
	if rekeyIKE {
		sa.respondRekeyIKE(id, sap, ni, payloadOf[*KE](inner), collision)
		return
	}
	var old *childSA
	collision = false
	if n := notifyIn(inner, REKEY_SA); n != nil {
		spi := spiValue(n.SPI)
		for _, ch := range sa.children {
			if ch.spiOut != spi || ch.state == "DESTROYED" {
				continue
			}
			switch {
			case ch.state == "REKEYING" && !ch.collides():
				// RFC 7296, Section 2.8.1: a rekey collision. Answer it as usual; our
				// own response settles which new SA survives.
				old, collision = ch, true
			case ch.state == "INSTALLED":
				old = ch
			default:
				// Being deleted, or already rekeyed: RFC 7296, Section 2.25.1;
				// strongSwan's child_rekey answers so too.
				sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&Notify{Type: TEMPORARY_FAILURE}})
				d.action("Peer rekeys %s, which is %s here: answer TEMPORARY_FAILURE", ch.name(), strings.ToLower(ch.state))
				return
			}
		}
		if old == nil {
			sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&Notify{Type: CHILD_SA_NOT_FOUND, Protocol: n.Protocol, SPI: n.SPI}})
			// Not a failure here: the SA may be gone by a Delete the peer has yet to see.
			d.action("Peer rekeys a Child SA we do not have (our outbound SPI 0x%08x): answer CHILD_SA_NOT_FOUND", spi)
			return
		}
		if collision {
			d.action("Peer rekeys %s while our own rekey of it is under way: a collision; answer it, and the nonces settle which new SA survives (RFC 7296, Section 2.8.1)", old.name())
		} else {
			d.action("Peer rekeys %s (our outbound SPI 0x%08x)", old.name(), spi)
		}
	}
	nr := d.core.Random(nonceSize)
	var gir []byte
	var kePs []Payload
	ke := payloadOf[*KE](inner)
	if ke != nil {
		grp := ike.DH(ke.Group)
		var cfgProps []ike.Proposal
		if old != nil {
			cfgProps = old.cfg.ESPProposals
		} else if cfg, _, _ := sa.pickChildConfig(fromWireTS(tsPayload(inner, false)), fromWireTS(tsPayload(inner, true))); cfg != nil {
			cfgProps = cfg.ESPProposals
		}
		if want := firstGroup(cfgProps); grp == nil || (want != 0 && want != ke.Group) {
			var data [2]byte
			binary.BigEndian.PutUint16(data[:], want)
			sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&Notify{Type: INVALID_KE_PAYLOAD, Data: data[:]}})
			d.failure(sa, "", INVALID_KE_PAYLOAD, ike.FailRefused, "%s: CREATE_CHILD_SA KE group %d not accepted (want %d)", sa.name(), ke.Group, want)
			return
		}
		priv, err := grp.Generate(d.env.Rand)
		if err == nil {
			gir, err = priv.Shared(ke.Data)
		}
		if err != nil {
			sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&Notify{Type: INVALID_SYNTAX}})
			d.failure(sa, "", 0, ike.FailInternal, "%s: PFS Diffie-Hellman failed: %v", sa.name(), err)
			return
		}
		kePs = []Payload{&KE{Group: ke.Group, Data: priv.Public()}}
		d.action("PFS: generate a fresh Diffie-Hellman value for group %s (KEr) and compute the new g^ir", grp.Name)
	}
	saPs, tsPs, install := sa.acceptChild(inner, ni.Data, nr, gir, old, ke != nil)
	if install == nil {
		sa.sendResponse(CREATE_CHILD_SA, id, saPs)
		return
	}
	ps := append(append(append(saPs, &Nonce{Data: nr}), kePs...), tsPs...)
	sa.sendResponse(CREATE_CHILD_SA, id, ps)
	n := install()
	switch {
	case n == nil || old == nil:
	case collision:
		old.passive = n // old stays REKEYING until our own response comes
	default:
		old.setState("REKEYED")
	}
}

// rekeyIKE rekeys the IKE SA itself (RFC 7296 2.18).
func (sa *ikeSA) rekeyIKE() {
	d := sa.d
	if sa.state != stateEstablished {
		return
	}
	newSPI := d.spi64()
	ni := d.core.Random(nonceSize)
	priv, err := sa.dh.Generate(d.env.Rand)
	if err != nil {
		d.failure(sa, "", 0, ike.FailInternal, "%s: Diffie-Hellman: %v", sa.name(), err)
		return
	}
	sa.setState(stateRekeying)
	d.action("Rekey the IKE SA: propose new SPI %016x, a fresh nonce and Diffie-Hellman value", newSPI)
	spiB := make([]byte, 8)
	binary.BigEndian.PutUint64(spiB, newSPI)
	ps := []Payload{NewSA(spiB, sa.conn.Proposals...), &Nonce{Data: ni}, &KE{Group: sa.dh.ID, Data: priv.Public()}}
	sa.sendRequest(CREATE_CHILD_SA, ps, func(m *Message, inner []Payload) {
		if n := errorNotify(inner); n != nil {
			if p := sa.passive; p != nil && p.state != stateDestroyed {
				// strongSwan's ike_rekey: the peer's rekey, which we answered, won.
				d.action("Our IKE SA rekey was refused (%s), but the peer's crossing rekey made %s: adopt it", n.Type, p.name())
				sa.adopt(p)
				return
			}
			sa.setState(stateEstablished)
			if n.Type == TEMPORARY_FAILURE {
				sa.retryLater("rekey "+sa.name(), func(cur *ikeSA) { cur.rekeyIKE() })
				return
			}
			d.failure(sa, "", n.Type, ike.FailPeerNotify, "%s: IKE SA rekey failed: responder says %s", sa.name(), n.Type)
			return
		}
		sap, nr, ke := payloadOf[*SA](inner), noncePayload(inner), payloadOf[*KE](inner)
		if sap == nil || nr == nil || ke == nil || len(sap.Proposals) != 1 || len(sap.Proposals[0].SPI) != 8 {
			d.failure(sa, "", 0, ike.FailMalformed, "%s: IKE SA rekey response lacks SA, Nr or KEr", sa.name())
			sa.setState(stateEstablished)
			return
		}
		// RFC 7296, Sections 1.3.2 and 2.7: the responder accepts one of the proposals
		// offered, and its KEr is of the group of our KEi, which that proposal names.
		chosen := sap.Proposals[0].IKE()
		if _, _, ok := ike.SelectProposal([]ike.Proposal{chosen}, sa.conn.Proposals); !ok {
			d.failure(sa, "", 0, ike.FailMalformed, "%s: IKE SA rekey: the responder chose %s, which we did not offer", sa.name(), chosen)
			sa.setState(stateEstablished)
			return
		}
		if g, _ := pickTransform(chosen, ike.TransformDH); ke.Group != sa.dh.ID || g.ID != sa.dh.ID {
			d.failure(sa, "", 0, ike.FailMalformed, "%s: IKE SA rekey: the responder's KEr uses group %d and its proposal group %d, not our %d",
				sa.name(), ke.Group, g.ID, sa.dh.ID)
			sa.setState(stateEstablished)
			return
		}
		gir, err := priv.Shared(ke.Data)
		if err != nil {
			d.failure(sa, "", 0, ike.FailInternal, "%s: IKE SA rekey Diffie-Hellman failed: %v", sa.name(), err)
			sa.setState(stateEstablished)
			return
		}
		n := sa.rekeyedSA(true, newSPI, binary.BigEndian.Uint64(sap.Proposals[0].SPI), chosen, ni, nr.Data, gir)
		if n == nil {
			return
		}
		if p := sa.passive; p != nil && p.state != stateDestroyed {
			d.action("IKE SA rekey collision: our new %s has nonces %s, the peer's %s has %s", n.name(), nonces(n.ni, n.nr), p.name(), nonces(p.ni, p.nr))
			if lowestIn(n.ni, n.nr, p.ni, p.nr) {
				d.action("IKE SA rekey collision: the lowest nonce is in our new %s, so it is redundant: move to the peer's %s and delete ours; the peer deletes the old one (RFC 7296, Section 2.8.2)",
					n.name(), p.name())
				sa.adopt(p)
				n.queueRequest(n.deleteIKE)
				return
			}
			d.action("IKE SA rekey collision: the lowest nonce is in the peer's new %s, so ours, %s, survives: delete the old IKE SA; the peer deletes its redundant one (RFC 7296, Section 2.8.2)",
				p.name(), n.name())
			p.setState(stateRekeyed)
			// strongSwan deletes the redundant SA itself if the peer never does.
			p.startTimer("redundant IKE SA", redundantIKEWait, func() {
				if p.state == stateRekeyed {
					d.action("The peer never deleted its redundant %s: remove it", p.name())
					p.destroy("redundant after a rekey collision")
				}
			})
		}
		sa.adopt(n)
		sa.queueRequest(sa.deleteIKE)
	})
}

// redundantIKEWait is how long the winner of an IKE SA rekey collision waits for the
// loser to delete its redundant IKE SA.
const redundantIKEWait = 30 * time.Second

// respondRekeyIKE answers the peer's IKE SA rekey.
// In a collision (RFC 7296, Section 2.8.2) the new IKE SA waits, unused, for our own
// response to settle which one survives.
func (sa *ikeSA) respondRekeyIKE(id uint32, sap *SA, ni *Nonce, ke *KE, collision bool) {
	d := sa.d
	chosen, idx, ok := ike.SelectProposal(sap.IKEProposals(), sa.conn.Proposals)
	if !ok || ke == nil {
		sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&Notify{Type: NO_PROPOSAL_CHOSEN}})
		d.failure(sa, "", NO_PROPOSAL_CHOSEN, ike.FailRefused, "%s: IKE SA rekey: NO_PROPOSAL_CHOSEN", sa.name())
		return
	}
	g, _ := pickTransform(chosen, ike.TransformDH)
	grp := ike.DH(g.ID)
	if ke.Group != g.ID || grp == nil {
		var data [2]byte
		binary.BigEndian.PutUint16(data[:], g.ID)
		sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&Notify{Type: INVALID_KE_PAYLOAD, Data: data[:]}})
		return
	}
	priv, err := grp.Generate(d.env.Rand)
	var gir []byte
	if err == nil {
		gir, err = priv.Shared(ke.Data)
	}
	if err != nil || len(sap.Proposals[idx].SPI) != 8 {
		sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&Notify{Type: INVALID_SYNTAX}})
		return
	}
	newSPI := d.spi64()
	nr := d.core.Random(nonceSize)
	spiB := make([]byte, 8)
	binary.BigEndian.PutUint64(spiB, newSPI)
	d.action("Peer rekeys the IKE SA: accept %s with new responder SPI %016x", chosen, newSPI)
	sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&SA{Proposals: []*Proposal{NewProposal(sap.Proposals[idx].Number, spiB, chosen)}},
		&Nonce{Data: nr}, &KE{Group: g.ID, Data: priv.Public()}})
	n := sa.rekeyedSA(false, binary.BigEndian.Uint64(sap.Proposals[idx].SPI), newSPI, chosen, ni.Data, nr, gir)
	if n == nil {
		return
	}
	if collision {
		d.action("The peer rekeys %s while our own rekey of it is under way: a collision; %s waits until our response settles it (RFC 7296, Section 2.8.2)",
			sa.name(), n.name())
		sa.passive = n
		return
	}
	sa.setState(stateRekeying)
	sa.adopt(n)
}

// rekeyedSA makes the IKE SA that replaces sa: new SPIs and keys from
// SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), and moves the children to it. The
// side that initiated the rekey is the new SA's original initiator.
func (sa *ikeSA) rekeyedSA(initiator bool, spiI, spiR uint64, p ike.Proposal, ni, nr, gir []byte) *ikeSA {
	d := sa.d
	n := d.newSA(sa.conn, initiator, sa.local, sa.remote)
	n.spiI, n.spiR = spiI, spiR
	n.natLocal, n.natRemote = sa.natLocal, sa.natRemote
	n.ownVIP, n.peerVIP = sa.ownVIP, sa.peerVIP // the addresses stay with the peers
	n.ext = sa.ext.rekeyed()                    // hook (auth.go): fragmentation and the peer's identity carry over
	if n.peerVIP.IsValid() {
		d.leases[n.peerVIP] = n
	}
	if err := n.setTransforms(p); err != nil {
		d.failure(sa, "", 0, ike.FailInternal, "%s: %v", sa.name(), err)
		return nil
	}
	n.ni, n.nr = ni, nr
	skeyseed := ike.RekeySKEYSEED(sa.prf, sa.keys.SKd, gir, ni, nr)
	n.keys = ike.DeriveIKEKeys(n.prf, skeyseed, ni, nr, spiI, spiR, n.encr, n.encrBits, n.integ)
	d.action("Generate the new SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) and derive the new IKE SA's keys")
	d.sas[n.mySPI()] = n
	n.lastIn, n.lastOut = sa.lastIn, sa.lastOut
	n.setState(stateEstablished)
	d.peers.add(n) // hook (exch_auth.go): for checkUnique
	info := n.info()
	info.RekeyOf = sa.spiI
	d.env.Observer.IKESAUp(info)
	return n
}

// adopt makes n, an IKE SA rekeying sa, the one in use: the Child SAs move to it and
// their timers act on it (a rekey that turned the roles round moves the rekey timers
// too), and sa waits for its Delete.
func (sa *ikeSA) adopt(n *ikeSA) {
	n.children = append(n.children, sa.children...)
	for _, ch := range sa.children {
		ch.sa = n
		ch.rearmRekey()
	}
	sa.children = nil
	sa.rekeyed = n
	sa.setState(stateRekeyed)
	sa.d.action("%s replaces %s; its Child SAs move to it", n.name(), sa.name())
	n.armTimers()
}

// nonces shows the first bytes of an exchange's two nonces, enough to see which is
// lowest.
func nonces(ni, nr []byte) string {
	short := func(b []byte) string { return fmt.Sprintf("%x…", b[:min(4, len(b))]) }
	return "Ni " + short(ni) + " and Nr " + short(nr)
}
