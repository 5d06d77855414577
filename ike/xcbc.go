package ike

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"fmt"
	"hash"
)

// xcbcBlock is the AES block size and the AES-XCBC-MAC key and output size.
const xcbcBlock = aes.BlockSize

// cbcMAC is AES-XCBC-MAC (RFC 3566, Section 4) and AES-CMAC (RFC 4493, Section 2.4) as a
// hash.Hash: both chain the blocks through AES in CBC mode and XOR one of two masks into
// the last block, the first when it is complete, the second when it is padded. It keeps
// the last block of input back until Sum, because the last block is processed
// differently.
type cbcMAC struct {
	k1     cipher.Block    // AES keyed with K1 (XCBC) or K (CMAC)
	k2, k3 [xcbcBlock]byte // masks of a complete and a padded last block: K2 and K3 (XCBC), K1 and K2 (CMAC)
	e      [xcbcBlock]byte // E[i-1], the chaining value
	buf    [xcbcBlock]byte // input not yet processed: at most one block
	n      int             // bytes in buf
}

// newXCBC returns AES-XCBC-MAC keyed with a 16-byte key K. It panics on any other key
// length: callers derive the key with the length the registry gives.
func newXCBC(key []byte) hash.Hash {
	if len(key) != xcbcBlock {
		panic(fmt.Sprintf("ike: AES-XCBC-MAC key of %d bytes, want %d", len(key), xcbcBlock))
	}
	k, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // unreachable: the length was checked
	}
	// RFC 3566, Section 4, step 1: K1, K2, K3 are K's encryptions of 0x01.., 0x02.., 0x03...
	var k1 [xcbcBlock]byte
	m := &cbcMAC{}
	for i, dst := range [][]byte{k1[:], m.k2[:], m.k3[:]} {
		var c [xcbcBlock]byte
		for j := range c {
			c[j] = byte(i + 1)
		}
		k.Encrypt(dst, c[:])
	}
	m.k1, err = aes.NewCipher(k1[:])
	if err != nil {
		panic(err) // unreachable
	}
	return m
}

func (m *cbcMAC) Size() int      { return xcbcBlock }
func (m *cbcMAC) BlockSize() int { return xcbcBlock }

func (m *cbcMAC) Reset() {
	m.e = [xcbcBlock]byte{}
	m.n = 0
}

// Write implements step 2 and 3: every block but the last is XORed with E[i-1] and
// encrypted with K1.
func (m *cbcMAC) Write(p []byte) (int, error) {
	written := len(p)
	for len(p) > 0 {
		if m.n == xcbcBlock {
			subtle.XORBytes(m.e[:], m.e[:], m.buf[:])
			m.k1.Encrypt(m.e[:], m.e[:])
			m.n = 0
		}
		c := copy(m.buf[m.n:], p)
		m.n += c
		p = p[c:]
	}
	return written, nil
}

// Sum implements steps 4 and 5 on a copy of the state: a full last block is XORed with
// K2; a short one (or an empty message) is padded with 0x80 0x00... and XORed with K3.
func (m *cbcMAC) Sum(b []byte) []byte {
	var last [xcbcBlock]byte
	copy(last[:], m.buf[:m.n])
	key := &m.k2
	if m.n < xcbcBlock {
		last[m.n] = 0x80
		key = &m.k3
	}
	subtle.XORBytes(last[:], last[:], m.e[:])
	subtle.XORBytes(last[:], last[:], key[:])
	m.k1.Encrypt(last[:], last[:])
	return append(b, last[:]...)
}

// xcbcPRF is AES-XCBC-PRF-128 (RFC 4434, Section 2): a 16-byte key is used as is, a
// shorter one is padded with zero bytes, a longer one is first reduced to
// AES-XCBC-MAC(0^128, key).
func xcbcPRF(key, data []byte) []byte { return macPRF(newXCBC, key, data, len(key) <= xcbcBlock) }

// macPRF keys mac with key when useKey (zero-padded to 16 bytes), or else with
// mac(0^128, key), and returns mac(key, data): the PRFs of RFC 4434 and RFC 4615.
func macPRF(mac func([]byte) hash.Hash, key, data []byte, useKey bool) []byte {
	var k [xcbcBlock]byte
	if useKey {
		copy(k[:], key)
	} else {
		h := mac(k[:])
		h.Write(key)
		h.Sum(k[:0])
	}
	h := mac(k[:])
	h.Write(data)
	return h.Sum(nil)
}
