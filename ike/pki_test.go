package ike

import (
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike/testenv"
)

func loadCert(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	cs, err := ParseCertificates(testenv.PKI(t, name+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

// epoch is the simulator's clock at the start of a run.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestVerifyCertificate(t *testing.T) {
	ca := loadCert(t, "ca")
	rogue := loadCert(t, "rogue-ca")
	tests := []struct {
		name  string
		cert  string
		roots []*x509.Certificate
		now   time.Time
		want  CertProblem // 0: accepted
	}{
		{"RSA gateway", "gw-a", []*x509.Certificate{ca}, epoch, 0},
		{"ECDSA P-384 gateway", "gw-b-p384", []*x509.Certificate{ca}, epoch, 0},
		{"Ed25519 gateway", "gw-a-ed25519", []*x509.Certificate{ca}, epoch, 0},
		{"user certificate", "carol", []*x509.Certificate{ca}, epoch, 0},
		{"expired", "gw-a-expired", []*x509.Certificate{ca}, epoch, CertExpired},
		{"expired certificate before it expired", "gw-a-expired", []*x509.Certificate{ca}, epoch.AddDate(-1, 0, 0), 0},
		{"not yet valid", "gw-a-notyet", []*x509.Certificate{ca}, epoch, CertNotYetValid},
		{"valid certificate after the end of its validity", "gw-a", []*x509.Certificate{ca}, epoch.AddDate(10, 0, 0), CertExpired},
		{"unknown CA", "gw-a-rogue", []*x509.Certificate{ca}, epoch, CertUnknownCA},
		{"trusting only the rogue CA", "gw-a", []*x509.Certificate{rogue}, epoch, CertUnknownCA},
		{"empty trust store", "gw-a", nil, epoch, CertUnknownCA},
		{"the rogue CA trusted", "gw-a-rogue", []*x509.Certificate{rogue}, epoch, 0},
		{"key usage without digitalSignature", "gw-a-wrongku", []*x509.Certificate{ca}, epoch, CertKeyUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chain, err := VerifyCertificate(loadCert(t, tt.cert), nil, tt.roots, tt.now)
			if tt.want == 0 {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if len(chain) != 2 || !chain[1].Equal(tt.roots[0]) {
					t.Errorf("chain of %d certificates does not end in the trusted CA", len(chain))
				}
				return
			}
			ce, ok := err.(*CertError)
			if !ok {
				t.Fatalf("accepted or wrong error type: %v", err)
			}
			if ce.Problem != tt.want {
				t.Errorf("problem %v (%s), want %v", ce.Problem, ce.Text, tt.want)
			}
		})
	}
}

func TestCertMatchesIdentity(t *testing.T) {
	gwA, carol := loadCert(t, "gw-a"), loadCert(t, "carol")
	id := func(s string) Identity {
		i, err := ParseIdentity(s)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	tests := []struct {
		cert *x509.Certificate
		id   Identity
		want bool
	}{
		{gwA, id("gw-a.example"), true},
		{gwA, id("GW-A.example"), true},
		{gwA, id("gw-b.example"), false},
		{gwA, id("198.51.100.1"), true},
		{gwA, id("203.0.113.2"), false},
		{gwA, SubjectIdentity(gwA), true},
		{gwA, SubjectIdentity(carol), false},
		{carol, id("carol@example.org"), true},
		{carol, id("dave@example.org"), false},
		{carol, id("example.org"), false},
		{gwA, Identity{Type: IDKeyID, Value: []byte("gw-a.example")}, false},
	}
	for _, tt := range tests {
		got := CertMatchesIdentity(tt.cert, tt.id)
		if got != tt.want {
			t.Errorf("%s matches %s: %v, want %v", Subject(tt.cert), tt.id, got, tt.want)
		}
		if err := CheckIdentity(tt.cert, tt.id); (err == nil) != tt.want {
			t.Errorf("CheckIdentity(%s, %s) = %v", Subject(tt.cert), tt.id, err)
		}
	}
}

// TestCAKeyHash checks the CERTREQ value of the test CA against the SHA-1 that openssl
// computes over its SubjectPublicKeyInfo:
//
//	openssl x509 -in assets/pki/ca.pem -pubkey -noout | openssl pkey -pubin -outform DER | sha1sum
func TestCAKeyHash(t *testing.T) {
	got := hex.EncodeToString(CAKeyHash(loadCert(t, "ca")))
	if got != caKeyHash {
		t.Errorf("CA key hash %s, want %s", got, caKeyHash)
	}
}

func TestParseKeysAndCertificates(t *testing.T) {
	for _, name := range []string{"gw-a", "gw-a-p256", "gw-b-p384", "gw-a-ed25519"} {
		k, err := ParsePrivateKey(testenv.PKI(t, name+".key"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c := loadCert(t, name)
		if KeyName(k.Public()) != KeyName(c.PublicKey) {
			t.Errorf("%s: key %s, certificate %s", name, KeyName(k.Public()), KeyName(c.PublicKey))
		}
		if pub, ok := k.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(c.PublicKey) {
			t.Errorf("%s: the key is not the certificate's", name)
		}
	}
	if _, err := ParsePrivateKey([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")); err == nil {
		t.Error("a certificate parsed as a private key")
	}
	if _, err := ParseCertificates([]byte("not a certificate")); err == nil {
		t.Error("garbage parsed as a certificate")
	}
	der := loadCert(t, "ca").Raw
	if cs, err := ParseCertificates(der); err != nil || len(cs) != 1 {
		t.Errorf("DER certificate: %v", err)
	}
}

// FuzzParseCertificates feeds arbitrary bytes to the PEM and key readers: they must
// return errors, never panic.
func FuzzParseCertificates(f *testing.F) {
	for _, n := range []string{"ca.pem", "gw-a.key", "gw-a-p256.key"} {
		f.Add(testenv.PKI(f, n))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseCertificates(data)
		ParsePrivateKey(data)
	})
}

// caKeyHash is what the openssl pipeline above prints for assets/pki/ca.pem.
const caKeyHash = "07f21454d82402a5b78aa905c70771476ed5d6bc"
