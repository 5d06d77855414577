package ikev1

import (
	"fmt"

	"github.com/ikesim/ikesim/ike"
)

// Passive reads ISAKMP SAs from the outside, as Wireshark does with a capture: it learns
// who initiated, the Diffie-Hellman values and the phase 1 algorithms from the clear
// messages, and decrypts the later ones with the encryption key of a key table (the one
// derived from SKEYID_e), following the IV chain of RFC 2409, Appendix B.
type Passive struct {
	keys map[uint64][]byte // initiator cookie -> encryption key
	sas  map[uint64]*passiveSA
}

type passiveSA struct {
	initiator string
	gxi, gxr  []byte
	encr      *ike.EncrAlg
	keyBits   int
	hash      *HashAlg
	key       []byte
	ivs       *IVs
}

// NewPassive reads ISAKMP SAs with these encryption keys, by initiator cookie.
func NewPassive(keys map[uint64][]byte) *Passive {
	return &Passive{keys: keys, sas: map[uint64]*passiveSA{}}
}

// Read parses one message sent by src and decrypts it if it is encrypted and the key and
// the phase 1 parameters are known. It returns the protection it was decrypted with
// (nil for a clear message) and whether src is the initiator of the ISAKMP SA. A message
// that cannot be decrypted comes back parsed as far as the header, with the reason.
func (p *Passive) Read(data []byte, src string) (m *Message, c *Crypto, initiator bool, err error) {
	m, err = Parse(data)
	if err != nil {
		return nil, nil, false, err
	}
	sa := p.sas[m.ICookie]
	if sa == nil {
		sa = &passiveSA{initiator: src, key: p.keys[m.ICookie]}
		p.sas[m.ICookie] = sa
	}
	initiator = src == sa.initiator
	if !m.Encrypted() {
		sa.learn(m, initiator)
		return m, nil, initiator, nil
	}
	if sa.key == nil {
		return m, nil, initiator, fmt.Errorf("ikev1: no encryption key for initiator cookie %016x in the key table", m.ICookie)
	}
	if sa.ivs == nil {
		if sa.encr == nil || sa.hash == nil || sa.gxi == nil || sa.gxr == nil {
			return m, nil, initiator, fmt.Errorf("ikev1: encrypted message before the phase 1 algorithms and KE payloads were seen")
		}
		sa.ivs = NewIVs(sa.hash, sa.encr.BlockSize, sa.gxi, sa.gxr)
	}
	c = sa.ivs.Crypto(sa.encr, sa.key, m.MessageID)
	if err := m.Decrypt(c); err != nil {
		return m, nil, initiator, err
	}
	sa.ivs.Advance(m.MessageID, data)
	return m, c, initiator, nil
}

// learn records what a clear message reveals.
func (sa *passiveSA) learn(m *Message, fromInitiator bool) {
	for _, pl := range m.Payloads {
		switch pl := pl.(type) {
		case *KE:
			if fromInitiator && sa.gxi == nil {
				sa.gxi = pl.Data
			} else if !fromInitiator && sa.gxr == nil {
				sa.gxr = pl.Data
			}
		case *SA:
			for _, prop := range pl.Proposals {
				if prop.Protocol != ProtoISAKMP || len(prop.Transforms) == 0 {
					continue
				}
				tr := prop.Transforms[len(prop.Transforms)-1]
				if a, ok := tr.Attr(AttrEncryption); ok {
					sa.encr = Phase1Encr(uint16(a.Uint()))
				}
				if a, ok := tr.Attr(AttrKeyLength); ok {
					sa.keyBits = int(a.Uint())
				}
				if a, ok := tr.Attr(AttrHash); ok {
					sa.hash = HashByID(uint16(a.Uint()))
				}
			}
		}
	}
}
