package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/gopacket/gopacket/layers"
	"io"
	"maps"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/sim/live"
	"github.com/ikesim/ikesim/sim/trace"
)

// ikesim live: one node of a scenario on real UDP sockets, against a real IKE peer.
//
//  1. The node's connections come from the scenario, with its outer address replaced by
//     --listen and each peer node's by its --peer address and port.
//  2. The node runs on a live.Host: real sockets, the wall clock, userspace ESP in UDP.
//  3. Its own timeline steps (initiate, rekey, delete, liveness, set_psk, pings from
//     it) run at their times from the start; --initiate starts every connection at once.
//  4. Ctrl-C (SIGINT, SIGTERM) deletes every IKE SA and ISAKMP SA the node holds, of
//     every connection (older ones too), waits at most --grace for the answers, and
//     writes the trace.

// peerFlags is --peer NAME=ADDR:PORT, repeated.
type peerFlags map[string]netip.AddrPort

func (p peerFlags) String() string {
	var s []string
	for _, name := range slices.Sorted(maps.Keys(p)) {
		s = append(s, name+"="+p[name].String())
	}
	return strings.Join(s, ",")
}
func (p peerFlags) Type() string { return "NAME=ADDR:PORT" }
func (p peerFlags) Set(v string) error {
	name, addr, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("%q is not NAME=ADDR:PORT", v)
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return fmt.Errorf("%q: %v", v, err)
	}
	p[name] = ap
	return nil
}

// liveOptions are the command line of ikesim live.
type liveOptions struct {
	scenario string
	node     string
	listen   netip.AddrPort
	peers    peerFlags
	initiate bool
	grace    time.Duration // how long a shutdown waits for the peer's answers
	duration time.Duration // 0: until Ctrl-C
	verbose  bool
	trace    string // JSON Lines trace file
	pcap     string
	keys     string
	stderr   io.Writer // warnings (default os.Stderr)
	// ready, when set, gets the host and its engine once the event loop runs (tests).
	ready func(*live.Host, ike.Daemon)
	// window, when set, bounds the trace the host keeps (live.Config.Window; tests).
	window int
}

func init() {
	register(func() *cobra.Command {
		o := liveOptions{peers: peerFlags{}}
		var listen string
		cmd := &cobra.Command{
			Use:   "live SCENARIO --node NAME --listen ADDR:PORT --peer PEER=ADDR:PORT",
			Short: "One node of a scenario on real UDP sockets, against a real IKE peer",
			Long: `live plays node NAME of SCENARIO on a real UDP socket at --listen, on the wall clock,
against a real IKE daemon (strongSwan, say) that plays node PEER at the --peer address.
The node's own timeline steps (initiate, rekey, delete, liveness, set_psk, pings) run at
their times; --initiate starts every connection at once. ESP runs in userspace,
UDP-encapsulated on the node's socket. --trace and --pcap stream to their files as the
node runs. Ctrl-C (or --duration) deletes the IKE SAs, waits --grace for the answers,
completes the trace and pcap, and writes the key tables asked for.`,
			Example: `  ikesim live interop.yaml --node ikesim --listen 127.0.0.2:25500 --peer charon=127.0.0.1:15500 --initiate
  ikesim live ikev2-ping --node gw-a --listen 192.0.2.10:500 --peer gw-b=192.0.2.20:500 --trace live.jsonl
  ikesim live lab.yaml --node a --listen 127.0.0.1:14000 --peer b=127.0.0.1:15000 --duration 30s --pcap live.pcap --keys keys`,
			Args:              exactArgs(1, "one SCENARIO"),
			ValidArgsFunction: completeScenario,
			RunE: func(cmd *cobra.Command, args []string) error {
				o.scenario = args[0]
				if o.node == "" || listen == "" {
					return usagef("live needs --node NAME and --listen ADDR:PORT")
				}
				var err error
				if o.listen, err = netip.ParseAddrPort(listen); err != nil {
					return usagef("live: --listen %s: %v", listen, err)
				}
				ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				o.stderr = cmd.ErrOrStderr()
				return runLive(ctx, o, cmd.OutOrStdout())
			},
		}
		f := cmd.Flags()
		f.StringVar(&o.node, "node", "", "the scenario node ikesim plays (required)")
		f.StringVar(&listen, "listen", "", "`ADDR:PORT` of the node's UDP socket; port 500 opens 4500 too (required)")
		f.Var(o.peers, "peer", "`NAME=ADDR:PORT`: scenario node NAME is the real peer at ADDR:PORT (repeatable)")
		f.BoolVar(&o.initiate, "initiate", false, "initiate every connection of the node at the start")
		f.DurationVar(&o.grace, "grace", 3*time.Second, "how long Ctrl-C waits for the peer to answer the deletes")
		f.DurationVar(&o.duration, "duration", 0, "stop (as Ctrl-C does) after this long; 0 runs until Ctrl-C")
		f.BoolVarP(&o.verbose, "verbose", "v", false, "print every action and state change, not only messages and SAs")
		f.StringVar(&o.trace, "trace", "", "write the trace as JSON Lines to this `FILE` (for ikesim tui and render)")
		f.StringVar(&o.pcap, "pcap", "", "write what crossed the socket as a pcap `FILE`")
		f.StringVar(&o.keys, "keys", "", "`DIR`ectory for the Wireshark key tables of the SAs")
		cmd.RegisterFlagCompletionFunc("node", completeNode)
		cmd.RegisterFlagCompletionFunc("peer", completePeer)
		// A daemon facing the network: its memory must stay bounded under a flood, so it
		// keeps Go's default garbage collector (TestLiveFlood).
		cmd.Annotations = map[string]string{annotationGC: gcDefault}
		return cmd
	})
}

// runLive runs the node until ctx is done (or the duration passes), then shuts it down
// and writes its outputs.
func runLive(ctx context.Context, o liveOptions, w io.Writer) error {
	sc, err := loadScenario(o.scenario)
	if err != nil {
		return err
	}
	spec := sc.File.Node(o.node)
	if spec == nil {
		return usagef("live: scenario %s has no node %q%s", sc.File.Name, o.node, didYouMean(o.node, nodeNames(sc)))
	}
	conns, err := sc.NodeConnections(o.node)
	if err != nil {
		return usagef("live: %v", err)
	}
	inner := innerAddrs(spec, conns) // before the connections move to the real addresses
	peerNames, err := placeConnections(sc, o, conns)
	if err != nil {
		return err
	}
	out, err := openLiveOutputs(o, w)
	if err != nil {
		return err
	}
	defer out.close()
	h, err := live.New(live.Config{Node: o.node, Listen: o.listen, Addrs: inner, Peers: peerNames, Window: o.window,
		OnEvent: func(e *trace.Event) {
			printEvent(w, e, o.verbose)
			out.event(e)
		}})
	if err != nil {
		return err
	}
	defer h.Close()
	for _, c := range conns {
		c.LocalPort = h.Addr().Port()
	}
	d, err := scenarios.NewDaemon(h.Env(), o.node, conns)
	if err != nil {
		return err
	}
	h.SetDaemon(d)
	fmt.Fprintf(w, "%s of %s, live on UDP %s; Ctrl-C deletes the SAs and stops\n", o.node, sc.File.Name, h.Addr())

	loop := ctx
	if o.duration > 0 {
		var cancel context.CancelFunc
		loop, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	timers := scheduleSteps(h, d, sc, o)
	if o.ready != nil {
		go h.Do(func() { o.ready(h, d) })
	}
	h.Run(loop)
	for _, t := range timers {
		t.Stop() // no timeline step starts during the shutdown
	}
	h.Shutdown(o.grace)
	return out.finish(h.Addr().Port())
}

// nodeNames are the names of a scenario's nodes.
func nodeNames(sc *scenarios.Scenario) []string {
	var names []string
	for _, n := range sc.File.Topology.Nodes {
		names = append(names, n.Name)
	}
	return names
}

// nodeAddrs are the addresses a scenario gives a node.
func nodeAddrs(n *scenarios.NodeSpec) []netip.Addr {
	var addrs []netip.Addr
	for _, p := range n.Prefixes() {
		addrs = append(addrs, p.Addr())
	}
	return addrs
}

// placeConnections moves the node's connections from the scenario's addresses to the
// real ones: the local address becomes --listen, and each remote address of a peer node
// becomes that node's --peer address and port. It returns the peers' names by address.
func placeConnections(sc *scenarios.Scenario, o liveOptions, conns []*ike.Connection) (map[netip.Addr]string, error) {
	owner := map[netip.Addr]string{}
	for i := range sc.File.Topology.Nodes {
		n := &sc.File.Topology.Nodes[i]
		for _, a := range nodeAddrs(n) {
			owner[a] = n.Name
		}
	}
	names := map[netip.Addr]string{}
	for name, ap := range o.peers {
		if sc.File.Node(name) == nil {
			return nil, usagef("live: --peer %s: scenario %s has no node %q%s", name, sc.File.Name, name, didYouMean(name, nodeNames(sc)))
		}
		if name == o.node {
			return nil, usagef("live: --peer %s: that is the node ikesim plays", name)
		}
		names[ap.Addr()] = name
	}
	for _, c := range conns {
		c.LocalAddrs = []netip.Addr{o.listen.Addr()}
		// The node's ESP goes through its UDP socket: ask for UDP encapsulation, as if a
		// NAT were there, so that the peer sends its ESP there too.
		c.Encap = true
		for i, a := range c.RemoteAddrs {
			name := owner[a]
			ap, ok := o.peers[name]
			if !ok {
				if name == "" {
					name = "the node with that address"
				}
				return nil, usagef("live: connection %s talks to %s (%s): say where it really is with --peer %s=ADDR:PORT", c.Name, a, name, name)
			}
			c.RemoteAddrs[i] = ap.Addr()
			if c.RemotePort == 0 {
				c.RemotePort = ap.Port()
			}
		}
	}
	return names, nil
}

// innerAddrs are the node's addresses that its connections do not use outside: the ones
// it answers pings on through a Child SA.
func innerAddrs(n *scenarios.NodeSpec, conns []*ike.Connection) []netip.Addr {
	outer := map[netip.Addr]bool{}
	for _, c := range conns {
		for _, a := range c.LocalAddrs {
			outer[a] = true
		}
	}
	var inner []netip.Addr
	for _, a := range nodeAddrs(n) {
		if !outer[a] {
			inner = append(inner, a)
		}
	}
	return inner
}

// liveTarget runs the node's own timeline steps on the wall clock (scenarios.Target);
// the steps of other nodes are the real peers' business.
type liveTarget struct {
	h      *live.Host
	d      ike.Daemon
	sc     *scenarios.Scenario
	node   string
	timers []*time.Timer
}

var _ scenarios.Target = (*liveTarget)(nil)

func (t *liveTarget) Plays(node string) bool { return node == t.node }

func (t *liveTarget) After(d time.Duration, f func()) {
	t.timers = append(t.timers, time.AfterFunc(d, func() { t.h.Do(f) }))
}

func (t *liveTarget) Daemon(string) ike.Daemon { return t.d }

func (t *liveTarget) PingTarget(_, to string) (netip.Addr, error) {
	if a := pingTarget(t.sc, t.node, to); a.IsValid() {
		return a, nil
	}
	return netip.Addr{}, fmt.Errorf("live: ping to %s: no address for it", to)
}

// Ping sends the pings through the node's Child SAs, one every interval as in the
// simulator (one second when the step gives none), from the live node's inner address
// (whatever the step's source).
func (t *liveTarget) Ping(_ string, _, dst netip.Addr, count int, interval time.Duration) error {
	if interval <= 0 {
		interval = time.Second // the simulator's default
	}
	t.h.Ping(dst, count, interval)
	return nil
}

func (t *liveTarget) SetLink(a, b string, up bool) error {
	return fmt.Errorf("live: a live node changes no link")
}

func (t *liveTarget) Restart(string) error { return fmt.Errorf("live: a live node does not restart") }

func (t *liveTarget) Note(text string) {
	t.h.Emit(&trace.Event{Kind: trace.KindInfo, Node: trace.ScenarioNode, Text: text})
}

func (t *liveTarget) Fail(_ string, err error) { t.h.Errorf("%v", err) }

// scheduleSteps arms the node's own timeline steps (and --initiate) on the wall clock.
func scheduleSteps(h *live.Host, d ike.Daemon, sc *scenarios.Scenario, o liveOptions) []*time.Timer {
	t := &liveTarget{h: h, d: d, sc: sc, node: o.node}
	if o.initiate {
		conns := sc.File.Connections[o.node]
		for _, name := range slices.Sorted(maps.Keys(conns)) {
			t.After(0, func() {
				t.Note("--initiate: " + o.node + " initiates " + name)
				if err := d.Initiate(name, ""); err != nil {
					t.Fail(o.node, err)
				}
			})
		}
	}
	sc.RunTimeline(t)
	return t.timers
}

// pingTarget is the address a ping step goes to: an address, or a node's first address
// that is not the outer one the live node's connections reach it at (a live node sends
// only through its Child SAs).
func pingTarget(sc *scenarios.Scenario, node, to string) netip.Addr {
	if a, err := netip.ParseAddr(to); err == nil {
		return a
	}
	n := sc.File.Node(to)
	if n == nil {
		return netip.Addr{}
	}
	outer := map[string]bool{}
	for _, c := range sc.File.Connections[node] {
		if c == nil {
			continue
		}
		for _, a := range c.RemoteAddrs {
			outer[a] = true
		}
	}
	addrs := nodeAddrs(n)
	for _, a := range addrs {
		if !outer[a.String()] {
			return a
		}
	}
	if len(addrs) > 0 {
		return addrs[0]
	}
	return netip.Addr{}
}

// printEvent prints one line per message, SA, error and drop (and with -v every action
// and state change) as the node runs.
func printEvent(w io.Writer, e *trace.Event, verbose bool) {
	var s string
	switch e.Kind {
	case trace.KindMessage:
		label := e.Summary()
		if e.Exchange() != "" {
			kind := "request"
			if e.Response() {
				kind = "response"
			}
			label = e.Exchange() + " " + kind + " " + e.Summary()
		}
		s = fmt.Sprintf("%s → %s  %s", e.From(), e.To(), label)
	case trace.KindSA:
		what := "IKE SA"
		if e.SA.Type == "child" {
			what = "Child SA " + e.SA.Child
		}
		s = fmt.Sprintf("%s: %s %s", e.Node, what, e.Op)
		if e.SA.Proposal != "" {
			s += " " + e.SA.Proposal
		}
		if e.SA.Reason != "" {
			s += " (" + e.SA.Reason + ")"
		}
	case trace.KindError:
		s = fmt.Sprintf("%s: error: %s", e.Node, e.Text)
	case trace.KindDrop:
		s = fmt.Sprintf("%s: drop: %s", e.Node, e.Text)
	case trace.KindInfo, trace.KindTopology:
		s = e.Text
	case trace.KindAction:
		if !verbose {
			return
		}
		s = fmt.Sprintf("%s: %s", e.Node, e.Text)
	case trace.KindState:
		if !verbose {
			return
		}
		s = fmt.Sprintf("%s: %s: %s → %s", e.Node, e.Machine(), e.FromState(), e.ToState())
	default:
		return
	}
	fmt.Fprintf(w, "%9s  %s\n", e.T, s)
}

// liveOutputs are the trace, pcap and key tables of a live run. The trace and the pcap
// stream to their files as the events come, so that a long run (or a flood of datagrams)
// does not keep them in memory; the key tables are written at the end from the SA events
// that carry keys, which are kept aside (the newest maxKeyEvents of them).
type liveOutputs struct {
	o          liveOptions
	w          io.Writer
	traceFile  *os.File
	traceBuf   *bufio.Writer
	json       *json.Encoder
	pcapFile   *os.File
	pcapBuf    *bufio.Writer
	pcap       *trace.PcapWriter
	keyEvents  *trace.Trace
	keysCapped bool
	err        error // the first write error
}

// maxKeyEvents bounds the SA events kept for the key tables: some 400 bytes each.
const maxKeyEvents = 10000

// openLiveOutputs creates the trace and pcap files asked for, so that a path that
// cannot be written fails before the node starts.
func openLiveOutputs(o liveOptions, w io.Writer) (*liveOutputs, error) {
	out := &liveOutputs{o: o, w: w, keyEvents: &trace.Trace{}}
	if o.trace != "" {
		f, err := os.Create(o.trace)
		if err != nil {
			return nil, err
		}
		out.traceFile, out.traceBuf = f, bufio.NewWriterSize(f, 1<<16)
		out.json = json.NewEncoder(out.traceBuf)
	}
	if o.pcap != "" {
		f, err := os.Create(o.pcap)
		if err != nil {
			out.close()
			return nil, err
		}
		out.pcapFile, out.pcapBuf = f, bufio.NewWriterSize(f, 1<<16)
		// The link type goes in the file header before the first datagram: raw IP when
		// the node speaks IPv6, raw IPv4 otherwise, as WritePcap chooses for a trace.
		lt := layers.LinkTypeIPv4
		if o.listen.Addr().Unmap().Is6() {
			lt = layers.LinkTypeRaw
		}
		if out.pcap, err = trace.NewPcapWriter(out.pcapBuf, false, lt); err != nil {
			out.close()
			return nil, err
		}
	}
	return out, nil
}

// event streams one event, complete, to the trace and the pcap, and keeps it for the
// key tables when it carries keys.
func (out *liveOutputs) event(e *trace.Event) {
	if out.json != nil && out.err == nil {
		e.Fields()
		out.err = out.json.Encode(e)
	}
	if out.pcap != nil && out.err == nil {
		out.err = out.pcap.Write(e)
	}
	if out.o.keys != "" && e.Kind == trace.KindSA && e.SA != nil {
		if len(out.keyEvents.Events) >= maxKeyEvents {
			out.keyEvents.Forget(maxKeyEvents / 2)
			out.keysCapped = true
		}
		out.keyEvents.Events = append(out.keyEvents.Events, e)
	}
}

// close closes the files, written or not.
func (out *liveOutputs) close() {
	for _, f := range []*os.File{out.traceFile, out.pcapFile} {
		if f != nil {
			f.Close()
		}
	}
	out.traceFile, out.pcapFile = nil, nil
}

// finish flushes the trace and the pcap, writes the key tables and says what it wrote;
// port is the node's UDP port.
func (out *liveOutputs) finish(port uint16) error {
	o, w := out.o, out.w
	defer out.close()
	for _, f := range []struct {
		path string
		buf  *bufio.Writer
		file *os.File
	}{{o.trace, out.traceBuf, out.traceFile}, {o.pcap, out.pcapBuf, out.pcapFile}} {
		if f.path == "" {
			continue
		}
		if out.err == nil {
			out.err = f.buf.Flush()
		}
		if err := f.file.Close(); out.err == nil {
			out.err = err
		}
		if out.err != nil {
			return fmt.Errorf("live: writing %s: %v", f.path, out.err)
		}
		fmt.Fprintf(w, "wrote %s\n", f.path)
	}
	out.traceFile, out.pcapFile = nil, nil
	if o.keys != "" {
		ew := o.stderr
		if ew == nil {
			ew = os.Stderr
		}
		if out.keysCapped {
			fmt.Fprintf(ew, "ikesim: note: the key tables hold the newest SAs only: the run made more than %d SA events\n", maxKeyEvents)
		}
		if _, err := writeKeys(out.keyEvents, o.keys, w, ew); err != nil {
			return err
		}
	}
	if o.pcap != "" && port != ike.PortIKE {
		fmt.Fprintf(w, "tshark knows no IKE on port %d: add -d udp.port==%d,udpencap\n", port, port)
	}
	return nil
}
