package ike

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike/testenv"
)

// TestKeytableReferenceCaptures parses the key tables strongSwan's save-keys plugin wrote
// for the reference captures (ike/testenv/testdata/captures/*.keys) and checks that formatting the
// records gives back the very same lines.
func TestKeytableReferenceCaptures(t *testing.T) {
	dir := testenv.Captures(t)
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
			keys, skipped, err := ParseIKEv2KeyTable(bytes.NewReader(data))
			if err != nil || len(skipped) > 0 {
				t.Fatal(err, skipped)
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
			keys, skipped, err := ParseESPKeyTable(bytes.NewReader(data))
			if err != nil || len(skipped) > 0 {
				t.Fatal(err, skipped)
			}
			for _, k := range keys {
				if k.Encr != ENCR_AES_CBC || k.EncrKeyBits != 128 || k.Integ != AUTH_HMAC_SHA2_256_128 || k.Src.is6() || k.Src.String() == "*" {
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
		{func() (string, error) { return WiresharkIKEv2Integ(AUTH_AES_XCBC_96) }, "ANY 96-bits of Authentication [No Checking]"},
		{func() (string, error) { return WiresharkIKEv2Integ(AUTH_AES_CMAC_96) }, "ANY 96-bits of Authentication [No Checking]"},
		{func() (string, error) { return WiresharkIKEv2Integ(AUTH_HMAC_SHA1_160) }, "HMAC_SHA1_160 [RFC4595]"},
		{func() (string, error) { return WiresharkIKEv2Encr(ENCR_AES_CTR, 192) }, "AES-CTR-192 [RFC5930]"},
		{func() (string, error) { return WiresharkIKEv2Encr(ENCR_AES_CCM_12, 256) }, "AES-CCM-256 with 12 octet ICV [RFC5282]"},
		{func() (string, error) { return WiresharkIKEv2Encr(ENCR_CAMELLIA_CBC, 128) }, ""},
		{func() (string, error) { return WiresharkESPEncr(ENCR_AES_CTR, 256) }, "AES-CTR [RFC3686]"},
		{func() (string, error) { return WiresharkESPEncr(ENCR_AES_CCM_16, 128) }, ""},
		{func() (string, error) { return WiresharkESPAuth(AUTH_HMAC_SHA1_160) }, ""},
		{func() (string, error) { return WiresharkESPEncr(ENCR_AES_CBC, 256) }, "AES-CBC [RFC3602]"},
		{func() (string, error) { return WiresharkESPEncr(ENCR_AES_CBC, 100) }, ""},
		{func() (string, error) { return WiresharkESPEncr(ENCR_3DES, 192) }, "TripleDES-CBC [RFC2451]"},
		{func() (string, error) { return WiresharkESPEncr(ENCR_AES_GCM_16, 128) }, "AES-GCM with 16 octet ICV [RFC4106]"},
		{func() (string, error) { return WiresharkESPEncr(ENCR_NULL, 0) }, "NULL"},
		{func() (string, error) { return WiresharkESPEncr(ENCR_CHACHA20_POLY1305, 256) }, ""},
		{func() (string, error) { return WiresharkESPAuth(AUTH_HMAC_SHA2_256_128) }, "HMAC-SHA-256-128 [RFC4868]"},
		{func() (string, error) { return WiresharkESPAuth(AUTH_HMAC_MD5_96) }, "HMAC-MD5-96 [RFC2403]"},
		{func() (string, error) { return WiresharkESPAuth(AUTH_NONE) }, "NULL"},
		{func() (string, error) { return WiresharkESPAuth(AUTH_AES_XCBC_96) }, "ANY 96 bit authentication [no checking]"},
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
				w, err := reverseName(wiresharkIKEv2Encr, name, "encryption", TransformENCR)
				if err != nil || w.id != e.ID || (w.keyBits != 0 && w.keyBits != bits) {
					t.Errorf("%s-%d: %q maps back to %d/%d %v", e.Name, bits, name, w.id, w.keyBits, err)
				}
			}
		}
	}
	for _, a := range IntegAlgs() {
		if name, err := WiresharkESPAuth(a.ID); err == nil {
			w, err := reverseName(wiresharkESPAuth, name, "authentication", TransformINTEG)
			if err != nil || (w.id != a.ID && w.anyICV != a.ICVSize) {
				t.Errorf("%s: %q maps back to %d %v", a.Name, name, w.id, err)
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
	back, _, err := ParseIKEv2KeyTable(strings.NewReader(line + "\n"))
	if err != nil || len(back) != 1 || back[0].EncrKeyBits != 256 || back[0].Encr != ENCR_AES_GCM_16 || len(back[0].SKai) != 0 {
		t.Fatalf("parsed %+v %v", back, err)
	}

	esp := ESPKeys{Src: AddrFilterOf(netip.MustParseAddr("2001:db8::1")), SPI: 0xc0ffee01, Encr: ENCR_AES_GCM_16, EncrKeyBits: 128,
		EncrKey: bytes.Repeat([]byte{0xaa}, 20), Integ: AUTH_NONE}
	line, err = esp.Line()
	if err != nil {
		t.Fatal(err)
	}
	want = `"IPv6","2001:db8::1","*","0xc0ffee01","AES-GCM with 16 octet ICV [RFC4106]","0x` + strings.Repeat("aa", 20) + `","NULL",""`
	if line != want {
		t.Fatalf("line\n%s\nwant\n%s", line, want)
	}
	eb, _, err := ParseESPKeyTable(strings.NewReader(line))
	if err != nil || len(eb) != 1 || eb[0].EncrKeyBits != 128 || eb[0].Dst.String() != "*" || eb[0].SPI != 0xc0ffee01 {
		t.Fatalf("parsed %+v %v", eb, err)
	}

	// strongSwan's save-keys spelling of ESP AES-GCM.
	legacy := `"IPv4","10.0.0.1","10.0.0.2","0x00000001","AES-GCM [RFC4106]","0x` + strings.Repeat("bb", 36) +
		`","ANY 96 bit authentication [no checking]",""`
	lb, _, err := ParseESPKeyTable(strings.NewReader(legacy))
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

// TestKeytableSkipsUnknownAlgorithms checks that a record whose algorithm ikesim lacks
// is skipped, with its line, and that the records around it still count.
func TestKeytableSkipsUnknownAlgorithms(t *testing.T) {
	good := "0102030405060708,a1a2a3a4a5a6a7a8,00112233445566778899aabbccddeeff,00112233445566778899aabbccddeeff," +
		`"AES-CBC-128 [RFC3602]",` + strings.Repeat("00", 32) + "," + strings.Repeat("11", 32) + `,"HMAC_SHA2_256_128 [RFC4868]"`
	table := good + "\n" + strings.Replace(good, `"HMAC_SHA2_256_128 [RFC4868]"`, `"HMAC_RIPEMD_160 [RFC0000]"`, 1) +
		"\n# comment\n" + strings.Replace(good, "0102030405060708", "1112131415161718", 1) + "\n"
	keys, skipped, err := ParseIKEv2KeyTable(strings.NewReader(table))
	if err != nil || len(keys) != 2 || keys[1].SPIi != 0x1112131415161718 {
		t.Fatalf("keys %+v, %v", keys, err)
	}
	if len(skipped) != 1 || skipped[0].Line != 2 || !strings.Contains(skipped[0].String(), "ikev2_decryption_table line 2 skipped") ||
		!strings.Contains(skipped[0].Reason, "HMAC_RIPEMD_160") {
		t.Errorf("skipped %+v", skipped)
	}
	esp := `"IPv4","*","*","0x00000001","BLOWFISH-CBC [RFC2451]","0x00112233445566778899aabbccddeeff","NULL",""` + "\n" +
		`"IPv4","10.1.*.*","192.168.0.0/16","0x0000****","AES-CTR [RFC3686]","0x00112233445566778899aabbccddeeff01020304",` +
		`"ANY 96 bit authentication [no checking]",""` + "\n"
	ek, skipped, err := ParseESPKeyTable(strings.NewReader(esp))
	if err != nil || len(ek) != 1 || len(skipped) != 1 || skipped[0].Line != 1 || !strings.Contains(skipped[0].Reason, "does not implement") {
		t.Fatalf("esp_sa: %+v %+v %v", ek, skipped, err)
	}
	k := ek[0]
	if k.Encr != ENCR_AES_CTR || k.EncrKeyBits != 128 || k.AnyICV != 12 || k.Integ != AUTH_NONE {
		t.Errorf("esp_sa record %+v", k)
	}
	for _, tc := range []struct {
		src, dst string
		spi      uint32
		want     bool
	}{
		{"10.1.2.3", "192.168.77.2", 0x0000abcd, true},
		{"10.2.2.3", "192.168.77.2", 0x0000abcd, false},
		{"10.1.2.3", "192.169.77.2", 0x0000abcd, false},
		{"10.1.2.3", "192.168.77.2", 0x0001abcd, false},
	} {
		got := k.Src.Match(netip.MustParseAddr(tc.src)) && k.Dst.Match(netip.MustParseAddr(tc.dst)) && k.MatchSPI(tc.spi)
		if got != tc.want {
			t.Errorf("%s -> %s SPI %08x: match %v, want %v", tc.src, tc.dst, tc.spi, got, tc.want)
		}
	}
	if line, err := k.Line(); err != nil || !strings.HasPrefix(line, `"IPv4","10.1.*.*","192.168.0.0/16","0x0000****","AES-CTR [RFC3686]"`) {
		t.Errorf("line %q %v", line, err)
	}
}

// TestKeytableAH: an AH SA's keys go into esp_sa as an ikesim line (Wireshark's table
// holds ESP alone), with "AH" in the encryption column, and read back.
func TestKeytableAH(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	k := ESPKeys{SPI: 0xc1a2b3c4, Integ: AUTH_HMAC_SHA2_256_128, IntegKey: key, AH: true, IPv6: true}
	if l, err := k.Line(); err == nil {
		t.Errorf("an AH SA in Wireshark's esp_sa: %q", l)
	}
	line, err := k.IkesimLine()
	want := IkesimLinePrefix + `"IPv6","*","*","0xc1a2b3c4","AH","","AUTH_HMAC_SHA2_256_128","0x` + hex.EncodeToString(key) + `"`
	if err != nil || line != want {
		t.Fatalf("IkesimLine: %q %v, want %q", line, err, want)
	}
	back, skipped, err := ParseESPKeyTable(strings.NewReader(line + "\n"))
	if err != nil || len(skipped) != 0 || len(back) != 1 {
		t.Fatalf("read back: %+v %+v %v", back, skipped, err)
	}
	if b := back[0]; !b.AH || b.SPI != k.SPI || b.Integ != k.Integ || !bytes.Equal(b.IntegKey, key) || len(b.EncrKey) != 0 || !b.IPv6 {
		t.Errorf("read back %+v, want %+v", b, k)
	}
	// tshark reads the line as a comment: it is one.
	if !strings.HasPrefix(line, "#") {
		t.Errorf("%q is not a comment to tshark", line)
	}
	for _, bad := range []struct{ line, want string }{
		{strings.Replace(line, `"AH",""`, `"AH","0x0011"`, 1), "no encryption key"},
		{strings.Replace(line, "AUTH_HMAC_SHA2_256_128", "AUTH_NONE", 1), "needs an integrity algorithm"},
		{strings.Replace(line, `","0x0001`, `","0x01`, 1), "key of"},
	} {
		if err := parseESP(bad.line); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want an error containing %q", bad.line, err, bad.want)
		}
	}
	if _, err := (ESPKeys{SPI: 1, Integ: AUTH_HMAC_SHA2_256_128, IntegKey: key[:3], AH: true}).IkesimLine(); err == nil {
		t.Error("an AH line with a short key")
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
		{"bad hex", strings.Replace(good, "00112233", "0011zz33", 1), "SK_ei is not hex", parseV2},
		{"short key", strings.Replace(good, "00112233445566778899aabbccddeeff,", "0011,", 1), "keys of 2 and 16 bytes", parseV2},
		{"field count", good + ",x", "9 fields, want 8", parseV2},
		{"unterminated quote", strings.Replace(good, `"HMAC_SHA2_256_128 [RFC4868]"`, `"HMAC`, 1), "unterminated quote", parseV2},
		{"ESP family", `"IPX","*","*","0x1","NULL","","NULL",""`, "neither IPv4 nor IPv6", parseESP},
		{"ESP SPI", `"IPv4","*","*","0xnope","NULL","","NULL",""`, "SPI", parseESP},
		{"ESP address", `"IPv4","10.0.0.300","*","0x1","NULL","","NULL",""`, "source address", parseESP},
		{"ESP wildcard", `"IPv4","10.*.0","*","0x1","NULL","","NULL",""`, "four octets", parseESP},
		{"ESP prefix", `"IPv4","10.0.0.0/33","*","0x1","NULL","","NULL",""`, "prefix length", parseESP},
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

func parseV2(s string) error  { _, _, err := ParseIKEv2KeyTable(strings.NewReader(s)); return err }
func parseESP(s string) error { _, _, err := ParseESPKeyTable(strings.NewReader(s)); return err }
func parseV1(s string) error  { _, err := ParseIKEv1KeyTable(strings.NewReader(s)); return err }

// TestKeytableTsharkAcceptsNames hands tshark 4.0 one record with every name the
// Wireshark* functions produce: tshark refuses a record whose algorithm name it does not
// know, so this checks the names against the real program.
func TestKeytableTsharkAcceptsNames(t *testing.T) {
	tshark := testenv.Tool(t, "tshark", "tshark")
	pcap := filepath.Join(testenv.Captures(t), "ikev2-psk-port500.pcap")
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
	// Every name ikesim reads, implemented or not, must be one tshark knows.
	for _, w := range wiresharkIKEv2Encr {
		k := IKEv2Keys{SPIi: uint64(n + 1), SPIr: 3, Encr: w.id, EncrKeyBits: w.keyBits, Integ: AUTH_NONE}
		k.SKei = make([]byte, Encr(w.id).KeyBytes(w.keyBits))
		k.SKer = k.SKei
		if !Encr(w.id).AEAD() {
			k.AnyICV = 12
		}
		line, err := k.Line()
		if err != nil || !strings.Contains(line, w.name) {
			t.Fatalf("%s: %q %v", w.name, line, err)
		}
		args = append(args, "-o", "uat:ikev2_decryption_table:"+line)
		n++
	}
	for _, w := range wiresharkIKEv2Integ {
		key := ""
		if a := Integ(w.id); a != nil {
			key = strings.Repeat("00", a.KeySize)
		}
		line := fmt.Sprintf(`%016x,0000000000000004,%s,%s,"AES-CBC-128 [RFC3602]",%s,%s,%q`, n+1,
			strings.Repeat("00", 16), strings.Repeat("00", 16), key, key, w.name)
		args = append(args, "-o", "uat:ikev2_decryption_table:"+line)
		n++
	}
	for _, w := range wiresharkESPEncr {
		args = append(args, "-o", fmt.Sprintf(`uat:esp_sa:"IPv4","*","*","0x%08x",%q,"","NULL",""`, n+1, w.name))
		n++
	}
	for _, w := range wiresharkESPAuth {
		args = append(args, "-o", fmt.Sprintf(`uat:esp_sa:"IPv4","*","*","0x%08x","NULL","",%q,""`, n+1, w.name))
		n++
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
	f.Add(IkesimLinePrefix + `"IPv4","*","*","0xf6f98f39","AH","","AUTH_HMAC_SHA1_96","0xbf8599bdc38efe7ca2d66596deffeed245469c17"`)
	f.Fuzz(func(t *testing.T, s string) {
		ParseESPKeyTable(strings.NewReader(s))
		ParseIKEv1KeyTable(strings.NewReader(s))
		keys, _, err := ParseIKEv2KeyTable(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, k := range keys {
			line, err := k.Line()
			if err != nil {
				t.Fatalf("parsed record %+v does not format: %v", k, err)
			}
			if _, _, err := ParseIKEv2KeyTable(strings.NewReader(line)); err != nil {
				t.Fatalf("formatted line %q does not parse: %v", line, err)
			}
		}
	})
}
