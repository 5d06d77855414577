package ike

import (
	"fmt"
	"slices"
)

// Transform IDs, named as in the IANA "Internet Key Exchange Version 2 (IKEv2)
// Parameters" registry (RFC 7296, Section 3.3.2). Only the algorithms ikesim implements
// have an entry in the registry; the others are unknown to Encr, PRF, Integ and DH.

// Transform Type 1: encryption algorithms.
const (
	ENCR_DES               = 2  // RFC 2405; weak, kept for IKEv1
	ENCR_3DES              = 3  // RFC 2451
	ENCR_NULL              = 11 // RFC 2410, ESP only
	ENCR_AES_CBC           = 12 // RFC 3602
	ENCR_AES_CTR           = 13 // RFC 3686, RFC 5930
	ENCR_AES_CCM_8         = 14 // RFC 4309, RFC 5282: 8-byte ICV
	ENCR_AES_CCM_12        = 15 // 12-byte ICV
	ENCR_AES_CCM_16        = 16 // 16-byte ICV
	ENCR_AES_GCM_8         = 18 // RFC 4106, RFC 5282: 8-byte ICV
	ENCR_AES_GCM_12        = 19 // 12-byte ICV
	ENCR_AES_GCM_16        = 20 // 16-byte ICV
	ENCR_CAMELLIA_CBC      = 23 // RFC 5529
	ENCR_CHACHA20_POLY1305 = 28 // RFC 7634
)

// Transform Type 2: pseudorandom functions.
const (
	PRF_HMAC_MD5      = 1 // RFC 2104
	PRF_HMAC_SHA1     = 2
	PRF_AES128_XCBC   = 4 // RFC 4434
	PRF_HMAC_SHA2_256 = 5 // RFC 4868
	PRF_HMAC_SHA2_384 = 6
	PRF_HMAC_SHA2_512 = 7
	PRF_AES128_CMAC   = 8 // RFC 4615
)

// Transform Type 3: integrity algorithms.
const (
	AUTH_NONE              = 0
	AUTH_HMAC_MD5_96       = 1  // RFC 2403
	AUTH_HMAC_SHA1_96      = 2  // RFC 2404
	AUTH_AES_XCBC_96       = 5  // RFC 3566
	AUTH_HMAC_MD5_128      = 6  // RFC 4595
	AUTH_HMAC_SHA1_160     = 7  // RFC 4595
	AUTH_AES_CMAC_96       = 8  // RFC 4494
	AUTH_HMAC_SHA2_256_128 = 12 // RFC 4868
	AUTH_HMAC_SHA2_384_192 = 13
	AUTH_HMAC_SHA2_512_256 = 14
	// AUTH_HMAC_SHA2_256_96 is HMAC-SHA-256 truncated to 96 bits as in
	// draft-ietf-ipsec-ciph-sha-256-00 (old Linux kernels); IANA has no number for it,
	// and this is strongSwan's private one.
	AUTH_HMAC_SHA2_256_96 = 1026
)

// Transform Type 4: Diffie-Hellman groups.
const (
	MODP_768      = 1  // RFC 2409, Section 6.1
	MODP_1024     = 2  // RFC 2409, Section 6.2
	MODP_1536     = 5  // RFC 3526, Section 2
	MODP_2048     = 14 // RFC 3526, Section 3
	MODP_3072     = 15 // RFC 3526, Section 4
	MODP_4096     = 16 // RFC 3526, Section 5
	MODP_6144     = 17 // RFC 3526, Section 6
	MODP_8192     = 18 // RFC 3526, Section 7
	ECP_256       = 19 // RFC 5903
	ECP_384       = 20
	ECP_521       = 21
	MODP_1024_160 = 22 // RFC 5114, Section 2.1: 1024-bit MODP group with a 160-bit prime order subgroup
	MODP_2048_224 = 23 // RFC 5114, Section 2.2
	MODP_2048_256 = 24 // RFC 5114, Section 2.3
	ECP_224_BP    = 27 // RFC 6954: brainpoolP224r1 (RFC 5639)
	ECP_256_BP    = 28 // brainpoolP256r1
	ECP_384_BP    = 29 // brainpoolP384r1
	ECP_512_BP    = 30 // brainpoolP512r1
	Curve25519    = 31 // RFC 8031
	Curve448      = 32 // RFC 8031
)

// Transform Type 5: extended sequence numbers.
const (
	NO_ESN = 0
	ESN    = 1
)

// byID indexes a registry list (kept sorted by ID in its source file) by transform ID.
func byID[T any](list []*T, id func(*T) uint16) map[uint16]*T {
	m := make(map[uint16]*T, len(list))
	for _, a := range list {
		m[id(a)] = a
	}
	return m
}

var (
	encrByID  = byID(encrAlgs, func(a *EncrAlg) uint16 { return a.ID })
	prfByID   = byID(prfAlgs, func(a *PRFAlg) uint16 { return a.ID })
	integByID = byID(integAlgs, func(a *IntegAlg) uint16 { return a.ID })
	dhByID    = byID(dhGroups, func(a *DHGroup) uint16 { return a.ID })
)

// Encr returns the encryption algorithm with IANA ID id, or nil if ikesim does not
// implement it. The returned value is shared: do not modify it.
func Encr(id uint16) *EncrAlg { return encrByID[id] }

// PRF returns the pseudorandom function with IANA ID id, or nil.
func PRF(id uint16) *PRFAlg { return prfByID[id] }

// Integ returns the integrity algorithm with IANA ID id, or nil (also for AUTH_NONE).
func Integ(id uint16) *IntegAlg { return integByID[id] }

// DH returns the Diffie-Hellman group with IANA ID id, or nil.
func DH(id uint16) *DHGroup { return dhByID[id] }

// EncrAlgs lists every implemented encryption algorithm, sorted by ID.
func EncrAlgs() []*EncrAlg { return slices.Clone(encrAlgs) }

// PRFAlgs lists every implemented pseudorandom function, sorted by ID.
func PRFAlgs() []*PRFAlg { return slices.Clone(prfAlgs) }

// IntegAlgs lists every implemented integrity algorithm, sorted by ID.
func IntegAlgs() []*IntegAlg { return slices.Clone(integAlgs) }

// DHGroups lists every implemented Diffie-Hellman group, sorted by ID.
func DHGroups() []*DHGroup { return slices.Clone(dhGroups) }

// String returns the transform type's short name as IANA abbreviates it: "ENCR",
// "PRF", "INTEG", "DH" or "ESN".
func (t TransformType) String() string {
	switch t {
	case TransformENCR:
		return "ENCR"
	case TransformPRF:
		return "PRF"
	case TransformINTEG:
		return "INTEG"
	case TransformDH:
		return "DH"
	case TransformESN:
		return "ESN"
	}
	return fmt.Sprintf("TransformType(%d)", uint8(t))
}

// String returns the protocol's name: "IKE", "AH" or "ESP".
func (p Protocol) String() string {
	switch p {
	case ProtoIKE:
		return "IKE"
	case ProtoAH:
		return "AH"
	case ProtoESP:
		return "ESP"
	}
	return fmt.Sprintf("Protocol(%d)", uint8(p))
}

// TransformName returns the IANA name of a transform for dissections and logs, with the
// key length when the transform carries one: "ENCR_AES_CBC (128)", "PRF_HMAC_SHA2_256",
// "MODP_2048", "NO_ESN". Transforms ikesim does not implement read "ENCR 99 (unknown)".
func TransformName(t Transform) string {
	name := transformIDName(t.Type, t.ID)
	if t.KeyLen != 0 {
		return fmt.Sprintf("%s (%d)", name, t.KeyLen)
	}
	return name
}

func transformIDName(typ TransformType, id uint16) string {
	if name, _, ok := registered(typ, id); ok {
		return name
	}
	switch {
	case typ == TransformINTEG && id == AUTH_NONE:
		return "AUTH_NONE"
	case typ == TransformESN && id == NO_ESN:
		return "NO_ESN"
	case typ == TransformESN && id == ESN:
		return "ESN"
	}
	return fmt.Sprintf("%s %d (unknown)", typ, id)
}

// weakTransform reports whether t names an algorithm the registry marks weak.
func weakTransform(t Transform) bool {
	_, weak, _ := registered(t.Type, t.ID)
	return weak
}

// registered looks a transform up in the registry of its type.
func registered(typ TransformType, id uint16) (name string, weak, ok bool) {
	switch typ {
	case TransformENCR:
		if a := Encr(id); a != nil {
			return a.Name, a.Weak, true
		}
	case TransformPRF:
		if a := PRF(id); a != nil {
			return a.Name, a.Weak, true
		}
	case TransformINTEG:
		if a := Integ(id); a != nil {
			return a.Name, a.Weak, true
		}
	case TransformDH:
		if a := DH(id); a != nil {
			return a.Name, a.Weak, true
		}
	}
	return "", false, false
}
