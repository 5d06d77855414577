package ikev1

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"

	"github.com/ikesim/ikesim/ike"
)

// Phase 1 with RSA signatures (RFC 2409, Sections 5 and 5.1): the peers ask for each
// other's certificates with CR, send them in CERT and sign HASH_I and HASH_R with their
// private keys; SKEYID comes from the nonces and g^xy, no shared secret.
//
//	Main Mode                                  Aggressive Mode
//	HDR, SA                    -->             HDR, SA, KE, Ni, IDii, CR           -->
//	                           <-- HDR, SA         <-- HDR, SA, KE, Nr, IDir, CERT, SIG_R
//	HDR, KE, Ni, CR            -->             HDR*, CERT, SIG_I                   -->
//	                           <-- HDR, KE, Nr, CR
//	HDR*, IDii, CERT, SIG_I    -->
//	                           <-- HDR*, IDir, CERT, SIG_R

// Certificate types of CERT and CR payloads (RFC 2408, Section 3.9).
const certX509Signature = 4

// signatures reports whether a connection authenticates phase 1 with RSA signatures.
func signatures(c *ike.Connection) bool { return c.Local.Method == ike.AuthPubkey }

// checkSignatureConfig checks a connection that signs: an RSA key with a certificate,
// and a peer that signs too.
func checkSignatureConfig(c *ike.Connection) error {
	if !signatures(c) {
		if c.Local.Method != "" && c.Local.Method != ike.AuthPSK {
			return fmt.Errorf("authentication %q is not supported (psk, pubkey)", c.Local.Method)
		}
		return nil
	}
	if c.Remote.Method != ike.AuthPubkey {
		return errors.New("IKEv1 authenticates both sides the same way: with local auth pubkey, remote auth is pubkey too")
	}
	if len(c.Local.Certs) == 0 || c.Local.Key == nil {
		return errors.New("signatures need a certificate and its private key")
	}
	if _, ok := c.Local.Key.(*rsa.PrivateKey); !ok {
		return fmt.Errorf("IKEv1 signs with RSA; the %s key of this certificate is not supported", ike.KeyName(c.Local.Key.Public()))
	}
	return nil
}

// skeyid is SKEYID for the connection's method, and how it was made.
//
// RFC 2409, Section 5
func (sa *isakmpSA) skeyid() ([]byte, string, error) {
	if signatures(sa.conn) {
		return SKEYIDSignature(sa.prf, sa.ni, sa.nr, sa.gxy), "SKEYID = prf(Ni_b | Nr_b, g^xy)", nil
	}
	psk := sa.conn.Local.PSK
	if len(psk) == 0 {
		return nil, "", fmt.Errorf("no pre-shared key for connection %s", sa.conn.Name)
	}
	return SKEYIDPreShared(sa.prf, psk, sa.ni, sa.nr), "SKEYID = prf(pre-shared key, Ni | Nr)", nil
}

// certRequests are the CR payloads of a side that signs: one per trusted CA, naming it
// by its distinguished name.
//
// RFC 2408, Section 3.10
func (sa *isakmpSA) certRequests() []Payload {
	if !signatures(sa.conn) {
		return nil
	}
	var ps []Payload
	var names []string
	for _, ca := range sa.conn.CACerts {
		ps = append(ps, &CertReq{Type: certX509Signature, Authority: ca.RawSubject})
		names = append(names, fmt.Sprintf("%q", ike.Subject(ca)))
	}
	if len(ps) > 0 {
		sa.action("Ask for the peer's certificate: a CR payload names each CA we trust by its distinguished name (%s)",
			strings.Join(names, ", "))
	}
	return ps
}

// proof is what proves this side's identity after its ID payload: HASH_I or HASH_R,
// or with signatures CERT and SIG_I or SIG_R.
//
// RFC 2409, Sections 5 and 5.1
func (sa *isakmpSA) proof(initiator bool, idB []byte) ([]Payload, error) {
	hash, name := sa.hashR(idB), "HASH_R"
	if initiator {
		hash, name = sa.hashI(idB), "HASH_I"
	}
	if !signatures(sa.conn) {
		return []Payload{NewHash(hash)}, nil
	}
	me := sa.conn.Local
	sig, err := rsa.SignPKCS1v15(nil, me.Key.(*rsa.PrivateKey), crypto.Hash(0), hash)
	if err != nil {
		return nil, fmt.Errorf("cannot sign %s: %v", name, err)
	}
	var ps []Payload
	for _, c := range me.Certs {
		ps = append(ps, &Cert{Encoding: certX509Signature, Data: c.Raw})
	}
	sa.action("Sign %s with the private key of our certificate %q (%s): SIG_%s is %s padded with PKCS#1 v1.5 and raised to the private exponent (no DigestInfo), deterministic",
		name, ike.Subject(me.Certs[0]), ike.KeyName(me.Certs[0].PublicKey), name[len(name)-1:], name)
	return append(ps, &Sig{dataPayload{Data: sig}}), nil
}

// verifySignature checks the peer's certificate (from ps) against our trust store on the
// engine's clock, that the identity is in it, and SIG over the expected hash.
func (sa *isakmpSA) verifySignature(ps []Payload, sigData []byte, idB []byte, id ike.Identity, peerIsInitiator bool) error {
	hash, name := sa.hashR(idB), "SIG_R"
	if peerIsInitiator {
		hash, name = sa.hashI(idB), "SIG_I"
	}
	var ders [][]byte
	for _, p := range ps {
		if c, ok := p.(*Cert); ok {
			if c.Encoding != certX509Signature {
				return fmt.Errorf("certificate encoding %d is not supported (only X.509 signature certificates)", c.Encoding)
			}
			ders = append(ders, c.Data)
		}
	}
	now := sa.d.env.Clock.Now()
	leaf, chain, err := ike.PeerCertificate(ders, id, sa.conn.CACerts, now)
	if chain == nil {
		return err
	}
	sa.action("Check the peer's certificate %q: it chains to a CA we trust, is valid at %s and its key may sign",
		ike.Subject(leaf), now.UTC().Format("2006-01-02 15:04:05"))
	if err != nil {
		return err
	}
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("the peer's certificate holds an %s key, not RSA", ike.KeyName(leaf.PublicKey))
	}
	if rsa.VerifyPKCS1v15(pub, crypto.Hash(0), hash, sigData) != nil {
		return fmt.Errorf("%s does not verify with the public key of %q", name, ike.Subject(leaf))
	}
	sa.action("%s verifies with the certificate's public key: the peer holds its private key", name)
	return nil
}
