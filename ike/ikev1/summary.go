package ikev1

import (
	"slices"
	"strings"

	"github.com/ikesim/ikesim/ike"
)

// Summary writes the message in RFC 2409's notation, as sequence diagrams label it:
// "HDR, SA, VID", "HDR, KE, Ni, NAT-D, NAT-D", "HDR*, IDii, HASH_I",
// "HDR*, HASH(1), SA, Ni, KE, IDci, IDcr", "HDR*, HASH, N(R-U-THERE)". HDR* marks an
// encrypted message; one not decrypted shows as "HDR*, {...}". In aggressive mode the
// identity travels in clear and the summary shows it: "IDii(gw-a.example)".
//
// initiator says whether the side that opened the exchange sent the message: RFC 2409
// marks its payloads with "i" (Ni, IDii, HASH_I) and the other side's with "r".
func Summary(m *Message, initiator bool) string {
	hdr := "HDR"
	if m.Encrypted() {
		hdr = "HDR*"
		if !m.Decrypted && m.Plaintext == nil {
			return hdr + ", {...}"
		}
	}
	parts := []string{hdr}
	side, upper := "r", "R"
	if initiator {
		side, upper = "i", "I"
	}
	hasSA := payloadOf[*SA](m.Payloads) != nil
	ids := 0
	for _, p := range m.Payloads {
		var s string
		switch p := p.(type) {
		case *SA:
			s = "SA"
		case *KE:
			s = "KE"
		case *Nonce:
			s = "N" + side
		case *ID:
			switch m.Exchange {
			case ExchangeQuick:
				s = "IDci"
				if ids > 0 {
					s = "IDcr"
				}
				ids++
			case ExchangeAggressive:
				s = "IDi" + side + "(" + p.String() + ")"
			default:
				s = "IDi" + side
			}
		case *Hash:
			switch {
			case m.Exchange == ExchangeMain || m.Exchange == ExchangeAggressive:
				s = "HASH_" + upper
			case m.Exchange == ExchangeQuick && !initiator:
				s = "HASH(2)"
			case m.Exchange == ExchangeQuick && hasSA:
				s = "HASH(1)"
			case m.Exchange == ExchangeQuick:
				s = "HASH(3)"
			default:
				s = "HASH"
			}
		case *Sig:
			s = "SIG_" + upper
		case *Notify:
			s = "N(" + p.Type.String() + ")"
		case *Delete:
			s = "D"
		case *Attributes:
			s = "ATTR(" + strings.TrimPrefix(p.Type.String(), "ISAKMP_CFG_") + ")"
		default:
			s = p.PayloadType().String()
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// Describe gives the facts of a message for the trace: its summary, cookies, payloads,
// notify types (the error types apart), what it is for, and the SAs it proposes or deletes. initiator says
// whether it comes from the initiator of its exchange. An encrypted message that is not
// decrypted lists no payloads.
func Describe(m *Message, initiator bool) ike.MessageFacts {
	f := ike.MessageFacts{Summary: Summary(m, initiator), SPIi: m.ICookie, SPIr: m.RCookie}
	if m.Encrypted() && !m.Decrypted && m.Plaintext == nil {
		return f
	}
	for _, p := range m.Payloads {
		f.Payloads = append(f.Payloads, p.PayloadType().String())
		switch p := p.(type) {
		case *Notify:
			f.AddNotify(p.Type.String(), p.Type.IsError())
		case *SA:
			for _, prop := range p.Proposals {
				ref := ike.SARef{Protocol: ike.Protocol(prop.Protocol), SPI: spiNumber(prop.SPI)}
				if len(prop.SPI) > 0 && !slices.Contains(f.Creates, ref) {
					f.Creates = append(f.Creates, ref)
				}
			}
		case *Delete:
			for _, spi := range p.SPIs {
				f.Deletes = append(f.Deletes, ike.SARef{Protocol: ike.Protocol(p.Protocol), SPI: spiNumber(spi)})
			}
		}
	}
	switch {
	case m.Exchange == ExchangeQuick && payloadOf[*SA](m.Payloads) != nil:
		f.Purpose = ike.PurposeCreateChild
	case m.Exchange == ExchangeInformational && payloadOf[*Delete](m.Payloads) != nil:
		f.Purpose = ike.PurposeDelete
	case m.Exchange == ExchangeInformational && slices.Contains(f.Notifies, R_U_THERE.String()):
		f.Purpose = ike.PurposeLiveness
	case m.Exchange == ExchangeInformational:
		f.Purpose = ike.PurposeNotify
	case m.Exchange == ExchangeTransaction:
		f.Purpose = ike.PurposeConfig
	}
	return f
}

// spiNumber reads an SPI (or a pair of cookies' first eight bytes) as a number.
func spiNumber(b []byte) uint64 {
	var v uint64
	for _, x := range b[:min(len(b), 8)] {
		v = v<<8 | uint64(x)
	}
	return v
}
