package ike

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
)

// NIST CAVS known-answer vectors for the IKEv2 KDF of SP 800-135, Section 4.2, in the
// CAVS response file's layout. The CAVS files themselves are not published in a
// repository; these cases are as other implementations ship them:
//
//   - [SHA-1] COUNT 0: the NIST CAVP "ikev2" case quoted by libreswan
//     (ike_alg_test_prf.c, "CAVP: IKEv2 key derivation with HMAC-SHA1").
//   - [SHA-1] COUNT 1: Cisco's FIPS KDF known-answer test (kdftest.c, test_ikev2_kdf).
//   - [SHA-224] and [SHA-256] COUNT 0: NIST's own ACVP server, test IKEv2Tests.cs
//     (usnistgov/ACVP-Server, crypto/test/NIST.CVP.Crypto.IKEv2.Tests).
//   - [SHA-256] COUNT 1: the NIST sample NSS ships (gtests, ike-sha256-vectors.h, cases
//     6 to 8), which gives SKEYSEED, DKM and SKEYSEED(Rekey) only.
//
// DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr); SK_d is its first hash-length bytes;
// DKM(Child SA) = prf+(SK_d, Ni | Nr); DKM(Child SA D-H) = prf+(SK_d, g^ir (new) | Ni | Nr);
// SKEYSEED(Rekey) = prf(SK_d, g^ir (new) | Ni | Nr).
const cavsIKEv2 = `
[SHA-1]

COUNT = 0
Ni = 32b50d5f4a3763f3
Nr = 9206a04b26564cb1
g^ir = 4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52
g^ir (new) = 863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330
SPIi = 34c9e7c188868785
SPIr = 3ff77d760d2b2199
SKEYSEED = a9a7b222b59f8f48645f28a1db5b5f5d7479cba7
DKM = a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002a2a63080e514a062768b76606f9fa5e992204fc5a670bde3f10d6b027113936a5c55b648a194ae587b0088d52204b702c979fa280870d2ed41efa9c549fd11198af1670b143d384bd275c5f594cf266b05ebadca855e4249520a441a81157435a7a56cc4
DKM(Child SA) = 8059e3ee8810e6c3a91bc8bcd2a7a41151b8d0e6ae239c7b38093ad85ef4c5811a8e7b5d1cdabd9560b2d5e092d1f24e2d4b85eccdf0ad0dc9abd94b51ee71814ca6dbc8bb51b6309f5b9545c7eb35cf5580b1e521a8fe20754a2d883ba0c2cf285f524aea6545b33106bc03e614296d319d41d4b50b3f510b1c0a22f3e664994d234cb4
DKM(Child SA D-H) = bb43244c1860ad65ee1e211ffe8bb3661750c8f89cb9f547df7f4fa61d37301628190e38c66232eab4b3ab14c400a5197dd3730ed4820a8a10394d51e1c0400052f63ebd36b0e7ef53aaed31eba4a5080d7d4b5666023a8bbb5ffb7857240f9a05884d1b7d2f933708450b7b3288f1fc863ab49fa901227cffc06e27899c7054d56fd74c
SKEYSEED(Rekey) = 63e81194946ebd05df7df5ebf5d8750056bf1f1d

COUNT = 1
Ni = 3651fef5c9c35e93
Nr = c09a8b90a3f04d59
g^ir = d084a30166a50fb7325c3960874a839449ef9741c2f4f947d0201dd8c1269273d79509f37e3ca3eb4fa2fe2a28254e289cd3f34dad4eb4df1a07685a4b8a94fa61e2491f7598b3ce65547ff133b3f63d1ac4175eaa695033f3cedb026a6873a36455172a8540b8a5d23a0143bed0390ee49b168269d75fffee9fb62be965993c
g^ir (new) = 52f00ab174c25d5b7139ae5ff4e8e9eddee5992d2e36adf8a559ffd90dab1442e4fbe429d320c0f33552a17d1557fa41ea70e8fb916c4fa27ed52b5f8ebd8461afa78f1159159a64055ac5f6319e29c28eae58cbc6847770f32c3fed1d04750484f854790f95e9ec01bc5bc461f24966462e359511329305038e94deb6dd42c2
SPIi = 8e5c3ae507221684
SPIr = b1f201bb155c3acd
SKEYSEED = cd2e8050137832245f1dbacc6e4f0a92f94d45d6
DKM = 6f1b12cad3cbe097b35430356d869d54cddb0198ec859174d53ceb92dddedbe2436db69f60977c58fa63bbb667f8d36920b109baae8f6c61a9ac49feda01843225d080ec5539d5881a25521ffb2a0a91874a9c0a27fcc2d717eb8963a9e3a89c7ab264757284c28cf8c3ca40576f4220b052b1fb8e9ad60ba3c80557323331a8cbb89f20
DKM(Child SA) = 4727dc0ef94eb326ce131cf282fb652faa638ad0ddae3786a11bcc0309876009f8c485de011ad962c5b1ca8a41ff8145445749079c5686e26ffebbc342f06981f3da745e11ca0976424d1f8caec623d59dc7186deb20a27b411d1dcb70a365440bf7de905088b0692e8addc094e18d1939bdb67e89798ca6b239e2ccb81c2409dac0106c
DKM(Child SA D-H) = b109c21ad4c0797768c1cec9e63554681e48f224bca7f23c20c4ea7041983451e9aa1d5408656c8a975ff1b9d9a12c75ffeb64bdecb30174664cccb4e14f1c377b7f6d1525af77c7092aac3e47f917ebae8297fb5539d2008ce830823a09cc197361d4a289c72745f6ce9fefe812be5bf55b3200fbb82e41a4a40877d3fe106db909707b
SKEYSEED(Rekey) = 3b03bce748c96d5e8306918d2ff89b68f0648da3

[SHA-224]

COUNT = 0
Ni = 1df77d01277c2e29deeaeb353e2c967b
Nr = ebff4bf4945f9734db7b3af4aa7ed796
g^ir = e2fcb85717960683ff1700d05718b182a5b0be7133a02ad5b0a4a270
g^ir (new) = 31c5534a6d2e30b97e4d12526166aae0cb8e1d40c630e506252074ca
SPIi = 48765233291b2a42
SPIr = f5a3ee5d92548a2a
SKEYSEED = 18ba6f5e429fb65e1ec26d90f929d67b8727e30f049f20ae66d56c9a
DKM = 370393be2f27d4b1dac17e8ab2ab1267985bdd38382a93a837caf1dbbe8cb0d313d2b6579eda3f552ae5e9a4d1f50d5e9285d8a6d8afbd398de5ab977383443af2a776618c80c52314d05f5faefbef95e1bf04bbe3879fe41d6f6ffd6d6a13b8853944f6c1201055abcec41005583a00269a301747f827e42eff906bf1f86d52fd3870c7
DKM(Child SA) = ab9ed337fd24bdfa7d493534ee958f0f187ed2927eb12e6ffc2b45b2469ec7f0420e325d865dda9e2dd86dc53b95f0ecd45a09125359f652f5d64b1dfa8f2dfc6c08209cad70e841546e64eaa900e8132beeb7b65f994e8934dd6834478ecd03658a691c4ab5bd1e27c5cff7eba343027065a17333574f914e334b1ef20b08e3293b29b0
DKM(Child SA D-H) = 87831a36e13eff758e1a961caa049cdf0696b9b939bc10a4f76857a04b6f0bfee01b2e54105d0a8bf2ae45bcc7f1e561e7001e9f58e6a747a4d6b930410d8dff677fbb09e22cbb89d7e19f0b9b2c7043471e11a2bbed576e2da738e7875575e4bfedfcf39730c36d78ce9656f50f0099786203128a20a80f5b4fbc145f12ccce3ff143dd
SKEYSEED(Rekey) = e7b26b386ccbd433d333a872d90cbf99b14fdab6b0e8717f5ff3965a

[SHA-256]

COUNT = 0
Ni = 0a58fea9c1d4fee2e74e1aad6fb02dd5f318eb127465a112be8dc3c04d5dba62eae708f9dc1b2362afd6ba4bda3cf5000f4979fbcbadbcfda9291593829c4e905c21db0c2ee15175ce77a8a0dadf25c7f175bc53fd91b636a9b3c50b203de9b9d6dc463dcb4048f101e26498ceaed3afbcd931394a7e099392dfff82e5d6fa85c2e8a8ab90ad363a66795dc32798847e405acd87988140f973058917273a6b0bafb962c75e2b1a21e79c08beeb82168bf8b4b57f3dce867bf7862a7b8acbc21be838021913daf64340c055ed17aaf7b6e1d0ca33ae890ddbdb83f4e615aad5e3bff58c3db70bac81a0dfbabe5391fc62bca4659e22a0741e01d8d06e67d9bb41
Nr = e4fdfa68df6171d9eaff8b7b5ad31e7c6098d259f3397c9854cbefe7449b0864c1df16ddece8b26567560f8d59182a44c19149c2d0d72606a160021ade3d23c7c6936c91a4b6bec37adf38cfc84b851c68dcee06f81306f63abbefc07e231e3058c49437a557df617eac01663593d2a3e594699284c0a35eae6931492ccb2a43db72a600a3899205d681d2b76b1280e456339bb10e0c584aecfdae31c77a4c40dbcb345f782ac32835d4c220c1e97254ded6a40075dd717b00b69c86a49e801773026536ae02d58a649827f1ba67610ee936dffd11c9d5a9156631916a0a0046ec0ba42f56f2a18de83d5d71a985b0cc9eec2c06b3d907ca58454419f374069d
g^ir = 9d469de41b4739c7dd01f19aa94f17e48150ae9dbede94832142db19
g^ir (new) = c2987b0767006c3b9aea491bfed1646a3d7194639492b8d45b23b383
SPIi = c8de93111750e409
SPIr = 32d51b33508997fa
SKEYSEED = eec13ac67c2e072abb684ab4e7b6ce3e7f400af8b96bed48e113497ed337f8d4
DKM = bc83518f63b762874ac57947cdfae33a8d9724df0b83ee4b6df38c23fc2ad829f4d70b5a68dd1f5a52416f09758638aedf919c09a17c5298cdb703bb75b1005cba0109739aaa4efd2fe7534c95ad05e546e4419931270eddcab68ac1589d7fde47f5b9e8d5b614cb24ec3caf515497a9e99ee6f1b318ff153b539ef071dcaff9b41945dcb780700d69e5dc888a91de195c52825badfd0ab4c33cec71ab5c2b4badefe5455455ce5d8ae91721a2091bcccc1514e69482c9c8da1d9f0f187eedda916393570a8c0a8dfabc26d8ed31e8ea47662515972a22d11d692bc1fac6395aecd82a01ab78daafcd6f3070b1201f158a19331b5d21ceee66fccd2ea37bc07648b9539a52dbf797af53e31a0e8706dd86cf5081ebabd095f281d23c222dd3bc5abf06869017ca8f751cafcc85abea6ba88c139d1f32a12f7f486cf57eae5d85551b97f3963616d8f597c70efa98c1e1fa369fb77a80b1ec5fe533890672c4551172eab1b7fd68ad08c4d4c69f2a867302065ca730aa6915bc2cfb6d93820977
DKM(Child SA) = c725012285d56e53244a9baaaf95abfca543708d333a3f3a86ba660e00edd4d489bcd631819fda0413382edd9f53d1ed718e056c2ad91d38de90f06cd434de70141d051c021e7ddd6e4137946b4770dca59a4decabdd866852eb557fdd995646613ff2923f5f23aa58c8fbd5ad52cf2eac9bda97faad5596695f4a747a0f1cc6a1f78b2181138fb19ac24574d2e6b3a40d6e688abb919a27d793b76568ec66bd099f6f476b705c1472d774a1516a11311b887688f36649e24227640ea8d8666b9f452217e7103b6f0a92b6adb8fbda650ba58d6ac13ac6f6b6361a5d1c44f1e9f22196c96295115c5d01a120e7265962d20353a049286908da776c2165f706a16f43d85fcd319f89c4386340bcb8ed10df38345cb68af719abaf997e9789a5f19a392dcecd78168ba282f0b30555c7a47031a3156d12d7158aa41b863b8394d30fec63120e89cbc5750eed7786f7d5961b1f2e6faca641ed776d2211bee757b68b77f94056172553715da9fbd1c9a8728f28a2f3c9714a4917490132562484cd
DKM(Child SA D-H) = 140a1f2a3c94318ece6edfa8c63f37d8d45982de8b6cbfe34011150db0253e34de3796d4aa579954a0bbf234794eb6e7ece2a8f91100f5507df4ee8e66c7813d4c0ff64d484a3494c54b0d9c605ea24234a49a010ce5c352feb9e1060c8c787229466296cdc9d11bb9d221ed2bb39544572464254ec02a0fbe777b07402c775eb6d3e53cd16214c707f851942cc7da92a811b6c5c82f29d9fc3751b0ebff9898fb14372402a6989ffb9cc32dfe7e2cea32fd882e09804d7fea34ce3b5eb6f303e095c48a452b0a3eccada81af22195ebbaad289aeabdab074c94e751496bde39d868ebf1d693f36d1c3c672bbb59c9f77aeb68de57d77da231b7f13d6d277f600c3d3086c4de7b3a59127f4cb9c118935574f30e1b7c88b52c8c3531fdbd38ee3d14c69e81803ced6e7501fa0180f6d110b648272002dc1ad5bf09dc83188011da1d48632e0d2453c8abdd8e9fd32a576aeb9ddfb0a024f674441c20a950d9bd8cd7b30933cc0d8e87b55e8aa9d913579b410417b3acc13c14bf73c457327873
SKEYSEED(Rekey) = 05f796c8df322a7e33283ae5fa2f376d8d5efa0ac3745fc548e430031424c121

COUNT = 1
Ni = 3f302be1abcb28e1
Nr = 8c332ee006064c9b
g^ir = 0f4d257d7a58fc4545c7d7a88119eee5d5c9690c5b4c989171d3abbfd99d1d29
g^ir (new) = 25f3b12d6f282739256e39bf54eda53b60ffcf379bb7bcc90c27b4c4c578616c
SPIi = 40dac39e1e1a8640
SPIr = 8619a1cf9a6e4c07
SKEYSEED = 5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe
DKM = 0b137d669b0947d7d026d593f0305ad401ff0c471357d695778a9c7f4b4869ece98aca531188d16041b3bb936d2dbb3b4993a6e768a809160de45d0283f273a6cdf6854379e31be72b8d3d1fa990cf9c5b015ca9f918a7df6253c958114a09d4e1c19bdcd4db14b29d98db1a74ad405c588662c14a04d0d36aa4ab55e90f8986d12d4aad
SKEYSEED(Rekey) = 2d63f6debc92048b4fef3889c4c99ca67d6496e0fac14a2bca9a2d6566ff2398
`

// cavsCase is one COUNT of a CAVS response file: its hash (the first "[...]" line of
// its section) and its fields.
type cavsCase struct {
	hash   string
	fields map[string]string
}

// parseCAVS reads the "[section]", "KEY = value" and "#" lines of a CAVS response file.
// A section starts with its bracketed lines; a case ends at a blank line.
func parseCAVS(t *testing.T, text string) []cavsCase {
	t.Helper()
	var cases []cavsCase
	var section []string
	cur := cavsCase{fields: map[string]string{}}
	inCase, hadCase := false, false
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			if inCase && line == "" {
				cases = append(cases, cur)
				cur, inCase, hadCase = cavsCase{fields: map[string]string{}}, false, true
			}
		case strings.HasPrefix(line, "["):
			if inCase {
				t.Fatalf("section line %q inside a case", line)
			}
			if hadCase {
				section, hadCase = nil, false // the first bracket line after a case starts a section
			}
			section = append(section, strings.Trim(line, "[]"))
		default:
			k, v, ok := strings.Cut(line, " = ")
			if !ok || len(section) == 0 {
				t.Fatalf("bad CAVS line %q", line)
			}
			cur.hash, cur.fields[k], inCase = section[0], v, true
		}
	}
	if inCase {
		cases = append(cases, cur)
	}
	return cases
}

// cavsPRF maps a CAVS hash name to the PRF registry, or for SHA-224, which IKEv2 has no
// PRF for, to a local HMAC-SHA-224.
func cavsPRF(t *testing.T, hash string) *PRFAlg {
	switch hash {
	case "SHA-1":
		return PRF(PRF_HMAC_SHA1)
	case "SHA-224":
		return &PRFAlg{Name: "HMAC-SHA-224", Size: sha256.Size224, KeySize: sha256.Size224,
			Sum: func(key, data []byte) []byte {
				m := hmac.New(sha256.New224, key)
				m.Write(data)
				return m.Sum(nil)
			}}
	case "SHA-256":
		return PRF(PRF_HMAC_SHA2_256)
	case "SHA-384":
		return PRF(PRF_HMAC_SHA2_384)
	case "SHA-512":
		return PRF(PRF_HMAC_SHA2_512)
	}
	t.Fatalf("no PRF for CAVS hash %q", hash)
	return nil
}

func TestCAVSIKEv2KDF(t *testing.T) {
	cases := parseCAVS(t, cavsIKEv2)
	if len(cases) != 5 {
		t.Fatalf("parsed %d cases, want 5", len(cases))
	}
	for _, c := range cases {
		prf := cavsPRF(t, c.hash)
		f := func(k string) []byte { return unhex(t, c.fields[k]) }
		name := c.hash + " COUNT " + c.fields["COUNT"]
		Ni, Nr, gir, girNew := f("Ni"), f("Nr"), f("g^ir"), f("g^ir (new)")

		skeyseed := SKEYSEED(prf, Ni, Nr, gir)
		if !bytes.Equal(skeyseed, f("SKEYSEED")) {
			t.Errorf("%s: SKEYSEED = %x", name, skeyseed)
		}
		dkm := f("DKM")
		seed := concat(Ni, Nr, f("SPIi"), f("SPIr"))
		if got := PRFPlus(prf, skeyseed, seed, len(dkm)); !bytes.Equal(got, dkm) {
			t.Errorf("%s: DKM = %x", name, got)
		}
		SKd := dkm[:prf.KeySize]
		if want, ok := c.fields["DKM(Child SA)"]; ok {
			if got := ChildKeymat(prf, SKd, nil, Ni, Nr, len(want)/2); !bytes.Equal(got, unhex(t, want)) {
				t.Errorf("%s: DKM(Child SA) = %x", name, got)
			}
		}
		if want, ok := c.fields["DKM(Child SA D-H)"]; ok {
			if got := ChildKeymat(prf, SKd, girNew, Ni, Nr, len(want)/2); !bytes.Equal(got, unhex(t, want)) {
				t.Errorf("%s: DKM(Child SA D-H) = %x", name, got)
			}
		}
		if got := RekeySKEYSEED(prf, SKd, girNew, Ni, Nr); !bytes.Equal(got, f("SKEYSEED(Rekey)")) {
			t.Errorf("%s: SKEYSEED(Rekey) = %x", name, got)
		}
	}
}

// TestDeriveIKEKeysSplit checks DeriveIKEKeys against the CAVS SHA-1 DKM: with
// PRF_HMAC_SHA1, AUTH_HMAC_SHA1_96 and 128-bit AES-CBC the seven keys take
// 20+20+20+16+16+20+20 = 132 bytes, exactly the vector's DKM, in RFC 7296's order.
func TestDeriveIKEKeysSplit(t *testing.T) {
	c := parseCAVS(t, cavsIKEv2)[0]
	f := func(k string) []byte { return unhex(t, c.fields[k]) }
	spi := func(k string) uint64 {
		var v uint64
		for _, b := range f(k) {
			v = v<<8 | uint64(b)
		}
		return v
	}
	keys := DeriveIKEKeys(PRF(PRF_HMAC_SHA1), f("SKEYSEED"), f("Ni"), f("Nr"), spi("SPIi"), spi("SPIr"),
		Encr(ENCR_AES_CBC), 128, Integ(AUTH_HMAC_SHA1_96))
	got := concat(keys.SKd, keys.SKai, keys.SKar, keys.SKei, keys.SKer, keys.SKpi, keys.SKpr)
	if !bytes.Equal(got, f("DKM")) {
		t.Errorf("keys = %x\nwant  %s", got, c.fields["DKM"])
	}
	ai := bytes.Clone(keys.SKai)
	_ = append(keys.SKd, 0xff) // must not run into SK_ai
	if !bytes.Equal(keys.SKai, ai) {
		t.Error("appending to SK_d overwrote SK_ai")
	}
	for name, k := range map[string][]byte{"SK_d": keys.SKd, "SK_ai": keys.SKai, "SK_ei": keys.SKei, "SK_pr": keys.SKpr} {
		if want := map[string]int{"SK_d": 20, "SK_ai": 20, "SK_ei": 16, "SK_pr": 20}[name]; len(k) != want {
			t.Errorf("%s is %d bytes, want %d", name, len(k), want)
		}
	}
}

// TestDeriveIKEKeysAEAD checks the lengths with an AEAD cipher: no integrity keys, and
// encryption keys carrying the 4-byte salt (RFC 5282, Section 7.1).
func TestDeriveIKEKeysAEAD(t *testing.T) {
	keys := DeriveIKEKeys(PRF(PRF_HMAC_SHA2_384), []byte("skeyseed"), []byte("Ni"), []byte("Nr"), 1, 2,
		Encr(ENCR_AES_GCM_16), 256, nil)
	if len(keys.SKai) != 0 || len(keys.SKar) != 0 || len(keys.SKei) != 36 || len(keys.SKer) != 36 ||
		len(keys.SKd) != 48 || len(keys.SKpi) != 48 || len(keys.SKpr) != 48 {
		t.Errorf("key lengths d=%d ai=%d ar=%d ei=%d er=%d pi=%d pr=%d", len(keys.SKd), len(keys.SKai),
			len(keys.SKar), len(keys.SKei), len(keys.SKer), len(keys.SKpi), len(keys.SKpr))
	}
	if bytes.Equal(keys.SKei, keys.SKer) || bytes.Equal(keys.SKpi, keys.SKpr) {
		t.Error("initiator and responder keys are equal")
	}
}

// TestSKEYSEEDFixedKeyPRF checks RFC 7296, Section 2.14's rule for AES-XCBC-PRF-128: only
// the first 64 bits of Ni and of Nr key SKEYSEED, while prf+ still takes all of them.
func TestSKEYSEEDFixedKeyPRF(t *testing.T) {
	Ni := unhex(t, "000102030405060708090a0b0c0d0e0f1011121314151617")
	Nr := unhex(t, "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7")
	gir := bytes.Repeat([]byte{0x42}, 256)
	// AES-CMAC-PRF-128 too: RFC 7296 limits its key to 128 bits here, and strongSwan
	// derives so.
	cmac := PRF(PRF_AES128_CMAC)
	if got, want := SKEYSEED(cmac, Ni, Nr, gir), cmacPRF(concat(Ni[:8], Nr[:8]), gir); !bytes.Equal(got, want) {
		t.Errorf("AES-CMAC SKEYSEED = %x, want prf(Ni[0:8] | Nr[0:8], g^ir) = %x", got, want)
	}
	prf := PRF(PRF_AES128_XCBC)
	want := xcbcPRF(concat(Ni[:8], Nr[:8]), gir)
	if got := SKEYSEED(prf, Ni, Nr, gir); !bytes.Equal(got, want) {
		t.Errorf("SKEYSEED = %x, want prf(Ni[0:8] | Nr[0:8], g^ir) = %x", got, want)
	}
	Ni2 := bytes.Clone(Ni)
	Ni2[len(Ni2)-1] ^= 1
	if !bytes.Equal(SKEYSEED(prf, Ni2, Nr, gir), want) {
		t.Error("bits of Ni past the first 64 changed SKEYSEED")
	}
	// An HMAC PRF keys SKEYSEED with the whole nonces.
	if bytes.Equal(SKEYSEED(PRF(PRF_HMAC_SHA2_256), Ni2, Nr, gir), SKEYSEED(PRF(PRF_HMAC_SHA2_256), Ni, Nr, gir)) {
		t.Error("HMAC SKEYSEED ignored the end of Ni")
	}
	keys := DeriveIKEKeys(prf, want, Ni, Nr, 1, 2, Encr(ENCR_AES_CBC), 128, Integ(AUTH_AES_XCBC_96))
	keys2 := DeriveIKEKeys(prf, want, Ni2, Nr, 1, 2, Encr(ENCR_AES_CBC), 128, Integ(AUTH_AES_XCBC_96))
	if bytes.Equal(keys.SKd, keys2.SKd) {
		t.Error("prf+ ignored the end of Ni")
	}
}
