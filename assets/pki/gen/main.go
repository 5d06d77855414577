// Command gen writes ikesim's test PKI: a root CA, gateway and user certificates with
// RSA 2048, ECDSA P-256 and P-384 and Ed25519 keys, and the broken certificates the
// failure labs need (expired, not yet valid, from an unknown CA, without the key usage
// for signatures). It runs from assets/pki.go's go:generate line:
//
//	go generate ./assets/
//
// Every byte is reproducible. Keys come from a stream seeded by the file's name, not
// from crypto/rand: Ed25519 keys from a seed, ECDSA keys from a scalar, RSA keys from
// primes searched in that stream with math/big. Certificates are signed with RSA
// PKCS#1 v1.5, which is deterministic. A test regenerates the files and compares them
// with the ones in the repository.
//
// The simulator's clock starts on 2026-01-01: the valid certificates cover it, the
// expired one ended in 2025, the premature one starts in 2027.
package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"time"
)

func main() {
	out := flag.String("out", "pki", "directory to write the PEM files to")
	flag.Parse()
	files, err := generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(*out, f.name), f.data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

// file is one generated PEM file.
type file struct {
	name string
	data []byte
}

// keyType names the key algorithm of a certificate.
type keyType int

const (
	rsa2048 keyType = iota
	ecdsaP256
	ecdsaP384
	keyEd25519
)

// spec describes one certificate of the test PKI.
type spec struct {
	name      string // file name without extension
	keyFrom   string // whose key it certifies (the name itself when empty)
	key       keyType
	issuer    string // the signing CA; empty for a root
	subject   pkix.Name
	dns       []string
	emails    []string
	ips       []string
	notBefore time.Time
	notAfter  time.Time
	ca        bool
	keyUsage  x509.KeyUsage // 0: what the kind of certificate needs
	serial    int64
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func org(cn string) pkix.Name {
	return pkix.Name{Country: []string{"CH"}, Organization: []string{"ikesim"}, CommonName: cn}
}

// Validity of the certificates that work on the simulator's clock (2026-01-01 on).
var (
	validFrom  = day(2025, time.January, 1)
	validUntil = day(2035, time.January, 1)
)

// specs lists the PKI in signing order: a CA before the certificates it signs.
var specs = []spec{
	{name: "ca", key: rsa2048, subject: org("ikesim Root CA"), ca: true, serial: 1,
		notBefore: day(2024, time.January, 1), notAfter: day(2044, time.January, 1)},
	{name: "rogue-ca", key: rsa2048, subject: pkix.Name{Country: []string{"XX"}, Organization: []string{"Rogue"}, CommonName: "Rogue CA"},
		ca: true, serial: 1, notBefore: day(2024, time.January, 1), notAfter: day(2044, time.January, 1)},

	{name: "gw-a", key: rsa2048, issuer: "ca", subject: org("gw-a.example"), dns: []string{"gw-a.example"},
		ips: []string{"198.51.100.1", "192.0.2.1"}, serial: 10},
	{name: "gw-b", key: rsa2048, issuer: "ca", subject: org("gw-b.example"), dns: []string{"gw-b.example"},
		ips: []string{"203.0.113.2", "192.0.2.2"}, serial: 11},
	{name: "gw-a-p256", key: ecdsaP256, issuer: "ca", subject: org("gw-a.example"), dns: []string{"gw-a.example"},
		ips: []string{"198.51.100.1", "192.0.2.1"}, serial: 12},
	{name: "gw-b-p384", key: ecdsaP384, issuer: "ca", subject: org("gw-b.example"), dns: []string{"gw-b.example"},
		ips: []string{"203.0.113.2", "192.0.2.2"}, serial: 13},
	{name: "gw-a-ed25519", key: keyEd25519, issuer: "ca", subject: org("gw-a.example"), dns: []string{"gw-a.example"},
		ips: []string{"198.51.100.1", "192.0.2.1"}, serial: 14},
	{name: "gw-b-ed25519", key: keyEd25519, issuer: "ca", subject: org("gw-b.example"), dns: []string{"gw-b.example"},
		ips: []string{"203.0.113.2", "192.0.2.2"}, serial: 15},
	{name: "vpn", key: rsa2048, issuer: "ca", subject: org("vpn.example"), dns: []string{"vpn.example"},
		ips: []string{"203.0.113.1"}, serial: 16},
	{name: "carol", key: rsa2048, issuer: "ca", subject: org("carol@example.org"), emails: []string{"carol@example.org"}, serial: 20},
	{name: "dave-p256", key: ecdsaP256, issuer: "ca", subject: org("dave@example.org"), emails: []string{"dave@example.org"}, serial: 21},

	// Broken certificates for the failure labs: gw-a's key in certificates that must
	// not be accepted.
	{name: "gw-a-expired", keyFrom: "gw-a", issuer: "ca", subject: org("gw-a.example"), dns: []string{"gw-a.example"},
		ips: []string{"198.51.100.1", "192.0.2.1"}, serial: 30,
		notBefore: day(2024, time.January, 1), notAfter: day(2025, time.June, 30)},
	{name: "gw-a-notyet", keyFrom: "gw-a", issuer: "ca", subject: org("gw-a.example"), dns: []string{"gw-a.example"},
		ips: []string{"198.51.100.1", "192.0.2.1"}, serial: 31,
		notBefore: day(2027, time.January, 1), notAfter: day(2030, time.January, 1)},
	{name: "gw-a-rogue", keyFrom: "gw-a", issuer: "rogue-ca", subject: org("gw-a.example"), dns: []string{"gw-a.example"},
		ips: []string{"198.51.100.1", "192.0.2.1"}, serial: 32},
	{name: "gw-a-wrongku", keyFrom: "gw-a", issuer: "ca", subject: org("gw-a.example"), dns: []string{"gw-a.example"},
		ips: []string{"198.51.100.1", "192.0.2.1"}, serial: 33, keyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment},
}

// generate makes every file of the PKI, in a fixed order.
func generate() ([]file, error) {
	keys := map[string]crypto.Signer{}
	certs := map[string]*x509.Certificate{}
	var files []file
	for _, s := range specs {
		keyName := s.keyFrom
		if keyName == "" {
			keyName = s.name
			k, err := newKey(s.name, s.key)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			keys[s.name] = k
			der, err := x509.MarshalPKCS8PrivateKey(k)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			files = append(files, file{s.name + ".key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})})
		}
		key := keys[keyName]
		if key == nil {
			return nil, fmt.Errorf("%s: no key %q yet", s.name, keyName)
		}
		der, err := certificate(s, key, certs, keys)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		certs[s.name] = c
		files = append(files, file{s.name + ".pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})})
	}
	return files, nil
}

// certificate issues the certificate of s for key, signed by its issuer (or itself).
func certificate(s spec, key crypto.Signer, certs map[string]*x509.Certificate, keys map[string]crypto.Signer) ([]byte, error) {
	t := &x509.Certificate{
		SerialNumber:          big.NewInt(s.serial),
		Subject:               s.subject,
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		DNSNames:              s.dns,
		EmailAddresses:        s.emails,
		BasicConstraintsValid: true,
		IsCA:                  s.ca,
		KeyUsage:              s.keyUsage,
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	if t.NotBefore.IsZero() {
		t.NotBefore, t.NotAfter = validFrom, validUntil
	}
	for _, a := range s.ips {
		t.IPAddresses = append(t.IPAddresses, net.ParseIP(a).To4())
	}
	switch {
	case s.ca:
		t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	case t.KeyUsage == 0:
		t.KeyUsage = x509.KeyUsageDigitalSignature
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	parent, signer := t, key
	if s.issuer != "" {
		parent, signer = certs[s.issuer], keys[s.issuer]
		if parent == nil || signer == nil {
			return nil, fmt.Errorf("issuer %q not made yet", s.issuer)
		}
	}
	// The serial number is set, so CreateCertificate reads nothing from rand; PKCS#1
	// v1.5 signatures need no randomness.
	return x509.CreateCertificate(failingReader{}, t, parent, key.Public(), signer)
}

// failingReader makes any use of randomness an error, so that none slips in.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) {
	return 0, errors.New("the test PKI must not use randomness")
}

// stream is the seeded byte stream a key is made from: ChaCha8 keyed with SHA-256 of
// the key's name.
func stream(name string) io.Reader {
	return rand.NewChaCha8(sha256.Sum256([]byte("ikesim test PKI: " + name)))
}

// newKey makes the key of the named certificate from its seeded stream.
func newKey(name string, t keyType) (crypto.Signer, error) {
	r := stream(name)
	switch t {
	case keyEd25519:
		seed := make([]byte, ed25519.SeedSize)
		io.ReadFull(r, seed)
		return ed25519.NewKeyFromSeed(seed), nil
	case ecdsaP256:
		return ecdsaKey(elliptic.P256(), r)
	case ecdsaP384:
		return ecdsaKey(elliptic.P384(), r)
	}
	return rsaKey(r, 2048)
}

// ecdsaKey draws a scalar in [1, n-1] from r.
func ecdsaKey(c elliptic.Curve, r io.Reader) (*ecdsa.PrivateKey, error) {
	n := c.Params().N
	size := (n.BitLen() + 7) / 8
	b := make([]byte, size)
	for {
		io.ReadFull(r, b)
		d := new(big.Int).SetBytes(b)
		if d.Sign() > 0 && d.Cmp(n) < 0 {
			return ecdsa.ParseRawPrivateKey(c, d.FillBytes(make([]byte, size)))
		}
	}
}

// rsaKey finds two primes of bits/2 bits in r and builds the key with e = 65537.
func rsaKey(r io.Reader, bits int) (*rsa.PrivateKey, error) {
	e := big.NewInt(65537)
	p := prime(r, bits/2, e)
	q := prime(r, bits/2, e)
	for p.Cmp(q) == 0 {
		q = prime(r, bits/2, e)
	}
	n := new(big.Int).Mul(p, q)
	one := big.NewInt(1)
	pm1, qm1 := new(big.Int).Sub(p, one), new(big.Int).Sub(q, one)
	phi := new(big.Int).Mul(pm1, qm1)
	d := new(big.Int).ModInverse(e, phi)
	if d == nil {
		return nil, errors.New("e has no inverse")
	}
	k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: int(e.Int64())}, D: d, Primes: []*big.Int{p, q}}
	k.Precompute()
	if err := k.Validate(); err != nil {
		return nil, err
	}
	if n.BitLen() != bits {
		return nil, fmt.Errorf("modulus of %d bits, want %d", n.BitLen(), bits)
	}
	return k, nil
}

// prime reads candidates of the given size from r (top two bits set, so that a product
// of two has twice the bits) until one is a probable prime with gcd(e, p-1) = 1.
// ProbablyPrime picks its Miller-Rabin bases from the candidate itself: the search is
// deterministic.
func prime(r io.Reader, bits int, e *big.Int) *big.Int {
	b := make([]byte, bits/8)
	one := big.NewInt(1)
	for {
		io.ReadFull(r, b)
		b[0] |= 0xc0
		b[len(b)-1] |= 1
		p := new(big.Int).SetBytes(b)
		if new(big.Int).Mod(new(big.Int).Sub(p, one), e).Sign() == 0 {
			continue
		}
		if p.ProbablyPrime(20) {
			return p
		}
	}
}

// sameFiles reports the first difference between generated files and a directory.
func sameFiles(files []file, dir string) error {
	for _, f := range files {
		have, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return err
		}
		if !bytes.Equal(have, f.data) {
			return fmt.Errorf("%s differs from what the generator makes: run go generate ./assets/", f.name)
		}
	}
	return nil
}
