package ike

import (
	"bytes"
	"crypto/aes"
	"math/big"
	"testing"
)

// Known-answer tests of the algorithms added for strongSwan and Wireshark parity: AES-CTR,
// AES-CCM, Camellia, AES-CMAC, HMAC-SHA1-160, the RFC 5114 MODP groups, the Brainpool
// groups and Curve448.

// RFC 3713, Appendix A: Camellia with 128-, 192- and 256-bit keys, plaintext
// 0123456789abcdeffedcba9876543210.
func TestCamelliaVectors(t *testing.T) {
	plain := unhex(t, "01 23 45 67 89 ab cd ef fe dc ba 98 76 54 32 10")
	for _, v := range []struct{ key, ct string }{
		{"01 23 45 67 89 ab cd ef fe dc ba 98 76 54 32 10",
			"67 67 31 38 54 96 69 73 08 57 06 56 48 ea be 43"},
		{"01 23 45 67 89 ab cd ef fe dc ba 98 76 54 32 10 00 11 22 33 44 55 66 77",
			"b4 99 34 01 b3 e9 96 f8 4e e5 ce e7 d7 9b 09 b9"},
		{"01 23 45 67 89 ab cd ef fe dc ba 98 76 54 32 10 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff",
			"9a cc 23 7d ff 16 d7 6c 20 ef 7c 91 9e 3a 75 09"},
	} {
		b, err := newCamellia(unhex(t, v.key))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 16)
		b.Encrypt(got, plain)
		if want := unhex(t, v.ct); !bytes.Equal(got, want) {
			t.Errorf("Camellia-%d: E(P) = %x, want %x", 8*len(unhex(t, v.key)), got, want)
		}
		b.Decrypt(got, got)
		if !bytes.Equal(got, plain) {
			t.Errorf("Camellia-%d: D(E(P)) = %x, want the plaintext", 8*len(unhex(t, v.key)), got)
		}
	}
	if _, err := newCamellia(make([]byte, 20)); err == nil {
		t.Error("Camellia accepted a 160-bit key")
	}
}

// RFC 5529 has no vectors of its own; ENCR_CAMELLIA_CBC is Camellia in CBC mode as
// AES-CBC is, which this checks on two blocks against Camellia's single-block vector.
func TestCamelliaCBC(t *testing.T) {
	key := unhex(t, "0123456789abcdeffedcba9876543210")
	c, err := Encr(ENCR_CAMELLIA_CBC).New(key)
	if err != nil {
		t.Fatal(err)
	}
	p := unhex(t, "0123456789abcdeffedcba9876543210")
	ct := c.Seal(make([]byte, 16), append(bytes.Clone(p), p...), nil)
	if want := unhex(t, "67673138549669730857065648eabe43"); !bytes.Equal(ct[:16], want) {
		t.Errorf("first CBC block with a zero IV = %x, want %x", ct[:16], want)
	}
	b, _ := newCamellia(key)
	second := make([]byte, 16)
	for i := range second {
		second[i] = p[i] ^ ct[i]
	}
	b.Encrypt(second, second)
	if !bytes.Equal(ct[16:], second) {
		t.Errorf("second CBC block = %x, want %x", ct[16:], second)
	}
}

// RFC 3686, Section 6: AES-CTR test vectors #1 and #2 (128-bit keys) and #7 (256-bit).
func TestCTRVectors(t *testing.T) {
	for i, v := range []struct{ key, nonce, iv, plain, ct string }{
		{"AE 68 52 F8 12 10 67 CC 4B F7 A5 76 55 77 F3 9E", "00 00 00 30", "00 00 00 00 00 00 00 00",
			"53 69 6E 67 6C 65 20 62 6C 6F 63 6B 20 6D 73 67",
			"E4 09 5D 4F B7 A7 B3 79 2D 61 75 A3 26 13 11 B8"},
		{"7E 24 06 78 17 FA E0 D7 43 D6 CE 1F 32 53 91 63", "00 6C B6 DB", "C0 54 3B 59 DA 48 D9 0B",
			"00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F",
			"51 04 A1 06 16 8A 72 D9 79 0D 41 EE 8E DA D3 88 EB 2E 1E FC 46 DA 57 C8 FC E6 30 DF 91 41 BE 28"},
		{"77 6B EF F2 85 1D B0 6F 4C 8A 05 42 C8 69 6F 6C 6A 81 AF 1E EC 96 B4 D3 7F C1 D6 89 E6 C1 C1 04",
			"00 00 00 60", "DB 56 72 C9 7A A8 F0 B2", "53 69 6E 67 6C 65 20 62 6C 6F 63 6B 20 6D 73 67",
			"14 5A D0 1D BF 82 4E C7 56 08 63 DC 71 E3 E0 C0"},
	} {
		c, err := Encr(ENCR_AES_CTR).New(append(unhex(t, v.key), unhex(t, v.nonce)...))
		if err != nil {
			t.Fatal(err)
		}
		iv := unhex(t, v.iv)
		if got := c.Seal(iv, unhex(t, v.plain), nil); !bytes.Equal(got, unhex(t, v.ct)) {
			t.Errorf("vector %d: ciphertext %x, want %s", i+1, got, v.ct)
		}
		if got, err := c.Open(iv, unhex(t, v.ct), nil); err != nil || !bytes.Equal(got, unhex(t, v.plain)) {
			t.Errorf("vector %d: Open = %x, %v", i+1, got, err)
		}
	}
}

// RFC 3610, Section 8: CCM packet vectors #1 and #2 (AES key C0..CF, 13-byte nonce,
// 8 bytes of associated data, an 8-byte tag), and #7 (a 10-byte tag).
func TestCCMVectors(t *testing.T) {
	key := unhex(t, "C0 C1 C2 C3 C4 C5 C6 C7 C8 C9 CA CB CC CD CE CF")
	b, _ := aes.NewCipher(key)
	for i, v := range []struct {
		nonce, in, out string
		tag, aad       int
	}{
		{"00 00 00 03 02 01 00 A0 A1 A2 A3 A4 A5",
			"00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E",
			"00 01 02 03 04 05 06 07 58 8C 97 9A 61 C6 63 D2 F0 66 D0 C2 C0 F9 89 80 6D 5F 6B 61 DA C3 84 17 E8 D1 2C FD F9 26 E0",
			8, 8},
		{"00 00 00 04 03 02 01 A0 A1 A2 A3 A4 A5",
			"00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F",
			"00 01 02 03 04 05 06 07 72 C9 1A 36 E1 35 F8 CF 29 1C A8 94 08 5C 87 E3 CC 15 C4 39 C9 E4 3A 3B A0 91 D5 6E 10 40 09 16",
			8, 8},
		{"00 00 00 09 08 07 06 A0 A1 A2 A3 A4 A5",
			"00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E",
			"00 01 02 03 04 05 06 07 01 35 D1 B2 C9 5F 41 D5 D1 D4 FE C1 85 D1 66 B8 09 4E 99 9D FE D9 6C 04 8C 56 60 2C 97 AC BB 74 90",
			10, 8},
	} {
		c, err := newCCMAEAD(b, 13, v.tag)
		if err != nil {
			t.Fatal(err)
		}
		in, want := unhex(t, v.in), unhex(t, v.out)
		aad := in[:v.aad]
		got := c.Seal(bytes.Clone(aad), unhex(t, v.nonce), in[v.aad:], aad)
		if !bytes.Equal(got, want) {
			t.Errorf("packet vector %d: %x, want %x", []int{1, 2, 7}[i], got, want)
		}
		plain, err := c.Open(nil, unhex(t, v.nonce), want[v.aad:], aad)
		if err != nil || !bytes.Equal(plain, in[v.aad:]) {
			t.Errorf("packet vector %d: Open = %x, %v", []int{1, 2, 7}[i], plain, err)
		}
		bad := bytes.Clone(want[v.aad:])
		bad[len(bad)-1] ^= 1
		if p, err := c.Open(nil, unhex(t, v.nonce), bad, aad); err == nil {
			t.Errorf("packet vector %d: Open accepted a changed tag: %x", []int{1, 2, 7}[i], p)
		}
	}
}

// The IPsec CCM transforms (RFC 4309, Section 4) take a 3-byte salt from the key
// material and the 8-byte IV: their nonce is salt || IV, and an 8-byte ICV is vector
// #1's tag when the nonce and data are laid out as RFC 3610 has them.
func TestCCMTransformNonce(t *testing.T) {
	c, err := Encr(ENCR_AES_CCM_8).New(unhex(t, "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF 000000"))
	if err != nil {
		t.Fatal(err)
	}
	key := unhex(t, "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF")
	b, _ := aes.NewCipher(key)
	ref, _ := newCCMAEAD(b, 11, 8)
	iv := unhex(t, "03020100 A0A1A2A3")
	nonce := append(unhex(t, "000000"), iv...)
	plain, aad := []byte("an ESP payload with padding"), unhex(t, "0000abcd00000001")
	if got, want := c.Seal(iv, plain, aad), ref.Seal(nil, nonce, plain, aad); !bytes.Equal(got, want) {
		t.Errorf("ENCR_AES_CCM_8 = %x, want %x", got, want)
	}
}

// RFC 4493, Section 4: AES-CMAC with K = 2b7e1516 28aed2a6 abf71588 09cf4f3c.
// AES-CMAC-96 (RFC 4494) is the first 96 bits of the same MACs.
func TestCMACVectors(t *testing.T) {
	key := unhex(t, "2b7e1516 28aed2a6 abf71588 09cf4f3c")
	msg := unhex(t, `6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51
		30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710`)
	for _, v := range []struct {
		n   int
		mac string
	}{
		{0, "bb1d6929 e9593728 7fa37d12 9b756746"},
		{16, "070a16b4 6b4d4144 f79bdd9d d04a287c"},
		{40, "dfa66747 de9ae630 30ca3261 1497c827"},
		{64, "51f0bebf 7e3b9d92 fc497417 79363cfe"},
	} {
		h := newCMAC(key)
		h.Write(msg[:v.n])
		want := unhex(t, v.mac)
		if got := h.Sum(nil); !bytes.Equal(got, want) {
			t.Errorf("Mlen %d: AES-CMAC = %x, want %x", v.n, got, want)
		}
		a := Integ(AUTH_AES_CMAC_96)
		m := a.New(key)
		for _, b := range msg[:v.n] { // byte by byte: the held-back last block
			m.Write([]byte{b})
		}
		if got := m.Sum(nil)[:a.ICVSize]; !bytes.Equal(got, want[:12]) {
			t.Errorf("Mlen %d: AES-CMAC-96 = %x, want %x", v.n, got, want[:12])
		}
	}
}

// RFC 4615, Section 4: AES-CMAC-PRF-128 with keys of 18, 16 and 10 bytes.
func TestCMACPRFVectors(t *testing.T) {
	msg := unhex(t, "000102030405060708090a0b0c0d0e0f10111213")
	for _, v := range []struct{ key, out string }{
		{"000102030405060708090a0b0c0d0e0fedcb", "84a348a4 a45d235b abfffc0d 2b4da09a"},
		{"000102030405060708090a0b0c0d0e0f", "980ae87b 5f4c9c52 14f5b6a8 455e4c2d"},
		{"00010203040506070809", "290d9e11 2edb09ee 141fcf64 c0b72f3d"},
	} {
		if got := PRF(PRF_AES128_CMAC).Sum(unhex(t, v.key), msg); !bytes.Equal(got, unhex(t, v.out)) {
			t.Errorf("key %s: PRF = %x, want %s", v.key, got, v.out)
		}
	}
}

// RFC 4595 names HMAC-SHA1 with its full 160-bit output; RFC 2202, Section 3 gives
// HMAC-SHA1 vectors (test cases 1 and 2).
func TestHMACSHA1160(t *testing.T) {
	a := Integ(AUTH_HMAC_SHA1_160)
	for _, v := range []struct{ key, data, mac string }{
		{"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265", "b617318655057264e28bc0b6fb378c8ef146be00"},
		{"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
	} {
		m := a.New(unhex(t, v.key))
		m.Write(unhex(t, v.data))
		if got := m.Sum(nil)[:a.ICVSize]; !bytes.Equal(got, unhex(t, v.mac)) {
			t.Errorf("HMAC-SHA1-160 = %x, want %s", got, v.mac)
		}
	}
}

// RFC 7027, Appendix A: ECDH on brainpoolP256r1, P384r1 and P512r1 (dA, QA, dB, QB
// and the x coordinate of Z), fed to the IKEv2 groups of RFC 6954 the way TestECPVectors
// feeds RFC 5903's.
var brainpoolVectors = []ecdhVector{
	{ECP_256_BP,
		"81DB1EE100150FF2EA338D708271BE38300CB54241D79950F77B063039804F1D",
		"44106E913F92BC02A1705D9953A8414DB95E1AAA49E81D9E85F929A8E3100BE5",
		"8AB4846F11CACCB73CE49CBDD120F5A900A69FD32C272223F789EF10EB089BDC",
		"55E40BC41E37E3E2AD25C3C6654511FFA8474A91A0032087593852D3E7D76BD3",
		"8D2D688C6CF93E1160AD04CC4429117DC2C41825E1E9FCA0ADDD34E6F1B39F7B",
		"990C57520812BE512641E47034832106BC7D3E8DD0E4C7F1136D7006547CEC6A",
		"89AFC39D41D3B327814B80940B042590F96556EC91E6AE7939BCE31F3A18BF2B"},
	{ECP_384_BP,
		"1E20F5E048A5886F1F157C74E91BDE2B98C8B52D58E5003D57053FC4B0BD65D6F15EB5D1EE1610DF870795143627D042",
		"68B665DD91C195800650CDD363C625F4E742E8134667B767B1B476793588F885AB698C852D4A6E77A252D6380FCAF068",
		"55BC91A39C9EC01DEE36017B7D673A931236D2F1F5C83942D049E3FA20607493E0D038FF2FD30C2AB67D15C85F7FAA59",
		"032640BC6003C59260F7250C3DB58CE647F98E1260ACCE4ACDA3DD869F74E01F8BA5E0324309DB6A9831497ABAC96670",
		"4D44326F269A597A5B58BBA565DA5556ED7FD9A8A9EB76C25F46DB69D19DC8CE6AD18E404B15738B2086DF37E71D1EB4",
		"62D692136DE56CBE93BF5FA3188EF58BC8A3A0EC6C1E151A21038A42E9185329B5B275903D192F8D4E1F32FE9CC78C48",
		"0BD9D3A7EA0B3D519D09D8E48D0785FB744A6B355E6304BC51C229FBBCE239BBADF6403715C35D4FB2A5444F575D4F42"},
	{ECP_512_BP,
		"16302FF0DBBB5A8D733DAB7141C1B45ACBC8715939677F6A56850A38BD87BD59B09E80279609FF333EB9D4C061231FB26F92EEB04982A5F1D1764CAD57665422",
		"0A420517E406AAC0ACDCE90FCD71487718D3B953EFD7FBEC5F7F27E28C6149999397E91E029E06457DB2D3E640668B392C2A7E737A7F0BF04436D11640FD09FD",
		"72E6882E8DB28AAD36237CD25D580DB23783961C8DC52DFA2EC138AD472A0FCEF3887CF62B623B2A87DE5C588301EA3E5FC269B373B60724F5E82A6AD147FDE7",
		"230E18E1BCC88A362FA54E4EA3902009292F7F8033624FD471B5D8ACE49D12CFABBC19963DAB8E2F1EBA00BFFB29E4D72D13F2224562F405CB80503666B25429",
		"9D45F66DE5D67E2E6DB6E93A59CE0BB48106097FF78A081DE781CDB31FCE8CCBAAEA8DD4320C4119F1E9CD437A2EAB3731FA9668AB268D871DEDA55A5473199F",
		"2FDC313095BCDD5FB3A91636F07A959C8E86B5636A1E930E8396049CB481961D365CC11453A06C719835475B12CB52FC3C383BCE35E27EF194512B71876285FA",
		"A7927098655F1F9976FA50A9D566865DC530331846381C87256BAF3226244B76D36403C024D7BBF0AA0803EAFF405D3D24F11A9B5C0BEF679FE1454B21C4CD1F"},
}

// TestBrainpoolCurves checks each curve's constants as RFC 5639 defines them: the base
// point lies on the curve and has the order q, and q is prime.
func TestBrainpoolCurves(t *testing.T) {
	for _, c := range []*curve{brainpoolP224r1, brainpoolP256r1, brainpoolP384r1, brainpoolP512r1} {
		if !c.onCurve(c.gx, c.gy) {
			t.Errorf("%s: the base point is not on the curve", c.name)
		}
		if !c.p.ProbablyPrime(20) || !c.n.ProbablyPrime(20) {
			t.Errorf("%s: p or q is not prime", c.name)
		}
		if _, _, ok := c.scalarMult(c.gx, c.gy, c.n); ok {
			t.Errorf("%s: q * G is not the point at infinity", c.name)
		}
		qm1 := new(big.Int).Sub(c.n, big.NewInt(1))
		x, y, ok := c.scalarMult(c.gx, c.gy, qm1)
		if !ok || x.Cmp(c.gx) != 0 || new(big.Int).Add(y, c.gy).Cmp(c.p) != 0 {
			t.Errorf("%s: (q-1) * G is not -G", c.name)
		}
	}
}

// RFC 5114, Section 2: each group's q is prime and divides p-1, and g generates the
// subgroup of order q.
func TestRFC5114Groups(t *testing.T) {
	for _, e := range rfc5114Groups {
		p, g, q := hexBig(e.p), hexBig(e.g), hexBig(e.q)
		if !p.ProbablyPrime(20) || !q.ProbablyPrime(20) {
			t.Errorf("%s: p or q is not prime", e.name)
		}
		if new(big.Int).Mod(new(big.Int).Sub(p, big.NewInt(1)), q).Sign() != 0 {
			t.Errorf("%s: q does not divide p-1", e.name)
		}
		if new(big.Int).Exp(g, q, p).Cmp(big.NewInt(1)) != 0 {
			t.Errorf("%s: g^q mod p is not 1", e.name)
		}
		// A value outside the subgroup (p-1 has order 2) is refused, as RFC 6989 asks.
		k, err := DH(e.id).Generate(&countingReader{next: 3})
		if err != nil {
			t.Fatal(err)
		}
		outside := new(big.Int).Sub(p, big.NewInt(2)) // order divides p-1 but it is not in <g>
		if new(big.Int).Exp(outside, q, p).Cmp(big.NewInt(1)) == 0 {
			t.Fatalf("%s: test value happens to lie in the subgroup", e.name)
		}
		if _, err := k.Shared(outside.FillBytes(make([]byte, p.BitLen()/8))); err == nil {
			t.Errorf("%s: Shared accepted a value outside the prime order subgroup", e.name)
		}
	}
}

// RFC 7748, Section 6.2: X448 for Alice and Bob.
func TestX448Vector(t *testing.T) {
	g := DH(Curve448)
	alice, err := g.Generate(bytes.NewReader(unhex(t, `9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28d
		d9c9baf574a9419744897391006382a6f127ab1d9ac2d8c0a598726b`)))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := g.Generate(bytes.NewReader(unhex(t, `1c306a7ac2a0e2e0990b294470cba339e6453772b075811d8fad0d1d
		6927c120bb5ee8972b0d3e21374c9c921b09d1b0366f10b65173992d`)))
	if err != nil {
		t.Fatal(err)
	}
	alicePub := unhex(t, `9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c
		22c5d9bbc836647241d953d40c5b12da88120d53177f80e532c41fa0`)
	bobPub := unhex(t, `3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b430
		27d8b972fc3e34fb4232a13ca706dcb57aec3dae07bdc1c67bf33609`)
	shared := unhex(t, `07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282b
		b60c0b56fd2464c335543936521c24403085d59a449a5037514a879d`)
	if !bytes.Equal(alice.Public(), alicePub) || !bytes.Equal(bob.Public(), bobPub) {
		t.Errorf("public values %x, %x; want %x, %x", alice.Public(), bob.Public(), alicePub, bobPub)
	}
	for _, k := range []struct {
		priv DHPrivate
		peer []byte
	}{{alice, bobPub}, {bob, alicePub}} {
		if z, err := k.priv.Shared(k.peer); err != nil || !bytes.Equal(z, shared) {
			t.Errorf("shared secret %x, %v; want %x", z, err, shared)
		}
	}
}
