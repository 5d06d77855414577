package ikev2

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/crypto/cryptobyte"

	"github.com/ikesim/ikesim/ike"
)

// A Payload is one IKEv2 payload. The generic payload header (next payload, critical
// bit, length) is not part of it: Message.Marshal writes it and Parse checks it.
type Payload interface {
	// PayloadType is the value that names this payload in the previous Next Payload field.
	PayloadType() PayloadType
	// marshalBody appends the payload's body (everything after the generic header).
	marshalBody(b *cryptobyte.Builder)
	// unmarshalBody decodes a body that has exactly the length the generic header gave.
	unmarshalBody(body []byte) error
}

// genericHeaderLen is the size of the generic payload header (RFC 7296, Section 3.2).
const genericHeaderLen = 4

// bodyError is a decoding error at a byte offset inside a payload body.
type bodyError struct {
	at  int
	msg string
}

func (e *bodyError) Error() string { return e.msg }

// reader wraps the body being decoded so that errors can name their offset.
type reader struct {
	body []byte
	s    cryptobyte.String
}

func newReader(body []byte) *reader { return &reader{body: body, s: cryptobyte.String(body)} }

// at is the offset of the next unread byte in the body.
func (r *reader) at() int { return len(r.body) - len(r.s) }

func (r *reader) fail(format string, args ...any) error {
	return &bodyError{at: r.at(), msg: fmt.Sprintf(format, args...)}
}

// short reports a field that runs past the end of the body.
func (r *reader) short(field string) error {
	return r.fail("%s truncated: %d bytes left", field, len(r.s))
}

// rest returns a copy of the unread bytes.
func (r *reader) rest() []byte {
	b := append([]byte(nil), r.s...)
	r.s = nil
	return b
}

// done fails when bytes are left over after the last field.
func (r *reader) done(what string) error {
	if len(r.s) != 0 {
		return r.fail("%d unexpected bytes after %s", len(r.s), what)
	}
	return nil
}

// readHeader reads a fixed part of a body and fails with the field name when it is short.
func (r *reader) readHeader(n int, field string, read func(s *cryptobyte.String) bool) error {
	if len(r.s) < n {
		return r.short(field)
	}
	if !read(&r.s) {
		return r.short(field)
	}
	return nil
}

func readBytes(s *cryptobyte.String, out *[]byte, n int) bool {
	var v []byte
	if !s.ReadBytes(&v, n) {
		return false
	}
	*out = append([]byte(nil), v...)
	return true
}

// typeThenReserved3 reads the one-byte type and three reserved bytes that open the KE,
// ID, AUTH, TS and CP bodies.
func (r *reader) typeThenReserved3(field string, t *uint8) error {
	return r.readHeader(4, field, func(s *cryptobyte.String) bool {
		return s.ReadUint8(t) && s.Skip(3)
	})
}

func addTypeThenReserved3(b *cryptobyte.Builder, t uint8) {
	b.AddUint8(t)
	b.AddBytes([]byte{0, 0, 0})
}

// KE is the Key Exchange payload: the sender's Diffie-Hellman public value.
//
// RFC 7296, Section 3.4
type KE struct {
	Group uint16 // Diffie-Hellman group (transform type 4 ID)
	Data  []byte // key exchange data (ECP groups: x || y)
}

func (*KE) PayloadType() PayloadType { return PayloadKE }

func (p *KE) marshalBody(b *cryptobyte.Builder) {
	b.AddUint16(p.Group)
	b.AddUint16(0)
	b.AddBytes(p.Data)
}

func (p *KE) unmarshalBody(body []byte) error {
	r := newReader(body)
	if err := r.readHeader(4, "DH group number", func(s *cryptobyte.String) bool {
		return s.ReadUint16(&p.Group) && s.Skip(2)
	}); err != nil {
		return err
	}
	p.Data = r.rest()
	return nil
}

// ID is an Identification payload, IDi or IDr.
//
// RFC 7296, Section 3.5
type ID struct {
	Responder bool // IDr rather than IDi
	Type      IDType
	Data      []byte
}

func (p *ID) PayloadType() PayloadType {
	if p.Responder {
		return PayloadIDr
	}
	return PayloadIDi
}

func (p *ID) marshalBody(b *cryptobyte.Builder) {
	addTypeThenReserved3(b, uint8(p.Type))
	b.AddBytes(p.Data)
}

func (p *ID) unmarshalBody(body []byte) error {
	r := newReader(body)
	if err := r.typeThenReserved3("ID type", (*uint8)(&p.Type)); err != nil {
		return err
	}
	p.Data = r.rest()
	return p.check()
}

// check verifies that address identities have an address's length.
func (p *ID) check() error {
	want := map[IDType]int{IDIPv4Addr: 4, IDIPv6Addr: 16}[p.Type]
	if want != 0 && len(p.Data) != want {
		return &bodyError{at: 4, msg: fmt.Sprintf("%v identity has %d bytes, want %d", p.Type, len(p.Data), want)}
	}
	return nil
}

// String shows the identity the way configurations write it; a distinguished name as
// "CN=...,O=...".
func (p *ID) String() string {
	if p.Type == IDDERASN1DN {
		if dn, err := parseDN(p.Data); err == nil {
			return dn
		}
	}
	return p.Identity().String()
}

// Identity returns the identity as the engine configurations hold it.
func (p *ID) Identity() ike.Identity {
	return ike.Identity{Type: uint8(p.Type), Value: append([]byte(nil), p.Data...)}
}

// NewID builds an IDi (or, with responder, an IDr) payload carrying id.
func NewID(responder bool, id ike.Identity) *ID {
	return &ID{Responder: responder, Type: IDType(id.Type), Data: append([]byte(nil), id.Value...)}
}

// Cert is a Certificate payload.
//
// RFC 7296, Section 3.6
type Cert struct {
	Encoding CertEncoding
	Data     []byte
}

func (*Cert) PayloadType() PayloadType { return PayloadCERT }

func (p *Cert) marshalBody(b *cryptobyte.Builder) { addEncodingData(b, p.Encoding, p.Data) }

func (p *Cert) unmarshalBody(body []byte) error {
	return readEncodingData(body, &p.Encoding, &p.Data)
}

// CertReq is a Certificate Request payload; for X.509 its data is a list of SHA-1 hashes
// of trusted CAs' public keys.
//
// RFC 7296, Section 3.7
type CertReq struct {
	Encoding CertEncoding
	Data     []byte
}

func (*CertReq) PayloadType() PayloadType { return PayloadCERTREQ }

func (p *CertReq) marshalBody(b *cryptobyte.Builder) { addEncodingData(b, p.Encoding, p.Data) }

func (p *CertReq) unmarshalBody(body []byte) error {
	return readEncodingData(body, &p.Encoding, &p.Data)
}

func addEncodingData(b *cryptobyte.Builder, e CertEncoding, data []byte) {
	b.AddUint8(uint8(e))
	b.AddBytes(data)
}

func readEncodingData(body []byte, e *CertEncoding, data *[]byte) error {
	r := newReader(body)
	if err := r.readHeader(1, "certificate encoding", func(s *cryptobyte.String) bool {
		return s.ReadUint8((*uint8)(e))
	}); err != nil {
		return err
	}
	*data = r.rest()
	return nil
}

// Auth is the Authentication payload.
//
// RFC 7296, Section 3.8
type Auth struct {
	Method AuthMethod
	Data   []byte
}

func (*Auth) PayloadType() PayloadType { return PayloadAUTH }

func (p *Auth) marshalBody(b *cryptobyte.Builder) {
	addTypeThenReserved3(b, uint8(p.Method))
	b.AddBytes(p.Data)
}

func (p *Auth) unmarshalBody(body []byte) error {
	r := newReader(body)
	if err := r.typeThenReserved3("auth method", (*uint8)(&p.Method)); err != nil {
		return err
	}
	p.Data = r.rest()
	return nil
}

// Nonce is the Nonce payload (Ni or Nr). Its data must be 16 to 256 octets long:
// Parse refuses others, Marshal writes any length (a test peer sends wrong ones).
//
// RFC 7296, Section 3.9
type Nonce struct {
	Data []byte
}

// Nonce lengths RFC 7296, Section 3.9 allows.
const (
	MinNonceSize = 16
	MaxNonceSize = 256
)

func (*Nonce) PayloadType() PayloadType { return PayloadNonce }

func (p *Nonce) marshalBody(b *cryptobyte.Builder) { b.AddBytes(p.Data) }

func (p *Nonce) unmarshalBody(body []byte) error {
	if len(body) < MinNonceSize || len(body) > MaxNonceSize {
		return &bodyError{msg: fmt.Sprintf("nonce of %d bytes, want %d to %d", len(body), MinNonceSize, MaxNonceSize)}
	}
	p.Data = append([]byte(nil), body...)
	return nil
}

// Notify is the Notify payload.
//
// RFC 7296, Section 3.10
type Notify struct {
	Protocol ike.Protocol // 0 when the notification concerns no particular SA
	SPI      []byte
	Type     NotifyType
	Data     []byte
}

func (*Notify) PayloadType() PayloadType { return PayloadNotify }

func (p *Notify) marshalBody(b *cryptobyte.Builder) {
	if len(p.SPI) > 255 {
		b.SetError(errors.New("ikev2: Notify SPI longer than 255 bytes"))
		return
	}
	b.AddUint8(uint8(p.Protocol))
	b.AddUint8(uint8(len(p.SPI)))
	b.AddUint16(uint16(p.Type))
	b.AddBytes(p.SPI)
	b.AddBytes(p.Data)
}

func (p *Notify) unmarshalBody(body []byte) error {
	r := newReader(body)
	var spiSize uint8
	if err := r.readHeader(4, "notify header", func(s *cryptobyte.String) bool {
		return s.ReadUint8((*uint8)(&p.Protocol)) && s.ReadUint8(&spiSize) && s.ReadUint16((*uint16)(&p.Type))
	}); err != nil {
		return err
	}
	if !readBytes(&r.s, &p.SPI, int(spiSize)) {
		return r.short(fmt.Sprintf("SPI of %d bytes", spiSize))
	}
	p.Data = r.rest()
	return nil
}

// Delete is the Delete payload.
//
// RFC 7296, Section 3.11
type Delete struct {
	Protocol ike.Protocol
	SPISize  uint8 // 0 for the IKE SA, 4 for ESP and AH
	SPIs     [][]byte
}

func (*Delete) PayloadType() PayloadType { return PayloadDelete }

func (p *Delete) marshalBody(b *cryptobyte.Builder) {
	if len(p.SPIs) > 0xffff {
		b.SetError(errors.New("ikev2: Delete payload with more than 65535 SPIs"))
		return
	}
	b.AddUint8(uint8(p.Protocol))
	b.AddUint8(p.SPISize)
	b.AddUint16(uint16(len(p.SPIs)))
	for i, spi := range p.SPIs {
		if len(spi) != int(p.SPISize) {
			b.SetError(fmt.Errorf("ikev2: Delete SPI %d has %d bytes, SPI size is %d", i+1, len(spi), p.SPISize))
			return
		}
		b.AddBytes(spi)
	}
}

func (p *Delete) unmarshalBody(body []byte) error {
	r := newReader(body)
	var n uint16
	if err := r.readHeader(4, "delete header", func(s *cryptobyte.String) bool {
		return s.ReadUint8((*uint8)(&p.Protocol)) && s.ReadUint8(&p.SPISize) && s.ReadUint16(&n)
	}); err != nil {
		return err
	}
	p.SPIs = nil
	for i := 0; i < int(n); i++ {
		var spi []byte
		if !readBytes(&r.s, &spi, int(p.SPISize)) {
			return r.short(fmt.Sprintf("SPI %d of %d", i+1, n))
		}
		p.SPIs = append(p.SPIs, spi)
	}
	return r.done(fmt.Sprintf("%d SPIs of %d bytes", n, p.SPISize))
}

// VendorID is the Vendor ID payload.
//
// RFC 7296, Section 3.12
type VendorID struct {
	Data []byte
}

func (*VendorID) PayloadType() PayloadType { return PayloadVendor }

func (p *VendorID) marshalBody(b *cryptobyte.Builder) { b.AddBytes(p.Data) }

func (p *VendorID) unmarshalBody(body []byte) error {
	p.Data = append([]byte(nil), body...)
	return nil
}

// TS is a Traffic Selector payload, TSi or TSr.
//
// RFC 7296, Section 3.13
type TS struct {
	Responder bool // TSr rather than TSi
	Selectors []TrafficSelector
}

// TrafficSelector is one selector: an address range, an IP protocol and a port range.
// Selectors of types other than 7 and 8 keep their bytes after the length in Data.
//
// RFC 7296, Section 3.13.1
type TrafficSelector struct {
	Type       TSType
	IPProtocol uint8 // 0 means any
	StartPort  uint16
	EndPort    uint16
	StartAddr  netip.Addr
	EndAddr    netip.Addr
	Data       []byte // selector body of other TS types
}

// tsHeaderLen is the TS Type, IP Protocol ID and Selector Length fields.
const tsHeaderLen = 4

func (p *TS) PayloadType() PayloadType {
	if p.Responder {
		return PayloadTSr
	}
	return PayloadTSi
}

func (p *TS) marshalBody(b *cryptobyte.Builder) {
	if len(p.Selectors) > 255 {
		b.SetError(errors.New("ikev2: more than 255 traffic selectors"))
		return
	}
	addTypeThenReserved3(b, uint8(len(p.Selectors)))
	for i := range p.Selectors {
		p.Selectors[i].marshal(b)
	}
}

func (ts *TrafficSelector) marshal(b *cryptobyte.Builder) {
	var body []byte
	switch ts.Type {
	case TSIPv4AddrRange, TSIPv6AddrRange:
		size := 4
		if ts.Type == TSIPv6AddrRange {
			size = 16
		}
		start, end := ts.StartAddr.AsSlice(), ts.EndAddr.AsSlice()
		if len(start) != size || len(end) != size {
			b.SetError(fmt.Errorf("ikev2: %v selector with addresses %v-%v", ts.Type, ts.StartAddr, ts.EndAddr))
			return
		}
		body = append(append([]byte{byte(ts.StartPort >> 8), byte(ts.StartPort), byte(ts.EndPort >> 8), byte(ts.EndPort)}, start...), end...)
	default:
		body = ts.Data
	}
	if tsHeaderLen+len(body) > 0xffff {
		b.SetError(errors.New("ikev2: traffic selector too long"))
		return
	}
	b.AddUint8(uint8(ts.Type))
	b.AddUint8(ts.IPProtocol)
	b.AddUint16(uint16(tsHeaderLen + len(body)))
	b.AddBytes(body)
}

func (p *TS) unmarshalBody(body []byte) error {
	r := newReader(body)
	var n uint8
	if err := r.typeThenReserved3("number of TSs", &n); err != nil {
		return err
	}
	p.Selectors = nil
	for i := 0; i < int(n); i++ {
		var ts TrafficSelector
		if err := ts.unmarshal(r, i+1); err != nil {
			return err
		}
		p.Selectors = append(p.Selectors, ts)
	}
	if len(r.s) != 0 { // the text only for the error
		return r.done(fmt.Sprintf("%d traffic selectors", n))
	}
	return nil
}

func (ts *TrafficSelector) unmarshal(r *reader, num int) error {
	var length uint16
	if len(r.s) < tsHeaderLen {
		return r.short(fmt.Sprintf("traffic selector %d header", num))
	}
	r.s.ReadUint8((*uint8)(&ts.Type))
	r.s.ReadUint8(&ts.IPProtocol)
	r.s.ReadUint16(&length)
	field := func() string { return fmt.Sprintf("traffic selector %d", num) }
	if length < tsHeaderLen || int(length)-tsHeaderLen > len(r.s) {
		return r.fail("%s: selector length %d does not fit the %d bytes left", field(), length, len(r.s)+tsHeaderLen)
	}
	var body cryptobyte.String
	r.s.ReadBytes((*[]byte)(&body), int(length)-tsHeaderLen)
	size := map[TSType]int{TSIPv4AddrRange: 4, TSIPv6AddrRange: 16}[ts.Type]
	if size == 0 {
		ts.Data = append([]byte(nil), body...)
		return nil
	}
	if len(body) != 4+2*size {
		return r.fail("%s: %v selector length %d, want %d", field(), ts.Type, length, tsHeaderLen+4+2*size)
	}
	var start, end []byte
	body.ReadUint16(&ts.StartPort)
	body.ReadUint16(&ts.EndPort)
	body.ReadBytes(&start, size)
	body.ReadBytes(&end, size)
	ts.StartAddr, _ = netip.AddrFromSlice(start)
	ts.EndAddr, _ = netip.AddrFromSlice(end)
	return nil
}

// String writes the selector as "10.0.0.0-10.0.0.255 proto 0 ports 0-65535".
func (ts TrafficSelector) String() string {
	if ts.Type != TSIPv4AddrRange && ts.Type != TSIPv6AddrRange {
		return fmt.Sprintf("%v %x", ts.Type, ts.Data)
	}
	return fmt.Sprintf("%v-%v proto %d ports %d-%d", ts.StartAddr, ts.EndAddr, ts.IPProtocol, ts.StartPort, ts.EndPort)
}

// CP is the Configuration payload.
//
// RFC 7296, Section 3.15
type CP struct {
	Type       CPType
	Attributes []CfgAttribute
}

// CfgAttribute is one configuration attribute; an empty Value asks for a value.
//
// RFC 7296, Section 3.15.1
type CfgAttribute struct {
	Type  CfgAttrType // 15 bits; the reserved top bit is always sent as zero
	Value []byte
}

func (*CP) PayloadType() PayloadType { return PayloadCP }

func (p *CP) marshalBody(b *cryptobyte.Builder) {
	addTypeThenReserved3(b, uint8(p.Type))
	for _, a := range p.Attributes {
		if a.Type > 0x7fff || len(a.Value) > 0xffff {
			b.SetError(fmt.Errorf("ikev2: configuration attribute %v does not fit its fields", a.Type))
			return
		}
		b.AddUint16(uint16(a.Type))
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(a.Value) })
	}
}

func (p *CP) unmarshalBody(body []byte) error {
	r := newReader(body)
	if err := r.typeThenReserved3("CFG type", (*uint8)(&p.Type)); err != nil {
		return err
	}
	p.Attributes = nil
	for n := 1; len(r.s) > 0; n++ {
		var a CfgAttribute
		var t uint16
		var v cryptobyte.String
		if err := r.readHeader(4, fmt.Sprintf("configuration attribute %d header", n), func(s *cryptobyte.String) bool {
			return s.ReadUint16(&t) && s.ReadUint16LengthPrefixed(&v)
		}); err != nil {
			return err
		}
		a.Type = CfgAttrType(t & 0x7fff)
		a.Value = append([]byte(nil), v...)
		p.Attributes = append(p.Attributes, a)
	}
	return nil
}

// EAP is the Extensible Authentication payload: one EAP message (RFC 3748) carried whole.
//
// RFC 7296, Section 3.16
type EAP struct {
	Message []byte
}

// EAP codes (RFC 3748, Section 4).
const (
	EAPRequest  = 1
	EAPResponse = 2
	EAPSuccess  = 3
	EAPFailure  = 4
)

func (*EAP) PayloadType() PayloadType { return PayloadEAP }

func (p *EAP) marshalBody(b *cryptobyte.Builder) { b.AddBytes(p.Message) }

func (p *EAP) unmarshalBody(body []byte) error {
	r := newReader(body)
	var code, id uint8
	var length uint16
	if err := r.readHeader(4, "EAP header", func(s *cryptobyte.String) bool {
		return s.ReadUint8(&code) && s.ReadUint8(&id) && s.ReadUint16(&length)
	}); err != nil {
		return err
	}
	if int(length) != len(body) {
		return &bodyError{at: 2, msg: fmt.Sprintf("EAP length %d differs from the payload's %d bytes", length, len(body))}
	}
	if (code == EAPRequest || code == EAPResponse) && len(body) < 5 {
		return r.short("EAP type")
	}
	p.Message = append([]byte(nil), body...)
	return nil
}

// Code, Identifier and Type read the EAP header (RFC 3748, Section 4); Type is 0 for
// Success and Failure, which carry none.
func (p *EAP) Code() uint8 { return byteAt(p.Message, 0) }

func (p *EAP) Identifier() uint8 { return byteAt(p.Message, 1) }

func (p *EAP) Type() uint8 {
	if c := p.Code(); c != EAPRequest && c != EAPResponse {
		return 0
	}
	return byteAt(p.Message, 4)
}

func byteAt(b []byte, i int) uint8 {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// Unknown is a payload of a type this codec does not decode. Parse keeps unknown
// payloads that are not critical; a critical one makes the message fail with
// UNSUPPORTED_CRITICAL_PAYLOAD.
type Unknown struct {
	Type     PayloadType
	Critical bool
	Body     []byte
}

func (p *Unknown) PayloadType() PayloadType { return p.Type }

func (p *Unknown) marshalBody(b *cryptobyte.Builder) { b.AddBytes(p.Body) }

func (p *Unknown) unmarshalBody(body []byte) error {
	p.Body = append([]byte(nil), body...)
	return nil
}

// newPayload returns an empty payload of type t, or nil when t is not decoded here.
func newPayload(t PayloadType) Payload {
	switch t {
	case PayloadSA:
		return &SA{}
	case PayloadKE:
		return &KE{}
	case PayloadIDi:
		return &ID{}
	case PayloadIDr:
		return &ID{Responder: true}
	case PayloadCERT:
		return &Cert{}
	case PayloadCERTREQ:
		return &CertReq{}
	case PayloadAUTH:
		return &Auth{}
	case PayloadNonce:
		return &Nonce{}
	case PayloadNotify:
		return &Notify{}
	case PayloadDelete:
		return &Delete{}
	case PayloadVendor:
		return &VendorID{}
	case PayloadTSi:
		return &TS{}
	case PayloadTSr:
		return &TS{Responder: true}
	case PayloadSK:
		return &Encrypted{}
	case PayloadCP:
		return &CP{}
	case PayloadEAP:
		return &EAP{}
	case PayloadSKF:
		return &EncryptedFragment{}
	}
	return nil
}

// parseDN renders a DER-encoded distinguished name (an ID_DER_ASN1_DN identity) in the
// usual "CN=...,O=..." form.
func parseDN(der []byte) (string, error) {
	var rdn pkix.RDNSequence
	rest, err := asn1.Unmarshal(der, &rdn)
	if err != nil {
		return "", err
	}
	if len(rest) != 0 {
		return "", errors.New("ikev2: bytes after the distinguished name")
	}
	var name pkix.Name
	name.FillFromRDNSequence(&rdn)
	return name.String(), nil
}
