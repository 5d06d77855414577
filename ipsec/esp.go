package ipsec

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// RFC 4303, Section 2: an ESP packet is SPI (4 bytes), Sequence Number (4), the payload
// (IV, then the protected data), Padding (0-255), Pad Length (1), Next Header (1) and the
// ICV.
const (
	espHeaderLen  = 8
	espTrailerLen = 2
)

// encrNullAuthAESGMAC is ENCR_NULL_AUTH_AES_GMAC (RFC 4543), whose ESP layout (payload in
// clear, all of it authenticated) this package does not build.
const encrNullAuthAESGMAC = 21

// Mode is an SA's mode (RFC 4301, Section 4.1).
type Mode uint8

const (
	// Tunnel protects a whole IPv4 packet inside a new outer header (Next Header 4).
	Tunnel Mode = iota + 1
	// Transport protects the payload of a packet and keeps its header.
	Transport
)

var modeNames = [...]string{Tunnel: "tunnel", Transport: "transport"}

func (m Mode) String() string { return enumName(modeNames[:], uint8(m), "Mode") }

// UDPEncap is the UDP encapsulation of an SA behind a NAT (RFC 3948, Section 2.1): the
// ports of the outer UDP header, 4500 on both sides unless a NAT rewrote them.
type UDPEncap struct {
	SrcPort, DstPort uint16
}

// An SA is one direction of an ESP or AH Child SA (RFC 4301, Section 4.4.2): what the
// Security Association Database holds for it. Fill in the exported fields, then use it through a
// SAD or directly with Protect; the fields must not change once the SA is in use. An SA
// is safe for concurrent use.
//
// IVs: a CBC cipher takes an unpredictable IV read from Rand (RFC 3602, Section 2.1).
// Counter-based ciphers (the AEAD ciphers and any cipher whose BlockSize is 1) need only
// an IV that never repeats under one key, so they take the 64-bit sequence number, as
// RFC 4106, Section 3.1 allows (the IV "MAY be a counter"): it is unique per packet,
// costs no randomness and leaves Rand untouched.
type SA struct {
	SPI uint32
	// Protocol is ProtoESP (the zero value means ESP too) or ProtoAH (RFC 4302): an AH
	// SA takes an integrity algorithm and no encryption algorithm, and is never UDP
	// encapsulated.
	Protocol uint8
	// Src and Dst are the outer addresses: the tunnel endpoints, or in transport mode
	// the two hosts. Protect writes them into a tunnel mode outer header.
	Src, Dst netip.Addr
	// Reqid ties the SA to the policy that uses it (Policy.Reqid); a SAD finds its
	// outbound SAs by it.
	Reqid uint32

	Encr        *ike.EncrAlg
	EncrKeyBits int    // the negotiated key length; 0 for the algorithm's only size
	EncrKey     []byte // Encr.KeyBytes(EncrKeyBits) bytes: the key, then an AEAD cipher's salt
	Integ       *ike.IntegAlg
	IntegKey    []byte // Integ.KeySize bytes; nil with an AEAD cipher

	Mode  Mode
	ESN   bool      // 64-bit Extended Sequence Numbers (RFC 4303, Section 2.2.1)
	Encap *UDPEncap // nil: plain ESP, IP protocol 50
	// NAT says IKE found a NAT between the peers. An AH SA cannot be UDP encapsulated,
	// and its ICV failures then name the NAT as the likely cause.
	NAT bool

	// Rand is the source of CBC IVs: the simulator's seeded source.
	Rand io.Reader
	// WindowSize is the inbound anti-replay window in packets: 0 means
	// DefaultReplayWindow, a negative value turns the replay check off (RFC 4303,
	// Section 3.4.3 lets a receiver do so).
	WindowSize int
	// TTL of a tunnel mode outer header; 0 means 64.
	TTL uint8
	// NextID returns the Identification of a tunnel mode outer header (the node's IP ID
	// counter); nil uses the low 16 bits of the sequence number.
	NextID func() uint16
	// Created is when the SA was installed, on the simulator's clock.
	Created time.Time
	// Selectors, on an inbound SA, are the traffic the SA was negotiated for, written as
	// an inbound policy's selectors (Src is the peer's side): a decrypted packet that
	// matches none of them is dropped (RFC 4301, Section 5.2, step 4). Empty means no
	// check.
	Selectors []Selector

	mu        sync.Mutex
	ready     bool
	cipher    ike.Cipher
	fast      appendCipher // the cipher's in-place form, when there is one
	mac       hash.Hash
	sum       []byte   // scratch for the MAC output
	zeroed    []byte   // AH: scratch for the packet with its mutable fields zeroed
	scratch   [12]byte // scratch for ESN associated data
	ivFromSeq bool
	align     int // padding alignment: the block size and 4 (RFC 4303, Section 2.4)
	ivSize    int
	icvSize   int

	seq    uint64 // outbound: the last sequence number sent
	replay ReplayWindow
	stats  Stats
}

// Stats are an SA's counters.
type Stats struct {
	Packets uint64 // packets protected (outbound) or accepted (inbound)
	Bytes   uint64 // bytes of their inner IP packets
	// Seq is the last sequence number sent (outbound) or the highest accepted (inbound).
	Seq         uint64
	ReplayDrops uint64 // inbound packets the anti-replay window refused
	ICVFailures uint64 // inbound packets whose ICV did not verify
}

// Stats returns a copy of the SA's counters.
func (sa *SA) Stats() Stats {
	sa.mu.Lock()
	defer sa.mu.Unlock()
	st := sa.stats
	st.Seq = max(st.Seq, sa.replay.Top())
	return st
}

func (sa *SA) String() string {
	name := "?"
	if sa.Encr != nil {
		name = sa.Encr.Name
		if sa.EncrKeyBits != 0 {
			name += fmt.Sprintf("/%d", sa.EncrKeyBits)
		}
	}
	if sa.Integ != nil {
		name += "+" + sa.Integ.Name
	}
	if sa.IsAH() && sa.Integ != nil {
		name = sa.Integ.Name
	}
	s := fmt.Sprintf("%s SPI 0x%08x %v -> %v %v %s", ProtoName(sa.proto()), sa.SPI, sa.Src, sa.Dst, sa.Mode, name)
	if sa.ESN {
		s += " ESN"
	}
	if sa.Encap != nil {
		s += fmt.Sprintf(" UDP %d->%d", sa.Encap.SrcPort, sa.Encap.DstPort)
	}
	return s
}

// Init checks the SA's configuration and builds its cipher and MAC. Protect and a SAD
// call it; call it yourself to see a configuration error early.
func (sa *SA) Init() error {
	sa.mu.Lock()
	defer sa.mu.Unlock()
	return sa.prepare()
}

func (sa *SA) drop(r DropReason, seq uint64, format string, args ...any) *DropError {
	return &DropError{Reason: r, SPI: sa.SPI, Seq: seq, Detail: fmt.Sprintf(format, args...)}
}

// prepare is Init with sa.mu held.
func (sa *SA) prepare() error {
	if sa.ready {
		return nil
	}
	if err := sa.prepareCommon(); err != nil {
		return err
	}
	if sa.IsAH() {
		return sa.prepareAH()
	}
	e := sa.Encr
	switch {
	case e == nil || e.New == nil:
		return sa.drop(DropConfig, 0, "no encryption algorithm")
	case e.ID == encrNullAuthAESGMAC:
		return sa.drop(DropConfig, 0, "%s (RFC 4543) is not supported", e.Name)
	case sa.EncrKeyBits != 0 && !slices.Contains(e.KeyBits, sa.EncrKeyBits):
		return sa.drop(DropConfig, 0, "%s has no %d-bit key", e.Name, sa.EncrKeyBits)
	case len(sa.EncrKey) != e.KeyBytes(sa.EncrKeyBits):
		return sa.drop(DropConfig, 0, "%s takes %d bytes of key material, have %d", e.Name, e.KeyBytes(sa.EncrKeyBits), len(sa.EncrKey))
	case e.AEAD() && sa.Integ != nil:
		// RFC 7296, Section 3.3: a combined-mode cipher takes no integrity transform.
		return sa.drop(DropConfig, 0, "%s is a combined-mode cipher and takes no integrity algorithm", e.Name)
	case e.ID == ike.ENCR_NULL && sa.Integ == nil:
		// RFC 4303, Section 3.2: NULL encryption with no integrity protects nothing.
		return sa.drop(DropConfig, 0, "ENCR_NULL without an integrity algorithm")
	case e.IVSize < 0 || e.BlockSize > 256 || e.ICVSize < 0:
		return sa.drop(DropConfig, 0, "%s: IV size %d, block size %d, ICV size %d", e.Name, e.IVSize, e.BlockSize, e.ICVSize)
	}
	c, err := e.New(sa.EncrKey)
	if err != nil {
		return sa.drop(DropConfig, 0, "%s: %v", e.Name, err)
	}
	sa.cipher = c
	if sa.fast, _ = c.(appendCipher); sa.fast == nil {
		sa.fast = newAEADCipher(e, c)
	}
	sa.icvSize = e.ICVSize
	if err := sa.prepareMAC(); err != nil {
		return err
	}
	sa.ivSize = e.IVSize
	sa.ivFromSeq = e.AEAD() || e.BlockSize <= 1
	if !sa.ivFromSeq && sa.ivSize > 0 && sa.Rand == nil {
		return sa.drop(DropConfig, 0, "%s needs random IVs and the SA has no Rand", e.Name)
	}
	sa.align = max(e.BlockSize, 1)
	for sa.align%4 != 0 {
		sa.align *= 2 // block sizes are powers of two: this is their LCM with 4
	}
	sa.ready = true
	return nil
}

// prepareCommon checks what ESP and AH SAs share: the mode, the addresses, the integrity
// key, and sets the anti-replay window.
func (sa *SA) prepareCommon() error {
	switch {
	case sa.Protocol != 0 && sa.Protocol != ProtoESP && sa.Protocol != ProtoAH:
		return sa.drop(DropConfig, 0, "protocol %s is neither ESP nor AH", ProtoName(sa.Protocol))
	case sa.Mode != Tunnel && sa.Mode != Transport:
		return sa.drop(DropConfig, 0, "mode not set")
	case !(sa.Src.Is4() && sa.Dst.Is4()) && !(sa.Src.Is6() && sa.Dst.Is6()):
		return sa.drop(DropConfig, 0, "addresses %v -> %v are not two IPv4 or two IPv6 addresses", sa.Src, sa.Dst)
	case sa.Integ != nil && len(sa.IntegKey) != sa.Integ.KeySize:
		return sa.drop(DropConfig, 0, "%s takes a %d-byte key, have %d", sa.Integ.Name, sa.Integ.KeySize, len(sa.IntegKey))
	}
	sa.replay.Size = sa.WindowSize
	return nil
}

// prepareMAC builds the integrity algorithm's MAC and sets the ICV size from it.
func (sa *SA) prepareMAC() error {
	sa.mac = nil
	if sa.Integ != nil && sa.Integ.New == nil {
		// An ICV nobody can check (ike.UncheckedICV, from a key table that says "ANY n
		// bits [no checking]"): opened without checking, never sealed.
		sa.icvSize = sa.Integ.ICVSize
	} else if sa.Integ != nil {
		sa.mac = sa.Integ.New(sa.IntegKey)
		sa.sum = make([]byte, 0, sa.mac.Size())
		sa.icvSize = sa.Integ.ICVSize
		if sa.icvSize > sa.mac.Size() {
			return sa.drop(DropConfig, 0, "%s: ICV of %d bytes from a %d-byte MAC", sa.Integ.Name, sa.icvSize, sa.mac.Size())
		}
	}
	return nil
}

// IsAH reports whether the SA is an AH SA.
func (sa *SA) IsAH() bool { return sa.Protocol == ProtoAH }

// proto is the SA's IP protocol number: ProtoESP or ProtoAH.
func (sa *SA) proto() uint8 {
	if sa.IsAH() {
		return ProtoAH
	}
	return ProtoESP
}

// espLen is the length of the ESP packet (SPI to ICV) around a payload of n bytes, and
// the Pad Length it takes: payload, padding and trailer fill a multiple of the alignment
// (RFC 4303, Section 2.4).
func (sa *SA) espLen(n int) (total, padLen int) {
	padLen = (sa.align - (n+espTrailerLen)%sa.align) % sa.align
	return espHeaderLen + sa.ivSize + n + padLen + espTrailerLen + sa.icvSize, padLen
}

// Protect applies ESP to an outbound IPv4 packet (RFC 4303, Section 3.3), or on an AH SA
// AH (RFC 4302, Section 3.3, laid out as ESP's modes are), and returns the outer IPv4
// packet: protocol 50, or UDP between the Encap ports with a zero checksum
// (RFC 3948, Sections 2.1 and 3.1.1).
//
// In tunnel mode the whole packet is the payload (Next Header 4) behind a new header from
// Src to Dst that copies the inner TOS and DF bit (RFC 4301, Section 5.1.2.1). In
// transport mode the packet's header stays, with Protocol and Total Length rewritten,
// and its payload is protected (Next Header is the inner protocol); fragments are
// refused.
func (sa *SA) Protect(inner []byte) ([]byte, error) { return sa.AppendProtect(nil, inner) }

// AppendProtect is Protect appending the outer packet to dst, so that a caller with a
// buffer to reuse allocates nothing. On error dst is not returned.
func (sa *SA) AppendProtect(dst, inner []byte) ([]byte, error) {
	ip, err := ParseIP(inner)
	if err != nil {
		return nil, err
	}
	sa.mu.Lock()
	defer sa.mu.Unlock()
	if err := sa.prepare(); err != nil {
		return nil, err
	}
	if sa.IsAH() {
		return sa.appendProtectAH(dst, inner, &ip)
	}

	hl, payload, nextHeader, seq, err := sa.outbound(inner, &ip)
	if err != nil {
		return nil, err
	}

	udpLen, proto := 0, ProtoESP
	if sa.Encap != nil {
		udpLen, proto = udpHeaderLen, ProtoUDP
	}
	espLen, _ := sa.espLen(len(payload))
	total := hl + udpLen + espLen
	if sa.tooLong(total) {
		return nil, sa.drop(DropMalformed, 0, "%d bytes after ESP exceed 65535", total)
	}
	start := len(dst)
	dst = slices.Grow(dst, total)[:start+total]
	out := dst[start:]

	// RFC 4303, Section 3.3.2: the outer header.
	if sa.Mode == Tunnel {
		sa.putTunnelHeader(out, &ip, proto, seq, total)
	} else {
		copy(out, inner[:hl])
		fixIPHeader(out, hl, total, proto)
	}
	if sa.Encap != nil {
		putUDPHeader(out[hl:], sa.Encap.SrcPort, sa.Encap.DstPort, udpLen+espLen)
	}
	if err := sa.seal(out[hl+udpLen:], seq, payload, nextHeader, nil); err != nil {
		return nil, err
	}
	if sa.Encap != nil && sa.Src.Is6() {
		// Over IPv6 a UDP checksum of zero is not allowed (RFC 8200, Section 8.1):
		// ESP in UDP gets a real one.
		u := out[hl : hl+udpLen+espLen]
		binary.BigEndian.PutUint16(u[6:], udpChecksum(u, sa.Src, sa.Dst))
	}
	sa.sent(seq, ip.HeaderLen()+len(ip.Payload))
	return dst, nil
}

// outbound is what ESP and AH take from an outbound packet in the SA's mode (RFC 4303,
// Section 3.3.1; RFC 4302, Section 3.1): the length of the header that goes before the
// IPsec header (a new one in tunnel mode, the packet's own in transport mode), the
// payload after it and its Next Header; and the packet's sequence number.
//
// In tunnel mode the inner packet may be of the other IP version (RFC 4301, Section
// 4.1): Next Header 4 for IPv4, 41 for IPv6.
func (sa *SA) outbound(inner []byte, ip *IPv4) (hl int, payload []byte, nextHeader uint8, seq uint64, err error) {
	hl, payload, nextHeader = ipv4HeaderLen, inner[:ip.HeaderLen()+len(ip.Payload)], ipProto(inner)
	if sa.Src.Is6() {
		hl = ipv6HeaderLen
	}
	if sa.Mode == Transport {
		switch {
		case ip.IsFragment():
			return 0, nil, 0, 0, sa.drop(DropFragment, 0, "transport mode cannot protect a fragment (RFC 4301, Section 4.1)")
		case ip.Is6() != sa.Src.Is6():
			return 0, nil, 0, 0, sa.drop(DropConfig, 0, "transport mode SA %v -> %v cannot protect a packet %v -> %v", sa.Src, sa.Dst, ip.Src, ip.Dst)
		}
		hl, payload, nextHeader = ip.HeaderLen(), ip.Payload, ip.Protocol
	}
	seq, err = sa.nextSeq()
	return hl, payload, nextHeader, seq, err
}

// tooLong reports whether an outer packet of total bytes exceeds what its IP version
// can carry: 65535 bytes in all for IPv4, of payload for IPv6.
func (sa *SA) tooLong(total int) bool {
	if sa.Src.Is6() {
		return total-ipv6HeaderLen > ipv4MaxLen
	}
	return total > ipv4MaxLen
}

// nextSeq is the sequence number of the next outbound packet. RFC 4303, Section 3.3.3
// and RFC 4302, Section 3.3.2: the counter must not cycle.
func (sa *SA) nextSeq() (uint64, error) {
	limit := uint64(math.MaxUint32)
	if sa.ESN {
		limit = math.MaxUint64
	}
	if sa.seq >= limit {
		return 0, sa.drop(DropSeqOverflow, sa.seq, "rekey the SA")
	}
	return sa.seq + 1, nil
}

// sent counts an outbound packet of n inner bytes sent with sequence number seq.
func (sa *SA) sent(seq uint64, n int) {
	sa.seq = seq
	sa.stats.Seq = seq
	sa.stats.Packets++
	sa.stats.Bytes += uint64(n)
}

// putTunnelHeader writes the outer IPv4 header of a tunnel mode packet from Src to Dst
// (RFC 4301, Section 5.1.2.1): the inner TOS and DF bit copied, the SA's TTL, and the
// Identification from NextID or else the low bits of the sequence number.
//
// An IPv6 outer header (RFC 8200) copies the inner TOS or Traffic Class and takes the
// SA's TTL as its Hop Limit; an IPv4 one around an IPv6 packet leaves DF clear.
func (sa *SA) putTunnelHeader(out []byte, inner *IPv4, proto uint8, seq uint64, total int) {
	h := IPv4{TOS: inner.TOS, ID: uint16(seq), Flags: inner.Flags & FlagDF, TTL: sa.TTL, Protocol: proto, Src: sa.Src, Dst: sa.Dst}
	if h.TTL == 0 {
		h.TTL = defaultTTL
	}
	if sa.Src.Is6() {
		h.Version = 6
		putIPv6Header(out, &h, total)
		return
	}
	if inner.Is6() {
		h.Flags = 0
	}
	if sa.NextID != nil {
		h.ID = sa.NextID()
	}
	putIPv4Header(out, &h, total)
}

// seal writes the ESP packet carrying payload into esp, which is exactly
// sa.espLen(len(payload)) bytes (RFC 4303, Sections 3.3.2 to 3.3.4). iv, when not nil,
// replaces the IV the SA would choose (known-answer tests inject it).
func (sa *SA) seal(esp []byte, seq uint64, payload []byte, nextHeader uint8, iv []byte) error {
	_, padLen := sa.espLen(len(payload))
	binary.BigEndian.PutUint32(esp, sa.SPI)
	binary.BigEndian.PutUint32(esp[4:], uint32(seq))
	ivb := esp[espHeaderLen : espHeaderLen+sa.ivSize]
	switch {
	case iv != nil:
		copy(ivb, iv)
	case sa.ivFromSeq:
		putSeqIV(ivb, seq)
	case sa.ivSize > 0:
		if _, err := io.ReadFull(sa.Rand, ivb); err != nil {
			return sa.drop(DropConfig, seq, "reading the IV: %v", err)
		}
	}

	// RFC 4303, Section 2.4: Padding bytes are 1, 2, 3, ...; then Pad Length and
	// Next Header.
	body := esp[espHeaderLen+sa.ivSize : len(esp)-sa.icvSize]
	n := copy(body, payload)
	for i := range padLen {
		body[n+i] = byte(i + 1)
	}
	body[len(body)-2] = byte(padLen)
	body[len(body)-1] = nextHeader

	if sa.Encr.AEAD() {
		// RFC 4106, Section 5: the AAD is SPI and sequence number; the cipher
		// appends the ICV.
		return sa.encrypt(esp[espHeaderLen+sa.ivSize:], ivb, body, sa.aeadAAD(esp, seq))
	}
	if err := sa.encrypt(body, ivb, body, nil); err != nil {
		return err
	}
	if sa.Integ != nil && sa.mac == nil {
		return sa.drop(DropConfig, seq, "%s cannot protect a packet", sa.Integ.Name)
	}
	if sa.mac != nil {
		// RFC 4303, Section 3.3.4: the ICV covers SPI through Next Header.
		copy(esp[len(esp)-sa.icvSize:], sa.computeICV(esp[:len(esp)-sa.icvSize], seq))
	}
	return nil
}

// putSeqIV writes the sequence number into a counter IV, right-aligned.
func putSeqIV(iv []byte, seq uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	if len(iv) >= len(b) {
		clear(iv[:len(iv)-len(b)])
		copy(iv[len(iv)-len(b):], b[:])
	} else {
		copy(iv, b[len(b)-len(iv):])
	}
}

// aeadAAD is the associated data of RFC 4106, Section 5: SPI and the 32-bit sequence
// number, or with ESN the SPI, the high 32 bits and the low 32 bits.
func (sa *SA) aeadAAD(esp []byte, seq uint64) []byte {
	if !sa.ESN {
		return esp[:espHeaderLen]
	}
	copy(sa.scratch[:4], esp[:4])
	binary.BigEndian.PutUint32(sa.scratch[4:], uint32(seq>>32))
	binary.BigEndian.PutUint32(sa.scratch[8:], uint32(seq))
	return sa.scratch[:]
}

// computeICV is the truncated MAC over covered and, with ESN, the high 32 bits of the
// sequence number, which are authenticated but not sent (RFC 4303, Section 2.2.1). The
// result aliases a scratch buffer of the SA.
func (sa *SA) computeICV(covered []byte, seq uint64) []byte {
	sa.mac.Reset()
	sa.mac.Write(covered)
	if sa.ESN {
		binary.BigEndian.PutUint32(sa.scratch[:4], uint32(seq>>32))
		sa.mac.Write(sa.scratch[:4])
	}
	sa.sum = sa.mac.Sum(sa.sum[:0])
	return sa.sum[:sa.icvSize]
}

// opened is a decrypted ESP payload: plain holds payload, padding and trailer, at the
// end of buf (the caller's dst with the plaintext appended).
type opened struct {
	buf, plain []byte
	payloadLen int
	nextHeader uint8
}

func (o opened) payload() []byte { return o.plain[:o.payloadLen] }

// open verifies and decrypts an ESP packet whose full sequence number is seq (RFC 4303,
// Sections 3.4.4 and 3.4.5), without touching the SA's state. The plaintext is appended
// to dst, and o.plain is that tail of it. Errors are *DropError with reason
// DropTruncated, DropMalformed, DropICV or DropBadPadding.
func (sa *SA) open(dst, esp []byte, seq uint64) (o opened, err error) {
	if min := espHeaderLen + sa.ivSize + espTrailerLen + sa.icvSize; len(esp) < min {
		return o, sa.drop(DropTruncated, seq, "%d bytes, %s needs at least %d", len(esp), sa.Encr.Name, min)
	}
	ivb := esp[espHeaderLen : espHeaderLen+sa.ivSize]
	ct := esp[espHeaderLen+sa.ivSize : len(esp)-sa.icvSize]
	if bs := sa.Encr.BlockSize; bs > 1 && len(ct)%bs != 0 {
		return o, sa.drop(DropMalformed, seq, "%d bytes of ciphertext are not a multiple of the %d-byte block", len(ct), bs)
	}
	start := len(dst)
	if sa.Encr.AEAD() {
		if dst, err = sa.decrypt(dst, ivb, esp[espHeaderLen+sa.ivSize:], sa.aeadAAD(esp, seq)); err != nil {
			return o, sa.drop(DropICV, seq, "%v", err)
		}
	} else {
		if sa.mac != nil && subtle.ConstantTimeCompare(sa.computeICV(esp[:len(esp)-sa.icvSize], seq), esp[len(esp)-sa.icvSize:]) != 1 {
			return o, sa.drop(DropICV, seq, "%s does not verify", sa.Integ.Name)
		}
		if dst, err = sa.decrypt(dst, ivb, ct, nil); err != nil {
			return o, sa.drop(DropMalformed, seq, "%v", err)
		}
	}
	o.buf, o.plain = dst, dst[start:]
	n := len(o.plain)
	if n < espTrailerLen {
		return o, sa.drop(DropTruncated, seq, "no room for the trailer")
	}
	padLen := int(o.plain[n-2])
	o.nextHeader = o.plain[n-1]
	if padLen > n-espTrailerLen {
		return o, sa.drop(DropBadPadding, seq, "Pad Length %d exceeds the %d bytes before it", padLen, n-espTrailerLen)
	}
	o.payloadLen = n - espTrailerLen - padLen
	// RFC 4303, Section 2.4: the receiver SHOULD inspect the Padding field.
	for i, b := range o.plain[o.payloadLen : n-espTrailerLen] {
		if b != byte(i+1) {
			return o, sa.drop(DropBadPadding, seq, "padding byte %d is 0x%02x, want 0x%02x", i+1, b, i+1)
		}
	}
	return o, nil
}

// seqOf is the full sequence number of a packet: the 32 bits it carries, widened with
// ESN by the anti-replay window (RFC 4303, Appendix A2), or on an outbound SA (which
// dissects what it sent) by the last number sent.
func (sa *SA) seqOf(low uint32) uint64 {
	switch {
	case !sa.ESN:
		return uint64(low)
	case sa.seq > 0:
		s := sa.seq&^math.MaxUint32 | uint64(low)
		if s > sa.seq && s > math.MaxUint32 {
			s -= 1 << 32
		}
		return s
	}
	return sa.replay.InferSeq(low)
}

// unprotect is inbound ESP processing on this SA (RFC 4303, Section 3.4) of the packet
// outer, whose parsed header is ip and whose ESP part is esp; encap says it came in UDP.
// It appends the inner packet to dst: the decrypted one in tunnel mode, the rebuilt one
// in transport mode.
func (sa *SA) unprotect(dst, outer []byte, ip *IPv4, esp []byte, encap bool) ([]byte, error) {
	sa.mu.Lock()
	defer sa.mu.Unlock()
	if err := sa.prepare(); err != nil {
		return nil, err
	}
	if encap != (sa.Encap != nil) {
		if encap {
			return nil, sa.drop(DropEncapMismatch, 0, "the SA expects plain ESP")
		}
		return nil, sa.drop(DropEncapMismatch, 0, "the SA expects UDP encapsulation")
	}
	// RFC 4303, Section 3.4.3: the cheap replay check comes before the ICV...
	seq := sa.seqOf(binary.BigEndian.Uint32(esp[4:]))
	if err := sa.checkReplay(seq); err != nil {
		return nil, err
	}
	// In transport mode the header goes first and the payload is decrypted after it.
	start, hl := len(dst), ip.HeaderLen()
	if sa.Mode == Transport {
		dst = append(dst, outer[:hl]...)
	}
	o, err := sa.open(dst, esp, seq)
	if err != nil {
		if errors.Is(err, DropICV) {
			sa.stats.ICVFailures++
		}
		return nil, err
	}
	// ... and the window moves only once the ICV has verified.
	sa.replay.Update(seq)

	var inner []byte
	switch {
	case o.nextHeader == ProtoNone:
		return nil, sa.drop(DropDummy, seq, "")
	case sa.Mode == Tunnel:
		n, err := sa.tunnelled(o.nextHeader, o.payload(), seq)
		if err != nil {
			return nil, err
		}
		inner = o.buf[start : start+n]
	default:
		// RFC 4303, Section 3.4.4.1: the packet rebuilt from the outer header and
		// the decrypted payload.
		inner = o.buf[start : start+hl+o.payloadLen]
		fixIPHeader(inner, hl, len(inner), o.nextHeader)
		if encap && o.nextHeader == ProtoUDP && o.payloadLen >= udpHeaderLen {
			// RFC 3948, Section 3.1.2: the NAT changed the addresses under the
			// inner UDP checksum; with no original address to fix it from, zero it.
			inner[hl+6], inner[hl+7] = 0, 0
		}
	}
	if err := sa.checkSelectors(inner, seq); err != nil {
		return nil, err
	}
	sa.stats.Packets++
	sa.stats.Bytes += uint64(len(inner))
	return o.buf[:start+len(inner)], nil
}

// tunnelled checks the packet that a tunnel mode SA's Next Header nh says it carries,
// IPv4 (4) or IPv6 (41), and returns its length.
func (sa *SA) tunnelled(nh uint8, payload []byte, seq uint64) (int, error) {
	if nh != ProtoIPIP && nh != ProtoIPv6 {
		return 0, sa.drop(DropBadNextHeader, seq, "tunnel mode SA carries %s, not IPv4 or IPv6", ProtoName(nh))
	}
	if ipProto(payload) != nh {
		return 0, sa.drop(DropBadNextHeader, seq, "Next Header %s does not match the inner packet", ProtoName(nh))
	}
	in, err := ParseIP(payload)
	if err != nil {
		de := err.(*DropError)
		de.SPI, de.Seq, de.Detail = sa.SPI, seq, "inner packet: "+de.Detail
		return 0, de
	}
	return in.HeaderLen() + len(in.Payload), nil
}

// checkReplay is the anti-replay check of RFC 4303, Section 3.4.3 and RFC 4302, Section
// 3.4.3, made before the ICV is verified; the window moves only after it has verified.
func (sa *SA) checkReplay(seq uint64) error {
	if sa.WindowSize < 0 {
		return nil
	}
	if err := sa.replay.Check(seq); err != nil {
		sa.stats.ReplayDrops++
		de := err.(*DropError)
		de.SPI, de.Seq = sa.SPI, seq
		return de
	}
	return nil
}

// checkSelectors drops a decrypted packet that the SA was not negotiated for: RFC 4301,
// Section 5.2, step 4 checks the inner headers against the SA's selectors, so that a peer
// cannot use its SA to inject traffic from or to addresses it was never given.
func (sa *SA) checkSelectors(inner []byte, seq uint64) error {
	if len(sa.Selectors) == 0 {
		return nil
	}
	f, err := FlowOf(inner)
	if err != nil {
		return sa.drop(DropSelectors, seq, "inner packet: %v", err)
	}
	for _, s := range sa.Selectors {
		if s.Matches(f) {
			return nil
		}
	}
	return sa.drop(DropSelectors, seq, "inner packet %v is outside %v", f, sa.Selectors)
}
