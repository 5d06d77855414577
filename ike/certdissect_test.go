package ike

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"
)

// TestDissectCertificate dissects the test PKI's gw-a certificate: every part has its
// value, its bytes and an explanation.
func TestDissectCertificate(t *testing.T) {
	c := loadCert(t, "gw-a")
	der := c.Raw
	root := &Field{Name: "CERT", Length: len(der) + 7}
	cf := DissectCertificate(root, der, 7)
	if cf.Error != "" || cf.Value != "gw-a.example, issued by ikesim Root CA" {
		t.Fatalf("certificate field %q (%s)", cf.Value, cf.Error)
	}
	want := map[string]string{
		"Version":                   "v3",
		"Serial Number":             "10 (0x0a)",
		"Issuer":                    "CN=ikesim Root CA,O=ikesim,C=CH",
		"Subject":                   "CN=gw-a.example,O=ikesim,C=CH",
		"Validity":                  "2025-01-01T00:00:00Z to 2035-01-01T00:00:00Z",
		"Not After":                 "2035-01-01T00:00:00Z",
		"Subject Public Key Info":   "RSA 2048",
		"Public Key Algorithm":      "RSA",
		"Key Usage":                 "digitalSignature (critical)",
		"Extended Key Usage":        "serverAuth, clientAuth",
		"Basic Constraints":         "not a CA (critical)",
		"Subject Alternative Names": "DNS:gw-a.example",
		"Signature Algorithm":       "SHA256-RSA",
	}
	for name, v := range want {
		f := cf.Find(name)
		if f == nil {
			t.Errorf("no %s field", name)
			continue
		}
		if !strings.HasPrefix(f.Value, v) {
			t.Errorf("%s = %q, want %q", name, f.Value, v)
		}
		if f.Explain == "" {
			t.Errorf("%s has no explanation", name)
		}
		if f.Offset < 7 || f.Offset+f.Length > 7+len(der) || f.Length == 0 {
			t.Errorf("%s at %d+%d lies outside the certificate", name, f.Offset, f.Length)
		}
	}
	if pk := cf.Find("Public Key"); pk == nil || !strings.HasPrefix(pk.Value, "2048 bits") {
		t.Errorf("public key %+v", pk)
	}
	// The subject's bytes are the DER of the subject name.
	if s := cf.Find("Subject"); !bytes.Equal(der[s.Offset-7:s.Offset-7+s.Length], c.RawSubject) {
		t.Error("the Subject field's bytes are not the subject's DER")
	}
	if s := cf.Find("Issuer"); !bytes.Equal(der[s.Offset-7:s.Offset-7+s.Length], c.RawIssuer) {
		t.Error("the Issuer field's bytes are not the issuer's DER")
	}
	if s := cf.Find("Subject Public Key Info"); !bytes.Equal(der[s.Offset-7:s.Offset-7+s.Length], c.RawSubjectPublicKeyInfo) {
		t.Error("the key's bytes are not the SubjectPublicKeyInfo")
	}
	for _, name := range []string{"ca", "gw-b-p384", "gw-a-ed25519", "carol"} {
		c := loadCert(t, name)
		f := DissectCertificate(&Field{}, c.Raw, 0)
		if f.Error != "" || f.Find("Subject Public Key Info") == nil || f.Find("Signature") == nil {
			t.Errorf("%s: %+v", name, f)
		}
	}
	if f := DissectCertificate(&Field{}, []byte{0x30, 0x03, 1, 2, 3}, 0); f.Error == "" {
		t.Error("garbage dissected as a certificate")
	}
}

// TestCAName names a CERTREQ's CA hash from a trust store.
func TestCAName(t *testing.T) {
	ca, rogue := loadCert(t, "ca"), loadCert(t, "rogue-ca")
	if got := CAName(CAKeyHash(ca), []*x509.Certificate{rogue, ca}); got != "CN=ikesim Root CA,O=ikesim,C=CH" {
		t.Errorf("CAName = %q", got)
	}
	if got := CAName(CAKeyHash(ca), []*x509.Certificate{rogue}); got != "" {
		t.Errorf("CAName of an unknown CA = %q", got)
	}
}

// FuzzDissectCertificate: no input makes the dissector panic or point outside its bytes.
func FuzzDissectCertificate(f *testing.F) {
	f.Add(loadCert(f, "gw-a").Raw)
	f.Add(loadCert(f, "gw-b-p384").Raw)
	f.Fuzz(func(t *testing.T, der []byte) {
		cf := DissectCertificate(&Field{}, der, 0)
		cf.Walk(func(g *Field, _ int) {
			if g.Offset < 0 || g.Offset+g.Length > len(der) {
				t.Fatalf("%s at %d+%d outside %d bytes", g.Name, g.Offset, g.Length, len(der))
			}
		})
	})
}
