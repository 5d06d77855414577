package ikev2

import (
	"bytes"
	"crypto/hmac"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/ikesim/ikesim/ike"
)

// Authentication by method: what IKE_AUTH carries for a pre-shared key, a certificate
// (CERT, CERTREQ and a signature, RFC 7296 Sections 2.15 and 3.6 to 3.8, RFC 7427) or
// EAP (eap.go), and how the peer's AUTH is checked. exch_auth.go calls these hooks; the
// IKE_SA_INIT hooks announce signature hashes and fragmentation and ask for
// certificates.

// ikeSAExt is what certificates, EAP and fragmentation add to an IKE SA.
type ikeSAExt struct {
	sentHashes bool            // this side announced SIGNATURE_HASH_ALGORITHMS
	peerHashes []HashAlgorithm // the peer's SIGNATURE_HASH_ALGORITHMS; nil if none
	certReqs   [][]byte        // CA key hashes of the peer's CERTREQ payloads
	fragPeer   bool            // the peer announced IKEV2_FRAGMENTATION_SUPPORTED
	eap        *eapSession
	frag       fragState
	peerID     ike.Identity // the identity whose AUTH was checked
	// mismatch is the peer's AUTH that did not verify, next to the value computed here;
	// the failure that follows reports it (engine.go).
	mismatch *ike.AuthMismatch
	psk      []byte // the pre-shared key looked up for peerID (PSKFor)
	// pad is prf(Shared Secret, "Key Pad for IKEv2") of the key used last: each side
	// uses one key for its own AUTH and for the peer's. Let go once the IKE SA is up.
	pad *paddedKey
}

// paddedKey is a pre-shared key (a copy) and prf(it, "Key Pad for IKEv2").
type paddedKey struct{ psk, padded []byte }

// rekeyed is what the IKE SA that replaces this one keeps: the peer's identity and what
// was negotiated in IKE_SA_INIT, since the new IKE SA has no IKE_SA_INIT of its own.
func (e ikeSAExt) rekeyed() ikeSAExt {
	return ikeSAExt{sentHashes: e.sentHashes, peerHashes: e.peerHashes, fragPeer: e.fragPeer, peerID: e.peerID}
}

// usesCertificates reports whether a connection signs or checks signatures: pubkey
// on either side, or EAP, whose server authenticates with a certificate.
func usesCertificates(c *ike.Connection) bool {
	for _, m := range []ike.AuthMethod{c.Local.Method, c.Remote.Method} {
		if m == ike.AuthPubkey || isEAP(m) {
			return true
		}
	}
	return false
}

// wantsPeerCert reports whether this side checks the peer's certificate.
func (sa *ikeSA) wantsPeerCert() bool {
	m := sa.conn.Remote.Method
	return m == ike.AuthPubkey || (sa.initiator && isEAP(sa.conn.Local.Method))
}

// rfc7427 reports whether both sides announced Digital Signature authentication.
func (sa *ikeSA) rfc7427() bool { return sa.ext.sentHashes && sa.ext.peerHashes != nil }

// initNotifies are what an initiator adds to IKE_SA_INIT: N(IKEV2_FRAGMENTATION_SUPPORTED)
// and N(SIGNATURE_HASH_ALGORITHMS), as its connection asks.
func (sa *ikeSA) initNotifies() []Payload {
	var ps []Payload
	c := sa.conn
	var said []string
	if c.Fragmentation {
		ps = append(ps, &Notify{Type: IKEV2_FRAGMENTATION_SUPPORTED})
		said = append(said, "that we can fragment large messages (RFC 7383)")
	}
	if usesCertificates(c) && !c.NoSignatureAuth {
		ps = append(ps, signatureHashesNotify())
		sa.ext.sentHashes = true
		said = append(said, fmt.Sprintf("the hashes we accept in signatures, %s (RFC 7427)", hashList(announcedHashes)))
	}
	if len(said) > 0 {
		sa.d.action("Announce %s", strings.Join(said, ", and "))
	}
	return ps
}

// initResponse reads the extensions of an IKE_SA_INIT request and returns what the
// responder adds to its answer: CERTREQ when it wants the initiator's certificate, and
// the notifies of what both support.
func (sa *ikeSA) initResponse(req []Payload) []Payload {
	sa.readInitExtensions(req)
	c := sa.conn
	var ps []Payload
	if cr := sa.certReq(); cr != nil {
		ps = append(ps, cr...)
	}
	if c.Fragmentation && sa.ext.fragPeer {
		ps = append(ps, &Notify{Type: IKEV2_FRAGMENTATION_SUPPORTED})
		sa.d.action("Both sides support IKE fragmentation: an encrypted message whose datagram would exceed %d bytes will travel as SKF fragments", sa.fragmentSize())
	}
	if usesCertificates(c) && !c.NoSignatureAuth && sa.ext.peerHashes != nil {
		ps = append(ps, signatureHashesNotify())
		sa.ext.sentHashes = true
		sa.d.action("Both sides support RFC 7427 signature authentication: answer with the hashes we accept, %s", hashList(announcedHashes))
	}
	return ps
}

// readInitReply reads the extensions of the IKE_SA_INIT response (initiator).
func (sa *ikeSA) readInitReply(resp []Payload) {
	sa.readInitExtensions(resp)
	if sa.conn.Fragmentation && sa.ext.fragPeer {
		sa.d.action("The responder supports IKE fragmentation too: an encrypted message whose datagram would exceed %d bytes will travel as SKF fragments", sa.fragmentSize())
	}
}

// readInitExtensions notes the peer's SIGNATURE_HASH_ALGORITHMS,
// IKEV2_FRAGMENTATION_SUPPORTED and CERTREQ payloads.
func (sa *ikeSA) readInitExtensions(ps []Payload) {
	if n := notifyIn(ps, SIGNATURE_HASH_ALGORITHMS); n != nil {
		if hs, err := parseSignatureHashes(n.Data); err == nil {
			sa.ext.peerHashes = hs
		} else {
			sa.d.action("Ignore the peer's SIGNATURE_HASH_ALGORITHMS: %v", err)
		}
	}
	sa.ext.fragPeer = notifyIn(ps, IKEV2_FRAGMENTATION_SUPPORTED) != nil
	sa.readCertReqs(ps)
}

// readCertReqs notes the CA key hashes of the peer's CERTREQ payloads.
func (sa *ikeSA) readCertReqs(ps []Payload) {
	for _, p := range ps {
		if cr, ok := p.(*CertReq); ok && cr.Encoding == CertX509Signature {
			for i := 0; i+20 <= len(cr.Data); i += 20 {
				sa.ext.certReqs = append(sa.ext.certReqs, cr.Data[i:i+20])
			}
		}
	}
}

// certReq is the CERTREQ this side sends when it will check the peer's certificate: the
// SHA-1 hashes of the public keys of the CAs it trusts (RFC 7296, Section 3.7).
func (sa *ikeSA) certReq() []Payload {
	c := sa.conn
	if !sa.wantsPeerCert() || len(c.CACerts) == 0 {
		return nil
	}
	var data []byte
	var names []string
	for _, ca := range c.CACerts {
		data = append(data, ike.CAKeyHash(ca)...)
		names = append(names, fmt.Sprintf("%q", ike.Subject(ca)))
	}
	sa.d.action("Ask for the peer's certificate with CERTREQ: it lists the SHA-1 hash of the public key of each CA we trust (%s)",
		strings.Join(names, ", "))
	return []Payload{&CertReq{Encoding: CertX509Signature, Data: data}}
}

// signedOctets are the octets an AUTH payload covers: the sender's IKE_SA_INIT message,
// the peer's nonce and prf(SK_p, ID') of the sender's identity.
//
// RFC 7296, Section 2.15
func (sa *ikeSA) signedOctets(forInitiator bool, id ike.Identity) []byte {
	if forInitiator {
		return SignedOctets(sa.prf, sa.initRequest, sa.nr, sa.keys.SKpi, id)
	}
	return SignedOctets(sa.prf, sa.initReply, sa.ni, sa.keys.SKpr, id)
}

// SignedOctets are the octets an AUTH payload covers: realMessage (the sender's
// IKE_SA_INIT message as sent), the peer's nonce and prf(SK_p, RestOfIDPayload) of the
// sender's identity, with SK_pi for the initiator and SK_pr for the responder.
//
// RFC 7296, Section 2.15
func SignedOctets(prf *ike.PRFAlg, realMessage, peerNonce, skp []byte, id ike.Identity) []byte {
	maced := prf.Sum(skp, idBody(id))
	out := make([]byte, 0, len(realMessage)+len(peerNonce)+len(maced))
	return append(append(append(out, realMessage...), peerNonce...), maced...)
}

// PSKAuth is the AUTH data of a pre-shared key over signed octets:
// prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>).
//
// RFC 7296, Section 2.15
func PSKAuth(prf *ike.PRFAlg, psk, signedOctets []byte) []byte {
	return prf.Sum(prf.Sum(psk, []byte(keyPad)), signedOctets)
}

// role names the initiator or the responder.
func role(initiator bool) string {
	if initiator {
		return "initiator"
	}
	return "responder"
}

// octetsNames says in the RFC's words what signedOctets covers for one side.
func octetsNames(forInitiator bool) string {
	if forInitiator {
		return "IKE_SA_INIT request | Nr | prf(SK_pi, IDi)"
	}
	return "IKE_SA_INIT response | Ni | prf(SK_pr, IDr)"
}

// psk is the pre-shared key of a side: the one configured, or the one looked up for the
// local identity and the peer's (PSKFor). Once the peer's AUTH verified with a key
// looked up, both directions use that key.
func (sa *ikeSA) psk(side ike.AuthConfig, peer ike.Identity) []byte {
	if side.PSKFor == nil {
		return side.PSK
	}
	if sa.ext.psk != nil {
		return sa.ext.psk
	}
	return side.PSKFor(sa.conn.Local.ID, peer)
}

// localAuth makes this side's CERT payloads and AUTH payload by its method. An EAP
// client sends neither before EAP; after EAP-Success the AUTH uses the EAP key.
func (sa *ikeSA) localAuth() ([]Payload, *Auth, error) {
	c := sa.conn
	me := c.Local
	if sa.ext.eap != nil && sa.ext.eap.succeeded {
		sa.d.action("Compute our AUTH = prf(prf(key, \"Key Pad for IKEv2\"), %s) with %s as the key",
			octetsNames(sa.initiator), sa.ext.eap.keyName(sa.initiator))
		return nil, sa.eapAuth(sa.initiator, me.ID), nil
	}
	switch {
	case me.Method == "" || me.Method == ike.AuthPSK:
		psk := sa.psk(me, sa.ext.peerID)
		if len(psk) == 0 {
			return nil, nil, fmt.Errorf("no pre-shared key for %s", me.ID)
		}
		auth := &Auth{Method: AuthSharedKeyMIC, Data: sa.pskAuth(psk, sa.initiator, me.ID)}
		if sa.initiator {
			sa.d.action("Compute AUTH = prf(prf(PSK, \"Key Pad for IKEv2\"), IKE_SA_INIT request | Nr | prf(SK_pi, IDi)) to prove we know the pre-shared key")
		} else {
			sa.d.action("Compute our AUTH = prf(prf(PSK, \"Key Pad for IKEv2\"), IKE_SA_INIT response | Ni | prf(SK_pr, IDr))")
		}
		return nil, auth, nil
	case me.Method == ike.AuthPubkey:
		return sa.signAuth()
	case isEAP(me.Method) && sa.initiator:
		sa.d.action("Send no AUTH payload: ask to authenticate with %s once the responder has proven itself with its certificate (RFC 7296 2.16)",
			eapMethodName(me.Method))
		return nil, nil, nil
	}
	return nil, nil, fmt.Errorf("connection %s: local authentication %q is not supported here", c.Name, me.Method)
}

// signAuth makes the CERT payloads and the signature AUTH payload.
func (sa *ikeSA) signAuth() ([]Payload, *Auth, error) {
	me := sa.conn.Local
	if len(me.Certs) == 0 || me.Key == nil {
		return nil, nil, fmt.Errorf("no certificate and private key for %s", me.ID)
	}
	leaf := me.Certs[0]
	scheme, err := chooseScheme(me.Key.Public(), sa.rfc7427(), sa.ext.peerHashes, me.RSAPSS)
	if err != nil {
		return nil, nil, err
	}
	sa.noteCertReq(leaf)
	data, err := scheme.sign(me.Key, sa.signedOctets(sa.initiator, me.ID), sa.d.env.Rand)
	if err != nil {
		return nil, nil, err
	}
	var certs []Payload
	for _, c := range me.Certs {
		certs = append(certs, &Cert{Encoding: CertX509Signature, Data: c.Raw})
	}
	how := fmt.Sprintf("AUTH method %v", scheme.method)
	if scheme.method == AuthDigitalSignature {
		how = "AUTH method 14, Digital Signature (RFC 7427): the AUTH data starts with a length byte and an ASN.1 AlgorithmIdentifier that names the algorithm, then the signature"
	}
	sa.d.action("Send our certificate %q (%s key) in CERT; sign %s with its private key: %s, %s; the signature is %s",
		ike.Subject(leaf), ike.KeyName(leaf.PublicKey), octetsNames(sa.initiator), scheme.name, how, scheme.determinism())
	return certs, &Auth{Method: scheme.method, Data: data}, nil
}

// noteCertReq says whether our certificate answers the peer's CERTREQ.
func (sa *ikeSA) noteCertReq(leaf *x509.Certificate) {
	if len(sa.ext.certReqs) == 0 {
		return
	}
	for _, ca := range append(append([]*x509.Certificate(nil), sa.conn.Local.Certs...), sa.conn.CACerts...) {
		if !bytes.Equal(ca.RawSubject, leaf.RawIssuer) {
			continue
		}
		for _, h := range sa.ext.certReqs {
			if bytes.Equal(h, ike.CAKeyHash(ca)) {
				sa.d.action("The peer's CERTREQ names the key of %q, which issued our certificate", ike.Subject(ca))
				return
			}
		}
	}
	sa.d.action("The peer's CERTREQ lists %d CA key hash(es); we hold no certificate of our issuer %q to compare them with: send our certificate anyway",
		len(sa.ext.certReqs), ike.Issuer(leaf))
}

// verifyPeerAuth checks the peer's AUTH payload (and, for certificates, its CERT
// payloads) for the identity peer, by the method configured for the peer. It says what
// it checks in the trace; its error says why the check failed.
func (sa *ikeSA) verifyPeerAuth(peer ike.Identity, auth *Auth, inner []Payload) error {
	c := sa.conn
	fromInit := !sa.initiator
	sa.ext.peerID = peer
	if s := sa.ext.eap; s != nil && s.succeeded {
		sa.d.action("Verify the %s's AUTH payload with %s as the key", role(fromInit), s.keyName(fromInit))
		if want := sa.eapAuth(fromInit, peer).Data; auth.Method != AuthSharedKeyMIC || !hmac.Equal(auth.Data, want) {
			method := c.Local.Method
			if fromInit {
				method = c.Remote.Method
			}
			sa.ext.mismatch = &ike.AuthMismatch{Payload: "AUTH", Method: string(method), Received: auth.Data, Computed: want}
			return fmt.Errorf("the AUTH payload after EAP does not verify with %s", s.keyName(fromInit))
		}
		return nil
	}
	switch m := c.Remote.Method; {
	case m == "" || m == "psk":
		psk := sa.psk(c.Remote, peer)
		if len(psk) == 0 {
			return fmt.Errorf("no pre-shared key is shared with %s", peer)
		}
		sa.ext.psk = psk
		want := sa.pskAuth(psk, fromInit, peer)
		ok := auth.Method == AuthSharedKeyMIC && hmac.Equal(auth.Data, want)
		if !ok {
			// The two values side by side, so that a student sees the mismatch; they are
			// MACs over public octets and say nothing of the key.
			sa.d.action("AUTH received from the %s: %x; AUTH we computed with our pre-shared key: %x; they differ",
				role(fromInit), auth.Data, want)
			sa.ext.mismatch = &ike.AuthMismatch{Payload: "AUTH", Method: "psk", Received: auth.Data, Computed: want}
		}
		if fromInit {
			sa.d.action("Verify the initiator's identity %s and its AUTH payload with the pre-shared key", peer)
			if !ok {
				return fmt.Errorf("the AUTH payload does not verify (pre-shared keys differ)")
			}
		} else {
			sa.d.action("Verify the responder's AUTH payload with the pre-shared key")
			if !ok {
				return fmt.Errorf("the responder's AUTH does not verify (pre-shared keys differ)")
			}
		}
		return nil
	case m == ike.AuthPubkey || (!fromInit && isEAP(c.Local.Method)):
		return sa.verifySignature(peer, auth, inner)
	}
	return fmt.Errorf("connection %s: remote authentication %q is not supported here", c.Name, c.Remote.Method)
}

// verifySignature checks the peer's certificate chain on the engine's clock, that the
// identity is in the certificate, and the signature in AUTH.
func (sa *ikeSA) verifySignature(peer ike.Identity, auth *Auth, inner []Payload) error {
	var ders [][]byte
	for _, p := range inner {
		if cp, ok := p.(*Cert); ok {
			if cp.Encoding != CertX509Signature {
				return fmt.Errorf("CERT encoding %v is not supported (only X.509 signature certificates)", cp.Encoding)
			}
			ders = append(ders, cp.Data)
		}
	}
	now := sa.d.env.Clock.Now()
	leaf, chain, err := ike.PeerCertificate(ders, peer, sa.conn.CACerts, now)
	if chain == nil {
		if leaf != nil {
			sa.d.action("Check the peer's certificate %q (%s key, issued by %q) against our trust store at %s",
				ike.Subject(leaf), ike.KeyName(leaf.PublicKey), ike.Issuer(leaf), now.UTC().Format("2006-01-02 15:04:05"))
		}
		return err
	}
	var path []string
	for _, c := range chain {
		path = append(path, fmt.Sprintf("%q", ike.Subject(c)))
	}
	sa.d.action("Check the peer's certificate: chain %s ends in a CA we trust; valid from %s to %s, now is %s; key usage allows signatures",
		strings.Join(path, " → "), leaf.NotBefore.UTC().Format("2006-01-02"), leaf.NotAfter.UTC().Format("2006-01-02"),
		now.UTC().Format("2006-01-02 15:04:05"))
	if err != nil {
		return err
	}
	sig, err := parseAuthSignature(auth.Method, auth.Data)
	if err != nil {
		return err
	}
	if sig.scheme.method == AuthDigitalSignature && !slices.Contains(announcedHashes, sig.scheme.hashID) {
		return fmt.Errorf("the signature uses hash %v, which we did not announce", sig.scheme.hashID)
	}
	if err := sig.verify(leaf.PublicKey, sa.signedOctets(!sa.initiator, peer)); err != nil {
		return err
	}
	sa.d.action("The identity %s is in the certificate; its %s signature over %s verifies with the certificate's public key",
		peer, sig.scheme.name, octetsNames(!sa.initiator))
	return nil
}

// responderAuth is the start of the responder's IKE_AUTH answer to the request req:
// IDr, CERT and AUTH; after EAP the AUTH alone.
func (sa *ikeSA) responderAuth(req []Payload) ([]Payload, error) {
	sa.readCertReqs(req)
	certs, auth, err := sa.localAuth()
	if err != nil {
		return nil, err
	}
	if sa.ext.eap != nil && sa.ext.eap.succeeded {
		return []Payload{auth}, nil
	}
	ps := append([]Payload{toID(sa.conn.Local.ID, true)}, certs...)
	return append(ps, auth), nil
}
