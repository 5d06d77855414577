package ike

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// Counter-mode transforms: AES-CTR (RFC 3686 for ESP, RFC 5930 for IKEv2) and AES-CCM
// (RFC 4309 for ESP, RFC 5282 for IKEv2). Go has CTR but not CCM, and no maintained Go
// module offers CCM with the 11-byte nonce and 8-, 12- and 16-byte ICVs IPsec uses, so
// CCM is written here from RFC 3610 and tested with its vectors.

// Key material and nonce layout (RFC 3686, Section 5; RFC 4309, Section 4): the last
// bytes of the key material are a salt (CTR: a 4-byte nonce, CCM: 3 bytes), followed in
// each packet by an 8-byte IV.
const (
	ctrNonceSize = 4
	ccmSaltSize  = 3
)

func ctrAlg() *EncrAlg {
	return &EncrAlg{ID: ENCR_AES_CTR, Name: "ENCR_AES_CTR", KeyBits: aesKeyBits, BlockSize: 1, IVSize: aeadIVSize,
		SaltSize: ctrNonceSize, New: newCTR}
}

func ccmAlg(id uint16, name string, icv int) *EncrAlg {
	return &EncrAlg{ID: id, Name: name, KeyBits: aesKeyBits, BlockSize: 1, IVSize: aeadIVSize,
		SaltSize: ccmSaltSize, ICVSize: icv, New: newCCM(name, icv)}
}

// ctrCipher is AES-CTR with the counter block nonce || IV || block counter, the block
// counter starting at 1 (RFC 3686, Section 4).
type ctrCipher struct {
	block cipher.Block
	nonce [ctrNonceSize]byte
}

func newCTR(keymat []byte) (Cipher, error) {
	const name = "ENCR_AES_CTR"
	if err := checkKeymat(name, keymat, aesKeyBits, ctrNonceSize); err != nil {
		return nil, err
	}
	key := keymat[:len(keymat)-ctrNonceSize]
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("ike: %s: %w", name, err)
	}
	c := &ctrCipher{block: b}
	copy(c.nonce[:], keymat[len(key):])
	return c, nil
}

func (c *ctrCipher) stream(iv []byte) (cipher.Stream, error) {
	if len(iv) != aeadIVSize {
		return nil, fmt.Errorf("ike: ENCR_AES_CTR: IV of %d bytes, want %d", len(iv), aeadIVSize)
	}
	var cb [aes.BlockSize]byte
	copy(cb[:], c.nonce[:])
	copy(cb[ctrNonceSize:], iv)
	cb[aes.BlockSize-1] = 1
	return cipher.NewCTR(c.block, cb[:]), nil
}

// Seal encrypts plaintext; it panics if the IV is not 8 bytes (a caller's bug).
func (c *ctrCipher) Seal(iv, plaintext, _ []byte) []byte {
	s, err := c.stream(iv)
	if err != nil {
		panic(err)
	}
	out := make([]byte, len(plaintext))
	s.XORKeyStream(out, plaintext)
	return out
}

func (c *ctrCipher) Open(iv, ciphertext, _ []byte) ([]byte, error) {
	s, err := c.stream(iv)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(ciphertext))
	s.XORKeyStream(out, ciphertext)
	return out, nil
}

// newCCM builds AES-CCM with an icv-byte ICV and the 11-byte nonce salt || IV.
func newCCM(name string, icv int) func([]byte) (Cipher, error) {
	return func(keymat []byte) (Cipher, error) {
		if err := checkKeymat(name, keymat, aesKeyBits, ccmSaltSize); err != nil {
			return nil, err
		}
		key := keymat[:len(keymat)-ccmSaltSize]
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("ike: %s: %w", name, err)
		}
		aead, err := newCCMAEAD(b, ccmSaltSize+aeadIVSize, icv)
		if err != nil {
			return nil, fmt.Errorf("ike: %s: %w", name, err)
		}
		return &saltedAEAD{name: name, salt: append([]byte(nil), keymat[len(key):]...), aead: aead, icv: icv}, nil
	}
}

// ccmAEAD is CCM (RFC 3610) on a 128-bit block cipher as a cipher.AEAD: CBC-MAC over the
// nonce, the associated data and the message gives the tag T, and CTR mode encrypts the
// message and T. The nonce is 15-L bytes long, where L bytes hold the message length.
type ccmAEAD struct {
	b          cipher.Block
	nonce, tag int
}

var errCCMOpen = errors.New("ike: CCM: message authentication failed")

// newCCMAEAD returns CCM with the given nonce size (7 to 13 bytes) and tag size (4 to
// 16, even).
func newCCMAEAD(b cipher.Block, nonce, tag int) (*ccmAEAD, error) {
	if b.BlockSize() != 16 || nonce < 7 || nonce > 13 || tag < 4 || tag > 16 || tag%2 != 0 {
		return nil, fmt.Errorf("CCM with a %d-byte block, %d-byte nonce and %d-byte tag is not defined", b.BlockSize(), nonce, tag)
	}
	return &ccmAEAD{b: b, nonce: nonce, tag: tag}, nil
}

func (c *ccmAEAD) NonceSize() int { return c.nonce }
func (c *ccmAEAD) Overhead() int  { return c.tag }

// maxLen is the longest message the L-byte length field holds.
func (c *ccmAEAD) maxLen() uint64 {
	l := 15 - c.nonce
	if l >= 8 {
		return 1<<63 - 1
	}
	return 1<<(8*l) - 1
}

// counter returns the counter block A_i (RFC 3610, Section 2.3): flags L-1, the nonce,
// and i in L bytes.
func (c *ccmAEAD) counter(nonce []byte, i uint64) []byte {
	a := make([]byte, 16)
	a[0] = byte(15 - c.nonce - 1)
	copy(a[1:], nonce)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], i)
	copy(a[1+c.nonce:], n[8-(15-c.nonce):])
	return a
}

// mac computes the authentication tag T (RFC 3610, Section 2.2).
func (c *ccmAEAD) mac(nonce, msg, aad []byte) []byte {
	var x [16]byte
	// B_0: flags (Adata, M' = (M-2)/2, L' = L-1), the nonce and l(m).
	l := 15 - c.nonce
	b0 := c.counter(nonce, uint64(len(msg)))
	b0[0] = byte((c.tag-2)/2<<3 | (l - 1))
	if len(aad) > 0 {
		b0[0] |= 0x40
	}
	copy(x[:], b0)
	c.b.Encrypt(x[:], x[:])
	// Blocks of l(a) || a padded with zeros, then of m padded with zeros.
	chain := func(data []byte) {
		for len(data) > 0 {
			n := min(len(data), 16)
			for i := range n {
				x[i] ^= data[i]
			}
			c.b.Encrypt(x[:], x[:])
			data = data[n:]
		}
	}
	if len(aad) > 0 {
		var hdr []byte
		switch {
		case len(aad) < 1<<16-1<<8:
			hdr = binary.BigEndian.AppendUint16(nil, uint16(len(aad)))
		case uint64(len(aad)) < 1<<32:
			hdr = binary.BigEndian.AppendUint32([]byte{0xff, 0xfe}, uint32(len(aad)))
		default:
			hdr = binary.BigEndian.AppendUint64([]byte{0xff, 0xff}, uint64(len(aad)))
		}
		chain(append(hdr, aad...))
	}
	chain(msg)
	return x[:c.tag]
}

// crypt XORs src with the key stream from A_1 into dst.
func (c *ccmAEAD) crypt(dst, src, nonce []byte) {
	cipher.NewCTR(c.b, c.counter(nonce, 1)).XORKeyStream(dst, src)
}

// tagMask is S_0, the key stream block that encrypts the tag.
func (c *ccmAEAD) tagMask(nonce []byte) []byte {
	s0 := c.counter(nonce, 0)
	c.b.Encrypt(s0, s0)
	return s0[:c.tag]
}

// Seal appends the encryption of plaintext and the encrypted tag U to dst. It panics
// on a nonce of the wrong size or a message too long for L (callers' bugs).
func (c *ccmAEAD) Seal(dst, nonce, plaintext, aad []byte) []byte {
	if len(nonce) != c.nonce || uint64(len(plaintext)) > c.maxLen() {
		panic("ike: CCM: bad nonce or message length")
	}
	t := c.mac(nonce, plaintext, aad)
	n := len(dst)
	out := append(dst, make([]byte, len(plaintext)+c.tag)...)
	c.crypt(out[n:n+len(plaintext)], plaintext, nonce)
	subtle.XORBytes(out[n+len(plaintext):], t, c.tagMask(nonce))
	return out
}

// Open decrypts and checks ciphertext || U; on a mismatch it returns an error and no
// plaintext.
func (c *ccmAEAD) Open(dst, nonce, ciphertext, aad []byte) ([]byte, error) {
	if len(nonce) != c.nonce || len(ciphertext) < c.tag || uint64(len(ciphertext)-c.tag) > c.maxLen() {
		return nil, errCCMOpen
	}
	body, u := ciphertext[:len(ciphertext)-c.tag], ciphertext[len(ciphertext)-c.tag:]
	plain := make([]byte, len(body))
	c.crypt(plain, body, nonce)
	want := make([]byte, c.tag)
	subtle.XORBytes(want, c.mac(nonce, plain, aad), c.tagMask(nonce))
	if subtle.ConstantTimeCompare(want, u) != 1 {
		clear(plain)
		return nil, errCCMOpen
	}
	return append(dst, plain...), nil
}
