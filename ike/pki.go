package ike

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Certificates for IKE: reading them and their keys, checking a peer's chain against a
// node's trust store on the engine's clock, and matching an IKE identity with a
// certificate. Both engines use it; what a signature covers is each version's own.

// ParseCertificates reads certificates from PEM (any number of CERTIFICATE blocks) or
// from one DER certificate.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, fmt.Errorf("ike: not a PEM or DER certificate: %v", err)
		}
		return []*x509.Certificate{c}, nil
	}
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("ike: certificate %d: %v", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("ike: no CERTIFICATE block in the PEM data")
	}
	return certs, nil
}

// ParsePrivateKey reads a private key from PEM: PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA
// PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY"). The key must be RSA, ECDSA or Ed25519.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return nil, errors.New("ike: no private key block in the PEM data")
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ike: %s: %v", strings.ToLower(b.Type), err)
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			return k, nil
		case *ecdsa.PrivateKey:
			return k, nil
		case ed25519.PrivateKey:
			return k, nil
		}
		return nil, fmt.Errorf("ike: private key of type %T is not RSA, ECDSA or Ed25519", k)
	}
}

// KeyName says what kind of public key a certificate or signer holds: "RSA 2048",
// "ECDSA P-256", "Ed25519".
func KeyName(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

// CAKeyHash is the SHA-1 hash of a CA certificate's SubjectPublicKeyInfo, as IKEv2's
// CERTREQ lists trusted CAs (RFC 7296, Section 3.7).
func CAKeyHash(c *x509.Certificate) []byte {
	h := sha1.Sum(c.RawSubjectPublicKeyInfo)
	return h[:]
}

// CertProblem names why a peer's certificate is not accepted.
type CertProblem int

const (
	CertExpired     CertProblem = iota + 1 // its NotAfter lies before the clock
	CertNotYetValid                        // its NotBefore lies after the clock
	CertUnknownCA                          // no chain leads to a trusted CA
	CertKeyUsage                           // its key usage does not allow signatures
	CertIdentity                           // the IKE identity is neither a SAN nor the subject
	CertInvalid                            // anything else x509 rejects
)

var certProblemNames = map[CertProblem]string{
	CertExpired: "expired", CertNotYetValid: "not yet valid", CertUnknownCA: "unknown CA",
	CertKeyUsage: "wrong key usage", CertIdentity: "identity mismatch", CertInvalid: "invalid",
}

func (p CertProblem) String() string { return certProblemNames[p] }

// CertError says why a certificate was rejected, in words for the trace.
type CertError struct {
	Problem CertProblem
	Text    string
}

func (e *CertError) Error() string { return "ike: " + e.Text }

// Reason is an error's text for the trace: a *CertError's without the package name.
func Reason(err error) string {
	var ce *CertError
	if errors.As(err, &ce) {
		return ce.Text
	}
	return err.Error()
}

// Subject is how the trace names a certificate: its subject, "C=CH, O=ikesim, CN=gw-a.example".
func Subject(c *x509.Certificate) string { return dnString(c.Subject) }

// Issuer names a certificate's issuer the way Subject names its subject.
func Issuer(c *x509.Certificate) string { return dnString(c.Issuer) }

// dnString writes a distinguished name the way strongSwan does, most significant part
// first: "C=CH, O=ikesim, CN=gw-a.example".
func dnString(n pkix.Name) string {
	rdns := n.ToRDNSequence()
	var parts []string
	for _, rdn := range rdns {
		for _, atv := range rdn {
			name := atv.Type.String()
			switch {
			case atv.Type.Equal([]int{2, 5, 4, 6}):
				name = "C"
			case atv.Type.Equal([]int{2, 5, 4, 10}):
				name = "O"
			case atv.Type.Equal([]int{2, 5, 4, 11}):
				name = "OU"
			case atv.Type.Equal([]int{2, 5, 4, 3}):
				name = "CN"
			}
			parts = append(parts, fmt.Sprintf("%s=%v", name, atv.Value))
		}
	}
	return strings.Join(parts, ", ")
}

const certTime = "2006-01-02 15:04:05 MST"

// VerifyCertificate checks a peer's end-entity certificate at time now: its validity
// period, that its key usage allows digital signatures, and that a chain through
// intermediates leads to one of roots. It returns the chain, leaf first, or a
// *CertError.
//
// RFC 4945, Section 5 (the PKI profile of IKE); RFC 5280, Section 6 (path validation)
func VerifyCertificate(leaf *x509.Certificate, intermediates, roots []*x509.Certificate, now time.Time) ([]*x509.Certificate, error) {
	who := Subject(leaf)
	switch {
	case now.After(leaf.NotAfter):
		return nil, &CertError{CertExpired, fmt.Sprintf("certificate %q expired on %s; the clock says %s",
			who, leaf.NotAfter.UTC().Format(certTime), now.UTC().Format(certTime))}
	case now.Before(leaf.NotBefore):
		return nil, &CertError{CertNotYetValid, fmt.Sprintf("certificate %q is not valid before %s; the clock says %s",
			who, leaf.NotBefore.UTC().Format(certTime), now.UTC().Format(certTime))}
	case leaf.KeyUsage != 0 && leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0:
		return nil, &CertError{CertKeyUsage, fmt.Sprintf("certificate %q has key usage %s, without digitalSignature: its key may not sign IKE's AUTH",
			who, keyUsages(leaf.KeyUsage))}
	}
	if len(roots) == 0 {
		return nil, &CertError{CertUnknownCA, fmt.Sprintf("no trusted CA to check certificate %q against (the trust store is empty)", who)}
	}
	opts := x509.VerifyOptions{Roots: x509.NewCertPool(), Intermediates: x509.NewCertPool(), CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	for _, r := range roots {
		opts.Roots.AddCert(r)
	}
	for _, c := range intermediates {
		opts.Intermediates.AddCert(c)
	}
	chains, err := leaf.Verify(opts)
	if err == nil {
		return chains[0], nil
	}
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return nil, &CertError{CertUnknownCA, fmt.Sprintf("certificate %q is signed by %q, which is not a trusted CA",
			who, dnString(leaf.Issuer))}
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return nil, &CertError{CertExpired, fmt.Sprintf("a CA certificate in the chain of %q is expired or not yet valid at %s: %v",
			who, now.UTC().Format(certTime), ci.Detail)}
	}
	return nil, &CertError{CertInvalid, fmt.Sprintf("certificate %q: %v", who, err)}
}

func keyUsages(u x509.KeyUsage) string {
	names := []string{"digitalSignature", "contentCommitment", "keyEncipherment", "dataEncipherment",
		"keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"}
	var on []string
	for i, n := range names {
		if u&(1<<i) != 0 {
			on = append(on, n)
		}
	}
	return strings.Join(on, ", ")
}

// CertMatchesIdentity reports whether an IKE identity names the certificate: an FQDN,
// email address or IP address among its subjectAltNames, or a distinguished name equal
// to its subject.
//
// RFC 4945, Section 3.1 (identities and certificates)
func CertMatchesIdentity(c *x509.Certificate, id Identity) bool {
	switch id.Type {
	case IDFQDN:
		for _, n := range c.DNSNames {
			if strings.EqualFold(n, string(id.Value)) {
				return true
			}
		}
	case IDRFC822Addr:
		for _, e := range c.EmailAddresses {
			if strings.EqualFold(e, string(id.Value)) {
				return true
			}
		}
	case IDIPv4Addr, IDIPv6Addr:
		a, ok := netip.AddrFromSlice(id.Value)
		if !ok {
			return false
		}
		for _, ip := range c.IPAddresses {
			if b, ok := netip.AddrFromSlice(ip); ok && b.Unmap() == a.Unmap() {
				return true
			}
		}
	case IDDERASN1DN:
		return bytes.Equal(id.Value, c.RawSubject)
	}
	return false
}

// CheckIdentity is CertMatchesIdentity as an error for the trace.
func CheckIdentity(c *x509.Certificate, id Identity) error {
	if CertMatchesIdentity(c, id) {
		return nil
	}
	var sans []string
	sans = append(sans, c.DNSNames...)
	sans = append(sans, c.EmailAddresses...)
	for _, ip := range c.IPAddresses {
		sans = append(sans, ip.String())
	}
	return &CertError{CertIdentity, fmt.Sprintf("identity %s is not in certificate %q (subjectAltNames: %s)",
		id, Subject(c), strings.Join(sans, ", "))}
}

// SubjectIdentity is the certificate's subject as an ID_DER_ASN1_DN identity, what a
// side with a certificate and no configured identity uses.
func SubjectIdentity(c *x509.Certificate) Identity {
	return Identity{Type: IDDERASN1DN, Value: append([]byte(nil), c.RawSubject...)}
}

// PeerCertificate reads the certificates a peer sent in its CERT payloads (DER, its own
// first, then any intermediate CAs), checks them with VerifyCertificate at now and that
// id names the first one. It returns that certificate and its chain, leaf first.
func PeerCertificate(ders [][]byte, id Identity, roots []*x509.Certificate, now time.Time) (*x509.Certificate, []*x509.Certificate, error) {
	if len(ders) == 0 {
		return nil, nil, &CertError{CertInvalid, fmt.Sprintf("%s sent no certificate: there is no public key to check its signature with", id)}
	}
	var certs []*x509.Certificate
	for i, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, &CertError{CertInvalid, fmt.Sprintf("the peer's certificate %d does not parse: %v", i+1, err)}
		}
		certs = append(certs, c)
	}
	chain, err := VerifyCertificate(certs[0], certs[1:], roots, now)
	if err != nil {
		return certs[0], nil, err
	}
	if err := CheckIdentity(certs[0], id); err != nil {
		return certs[0], chain, err
	}
	return certs[0], chain, nil
}
