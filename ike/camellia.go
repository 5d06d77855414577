package ike

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Camellia (RFC 3713) as a cipher.Block, for ENCR_CAMELLIA_CBC (RFC 5529 for IKEv2,
// RFC 4312 for ESP and IKEv1). Neither the Go standard library nor x/crypto has
// Camellia, and no maintained Go module does; this is the RFC's description, tested
// with its Appendix A vectors and against OpenSSL. It is a table-based cipher, so not
// constant time: fine for a simulator, which this is.

const camelliaBlockSize = 16

// camelliaSigma are the key schedule constants Sigma1..Sigma6 (RFC 3713, Section 2.2).
var camelliaSigma = [6]uint64{
	0xA09E667F3BCC908B, 0xB67AE8584CAA73B2, 0xC6EF372FE94F82BE,
	0x54FF53A5F1D36F1C, 0x10E527FADE682D1D, 0xB05688C2B3E6C1FD,
}

// camelliaSBOX1 is SBOX1 of RFC 3713, Section 2.4.4; SBOX2, SBOX3 and SBOX4 derive
// from it.
var camelliaSBOX1 = [256]byte{
	112, 130, 44, 236, 179, 39, 192, 229, 228, 133, 87, 53, 234, 12, 174, 65,
	35, 239, 107, 147, 69, 25, 165, 33, 237, 14, 79, 78, 29, 101, 146, 189,
	134, 184, 175, 143, 124, 235, 31, 206, 62, 48, 220, 95, 94, 197, 11, 26,
	166, 225, 57, 202, 213, 71, 93, 61, 217, 1, 90, 214, 81, 86, 108, 77,
	139, 13, 154, 102, 251, 204, 176, 45, 116, 18, 43, 32, 240, 177, 132, 153,
	223, 76, 203, 194, 52, 126, 118, 5, 109, 183, 169, 49, 209, 23, 4, 215,
	20, 88, 58, 97, 222, 27, 17, 28, 50, 15, 156, 22, 83, 24, 242, 34,
	254, 68, 207, 178, 195, 181, 122, 145, 36, 8, 232, 168, 96, 252, 105, 80,
	170, 208, 160, 125, 161, 137, 98, 151, 84, 91, 30, 149, 224, 255, 100, 210,
	16, 196, 0, 72, 163, 247, 117, 219, 138, 3, 230, 218, 9, 63, 221, 148,
	135, 92, 131, 2, 205, 74, 144, 51, 115, 103, 246, 243, 157, 127, 191, 226,
	82, 155, 216, 38, 200, 55, 198, 59, 129, 150, 111, 75, 19, 190, 99, 46,
	233, 121, 167, 140, 159, 110, 188, 142, 41, 245, 249, 182, 47, 253, 180, 89,
	120, 152, 6, 106, 231, 70, 113, 186, 212, 37, 171, 66, 136, 162, 141, 250,
	114, 7, 185, 85, 248, 238, 172, 10, 54, 73, 42, 104, 60, 56, 241, 164,
	64, 40, 211, 123, 187, 201, 67, 193, 21, 227, 173, 244, 119, 199, 128, 158,
}

// camelliaSBOX holds SBOX1..SBOX4 (RFC 3713, Section 2.4.4): SBOX2 is SBOX1 rotated
// left by one bit, SBOX3 rotated left by seven, and SBOX4[x] is SBOX1[x <<< 1].
var camelliaSBOX = func() (s [4][256]byte) {
	for x := range 256 {
		v := camelliaSBOX1[x]
		s[0][x] = v
		s[1][x] = bits.RotateLeft8(v, 1)
		s[2][x] = bits.RotateLeft8(v, 7)
		s[3][x] = camelliaSBOX1[bits.RotateLeft8(byte(x), 1)]
	}
	return s
}()

// camelliaF is the F-function (RFC 3713, Section 2.4.1).
func camelliaF(in, ke uint64) uint64 {
	x := in ^ ke
	s := &camelliaSBOX
	t1 := uint64(s[0][byte(x>>56)])
	t2 := uint64(s[1][byte(x>>48)])
	t3 := uint64(s[2][byte(x>>40)])
	t4 := uint64(s[3][byte(x>>32)])
	t5 := uint64(s[1][byte(x>>24)])
	t6 := uint64(s[2][byte(x>>16)])
	t7 := uint64(s[3][byte(x>>8)])
	t8 := uint64(s[0][byte(x)])
	y1 := t1 ^ t3 ^ t4 ^ t6 ^ t7 ^ t8
	y2 := t1 ^ t2 ^ t4 ^ t5 ^ t7 ^ t8
	y3 := t1 ^ t2 ^ t3 ^ t5 ^ t6 ^ t8
	y4 := t2 ^ t3 ^ t4 ^ t5 ^ t6 ^ t7
	y5 := t1 ^ t2 ^ t6 ^ t7 ^ t8
	y6 := t2 ^ t3 ^ t5 ^ t7 ^ t8
	y7 := t3 ^ t4 ^ t5 ^ t6 ^ t8
	y8 := t1 ^ t4 ^ t5 ^ t6 ^ t7
	return y1<<56 | y2<<48 | y3<<40 | y4<<32 | y5<<24 | y6<<16 | y7<<8 | y8
}

// camelliaFL and camelliaFLINV are the FL- and FLINV-functions (RFC 3713, Sections
// 2.4.2 and 2.4.3).
func camelliaFL(in, ke uint64) uint64 {
	x1, x2 := uint32(in>>32), uint32(in)
	k1, k2 := uint32(ke>>32), uint32(ke)
	x2 ^= bits.RotateLeft32(x1&k1, 1)
	x1 ^= x2 | k2
	return uint64(x1)<<32 | uint64(x2)
}

func camelliaFLINV(in, ke uint64) uint64 {
	y1, y2 := uint32(in>>32), uint32(in)
	k1, k2 := uint32(ke>>32), uint32(ke)
	y1 ^= y2 | k2
	y2 ^= bits.RotateLeft32(y1&k1, 1)
	return uint64(y1)<<32 | uint64(y2)
}

// u128 is a 128-bit key schedule value, hi then lo.
type u128 struct{ hi, lo uint64 }

// rotl returns v <<< n.
func (v u128) rotl(n uint) u128 {
	n %= 128
	if n >= 64 {
		v = u128{v.lo, v.hi}
		n -= 64
	}
	if n == 0 {
		return v
	}
	return u128{v.hi<<n | v.lo>>(64-n), v.lo<<n | v.hi>>(64-n)}
}

// camellia is one key's schedule: kw1..kw4, k1..k18 (k24 for 192- and 256-bit keys)
// and ke1..ke4 (ke6), for encryption and, in reverse, for decryption.
type camellia struct {
	rounds   int // 18 or 24
	enc, dec camelliaKeys
}

type camelliaKeys struct {
	kw [4]uint64
	k  [24]uint64
	ke [6]uint64
}

// newCamellia makes the Camellia block cipher for a 16-, 24- or 32-byte key.
func newCamellia(key []byte) (cipher.Block, error) {
	var kl, kr u128
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("ike: Camellia key of %d bytes, want 16, 24 or 32", len(key))
	}
	// RFC 3713, Section 2.2: KL and KR.
	kl = u128{binary.BigEndian.Uint64(key), binary.BigEndian.Uint64(key[8:])}
	switch len(key) {
	case 24:
		r := binary.BigEndian.Uint64(key[16:])
		kr = u128{r, ^r}
	case 32:
		kr = u128{binary.BigEndian.Uint64(key[16:]), binary.BigEndian.Uint64(key[24:])}
	}
	// KA and KB.
	d1, d2 := kl.hi^kr.hi, kl.lo^kr.lo
	d2 ^= camelliaF(d1, camelliaSigma[0])
	d1 ^= camelliaF(d2, camelliaSigma[1])
	d1 ^= kl.hi
	d2 ^= kl.lo
	d2 ^= camelliaF(d1, camelliaSigma[2])
	d1 ^= camelliaF(d2, camelliaSigma[3])
	ka := u128{d1, d2}
	d1, d2 = ka.hi^kr.hi, ka.lo^kr.lo
	d2 ^= camelliaF(d1, camelliaSigma[4])
	d1 ^= camelliaF(d2, camelliaSigma[5])
	kb := u128{d1, d2}

	c := &camellia{}
	e := &c.enc
	// The subkeys (RFC 3713, Section 2.2), each the left or right half of a rotated
	// KL, KR, KA or KB, as (source, rotation) pairs per 128-bit pair of subkeys.
	type pair struct {
		src u128
		rot uint
	}
	set := func(dst []uint64, ps ...pair) {
		for i, p := range ps {
			v := p.src.rotl(p.rot)
			dst[2*i], dst[2*i+1] = v.hi, v.lo
		}
	}
	if len(key) == 16 {
		c.rounds = 18
		set(e.kw[:2], pair{kl, 0})
		set(e.k[:8], pair{ka, 0}, pair{kl, 15}, pair{ka, 15}, pair{kl, 45})
		e.k[8] = ka.rotl(45).hi
		e.k[9] = kl.rotl(60).lo
		set(e.k[10:18], pair{ka, 60}, pair{kl, 94}, pair{ka, 94}, pair{kl, 111})
		set(e.ke[:4], pair{ka, 30}, pair{kl, 77})
		set(e.kw[2:], pair{ka, 111})
	} else {
		c.rounds = 24
		set(e.kw[:2], pair{kl, 0})
		set(e.k[:], pair{kb, 0}, pair{kr, 15}, pair{ka, 15}, pair{kb, 30}, pair{kl, 45}, pair{ka, 45},
			pair{kr, 60}, pair{kb, 60}, pair{kl, 77}, pair{kr, 94}, pair{ka, 94}, pair{kl, 111})
		set(e.ke[:], pair{kr, 30}, pair{kl, 60}, pair{ka, 77})
		set(e.kw[2:], pair{kb, 111})
	}
	// Decryption is encryption with the subkeys in reverse order (RFC 3713, Section 2.3.3).
	d := &c.dec
	d.kw = [4]uint64{e.kw[2], e.kw[3], e.kw[0], e.kw[1]}
	for i := range c.rounds {
		d.k[i] = e.k[c.rounds-1-i]
	}
	nke := c.rounds/3 - 2
	for i := range nke {
		d.ke[i] = e.ke[nke-1-i]
	}
	return c, nil
}

func (c *camellia) BlockSize() int { return camelliaBlockSize }

func (c *camellia) Encrypt(dst, src []byte) { c.crypt(&c.enc, dst, src) }

func (c *camellia) Decrypt(dst, src []byte) { c.crypt(&c.dec, dst, src) }

// crypt runs the data randomizing part (RFC 3713, Section 2.3): whitening, six rounds
// of F, FL and FLINV, six more rounds, and so on, and the final whitening.
func (c *camellia) crypt(k *camelliaKeys, dst, src []byte) {
	if len(src) < camelliaBlockSize || len(dst) < camelliaBlockSize {
		panic("ike: Camellia: input not a full block")
	}
	d1 := binary.BigEndian.Uint64(src) ^ k.kw[0]
	d2 := binary.BigEndian.Uint64(src[8:]) ^ k.kw[1]
	for i := 0; i < c.rounds; i += 2 {
		if i > 0 && i%6 == 0 {
			d1 = camelliaFL(d1, k.ke[i/3-2])
			d2 = camelliaFLINV(d2, k.ke[i/3-1])
		}
		d2 ^= camelliaF(d1, k.k[i])
		d1 ^= camelliaF(d2, k.k[i+1])
	}
	d2 ^= k.kw[2]
	d1 ^= k.kw[3]
	binary.BigEndian.PutUint64(dst, d2)
	binary.BigEndian.PutUint64(dst[8:], d1)
}
