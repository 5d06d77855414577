package live

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim"
)

// The host is the IKE engine's Transport, Clock and Observer, as sim.Node is in a
// simulated run, on real sockets and the wall clock.

var (
	_ ike.Transport     = (*Host)(nil)
	_ ike.Clock         = (*Host)(nil)
	_ ike.Observer      = (*Host)(nil)
	_ ike.VirtualIPHost = (*Host)(nil)
	_ ike.AcquireHost   = (*Host)(nil)
)

// Send puts an IKE message on the wire (ike.Transport), with the non-ESP marker where
// neither port is 500.
func (h *Host) Send(dg ike.Datagram) {
	data := dg.Data
	if framed(dg.Local.Port(), dg.Remote.Port()) {
		data = append(make([]byte, 4), data...) // RFC 3948, Section 2.2: the non-ESP marker
	}
	e := &sim.Event{Kind: sim.KindMessage, From: h.cfg.Node, To: h.peer(dg.Remote.Addr()), Src: dg.Local.String(),
		Dst: dg.Remote.String(), Proto: "ike"}
	d := h.dissector()
	if i := dg.Info; i != nil {
		describe(e, i)
		d.IKE = func([]byte) *ike.Field { return i.Dissect() }
	}
	h.transmit(e, dg.Local, dg.Remote, data, d)
}

// SendKeepalive sends a NAT-keepalive (ike.Transport; RFC 3948, Section 2.3).
func (h *Host) SendKeepalive(local, remote netip.AddrPort) {
	e := &sim.Event{Kind: sim.KindMessage, From: h.cfg.Node, To: h.peer(remote.Addr()), Src: local.String(),
		Dst: remote.String(), Proto: "nat-keepalive", Summary: "NAT-keepalive"}
	h.transmit(e, local, remote, []byte{0xff}, h.dissector())
}

// describe puts what the engine knows of an IKE message on its event.
func describe(e *sim.Event, i *ike.MessageInfo) {
	e.Proto = fmt.Sprintf("ikev%d", i.Version)
	e.Exchange, e.Summary, e.Response, e.Retransmit, e.Weak = i.Exchange, i.Summary, i.Response, i.Retransmit, i.Weak
	id := i.MessageID
	e.MessageID = &id
}

// transmit records a datagram as the node's message and sends it from the socket of
// its local port.
func (h *Host) transmit(e *sim.Event, local, remote netip.AddrPort, data []byte, d ipsec.Dissector) {
	e.Bytes = h.wire(local, remote, h.nextID(), data)
	e.Dissection = d.IPv4(e.Bytes)
	h.emit(e)
	c := h.socks[local.Port()]
	if c == nil || local.Addr() != h.addr.Addr() {
		h.emit(&sim.Event{Kind: sim.KindDrop, Ref: e.Seq, Text: fmt.Sprintf("the node has no socket on %s", local)})
		return
	}
	if _, err := c.WriteToUDPAddrPort(data, remote); err != nil {
		h.emit(&sim.Event{Kind: sim.KindDrop, Ref: e.Seq, Text: "send: " + err.Error()})
	}
}

// Now is the wall clock (ike.Clock).
func (h *Host) Now() time.Time { return time.Now() }

// liveTimer is a Clock timer whose callback runs on the event loop.
type liveTimer struct {
	h     *Host
	name  string
	t     *time.Timer
	ended bool // fired or stopped
}

// AfterFunc runs f on the event loop after d and records the timer (ike.Clock).
func (h *Host) AfterFunc(d time.Duration, name string, f func()) ike.Timer {
	lt := &liveTimer{h: h, name: name}
	due := h.now() + sim.Seconds(d)
	h.emit(&sim.Event{Kind: sim.KindTimer, Timer: name, Op: "start", Due: &due})
	h.timers[lt] = struct{}{}
	lt.t = time.AfterFunc(d, func() {
		h.post(func() {
			if lt.ended {
				return // stopped after time.Timer had fired
			}
			lt.ended = true
			delete(h.timers, lt)
			h.emit(&sim.Event{Kind: sim.KindTimer, Timer: name, Op: "fire"})
			f()
		})
	})
	return lt
}

// Stop cancels the timer; it reports whether it was still pending.
func (t *liveTimer) Stop() bool {
	if t.ended {
		return false
	}
	t.ended = true
	t.t.Stop()
	delete(t.h.timers, t)
	t.h.emit(&sim.Event{Kind: sim.KindTimer, Timer: t.name, Op: "cancel"})
	return true
}

// Action records a step the node takes (ike.Observer).
func (h *Host) Action(text string) { h.emit(&sim.Event{Kind: sim.KindAction, Text: text}) }

// Info records scenario bookkeeping, such as a timeline step, as a simulated run does.
func (h *Host) Info(text string) { h.emit(&sim.Event{Kind: sim.KindInfo, Text: text}) }

// State records a state change (ike.Observer).
func (h *Host) State(machine, from, to string) {
	h.emit(&sim.Event{Kind: sim.KindState, Machine: machine, FromState: from, ToState: to})
}

// Error records a failure (ike.Observer).
func (h *Host) Error(text string) { h.emit(&sim.Event{Kind: sim.KindError, Text: text}) }

// Received puts the engine's reading of the message being handled on its message and
// recv events (ike.Observer): the message shows decrypted as the node read it.
func (h *Host) Received(dg ike.Datagram) {
	if h.curMsg == nil || dg.Info == nil {
		return
	}
	h.readAs(dg.Info)
	r := h.curRecv
	r.Exchange, r.Summary, r.Response = dg.Info.Exchange, dg.Info.Summary, dg.Info.Response
	r.Proto, r.MessageID = h.curMsg.Proto, h.curMsg.MessageID
}

// readAs describes the message being handled as the engine read it.
func (h *Host) readAs(i *ike.MessageInfo) {
	m := h.curMsg
	describe(m, i)
	if i.Dissect != nil {
		d := h.dissector()
		d.IKE = func([]byte) *ike.Field { return i.Dissect() }
		m.Dissection = d.IPv4(m.Bytes)
	}
}

// Dropped records an IKE message the engine discarded (ike.Observer).
func (h *Host) Dropped(dg ike.Datagram, reason string) {
	e := &sim.Event{Kind: sim.KindDrop, Src: dg.Remote.String(), Dst: dg.Local.String(), Text: reason}
	if h.curMsg != nil {
		e.Ref = h.curMsg.Seq
		if dg.Info != nil {
			h.readAs(dg.Info)
		}
	}
	if dg.Info != nil {
		e.Proto, e.Exchange = fmt.Sprintf("ikev%d", dg.Info.Version), dg.Info.Exchange
	}
	h.emit(e)
}

// IKESAUp records an IKE SA with its keys (ike.Observer).
func (h *Host) IKESAUp(sa *ike.IKESAInfo) {
	h.ikeUp[[2]uint64{sa.SPIi, sa.SPIr}] = true
	h.emit(&sim.Event{Kind: sim.KindSA, Op: "up", SA: sim.IKESARecord(sa), Weak: sa.Proposal.Weak()})
}

// IKESADown records the end of an IKE SA (ike.Observer).
func (h *Host) IKESADown(sa *ike.IKESAInfo, reason string) {
	delete(h.ikeUp, [2]uint64{sa.SPIi, sa.SPIr})
	r := sim.IKESARecord(sa)
	r.Reason = reason
	h.emit(&sim.Event{Kind: sim.KindSA, Op: "down", SA: r})
}

// AssignVirtualIP takes the inner address the peer assigned (ike.VirtualIPHost).
func (h *Host) AssignVirtualIP(a netip.Addr) {
	if a.IsValid() {
		h.Action(fmt.Sprintf("Take virtual IP %s as the inner address", a))
	} else if h.virtualIP.IsValid() {
		h.Action(fmt.Sprintf("Give back virtual IP %s", h.virtualIP))
	}
	h.virtualIP = a
}
