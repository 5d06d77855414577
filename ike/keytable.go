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
// algorithm data. Writing, an algorithm tshark 4.0 cannot decrypt is an error, which
// callers show to the user; an integrity algorithm it cannot check but whose ICV length
// it knows (AES-XCBC, AES-CMAC) is written as Wireshark's "ANY n bits [no checking]",
// so that tshark still decrypts. Reading, every name tshark 4.0 writes is understood; a
// record whose algorithm ikesim lacks is skipped with a note naming its line, as tshark
// skips what it cannot use, and the other records still count.
//
// The keys of an SA whose algorithms tshark 4.0 has no name for (Camellia, AES-CCM in
// ESP, HMAC-SHA1-160 in ESP) are written as a comment that Wireshark ignores and ikesim
// reads: "# ikesim: " and the record, with the IANA names of ikesim's registry in the
// algorithm columns ("ENCR_CAMELLIA_CBC (256)", "AUTH_AES_CMAC_96").

// wiresharkName is one algorithm name of Wireshark's tables, for an IANA ID and, when the
// name depends on it, a key size in bits (0: any). anyICV, for the "ANY n bits [no
// checking]" integrity names, is the length of an ICV to skip without checking it.
type wiresharkName struct {
	id      uint16
	keyBits int
	name    string
	anyICV  int
}

// Transform IDs of Wireshark's names for algorithms ikesim does not implement: reading
// them skips the record with a clear note. Twofish-CBC has no IKEv2 number (1027 is
// strongSwan's private one), nor has HMAC-RIPEMD-160-96 (1028 only stands for it here).
const (
	ENCR_CAST         = 6 // RFC 2144
	ENCR_BLOWFISH     = 7 // RFC 2451
	encrTwofishCBC    = 1027
	authHMACRIPEMD160 = 1028
)

// IKEv2 table: value strings of the ikev2_decryption_table columns in tshark 4.0.
var wiresharkIKEv2Encr = []wiresharkName{
	{ENCR_3DES, 0, "3DES [RFC2451]", 0},
	{ENCR_AES_CBC, 128, "AES-CBC-128 [RFC3602]", 0},
	{ENCR_AES_CBC, 192, "AES-CBC-192 [RFC3602]", 0},
	{ENCR_AES_CBC, 256, "AES-CBC-256 [RFC3602]", 0},
	{ENCR_NULL, 0, "NULL [RFC2410]", 0},
	{ENCR_AES_CTR, 128, "AES-CTR-128 [RFC5930]", 0},
	{ENCR_AES_CTR, 192, "AES-CTR-192 [RFC5930]", 0},
	{ENCR_AES_CTR, 256, "AES-CTR-256 [RFC5930]", 0},
	{ENCR_AES_GCM_16, 128, "AES-GCM-128 with 16 octet ICV [RFC5282]", 0},
	{ENCR_AES_GCM_16, 192, "AES-GCM-192 with 16 octet ICV [RFC5282]", 0},
	{ENCR_AES_GCM_16, 256, "AES-GCM-256 with 16 octet ICV [RFC5282]", 0},
	{ENCR_AES_GCM_8, 128, "AES-GCM-128 with 8 octet ICV [RFC5282]", 0},
	{ENCR_AES_GCM_8, 192, "AES-GCM-192 with 8 octet ICV [RFC5282]", 0},
	{ENCR_AES_GCM_8, 256, "AES-GCM-256 with 8 octet ICV [RFC5282]", 0},
	{ENCR_AES_GCM_12, 128, "AES-GCM-128 with 12 octet ICV [RFC5282]", 0},
	{ENCR_AES_GCM_12, 192, "AES-GCM-192 with 12 octet ICV [RFC5282]", 0},
	{ENCR_AES_GCM_12, 256, "AES-GCM-256 with 12 octet ICV [RFC5282]", 0},
	{ENCR_AES_CCM_16, 128, "AES-CCM-128 with 16 octet ICV [RFC5282]", 0},
	{ENCR_AES_CCM_16, 192, "AES-CCM-192 with 16 octet ICV [RFC5282]", 0},
	{ENCR_AES_CCM_16, 256, "AES-CCM-256 with 16 octet ICV [RFC5282]", 0},
	{ENCR_AES_CCM_8, 128, "AES-CCM-128 with 8 octet ICV [RFC5282]", 0},
	{ENCR_AES_CCM_8, 192, "AES-CCM-192 with 8 octet ICV [RFC5282]", 0},
	{ENCR_AES_CCM_8, 256, "AES-CCM-256 with 8 octet ICV [RFC5282]", 0},
	{ENCR_AES_CCM_12, 128, "AES-CCM-128 with 12 octet ICV [RFC5282]", 0},
	{ENCR_AES_CCM_12, 192, "AES-CCM-192 with 12 octet ICV [RFC5282]", 0},
	{ENCR_AES_CCM_12, 256, "AES-CCM-256 with 12 octet ICV [RFC5282]", 0},
}

var wiresharkIKEv2Integ = []wiresharkName{
	{AUTH_NONE, 0, "NONE [RFC4306]", 0},
	{AUTH_HMAC_MD5_96, 0, "HMAC_MD5_96 [RFC2403]", 0},
	{AUTH_HMAC_SHA1_96, 0, "HMAC_SHA1_96 [RFC2404]", 0},
	{AUTH_HMAC_MD5_128, 0, "HMAC_MD5_128 [RFC4595]", 0},
	{AUTH_HMAC_SHA1_160, 0, "HMAC_SHA1_160 [RFC4595]", 0},
	{AUTH_HMAC_SHA2_256_96, 0, "HMAC_SHA2_256_96 [draft-ietf-ipsec-ciph-sha-256-00]", 0},
	{AUTH_HMAC_SHA2_256_128, 0, "HMAC_SHA2_256_128 [RFC4868]", 0},
	{AUTH_HMAC_SHA2_384_192, 0, "HMAC_SHA2_384_192 [RFC4868]", 0},
	{AUTH_HMAC_SHA2_512_256, 0, "HMAC_SHA2_512_256 [RFC4868]", 0},
	{AUTH_NONE, 0, "ANY 64-bits of Authentication [No Checking]", 8},
	{AUTH_NONE, 0, "ANY 96-bits of Authentication [No Checking]", 12},
	{AUTH_NONE, 0, "ANY 128-bits of Authentication [No Checking]", 16},
	{AUTH_NONE, 0, "ANY 160-bits of Authentication [No Checking]", 20},
	{AUTH_NONE, 0, "ANY 192-bits of Authentication [No Checking]", 24},
	{AUTH_NONE, 0, "ANY 256-bits of Authentication [No Checking]", 32},
}

// ESP table: value strings of the esp_sa columns in tshark 4.0.
var wiresharkESPEncr = []wiresharkName{
	{ENCR_NULL, 0, "NULL", 0},
	{ENCR_3DES, 0, "TripleDES-CBC [RFC2451]", 0},
	{ENCR_AES_CBC, 0, "AES-CBC [RFC3602]", 0},
	{ENCR_AES_CTR, 0, "AES-CTR [RFC3686]", 0},
	{ENCR_DES, 0, "DES-CBC [RFC2405]", 0},
	{ENCR_CAST, 0, "CAST5-CBC [RFC2144]", 0},
	{ENCR_BLOWFISH, 0, "BLOWFISH-CBC [RFC2451]", 0},
	{encrTwofishCBC, 0, "TWOFISH-CBC", 0},
	{ENCR_AES_GCM_8, 0, "AES-GCM with 8 octet ICV [RFC4106]", 0},
	{ENCR_AES_GCM_12, 0, "AES-GCM with 12 octet ICV [RFC4106]", 0},
	{ENCR_AES_GCM_16, 0, "AES-GCM with 16 octet ICV [RFC4106]", 0},
}

var wiresharkESPAuth = []wiresharkName{
	{AUTH_NONE, 0, "NULL", 0},
	{AUTH_HMAC_SHA1_96, 0, "HMAC-SHA-1-96 [RFC2404]", 0},
	{AUTH_HMAC_SHA2_256_96, 0, "HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]", 0},
	{AUTH_HMAC_SHA2_256_128, 0, "HMAC-SHA-256-128 [RFC4868]", 0},
	{AUTH_HMAC_SHA2_384_192, 0, "HMAC-SHA-384-192 [RFC4868]", 0},
	{AUTH_HMAC_SHA2_512_256, 0, "HMAC-SHA-512-256 [RFC4868]", 0},
	{AUTH_HMAC_MD5_96, 0, "HMAC-MD5-96 [RFC2403]", 0},
	{authHMACRIPEMD160, 0, "MAC-RIPEMD-160-96 [RFC2857]", 0},
	{AUTH_NONE, 0, "ANY 64 bit authentication [no checking]", 8},
	{AUTH_NONE, 0, "ANY 96 bit authentication [no checking]", 12},
	{AUTH_NONE, 0, "ANY 128 bit authentication [no checking]", 16},
	{AUTH_NONE, 0, "ANY 192 bit authentication [no checking]", 24},
	{AUTH_NONE, 0, "ANY 256 bit authentication [no checking]", 32},
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

// lookupWireshark finds the name for id and keyBits in table. An integrity algorithm
// with no name of its own, but whose ICV length has an "ANY" name, gets that name.
func lookupWireshark(table []wiresharkName, what string, id uint16, keyBits int, name func(uint16) string) (string, error) {
	for _, w := range table {
		if w.id == id && w.anyICV == 0 && (w.keyBits == 0 || w.keyBits == keyBits) {
			return w.name, nil
		}
	}
	for _, w := range table {
		if w.id == id && w.anyICV == 0 {
			return "", fmt.Errorf("ike: tshark 4.0 cannot decrypt %s %s with a %d-bit key", what, name(id), keyBits)
		}
	}
	if a := Integ(id); a != nil {
		for _, w := range table {
			if w.anyICV != 0 && w.anyICV == a.ICVSize {
				return w.name, nil
			}
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
// (AUTH_NONE for AEAD ciphers). tshark 4.0 checks no AES-XCBC or AES-CMAC ICV: they get
// the "ANY 96-bits" name, with which it decrypts without checking.
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
// which AEAD ciphers use), or the "ANY n bit" name of its ICV length when tshark 4.0
// cannot check it.
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
	// AnyICV is set when the table names no integrity algorithm but the length of an ICV
	// not to check ("ANY 96-bits of Authentication [No Checking]"): Integ is AUTH_NONE
	// and SK_ai, SK_ar are not used.
	AnyICV int
}

// Line formats the record, or says why tshark 4.0 could not use it.
func (k IKEv2Keys) Line() (string, error) {
	enc, err := WiresharkIKEv2Encr(k.Encr, k.EncrKeyBits)
	if err != nil {
		return "", err
	}
	integ, err := anyOr(wiresharkIKEv2Integ, k.AnyICV, func() (string, error) { return WiresharkIKEv2Integ(k.Integ) })
	if err != nil {
		return "", err
	}
	if err := k.check(); err != nil {
		return "", err
	}
	skai, skar := k.SKai, k.SKar
	if isAnyName(wiresharkIKEv2Integ, integ) {
		skai, skar = nil, nil // tshark wants no key with an unchecked ICV
	}
	return fmt.Sprintf("%016x,%016x,%x,%x,%q,%x,%x,%q", k.SPIi, k.SPIr, k.SKei, k.SKer, enc, skai, skar, integ), nil
}

// isAnyName reports whether name is one of table's "ANY n bits [no checking]" names.
func isAnyName(table []wiresharkName, name string) bool {
	return slices.ContainsFunc(table, func(w wiresharkName) bool { return w.name == name && w.anyICV != 0 })
}

// IkesimLinePrefix starts a key table comment that holds a record with ikesim's names.
const IkesimLinePrefix = "# ikesim: "

// IkesimLine formats the record as a comment line with ikesim's algorithm names, for an
// SA that tshark 4.0 cannot decrypt.
func (k IKEv2Keys) IkesimLine() (string, error) {
	if Encr(k.Encr) == nil || (k.Integ != AUTH_NONE && Integ(k.Integ) == nil) {
		return "", fmt.Errorf("ike: ikesim does not implement %s with %s", encrName(k.Encr), integName(k.Integ))
	}
	if err := k.check(); err != nil {
		return "", err
	}
	enc := TransformName(Transform{Type: TransformENCR, ID: k.Encr, KeyLen: keyLenAttr(k.Encr, k.EncrKeyBits)})
	return fmt.Sprintf("%s%016x,%016x,%x,%x,%q,%x,%x,%q", IkesimLinePrefix, k.SPIi, k.SPIr, k.SKei, k.SKer, enc,
		k.SKai, k.SKar, integName(k.Integ)), nil
}

// keyLenAttr is the key length TransformName shows: the bits for a cipher with several
// key sizes, 0 for one with a fixed key.
func keyLenAttr(id uint16, bits int) int {
	if a := Encr(id); a != nil && len(a.KeyBits) > 1 {
		return bits
	}
	return 0
}

// ikesimEncr reads a cipher name of an ikesim comment line: "ENCR_AES_CBC (128)".
func ikesimEncr(s string) (id uint16, bits int, err error) {
	name, kb, hasBits := strings.Cut(s, " (")
	for _, a := range EncrAlgs() {
		if a.Name != name {
			continue
		}
		if hasBits {
			if bits, err = strconv.Atoi(strings.TrimSuffix(kb, ")")); err != nil || !slices.Contains(a.KeyBits, bits) {
				return 0, 0, fmt.Errorf("cipher %q: bad key length", s)
			}
		} else if len(a.KeyBits) > 0 {
			bits = a.KeyBits[0]
		}
		return a.ID, bits, nil
	}
	return 0, 0, errNoAlgorithm{fmt.Sprintf("ikesim does not implement the encryption algorithm %q", s)}
}

// ikesimInteg reads an integrity name of an ikesim comment line: "AUTH_HMAC_SHA1_160".
func ikesimInteg(s string) (uint16, error) {
	if s == "AUTH_NONE" {
		return AUTH_NONE, nil
	}
	for _, a := range IntegAlgs() {
		if a.Name == s {
			return a.ID, nil
		}
	}
	return 0, errNoAlgorithm{fmt.Sprintf("ikesim does not implement the integrity algorithm %q", s)}
}

// anyOr is the "ANY" name of an anyICV-byte ICV when anyICV is set, else named().
func anyOr(table []wiresharkName, anyICV int, named func() (string, error)) (string, error) {
	if anyICV == 0 {
		return named()
	}
	for _, w := range table {
		if w.anyICV == anyICV {
			return w.name, nil
		}
	}
	return "", fmt.Errorf("ike: Wireshark has no name for an unchecked ICV of %d bytes", anyICV)
}

// check verifies the key lengths against the registry.
func (k IKEv2Keys) check() error {
	a := Encr(k.Encr)
	if a != nil {
		want := a.KeyBytes(k.EncrKeyBits)
		if len(k.SKei) != want || len(k.SKer) != want {
			return fmt.Errorf("ike: %s keys of %d and %d bytes, want %d", a.Name, len(k.SKei), len(k.SKer), want)
		}
		if a.AEAD() && (k.Integ != AUTH_NONE || k.AnyICV != 0) {
			return fmt.Errorf("ike: AEAD cipher %s with integrity algorithm %s", a.Name, integName(k.Integ))
		}
	}
	if k.AnyICV != 0 {
		if k.Integ != AUTH_NONE {
			return fmt.Errorf("ike: integrity algorithm %s and an unchecked ICV", integName(k.Integ))
		}
		return nil
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

// ESPKeys is one record of esp_sa: the keys of one ESP SA (one direction), or of one AH
// SA on an ikesim line.
type ESPKeys struct {
	Src, Dst AddrFilter // outer addresses, with Wireshark's wildcards; the zero value is "*"
	SPI      uint32
	// SPIWildcard has the bits of SPI that a "*" digit leaves open (all of them for "*").
	SPIWildcard uint32
	Encr        uint16 // IANA encryption transform ID
	EncrKeyBits int
	EncrKey     []byte // key material, salt included for AES-GCM, AES-CCM and the nonce for AES-CTR
	Integ       uint16 // AUTH_NONE for AEAD ciphers
	IntegKey    []byte
	// AnyICV is the length of an ICV not to check ("ANY 96 bit authentication [no
	// checking]"); Integ is AUTH_NONE then.
	AnyICV int
	// IPv6 says the SA runs over IPv6: the protocol column says IPv6 even when both
	// addresses are wildcards.
	IPv6 bool
	// AH marks the keys of an AH SA (RFC 4302): an integrity algorithm and key, no
	// cipher. Wireshark's esp_sa holds ESP alone, and tshark verifies no AH ICV, so an
	// AH record is an ikesim line only, with "AH" in the encryption column.
	AH bool
}

// ikesimAH is the encryption column of an ikesim line that holds an AH SA.
const ikesimAH = "AH"

// MatchSPI reports whether spi fits the record's SPI, wildcards included.
func (k ESPKeys) MatchSPI(spi uint32) bool { return spi&^k.SPIWildcard == k.SPI&^k.SPIWildcard }

// Line formats the record, or says why tshark 4.0 could not use it.
func (k ESPKeys) Line() (string, error) {
	if k.AH {
		return "", errors.New("ike: Wireshark's esp_sa holds no AH SA")
	}
	enc, err := WiresharkESPEncr(k.Encr, k.EncrKeyBits)
	if err != nil {
		return "", err
	}
	auth, err := anyOr(wiresharkESPAuth, k.AnyICV, func() (string, error) { return WiresharkESPAuth(k.Integ) })
	if err != nil {
		return "", err
	}
	a := Encr(k.Encr)
	if a != nil && a.AEAD() && (k.Integ != AUTH_NONE || k.AnyICV != 0) {
		return "", fmt.Errorf("ike: tshark 4.0 takes %s only with NULL authentication", a.Name)
	}
	if a != nil && len(k.EncrKey) != a.KeyBytes(k.EncrKeyBits) {
		return "", fmt.Errorf("ike: %s key material of %d bytes, want %d", a.Name, len(k.EncrKey), a.KeyBytes(k.EncrKeyBits))
	}
	family := "IPv4"
	if k.IPv6 || k.Src.is6() || k.Dst.is6() {
		family = "IPv6"
	}
	integKey := k.IntegKey
	if isAnyName(wiresharkESPAuth, auth) {
		integKey = nil
	}
	return fmt.Sprintf("%q,%q,%q,%q,%q,%q,%q,%q", family, k.Src, k.Dst, k.spiString(),
		enc, hexKey(k.EncrKey), auth, hexKey(integKey)), nil
}

// IkesimLine formats the record as a comment line with ikesim's algorithm names, for an
// SA that tshark 4.0 cannot decrypt.
func (k ESPKeys) IkesimLine() (string, error) {
	if k.AH {
		return k.ahLine()
	}
	a := Encr(k.Encr)
	if a == nil || (k.Integ != AUTH_NONE && Integ(k.Integ) == nil) {
		return "", fmt.Errorf("ike: ikesim does not implement %s with %s", encrName(k.Encr), integName(k.Integ))
	}
	if len(k.EncrKey) != a.KeyBytes(k.EncrKeyBits) {
		return "", fmt.Errorf("ike: %s key material of %d bytes, want %d", a.Name, len(k.EncrKey), a.KeyBytes(k.EncrKeyBits))
	}
	family := "IPv4"
	if k.IPv6 || k.Src.is6() || k.Dst.is6() {
		family = "IPv6"
	}
	return fmt.Sprintf("%s%q,%q,%q,%q,%q,%q,%q,%q", IkesimLinePrefix, family, k.Src, k.Dst, k.spiString(),
		a.Name, hexKey(k.EncrKey), integName(k.Integ), hexKey(k.IntegKey)), nil
}

// ahLine formats an AH record as an ikesim line: "AH" and no key in the encryption
// columns.
func (k ESPKeys) ahLine() (string, error) {
	a := Integ(k.Integ)
	switch {
	case a == nil:
		return "", fmt.Errorf("ike: ikesim does not implement AH with %s", integName(k.Integ))
	case len(k.IntegKey) != a.KeySize:
		return "", fmt.Errorf("ike: %s key of %d bytes, want %d", a.Name, len(k.IntegKey), a.KeySize)
	}
	family := "IPv4"
	if k.IPv6 || k.Src.is6() || k.Dst.is6() {
		family = "IPv6"
	}
	return fmt.Sprintf("%s%q,%q,%q,%q,%q,%q,%q,%q", IkesimLinePrefix, family, k.Src, k.Dst, k.spiString(),
		ikesimAH, "", a.Name, hexKey(k.IntegKey)), nil
}

// spiString writes the SPI as 0x and eight hex digits, "*" for wildcard digits.
func (k ESPKeys) spiString() string {
	if k.SPIWildcard == 0xffffffff {
		return "*"
	}
	s := []byte(fmt.Sprintf("0x%08x", k.SPI))
	for i := range 8 {
		if k.SPIWildcard>>(28-4*i)&0xf != 0 {
			s[2+i] = '*'
		}
	}
	return string(s)
}

func hexKey(k []byte) string {
	if len(k) == 0 {
		return ""
	}
	return "0x" + hex.EncodeToString(k)
}

// AddrFilter is an address of esp_sa as Wireshark matches it: "*" for any address, an
// IPv4 address with "*" for any octet ("192.168.*.*"), an address with a prefix length
// ("10.1.0.0/16"), or an exact IPv4 or IPv6 address. The zero value is "*".
type AddrFilter struct {
	text   string
	prefix netip.Prefix // the address and the bits that must match
	any4   [4]bool      // IPv4 octets written "*"
}

// ParseAddrFilter reads an esp_sa address column.
func ParseAddrFilter(s string) (AddrFilter, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "*" {
		return AddrFilter{}, nil
	}
	f := AddrFilter{text: s}
	addr, bits, hasBits := strings.Cut(s, "/")
	if strings.Contains(addr, "*") {
		parts := strings.Split(addr, ".")
		if len(parts) != 4 {
			return AddrFilter{}, fmt.Errorf("%q: wildcards are only read in IPv4 addresses of four octets", s)
		}
		for i, p := range parts {
			if p == "*" {
				f.any4[i] = true
				parts[i] = "0"
			}
		}
		addr = strings.Join(parts, ".")
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return AddrFilter{}, fmt.Errorf("%q is not an address: %v", s, err)
	}
	n := a.BitLen()
	if hasBits {
		if n, err = strconv.Atoi(bits); err != nil || n < 0 || n > a.BitLen() {
			return AddrFilter{}, fmt.Errorf("%q: bad prefix length", s)
		}
	}
	f.prefix = netip.PrefixFrom(a, n)
	if !hasBits && f.any4 == [4]bool{} {
		f.text = a.String()
	}
	return f, nil
}

// Match reports whether a fits the filter.
func (f AddrFilter) Match(a netip.Addr) bool {
	if f.text == "" {
		return true
	}
	a = a.Unmap()
	p := f.prefix.Addr()
	if a.Is4() != p.Is4() {
		return false
	}
	if f.any4 == [4]bool{} {
		return f.prefix.Masked().Contains(a)
	}
	aa, pa := a.As4(), p.As4()
	for i := range 4 {
		if f.any4[i] {
			continue
		}
		// The bits of this octet within the prefix must match.
		keep := min(max(f.prefix.Bits()-8*i, 0), 8)
		mask := byte(0xff << (8 - keep))
		if aa[i]&mask != pa[i]&mask {
			return false
		}
	}
	return true
}

// Exact returns the address when the filter names exactly one.
func (f AddrFilter) Exact() (netip.Addr, bool) {
	if f.text == "" || f.any4 != [4]bool{} || f.prefix.Bits() != f.prefix.Addr().BitLen() {
		return netip.Addr{}, false
	}
	return f.prefix.Addr(), true
}

// String writes the filter as esp_sa has it.
func (f AddrFilter) String() string {
	if f.text == "" {
		return "*"
	}
	return f.text
}

func (f AddrFilter) is6() bool { return f.text != "" && f.prefix.Addr().Is6() }

// AddrFilterOf is the filter that matches exactly a, or any address for the zero Addr.
func AddrFilterOf(a netip.Addr) AddrFilter {
	if !a.IsValid() {
		return AddrFilter{}
	}
	return AddrFilter{text: a.String(), prefix: netip.PrefixFrom(a, a.BitLen())}
}

// IKEv1Keys is one record of ikev1_decryption_table: the initiator cookie of an ISAKMP
// SA and its encryption key (derived from SKEYID_e).
type IKEv1Keys struct {
	ICookie uint64
	EncKey  []byte
}

// Line formats the record.
func (k IKEv1Keys) Line() string { return fmt.Sprintf("%016x,%x", k.ICookie, k.EncKey) }

// SkippedLine is a record of a key table that ikesim cannot use because it lacks the
// algorithm: it is skipped, and the other records still count.
type SkippedLine struct {
	Table  string // "ikev2_decryption_table", "esp_sa"
	Line   int
	Reason string
}

func (s SkippedLine) String() string {
	return fmt.Sprintf("%s line %d skipped: %s", s.Table, s.Line, s.Reason)
}

// errNoAlgorithm marks a record whose algorithm ikesim does not implement.
type errNoAlgorithm struct{ msg string }

func (e errNoAlgorithm) Error() string { return e.msg }

// ParseIKEv2KeyTable reads an ikev2_decryption_table. Records with an algorithm ikesim
// lacks come back in skipped; a malformed record is an error naming its line.
func ParseIKEv2KeyTable(r io.Reader) (keys []IKEv2Keys, skipped []SkippedLine, err error) {
	return parseTable(r, "ikev2_decryption_table", 8, func(f []string, ikesimNames bool) (IKEv2Keys, error) {
		var k IKEv2Keys
		var err error
		if k.SPIi, err = parseSPI(f[0], "SPIi"); err != nil {
			return k, err
		}
		if k.SPIr, err = parseSPI(f[1], "SPIr"); err != nil {
			return k, err
		}
		keys := []*[]byte{&k.SKei, &k.SKer, &k.SKai, &k.SKar}
		for i, col := range []int{2, 3, 5, 6} {
			if *keys[i], err = parseHex(f[col], []string{"SK_ei", "SK_er", "SK_ai", "SK_ar"}[i]); err != nil {
				return k, err
			}
		}
		if ikesimNames {
			if k.Encr, k.EncrKeyBits, err = ikesimEncr(f[4]); err != nil {
				return k, err
			}
			if k.Integ, err = ikesimInteg(f[7]); err != nil {
				return k, err
			}
			return k, k.check()
		}
		var w wiresharkName
		if w, err = reverseName(wiresharkIKEv2Encr, f[4], "encryption", TransformENCR); err != nil {
			return k, err
		}
		k.Encr, k.EncrKeyBits = w.id, w.keyBits
		if w, err = reverseName(wiresharkIKEv2Integ, f[7], "integrity", TransformINTEG); err != nil {
			return k, err
		}
		k.Integ, k.AnyICV = w.id, w.anyICV
		if k.EncrKeyBits == 0 {
			if a := Encr(k.Encr); a != nil && len(a.KeyBits) > 0 {
				k.EncrKeyBits = a.KeyBits[0]
			}
		}
		return k, k.check()
	})
}

// ParseESPKeyTable reads an esp_sa table. Records with an algorithm ikesim lacks come
// back in skipped; a malformed record is an error naming its line.
func ParseESPKeyTable(r io.Reader) (keys []ESPKeys, skipped []SkippedLine, err error) {
	return parseTable(r, "esp_sa", 8, func(f []string, ikesimNames bool) (ESPKeys, error) {
		var k ESPKeys
		var err error
		if f[0] != "IPv4" && f[0] != "IPv6" {
			return k, fmt.Errorf("protocol %q is neither IPv4 nor IPv6", f[0])
		}
		k.IPv6 = f[0] == "IPv6"
		if k.Src, err = ParseAddrFilter(f[1]); err != nil {
			return k, fmt.Errorf("source address %v", err)
		}
		if k.Dst, err = ParseAddrFilter(f[2]); err != nil {
			return k, fmt.Errorf("destination address %v", err)
		}
		if k.SPI, k.SPIWildcard, err = parseSPIFilter(f[3]); err != nil {
			return k, err
		}
		if k.EncrKey, err = parseHex(strings.TrimPrefix(strings.ToLower(f[5]), "0x"), "encryption key"); err != nil {
			return k, err
		}
		if k.IntegKey, err = parseHex(strings.TrimPrefix(strings.ToLower(f[7]), "0x"), "authentication key"); err != nil {
			return k, err
		}
		if ikesimNames && f[4] == ikesimAH {
			// An AH SA: an integrity algorithm and its key alone.
			k.AH = true
			if len(k.EncrKey) != 0 {
				return k, errors.New("an AH record has no encryption key")
			}
			if k.Integ, err = ikesimInteg(f[6]); err != nil {
				return k, err
			}
			if k.Integ == AUTH_NONE {
				return k, errors.New("an AH record needs an integrity algorithm")
			}
		} else if ikesimNames {
			if k.Encr, _, err = ikesimEncr(f[4]); err != nil {
				return k, err
			}
			if k.Integ, err = ikesimInteg(f[6]); err != nil {
				return k, err
			}
		} else if id, ok := wiresharkESPLegacyGCM[f[6]]; ok && f[4] == wiresharkESPLegacyGCMName {
			k.Encr, k.Integ = id, AUTH_NONE
		} else {
			w, err := reverseName(wiresharkESPEncr, f[4], "encryption", TransformENCR)
			if err != nil {
				return k, err
			}
			k.Encr = w.id
			if w, err = reverseName(wiresharkESPAuth, f[6], "authentication", TransformINTEG); err != nil {
				return k, err
			}
			k.Integ, k.AnyICV = w.id, w.anyICV
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

// parseSPIFilter reads the SPI column: "*", or hex with "*" for any digit.
func parseSPIFilter(s string) (spi, wildcard uint32, err error) {
	if s == "*" {
		return 0, 0xffffffff, nil
	}
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if strings.Contains(digits, "*") {
		if len(digits) != 8 {
			return 0, 0, fmt.Errorf("SPI %q: a wildcard SPI has eight digits", s)
		}
		for i := range 8 {
			if digits[i] == '*' {
				wildcard |= 0xf << (28 - 4*i)
			}
		}
		digits = strings.ReplaceAll(digits, "*", "0")
	}
	v, err := strconv.ParseUint(digits, 16, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("SPI %q is not 32-bit hex", s)
	}
	return uint32(v), wildcard, nil
}

// ParseIKEv1KeyTable reads an ikev1_decryption_table. Errors name the line.
func ParseIKEv1KeyTable(r io.Reader) ([]IKEv1Keys, error) {
	keys, _, err := parseTable(r, "ikev1_decryption_table", 2, func(f []string, _ bool) (IKEv1Keys, error) {
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
	return keys, err
}

// parseTable reads one record per non-empty line (lines starting with # are comments,
// but those starting with IkesimLinePrefix hold a record with ikesim's names) with want
// comma-separated fields, and prefixes errors with the table and line number. A record
// whose algorithm ikesim lacks is skipped and listed.
func parseTable[T any](r io.Reader, table string, want int, record func(f []string, ikesimNames bool) (T, error)) ([]T, []SkippedLine, error) {
	var out []T
	var skipped []SkippedLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		ikesimNames := strings.HasPrefix(line, IkesimLinePrefix)
		if ikesimNames {
			line = strings.TrimPrefix(line, IkesimLinePrefix)
		} else if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields, err := splitUATLine(line)
		if err == nil && len(fields) != want {
			err = fmt.Errorf("%d fields, want %d", len(fields), want)
		}
		var rec T
		if err == nil {
			rec, err = record(fields, ikesimNames)
		}
		var missing errNoAlgorithm
		if errors.As(err, &missing) {
			skipped = append(skipped, SkippedLine{Table: table, Line: n, Reason: missing.msg})
			continue
		}
		if err != nil {
			return nil, skipped, fmt.Errorf("ike: %s line %d: %w", table, n, err)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, skipped, fmt.Errorf("ike: %s: %w", table, err)
	}
	return out, skipped, nil
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

// reverseName maps a Wireshark algorithm name back to its entry. A name Wireshark does
// not have, or one of an algorithm ikesim does not implement, is an errNoAlgorithm: the
// record is skipped.
func reverseName(table []wiresharkName, name, what string, typ TransformType) (wiresharkName, error) {
	for _, w := range table {
		if w.name != name {
			continue
		}
		implemented := w.id == AUTH_NONE && typ == TransformINTEG
		if typ == TransformENCR {
			implemented = Encr(w.id) != nil
		} else if w.id != AUTH_NONE {
			implemented = Integ(w.id) != nil
		}
		if !implemented {
			return w, errNoAlgorithm{fmt.Sprintf("ikesim does not implement the %s algorithm %q", what, name)}
		}
		return w, nil
	}
	return wiresharkName{}, errNoAlgorithm{fmt.Sprintf("%s algorithm %q is not one tshark 4.0 names", what, name)}
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
