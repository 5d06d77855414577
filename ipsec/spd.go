package ipsec

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/ikesim/ikesim/ike"
)

// Direction is the direction a policy applies to (RFC 4301, Section 4.4.1).
type Direction uint8

const (
	Out Direction = iota + 1 // packets this node sends
	In                       // packets this node receives, after ESP processing
)

var directionNames = [...]string{Out: "out", In: "in"}

func (d Direction) String() string { return enumName(directionNames[:], uint8(d), "Direction") }

// Action is what a policy does with the packets it matches (RFC 4301, Section 4.4.1).
type Action uint8

const (
	ActionProtect Action = iota + 1 // PROTECT: apply (or, inbound, require) the Child SA of Reqid
	ActionBypass                    // BYPASS: pass without IPsec
	ActionDiscard                   // DISCARD: drop
)

var actionNames = [...]string{ActionProtect: "protect", ActionBypass: "bypass", ActionDiscard: "discard"}

func (a Action) String() string { return enumName(actionNames[:], uint8(a), "Action") }

// AddrRange is an inclusive range of IPv4 addresses, as IKEv2 traffic selectors carry them
// (RFC 7296, Section 3.13.1). The zero value matches any address.
type AddrRange struct {
	First, Last netip.Addr
}

// PrefixRange is the range of addresses of a prefix.
func PrefixRange(p netip.Prefix) AddrRange {
	p = p.Masked()
	first := p.Addr()
	a := first.As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	if p.Bits() == 0 {
		host = ^uint32(0)
	}
	binary.BigEndian.PutUint32(a[:], binary.BigEndian.Uint32(a[:])|host)
	return AddrRange{First: first, Last: netip.AddrFrom4(a)}
}

// IsAny reports whether the range matches every address.
func (r AddrRange) IsAny() bool { return !r.First.IsValid() && !r.Last.IsValid() }

// Contains reports whether a lies in the range.
func (r AddrRange) Contains(a netip.Addr) bool {
	if r.IsAny() {
		return true
	}
	return r.First.Compare(a) <= 0 && a.Compare(r.Last) <= 0
}

func (r AddrRange) String() string {
	if r.IsAny() {
		return "any"
	}
	if r.First == r.Last {
		return r.First.String()
	}
	return r.First.String() + "-" + r.Last.String()
}

// size is the number of addresses in the range, for specificity.
func (r AddrRange) size() uint64 {
	if r.IsAny() || !r.First.Is4() || !r.Last.Is4() {
		return 1 << 32
	}
	f, l := r.First.As4(), r.Last.As4()
	return uint64(binary.BigEndian.Uint32(l[:])) - uint64(binary.BigEndian.Uint32(f[:])) + 1
}

// PortRange is an inclusive range of ports. The zero value, like 0-65535, matches any
// port.
type PortRange struct {
	First, Last uint16
}

// IsAny reports whether the range matches every port.
func (r PortRange) IsAny() bool { return r.First == 0 && (r.Last == 0 || r.Last == 0xffff) }

// Contains reports whether p lies in the range.
func (r PortRange) Contains(p uint16) bool { return r.IsAny() || (r.First <= p && p <= r.Last) }

func (r PortRange) String() string {
	switch {
	case r.IsAny():
		return "any"
	case r.First == r.Last:
		return fmt.Sprint(r.First)
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// Selector is the traffic a policy covers (RFC 4301, Section 4.4.1.1): source and
// destination address ranges, the next layer protocol (0 for any) and, for TCP, UDP and
// ICMP, port ranges. For ICMP the 16-bit value Type<<8|Code stands for both ports, as in
// IKEv2 traffic selectors (RFC 7296, Section 3.13.1).
type Selector struct {
	Src, Dst         AddrRange
	Proto            uint8
	SrcPort, DstPort PortRange
}

// Matches reports whether the flow lies in the selector.
func (s Selector) Matches(f Flow) bool {
	return s.Src.Contains(f.Src) && s.Dst.Contains(f.Dst) &&
		(s.Proto == 0 || s.Proto == f.Proto) &&
		s.SrcPort.Contains(f.SrcPort) && s.DstPort.Contains(f.DstPort)
}

// SelectorOf is the selector of the traffic from src to dst that a pair of negotiated
// traffic selectors describes (RFC 7296, Section 3.13.1; IKEv1 proxy IDs): address
// ranges, src's protocol and both port ranges.
func SelectorOf(src, dst ike.TrafficSelector) Selector {
	return Selector{Src: AddrRange{First: src.Start, Last: src.End}, Dst: AddrRange{First: dst.Start, Last: dst.End},
		Proto: src.Proto, SrcPort: PortRange{First: src.StartPort, Last: src.EndPort},
		DstPort: PortRange{First: dst.StartPort, Last: dst.EndPort}}
}

func (s Selector) String() string {
	proto := "any"
	if s.Proto != 0 {
		proto = ProtoName(s.Proto)
	}
	return fmt.Sprintf("%v[%v] -> %v[%v] proto %s", s.Src, s.SrcPort, s.Dst, s.DstPort, proto)
}

// DefaultPriority ranks a selector by how specific it is: smaller addresses ranges, a
// protocol and port ranges give a smaller number, which Lookup consults first. Use it as
// Policy.Priority when policies come from negotiated traffic selectors, so that a narrow
// policy is not hidden behind a broad one.
func DefaultPriority(s Selector) int {
	// Bits of freedom left in each part: 32 per address range, 8 for the protocol,
	// 16 per port range. Fewer bits means more specific.
	free := bitsOf(s.Src.size()) + bitsOf(s.Dst.size())
	if s.Proto == 0 {
		free += 8
	}
	for _, p := range []PortRange{s.SrcPort, s.DstPort} {
		n := uint64(1 << 16)
		if !p.IsAny() && p.Last >= p.First {
			n = uint64(p.Last-p.First) + 1
		}
		free += bitsOf(n)
	}
	return 1000 + free
}

// bitsOf is the number of bits needed to count n values.
func bitsOf(n uint64) int {
	b := 0
	for n > 1 {
		n = (n + 1) / 2
		b++
	}
	return b
}

// Flow is what a policy lookup looks at in a packet: addresses, protocol and ports. For
// ICMP both ports hold Type<<8|Code; a non-first fragment has no ports (0).
type Flow struct {
	Src, Dst         netip.Addr
	Proto            uint8
	SrcPort, DstPort uint16
}

func (f Flow) String() string {
	return fmt.Sprintf("%v:%d -> %v:%d %s", f.Src, f.SrcPort, f.Dst, f.DstPort, ProtoName(f.Proto))
}

// FlowOf reads the flow of an IPv4 packet.
func FlowOf(pkt []byte) (Flow, error) {
	ip, err := ParseIP(pkt)
	if err != nil {
		return Flow{}, err
	}
	f := Flow{Src: ip.Src, Dst: ip.Dst, Proto: ip.Protocol}
	if ip.FragOff != 0 {
		return f, nil
	}
	switch p := ip.Payload; ip.Protocol {
	case ProtoTCP, ProtoUDP:
		if len(p) < 4 {
			return f, dropf(DropTruncated, "%s ports need 4 bytes, have %d", ProtoName(ip.Protocol), len(p))
		}
		f.SrcPort, f.DstPort = binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:])
	case ProtoICMP, ProtoICMPv6:
		if len(p) < 2 {
			return f, dropf(DropTruncated, "ICMP type and code need 2 bytes, have %d", len(p))
		}
		f.SrcPort = binary.BigEndian.Uint16(p)
		f.DstPort = f.SrcPort
	}
	return f, nil
}

// Policy is one entry of the Security Policy Database (RFC 4301, Section 4.4.1).
type Policy struct {
	Name      string // for the trace and for Remove
	Priority  int    // smaller is consulted first; see SPD.Lookup
	Direction Direction
	Selector  Selector
	Action    Action
	// Reqid names the Child SA that protects the traffic (SA.Reqid) when Action is
	// ActionProtect.
	Reqid uint32
}

func (p *Policy) String() string {
	s := fmt.Sprintf("%s %s %v %v", p.Name, p.Direction, p.Selector, p.Action)
	if p.Action == ActionProtect {
		s += fmt.Sprintf(" reqid %d", p.Reqid)
	}
	return s
}

// SPD is the Security Policy Database of one node (RFC 4301, Section 4.4.1): an ordered
// list of policies per direction. The zero value is an empty database ready to use; it is
// safe for concurrent use.
//
// The list is kept indexed so that a gateway with a policy per road warrior finds one
// in constant time: a policy whose far end (Dst out, Src in) is one address is filed
// under that address, every other policy in one ordered list; Lookup takes the first
// match of each and keeps the one the ordered list would have given.
type SPD struct {
	mu   sync.RWMutex
	n    uint64 // policies added so far: the order among equal priorities
	dirs [In + 1]spdDir
}

// spdDir is the policies of one direction.
type spdDir struct {
	host map[netip.Addr][]spdEntry // far end one address, in lookup order
	rest []spdEntry                // the others, in lookup order
}

type spdEntry struct {
	p   *Policy
	seq uint64
}

// before reports whether e comes before f in lookup order.
func (e spdEntry) before(f spdEntry) bool {
	return e.p.Priority < f.p.Priority || e.p.Priority == f.p.Priority && e.seq < f.seq
}

// farEnd is the address a policy's far end is, if it is one address.
func farEnd(dir Direction, sel Selector) (netip.Addr, bool) {
	r := sel.Dst
	if dir == In {
		r = sel.Src
	}
	return r.First, r.First.IsValid() && r.First == r.Last
}

// list is the list a policy of the direction with this selector is filed in.
func (s *SPD) list(dir Direction, sel Selector) *[]spdEntry {
	d := &s.dirs[dir]
	if a, ok := farEnd(dir, sel); ok {
		if d.host == nil {
			d.host = map[netip.Addr][]spdEntry{}
		}
		l := d.host[a]
		return &l
	}
	return &d.rest
}

// Add inserts a policy after every policy of the same or smaller Priority.
func (s *SPD) Add(p *Policy) error {
	if err := checkPolicy(p); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(p)
	return nil
}

// AddUnique adds a policy unless one of the same direction, selector and Reqid is
// there, and reports whether it added it.
func (s *SPD) AddUnique(p *Policy) (bool, error) {
	if err := checkPolicy(p); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range *s.list(p.Direction, p.Selector) {
		if e.p.Direction == p.Direction && e.p.Selector == p.Selector && e.p.Reqid == p.Reqid {
			return false, nil
		}
	}
	s.add(p)
	return true, nil
}

func checkPolicy(p *Policy) error {
	switch {
	case p.Direction != In && p.Direction != Out:
		return fmt.Errorf("ipsec: policy %q has no direction", p.Name)
	case p.Action < ActionProtect || p.Action > ActionDiscard:
		return fmt.Errorf("ipsec: policy %q has no action", p.Name)
	}
	return nil
}

func (s *SPD) add(p *Policy) {
	s.n++
	e := spdEntry{p, s.n}
	l := s.list(p.Direction, p.Selector)
	i, _ := slices.BinarySearchFunc(*l, e, func(q, e spdEntry) int {
		if q.before(e) {
			return -1
		}
		return 1
	})
	*l = slices.Insert(*l, i, e)
	s.store(p.Direction, p.Selector, *l)
}

// store puts a host list back in its map (the rest list is changed in place).
func (s *SPD) store(dir Direction, sel Selector, l []spdEntry) {
	if a, ok := farEnd(dir, sel); ok {
		if len(l) == 0 {
			delete(s.dirs[dir].host, a)
		} else {
			s.dirs[dir].host[a] = l
		}
	}
}

// Remove deletes the policies with this name and reports how many there were.
func (s *SPD) Remove(name string) int {
	return len(s.removeWhere(func(p *Policy) bool { return p.Name == name }))
}

// RemoveChild deletes the policies of one Child SA, those with its name and Reqid, and
// returns them in lookup order. The Child SAs of one connection share a name (a
// responder's road warriors, say), each under its own Reqid, and keep theirs.
func (s *SPD) RemoveChild(name string, reqid uint32) []*Policy {
	return s.removeWhere(func(p *Policy) bool { return p.Name == name && p.Reqid == reqid })
}

// removeWhere deletes the policies that match and returns them in lookup order.
func (s *SPD) removeWhere(match func(*Policy) bool) []*Policy {
	s.mu.Lock()
	defer s.mu.Unlock()
	var removed []spdEntry
	drop := func(l []spdEntry) []spdEntry {
		return slices.DeleteFunc(l, func(e spdEntry) bool {
			if match(e.p) {
				removed = append(removed, e)
				return true
			}
			return false
		})
	}
	for dir := range s.dirs {
		d := &s.dirs[dir]
		d.rest = drop(d.rest)
		for a, l := range d.host {
			if l = drop(l); len(l) == 0 {
				delete(d.host, a)
			} else {
				d.host[a] = l
			}
		}
	}
	return inLookupOrder(removed)
}

// Policies returns the policies in lookup order.
func (s *SPD) Policies() []*Policy {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var all []spdEntry
	for dir := range s.dirs {
		all = append(all, s.dirs[dir].rest...)
		for _, l := range s.dirs[dir].host {
			all = append(all, l...)
		}
	}
	return inLookupOrder(all)
}

// inLookupOrder sorts entries in lookup order and returns their policies.
func inLookupOrder(es []spdEntry) []*Policy {
	slices.SortFunc(es, func(e, f spdEntry) int {
		if e.before(f) {
			return -1
		}
		return 1
	})
	out := make([]*Policy, len(es))
	for i, e := range es {
		out[i] = e.p
	}
	return out
}

// Lookup returns the first policy of the direction whose selector matches the flow, in
// order of Priority (smaller first) and, among equal priorities, in the order added: the
// SPD is an ordered list, as RFC 4301, Section 4.4.1 describes it. Selectors are matched
// as written: an inbound policy's Src is the remote side. It returns nil when nothing
// matches; RFC 4301, Section 5 then discards the packet.
func (s *SPD) Lookup(dir Direction, f Flow) *Policy {
	if dir != In && dir != Out {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := &s.dirs[dir]
	var best spdEntry
	for _, e := range d.rest {
		if e.p.Selector.Matches(f) {
			best = e
			break
		}
	}
	far := f.Dst
	if dir == In {
		far = f.Src
	}
	for _, e := range d.host[far] {
		if best.p != nil && !e.before(best) {
			break
		}
		if e.p.Selector.Matches(f) {
			best = e
			break
		}
	}
	return best.p
}
