// Package daemon holds the skeleton the IKEv1 and IKEv2 engines share: the connection
// table and its lookups, the reqids of the children, trap policies, acquires, the
// local commands' lookups (initiate, rekey, delete, set_psk), retransmission defaults,
// an SA's named timers, the NAT keep-alive and what the host counts of ESP traffic.
// What differs between the versions (the exchanges, the SA state machines, DPD) stays
// in ike/ikev1 and ike/ikev2.
//
// It sits on floor 1 beside the engines and imports only ike.
package daemon

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// Retransmission defaults (strongSwan's are 4 s, 1.8, 5 tries; a classroom needs
// shorter), the NAT keep-alive interval when the configuration names none (strongSwan's
// keep_alive), and the nonce size.
const (
	DefaultRetransmitTimeout = 2 * time.Second
	DefaultRetransmitBase    = 1.8
	DefaultRetransmitTries   = 5
	DefaultKeepalive         = 20 * time.Second
	NonceSize                = 32
)

// Retransmit is the retransmission timeout, back-off base and tries of connection c
// (nil: the defaults).
func Retransmit(c *ike.Connection) (time.Duration, float64, int) {
	t, b, n := DefaultRetransmitTimeout, DefaultRetransmitBase, DefaultRetransmitTries
	if c != nil {
		if c.RetransmitTimeout > 0 {
			t = c.RetransmitTimeout
		}
		if c.RetransmitBase > 0 {
			b = c.RetransmitBase
		}
		if c.RetransmitTries > 0 {
			n = c.RetransmitTries
		}
	}
	return t, b, n
}

// Backoff is how long a message of connection c waits for its answer after it was sent
// sent times before (0: the first sending), the timeout growing by the base each time,
// and how many sendings there are in all.
func Backoff(c *ike.Connection, sent int) (wait time.Duration, tries int) {
	timeout, base, tries := Retransmit(c)
	return time.Duration(float64(timeout) * math.Pow(base, float64(sent))), tries
}

// ChildRef is a child configuration with its connection.
type ChildRef struct {
	Conn  *ike.Connection
	Child *ike.ChildConfig
}

// Trap is the trap policy of the child.
func (r ChildRef) Trap() ike.Trap {
	return ike.Trap{ReqID: r.Child.ReqID, Conn: r.Conn.Name, Child: r.Child.Name,
		LocalTS: r.Child.LocalTS, RemoteTS: r.Child.RemoteTS, Transport: r.Child.Transport}
}

// Core is the version-independent part of one node's engine.
type Core struct {
	Env  ike.Env
	Node string
	// Conns are the node's connections of the engine's version, in configuration order.
	Conns  []*ike.Connection
	prefix string              // "ikev1" or "ikev2": the engine's errors start with it
	refs   map[uint32]ChildRef // the children's configured reqids
	held   ike.Reqids          // the reqids Child SAs hold, by their selectors
}

// NewCore is the core of a version's engine on node (version is 1 or 2).
func NewCore(env ike.Env, node string, version int) *Core {
	return &Core{Env: env, Node: node, prefix: fmt.Sprintf("ikev%d", version), refs: map[uint32]ChildRef{}}
}

// Commands are the methods of ike.Daemon that the core answers alone: an engine embeds
// them.
type Commands struct{ core *Core }

// Commands are e's commands, for its engine to embed.
func (e *Core) Commands() Commands { return Commands{e} }

// Traps lists children with start_action trigger.
func (c Commands) Traps() []ike.Trap { return c.core.Traps() }

// SetPSK changes this node's pre-shared key for a connection, both directions: one key
// for every peer from now on.
func (c Commands) SetPSK(conn string, psk []byte) error { return c.core.SetPSK(conn, psk) }

// Add takes a connection: a child without a reqid gets the next one.
func (e *Core) Add(c *ike.Connection) {
	e.Conns = append(e.Conns, c)
	for _, ch := range c.Children {
		if ch.ReqID == 0 {
			ch.ReqID = uint32(len(e.refs) + 1)
		}
		e.refs[ch.ReqID] = ChildRef{c, ch}
	}
}

// Action reports what the engine does, for people (ike.Observer.Action).
// Narration without arguments and without a verb is its own text: no formatting.
func (e *Core) Action(format string, args ...any) {
	if len(args) == 0 && !strings.Contains(format, "%") {
		e.Env.Observer.Action(format)
		return
	}
	e.Env.Observer.Action(fmt.Sprintf(format, args...))
}

// Conn is the connection named name.
func (e *Core) Conn(name string) (*ike.Connection, error) {
	for _, c := range e.Conns {
		if c.Name == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%s: no connection %q on %s", e.prefix, name, e.Node)
}

// Match picks the connection for a peer: local and remote addresses must match (an
// empty list matches any).
func (e *Core) Match(local, remote netip.Addr) *ike.Connection {
	for _, c := range e.Conns {
		if c.Matches(local, remote) {
			return c
		}
	}
	return nil
}

// Child is the child configuration whose reqid is reqid.
func (e *Core) Child(reqid uint32) (ChildRef, bool) {
	r, ok := e.refs[reqid]
	return r, ok
}

// Traps lists children with start_action trigger.
func (e *Core) Traps() []ike.Trap {
	var t []ike.Trap
	for _, c := range e.Conns {
		for _, ch := range c.Children {
			if ch.StartAction == ike.StartTrigger {
				t = append(t, ChildRef{c, ch}.Trap())
			}
		}
	}
	return t
}

// AllocReqid is the reqid of a new Child SA of cfg with these selectors (ike.Reqids).
func (e *Core) AllocReqid(cfg *ike.ChildConfig, local, remote []ike.TrafficSelector) uint32 {
	return e.held.Alloc(cfg.ReqID, local, remote, func(id uint32) bool { _, ok := e.refs[id]; return ok })
}

// ReleaseReqid gives a Child SA's reqid back.
func (e *Core) ReleaseReqid(id uint32) { e.held.Release(id) }

// AcquireFailed tells the host that the Child SA a trap policy asked for cannot be had,
// so that the packets it queued are dropped.
func (e *Core) AcquireFailed(reqid uint32, reason string) {
	if h, ok := e.Env.Observer.(ike.AcquireHost); ok {
		h.AcquireFailed(reqid, reason)
	}
}

// Initiate looks up what an initiate command names: the connection, and the children
// to start (all of them when child is "", none when the connection has none).
func (e *Core) Initiate(conn, child string) (*ike.Connection, []*ike.ChildConfig, error) {
	c, err := e.Conn(conn)
	if err != nil {
		return nil, nil, err
	}
	if child == "" {
		return c, c.Children, nil
	}
	for _, ch := range c.Children {
		if ch.Name == child {
			return c, []*ike.ChildConfig{ch}, nil
		}
	}
	return nil, nil, fmt.Errorf("%s: connection %s has no child %q", e.prefix, conn, child)
}

// Established is the SA that a local command on connection conn acts on: active finds
// the connection's newest SA (what names its kind, "IKE SA"), up says whether it is
// established.
func Established[S any](e *Core, conn, what string, active func(*ike.Connection) S, up func(S) bool) (S, error) {
	var none S
	c, err := e.Conn(conn)
	if err != nil {
		return none, err
	}
	sa := active(c)
	if !up(sa) {
		return none, fmt.Errorf("%s: connection %s has no established %s", e.prefix, conn, what)
	}
	return sa, nil
}

// NamedChild is an SA that finds its installed Child SAs by configuration name.
type NamedChild[C any] interface {
	InstalledChild(name string) (C, bool)
}

// OnSA runs a local command (rekey, delete) on sa, the established SA of connection
// conn that the engine found (or err): whole when child is "", else part on the
// installed Child SA of that name.
func OnSA[S NamedChild[C], C any](e *Core, conn, child string, sa S, err error, whole func(), part func(C)) error {
	if err != nil {
		return err
	}
	if child == "" {
		whole()
		return nil
	}
	ch, ok := sa.InstalledChild(child)
	if !ok {
		return fmt.Errorf("%s: connection %s has no installed child %q", e.prefix, conn, child)
	}
	part(ch)
	return nil
}

// SetPSK changes this node's pre-shared key for a connection, both directions: one key
// for every peer from now on.
func (e *Core) SetPSK(conn string, psk []byte) error {
	c, err := e.Conn(conn)
	if err != nil {
		return err
	}
	c.Local.PSK = slices.Clone(psk)
	c.Remote.PSK = slices.Clone(psk)
	c.Local.PSKFor, c.Remote.PSKFor = nil, nil
	e.Action("Pre-shared key of connection %s changed", conn)
	return nil
}

// Random is n random bytes.
func (e *Core) Random(n int) []byte {
	b := make([]byte, n)
	io.ReadFull(e.Env.Rand, b)
	return b
}

// SPI32 draws a random ESP or AH SPI (RFC 4303, RFC 4302: values 1-255 are reserved).
func (e *Core) SPI32() uint32 {
	for {
		if v := binary.BigEndian.Uint32(e.Random(4)); v > 255 {
			return v
		}
	}
}
