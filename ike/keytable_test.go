package ike

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike/testenv"
)

// TestKeytableReferenceCaptures parses the key tables strongSwan's save-keys plugin wrote
// for the reference captures (shared/captures/*.keys) and checks that formatting the
// records gives back the very same lines.
func TestKeytableReferenceCaptures(t *testing.T) {
	dir := filepath.Join(testenv.Shared(t), "captures")
	tables, err := filepath.Glob(filepath.Join(dir, "*.keys", "*"))
	if err != nil || len(tables) < 6 {
		t.Fatalf("key tables: %v %v", tables, err)
	}
	for _, path := range tables {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		switch filepath.Base(path) {
		case "ikev2_decryption_table":
			keys, err := ParseIKEv2KeyTable(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if k.Encr != ENCR_AES_CBC || k.EncrKeyBits != 128 || k.Integ != AUTH_HMAC_SHA2_256_128 || k.SPIi == 0 {
					t.Errorf("%s: %+v", path, k)
				}
				line, err := k.Line()
				if err != nil {
					t.Fatal(err)
				}
				lines = append(lines, line)
			}
		case "esp_sa":
			keys, err := ParseESPKeyTable(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if k.Encr != ENCR_AES_CBC || k.EncrKeyBits != 128 || k.Integ != AUTH_HMAC_SHA2_256_128 || !k.Src.Is4() {
					t.Errorf("%s: %+v", path, k)
				}
				line, err := k.Line()
				if err != nil {
					t.Fatal(err)
				}
				lines = append(lines, line)
			}
		case "ikev1_decryption_table":
			keys, err := ParseIKEv1KeyTable(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				lines = append(lines, k.Line())
			}
		default:
			t.Fatalf("unexpected table %s", path)
		}
		if got, want := strings.Join(lines, "\n"), strings.TrimRight(string(data), "\n"); got != want {
			t.Errorf("%s: formatted\n%s\nwant\n%s", path, got, want)
		}
	}
}

// TestKeytableNames checks the Wireshark 4.0 names of every algorithm in the registry:
// each has a name that maps back to the same ID, or an error saying tshark 4.0 cannot
// decrypt it.
func TestKeytableNames(t *testing.T) {
	tests := []struct {
		got  func() (string, error)
		want string // "" for an error
	}{
		{func() (string, error) { return WiresharkIKEv2Encr(ENCR_AES_CBC, 128) }, "AES-CBC-128 [RFC3602]"},
		{func() (string, error) { return WiresharkIKEv2Encr(ENCR_AES_CBC, 256) }, "AES-CBC-256 [RFC3602]"},
		{func() (string, error) { return WiresharkIKEv2Encr(ENCR_AES_CBC, 100) }, ""},
		{func() (string, error) { return WiresharkIKEv2Encr(ENCR_3DES, 192) }, "3DES [RFC2451]"},
		{func() (string, error) { return WiresharkIKEv2Encr(ENCR_AES_GCM_16, 256) }, "AES-GCM-256 with 16 octet ICV [RFC5282]"},
		{func() (string, error) { return WiresharkIKEv2Encr(ENCR_AES_GCM_8, 128) }, "AES-GCM-128 with 8 octet ICV [RFC5282]"},
		{func() (string, error) { return WiresharkIKEv2Encr(ENCR_CHACHA20_POLY1305, 256) }, ""},
		{func() (string, error) { return WiresharkIKEv2Integ(AUTH_HMAC_SHA2_256_128) }, "HMAC_SHA2_256_128 [RFC4868]"},
		{func() (string, error) { return WiresharkIKEv2Integ(AUTH_HMAC_MD5_96) }, "HMAC_MD5_96 [RFC2403]"},
		{func() (string, error) { return WiresharkIKEv2Integ(AUTH_NONE) }, "NONE [RFC4306]"},
		{func() (string, error) { return WiresharkIKEv2Integ(AUTH_AES_XCBC_96) }, ""},
		{func() (string, error) { return WiresharkESPEncr(ENCR_AES_CBC, 256) }, "AES-CBC [RFC3602]"},
		{func() (string, error) { return WiresharkESPEncr(ENCR_AES_CBC, 100) }, ""},
		{func() (string, error) { return WiresharkESPEncr(ENCR_3DES, 192) }, "TripleDES-CBC [RFC2451]"},
		{func() (string, error) { return WiresharkESPEncr(ENCR_AES_GCM_16, 128) }, "AES-GCM with 16 octet ICV [RFC4106]"},
		{func() (string, error) { return WiresharkESPEncr(ENCR_NULL, 0) }, "NULL"},
		{func() (string, error) { return WiresharkESPEncr(ENCR_CHACHA20_POLY1305, 256) }, ""},
		{func() (string, error) { return WiresharkESPAuth(AUTH_HMAC_SHA2_256_128) }, "HMAC-SHA-256-128 [RFC4868]"},
		{func() (string, error) { return WiresharkESPAuth(AUTH_HMAC_MD5_96) }, "HMAC-MD5-96 [RFC2403]"},
		{func() (string, error) { return WiresharkESPAuth(AUTH_NONE) }, "NULL"},
		{func() (string, error) { return WiresharkESPAuth(AUTH_AES_XCBC_96) }, ""},
	}
	for i, tt := range tests {
		got, err := tt.got()
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("%d: %q, want an error", i, got)
		case tt.want == "" && !strings.Contains(err.Error(), "tshark 4.0") && !strings.Contains(err.Error(), "-bit key"):
			t.Errorf("%d: error %q names neither tshark 4.0 nor the key size", i, err)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("%d: %q %v, want %q", i, got, err, tt.want)
		}
	}
	// Every registry algorithm either maps both ways or is refused.
	for _, e := range EncrAlgs() {
		for _, bits := range append([]int{0}, e.KeyBits...) {
			if name, err := WiresharkIKEv2Encr(e.ID, bits); err == nil {
				id, kb, err := reverseName(wiresharkIKEv2Encr, name, "encryption")
				if err != nil || id != e.ID || (kb != 0 && kb != bits) {
					t.Errorf("%s-%d: %q maps back to %d/%d %v", e.Name, bits, name, id, kb, err)
				}
			}
		}
	}
	for _, a := range IntegAlgs() {
		if name, err := WiresharkESPAuth(a.ID); err == nil {
			if id, _, err := reverseName(wiresharkESPAuth, name, "authentication"); err != nil || id != a.ID {
				t.Errorf("%s: %q maps back to %d %v", a.Name, name, id, err)
			}
		}
	}
}

// TestKeytableLines formats records of every kind and parses them back.
func TestKeytableLines(t *testing.T) {
	gcm := IKEv2Keys{SPIi: 0x0102030405060708, SPIr: 0xa1a2a3a4a5a6a7a8, Encr: ENCR_AES_GCM_16, EncrKeyBits: 256,
		SKei: bytes.Repeat([]byte{1}, 36), SKer: bytes.Repeat([]byte{2}, 36), Integ: AUTH_NONE}
	line, err := gcm.Line()
	if err != nil {
		t.Fatal(err)
	}
	want := `0102030405060708,a1a2a3a4a5a6a7a8,` + strings.Repeat("01", 36) + `,` + strings.Repeat("02", 36) +
		`,"AES-GCM-256 with 16 octet ICV [RFC5282]",,,"NONE [RFC4306]"`
	if line != want {
		t.Fatalf("line\n%s\nwant\n%s", line, want)
	}
	back, err := ParseIKEv2KeyTable(strings.NewReader(line + "\n"))
	if err != nil || len(back) != 1 || back[0].EncrKeyBits != 256 || back[0].Encr != ENCR_AES_GCM_16 || len(back[0].SKai) != 0 {
		t.Fatalf("parsed %+v %v", back, err)
	}

	esp := ESPKeys{Src: netip.MustParseAddr("2001:db8::1"), SPI: 0xc0ffee01, Encr: ENCR_AES_GCM_16, EncrKeyBits: 128,
		EncrKey: bytes.Repeat([]byte{0xaa}, 20), Integ: AUTH_NONE}
	line, err = esp.Line()
	if err != nil {
		t.Fatal(err)
	}
	want = `"IPv6","2001:db8::1","*","0xc0ffee01","AES-GCM with 16 octet ICV [RFC4106]","0x` + strings.Repeat("aa", 20) + `","NULL",""`
	if line != want {
		t.Fatalf("line\n%s\nwant\n%s", line, want)
	}
	eb, err := ParseESPKeyTable(strings.NewReader(line))
	if err != nil || len(eb) != 1 || eb[0].EncrKeyBits != 128 || eb[0].Dst.IsValid() || eb[0].SPI != 0xc0ffee01 {
		t.Fatalf("parsed %+v %v", eb, err)
	}

	// strongSwan's save-keys spelling of ESP AES-GCM.
	legacy := `"IPv4","10.0.0.1","10.0.0.2","0x00000001","AES-GCM [RFC4106]","0x` + strings.Repeat("bb", 36) +
		`","ANY 96 bit authentication [no checking]",""`
	lb, err := ParseESPKeyTable(strings.NewReader(legacy))
	if err != nil || lb[0].Encr != ENCR_AES_GCM_12 || lb[0].EncrKeyBits != 256 || lb[0].Integ != AUTH_NONE {
		t.Fatalf("legacy GCM: %+v %v", lb, err)
	}

	refused := []interface{ Line() (string, error) }{
		IKEv2Keys{Encr: ENCR_AES_CBC, EncrKeyBits: 128, SKei: make([]byte, 15), SKer: make([]byte, 16), Integ: AUTH_HMAC_SHA1_96,
			SKai: make([]byte, 20), SKar: make([]byte, 20)},
		IKEv2Keys{Encr: ENCR_AES_GCM_16, EncrKeyBits: 128, SKei: make([]byte, 20), SKer: make([]byte, 20), Integ: AUTH_HMAC_SHA1_96},
		ESPKeys{Encr: ENCR_AES_GCM_8, EncrKeyBits: 128, EncrKey: make([]byte, 20), Integ: AUTH_HMAC_SHA1_96},
		ESPKeys{Encr: ENCR_AES_CBC, EncrKeyBits: 128, EncrKey: make([]byte, 24), Integ: AUTH_NONE},
		ESPKeys{Encr: ENCR_CHACHA20_POLY1305, EncrKeyBits: 256, EncrKey: make([]byte, 36)},
	}
	for i, k := range refused {
		if l, err := k.Line(); err == nil {
			t.Errorf("%d: %q, want an error", i, l)
		}
	}
}

// TestKeytableParseErrors checks that bad records are rejected with their line number.
func TestKeytableParseErrors(t *testing.T) {
	good := "0102030405060708,a1a2a3a4a5a6a7a8,00112233445566778899aabbccddeeff,00112233445566778899aabbccddeeff," +
		`"AES-CBC-128 [RFC3602]",` + strings.Repeat("00", 32) + "," + strings.Repeat("11", 32) + `,"HMAC_SHA2_256_128 [RFC4868]"`
	tests := []struct {
		name, table, want string
		parse             func(string) error
	}{
		{"short SPI", "# comment\n\n" + good + "\n" + strings.Replace(good, "0102030405060708", "0102", 1), "line 4", parseV2},
		{"unknown cipher", strings.Replace(good, "AES-CBC-128", "AES-CBC-512", 1), "line 1", parseV2},
		{"bad hex", strings.Replace(good, "00112233", "0011zz33", 1), "SK_ei is not hex", parseV2},
		{"short key", strings.Replace(good, "00112233445566778899aabbccddeeff,", "0011,", 1), "keys of 2 and 16 bytes", parseV2},
		{"field count", good + ",x", "9 fields, want 8", parseV2},
		{"unterminated quote", strings.Replace(good, `"HMAC_SHA2_256_128 [RFC4868]"`, `"HMAC`, 1), "unterminated quote", parseV2},
		{"ESP family", `"IPX","*","*","0x1","NULL","","NULL",""`, "neither IPv4 nor IPv6", parseESP},
		{"ESP SPI", `"IPv4","*","*","0xnope","NULL","","NULL",""`, "SPI", parseESP},
		{"ESP address", `"IPv4","10.0.0.300","*","0x1","NULL","","NULL",""`, "source address", parseESP},
		{"ESP AES key", `"IPv4","*","*","0x1","AES-CBC [RFC3602]","0x0011","NULL",""`, "fits no key size", parseESP},
		{"ESP auth key", `"IPv4","*","*","0x1","NULL","","HMAC-SHA-1-96 [RFC2404]","0x00"`, "key of 1 bytes", parseESP},
		{"IKEv1 cookie", "01,00112233", "initiator cookie", parseV1},
		{"IKEv1 empty key", "0102030405060708,", "empty encryption key", parseV1},
	}
	for _, tt := range tests {
		err := tt.parse(tt.table)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "ike: ") {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func parseV2(s string) error  { _, err := ParseIKEv2KeyTable(strings.NewReader(s)); return err }
func parseESP(s string) error { _, err := ParseESPKeyTable(strings.NewReader(s)); return err }
func parseV1(s string) error  { _, err := ParseIKEv1KeyTable(strings.NewReader(s)); return err }

// TestKeytableTsharkAcceptsNames hands tshark 4.0 one record with every name the
// Wireshark* functions produce: tshark refuses a record whose algorithm name it does not
// know, so this checks the names against the real program.
func TestKeytableTsharkAcceptsNames(t *testing.T) {
	tshark := testenv.Tool(t, "tshark", "tshark")
	pcap := filepath.Join(testenv.Shared(t), "captures", "ikev2-psk-port500.pcap")
	args := []string{"-r", pcap, "-c", "1"}
	n := 0
	for _, e := range EncrAlgs() {
		for _, bits := range e.KeyBits {
			integ := uint16(AUTH_HMAC_SHA2_256_128)
			if e.AEAD() {
				integ = AUTH_NONE
			}
			k := IKEv2Keys{SPIi: uint64(n + 1), SPIr: 1, Encr: e.ID, EncrKeyBits: bits, Integ: integ,
				SKei: make([]byte, e.KeyBytes(bits)), SKer: make([]byte, e.KeyBytes(bits))}
			if a := Integ(integ); a != nil {
				k.SKai, k.SKar = make([]byte, a.KeySize), make([]byte, a.KeySize)
			}
			if line, err := k.Line(); err == nil {
				args = append(args, "-o", "uat:ikev2_decryption_table:"+line)
				n++
			}
			ek := ESPKeys{SPI: uint32(n + 1), Encr: e.ID, EncrKeyBits: bits, EncrKey: make([]byte, e.KeyBytes(bits)), Integ: integ,
				IntegKey: k.SKai}
			if line, err := ek.Line(); err == nil {
				args = append(args, "-o", "uat:esp_sa:"+line)
				n++
			}
		}
	}
	for _, a := range IntegAlgs() {
		k := IKEv2Keys{SPIi: uint64(n + 1), SPIr: 2, Encr: ENCR_AES_CBC, EncrKeyBits: 128, Integ: a.ID,
			SKei: make([]byte, 16), SKer: make([]byte, 16), SKai: make([]byte, a.KeySize), SKar: make([]byte, a.KeySize)}
		if line, err := k.Line(); err == nil {
			args = append(args, "-o", "uat:ikev2_decryption_table:"+line)
			n++
		}
	}
	args = append(args, "-o", "uat:ikev1_decryption_table:"+IKEv1Keys{ICookie: 1, EncKey: make([]byte, 16)}.Line())
	if n < 20 {
		t.Fatalf("only %d records", n)
	}
	out, err := exec.Command(tshark, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("tshark refused a record: %v\n%s", err, out)
	}
}

// FuzzKeytable checks that the table parsers never panic and that what the IKEv2 parser
// accepts formats to a line it accepts again.
func FuzzKeytable(f *testing.F) {
	f.Add("0102030405060708,a1a2a3a4a5a6a7a8,00112233445566778899aabbccddeeff,00112233445566778899aabbccddeeff," +
		`"AES-CBC-128 [RFC3602]",` + strings.Repeat("00", 32) + "," + strings.Repeat("11", 32) + `,"HMAC_SHA2_256_128 [RFC4868]"`)
	f.Add(`"IPv4","192.168.77.1","192.168.77.2","0x6a367c41","AES-CBC [RFC3602]","0x95f8d5e82b9c685eabd8dd886c66413b","NULL",""`)
	f.Add(`0102030405060708,"a\x2cb",""`)
	f.Fuzz(func(t *testing.T, s string) {
		ParseESPKeyTable(strings.NewReader(s))
		ParseIKEv1KeyTable(strings.NewReader(s))
		keys, err := ParseIKEv2KeyTable(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, k := range keys {
			line, err := k.Line()
			if err != nil {
				t.Fatalf("parsed record %+v does not format: %v", k, err)
			}
			if _, err := ParseIKEv2KeyTable(strings.NewReader(line)); err != nil {
				t.Fatalf("formatted line %q does not parse: %v", line, err)
			}
		}
	})
}
