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
	node     *Node
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
	if count <= 0 {
		count = 1
	}
	if interval <= 0 {
		interval = time.Second
	}
	id := uint16(0x1000 + len(nd.pings))
	p := &Ping{From: from, To: dst, Count: count, Interval: interval, ID: id, replied: map[uint16]bool{}, node: nd}
	nd.pings[id] = p
	n.Pings = append(n.Pings, p)
	for i := 0; i < count; i++ {
		seq := uint16(i + 1)
		n.Sim.After(time.Duration(i)*interval, func() {
			if nd.down {
				return
			}
			p.Sent++
			src := src
			switch {
			case src.IsValid():
			case nd.VirtualIP.IsValid():
				src = nd.VirtualIP
			default:
				src = nd.sourceFor(dst)
			}
			nd.Ping(trace.PingRecord{Op: trace.PingRequest, Dst: dst.String(), ID: id, Seq: seq, Count: count},
				fmt.Sprintf("ping %s: send ICMP echo request %d of %d", dst, seq, count))
			nd.ipID++
			pkt, err := ipsec.NewEchoRequest(src, dst, nd.ipID, id, seq, pingPayload)
			if err != nil {
				nd.Errorf("ping: %v", err)
				return
			}
			nd.SendIP(pkt, nil)
		})
	}
	return p, nil
}

func (p *Ping) reply(seq uint16) {
	rec := trace.PingRecord{Op: trace.PingDuplicate, Dst: p.To.String(), ID: p.ID, Seq: seq, Count: p.Count, Answered: p.Answered}
	if p.replied[seq] {
		p.node.Ping(rec, fmt.Sprintf("ping %s: duplicate echo reply %d", p.To, seq))
		return
	}
	p.replied[seq] = true
	p.Answered++
	rec.Op, rec.Answered = trace.PingReply, p.Answered
	p.node.Ping(rec, fmt.Sprintf("ping %s: echo reply %d received (%d of %d answered)", p.To, seq, p.Answered, p.Count))
}
