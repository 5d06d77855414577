package ikev2

import (
	"fmt"
	"strings"
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
	parts := []string{"HDR"}
	for _, p := range m.Payloads {
		parts = append(parts, summaryName(p, m.Exchange, initiator))
	}
	return strings.Join(parts, ", ")
}

func summaryName(p Payload, ex ExchangeType, initiator bool) string {
	side := "r"
	if initiator {
		side = "i"
	}
	switch p := p.(type) {
	case *SA:
		switch ex {
		case IKE_SA_INIT:
			return "SA" + side + "1"
		case IKE_AUTH:
			return "SA" + side + "2"
		}
		return "SA"
	case *KE:
		return "KE" + side
	case *Nonce:
		return "N" + side
	case *Notify:
		return "N(" + p.Type.String() + ")"
	case *CP:
		return fmt.Sprintf("CP(%v)", p.Type)
	case *Encrypted:
		if p.Inner == nil && !p.Decrypted && p.Ciphertext != nil {
			return "SK {...}"
		}
		inner := make([]string, len(p.Inner))
		for i, q := range p.Inner {
			inner[i] = summaryName(q, ex, initiator)
		}
		return "SK {" + strings.Join(inner, ", ") + "}"
	case *EncryptedFragment:
		return fmt.Sprintf("SKF(%d/%d)", p.Number, p.Total)
	}
	return p.PayloadType().String()
}
