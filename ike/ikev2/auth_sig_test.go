package ikev2

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	mrand "math/rand/v2"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/ikesim/ikesim/ike"
)

// TestAlgorithmIdentifiers checks the DER AlgorithmIdentifiers of RFC 7427 signatures
// against those crypto/x509 writes into certificates signed the same way, an encoder
// independent of the constants.
func TestAlgorithmIdentifiers(t *testing.T) {
	rsaKey, ecKey := pkiKey(t, "gw-a"), pkiKey(t, "gw-a-p256")
	edKey := pkiKey(t, "gw-a-ed25519")
	tests := []struct {
		name string
		alg  x509.SignatureAlgorithm
		key  crypto.Signer
		want []byte
	}{
		{"sha256WithRSAEncryption", x509.SHA256WithRSA, rsaKey, algSHA256WithRSA},
		{"sha384WithRSAEncryption", x509.SHA384WithRSA, rsaKey, algSHA384WithRSA},
		{"sha512WithRSAEncryption", x509.SHA512WithRSA, rsaKey, algSHA512WithRSA},
		{"RSASSA-PSS SHA-256", x509.SHA256WithRSAPSS, rsaKey, algPSSSHA256},
		{"RSASSA-PSS SHA-384", x509.SHA384WithRSAPSS, rsaKey, algPSSSHA384},
		{"RSASSA-PSS SHA-512", x509.SHA512WithRSAPSS, rsaKey, algPSSSHA512},
		{"ecdsa-with-SHA256", x509.ECDSAWithSHA256, ecKey, algECDSAWithSHA256},
		{"ecdsa-with-SHA384", x509.ECDSAWithSHA384, ecKey, algECDSAWithSHA384},
		{"ecdsa-with-SHA512", x509.ECDSAWithSHA512, ecKey, algECDSAWithSHA512},
		{"id-Ed25519", x509.PureEd25519, edKey, algEd25519},
	}
	for _, tt := range tests {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"},
			NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1e9, 0), SignatureAlgorithm: tt.alg}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, tt.key.Public(), tt.key)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
		s := cryptobyte.String(der)
		var cert cryptobyte.String
		var alg []byte
		if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.SkipASN1(cbasn1.SEQUENCE) || !cert.ReadASN1Element((*cryptobyte.String)(&alg), cbasn1.SEQUENCE) {
			t.Fatalf("%s: cannot read the certificate", tt.name)
		}
		if !bytes.Equal(alg, tt.want) {
			t.Errorf("%s: ikesim writes %x, crypto/x509 %x", tt.name, tt.want, alg)
		}
	}
}

// TestSignAndVerify signs the same octets with every scheme and key type, verifies the
// signature, and checks that a changed octet, another key and a changed method fail.
func TestSignAndVerify(t *testing.T) {
	fresh := func(c elliptic.Curve) crypto.Signer {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	keys := map[string]crypto.Signer{"RSA": pkiKey(t, "gw-a"), "P-256": pkiKey(t, "gw-a-p256"), "P-384": pkiKey(t, "gw-b-p384"),
		"P-521": fresh(elliptic.P521()), "Ed25519": pkiKey(t, "gw-a-ed25519")}
	// A key of the same kind that did not sign.
	other := map[string]crypto.Signer{"RSA": pkiKey(t, "gw-b"), "P-256": pkiKey(t, "dave-p256"), "P-384": fresh(elliptic.P384()),
		"P-521": fresh(elliptic.P521()), "Ed25519": pkiKey(t, "gw-b-ed25519")}
	octets := []byte("RealMessage1 | NonceRData | MACedIDForI")
	all := append(append([]sigScheme{}, classicSchemes...), digitalSignatureSchemes...)
	n := 0
	for _, s := range all {
		for name, key := range keys {
			kind, curve := keyKind(key.Public())
			if kind != s.key || (s.curve != "" && s.curve != curve) {
				continue
			}
			n++
			rng := mrand.NewChaCha8([32]byte{7})
			data, err := s.sign(key, octets, rng)
			if err != nil {
				t.Fatalf("%s with %s: %v", s.name, name, err)
			}
			sig, err := parseAuthSignature(s.method, data)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if sig.scheme.name != s.name {
				t.Errorf("%s parses as %s", s.name, sig.scheme.name)
			}
			if err := sig.verify(key.Public(), octets); err != nil {
				t.Errorf("%s with %s: %v", s.name, name, err)
			}
			if sig.verify(key.Public(), append([]byte{1}, octets...)) == nil {
				t.Errorf("%s with %s verifies over other octets", s.name, name)
			}
			if sig.verify(other[name].Public(), octets) == nil {
				t.Errorf("%s with %s verifies with another key", s.name, name)
			}
			again, _ := s.sign(key, octets, mrand.NewChaCha8([32]byte{7}))
			if !bytes.Equal(again, data) {
				t.Errorf("%s with %s: the same seed gives another signature", s.name, name)
			}
			if s.method == AuthDigitalSignature {
				if _, err := parseAuthSignature(s.method, data[:1+len(s.algID)-1]); err == nil {
					t.Errorf("%s: a truncated AlgorithmIdentifier parses", s.name)
				}
			}
		}
	}
	if n != 20 {
		t.Errorf("%d scheme and key combinations, want 20", n)
	}
}

// TestECDSAClassicSignatureIsRS checks RFC 4754's encoding: r and s, each as long as the
// curve's order.
func TestECDSAClassicSignatureIsRS(t *testing.T) {
	for _, c := range []struct {
		key  string
		size int
		m    AuthMethod
	}{{"gw-a-p256", 64, AuthECDSAP256}, {"gw-b-p384", 96, AuthECDSAP384}} {
		s := classicSchemes[map[AuthMethod]int{AuthECDSAP256: 1, AuthECDSAP384: 2}[c.m]]
		sig, err := s.sign(pkiKey(t, c.key), []byte("octets"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) != c.size {
			t.Errorf("%v signature of %d bytes, want %d", c.m, len(sig), c.size)
		}
	}
}

func TestChooseScheme(t *testing.T) {
	all := []HashAlgorithm{HashSHA2_256, HashSHA2_384, HashSHA2_512, HashIdentity}
	tests := []struct {
		key     string
		rfc7427 bool
		peer    []HashAlgorithm
		pss     bool
		want    string // scheme name, or "" when there is none
	}{
		{"gw-a", true, all, false, "RSA PKCS#1 v1.5 with SHA-256"},
		{"gw-a", true, []HashAlgorithm{HashSHA2_512}, false, "RSA PKCS#1 v1.5 with SHA-512"},
		{"gw-a", true, all, true, "RSASSA-PSS with SHA-256"},
		{"gw-a", false, nil, false, "RSA PKCS#1 v1.5 with SHA-1"},
		{"gw-a", false, nil, true, ""},
		{"gw-a", true, []HashAlgorithm{HashSHA1}, false, ""},
		{"gw-b-p384", true, all, false, "ECDSA with SHA-384"},
		{"gw-b-p384", true, []HashAlgorithm{HashSHA2_256}, false, "ECDSA with SHA-256"},
		{"gw-b-p384", false, nil, false, "ECDSA with SHA-384 on P-384"},
		{"gw-a-p256", false, nil, false, "ECDSA with SHA-256 on P-256"},
		{"gw-a-ed25519", true, all, false, "Ed25519"},
		{"gw-a-ed25519", true, []HashAlgorithm{HashSHA2_256}, false, ""},
		{"gw-a-ed25519", false, nil, false, ""},
	}
	for _, tt := range tests {
		s, err := chooseScheme(pkiKey(t, tt.key).Public(), tt.rfc7427, tt.peer, tt.pss)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s %v %v pss=%v: chose %s, want none", tt.key, tt.rfc7427, tt.peer, tt.pss, s.name)
			}
			continue
		}
		if err != nil || s.name != tt.want {
			t.Errorf("%s %v %v pss=%v: %s, %v; want %s", tt.key, tt.rfc7427, tt.peer, tt.pss, s.name, err, tt.want)
		}
	}
}

func TestSignatureHashesNotify(t *testing.T) {
	n := signatureHashesNotify()
	if got := hex.EncodeToString(n.Data); got != "0002000300040005" {
		t.Errorf("SIGNATURE_HASH_ALGORITHMS data %s", got)
	}
	hs, err := parseSignatureHashes(n.Data)
	if err != nil || len(hs) != 4 || hs[3] != HashIdentity {
		t.Errorf("parsed %v, %v", hs, err)
	}
	for _, bad := range [][]byte{nil, {0}, {0, 2, 0}} {
		if _, err := parseSignatureHashes(bad); err == nil {
			t.Errorf("%x parses", bad)
		}
	}
}

// FuzzParseAuthSignature feeds arbitrary AUTH data to the signature parser and
// verifier: errors, never a panic.
func FuzzParseAuthSignature(f *testing.F) {
	key := pkiKey(f, "gw-a-p256")
	for _, s := range digitalSignatureSchemes {
		f.Add(uint8(s.method), append(append([]byte{byte(len(s.algID))}, s.algID...), 1, 2, 3))
	}
	f.Add(uint8(AuthECDSAP256), make([]byte, 64))
	f.Fuzz(func(t *testing.T, method uint8, data []byte) {
		sig, err := parseAuthSignature(AuthMethod(method), data)
		if err == nil {
			sig.verify(key.Public(), data)
		}
		af := &ike.Field{}
		dissectSignature(af, &Auth{Method: AuthMethod(method), Data: data}, 0)
	})
}
