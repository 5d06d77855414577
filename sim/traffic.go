package sim

import (
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ipsec"
)

// The stack counts what each Child SA carries, as a kernel does: the IKE daemon asks for
// the SAs' use times (dead peer detection, NAT keep-alives) and hears when an SA
// reaches its volume lifetime (ike.TrafficHost, ike.Expirer).

// childTraffic is the stack's record of one Child SA pair.
type childTraffic struct {
	info            *ike.ChildSAInfo
	in, out         *ipsec.SA
	lastIn, lastOut time.Time
	soft, hard      bool // the expiries already reported
}

// trackChild starts counting a Child SA pair.
func (s *Stack) trackChild(c *ike.ChildSAInfo, in, out *ipsec.SA) {
	if s.traffic == nil {
		s.traffic, s.trafficOut = map[uint32]*childTraffic{}, map[uint32]*childTraffic{}
	}
	t := &childTraffic{info: c, in: in, out: out}
	s.traffic[c.SPIIn] = t
	s.trafficOut[c.SPIOut] = t
}

// untrackChild stops counting a Child SA pair.
func (s *Stack) untrackChild(c *ike.ChildSAInfo) {
	if t := s.traffic[c.SPIIn]; t != nil && t.info == c {
		delete(s.traffic, c.SPIIn)
	}
	if t := s.trafficOut[c.SPIOut]; t != nil && t.info == c {
		delete(s.trafficOut, c.SPIOut)
	}
}

// ChildSATraffic reports what a Child SA carried (ike.TrafficHost).
func (s *Stack) ChildSATraffic(spiIn, spiOut uint32) ike.Traffic {
	t := s.traffic[spiIn]
	if t == nil {
		return ike.Traffic{}
	}
	in, out := t.in.Stats(), t.out.Stats()
	return ike.Traffic{BytesIn: in.Bytes, BytesOut: out.Bytes, PacketsIn: in.Packets, PacketsOut: out.Packets,
		LastIn: t.lastIn, LastOut: t.lastOut}
}

// countedIn and countedOut note a packet an SA accepted or protected, and report a
// volume lifetime it reached.
func (s *Stack) countedIn(sa *ipsec.SA) {
	if t := s.traffic[sa.SPI]; t != nil && t.in == sa {
		t.lastIn = s.host.Now()
		s.checkVolume(t)
	}
}

func (s *Stack) countedOut(sa *ipsec.SA) {
	if t := s.trafficOut[sa.SPI]; t != nil && t.out == sa {
		t.lastOut = s.host.Now()
		s.checkVolume(t)
	}
}

// checkVolume tells the daemon, once each, when either direction of the SA reaches
// its soft (rekey_bytes, rekey_packets) or hard (life_bytes, life_packets) limit.
func (s *Stack) checkVolume(t *childTraffic) {
	c := t.info
	if c.RekeyBytes == 0 && c.LifeBytes == 0 && c.RekeyPackets == 0 && c.LifePackets == 0 {
		return
	}
	in, out := t.in.Stats(), t.out.Stats()
	bytes, packets := max(in.Bytes, out.Bytes), max(in.Packets, out.Packets)
	reached := func(limit, v uint64) bool { return limit > 0 && v >= limit }
	hard := reached(c.LifeBytes, bytes) || reached(c.LifePackets, packets)
	soft := reached(c.RekeyBytes, bytes) || reached(c.RekeyPackets, packets)
	e, ok := s.IKE.(ike.Expirer)
	if !ok {
		return
	}
	spi := c.SPIIn
	switch {
	case hard && !t.hard:
		t.hard, t.soft = true, true
		s.host.Later(0, func() { e.Expire(spi, true) })
	case soft && !t.soft:
		t.soft = true
		s.host.Later(0, func() { e.Expire(spi, false) })
	}
}
