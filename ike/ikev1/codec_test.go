package ikev1

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/ikesim/ikesim/ike"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// samplePayloads has one payload of every type the codec decodes, with the fields each
// has filled in.
func samplePayloads() []Payload {
	return []Payload{
		&SA{DOI: DOIIPsec, Situation: SitIdentityOnly, Proposals: []*Proposal{
			{Number: 1, Protocol: ProtoISAKMP, Transforms: []*Transform{
				{Number: 1, ID: KeyIKE, Attributes: []Attribute{TV(AttrEncryption, EncrAES), TV(AttrKeyLength, 256),
					TV(AttrHash, HashSHA256), TV(AttrAuthMethod, AuthPSK), TV(AttrGroupDesc, 14),
					TV(AttrLifeType, LifeSeconds), Number(AttrLifeDuration, 86400)}},
				{Number: 2, ID: KeyIKE, Attributes: []Attribute{TV(AttrEncryption, EncrDES), TV(AttrHash, HashSHA)}},
			}},
		}},
		&SA{DOI: DOIIPsec, Situation: SitIdentityOnly, Proposals: []*Proposal{
			{Number: 1, Protocol: ProtoIPsecESP, SPI: []byte{1, 2, 3, 4}, Transforms: []*Transform{
				{Number: 1, ID: ESP_AES, Attributes: []Attribute{TV(IPsecAttrKeyLength, 192), TV(IPsecAttrAuthAlg, AuthAlgHMACMD5),
					TV(IPsecAttrEncapMode, EncapTunnel), TV(IPsecAttrLifeType, LifeKilobytes), Number(IPsecAttrLifeDuration, 4608000)}}}},
			{Number: 2, Protocol: ProtoIPsecESP, SPI: []byte{5, 6, 7, 8}, Transforms: []*Transform{{Number: 1, ID: ESP_3DES}}},
		}},
		NewKE(bytes.Repeat([]byte{0xab}, 96)),
		&ID{Type: IDFQDN, Data: []byte("gw-a.example")},
		SelectorID(ike.TSFromPrefix(netip.MustParsePrefix("10.1.0.0/24"))),
		&Cert{Encoding: 4, Data: []byte{0x30, 0x82}},
		&CertReq{Type: 4, Authority: []byte{1, 2}},
		NewHash(bytes.Repeat([]byte{1}, 20)),
		NewSig([]byte{9, 9, 9}),
		NewNonce(bytes.Repeat([]byte{2}, 16)),
		&Notify{DOI: DOIIPsec, Protocol: ProtoISAKMP, SPI: bytes.Repeat([]byte{3}, 16), Type: R_U_THERE, Data: []byte{0, 0, 0, 7}},
		&Delete{DOI: DOIIPsec, Protocol: ProtoIPsecESP, SPISize: 4, SPIs: [][]byte{{1, 2, 3, 4}, {5, 6, 7, 8}}},
		NewVendorID(VendorDPD),
		&NATD{Hash: bytes.Repeat([]byte{4}, 20)},
		&NATOA{Addr: netip.MustParseAddr("192.168.1.10")},
		&Attributes{Type: CfgReply, Identifier: 7, Attributes: []Attribute{
			{Type: CfgInternalIP4Address, Value: []byte{10, 10, 10, 1}}, TV(XAuthStatus, 1), {Type: XAuthUserName}}},
		&Unknown{Type: 99, Body: []byte("x")},
	}
}

// TestPayloadRoundTrip marshals a message with each payload and parses it back: every
// field must survive, and the bytes must marshal again identically.
func TestPayloadRoundTrip(t *testing.T) {
	for _, p := range samplePayloads() {
		t.Run(p.PayloadType().String(), func(t *testing.T) {
			m := &Message{Header: Header{ICookie: 0x1122334455667788, RCookie: 0x99, Exchange: ExchangeMain}, Payloads: []Payload{p, NewNonce([]byte{1})}}
			raw, err := m.Marshal(nil)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Payloads[0], p) {
				t.Errorf("parsed %#v, want %#v", back.Payloads[0], p)
			}
			again, err := back.Marshal(nil)
			if err != nil || !bytes.Equal(again, raw) {
				t.Errorf("re-marshal differs: %v", err)
			}
			if got := back.PayloadBytes(0); len(got) != int(raw[HeaderLen+2])<<8|int(raw[HeaderLen+3]) {
				t.Errorf("PayloadBytes(0) has %d bytes", len(got))
			}
		})
	}
}

// TestTruncatedPayloads cuts every sample message short at every length: Parse must
// fail with a *ParseError, never panic, and Dissect must mark an error.
func TestTruncatedPayloads(t *testing.T) {
	for _, p := range samplePayloads() {
		m := &Message{Header: Header{ICookie: 1, Exchange: ExchangeMain}, Payloads: []Payload{p}}
		raw, err := m.Marshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(raw); n++ {
			cut := append([]byte(nil), raw[:n]...)
			if n >= HeaderLen {
				cut[24], cut[25], cut[26], cut[27] = 0, 0, byte(n>>8), byte(n)
			}
			_, err := Parse(cut)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("%v cut to %d bytes: error %v, want a *ParseError", p.PayloadType(), n, err)
			}
			root := Dissect(cut, nil)
			bad := false
			root.Walk(func(f *ike.Field, _ int) { bad = bad || f.Error != "" })
			if !bad {
				t.Errorf("%v cut to %d bytes: the dissection shows no error", p.PayloadType(), n)
			}
		}
	}
}

// TestEncryptDecrypt encrypts a message, checks the ciphertext is block aligned and the
// last block is the next IV, and decrypts it back; the wrong key must fail as a
// PAYLOAD-MALFORMED parse error or give different payloads.
func TestEncryptDecrypt(t *testing.T) {
	for _, tc := range []struct {
		encr *ike.EncrAlg
		key  []byte
	}{
		{ike.Encr(ike.ENCR_DES), mustHex(t, "0123456789abcdef")},
		{ike.Encr(ike.ENCR_3DES), bytes.Repeat([]byte{7}, 24)},
		{ike.Encr(ike.ENCR_AES_CBC), bytes.Repeat([]byte{9}, 24)},
	} {
		t.Run(tc.encr.Name, func(t *testing.T) {
			iv := bytes.Repeat([]byte{5}, tc.encr.BlockSize)
			m := &Message{Header: Header{ICookie: 1, RCookie: 2, Exchange: ExchangeMain, Flags: FlagEncryption},
				Payloads: []Payload{&ID{Type: IDIPv4Addr, Data: []byte{10, 0, 0, 1}}, NewHash(bytes.Repeat([]byte{1}, 20))}}
			raw, err := m.Marshal(&Crypto{Encr: tc.encr, Key: tc.key, IV: iv})
			if err != nil {
				t.Fatal(err)
			}
			if (len(raw)-HeaderLen)%tc.encr.BlockSize != 0 {
				t.Fatalf("%d encrypted bytes", len(raw)-HeaderLen)
			}
			if bytes.Contains(raw, []byte{10, 0, 0, 1}) {
				t.Error("the identity shows in the ciphertext")
			}
			back, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if err := back.Decrypt(&Crypto{Encr: tc.encr, Key: tc.key, IV: iv}); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Payloads, m.Payloads) {
				t.Errorf("decrypted %v", back.Payloads)
			}
			wrong := append([]byte(nil), tc.key...)
			wrong[0] ^= 0xff
			other, _ := Parse(raw)
			if err := other.Decrypt(&Crypto{Encr: tc.encr, Key: wrong, IV: iv}); err == nil && reflect.DeepEqual(other.Payloads, m.Payloads) {
				t.Error("the wrong key decrypts to the same payloads")
			} else if err != nil && !errors.Is(err, PAYLOAD_MALFORMED) {
				t.Errorf("wrong key: %v, want PAYLOAD-MALFORMED", err)
			}
			if got := LastBlock(raw, tc.encr.BlockSize); !bytes.Equal(got, raw[len(raw)-tc.encr.BlockSize:]) {
				t.Errorf("LastBlock %x", got)
			}
			f := Dissect(raw, &Crypto{Encr: tc.encr, Key: tc.key, IV: iv})
			if dec := f.Find("Decrypted payloads"); dec == nil || dec.Plain == nil || dec.Find("Identification") == nil {
				t.Errorf("dissection does not show the decrypted ID")
			}
		})
	}
}

// TestSelectorIDs checks the quick mode proxy IDs of RFC 2407, Section 4.6.2: the ID type
// chosen for each selector and the selector read back.
func TestSelectorIDs(t *testing.T) {
	for _, tc := range []struct {
		ts   ike.TrafficSelector
		typ  IDType
		data string
	}{
		{ike.TSFromPrefix(netip.MustParsePrefix("3.3.3.3/32")), IDIPv4Addr, "03030303"},
		{ike.TSFromPrefix(netip.MustParsePrefix("10.1.0.0/24")), IDIPv4AddrSubnet, "0a010000ffffff00"},
		{ike.TrafficSelector{Start: netip.MustParseAddr("10.0.0.5"), End: netip.MustParseAddr("10.0.0.9"), EndPort: 65535}, IDIPv4AddrRange, "0a0000050a000009"},
		{ike.TrafficSelector{Proto: 17, StartPort: 53, EndPort: 53, Start: netip.MustParseAddr("10.0.0.53"), End: netip.MustParseAddr("10.0.0.53")}, IDIPv4Addr, "0a000035"},
	} {
		id := SelectorID(tc.ts)
		if id.Type != tc.typ || hex.EncodeToString(id.Data) != tc.data {
			t.Errorf("%v: %v %x, want %v %s", tc.ts, id.Type, id.Data, tc.typ, tc.data)
		}
		back, err := id.Selector()
		if err != nil || back != tc.ts {
			t.Errorf("%v read back as %v (%v)", tc.ts, back, err)
		}
	}
	if _, err := (&ID{Type: IDIPv4AddrSubnet, Data: mustHex(t, "0a000000ff00ff00")}).Selector(); err == nil {
		t.Error("a non-contiguous mask is accepted")
	}
}

// TestAttributeEncoding checks basic and variable attributes (RFC 2408, Section 3.3):
// the 86400 s lifetime of the Cisco walkthrough does not fit 16 bits and must be a TLV.
func TestAttributeEncoding(t *testing.T) {
	for _, tc := range []struct {
		a    Attribute
		want string
	}{
		{TV(AttrEncryption, EncrDES), "80010001"},
		{Number(AttrLifeDuration, 86400), "000c000400015180"},
		{Number(IPsecAttrLifeDuration, 4608000), "0002000400465000"},
		{Number(AttrLifeDuration, 3600), "800c0e10"},
	} {
		m := &Message{Header: Header{ICookie: 1}, Payloads: []Payload{&SA{DOI: 1, Situation: 1, Proposals: []*Proposal{
			{Number: 1, Protocol: ProtoISAKMP, Transforms: []*Transform{{Number: 1, ID: KeyIKE, Attributes: []Attribute{tc.a}}}}}}}}
		raw, err := m.Marshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		got := hex.EncodeToString(raw[len(raw)-len(tc.want)/2:])
		if got != tc.want {
			t.Errorf("%+v encodes as %s, want %s", tc.a, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(mustHex(f, libreswanAggressive1))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		if !m.Encrypted() {
			if _, err := m.Marshal(nil); err != nil {
				t.Fatalf("a parsed message does not marshal: %v", err)
			}
		}
	})
}

// FuzzDissect dissects any input, in clear and decrypted with a fixed key and IV (the
// key of ikev1-main.pcap): every field must stay inside its byte space.
func FuzzDissect(f *testing.F) {
	key := mustHex(f, "690401a76539bd2a78d9541c2cb2f5cc")
	f.Add(mustHex(f, libreswanAggressive1))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, c := range []*Crypto{nil, {Encr: ike.Encr(ike.ENCR_AES_CBC), Key: key, IV: make([]byte, 16)}} {
			root := Dissect(b, c)
			checkBounds(t, root, len(b))
			if m, err := Parse(b); err == nil && m.Encrypted() && c != nil {
				m.Decrypt(c)
			}
		}
	})
}

// checkBounds fails when a field reaches outside the bytes of its space.
func checkBounds(t *testing.T, f *ike.Field, size int) {
	t.Helper()
	if err := f.OutOfBounds(size); err != nil {
		t.Fatal(err)
	}
}
