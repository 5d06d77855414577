package ikev1

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/testenv"
)

// withCert makes a connection sign with a certificate of the test PKI (its key is
// keyName's) and trust the test CA.
func withCert(t *testing.T, c *ike.Connection, cert, keyName string) {
	certs, err := ike.ParseCertificates(testenv.PKI(t, cert+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := ike.ParsePrivateKey(testenv.PKI(t, keyName+".key"))
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := ike.ParseCertificates(testenv.PKI(t, "ca.pem"))
	c.Local = ike.AuthConfig{Method: "pubkey", ID: c.Local.ID, Certs: certs, Key: key}
	c.Remote = ike.AuthConfig{Method: "pubkey", ID: c.Remote.ID}
	c.CACerts = []*x509.Certificate{ca[0]}
}

// TestRSASignatures runs main and aggressive mode with RSA signatures, and the
// certificates a peer must refuse.
func TestRSASignatures(t *testing.T) {
	for _, tc := range []struct {
		name        string
		aggressive  bool
		certA, keyA string
		idA         string
		fail        string // the responder's error, empty for success
		failOnA     string // or the initiator's
	}{
		{name: "main mode", certA: "gw-a", keyA: "gw-a", idA: "gw-a.example"},
		{name: "aggressive mode", aggressive: true, certA: "gw-a", keyA: "gw-a", idA: "gw-a.example"},
		{name: "expired", certA: "gw-a-expired", keyA: "gw-a", idA: "gw-a.example", fail: "expired on 2025-06-30"},
		{name: "unknown CA", certA: "gw-a-rogue", keyA: "gw-a", idA: "gw-a.example", fail: "not a trusted CA"},
		{name: "identity not in the certificate", certA: "gw-a", keyA: "gw-a", idA: "a.example", fail: "identity a.example is not in certificate"},
		{name: "signature by another key", certA: "gw-a", keyA: "gw-b", idA: "gw-a.example", fail: "SIG_I does not verify"},
		{name: "aggressive, expired", aggressive: true, certA: "gw-a-expired", keyA: "gw-a", idA: "gw-a.example", fail: "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNet(t)
			ca, cb := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
			ca.Aggressive = tc.aggressive
			ca.Local.ID, cb.Remote.ID = mustIdentity(t, tc.idA), mustIdentity(t, tc.idA)
			ca.Remote.ID, cb.Local.ID = mustIdentity(t, "gw-b.example"), mustIdentity(t, "gw-b.example")
			withCert(t, ca, tc.certA, tc.keyA)
			withCert(t, cb, "gw-b", "gw-b")
			a, b := n.node("a", "192.0.2.1", ca), n.node("b", "192.0.2.2", cb)
			a.d.Acquire(1)
			n.run(10 * time.Second)
			if tc.fail != "" {
				if len(b.ikeUp) != 0 {
					t.Fatal("the responder accepted the certificate")
				}
				if !has(b.errors, "AUTHENTICATION-FAILED", tc.fail) {
					t.Errorf("responder errors %v, want AUTHENTICATION-FAILED and %q", b.errors, tc.fail)
				}
				return
			}
			if len(a.ikeUp) != 1 || len(b.ikeUp) != 1 || len(a.childUp) != 1 || len(b.childUp) != 1 {
				t.Fatalf("not up: %v %v", a.errors, b.errors)
			}
			checkChildPair(t, a.childUp[0], b.childUp[0])
			checkDissections(t, n)
			if !has(a.actions, "SKEYID = prf(Ni_b | Nr_b, g^xy)") || !has(b.actions, "SIG_I verifies") || !has(a.actions, "SIG_R verifies") {
				t.Errorf("actions do not show signature authentication: %v", a.actions)
			}
			var sawCR, sawSig bool
			for _, s := range n.dgrams {
				sum := s.dg.Info.Summary
				sawCR = sawCR || strings.Contains(sum, "CR")
				root := s.dg.Info.Dissect()
				sawSig = sawSig || root.Find("Signature") != nil
			}
			if !sawCR || !sawSig {
				t.Errorf("CR seen %v, SIG seen %v", sawCR, sawSig)
			}
		})
	}
}

func TestSignaturesNeedRSA(t *testing.T) {
	ca, _ := sitePair(t, "aes128-sha256-modp2048", "aes128-sha256")
	withCert(t, ca, "gw-a-p256", "gw-a-p256")
	if _, err := New(ike.Env{}, "a", []*ike.Connection{ca}); err == nil || !strings.Contains(err.Error(), "ECDSA") {
		t.Errorf("an ECDSA certificate is accepted: %v", err)
	}
}

func mustIdentity(t *testing.T, s string) ike.Identity {
	t.Helper()
	id, err := ike.ParseIdentity(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
