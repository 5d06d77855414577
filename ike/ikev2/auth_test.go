package ikev2

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/testenv"
)

func pkiCert(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	cs, err := ike.ParseCertificates(testenv.PKI(t, name+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

func pkiKey(t testing.TB, name string) crypto.Signer {
	t.Helper()
	k, err := ike.ParsePrivateKey(testenv.PKI(t, name+".key"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustID(t testing.TB, s string) ike.Identity {
	t.Helper()
	id, err := ike.ParseIdentity(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// side is one end of a certificate test: its certificate (and the key it certifies),
// its identity and what it trusts.
type side struct {
	cert, key string // PKI names; key defaults to cert
	id        string
	trust     []string
	pss       bool
	dn        bool // identify by the certificate's subject instead of id
}

// identity is the side's IKE identity.
func (s side) identity(t testing.TB) ike.Identity {
	if s.dn {
		return ike.SubjectIdentity(pkiCert(t, s.cert))
	}
	return mustID(t, s.id)
}

// certConn makes a connection that authenticates both ways with certificates.
func certConn(t testing.TB, local, remote string, me, peer side, ikeProps string) *ike.Connection {
	c := conn(t, local, remote, []string{ikeProps}, []string{"aes128gcm16"}, "")
	key := me.key
	if key == "" {
		key = me.cert
	}
	c.Local = ike.AuthConfig{Method: "pubkey", ID: me.identity(t), Certs: []*x509.Certificate{pkiCert(t, me.cert)},
		Key: pkiKey(t, key), RSAPSS: me.pss}
	c.Remote = ike.AuthConfig{Method: "pubkey", ID: peer.identity(t)}
	for _, n := range me.trust {
		c.CACerts = append(c.CACerts, pkiCert(t, n))
	}
	return c
}

func certPair(t testing.TB, a, b side, classic bool) (*world, *Daemon, *recorder, *recorder) {
	w := newWorld(t)
	ca := certConn(t, ipA, ipB, a, b, "aes128-sha256-x25519")
	cb := certConn(t, ipB, ipA, b, a, "aes128-sha256-x25519")
	ca.NoSignatureAuth, cb.NoSignatureAuth = classic, classic
	da, ra := w.add(ipA, ca, 1)
	_, rb := w.add(ipB, cb, 2)
	return w, da, ra, rb
}

var ca = []string{"ca"}

// TestCertificateAuthentication runs IKE_AUTH with certificates of every key type in
// the classic AUTH methods and in RFC 7427's, and with every certificate a peer must
// refuse: each failure ends in AUTHENTICATION_FAILED with its reason.
func TestCertificateAuthentication(t *testing.T) {
	gwA := side{cert: "gw-a", id: "gw-a.example", trust: ca}
	gwB := side{cert: "gw-b", id: "gw-b.example", trust: ca}
	tests := []struct {
		name    string
		a, b    side
		classic bool
		// for a success, the signature schemes a and b use; for a failure, the text
		// of the error on the side that rejects and which side that is
		wantA, wantB string
		fail         string
		failOn       string // "a" or "b"
	}{
		{name: "RSA, RFC 7427", a: gwA, b: gwB, wantA: "RSA PKCS#1 v1.5 with SHA-256", wantB: "RSA PKCS#1 v1.5 with SHA-256"},
		{name: "RSA, classic method 1", a: gwA, b: gwB, classic: true, wantA: "RSA PKCS#1 v1.5 with SHA-1", wantB: "RSA PKCS#1 v1.5 with SHA-1"},
		{name: "RSA-PSS", a: side{cert: "gw-a", id: "gw-a.example", trust: ca, pss: true}, b: gwB,
			wantA: "RSASSA-PSS with SHA-256", wantB: "RSA PKCS#1 v1.5 with SHA-256"},
		{name: "ECDSA P-256 and P-384, RFC 7427", a: side{cert: "gw-a-p256", id: "gw-a.example", trust: ca},
			b: side{cert: "gw-b-p384", id: "gw-b.example", trust: ca}, wantA: "ECDSA with SHA-256", wantB: "ECDSA with SHA-384"},
		{name: "ECDSA P-256 and P-384, classic methods 9 and 10", a: side{cert: "gw-a-p256", id: "gw-a.example", trust: ca},
			b: side{cert: "gw-b-p384", id: "gw-b.example", trust: ca}, classic: true,
			wantA: "ECDSA with SHA-256 on P-256", wantB: "ECDSA with SHA-384 on P-384"},
		{name: "Ed25519", a: side{cert: "gw-a-ed25519", id: "gw-a.example", trust: ca},
			b: side{cert: "gw-b-ed25519", id: "gw-b.example", trust: ca}, wantA: "Ed25519", wantB: "Ed25519"},
		{name: "IP address identity", a: side{cert: "gw-a", id: ipA, trust: ca}, b: gwB, wantA: "SHA-256", wantB: "SHA-256"},
		{name: "distinguished name identity", a: side{cert: "gw-a", dn: true, trust: ca}, b: gwB, wantA: "SHA-256", wantB: "SHA-256"},

		{name: "Ed25519 without RFC 7427", a: side{cert: "gw-a-ed25519", id: "gw-a.example", trust: ca}, b: gwB, classic: true,
			fail: "no classic AUTH method", failOn: "a"},
		{name: "expired", a: side{cert: "gw-a-expired", key: "gw-a", id: "gw-a.example", trust: ca}, b: gwB,
			fail: "expired on 2025-06-30", failOn: "b"},
		{name: "responder's certificate not yet valid", a: gwA, b: side{cert: "gw-a-notyet", key: "gw-a", id: "gw-a.example", trust: ca},
			fail: "is not valid before 2027-01-01", failOn: "a"},
		{name: "unknown CA", a: side{cert: "gw-a-rogue", key: "gw-a", id: "gw-a.example", trust: ca}, b: gwB,
			fail: `signed by "C=XX, O=Rogue, CN=Rogue CA", which is not a trusted CA`, failOn: "b"},
		{name: "empty trust store", a: gwA, b: side{cert: "gw-b", id: "gw-b.example"}, fail: "trust store is empty", failOn: "b"},
		{name: "wrong key usage", a: side{cert: "gw-a-wrongku", key: "gw-a", id: "gw-a.example", trust: ca}, b: gwB,
			fail: "without digitalSignature", failOn: "b"},
		{name: "identity not in the certificate", a: side{cert: "gw-a", id: "gw-c.example", trust: ca}, b: gwB,
			fail: "identity gw-c.example is not in certificate", failOn: "b"},
		{name: "key that is not the certificate's", a: side{cert: "gw-a", key: "gw-b", id: "gw-a.example", trust: ca}, b: gwB,
			fail: "does not verify with the certificate's public key", failOn: "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, a, ra, rb := certPair(t, tt.a, tt.b, tt.classic)
			a.Acquire(1)
			w.run(time.Second)
			if tt.fail == "" {
				if len(ra.ikeUp) != 1 || len(rb.ikeUp) != 1 || len(ra.childUp) != 1 || len(rb.childUp) != 1 {
					t.Fatalf("not up: errors a %v, b %v", ra.errors, rb.errors)
				}
				if !hasText(ra.actions, "sign IKE_SA_INIT request") || !hasText(ra.actions, tt.wantA) {
					t.Errorf("a does not sign with %s: %v", tt.wantA, ra.actions)
				}
				if !hasText(rb.actions, "sign IKE_SA_INIT response") || !hasText(rb.actions, tt.wantB) {
					t.Errorf("b does not sign with %s: %v", tt.wantB, rb.actions)
				}
				if !hasText(ra.actions, "ends in a CA we trust") || !hasText(rb.actions, "ends in a CA we trust") {
					t.Error("a side did not check the peer's chain")
				}
				return
			}
			if len(ra.ikeUp) != 0 && len(rb.ikeUp) != 0 {
				t.Fatal("both sides brought the IKE SA up")
			}
			rec := map[string]*recorder{"a": ra, "b": rb}[tt.failOn]
			if !hasText(rec.errors, "AUTHENTICATION_FAILED") && tt.failOn == "b" {
				t.Errorf("%s errors %v, want AUTHENTICATION_FAILED", tt.failOn, rec.errors)
			}
			if !hasText(rec.errors, tt.fail) {
				t.Errorf("%s errors %v, want %q", tt.failOn, rec.errors, tt.fail)
			}
			if tt.failOn == "b" && !hasText(ra.errors, "responder says AUTHENTICATION_FAILED") {
				t.Errorf("the initiator was not told: %v", ra.errors)
			}
		})
	}
}

// TestCertRequestNamesTrustedCA checks that the CERTREQ payloads carry the SHA-1 of the
// trusted CA's public key and that the signer notices it holds a matching certificate.
func TestCertRequestNamesTrustedCA(t *testing.T) {
	w, a, ra, rb := certPair(t, side{cert: "gw-a", id: "gw-a.example", trust: ca}, side{cert: "gw-b", id: "gw-b.example", trust: ca}, false)
	a.Acquire(1)
	w.run(time.Second)
	if len(ra.ikeUp) != 1 {
		t.Fatalf("not up: %v %v", ra.errors, rb.errors)
	}
	want := string(ike.CAKeyHash(pkiCert(t, "ca")))
	found := 0
	for _, dg := range w.sent {
		m, err := Parse(dg.Data)
		if err != nil || m.Exchange != IKE_SA_INIT || !m.IsResponse() {
			continue
		}
		for _, p := range m.Payloads {
			if cr, ok := p.(*CertReq); ok && cr.Encoding == CertX509Signature && string(cr.Data) == want {
				found++
			}
		}
		if notifyIn(m.Payloads, SIGNATURE_HASH_ALGORITHMS) == nil {
			t.Error("the IKE_SA_INIT response lacks SIGNATURE_HASH_ALGORITHMS")
		}
	}
	if found != 1 {
		t.Errorf("%d IKE_SA_INIT responses with a CERTREQ for the CA, want 1", found)
	}
	if !hasText(ra.actions, `CERTREQ names the key of "C=CH, O=ikesim, CN=ikesim Root CA"`) {
		t.Errorf("the initiator did not match the CERTREQ: %v", ra.actions)
	}
	if !hasText(rb.actions, `CERTREQ names the key of`) {
		t.Errorf("the responder did not match the CERTREQ of IKE_AUTH: %v", rb.actions)
	}
}

// TestPSKTrafficUnchanged makes sure a pre-shared key connection announces nothing new
// in IKE_SA_INIT: no signature hashes, no fragmentation.
func TestPSKTrafficUnchanged(t *testing.T) {
	p := []string{"aes128-sha256-modp2048"}
	w, a, ra, _ := pair(t, p, p, []string{"aes128-sha256"}, []string{"aes128-sha256"}, "k", "k")
	a.Acquire(1)
	w.run(time.Second)
	if len(ra.ikeUp) != 1 {
		t.Fatal("not up")
	}
	for _, dg := range w.sent {
		m, err := Parse(dg.Data)
		if err == nil && m.Exchange == IKE_SA_INIT {
			for _, typ := range []NotifyType{SIGNATURE_HASH_ALGORITHMS, IKEV2_FRAGMENTATION_SUPPORTED} {
				if notifyIn(m.Payloads, typ) != nil {
					t.Errorf("a PSK connection sends %v", typ)
				}
			}
		}
	}
}

// eapConns makes a road warrior (a, EAP client) and a gateway (b, RSA certificate,
// EAP server).
func eapConns(t testing.TB, method ike.AuthMethod, user, clientPW, serverPW string) (*ike.Connection, *ike.Connection) {
	client := conn(t, ipA, ipB, []string{"aes128-sha256-x25519"}, []string{"aes128gcm16"}, "")
	client.Local = ike.AuthConfig{Method: method, ID: mustID(t, ipA), EAPID: user, EAPSecrets: map[string][]byte{user: []byte(clientPW)}}
	client.Remote = ike.AuthConfig{Method: "pubkey", ID: mustID(t, "vpn.example")}
	client.CACerts = []*x509.Certificate{pkiCert(t, "ca")}
	gw := conn(t, ipB, ipA, []string{"aes128-sha256-x25519"}, []string{"aes128gcm16"}, "")
	gw.Local = ike.AuthConfig{Method: "pubkey", ID: mustID(t, "vpn.example"), Certs: []*x509.Certificate{pkiCert(t, "vpn")},
		Key: pkiKey(t, "vpn")}
	gw.Remote = ike.AuthConfig{Method: method, EAPSecrets: map[string][]byte{"carol": []byte(serverPW)}}
	return client, gw
}

// TestEAP runs EAP-MD5 and EAP-MSCHAPv2 in IKE_AUTH with a gateway that authenticates
// with its certificate, and their failures.
func TestEAP(t *testing.T) {
	tests := []struct {
		name, user, clientPW, serverPW string
		method, serverMethod           ike.AuthMethod
		fail                           string // on the gateway
	}{
		{name: "MSCHAPv2", method: "eap-mschapv2", user: "carol", clientPW: "carol's secret", serverPW: "carol's secret"},
		{name: "MD5", method: "eap-md5", user: "carol", clientPW: "carol's secret", serverPW: "carol's secret"},
		{name: "MSCHAPv2 wrong password", method: "eap-mschapv2", user: "carol", clientPW: "guess", serverPW: "carol's secret",
			fail: "E=691"},
		{name: "MD5 wrong password", method: "eap-md5", user: "carol", clientPW: "guess", serverPW: "carol's secret",
			fail: "wrong password"},
		{name: "unknown user", method: "eap-mschapv2", user: "mallory", clientPW: "x", serverPW: "carol's secret",
			fail: `no EAP secret for identity "mallory"`},
		{name: "method mismatch", method: "eap-md5", serverMethod: "eap-mschapv2", user: "carol", clientPW: "s", serverPW: "s",
			fail: "the client refuses EAP-MSCHAPv2 (Nak, it asks for EAP-MD5-Challenge)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, gw := eapConns(t, tt.method, tt.user, tt.clientPW, tt.serverPW)
			if tt.serverMethod != "" {
				gw.Remote.Method = tt.serverMethod
			}
			w := newWorld(t)
			a, ra := w.add(ipA, client, 1)
			_, rb := w.add(ipB, gw, 2)
			a.Acquire(1)
			w.run(time.Second)
			auths := 0
			for _, dg := range w.sent {
				if m, err := Parse(dg.Data); err == nil && m.Exchange == IKE_AUTH {
					auths++
				}
			}
			if tt.fail != "" {
				if len(ra.ikeUp)+len(rb.ikeUp) != 0 {
					t.Fatal("the IKE SA came up")
				}
				if !hasText(rb.errors, "AUTHENTICATION_FAILED") || !hasText(rb.errors, tt.fail) {
					t.Errorf("gateway errors %v, want %q", rb.errors, tt.fail)
				}
				if !hasText(ra.errors, "AUTHENTICATION_FAILED") {
					t.Errorf("client errors %v", ra.errors)
				}
				return
			}
			if len(ra.ikeUp) != 1 || len(rb.ikeUp) != 1 || len(ra.childUp) != 1 || len(rb.childUp) != 1 {
				t.Fatalf("not up: client %v, gateway %v", ra.errors, rb.errors)
			}
			// Identity, the method's rounds, EAP-Success, the AUTH exchange.
			want := map[ike.AuthMethod]int{"eap-md5": 2 * 4, "eap-mschapv2": 2 * 5}[tt.method]
			if auths != want {
				t.Errorf("%d IKE_AUTH messages, want %d", auths, want)
			}
			key := map[ike.AuthMethod]string{"eap-md5": "SK_pi", "eap-mschapv2": "the MSK"}[tt.method]
			if !hasText(ra.actions, key) || !hasText(rb.actions, key) {
				t.Errorf("the AUTH after EAP does not use %s", key)
			}
		})
	}
}

// TestEAPRoadWarriorGetsVirtualIP combines EAP with a configuration payload: the CP
// request of the first IKE_AUTH is answered in the last one.
func TestEAPRoadWarriorGetsVirtualIP(t *testing.T) {
	client, gw := eapConns(t, "eap-mschapv2", "carol", "pw", "pw")
	client.RequestVIP = true
	gw.Pools = []netip.Prefix{netip.MustParsePrefix("10.3.0.0/24")}
	gw.Children[0].RemoteTS = []ike.TrafficSelector{ike.TSFromPrefix(netip.MustParsePrefix("10.3.0.0/24"))}
	client.Children[0].LocalTS = []ike.TrafficSelector{ike.TSFromPrefix(netip.MustParsePrefix("0.0.0.0/0"))}
	w := newWorld(t)
	a, ra := w.add(ipA, client, 1)
	_, rb := w.add(ipB, gw, 2)
	a.Acquire(1)
	w.run(time.Second)
	if len(ra.childUp) != 1 || len(rb.childUp) != 1 {
		t.Fatalf("not up: %v %v", ra.errors, rb.errors)
	}
	if got := ra.childUp[0].LocalTS[0].String(); got != "10.3.0.1/32" {
		t.Errorf("client's TSi %s, want the virtual IP 10.3.0.1/32", got)
	}
}

// fragPair makes two gateways with RSA certificates and fragmentation as asked.
func fragPair(t testing.TB, fragA, fragB bool, size int) (*world, *Daemon, *recorder, *recorder) {
	gwA := side{cert: "gw-a", id: "gw-a.example", trust: ca}
	gwB := side{cert: "gw-b", id: "gw-b.example", trust: ca}
	w := newWorld(t)
	cA := certConn(t, ipA, ipB, gwA, gwB, "aes128-sha256-x25519")
	cB := certConn(t, ipB, ipA, gwB, gwA, "aes128-sha256-x25519")
	cA.Fragmentation, cB.Fragmentation = fragA, fragB
	cA.FragmentSize, cB.FragmentSize = size, size
	a, ra := w.add(ipA, cA, 1)
	_, rb := w.add(ipB, cB, 2)
	return w, a, ra, rb
}

// TestFragmentation sends IKE_AUTH with certificates over a path that drops datagrams
// larger than 576 bytes: only with fragmentation on both sides does it get through.
func TestFragmentation(t *testing.T) {
	const mtu = 576
	tests := []struct {
		name         string
		fragA, fragB bool
		wantUp       bool
	}{
		{"both", true, true, true},
		{"initiator only", true, false, false},
		{"responder only", false, true, false},
		{"neither", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, a, ra, rb := fragPair(t, tt.fragA, tt.fragB, mtu)
			dropped := 0
			w.drop = func(dg ike.Datagram) bool {
				if len(dg.Data)+28 > mtu {
					dropped++
					return true
				}
				return false
			}
			a.Acquire(1)
			w.run(time.Minute)
			up := len(ra.ikeUp) == 1 && len(rb.ikeUp) == 1 && len(ra.childUp) == 1
			if up != tt.wantUp {
				t.Fatalf("up %v, want %v; errors %v %v", up, tt.wantUp, ra.errors, rb.errors)
			}
			frags := 0
			for _, dg := range w.sent {
				if m, err := Parse(dg.Data); err == nil && payloadOf[*EncryptedFragment](m.Payloads) != nil {
					frags++
				}
			}
			if tt.wantUp && (frags < 4 || dropped != 0) {
				t.Errorf("%d fragments sent, %d datagrams too large", frags, dropped)
			}
			if !tt.wantUp && frags != 0 {
				t.Errorf("%d fragments sent without fragmentation negotiated", frags)
			}
		})
	}
}

// TestFragmentRetransmission loses one fragment of the IKE_AUTH request: the
// retransmission sends the same fragments again and the responder reassembles.
func TestFragmentRetransmission(t *testing.T) {
	w, a, ra, rb := fragPair(t, true, true, 576)
	var firstFrags [][]byte
	lost := false
	w.drop = func(dg ike.Datagram) bool {
		m, err := Parse(dg.Data)
		if err != nil {
			return false
		}
		if f := payloadOf[*EncryptedFragment](m.Payloads); f != nil && !m.IsResponse() {
			firstFrags = append(firstFrags, dg.Data)
			if f.Number == 2 && !lost {
				lost = true
				return true
			}
		}
		return false
	}
	a.Acquire(1)
	w.run(time.Minute)
	if len(ra.ikeUp) != 1 || len(rb.ikeUp) != 1 {
		t.Fatalf("not up: %v %v", ra.errors, rb.errors)
	}
	n := len(firstFrags) / 2
	if len(firstFrags)%2 != 0 || n < 2 {
		t.Fatalf("%d request fragments: want the same set twice", len(firstFrags))
	}
	for i := 0; i < n; i++ {
		if string(firstFrags[i]) != string(firstFrags[n+i]) {
			t.Errorf("retransmitted fragment %d differs from the first", i+1)
		}
	}
	if !hasText(rb.actions, "wait for 1 more") || !hasText(rb.actions, "All ") {
		t.Error("the responder did not reassemble")
	}
}

// TestFragmentDissection checks that a fragment's dissection with the keys decrypts it,
// and that the last one shows the reassembled payloads.
func TestFragmentDissection(t *testing.T) {
	w, a, ra, _ := fragPair(t, true, true, 576)
	a.Acquire(1)
	w.run(time.Second)
	if len(ra.ikeUp) != 1 {
		t.Fatal("not up")
	}
	var last *ike.Field
	n := 0
	for _, dg := range w.sent {
		if strings.HasPrefix(dg.Info.Summary, "HDR, SKF(") && !dg.Info.Response {
			f := dg.Info.Dissect()
			n++
			if f.Find("Fragment Data") == nil {
				t.Errorf("%s: no decrypted fragment data", dg.Info.Summary)
			}
			last = f
		}
	}
	if n < 2 || last == nil {
		t.Fatalf("%d fragments", n)
	}
	r := last.Find("Reassembled payloads")
	if r == nil || r.Find("Certificate") == nil || r.Find("Authentication") == nil {
		t.Errorf("the last fragment does not show the reassembled CERT and AUTH: %+v", r)
	}
}

// TestCorruptFragmentIsDropped alters one byte of a fragment: the receiver drops that
// fragment alone (its ICV fails), and the retransmission completes the message.
func TestCorruptFragmentIsDropped(t *testing.T) {
	w, a, ra, rb := fragPair(t, true, true, 576)
	done := false
	w.drop = func(dg ike.Datagram) bool {
		m, err := Parse(dg.Data)
		if err != nil || done || m.IsResponse() || fragmentNumber(m) != 2 {
			return false
		}
		done = true
		bad := append([]byte(nil), dg.Data...)
		bad[len(bad)-1] ^= 1
		dg.Data = bad
		w.Deliver(dg)
		return true
	}
	a.Acquire(1)
	w.run(time.Minute)
	if !hasText(rb.drops, "fragment 2 of") || !hasText(rb.drops, "ICV does not verify") {
		t.Errorf("drops %v", rb.drops)
	}
	if len(ra.ikeUp) != 1 || len(rb.ikeUp) != 1 {
		t.Fatalf("not up after the retransmission: %v %v", ra.errors, rb.errors)
	}
}

// An IKE SA keeps prf(Shared Secret, "Key Pad for IKEv2") of the last key it used; the
// AUTH it computes is PSKAuth's for whatever key comes next: the same key again, another
// (EAP without an MSK signs with SK_pi one way and SK_pr the other), one changed in place.
func TestPSKAuthPadFollowsKey(t *testing.T) {
	sa := &ikeSA{prf: ike.PRF(ike.PRF_HMAC_SHA2_384), initRequest: []byte("request"), initReply: []byte("reply"),
		ni: []byte("ni"), nr: []byte("nr"), keys: ike.IKEKeys{SKpi: []byte("pi"), SKpr: []byte("pr")}}
	id := mustID(t, "a.example")
	k1, k2 := []byte("first key"), []byte("second key")
	for i, c := range []struct {
		key  []byte
		init bool
		edit bool // change k1 in place first
	}{{k1, true, false}, {k1, false, false}, {k2, true, false}, {k1, false, false}, {k1, true, true}, {k2, false, false}} {
		if c.edit {
			k1[0] ^= 0xff
		}
		want := PSKAuth(sa.prf, c.key, sa.signedOctets(c.init, id))
		if got := sa.pskAuth(c.key, c.init, id); !bytes.Equal(got, want) {
			t.Errorf("call %d (key %q): AUTH %x, want %x", i, c.key, got, want)
		}
	}
}
