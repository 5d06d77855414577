package ike

import (
	"hash"
	"io"
)

// TransformType is the IKEv2 transform type (RFC 7296, Section 3.3.2). IKEv1 maps its
// phase 1 and phase 2 attributes onto the same algorithms.
type TransformType uint8

const (
	TransformENCR  TransformType = 1 // encryption algorithm
	TransformPRF   TransformType = 2 // pseudorandom function
	TransformINTEG TransformType = 3 // integrity algorithm
	TransformDH    TransformType = 4 // Diffie-Hellman group (key exchange method)
	TransformESN   TransformType = 5 // extended sequence numbers
)

// Protocol is the IKEv2 protocol ID of a proposal (RFC 7296, Section 3.3.1).
type Protocol uint8

const (
	ProtoIKE Protocol = 1
	ProtoAH  Protocol = 2
	ProtoESP Protocol = 3
)

// Transform is one transform of a proposal: its type, its IANA ID and, for ciphers with a
// variable key size, the key length in bits (the Key Length attribute; 0 when absent).
type Transform struct {
	Type   TransformType
	ID     uint16
	KeyLen int
}

// Proposal is what one side offers or the other accepts: a protocol and a list of
// transforms. An offer may hold several transforms of one type; an accepted proposal holds
// exactly one of each type it uses.
type Proposal struct {
	Protocol   Protocol
	Transforms []Transform
}

// Cipher encrypts and decrypts with one key. For AEAD ciphers Seal appends the ICV and
// Open checks it; aad is the associated data. For plain ciphers aad is ignored and
// integrity is a separate Integ. Neither pads: callers pad to EncrAlg.BlockSize first.
type Cipher interface {
	Seal(iv, plaintext, aad []byte) []byte
	Open(iv, ciphertext, aad []byte) ([]byte, error)
}

// EncrAlg describes an encryption transform (IANA "Transform Type 1").
type EncrAlg struct {
	ID        uint16
	Name      string // IANA name, e.g. "ENCR_AES_CBC"
	KeyBits   []int  // permitted key lengths in bits; the Key Length attribute is sent when len > 1
	BlockSize int    // padding alignment of the plaintext (1 for stream and AEAD modes)
	IVSize    int
	SaltSize  int // AEAD: bytes of keying material after the key (the nonce salt)
	ICVSize   int // AEAD: bytes of integrity check value; 0 for plain ciphers
	Weak      bool
	// New builds the cipher from key material of KeyBytes(keyBits) bytes (key then salt).
	New func(keymat []byte) (Cipher, error)
}

// AEAD reports whether the cipher authenticates its output itself.
func (e *EncrAlg) AEAD() bool { return e.ICVSize > 0 }

// KeyBytes is the length of keying material the cipher takes for a key of keyBits bits,
// salt included. keyBits 0 means the algorithm's only (or first) size.
func (e *EncrAlg) KeyBytes(keyBits int) int {
	if keyBits == 0 && len(e.KeyBits) > 0 {
		keyBits = e.KeyBits[0]
	}
	return keyBits/8 + e.SaltSize
}

// PRFAlg describes a pseudorandom function (IANA "Transform Type 2").
type PRFAlg struct {
	ID      uint16
	Name    string // e.g. "PRF_HMAC_SHA2_256"
	Size    int    // output length in bytes
	KeySize int    // preferred key length (SK_d, SK_pi, SK_pr lengths)
	Weak    bool
	// Sum computes prf(key, data). AES-XCBC-PRF-128 accepts keys of any length (RFC 4434).
	Sum func(key, data []byte) []byte
	// New, where set, returns the PRF keyed with key as a hash.Hash, so that prf+ can
	// compute its blocks without keying it again for each one.
	New func(key []byte) hash.Hash
}

// IntegAlg describes an integrity algorithm (IANA "Transform Type 3").
type IntegAlg struct {
	ID      uint16
	Name    string // e.g. "AUTH_HMAC_SHA2_256_128"
	KeySize int    // key length in bytes
	ICVSize int    // truncated output length in bytes
	Weak    bool
	// New returns a MAC keyed with key; callers truncate Sum to ICVSize.
	New func(key []byte) hash.Hash
}

// DHGroup describes a Diffie-Hellman group (IANA "Transform Type 4").
type DHGroup struct {
	ID         uint16
	Name       string // e.g. "MODP_2048", "ECP_256", "Curve25519"
	PublicSize int    // bytes of the KE payload's key exchange data
	Weak       bool
	// Generate draws a private value from rand (the scenario's seeded source; never the
	// crypto/* generators, which ignore a caller's reader) and returns the private key.
	Generate func(rand io.Reader) (DHPrivate, error)
}

// DHPrivate is one side's private Diffie-Hellman value.
type DHPrivate interface {
	// Public is the key exchange data as carried in a KE payload (ECP: x||y, no 0x04).
	Public() []byte
	// Shared computes g^ir from the peer's KE data (ECP: the x coordinate only).
	Shared(peer []byte) ([]byte, error)
}
