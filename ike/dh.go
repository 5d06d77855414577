package ike

import (
	"crypto/ecdh"
	"fmt"
	"io"
	"slices"
)

// dhGroups is the Diffie-Hellman registry, sorted by ID.
var dhGroups = []*DHGroup{
	modpGroup(MODP_768, "MODP_768", 768, 149686, 256, true),
	modpGroup(MODP_1024, "MODP_1024", 1024, 129093, 256, true),
	modpGroup(MODP_1536, "MODP_1536", 1536, 741804, 240, true),
	modpGroup(MODP_2048, "MODP_2048", 2048, 124476, 320, false),
	modpGroup(MODP_3072, "MODP_3072", 3072, 1690314, 420, false),
	modpGroup(MODP_4096, "MODP_4096", 4096, 240904, 480, false),
	modpGroup(MODP_6144, "MODP_6144", 6144, 929484, 540, false),
	modpGroup(MODP_8192, "MODP_8192", 8192, 4743158, 620, false),
	ecdhGroup(ECP_256, "ECP_256", ecdh.P256(), 32, 0xff),
	ecdhGroup(ECP_384, "ECP_384", ecdh.P384(), 48, 0xff),
	ecdhGroup(ECP_521, "ECP_521", ecdh.P521(), 66, 0x01),
	rfc5114Group(MODP_1024_160),
	rfc5114Group(MODP_2048_224),
	rfc5114Group(MODP_2048_256),
	brainpoolGroup(ECP_224_BP, "ECP_224_BP", brainpoolP224r1),
	brainpoolGroup(ECP_256_BP, "ECP_256_BP", brainpoolP256r1),
	brainpoolGroup(ECP_384_BP, "ECP_384_BP", brainpoolP384r1),
	brainpoolGroup(ECP_512_BP, "ECP_512_BP", brainpoolP512r1),
	ecdhGroup(Curve25519, "Curve25519", ecdh.X25519(), 32, 0xff),
	curve448Group,
}

// maxScalarDraws bounds how many candidate private values Generate reads before it
// gives up; a working random source needs more than one draw with probability < 2^-32.
const maxScalarDraws = 16

// ecdhGroup makes an elliptic curve group on crypto/ecdh. size is the byte length of a
// scalar and of a coordinate; topMask clears the bits of the first scalar byte above
// the order's bit length (P-521 has 521-bit scalars in 66 bytes).
//
// The ECP groups (RFC 5903, Section 7) carry x || y without the 0x04 prefix of SEC 1
// and share the x coordinate; Curve25519 (RFC 8031, Section 3.1) carries the 32-byte
// u coordinate and shares X25519's output.
func ecdhGroup(id uint16, name string, curve ecdh.Curve, size int, topMask byte) *DHGroup {
	ecp := id != Curve25519
	pubSize := size
	if ecp {
		pubSize = 2 * size
	}
	return &DHGroup{ID: id, Name: name, PublicSize: pubSize,
		Generate: func(rand io.Reader) (DHPrivate, error) {
			b := make([]byte, size)
			for range maxScalarDraws {
				if _, err := io.ReadFull(rand, b); err != nil {
					return nil, fmt.Errorf("ike: %s private value: %w", name, err)
				}
				b[0] &= topMask
				// NewPrivateKey rejects zero and scalars not below the group order;
				// draw again then, so the same source always gives the same key.
				k, err := curve.NewPrivateKey(b)
				if err != nil {
					continue
				}
				pub := k.PublicKey().Bytes()
				if ecp {
					pub = pub[1:] // drop the SEC 1 uncompressed-point prefix 0x04
				}
				return &ecdhPrivate{name: name, key: k, pub: pub, ecp: ecp}, nil
			}
			return nil, fmt.Errorf("ike: %s: no valid private value in %d draws from the random source",
				name, maxScalarDraws)
		}}
}

type ecdhPrivate struct {
	name string
	key  *ecdh.PrivateKey
	pub  []byte
	ecp  bool
}

func (k *ecdhPrivate) Public() []byte { return slices.Clone(k.pub) }

// Shared checks that peer is a valid public value of the group (length, and for ECP a
// point on the curve, RFC 5903 Section 7 / RFC 6989) and returns g^ir. For Curve25519 an
// all-zero result is refused (RFC 8031, Section 2.3).
func (k *ecdhPrivate) Shared(peer []byte) ([]byte, error) {
	if len(peer) != len(k.pub) {
		return nil, fmt.Errorf("ike: %s key exchange data is %d bytes, want %d", k.name, len(peer), len(k.pub))
	}
	encoded := peer
	if k.ecp {
		encoded = append([]byte{4}, peer...)
	}
	pub, err := k.key.Curve().NewPublicKey(encoded)
	if err != nil {
		return nil, fmt.Errorf("ike: %s peer value is not a valid public key: %w", k.name, err)
	}
	z, err := k.key.ECDH(pub)
	if err != nil {
		return nil, fmt.Errorf("ike: %s shared secret: %w", k.name, err)
	}
	return z, nil
}
