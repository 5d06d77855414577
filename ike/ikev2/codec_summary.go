package ikev2

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/ikesim/ikesim/ike"
)

// Summary writes the message in RFC 7296's notation, as sequence diagrams label it:
// "HDR, SAi1, KEi, Ni", "HDR, SK {IDi, AUTH, SAi2, TSi, TSr}",
// "HDR, SK {N(REKEY_SA), SA, Ni, KEi, TSi, TSr}".
//
// initiator says whether the message comes from the initiator of its exchange (the side
// that sent the request). The RFC marks payloads of that side with "i" (KEi, Ni) and
// those of the other side with "r"; IDi/IDr and TSi/TSr go by payload type. An SK
// payload that is neither decrypted nor built from inner payloads shows as "SK {...}".
func Summary(m *Message, initiator bool) string {
	b := make([]byte, 0, 96)
	b = append(b, "HDR"...)
	for _, p := range m.Payloads {
		b = appendSummaryName(append(b, ", "...), p, m.Exchange, initiator)
	}
	return string(b)
}

func appendSummaryName(b []byte, p Payload, ex ExchangeType, initiator bool) []byte {
	side := "r"
	if initiator {
		side = "i"
	}
	switch p := p.(type) {
	case *SA:
		switch ex {
		case IKE_SA_INIT:
			return append(append(append(b, "SA"...), side...), '1')
		case IKE_AUTH:
			return append(append(append(b, "SA"...), side...), '2')
		}
		return append(b, "SA"...)
	case *KE:
		return append(append(b, "KE"...), side...)
	case *Nonce:
		return append(append(b, "N"...), side...)
	case *Notify:
		return append(append(append(b, "N("...), p.Type.String()...), ')')
	case *CP:
		return fmt.Appendf(b, "CP(%v)", p.Type)
	case *Encrypted:
		if p.Inner == nil && !p.Decrypted && p.Ciphertext != nil {
			return append(b, "SK {...}"...)
		}
		b = append(b, "SK {"...)
		for i, q := range p.Inner {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendSummaryName(b, q, ex, initiator)
		}
		return append(b, '}')
	case *EncryptedFragment:
		return fmt.Appendf(b, "SKF(%d/%d)", p.Number, p.Total)
	}
	return append(b, p.PayloadType().String()...)
}

// Describe gives the facts of a message for the trace: its summary, SPIs, payloads (the
// inner payloads of SK after it), notify types (the error types apart, and the group an
// INVALID_KE_PAYLOAD asks for), what it is for, and the SAs it creates,
// rekeys or deletes. initiator says whether it comes from the initiator of its exchange.
// An SK payload that is not decrypted shows as "SK" alone.
func Describe(m *Message, initiator bool) ike.MessageFacts {
	f := ike.MessageFacts{Summary: Summary(m, initiator), SPIi: m.Header.SPIi, SPIr: m.Header.SPIr}
	if m.Exchange == IKE_SA_INIT && m.Header.SPIi != 0 {
		f.Creates = append(f.Creates, ike.SARef{Protocol: ike.ProtoIKE, SPI: m.Header.SPIi})
	}
	d := describer{f: f, spiI: m.Header.SPIi}
	n, notifies := len(m.Payloads), countNotifies(m.Payloads)
	if e := m.Encrypted(); e != nil {
		n += len(e.Inner)
		notifies += countNotifies(e.Inner)
	} else if n > 0 && !m.IsResponse() {
		d.inner = make([]Payload, 0, n) // for purposeOf
	}
	if n > 0 {
		d.f.Payloads = make([]string, 0, n)
	}
	if notifies > 0 {
		d.f.Notifies = make([]string, 0, notifies)
	}
	d.visit(m.Payloads, true)
	if !m.IsResponse() && !d.opaque {
		d.f.Purpose = purposeOf(m.Exchange, d.inner)
	}
	return d.f
}

func countNotifies(ps []Payload) int {
	n := 0
	for _, p := range ps {
		if _, ok := p.(*Notify); ok {
			n++
		}
	}
	return n
}

// describer gathers a message's facts payload by payload (Describe).
type describer struct {
	f      ike.MessageFacts
	spiI   uint64
	inner  []Payload // the payloads inside SK, then those outside it
	opaque bool      // an SK payload that is not decrypted
}

func (d *describer) visit(ps []Payload, top bool) {
	f := &d.f
	for _, p := range ps {
		f.Payloads = append(f.Payloads, p.PayloadType().String())
		switch p := p.(type) {
		case *Notify:
			f.AddNotify(p.Type.String(), p.Type.IsError())
			if p.Type == INVALID_KE_PAYLOAD && len(p.Data) == 2 {
				f.Group = ike.TransformName(ike.Transform{Type: ike.TransformDH, ID: binary.BigEndian.Uint16(p.Data)})
			}
			if p.Type == REKEY_SA && len(p.SPI) > 0 {
				f.Rekeys = append(f.Rekeys, ike.SARef{Protocol: p.Protocol, SPI: spiNumber(p.SPI)})
			}
		case *SA:
			for _, prop := range p.Proposals {
				if len(prop.SPI) == 0 {
					continue
				}
				ref := ike.SARef{Protocol: prop.Protocol, SPI: spiNumber(prop.SPI)}
				if !slices.Contains(f.Creates, ref) {
					f.Creates = append(f.Creates, ref)
				}
			}
		case *Delete:
			if p.Protocol == ike.ProtoIKE {
				f.Deletes = append(f.Deletes, ike.SARef{Protocol: ike.ProtoIKE, SPI: d.spiI})
			}
			for _, spi := range p.SPIs {
				f.Deletes = append(f.Deletes, ike.SARef{Protocol: p.Protocol, SPI: spiNumber(spi)})
			}
		case *Encrypted:
			d.opaque = p.Inner == nil && !p.Decrypted && p.Ciphertext != nil
			d.inner = p.Inner
			d.visit(p.Inner, false)
		}
		if top && p.PayloadType() != PayloadSK {
			d.inner = append(d.inner, p)
		}
	}
}

// purposeOf says what a request with these payloads (those inside SK) is for.
func purposeOf(ex ExchangeType, ps []Payload) ike.Purpose {
	switch ex {
	case CREATE_CHILD_SA:
		if n := notifyIn(ps, REKEY_SA); n != nil {
			return ike.PurposeRekeyChild
		}
		if sa := payloadOf[*SA](ps); sa != nil && len(sa.Proposals) > 0 && sa.Proposals[0].Protocol == ike.ProtoIKE {
			return ike.PurposeRekeyIKE
		}
		return ike.PurposeCreateChild
	case INFORMATIONAL:
		switch {
		case len(ps) == 0:
			return ike.PurposeLiveness
		case payloadOf[*Delete](ps) != nil:
			return ike.PurposeDelete
		case payloadOf[*CP](ps) != nil:
			return ike.PurposeConfig
		}
		return ike.PurposeNotify
	}
	return ""
}

// spiNumber reads an SPI of up to eight bytes as a number.
func spiNumber(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}
