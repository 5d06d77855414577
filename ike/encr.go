package ike

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"errors"
	"fmt"
	"slices"
)

// ErrIntegrity is returned (wrapped) by Cipher.Open when an AEAD's ICV does not match.
var ErrIntegrity = errors.New("ike: integrity check failed")

var aesKeyBits = []int{128, 192, 256}

// encrAlgs is the encryption registry, sorted by ID.
var encrAlgs = []*EncrAlg{
	{ID: ENCR_DES, Name: "ENCR_DES", KeyBits: []int{64}, BlockSize: des.BlockSize, IVSize: des.BlockSize,
		Weak: true, New: newCBC("ENCR_DES", des.NewCipher)},
	{ID: ENCR_3DES, Name: "ENCR_3DES", KeyBits: []int{192}, BlockSize: des.BlockSize, IVSize: des.BlockSize,
		Weak: true, New: newCBC("ENCR_3DES", des.NewTripleDESCipher)},
	{ID: ENCR_NULL, Name: "ENCR_NULL", BlockSize: 1, Weak: true, New: newNull},
	{ID: ENCR_AES_CBC, Name: "ENCR_AES_CBC", KeyBits: aesKeyBits, BlockSize: aes.BlockSize, IVSize: aes.BlockSize,
		New: newCBC("ENCR_AES_CBC", aes.NewCipher)},
	ctrAlg(),
	ccmAlg(ENCR_AES_CCM_8, "ENCR_AES_CCM_8", 8),
	ccmAlg(ENCR_AES_CCM_12, "ENCR_AES_CCM_12", 12),
	ccmAlg(ENCR_AES_CCM_16, "ENCR_AES_CCM_16", 16),
	gcmAlg(ENCR_AES_GCM_8, "ENCR_AES_GCM_8", 8),
	gcmAlg(ENCR_AES_GCM_12, "ENCR_AES_GCM_12", 12),
	gcmAlg(ENCR_AES_GCM_16, "ENCR_AES_GCM_16", 16),
	{ID: ENCR_CAMELLIA_CBC, Name: "ENCR_CAMELLIA_CBC", KeyBits: aesKeyBits, BlockSize: camelliaBlockSize,
		IVSize: camelliaBlockSize, New: newCBC("ENCR_CAMELLIA_CBC", newCamellia)},
	{ID: ENCR_CHACHA20_POLY1305, Name: "ENCR_CHACHA20_POLY1305", KeyBits: []int{256}, BlockSize: 1,
		IVSize: 8, SaltSize: 4, ICVSize: 16, New: newChaCha20Poly1305},
}

// checkKeymat returns an error unless keymat is key material for one of the key sizes
// in keyBits (in bits) plus salt bytes of salt.
func checkKeymat(name string, keymat []byte, keyBits []int, salt int) error {
	if slices.ContainsFunc(keyBits, func(b int) bool { return b/8+salt == len(keymat) }) {
		return nil
	}
	return fmt.Errorf("ike: %s: %d bytes of key material, want one of %v bits plus %d bytes of salt",
		name, len(keymat), keyBits, salt)
}

// cbcCipher is a block cipher in CBC mode: RFC 3602 (AES), RFC 2451 (3DES), RFC 2405
// (DES) for ESP, and RFC 7296, Section 3.14 for the Encrypted payload.
type cbcCipher struct {
	name  string
	block cipher.Block
}

func newCBC(name string, newBlock func([]byte) (cipher.Block, error)) func([]byte) (Cipher, error) {
	return func(keymat []byte) (Cipher, error) {
		b, err := newBlock(keymat)
		if err != nil {
			return nil, fmt.Errorf("ike: %s: %w", name, err)
		}
		return &cbcCipher{name: name, block: b}, nil
	}
}

// Seal encrypts plaintext, which the caller has padded to the block size. It panics if
// the IV is not one block long or plaintext is not whole blocks (a caller's bug).
func (c *cbcCipher) Seal(iv, plaintext, _ []byte) []byte {
	out := make([]byte, len(plaintext))
	cipher.NewCBCEncrypter(c.block, iv).CryptBlocks(out, plaintext)
	return out
}

// Open decrypts ciphertext as received; the padding stays for the caller to check.
func (c *cbcCipher) Open(iv, ciphertext, _ []byte) ([]byte, error) {
	bs := c.block.BlockSize()
	if len(iv) != bs {
		return nil, fmt.Errorf("ike: %s: IV of %d bytes, want %d", c.name, len(iv), bs)
	}
	if len(ciphertext)%bs != 0 {
		return nil, fmt.Errorf("ike: %s: ciphertext of %d bytes is not a multiple of the %d-byte block",
			c.name, len(ciphertext), bs)
	}
	out := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(c.block, iv).CryptBlocks(out, ciphertext)
	return out, nil
}

// nullCipher is ENCR_NULL (RFC 2410): the ciphertext is the plaintext, with no IV.
type nullCipher struct{}

func newNull(keymat []byte) (Cipher, error) {
	if len(keymat) != 0 {
		return nil, fmt.Errorf("ike: ENCR_NULL takes no key, got %d bytes", len(keymat))
	}
	return nullCipher{}, nil
}

func (nullCipher) Seal(_, plaintext, _ []byte) []byte { return slices.Clone(plaintext) }

func (nullCipher) Open(_, ciphertext, _ []byte) ([]byte, error) { return slices.Clone(ciphertext), nil }
