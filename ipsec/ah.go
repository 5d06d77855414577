package ipsec

import (
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"

	"github.com/ikesim/ikesim/ike"
)

// AH (RFC 4302) shares everything but its wire format with ESP: the SA and its SAD
// entry, the sequence number counter and its Extended Sequence Numbers, the anti-replay
// window, the MAC of the integrity algorithm, the selector check and the counters.
//
// Outbound (SA.Protect on an AH SA):
//
//  1. The packet: in tunnel mode a new outer header (Protocol 51) before the whole
//     packet, in transport mode the packet's own header with Protocol 51.
//  2. The AH header after it: Next Header, Payload Length, SPI, Sequence Number and an
//     ICV field of zeros.
//  3. The ICV: the MAC over a copy of the packet whose mutable header fields are zeroed
//     (RFC 4302, Section 3.3.3.1), with ESN the high 32 bits of the sequence number
//     after it, written into the ICV field.
//
// Inbound (SAD.Unprotect of protocol 51): the SA by SPI, the anti-replay window, the ICV
// computed as above and compared, then the window moves, and the inner packet comes out
// as ESP's does.

// RFC 4302, Section 2: Next Header (1 byte), Payload Length (1), Reserved (2), SPI (4),
// Sequence Number (4), then the ICV, padded to a multiple of 4 bytes in IPv4.
const ahHeaderLen = 12

// ahLen is the length of the AH header with an ICV of icv bytes, padded to align bytes
// (RFC 4302, Section 2.6: 32 bits in IPv4, 64 bits in IPv6).
func ahLen(icv, align int) int {
	n := ahHeaderLen + icv
	return (n + align - 1) / align * align
}

// prepareAH is prepare for an AH SA: an integrity algorithm that can compute ICVs, no
// cipher, no UDP encapsulation.
func (sa *SA) prepareAH() error {
	switch {
	case sa.Encr != nil:
		// RFC 4302, Section 1: AH does not encrypt.
		return sa.drop(DropConfig, 0, "AH takes no encryption algorithm, have %s", sa.Encr.Name)
	case sa.Integ == nil:
		return sa.drop(DropConfig, 0, "AH without an integrity algorithm")
	case sa.Encap != nil:
		// RFC 3948 encapsulates ESP alone: AH covers the addresses a NAT rewrites.
		return sa.drop(DropConfig, 0, "AH cannot be UDP encapsulated (RFC 3948 covers ESP only)")
	}
	if err := sa.prepareMAC(); err != nil {
		return err
	}
	sa.ready = true
	return nil
}

// appendProtectAH is AppendProtect on an AH SA (RFC 4302, Section 3.3), with sa.mu held
// and the SA prepared; ip is inner parsed.
func (sa *SA) appendProtectAH(dst, inner []byte, ip *IPv4) ([]byte, error) {
	if sa.mac == nil {
		return nil, sa.drop(DropConfig, 0, "%s cannot protect a packet", sa.Integ.Name)
	}
	hl, payload, nextHeader, seq, err := sa.outbound(inner, ip)
	if err != nil {
		return nil, err
	}
	n := sa.ahLen()
	total := hl + n + len(payload)
	if sa.tooLong(total) {
		return nil, sa.drop(DropMalformed, 0, "%d bytes after AH exceed 65535", total)
	}
	start := len(dst)
	dst = slices.Grow(dst, total)[:start+total]
	out := dst[start:]
	if sa.Mode == Tunnel {
		sa.putTunnelHeader(out, ip, ProtoAH, seq, total)
	} else {
		copy(out, inner[:hl])
		fixIPHeader(out, hl, total, ProtoAH)
	}
	ah := out[hl : hl+n]
	ah[0], ah[1], ah[2], ah[3] = nextHeader, byte(n/4-2), 0, 0
	binary.BigEndian.PutUint32(ah[4:], sa.SPI)
	binary.BigEndian.PutUint32(ah[8:], uint32(seq))
	clear(ah[ahHeaderLen:])
	copy(out[hl+n:], payload)
	copy(ah[ahHeaderLen:], sa.ahICV(out, hl, seq))
	sa.sent(seq, ip.HeaderLen()+len(ip.Payload))
	return dst, nil
}

// ahICV is the ICV of the AH packet pkt whose AH header starts at hl (RFC 4302, Section
// 3.3.3): the MAC over the packet with the mutable IPv4 header fields and the ICV field
// zeroed, and with ESN the high 32 bits of seq (RFC 4302, Section 2.5.1). The result
// aliases a scratch buffer of the SA.
func (sa *SA) ahICV(pkt []byte, hl int, seq uint64) []byte {
	sa.zeroed = append(sa.zeroed[:0], pkt...)
	if pkt[0]>>4 == 6 {
		zeroMutableIPv6(sa.zeroed[:hl])
	} else {
		zeroMutableIPv4(sa.zeroed[:hl])
	}
	clear(sa.zeroed[hl+ahHeaderLen : hl+ahHeaderLen+sa.icvSize])
	return sa.computeICV(sa.zeroed, seq)
}

// immutableIPv4Options are the IPv4 options whose data AH covers, by option number (the
// low five bits of the type): RFC 4302, Appendix A.1 lists End of Options List, No
// Operation, Security, Extended Security, Commercial Security, Router Alert and Sender
// Directed Multi-Destination Delivery. Every other option is zeroed whole.
var immutableIPv4Options = [32]bool{0: true, 1: true, 2: true, 5: true, 6: true, 20: true, 21: true}

// zeroMutableIPv4 zeroes the fields of an IPv4 header that may change in transit (RFC
// 4302, Section 3.3.3.1.1.1): Type of Service, Flags, Fragment Offset, Time to Live and
// Header Checksum, and the mutable options (Appendix A.1). Version, IHL, Total Length,
// Identification, Protocol and the addresses stay.
func zeroMutableIPv4(h []byte) {
	h[1] = 0
	h[6], h[7], h[8] = 0, 0, 0
	h[10], h[11] = 0, 0
	opts := h[ipv4HeaderLen:]
	for len(opts) > 0 {
		typ := opts[0]
		n := 1
		if typ != 0 && typ != 1 {
			if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
				clear(opts) // a malformed option: nothing after it can be trusted
				return
			}
			n = int(opts[1])
		}
		if !immutableIPv4Options[typ&0x1f] {
			clear(opts[:n])
		}
		opts = opts[n:]
	}
}

// ahLen is the length of the SA's AH header: its ICV padded to 32 bits in IPv4, 64 bits
// in IPv6 (RFC 4302, Section 3.3.3.2.1).
func (sa *SA) ahLen() int {
	if sa.Src.Is6() {
		return ahLen(sa.icvSize, 8)
	}
	return ahLen(sa.icvSize, 4)
}

// zeroMutableIPv6 zeroes the fields of an IPv6 header and its extension headers that
// may change in transit (RFC 4302, Section 3.3.3.1.2): Traffic Class, Flow Label and Hop
// Limit, and the data of every Hop-by-Hop or Destination option whose type has the
// "may change en route" bit (0x20, RFC 8200, Section 4.2).
func zeroMutableIPv6(h []byte) {
	h[0] &= 0xf0
	h[1], h[2], h[3], h[7] = 0, 0, 0, 0
	nh, off := h[6], ipv6HeaderLen
	for off < len(h) && isExtHeader(nh) {
		n, err := extLen(nh, h[off:])
		if err != nil {
			return
		}
		if nh == ProtoHopByHop || nh == ProtoDestOpts {
			zeroMutableOptions(h[off+2 : off+n])
		}
		nh, off = h[off], off+n
	}
}

// zeroMutableOptions zeroes the data of the mutable options in a block of IPv6 options
// (RFC 8200, Section 4.2): Pad1 is one byte, every other option type, length, data.
func zeroMutableOptions(opts []byte) {
	for len(opts) > 0 {
		if opts[0] == 0 {
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || 2+int(opts[1]) > len(opts) {
			return
		}
		n := 2 + int(opts[1])
		if opts[0]&0x20 != 0 {
			clear(opts[2:n])
		}
		opts = opts[n:]
	}
}

// ahOf checks the AH header of an inbound packet for this SA and returns its length: the
// Payload Length must give the SA's ICV padded to 32 or 64 bits (RFC 4302, Section 2.2),
// as Linux accepts both.
func (sa *SA) ahOf(ah []byte) (int, error) {
	if len(ah) < ahHeaderLen {
		return 0, dropf(DropTruncated, "AH header needs 12 bytes, have %d", len(ah))
	}
	n := (int(ah[1]) + 2) * 4
	seq := uint64(binary.BigEndian.Uint32(ah[8:]))
	switch {
	case n != ahLen(sa.icvSize, 4) && n != ahLen(sa.icvSize, 8):
		return 0, sa.drop(DropMalformed, seq, "AH Payload Length %d (%d bytes) does not hold the %d-byte ICV of %s", ah[1], n, sa.icvSize, sa.Integ.Name)
	case n > len(ah):
		return 0, sa.drop(DropTruncated, seq, "AH of %d bytes, have %d", n, len(ah))
	}
	return n, nil
}

// verifyAH checks the ICV of the AH packet pkt (AH at hl, n bytes long) with full
// sequence number seq. A mismatch says which outer address differs from the SA's, since
// a NAT that rewrote one breaks every AH packet (RFC 4302, Section 3.3.3.1.1.1 covers the
// addresses; RFC 3948 leaves AH out).
func (sa *SA) verifyAH(pkt []byte, hl int, seq uint64, src, dst netip.Addr) error {
	if sa.mac == nil {
		return nil // ike.UncheckedICV: nobody can check it
	}
	icv := pkt[hl+ahHeaderLen : hl+ahHeaderLen+sa.icvSize]
	if subtle.ConstantTimeCompare(sa.ahICV(pkt, hl, seq), icv) == 1 {
		return nil
	}
	detail := sa.Integ.Name + " does not verify"
	switch {
	case src != sa.Src:
		detail += "; the outer source address is " + src.String() + ", the SA's is " + sa.Src.String() +
			": an address the ICV covers changed on the way (a NAT?)"
	case dst != sa.Dst:
		detail += "; the outer destination address is " + dst.String() + ", the SA's is " + sa.Dst.String() +
			": an address the ICV covers changed on the way (a NAT?)"
	case sa.NAT:
		detail += "; IKE found a NAT between the peers: it rewrote an outer address, which the ICV covers (RFC 4302, Section 3.3.3.1.1.1), and AH cannot be UDP encapsulated (RFC 3948)"
	}
	de := sa.drop(DropICV, seq, "%s", detail)
	de.AddressChanged = src != sa.Src || dst != sa.Dst || sa.NAT
	return de
}

// unprotectAH is inbound AH processing on this SA (RFC 4302, Section 3.4) of the packet
// outer, whose parsed header is ip. It appends the inner packet to dst: the one after AH
// in tunnel mode, the header and payload without AH in transport mode.
func (sa *SA) unprotectAH(dst, outer []byte, ip *IPv4) ([]byte, error) {
	sa.mu.Lock()
	defer sa.mu.Unlock()
	if err := sa.prepare(); err != nil {
		return nil, err
	}
	n, err := sa.ahOf(ip.Payload)
	if err != nil {
		return nil, err
	}
	ah, hl := ip.Payload, ip.HeaderLen()
	seq := sa.seqOf(binary.BigEndian.Uint32(ah[8:]))
	if err := sa.checkReplay(seq); err != nil {
		return nil, err
	}
	if err := sa.verifyAH(outer[:hl+len(ah)], hl, seq, ip.Src, ip.Dst); err != nil {
		sa.stats.ICVFailures++
		return nil, err
	}
	sa.replay.Update(seq)

	nextHeader, payload := ah[0], ah[n:]
	start := len(dst)
	switch {
	case sa.Mode == Tunnel:
		n, err := sa.tunnelled(nextHeader, payload, seq)
		if err != nil {
			return nil, err
		}
		dst = append(dst, payload[:n]...)
	default:
		// RFC 4302, Section 3.4.4: transport mode takes AH out and gives the header
		// back its Next Header.
		dst = append(append(dst, outer[:hl]...), payload...)
		fixIPHeader(dst[start:], hl, len(dst)-start, nextHeader)
	}
	inner := dst[start:]
	if err := sa.checkSelectors(inner, seq); err != nil {
		return nil, err
	}
	sa.stats.Packets++
	sa.stats.Bytes += uint64(len(inner))
	return dst, nil
}

// ah dissects the AH header of the IPv4 packet pkt, at hl, and the packet it protects
// (RFC 4302, Section 2); base is the offset of pkt. With the SA of its SPI the ICV is
// verified, without changing the SA's state.
func (d Dissector) ah(pkt []byte, hl, base int, ip *IPv4) *ike.Field {
	b, off := pkt[hl:], base+hl
	f := &ike.Field{Name: "AH", Offset: off, Length: len(b), Explain: "Authentication Header (RFC 4302): integrity for the packet and the immutable fields of its IP header, no encryption"}
	if len(b) < ahHeaderLen {
		f.Error = fmt.Sprintf("truncated: the AH header needs 12 bytes, have %d", len(b))
		return f
	}
	nh, n := b[0], (int(b[1])+2)*4
	spi, seq32 := binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint32(b[8:])
	f.Value = fmt.Sprintf("SPI 0x%08x, seq %d", spi, seq32)
	field(f, "Next Header", fmt.Sprintf("%s (%d)", ProtoName(nh), nh), off, 1,
		"what follows AH: IPv4 (4) in tunnel mode, the transport protocol in transport mode")
	field(f, "Payload Length", fmt.Sprintf("%d (%d bytes)", b[1], n), off+1, 1, "the AH header's length in 32-bit words, minus 2")
	field(f, "Reserved", fmt.Sprintf("0x%04x", binary.BigEndian.Uint16(b[2:])), off+2, 2, "zero")
	field(f, "SPI", fmt.Sprintf("0x%08x", spi), off+4, 4, "Security Parameters Index: the receiver chose it to find its SA")
	field(f, "Sequence Number", fmt.Sprint(seq32), off+8, 4, "counts the packets of the SA; the receiver refuses repeats (anti-replay)")
	switch {
	case n < ahHeaderLen:
		f.Error = fmt.Sprintf("malformed: AH of %d bytes is shorter than its 12-byte header", n)
		return f
	case n > len(b):
		f.Error = fmt.Sprintf("truncated: AH of %d bytes, have %d", n, len(b))
		return f
	}
	icv := field(f, "ICV", fmt.Sprintf("%x", b[ahHeaderLen:n]), off+ahHeaderLen, n-ahHeaderLen,
		"Integrity Check Value over the whole packet with the mutable IP header fields (TOS, flags, TTL, checksum) zeroed: the addresses are covered (RFC 4302, Section 3.3.3)")
	var sa *SA
	if d.SA != nil {
		sa = d.SA(spi, ip.Dst)
	}
	if sa != nil && sa.IsAH() && sa.SPI == spi {
		d.verifyAHField(f, icv, sa, pkt, hl, ip)
	}
	p, poff := b[n:], off+n
	switch nh {
	case ProtoIPIP, ProtoIPv6:
		f.Children = append(f.Children, d.ip(p, poff))
	case ProtoICMPv6:
		f.Children = append(f.Children, dissectICMPv6(p, poff, ip.Src, ip.Dst))
	case ProtoICMP:
		f.Children = append(f.Children, dissectICMP(p, poff))
	case ProtoUDP:
		f.Children = append(f.Children, d.udp(p, poff, ip.Src, ip.Dst))
	case ProtoTCP:
		f.Children = append(f.Children, dissectTCP(p, poff))
	case ProtoESP:
		f.Children = append(f.Children, d.esp(p, poff, ip.Dst))
	default:
		field(f, "Payload", fmt.Sprintf("%d bytes", len(p)), poff, len(p), "")
	}
	return f
}

// verifyAHField verifies the ICV of an AH packet for its dissection.
func (d Dissector) verifyAHField(f, icv *ike.Field, sa *SA, pkt []byte, hl int, ip *IPv4) {
	sa.mu.Lock()
	defer sa.mu.Unlock()
	if err := sa.prepare(); err != nil {
		f.Error = err.Error()
		return
	}
	if _, err := sa.ahOf(pkt[hl:]); err != nil {
		icv.Error = err.Error()
		return
	}
	seq := sa.seqOf(binary.BigEndian.Uint32(pkt[hl+8:]))
	if sa.ESN {
		field(f, "Extended Sequence Number", fmt.Sprint(seq), f.Offset+8, 4,
			"64-bit sequence number: the high 32 bits are not sent but are covered by the ICV (RFC 4302, Section 2.5.1)")
	}
	switch err := sa.verifyAH(pkt, hl, seq, ip.Src, ip.Dst); {
	case err != nil:
		icv.Error = err.Error()
	case sa.mac == nil:
		icv.Value += " (not checked: the key table gives no integrity algorithm)"
	default:
		icv.Value += fmt.Sprintf(" (verified, %s)", sa.Integ.Name)
	}
}
