package ike

import (
	"bytes"
	"errors"
	"io"
	"math/big"
	"testing"
)

// TestDHAgreement runs both sides of every group from seeded sources.
func TestDHAgreement(t *testing.T) {
	for _, g := range DHGroups() {
		i, err := g.Generate(&countingReader{next: 1})
		if err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		r, err := g.Generate(&countingReader{next: 101})
		if err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		if len(i.Public()) != g.PublicSize || len(r.Public()) != g.PublicSize {
			t.Errorf("%s: public values of %d and %d bytes, PublicSize %d", g.Name, len(i.Public()), len(r.Public()), g.PublicSize)
		}
		zi, err1 := i.Shared(r.Public())
		zr, err2 := r.Shared(i.Public())
		if err1 != nil || err2 != nil || !bytes.Equal(zi, zr) {
			t.Errorf("%s: sides disagree: %x (%v) vs %x (%v)", g.Name, zi, err1, zr, err2)
		}
		if bytes.Equal(i.Public(), r.Public()) {
			t.Errorf("%s: different seeds gave the same public value", g.Name)
		}
		again, _ := g.Generate(&countingReader{next: 1})
		if !bytes.Equal(again.Public(), i.Public()) {
			t.Errorf("%s: the same seed gave a different public value", g.Name)
		}
	}
}

// TestDHBadPeer feeds each group peer values of the wrong length and out of range.
func TestDHBadPeer(t *testing.T) {
	for _, g := range DHGroups() {
		k, err := g.Generate(&countingReader{next: 7})
		if err != nil {
			t.Fatal(err)
		}
		pub := k.Public()
		bad := map[string][]byte{
			"short": pub[:len(pub)-1],
			"long":  append(bytes.Clone(pub), 0),
			"empty": nil,
		}
		switch {
		case g.ID == Curve25519 || g.ID == Curve448:
			bad["zero (low order)"] = make([]byte, g.PublicSize)
		case (g.ID >= ECP_256 && g.ID <= ECP_521) || (g.ID >= ECP_224_BP && g.ID <= ECP_512_BP):
			offCurve := bytes.Clone(pub)
			offCurve[len(offCurve)-1] ^= 1 // y changed: not on the curve
			bad["not on the curve"] = offCurve
			bad["zero point"] = make([]byte, len(pub))
		default:
			prime := dhPrime(t, g.ID)
			for name, y := range map[string]*big.Int{
				"0": big.NewInt(0), "1": big.NewInt(1),
				"p-1": new(big.Int).Sub(prime, big.NewInt(1)), "p": prime,
			} {
				bad[name] = y.FillBytes(make([]byte, g.PublicSize))
			}
		}
		for name, peer := range bad {
			if z, err := k.Shared(peer); err == nil {
				t.Errorf("%s: Shared accepted a %s peer value, gave %x", g.Name, name, z)
			}
		}
	}
}

// dhPrime returns the prime of a MODP group.
func dhPrime(t *testing.T, id uint16) *big.Int {
	t.Helper()
	k, err := DH(id).Generate(&countingReader{})
	if err != nil {
		t.Fatal(err)
	}
	return k.(*modpPrivate).g.prime()
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy ran dry") }

// TestDHGenerateErrors checks that a failing source is reported and that a source
// which only ever yields invalid scalars ends in an error instead of a loop.
func TestDHGenerateErrors(t *testing.T) {
	for _, g := range DHGroups() {
		if _, err := g.Generate(failingReader{}); err == nil {
			t.Errorf("%s: Generate ignored a read error", g.Name)
		}
		if _, err := g.Generate(io.LimitReader(&countingReader{}, 3)); err == nil {
			t.Errorf("%s: Generate accepted a short read", g.Name)
		}
	}
	// All-ones is above the order of P-256 and P-384; all-zero is below 2 for MODP.
	for id, r := range map[uint16]io.Reader{ECP_256: repeatReader(0xff), ECP_384: repeatReader(0xff), MODP_2048: repeatReader(0)} {
		if _, err := DH(id).Generate(r); err == nil {
			t.Errorf("%s: Generate made a key from invalid scalars", DH(id).Name)
		}
	}
}

// RFC 5903, Section 8: the test vectors of the 256, 384 and 521-bit random ECP groups.
// Feeding i and r as the random source makes Generate use them as private values.
var ecpVectors = []ecdhVector{
	{ECP_256,
		"c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
		"dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180",
		"5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
		"c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
		"d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63",
		"56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
		"d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"},
	{ECP_384,
		"099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655e35b538041e649ee3faef896783ab194",
		"667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f41aa",
		"9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c",
		"41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942e0308312916b8ed2960e4bd55a7448fc",
		"e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3571",
		"dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c",
		"11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59746"},
	{ECP_521,
		"0037ade9319a89f4dabdb3ef411aaccca5123c61acab57b5393dce47608172a095aa85a30fe1c2952c6771d937ba9777f5957b2639bab072462f68c27a57382d4a52",
		"0015417e84dbf28c0ad3c278713349dc7df153c897a1891bd98bab4357c9ecbee1e3bf42e00b8e380aeae57c2d107564941885942af5a7f4601723c4195d176ced3e",
		"017cae20b6641d2eeb695786d8c946146239d099e18e1d5a514c739d7cb4a10ad8a788015ac405d7799dc75e7b7d5b6cf2261a6a7f1507438bf01beb6ca3926f9582",
		"0145ba99a847af43793fdd0e872e7cdfa16be30fdc780f97bccc3f078380201e9c677d600b343757a3bdbf2a3163e4c2f869cca7458aa4a4effc311f5cb151685eb9",
		"00d0b3975ac4b799f5bea16d5e13e9af971d5e9b984c9f39728b5e5739735a219b97c356436adc6e95bb0352f6be64a6c2912d4ef2d0433ced2b6171640012d9460f",
		"015c68226383956e3bd066e797b623c27ce0eac2f551a10c2c724d9852077b87220b6536c5c408a1d2aebb8e86d678ae49cb57091f4732296579ab44fcd17f0fc56a",
		"01144c7d79ae6956bc8edb8e7c787c4521cb086fa64407f97894e5e6b2d79b04d1427e73ca4baa240a34786859810c06b3c715a3a8cc3151f2bee417996d19f3ddea"},
}

// ecdhVector is a key exchange between two private values i and r on an ECP group.
type ecdhVector struct {
	id                             uint16
	i, gix, giy, r, grx, gry, girx string
}

func TestECPVectors(t *testing.T) {
	for _, v := range append(ecpVectors, brainpoolVectors...) {
		g := DH(v.id)
		i, err := g.Generate(bytes.NewReader(unhex(t, v.i)))
		if err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		r, err := g.Generate(bytes.NewReader(unhex(t, v.r)))
		if err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		if want := unhex(t, v.gix+v.giy); !bytes.Equal(i.Public(), want) {
			t.Errorf("%s: g^i = %x, want %x", g.Name, i.Public(), want)
		}
		if want := unhex(t, v.grx+v.gry); !bytes.Equal(r.Public(), want) {
			t.Errorf("%s: g^r = %x, want %x", g.Name, r.Public(), want)
		}
		for side, k := range map[string]DHPrivate{"initiator": i, "responder": r} {
			peer := r.Public()
			if k == r {
				peer = i.Public()
			}
			if z, err := k.Shared(peer); err != nil || !bytes.Equal(z, unhex(t, v.girx)) {
				t.Errorf("%s %s: g^ir = %x, %v; want %s", g.Name, side, z, err, v.girx)
			}
		}
	}
}

// TestX25519Vector uses RFC 7748, Section 6.1 (Alice and Bob).
func TestX25519Vector(t *testing.T) {
	g := DH(Curve25519)
	alice, err := g.Generate(bytes.NewReader(unhex(t, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := g.Generate(bytes.NewReader(unhex(t, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")))
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{
		"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a": alice.Public(),
		"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f": bob.Public(),
	} {
		if !bytes.Equal(got, unhex(t, name)) {
			t.Errorf("public value %x, want %s", got, name)
		}
	}
	want := unhex(t, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
	za, _ := alice.Shared(bob.Public())
	zb, _ := bob.Shared(alice.Public())
	if !bytes.Equal(za, want) || !bytes.Equal(zb, want) {
		t.Errorf("shared secrets %x and %x, want %x", za, zb, want)
	}
}

// MODP primes as RFC 2409 (Sections 6.1, 6.2) and RFC 3526 (Section 3) print them.
const (
	rfc2409Group1 = `FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1
	29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD
	EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245
	E485B576 625E7EC6 F44C42E9 A63A3620 FFFFFFFF FFFFFFFF`
	rfc2409Group2 = `FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1
	29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD
	EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245
	E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
	EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE65381
	FFFFFFFF FFFFFFFF`
	rfc3526Group14 = `FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1
	29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD
	EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245
	E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
	EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D
	C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F
	83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D
	670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B
	E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9
	DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510
	15728E5A 8AACAA68 FFFFFFFF FFFFFFFF`
)

// TestMODPPrimes checks the primes computed from pi against the RFCs: in full where
// the hex is pasted above, by the last 16 bytes the RFCs print for the others, and for
// all of them that p and (p-1)/2 are prime, so 2 generates a large prime-order subgroup.
func TestMODPPrimes(t *testing.T) {
	for _, tc := range []struct {
		id   uint16
		full string
		tail string // the RFC's last 16 bytes
	}{
		{MODP_768, rfc2409Group1, "F44C42E9 A63A3620 FFFFFFFF FFFFFFFF"},
		{MODP_1024, rfc2409Group2, "49286651 ECE65381 FFFFFFFF FFFFFFFF"},
		{MODP_1536, "", "F1746C08 CA237327 FFFFFFFF FFFFFFFF"},
		{MODP_2048, rfc3526Group14, "8AACAA68 FFFFFFFF FFFFFFFF"},
		{MODP_3072, "", "4B82D120 A93AD2CA FFFFFFFF FFFFFFFF"},
		{MODP_4096, "", "4DF435C9 34063199 FFFFFFFF FFFFFFFF"},
		{MODP_6144, "", "E694F91E 6DCC4024 FFFFFFFF FFFFFFFF"},
		{MODP_8192, "", "60C980DD 98EDD3DF FFFFFFFF FFFFFFFF"},
	} {
		g := DH(tc.id)
		p := dhPrime(t, tc.id)
		b := p.FillBytes(make([]byte, g.PublicSize))
		if p.BitLen() != 8*g.PublicSize {
			t.Errorf("%s: prime of %d bits", g.Name, p.BitLen())
		}
		if tc.full != "" && !bytes.Equal(b, unhex(t, tc.full)) {
			t.Errorf("%s: prime differs from the RFC:\n%X", g.Name, b)
		}
		if tail := unhex(t, tc.tail); !bytes.HasSuffix(b, tail) {
			t.Errorf("%s: prime ends %X, the RFC's ends %X", g.Name, b[len(b)-len(tail):], tail)
		}
		q := new(big.Int).Rsh(p, 1)
		if !p.ProbablyPrime(0) || !q.ProbablyPrime(0) {
			t.Errorf("%s: not a safe prime", g.Name)
		}
	}
}

// TestPiBits checks the start of pi's binary expansion: pi = 3.243F6A8885A308D3... in hex.
func TestPiBits(t *testing.T) {
	got := new(big.Int).Rsh(piBits(), uint(maxMODPBits-130-62)) // [2^62 pi]
	if want, _ := new(big.Int).SetString("C90FDAA22168C234", 16); got.Cmp(want) != 0 {
		t.Errorf("[2^62 pi] = %X, want %X", got, want)
	}
}
