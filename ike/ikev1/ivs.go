package ikev1

import "github.com/ikesim/ikesim/ike"

// IVs follows the CBC initialization vectors of one ISAKMP SA through its exchanges
// (RFC 2409, Appendix B):
//
//   - the first encrypted phase 1 message uses hash(g^xi | g^xr), truncated to the block
//     size; each later phase 1 message the last ciphertext block of the one before;
//   - the first message of a quick mode, transaction or informational exchange uses
//     hash(last phase 1 CBC output block | M-ID); each later message of that exchange the
//     last ciphertext block of the one before.
//
// Both peers and a passive observer with the key (Wireshark, the capture tests) walk
// the same chain. A message enters it only once: a retransmission repeats bytes whose IV
// was already used.
type IVs struct {
	hash   *HashAlg
	bs     int
	phase1 []byte // the IV of the next phase 1 message; after phase 1, its last block
	next   map[uint32][]byte
}

// NewIVs starts the chain of an ISAKMP SA from its Diffie-Hellman public values.
func NewIVs(h *HashAlg, blockSize int, gxi, gxr []byte) *IVs {
	return &IVs{hash: h, bs: blockSize, phase1: Phase1IV(h, gxi, gxr, blockSize), next: map[uint32][]byte{}}
}

// For returns the IV of the next message of the exchange with message ID id.
func (v *IVs) For(id uint32) []byte {
	if id == 0 {
		return clone(v.phase1)
	}
	if iv, ok := v.next[id]; ok {
		return clone(iv)
	}
	return Phase2IV(v.hash, v.phase1, id, v.bs)
}

// Advance records an encrypted message of exchange id that was sent or accepted: its
// last ciphertext block becomes the exchange's next IV.
func (v *IVs) Advance(id uint32, raw []byte) {
	last := LastBlock(raw, v.bs)
	if last == nil {
		return
	}
	if id == 0 {
		v.phase1 = last
		return
	}
	v.next[id] = last
}

// Forget drops the chain of exchange id, which is over: its next message would start
// from Phase2IV again.
func (v *IVs) Forget(id uint32) {
	if id != 0 {
		delete(v.next, id)
	}
}

// Crypto returns the protection of the next message of exchange id.
func (v *IVs) Crypto(encr *ike.EncrAlg, key []byte, id uint32) *Crypto {
	return &Crypto{Encr: encr, Key: key, IV: v.For(id)}
}
