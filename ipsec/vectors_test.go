package ipsec

import (
	"bytes"
	"crypto/cipher"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/ikesim/ikesim/ike"
)

// rfc3602Cases are the ESP packets of RFC 3602, Section 4, cases 5 to 8: AES-CBC with a
// 128-bit key and no integrity algorithm, between 192.168.123.3 and 192.168.123.100
// (transport mode) or 192.168.123.200 (tunnel mode). inner is the original packet, outer
// the post-encryption packet as the RFC prints it (IP header, SPI/Seq #, IV, Encrypted
// Data). The RFC's IP headers of cases 6 and 8 are not reproduced here: for them inner
// carries a header of this test's making, and only the ESP part (from the SPI on) is
// compared.
var rfc3602Cases = []struct {
	name     string
	mode     Mode
	key, iv  string
	spi      uint32
	seq      uint64
	src, dst string
	outerID  uint16 // Identification of the tunnel mode outer header
	inner    string
	outer    string
	espOnly  bool
}{
	{
		name: "Case #5: transport mode ESP (ping 192.168.123.100)", mode: Transport,
		key: "90d382b4 10eeba7a d938c46c ec1a82bf", iv: "e96e8c08 ab465763 fd098d45 dd3ff893",
		spi: 0x4321, seq: 1, src: "192.168.123.3", dst: "192.168.123.100",
		inner: `45000054 08f20000 4001f9fe c0a87b03 c0a87b64
			08000ebd a70a0000 8e9c083d b95b0700 08090a0b 0c0d0e0f 10111213 14151617
			18191a1b 1c1d1e1f 20212223 24252627 28292a2b 2c2d2e2f 30313233 34353637`,
		outer: `4500007c 08f20000 4032f9a5 c0a87b03 c0a87b64
			00004321 00000001
			e96e8c08 ab465763 fd098d45 dd3ff893
			f663c25d 325c18c6 a9453e19 4e120849 a4870b66 cc6b9965 330013b4 898dc856
			a4699e52 3a55db08 0b59ec3a 8e4b7e52 775b07d1 db34ed9c 538ab50c 551b874a
			a269add0 47ad2d59 13ac19b7 cfbad4a6`,
	},
	{
		name: "Case #6: transport mode ESP (ping -p 77 -s 20 192.168.123.100)", mode: Transport,
		key: "90d382b4 10eeba7a d938c46c ec1a82bf", iv: "69d08df7 d203329d b093fc49 24e5bd80",
		spi: 0x4321, seq: 8, src: "192.168.123.3", dst: "192.168.123.100", espOnly: true,
		inner: `45000030 0a000000 40010000 c0a87b03 c0a87b64
			0800b5e8 a80a0500 a69c083d 0b660e00 77777777 77777777 77777777`,
		outer: `45000000 00000000 00000000 00000000 00000000
			00004321 00000008
			69d08df7 d203329d b093fc49 24e5bd80
			f5199588 1ec4e0c4 488987ce 742e8109 689bb379 d2d750c0 d915dca3 46a89f75`,
	},
	{
		name: "Case #7: tunnel mode ESP (ping 192.168.123.200)", mode: Tunnel,
		key: "01234567 89abcdef 01234567 89abcdef", iv: "f4e76524 4f6407ad f13dc138 0f673f37",
		spi: 0x8765, seq: 2, src: "192.168.123.3", dst: "192.168.123.200", outerID: 0x0905,
		inner: `45000054 09040000 4001f988 c0a87b03 c0a87bc8 08009f76 a90a0100 b49c083d
			02a20400 08090a0b 0c0d0e0f 10111213 14151617 18191a1b 1c1d1e1f 20212223
			24252627 28292a2b 2c2d2e2f 30313233 34353637`,
		outer: `4500008c 09050000 4032f91e c0a87b03 c0a87bc8
			00008765 00000002
			f4e76524 4f6407ad f13dc138 0f673f37
			773b5241 a4c44922 5e4f3ce5 ed611b0c 237ca96c f74a9301 3c1b0ea1 a0cf70f8
			e4ecaec7 8ac53aad 7a0f022b 859243c6 47752e94 a859352b 8a4d4d2d ecd136e5
			c177f132 ad3fbfb2 201ac990 4c74ee0a 109e0ca1 e4dfe9d5 a100b842 f1c22f0d`,
	},
	{
		name: "Case #8: tunnel mode ESP (ping -p ff -s 40 192.168.123.200)", mode: Tunnel,
		key: "01234567 89abcdef 01234567 89abcdef", iv: "85d47224 b5f3dd5d 2101d4ea 8dffab22",
		spi: 0x8765, seq: 5, src: "192.168.123.3", dst: "192.168.123.200", outerID: 0x090d, espOnly: true,
		inner: `45000044 090c0000 4001f990 c0a87b03 c0a87bc8 0800d63c aa0a0200 c69c083d
			a3de0300 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff
			ffffffff`,
		outer: `45000000 00000000 00000000 00000000 00000000
			00008765 00000005
			85d47224 b5f3dd5d 2101d4ea 8dffab22
			15b92683 819596a8 047232cc 00f7048f e45318e1 1f8a0f62 ede3c3fc 61203bb5
			0f980a08 c9843fd3 a1b06d5c 07ff9639 b7eb7dfb 3512e5de 435e7207 ed971ef3
			d2726d9b 5ef6affc 6d17a0de cbb13892`,
	},
}

// TestRFC3602Vectors reproduces the AES-CBC ESP packets of RFC 3602, Section 4 byte for
// byte through Protect, with the IV injected through Rand, and opens them again.
func TestRFC3602Vectors(t *testing.T) {
	for _, c := range rfc3602Cases {
		t.Run(c.name, func(t *testing.T) {
			inner, want := unhex(t, c.inner), unhex(t, c.outer)
			if c.espOnly {
				// This test's own header for the inner packet: fix its checksum.
				fixIPv4Header(inner, ipv4HeaderLen, len(inner), ProtoICMP)
			}
			newSA := func() *SA {
				return &SA{SPI: c.spi, Src: netip.MustParseAddr(c.src), Dst: netip.MustParseAddr(c.dst),
					Encr: aesCBC, EncrKeyBits: 128, EncrKey: unhex(t, c.key), Mode: c.mode,
					Rand: bytes.NewReader(unhex(t, c.iv)), NextID: func() uint16 { return c.outerID }}
			}
			out := newSA()
			out.seq = c.seq - 1
			got, err := out.Protect(inner)
			if err != nil {
				t.Fatal(err)
			}
			if c.espOnly {
				got, want = got[ipv4HeaderLen:], want[ipv4HeaderLen:]
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Protect:\n got %x\nwant %x", got, want)
			}

			// Inbound: the RFC's packet (with this test's header for cases 6 and 8)
			// opens to the original.
			outer := want
			if c.espOnly {
				h := IPv4{TTL: 64, Protocol: ProtoESP, Src: out.Src, Dst: out.Dst, Payload: want}
				if outer, err = h.Marshal(); err != nil {
					t.Fatal(err)
				}
			}
			var sad SAD
			if err := sad.AddInbound(newSA()); err != nil {
				t.Fatal(err)
			}
			back, sa, err := sad.Unprotect(outer)
			if err != nil {
				t.Fatal(err)
			}
			if sa.SPI != c.spi || sa.Stats().Seq != c.seq {
				t.Errorf("SA %v, seq %d", sa, sa.Stats().Seq)
			}
			if c.mode == Transport && c.espOnly {
				back, inner = back[ipv4HeaderLen:], inner[ipv4HeaderLen:]
			}
			if !bytes.Equal(back, inner) {
				t.Fatalf("Unprotect:\n got %x\nwant %x", back, inner)
			}
		})
	}
}

// gcmESPCases are the AES-GCM ESP packets of draft-mcgrew-gcm-test-01 ("Test Cases for
// the use of Galois/Counter Mode (GCM) and Galois Message Authentication Code (GMAC) in
// IPsec ESP"), Section 4, the test vectors for RFC 4106: key, SPI, sequence number (16 hex
// digits: an extended sequence number), nonce (salt || IV), plaintext (payload, padding,
// Pad Length, Next Header) and the ESP packet from SPI to ICV. The key material of the SA
// is key || salt.
var gcmESPCases = []struct{ key, spi, seq, nonce, plaintext, packet string }{
	{
		key: "4c80cdefbb5d10da906ac73c3613a634", spi: "00004321", seq: "8765432100000000",
		nonce: "2e443b684956ed7e3b244cfe",
		plaintext: `45000048699a000080114db7c0a80102 c0a801010a9bf15638d3010000010000
			00000000045f736970045f7564700373 69700963796265726369747902646b00
			0021000101020201`,
		packet: `00004321000000004956ed7e3b244cfe fecf537e729d5b07dc30df528dd22b76
			8d1b98736696a6fd348509fa13ceac34 cfa2436f14a3f3cf65925bf1f4a13c5d
			15b21e1884f5ff6247aeabb786b93bce 61bc17d768fd9732459018148f6cbe72
			2fd04796562dfdb4`,
	},
	{
		key: "feffe9928665731c6d6a8f9467308308", spi: "0000a5f8", seq: "0000000a",
		nonce: "cafebabefacedbaddecaf888",
		plaintext: `4500003e698f000080114dccc0a80102 c0a801010a980035002a2343b2d00100
			00010000000000000373697009637962 65726369747902646b00000100010001`,
		packet: `0000a5f80000000afacedbaddecaf888 deb22cd9b07c72c16e3a65beeb8df304
			a5a5897d33ae530f1ba76d5d114d2a5c 3de81827c10e9a4f51330d0eec416642
			cfbb85a5b47e48a4ec3b9ba95d918bd1 83b70d3aa8bc6ee4c309e9d85a41ad4a`,
	},
	{
		key: "abbccddef00112233445566778899aab abbccddef00112233445566778899aab", spi: "4a2cbfe3", seq: "00000002",
		nonce: "112233440102030405060708",
		plaintext: `4500003069a6400080062690c0a80102 9389155e0a9e008b2dc57ee000000000
			7002400020bf0000020405b401010402 01020201`,
		packet: `4a2cbfe3000000020102030405060708 ff425c9b724599df7a3bcd510194e00d
			6a78107f1b0b1cbf06efae9d65a5d763 748a637985771d347f0545659f14e99d
			ef842d8eb335f4eecfdbf831824b4c49 15956c96`,
	},
	{
		key: "00000000000000000000000000000000", spi: "00000000", seq: "00000001",
		nonce: "000000000000000000000000",
		plaintext: `4500003c99c500008001cb7a40679318 010101010800075c0200440061626364
			65666768696a6b6c6d6e6f7071727374 75767761626364656667686901020201`,
		packet: `00000000000000010000000000000000 4688daf2f973a392732909c331d56d60
			f694abaa414b5e7ff5fdcdfff5e9a284 456476492719ffb64de7d9dca1e1d894
			bc3bd57873ed4d181d19d4d5c8c18af3 f821d496eeb096e98ad2b69e4799c71d`,
	},
	{
		key: "3de09874b388e6491988d0c3607eae1f", spi: "42f67e3f", seq: "1010101010101010",
		nonce: "57690e434e280000a2fca1a3",
		plaintext: `4500003c99c300008001cb7c40679318 010101010800085c0200430061626364
			65666768696a6b6c6d6e6f7071727374 75767761626364656667686901020201`,
		packet: `42f67e3f101010104e280000a2fca1a3 fba2caa4853cf9f0f22cb10d86dd83b0
			fec75691cf1a04b00d1138ec9c357917 65acbd8701ad79845bf9fe3fba487bc9
			1755e6662b4c8d0d1f5e22739530320a e0d731cc978ecafaeae88f00e80d6e48`,
	},
	{
		key: "3de09874b388e6491988d0c3607eae1f", spi: "42f67e3f", seq: "1010101010101010",
		nonce:     "57690e434e280000a2fca1a3",
		plaintext: `4500001c42a200008001441f406793b6 e00000020a00f5ff01020201`,
		packet: `42f67e3f101010104e280000a2fca1a3 fba2ca845e5df9f0f22c3e6e86dd831e
			1fc65792cd1af9130e1379ed369f071f 35e034be95f112e4e7d05d35`,
	},
	{
		key: "feffe9928665731c6d6a8f9467308308 feffe9928665731c", spi: "0000a5f8", seq: "0000000a",
		nonce: "cafebabefacedbaddecaf888",
		plaintext: `45000028a4ad4000400678800a01038f 0a010612802306b8cb712602dd6bb03e
			501016d075680001`,
		packet: `0000a5f80000000afacedbaddecaf888 a5b1f8066029aea40e598b8122de0242
			0938b3ab33f828e687b8858b5bfbdbd0 315b27452144cc7795457b9652037f53
			18027b5b4cd7a636`,
	},
	{
		key: "abbccddef00112233445566778899aab", spi: "00000100", seq: "0000000000000001",
		nonce: "decaf888cafedebaceface74",
		plaintext: `4500004933ba00007f119106c3fb1d10 c2b1d326c02831ce0035dd7b800302d5
			00004e20001e8c18d75b81dc91baa047 6b91b924b280389d92c963bac046ec95
			9b6266c04722b14923010101`,
		packet: `0000010000000001cafedebaceface74 18a6fd42f72cbf4ab2a2ea901f73d814
			e3e7f243d95412e1c349c1d2fbec168f 9190feebaf2cb01984e65863965d7472
			b79da345e0e780191f0d2f0e0f496c22 6f2127b27db35724e7845d68651f57e6
			5f354f75ff17015769623436`,
	},
	{
		key: "abbccddef00112233445566778899aab abbccddef00112233445566778899aab", spi: "17405e67", seq: "156f3126dd0db99b",
		nonce: "73616c74616e640169766563",
		plaintext: `45080028732c00004006e9f90a010612 0a01038f06b88023dd6bafbecb712602
			50101f646d540001`,
		packet: `17405e67dd0db99b616e640169766563 f2d69ecdbd5a0d5b8d5ef38bad4da58d
			1f278fde98ef67549d524a3018d9a57f f4d3a31ce673119e451626c2415771e3
			b7eebca614c89b35`,
	},
	{
		key: "3de09874b388e6491988d0c3607eae1f", spi: "42f67e3f", seq: "1010101010101010",
		nonce: "57690e434e280000a2fca1a3",
		plaintext: `45000049333e00007f119182c3fb1d10 c2b1d326c02831ce0035cb458003025b
			000001e0001e8c18d65759d52284a035 2c71475c8880391c764d6e5ee0496b32
			5ae270c03899493915010101`,
		packet: `42f67e3f101010104e280000a2fca1a3 fba2cad12fc1f9f00d3cebf305410db8
			3d7784b607323d220f24b0a97d541828 00cadb0f68d99ef0e0c0c89ae9bea888
			4e52d65bc1afd0740f742444747b5b39 ab533163aad4550ee5160975cdb608c5
			769189609763b8e18caa81e2`,
	},
	{
		key: "abbccddef00112233445566778899aab abbccddef00112233445566778899aab", spi: "17405e67", seq: "156f3126dd0db99b",
		nonce: "73616c74616e640169766563",
		plaintext: `636973636f0172756c65730174686501 6e6574776501646566696e6501746865
			746563686e6f6c6f6769657301746861 7477696c6c01646566696e65746f6d6f
			72726f7701020201`,
		packet: `17405e67dd0db99b616e640169766563 d4b7ed86a1777f2ea13d6973d324c69e
			7b43f826fb56831226508bebd2dceb18 d0a6df10e5487df074113e14c641024e
			3e6773d91a62ee429b043a10e3efe6b0 12a49363412364f8c0cac587f249e56b
			11e24f30e44ccc76`,
	},
	{
		key: "7d773d00c144c525ac619d18c84a3f47", spi: "335467ae", seq: "ffffffff",
		nonce:     "d966426743457e9182443bc6",
		plaintext: `01020201`,
		packet: `335467aeffffffff43457e9182443bc6 437f866bcb3f699fe9b0822bac961c45
			04bef270`,
	},
	{
		key: "abbccddef00112233445566778899aab", spi: "00000100", seq: "0000000000000001",
		nonce:     "decaf888cafedebaceface74",
		plaintext: `746f016265016f72016e6f7401746f01 62650001`,
		packet: `0000010000000001cafedebaceface74 29c9fc69a197d038ccdd14e2ddfcaa05
			43332164412503524303ed3c6c5f2838 43af8c3e`,
	},
	{
		key: "6c6567616c697a656d6172696a75616e 61616e64646f69746265666f72656961", spi: "796b6963", seq: "ffffffffffffffff",
		nonce: "7475726e333021696765746d",
		plaintext: `45000030da3a00008001df3bc0a80005 c0a800010800c6cd0200070061626364
			65666768696a6b6c6d6e6f7071727374 01020201`,
		packet: `796b6963ffffffff333021696765746d f97ab2aa356d8edce17644ac8c78e25d
			d24dedbb29ebf1b64a274b39b49c3a86 4cd3d78ca4ae68a32b42458fb57dbe82
			1dcc63b9d0937ba2945f669368661a32 9fb4c053`,
	},
}

// TestGCMESPVectors reproduces the ESP packets of draft-mcgrew-gcm-test-01 with
// ENCR_AES_GCM_16: the SA's seal with the vector's IV gives the packet byte for byte
// (which checks padding, AAD with and without ESN, and the nonce), and open gives the
// plaintext back, both with the in-place cipher and with the registry's ike.Cipher.
func TestGCMESPVectors(t *testing.T) {
	for i, c := range gcmESPCases {
		key, nonce, plain, packet := unhex(t, c.key), unhex(t, c.nonce), unhex(t, c.plaintext), unhex(t, c.packet)
		seqBytes := unhex(t, c.seq)
		seq := uint64(binary.BigEndian.Uint32(seqBytes[len(seqBytes)-4:]))
		if len(seqBytes) == 8 {
			seq = binary.BigEndian.Uint64(seqBytes)
		}
		for _, viaRegistry := range []bool{false, true} {
			sa := &SA{SPI: binary.BigEndian.Uint32(unhex(t, c.spi)), Src: gwA, Dst: gwB, Mode: Tunnel,
				Encr: gcm16, EncrKeyBits: len(key) * 8, EncrKey: append(key, nonce[:4]...), ESN: len(seqBytes) == 8}
			if err := sa.Init(); err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			if sa.fast == nil {
				t.Fatalf("case %d: no in-place cipher for %s", i, gcm16.Name)
			}
			if viaRegistry {
				sa.fast = nil
			}
			nh, padLen := plain[len(plain)-1], int(plain[len(plain)-2])
			payload := plain[:len(plain)-2-padLen]
			n, _ := sa.espLen(len(payload))
			esp := make([]byte, n)
			if err := sa.seal(esp, seq, payload, nh, nonce[4:]); err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			if !bytes.Equal(esp, packet) {
				t.Errorf("case %d (registry cipher %v): seal\n got %x\nwant %x", i, viaRegistry, esp, packet)
			}
			o, err := sa.open(nil, packet, seq)
			if err != nil {
				t.Fatalf("case %d: open: %v", i, err)
			}
			if !bytes.Equal(o.plain, plain) || o.nextHeader != nh || !bytes.Equal(o.payload(), payload) {
				t.Errorf("case %d: open gave %x (next header %d)", i, o.plain, o.nextHeader)
			}
		}
	}
}

// TestAEADCipherMatchesRegistry checks the in-place AEAD ciphers against the registry's
// ike.Cipher of the same transform: each opens what the other sealed, and both seal to
// the same bytes.
func TestAEADCipherMatchesRegistry(t *testing.T) {
	n := 0
	for _, e := range ike.EncrAlgs() {
		for _, bits := range e.KeyBits {
			keymat := make([]byte, e.KeyBytes(bits))
			seeded(3).Read(keymat)
			reg, err := e.New(keymat)
			if err != nil {
				t.Fatal(err)
			}
			fast := newAEADCipher(e, reg)
			if fast == nil {
				continue
			}
			n++
			iv, aad, plain := []byte("8 bytes!"), []byte("spi+seq!"), bytes.Repeat([]byte("ESP"), 100)
			a := fast.AppendSeal(nil, iv, plain, aad)
			if b := reg.Seal(iv, plain, aad); !bytes.Equal(a, b) {
				t.Errorf("%s/%d: in-place seal differs from the registry's", e.Name, bits)
			}
			if p, err := reg.Open(iv, a, aad); err != nil || !bytes.Equal(p, plain) {
				t.Errorf("%s/%d: registry cannot open: %v", e.Name, bits, err)
			}
			a[0] ^= 1
			if _, err := fast.AppendOpen(nil, iv, a, aad); err == nil {
				t.Errorf("%s/%d: a flipped bit opened", e.Name, bits)
			}
		}
	}
	if n < 7 { // AES-GCM-12 and -16 with three key sizes, ChaCha20-Poly1305
		t.Errorf("only %d transforms have an in-place cipher", n)
	}
}

// TestAEADCipherSharesRegistryAEAD: an ESP SA with an AEAD transform keys its cipher
// once; the in-place form seals with the registry cipher's own AEAD.
func TestAEADCipherSharesRegistryAEAD(t *testing.T) {
	for _, e := range []*ike.EncrAlg{gcm16, ike.Encr(ike.ENCR_CHACHA20_POLY1305)} {
		keymat := make([]byte, e.KeyBytes(e.KeyBits[len(e.KeyBits)-1]))
		seeded(4).Read(keymat)
		sa := &SA{SPI: 1, Src: gwA, Dst: gwB, Mode: Tunnel, Encr: e, EncrKeyBits: e.KeyBits[len(e.KeyBits)-1], EncrKey: keymat}
		if err := sa.Init(); err != nil {
			t.Fatal(err)
		}
		fast, ok := sa.fast.(*aeadCipher)
		under, ok2 := sa.cipher.(interface{ AEAD() (cipher.AEAD, []byte) })
		if !ok || !ok2 {
			t.Fatalf("%s: in-place cipher %T, registry cipher %T", e.Name, sa.fast, sa.cipher)
		}
		if aead, _ := under.AEAD(); fast.aead != aead {
			t.Errorf("%s: the in-place cipher keyed an AEAD of its own", e.Name)
		}
	}
}
