package ikev2

import (
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/crypto/cryptobyte"

	"github.com/ikesim/ikesim/ike"
)

// SA is the Security Association payload: the proposals a side offers, or the one it
// accepts.
//
// RFC 7296, Section 3.3
type SA struct {
	Proposals []*Proposal
}

// Proposal is one proposal substructure: a protocol, an SPI and its transforms.
//
// RFC 7296, Section 3.3.1
type Proposal struct {
	Number     uint8 // proposal number as on the wire; the accepted one echoes the offer's
	Protocol   ike.Protocol
	SPI        []byte // empty in IKE_SA_INIT, 8 bytes when rekeying an IKE SA, 4 for ESP/AH
	Transforms []Transform
}

// Transform is one transform substructure.
//
// RFC 7296, Section 3.3.2
type Transform struct {
	Type ike.TransformType
	ID   uint16
	// KeyLen is the Key Length attribute in bits (RFC 7296, Section 3.3.5); 0 when absent.
	KeyLen int
	// Attributes holds any other attributes, in the order they came.
	Attributes []TransformAttribute
}

// TransformAttribute is a transform attribute other than Key Length: TV (a 16-bit value
// in the header) or TLV (a variable value).
//
// RFC 7296, Section 3.3.5
type TransformAttribute struct {
	Type  uint16 // attribute type without the AF bit
	TV    bool
	Value uint16 // TV format
	Data  []byte // TLV format
}

// Substructure header sizes and Last Substruc values (RFC 7296, Sections 3.3.1-3.3.5).
const (
	proposalHeaderLen  = 8
	transformHeaderLen = 8
	attrHeaderLen      = 4
	lastSubstruc       = 0
	moreProposals      = 2
	moreTransforms     = 3
	attrFormatTV       = 0x8000
	// AttrKeyLength is the Key Length transform attribute (RFC 7296, Section 3.3.5).
	AttrKeyLength = 14
)

func (*SA) PayloadType() PayloadType { return PayloadSA }

func (p *SA) marshalBody(b *cryptobyte.Builder) {
	for i, prop := range p.Proposals {
		more := uint8(moreProposals)
		if i == len(p.Proposals)-1 {
			more = lastSubstruc
		}
		prop.marshal(b, more)
	}
}

func (p *Proposal) marshal(b *cryptobyte.Builder, more uint8) {
	var ts cryptobyte.Builder
	for i := range p.Transforms {
		m := uint8(moreTransforms)
		if i == len(p.Transforms)-1 {
			m = lastSubstruc
		}
		p.Transforms[i].marshal(&ts, m)
	}
	body, err := ts.Bytes()
	switch {
	case err != nil:
		b.SetError(err)
		return
	case len(p.SPI) > 255 || len(p.Transforms) > 255:
		b.SetError(fmt.Errorf("ikev2: proposal %d has a %d-byte SPI and %d transforms", p.Number, len(p.SPI), len(p.Transforms)))
		return
	case proposalHeaderLen+len(p.SPI)+len(body) > 0xffff:
		b.SetError(fmt.Errorf("ikev2: proposal %d too long", p.Number))
		return
	}
	b.AddUint8(more)
	b.AddUint8(0)
	b.AddUint16(uint16(proposalHeaderLen + len(p.SPI) + len(body)))
	b.AddUint8(p.Number)
	b.AddUint8(uint8(p.Protocol))
	b.AddUint8(uint8(len(p.SPI)))
	b.AddUint8(uint8(len(p.Transforms)))
	b.AddBytes(p.SPI)
	b.AddBytes(body)
}

func (t *Transform) marshal(b *cryptobyte.Builder, more uint8) {
	var attrs cryptobyte.Builder
	if t.KeyLen != 0 {
		if t.KeyLen < 0 || t.KeyLen > 0xffff {
			b.SetError(fmt.Errorf("ikev2: key length %d out of range", t.KeyLen))
			return
		}
		attrs.AddUint16(attrFormatTV | AttrKeyLength)
		attrs.AddUint16(uint16(t.KeyLen))
	}
	for _, a := range t.Attributes {
		if a.Type > 0x7fff || len(a.Data) > 0xffff {
			b.SetError(fmt.Errorf("ikev2: transform attribute %d does not fit its fields", a.Type))
			return
		}
		if a.TV {
			attrs.AddUint16(attrFormatTV | a.Type)
			attrs.AddUint16(a.Value)
			continue
		}
		attrs.AddUint16(a.Type)
		attrs.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(a.Data) })
	}
	body, err := attrs.Bytes()
	if err != nil {
		b.SetError(err)
		return
	}
	if transformHeaderLen+len(body) > 0xffff {
		b.SetError(errors.New("ikev2: transform too long"))
		return
	}
	b.AddUint8(more)
	b.AddUint8(0)
	b.AddUint16(uint16(transformHeaderLen + len(body)))
	b.AddUint8(uint8(t.Type))
	b.AddUint8(0)
	b.AddUint16(t.ID)
	b.AddBytes(body)
}

func (p *SA) unmarshalBody(body []byte) error {
	r := newReader(body)
	p.Proposals = nil
	for more := true; more; {
		if len(r.s) == 0 {
			return r.fail("proposal %d announced by the previous Last Substruc is missing", len(p.Proposals)+1)
		}
		prop, m, err := unmarshalProposal(r, len(p.Proposals)+1)
		if err != nil {
			return err
		}
		p.Proposals = append(p.Proposals, prop)
		more = m
	}
	return r.done("the last proposal")
}

// unmarshalProposal reads the proposal at r and reports whether another one follows.
func unmarshalProposal(r *reader, num int) (*Proposal, bool, error) {
	p := &Proposal{}
	var more, spiSize, numTransforms uint8
	var length uint16
	// field names the proposal in errors; made only for one.
	field := func() string { return "proposal " + strconv.Itoa(num) }
	start := r.at()
	if s := &r.s; len(*s) < proposalHeaderLen || !(s.ReadUint8(&more) && s.Skip(1) && s.ReadUint16(&length) &&
		s.ReadUint8(&p.Number) && s.ReadUint8((*uint8)(&p.Protocol)) &&
		s.ReadUint8(&spiSize) && s.ReadUint8(&numTransforms)) {
		return nil, false, r.short(field() + " header")
	}
	if more != lastSubstruc && more != moreProposals {
		return nil, false, &bodyError{at: start, msg: fmt.Sprintf("%s: Last Substruc %d is neither 0 nor 2", field(), more)}
	}
	if int(length) < proposalHeaderLen+int(spiSize) || int(length)-proposalHeaderLen > len(r.s) {
		return nil, false, &bodyError{at: start + 2, msg: fmt.Sprintf("%s: length %d does not fit (header and SPI need %d, %d bytes left)",
			field(), length, proposalHeaderLen+int(spiSize), len(r.s)+proposalHeaderLen)}
	}
	if !readBytes(&r.s, &p.SPI, int(spiSize)) {
		return nil, false, r.short(field() + " SPI")
	}
	var content []byte
	r.s.ReadBytes(&content, int(length)-proposalHeaderLen-int(spiSize))
	// tr reads the transforms; its body ends where content ends so that its offsets
	// count from the start of the SA body, like r's.
	tr := &reader{body: r.body[:r.at()], s: cryptobyte.String(content)}
	if numTransforms > 0 {
		p.Transforms = make([]Transform, 0, numTransforms)
	}
	for i := 0; i < int(numTransforms); i++ {
		t, moreT, err := unmarshalTransform(tr, num, i+1)
		if err != nil {
			return nil, false, err
		}
		p.Transforms = append(p.Transforms, t)
		if !moreT && i != int(numTransforms)-1 {
			return nil, false, tr.fail("%s: transform %d is marked last but %d are announced", field(), i+1, numTransforms)
		}
		if moreT && i == int(numTransforms)-1 {
			return nil, false, tr.fail("%s: transform %d is the last announced but is marked as followed by more", field(), i+1)
		}
	}
	if len(tr.s) != 0 {
		return nil, false, tr.done(fmt.Sprintf("%s's %d transforms", field(), numTransforms))
	}
	return p, more == moreProposals, nil
}

func unmarshalTransform(r *reader, prop, num int) (Transform, bool, error) {
	var t Transform
	var more uint8
	var length uint16
	// field names the transform in errors; made only for one.
	field := func() string { return fmt.Sprintf("proposal %d: transform %d", prop, num) }
	start := r.at()
	if s := &r.s; len(*s) < transformHeaderLen || !(s.ReadUint8(&more) && s.Skip(1) && s.ReadUint16(&length) &&
		s.ReadUint8((*uint8)(&t.Type)) && s.Skip(1) && s.ReadUint16(&t.ID)) {
		return t, false, r.short(field() + " header")
	}
	if more != lastSubstruc && more != moreTransforms {
		return t, false, &bodyError{at: start, msg: fmt.Sprintf("%s: Last Substruc %d is neither 0 nor 3", field(), more)}
	}
	if int(length) < transformHeaderLen || int(length)-transformHeaderLen > len(r.s) {
		return t, false, &bodyError{at: start + 2, msg: fmt.Sprintf("%s: length %d does not fit the %d bytes left",
			field(), length, len(r.s)+transformHeaderLen)}
	}
	var attrs cryptobyte.String
	r.s.ReadBytes((*[]byte)(&attrs), int(length)-transformHeaderLen)
	for n := 1; len(attrs) > 0; n++ {
		var typ, v uint16
		at := r.at() - len(attrs)
		if !attrs.ReadUint16(&typ) || !attrs.ReadUint16(&v) {
			return t, false, &bodyError{at: at, msg: fmt.Sprintf("%s: attribute %d truncated", field(), n)}
		}
		a := TransformAttribute{Type: typ &^ attrFormatTV, TV: typ&attrFormatTV != 0, Value: v}
		if !a.TV && !readBytes(&attrs, &a.Data, int(v)) {
			return t, false, &bodyError{at: at, msg: fmt.Sprintf("%s: attribute %d length %d runs past the transform", field(), n, v)}
		}
		if a.Type == AttrKeyLength {
			if !a.TV || t.KeyLen != 0 {
				return t, false, &bodyError{at: at, msg: fmt.Sprintf("%s: Key Length attribute must appear once, in TV format", field())}
			}
			t.KeyLen = int(v)
			continue
		}
		if !a.TV {
			a.Value = 0
		}
		t.Attributes = append(t.Attributes, a)
	}
	return t, more == moreTransforms, nil
}

// IKE returns the proposal as the transform registry sees it.
func (p *Proposal) IKE() ike.Proposal {
	out := ike.Proposal{Protocol: p.Protocol}
	if len(p.Transforms) > 0 {
		out.Transforms = make([]ike.Transform, 0, len(p.Transforms))
	}
	for _, t := range p.Transforms {
		out.Transforms = append(out.Transforms, ike.Transform{Type: t.Type, ID: t.ID, KeyLen: t.KeyLen})
	}
	return out
}

// NewProposal builds the wire form of an ike.Proposal with the given proposal number
// and SPI.
func NewProposal(number uint8, spi []byte, p ike.Proposal) *Proposal {
	out := &Proposal{Number: number, Protocol: p.Protocol, SPI: spi}
	if len(p.Transforms) > 0 {
		out.Transforms = make([]Transform, 0, len(p.Transforms))
	}
	for _, t := range p.Transforms {
		out.Transforms = append(out.Transforms, Transform{Type: t.Type, ID: t.ID, KeyLen: t.KeyLen})
	}
	return out
}

// NewSA builds an SA payload offering ps in order, numbered from 1, all with the same SPI.
func NewSA(spi []byte, ps ...ike.Proposal) *SA {
	sa := &SA{}
	for i, p := range ps {
		sa.Proposals = append(sa.Proposals, NewProposal(uint8(i+1), spi, p))
	}
	return sa
}

// IKEProposals returns every proposal of the payload as the registry sees it.
func (p *SA) IKEProposals() []ike.Proposal {
	var out []ike.Proposal
	for _, prop := range p.Proposals {
		out = append(out, prop.IKE())
	}
	return out
}
