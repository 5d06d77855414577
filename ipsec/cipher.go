package ipsec

import (
	"crypto/aes"
	"crypto/cipher"

	"golang.org/x/crypto/chacha20poly1305"

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

// newAEADCipher returns the in-place form of the transforms that have one, or nil.
func newAEADCipher(e *ike.EncrAlg, keymat []byte) appendCipher {
	if e.SaltSize != 4 || e.IVSize != 8 || len(keymat) <= e.SaltSize {
		return nil
	}
	key, salt := keymat[:len(keymat)-e.SaltSize], keymat[len(keymat)-e.SaltSize:]
	var aead cipher.AEAD
	var err error
	switch e.ID {
	case ike.ENCR_AES_GCM_12, ike.ENCR_AES_GCM_16:
		var block cipher.Block
		if block, err = aes.NewCipher(key); err == nil {
			aead, err = cipher.NewGCMWithTagSize(block, e.ICVSize)
		}
	case ike.ENCR_CHACHA20_POLY1305:
		aead, err = chacha20poly1305.New(key)
	default:
		return nil
	}
	if err != nil || aead.Overhead() != e.ICVSize {
		return nil
	}
	c := &aeadCipher{aead: aead}
	copy(c.nonce[:4], salt)
	return c
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
