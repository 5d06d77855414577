package ikev2

import (
	"bytes"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
)

// sampleCert is the test PKI's gw-a certificate in DER, for the sample CERT payload.
var sampleCert = func() []byte {
	b, err := os.ReadFile("../../assets/pki/gw-a.pem")
	if err != nil {
		panic(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		panic("no PEM block in assets/pki/gw-a.pem")
	}
	return blk.Bytes
}()

// samplePayloads has one or more values of every payload type the codec decodes, each as
// a payload would really carry it.
func samplePayloads() []Payload {
	return []Payload{
		NewSA(nil, ike.Proposal{Protocol: ike.ProtoIKE, Transforms: []ike.Transform{
			{Type: ike.TransformENCR, ID: ike.ENCR_AES_CBC, KeyLen: 128},
			{Type: ike.TransformPRF, ID: ike.PRF_HMAC_SHA2_256},
			{Type: ike.TransformINTEG, ID: ike.AUTH_HMAC_SHA2_256_128},
			{Type: ike.TransformDH, ID: ike.MODP_2048},
		}}, ike.Proposal{Protocol: ike.ProtoIKE, Transforms: []ike.Transform{
			{Type: ike.TransformENCR, ID: ike.ENCR_AES_GCM_16, KeyLen: 256},
			{Type: ike.TransformPRF, ID: ike.PRF_HMAC_SHA2_384},
			{Type: ike.TransformDH, ID: ike.Curve25519},
		}}),
		&SA{Proposals: []*Proposal{{Number: 3, Protocol: ike.ProtoESP, SPI: []byte{0xc1, 0x02, 0x03, 0x04},
			Transforms: []Transform{
				{Type: ike.TransformENCR, ID: ike.ENCR_AES_CBC, KeyLen: 256,
					Attributes: []TransformAttribute{{Type: 99, TV: true, Value: 7}, {Type: 100, Data: []byte("xyz")}}},
				{Type: ike.TransformESN, ID: ike.NO_ESN},
			}}}},
		&KE{Group: ike.MODP_2048, Data: bytes.Repeat([]byte{0xab}, 256)},
		&KE{Group: ike.Curve25519, Data: bytes.Repeat([]byte{0x01}, 32)},
		&ID{Type: IDFQDN, Data: []byte("node-a.iklab.test")},
		&ID{Responder: true, Type: IDIPv4Addr, Data: []byte{192, 0, 2, 1}},
		&ID{Type: IDIPv6Addr, Data: netip.MustParseAddr("2001:db8::1").AsSlice()},
		&Cert{Encoding: CertX509Signature, Data: sampleCert},
		&CertReq{Encoding: CertX509Signature, Data: bytes.Repeat([]byte{0x55}, 40)},
		&Auth{Method: AuthSharedKeyMIC, Data: bytes.Repeat([]byte{0x77}, 32)},
		&Nonce{Data: bytes.Repeat([]byte{0x42}, 32)},
		&Notify{Type: NAT_DETECTION_SOURCE_IP, Data: bytes.Repeat([]byte{0x11}, 20)},
		&Notify{Protocol: ike.ProtoESP, SPI: []byte{1, 2, 3, 4}, Type: REKEY_SA},
		&Notify{Type: INVALID_KE_PAYLOAD, Data: []byte{0, 19}},
		&Delete{Protocol: ike.ProtoIKE},
		&Delete{Protocol: ike.ProtoESP, SPISize: 4, SPIs: [][]byte{{1, 2, 3, 4}, {5, 6, 7, 8}}},
		&VendorID{Data: []byte("ikesim")},
		&TS{Selectors: []TrafficSelector{
			{Type: TSIPv4AddrRange, StartPort: 0, EndPort: 65535,
				StartAddr: netip.MustParseAddr("10.77.1.1"), EndAddr: netip.MustParseAddr("10.77.1.1")},
			{Type: TSIPv6AddrRange, IPProtocol: 17, StartPort: 500, EndPort: 500,
				StartAddr: netip.MustParseAddr("2001:db8::"), EndAddr: netip.MustParseAddr("2001:db8::ffff")},
		}},
		&TS{Responder: true, Selectors: []TrafficSelector{{Type: TSFCAddrRange, Data: []byte{0, 0, 0, 0, 1, 2, 3, 4}}}},
		&CP{Type: CFG_REQUEST, Attributes: []CfgAttribute{{Type: INTERNAL_IP4_ADDRESS}, {Type: INTERNAL_IP4_DNS}}},
		&CP{Type: CFG_REPLY, Attributes: []CfgAttribute{{Type: INTERNAL_IP4_ADDRESS, Value: []byte{10, 0, 0, 5}}}},
		&EAP{Message: []byte{EAPRequest, 7, 0, 9, 1, 'h', 'e', 'l', 'o'}},
		&EAP{Message: []byte{EAPSuccess, 8, 0, 4}},
		&Unknown{Type: 99, Body: []byte("future payload")},
	}
}

func mustMarshal(t *testing.T, m *Message) []byte {
	t.Helper()
	b, err := m.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sampleHeader(ex ExchangeType) Header {
	return Header{SPIi: 0x0102030405060708, SPIr: 0x1112131415161718, Exchange: ex, Flags: FlagInitiator, MessageID: 1}
}

// TestPayloadRoundTrip marshals each sample payload in a message, parses it back and
// compares, then truncates the encoding at every length: each shorter message must be
// rejected with an error, never a panic.
func TestPayloadRoundTrip(t *testing.T) {
	for _, p := range samplePayloads() {
		t.Run(p.PayloadType().String(), func(t *testing.T) {
			m := &Message{Header: sampleHeader(INFORMATIONAL), Payloads: []Payload{p}}
			b := mustMarshal(t, m)
			got, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Payloads, []Payload{p}) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got.Payloads[0], p)
			}
			if got.Header != m.Header {
				t.Fatalf("header %+v, want %+v", got.Header, m.Header)
			}
			for n := 0; n < len(b); n++ {
				if _, err := Parse(b[:n]); err == nil {
					t.Fatalf("truncated to %d of %d bytes: no error", n, len(b))
				}
				// A message whose Length field agrees with the cut must fail too.
				cut := append([]byte(nil), b[:n]...)
				if n >= HeaderLen {
					setLength(cut, n)
					if _, err := Parse(cut); err == nil && n > HeaderLen {
						t.Fatalf("cut to %d of %d bytes with a fitting Length: no error", n, len(b))
					}
				}
				Dissect(cut, nil)
			}
		})
	}
}

// TestParseKnownBytes decodes fixed byte strings written from the RFC 7296 figures.
func TestParseKnownBytes(t *testing.T) {
	tests := []struct {
		name string
		hex  string // IKE header and payloads
		want []Payload
	}{{
		// Notify (RFC 7296, Figure 16) carrying NAT_DETECTION_SOURCE_IP with a 4-byte hash.
		name: "notify",
		hex:  "0102030405060708 1112131415161718 29 20 25 08 00000001 00000028" + "00 00 000c 00 00 4004 deadbeef",
		want: []Payload{&Notify{Type: NAT_DETECTION_SOURCE_IP, Data: []byte{0xde, 0xad, 0xbe, 0xef}}},
	}, {
		// Nonce then Vendor ID (RFC 7296, Figures 15 and 18).
		name: "nonce and vendor",
		hex: "0102030405060708 1112131415161718 28 20 25 08 00000001 00000036" +
			"2b 00 0014 000102030405060708090a0b0c0d0e0f" + "00 00 0006 6869",
		want: []Payload{&Nonce{Data: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}}, &VendorID{Data: []byte("hi")}},
	}, {
		// TSi with one IPv4 range, all protocols and ports (RFC 7296, Figures 19 and 20).
		name: "traffic selector",
		hex: "0102030405060708 1112131415161718 2c 20 25 08 00000001 00000034" +
			"00 00 0018 01 000000 07 00 0010 0000 ffff 0a4d0101 0a4d0101",
		want: []Payload{&TS{Selectors: []TrafficSelector{{Type: TSIPv4AddrRange, EndPort: 0xffff,
			StartAddr: netip.MustParseAddr("10.77.1.1"), EndAddr: netip.MustParseAddr("10.77.1.1")}}}},
	}, {
		// SA with one IKE proposal of ENCR_AES_CBC/128 and MODP_2048 (RFC 7296, Figures 7-9).
		name: "sa",
		hex: "0102030405060708 0000000000000000 21 20 22 08 00000000 0000003c" +
			"00 00 0020" + "00 00 001c 01 01 00 02" + "03 00 000c 01 00 000c 800e0080" + "00 00 0008 04 00 000e",
		want: []Payload{&SA{Proposals: []*Proposal{{Number: 1, Protocol: ike.ProtoIKE, Transforms: []Transform{
			{Type: ike.TransformENCR, ID: ike.ENCR_AES_CBC, KeyLen: 128}, {Type: ike.TransformDH, ID: ike.MODP_2048}}}}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(strings.ReplaceAll(tt.hex, " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m.Payloads, tt.want) {
				t.Fatalf("got %#v, want %#v", m.Payloads, tt.want)
			}
			if again := mustMarshal(t, m); !bytes.Equal(again, b) {
				t.Fatalf("marshal %x, want %x", again, b)
			}
		})
	}
}

// TestParseErrors feeds malformed messages and checks the notify each one calls for, the
// payload blamed and the offset given.
func TestParseErrors(t *testing.T) {
	hdr := "0102030405060708 1112131415161718 %s 20 25 08 00000001 %s"
	tests := []struct {
		name    string
		hex     string
		notify  NotifyType
		payload PayloadType
		offset  int
	}{
		{"short header", "0102030405060708", INVALID_SYNTAX, PayloadNone, 0},
		{"IKEv1 version", "0102030405060708 1112131415161718 00 10 25 08 00000001 0000001c", INVALID_MAJOR_VERSION, PayloadNone, 17},
		{"length field too big", fmtHex(hdr, "00", "0000001d"), INVALID_SYNTAX, PayloadNone, 24},
		{"payload length below 4", fmtHex(hdr, "28", "00000020") + "00 00 0003", INVALID_SYNTAX, PayloadNonce, 30},
		{"payload length past end", fmtHex(hdr, "28", "00000022") + "00 00 0009 0102", INVALID_SYNTAX, PayloadNonce, 30},
		{"bytes after last payload", fmtHex(hdr, "2b", "00000022") + "00 00 0004 0102", INVALID_SYNTAX, PayloadNone, 32},
		{"nonce of 15 bytes", fmtHex(hdr, "28", "0000002f") + "00 00 0013 000102030405060708090a0b0c0d0e", INVALID_SYNTAX, PayloadNonce, 32},
		{"nonce of 257 bytes", fmtHex(hdr, "28", "00000121") + "00 00 0105" + strings.Repeat("ab", 257), INVALID_SYNTAX, PayloadNonce, 32},
		{"unknown critical", fmtHex(hdr, "63", "00000020") + "00 80 0004", UNSUPPORTED_CRITICAL_PAYLOAD, 99, 28},
		{"bad transform count", fmtHex(hdr, "21", "00000034") +
			"00 00 0018" + "00 00 0014 01 01 00 02" + "00 00 000c 01 00 000c 800e0080", INVALID_SYNTAX, PayloadSA, 52},
		{"notify SPI past end", fmtHex(hdr, "29", "00000024") + "00 00 0008 03 04 4009", INVALID_SYNTAX, PayloadNotify, 36},
		{"IPv4 ID of 3 bytes", fmtHex(hdr, "23", "00000027") + "00 00 000b 01 000000 0a0b0c", INVALID_SYNTAX, PayloadIDi, 36},
		{"SK not last", fmtHex(hdr, "2e", "00000028") + "28 00 0008 00000000 00 00 0004", INVALID_SYNTAX, PayloadSK, 28},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(strings.ReplaceAll(tt.hex, " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(b)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a *ParseError", err)
			}
			if !errors.Is(err, tt.notify) || pe.Payload != tt.payload || pe.Offset != tt.offset {
				t.Fatalf("got %v (notify %v, payload %v, offset %d), want %v in %v at %d",
					err, pe.Notify, pe.Payload, pe.Offset, tt.notify, tt.payload, tt.offset)
			}
			if !strings.HasPrefix(err.Error(), "ikev2: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if n := pe.Notification(); n.Type != tt.notify || (tt.notify == UNSUPPORTED_CRITICAL_PAYLOAD) != (len(n.Data) == 1) {
				t.Errorf("notification %+v", n)
			}
		})
	}
}

// TestTrafficSelectorErrors: a TS payload's body that does not parse is refused with
// the selector it is in, at the offset of the byte that does not fit.
func TestTrafficSelectorErrors(t *testing.T) {
	v4 := "07 00 0010 0000 ffff 0a000000 0a0000ff"
	for _, tt := range []struct{ name, hex, want string }{
		{"short header", "02 000000 " + v4 + "07 00 00", "traffic selector 2 header truncated: 3 bytes left"},
		{"length past the end", "01 000000 07 00 0100 0000", "traffic selector 1: selector length 256 does not fit the 6 bytes left"},
		{"IPv4 range of 12 bytes", "01 000000 07 00 000c 0000 ffff 0a000000", "traffic selector 1: TS_IPV4_ADDR_RANGE selector length 12, want 16"},
		{"bytes after the last", "01 000000 " + v4 + "ff", "1 unexpected bytes after 1 traffic selectors"},
	} {
		b, err := hex.DecodeString(strings.ReplaceAll(tt.hex, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		if err := new(TS).unmarshalBody(b); err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func fmtHex(format, np, length string) string {
	return strings.Replace(strings.Replace(format, "%s", np, 1), "%s", length, 1)
}

// TestUnknownPayloadKept checks that an unknown payload without the critical bit is kept
// with its body, and written back unchanged.
func TestUnknownPayloadKept(t *testing.T) {
	b, _ := hex.DecodeString("01020304050607081112131415161718632025080000000100000036" + "28000006abcd" + "00000014" + strings.Repeat("cafebabe", 4))
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []Payload{&Unknown{Type: 99, Body: []byte{0xab, 0xcd}}, &Nonce{Data: bytes.Repeat([]byte{0xca, 0xfe, 0xba, 0xbe}, 4)}}
	if !reflect.DeepEqual(m.Payloads, want) {
		t.Fatalf("got %#v", m.Payloads)
	}
	if again := mustMarshal(t, m); !bytes.Equal(again, b) {
		t.Fatalf("marshal %x, want %x", again, b)
	}
	crit := &Message{Header: sampleHeader(INFORMATIONAL), Payloads: []Payload{&Unknown{Type: 99, Critical: true}}}
	if _, err := Parse(mustMarshal(t, crit)); !errors.Is(err, UNSUPPORTED_CRITICAL_PAYLOAD) {
		t.Fatalf("critical unknown payload: %v", err)
	}
}

// TestMarshalErrors checks that payloads whose fields do not fit the wire are refused.
func TestMarshalErrors(t *testing.T) {
	tests := []Payload{
		&Notify{SPI: make([]byte, 256)},
		&Delete{Protocol: ike.ProtoESP, SPISize: 4, SPIs: [][]byte{{1, 2, 3}}},
		&TS{Selectors: []TrafficSelector{{Type: TSIPv4AddrRange, StartAddr: netip.MustParseAddr("::1"), EndAddr: netip.MustParseAddr("::1")}}},
		&SA{Proposals: []*Proposal{{Transforms: []Transform{{KeyLen: 70000}}}}},
		&CP{Attributes: []CfgAttribute{{Type: 0x8000}}},
		&Nonce{Data: make([]byte, 0x10000)},
	}
	for _, p := range tests {
		m := &Message{Header: sampleHeader(INFORMATIONAL), Payloads: []Payload{p}}
		if _, err := m.Marshal(nil, nil); err == nil {
			t.Errorf("%T: no error", p)
		}
	}
	m := &Message{Header: sampleHeader(INFORMATIONAL), Payloads: []Payload{&Encrypted{}, &Nonce{}}}
	if _, err := m.Marshal(testSK(t, ike.ENCR_AES_CBC, 128, ike.AUTH_HMAC_SHA2_256_128), zeroReader{}); err == nil {
		t.Error("SK payload before another payload: no error")
	}
	m = &Message{Header: sampleHeader(INFORMATIONAL), Payloads: []Payload{&Encrypted{Inner: []Payload{&Nonce{}}}}}
	if _, err := m.Marshal(nil, nil); err == nil {
		t.Error("SK payload without keys or ciphertext: no error")
	}
}

// TestSummary checks the RFC 7296 notation of typical messages.
func TestSummary(t *testing.T) {
	nonce := &Nonce{Data: make([]byte, 32)}
	ke := &KE{Group: ike.MODP_2048}
	tsi, tsr := &TS{}, &TS{Responder: true}
	tests := []struct {
		ex        ExchangeType
		initiator bool
		payloads  []Payload
		want      string
	}{
		{IKE_SA_INIT, true, []Payload{&SA{}, ke, nonce, &Notify{Type: NAT_DETECTION_SOURCE_IP}},
			"HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP)"},
		{IKE_SA_INIT, false, []Payload{&SA{}, ke, nonce, &CertReq{}}, "HDR, SAr1, KEr, Nr, CERTREQ"},
		{IKE_AUTH, true, []Payload{&Encrypted{Inner: []Payload{&ID{}, &Auth{}, &SA{}, tsi, tsr}}},
			"HDR, SK {IDi, AUTH, SAi2, TSi, TSr}"},
		{IKE_AUTH, false, []Payload{&Encrypted{Inner: []Payload{&ID{Responder: true}, &Cert{}, &Auth{}, &SA{}, tsi, tsr}}},
			"HDR, SK {IDr, CERT, AUTH, SAr2, TSi, TSr}"},
		{CREATE_CHILD_SA, true, []Payload{&Encrypted{Inner: []Payload{&Notify{Type: REKEY_SA}, &SA{}, nonce, ke, tsi, tsr}}},
			"HDR, SK {N(REKEY_SA), SA, Ni, KEi, TSi, TSr}"},
		{INFORMATIONAL, true, []Payload{&Encrypted{Inner: []Payload{&Delete{}}}}, "HDR, SK {D}"},
		{INFORMATIONAL, false, []Payload{&Encrypted{Inner: []Payload{}}}, "HDR, SK {}"},
		{INFORMATIONAL, false, []Payload{&Encrypted{Ciphertext: []byte{1}}}, "HDR, SK {...}"},
		{IKE_AUTH, true, []Payload{&Encrypted{Inner: []Payload{&CP{Type: CFG_REQUEST}, &EAP{}, &VendorID{}}}},
			"HDR, SK {CP(CFG_REQUEST), EAP, V}"},
	}
	for _, tt := range tests {
		m := &Message{Header: Header{Exchange: tt.ex}, Payloads: tt.payloads}
		if got := Summary(m, tt.initiator); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

// TestNames checks the String methods against IANA's names.
func TestNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{IKE_SA_INIT.String(), "IKE_SA_INIT"},
		{INFORMATIONAL.String(), "INFORMATIONAL"},
		{ExchangeType(99).String(), "EXCHANGE(99)"},
		{PayloadNonce.String(), "Nonce"},
		{PayloadSKF.String(), "SKF"},
		{PayloadType(200).String(), "PAYLOAD(200)"},
		{PayloadSK.LongName(), "Encrypted and Authenticated"},
		{(FlagInitiator | FlagResponse).String(), "I|R"},
		{Flags(0).String(), "none"},
		{NO_PROPOSAL_CHOSEN.String(), "NO_PROPOSAL_CHOSEN"},
		{CHILDLESS_IKEV2_SUPPORTED.String(), "CHILDLESS_IKEV2_SUPPORTED"},
		{NotifyType(12345).String(), "NOTIFY(12345)"},
		{AUTHENTICATION_FAILED.Error(), "AUTHENTICATION_FAILED"},
		{fmt.Sprintf("%v", REKEY_SA), "REKEY_SA"},
		{IDFQDN.String(), "ID_FQDN"},
		{TSIPv6AddrRange.String(), "TS_IPV6_ADDR_RANGE"},
		{INTERNAL_IP4_DNS.String(), "INTERNAL_IP4_DNS"},
		{CFG_REPLY.String(), "CFG_REPLY"},
		{AuthSharedKeyMIC.String(), "Shared Key Message Integrity Code"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	for nt := range notifyNames {
		if nt.IsError() != (nt < 16384) {
			t.Errorf("%v: IsError %v", nt, nt.IsError())
		}
	}
	var err error = TS_UNACCEPTABLE
	if !errors.Is(err, TS_UNACCEPTABLE) {
		t.Error("a NotifyType is not usable as an error")
	}
}

// TestProposalConversion converts between the wire form and ike.Proposal.
func TestProposalConversion(t *testing.T) {
	p := ike.Proposal{Protocol: ike.ProtoESP, Transforms: []ike.Transform{
		{Type: ike.TransformENCR, ID: ike.ENCR_AES_GCM_16, KeyLen: 256}, {Type: ike.TransformESN, ID: ike.NO_ESN}}}
	w := NewProposal(4, []byte{9, 9, 9, 9}, p)
	if w.Number != 4 || !bytes.Equal(w.SPI, []byte{9, 9, 9, 9}) || !reflect.DeepEqual(w.IKE(), p) {
		t.Fatalf("got %+v", w)
	}
	sa := NewSA(nil, p, p)
	if len(sa.Proposals) != 2 || sa.Proposals[1].Number != 2 || !reflect.DeepEqual(sa.IKEProposals(), []ike.Proposal{p, p}) {
		t.Fatalf("NewSA: %+v", sa.Proposals)
	}
}

// TestIDString shows identities as configurations write them.
func TestIDString(t *testing.T) {
	// DER of the name C=CH, O=strongSwan, CN=moon.strongswan.org (X.690 encoding of an
	// RDNSequence with PrintableString values).
	dn, _ := hex.DecodeString("3040310b300906035504061302434831133011060355040a130a7374726f6e675377616e" +
		"311c301a060355040313136d6f6f6e2e7374726f6e677377616e2e6f7267")
	tests := []struct {
		id   ID
		want string
	}{
		{ID{Type: IDIPv4Addr, Data: []byte{192, 168, 77, 1}}, "192.168.77.1"},
		{ID{Type: IDFQDN, Data: []byte("node-b.iklab.test")}, "node-b.iklab.test"},
		{ID{Type: IDRFC822Addr, Data: []byte("carol@example.org")}, "carol@example.org"},
		{ID{Type: IDDERASN1DN, Data: dn}, "CN=moon.strongswan.org,O=strongSwan,C=CH"},
		{ID{Type: IDKeyID, Data: []byte{0xde, 0xad}}, "dead"},
	}
	for _, tt := range tests {
		if got := tt.id.String(); got != tt.want {
			t.Errorf("%v: got %q, want %q", tt.id.Type, got, tt.want)
		}
	}
	id, err := ike.ParseIdentity("carol@example.org")
	if err != nil {
		t.Fatal(err)
	}
	p := NewID(true, id)
	if p.PayloadType() != PayloadIDr || p.Type != IDRFC822Addr || !p.Identity().Equal(id) {
		t.Fatalf("NewID: %+v", p)
	}
}

// FuzzParse checks that Parse never panics, that what it accepts marshals back to the
// same bytes, and that Dissect reads anything.
func FuzzParse(f *testing.F) {
	for _, p := range samplePayloads() {
		m := &Message{Header: sampleHeader(INFORMATIONAL), Payloads: []Payload{p}}
		b, err := m.Marshal(nil, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		root := Dissect(b, nil)
		if root == nil {
			t.Fatal("Dissect returned nil")
		}
		m, err := Parse(b)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		again, err := m.Marshal(nil, nil)
		if err != nil {
			t.Fatalf("parsed message does not marshal: %v", err)
		}
		if _, err := Parse(again); err != nil {
			t.Fatalf("re-marshaled message does not parse: %v", err)
		}
	})
}

// TestEncryptedPayloadsRoundTrip carries SK and SKF payloads as ciphertext (as a relay or
// a capture reader sees them): Parse and Marshal without keys keep them unchanged, and
// every truncation is an error.
func TestEncryptedPayloadsRoundTrip(t *testing.T) {
	for _, p := range []Payload{
		&Encrypted{FirstPayload: PayloadIDi, Ciphertext: counting(48, 1)},
		&EncryptedFragment{Number: 1, Total: 3, FirstPayload: PayloadIDi, Ciphertext: counting(40, 7)},
		&EncryptedFragment{Number: 3, Total: 3, Ciphertext: counting(24, 9)},
	} {
		m := &Message{Header: sampleHeader(IKE_AUTH), Payloads: []Payload{&Notify{Type: COOKIE, Data: []byte{1}}, p}}
		b := mustMarshal(t, m)
		got, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		last := got.Payloads[1]
		if e, ok := last.(*Encrypted); ok {
			e.offset = 0 // where Parse found it; not part of the comparison
		}
		if !reflect.DeepEqual(last, p) {
			t.Fatalf("got %#v, want %#v", last, p)
		}
		if again := mustMarshal(t, got); !bytes.Equal(again, b) {
			t.Fatalf("re-marshal differs")
		}
		for n := HeaderLen; n < len(b); n++ {
			cut := append([]byte(nil), b[:n]...)
			setLength(cut, n)
			if _, err := Parse(cut); err == nil {
				t.Fatalf("%T cut to %d of %d bytes: no error", p, n, len(b))
			}
		}
	}
	if s := Summary(&Message{Payloads: []Payload{&EncryptedFragment{Number: 2, Total: 5}}}, true); s != "HDR, SKF(2/5)" {
		t.Errorf("summary %q", s)
	}
}
