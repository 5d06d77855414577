package ike

import (
	"bytes"
	"encoding/binary"
)

// IKEv2 key derivation (RFC 7296, Sections 2.14, 2.17 and 2.18), as plain functions of
// their inputs. The engines call them and record each step.

// fixedKeyPRF reports whether prf takes a fixed-size key, for which RFC 7296, Section
// 2.14 keys SKEYSEED with only the first 64 bits of each nonce. AES-CMAC-PRF-128 takes
// keys of any length (RFC 4615), but RFC 7296 limits it to 128 bits here, as strongSwan
// does.
func fixedKeyPRF(prf *PRFAlg) bool { return prf.ID == PRF_AES128_XCBC || prf.ID == PRF_AES128_CMAC }

// SKEYSEED computes SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296, Section 2.14). For a PRF
// with a fixed key size (AES-XCBC-PRF-128, AES-CMAC-PRF-128) the key is the first half
// of the PRF's key taken from each nonce: the first 64 bits of Ni and of Nr.
func SKEYSEED(prf *PRFAlg, Ni, Nr, gir []byte) []byte {
	if fixedKeyPRF(prf) {
		half := prf.KeySize / 2
		Ni, Nr = Ni[:min(len(Ni), half)], Nr[:min(len(Nr), half)]
	}
	return prf.Sum(concat(Ni, Nr), gir)
}

// RekeySKEYSEED computes the SKEYSEED of an IKE SA made by rekeying (RFC 7296, Section
// 2.18): SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), with the old SA's PRF.
func RekeySKEYSEED(prf *PRFAlg, SKdOld, gir, Ni, Nr []byte) []byte {
	return prf.Sum(SKdOld, concat(gir, Ni, Nr))
}

// IKEKeys are the keys of an IKE SA (RFC 7296, Section 2.14), in the order prf+ yields
// them. SKai and SKar are empty with an AEAD cipher; SKei and SKer include the salt of
// an AEAD cipher at their end.
type IKEKeys struct {
	SKd, SKai, SKar, SKei, SKer, SKpi, SKpr []byte
}

// DeriveIKEKeys computes
//
//	{SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
//	                = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
//
// (RFC 7296, Section 2.14). SK_d, SK_pi and SK_pr are as long as the PRF's preferred
// key; SK_a* as integ's key (none when integ is nil, as with an AEAD cipher); SK_e* as
// encr's key material for a key of encrKeyBits bits (0: the cipher's only size).
func DeriveIKEKeys(prf *PRFAlg, skeyseed, Ni, Nr []byte, spiI, spiR uint64,
	encr *EncrAlg, encrKeyBits int, integ *IntegAlg) IKEKeys {
	seed := concat(Ni, Nr)
	seed = binary.BigEndian.AppendUint64(seed, spiI)
	seed = binary.BigEndian.AppendUint64(seed, spiR)

	d, p, e, a := prf.KeySize, prf.KeySize, encr.KeyBytes(encrKeyBits), 0
	if integ != nil {
		a = integ.KeySize
	}
	km := PRFPlus(prf, skeyseed, seed, d+2*a+2*e+2*p)
	next := func(n int) []byte {
		k := km[:n:n]
		km = km[n:]
		return k
	}
	return IKEKeys{SKd: next(d), SKai: next(a), SKar: next(a), SKei: next(e), SKer: next(e),
		SKpi: next(p), SKpr: next(p)}
}

// ChildKeymat computes the n bytes of keying material of a Child SA (RFC 7296, Section
// 2.17): KEYMAT = prf+(SK_d, Ni | Nr), or with a fresh Diffie-Hellman exchange (PFS),
// KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr). Pass gir nil without PFS. The engine splits
// KEYMAT: the initiator-to-responder SA's encryption then integrity key, then the other
// direction's.
func ChildKeymat(prf *PRFAlg, SKd, gir, Ni, Nr []byte, n int) []byte {
	return PRFPlus(prf, SKd, concat(gir, Ni, Nr), n)
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
