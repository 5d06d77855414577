package live

import (
	"net/netip"
	"sync"
	"testing"

	"github.com/ikesim/ikesim/sim/trace"
)

// FuzzDatagram hands any datagram from the peer to a live host, framed (two ports other
// than 500) or not: it must never panic, and every datagram must be recorded as the
// peer's message with its bytes and dissection, and its arrival.
func FuzzDatagram(f *testing.F) {
	f.Add([]byte{0xff}, true)
	f.Add([]byte{0, 0, 0, 0, 1, 2, 3}, true)
	f.Add(make([]byte, 40), false)
	f.Add(append(make([]byte, 4), make([]byte, 28)...), true)
	f.Add([]byte{0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1, 9, 9, 9}, true)
	h := newResponder(f, Config{Addrs: []netip.Addr{netip.MustParseAddr("10.9.1.1")}})
	var mu sync.Mutex
	f.Fuzz(func(t *testing.T, data []byte, isFramed bool) {
		if len(data) > 60000 {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		remote := netip.MustParseAddrPort("127.0.0.2:500")
		if isFramed {
			remote = netip.MustParseAddrPort("127.0.0.2:4500")
		}
		last := h.Trace.Forgotten + len(h.Trace.Events) // the Seq of the last event before
		h.run(func() { h.datagram(h.Addr(), remote, data) })
		var msg, recv, answered, dropped bool
		for _, e := range h.Trace.Events {
			switch {
			case e.Seq <= last:
			case e.Kind == trace.KindMessage && e.From() == "responder":
				answered = true
			case e.Kind == trace.KindMessage:
				msg = len(e.Bytes()) == 28+len(data) && e.Dissection() != nil
			case e.Kind == trace.KindRecv:
				recv = true
			case e.Kind == trace.KindDrop && e.Ref() == last+1 && e.Cause() != "":
				dropped = true
			}
		}
		if !msg || !recv {
			t.Fatalf("datagram %x: message recorded %t, arrival recorded %t", data, msg, recv)
		}
		// Nothing is lost silently: a datagram is answered, or dropped with a cause.
		if !answered && !dropped && !isKeepalive(data) {
			t.Fatalf("datagram %x: neither answered nor dropped", data)
		}
	})
}
