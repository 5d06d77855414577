package live

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// Flow of a datagram from the peer:
//  1. A reader goroutine per socket reads it and posts it to the event loop.
//  2. The loop rebuilds the IPv4/UDP packet around it (the socket does not show the
//     headers) and records it as the peer's message, and its arrival as a recv event.
//  3. The UDP ports say how it is framed: IKE goes to the engine, ESP through the SAD to
//     the node's IP stack, a NAT-keepalive nowhere.
//  4. Once the callback is over, OnEvent sees the events it made, the message complete
//     with the engine's reading of it.

// Config says which node runs where.
type Config struct {
	// Node is the node's name in the trace.
	Node string
	// Listen is the UDP address of IKE, and of ESP in UDP. Port 500 opens port 4500 too,
	// for NAT traversal; any other port carries RFC 3948 framing for both. Port 0 picks
	// a free port (Host.Addr says which).
	Listen netip.AddrPort
	// Addrs are the node's own inner addresses: it answers the pings to them that come
	// through a Child SA and sends its own pings from them.
	Addrs []netip.Addr
	// Peers names the real peers in the trace by address; other peers appear as their
	// address.
	Peers map[netip.Addr]string
	// Rand gives every random byte (SPIs, nonces, Diffie-Hellman values, IVs); nil is
	// crypto/rand.
	Rand io.Reader
	// OnEvent, when set, sees every event after the callback that made it is over. It
	// runs on the host's event loop and must not block. It sees every event, even those
	// the trace has let go since (Window): a run streams its trace and capture through it.
	OnEvent func(*trace.Event)
	// Window bounds what Host.Trace keeps: once it holds Window events, or events whose
	// datagrams total WindowBytes, the oldest half of them are let go
	// (trace.Trace.Forget). 0 is DefaultWindow and DefaultWindowBytes; -1 keeps every
	// event.
	Window, WindowBytes int
}

// The default bounds of the trace a live host keeps in memory: a hostile peer's
// datagrams must not grow it forever. An event of an IKE_SA_INIT flood (the request, its
// arrival, the responder's step and its COOKIE) holds some 5.6 KB with its dissection,
// so the window holds some 30 MB of such events; the byte bound keeps large datagrams
// from multiplying that.
const (
	DefaultWindow      = 5000
	DefaultWindowBytes = 4 << 20
)

// Host is one node on real sockets.
type Host struct {
	// Recorder records the node's events; the host is its engine's ike.Observer
	// through it.
	trace.Recorder
	// Stack is the node's IPsec stack, a simulated node's (esp.go). Its IKE is the
	// node's engine; set it with SetDaemon.
	sim.Stack
	cfg Config
	// Trace holds the newest of the node's events (Config.Window); OnEvent sees them all.
	Trace *trace.Trace

	start     time.Time
	rand      io.Reader
	addr      netip.AddrPort // the listening address, with the port picked
	socks     map[uint16]*net.UDPConn
	ops       chan func()
	closed    chan struct{}
	once      sync.Once
	readers   sync.WaitGroup
	pending   []*trace.Event
	keptBytes int // the bytes of the datagrams of the trace's events (window)

	// The datagram being handled: its message event (its recv event is Recorder.Recv).
	curMsg *trace.Event

	ikeUp    map[[2]uint64]bool      // established IKE SAs by SPIs
	espPorts map[uint32]espEnds      // outbound SPI -> the UDP ends its packets take
	timers   map[*liveTimer]struct{} // pending timers, stopped on Close
}

// espEnds are the UDP ends of a Child SA's ESP packets.
type espEnds struct{ local, remote netip.AddrPort }

// New opens the node's sockets. Call SetDaemon, then Run; Close (or Shutdown) frees the
// sockets.
func New(cfg Config) (*Host, error) {
	if !cfg.Listen.Addr().IsValid() || cfg.Listen.Addr().IsUnspecified() || cfg.Listen.Addr().Is4In6() {
		return nil, fmt.Errorf("live: listen address %s: give the IPv4 or IPv6 address the peer reaches (not 0.0.0.0 or ::), as ESP and the trace need it", cfg.Listen)
	}
	if cfg.Node == "" {
		return nil, errors.New("live: the node has no name")
	}
	h := &Host{cfg: cfg, Trace: &trace.Trace{}, start: time.Now(), rand: cfg.Rand,
		socks: map[uint16]*net.UDPConn{}, ops: make(chan func(), 64), closed: make(chan struct{}),
		ikeUp: map[[2]uint64]bool{}, espPorts: map[uint32]espEnds{}, timers: map[*liveTimer]struct{}{}}
	if h.rand == nil {
		h.rand = rand.Reader
	}
	switch {
	case h.cfg.Window == 0:
		h.cfg.Window, h.cfg.WindowBytes = DefaultWindow, DefaultWindowBytes
	case h.cfg.Window < 0:
		h.cfg.Window, h.cfg.WindowBytes = 0, 0
	case h.cfg.WindowBytes <= 0:
		h.cfg.WindowBytes = DefaultWindowBytes
	}
	h.Recorder = trace.Recorder{Node: cfg.Node, Emit: h.record}
	h.Stack = sim.NewStack(h, &h.Recorder, h.rand)
	ports := []uint16{cfg.Listen.Port()}
	if cfg.Listen.Port() == ike.PortIKE {
		ports = append(ports, ike.PortNATT)
	}
	for _, p := range ports {
		network := "udp4"
		if cfg.Listen.Addr().Is6() {
			network = "udp6"
		}
		c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(cfg.Listen.Addr(), p)))
		if err != nil {
			h.closeSockets()
			return nil, fmt.Errorf("live: %v", err)
		}
		bound := c.LocalAddr().(*net.UDPAddr).AddrPort()
		h.socks[bound.Port()] = c
		if !h.addr.IsValid() {
			h.addr = netip.AddrPortFrom(cfg.Listen.Addr(), bound.Port())
		}
	}
	h.topology()
	for port, c := range h.socks {
		h.readers.Add(1)
		go h.read(port, c)
	}
	return h, nil
}

// Addr is the address the node listens on, with the port the system picked for port 0.
func (h *Host) Addr() netip.AddrPort { return h.addr }

// topology opens the trace as a simulated run's does: one event per node, which orders
// the lanes of a diagram.
func (h *Host) topology() {
	var inner []string
	for _, a := range h.cfg.Addrs {
		inner = append(inner, a.String())
	}
	text := fmt.Sprintf("node %s: ikesim, live on UDP %s", h.cfg.Node, h.addr)
	if len(inner) > 0 {
		text += ", inner address " + strings.Join(inner, ", ")
	}
	self := &trace.Topology{NodeKind: "gateway", Live: h.addr.String()}
	for _, a := range h.cfg.Addrs {
		self.Ifaces = append(self.Ifaces, trace.Iface{Prefix: netip.PrefixFrom(a, a.BitLen()).String()})
	}
	h.emit(&trace.Event{Kind: trace.KindTopology, Text: text, Topology: self})
	peers := make([]netip.Addr, 0, len(h.cfg.Peers))
	for a := range h.cfg.Peers {
		peers = append(peers, a)
	}
	slices.SortFunc(peers, netip.Addr.Compare)
	for _, a := range peers {
		name := h.cfg.Peers[a]
		h.emit(&trace.Event{Kind: trace.KindTopology, Node: name, Text: fmt.Sprintf("node %s: a real IKE peer at %s", name, a),
			Topology: &trace.Topology{NodeKind: "peer", Live: a.String()}})
	}
}

// Env is the environment of the node's IKE engine.
func (h *Host) Env() ike.Env {
	return ike.Env{Transport: h, Clock: h, Rand: h.rand, Observer: h}
}

// SetDaemon makes d the node's engine and installs its trap policies.
func (h *Host) SetDaemon(d ike.Daemon) {
	h.IKE = d
	for _, t := range d.Traps() {
		sim.InstallPolicies(h.SPD, t.ReqID, t.Conn+"/"+t.Child, t.LocalTS, t.RemoteTS)
	}
}

// read posts every datagram of one socket to the event loop until the socket closes.
func (h *Host) read(port uint16, c *net.UDPConn) {
	defer h.readers.Done()
	local := netip.AddrPortFrom(h.addr.Addr(), port)
	buf := make([]byte, 65535)
	for {
		n, remote, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			h.post(func() { h.Errorf("receive: %v", err) })
			continue
		}
		data := append([]byte(nil), buf[:n]...)
		remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
		h.post(func() { h.datagram(local, remote, data) })
	}
}

// post queues f for the event loop; it gives up once the host is closed.
func (h *Host) post(f func()) {
	select {
	case h.ops <- f:
	case <-h.closed:
	}
}

// Run is the event loop: it runs every callback, one at a time, until ctx is done.
func (h *Host) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-h.ops:
			h.run(f)
		}
	}
}

// run runs one callback, shows its events to OnEvent and keeps the trace within its
// window.
func (h *Host) run(f func()) {
	h.call(f)
	ev := h.pending
	h.pending = nil
	if h.cfg.OnEvent != nil {
		for _, e := range ev {
			h.call(func() { h.cfg.OnEvent(e) }) // its panic's error shows with the next callback
		}
	}
	h.window(ev)
}

// call runs one callback (or OnEvent on one event). A panic in it is a bug, but no
// datagram may stop the node: the last-resort recover records it as an error event with
// its stack, and the datagram being handled, if any, as dropped.
func (h *Host) call(f func()) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		stack := debug.Stack()
		msg := h.curMsg
		h.curMsg, h.Recv, h.Ref = nil, nil, 0
		what := "a callback"
		if msg != nil {
			what = "a datagram from " + msg.Src()
		}
		e := &trace.Event{Kind: trace.KindError, Text: fmt.Sprintf("panic handling %s (a bug in ikesim): %v\n%s", what, v, stack),
			Failure: &trace.Failure{Reason: ike.FailInternal}}
		if msg != nil {
			e.Wire = &trace.Wire{Ref: msg.Seq}
		}
		h.emit(e)
		if msg != nil {
			h.drop(msg.Seq, trace.DropOther, fmt.Sprintf("handling the datagram panicked: %v", v))
		}
	}()
	f()
}

// window lets the oldest half of the trace go once it holds more than the host keeps;
// ev are the events just recorded.
func (h *Host) window(ev []*trace.Event) {
	if h.cfg.Window <= 0 {
		return
	}
	for _, e := range ev {
		h.keptBytes += len(e.Bytes())
	}
	events := h.Trace.Events
	if len(events) < h.cfg.Window && h.keptBytes < h.cfg.WindowBytes {
		return
	}
	n, bytes := len(events)/2, 0
	for _, e := range events[:n] {
		bytes += len(e.Bytes())
	}
	h.Trace.Forget(n)
	h.keptBytes -= bytes
}

// Do runs f on the event loop and waits for it; call it from another goroutine while Run
// runs. It reports false when the host is closed.
func (h *Host) Do(f func()) bool {
	done := make(chan struct{})
	select {
	case h.ops <- func() { defer close(done); f() }:
	case <-h.closed:
		return false
	}
	select {
	case <-done:
		return true
	case <-h.closed:
		return false
	}
}

// IKESAs is how many IKE SAs are established. Call it on the event loop.
func (h *Host) IKESAs() int { return len(h.ikeUp) }

// Shutdown deletes every established IKE SA and ISAKMP SA of every connection
// (Daemon.DeleteAll), runs the event loop until the peer has answered every delete or
// grace has passed, and closes the host. Call it once Run has returned, from the
// goroutine that called Run.
func (h *Host) Shutdown(grace time.Duration) {
	h.run(func() {
		if len(h.ikeUp) == 0 {
			return
		}
		h.emit(&trace.Event{Kind: trace.KindInfo, Node: trace.ScenarioNode, Text: fmt.Sprintf("%s shuts down: delete its IKE SAs and wait for the peer's answers", h.cfg.Node)})
		h.IKE.DeleteAll()
	})
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	for len(h.ikeUp) > 0 {
		select {
		case f := <-h.ops:
			h.run(f)
		case <-deadline.C:
			h.run(func() {
				h.Errorf("%d IKE SA(s) still up after %s: the peer did not answer the delete in time", len(h.ikeUp), grace)
			})
			h.Close()
			return
		}
	}
	h.Close()
}

// Close stops the engine and every timer and closes the sockets. The trace stays.
func (h *Host) Close() {
	h.once.Do(func() {
		if h.IKE != nil {
			h.run(h.IKE.Close) // its last events (an IKEv1 phase 1 cut short) reach OnEvent too
		}
		for t := range h.timers {
			t.t.Stop()
		}
		close(h.closed)
		h.closeSockets()
		h.readers.Wait()
	})
}

func (h *Host) closeSockets() {
	for _, c := range h.socks {
		c.Close()
	}
}

// now is the time since the host started, the trace's clock.
func (h *Host) now() trace.Seconds { return trace.Seconds(time.Since(h.start)) }

func (h *Host) emit(e *trace.Event) {
	if e.Node == "" {
		e.Node = h.cfg.Node
	}
	h.record(e)
}

// record stamps an event with the time since the start and records it.
func (h *Host) record(e *trace.Event) {
	e.T = h.now()
	h.Trace.Emit(e)
	h.pending = append(h.pending, e)
}

// peer names the node at address a.
func (h *Host) peer(a netip.Addr) string {
	if n, ok := h.cfg.Peers[a]; ok {
		return n
	}
	return a.String()
}

// framed reports whether a datagram between two ports has RFC 3948 framing: neither
// port is IKE's 500 (strongSwan's rule, which covers 4500).
func framed(local, remote uint16) bool { return local != ike.PortIKE && remote != ike.PortIKE }

// isMarker reports whether b starts with the non-ESP marker (RFC 3948, Section 2.2).
func isMarker(b []byte) bool { return len(b) >= 4 && binary.BigEndian.Uint32(b) == 0 }

// isKeepalive reports whether b is a NAT-keepalive (RFC 3948, Section 2.3).
func isKeepalive(b []byte) bool { return len(b) == 1 && b[0] == 0xff }

// dissector dissects the node's wire packets, with RFC 3948 framing on its own ports.
func (h *Host) dissector() ipsec.Dissector {
	var d ipsec.Dissector
	for p := range h.socks {
		if p != ike.PortIKE {
			d.NATTPorts = append(d.NATTPorts, p)
		}
	}
	return d
}

// wire rebuilds the IPv4 or IPv6 packet a UDP payload travels in, for the trace and pcaps.
func (h *Host) wire(src, dst netip.AddrPort, id uint16, payload []byte) []byte {
	pkt, err := ipsec.NewUDPPacket(src, dst, id, payload)
	if err != nil {
		h.Errorf("cannot build the UDP datagram: %v", err)
	}
	return pkt
}

// datagram handles one datagram from the peer.
func (h *Host) datagram(local, remote netip.AddrPort, data []byte) {
	peer := h.peer(remote.Addr())
	w := &trace.Wire{From: peer, To: h.cfg.Node, Src: remote.String(), Dst: local.String(), Bytes: h.wire(remote, local, 0, data)}
	msg := &trace.Event{Kind: trace.KindMessage, Node: peer, Wire: w}
	arrive := h.now()
	w.Arrive = &arrive
	d := h.dissector()
	isFramed := framed(local.Port(), remote.Port())
	switch {
	case isFramed && isKeepalive(data):
		w.Proto, w.Summary = "nat-keepalive", "NAT-keepalive"
	case isFramed && !isMarker(data):
		w.Proto = "esp"
		w.Summary = espSummary(data)
		d.SA = func(spi uint32, _ netip.Addr) *ipsec.SA { return h.SAD.Inbound(spi) }
	default:
		ikeMessage(msg, data, isFramed)
	}
	w.Dissection = d.IPv4(msg.Bytes())
	h.emit(msg)
	recv := &trace.Event{Kind: trace.KindRecv, Wire: &trace.Wire{Ref: msg.Seq, From: msg.From(), To: msg.To(),
		Src: msg.Src(), Dst: msg.Dst(), Proto: msg.Proto(), Summary: msg.Summary(), MessageID: msg.MessageID()}}
	h.emit(recv)
	switch msg.Proto() {
	case "nat-keepalive":
		// Nothing to do: it only keeps a NAT mapping alive.
	case "esp":
		h.receiveESP(local, remote, data, msg)
	default:
		if isFramed {
			data = data[4:]
		}
		if h.IKE == nil {
			h.drop(msg.Seq, trace.DropNoDaemon, "no IKE daemon on this node")
			return
		}
		h.curMsg, h.Recv, h.Ref = msg, recv, msg.Seq
		h.IKE.HandleDatagram(local, remote, data)
		h.curMsg, h.Recv, h.Ref = nil, nil, 0
	}
}

// ikeMessage fills in what the IKE header of a received message says, before the engine
// reads the rest.
func ikeMessage(e *trace.Event, data []byte, isFramed bool) {
	w := trace.WireOf(e)
	if isFramed {
		data = data[4:]
	}
	w.Proto, w.Summary = "ike", fmt.Sprintf("IKE message (%d bytes)", len(data))
	if len(data) < 28 {
		return
	}
	switch data[17] >> 4 {
	case 1:
		w.Proto = "ikev1"
	case 2:
		w.Proto = "ikev2"
	}
	id := binary.BigEndian.Uint32(data[20:24])
	w.MessageID = &id
}

func espSummary(b []byte) string {
	if len(b) < 8 {
		return "truncated ESP"
	}
	return fmt.Sprintf("ESP SPI 0x%08x seq %d", binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:]))
}

// drop records a datagram or packet the node discards; ref is its message event.
func (h *Host) drop(ref int, cause trace.DropCause, reason string) { h.Drop(ref, cause, reason, nil) }
