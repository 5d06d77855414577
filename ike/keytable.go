package ike

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Wireshark key tables. Wireshark (and tshark) decrypt IKE and ESP with keys given in
// three "UAT" tables, one record per line, as tshark 4.0 reads them:
//
//	ikev2_decryption_table  SPIi,SPIr,SK_ei,SK_er,"ENC",SK_ai,SK_ar,"INTEG"
//	ikev1_decryption_table  ICOOKIE,ENCKEY
//	esp_sa                  "IPv4","src","dst","0xSPI","ENC","0xKEY","AUTH","0xKEY"
//
// The algorithm fields must be Wireshark's exact names. They are mapped here from the
// IANA transform IDs of the registry, so that the registry stays the one source of
// algorithm data; an algorithm tshark 4.0 cannot decrypt is an error, which callers show
// to the user.

// wiresharkName is one algorithm name of Wireshark's tables, for an IANA ID and, when the
// name depends on it, a key size in bits (0: any).
type wiresharkName struct {
	id      uint16
	keyBits int
	name    string
}

// IKEv2 table: value strings of the ikev2_decryption_table columns in tshark 4.0.
var wiresharkIKEv2Encr = []wiresharkName{
	{ENCR_3DES, 0, "3DES [RFC2451]"},
	{ENCR_AES_CBC, 128, "AES-CBC-128 [RFC3602]"},
	{ENCR_AES_CBC, 192, "AES-CBC-192 [RFC3602]"},
	{ENCR_AES_CBC, 256, "AES-CBC-256 [RFC3602]"},
	{ENCR_NULL, 0, "NULL [RFC2410]"},
	{ENCR_AES_GCM_8, 128, "AES-GCM-128 with 8 octet ICV [RFC5282]"},
	{ENCR_AES_GCM_8, 192, "AES-GCM-192 with 8 octet ICV [RFC5282]"},
	{ENCR_AES_GCM_8, 256, "AES-GCM-256 with 8 octet ICV [RFC5282]"},
	{ENCR_AES_GCM_12, 128, "AES-GCM-128 with 12 octet ICV [RFC5282]"},
	{ENCR_AES_GCM_12, 192, "AES-GCM-192 with 12 octet ICV [RFC5282]"},
	{ENCR_AES_GCM_12, 256, "AES-GCM-256 with 12 octet ICV [RFC5282]"},
	{ENCR_AES_GCM_16, 128, "AES-GCM-128 with 16 octet ICV [RFC5282]"},
	{ENCR_AES_GCM_16, 192, "AES-GCM-192 with 16 octet ICV [RFC5282]"},
	{ENCR_AES_GCM_16, 256, "AES-GCM-256 with 16 octet ICV [RFC5282]"},
}

var wiresharkIKEv2Integ = []wiresharkName{
	{AUTH_NONE, 0, "NONE [RFC4306]"},
	{AUTH_HMAC_MD5_96, 0, "HMAC_MD5_96 [RFC2403]"},
	{AUTH_HMAC_SHA1_96, 0, "HMAC_SHA1_96 [RFC2404]"},
	{AUTH_HMAC_SHA2_256_128, 0, "HMAC_SHA2_256_128 [RFC4868]"},
	{AUTH_HMAC_SHA2_384_192, 0, "HMAC_SHA2_384_192 [RFC4868]"},
	{AUTH_HMAC_SHA2_512_256, 0, "HMAC_SHA2_512_256 [RFC4868]"},
}

// ESP table: value strings of the esp_sa columns in tshark 4.0.
var wiresharkESPEncr = []wiresharkName{
	{ENCR_NULL, 0, "NULL"},
	{ENCR_DES, 0, "DES-CBC [RFC2405]"},
	{ENCR_3DES, 0, "TripleDES-CBC [RFC2451]"},
	{ENCR_AES_CBC, 0, "AES-CBC [RFC3602]"},
	{ENCR_AES_GCM_8, 0, "AES-GCM with 8 octet ICV [RFC4106]"},
	{ENCR_AES_GCM_12, 0, "AES-GCM with 12 octet ICV [RFC4106]"},
	{ENCR_AES_GCM_16, 0, "AES-GCM with 16 octet ICV [RFC4106]"},
}

var wiresharkESPAuth = []wiresharkName{
	{AUTH_NONE, 0, "NULL"},
	{AUTH_HMAC_MD5_96, 0, "HMAC-MD5-96 [RFC2403]"},
	{AUTH_HMAC_SHA1_96, 0, "HMAC-SHA-1-96 [RFC2404]"},
	{AUTH_HMAC_SHA2_256_128, 0, "HMAC-SHA-256-128 [RFC4868]"},
	{AUTH_HMAC_SHA2_384_192, 0, "HMAC-SHA-384-192 [RFC4868]"},
	{AUTH_HMAC_SHA2_512_256, 0, "HMAC-SHA-512-256 [RFC4868]"},
}

// wiresharkESPLegacyGCM maps the older ESP spelling of AES-GCM, "AES-GCM [RFC4106]" with
// an "ANY n bit authentication [no checking]" column (what strongSwan's save-keys
// writes), to the IANA ID with that ICV length. Parsing accepts it; writing never uses it.
var wiresharkESPLegacyGCM = map[string]uint16{
	"ANY 64 bit authentication [no checking]":  ENCR_AES_GCM_8,
	"ANY 96 bit authentication [no checking]":  ENCR_AES_GCM_12,
	"ANY 128 bit authentication [no checking]": ENCR_AES_GCM_16,
}

const wiresharkESPLegacyGCMName = "AES-GCM [RFC4106]"

// lookupWireshark finds the name for id and keyBits in table.
func lookupWireshark(table []wiresharkName, what string, id uint16, keyBits int, name func(uint16) string) (string, error) {
	for _, w := range table {
		if w.id == id && (w.keyBits == 0 || w.keyBits == keyBits) {
			return w.name, nil
		}
	}
	for _, w := range table {
		if w.id == id {
			return "", fmt.Errorf("ike: tshark 4.0 cannot decrypt %s %s with a %d-bit key", what, name(id), keyBits)
		}
	}
	return "", fmt.Errorf("ike: tshark 4.0 cannot decrypt %s %s", what, name(id))
}

func encrName(id uint16) string  { return transformIDName(TransformENCR, id) }
func integName(id uint16) string { return transformIDName(TransformINTEG, id) }

// WiresharkIKEv2Encr is the ikev2_decryption_table name of encryption algorithm id with
// a key of keyBits bits (0 for a fixed-size key).
func WiresharkIKEv2Encr(id uint16, keyBits int) (string, error) {
	return lookupWireshark(wiresharkIKEv2Encr, "IKEv2 encryption", id, keyBits, encrName)
}

// WiresharkIKEv2Integ is the ikev2_decryption_table name of integrity algorithm id
// (AUTH_NONE for AEAD ciphers).
func WiresharkIKEv2Integ(id uint16) (string, error) {
	return lookupWireshark(wiresharkIKEv2Integ, "IKEv2 integrity", id, 0, integName)
}

// WiresharkESPEncr is the esp_sa name of encryption algorithm id. keyBits is not part
// of the name (Wireshark takes it from the key) but is checked against the registry.
func WiresharkESPEncr(id uint16, keyBits int) (string, error) {
	if a := Encr(id); a != nil && keyBits != 0 && !slices.Contains(a.KeyBits, keyBits) {
		return "", fmt.Errorf("ike: %s has no %d-bit key", a.Name, keyBits)
	}
	return lookupWireshark(wiresharkESPEncr, "ESP encryption", id, keyBits, encrName)
}

// WiresharkESPAuth is the esp_sa name of integrity algorithm id ("NULL" for AUTH_NONE,
// which AEAD ciphers use).
func WiresharkESPAuth(id uint16) (string, error) {
	return lookupWireshark(wiresharkESPAuth, "ESP integrity", id, 0, integName)
}

// IKEv2Keys is one record of ikev2_decryption_table: the keys of one IKE SA.
type IKEv2Keys struct {
	SPIi, SPIr  uint64
	SKei, SKer  []byte // encryption key material (AEAD: key then salt)
	Encr        uint16 // IANA encryption transform ID
	EncrKeyBits int
	SKai, SKar  []byte // empty for AEAD ciphers
	Integ       uint16 // IANA integrity transform ID; AUTH_NONE for AEAD ciphers
}

// Line formats the record, or says why tshark 4.0 could not use it.
func (k IKEv2Keys) Line() (string, error) {
	enc, err := WiresharkIKEv2Encr(k.Encr, k.EncrKeyBits)
	if err != nil {
		return "", err
	}
	integ, err := WiresharkIKEv2Integ(k.Integ)
	if err != nil {
		return "", err
	}
	if err := k.check(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%016x,%016x,%x,%x,%q,%x,%x,%q", k.SPIi, k.SPIr, k.SKei, k.SKer, enc, k.SKai, k.SKar, integ), nil
}

// check verifies the key lengths against the registry.
func (k IKEv2Keys) check() error {
	if a := Encr(k.Encr); a != nil {
		want := a.KeyBytes(k.EncrKeyBits)
		if len(k.SKei) != want || len(k.SKer) != want {
			return fmt.Errorf("ike: %s keys of %d and %d bytes, want %d", a.Name, len(k.SKei), len(k.SKer), want)
		}
		if a.AEAD() && k.Integ != AUTH_NONE {
			return fmt.Errorf("ike: AEAD cipher %s with integrity algorithm %s", a.Name, integName(k.Integ))
		}
	}
	want := 0
	if a := Integ(k.Integ); a != nil {
		want = a.KeySize
	}
	if len(k.SKai) != want || len(k.SKar) != want {
		return fmt.Errorf("ike: %s keys of %d and %d bytes, want %d", integName(k.Integ), len(k.SKai), len(k.SKar), want)
	}
	return nil
}

// ESPKeys is one record of esp_sa: the keys of one ESP SA (one direction).
type ESPKeys struct {
	Src, Dst    netip.Addr // outer addresses; the zero Addr is written as the wildcard "*"
	SPI         uint32
	Encr        uint16 // IANA encryption transform ID
	EncrKeyBits int
	EncrKey     []byte // key material, salt included for AES-GCM
	Integ       uint16 // AUTH_NONE for AEAD ciphers
	IntegKey    []byte
}

// Line formats the record, or says why tshark 4.0 could not use it.
func (k ESPKeys) Line() (string, error) {
	enc, err := WiresharkESPEncr(k.Encr, k.EncrKeyBits)
	if err != nil {
		return "", err
	}
	auth, err := WiresharkESPAuth(k.Integ)
	if err != nil {
		return "", err
	}
	a := Encr(k.Encr)
	if a != nil && a.AEAD() && k.Integ != AUTH_NONE {
		return "", fmt.Errorf("ike: tshark 4.0 takes %s only with NULL authentication", a.Name)
	}
	if a != nil && len(k.EncrKey) != a.KeyBytes(k.EncrKeyBits) {
		return "", fmt.Errorf("ike: %s key material of %d bytes, want %d", a.Name, len(k.EncrKey), a.KeyBytes(k.EncrKeyBits))
	}
	family := "IPv4"
	if k.Src.Is6() || k.Dst.Is6() {
		family = "IPv6"
	}
	return fmt.Sprintf("%q,%q,%q,\"0x%08x\",%q,%q,%q,%q", family, addrOrWildcard(k.Src), addrOrWildcard(k.Dst), k.SPI,
		enc, hexKey(k.EncrKey), auth, hexKey(k.IntegKey)), nil
}

func addrOrWildcard(a netip.Addr) string {
	if !a.IsValid() {
		return "*"
	}
	return a.String()
}

func hexKey(k []byte) string {
	if len(k) == 0 {
		return ""
	}
	return "0x" + hex.EncodeToString(k)
}

// IKEv1Keys is one record of ikev1_decryption_table: the initiator cookie of an ISAKMP
// SA and its encryption key (derived from SKEYID_e).
type IKEv1Keys struct {
	ICookie uint64
	EncKey  []byte
}

// Line formats the record.
func (k IKEv1Keys) Line() string { return fmt.Sprintf("%016x,%x", k.ICookie, k.EncKey) }

// ParseIKEv2KeyTable reads an ikev2_decryption_table. Errors name the line.
func ParseIKEv2KeyTable(r io.Reader) ([]IKEv2Keys, error) {
	return parseTable(r, "ikev2_decryption_table", 8, func(f []string) (IKEv2Keys, error) {
		var k IKEv2Keys
		var err error
		if k.SPIi, err = parseSPI(f[0], "SPIi"); err != nil {
			return k, err
		}
		if k.SPIr, err = parseSPI(f[1], "SPIr"); err != nil {
			return k, err
		}
		if k.Encr, k.EncrKeyBits, err = reverseName(wiresharkIKEv2Encr, f[4], "encryption"); err != nil {
			return k, err
		}
		if k.Integ, _, err = reverseName(wiresharkIKEv2Integ, f[7], "integrity"); err != nil {
			return k, err
		}
		keys := []*[]byte{&k.SKei, &k.SKer, &k.SKai, &k.SKar}
		for i, col := range []int{2, 3, 5, 6} {
			if *keys[i], err = parseHex(f[col], []string{"SK_ei", "SK_er", "SK_ai", "SK_ar"}[i]); err != nil {
				return k, err
			}
		}
		if k.EncrKeyBits == 0 {
			if a := Encr(k.Encr); a != nil && len(a.KeyBits) > 0 {
				k.EncrKeyBits = a.KeyBits[0]
			}
		}
		return k, k.check()
	})
}

// ParseESPKeyTable reads an esp_sa table. Errors name the line.
func ParseESPKeyTable(r io.Reader) ([]ESPKeys, error) {
	return parseTable(r, "esp_sa", 8, func(f []string) (ESPKeys, error) {
		var k ESPKeys
		var err error
		if f[0] != "IPv4" && f[0] != "IPv6" {
			return k, fmt.Errorf("protocol %q is neither IPv4 nor IPv6", f[0])
		}
		if k.Src, err = parseAddr(f[1], "source"); err != nil {
			return k, err
		}
		if k.Dst, err = parseAddr(f[2], "destination"); err != nil {
			return k, err
		}
		spi, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(f[3]), "0x"), 16, 32)
		if err != nil {
			return k, fmt.Errorf("SPI %q is not 32-bit hex", f[3])
		}
		k.SPI = uint32(spi)
		if k.EncrKey, err = parseHex(strings.TrimPrefix(strings.ToLower(f[5]), "0x"), "encryption key"); err != nil {
			return k, err
		}
		if k.IntegKey, err = parseHex(strings.TrimPrefix(strings.ToLower(f[7]), "0x"), "authentication key"); err != nil {
			return k, err
		}
		if id, ok := wiresharkESPLegacyGCM[f[6]]; ok && f[4] == wiresharkESPLegacyGCMName {
			k.Encr, k.Integ = id, AUTH_NONE
		} else {
			if k.Encr, _, err = reverseName(wiresharkESPEncr, f[4], "encryption"); err != nil {
				return k, err
			}
			if k.Integ, _, err = reverseName(wiresharkESPAuth, f[6], "authentication"); err != nil {
				return k, err
			}
		}
		if a := Encr(k.Encr); a != nil && len(a.KeyBits) > 0 {
			k.EncrKeyBits = (len(k.EncrKey) - a.SaltSize) * 8
			if !slices.Contains(a.KeyBits, k.EncrKeyBits) {
				return k, fmt.Errorf("%s key material of %d bytes fits no key size", a.Name, len(k.EncrKey))
			}
		}
		if a := Integ(k.Integ); a != nil && len(k.IntegKey) != a.KeySize {
			return k, fmt.Errorf("%s key of %d bytes, want %d", a.Name, len(k.IntegKey), a.KeySize)
		}
		return k, nil
	})
}

// ParseIKEv1KeyTable reads an ikev1_decryption_table. Errors name the line.
func ParseIKEv1KeyTable(r io.Reader) ([]IKEv1Keys, error) {
	return parseTable(r, "ikev1_decryption_table", 2, func(f []string) (IKEv1Keys, error) {
		var k IKEv1Keys
		var err error
		if k.ICookie, err = parseSPI(f[0], "initiator cookie"); err != nil {
			return k, err
		}
		if k.EncKey, err = parseHex(f[1], "encryption key"); err != nil {
			return k, err
		}
		if len(k.EncKey) == 0 {
			return k, errors.New("empty encryption key")
		}
		return k, nil
	})
}

// parseTable reads one record per non-empty line (lines starting with # are comments)
// with want comma-separated fields, and prefixes errors with the table and line number.
func parseTable[T any](r io.Reader, table string, want int, record func([]string) (T, error)) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields, err := splitUATLine(line)
		if err == nil && len(fields) != want {
			err = fmt.Errorf("%d fields, want %d", len(fields), want)
		}
		var rec T
		if err == nil {
			rec, err = record(fields)
		}
		if err != nil {
			return nil, fmt.Errorf("ike: %s line %d: %w", table, n, err)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ike: %s: %w", table, err)
	}
	return out, nil
}

// splitUATLine splits a UAT record at the commas outside double quotes and unquotes the
// quoted fields (Wireshark escapes a quote or backslash inside them with \xNN or \).
func splitUATLine(line string) ([]string, error) {
	var fields []string
	var cur strings.Builder
	quoted, wasQuoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\\' && i+1 < len(line):
			if line[i+1] == 'x' && i+3 < len(line) {
				v, err := strconv.ParseUint(line[i+2:i+4], 16, 8)
				if err != nil {
					return nil, fmt.Errorf("bad escape %q", line[i:i+4])
				}
				cur.WriteByte(byte(v))
				i += 3
				continue
			}
			cur.WriteByte(line[i+1])
			i++
		case c == '"':
			if !quoted && cur.Len() > 0 {
				return nil, fmt.Errorf("quote inside field %d", len(fields)+1)
			}
			quoted = !quoted
			wasQuoted = true
		case c == ',' && !quoted:
			fields = append(fields, cur.String())
			cur.Reset()
			wasQuoted = false
		default:
			if wasQuoted && !quoted {
				return nil, fmt.Errorf("text after the closing quote of field %d", len(fields)+1)
			}
			cur.WriteByte(c)
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in field %d", len(fields)+1)
	}
	return append(fields, cur.String()), nil
}

// reverseName maps a Wireshark algorithm name back to its IANA ID and key size.
func reverseName(table []wiresharkName, name, what string) (uint16, int, error) {
	for _, w := range table {
		if w.name == name {
			return w.id, w.keyBits, nil
		}
	}
	return 0, 0, fmt.Errorf("%s algorithm %q is not one ikesim implements under a Wireshark 4.0 name", what, name)
}

func parseSPI(s, what string) (uint64, error) {
	if len(s) != 16 {
		return 0, fmt.Errorf("%s %q is not 16 hex digits", what, s)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not 16 hex digits", what, s)
	}
	return v, nil
}

func parseHex(s, what string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not hex: %v", what, err)
	}
	return b, nil
}

func parseAddr(s, what string) (netip.Addr, error) {
	if s == "*" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, fmt.Errorf("%s address %q: %v", what, s, err)
	}
	return a, nil
}
