package ikev2

import (
	"encoding/binary"
	"strings"

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
	if old != nil && old.state != "INSTALLED" {
		return
	}
	spi := d.spi32()
	ni := d.nonce(nonceSize)
	var priv ike.DHPrivate
	var ps []Payload
	if old != nil {
		old.setState("REKEYING")
		ps = append(ps, &Notify{Type: REKEY_SA, Protocol: ike.ProtoESP, SPI: spiBytes(old.spiIn)})
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
		var gir []byte
		if priv != nil {
			ke := payloadOf[*KE](inner)
			if ke == nil {
				if n := errorNotify(inner); n == nil {
					d.failure(sa, "", 0, ike.FailMalformed, "%s: CREATE_CHILD_SA response lacks KEr although PFS was proposed", sa.name())
					return
				}
			} else if g := firstGroup(cfg.ESPProposals); ke.Group != g {
				d.failure(sa, cfg.Name, 0, ike.FailMalformed, "%s: CREATE_CHILD_SA response: KEr of group %d, our KEi is of group %d", sa.name(), ke.Group, g)
				if old != nil && old.state == "REKEYING" {
					old.setState("INSTALLED")
				}
				return
			} else {
				var err error
				if gir, err = priv.Shared(ke.Data); err != nil {
					d.failure(sa, "", 0, ike.FailInternal, "%s: PFS Diffie-Hellman failed: %v", sa.name(), err)
					return
				}
			}
		}
		nr := noncePayload(inner)
		if nr == nil && errorNotify(inner) == nil {
			d.failure(sa, "", 0, ike.FailMalformed, "%s: CREATE_CHILD_SA response lacks Nr", sa.name())
			return
		}
		var nrData []byte
		if nr != nil {
			nrData = nr.Data
		}
		sa.finishChild(inner, cfg, spi, ni, nrData, gir, old)
		if old != nil && old.state == "REKEYING" {
			old.setState("REKEYED")
			sa.queueRequest(func() { sa.deleteChildren([]*childSA{old}) })
		}
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
	if sa.state == stateRekeying || sa.state == stateDeleting {
		sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&Notify{Type: TEMPORARY_FAILURE}})
		d.action("CREATE_CHILD_SA request while %s is %s: answer TEMPORARY_FAILURE, the peer may try again later",
			sa.name(), sa.state)
		return
	}
	if sap.Proposals[0].Protocol == ike.ProtoIKE {
		sa.respondRekeyIKE(id, sap, ni, payloadOf[*KE](inner))
		return
	}
	var old *childSA
	if n := notifyIn(inner, REKEY_SA); n != nil {
		spi := spiValue(n.SPI)
		for _, ch := range sa.children {
			if ch.spiOut == spi && (ch.state == "DELETING" || ch.state == "REKEYING") {
				// RFC 7296, Section 2.25.1; strongSwan's child_rekey answers so too.
				sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&Notify{Type: TEMPORARY_FAILURE}})
				d.action("Peer rekeys %s, which we are %s: answer TEMPORARY_FAILURE", ch.name(), strings.ToLower(ch.state))
				return
			}
			if ch.spiOut == spi && ch.state == "INSTALLED" {
				old = ch
			}
		}
		if old == nil {
			sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&Notify{Type: CHILD_SA_NOT_FOUND, Protocol: ike.ProtoESP, SPI: n.SPI}})
			d.failure(sa, "", CHILD_SA_NOT_FOUND, ike.FailRefused, "%s: rekey of unknown Child SA 0x%08x: CHILD_SA_NOT_FOUND", sa.name(), spi)
			return
		}
		d.action("Peer rekeys %s (our outbound SPI 0x%08x)", old.name(), spi)
	}
	nr := d.nonce(nonceSize)
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
	install()
	if old != nil {
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
	ni := d.nonce(nonceSize)
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
			d.failure(sa, "", n.Type, ike.FailPeerNotify, "%s: IKE SA rekey failed: responder says %s", sa.name(), n.Type)
			sa.setState(stateEstablished)
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
		sa.queueRequest(sa.deleteIKE)
	})
}

// respondRekeyIKE answers the peer's IKE SA rekey.
func (sa *ikeSA) respondRekeyIKE(id uint32, sap *SA, ni *Nonce, ke *KE) {
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
	nr := d.nonce(nonceSize)
	spiB := make([]byte, 8)
	binary.BigEndian.PutUint64(spiB, newSPI)
	d.action("Peer rekeys the IKE SA: accept %s with new responder SPI %016x", chosen, newSPI)
	sa.sendResponse(CREATE_CHILD_SA, id, []Payload{&SA{Proposals: []*Proposal{NewProposal(sap.Proposals[idx].Number, spiB, chosen)}},
		&Nonce{Data: nr}, &KE{Group: g.ID, Data: priv.Public()}})
	sa.setState(stateRekeying)
	sa.rekeyedSA(false, binary.BigEndian.Uint64(sap.Proposals[idx].SPI), newSPI, chosen, ni.Data, nr, gir)
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
	n.setState(stateEstablished)
	n.children = sa.children
	for _, ch := range n.children {
		ch.sa = n
	}
	sa.children = nil
	sa.rekeyed = n
	sa.setState(stateRekeyed)
	info := n.info()
	info.RekeyOf = sa.spiI
	d.env.Observer.IKESAUp(info)
	d.action("%s replaces %s; its Child SAs move to it", n.name(), sa.name())
	n.armTimers()
	return n
}
