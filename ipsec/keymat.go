package ipsec

import (
	"bytes"

	"github.com/ikesim/ikesim/ike"
)

// KeymatLen is the length of the key material one direction of a Child SA takes: the
// encryption key with an AEAD cipher's salt, then the integrity key (RFC 7296, Section
// 2.17). A Child SA draws twice as much from prf+, initiator-to-responder keys first.
func KeymatLen(encr *ike.EncrAlg, encrKeyBits int, integ *ike.IntegAlg) int {
	n := encr.KeyBytes(encrKeyBits)
	if integ != nil {
		n += integ.KeySize
	}
	return n
}

// SplitKeymat cuts the key material of one direction of a Child SA into its keys, in the
// order of RFC 7296, Section 2.17: "the encryption key (if any) MUST be taken from the
// first bits and the integrity key (if any) MUST be taken from the remaining bits". An
// AEAD cipher's salt follows its key inside encrKey (RFC 4106, Section 8.1; RFC 7634,
// Section 2). The keys are copies; integKey is nil without an integrity algorithm, and
// both are nil when keymat is shorter than KeymatLen.
func SplitKeymat(keymat []byte, encr *ike.EncrAlg, encrKeyBits int, integ *ike.IntegAlg) (encrKey, integKey []byte) {
	n := encr.KeyBytes(encrKeyBits)
	if len(keymat) < KeymatLen(encr, encrKeyBits, integ) {
		return nil, nil
	}
	encrKey = bytes.Clone(keymat[:n])
	if encrKey == nil {
		encrKey = []byte{} // ENCR_NULL: a key of no bytes
	}
	if integ != nil {
		integKey = bytes.Clone(keymat[n : n+integ.KeySize])
	}
	return encrKey, integKey
}
