package ikev1

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// libreswanAggressive1 is the first aggressive mode message of libreswan 4.10's pluto
// (ike=3des-sha1-modp1536, leftid=@pluto.test), as it left pluto's socket: HDR, SA, KE,
// Ni, IDii (ID_FQDN "pluto.test": an 18-byte payload), six Vendor IDs, and then 2 bytes
// of padding that align the message to 452 octets (pluto's default ikepad=yes).
const libreswanAggressive1 = "" +
	"a58a9ba4d2d2b37200000000000000000110040000000000000001c404000034" +
	"000000010000000100000028000100010000002000010000800b0001800c7080" +
	"800100058002000280030001800400050a0000c465aa4002701c82186d3357f3" +
	"0ee8d5e2d7241ad5f87529b764834808602917a829e59997809659eee4a50a92" +
	"99516302976bef63cf11d19565b317008a5ff0b959f3d8831c14df255fafe5da" +
	"3174c28d268a589c11b1eb3e5c78bfe94c036a64ba569ae9293e26643665406f" +
	"5219e71775158bae60899f46284171d8612e025dc799e05cfaaad90e93255e99" +
	"b830be6331375fc68d05cc5f6d401ad5bb91b1839206dc36549f309e1412dcd9" +
	"0294201cc01ebb7ae04320e8139d03a9428fbeef050000245477ba2f5c42931c" +
	"328a95b7ce39081617a49b870d240ce2f1bf0664406752da0d00001202000000" +
	"706c75746f2e746573740d0000144048b7d56ebce88525e7de7f00d6c2d30d00" +
	"0014afcad71368a1f1c96b8696fc775701000d0000144a131c81070358455c57" +
	"28f20e95452f0d0000147d9419a65310ca6f2c179d9215529d560d00001490cb" +
	"80913ebb696e086381b5ec427b1f00000014cd60464335df21f87cfdb2fc68b6" +
	"a4480000" +
	""

// TestClearPadding: the bytes that follow the last payload of a message in clear are
// padding when they are fewer than 4; a chain that really is malformed still fails.
func TestClearPadding(t *testing.T) {
	am1 := mustHex(t, libreswanAggressive1)
	m, err := Parse(am1)
	if err != nil {
		t.Fatalf("pluto's aggressive mode message 1: %v", err)
	}
	var types []string
	for _, p := range m.Payloads {
		types = append(types, p.PayloadType().String())
	}
	if got, want := strings.Join(types, " "), "SA KE NONCE ID VID VID VID VID VID VID"; got != want {
		t.Errorf("payloads %s, want %s", got, want)
	}
	if id, ok := m.Payloads[3].(*ID); !ok || string(id.Data) != "pluto.test" || len(m.PayloadBytes(3)) != 18 {
		t.Errorf("payload 4 is %#v, want the 18-byte ID pluto.test", m.Payloads[3])
	}
	if !bytes.Equal(m.Padding, []byte{0, 0}) {
		t.Errorf("padding %x, want 0000", m.Padding)
	}
	if again, err := m.Marshal(nil); err != nil || !bytes.Equal(again, am1) {
		t.Errorf("marshaled again, the message differs (%v)", err)
	}
	root := Dissect(am1, nil)
	var pad *ike.Field
	root.Walk(func(f *ike.Field, _ int) {
		if f.Error != "" {
			t.Errorf("dissection: %s: %s", f.Name, f.Error)
		}
		if f.Name == "Padding" {
			pad = f
		}
	})
	if pad == nil || pad.Offset != 450 || pad.Length != 2 {
		t.Errorf("dissection's padding field: %+v, want 2 bytes at 450", pad)
	}

	// withLength sets the header's Length field to the message's length.
	withLength := func(b []byte) []byte {
		b[24], b[25], b[26], b[27] = byte(len(b)>>24), byte(len(b)>>16), byte(len(b)>>8), byte(len(b))
		return b
	}
	for _, tt := range []struct {
		name string
		msg  []byte
		want string
	}{
		{"four bytes after the last payload", withLength(append(clone(am1), 0, 0)), "4 bytes after the last payload"},
		{"the last payload cut short", withLength(clone(am1[:len(am1)-6])), "payload length 20 does not fit the 16 bytes left"},
		{"the ID's length beyond the message", func() []byte {
			b := clone(am1)
			b[0x138+3] = 0xff // ID payload length 0x00ff
			return b
		}(), "payload length 255 does not fit"},
		{"a payload header in the padding", func() []byte {
			b := clone(am1)
			b[0x1ae] = byte(PayloadVendor) // the last VID names a next payload
			return b
		}(), "generic payload header truncated: 2 bytes left"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.msg)
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse: %v, want a *ParseError with %q", err, tt.want)
			}
			bad := false
			Dissect(tt.msg, nil).Walk(func(f *ike.Field, _ int) { bad = bad || f.Error != "" })
			if !bad {
				t.Error("the dissection shows no error")
			}
		})
	}
}

// TestEncryptedPadding: a sender that aligns its payloads to 4 octets before it fills
// the last cipher block (pluto does) may leave more padding than the block alone needs;
// up to a block of it decrypts, more does not.
func TestEncryptedPadding(t *testing.T) {
	encr := ike.Encr(ike.ENCR_3DES)
	c := &Crypto{Encr: encr, Key: bytes.Repeat([]byte{7}, 24), IV: bytes.Repeat([]byte{1}, encr.BlockSize)}
	// An 18-byte ID and a 24-byte HASH: 42 bytes, 2 to align to 44, 4 more to fill 48.
	ps := []Payload{&ID{Type: IDFQDN, Data: []byte("pluto.test")}, NewHash(bytes.Repeat([]byte{9}, 20))}
	for _, tt := range []struct {
		padding []byte
		ok      bool
	}{
		{make([]byte, 6), true},
		{make([]byte, 14), false},
	} {
		m := &Message{Header: Header{ICookie: 1, RCookie: 2, Exchange: ExchangeAggressive, Flags: FlagEncryption}, Payloads: ps, Padding: tt.padding}
		raw, err := m.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		err = back.Decrypt(c)
		if (err == nil) != tt.ok {
			t.Errorf("%d bytes of padding: Decrypt: %v, want ok %v", len(tt.padding), err, tt.ok)
			continue
		}
		if tt.ok && (!bytes.Equal(back.Padding, tt.padding) || len(back.Payloads) != 2) {
			t.Errorf("%d bytes of padding: read %d payloads and padding %x", len(tt.padding), len(back.Payloads), back.Padding)
		}
	}
}

// TestAggressiveModeFromLibreswan: a responder answers pluto's padded first aggressive
// mode message with its second, instead of dropping it as malformed.
func TestAggressiveModeFromLibreswan(t *testing.T) {
	n := newTestNet(t)
	idI, _ := ike.ParseIdentity("ikesim.test")
	idR, _ := ike.ParseIdentity("pluto.test")
	c := &ike.Connection{Name: "pluto", Version: 1, Aggressive: true, LocalAddrs: []netip.Addr{netip.MustParseAddr("198.51.100.2")},
		RemoteAddrs: []netip.Addr{netip.MustParseAddr("198.51.100.1")}, Proposals: []ike.Proposal{mustProposal(t, "3des-sha1-modp1536", ike.ProtoIKE)},
		Local: ike.AuthConfig{Method: "psk", ID: idI, PSK: []byte("ikesim-interop-psk")}, Remote: ike.AuthConfig{Method: "psk", ID: idR, PSK: []byte("ikesim-interop-psk")}}
	nd := n.node("ikesim", "198.51.100.2", c)
	nd.d.HandleDatagram(netip.MustParseAddrPort("198.51.100.2:500"), netip.MustParseAddrPort("198.51.100.1:500"), mustHex(t, libreswanAggressive1))
	n.run(time.Second)
	if len(nd.dropped) > 0 || len(n.dgrams) == 0 {
		t.Fatalf("ikesim dropped pluto's message (%q) and sent %d datagrams", nd.dropped, len(n.dgrams))
	}
	if m, err := Parse(n.dgrams[0].dg.Data); err != nil || m.Exchange != ExchangeAggressive || m.RCookie == 0 {
		t.Errorf("ikesim's answer: %v, %+v; want aggressive mode message 2", err, m)
	}
}
