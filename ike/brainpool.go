package ike

import (
	"fmt"
	"io"
	"math/big"
	"slices"
)

// The Brainpool groups of RFC 6954 (IKEv2 groups 27 to 30) on the curves
// brainpoolP224r1, P256r1, P384r1 and P512r1 of RFC 5639. Go's crypto/ecdh has no
// Brainpool curves, and crypto/elliptic's generic arithmetic assumes a = -3, which the
// r1 curves do not have; no maintained Go module has them either. So this is plain
// short Weierstrass arithmetic on math/big in Jacobian coordinates. It is not constant
// time: fine for a simulator. Key exchange data is x || y as for the ECP groups (RFC
// 6954, Section 2.2; RFC 5903, Section 7) and the shared secret is the x coordinate.

// curve is a short Weierstrass curve y^2 = x^3 + ax + b over GF(p) with a base point
// (x, y) of prime order n and cofactor 1.
type curve struct {
	name        string
	p, a, b, n  *big.Int
	gx, gy      *big.Int
	size        int // bytes of a field element
	orderTopBit int // bit length of n
}

func hexBig(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("ike: bad curve constant " + s)
	}
	return v
}

// brainpoolCurve makes a curve from the hex constants of RFC 5639, Section 3.
func brainpoolCurve(name, p, a, b, x, y, q string) *curve {
	c := &curve{name: name, p: hexBig(p), a: hexBig(a), b: hexBig(b), gx: hexBig(x), gy: hexBig(y), n: hexBig(q)}
	c.size = (c.p.BitLen() + 7) / 8
	c.orderTopBit = c.n.BitLen()
	return c
}

// RFC 5639, Sections 3.2, 3.4, 3.6 and 3.7: p, A, B, x, y, q of each curve.
var (
	brainpoolP224r1 = brainpoolCurve("brainpoolP224r1",
		"D7C134AA264366862A18302575D1D787B09F075797DA89F57EC8C0FF",
		"68A5E62CA9CE6C1C299803A6C1530B514E182AD8B0042A59CAD29F43",
		"2580F63CCFE44138870713B1A92369E33E2135D266DBB372386C400B",
		"0D9029AD2C7E5CF4340823B2A87DC68C9E4CE3174C1E6EFDEE12C07D",
		"58AA56F772C0726F24C6B89E4ECDAC24354B9E99CAA3F6D3761402CD",
		"D7C134AA264366862A18302575D0FB98D116BC4B6DDEBCA3A5A7939F")
	brainpoolP256r1 = brainpoolCurve("brainpoolP256r1",
		"A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377",
		"7D5A0975FC2C3057EEF67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9",
		"26DC5C6CE94A4B44F330B5D9BBD77CBF958416295CF7E1CE6BCCDC18FF8C07B6",
		"8BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262",
		"547EF835C3DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F046997",
		"A9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7")
	brainpoolP384r1 = brainpoolCurve("brainpoolP384r1",
		"8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B412B1DA197FB71123ACD3A729901D1A71874700133107EC53",
		"7BC382C63D8C150C3C72080ACE05AFA0C2BEA28E4FB22787139165EFBA91F90F8AA5814A503AD4EB04A8C7DD22CE2826",
		"04A8C7DD22CE28268B39B55416F0447C2FB77DE107DCD2A62E880EA53EEB62D57CB4390295DBC9943AB78696FA504C11",
		"1D1C64F068CF45FFA2A63A81B7C13F6B8847A3E77EF14FE3DB7FCAFE0CBD10E8E826E03436D646AAEF87B2E247D4AF1E",
		"8ABE1D7520F9C2A45CB1EB8E95CFD55262B70B29FEEC5864E19C054FF99129280E4646217791811142820341263C5315",
		"8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B31F166E6CAC0425A7CF3AB6AF6B7FC3103B883202E9046565")
	brainpoolP512r1 = brainpoolCurve("brainpoolP512r1",
		"AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA703308717D4D9B009BC66842AECDA12AE6A380E62881FF2F2D82C68528AA6056583A48F3",
		"7830A3318B603B89E2327145AC234CC594CBDD8D3DF91610A83441CAEA9863BC2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72BF2C7B9E7C1AC4D77FC94CA",
		"3DF91610A83441CAEA9863BC2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72BF2C7B9E7C1AC4D77FC94CADC083E67984050B75EBAE5DD2809BD638016F723",
		"81AEE4BDD82ED9645A21322E9C4C6A9385ED9F70B5D916C1B43B62EEF4D0098EFF3B1F78E2D0D48D50D1687B93B97D5F7C6D5047406A5E688B352209BCB9F822",
		"7DDE385D566332ECC0EABFA9CF7822FDF209F70024A57B1AA000C55B881F8111B2DCDE494A5F485E5BCA4BD88A2763AED1CA2B2FA8F0540678CD1E0F3AD80892",
		"AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA70330870553E5C414CA92619418661197FAC10471DB1D381085DDADDB58796829CA90069")
)

// jacobian is a point (X : Y : Z) standing for the affine (X/Z^2, Y/Z^3); Z = 0 is the
// point at infinity.
type jacobian struct{ x, y, z *big.Int }

func (c *curve) mod(v *big.Int) *big.Int { return v.Mod(v, c.p) }

// double returns 2P (the "dbl-2007-bl" formulas for any a).
func (c *curve) double(p jacobian) jacobian {
	if p.z.Sign() == 0 || p.y.Sign() == 0 {
		return jacobian{big.NewInt(1), big.NewInt(1), new(big.Int)}
	}
	xx := c.mod(new(big.Int).Mul(p.x, p.x))
	yy := c.mod(new(big.Int).Mul(p.y, p.y))
	yyyy := c.mod(new(big.Int).Mul(yy, yy))
	zz := c.mod(new(big.Int).Mul(p.z, p.z))
	s := c.mod(new(big.Int).Mul(new(big.Int).Lsh(p.x, 2), yy))
	m := new(big.Int).Mul(xx, big.NewInt(3))
	m.Add(m, new(big.Int).Mul(c.a, c.mod(new(big.Int).Mul(zz, zz))))
	c.mod(m)
	x3 := new(big.Int).Mul(m, m)
	x3.Sub(x3, new(big.Int).Lsh(s, 1))
	c.mod(x3)
	y3 := new(big.Int).Sub(s, x3)
	y3.Mul(y3, m)
	y3.Sub(y3, new(big.Int).Lsh(yyyy, 3))
	c.mod(y3)
	z3 := new(big.Int).Mul(p.y, p.z)
	z3.Lsh(z3, 1)
	return jacobian{x3, y3, c.mod(z3)}
}

// add returns P + Q.
func (c *curve) add(p, q jacobian) jacobian {
	if p.z.Sign() == 0 {
		return q
	}
	if q.z.Sign() == 0 {
		return p
	}
	z1z1 := c.mod(new(big.Int).Mul(p.z, p.z))
	z2z2 := c.mod(new(big.Int).Mul(q.z, q.z))
	u1 := c.mod(new(big.Int).Mul(p.x, z2z2))
	u2 := c.mod(new(big.Int).Mul(q.x, z1z1))
	s1 := c.mod(new(big.Int).Mul(p.y, c.mod(new(big.Int).Mul(q.z, z2z2))))
	s2 := c.mod(new(big.Int).Mul(q.y, c.mod(new(big.Int).Mul(p.z, z1z1))))
	if u1.Cmp(u2) == 0 {
		if s1.Cmp(s2) == 0 {
			return c.double(p)
		}
		return jacobian{big.NewInt(1), big.NewInt(1), new(big.Int)}
	}
	h := c.mod(new(big.Int).Sub(u2, u1))
	r := c.mod(new(big.Int).Sub(s2, s1))
	hh := c.mod(new(big.Int).Mul(h, h))
	hhh := c.mod(new(big.Int).Mul(hh, h))
	v := c.mod(new(big.Int).Mul(u1, hh))
	x3 := new(big.Int).Mul(r, r)
	x3.Sub(x3, hhh)
	x3.Sub(x3, new(big.Int).Lsh(v, 1))
	c.mod(x3)
	y3 := new(big.Int).Sub(v, x3)
	y3.Mul(y3, r)
	y3.Sub(y3, new(big.Int).Mul(s1, hhh))
	c.mod(y3)
	z3 := c.mod(new(big.Int).Mul(new(big.Int).Mul(p.z, q.z), h))
	return jacobian{x3, y3, z3}
}

// scalarMult returns k(x, y) in affine coordinates, or ok false for the point at
// infinity.
func (c *curve) scalarMult(x, y, k *big.Int) (rx, ry *big.Int, ok bool) {
	base := jacobian{new(big.Int).Set(x), new(big.Int).Set(y), big.NewInt(1)}
	acc := jacobian{big.NewInt(1), big.NewInt(1), new(big.Int)}
	for i := k.BitLen() - 1; i >= 0; i-- {
		acc = c.double(acc)
		if k.Bit(i) == 1 {
			acc = c.add(acc, base)
		}
	}
	if acc.z.Sign() == 0 {
		return nil, nil, false
	}
	zinv := new(big.Int).ModInverse(acc.z, c.p)
	zinv2 := c.mod(new(big.Int).Mul(zinv, zinv))
	rx = c.mod(new(big.Int).Mul(acc.x, zinv2))
	ry = c.mod(new(big.Int).Mul(acc.y, c.mod(new(big.Int).Mul(zinv2, zinv))))
	return rx, ry, true
}

// onCurve reports whether 0 <= x, y < p and y^2 = x^3 + ax + b.
func (c *curve) onCurve(x, y *big.Int) bool {
	if x.Sign() < 0 || x.Cmp(c.p) >= 0 || y.Sign() < 0 || y.Cmp(c.p) >= 0 {
		return false
	}
	lhs := c.mod(new(big.Int).Mul(y, y))
	rhs := new(big.Int).Mul(x, x)
	rhs.Add(rhs, c.a)
	rhs.Mul(rhs, x)
	rhs.Add(rhs, c.b)
	return lhs.Cmp(c.mod(rhs)) == 0
}

func (c *curve) encode(x, y *big.Int) []byte {
	out := make([]byte, 2*c.size)
	x.FillBytes(out[:c.size])
	y.FillBytes(out[c.size:])
	return out
}

// brainpoolGroup makes an RFC 6954 group.
func brainpoolGroup(id uint16, name string, c *curve) *DHGroup {
	return &DHGroup{ID: id, Name: name, PublicSize: 2 * c.size,
		Generate: func(rand io.Reader) (DHPrivate, error) {
			b := make([]byte, (c.orderTopBit+7)/8)
			for range maxScalarDraws {
				if _, err := io.ReadFull(rand, b); err != nil {
					return nil, fmt.Errorf("ike: %s private value: %w", name, err)
				}
				if extra := len(b)*8 - c.orderTopBit; extra > 0 {
					b[0] &= 0xff >> extra
				}
				// Draw again for zero and for scalars not below the order, as for the
				// NIST curves, so that the same source always gives the same key.
				d := new(big.Int).SetBytes(b)
				if d.Sign() == 0 || d.Cmp(c.n) >= 0 {
					continue
				}
				x, y, _ := c.scalarMult(c.gx, c.gy, d)
				return &curvePrivate{name: name, c: c, d: d, pub: c.encode(x, y)}, nil
			}
			return nil, fmt.Errorf("ike: %s: no valid private value in %d draws from the random source",
				name, maxScalarDraws)
		}}
}

type curvePrivate struct {
	name string
	c    *curve
	d    *big.Int
	pub  []byte
}

func (k *curvePrivate) Public() []byte { return slices.Clone(k.pub) }

// Shared checks that peer is a point on the curve (RFC 6954, Section 2.2; RFC 6989,
// Section 2.3: the cofactor is 1, so any point on the curve but infinity is in the
// group) and returns the x coordinate of d * peer.
func (k *curvePrivate) Shared(peer []byte) ([]byte, error) {
	c := k.c
	if len(peer) != 2*c.size {
		return nil, fmt.Errorf("ike: %s key exchange data is %d bytes, want %d", k.name, len(peer), 2*c.size)
	}
	x, y := new(big.Int).SetBytes(peer[:c.size]), new(big.Int).SetBytes(peer[c.size:])
	if !c.onCurve(x, y) {
		return nil, fmt.Errorf("ike: %s peer value is not a point on %s", k.name, c.name)
	}
	zx, _, ok := c.scalarMult(x, y, k.d)
	if !ok {
		return nil, fmt.Errorf("ike: %s shared secret is the point at infinity", k.name)
	}
	return zx.FillBytes(make([]byte, c.size)), nil
}
