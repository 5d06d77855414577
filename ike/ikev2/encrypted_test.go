package ikev2

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
)

// zeroReader is a deterministic IV source.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// testSK builds SK protection for the registry's algorithms with keys 0x01, 0x02, ...
func testSK(t testing.TB, encr uint16, keyBits int, integ uint16) *SKCrypto {
	t.Helper()
	e := ike.Encr(encr)
	if e == nil {
		t.Fatalf("no encryption algorithm %d", encr)
	}
	sk := &SKCrypto{Encr: e, EncrKeyBits: keyBits, EncrKey: counting(e.KeyBytes(keyBits), 1)}
	if !e.AEAD() {
		sk.Integ = ike.Integ(integ)
		if sk.Integ == nil {
			t.Fatalf("no integrity algorithm %d", integ)
		}
		sk.IntegKey = counting(sk.Integ.KeySize, 0x80)
	}
	return sk
}

func counting(n int, start byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// skSuites lists every combination of the registry's ciphers (each key size) with an
// integrity algorithm where the cipher needs one.
func skSuites(t testing.TB) []*SKCrypto {
	var out []*SKCrypto
	for _, e := range ike.EncrAlgs() {
		sizes := e.KeyBits
		if len(sizes) == 0 {
			sizes = []int{0}
		}
		for _, bits := range sizes {
			if e.AEAD() {
				out = append(out, testSK(t, e.ID, bits, ike.AUTH_NONE))
				continue
			}
			for _, i := range ike.IntegAlgs() {
				out = append(out, testSK(t, e.ID, bits, i.ID))
			}
		}
	}
	return out
}

func suiteName(sk *SKCrypto) string {
	if sk.Integ == nil {
		return fmt.Sprintf("%s-%d", sk.Encr.Name, sk.EncrKeyBits)
	}
	return fmt.Sprintf("%s-%d/%s", sk.Encr.Name, sk.EncrKeyBits, sk.Integ.Name)
}

// TestEncryptDecrypt encrypts a message with every cipher and integrity algorithm of the
// registry, checks the layout of the SK payload, decrypts it and compares the inner
// payloads; then it flips one bit in each part of the message and expects the integrity
// check to fail.
func TestEncryptDecrypt(t *testing.T) {
	inner := []Payload{
		&ID{Type: IDFQDN, Data: []byte("node-a.iklab.test")},
		&Auth{Method: AuthSharedKeyMIC, Data: counting(32, 9)},
		&Notify{Type: INITIAL_CONTACT},
	}
	for _, sk := range skSuites(t) {
		t.Run(suiteName(sk), func(t *testing.T) {
			m := &Message{Header: sampleHeader(IKE_AUTH), Payloads: []Payload{&Encrypted{Inner: inner}}}
			b, err := m.Marshal(sk, zeroReader{})
			if err != nil {
				t.Fatal(err)
			}
			e := m.Payloads[0].(*Encrypted)
			if bs := max(sk.Encr.BlockSize, 1); len(e.Plaintext)%bs != 0 {
				t.Errorf("plaintext of %d bytes is not a multiple of %d", len(e.Plaintext), bs)
			}
			if want := HeaderLen + genericHeaderLen + sk.Encr.IVSize + len(e.Plaintext) + sk.icvSize(); len(b) != want {
				t.Errorf("message of %d bytes, want %d", len(b), want)
			}
			got, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := got.Decrypt(b, sk); err != nil {
				t.Fatal(err)
			}
			ge := got.Encrypted()
			if !ge.Decrypted || !reflect.DeepEqual(ge.Inner, inner) || got.Header.NextPayload != PayloadSK || ge.FirstPayload != PayloadIDi {
				t.Fatalf("decrypted %#v (first %v)", ge.Inner, ge.FirstPayload)
			}
			f := Dissect(b, sk).Find("Integrity Checksum Data")
			if f == nil || !strings.HasSuffix(f.Value, "[correct]") {
				t.Fatalf("dissection ICV field %+v", f)
			}
			// One bit flipped in the header, the SK header, the IV, the ciphertext and the ICV.
			for _, at := range []int{20, HeaderLen + 1, HeaderLen + genericHeaderLen, len(b) - sk.icvSize() - 1, len(b) - 1} {
				bad := append([]byte(nil), b...)
				bad[at] ^= 0x10
				m, err := Parse(bad)
				if err != nil {
					continue // the header's Length or the SK header no longer fit
				}
				if err := m.Decrypt(bad, sk); !errors.Is(err, ike.ErrIntegrity) {
					t.Errorf("bit flipped at %d: %v, want an integrity error", at, err)
				}
				if df := Dissect(bad, sk).Find("Integrity Checksum Data"); df != nil && df.Error == "" {
					t.Errorf("bit flipped at %d: dissection shows the ICV as %q", at, df.Value)
				}
			}
		})
	}
}

// The keys strongSwan 5.9.8 saved for the first IKE SA of the reference capture
// ikev2-psk.pcap (ike/testenv/testdata/captures/ikev2-psk.keys/ikev2_decryption_table, line 1):
// AES-CBC-128 with HMAC-SHA2-256-128.
const (
	pskSKei = "d58a8b9400aeb65cb46b638c9c7c0e14"
	pskSKer = "31c02c2f81e8658b45603fba561babad"
	pskSKai = "9c0c790270ee936f808624ff31cc771b927740d18b2b13278e48baa84462040c"
	pskSKar = "214be51dc83df5623fe0eff775749ea579c0554fb2d4293c132ae5a361bcbf48"
)

// pskSK returns the SK protection of that IKE SA for messages from the original
// initiator or from the original responder.
func pskSK(fromInitiator bool) *SKCrypto {
	e, a := pskSKer, pskSKar
	if fromInitiator {
		e, a = pskSKei, pskSKai
	}
	ek, _ := hex.DecodeString(e)
	ak, _ := hex.DecodeString(a)
	return &SKCrypto{Encr: ike.Encr(ike.ENCR_AES_CBC), EncrKeyBits: 128, EncrKey: ek,
		Integ: ike.Integ(ike.AUTH_HMAC_SHA2_256_128), IntegKey: ak}
}

// TestStrongSwanFrame decrypts a message from the reference capture ikev2-psk.pcap
// (frame 13, strongSwan 5.9.8: INFORMATIONAL deleting a Child SA), with the keys
// strongSwan saved for it, and checks the fields tshark 4.0.17 shows for it:
//
//	Initialization Vector: d8fb7686f8f551c0f2c00cea114dd376
//	Delete: Protocol ID ESP (3), SPI Size 4, Number of SPIs 1, Delete SPI e9c3f2c4
//	Padding (3 bytes), Pad Length: 3
//	Integrity Checksum Data: fdb6664f0bae0940c8c5b86816fc68c8 [correct]
func TestStrongSwanFrame(t *testing.T) {
	msg, _ := hex.DecodeString("02010a6cd6d426efe39d293bf5cb42fa2e20250800000003000000502a000034" +
		"d8fb7686f8f551c0f2c00cea114dd376d9d60a59849bae9215e7d000a974578afdb6664f0bae0940c8c5b86816fc68c8")
	sk := pskSK(true)
	m, err := Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Decrypt(nil, sk); err != nil {
		t.Fatal(err)
	}
	want := []Payload{&Delete{Protocol: ike.ProtoESP, SPISize: 4, SPIs: [][]byte{{0xe9, 0xc3, 0xf2, 0xc4}}}}
	if !reflect.DeepEqual(m.Encrypted().Inner, want) || len(m.Encrypted().Padding) != 3 {
		t.Fatalf("inner %#v, padding %x", m.Encrypted().Inner, m.Encrypted().Padding)
	}
	if got := Summary(m, true); got != "HDR, SK {D}" {
		t.Errorf("summary %q", got)
	}
	root := Dissect(msg, sk)
	for name, want := range map[string]string{
		"Initialization Vector":   "d8fb7686f8f551c0f2c00cea114dd376",
		"Integrity Checksum Data": "fdb6664f0bae0940c8c5b86816fc68c8 [correct]",
		"Pad Length":              "3",
		"SPI":                     "e9c3f2c4",
		"Num of SPIs":             "1",
		"Exchange Type":           "INFORMATIONAL (37)",
		"Message ID":              "3",
	} {
		if f := root.Find(name); f == nil || f.Value != want {
			t.Errorf("%s: %+v, want %q", name, f, want)
		}
	}
	// The other direction's keys (SK_er, SK_ar) must not verify.
	if err := m.Decrypt(nil, pskSK(false)); !errors.Is(err, ike.ErrIntegrity) {
		t.Fatalf("wrong SK_a: %v", err)
	}
}

// TestDecryptErrors covers SK payloads that cannot be opened.
func TestDecryptErrors(t *testing.T) {
	sk := testSK(t, ike.ENCR_AES_CBC, 128, ike.AUTH_HMAC_SHA2_256_128)
	plain := &Message{Header: sampleHeader(IKE_SA_INIT), Payloads: []Payload{&Nonce{Data: []byte{1}}}}
	b := mustMarshal(t, plain)
	if err := plain.Decrypt(b, sk); err == nil {
		t.Error("message without SK: no error")
	}

	// An SK payload too short for IV and ICV cannot be verified: an integrity error.
	short := &Message{Header: sampleHeader(INFORMATIONAL), Payloads: []Payload{&Encrypted{Ciphertext: make([]byte, 20)}}}
	sb := mustMarshal(t, short)
	m, err := Parse(sb)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Decrypt(sb, sk); !errors.Is(err, ike.ErrIntegrity) {
		t.Errorf("short SK payload: %v, want an integrity error", err)
	}
	// Ciphertext that is no whole number of blocks: an integrity error under a wrong
	// ICV, a *ParseError (the key holder sent it) under a right one.
	ragged := &Message{Header: sampleHeader(INFORMATIONAL), Payloads: []Payload{&Encrypted{Ciphertext: make([]byte, 16+17+16)}}}
	rb := mustMarshal(t, ragged)
	if rm, err := Parse(rb); err != nil {
		t.Fatal(err)
	} else if err := rm.Decrypt(rb, sk); !errors.Is(err, ike.ErrIntegrity) {
		t.Errorf("ragged SK payload, wrong ICV: %v, want an integrity error", err)
	}
	mac := sk.Integ.New(sk.IntegKey)
	mac.Write(rb[:len(rb)-16])
	copy(rb[len(rb)-16:], mac.Sum(nil))
	var pe *ParseError
	if rm, err := Parse(rb); err != nil {
		t.Fatal(err)
	} else if err := rm.Decrypt(rb, sk); !errors.As(err, &pe) || pe.Payload != PayloadSK {
		t.Errorf("ragged SK payload, right ICV: %v, want a *ParseError of the SK payload", err)
	}

	// Keys of the wrong length.
	bad := *sk
	bad.EncrKey = bad.EncrKey[:5]
	if err := m.Decrypt(sb, &bad); err == nil || !strings.Contains(err.Error(), "key of 5 bytes") {
		t.Errorf("short key: %v", err)
	}
	noInteg := *sk
	noInteg.Integ = nil
	if _, err := (&Message{Payloads: []Payload{&Encrypted{}}}).Marshal(&noInteg, zeroReader{}); err == nil {
		t.Error("AES-CBC without integrity: no error")
	}

	// A Pad Length larger than the plaintext, with a valid ICV: the inner syntax is wrong.
	enc := &Encrypted{Inner: []Payload{}, Padding: make([]byte, 15)}
	mm := &Message{Header: sampleHeader(INFORMATIONAL), Payloads: []Payload{enc}}
	if _, err := mm.Marshal(sk, zeroReader{}); err != nil {
		t.Fatal(err)
	}
	// Re-encrypt a plaintext whose last byte claims 200 bytes of padding.
	forged := forgeSK(t, sk, append(make([]byte, 15), 200))
	fm, err := Parse(forged)
	if err != nil {
		t.Fatal(err)
	}
	if err := fm.Decrypt(nil, sk); !errors.Is(err, INVALID_SYNTAX) {
		t.Errorf("pad length 200: %v", err)
	}
	if f := Dissect(forged, sk).Find("Decrypted payloads"); f == nil || f.Error == "" {
		t.Errorf("dissection of pad length 200: %+v", f)
	}

	// Padding that does not fill the block.
	mm.Payloads[0] = &Encrypted{Padding: make([]byte, 3)}
	if _, err := mm.Marshal(sk, zeroReader{}); err == nil {
		t.Error("3 bytes of padding for AES-CBC: no error")
	}
}

// forgeSK builds an INFORMATIONAL message whose SK payload encrypts plain as it is, with
// a correct ICV.
func forgeSK(t *testing.T, sk *SKCrypto, plain []byte) []byte {
	t.Helper()
	c, err := sk.Encr.New(sk.EncrKey)
	if err != nil {
		t.Fatal(err)
	}
	h := sampleHeader(INFORMATIONAL)
	h.NextPayload = PayloadSK
	iv := make([]byte, sk.Encr.IVSize)
	body := append(iv, c.Seal(iv, plain, nil)...)
	skLen := genericHeaderLen + len(body) + sk.Integ.ICVSize
	msg := append(h.marshal(), 0, 0, byte(skLen>>8), byte(skLen))
	msg = append(msg, body...)
	setLength(msg, len(msg)+sk.Integ.ICVSize)
	mac := sk.Integ.New(sk.IntegKey)
	mac.Write(msg)
	return append(msg, mac.Sum(nil)[:sk.Integ.ICVSize]...)
}

// TestMarshalKeepsPlainPayloads puts plain payloads before the SK payload, as IKE_AUTH
// with RFC 7383 fragments or a cookie exchange never does but RFC 7296 allows: the AAD
// of AEAD ciphers and the ICV then cover them too.
func TestMarshalKeepsPlainPayloads(t *testing.T) {
	for _, sk := range []*SKCrypto{testSK(t, ike.ENCR_AES_GCM_16, 256, 0), testSK(t, ike.ENCR_3DES, 192, ike.AUTH_HMAC_SHA1_96)} {
		m := &Message{Header: sampleHeader(INFORMATIONAL), Payloads: []Payload{
			&VendorID{Data: []byte("plain")}, &Encrypted{Inner: []Payload{&Nonce{Data: bytes.Repeat([]byte{7}, 16)}}}}}
		b, err := m.Marshal(sk, zeroReader{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := got.Decrypt(nil, sk); err != nil {
			t.Fatal(err)
		}
		if s := Summary(got, true); s != "HDR, V, SK {Ni}" {
			t.Errorf("%s: summary %q", suiteName(sk), s)
		}
		b[HeaderLen+genericHeaderLen] ^= 1 // inside the plain Vendor ID
		bad, _ := Parse(b)
		if err := bad.Decrypt(nil, sk); !errors.Is(err, ike.ErrIntegrity) {
			t.Errorf("%s: altered plain payload: %v", suiteName(sk), err)
		}
	}
}

// FuzzDecryptDissect decrypts and dissects arbitrary bytes with the keys of the first IKE
// SA of ikev2-psk.pcap, chosen by the I flag: neither may panic, and a message that
// decrypts must dissect with its decrypted payloads, every field inside its byte space.
// The corpus in testdata/fuzz holds the messages of that capture.
func FuzzDecryptDissect(f *testing.F) {
	for _, p := range samplePayloads() {
		m := &Message{Header: sampleHeader(IKE_AUTH), Payloads: []Payload{&Encrypted{Inner: []Payload{p}}}}
		b, err := m.Marshal(pskSK(true), zeroReader{})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sk := pskSK(len(b) > 19 && Flags(b[19])&FlagInitiator != 0)
		root := Dissect(b, sk)
		m, err := Parse(b)
		if err != nil || m.Encrypted() == nil {
			return
		}
		if err := m.Decrypt(b, sk); err != nil {
			return
		}
		if root.Find("Decrypted payloads") == nil {
			t.Fatal("decryptable message dissected without its decrypted payloads")
		}
		checkOffsets(t, root, len(b))
	})
}

// checkOffsets verifies that every field lies inside its byte space: the message, or the
// Plain of the nearest decrypted ancestor.
func checkOffsets(t *testing.T, f *ike.Field, size int) {
	t.Helper()
	if err := f.OutOfBounds(size); err != nil {
		t.Fatal(err)
	}
}

func TestCheckOffsetsOnSamples(t *testing.T) {
	sk := testSK(t, ike.ENCR_AES_GCM_16, 128, 0)
	m := &Message{Header: sampleHeader(IKE_AUTH), Payloads: []Payload{&Encrypted{Inner: samplePayloads()}}}
	b, err := m.Marshal(sk, zeroReader{})
	if err != nil {
		t.Fatal(err)
	}
	root := Dissect(b, sk)
	checkOffsets(t, root, len(b))
	if bytes.Equal(root.Find("Decrypted payloads").Plain, nil) {
		t.Fatal("no plaintext")
	}
}
