package ike

import (
	"fmt"
	"io"
	"math/big"
	"slices"
	"sync"
)

// The MODP groups of RFC 2409 (Section 6) and RFC 3526 all have generator 2 and a safe
// prime defined by a formula over the binary digits of pi:
//
//	p = 2^n - 2^(n-64) - 1 + 2^64 * ( [2^(n-130) pi] + k )
//
// where [x] is the integer part of x and k is the smallest offset that makes p a safe
// prime. ikesim computes each prime from that formula instead of carrying the hex
// (the test checks the results against the RFCs' hex and for primality).

// modp is one MODP group.
type modp struct {
	name    string
	bits    int // n, the bit length of p
	expBits int // bit length of private exponents
	prime   func() *big.Int
	// gen is the generator (2 when nil). order is q, the prime order of the subgroup gen
	// generates, for the groups of RFC 5114; nil for the safe-prime groups.
	gen, order *big.Int
}

// maxMODPBits is the largest prime size; pi is computed once to the precision it needs.
const maxMODPBits = 8192

// piBits returns [2^(maxMODPBits-130) pi], computed once.
var piBits = sync.OnceValue(func() *big.Int { return piFixed(maxMODPBits - 130) })

// piFixed returns [2^bits pi] from Machin's formula pi = 16 atan(1/5) - 4 atan(1/239),
// in fixed point with 64 guard bits against the truncation of each series term.
func piFixed(bits uint) *big.Int {
	const guard = 64
	one := new(big.Int).Lsh(big.NewInt(1), bits+guard)
	a := atanInv(5, one)
	a.Mul(a, big.NewInt(16))
	b := atanInv(239, one)
	b.Mul(b, big.NewInt(4))
	a.Sub(a, b)
	return a.Rsh(a, guard)
}

// atanInv returns atan(1/x) * one = sum over k of (-1)^k one / ((2k+1) x^(2k+1)).
func atanInv(x int64, one *big.Int) *big.Int {
	sum := new(big.Int)
	power := new(big.Int).Quo(one, big.NewInt(x)) // one / x^(2k+1)
	x2 := big.NewInt(x * x)
	term := new(big.Int)
	for k := int64(0); power.Sign() != 0; k++ {
		term.Quo(power, big.NewInt(2*k+1))
		if k%2 == 0 {
			sum.Add(sum, term)
		} else {
			sum.Sub(sum, term)
		}
		power.Quo(power, x2)
	}
	return sum
}

// modpPrime evaluates the formula above for an n-bit prime with offset k.
func modpPrime(n int, k int64) *big.Int {
	p := new(big.Int).Rsh(piBits(), uint(maxMODPBits-n)) // [2^(n-130) pi]
	p.Add(p, big.NewInt(k))
	p.Lsh(p, 64)
	p.Add(p, new(big.Int).Lsh(big.NewInt(1), uint(n)))
	p.Sub(p, new(big.Int).Lsh(big.NewInt(1), uint(n-64)))
	return p.Sub(p, big.NewInt(1))
}

// modpGroup makes a MODP group. Private exponents are expBits long: RFC 3526 (Section
// 8) asks for exponents of at least twice the group's strength, and the values here are
// the top of its ranges; for the 768 and 1024-bit groups it is 256 bits.
func modpGroup(id uint16, name string, bits int, k int64, expBits int, weak bool) *DHGroup {
	g := &modp{name: name, bits: bits, expBits: expBits}
	g.prime = sync.OnceValue(func() *big.Int { return modpPrime(bits, k) })
	return &DHGroup{ID: id, Name: name, PublicSize: bits / 8, Weak: weak, Generate: g.generate}
}

var two = big.NewInt(2)

// generate draws a private exponent x from rand and returns it with g^x mod p. In a
// group with a prime order subgroup, x is drawn below q (as strongSwan's gmp plugin
// does, with an exponent as long as q).
func (g *modp) generate(rand io.Reader) (DHPrivate, error) {
	b := make([]byte, (g.expBits+7)/8)
	for range maxScalarDraws {
		if _, err := io.ReadFull(rand, b); err != nil {
			return nil, fmt.Errorf("ike: %s private value: %w", g.name, err)
		}
		if extra := len(b)*8 - g.expBits; extra > 0 {
			b[0] &= 0xff >> extra
		}
		x := new(big.Int).SetBytes(b)
		if x.Cmp(two) < 0 || (g.order != nil && x.Cmp(g.order) >= 0) {
			continue
		}
		p := g.prime()
		gen := two
		if g.gen != nil {
			gen = g.gen
		}
		pub := new(big.Int).Exp(gen, x, p)
		return &modpPrivate{g: g, x: x, pub: pub.FillBytes(make([]byte, g.bits/8))}, nil
	}
	return nil, fmt.Errorf("ike: %s: no valid private value in %d draws from the random source",
		g.name, maxScalarDraws)
}

type modpPrivate struct {
	g   *modp
	x   *big.Int
	pub []byte
}

func (k *modpPrivate) Public() []byte { return slices.Clone(k.pub) }

// Shared checks the peer's value and returns g^ir, as long as the prime (RFC 7296,
// Section 2.14: padded with zeros at the front). The peer value must be as long as the
// prime (RFC 7296, Section 3.4) and lie in 1 < y < p-1, which rules out the subgroups
// of order 1 and 2 (RFC 6989, Section 2.1).
func (k *modpPrivate) Shared(peer []byte) ([]byte, error) {
	size := k.g.bits / 8
	if len(peer) != size {
		return nil, fmt.Errorf("ike: %s key exchange data is %d bytes, want %d", k.g.name, len(peer), size)
	}
	p := k.g.prime()
	y := new(big.Int).SetBytes(peer)
	pMinus1 := new(big.Int).Sub(p, big.NewInt(1))
	if y.Cmp(big.NewInt(1)) <= 0 || y.Cmp(pMinus1) >= 0 {
		return nil, fmt.Errorf("ike: %s peer value is out of range (it must lie in 1 < y < p-1)", k.g.name)
	}
	// RFC 6989, Section 2.2: in a group with small subgroups, y must lie in the
	// subgroup of order q, y^q = 1 mod p.
	if q := k.g.order; q != nil && new(big.Int).Exp(y, q, p).Cmp(big.NewInt(1)) != 0 {
		return nil, fmt.Errorf("ike: %s peer value is not in the prime order subgroup (y^q mod p != 1)", k.g.name)
	}
	z := new(big.Int).Exp(y, k.x, p)
	return z.FillBytes(make([]byte, size)), nil
}

// The MODP groups with prime order subgroups of RFC 5114, Section 2 (p, g and q as the
// RFC gives them in hex). RFC 8247 advises against them; ikesim offers them because
// strongSwan and Wireshark do, and marks them weak.
var rfc5114Groups = []struct {
	id      uint16
	name    string
	p, g, q string
}{
	{MODP_1024_160, "MODP_1024_160",
		"B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B61" +
			"6073E28675A23D189838EF1E2EE652C013ECB4AEA906112324975C3CD49B83BF" +
			"ACCBDD7D90C4BD7098488E9C219A73724EFFD6FAE5644738FAA31A4FF55BCCC0" +
			"A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708DF1FB2BC2E4A4371",
		"A4D1CBD5C3FD34126765A442EFB99905F8104DD258AC507FD6406CFF14266D31" +
			"266FEA1E5C41564B777E690F5504F213160217B4B01B886A5E91547F9E2749F4" +
			"D7FBD7D3B9A92EE1909D0D2263F80A76A6A24C087A091F531DBF0A0169B6A28A" +
			"D662A4D18E73AFA32D779D5918D08BC8858F4DCEF97C2A24855E6EEB22B3B2E5",
		"F518AA8781A8DF278ABA4E7D64B7CB9D49462353"},
	{MODP_2048_224, "MODP_2048_224",
		"AD107E1E9123A9D0D660FAA79559C51FA20D64E5683B9FD1B54B1597B61D0A75" +
			"E6FA141DF95A56DBAF9A3C407BA1DF15EB3D688A309C180E1DE6B85A1274A0A6" +
			"6D3F8152AD6AC2129037C9EDEFDA4DF8D91E8FEF55B7394B7AD5B7D0B6C12207" +
			"C9F98D11ED34DBF6C6BA0B2C8BBC27BE6A00E0A0B9C49708B3BF8A3170918836" +
			"81286130BC8985DB1602E714415D9330278273C7DE31EFDC7310F7121FD5A074" +
			"15987D9ADC0A486DCDF93ACC44328387315D75E198C641A480CD86A1B9E587E8" +
			"BE60E69CC928B2B9C52172E413042E9B23F10B0E16E79763C9B53DCF4BA80A29" +
			"E3FB73C16B8E75B97EF363E2FFA31F71CF9DE5384E71B81C0AC4DFFE0C10E64F",
		"AC4032EF4F2D9AE39DF30B5C8FFDAC506CDEBE7B89998CAF74866A08CFE4FFE3" +
			"A6824A4E10B9A6F0DD921F01A70C4AFAAB739D7700C29F52C57DB17C620A8652" +
			"BE5E9001A8D66AD7C17669101999024AF4D027275AC1348BB8A762D0521BC98A" +
			"E247150422EA1ED409939D54DA7460CDB5F6C6B250717CBEF180EB34118E98D1" +
			"19529A45D6F834566E3025E316A330EFBB77A86F0C1AB15B051AE3D428C8F8AC" +
			"B70A8137150B8EEB10E183EDD19963DDD9E263E4770589EF6AA21E7F5F2FF381" +
			"B539CCE3409D13CD566AFBB48D6C019181E1BCFE94B30269EDFE72FE9B6AA4BD" +
			"7B5A0F1C71CFFF4C19C418E1F6EC017981BC087F2A7065B384B890D3191F2BFA",
		"801C0D34C58D93FE997177101F80535A4738CEBCBF389A99B36371EB"},
	{MODP_2048_256, "MODP_2048_256",
		"87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00" +
			"E00DF8F1D61957D4FAF7DF4561B2AA3016C3D91134096FAA3BF4296D830E9A7C" +
			"209E0C6497517ABD5A8A9D306BCF67ED91F9E6725B4758C022E0B1EF4275BF7B" +
			"6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C4FDB70C581B23F76" +
			"B63ACAE1CAA6B7902D52526735488A0EF13C6D9A51BFA4AB3AD8347796524D8E" +
			"F6A167B5A41825D967E144E5140564251CCACB83E6B486F6B3CA3F7971506026" +
			"C0B857F689962856DED4010ABD0BE621C3A3960A54E710C375F26375D7014103" +
			"A4B54330C198AF126116D2276E11715F693877FAD7EF09CADB094AE91E1A1597",
		"3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA125" +
			"10DBC15077BE463FFF4FED4AAC0BB555BE3A6C1B0C6B47B1BC3773BF7E8C6F62" +
			"901228F8C28CBB18A55AE31341000A650196F931C77A57F2DDF463E5E9EC144B" +
			"777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC831D14348F6F2F9193" +
			"B5045AF2767164E1DFC967C1FB3F2E55A4BD1BFFE83B9C80D052B985D182EA0A" +
			"DB2A3B7313D3FE14C8484B1E052588B9B7D2BBD2DF016199ECD06E1557CD0915" +
			"B3353BBB64E0EC377FD028370DF92B52C7891428CDC67EB6184B523D1DB246C3" +
			"2F63078490F00EF8D647D148D47954515E2327CFEF98C582664B4C0F6CC41659",
		"8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3"},
}

// rfc5114Group makes one of the groups of RFC 5114 from its table entry.
func rfc5114Group(id uint16) *DHGroup {
	for _, e := range rfc5114Groups {
		if e.id != id {
			continue
		}
		hexInt := func(s string) *big.Int {
			v, ok := new(big.Int).SetString(s, 16)
			if !ok {
				panic("ike: bad RFC 5114 constant for " + e.name)
			}
			return v
		}
		p, q := hexInt(e.p), hexInt(e.q)
		g := &modp{name: e.name, bits: p.BitLen(), expBits: q.BitLen(), gen: hexInt(e.g), order: q,
			prime: func() *big.Int { return p }}
		return &DHGroup{ID: id, Name: e.name, PublicSize: p.BitLen() / 8, Weak: true, Generate: g.generate}
	}
	panic(fmt.Sprintf("ike: no RFC 5114 group %d", id))
}
