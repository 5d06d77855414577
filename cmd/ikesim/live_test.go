package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/sim/live"
	"github.com/ikesim/ikesim/sim/trace"
)

// syncBuffer is an io.Writer the event loop writes to while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freePort finds a UDP port on addr that nothing uses now.
func freePort(t *testing.T, addr string) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(addr)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// liveNode is one ikesim live run in the background of a test.
type liveNode struct {
	name   string
	out    *syncBuffer
	host   *live.Host
	daemon ike.Daemon
	stop   context.CancelFunc
	done   chan error
}

// startLive runs ikesim live with o until the test stops it (or ends).
func startLive(t *testing.T, o liveOptions) *liveNode {
	t.Helper()
	return startLiveIn(t, "", o)
}

// startLiveIn runs ikesim live in network namespace netns ("": the test's own).
func startLiveIn(t *testing.T, netns string, o liveOptions) *liveNode {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n := &liveNode{name: o.node, out: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	ready := make(chan struct{})
	o.ready = func(h *live.Host, d ike.Daemon) {
		n.host, n.daemon = h, d
		close(ready)
	}
	if o.grace == 0 {
		o.grace = 3 * time.Second
	}
	go func() { n.done <- inNetns(netns, func() error { return runLive(ctx, o, n.out) }) }()
	select {
	case <-ready:
	case err := <-n.done:
		t.Fatalf("ikesim live %s: %v\n%s", o.node, err, n.out)
	case <-time.After(10 * time.Second):
		t.Fatalf("ikesim live %s did not start", o.node)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-n.done:
		case <-time.After(10 * time.Second):
			t.Errorf("ikesim live %s did not stop", o.node)
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("ikesim live %s printed:\n%s", o.node, n.out)
		}
	})
	return n
}

// do runs f on the node's event loop.
func (n *liveNode) do(f func()) { n.host.Do(f) }

// waitFor waits until cond holds for the node's trace (looked at on its event loop).
func (n *liveNode) waitFor(t *testing.T, what string, cond func(tr *trace.Trace) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ok := false
		n.do(func() { ok = cond(n.host.Trace) })
		if ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("ikesim live %s: %s did not happen within 10 s", n.name, what)
}

// shutdown stops the node as Ctrl-C does and returns what runLive returned.
func (n *liveNode) shutdown(t *testing.T) error {
	t.Helper()
	n.stop()
	select {
	case err := <-n.done:
		n.done <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("ikesim live %s did not shut down", n.name)
		return nil
	}
}

// readTraceFile reads a JSON Lines trace that ikesim wrote.
func readTraceFile(t *testing.T, path string) *trace.Trace {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := trace.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// has reports whether the trace holds an event that match accepts.
func has(tr *trace.Trace, match func(e *trace.Event) bool) bool {
	for _, e := range tr.Events {
		if match(e) {
			return true
		}
	}
	return false
}

func saUp(typ ike.SAType) func(e *trace.Event) bool {
	return func(e *trace.Event) bool { return e.Kind == trace.KindSA && e.Op == "up" && e.SA.Type == typ }
}

// received matches a message from the peer of an exchange, request or response, whose
// summary contains part.
func received(peer, exchange string, response bool, part string) func(e *trace.Event) bool {
	return func(e *trace.Event) bool {
		return e.Kind == trace.KindMessage && e.From() == peer && e.Exchange() == exchange && e.Response() == response &&
			strings.Contains(e.Summary(), part)
	}
}

func actionHas(part string) func(e *trace.Event) bool {
	return func(e *trace.Event) bool { return e.Kind == trace.KindAction && strings.Contains(e.Text, part) }
}

// Two ikesim live nodes play the two gateways of ikev2-ping against each other over
// loopback sockets: the command's whole path (scenario to real sockets, timeline,
// Ctrl-C, trace, pcap and key tables) without strongSwan.
func TestLiveAgainstItself(t *testing.T) {
	dir := t.TempDir()
	pa, pb := freePort(t, "127.0.0.1"), freePort(t, "127.0.0.2")
	a := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), pa)
	b := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), pb)
	// gw-b runs the real command line, and Ctrl-C (SIGINT to the test process) stops it.
	outB := &syncBuffer{}
	doneB := make(chan error, 1)
	go func() {
		doneB <- run([]string{"live", "ikev2-ping", "--node", "gw-b", "--listen", b.String(), "--peer", "gw-a=" + a.String()}, outB, outB)
	}()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(outB.String(), "Ctrl-C deletes"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("ikesim live gw-b did not start:\n%s", outB)
		}
	}
	gwA := startLive(t, liveOptions{scenario: "ikev2-ping", node: "gw-a", listen: a, peers: peerFlags{"gw-b": b},
		initiate: true, trace: filepath.Join(dir, "live.jsonl"), pcap: filepath.Join(dir, "live.pcap"), keys: filepath.Join(dir, "keys")})

	gwA.waitFor(t, "the Child SA", func(tr *trace.Trace) bool { return has(tr, saUp("child")) })
	gwA.do(func() { gwA.host.Ping(netip.MustParseAddr("10.2.0.1"), 2, 10*time.Millisecond) })
	gwA.waitFor(t, "two echo replies", func(tr *trace.Trace) bool { return has(tr, actionHas("echo reply 2 received")) })
	gwA.do(func() { gwA.daemon.Liveness("site-to-site") })
	gwA.waitFor(t, "the liveness answer", func(tr *trace.Trace) bool { return has(tr, received("gw-b", "INFORMATIONAL", true, "SK {}")) })

	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-doneB:
		if err != nil {
			t.Fatalf("ikesim live gw-b: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ikesim live gw-b did not stop on SIGINT")
	}
	for _, want := range []string{"gw-b → gw-a  INFORMATIONAL request HDR, SK {D}", "gw-a → gw-b  INFORMATIONAL response HDR, SK {}", "IKE SA down"} {
		if !strings.Contains(outB.String(), want) {
			t.Errorf("after SIGINT gw-b printed no %q:\n%s", want, outB)
		}
	}
	gwA.waitFor(t, "the delete", func(tr *trace.Trace) bool {
		return has(tr, func(e *trace.Event) bool {
			return e.Kind == trace.KindSA && e.Op == "down" && e.SA.Type == "ike" && e.SA.Reason == "deleted by peer"
		})
	})
	if err := gwA.shutdown(t); err != nil {
		t.Fatal(err)
	}

	tr := readTraceFile(t, filepath.Join(dir, "live.jsonl"))
	if !has(tr, received("gw-b", "INFORMATIONAL", false, "SK {D}")) || !has(tr, func(e *trace.Event) bool {
		return e.Kind == trace.KindMessage && e.From() == "gw-a" && e.Exchange() == "INFORMATIONAL" && e.Response()
	}) {
		t.Error("the saved trace lacks gw-b's delete or gw-a's answer")
	}
	var text bytes.Buffer
	if err := render.WriteText(&text, render.Build(tr, render.Options{}), render.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"gw-a", "gw-b", "IKE_SA_INIT request", "IKE_AUTH response", "ICMP echo reply"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the diagram of the saved trace lacks %q:\n%s", want, text.String())
		}
	}
	for _, name := range []string{"live.pcap", "keys/ikev2_decryption_table", "keys/esp_sa"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s was not written: %v", name, err)
		}
	}
}

// twoGateways is a scenario of two gateways, a and b, with one connection and child
// between them: a's child has start_action startAction, and timeline is the YAML of the
// steps.
func twoGateways(name, startAction, timeline string) string {
	return `name: ` + name + `
topology:
  nodes:
    - {name: a, kind: gateway, addresses: [192.0.2.1/24, 10.8.1.1/32]}
    - {name: b, kind: gateway, addresses: [192.0.2.2/24, 10.8.2.1/32]}
  links:
    - {between: [a, b]}
connections:
  a:
    vpn:
      local_addrs: [192.0.2.1]
      remote_addrs: [192.0.2.2]
      proposals: [aes256gcm16-prfsha384-x25519]
      local: {auth: psk, id: a.test}
      remote: {auth: psk, id: b.test}
      children:
        net: {local_ts: [10.8.1.1/32], remote_ts: [10.8.2.1/32], esp_proposals: [aes256gcm16], start_action: ` + startAction + `}
  b:
    vpn:
      local_addrs: [192.0.2.2]
      remote_addrs: [192.0.2.1]
      proposals: [aes256gcm16-prfsha384-x25519]
      local: {auth: psk, id: b.test}
      remote: {auth: psk, id: a.test}
      children:
        net: {local_ts: [10.8.2.1/32], remote_ts: [10.8.1.1/32], esp_proposals: [aes256gcm16]}
secrets:
  - {type: ike, ids: [a.test, b.test], secret: "` + name + `-psk"}
timeline:
` + timeline
}

// liveTimelineScenario: node a runs its timeline against node b; b's own step (a
// rekey) is the real peer's business and does not run on a. The delete comes late enough
// that a loaded machine, whose timers may fire a second late, still runs the ping first.
var liveTimelineScenario = twoGateways("live-timeline", "start", `  - {at: 0.3s, ping: {from: a, to: b, count: 1}}
  - {at: 0.4s, liveness: {node: a}}
  - {at: 0.4s, rekey: {node: b, child: net}}
  - {at: 2.5s, delete: {node: a, connection: vpn}}
`)

// TestLiveTimeline: a live node starts its start_action start child, runs its own
// timeline steps (a ping through the Child SA, a liveness check, the delete) at their
// wall-clock times, and leaves the other node's steps alone.
func TestLiveTimeline(t *testing.T) {
	scenario := filepath.Join(t.TempDir(), "timeline.yaml")
	if err := os.WriteFile(scenario, []byte(liveTimelineScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	a := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), freePort(t, "127.0.0.1"))
	b := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), freePort(t, "127.0.0.2"))
	startLive(t, liveOptions{scenario: scenario, node: "b", listen: b, peers: peerFlags{"a": a}})
	na := startLive(t, liveOptions{scenario: scenario, node: "a", listen: a, peers: peerFlags{"b": b}})
	na.waitFor(t, "the delete's answer", func(tr *trace.Trace) bool { return has(tr, ikeDown("deleted")) })
	na.do(func() {
		tr := na.host.Trace
		if !has(tr, saUp("child")) {
			t.Error("a's start_action start child never came up")
		}
		if !has(tr, func(e *trace.Event) bool { return e.Ping != nil && e.Ping.Op == trace.PingReply }) {
			t.Error("a's ping got no reply")
		}
		for _, want := range []string{"timeline: a pings 10.8.2.1", "timeline: a checks the liveness of its peer", "timeline: a deletes vpn"} {
			if !has(tr, func(e *trace.Event) bool { return e.Node == trace.ScenarioNode && strings.Contains(e.Text, want) }) {
				t.Errorf("a's trace has no %q", want)
			}
		}
		if has(tr, func(e *trace.Event) bool { return strings.Contains(e.Text, "timeline: b") }) {
			t.Error("a ran b's rekey step")
		}
	})
}

// TestLiveUsage: a bad command line is a usage error that says what is wrong.
func TestLiveUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"ikev2-ping", "--listen", "127.0.0.1:0"}, "--node NAME and --listen"},
		{[]string{"ikev2-ping", "--node", "gw-a"}, "--node NAME and --listen"},
		{[]string{"ikev2-ping", "--node", "gw-a", "--listen", "localhost"}, "--listen localhost"},
		{[]string{"ikev2-ping", "--node", "gw-a", "--listen", "127.0.0.1:0", "--peer", "gw-b"}, "NAME=ADDR:PORT"},
		{[]string{"ikev2-ping", "--node", "gw-x", "--listen", "127.0.0.1:0"}, `no node "gw-x"`},
		{[]string{"ikev2-ping", "--node", "gw-a", "--listen", "127.0.0.1:0"}, "--peer gw-b=ADDR:PORT"},
		{[]string{"ikev2-ping", "--node", "gw-a", "--listen", "127.0.0.1:0", "--peer", "gw-z=127.0.0.2:500"}, `no node "gw-z"`},
		{[]string{"no-such-scenario", "--node", "gw-a", "--listen", "127.0.0.1:0"}, "neither a built-in scenario"},
	} {
		err := run(append([]string{"live"}, tt.args...), io.Discard, io.Discard)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ikesim live %s: %v; want a usage error with %q", strings.Join(tt.args, " "), err, tt.want)
		}
	}
}

// livePeerDeletesScenario: a initiates (start_action none) and pings three times 100 ms
// apart; then b deletes the IKE SA.
var livePeerDeletesScenario = twoGateways("live-peer-deletes", "none", `  - {at: 0.1s, initiate: {node: a, connection: vpn}}
  - {at: 0.3s, ping: {from: a, to: b, count: 3, interval: 100ms}}
  - {at: 0.6s, delete: {node: b, connection: vpn}}
`)

// TestLiveHonoursPingIntervalAndStartActionNone: a ping interval below a second is kept
// (the echo requests go 100 and 200 ms after the first, or later on a loaded machine,
// but well before the second a lost interval would make), and after the peer deleted
// everything a child with start_action none is not started again by traffic (strongSwan
// uninstalls its policies; only a trap would stay).
func TestLiveHonoursPingIntervalAndStartActionNone(t *testing.T) {
	scenario := filepath.Join(t.TempDir(), "peer-deletes.yaml")
	if err := os.WriteFile(scenario, []byte(livePeerDeletesScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	a := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), freePort(t, "127.0.0.1"))
	b := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), freePort(t, "127.0.0.2"))
	startLive(t, liveOptions{scenario: scenario, node: "b", listen: b, peers: peerFlags{"a": a}})
	na := startLive(t, liveOptions{scenario: scenario, node: "a", listen: a, peers: peerFlags{"b": b}})
	na.waitFor(t, "the peer's delete", func(tr *trace.Trace) bool { return has(tr, ikeDown("deleted by peer")) })
	// Traffic for the child now: a ping from a, on its event loop.
	na.do(func() { na.host.Ping(netip.MustParseAddr("10.8.2.1"), 1, time.Second) })
	time.Sleep(300 * time.Millisecond) // an acquire, if there were one, would start IKE now
	na.do(func() {
		tr := na.host.Trace
		inits := 0
		dropped := false
		var sent []trace.Seconds // the echo requests of the scenario's ping, of 3
		for _, e := range tr.Events {
			if e.Kind == trace.KindMessage && e.From() == "a" && e.Exchange() == "IKE_SA_INIT" && !e.Response() {
				inits++
			}
			dropped = dropped || (e.Kind == trace.KindDrop && e.Cause() == trace.DropPolicy)
			if e.Kind == trace.KindAction && e.Ping != nil && e.Ping.Op == trace.PingRequest && e.Ping.Count == 3 {
				sent = append(sent, e.T)
			}
		}
		if inits != 1 || !dropped {
			t.Errorf("a sent %d IKE_SA_INIT requests (dropped the ping: %t); after the peer's delete, traffic must not start IKE again (start_action none)", inits, dropped)
		}
		if len(sent) != 3 {
			t.Fatalf("%d echo requests of the ping, want 3", len(sent))
		}
		for i, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond} {
			if got := time.Duration(sent[i+1] - sent[0]); got < want-time.Millisecond || got > want+800*time.Millisecond {
				t.Errorf("echo request %d went %s after the first, want %s", i+2, got, want)
			}
		}
	})
}

// liveStreamScenario: a brings its child up and pings b twenty times, 10 ms apart.
var liveStreamScenario = twoGateways("live-stream", "start", `  - {at: 0.2s, ping: {from: a, to: b, count: 20, interval: 10ms}}
`)

// TestLiveStreamsItsOutputs: a live node whose trace keeps only a small window in
// memory still writes every event to its trace file and every datagram to its pcap, as
// they come, and the keys of its SAs to the key tables.
func TestLiveStreamsItsOutputs(t *testing.T) {
	dir := t.TempDir()
	scenario := filepath.Join(dir, "stream.yaml")
	if err := os.WriteFile(scenario, []byte(liveStreamScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	a := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), freePort(t, "127.0.0.1"))
	b := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), freePort(t, "127.0.0.2"))
	startLive(t, liveOptions{scenario: scenario, node: "b", listen: b, peers: peerFlags{"a": a}})
	const window = 40
	na := startLive(t, liveOptions{scenario: scenario, node: "a", listen: a, peers: peerFlags{"b": b}, window: window,
		trace: filepath.Join(dir, "a.jsonl"), pcap: filepath.Join(dir, "a.pcap"), keys: filepath.Join(dir, "keys")})
	var replies int
	for deadline := time.Now().Add(15 * time.Second); replies < 20 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		na.do(func() {
			if n := len(na.host.Trace.Events); n > window {
				t.Errorf("the host keeps %d events, more than its window of %d", n, window)
			}
		})
		replies = strings.Count(na.out.String(), "ICMP echo reply")
	}
	if replies < 20 {
		t.Fatalf("a printed %d echo replies, want 20", replies)
	}
	var forgotten int
	na.do(func() {
		forgotten = na.host.Trace.Forgotten
		// The simulator's seeded randomness is never used on real sockets.
		if r := na.host.Env().Rand; r != rand.Reader {
			t.Errorf("ikesim live draws its random bytes from %T, not crypto/rand", r)
		}
	})
	if err := na.shutdown(t); err != nil {
		t.Fatal(err)
	}
	tr := readTraceFile(t, filepath.Join(dir, "a.jsonl"))
	for i, e := range tr.Events {
		if e.Seq != i+1 {
			t.Fatalf("event %d of the trace file is numbered %d", i+1, e.Seq)
		}
	}
	if forgotten == 0 || len(tr.Events) <= forgotten || tr.Events[0].Version == 0 {
		t.Errorf("the host let %d events go; the trace file holds %d events, the first with version %d", forgotten, len(tr.Events), tr.Events[0].Version)
	}
	if !has(tr, saUp("ike")) || !has(tr, saUp("child")) || !has(tr, received("b", "IKE_SA_INIT", true, "")) {
		t.Error("the trace file lacks the IKE SA, the Child SA or b's IKE_SA_INIT response")
	}
	var datagrams int
	for _, e := range tr.Events {
		if e.Kind == trace.KindMessage && len(e.Bytes()) > 0 {
			datagrams++
		}
	}
	pcap, err := os.ReadFile(filepath.Join(dir, "a.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	// Every datagram as a 16-byte record header and its bytes, after the 24-byte file header.
	want := 24
	for _, e := range tr.Events {
		if e.Kind == trace.KindMessage && len(e.Bytes()) > 0 {
			want += 16 + len(e.Bytes())
		}
	}
	if len(pcap) != want || datagrams < 40 {
		t.Errorf("the pcap has %d bytes; the %d datagrams of the trace make %d", len(pcap), datagrams, want)
	}
	for _, name := range []string{"ikev2_decryption_table", "esp_sa"} {
		if b, err := os.ReadFile(filepath.Join(dir, "keys", name)); err != nil || len(b) == 0 {
			t.Errorf("keys/%s was not written: %v", name, err)
		}
	}
}
