package ike

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Nonce layout shared by the AEAD transforms (RFC 4106, Section 4; RFC 5282, Section 4;
// RFC 7634, Section 2): a 4-byte salt taken from the end of the key material, then the
// 8-byte IV carried in each packet.
const (
	aeadSaltSize  = 4
	aeadIVSize    = 8
	aeadNonceSize = aeadSaltSize + aeadIVSize
)

func gcmAlg(id uint16, name string, icv int) *EncrAlg {
	return &EncrAlg{ID: id, Name: name, KeyBits: aesKeyBits, BlockSize: 1, IVSize: aeadIVSize,
		SaltSize: aeadSaltSize, ICVSize: icv, New: newGCM(name, icv)}
}

// saltedAEAD is an AEAD transform whose nonce is salt || IV: a 4-byte salt for GCM and
// ChaCha20-Poly1305, 3 bytes for CCM.
type saltedAEAD struct {
	name string
	salt []byte
	aead cipher.AEAD
	icv  int // ICV bytes on the wire; less than aead.Overhead() for ENCR_AES_GCM_8
	// block is the AES cipher under aead, kept for the truncated-ICV path.
	block cipher.Block
}

// newGCM builds AES-GCM with an icv-byte ICV (RFC 4106). Go's GCM makes 12 to 16 byte
// tags; for the 8-byte ICV it computes the full 16-byte tag and sends its first 8 bytes,
// which is how GCM defines a truncated tag (NIST SP 800-38D, Section 5.2.1.2).
func newGCM(name string, icv int) func([]byte) (Cipher, error) {
	return func(keymat []byte) (Cipher, error) {
		if err := checkKeymat(name, keymat, aesKeyBits, aeadSaltSize); err != nil {
			return nil, err
		}
		key := keymat[:len(keymat)-aeadSaltSize]
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("ike: %s: %w", name, err)
		}
		tag := icv
		if icv < 12 {
			tag = 16
		}
		aead, err := cipher.NewGCMWithTagSize(block, tag)
		if err != nil {
			return nil, fmt.Errorf("ike: %s: %w", name, err)
		}
		return &saltedAEAD{name: name, salt: append([]byte(nil), keymat[len(key):]...), aead: aead, icv: icv, block: block}, nil
	}
}

// newChaCha20Poly1305 builds ChaCha20-Poly1305 from a 32-byte key and 4-byte salt
// (RFC 7634, Section 2).
func newChaCha20Poly1305(keymat []byte) (Cipher, error) {
	const name = "ENCR_CHACHA20_POLY1305"
	if err := checkKeymat(name, keymat, []int{256}, aeadSaltSize); err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.New(keymat[:chacha20poly1305.KeySize])
	if err != nil {
		return nil, fmt.Errorf("ike: %s: %w", name, err)
	}
	return &saltedAEAD{name: name, salt: append([]byte(nil), keymat[chacha20poly1305.KeySize:]...), aead: aead,
		icv: aead.Overhead()}, nil
}

// AEAD returns the keyed cipher.AEAD under the transform and the salt its nonces start
// with, for a caller that builds its own nonces and seals in place (ESP's data path):
// it shares this keyed state rather than building its own. The AEAD's tag may be
// longer than the transform's ICV (ENCR_AES_GCM_8).
func (s *saltedAEAD) AEAD() (cipher.AEAD, []byte) { return s.aead, s.salt }

func (s *saltedAEAD) nonce(iv []byte) []byte {
	n := make([]byte, 0, len(s.salt)+len(iv))
	return append(append(n, s.salt...), iv...)
}

// Seal returns ciphertext || ICV. It panics if the IV is not 8 bytes (a caller's bug).
func (s *saltedAEAD) Seal(iv, plaintext, aad []byte) []byte {
	if len(iv) != aeadIVSize {
		panic(fmt.Sprintf("ike: %s: IV of %d bytes, want %d", s.name, len(iv), aeadIVSize))
	}
	out := s.aead.Seal(nil, s.nonce(iv), plaintext, aad)
	return out[:len(plaintext)+s.icv]
}

// Open checks the ICV at the end of ciphertext and returns the plaintext. A wrong ICV
// gives an error that wraps ErrIntegrity, and no plaintext.
func (s *saltedAEAD) Open(iv, ciphertext, aad []byte) ([]byte, error) {
	if len(iv) != aeadIVSize {
		return nil, fmt.Errorf("ike: %s: IV of %d bytes, want %d", s.name, len(iv), aeadIVSize)
	}
	if len(ciphertext) < s.icv {
		return nil, fmt.Errorf("ike: %s: %d bytes of ciphertext, shorter than the %d-byte ICV",
			s.name, len(ciphertext), s.icv)
	}
	if s.icv == s.aead.Overhead() {
		out, err := s.aead.Open(nil, s.nonce(iv), ciphertext, aad)
		if err != nil {
			return nil, fmt.Errorf("%w (%s)", ErrIntegrity, s.name)
		}
		return out, nil
	}
	return s.openTruncated(iv, ciphertext, aad)
}

// openTruncated opens AES-GCM with an ICV shorter than the tag Go computes. GCM
// encrypts with AES-CTR starting at counter block nonce || 2 (NIST SP 800-38D, Section
// 7.1), so the plaintext is recovered with CTR; sealing it again gives the full tag,
// whose first icv bytes must equal the received ICV (compared in constant time).
func (s *saltedAEAD) openTruncated(iv, ciphertext, aad []byte) ([]byte, error) {
	body, icv := ciphertext[:len(ciphertext)-s.icv], ciphertext[len(ciphertext)-s.icv:]
	nonce := s.nonce(iv)
	counter := append(nonce[:aeadNonceSize:aeadNonceSize], 0, 0, 0, 2)
	plain := make([]byte, len(body))
	cipher.NewCTR(s.block, counter).XORKeyStream(plain, body)
	resealed := s.aead.Seal(nil, nonce, plain, aad)
	if subtle.ConstantTimeCompare(resealed[len(body):len(body)+s.icv], icv) != 1 {
		clear(plain)
		return nil, fmt.Errorf("%w (%s)", ErrIntegrity, s.name)
	}
	return plain, nil
}
