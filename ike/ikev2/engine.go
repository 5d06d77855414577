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
	"slices"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// Daemon is the IKEv2 engine of one node.
type Daemon struct {
	env   ike.Env
	node  string
	conns []*ike.Connection
	sas   map[uint64]*ikeSA // by the SPI this side chose
	// initHashes finds a responder's IKE SA by the IKE_SA_INIT request that made it,
	// for retransmissions of that request (initKeyOf).
	initHashes  map[initKey]*ikeSA
	limits      ike.Limits // the node's defences against unauthenticated peers (cookie.go)
	cookies     cookieJar
	serial      int // numbers IKE SAs for state-machine names
	childSerial int // numbers Child SAs
	reqids      map[uint32]*childRef
	held        ike.Reqids // the reqids Child SAs hold, by their selectors
	closed      bool
	// halfOpen counts the responder's IKE SAs that answered IKE_SA_INIT and have not
	// completed IKE_AUTH; halfOpenFrom counts them by peer address (no zero entries).
	halfOpen     int
	halfOpenFrom map[netip.Addr]int
	leases       map[netip.Addr]*ikeSA // virtual IPs given out from the pools
}

// allocReqid is the reqid of a new Child SA of cfg with these selectors (ike.Reqids).
func (d *Daemon) allocReqid(cfg *ike.ChildConfig, local, remote []ike.TrafficSelector) uint32 {
	return d.held.Alloc(cfg.ReqID, local, remote, func(id uint32) bool { return d.reqids[id] != nil })
}

type childRef struct {
	conn  *ike.Connection
	child *ike.ChildConfig
}

// New makes the IKEv2 engine of node with its connections (Version 2 ones are taken).
func New(env ike.Env, node string, conns []*ike.Connection) (*Daemon, error) {
	d := &Daemon{env: env, node: node, sas: map[uint64]*ikeSA{}, reqids: map[uint32]*childRef{},
		halfOpenFrom: map[netip.Addr]int{}, initHashes: map[initKey]*ikeSA{}, limits: ike.DefaultLimits()}
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
		d.conns = append(d.conns, c)
		for _, ch := range c.Children {
			if ch.ReqID == 0 {
				ch.ReqID = uint32(len(d.reqids) + 1)
			}
			d.reqids[ch.ReqID] = &childRef{c, ch}
		}
	}
	return d, nil
}

var _ ike.Daemon = (*Daemon)(nil)

func (d *Daemon) action(format string, args ...any) {
	d.env.Observer.Action(fmt.Sprintf(format, args...))
}

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

func (d *Daemon) conn(name string) (*ike.Connection, error) {
	for _, c := range d.conns {
		if c.Name == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("ikev2: no connection %q on %s", name, d.node)
}

func (c *childRef) trap() ike.Trap {
	return ike.Trap{ReqID: c.child.ReqID, Conn: c.conn.Name, Child: c.child.Name,
		LocalTS: c.child.LocalTS, RemoteTS: c.child.RemoteTS, Transport: c.child.Transport}
}

// Traps lists children with start_action trigger.
func (d *Daemon) Traps() []ike.Trap {
	var t []ike.Trap
	for _, c := range d.conns {
		for _, ch := range c.Children {
			if ch.StartAction == ike.StartTrigger {
				t = append(t, d.reqids[ch.ReqID].trap())
			}
		}
	}
	return t
}

// Acquire starts the child whose trap policy matched a packet.
func (d *Daemon) Acquire(reqid uint32) {
	ref := d.reqids[reqid]
	if ref == nil {
		d.failure(nil, "", 0, ike.FailConfig, "acquire for unknown reqid %d", reqid)
		return
	}
	// strongSwan's test_duplicate: no second Child SA identical to one that is up. An
	// explicit initiate still makes one, as ikesim's labs show.
	if sa := d.activeSA(ref.conn); sa != nil && sa.duplicateChild(ref.child) {
		d.action("Acquire for policy %s/%s: Child SA %q is already up: no duplicate", ref.conn.Name, ref.child.Name, ref.child.Name)
		return
	}
	d.action("Acquire for policy %s/%s: start IKE for Child SA %q", ref.conn.Name, ref.child.Name, ref.child.Name)
	d.startChild(ref.conn, ref.child)
}

// Initiate starts a connection (all its children with start_action "start" or, when
// child names one, that child) or a new child on an established IKE SA.
func (d *Daemon) Initiate(conn, child string) error {
	c, err := d.conn(conn)
	if err != nil {
		return err
	}
	if child == "" {
		if len(c.Children) == 0 || c.Childless {
			d.startIKE(c, nil)
			return nil
		}
		for _, ch := range c.Children {
			d.startChild(c, ch)
		}
		return nil
	}
	for _, ch := range c.Children {
		if ch.Name == child {
			d.startChild(c, ch)
			return nil
		}
	}
	return fmt.Errorf("ikev2: connection %s has no child %q", conn, child)
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

func (d *Daemon) saFor(conn string) (*ikeSA, error) {
	c, err := d.conn(conn)
	if err != nil {
		return nil, err
	}
	sa := d.activeSA(c)
	if sa == nil || sa.state != stateEstablished {
		return nil, fmt.Errorf("ikev2: connection %s has no established IKE SA", conn)
	}
	return sa, nil
}

// Rekey rekeys a child, or the IKE SA when child is "".
func (d *Daemon) Rekey(conn, child string) error {
	sa, err := d.saFor(conn)
	if err != nil {
		return err
	}
	if child == "" {
		sa.queueRequest(sa.rekeyIKE)
		return nil
	}
	ch := sa.childByName(child)
	if ch == nil {
		return fmt.Errorf("ikev2: connection %s has no installed child %q", conn, child)
	}
	sa.queueRequest(func() { sa.createChild(ch.cfg, ch) })
	return nil
}

// Delete deletes a child, or the IKE SA with all its children when child is "".
func (d *Daemon) Delete(conn, child string) error {
	sa, err := d.saFor(conn)
	if err != nil {
		return err
	}
	if child == "" {
		sa.queueRequest(sa.deleteIKE)
		return nil
	}
	ch := sa.childByName(child)
	if ch == nil {
		return fmt.Errorf("ikev2: connection %s has no installed child %q", conn, child)
	}
	sa.queueRequest(func() { sa.deleteChildren([]*childSA{ch}) })
	return nil
}

// DeleteAll deletes every established IKE SA, each with its Child SAs: the newest of
// each connection and any older ones, such as one whose peer has started another without
// deleting it.
func (d *Daemon) DeleteAll() int {
	var list []*ikeSA
	for _, sa := range d.sas {
		if sa.state == stateEstablished || sa.state == stateRekeying {
			list = append(list, sa)
		}
	}
	slices.SortFunc(list, func(a, b *ikeSA) int { return a.serial - b.serial }) // in the order they were made
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

// SetPSK changes this node's pre-shared key for a connection (both directions).
func (d *Daemon) SetPSK(conn string, psk []byte) error {
	c, err := d.conn(conn)
	if err != nil {
		return err
	}
	c.Local.PSK = append([]byte(nil), psk...)
	c.Remote.PSK = append([]byte(nil), psk...)
	c.Local.PSKFor, c.Remote.PSKFor = nil, nil // one key for every peer from now on
	d.action("Pre-shared key of connection %s changed", conn)
	return nil
}

// Close stops every timer.
func (d *Daemon) Close() {
	d.closed = true
	for _, sa := range d.sas {
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
	d.halfOpen++
	d.halfOpenFrom[sa.halfOpenAddr]++
}

// uncountHalfOpen takes an SA off the half-open counts, once.
func (d *Daemon) uncountHalfOpen(sa *ikeSA) {
	if !sa.halfOpen {
		return
	}
	sa.halfOpen = false
	d.halfOpen--
	if d.halfOpenFrom[sa.halfOpenAddr]--; d.halfOpenFrom[sa.halfOpenAddr] <= 0 {
		delete(d.halfOpenFrom, sa.halfOpenAddr)
	}
}

// acquireFailed tells the host that the Child SA an acquire asked for cannot be had.
func (d *Daemon) acquireFailed(reqid uint32, reason string) {
	if h, ok := d.env.Observer.(ike.AcquireHost); ok {
		h.AcquireFailed(reqid, reason)
	}
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

// spi32 draws a random ESP SPI (RFC 4303: values 1-255 are reserved).
func (d *Daemon) spi32() uint32 {
	var b [4]byte
	for {
		io.ReadFull(d.env.Rand, b[:])
		if v := binary.BigEndian.Uint32(b[:]); v > 255 {
			return v
		}
	}
}

func (d *Daemon) nonce(n int) []byte {
	b := make([]byte, n)
	io.ReadFull(d.env.Rand, b)
	return b
}

// Retransmission defaults (strongSwan's are 4 s, 1.8, 5 tries; a classroom needs shorter).
const (
	defaultRetransmitTimeout = 2 * time.Second
	defaultRetransmitBase    = 1.8
	defaultRetransmitTries   = 5
	defaultKeepalive         = 20 * time.Second
	nonceSize                = 32
)
