package ikev2

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/ikesim/ikesim/ike"
)

// Signatures in the AUTH payload: the classic methods of RFC 7296 (1, RSA) and RFC
// 4754 (9, 10, 11: ECDSA with the hash of its curve), and RFC 7427's Digital Signature
// method (14), whose AUTH data names the signature algorithm with an ASN.1
// AlgorithmIdentifier and whose hashes the peers announce in IKE_SA_INIT with
// N(SIGNATURE_HASH_ALGORITHMS).
//
// Signatures are reproducible where the algorithm allows: RSA PKCS#1 v1.5 and Ed25519
// are deterministic, ECDSA takes its per-signature secret from RFC 6979 (derived from
// the key and the hash), and RSA-PSS draws its salt from the engine's seeded source.

// HashAlgorithm is an IKEv2 hash algorithm of RFC 7427, Section 7, as listed in
// SIGNATURE_HASH_ALGORITHMS.
type HashAlgorithm uint16

const (
	HashSHA1     HashAlgorithm = 1
	HashSHA2_256 HashAlgorithm = 2
	HashSHA2_384 HashAlgorithm = 3
	HashSHA2_512 HashAlgorithm = 4
	HashIdentity HashAlgorithm = 5 // RFC 8420: the signature algorithm hashes by itself (Ed25519)
)

func (h HashAlgorithm) String() string { return hashAlgName(uint16(h)) }

// announcedHashes are the hashes this engine accepts in Digital Signature
// authentication, in the order it announces them.
var announcedHashes = []HashAlgorithm{HashSHA2_256, HashSHA2_384, HashSHA2_512, HashIdentity}

// signatureHashesNotify is this side's N(SIGNATURE_HASH_ALGORITHMS).
//
// RFC 7427, Section 4
func signatureHashesNotify() *Notify {
	data := make([]byte, 0, 2*len(announcedHashes))
	for _, h := range announcedHashes {
		data = binary.BigEndian.AppendUint16(data, uint16(h))
	}
	return &Notify{Type: SIGNATURE_HASH_ALGORITHMS, Data: data}
}

// parseSignatureHashes reads the hash list of a SIGNATURE_HASH_ALGORITHMS notify.
func parseSignatureHashes(data []byte) ([]HashAlgorithm, error) {
	if len(data) == 0 || len(data)%2 != 0 {
		return nil, fmt.Errorf("ikev2: SIGNATURE_HASH_ALGORITHMS data of %d bytes is not a list of 16-bit values", len(data))
	}
	var hs []HashAlgorithm
	for i := 0; i < len(data); i += 2 {
		hs = append(hs, HashAlgorithm(binary.BigEndian.Uint16(data[i:])))
	}
	return hs, nil
}

// sigScheme is one way of signing the AUTH octets.
type sigScheme struct {
	method AuthMethod
	name   string        // "RSA PKCS#1 v1.5 with SHA-256"
	hash   crypto.Hash   // 0 for Ed25519, which signs the octets themselves
	hashID HashAlgorithm // for RFC 7427: the hash as SIGNATURE_HASH_ALGORITHMS names it
	algID  []byte        // for RFC 7427: the DER AlgorithmIdentifier
	key    string        // "RSA", "ECDSA" or "Ed25519"
	pss    bool
	curve  string // for the classic ECDSA methods: the curve they require
}

// The DER AlgorithmIdentifiers of RFC 7427 signatures (RFC 7427, Appendix A; RFC
// 8420, Section 2 for Ed25519). Hash parameters are written with their NULL, as RFC
// 4055 has it for RSA.
var (
	algSHA256WithRSA   = mustHex("300d06092a864886f70d01010b0500")
	algSHA384WithRSA   = mustHex("300d06092a864886f70d01010c0500")
	algSHA512WithRSA   = mustHex("300d06092a864886f70d01010d0500")
	algECDSAWithSHA256 = mustHex("300a06082a8648ce3d040302")
	algECDSAWithSHA384 = mustHex("300a06082a8648ce3d040303")
	algECDSAWithSHA512 = mustHex("300a06082a8648ce3d040304")
	algEd25519         = mustHex("300506032b6570")
	// RSASSA-PSS with the hash, MGF1 with the same hash and a salt as long as the hash.
	algPSSSHA256 = pssAlgorithmID(crypto.SHA256)
	algPSSSHA384 = pssAlgorithmID(crypto.SHA384)
	algPSSSHA512 = pssAlgorithmID(crypto.SHA512)
)

var (
	oidRSASSAPSS = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidHash      = map[crypto.Hash]asn1.ObjectIdentifier{
		crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
		crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
		crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
	}
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// pssParams are the RSASSA-PSS-params of RFC 4055, Section 3.1, as ikesim writes them:
// every field explicit, the trailer field left at its default.
type pssParams struct {
	Hash       pkix.AlgorithmIdentifier `asn1:"explicit,tag:0"`
	MGF        pkix.AlgorithmIdentifier `asn1:"explicit,tag:1"`
	SaltLength int                      `asn1:"explicit,tag:2"`
}

// pssAlgorithmID is the id-RSASSA-PSS AlgorithmIdentifier for hash h.
func pssAlgorithmID(h crypto.Hash) []byte {
	hashAlg := pkix.AlgorithmIdentifier{Algorithm: oidHash[h], Parameters: asn1.NullRawValue}
	hashDER, err := asn1.Marshal(hashAlg)
	if err != nil {
		panic(err)
	}
	params, err := asn1.Marshal(pssParams{Hash: hashAlg,
		MGF: pkix.AlgorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: hashDER}}, SaltLength: h.Size()})
	if err != nil {
		panic(err)
	}
	der, err := asn1.Marshal(pkix.AlgorithmIdentifier{Algorithm: oidRSASSAPSS, Parameters: asn1.RawValue{FullBytes: params}})
	if err != nil {
		panic(err)
	}
	return der
}

// digitalSignatureSchemes are the RFC 7427 schemes this engine signs and verifies.
var digitalSignatureSchemes = []sigScheme{
	{method: AuthDigitalSignature, name: "RSA PKCS#1 v1.5 with SHA-256", hash: crypto.SHA256, hashID: HashSHA2_256, algID: algSHA256WithRSA, key: "RSA"},
	{method: AuthDigitalSignature, name: "RSA PKCS#1 v1.5 with SHA-384", hash: crypto.SHA384, hashID: HashSHA2_384, algID: algSHA384WithRSA, key: "RSA"},
	{method: AuthDigitalSignature, name: "RSA PKCS#1 v1.5 with SHA-512", hash: crypto.SHA512, hashID: HashSHA2_512, algID: algSHA512WithRSA, key: "RSA"},
	{method: AuthDigitalSignature, name: "RSASSA-PSS with SHA-256", hash: crypto.SHA256, hashID: HashSHA2_256, algID: algPSSSHA256, key: "RSA", pss: true},
	{method: AuthDigitalSignature, name: "RSASSA-PSS with SHA-384", hash: crypto.SHA384, hashID: HashSHA2_384, algID: algPSSSHA384, key: "RSA", pss: true},
	{method: AuthDigitalSignature, name: "RSASSA-PSS with SHA-512", hash: crypto.SHA512, hashID: HashSHA2_512, algID: algPSSSHA512, key: "RSA", pss: true},
	{method: AuthDigitalSignature, name: "ECDSA with SHA-256", hash: crypto.SHA256, hashID: HashSHA2_256, algID: algECDSAWithSHA256, key: "ECDSA"},
	{method: AuthDigitalSignature, name: "ECDSA with SHA-384", hash: crypto.SHA384, hashID: HashSHA2_384, algID: algECDSAWithSHA384, key: "ECDSA"},
	{method: AuthDigitalSignature, name: "ECDSA with SHA-512", hash: crypto.SHA512, hashID: HashSHA2_512, algID: algECDSAWithSHA512, key: "ECDSA"},
	{method: AuthDigitalSignature, name: "Ed25519", hashID: HashIdentity, algID: algEd25519, key: "Ed25519"},
}

// classicSchemes are the AUTH methods that name their algorithm themselves.
var classicSchemes = []sigScheme{
	{method: AuthRSASig, name: "RSA PKCS#1 v1.5 with SHA-1", hash: crypto.SHA1, key: "RSA"},
	{method: AuthECDSAP256, name: "ECDSA with SHA-256 on P-256", hash: crypto.SHA256, key: "ECDSA", curve: "P-256"},
	{method: AuthECDSAP384, name: "ECDSA with SHA-384 on P-384", hash: crypto.SHA384, key: "ECDSA", curve: "P-384"},
	{method: AuthECDSAP521, name: "ECDSA with SHA-512 on P-521", hash: crypto.SHA512, key: "ECDSA", curve: "P-521"},
}

// keyKind names the kind of a public key, "RSA", "ECDSA" or "Ed25519", and for ECDSA
// its curve.
func keyKind(pub crypto.PublicKey) (kind, curve string) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RSA", ""
	case *ecdsa.PublicKey:
		return "ECDSA", k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519", ""
	}
	return fmt.Sprintf("%T", pub), ""
}

// curveHash is the hash that goes with an ECDSA curve (RFC 4754; RFC 7427 leaves the
// choice to the signer, and matching the curve's strength is the usual one).
var curveHash = map[string]HashAlgorithm{"P-256": HashSHA2_256, "P-384": HashSHA2_384, "P-521": HashSHA2_512}

// chooseScheme picks how to sign with key: RFC 7427 when both sides announced it
// (peerHashes is the peer's list), with a hash the peer accepts; the classic method of
// the key otherwise.
func chooseScheme(pub crypto.PublicKey, rfc7427 bool, peerHashes []HashAlgorithm, pss bool) (sigScheme, error) {
	kind, curve := keyKind(pub)
	if !rfc7427 {
		if pss {
			return sigScheme{}, errors.New("RSASSA-PSS needs RFC 7427 signature authentication, which the peer did not announce")
		}
		for _, s := range classicSchemes {
			if s.key == kind && s.curve == curve {
				return s, nil
			}
		}
		return sigScheme{}, fmt.Errorf("an %s key has no classic AUTH method: it needs RFC 7427 signature authentication, which the peer did not announce", ike2KeyName(kind, curve))
	}
	// Preferred hash first: the curve's for ECDSA, SHA-256 for RSA.
	prefer := []HashAlgorithm{HashSHA2_256, HashSHA2_384, HashSHA2_512}
	switch kind {
	case "ECDSA":
		prefer = append([]HashAlgorithm{curveHash[curve]}, prefer...)
	case "Ed25519":
		prefer = []HashAlgorithm{HashIdentity}
	}
	for _, h := range prefer {
		if !slices.Contains(peerHashes, h) {
			continue
		}
		for _, s := range digitalSignatureSchemes {
			if s.key == kind && s.hashID == h && s.pss == (pss && kind == "RSA") {
				return s, nil
			}
		}
	}
	return sigScheme{}, fmt.Errorf("the peer accepts hashes %s, none of which an %s signature can use",
		hashList(peerHashes), ike2KeyName(kind, curve))
}

func ike2KeyName(kind, curve string) string {
	if curve != "" {
		return kind + " " + curve
	}
	return kind
}

func hashList(hs []HashAlgorithm) string {
	var s []string
	for _, h := range hs {
		s = append(s, h.String())
	}
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}

// determinism says, for the trace, where the signature's randomness comes from.
func (s sigScheme) determinism() string {
	switch {
	case s.pss:
		return "randomized: its salt is drawn from the run's seeded random source, so another seed gives another signature"
	case s.key == "ECDSA":
		return "ECDSA's per-signature secret k is derived from the key and the hash (RFC 6979), so the signature is reproducible"
	}
	return "deterministic: the same octets always give the same signature"
}

// sign signs the AUTH octets and returns the AUTH payload's data: the signature, after
// the AlgorithmIdentifier for RFC 7427. rand feeds RSA-PSS's salt.
//
// RFC 7296, Section 2.15; RFC 4754, Section 7; RFC 7427, Section 3
func (s sigScheme) sign(key crypto.Signer, octets []byte, rand io.Reader) ([]byte, error) {
	var sig []byte
	var err error
	switch k := key.(type) {
	case *rsa.PrivateKey:
		digest := hashOf(s.hash, octets)
		if s.pss {
			sig, err = rsa.SignPSS(rand, k, s.hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(nil, k, s.hash, digest)
		}
	case *ecdsa.PrivateKey:
		// A nil reader asks for RFC 6979's deterministic signature.
		sig, err = k.Sign(nil, hashOf(s.hash, octets), s.hash)
		if err == nil && s.method != AuthDigitalSignature {
			sig, err = ecdsaRawSignature(sig, k.Curve.Params().BitSize)
		}
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, octets)
	default:
		return nil, fmt.Errorf("ikev2: cannot sign with a %T key", key)
	}
	if err != nil {
		return nil, fmt.Errorf("ikev2: %s: %v", s.name, err)
	}
	if s.method != AuthDigitalSignature {
		return sig, nil
	}
	return append(append([]byte{byte(len(s.algID))}, s.algID...), sig...), nil
}

func hashOf(h crypto.Hash, b []byte) []byte {
	hh := h.New()
	hh.Write(b)
	return hh.Sum(nil)
}

// ecdsaRawSignature turns an ASN.1 ECDSA signature into RFC 4754's r | s, each as long
// as the curve's order.
func ecdsaRawSignature(der []byte, bits int) ([]byte, error) {
	var r, s big.Int
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) || !seq.Empty() || !in.Empty() {
		return nil, errors.New("malformed ECDSA signature")
	}
	n := (bits + 7) / 8
	out := make([]byte, 2*n)
	r.FillBytes(out[:n])
	s.FillBytes(out[n:])
	return out, nil
}

// authSignature is a parsed signature AUTH payload.
type authSignature struct {
	scheme sigScheme
	sig    []byte
}

// parseAuthSignature reads the data of a signature AUTH payload: for RFC 7427 the
// AlgorithmIdentifier it starts with names the scheme.
//
// RFC 7427, Section 3
func parseAuthSignature(m AuthMethod, data []byte) (authSignature, error) {
	if m != AuthDigitalSignature {
		for _, s := range classicSchemes {
			if s.method == m {
				return authSignature{s, data}, nil
			}
		}
		return authSignature{}, fmt.Errorf("AUTH method %v is not a signature method this engine verifies", m)
	}
	if len(data) < 1 || int(data[0])+1 > len(data) {
		return authSignature{}, errors.New("the Digital Signature AUTH data is too short for its AlgorithmIdentifier")
	}
	algID, sig := data[1:1+int(data[0])], data[1+int(data[0]):]
	for _, s := range digitalSignatureSchemes {
		if bytes.Equal(s.algID, algID) {
			return authSignature{s, sig}, nil
		}
	}
	if s, ok := parsePSS(algID); ok {
		return authSignature{s, sig}, nil
	}
	return authSignature{}, fmt.Errorf("unsupported signature AlgorithmIdentifier %x", algID)
}

// parsePSS accepts an id-RSASSA-PSS AlgorithmIdentifier written with other (legal)
// choices than ikesim's: any salt length, the NULL parameters omitted.
func parsePSS(der []byte) (sigScheme, bool) {
	var ai pkix.AlgorithmIdentifier
	if rest, err := asn1.Unmarshal(der, &ai); err != nil || len(rest) != 0 || !ai.Algorithm.Equal(oidRSASSAPSS) {
		return sigScheme{}, false
	}
	var p pssParams
	if rest, err := asn1.Unmarshal(ai.Parameters.FullBytes, &p); err != nil || len(rest) != 0 {
		return sigScheme{}, false
	}
	for _, s := range digitalSignatureSchemes {
		if s.pss && p.Hash.Algorithm.Equal(oidHash[s.hash]) && p.MGF.Algorithm.Equal(oidMGF1) {
			return s, true
		}
	}
	return sigScheme{}, false
}

// verify checks the signature over the octets with the peer's public key.
func (a authSignature) verify(pub crypto.PublicKey, octets []byte) error {
	s := a.scheme
	kind, curve := keyKind(pub)
	if kind != s.key || (s.curve != "" && s.curve != curve) {
		return fmt.Errorf("the AUTH payload is signed with %s, but the certificate holds an %s key", s.name, ike2KeyName(kind, curve))
	}
	var ok bool
	switch k := pub.(type) {
	case *rsa.PublicKey:
		digest := hashOf(s.hash, octets)
		if s.pss {
			ok = rsa.VerifyPSS(k, s.hash, digest, a.sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
		} else {
			ok = rsa.VerifyPKCS1v15(k, s.hash, digest, a.sig) == nil
		}
	case *ecdsa.PublicKey:
		digest := hashOf(s.hash, octets)
		if s.method == AuthDigitalSignature {
			ok = ecdsa.VerifyASN1(k, digest, a.sig)
		} else {
			n := (k.Curve.Params().BitSize + 7) / 8
			if len(a.sig) == 2*n {
				r, ss := new(big.Int).SetBytes(a.sig[:n]), new(big.Int).SetBytes(a.sig[n:])
				ok = ecdsa.Verify(k, digest, r, ss)
			}
		}
	case ed25519.PublicKey:
		ok = ed25519.Verify(k, octets, a.sig)
	}
	if !ok {
		return fmt.Errorf("the %s signature in the AUTH payload does not verify with the certificate's public key", s.name)
	}
	return nil
}

// dissectSignature adds to a Digital Signature AUTH payload's data the fields RFC 7427
// puts in front of the signature.
//
// RFC 7427, Section 3
func dissectSignature(af *ike.Field, p *Auth, o int) {
	if p.Method != AuthDigitalSignature || len(p.Data) < 1 || int(p.Data[0])+1 > len(p.Data) {
		return
	}
	n := int(p.Data[0])
	add(af, "ASN.1 Length", fmt.Sprint(n), o, 1, "Length of the AlgorithmIdentifier that follows")
	name := fmt.Sprintf("unknown (%x)", p.Data[1:1+n])
	if s, err := parseAuthSignature(p.Method, p.Data); err == nil {
		name = s.scheme.name
	}
	add(af, "Signature Algorithm", name, o+1, n, "ASN.1 AlgorithmIdentifier: the signature scheme and its hash")
	add(af, "Signature Value", hexValue(p.Data[1+n:]), o+1+n, len(p.Data)-1-n,
		"The signature over the sender's signed octets, made with the private key of its certificate")
	af.Value = name
}
