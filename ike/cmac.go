package ike

import (
	"crypto/aes"
	"fmt"
	"hash"
)

// AES-CMAC (RFC 4493) for AUTH_AES_CMAC_96 (RFC 4494) and PRF_AES128_CMAC (RFC 4615).
// Neither the standard library nor x/crypto has CMAC, and the Go CMAC modules are
// unmaintained; CMAC shares its CBC chaining with AES-XCBC-MAC (cbcMAC in xcbc.go) and
// differs only in its subkeys.

// newCMAC returns AES-CMAC keyed with a 16-byte key K. It panics on any other key
// length: callers derive the key with the length the registry gives.
func newCMAC(key []byte) hash.Hash {
	if len(key) != xcbcBlock {
		panic(fmt.Sprintf("ike: AES-CMAC key of %d bytes, want %d", len(key), xcbcBlock))
	}
	k, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // unreachable: the length was checked
	}
	// RFC 4493, Section 2.3: L = AES-128(K, 0^128); K1 = L doubled in GF(2^128),
	// K2 = K1 doubled.
	m := &cbcMAC{k1: k}
	var l [xcbcBlock]byte
	k.Encrypt(l[:], l[:])
	m.k2 = cmacDouble(l)
	m.k3 = cmacDouble(m.k2)
	return m
}

// cmacDouble shifts b left by one bit and, when its top bit was set, XORs the low byte
// with R_128 = 0x87 (RFC 4493, Section 2.3, steps 2 and 3).
func cmacDouble(b [xcbcBlock]byte) [xcbcBlock]byte {
	var out [xcbcBlock]byte
	for i := range xcbcBlock - 1 {
		out[i] = b[i]<<1 | b[i+1]>>7
	}
	out[xcbcBlock-1] = b[xcbcBlock-1] << 1
	if b[0]&0x80 != 0 {
		out[xcbcBlock-1] ^= 0x87
	}
	return out
}

// cmacPRF is AES-CMAC-PRF-128 (RFC 4615, Section 3): a 16-byte key is used as is, any
// other is first reduced to AES-CMAC(0^128, key).
func cmacPRF(key, data []byte) []byte { return macPRF(newCMAC, key, data, len(key) == xcbcBlock) }
