package ike

import (
	"bytes"
	"errors"
	"testing"
)

// TestEncrRoundTrip seals and opens with every cipher and key size, and checks that an
// AEAD refuses a changed ciphertext, ICV or associated data.
func TestEncrRoundTrip(t *testing.T) {
	for _, e := range EncrAlgs() {
		sizes := e.KeyBits
		if len(sizes) == 0 {
			sizes = []int{0}
		}
		for _, bits := range sizes {
			keymat := bytes.Repeat([]byte{0x5a}, e.KeyBytes(bits))
			c, err := e.New(keymat)
			if err != nil {
				t.Fatalf("%s/%d: New: %v", e.Name, bits, err)
			}
			iv := bytes.Repeat([]byte{0x11}, e.IVSize)
			plain := bytes.Repeat([]byte("ikesim!!"), 6) // 48 bytes: whole blocks of 8 and 16
			aad := []byte("IKE header and SK payload header")
			sealed := c.Seal(iv, plain, aad)
			if want := len(plain) + e.ICVSize; len(sealed) != want {
				t.Errorf("%s/%d: sealed %d bytes, want %d", e.Name, bits, len(sealed), want)
			}
			if e.ID != ENCR_NULL && bytes.Contains(sealed, plain[:16]) {
				t.Errorf("%s/%d: ciphertext contains the plaintext", e.Name, bits)
			}
			got, err := c.Open(iv, sealed, aad)
			if err != nil || !bytes.Equal(got, plain) {
				t.Errorf("%s/%d: Open = %x, %v; want the plaintext", e.Name, bits, got, err)
			}
			if !e.AEAD() {
				continue
			}
			for name, mutate := range map[string]func() ([]byte, []byte){
				"ciphertext bit": func() ([]byte, []byte) { s := bytes.Clone(sealed); s[0] ^= 1; return s, aad },
				"ICV bit":        func() ([]byte, []byte) { s := bytes.Clone(sealed); s[len(s)-1] ^= 0x80; return s, aad },
				"aad":            func() ([]byte, []byte) { return sealed, []byte("another header") },
				"truncated":      func() ([]byte, []byte) { return sealed[:len(sealed)-1], aad },
			} {
				s, a := mutate()
				if p, err := c.Open(iv, s, a); !errors.Is(err, ErrIntegrity) || p != nil {
					t.Errorf("%s/%d: Open with a changed %s = %x, %v; want ErrIntegrity", e.Name, bits, name, p, err)
				}
			}
		}
	}
}

// TestEncrBadInput checks the errors for key material and wire input of the wrong size.
func TestEncrBadInput(t *testing.T) {
	for _, e := range EncrAlgs() {
		if _, err := e.New(make([]byte, e.KeyBytes(0)+1)); err == nil {
			t.Errorf("%s: New accepted %d bytes of key material", e.Name, e.KeyBytes(0)+1)
		}
		if e.IVSize == 0 {
			continue
		}
		c, err := e.New(make([]byte, e.KeyBytes(0)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Open(make([]byte, e.IVSize-1), make([]byte, 32), nil); err == nil {
			t.Errorf("%s: Open accepted a short IV", e.Name)
		}
		if e.AEAD() {
			if _, err := c.Open(make([]byte, e.IVSize), make([]byte, e.ICVSize-1), nil); err == nil {
				t.Errorf("%s: Open accepted input shorter than the ICV", e.Name)
			}
		} else if e.BlockSize > 1 {
			if _, err := c.Open(make([]byte, e.IVSize), make([]byte, e.BlockSize+1), nil); err == nil {
				t.Errorf("%s: Open accepted a partial block", e.Name)
			}
		}
	}
}

// TestAESCBCVectors uses RFC 3602, Section 4, cases #1 and #2.
func TestAESCBCVectors(t *testing.T) {
	for _, tc := range []struct{ key, iv, plain, cipher string }{
		{"06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
			"53696e676c6520626c6f636b206d7367", // "Single block msg"
			"e353779c1079aeb82708942dbe77181a"},
		{"c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58",
			"000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f",
			"d296cd94c2cccf8a3a863028b5e1dc0a 7586602d253cfff91b8266bea6d61ab1"},
	} {
		c, err := Encr(ENCR_AES_CBC).New(unhex(t, tc.key))
		if err != nil {
			t.Fatal(err)
		}
		iv, plain, want := unhex(t, tc.iv), unhex(t, tc.plain), unhex(t, tc.cipher)
		if got := c.Seal(iv, plain, nil); !bytes.Equal(got, want) {
			t.Errorf("Seal = %x, want %x", got, want)
		}
		if got, err := c.Open(iv, want, nil); err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Open = %x, %v, want %x", got, err, plain)
		}
	}
}

// GCM test cases 4 (AES-128) and 16 (AES-256) of McGrew and Viega, "The Galois/Counter
// Mode of Operation (GCM)", as NIST republished them. Their 96-bit IV
// cafebabefacedbaddecaf888 is an ESP nonce with salt cafebabe and IV facedbaddecaf888
// (RFC 4106, Section 4), so the key material is key || cafebabe.
const (
	gcmPlain = `d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
	            1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39`
	gcmAAD = "feedfacedeadbeeffeedfacedeadbeefabaddad2"
)

var gcmVectors = []struct{ key, cipher, tag string }{
	{"feffe9928665731c6d6a8f9467308308",
		`42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
		 21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091`,
		"5bc94fbc3221a5db94fae95ae7121a47"},
	{"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		`522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
		 8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662`,
		"76fc6ece0f4e1768cddf8853bb2d551b"},
}

// TestAESGCMVectors checks all three ICV lengths against the full GCM tag: an ICV of n
// bytes is the tag's first n bytes (NIST SP 800-38D, Section 5.2.1.2).
func TestAESGCMVectors(t *testing.T) {
	iv, plain, aad := unhex(t, "facedbaddecaf888"), unhex(t, gcmPlain), unhex(t, gcmAAD)
	for _, v := range gcmVectors {
		keymat := append(unhex(t, v.key), unhex(t, "cafebabe")...)
		ct, tag := unhex(t, v.cipher), unhex(t, v.tag)
		for _, id := range []uint16{ENCR_AES_GCM_8, ENCR_AES_GCM_12, ENCR_AES_GCM_16} {
			e := Encr(id)
			c, err := e.New(keymat)
			if err != nil {
				t.Fatal(err)
			}
			want := append(bytes.Clone(ct), tag[:e.ICVSize]...)
			if got := c.Seal(iv, plain, aad); !bytes.Equal(got, want) {
				t.Errorf("%s key %s: Seal = %x, want %x", e.Name, v.key, got, want)
			}
			if got, err := c.Open(iv, want, aad); err != nil || !bytes.Equal(got, plain) {
				t.Errorf("%s key %s: Open = %x, %v", e.Name, v.key, got, err)
			}
		}
	}
}

// TestChaCha20Poly1305Vector uses RFC 8439, Section 2.8.2. Its nonce 07000000 ||
// 4041424344454647 is RFC 7634's salt || IV, so the key material is key || 07000000.
func TestChaCha20Poly1305Vector(t *testing.T) {
	keymat := unhex(t, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f 07000000")
	iv := unhex(t, "4041424344454647")
	aad := unhex(t, "50515253c0c1c2c3c4c5c6c7")
	plain := []byte("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
	want := unhex(t, `d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
		3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
		92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
		3ff4def08e4b7a9de576d26586cec64b6116
		1ae10b594f09e26a7e902ecbd0600691`)
	c, err := Encr(ENCR_CHACHA20_POLY1305).New(keymat)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Seal(iv, plain, aad); !bytes.Equal(got, want) {
		t.Errorf("Seal = %x, want %x", got, want)
	}
	if got, err := c.Open(iv, want, aad); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("Open = %q, %v", got, err)
	}
}

// TestNullCipher checks that ENCR_NULL passes data through, untouched and uncopied-into.
func TestNullCipher(t *testing.T) {
	c, err := Encr(ENCR_NULL).New(nil)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("in the clear")
	sealed := c.Seal(nil, plain, nil)
	sealed[0] = 'X'
	if string(plain) != "in the clear" {
		t.Error("Seal returned the caller's slice")
	}
	if got, err := c.Open(nil, []byte("in the clear"), nil); err != nil || string(got) != "in the clear" {
		t.Errorf("Open = %q, %v", got, err)
	}
}
