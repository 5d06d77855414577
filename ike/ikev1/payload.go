package ikev1

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/crypto/cryptobyte"

	"github.com/ikesim/ikesim/ike"
)

// Payload is what every ISAKMP payload type implements. Its generic header (next
// payload, a reserved byte, length) belongs to the chain rather than to the payload:
// marshalChain writes it and parseChain reads it (RFC 2408, Section 3.2).
type Payload interface {
	// PayloadType is the number that announces this payload in the Next Payload field
	// before it.
	PayloadType() PayloadType
	// marshalBody writes the bytes that follow the generic header.
	marshalBody(b *cryptobyte.Builder)
	// unmarshalBody reads a body cut to the length its generic header gives.
	unmarshalBody(body []byte) error
}

// genericHeaderLen is the size of the generic payload header (RFC 2408, Section 3.2).
const genericHeaderLen = 4

// fieldError is a decoding error at a byte offset inside a payload body.
type fieldError struct {
	at  int
	msg string
}

func (e *fieldError) Error() string { return e.msg }

func errAt(at int, format string, args ...any) error {
	return &fieldError{at: at, msg: fmt.Sprintf(format, args...)}
}

// short reports that body is too short for a fixed part of need bytes named what.
func short(body []byte, need int, what string) error {
	if len(body) < need {
		return errAt(len(body), "%s truncated: %d of %d bytes", what, len(body), need)
	}
	return nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// PayloadBody returns the body of p as it is marshaled: what RFC 2409 calls SAi_b,
// IDii_b, Ni_b (the payload without its generic header).
func PayloadBody(p Payload) ([]byte, error) {
	var b cryptobyte.Builder
	p.marshalBody(&b)
	return b.Bytes()
}

// Attribute is a data attribute (RFC 2408, Section 3.3). With TV set it is a basic
// attribute whose 2-byte value sits in the length field; otherwise it is variable
// length (TLV).
type Attribute struct {
	Type  uint16 // the attribute type, without the AF bit
	TV    bool
	Value []byte
}

// attrFormatTV is the AF bit: the attribute is Type/Value (RFC 2408, Section 3.3).
const attrFormatTV = 0x8000

// TV makes a basic (Type/Value) attribute.
func TV(t, v uint16) Attribute {
	return Attribute{Type: t, TV: true, Value: []byte{byte(v >> 8), byte(v)}}
}

// Number makes the shortest attribute for v: basic when it fits 16 bits, else variable
// length with as few bytes as the value needs (RFC 2409, Appendix A allows both for Life
// Duration).
func Number(t uint16, v uint64) Attribute {
	if v <= 0xffff {
		return TV(t, uint16(v))
	}
	b := binary.BigEndian.AppendUint64(nil, v)
	for len(b) > 4 && b[0] == 0 {
		b = b[1:]
	}
	return Attribute{Type: t, Value: b}
}

// Uint reads the value as an unsigned number (up to 8 bytes; longer values give 0).
func (a Attribute) Uint() uint64 {
	if len(a.Value) > 8 {
		return 0
	}
	var v uint64
	for _, c := range a.Value {
		v = v<<8 | uint64(c)
	}
	return v
}

func (a Attribute) marshal(b *cryptobyte.Builder) {
	if a.TV {
		if len(a.Value) != 2 {
			b.SetError(fmt.Errorf("ikev1: basic attribute %d with a %d-byte value", a.Type, len(a.Value)))
			return
		}
		b.AddUint16(a.Type | attrFormatTV)
		b.AddBytes(a.Value)
		return
	}
	if len(a.Value) > 0xffff {
		b.SetError(fmt.Errorf("ikev1: attribute %d value too long", a.Type))
		return
	}
	b.AddUint16(a.Type &^ attrFormatTV)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(a.Value) })
}

// parseAttributes reads data attributes until body ends. base is the offset of body in
// the payload body, for errors.
func parseAttributes(body []byte, base int) ([]Attribute, error) {
	var out []Attribute
	s := cryptobyte.String(body)
	for len(s) > 0 {
		at := base + len(body) - len(s)
		var t uint16
		var v []byte
		if !s.ReadUint16(&t) {
			return nil, errAt(at, "attribute header truncated")
		}
		a := Attribute{Type: t &^ attrFormatTV, TV: t&attrFormatTV != 0}
		if a.TV {
			if !s.ReadBytes(&v, 2) {
				return nil, errAt(at, "basic attribute %d truncated", a.Type)
			}
		} else {
			var n uint16
			if !s.ReadUint16(&n) || !s.ReadBytes(&v, int(n)) {
				return nil, errAt(at, "variable attribute %d does not fit the %d bytes left", a.Type, len(s))
			}
		}
		a.Value = clone(v)
		out = append(out, a)
	}
	return out, nil
}

func attrLen(a Attribute) int {
	if a.TV {
		return 4
	}
	return 4 + len(a.Value)
}

// SA is the Security Association payload with the IPsec DOI (RFC 2408, Section 3.4;
// RFC 2407, Section 4.6.1). Its proposals and transforms are payloads of their own.
type SA struct {
	DOI       uint32
	Situation uint32
	Proposals []*Proposal
}

// Proposal is a Proposal payload (RFC 2408, Section 3.5). Proposals with the same number
// form one offer (for example AH and ESP together); different numbers are alternatives.
type Proposal struct {
	Number     uint8
	Protocol   ProtocolID
	SPI        []byte
	Transforms []*Transform
}

// Transform is a Transform payload (RFC 2408, Section 3.6) with its SA attributes.
type Transform struct {
	Number     uint8
	ID         uint8
	Attributes []Attribute
}

// Attr returns the first attribute of type t.
func (t *Transform) Attr(typ uint16) (Attribute, bool) {
	for _, a := range t.Attributes {
		if a.Type == typ {
			return a, true
		}
	}
	return Attribute{}, false
}

// Fixed part lengths: the SA body's DOI and situation, a proposal's and a transform's
// bodies before their variable parts.
const (
	saFixedLen        = 8
	proposalFixedLen  = 4
	transformFixedLen = 4
)

func (*SA) PayloadType() PayloadType { return PayloadSA }

// RFC 2408, Sections 3.4 to 3.6
func (p *SA) marshalBody(b *cryptobyte.Builder) {
	b.AddUint32(p.DOI)
	b.AddUint32(p.Situation)
	for i, prop := range p.Proposals {
		next := PayloadNone
		if i+1 < len(p.Proposals) {
			next = PayloadProposal
		}
		addSubstructure(b, next, func(b *cryptobyte.Builder) {
			if len(prop.SPI) > 255 || len(prop.Transforms) > 255 {
				b.SetError(errors.New("ikev1: proposal with too long an SPI or too many transforms"))
				return
			}
			b.AddUint8(prop.Number)
			b.AddUint8(uint8(prop.Protocol))
			b.AddUint8(uint8(len(prop.SPI)))
			b.AddUint8(uint8(len(prop.Transforms)))
			b.AddBytes(prop.SPI)
			for j, t := range prop.Transforms {
				next := PayloadNone
				if j+1 < len(prop.Transforms) {
					next = PayloadTransform
				}
				addSubstructure(b, next, func(b *cryptobyte.Builder) {
					b.AddUint8(t.Number)
					b.AddUint8(t.ID)
					b.AddUint16(0)
					for _, a := range t.Attributes {
						a.marshal(b)
					}
				})
			}
		})
	}
}

// addSubstructure writes a proposal or transform with its generic header.
func addSubstructure(b *cryptobyte.Builder, next PayloadType, body func(*cryptobyte.Builder)) {
	var inner cryptobyte.Builder
	body(&inner)
	data, err := inner.Bytes()
	if err != nil {
		b.SetError(err)
		return
	}
	if len(data)+genericHeaderLen > 0xffff {
		b.SetError(errors.New("ikev1: substructure too long"))
		return
	}
	b.AddUint8(uint8(next))
	b.AddUint8(0)
	b.AddUint16(uint16(len(data) + genericHeaderLen))
	b.AddBytes(data)
}

// substructure is one proposal or transform as read: its next field and body.
type substructure struct {
	next PayloadType
	at   int // offset of its generic header in the SA body
	body []byte
}

// readSubstructures splits b (at offset base of the SA body) into proposals or
// transforms, each naming more as its Next Payload, the last naming none.
func readSubstructures(b []byte, base int, more PayloadType, what string) ([]substructure, error) {
	var out []substructure
	off := 0
	for {
		if len(b)-off < genericHeaderLen {
			return nil, errAt(base+off, "%s header truncated: %d bytes left", what, len(b)-off)
		}
		next := PayloadType(b[off])
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		if n < genericHeaderLen || n > len(b)-off {
			return nil, errAt(base+off+2, "%s length %d does not fit the %d bytes left", what, n, len(b)-off)
		}
		if next != PayloadNone && next != more {
			return nil, errAt(base+off, "%s names next payload %v, want %v or NONE", what, next, more)
		}
		out = append(out, substructure{next: next, at: base + off, body: b[off+genericHeaderLen : off+n]})
		off += n
		if next == PayloadNone {
			break
		}
	}
	if off != len(b) {
		return nil, errAt(base+off, "%d bytes after the last %s", len(b)-off, what)
	}
	return out, nil
}

func (p *SA) unmarshalBody(body []byte) error {
	if err := short(body, saFixedLen, "DOI and situation"); err != nil {
		return err
	}
	p.DOI = binary.BigEndian.Uint32(body)
	p.Situation = binary.BigEndian.Uint32(body[4:])
	p.Proposals = nil
	if p.DOI != DOIIPsec {
		return errAt(0, "DOI %d is not the IPsec DOI", p.DOI)
	}
	if p.Situation != SitIdentityOnly {
		return errAt(4, "situation 0x%08x: only SIT_IDENTITY_ONLY is supported", p.Situation)
	}
	props, err := readSubstructures(body[saFixedLen:], saFixedLen, PayloadProposal, "proposal")
	if err != nil {
		return err
	}
	for _, ps := range props {
		prop, err := parseProposal(ps)
		if err != nil {
			return err
		}
		p.Proposals = append(p.Proposals, prop)
	}
	return nil
}

// RFC 2408, Section 3.5
func parseProposal(ps substructure) (*Proposal, error) {
	body := ps.body
	base := ps.at + genericHeaderLen
	if err := short(body, proposalFixedLen, "proposal"); err != nil {
		return nil, errAt(base+len(body), "%v", err)
	}
	prop := &Proposal{Number: body[0], Protocol: ProtocolID(body[1])}
	spiLen, n := int(body[2]), int(body[3])
	if proposalFixedLen+spiLen > len(body) {
		return nil, errAt(base+2, "SPI of %d bytes does not fit the proposal", spiLen)
	}
	prop.SPI = clone(body[proposalFixedLen : proposalFixedLen+spiLen])
	rest := body[proposalFixedLen+spiLen:]
	restAt := base + proposalFixedLen + spiLen
	if n == 0 {
		if len(rest) != 0 {
			return nil, errAt(restAt, "%d bytes in a proposal without transforms", len(rest))
		}
		return prop, nil
	}
	ts, err := readSubstructures(rest, restAt, PayloadTransform, "transform")
	if err != nil {
		return nil, err
	}
	if len(ts) != n {
		return nil, errAt(base+3, "proposal announces %d transforms and holds %d", n, len(ts))
	}
	for _, t := range ts {
		if len(t.body) < transformFixedLen {
			return nil, errAt(t.at, "transform truncated: %d of %d bytes", len(t.body), transformFixedLen)
		}
		tr := &Transform{Number: t.body[0], ID: t.body[1]}
		tr.Attributes, err = parseAttributes(t.body[transformFixedLen:], t.at+genericHeaderLen+transformFixedLen)
		if err != nil {
			return nil, err
		}
		prop.Transforms = append(prop.Transforms, tr)
	}
	return prop, nil
}

// dataPayload is the shape of KE, HASH, SIG, NONCE and VID: the body is the data.
type dataPayload struct{ Data []byte }

func (p *dataPayload) marshalBody(b *cryptobyte.Builder) { b.AddBytes(p.Data) }

func (p *dataPayload) unmarshalBody(body []byte) error {
	p.Data = clone(body)
	return nil
}

// KE is the Key Exchange payload: the sender's Diffie-Hellman public value (RFC 2408,
// Section 3.7). The group is the one the SA negotiates.
type KE struct{ dataPayload }

func (*KE) PayloadType() PayloadType { return PayloadKE }

// Hash is the Hash payload (RFC 2408, Section 3.11): HASH_I, HASH_R, HASH(1) to HASH(3).
type Hash struct{ dataPayload }

func (*Hash) PayloadType() PayloadType { return PayloadHash }

// Sig is the Signature payload (RFC 2408, Section 3.12).
type Sig struct{ dataPayload }

func (*Sig) PayloadType() PayloadType { return PayloadSIG }

// Nonce is the Nonce payload (RFC 2408, Section 3.13).
type Nonce struct{ dataPayload }

func (*Nonce) PayloadType() PayloadType { return PayloadNonce }

// VendorID is the Vendor ID payload (RFC 2408, Section 3.16).
type VendorID struct{ dataPayload }

func (*VendorID) PayloadType() PayloadType { return PayloadVendor }

// NewKE, NewHash, NewSig, NewNonce and NewVendorID wrap data in their payload.
func NewKE(data []byte) *KE             { return &KE{dataPayload{data}} }
func NewHash(data []byte) *Hash         { return &Hash{dataPayload{data}} }
func NewSig(data []byte) *Sig           { return &Sig{dataPayload{data}} }
func NewNonce(data []byte) *Nonce       { return &Nonce{dataPayload{data}} }
func NewVendorID(data []byte) *VendorID { return &VendorID{dataPayload{data}} }

// ID is the Identification payload with the IPsec DOI's fields (RFC 2408, Section 3.8;
// RFC 2407, Section 4.6.2): in phase 1 the peer's identity, in quick mode a proxy ID
// (an address, subnet or range with a protocol and port).
type ID struct {
	Type     IDType
	Protocol uint8
	Port     uint16
	Data     []byte
}

// idFixedLen is the ID type, protocol ID and port.
const idFixedLen = 4

func (*ID) PayloadType() PayloadType { return PayloadID }

func (p *ID) marshalBody(b *cryptobyte.Builder) {
	b.AddUint8(uint8(p.Type))
	b.AddUint8(p.Protocol)
	b.AddUint16(p.Port)
	b.AddBytes(p.Data)
}

func (p *ID) unmarshalBody(body []byte) error {
	if err := short(body, idFixedLen, "ID type, protocol and port"); err != nil {
		return err
	}
	p.Type, p.Protocol, p.Port = IDType(body[0]), body[1], binary.BigEndian.Uint16(body[2:])
	p.Data = clone(body[idFixedLen:])
	if want := idDataLen(p.Type); want != 0 && len(p.Data) != want {
		return errAt(idFixedLen, "%v data of %d bytes, want %d", p.Type, len(p.Data), want)
	}
	return nil
}

// idDataLen is the fixed data length of address identities (0: variable).
func idDataLen(t IDType) int {
	switch t {
	case IDIPv4Addr:
		return 4
	case IDIPv4AddrSubnet, IDIPv4AddrRange:
		return 8
	case IDIPv6Addr:
		return 16
	case IDIPv6AddrSubnet, IDIPv6AddrRange:
		return 32
	}
	return 0
}

// IdentityID makes the phase 1 ID payload of an identity (protocol and port zero, RFC
// 2407, Section 4.6.2).
func IdentityID(id ike.Identity) *ID { return &ID{Type: IDType(id.Type), Data: clone(id.Value)} }

// Identity reads a phase 1 ID payload back as an identity.
func (p *ID) Identity() ike.Identity { return ike.Identity{Type: uint8(p.Type), Value: clone(p.Data)} }

// SelectorID makes the quick mode proxy ID of a traffic selector: ID_IPV4_ADDR for one
// address, ID_IPV4_ADDR_SUBNET for a prefix, ID_IPV4_ADDR_RANGE otherwise (and the IPv6
// types alike), with the selector's protocol and its port when it names a single one.
func SelectorID(ts ike.TrafficSelector) *ID {
	p := &ID{Protocol: ts.Proto}
	if ts.StartPort == ts.EndPort {
		p.Port = ts.StartPort
	}
	v6 := ts.Start.Is6()
	switch {
	case ts.Start == ts.End:
		p.Type = IDIPv4Addr
		if v6 {
			p.Type = IDIPv6Addr
		}
		p.Data = ts.Start.AsSlice()
	case prefixOf(ts) != nil:
		pf := *prefixOf(ts)
		p.Type = IDIPv4AddrSubnet
		if v6 {
			p.Type = IDIPv6AddrSubnet
		}
		mask := make([]byte, ts.Start.BitLen()/8)
		for i := 0; i < pf.Bits(); i++ {
			mask[i/8] |= 0x80 >> (i % 8)
		}
		p.Data = append(ts.Start.AsSlice(), mask...)
	default:
		p.Type = IDIPv4AddrRange
		if v6 {
			p.Type = IDIPv6AddrRange
		}
		p.Data = append(ts.Start.AsSlice(), ts.End.AsSlice()...)
	}
	return p
}

// prefixOf returns the prefix the selector's address range is, or nil.
func prefixOf(ts ike.TrafficSelector) *netip.Prefix {
	for bits := 0; bits <= ts.Start.BitLen(); bits++ {
		p := netip.PrefixFrom(ts.Start, bits)
		if q := ike.TSFromPrefix(p); q.Start == ts.Start && q.End == ts.End {
			return &p
		}
	}
	return nil
}

// Selector reads a quick mode proxy ID as a traffic selector (protocol 0 and port 0
// meaning any).
func (p *ID) Selector() (ike.TrafficSelector, error) {
	ts := ike.TrafficSelector{Proto: p.Protocol, StartPort: p.Port, EndPort: p.Port}
	if p.Port == 0 {
		ts.EndPort = 65535
	}
	half := len(p.Data) / 2
	switch p.Type {
	case IDIPv4Addr, IDIPv6Addr:
		a, ok := netip.AddrFromSlice(p.Data)
		if !ok {
			return ts, fmt.Errorf("ikev1: %v with %d bytes", p.Type, len(p.Data))
		}
		ts.Start, ts.End = a, a
	case IDIPv4AddrSubnet, IDIPv6AddrSubnet:
		a, ok1 := netip.AddrFromSlice(p.Data[:half])
		m, ok2 := netip.AddrFromSlice(p.Data[half:])
		if !ok1 || !ok2 {
			return ts, fmt.Errorf("ikev1: %v with %d bytes", p.Type, len(p.Data))
		}
		bits, ok := maskBits(m.AsSlice())
		if !ok {
			return ts, fmt.Errorf("ikev1: %v mask %v is not contiguous", p.Type, m)
		}
		q := ike.TSFromPrefix(netip.PrefixFrom(a, bits))
		ts.Start, ts.End = q.Start, q.End
	case IDIPv4AddrRange, IDIPv6AddrRange:
		a, ok1 := netip.AddrFromSlice(p.Data[:half])
		b, ok2 := netip.AddrFromSlice(p.Data[half:])
		if !ok1 || !ok2 || a.Compare(b) > 0 {
			return ts, fmt.Errorf("ikev1: %v %x is not a range", p.Type, p.Data)
		}
		ts.Start, ts.End = a, b
	default:
		return ts, fmt.Errorf("ikev1: %v is not an address proxy ID", p.Type)
	}
	return ts, nil
}

// maskBits returns the prefix length of a contiguous netmask.
func maskBits(m []byte) (int, bool) {
	bits, ended := 0, false
	for _, c := range m {
		for i := 7; i >= 0; i-- {
			set := c>>uint(i)&1 == 1
			switch {
			case set && ended:
				return 0, false
			case set:
				bits++
			default:
				ended = true
			}
		}
	}
	return bits, true
}

// String shows the identity or proxy ID the way configurations write it.
func (p *ID) String() string {
	switch p.Type {
	case IDFQDN, IDUserFQDN:
		return string(p.Data)
	case IDIPv4Addr, IDIPv6Addr, IDIPv4AddrSubnet, IDIPv6AddrSubnet, IDIPv4AddrRange, IDIPv6AddrRange:
		if ts, err := p.Selector(); err == nil {
			s := ts.String()
			if p.Type == IDIPv4Addr || p.Type == IDIPv6Addr {
				s = ts.Start.String()
			}
			return s
		}
	}
	return fmt.Sprintf("%x", p.Data)
}

// Cert is the Certificate payload (RFC 2408, Section 3.9).
type Cert struct {
	Encoding uint8
	Data     []byte
}

func (*Cert) PayloadType() PayloadType { return PayloadCERT }

func (p *Cert) marshalBody(b *cryptobyte.Builder) {
	b.AddUint8(p.Encoding)
	b.AddBytes(p.Data)
}

func (p *Cert) unmarshalBody(body []byte) error {
	if err := short(body, 1, "certificate encoding"); err != nil {
		return err
	}
	p.Encoding, p.Data = body[0], clone(body[1:])
	return nil
}

// CertReq is the Certificate Request payload (RFC 2408, Section 3.10).
type CertReq struct {
	Type      uint8
	Authority []byte
}

func (*CertReq) PayloadType() PayloadType { return PayloadCR }

func (p *CertReq) marshalBody(b *cryptobyte.Builder) {
	b.AddUint8(p.Type)
	b.AddBytes(p.Authority)
}

func (p *CertReq) unmarshalBody(body []byte) error {
	if err := short(body, 1, "certificate type"); err != nil {
		return err
	}
	p.Type, p.Authority = body[0], clone(body[1:])
	return nil
}

// Notify is the Notification payload (RFC 2408, Section 3.14). DPD's R-U-THERE carries
// the cookies as a 16-byte SPI and a 4-byte sequence number as data (RFC 3706, Section 5.2).
type Notify struct {
	DOI      uint32
	Protocol ProtocolID
	SPI      []byte
	Type     NotifyType
	Data     []byte
}

// notifyFixedLen is the DOI, protocol ID, SPI size and message type.
const notifyFixedLen = 8

func (*Notify) PayloadType() PayloadType { return PayloadNotify }

func (p *Notify) marshalBody(b *cryptobyte.Builder) {
	if len(p.SPI) > 255 {
		b.SetError(errors.New("ikev1: Notify SPI longer than 255 bytes"))
		return
	}
	b.AddUint32(p.DOI)
	b.AddUint8(uint8(p.Protocol))
	b.AddUint8(uint8(len(p.SPI)))
	b.AddUint16(uint16(p.Type))
	b.AddBytes(p.SPI)
	b.AddBytes(p.Data)
}

func (p *Notify) unmarshalBody(body []byte) error {
	if err := short(body, notifyFixedLen, "notification header"); err != nil {
		return err
	}
	p.DOI, p.Protocol = binary.BigEndian.Uint32(body), ProtocolID(body[4])
	n := int(body[5])
	p.Type = NotifyType(binary.BigEndian.Uint16(body[6:]))
	if notifyFixedLen+n > len(body) {
		return errAt(5, "SPI of %d bytes does not fit the %d bytes left", n, len(body)-notifyFixedLen)
	}
	p.SPI = clone(body[notifyFixedLen : notifyFixedLen+n])
	p.Data = clone(body[notifyFixedLen+n:])
	return nil
}

// Delete is the Delete payload (RFC 2408, Section 3.15): an ISAKMP SA is named by its
// two cookies (a 16-byte SPI), IPsec SAs by their 4-byte SPIs.
type Delete struct {
	DOI      uint32
	Protocol ProtocolID
	SPISize  uint8
	SPIs     [][]byte
}

// deleteFixedLen is the DOI, protocol ID, SPI size and number of SPIs.
const deleteFixedLen = 8

func (*Delete) PayloadType() PayloadType { return PayloadDelete }

func (p *Delete) marshalBody(b *cryptobyte.Builder) {
	if len(p.SPIs) > 0xffff {
		b.SetError(errors.New("ikev1: Delete payload with more than 65535 SPIs"))
		return
	}
	b.AddUint32(p.DOI)
	b.AddUint8(uint8(p.Protocol))
	b.AddUint8(p.SPISize)
	b.AddUint16(uint16(len(p.SPIs)))
	for i, spi := range p.SPIs {
		if len(spi) != int(p.SPISize) {
			b.SetError(fmt.Errorf("ikev1: Delete SPI %d has %d bytes, SPI size is %d", i+1, len(spi), p.SPISize))
			return
		}
		b.AddBytes(spi)
	}
}

func (p *Delete) unmarshalBody(body []byte) error {
	if err := short(body, deleteFixedLen, "delete header"); err != nil {
		return err
	}
	p.DOI, p.Protocol, p.SPISize = binary.BigEndian.Uint32(body), ProtocolID(body[4]), body[5]
	n := int(binary.BigEndian.Uint16(body[6:]))
	rest := body[deleteFixedLen:]
	if len(rest) != n*int(p.SPISize) {
		return errAt(6, "%d SPIs of %d bytes do not make the %d bytes left", n, p.SPISize, len(rest))
	}
	p.SPIs = nil
	for i := 0; i < n; i++ {
		p.SPIs = append(p.SPIs, clone(rest[i*int(p.SPISize):(i+1)*int(p.SPISize)]))
	}
	return nil
}

// NATD is the NAT Discovery payload (RFC 3947, Section 3.2): HASH(CKY-I | CKY-R | IP |
// Port) with the negotiated hash. Draft is set for the pre-RFC payload number 130.
type NATD struct {
	Draft bool
	Hash  []byte
}

func (p *NATD) PayloadType() PayloadType {
	if p.Draft {
		return PayloadNATDDraft
	}
	return PayloadNATD
}

func (p *NATD) marshalBody(b *cryptobyte.Builder) { b.AddBytes(p.Hash) }

func (p *NATD) unmarshalBody(body []byte) error {
	p.Hash = clone(body)
	return nil
}

// NATOA is the NAT Original Address payload (RFC 3947, Section 5.2).
type NATOA struct {
	Draft bool
	Addr  netip.Addr
}

func (p *NATOA) PayloadType() PayloadType {
	if p.Draft {
		return PayloadNATOADraft
	}
	return PayloadNATOA
}

func (p *NATOA) marshalBody(b *cryptobyte.Builder) {
	t := IDIPv4Addr
	if p.Addr.Is6() {
		t = IDIPv6Addr
	}
	b.AddUint8(uint8(t))
	b.AddBytes([]byte{0, 0, 0})
	b.AddBytes(p.Addr.AsSlice())
}

func (p *NATOA) unmarshalBody(body []byte) error {
	if err := short(body, 4, "NAT-OA ID type"); err != nil {
		return err
	}
	want := map[IDType]int{IDIPv4Addr: 4, IDIPv6Addr: 16}[IDType(body[0])]
	if want == 0 || len(body)-4 != want {
		return errAt(0, "NAT-OA of type %v with %d address bytes", IDType(body[0]), len(body)-4)
	}
	p.Addr, _ = netip.AddrFromSlice(body[4:])
	return nil
}

// Attributes is the attribute payload of Mode Config and XAUTH
// (draft-ietf-ipsec-isakmp-mode-cfg-05, Section 3.2). An empty value asks for one.
type Attributes struct {
	Type       CfgType
	Identifier uint16
	Attributes []Attribute
}

func (*Attributes) PayloadType() PayloadType { return PayloadAttr }

func (p *Attributes) marshalBody(b *cryptobyte.Builder) {
	b.AddUint8(uint8(p.Type))
	b.AddUint8(0)
	b.AddUint16(p.Identifier)
	for _, a := range p.Attributes {
		a.marshal(b)
	}
}

func (p *Attributes) unmarshalBody(body []byte) error {
	if err := short(body, 4, "attribute payload header"); err != nil {
		return err
	}
	p.Type, p.Identifier = CfgType(body[0]), binary.BigEndian.Uint16(body[2:])
	var err error
	p.Attributes, err = parseAttributes(body[4:], 4)
	return err
}

// Get returns the first attribute of type t.
func (p *Attributes) Get(t uint16) (Attribute, bool) {
	for _, a := range p.Attributes {
		if a.Type == t {
			return a, true
		}
	}
	return Attribute{}, false
}

// Unknown is a payload of a type this codec does not decode.
type Unknown struct {
	Type PayloadType
	Body []byte
}

func (p *Unknown) PayloadType() PayloadType { return p.Type }

func (p *Unknown) marshalBody(b *cryptobyte.Builder) { b.AddBytes(p.Body) }

func (p *Unknown) unmarshalBody(body []byte) error {
	p.Body = clone(body)
	return nil
}

// newPayload returns an empty payload of type t, or nil when t is not decoded here.
// Proposal and transform payloads only appear inside an SA payload.
func newPayload(t PayloadType) Payload {
	switch t {
	case PayloadSA:
		return &SA{}
	case PayloadKE:
		return &KE{}
	case PayloadID:
		return &ID{}
	case PayloadCERT:
		return &Cert{}
	case PayloadCR:
		return &CertReq{}
	case PayloadHash:
		return &Hash{}
	case PayloadSIG:
		return &Sig{}
	case PayloadNonce:
		return &Nonce{}
	case PayloadNotify:
		return &Notify{}
	case PayloadDelete:
		return &Delete{}
	case PayloadVendor:
		return &VendorID{}
	case PayloadAttr:
		return &Attributes{}
	case PayloadNATD:
		return &NATD{}
	case PayloadNATDDraft:
		return &NATD{Draft: true}
	case PayloadNATOA:
		return &NATOA{}
	case PayloadNATOADraft:
		return &NATOA{Draft: true}
	}
	return nil
}
