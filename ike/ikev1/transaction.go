package ikev1

import (
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/ikesim/ikesim/ike"
)

// Phase 1.5: XAUTH (draft-beaulieu-ike-xauth-02) and Mode Config
// (draft-ietf-ipsec-isakmp-mode-cfg-05) run in transaction exchanges after phase 1,
// each message protected like an informational one:
//
//	HDR*, HASH, ATTR      with HASH = prf(SKEYID_a, M-ID | ATTR)
//
//	XAUTH (the gateway asks)              Mode Config pull          Mode Config push
//	<-- REQUEST(TYPE, USER, PASSWORD)     REQUEST(ADDRESS, DNS) --> <-- SET(ADDRESS, DNS)
//	REPLY(USER, PASSWORD) -->             <-- REPLY(ADDRESS, DNS)   ACK -->
//	<-- SET(STATUS)
//	ACK(STATUS) -->

// modeConfig is the phase 1.5 state of an ISAKMP SA.
type modeConfig struct {
	xauthPending bool       // client: XAUTH still to come
	cfgPending   bool       // client: waiting for a virtual IP
	xauthOK      bool       // server: the user's password was right
	vip          netip.Addr // client: the address assigned to us; server: the one leased to the peer
	dns          []netip.Addr
	identifier   uint16
}

// afterPhase1 starts what follows phase 1: the gateway asks for XAUTH credentials or
// pushes a configuration; the client waits for them or pulls its configuration. Quick
// modes wait until this is done.
func (sa *isakmpSA) afterPhase1() {
	c := sa.conn
	sa.cfg = &modeConfig{identifier: binary.BigEndian.Uint16(sa.d.core.Random(2))}
	if sa.initiator {
		sa.cfg.xauthPending = c.XAuth != nil && c.XAuth.User != "" && sa.peerXAUTH
		sa.cfg.cfgPending = c.RequestVIP
		if old := sa.replaces; old != nil && old.cfg != nil && old.cfg.vip.IsValid() {
			sa.cfg.vip, sa.cfg.cfgPending = old.cfg.vip, false // a rekey keeps the virtual IP
		}
		switch {
		case sa.cfg.xauthPending:
			sa.action("Wait for the gateway's XAUTH request before any quick mode")
		case sa.cfg.cfgPending && !c.ModeConfigPush:
			sa.requestConfig()
		case sa.cfg.cfgPending:
			sa.action("Wait for the gateway to push our configuration (Mode Config push)")
		}
		sa.checkReady()
		return
	}
	sa.cfg.vip = sa.peerLease()
	switch {
	case sa.xauthGateway():
		sa.startXAuth() // ready once the user has logged in (xauthDone)
		return
	case c.ModeConfigPush && len(c.Pools) > 0:
		sa.pushConfig()
	}
	sa.becomeReady()
}

// xauthGateway reports whether this side asks the peer to log in with XAUTH.
func (sa *isakmpSA) xauthGateway() bool {
	x := sa.conn.XAuth
	return !sa.initiator && x != nil && len(x.Users) > 0
}

// peerLease is the pool address the peer already holds through an ISAKMP SA it is
// replacing (the lowest, should it hold several, so that runs stay reproducible).
func (sa *isakmpSA) peerLease() netip.Addr {
	var vip netip.Addr
	for a, peer := range sa.d.leases {
		if peer == sa.peerID.String() && (!vip.IsValid() || a.Less(vip)) {
			vip = a
		}
	}
	return vip
}

func (sa *isakmpSA) checkReady() {
	if sa.cfg != nil && !sa.cfg.xauthPending && !sa.cfg.cfgPending {
		sa.becomeReady()
	}
}

// sendTransaction sends an attribute payload in a transaction exchange: a new one when
// answers is nil, else the answer to the received message.
func (sa *isakmpSA) sendTransaction(id uint32, attrs *Attributes, answers *Message) bool {
	body, err := ChainBytes([]Payload{attrs})
	if err != nil {
		sa.d.errorf(sa, 0, ike.FailInternal, "%s: cannot build a transaction: %v", sa.name(), err)
		return false
	}
	h := NewHash(QuickHash1(sa.prf, sa.keys.SKEYID_a, id, body))
	o := outMsg{ex: ExchangeTransaction, id: id, payloads: []Payload{h, attrs}, encrypt: true, exchInitiator: answers == nil,
		answers: answers, wait: answers == nil}
	if answers == nil {
		o.giveUp = func() { sa.failWith(0, ike.FailTimeout, "the peer did not answer our %v", attrs.Type) }
	}
	return sa.send(o)
}

func (sa *isakmpSA) newIdentifier() uint16 {
	sa.cfg.identifier++
	return sa.cfg.identifier
}

// startXAuth asks the client for its user name and password (gateway side).
func (sa *isakmpSA) startXAuth() {
	sa.action("XAUTH: ask the client for its user name and password (generic XAUTH-TYPE 0)")
	attrs := &Attributes{Type: CfgRequest, Identifier: sa.newIdentifier(), Attributes: []Attribute{
		TV(XAuthType, 0), {Type: XAuthUserName}, {Type: XAuthUserPassword}}}
	if sa.sendTransaction(sa.d.messageID(sa), attrs, nil) {
		sa.setState(IKE_XAUTH_REQ_SENT)
	}
}

// requestConfig asks the gateway for an internal address and DNS server (client side,
// Mode Config pull).
func (sa *isakmpSA) requestConfig() {
	sa.action("Mode Config: ask the gateway for an internal IPv4 address, netmask and DNS server")
	attrs := &Attributes{Type: CfgRequest, Identifier: sa.newIdentifier(), Attributes: []Attribute{
		{Type: CfgInternalIP4Address}, {Type: CfgInternalIP4Netmask}, {Type: CfgInternalIP4DNS}}}
	if sa.sendTransaction(sa.d.messageID(sa), attrs, nil) {
		sa.setState(IKE_CONFIG_MODE_REQ_SENT)
	}
}

// pushConfig sends the client its configuration unasked (gateway side, Mode Config push).
func (sa *isakmpSA) pushConfig() {
	attrs, ok := sa.leaseAttributes(CfgSet)
	if !ok {
		return
	}
	if sa.sendTransaction(sa.d.messageID(sa), attrs, nil) {
		sa.setState(IKE_CONFIG_MODE_SET_SENT)
	}
}

// leaseAttributes leases an address of the connection's pool to the peer and writes the
// configuration attributes of a REPLY or SET.
func (sa *isakmpSA) leaseAttributes(t CfgType) (*Attributes, bool) {
	c := sa.conn
	if len(c.Pools) == 0 {
		sa.d.errorf(sa, 0, ike.FailConfig, "%s: Mode Config: connection %s has no address pool", sa.name(), c.Name)
		return nil, false
	}
	pool := c.Pools[0].Masked()
	if !sa.cfg.vip.IsValid() {
		for a := pool.Addr().Next(); pool.Contains(a) && pool.Contains(a.Next()); a = a.Next() {
			if _, used := sa.d.leases[a]; !used {
				sa.cfg.vip = a
				sa.d.leases[a] = sa.peerID.String()
				break
			}
		}
	}
	if !sa.cfg.vip.IsValid() {
		sa.d.errorf(sa, 0, ike.FailConfig, "%s: Mode Config: pool %s is exhausted", sa.name(), pool)
		return nil, false
	}
	mask := ike.TSFromPrefix(netip.PrefixFrom(netip.IPv4Unspecified(), pool.Bits())).End
	// TSFromPrefix of 0.0.0.0/n ends at the host mask; the netmask is its complement.
	m := mask.As4()
	for i := range m {
		m[i] = ^m[i]
	}
	as := []Attribute{{Type: CfgInternalIP4Address, Value: sa.cfg.vip.AsSlice()}, {Type: CfgInternalIP4Netmask, Value: m[:]}}
	for _, dns := range c.DNS {
		as = append(as, Attribute{Type: CfgInternalIP4DNS, Value: dns.AsSlice()})
	}
	sa.action("Mode Config: lease %s from pool %s to %s (netmask %s, DNS %v)", sa.cfg.vip, pool, sa.peerID,
		netip.AddrFrom4(m), c.DNS)
	return &Attributes{Type: t, Identifier: sa.newIdentifier(), Attributes: as}, true
}

// releaseVirtualIP gives back a leased pool address (gateway) or the assigned virtual
// IP (client) when the ISAKMP SA goes.
func (sa *isakmpSA) releaseVirtualIP() {
	if sa.cfg == nil || !sa.cfg.vip.IsValid() {
		return
	}
	if sa.initiator {
		if h, ok := sa.d.env.Observer.(ike.VirtualIPHost); ok && (sa.replacedBy == nil) {
			h.AssignVirtualIP(netip.Addr{})
		}
		return
	}
	for _, o := range sa.d.sas {
		if o != sa && !o.deleted && o.cfg != nil && o.cfg.vip == sa.cfg.vip {
			return // a newer ISAKMP SA of the peer holds the lease
		}
	}
	delete(sa.d.leases, sa.cfg.vip)
}

// admitTransaction says why a transaction message (its HASH verified) must be dropped,
// or "": it must carry an attribute payload and be what this side, in its role and
// state, waits for. A REPLY or ACK answers a REQUEST or SET this side sent in the same
// exchange; a gateway's REQUEST or SET comes only to a client that waits for it.
func (sa *isakmpSA) admitTransaction(m *Message) string {
	attrs := payloadOf[*Attributes](m.Payloads)
	if attrs == nil {
		return fmt.Sprintf("transaction 0x%08x carries no attribute payload", m.MessageID)
	}
	_, isXAuth := attrs.Get(XAuthUserName)
	_, isStatus := attrs.Get(XAuthStatus)
	f := sa.flights[m.MessageID]
	ours := f != nil && f.raw != nil && f.answers == "" // an exchange this side opened
	x, c := sa.conn.XAuth, sa.cfg
	xauthClient := sa.initiator && x != nil && x.User != ""
	ok := false
	switch {
	case attrs.Type == CfgRequest && isXAuth:
		ok = xauthClient && c.xauthPending && !ours
	case attrs.Type == CfgReply && isXAuth:
		ok = sa.xauthGateway() && sa.state == IKE_XAUTH_REQ_SENT && ours
	case attrs.Type == CfgSet && isStatus:
		ok = xauthClient && c.xauthPending && sa.state == IKE_XAUTH_REPLY_SENT && !ours
	case attrs.Type == CfgAck && isStatus:
		ok = sa.xauthGateway() && sa.state == IKE_XAUTH_SET_SENT && ours
	case attrs.Type == CfgRequest:
		ok = !sa.initiator && len(sa.conn.Pools) > 0 && !ours
	case attrs.Type == CfgReply:
		ok = sa.initiator && c.cfgPending && sa.state == IKE_CONFIG_MODE_REQ_SENT && ours
	case attrs.Type == CfgSet:
		ok = sa.initiator && c.cfgPending && sa.conn.ModeConfigPush && !ours
	case attrs.Type == CfgAck:
		ok = !sa.initiator && sa.state == IKE_CONFIG_MODE_SET_SENT && ours
	}
	if !ok {
		what := "Mode Config"
		if isXAuth || isStatus {
			what = "XAUTH"
		}
		return fmt.Sprintf("unsolicited %s %v in state %s: nothing this side asked for or waits for", what, attrs.Type, sa.state)
	}
	return ""
}

// transaction handles a transaction exchange message that admitTransaction let in.
func (sa *isakmpSA) transaction(m *Message) {
	attrs := payloadOf[*Attributes](m.Payloads)
	_, isXAuth := attrs.Get(XAuthUserName)
	_, isStatus := attrs.Get(XAuthStatus)
	switch {
	case attrs.Type == CfgRequest && isXAuth:
		sa.xauthAnswer(m, attrs)
	case attrs.Type == CfgReply && isXAuth:
		sa.xauthCheck(attrs)
	case attrs.Type == CfgSet && isStatus:
		sa.xauthResult(m, attrs)
	case attrs.Type == CfgAck && isStatus:
		sa.xauthDone()
	case attrs.Type == CfgRequest:
		sa.cfgRequested(m)
	case attrs.Type == CfgReply || attrs.Type == CfgSet:
		sa.cfgReceived(m, attrs)
	case attrs.Type == CfgAck:
		sa.action("Mode Config: the client acknowledges its configuration")
		sa.setState(IKE_P1_COMPLETE)
	}
}

// xauthAnswer sends the client's credentials.
func (sa *isakmpSA) xauthAnswer(m *Message, req *Attributes) {
	x := sa.conn.XAuth
	if x == nil || x.User == "" {
		sa.d.errorf(sa, 0, ike.FailConfig, "%s: the gateway asks for XAUTH credentials and none are configured", sa.name())
		return
	}
	sa.action("XAUTH: the gateway asks who we are: answer user %q and the password (protected only by the ISAKMP SA's encryption)", x.User)
	attrs := &Attributes{Type: CfgReply, Identifier: req.Identifier, Attributes: []Attribute{TV(XAuthType, 0),
		{Type: XAuthUserName, Value: []byte(x.User)}, {Type: XAuthUserPassword, Value: []byte(x.Password)}}}
	if sa.sendTransaction(m.MessageID, attrs, m) {
		sa.setState(IKE_XAUTH_REPLY_SENT)
	}
}

// xauthCheck verifies the credentials and tells the client the result (gateway side).
func (sa *isakmpSA) xauthCheck(reply *Attributes) {
	user, _ := reply.Get(XAuthUserName)
	pass, _ := reply.Get(XAuthUserPassword)
	want, known := sa.conn.XAuth.Users[string(user.Value)]
	sa.cfg.xauthOK = known && hmac.Equal([]byte(want), pass.Value)
	status := uint16(0)
	if sa.cfg.xauthOK {
		status = 1
		sa.action("XAUTH: user %q gives the right password: tell the client it succeeded", user.Value)
	} else {
		sa.d.errorf(sa, AUTHENTICATION_FAILED, ike.FailRefused, "%s: XAUTH: wrong user name or password for %q", sa.name(), user.Value)
	}
	attrs := &Attributes{Type: CfgSet, Identifier: sa.newIdentifier(), Attributes: []Attribute{TV(XAuthStatus, status)}}
	if sa.sendTransaction(sa.d.messageID(sa), attrs, nil) {
		sa.setState(IKE_XAUTH_SET_SENT)
	}
}

// xauthResult acknowledges the gateway's verdict (client side).
func (sa *isakmpSA) xauthResult(m *Message, set *Attributes) {
	st, _ := set.Get(XAuthStatus)
	ack := &Attributes{Type: CfgAck, Identifier: set.Identifier, Attributes: []Attribute{TV(XAuthStatus, uint16(st.Uint()))}}
	sa.sendTransaction(m.MessageID, ack, m)
	sa.setState(IKE_P1_COMPLETE)
	if st.Uint() != 1 {
		sa.failWith(AUTHENTICATION_FAILED, ike.FailRefused, "XAUTH failed: the gateway rejects user %q", sa.conn.XAuth.User)
		return
	}
	sa.action("XAUTH succeeded: user %q is logged in", sa.conn.XAuth.User)
	sa.cfg.xauthPending = false
	if sa.cfg.cfgPending && !sa.conn.ModeConfigPush {
		sa.requestConfig()
	}
	sa.checkReady()
}

// xauthDone ends XAUTH on the gateway: a rejected user loses the ISAKMP SA; an accepted
// one may now get its configuration pushed.
func (sa *isakmpSA) xauthDone() {
	sa.setState(IKE_P1_COMPLETE)
	if !sa.cfg.xauthOK {
		sa.deleteAll("XAUTH failed")
		return
	}
	if sa.conn.ModeConfigPush && len(sa.conn.Pools) > 0 {
		sa.pushConfig()
	}
	sa.becomeReady()
}

// cfgRequested answers a client's Mode Config request with a leased address (gateway).
func (sa *isakmpSA) cfgRequested(m *Message) {
	if sa.conn.XAuth != nil && len(sa.conn.XAuth.Users) > 0 && !sa.cfg.xauthOK {
		sa.d.errorf(sa, 0, ike.FailMalformed, "%s: Mode Config request before XAUTH succeeded: ignore it", sa.name())
		return
	}
	attrs, ok := sa.leaseAttributes(CfgReply)
	if !ok {
		return
	}
	req := payloadOf[*Attributes](m.Payloads)
	attrs.Identifier = req.Identifier
	sa.sendTransaction(m.MessageID, attrs, m)
}

// cfgReceived takes the virtual IP and DNS servers the gateway gave (client side), and
// acknowledges a pushed configuration.
func (sa *isakmpSA) cfgReceived(m *Message, attrs *Attributes) {
	var dns []netip.Addr
	for _, a := range attrs.Attributes {
		addr, ok := netip.AddrFromSlice(a.Value)
		if !ok {
			continue
		}
		switch a.Type {
		case CfgInternalIP4Address:
			sa.cfg.vip = addr
		case CfgInternalIP4DNS:
			dns = append(dns, addr)
		}
	}
	if !sa.cfg.vip.IsValid() {
		sa.d.errorf(sa, 0, ike.FailMalformed, "%s: Mode Config %v without an internal address", sa.name(), attrs.Type)
		return
	}
	sa.cfg.dns = dns
	sa.action("Mode Config: the gateway assigns virtual IP %s and DNS server(s) %v", sa.cfg.vip, dns)
	if h, ok := sa.d.env.Observer.(ike.VirtualIPHost); ok {
		h.AssignVirtualIP(sa.cfg.vip)
	}
	if attrs.Type == CfgSet {
		ack := &Attributes{Type: CfgAck, Identifier: attrs.Identifier, Attributes: []Attribute{{Type: CfgInternalIP4Address}}}
		sa.sendTransaction(m.MessageID, ack, m)
	}
	sa.setState(IKE_P1_COMPLETE)
	sa.cfg.cfgPending = false
	sa.checkReady()
}
