package ikev2

import (
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// TestEAPPackets checks the EAP encoding of RFC 3748, Section 4, against bytes written
// out by hand: an Identity request, a response with its identity, and Success.
func TestEAPPackets(t *testing.T) {
	tests := []struct {
		p    *EAP
		want string
		sum  string
	}{
		{eapPacket(EAPRequest, 7, EAPTypeIdentity, nil), "0107000501", "Request/Identity"},
		{eapPacket(EAPResponse, 7, EAPTypeIdentity, []byte("carol")), "0207000a01" + "6361726f6c", "Response/Identity"},
		{eapPacket(EAPSuccess, 8, 0, nil), "03080004", "Success"},
		{eapPacket(EAPFailure, 8, 0, nil), "04080004", "Failure"},
		{eapPacket(EAPResponse, 9, EAPTypeMSCHAPv2, []byte{msChapSuccess}), "020900061a03", "Response/MSCHAPv2 Success"},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(tt.p.Message); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.sum, got, tt.want)
		}
		var back EAP
		if err := back.unmarshalBody(tt.p.Message); err != nil {
			t.Errorf("%s does not parse back: %v", tt.sum, err)
		}
		if got := eapSummary(tt.p); got != tt.sum {
			t.Errorf("summary %q, want %q", got, tt.sum)
		}
	}
	// The MS-Length of an MS-CHAPv2 packet counts from the OpCode on.
	if got := hex.EncodeToString(msChapPacket(msChapChallenge, 5, []byte{16})); got != "0105000510" {
		t.Errorf("MS-CHAPv2 packet %s", got)
	}
}

// FuzzEAP feeds arbitrary EAP messages to the client and the server of each method, and
// to the dissector: they must answer or fail, never panic.
func FuzzEAP(f *testing.F) {
	f.Add([]byte{1, 1, 0, 5, 1})
	f.Add([]byte{1, 2, 0, 26, 26, 1, 2, 0, 21, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte{2, 2, 0, 8, 26, 3})
	f.Add([]byte{1, 3, 0, 10, 4, 4, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		var e EAP
		if e.unmarshalBody(data) != nil {
			return
		}
		client, gw := eapConns(t, "eap-mschapv2", "carol", "pw", "pw")
		w := newWorld(t)
		a, _ := w.add(ipA, client, 1)
		b, _ := w.add(ipB, gw, 2)
		for _, typ := range []uint8{EAPTypeMD5, EAPTypeMSCHAPv2} {
			ca := &ikeSA{d: a, conn: client}
			cs := &eapSession{typ: typ, identity: "carol", secret: []byte("pw")}
			cs.clientRespond(ca, &e)
			cs.clientRespond(ca, &e)
			sb := &ikeSA{d: b, conn: gw}
			ss := &eapSession{typ: typ, server: true, id: e.Identifier(), identity: "carol", secret: []byte("pw"),
				challenge: make([]byte, 16)}
			ss.serverHandle(sb, &e)
		}
		f := &ike.Field{}
		dissectEAPData(f, &e, 0)
		eapSummary(&e)
	})
}

// FuzzHandleDatagramEAP feeds arbitrary datagrams to an EAP client and its gateway in
// the middle of a handshake with certificates and fragmentation: they must never panic.
func FuzzHandleDatagramEAP(f *testing.F) {
	setup := func(t testing.TB) *world {
		client, gw := eapConns(t, "eap-mschapv2", "carol", "pw", "pw")
		client.Fragmentation, gw.Fragmentation = true, true
		client.FragmentSize, gw.FragmentSize = 576, 576
		w := newWorld(t)
		a, _ := w.add(ipA, client, 1)
		w.add(ipB, gw, 2)
		a.Acquire(1)
		return w
	}
	w := setup(f)
	w.run(time.Second)
	for _, dg := range w.sent {
		f.Add(dg.Data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w := setup(t)
		w.run(55 * time.Millisecond) // the first IKE_AUTH request reached the gateway
		for _, d := range w.daemons {
			d.HandleDatagram(netip.MustParseAddrPort(ipB+":500"), netip.MustParseAddrPort(ipA+":500"), data)
			d.HandleDatagram(netip.MustParseAddrPort(ipA+":500"), netip.MustParseAddrPort(ipB+":500"), data)
		}
		w.run(time.Minute)
	})
}
