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

// integAlgs is the integrity registry, sorted by ID. AUTH_NONE has no entry.
var integAlgs = []*IntegAlg{
	hmacInteg(AUTH_HMAC_MD5_96, "AUTH_HMAC_MD5_96", md5.New, 12, true),                              // RFC 2403
	hmacInteg(AUTH_HMAC_SHA1_96, "AUTH_HMAC_SHA1_96", sha1.New, 12, false),                          // RFC 2404
	{ID: AUTH_AES_XCBC_96, Name: "AUTH_AES_XCBC_96", KeySize: xcbcBlock, ICVSize: 12, New: newXCBC}, // RFC 3566
	hmacInteg(AUTH_HMAC_MD5_128, "AUTH_HMAC_MD5_128", md5.New, 16, true),                            // RFC 4595
	hmacInteg(AUTH_HMAC_SHA1_160, "AUTH_HMAC_SHA1_160", sha1.New, 20, false),                        // RFC 4595
	{ID: AUTH_AES_CMAC_96, Name: "AUTH_AES_CMAC_96", KeySize: xcbcBlock, ICVSize: 12, New: newCMAC}, // RFC 4494
	hmacInteg(AUTH_HMAC_SHA2_256_128, "AUTH_HMAC_SHA2_256_128", sha256.New, 16, false),              // RFC 4868
	hmacInteg(AUTH_HMAC_SHA2_384_192, "AUTH_HMAC_SHA2_384_192", sha512.New384, 24, false),
	hmacInteg(AUTH_HMAC_SHA2_512_256, "AUTH_HMAC_SHA2_512_256", sha512.New, 32, false),
	// The 96-bit truncation of draft-ietf-ipsec-ciph-sha-256-00, which old Linux kernels
	// used; strongSwan's private ID (no IANA number).
	hmacInteg(AUTH_HMAC_SHA2_256_96, "AUTH_HMAC_SHA2_256_96", sha256.New, 12, true),
}

// hmacInteg makes an HMAC integrity algorithm truncated to icv bytes, keyed with a key
// as long as the hash output (RFC 2403, RFC 2404, RFC 4868 Section 2.1.1).
func hmacInteg(id uint16, name string, h func() hash.Hash, icv int, weak bool) *IntegAlg {
	return &IntegAlg{ID: id, Name: name, KeySize: h().Size(), ICVSize: icv, Weak: weak,
		New: func(key []byte) hash.Hash { return hmac.New(h, key) }}
}

// UncheckedICV is an integrity "algorithm" with an n-byte ICV, no key and no MAC: what
// Wireshark's key tables call "ANY n bits of authentication [no checking]". New is nil;
// whoever opens with it skips the ICV, and nothing can seal with it.
func UncheckedICV(n int) *IntegAlg {
	return &IntegAlg{ID: AUTH_NONE, Name: fmt.Sprintf("an unchecked %d-byte ICV", n), ICVSize: n}
}
