package sim

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim/trace"
)

// Ping is a run of ICMP echo requests from one node, and the replies it got.
type Ping struct {
	From     string
	To       netip.Addr
	Count    int
	Interval time.Duration
	ID       uint16
	Sent     int
	Answered int
	replied  map[uint16]bool
}

// pingPayload is the data of every echo request: 32 recognisable bytes.
var pingPayload = []byte("ikesim echo data 0123456789abcde")

// Ping sends count echo requests from node from to dst, one every interval, starting now.
func (n *Network) Ping(from string, dst netip.Addr, count int, interval time.Duration) (*Ping, error) {
	return n.PingFrom(from, netip.Addr{}, dst, count, interval)
}

// PingFrom is Ping with the echo requests' source address, one of the node's own (a
// router's "ping ... source loopback0"); without one, the address of the interface
// toward dst, or the node's virtual IP.
func (n *Network) PingFrom(from string, src, dst netip.Addr, count int, interval time.Duration) (*Ping, error) {
	nd := n.byName[from]
	if nd == nil {
		return nil, fmt.Errorf("sim: ping from unknown node %q", from)
	}
	if src.IsValid() && !nd.HasAddr(src) {
		return nil, fmt.Errorf("sim: ping source %s is not an address of %q", src, from)
	}
	p := nd.SendPings(src, dst, count, interval)
	p.From = from
	n.Pings = append(n.Pings, p)
	return p, nil
}

// SendPings sends count echo requests (ICMP, or ICMPv6 to an IPv6 address) to dst, one
// every interval (1 s when 0), the first now, from src or, without one, from the
// address the host picks for dst (StackHost.SourceFor) when each goes.
func (s *Stack) SendPings(src, dst netip.Addr, count int, interval time.Duration) *Ping {
	if count <= 0 {
		count = 1
	}
	if interval <= 0 {
		interval = time.Second
	}
	p := &Ping{To: dst, Count: count, Interval: interval, ID: uint16(0x1000 + len(s.pings)), replied: map[uint16]bool{}}
	s.pings[p.ID] = p
	for i := range count {
		seq := uint16(i + 1)
		s.host.Later(time.Duration(i)*interval, func() {
			p.Sent++
			src := src
			if !src.IsValid() {
				src = s.host.SourceFor(dst)
			}
			s.rec.Ping(trace.PingRecord{Op: trace.PingRequest, Dst: dst.String(), ID: p.ID, Seq: seq, Count: count},
				fmt.Sprintf("ping %s: send ICMP echo request %d of %d", dst, seq, count))
			pkt, err := ipsec.NewEchoRequest(src, dst, s.NextID(), p.ID, seq, pingPayload)
			if err != nil {
				s.rec.Errorf("ping: %v", err)
				return
			}
			s.SendIP(pkt, nil)
		})
	}
	return p
}

// reply records the echo reply seq, or a duplicate of one.
func (p *Ping) reply(rec *trace.Recorder, seq uint16) {
	r := trace.PingRecord{Op: trace.PingDuplicate, Dst: p.To.String(), ID: p.ID, Seq: seq, Count: p.Count, Answered: p.Answered}
	if p.replied[seq] {
		rec.Ping(r, fmt.Sprintf("ping %s: duplicate echo reply %d", p.To, seq))
		return
	}
	p.replied[seq] = true
	p.Answered++
	r.Op, r.Answered = trace.PingReply, p.Answered
	rec.Ping(r, fmt.Sprintf("ping %s: echo reply %d received (%d of %d answered)", p.To, seq, p.Answered, p.Count))
}
