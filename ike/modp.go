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

// generate draws a private exponent x from rand and returns it with g^x mod p.
func (g *modp) generate(rand io.Reader) (DHPrivate, error) {
	b := make([]byte, (g.expBits+7)/8)
	for range maxScalarDraws {
		if _, err := io.ReadFull(rand, b); err != nil {
			return nil, fmt.Errorf("ike: %s private value: %w", g.name, err)
		}
		x := new(big.Int).SetBytes(b)
		if x.Cmp(two) < 0 {
			continue
		}
		p := g.prime()
		pub := new(big.Int).Exp(two, x, p)
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
	z := new(big.Int).Exp(y, k.x, p)
	return z.FillBytes(make([]byte, size)), nil
}
