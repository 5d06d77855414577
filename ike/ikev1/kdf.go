package ikev1

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"

	"github.com/ikesim/ikesim/ike"
)

// HashAlg is a phase 1 hash algorithm (RFC 2409, Appendix A): its HMAC is the PRF of
// the ISAKMP SA (RFC 2409, Section 4: "the HMAC version of the negotiated hash"), and
// the hash itself makes the IVs (Appendix B) and the NAT-D payloads (RFC 3947).
type HashAlg struct {
	ID    uint16 // the Hash Algorithm attribute value
	Name  string
	PRF   *ike.PRFAlg
	New   func() hash.Hash
	Integ uint16 // the IKEv2 integrity transform a proposal string names it by
}

var hashAlgs = []*HashAlg{
	{HashMD5, "MD5", ike.PRF(ike.PRF_HMAC_MD5), md5.New, ike.AUTH_HMAC_MD5_96},
	{HashSHA, "SHA", ike.PRF(ike.PRF_HMAC_SHA1), sha1.New, ike.AUTH_HMAC_SHA1_96},
	{HashSHA256, "SHA2-256", ike.PRF(ike.PRF_HMAC_SHA2_256), sha256.New, ike.AUTH_HMAC_SHA2_256_128},
	{HashSHA384, "SHA2-384", ike.PRF(ike.PRF_HMAC_SHA2_384), sha512.New384, ike.AUTH_HMAC_SHA2_384_192},
	{HashSHA512, "SHA2-512", ike.PRF(ike.PRF_HMAC_SHA2_512), sha512.New, ike.AUTH_HMAC_SHA2_512_256},
}

// HashByID returns the phase 1 hash algorithm with attribute value id, or nil.
func HashByID(id uint16) *HashAlg {
	for _, h := range hashAlgs {
		if h.ID == id {
			return h
		}
	}
	return nil
}

// hashForInteg maps an integrity transform of a proposal string to the phase 1 hash.
func hashForInteg(integ uint16) *HashAlg {
	for _, h := range hashAlgs {
		if h.Integ == integ {
			return h
		}
	}
	return nil
}

// hashForPRF maps a PRF transform to the phase 1 hash.
func hashForPRF(prf uint16) *HashAlg {
	for _, h := range hashAlgs {
		if h.PRF.ID == prf {
			return h
		}
	}
	return nil
}

// Sum hashes the concatenation of parts.
func (h *HashAlg) Sum(parts ...[]byte) []byte {
	d := h.New()
	for _, p := range parts {
		d.Write(p)
	}
	return d.Sum(nil)
}

// phase1Encr maps the phase 1 Encryption Algorithm attribute to the registry.
var phase1Encr = []struct {
	attr uint16
	id   uint16
}{{EncrDES, ike.ENCR_DES}, {Encr3DES, ike.ENCR_3DES}, {EncrAES, ike.ENCR_AES_CBC},
	{EncrCamellia, ike.ENCR_CAMELLIA_CBC}} // RFC 4312, Section 3

// Phase1Encr returns the cipher of a phase 1 Encryption Algorithm attribute value, or nil.
func Phase1Encr(attr uint16) *ike.EncrAlg {
	for _, e := range phase1Encr {
		if e.attr == attr {
			return ike.Encr(e.id)
		}
	}
	return nil
}

func phase1EncrAttr(id uint16) (uint16, bool) {
	for _, e := range phase1Encr {
		if e.id == id {
			return e.attr, true
		}
	}
	return 0, false
}

// espEncr maps the ESP transform IDs to the registry. They are IKEv2's encryption IDs,
// except ESP_CAMELLIA (22 in IKEv1's registry, 23 in IKEv2's, RFC 4312 and RFC 5529).
// ChaCha20-Poly1305 has no IKEv1 transform.
var espEncr = []struct {
	id   uint8
	encr uint16
}{{ESP_DES, ike.ENCR_DES}, {ESP_3DES, ike.ENCR_3DES}, {ESP_NULL, ike.ENCR_NULL}, {ESP_AES, ike.ENCR_AES_CBC},
	{ESP_AES_CTR, ike.ENCR_AES_CTR}, {ESP_AES_CCM_8, ike.ENCR_AES_CCM_8}, {ESP_AES_CCM_12, ike.ENCR_AES_CCM_12},
	{ESP_AES_CCM_16, ike.ENCR_AES_CCM_16}, {ESP_AES_GCM_8, ike.ENCR_AES_GCM_8}, {ESP_AES_GCM_12, ike.ENCR_AES_GCM_12},
	{ESP_AES_GCM_16, ike.ENCR_AES_GCM_16}, {ESP_CAMELLIA, ike.ENCR_CAMELLIA_CBC}}

// espTransformEncr returns the cipher of an ESP transform ID, or nil.
func espTransformEncr(id uint8) *ike.EncrAlg {
	for _, e := range espEncr {
		if e.id == id {
			return ike.Encr(e.encr)
		}
	}
	return nil
}

// espTransformID returns the ESP transform ID of a cipher.
func espTransformID(encr uint16) (uint8, bool) {
	for _, e := range espEncr {
		if e.encr == encr {
			return e.id, true
		}
	}
	return 0, false
}

// espAuth maps the IPsec Authentication Algorithm attribute to IKEv2 integrity IDs.
var espAuth = []struct {
	attr  uint16
	integ uint16
}{{AuthAlgHMACMD5, ike.AUTH_HMAC_MD5_96}, {AuthAlgHMACSHA, ike.AUTH_HMAC_SHA1_96},
	{AuthAlgHMACSHA256, ike.AUTH_HMAC_SHA2_256_128}, {AuthAlgHMACSHA384, ike.AUTH_HMAC_SHA2_384_192},
	{AuthAlgHMACSHA512, ike.AUTH_HMAC_SHA2_512_256}, {AuthAlgAESXCBC, ike.AUTH_AES_XCBC_96}}

func espAuthInteg(attr uint16) (uint16, bool) {
	for _, a := range espAuth {
		if a.attr == attr {
			return a.integ, true
		}
	}
	return 0, false
}

// ahTransforms maps AH transform IDs (RFC 2407, Section 4.4.3; RFC 4868, Section 2.4;
// RFC 3566, Section 5) to IKEv2 integrity IDs.
var ahTransforms = []struct {
	id    uint8
	integ uint16
}{{AH_MD5, ike.AUTH_HMAC_MD5_96}, {AH_SHA, ike.AUTH_HMAC_SHA1_96}, {AH_SHA2_256, ike.AUTH_HMAC_SHA2_256_128},
	{AH_SHA2_384, ike.AUTH_HMAC_SHA2_384_192}, {AH_SHA2_512, ike.AUTH_HMAC_SHA2_512_256}, {AH_AES_XCBC_MAC, ike.AUTH_AES_XCBC_96}}

func ahTransformID(integ uint16) (uint8, bool) {
	for _, a := range ahTransforms {
		if a.integ == integ {
			return a.id, true
		}
	}
	return 0, false
}

func ahTransformInteg(id uint8) (uint16, bool) {
	for _, a := range ahTransforms {
		if a.id == id {
			return a.integ, true
		}
	}
	return 0, false
}

func espAuthAttr(integ uint16) (uint16, bool) {
	for _, a := range espAuth {
		if a.integ == integ {
			return a.attr, true
		}
	}
	return 0, false
}

// Key derivation of RFC 2409, Section 5, as plain functions of their inputs. The engine
// calls them and records each step; the NIST CAVS IKEv1 KDF vectors test them.

// SKEYIDPreShared computes SKEYID = prf(pre-shared-key, Ni_b | Nr_b) for pre-shared key
// authentication (RFC 2409, Section 5).
func SKEYIDPreShared(prf *ike.PRFAlg, psk, Ni, Nr []byte) []byte {
	return prf.Sum(psk, concat(Ni, Nr))
}

// SKEYIDSignature computes SKEYID = prf(Ni_b | Nr_b, g^xy) for signature authentication
// (RFC 2409, Section 5).
func SKEYIDSignature(prf *ike.PRFAlg, Ni, Nr, gxy []byte) []byte {
	return prf.Sum(concat(Ni, Nr), gxy)
}

// Keys are the keying material of an ISAKMP SA (RFC 2409, Section 5).
type Keys struct {
	SKEYID, SKEYID_d, SKEYID_a, SKEYID_e []byte
}

// DeriveKeys computes from SKEYID
//
//	SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
//	SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
//	SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
//
// (RFC 2409, Section 5).
func DeriveKeys(prf *ike.PRFAlg, skeyid, gxy []byte, ckyI, ckyR uint64) Keys {
	ckys := cookies(ckyI, ckyR)
	d := prf.Sum(skeyid, concat(gxy, ckys, []byte{0}))
	a := prf.Sum(skeyid, concat(d, gxy, ckys, []byte{1}))
	e := prf.Sum(skeyid, concat(a, gxy, ckys, []byte{2}))
	return Keys{SKEYID: skeyid, SKEYID_d: d, SKEYID_a: a, SKEYID_e: e}
}

// EncryptionKey derives the n-byte key of the ISAKMP SA's cipher from SKEYID_e (RFC 2409,
// Appendix B): the first n bytes of SKEYID_e when it is long enough, else of
//
//	Ka = K1 | K2 | K3 | ...,  K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1), ...
//
// where 0 is a single zero byte.
func EncryptionKey(prf *ike.PRFAlg, skeyidE []byte, n int) []byte {
	if len(skeyidE) >= n {
		return clone(skeyidE[:n])
	}
	var ka, k []byte
	k = []byte{0}
	for len(ka) < n {
		k = prf.Sum(skeyidE, k)
		ka = append(ka, k...)
	}
	return ka[:n]
}

// Phase1IV is the IV of the first encrypted phase 1 message: hash(g^xi | g^xr),
// truncated to the cipher's block size (RFC 2409, Appendix B).
func Phase1IV(h *HashAlg, gxi, gxr []byte, blockSize int) []byte {
	return h.Sum(gxi, gxr)[:blockSize]
}

// Phase2IV is the first IV of a quick mode, transaction or informational exchange:
// hash(last phase 1 CBC output block | M-ID), truncated to the block size (RFC 2409,
// Appendix B).
func Phase2IV(h *HashAlg, lastPhase1Block []byte, msgID uint32, blockSize int) []byte {
	return h.Sum(lastPhase1Block, binary.BigEndian.AppendUint32(nil, msgID))[:blockSize]
}

// HashI and HashR prove knowledge of SKEYID and bind the phase 1 exchange (RFC 2409,
// Section 5):
//
//	HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
//	HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
//
// SAi_b is the body of the initiator's SA payload, IDii_b and IDir_b the bodies of the
// ID payloads.
func HashI(prf *ike.PRFAlg, skeyid, gxi, gxr []byte, ckyI, ckyR uint64, saiB, idiiB []byte) []byte {
	return prf.Sum(skeyid, concat(gxi, gxr, cookies(ckyI, ckyR), saiB, idiiB))
}

func HashR(prf *ike.PRFAlg, skeyid, gxi, gxr []byte, ckyI, ckyR uint64, saiB, idirB []byte) []byte {
	return prf.Sum(skeyid, concat(gxr, gxi, cookies(ckyR, ckyI), saiB, idirB))
}

// QuickHash1 is HASH(1) = prf(SKEYID_a, M-ID | <payloads after HASH(1)>), which also
// protects informational and transaction exchanges (RFC 2409, Sections 5.5 and 5.7).
func QuickHash1(prf *ike.PRFAlg, skeyidA []byte, msgID uint32, after []byte) []byte {
	return prf.Sum(skeyidA, concat(binary.BigEndian.AppendUint32(nil, msgID), after))
}

// QuickHash2 is HASH(2) = prf(SKEYID_a, M-ID | Ni_b | <payloads after HASH(2)>)
// (RFC 2409, Section 5.5).
func QuickHash2(prf *ike.PRFAlg, skeyidA []byte, msgID uint32, Ni, after []byte) []byte {
	return prf.Sum(skeyidA, concat(binary.BigEndian.AppendUint32(nil, msgID), Ni, after))
}

// QuickHash3 is HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b) (RFC 2409, Section 5.5).
func QuickHash3(prf *ike.PRFAlg, skeyidA []byte, msgID uint32, Ni, Nr []byte) []byte {
	return prf.Sum(skeyidA, concat([]byte{0}, binary.BigEndian.AppendUint32(nil, msgID), Ni, Nr))
}

// KEYMAT derives n bytes of keying material for one IPsec SA (RFC 2409, Section 5.5):
//
//	KEYMAT = K1 | K2 | ...,  K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
//	                         K2 = prf(SKEYID_d, K1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
//
// gqm is the quick mode's Diffie-Hellman secret with PFS, nil without. spi is the SPI
// the receiving side of this SA chose.
func KEYMAT(prf *ike.PRFAlg, skeyidD, gqm []byte, protocol ProtocolID, spi uint32, Ni, Nr []byte, n int) []byte {
	seed := concat(gqm, []byte{byte(protocol)}, binary.BigEndian.AppendUint32(nil, spi), Ni, Nr)
	var out, k []byte
	for len(out) < n {
		k = prf.Sum(skeyidD, concat(k, seed))
		out = append(out, k...)
	}
	return out[:n]
}

// NATDHash is HASH(CKY-I | CKY-R | IP | Port) with the negotiated hash (RFC 3947,
// Section 3.2).
func NATDHash(h *HashAlg, ckyI, ckyR uint64, ip []byte, port uint16) []byte {
	return h.Sum(cookies(ckyI, ckyR), ip, []byte{byte(port >> 8), byte(port)})
}

func cookies(a, b uint64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, a), b)
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
