package live

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev2"
	"github.com/ikesim/ikesim/sim/trace"
)

// panicky is an IKE engine with a bug: a datagram that starts with "PANIC" makes it
// panic. Any other goes to the real engine.
type panicky struct{ ike.Daemon }

func (p panicky) HandleDatagram(local, remote netip.AddrPort, data []byte) {
	if bytes.HasPrefix(data, []byte("PANIC")) {
		panic("panicky engine: " + string(data))
	}
	p.Daemon.HandleDatagram(local, remote, data)
}

// newResponder is a live host on loopback whose IKEv2 engine answers any peer with a
// pre-shared key, with cfg's other settings.
func newResponder(t testing.TB, cfg Config) *Host {
	t.Helper()
	cfg.Node, cfg.Listen = "responder", netip.MustParseAddrPort("127.0.0.1:0")
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	c := &ike.Connection{Name: "c", Version: 2, Proposals: []ike.Proposal{mustProposal(t, "aes128-sha256-modp2048", ike.ProtoIKE)},
		Local: ike.AuthConfig{Method: "psk", ID: mustID(t, "a.test"), PSK: []byte("k")}, Remote: ike.AuthConfig{Method: "psk", ID: mustID(t, "b.test"), PSK: []byte("k")}}
	d, err := ikev2.New(h.Env(), "responder", []*ike.Connection{c})
	if err != nil {
		t.Fatal(err)
	}
	h.SetDaemon(d)
	return h
}

// TestPanicIsRecordedAndSurvived: a datagram that makes the engine panic (a bug) does
// not stop the host. The last-resort recover records an error event with the panic and
// its stack, referring to the datagram, and the datagram as dropped; the next datagram
// is handled as usual, and a command that panics on the event loop does not hang Do.
func TestPanicIsRecordedAndSurvived(t *testing.T) {
	h := newResponder(t, Config{})
	h.SetDaemon(panicky{h.IKE})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	peer, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(h.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	// Between two ports other than 500, IKE comes after the non-ESP marker.
	bad, next := []byte("PANIC in the engine"), []byte("then something that is not IKE at all, for the real engine to drop")
	for _, b := range [][]byte{bad, next} {
		if _, err := peer.Write(append(make([]byte, 4), b...)); err != nil {
			t.Fatal(err)
		}
	}
	// The two datagrams, the panic's error and drop, and the engine's drop of the second.
	var msgs, errs, drops []*trace.Event
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		msgs, errs, drops = nil, nil, nil
		h.Do(func() {
			for _, e := range h.Trace.Events {
				switch {
				case e.Kind == trace.KindMessage && e.From() != "responder":
					msgs = append(msgs, e)
				case e.Kind == trace.KindError:
					errs = append(errs, e)
				case e.Kind == trace.KindDrop:
					drops = append(drops, e)
				}
			}
		})
		if len(msgs) == 2 && len(drops) == 2 {
			break
		}
	}
	if len(msgs) != 2 || len(errs) != 1 || len(drops) != 2 {
		t.Fatalf("got %d datagrams, %d errors, %d drops; want 2, 1 and 2", len(msgs), len(errs), len(drops))
	}
	e := errs[0]
	if e.Ref() != msgs[0].Seq || e.Failure == nil || e.Failure.Reason != ike.FailInternal ||
		!strings.Contains(e.Text, "panicky engine: PANIC in the engine") || !strings.Contains(e.Text, "live.panicky.HandleDatagram") {
		t.Errorf("the panic's error event: ref %d (the datagram is %d), failure %+v, text:\n%s", e.Ref(), msgs[0].Seq, e.Failure, e.Text)
	}
	if drops[0].Ref() != msgs[0].Seq || drops[0].Cause() != trace.DropOther {
		t.Errorf("the panicking datagram's drop: ref %d cause %s; want ref %d cause %s", drops[0].Ref(), drops[0].Cause(), msgs[0].Seq, trace.DropOther)
	}
	if drops[1].Ref() != msgs[1].Seq || drops[1].Cause() != trace.DropIKE || !bytes.HasSuffix(msgs[1].Bytes(), next) {
		t.Errorf("the next datagram was not handled by the engine: drop ref %d cause %s, datagram %d", drops[1].Ref(), drops[1].Cause(), msgs[1].Seq)
	}
	if !h.Do(func() { panic("a command that panics") }) {
		t.Error("Do of a panicking command reported the host closed")
	}
	var last *trace.Event
	h.Do(func() { last = h.Trace.Events[len(h.Trace.Events)-1] })
	if last.Kind != trace.KindError || last.Ref() != 0 || !strings.Contains(last.Text, "a command that panics") {
		t.Errorf("the panicking command's event: %+v", last)
	}
}

// TestOnEventPanicIsRecorded: a panic in OnEvent loses the event it was shown, but not
// the node, nor the events after it; its error event is shown with the next callback.
func TestOnEventPanicIsRecorded(t *testing.T) {
	var seen []*trace.Event
	h := newResponder(t, Config{OnEvent: func(e *trace.Event) {
		if e.Kind == trace.KindRecv {
			panic("OnEvent cannot take a recv event")
		}
		seen = append(seen, e)
	}})
	remote := netip.MustParseAddrPort("127.0.0.2:500")
	h.run(func() { h.datagram(h.Addr(), remote, []byte("not IKE")) })
	h.run(func() {})
	var msg, drop, errEvent bool
	for _, e := range seen {
		msg = msg || e.Kind == trace.KindMessage
		drop = drop || e.Kind == trace.KindDrop
		errEvent = errEvent || e.Kind == trace.KindError && strings.Contains(e.Text, "OnEvent cannot take a recv event")
	}
	if !msg || !drop || !errEvent {
		t.Errorf("OnEvent saw the message %t, the drop after the panic %t, the panic's error %t", msg, drop, errEvent)
	}
}

// TestTraceWindow: the trace a live host keeps stays within its window (events and
// datagram bytes), numbered on across what it let go, while OnEvent sees every event.
func TestTraceWindow(t *testing.T) {
	for _, tt := range []struct {
		name                string
		window, windowBytes int
		size                int // of each datagram
		maxEvents, maxBytes int // what the trace may hold after any callback
	}{
		{"events", 100, 0, 40, 100, 1 << 30},
		{"bytes", 100000, 20000, 1000, 100000, 20000 + 1028},
		{"default", 0, 0, 8000, DefaultWindow, DefaultWindowBytes + 8028},
		{"everything", -1, 0, 40, 1 << 30, 1 << 30},
	} {
		t.Run(tt.name, func(t *testing.T) {
			seen := 0
			h := newResponder(t, Config{Window: tt.window, WindowBytes: tt.windowBytes, OnEvent: func(e *trace.Event) {
				seen++
				if e.Seq != seen {
					t.Fatalf("OnEvent saw event %d as the %dth", e.Seq, seen)
				}
			}})
			remote := netip.MustParseAddrPort("127.0.0.2:500")
			const n = 3000
			for i := range n {
				data := make([]byte, tt.size)
				rand.Read(data)
				h.run(func() { h.datagram(h.Addr(), remote, data) })
				events := h.Trace.Events
				total := 0
				for _, e := range events {
					total += len(e.Bytes())
				}
				if len(events) > tt.maxEvents || total > tt.maxBytes {
					t.Fatalf("after datagram %d the trace holds %d events and %d datagram bytes; want at most %d and %d", i+1, len(events), total, tt.maxEvents, tt.maxBytes)
				}
				if first := h.Trace.Forgotten + 1; len(events) > 0 && events[0].Seq != first {
					t.Fatalf("the trace's first event is %d, want %d", events[0].Seq, first)
				}
			}
			if got := h.Trace.Forgotten + len(h.Trace.Events); got != seen || seen < 3*n {
				t.Errorf("the trace numbered %d events, OnEvent saw %d (want at least %d)", got, seen, 3*n)
			}
			if forgot := h.Trace.Forgotten > 0; forgot != (tt.window >= 0) {
				t.Errorf("forgotten %d events with window %d", h.Trace.Forgotten, tt.window)
			}
		})
	}
}

// TestRealRandomness: a live host draws every random byte from crypto/rand unless told
// otherwise, never from the simulator's seeded source, and two hosts answer the same
// IKE_SA_INIT request with different SPIs and nonces.
func TestRealRandomness(t *testing.T) {
	a, b := newResponder(t, Config{}), newResponder(t, Config{})
	if a.Env().Rand != rand.Reader {
		t.Fatalf("a live host's random source is %T, want crypto/rand.Reader", a.Env().Rand)
	}
	req := initRequest(t)
	var answers [][]byte
	for _, h := range []*Host{a, b} {
		h.run(func() { h.datagram(h.Addr(), netip.MustParseAddrPort("127.0.0.2:500"), req) })
		for _, e := range h.Trace.Events {
			if e.Kind == trace.KindMessage && e.From() == "responder" && e.Exchange() == "IKE_SA_INIT" {
				answers = append(answers, e.Bytes()[28:])
			}
		}
	}
	if len(answers) != 2 {
		t.Fatalf("%d IKE_SA_INIT responses, want one from each host", len(answers))
	}
	// The responder's SPI (bytes 8 to 16) and the rest of the message (its KE and nonce).
	if bytes.Equal(answers[0][8:16], answers[1][8:16]) || bytes.Equal(answers[0][28:], answers[1][28:]) {
		t.Error("two live hosts drew the same SPI or the same KE and nonce: their randomness is not the system's")
	}
}

// initRequest is an IKE_SA_INIT request for the responder's proposal, with a fresh SPI,
// key exchange and nonce.
func initRequest(t testing.TB) []byte {
	t.Helper()
	p := mustProposal(t, "aes128-sha256-modp2048", ike.ProtoIKE)
	tr, _ := p.Transform(ike.TransformDH)
	priv, err := ike.DH(tr.ID).Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, 32)
	rand.Read(nonce)
	m := &ikev2.Message{Header: ikev2.Header{SPIi: 0x0102030405060708, Exchange: ikev2.IKE_SA_INIT, Flags: ikev2.FlagInitiator},
		Payloads: []ikev2.Payload{ikev2.NewSA(nil, p), &ikev2.KE{Group: tr.ID, Data: priv.Public()}, &ikev2.Nonce{Data: nonce}}}
	raw, err := m.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
