package ipsec

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/ikesim/ikesim/ike"
)

// SAD is the Security Association Database of one node (RFC 4301, Section 4.4.2). Inbound
// SAs are found by SPI alone, which the receiver chose and which is therefore unique
// among its own SAs (RFC 4301, Section 4.1 allows the SPI alone for unicast SAs).
// Outbound SAs are found by Reqid, the policy's link to its Child SA; after a rekey the
// SA added last for a Reqid is the one used, while the old one stays until deleted.
//
// The zero value is an empty database ready to use; it is safe for concurrent use.
type SAD struct {
	mu    sync.RWMutex
	in    map[uint32]*SA
	out   map[uint32][]*SA // by Reqid, in the order added
	spis  map[uint32][]*SA // outbound SAs by SPI (peers choose them: they may repeat)
	n     uint64           // outbound SAs added so far
	added map[*SA]uint64   // when each outbound SA was added, for SAs
	// bundles counts the inbound SAs of each Reqid that make an AH+ESP bundle: its
	// ESP SAs and its AH SAs in transport mode.
	bundles map[uint32]*bundleCount
}

// bundleCount is how many inbound ESP SAs and AH SAs in transport mode a Reqid has.
type bundleCount struct{ esp, ah int }

// count adds n to the bundle count of sa's Reqid. Call it with d.mu held.
func (d *SAD) count(sa *SA, n int) {
	c := d.bundles[sa.Reqid]
	if c == nil {
		if d.bundles == nil {
			d.bundles = map[uint32]*bundleCount{}
		}
		c = &bundleCount{}
		d.bundles[sa.Reqid] = c
	}
	switch {
	case !sa.IsAH():
		c.esp += n
	case sa.Mode == Transport:
		c.ah += n
	}
	if c.esp == 0 && c.ah == 0 {
		delete(d.bundles, sa.Reqid)
	}
}

// bundled reports whether the inbound SAs of reqid are an AH+ESP bundle.
func (d *SAD) bundled(reqid uint32) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	c := d.bundles[reqid]
	return c != nil && c.esp > 0 && c.ah > 0
}

// AddInbound installs an inbound SA after checking its configuration (SA.Init).
func (d *SAD) AddInbound(sa *SA) error {
	if sa.SPI < 256 {
		// RFC 4303, Section 2.1: SPI values 1 to 255 are reserved and 0 is local use.
		return fmt.Errorf("ipsec: inbound SPI 0x%08x is reserved", sa.SPI)
	}
	if err := sa.Init(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old := d.in[sa.SPI]; old != nil {
		return fmt.Errorf("ipsec: inbound SPI 0x%08x is already in use by %v", sa.SPI, old)
	}
	if d.in == nil {
		d.in = make(map[uint32]*SA)
	}
	d.in[sa.SPI] = sa
	d.count(sa, 1)
	return nil
}

// AddOutbound installs an outbound SA after checking its configuration (SA.Init). It
// becomes the SA that Outbound returns for its Reqid.
func (d *SAD) AddOutbound(sa *SA) error {
	if err := sa.Init(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.out == nil {
		d.out, d.spis, d.added = map[uint32][]*SA{}, map[uint32][]*SA{}, map[*SA]uint64{}
	}
	d.n++
	d.out[sa.Reqid] = append(d.out[sa.Reqid], sa)
	d.spis[sa.SPI] = append(d.spis[sa.SPI], sa)
	d.added[sa] = d.n
	return nil
}

// Inbound returns the inbound SA with this SPI, or nil.
func (d *SAD) Inbound(spi uint32) *SA {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.in[spi]
}

// Outbound returns the newest outbound SA for the Reqid, or nil.
func (d *SAD) Outbound(reqid uint32) *SA {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if l := d.out[reqid]; len(l) > 0 {
		return l[len(l)-1]
	}
	return nil
}

// DeleteInbound removes the inbound SA with this SPI and returns it, or nil.
func (d *SAD) DeleteInbound(spi uint32) *SA {
	d.mu.Lock()
	defer d.mu.Unlock()
	sa := d.in[spi]
	if sa != nil {
		delete(d.in, spi)
		d.count(sa, -1)
	}
	return sa
}

// DeleteOutbound removes the outbound SA with this SPI and returns it, or nil.
func (d *SAD) DeleteOutbound(spi uint32) *SA {
	d.mu.Lock()
	defer d.mu.Unlock()
	// The first added of that SPI, as a search of one list in order would find it.
	same := d.spis[spi]
	if len(same) == 0 {
		return nil
	}
	sa := same[0]
	if len(same) == 1 {
		delete(d.spis, spi)
	} else {
		d.spis[spi] = same[1:]
	}
	l := slices.DeleteFunc(d.out[sa.Reqid], func(s *SA) bool { return s == sa })
	if len(l) == 0 {
		delete(d.out, sa.Reqid)
	} else {
		d.out[sa.Reqid] = l
	}
	delete(d.added, sa)
	return sa
}

// SAs returns the inbound SAs by SPI, then the outbound SAs in the order added.
func (d *SAD) SAs() (in, out []*SA) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, sa := range d.in {
		in = append(in, sa)
	}
	slices.SortFunc(in, func(a, b *SA) int { return cmp.Compare(a.SPI, b.SPI) })
	for _, l := range d.out {
		out = append(out, l...)
	}
	slices.SortFunc(out, func(a, b *SA) int { return cmp.Compare(d.added[a], d.added[b]) })
	return in, out
}

// Protect applies the newest outbound SA of the Reqid to an IPv4 packet (SA.Protect).
// When the Reqid has an ESP SA and an AH SA in transport mode, an SA bundle, the newest
// ESP SA goes first and the AH SA over its outer header (RFC 4301, Section 4.5); the SA
// returned is the ESP one.
func (d *SAD) Protect(reqid uint32, inner []byte) ([]byte, *SA, error) {
	esp, ah := d.outbound(reqid, ProtoESP), d.outbound(reqid, ProtoAH)
	sa := d.Outbound(reqid)
	if sa == nil {
		return nil, nil, &DropError{Reason: DropNoSA, Detail: fmt.Sprintf("no outbound SA for reqid %d", reqid)}
	}
	if esp == nil || ah == nil || ah.Mode != Transport {
		out, err := sa.Protect(inner)
		return out, sa, err
	}
	out, err := esp.Protect(inner)
	if err != nil {
		return nil, esp, err
	}
	out, err = ah.Protect(out)
	return out, esp, err
}

// outbound returns the newest outbound SA of protocol proto for the Reqid, or nil.
func (d *SAD) outbound(reqid uint32, proto uint8) *SA {
	d.mu.RLock()
	defer d.mu.RUnlock()
	l := d.out[reqid]
	for i := len(l) - 1; i >= 0; i-- {
		if l[i].proto() == proto {
			return l[i]
		}
	}
	return nil
}

// Unprotect is inbound IPsec processing (RFC 4303, Section 3.4; RFC 4302, Section 3.4) of
// an IPv4 packet that carries ESP (protocol 50), UDP-encapsulated ESP (UDP with port 4500
// on either side, RFC 3948) or AH (protocol 51). It finds the SA by SPI, checks the anti-replay window and the ICV, decrypts,
// checks the padding and returns the inner IPv4 packet: the decrypted one in tunnel mode,
// or the original rebuilt in transport mode. The outer packet is not modified.
//
// Where the inbound SAs of a Reqid are an AH+ESP bundle, a packet must come through both,
// as the policy's template list of a kernel demands (RFC 4301, Section 5.2: the SAs
// applied must match the policy): ESP alone, AH alone, or AH over the ESP of another
// Reqid is processed, then refused with DropBundle.
//
// A refused packet returns a *DropError. Two of its reasons are not faults: DropIKE (UDP
// 4500 with the non-ESP marker: hand the payload after the marker to IKE) and
// DropKeepalive (a NAT-keepalive, to be discarded silently).
func (d *SAD) Unprotect(outer []byte) (inner []byte, sa *SA, err error) {
	return d.AppendUnprotect(nil, outer)
}

// AppendUnprotect is Unprotect appending the inner packet to dst, so that a caller with a
// buffer to reuse allocates nothing. On error dst is not returned.
func (d *SAD) AppendUnprotect(dst, outer []byte) (inner []byte, sa *SA, err error) {
	start := len(dst)
	inner, sa, err = d.unprotectOnce(dst, outer)
	if err != nil {
		return inner, sa, err
	}
	if !sa.IsAH() || sa.Mode != Transport {
		if !sa.IsAH() && d.bundled(sa.Reqid) {
			return nil, sa, &DropError{Reason: DropBundle, SPI: sa.SPI,
				Detail: fmt.Sprintf("ESP packet without the AH of its AH+ESP bundle (reqid %d)", sa.Reqid)}
		}
		return inner, sa, nil
	}
	// An AH SA in transport mode over the outer header of an ESP SA is an SA bundle (RFC
	// 4301, Section 4.5; IKEv1 negotiates AH and ESP in one proposal): the packet left
	// after AH is opened with its ESP SA.
	if ip, err := ParseIP(inner[start:]); err != nil || ip.Protocol != ProtoESP {
		if d.bundled(sa.Reqid) {
			return nil, sa, &DropError{Reason: DropBundle, SPI: sa.SPI,
				Detail: fmt.Sprintf("AH packet without the ESP of its AH+ESP bundle (reqid %d)", sa.Reqid)}
		}
		return inner, sa, nil
	}
	in2, sa2, err := d.unprotectOnce(nil, inner[start:])
	if err != nil {
		return nil, sa2, err
	}
	if sa2.IsAH() || sa2.Reqid != sa.Reqid {
		return nil, sa2, &DropError{Reason: DropBundle, SPI: sa2.SPI,
			Detail: fmt.Sprintf("the AH of reqid %d carries an SA of reqid %d, not the ESP of its bundle", sa.Reqid, sa2.Reqid)}
	}
	return append(inner[:start], in2...), sa2, nil
}

// unprotectOnce is inbound processing of one ESP or AH header.
func (d *SAD) unprotectOnce(dst, outer []byte) (inner []byte, sa *SA, err error) {
	ip, err := ParseIP(outer)
	if err != nil {
		return nil, nil, err
	}
	if ip.IsFragment() {
		return nil, nil, dropf(DropFragment, "reassemble before IPsec processing (RFC 4303, Section 3.4.1; RFC 4302, Section 3.4.1)")
	}
	if ip.Protocol == ProtoAH {
		// RFC 4302, Section 2: the SPI follows Next Header, Payload Length and Reserved.
		if len(ip.Payload) < ahHeaderLen {
			return nil, nil, dropf(DropTruncated, "AH header needs 12 bytes, have %d", len(ip.Payload))
		}
		if sa, err = d.inboundOf(ip.Payload[4:], ProtoAH); err != nil {
			return nil, nil, err
		}
		inner, err = sa.unprotectAH(dst, outer, &ip)
		return inner, sa, err
	}
	esp, encap, err := espOf(&ip)
	if err != nil {
		return nil, nil, err
	}
	if sa, err = d.inboundOf(esp, ProtoESP); err != nil {
		return nil, nil, err
	}
	inner, err = sa.unprotect(dst, outer, &ip, esp, encap)
	return inner, sa, err
}

// inboundOf finds the inbound SA of the SPI and sequence number at the start of b, which
// must be an SA of protocol proto.
func (d *SAD) inboundOf(b []byte, proto uint8) (*SA, error) {
	spi, seq := binary.BigEndian.Uint32(b), uint64(binary.BigEndian.Uint32(b[4:]))
	sa := d.Inbound(spi)
	switch {
	case sa == nil:
		return nil, &DropError{Reason: DropUnknownSPI, SPI: spi, Seq: seq}
	case sa.proto() != proto:
		return nil, &DropError{Reason: DropWrongProtocol, SPI: spi, Seq: seq,
			Detail: ProtoName(proto) + " packet for an " + ProtoName(sa.proto()) + " SA"}
	}
	return sa, nil
}

// espOf finds the ESP packet in an IPv4 packet: its payload for protocol 50, or the UDP
// payload on port 4500 after telling ESP from a non-ESP marker and a NAT-keepalive
// (RFC 3948, Sections 2.2 and 2.3).
func espOf(ip *IPv4) (esp []byte, encap bool, err error) {
	switch ip.Protocol {
	case ProtoESP:
		esp = ip.Payload
	case ProtoUDP:
		u, err := ParseUDP(ip.Payload, ip.Src, ip.Dst)
		if err != nil {
			return nil, false, err
		}
		if u.SrcPort != PortNATT && u.DstPort != PortNATT {
			return nil, false, dropf(DropNotESP, "UDP %d -> %d is not the NAT-T port %d", u.SrcPort, u.DstPort, PortNATT)
		}
		switch natTKind(u.Payload) {
		case natTKeepalive:
			return nil, false, &DropError{Reason: DropKeepalive}
		case natTIKE:
			return nil, false, &DropError{Reason: DropIKE}
		}
		esp, encap = u.Payload, true
	default:
		return nil, false, dropf(DropNotESP, "IP protocol %s", ProtoName(ip.Protocol))
	}
	if len(esp) < espHeaderLen {
		return nil, false, dropf(DropTruncated, "ESP header needs 8 bytes, have %d", len(esp))
	}
	return esp, encap, nil
}

// What a UDP payload on port 4500 is (RFC 3948, Sections 2.2 and 2.3).
type natTPayload uint8

const (
	natTESP       natTPayload = iota
	natTIKE                   // starts with the 4-byte non-ESP marker (zero, where an SPI cannot be)
	natTKeepalive             // the single byte 0xFF
)

func natTKind(p []byte) natTPayload {
	switch {
	case len(p) == 1 && p[0] == 0xff:
		return natTKeepalive
	case len(p) >= 4 && p[0]|p[1]|p[2]|p[3] == 0:
		return natTIKE
	}
	return natTESP
}

// Dissect dissects an IPv4 packet like DissectIPv4 and opens ESP with this database's
// keys: the inbound SA of the SPI, or an outbound SA with that SPI (a packet this node
// sent). It does not change any SA's state.
func (d *SAD) Dissect(b []byte) *ike.Field {
	return Dissector{SA: d.lookup}.IPv4(b)
}

// lookup finds the SA that can open an ESP packet with this SPI sent to dst.
func (d *SAD) lookup(spi uint32, dst netip.Addr) *SA {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if sa := d.in[spi]; sa != nil && (sa.Dst == dst || !dst.IsValid()) {
		return sa
	}
	if l := d.spis[spi]; len(l) > 0 {
		return l[len(l)-1]
	}
	return d.in[spi]
}
