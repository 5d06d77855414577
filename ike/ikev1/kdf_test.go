package ikev1

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
)

// cavsCase is one COUNT block of a CAVS response file, with the hash of its section.
type cavsCase struct {
	hash   string
	fields map[string]string
}

// readCAVS reads ../testdata/cavs_ikev1.txt: NIST's IKEv1 KDF known answers (SP 800-135,
// Section 4.1) from the ACVP server's PskIkeV1Tests.cs and DsaIkeV1Tests.cs, in the
// layout of the CAVS response files (the file's header names its sources).
func readCAVS(t *testing.T) []cavsCase {
	t.Helper()
	f, err := os.Open("../testdata/cavs_ikev1.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []cavsCase
	hash := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			hash = strings.Trim(line, "[]")
		case strings.HasPrefix(line, "COUNT"):
			out = append(out, cavsCase{hash: hash, fields: map[string]string{}})
		default:
			k, v, ok := strings.Cut(line, " = ")
			if ok && len(out) > 0 {
				out[len(out)-1].fields[k] = v
			}
		}
	}
	return out
}

// TestCAVSKDF checks SKEYIDPreShared, SKEYIDSignature and DeriveKeys against every NIST
// CAVS IKEv1 KDF vector: pre-shared key and digital signature authentication, SHA-1,
// SHA-256 and SHA-512.
func TestCAVSKDF(t *testing.T) {
	cases := readCAVS(t)
	seen := map[string]bool{}
	for i, c := range cases {
		h := map[string]*HashAlg{"SHA-1": HashByID(HashSHA), "SHA-256": HashByID(HashSHA256), "SHA-512": HashByID(HashSHA512)}[c.hash]
		if h == nil {
			t.Fatalf("case %d: unknown hash %q", i, c.hash)
		}
		f := func(k string) []byte { return mustHex(t, c.fields[k]) }
		var skeyid []byte
		kind := "signature"
		if _, psk := c.fields["pre-shared-key"]; psk {
			kind = "pre-shared key"
			skeyid = SKEYIDPreShared(h.PRF, f("pre-shared-key"), f("Ni"), f("Nr"))
		} else {
			skeyid = SKEYIDSignature(h.PRF, f("Ni"), f("Nr"), f("g^xy"))
		}
		seen[kind+" "+c.hash] = true
		k := DeriveKeys(h.PRF, skeyid, f("g^xy"), binary.BigEndian.Uint64(f("CKY_I")), binary.BigEndian.Uint64(f("CKY_R")))
		for name, got := range map[string][]byte{"SKEYID": k.SKEYID, "SKEYID_d": k.SKEYID_d, "SKEYID_a": k.SKEYID_a, "SKEYID_e": k.SKEYID_e} {
			if !bytes.Equal(got, f(name)) {
				t.Errorf("case %d (%s, %s): %s = %x, want %s", i, kind, c.hash, name, got, c.fields[name])
			}
		}
	}
	for _, want := range []string{"pre-shared key SHA-1", "pre-shared key SHA-256", "signature SHA-1", "signature SHA-256"} {
		if !seen[want] {
			t.Errorf("no CAVS vector for %s", want)
		}
	}
}

// TestEncryptionKeyExpansion checks RFC 2409, Appendix B: a key no longer than SKEYID_e
// is its first bytes; a longer one (3DES with SHA-1: 24 > 20 bytes) is taken from
// K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1), ...
func TestEncryptionKeyExpansion(t *testing.T) {
	prf := ike.PRF(ike.PRF_HMAC_SHA1)
	e := mustHex(t, "9e78d632eff0c69b4f4f878c99797c513b37a73e") // SKEYID_e of the CAVS SHA-1 PSK case
	if got := EncryptionKey(prf, e, 8); !bytes.Equal(got, e[:8]) {
		t.Errorf("DES key %x, want the first 8 bytes of SKEYID_e", got)
	}
	k1 := prf.Sum(e, []byte{0})
	k2 := prf.Sum(e, k1)
	want := append(append([]byte(nil), k1...), k2...)[:24]
	got := EncryptionKey(prf, e, 24)
	if !bytes.Equal(got, want) {
		t.Errorf("3DES key %x, want %x", got, want)
	}
	if bytes.Equal(got[:20], e) {
		t.Error("the expanded key starts with SKEYID_e itself")
	}
	if got := EncryptionKey(prf, e, 32); !bytes.Equal(got[:24], want) || len(got) != 32 {
		t.Errorf("AES-256 key %x does not extend the 3DES one", got)
	}
}

// TestIVChain checks Appendix B's IVs: the phase 1 IV from the Diffie-Hellman values, the
// chaining through the last ciphertext block, and each exchange's own chain.
func TestIVChain(t *testing.T) {
	h := HashByID(HashSHA)
	gxi, gxr := []byte("g^xi"), []byte("g^xr")
	v := NewIVs(h, 8, gxi, gxr)
	if got, want := v.For(0), h.Sum(gxi, gxr)[:8]; !bytes.Equal(got, want) {
		t.Fatalf("phase 1 IV %x, want %x", got, want)
	}
	mm5 := append(make([]byte, HeaderLen), bytes.Repeat([]byte{0x55}, 16)...)
	v.Advance(0, mm5)
	if got := v.For(0); !bytes.Equal(got, bytes.Repeat([]byte{0x55}, 8)) {
		t.Fatalf("IV after message 5: %x", got)
	}
	mm6 := append(make([]byte, HeaderLen), bytes.Repeat([]byte{0x66}, 16)...)
	v.Advance(0, mm6)
	qm := v.For(0xb83e3442)
	if want := h.Sum(bytes.Repeat([]byte{0x66}, 8), []byte{0xb8, 0x3e, 0x34, 0x42})[:8]; !bytes.Equal(qm, want) {
		t.Fatalf("quick mode IV %x, want %x", qm, want)
	}
	v.Advance(0xb83e3442, append(make([]byte, HeaderLen), bytes.Repeat([]byte{0x77}, 8)...))
	if got := v.For(0xb83e3442); !bytes.Equal(got, bytes.Repeat([]byte{0x77}, 8)) {
		t.Errorf("second quick mode message IV %x", got)
	}
	if got := v.For(0x01020304); bytes.Equal(got, v.For(0xb83e3442)) {
		t.Error("another exchange shares the quick mode's chain")
	}
}
