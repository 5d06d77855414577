package live

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim/trace"
)

// The host is the IKE engine's Transport, Clock and Observer, as sim.Node is in a
// simulated run, on real sockets and the wall clock.

var (
	_ ike.Transport     = (*Host)(nil)
	_ ike.Clock         = (*Host)(nil)
	_ ike.Observer      = (*Host)(nil)
	_ ike.VirtualIPHost = (*Host)(nil)
	_ ike.AcquireHost   = (*Host)(nil)
	_ ike.TrafficHost   = (*Host)(nil)
)

// Send puts an IKE message on the wire (ike.Transport), with the non-ESP marker where
// neither port is 500.
func (h *Host) Send(dg ike.Datagram) {
	data := dg.Data
	if framed(dg.Local.Port(), dg.Remote.Port()) {
		data = append(make([]byte, 4), data...) // RFC 3948, Section 2.2: the non-ESP marker
	}
	e := &trace.Event{Kind: trace.KindMessage, Wire: &trace.Wire{From: h.cfg.Node, To: h.peer(dg.Remote.Addr()),
		Src: dg.Local.String(), Dst: dg.Remote.String(), Proto: "ike"}}
	d := h.dissector()
	if i := dg.Info; i != nil {
		trace.DescribeIKE(e, i)
		d.IKE = func([]byte) *ike.Field { return i.Dissect() }
	}
	h.transmit(e, dg.Local, dg.Remote, data, d)
}

// SendKeepalive sends a NAT-keepalive (ike.Transport; RFC 3948, Section 2.3).
func (h *Host) SendKeepalive(local, remote netip.AddrPort) {
	e := &trace.Event{Kind: trace.KindMessage, Wire: &trace.Wire{From: h.cfg.Node, To: h.peer(remote.Addr()),
		Src: local.String(), Dst: remote.String(), Proto: "nat-keepalive", Summary: "NAT-keepalive"}}
	h.transmit(e, local, remote, []byte{0xff}, h.dissector())
}

// transmit records a datagram as the node's message and sends it from the socket of
// its local port.
func (h *Host) transmit(e *trace.Event, local, remote netip.AddrPort, data []byte, d ipsec.Dissector) {
	w := trace.WireOf(e)
	w.Bytes = h.wire(local, remote, h.NextID(), data)
	w.Dissection = d.IPv4(e.Bytes())
	h.emit(e)
	c := h.socks[local.Port()]
	if c == nil || local.Addr() != h.addr.Addr() {
		h.drop(e.Seq, trace.DropSend, fmt.Sprintf("the node has no socket on %s", local))
		return
	}
	if _, err := c.WriteToUDPAddrPort(data, remote); err != nil {
		h.drop(e.Seq, trace.DropSend, "send: "+err.Error())
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
	due := h.now() + trace.Seconds(d)
	h.Timer(trace.OpStart, name, &due)
	h.timers[lt] = struct{}{}
	lt.t = time.AfterFunc(d, func() {
		h.post(func() {
			if lt.ended {
				return // stopped after time.Timer had fired
			}
			lt.ended = true
			delete(h.timers, lt)
			h.Timer(trace.OpFire, name, nil)
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
	t.h.Timer(trace.OpCancel, t.name, nil)
	return true
}

// Received completes the message being handled with the engine's reading of it
// (ike.Observer): the message shows decrypted as the node read it, and its recv event
// says what it is.
func (h *Host) Received(dg ike.Datagram) {
	if h.curMsg == nil || dg.Info == nil {
		return
	}
	h.readAs(dg.Info)
	h.Recorder.Received(dg)
	r := h.Recv
	w := trace.WireOf(r)
	w.Proto, w.MessageID = h.curMsg.Proto(), h.curMsg.MessageID()
	r.SetDissect(nil)
}

// readAs describes the message being handled as the engine read it.
func (h *Host) readAs(i *ike.MessageInfo) {
	m := h.curMsg
	w := trace.WireOf(m)
	trace.DescribeIKE(m, i)
	if i.Dissect != nil {
		d := h.dissector()
		d.IKE = func([]byte) *ike.Field { return i.Dissect() }
		w.Dissection = d.IPv4(m.Bytes())
	}
}

// Dropped records an IKE message the engine discarded (ike.Observer).
func (h *Host) Dropped(dg ike.Datagram, reason string) {
	if h.curMsg != nil && dg.Info != nil {
		h.readAs(dg.Info)
	}
	h.Recorder.Dropped(dg, reason)
}

// IKESAUp records an IKE SA with its keys (ike.Observer).
func (h *Host) IKESAUp(sa *ike.IKESAInfo) {
	h.ikeUp[[2]uint64{sa.SPIi, sa.SPIr}] = true
	h.Recorder.IKESAUp(sa)
}

// IKESADown records the end of an IKE SA (ike.Observer).
func (h *Host) IKESADown(sa *ike.IKESAInfo, reason string) {
	delete(h.ikeUp, [2]uint64{sa.SPIi, sa.SPIr})
	h.Recorder.IKESADown(sa, reason)
}
