package ike

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Certificate dissection for the CERT payloads of IKEv1 (RFC 2408, Section 3.9) and
// IKEv2 (RFC 7296, Section 3.6), and for the CA hashes of IKEv2's CERTREQ (Section 3.7).
// crypto/x509 reads the values; the byte offsets of each part come from walking the DER
// (RFC 5280, Section 4.1) with cryptobyte, so that a reader can see where each field is.

// DissectCertificate adds to parent a field for the DER certificate der, which starts at
// offset base: version, serial number, signature algorithm, issuer, validity, subject,
// public key (algorithm and size), the extensions (subject alternative names, key usage,
// extended key usage, basic constraints, key identifiers) and the signature, each with
// what it is for. A certificate that does not parse keeps its bytes and says why.
func DissectCertificate(parent *Field, der []byte, base int) *Field {
	cf := parent.AddExplained("X.509 Certificate", "", base, len(der),
		"A certificate (RFC 5280): a CA's signature over a subject's name and public key")
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		cf.Value = HexShort(der)
		cf.Error = "not a certificate crypto/x509 can read: " + err.Error()
		return cf
	}
	cf.Value = fmt.Sprintf("%s, issued by %s", nameOf(cert.Subject.String()), nameOf(cert.Issuer.String()))
	parts, ok := certParts(der)
	if !ok {
		cf.Error = "the DER structure of the certificate is not as RFC 5280 lays it out"
		return cf
	}
	at := func(p span) (int, int) { return base + p.off, p.n }
	add := func(parent *Field, name, value string, p span, explain string) *Field {
		o, n := at(p)
		return parent.AddExplained(name, value, o, n, explain)
	}
	tbs := add(cf, "To Be Signed", "", parts.tbs, "The part the issuer signs: everything but the signature")
	add(tbs, "Version", fmt.Sprintf("v%d", cert.Version), parts.version,
		"X.509 version; v3 carries extensions")
	add(tbs, "Serial Number", serialString(cert.SerialNumber), parts.serial,
		"Unique among the certificates of this issuer; revocation lists name certificates by it")
	add(tbs, "Signature Algorithm", cert.SignatureAlgorithm.String(), parts.sigAlgInner,
		"The algorithm the issuer signs with (repeated outside the signed part)")
	add(tbs, "Issuer", cert.Issuer.String(), parts.issuer,
		"The CA that signed this certificate: the peer must trust it, or a chain up to a CA it trusts")
	v := add(tbs, "Validity", fmt.Sprintf("%s to %s", cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339)),
		parts.validity, "The certificate is only accepted between these times, on the receiver's clock")
	add(v, "Not Before", cert.NotBefore.UTC().Format(time.RFC3339), parts.notBefore, "Not valid before this time")
	add(v, "Not After", cert.NotAfter.UTC().Format(time.RFC3339), parts.notAfter, "Expired after this time")
	add(tbs, "Subject", cert.Subject.String(), parts.subject,
		"Whom the certificate names; an IKE identity of type DER_ASN1_DN must equal it")
	pk := add(tbs, "Subject Public Key Info", KeyName(cert.PublicKey), parts.spki,
		"The subject's public key: AUTH payloads signed with the matching private key verify with it")
	add(pk, "Public Key Algorithm", cert.PublicKeyAlgorithm.String(), parts.spkiAlg, "The kind of key")
	add(pk, "Public Key", keySize(cert)+", "+HexShort(parts.spkiKeyBytes), parts.spkiKey, "The key itself")
	if parts.extensions.n > 0 {
		ef := add(tbs, "Extensions", fmt.Sprint(len(parts.exts)), parts.extensions,
			"What the certificate may be used for, and further names of its subject")
		for _, e := range parts.exts {
			name, value, explain := extensionText(cert, e.oid)
			if e.critical {
				value += " (critical)"
			}
			add(ef, name, value, e.span, explain)
		}
	}
	add(cf, "Signature Algorithm", cert.SignatureAlgorithm.String(), parts.sigAlg,
		"How the issuer signed: a hash and a public key algorithm")
	add(cf, "Signature", HexShort(cert.Signature), parts.sig,
		"The issuer's signature over the signed part: verifies with the issuer's public key")
	return cf
}

// nameOf shortens a distinguished name to its common name, when it has one.
func nameOf(dn string) string {
	for _, rdn := range strings.Split(dn, ",") {
		if v, ok := strings.CutPrefix(rdn, "CN="); ok {
			return v
		}
	}
	return dn
}

func serialString(n *big.Int) string {
	if n == nil {
		return ""
	}
	b := n.Bytes()
	if len(b) <= 8 {
		return fmt.Sprintf("%d (0x%x)", n, b)
	}
	return hex.EncodeToString(b)
}

// keySize says how strong the certificate's key is: "2048 bits", "curve P-256".
func keySize(c *x509.Certificate) string {
	switch name := KeyName(c.PublicKey); {
	case strings.HasPrefix(name, "RSA "):
		return strings.TrimPrefix(name, "RSA ") + " bits"
	case strings.HasPrefix(name, "ECDSA "):
		return "curve " + strings.TrimPrefix(name, "ECDSA ")
	case name == "Ed25519":
		return "256 bits"
	default:
		return name
	}
}

var (
	oidSubjectAltName   = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidAuthorityKeyID   = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLDistribution  = asn1.ObjectIdentifier{2, 5, 29, 31}
)

// extensionText names an extension and says what it holds (RFC 5280, Section 4.2).
func extensionText(c *x509.Certificate, oid asn1.ObjectIdentifier) (name, value, explain string) {
	switch {
	case oid.Equal(oidSubjectAltName):
		var names []string
		for _, d := range c.DNSNames {
			names = append(names, "DNS:"+d)
		}
		for _, e := range c.EmailAddresses {
			names = append(names, "email:"+e)
		}
		for _, ip := range c.IPAddresses {
			names = append(names, "IP:"+ip.String())
		}
		for _, u := range c.URIs {
			names = append(names, "URI:"+u.String())
		}
		return "Subject Alternative Names", strings.Join(names, ", "),
			"Further identities of the subject: an IKE identity (FQDN, email, IP address) must be one of them or the subject"
	case oid.Equal(oidKeyUsage):
		return "Key Usage", keyUsageString(c.KeyUsage),
			"What the key may do; IKE needs digitalSignature (strongSwan also accepts nonRepudiation)"
	case oid.Equal(oidExtKeyUsage):
		var us []string
		for _, u := range c.ExtKeyUsage {
			us = append(us, extKeyUsageNames[u])
		}
		for _, u := range c.UnknownExtKeyUsage {
			us = append(us, u.String())
		}
		return "Extended Key Usage", strings.Join(us, ", "),
			"Purposes the key is for; some IKE peers want serverAuth or IKE intermediate (RFC 4945)"
	case oid.Equal(oidBasicConstraints):
		v := "not a CA"
		if c.IsCA {
			v = "CA"
			if c.MaxPathLen > 0 || c.MaxPathLenZero {
				v += fmt.Sprintf(", path length %d", c.MaxPathLen)
			}
		}
		return "Basic Constraints", v, "Whether the subject may sign certificates itself"
	case oid.Equal(oidSubjectKeyID):
		return "Subject Key Identifier", hex.EncodeToString(c.SubjectKeyId), "Names the subject's key, for building chains"
	case oid.Equal(oidAuthorityKeyID):
		return "Authority Key Identifier", hex.EncodeToString(c.AuthorityKeyId), "Names the issuer's key: the CA certificate with this subject key identifier signed this one"
	case oid.Equal(oidCRLDistribution):
		return "CRL Distribution Points", strings.Join(c.CRLDistributionPoints, ", "), "Where the issuer publishes revoked serial numbers"
	}
	return "Extension " + oid.String(), "", "An extension ikesim does not dissect"
}

var keyUsageNames = []struct {
	u    x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "digitalSignature"}, {x509.KeyUsageContentCommitment, "nonRepudiation"},
	{x509.KeyUsageKeyEncipherment, "keyEncipherment"}, {x509.KeyUsageDataEncipherment, "dataEncipherment"},
	{x509.KeyUsageKeyAgreement, "keyAgreement"}, {x509.KeyUsageCertSign, "keyCertSign"},
	{x509.KeyUsageCRLSign, "cRLSign"}, {x509.KeyUsageEncipherOnly, "encipherOnly"}, {x509.KeyUsageDecipherOnly, "decipherOnly"},
}

func keyUsageString(u x509.KeyUsage) string {
	var names []string
	for _, k := range keyUsageNames {
		if u&k.u != 0 {
			names = append(names, k.name)
		}
	}
	return strings.Join(names, ", ")
}

var extKeyUsageNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny: "any", x509.ExtKeyUsageServerAuth: "serverAuth", x509.ExtKeyUsageClientAuth: "clientAuth",
	x509.ExtKeyUsageCodeSigning: "codeSigning", x509.ExtKeyUsageEmailProtection: "emailProtection",
	x509.ExtKeyUsageIPSECEndSystem: "ipsecEndSystem", x509.ExtKeyUsageIPSECTunnel: "ipsecTunnel",
	x509.ExtKeyUsageIPSECUser: "ipsecUser", x509.ExtKeyUsageTimeStamping: "timeStamping", x509.ExtKeyUsageOCSPSigning: "OCSPSigning",
}

// span is where a DER element lies in the certificate.
type span struct{ off, n int }

type certExt struct {
	span
	oid      asn1.ObjectIdentifier
	critical bool
}

// certLayout is where each part of a certificate lies (RFC 5280, Section 4.1).
type certLayout struct {
	tbs, version, serial, sigAlgInner, issuer, validity, notBefore, notAfter, subject span
	spki, spkiAlg, spkiKey, extensions, sigAlg, sig                                   span
	spkiKeyBytes                                                                      []byte
	exts                                                                              []certExt
}

// certParts walks the DER of a certificate:
//
//	Certificate  ::=  SEQUENCE  { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
//	TBSCertificate  ::=  SEQUENCE  { [0] version, serialNumber, signature, issuer, validity,
//	    subject, subjectPublicKeyInfo, [1] issuerUniqueID, [2] subjectUniqueID, [3] extensions }
func certParts(der []byte) (certLayout, bool) {
	var l certLayout
	// Every string below is a slice of der: where it starts shows in its capacity.
	pos := func(rest cryptobyte.String) int { return cap(der) - cap(rest) }
	// element reads the next element of s whole and records where it is.
	element := func(s *cryptobyte.String, tag cbasn1.Tag, out *cryptobyte.String, sp *span) bool {
		off := pos(*s)
		if !s.ReadASN1Element(out, tag) {
			return false
		}
		*sp = span{off, len(*out)}
		return true
	}
	// contents returns an element's contents, remembering where they start.
	contents := func(e cryptobyte.String, tag cbasn1.Tag) (cryptobyte.String, bool) {
		var c cryptobyte.String
		return c, e.ReadASN1(&c, tag)
	}
	input := cryptobyte.String(der)
	var cert, tbsEl cryptobyte.String
	if !input.ReadASN1(&cert, cbasn1.SEQUENCE) {
		return l, false
	}
	if !element(&cert, cbasn1.SEQUENCE, &tbsEl, &l.tbs) {
		return l, false
	}
	tbs, ok := contents(tbsEl, cbasn1.SEQUENCE)
	if !ok {
		return l, false
	}
	var el cryptobyte.String
	verTag := cbasn1.Tag(0).Constructed().ContextSpecific()
	if tbs.PeekASN1Tag(verTag) && !element(&tbs, verTag, &el, &l.version) {
		return l, false
	}
	var validity cryptobyte.String
	if !element(&tbs, cbasn1.INTEGER, &el, &l.serial) ||
		!element(&tbs, cbasn1.SEQUENCE, &el, &l.sigAlgInner) ||
		!element(&tbs, cbasn1.SEQUENCE, &el, &l.issuer) ||
		!element(&tbs, cbasn1.SEQUENCE, &validity, &l.validity) ||
		!element(&tbs, cbasn1.SEQUENCE, &el, &l.subject) ||
		!element(&tbs, cbasn1.SEQUENCE, &el, &l.spki) {
		return l, false
	}
	// Validity ::= SEQUENCE { notBefore Time, notAfter Time }: UTCTime or GeneralizedTime.
	if v, ok := contents(validity, cbasn1.SEQUENCE); ok {
		for _, sp := range []*span{&l.notBefore, &l.notAfter} {
			var tag cbasn1.Tag
			off := pos(v)
			var t cryptobyte.String
			if !v.ReadAnyASN1Element(&t, &tag) {
				return l, false
			}
			*sp = span{off, len(t)}
		}
	}
	// SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
	spki := cryptobyte.String(der[l.spki.off : l.spki.off+l.spki.n])
	if s, ok := contents(spki, cbasn1.SEQUENCE); ok {
		var alg, key cryptobyte.String
		if !element(&s, cbasn1.SEQUENCE, &alg, &l.spkiAlg) || !element(&s, cbasn1.BIT_STRING, &key, &l.spkiKey) {
			return l, false
		}
		if k, ok := contents(key, cbasn1.BIT_STRING); ok && len(k) > 0 {
			l.spkiKeyBytes = k[1:] // the first byte counts the unused bits
		}
	}
	for _, tag := range []cbasn1.Tag{cbasn1.Tag(1).ContextSpecific(), cbasn1.Tag(2).ContextSpecific()} {
		var skip cryptobyte.String
		if tbs.PeekASN1Tag(tag) && !tbs.ReadASN1(&skip, tag) {
			return l, false
		}
	}
	extTag := cbasn1.Tag(3).Constructed().ContextSpecific()
	if tbs.PeekASN1Tag(extTag) {
		var exts cryptobyte.String
		if !element(&tbs, extTag, &exts, &l.extensions) {
			return l, false
		}
		outer, _ := contents(exts, extTag)
		list, ok := contents(outer, cbasn1.SEQUENCE)
		if !ok {
			return l, false
		}
		for !list.Empty() {
			var e certExt
			var ext cryptobyte.String
			if !element(&list, cbasn1.SEQUENCE, &ext, &e.span) {
				return l, false
			}
			body, ok := contents(ext, cbasn1.SEQUENCE)
			if !ok || !body.ReadASN1ObjectIdentifier(&e.oid) {
				return l, false
			}
			if body.PeekASN1Tag(cbasn1.BOOLEAN) && !body.ReadASN1Boolean(&e.critical) {
				return l, false
			}
			l.exts = append(l.exts, e)
		}
	}
	if !element(&cert, cbasn1.SEQUENCE, &el, &l.sigAlg) || !element(&cert, cbasn1.BIT_STRING, &el, &l.sig) {
		return l, false
	}
	return l, true
}

// CAName names the CA among cas whose public key has the SHA-1 hash of a CERTREQ
// (RFC 7296, Section 3.7), or "" when none has.
func CAName(hash []byte, cas []*x509.Certificate) string {
	for _, c := range cas {
		if bytes.Equal(CAKeyHash(c), hash) {
			return c.Subject.String()
		}
	}
	return ""
}
