package ikev1

// The IKEv1 engine: one Daemon per node, holding that node's IKEv1 connections, ISAKMP
// SAs and the IPsec SAs their quick modes made.
//
// Flow of a datagram (HandleDatagram):
//  1. Parse the ISAKMP header; a message that does not parse is dropped.
//  2. Find the ISAKMP SA by its cookies; a Main or Aggressive Mode message with a zero
//     responder cookie starts a new responder SA.
//  3. A message seen before in its exchange is the peer's retransmission: when it is the
//     one this side last answered, the answer goes out again (RFC 2408 has no message
//     numbers: IKEv1 peers retransmit whole messages).
//  4. Decrypt an encrypted message with the IV of its exchange (RFC 2409, Appendix B),
//     then hand it to phase 1 (main, aggressive), quick mode, the transaction exchange
//     (XAUTH, Mode Config) or informational handling.
//
// State changes use the names a Cisco IOS router prints with "debug crypto isakmp"
// (IKE_READY, IKE_I_MM1 ... IKE_P1_COMPLETE, IKE_QM_I_QM1 ... IKE_QM_PHASE2_COMPLETE),
// so a student can read a simulation beside a router's log. Timers (retransmission,
// DPD, lifetimes, rekeying, NAT keep-alives) run on the Clock of the ike.Env.

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/daemon"
)

// Daemon is the IKEv1 engine of one node.
type Daemon struct {
	daemon.Commands              // traps, set_psk
	core            *daemon.Core // connections, reqids
	env             ike.Env      // core.Env
	limits          Limits
	// sas holds every ISAKMP SA until it ends, by the cookie this side chose: CKY-I
	// when it initiated, CKY-R when it responded. Cookies are unique per node, so a
	// message finds its SA in one lookup.
	sas map[uint64]*isakmpSA
	// byConn lists a connection's SAs that can carry its quick modes: those this side
	// initiated, and those it responded to once phase 1 completed; oldest first.
	byConn map[*ike.Connection][]*isakmpSA
	// halfOpen holds the SAs this side responded to whose phase 1 has not completed, by
	// the initiator's cookie and address: a retransmitted first message (CKY-R still
	// zero) finds its SA there. halfOpenCount counts them by peer address.
	halfOpen      map[halfOpenKey]*isakmpSA
	halfOpenCount daemon.HalfOpen
	serial        int
	childSerial   int
	leases        map[netip.Addr]string // Mode Config pool addresses in use, by the peer they went to
	orphans       []*ipsecSA            // IPsec SAs whose ISAKMP SA the peer deleted
	closed        bool
	// mismatch is the peer's HASH_I or HASH_R that did not verify, next to the value
	// computed here; the failure that follows at once reports it.
	mismatch *ike.AuthMismatch
}

type halfOpenKey struct {
	icookie uint64
	peer    netip.AddrPort
}

// New makes the IKEv1 engine of node with its connections (Version 1 ones are taken).
// It checks that every proposal can be written as IKEv1 attributes.
func New(env ike.Env, node string, conns []*ike.Connection) (*Daemon, error) {
	core := daemon.NewCore(env, node, 1)
	d := &Daemon{Commands: core.Commands(), core: core, env: env, leases: map[netip.Addr]string{},
		sas: map[uint64]*isakmpSA{}, byConn: map[*ike.Connection][]*isakmpSA{}, halfOpen: map[halfOpenKey]*isakmpSA{}}
	d.SetLimits(Limits{})
	for _, c := range conns {
		if c.Version != 1 {
			continue
		}
		if len(c.Proposals) == 0 {
			return nil, fmt.Errorf("ikev1: connection %s has no proposals", c.Name)
		}
		for _, p := range c.Proposals {
			if _, err := phase1Transforms(p); err != nil {
				return nil, fmt.Errorf("ikev1: connection %s: %v", c.Name, err)
			}
		}
		if err := checkSignatureConfig(c); err != nil { // hook (auth_sig.go): psk or RSA signatures
			return nil, fmt.Errorf("ikev1: connection %s: %v", c.Name, err)
		}
		if c.Limits != nil { // the node's, on each of its connections
			d.SetLimits(LimitsFrom(*c.Limits))
		}
		for _, ch := range c.Children {
			for _, p := range ch.ESPProposals {
				if _, err := espTransforms(p); err != nil {
					return nil, fmt.Errorf("ikev1: connection %s, child %s: %v", c.Name, ch.Name, err)
				}
			}
		}
		d.core.Add(c)
	}
	return d, nil
}

var _ ike.Daemon = (*Daemon)(nil)

func (d *Daemon) action(format string, args ...any) { d.core.Action(format, args...) }

// errorf reports a failure that ends an exchange (ike.Observer.Error): of sa (nil: of
// no SA), with the notify sent or received (0: none).
func (d *Daemon) errorf(sa *isakmpSA, n NotifyType, reason ike.FailReason, format string, args ...any) {
	d.failure(sa, "", n, reason, fmt.Sprintf(format, args...))
}

// failure reports a failure about a Child SA (child, "" for none) of sa.
func (d *Daemon) failure(sa *isakmpSA, child string, n NotifyType, reason ike.FailReason, text string) {
	var name, conn, notify string
	if sa != nil {
		name, conn = sa.name(), sa.connName()
	}
	if n != 0 {
		notify = n.String()
	}
	auth := d.mismatch
	d.mismatch = nil
	d.env.Observer.Error(ike.Failure{Conn: conn, SA: name, Child: child, Notify: notify, Reason: reason, Text: text, Auth: auth})
}

// Acquire starts the child whose trap policy matched a packet.
func (d *Daemon) Acquire(reqid uint32) {
	ref, ok := d.core.Child(reqid)
	if !ok {
		d.errorf(nil, 0, ike.FailConfig, "acquire for unknown reqid %d", reqid)
		return
	}
	d.action("Acquire for policy %s/%s: interesting traffic, start IKEv1 for IPsec SA %q", ref.Conn.Name, ref.Child.Name, ref.Child.Name)
	d.startChild(ref.Conn, ref.Child, nil)
}

// Initiate starts a connection (each child, or the ISAKMP SA alone when it has none) or
// one named child.
func (d *Daemon) Initiate(conn, child string) error {
	c, children, err := d.core.Initiate(conn, child)
	if err != nil {
		return err
	}
	if len(children) == 0 && d.activeSA(c) == nil {
		d.startPhase1(c, nil, nil)
	}
	for _, ch := range children {
		d.startChild(c, ch, nil)
	}
	return nil
}

// startChild runs a quick mode for ch on the connection's ISAKMP SA, making one first
// when there is none; old is the IPsec SA it rekeys, if any.
func (d *Daemon) startChild(c *ike.Connection, ch *ike.ChildConfig, old *ipsecSA) {
	sa := d.activeSA(c)
	if sa == nil {
		d.startPhase1(c, ch, nil)
		return
	}
	if !sa.ready {
		sa.pending = append(sa.pending, ch.ReqID)
	}
	sa.whenReady(func() { sa.startQuickMode(ch, old) })
}

// activeSA is the connection's newest ISAKMP SA that is up or that this side is
// bringing up.
func (d *Daemon) activeSA(c *ike.Connection) *isakmpSA {
	var best *isakmpSA
	for _, sa := range d.byConn[c] {
		if !sa.deleted && sa.replacedBy == nil {
			best = sa
		}
	}
	return best
}

// saFor is the established ISAKMP SA a local command on conn acts on.
func (d *Daemon) saFor(conn string) (*isakmpSA, error) {
	return daemon.Established(d.core, conn, "ISAKMP SA", d.activeSA, func(sa *isakmpSA) bool { return sa != nil && sa.established })
}

// Rekey runs a new quick mode for a child, or a new phase 1 for the ISAKMP SA when
// child is "".
func (d *Daemon) Rekey(conn, child string) error {
	sa, err := d.saFor(conn)
	return daemon.OnSA(d.core, conn, child, sa, err, func() { sa.rekeyPhase1() },
		func(ch *ipsecSA) { sa.whenReady(func() { sa.startQuickMode(ch.cfg, ch) }) })
}

// Delete deletes a child's IPsec SAs, or every IPsec SA and then the ISAKMP SA when
// child is "".
func (d *Daemon) Delete(conn, child string) error {
	sa, err := d.saFor(conn)
	return daemon.OnSA(d.core, conn, child, sa, err, func() { sa.deleteAll("deleted") },
		func(ch *ipsecSA) { sa.deleteChild(ch, "deleted") })
}

// DeleteAll deletes every established ISAKMP SA, each after its IPsec SAs: the newest
// of each connection and any older ones, such as one whose peer has started another
// without deleting it.
func (d *Daemon) DeleteAll() int {
	n := 0
	for _, sa := range d.sortedSAs() {
		if sa.established && !sa.deleted {
			sa.deleteAll("deleted")
			n++
		}
	}
	return n
}

// Liveness sends a DPD R-U-THERE now.
func (d *Daemon) Liveness(conn string) error {
	sa, err := d.saFor(conn)
	if err != nil {
		return err
	}
	sa.sendRUThere()
	return nil
}

// Close stops every timer. An ISAKMP SA whose phase 1 was still under way with its keys
// made is reported down, with them, as one that failed would be: the messages it
// encrypted can be read with them (the key tables hold only SAs reported up or down).
func (d *Daemon) Close() {
	d.closed = true
	for _, sa := range d.sortedSAs() {
		sa.stopTimers()
		if !sa.established && sa.encKey != nil {
			d.env.Observer.IKESADown(sa.info(), "the node stopped before phase 1 completed")
		}
	}
	for _, ch := range d.orphans {
		ch.stopTimers()
	}
}

// HandleDatagram processes one received ISAKMP message.
func (d *Daemon) HandleDatagram(local, remote netip.AddrPort, data []byte) {
	if d.closed {
		return
	}
	m, err := Parse(data)
	if err != nil {
		dg := ike.Datagram{Local: local, Remote: remote, Data: data,
			Info: &ike.MessageInfo{Version: 1, Dissect: func() *ike.Field { return Dissect(data, nil) }}}
		d.env.Observer.Dropped(dg, "malformed ISAKMP message: "+err.Error())
		return
	}
	sa := d.find(m, remote)
	if sa == nil {
		dg := ike.Datagram{Local: local, Remote: remote, Data: data, Info: &ike.MessageInfo{Version: 1,
			Exchange: m.Exchange.String(), MessageID: m.MessageID, Dissect: func() *ike.Field { return Dissect(data, nil) }}}
		if m.RCookie == 0 && m.MessageID == 0 && !m.Encrypted() && (m.Exchange == ExchangeMain || m.Exchange == ExchangeAggressive) {
			if why := d.overLimit(remote.Addr()); why != "" {
				d.env.Observer.Dropped(dg, why)
				return
			}
			d.respondPhase1(local, remote, m)
			return
		}
		d.env.Observer.Dropped(dg, fmt.Sprintf("no ISAKMP SA with cookies %016x/%016x (unknown or already deleted)", m.ICookie, m.RCookie))
		return
	}
	sa.handle(local, remote, m)
}

// find returns the ISAKMP SA a message belongs to, by the cookie this side chose. The
// responder cookie is zero in the first message (and in its retransmissions, found
// among the half-open SAs by the initiator's cookie and address), and unknown to the
// initiator until the second.
func (d *Daemon) find(m *Message, remote netip.AddrPort) *isakmpSA {
	if sa := d.sas[m.RCookie]; sa != nil && !sa.initiator && sa.icookie == m.ICookie {
		return sa
	}
	if sa := d.sas[m.ICookie]; sa != nil && sa.initiator && (sa.rcookie == m.RCookie || sa.rcookie == 0 || m.RCookie == 0) {
		return sa
	}
	if m.RCookie == 0 {
		return d.halfOpen[halfOpenKey{m.ICookie, remote}]
	}
	return nil
}

// register enters an SA in the tables under the cookie this side chose: an initiator's
// at once, a responder's once it has chosen its cookie.
func (d *Daemon) register(sa *isakmpSA) {
	if sa.initiator {
		d.sas[sa.icookie] = sa
		d.byConn[sa.conn] = append(d.byConn[sa.conn], sa)
		return
	}
	d.sas[sa.rcookie] = sa
	sa.halfOpen = &halfOpenKey{sa.icookie, sa.remote}
	d.halfOpen[*sa.halfOpen] = sa
	d.halfOpenCount.Add(sa.remote.Addr())
}

// opened moves a responder's SA from the half-open tables to its connection's list once
// phase 1 is complete.
func (d *Daemon) opened(sa *isakmpSA) {
	if sa.halfOpen != nil {
		d.closeHalfOpen(sa)
		d.byConn[sa.conn] = append(d.byConn[sa.conn], sa)
	}
}

func (d *Daemon) closeHalfOpen(sa *isakmpSA) {
	k := sa.halfOpen
	if k == nil {
		return
	}
	sa.halfOpen = nil
	delete(d.halfOpen, *k)
	d.halfOpenCount.Remove(k.peer.Addr())
}

// unregister takes an SA that ended off every table.
func (d *Daemon) unregister(sa *isakmpSA) {
	d.closeHalfOpen(sa)
	for _, c := range []uint64{sa.icookie, sa.rcookie} {
		if d.sas[c] == sa {
			delete(d.sas, c)
		}
	}
	list := d.byConn[sa.conn]
	if i := slices.Index(list, sa); i >= 0 {
		list = slices.Delete(list, i, i+1)
		if len(list) == 0 {
			delete(d.byConn, sa.conn)
		} else {
			d.byConn[sa.conn] = list
		}
	}
}

// sortedSAs lists the SAs in the order they were made: for walks whose order shows in
// the trace.
func (d *Daemon) sortedSAs() []*isakmpSA {
	return daemon.InOrder(d.sas, func(sa *isakmpSA) int { return sa.serial })
}

// cookie draws a non-zero 8-byte cookie no ISAKMP SA of this node uses (RFC 2408,
// Section 2.5.3 asks only that it be unique and unpredictable).
func (d *Daemon) cookie() uint64 {
	for {
		v := binary.BigEndian.Uint64(d.core.Random(8))
		if v == 0 {
			continue
		}
		if d.sas[v] == nil {
			return v
		}
	}
}

// messageID draws a random non-zero message ID for a new exchange (RFC 2408, Section 3.1).
func (d *Daemon) messageID(sa *isakmpSA) uint32 {
	for {
		v := binary.BigEndian.Uint32(d.core.Random(4))
		if _, used := sa.flights[v]; v != 0 && !used {
			return v
		}
	}
}

// Lifetimes proposed when the configuration names none (a Cisco router's defaults), and
// the nonce size.
const (
	defaultPhase1Lifetime = 86400 * time.Second
	defaultPhase2Lifetime = 3600 * time.Second
	nonceSize             = daemon.NonceSize
	maxFlights            = 32 // exchanges an ISAKMP SA remembers (beyond those still waiting)
	maxQuickModes         = 16 // quick modes in progress on one ISAKMP SA
)
