package ipsec

import (
	"crypto/cipher"

	"github.com/ikesim/ikesim/ike"
)

// appendCipher is an ike.Cipher that can also write into a caller's buffer, as
// cipher.AEAD does: the output is appended to dst, and dst may be plaintext[:0] (or
// ciphertext[:0]) to work in place. ESP uses it when it has it, so that a packet costs
// no allocation beyond its own buffer.
type appendCipher interface {
	AppendSeal(dst, iv, plaintext, aad []byte) []byte
	AppendOpen(dst, iv, ciphertext, aad []byte) ([]byte, error)
}

// aeadCipher is AES-GCM with a 12- or 16-byte ICV (RFC 4106) or ChaCha20-Poly1305
// (RFC 7634) for ESP's data path: the same bytes as the transform's ike.Cipher (the
// tests check both ways), sealed and opened in place. Its nonce buffer makes it unsafe
// for concurrent use; the SA's mutex guards it.
type aeadCipher struct {
	aead  cipher.AEAD
	nonce [12]byte // RFC 4106, Section 4: salt (4 bytes), then the packet's IV (8)
}

// newAEADCipher returns the in-place form of c, the transform's ike.Cipher, when it
// has one, or nil: it seals and opens with c's own keyed AEAD.
func newAEADCipher(e *ike.EncrAlg, c ike.Cipher) appendCipher {
	under, ok := c.(interface{ AEAD() (cipher.AEAD, []byte) })
	if !ok || e.SaltSize != 4 || e.IVSize != 8 {
		return nil
	}
	aead, salt := under.AEAD()
	if len(salt) != e.SaltSize || aead.Overhead() != e.ICVSize {
		return nil
	}
	f := &aeadCipher{aead: aead}
	copy(f.nonce[:4], salt)
	return f
}

func (c *aeadCipher) AppendSeal(dst, iv, plaintext, aad []byte) []byte {
	copy(c.nonce[4:], iv)
	return c.aead.Seal(dst, c.nonce[:], plaintext, aad)
}

func (c *aeadCipher) AppendOpen(dst, iv, ciphertext, aad []byte) ([]byte, error) {
	copy(c.nonce[4:], iv)
	return c.aead.Open(dst, c.nonce[:], ciphertext, aad)
}

// encrypt seals plaintext into out, which is exactly as long as the cipher's output
// (ciphertext and any ICV) and may start at plaintext.
func (sa *SA) encrypt(out, iv, plaintext, aad []byte) error {
	var ct []byte
	if sa.fast != nil {
		ct = sa.fast.AppendSeal(out[:0], iv, plaintext, aad)
	} else {
		ct = sa.cipher.Seal(iv, plaintext, aad)
	}
	if len(ct) != len(out) {
		return sa.drop(DropConfig, 0, "%s returned %d bytes, want %d", sa.Encr.Name, len(ct), len(out))
	}
	if len(ct) > 0 && &ct[0] != &out[0] {
		copy(out, ct)
	}
	return nil
}

// decrypt opens ciphertext and appends the plaintext to dst.
func (sa *SA) decrypt(dst, iv, ciphertext, aad []byte) ([]byte, error) {
	if sa.fast != nil {
		return sa.fast.AppendOpen(dst, iv, ciphertext, aad)
	}
	plain, err := sa.cipher.Open(iv, ciphertext, aad)
	if err != nil || dst == nil {
		return plain, err
	}
	return append(dst, plain...), nil
}
