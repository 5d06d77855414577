package ikev2

// The IKEv2 engine: one Daemon per node, holding that node's connections and IKE SAs.
//
// Flow of a datagram (HandleDatagram):
//  1. Parse the IKE header and payloads; a message that does not parse is dropped.
//  2. An IKE_SA_INIT request goes to handleInitRequest (exch_init.go): the same bytes
//     from the same address again get the cached response; a new one passes the node's
//     defences (cookie.go) before it makes a responder SA.
//  3. Any other message finds its IKE SA by the SPI this side chose (one map lookup).
//  4. Requests: the very bytes of the last request get the cached response again; a
//     new one must carry the next message ID. Responses must answer the outstanding
//     request.
//  5. Decrypt and verify the SK payload: what does not verify is dropped, unanswered.
//     The SA's state must admit the request (sa.go: admit). Only then may the peer's
//     address move, the window advance, and the handler of the exchange send the
//     response or finish the request.
//
// Timers (retransmission, rekey, lifetime, liveness, NAT keep-alive) run on the Clock
// of the ike.Env; the engine never runs two callbacks at once.

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/daemon"
)

// Daemon is the IKEv2 engine of one node.
type Daemon struct {
	daemon.Commands                   // traps, set_psk
	core            *daemon.Core      // connections, reqids
	env             ike.Env           // core.Env
	sas             map[uint64]*ikeSA // by the SPI this side chose
	// initHashes finds a responder's IKE SA by the IKE_SA_INIT request that made it,
	// for retransmissions of that request (initKeyOf).
	initHashes  map[initKey]*ikeSA
	limits      ike.Limits // the node's defences against unauthenticated peers (cookie.go)
	cookies     cookieJar
	serial      int // numbers IKE SAs for state-machine names
	childSerial int // numbers Child SAs
	closed      bool
	// halfOpen counts the responder's IKE SAs that answered IKE_SA_INIT and have not
	// completed IKE_AUTH, in all and by peer address.
	halfOpen daemon.HalfOpen
	leases   map[netip.Addr]*ikeSA // virtual IPs given out from the pools
	peers    peerIndex             // established IKE SAs by the peer's identity (exch_auth.go)
}

// New makes the IKEv2 engine of node with its connections (Version 2 ones are taken).
func New(env ike.Env, node string, conns []*ike.Connection) (*Daemon, error) {
	core := daemon.NewCore(env, node, 2)
	d := &Daemon{Commands: core.Commands(), core: core, env: env, sas: map[uint64]*ikeSA{},
		initHashes: map[initKey]*ikeSA{}, limits: ike.DefaultLimits()}
	if err := d.cookies.init(env.Rand); err != nil {
		return nil, fmt.Errorf("ikev2: %v", err)
	}
	for _, c := range conns {
		if c.Version != 2 {
			continue
		}
		if c.Limits != nil { // the node's, on each of its connections
			d.limits = c.Limits.Normalized()
		}
		if len(c.Proposals) == 0 {
			return nil, fmt.Errorf("ikev2: connection %s has no proposals", c.Name)
		}
		d.core.Add(c)
	}
	return d, nil
}

var _ ike.Daemon = (*Daemon)(nil)

func (d *Daemon) action(format string, args ...any) { d.core.Action(format, args...) }

// say reports an action whose text is written already: nothing to format.
func (d *Daemon) say(text string) { d.env.Observer.Action(text) }

// failure reports a failure that ends an exchange (ike.Observer.Error): of sa (nil: of
// no SA yet), about its Child SA child ("": none), with the notify sent or received (0:
// none).
func (d *Daemon) failure(sa *ikeSA, child string, n NotifyType, reason ike.FailReason, format string, args ...any) {
	var name, conn, notify string
	var auth *ike.AuthMismatch
	if sa != nil {
		name, conn = sa.name(), sa.connName()
		auth, sa.ext.mismatch = sa.ext.mismatch, nil
	}
	if n != 0 {
		notify = n.String()
	}
	d.env.Observer.Error(ike.Failure{Conn: conn, SA: name, Child: child, Notify: notify, Reason: reason,
		Text: fmt.Sprintf(format, args...), Auth: auth})
}

// Acquire starts the child whose trap policy matched a packet.
func (d *Daemon) Acquire(reqid uint32) {
	ref, ok := d.core.Child(reqid)
	if !ok {
		d.failure(nil, "", 0, ike.FailConfig, "acquire for unknown reqid %d", reqid)
		return
	}
	// strongSwan's test_duplicate: no second Child SA identical to one that is up. An
	// explicit initiate still makes one, as ikesim's labs show.
	if sa := d.activeSA(ref.Conn); sa != nil && sa.duplicateChild(ref.Child) {
		d.action("Acquire for policy %s/%s: Child SA %q is already up: no duplicate", ref.Conn.Name, ref.Child.Name, ref.Child.Name)
		return
	}
	d.action("Acquire for policy %s/%s: start IKE for Child SA %q", ref.Conn.Name, ref.Child.Name, ref.Child.Name)
	d.startChild(ref.Conn, ref.Child)
}

// Initiate starts a connection (all its children with start_action "start" or, when
// child names one, that child) or a new child on an established IKE SA.
func (d *Daemon) Initiate(conn, child string) error {
	c, children, err := d.core.Initiate(conn, child)
	if err != nil {
		return err
	}
	if child == "" && (len(children) == 0 || c.Childless) {
		d.startIKE(c, nil)
		return nil
	}
	for _, ch := range children {
		d.startChild(c, ch)
	}
	return nil
}

// startChild sets up a child on the connection's IKE SA, making one if needed.
func (d *Daemon) startChild(c *ike.Connection, ch *ike.ChildConfig) {
	if sa := d.activeSA(c); sa != nil {
		if sa.state == stateEstablished {
			sa.queueRequest(func() { sa.createChild(ch, nil) })
		} else {
			sa.pendingChildren = append(sa.pendingChildren, ch)
		}
		return
	}
	d.startIKE(c, ch)
}

// activeSA is the connection's newest IKE SA that is up or coming up, if any. It looks
// at every IKE SA, but only for a local command or an acquire, never for a datagram.
func (d *Daemon) activeSA(c *ike.Connection) *ikeSA {
	var best *ikeSA
	for _, sa := range d.sas {
		if sa.conn == c && (sa.state == stateConnecting || sa.state == stateEstablished || sa.state == stateRekeying) &&
			(best == nil || sa.serial > best.serial) {
			best = sa
		}
	}
	return best
}

// saFor is the established IKE SA a local command on conn acts on.
func (d *Daemon) saFor(conn string) (*ikeSA, error) {
	return daemon.Established(d.core, conn, "IKE SA", d.activeSA, func(sa *ikeSA) bool { return sa != nil && sa.state == stateEstablished })
}

// Rekey rekeys a child, or the IKE SA when child is "".
func (d *Daemon) Rekey(conn, child string) error {
	sa, err := d.saFor(conn)
	return daemon.OnSA(d.core, conn, child, sa, err, func() { sa.queueRequest(sa.rekeyIKE) },
		func(ch *childSA) { sa.queueRequest(func() { sa.createChild(ch.cfg, ch) }) })
}

// Delete deletes a child, or the IKE SA with all its children when child is "".
func (d *Daemon) Delete(conn, child string) error {
	sa, err := d.saFor(conn)
	return daemon.OnSA(d.core, conn, child, sa, err, func() { sa.queueRequest(sa.deleteIKE) },
		func(ch *childSA) { sa.queueRequest(func() { sa.deleteChildren([]*childSA{ch}) }) })
}

// DeleteAll deletes every established IKE SA, each with its Child SAs: the newest of
// each connection and any older ones, such as one whose peer has started another without
// deleting it.
func (d *Daemon) DeleteAll() int {
	var list []*ikeSA
	for _, sa := range d.sortedSAs() {
		if sa.state == stateEstablished || sa.state == stateRekeying {
			list = append(list, sa)
		}
	}
	for _, sa := range list {
		sa.queueRequest(sa.deleteIKE)
	}
	return len(list)
}

// Liveness sends an empty INFORMATIONAL request.
func (d *Daemon) Liveness(conn string) error {
	sa, err := d.saFor(conn)
	if err != nil {
		return err
	}
	sa.queueRequest(sa.liveness)
	return nil
}

// Close stops every timer, IKE SA by IKE SA in the order they were made.
func (d *Daemon) Close() {
	d.closed = true
	for _, sa := range d.sortedSAs() { // in a fixed order: each stop is a trace event
		sa.stopTimers()
	}
}

// HandleDatagram processes one received IKE message.
func (d *Daemon) HandleDatagram(local, remote netip.AddrPort, data []byte) {
	if d.closed {
		return
	}
	dg := ike.Datagram{Local: local, Remote: remote, Data: data}
	m, err := Parse(data)
	if err != nil {
		dg.Info = &ike.MessageInfo{Version: 2, Dissect: d.lazyDissect(data, nil)}
		d.env.Observer.Dropped(dg, "malformed IKEv2 message: "+err.Error())
		return
	}
	h := &m.Header
	isResp := h.Flags&FlagResponse != 0
	fromInit := h.Flags&FlagInitiator != 0
	// Our SPI is SPIr when the message comes from the original initiator: one lookup in
	// the table of IKE SAs by the SPI this side chose.
	mine := h.SPIr
	if !fromInit {
		mine = h.SPIi
	}
	if h.Exchange == IKE_SA_INIT && !isResp {
		d.handleInitRequest(local, remote, m)
		return
	}
	sa := d.sas[mine]
	if sa == nil {
		dg.Info = &ike.MessageInfo{Version: 2, Exchange: h.Exchange.String(), MessageID: h.MessageID,
			Response: isResp, Dissect: d.lazyDissect(data, nil)}
		d.env.Observer.Dropped(dg, fmt.Sprintf("no IKE SA with SPI %016x (unknown or already deleted)", mine))
		return
	}
	sa.handle(local, remote, m)
}

// countHalfOpen counts a responder's new IKE SA as half-open.
func (d *Daemon) countHalfOpen(sa *ikeSA) {
	sa.halfOpen, sa.halfOpenAddr = true, sa.remote.Addr()
	d.halfOpen.Add(sa.halfOpenAddr)
}

// uncountHalfOpen takes an SA off the half-open counts, once.
func (d *Daemon) uncountHalfOpen(sa *ikeSA) {
	if !sa.halfOpen {
		return
	}
	sa.halfOpen = false
	d.halfOpen.Remove(sa.halfOpenAddr)
}

// spi draws a non-zero random 64-bit SPI.
func (d *Daemon) spi64() uint64 {
	var b [8]byte
	for {
		io.ReadFull(d.env.Rand, b[:])
		if v := binary.BigEndian.Uint64(b[:]); v != 0 && d.sas[v] == nil {
			return v
		}
	}
}

// nonceSize is the size of the nonces this side sends.
const nonceSize = daemon.NonceSize
