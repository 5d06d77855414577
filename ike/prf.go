package ike

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
)

// prfAlgs is the PRF registry, sorted by ID.
var prfAlgs = []*PRFAlg{
	hmacPRF(PRF_HMAC_MD5, "PRF_HMAC_MD5", md5.New, true),
	hmacPRF(PRF_HMAC_SHA1, "PRF_HMAC_SHA1", sha1.New, false),
	{ID: PRF_AES128_XCBC, Name: "PRF_AES128_XCBC", Size: xcbcBlock, KeySize: xcbcBlock, Sum: xcbcPRF},
	hmacPRF(PRF_HMAC_SHA2_256, "PRF_HMAC_SHA2_256", sha256.New, false),
	hmacPRF(PRF_HMAC_SHA2_384, "PRF_HMAC_SHA2_384", sha512.New384, false),
	hmacPRF(PRF_HMAC_SHA2_512, "PRF_HMAC_SHA2_512", sha512.New, false),
	{ID: PRF_AES128_CMAC, Name: "PRF_AES128_CMAC", Size: xcbcBlock, KeySize: xcbcBlock, Sum: cmacPRF}, // RFC 4615
}

// hmacPRF makes an HMAC PRF (RFC 2104; RFC 4868, Section 2.1 for SHA-2). Its preferred
// key length is its output length (RFC 7296, Section 2.13).
func hmacPRF(id uint16, name string, h func() hash.Hash, weak bool) *PRFAlg {
	size := h().Size()
	return &PRFAlg{ID: id, Name: name, Size: size, KeySize: size, Weak: weak,
		Sum: func(key, data []byte) []byte {
			m := hmac.New(h, key)
			m.Write(data)
			return m.Sum(nil)
		},
		New: func(key []byte) hash.Hash { return hmac.New(h, key) }}
}

// PRFPlus returns the first n bytes of prf+(key, seed) (RFC 7296, Section 2.13):
//
//	prf+ (K,S) = T1 | T2 | T3 | T4 | ...
//	T1 = prf (K, S | 0x01)
//	T2 = prf (K, T1 | S | 0x02)
//
// The counter is one octet, so prf+ yields at most 255 blocks; asking for more is a
// caller's bug and panics.
func PRFPlus(prf *PRFAlg, key, seed []byte, n int) []byte {
	if n > 255*prf.Size {
		panic(fmt.Sprintf("ike: prf+ with %s yields at most %d bytes, %d asked", prf.Name, 255*prf.Size, n))
	}
	out := make([]byte, 0, n+prf.Size)
	if prf.New != nil {
		// One keyed PRF for every block: T(i) = prf(K, T(i-1) | S | i).
		m := prf.New(key)
		var t []byte
		for i := 1; len(out) < n; i++ {
			m.Reset()
			m.Write(t)
			m.Write(seed)
			m.Write([]byte{byte(i)})
			start := len(out)
			out = m.Sum(out)
			t = out[start:]
		}
		return out[:n]
	}
	var t, msg []byte
	for i := 1; len(out) < n; i++ {
		msg = append(append(append(msg[:0], t...), seed...), byte(i))
		t = prf.Sum(key, msg)
		out = append(out, t...)
	}
	return out[:n]
}
