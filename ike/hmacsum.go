package ike

import (
	"hash"
	"sync"
)

// hmacPool computes HMAC (RFC 2104) with one hash function on hash states kept in a
// pool: the PRF of every key derivation and AUTH payload, prf+ and the ICV of every SK
// payload, where crypto/hmac.New would allocate two hash states and two padded keys
// each time. What it returns is its only allocation.
type hmacPool struct{ pool sync.Pool }

// hmacScratch is a hash state and the buffers of one HMAC computation.
type hmacScratch struct {
	h   hash.Hash
	pad []byte  // the key padded to the block size, XORed with ipad
	sum []byte  // the inner hash; a key longer than a block, hashed
	ctr [1]byte // prf+'s counter octet
}

func newHMACPool(h func() hash.Hash) *hmacPool {
	p := &hmacPool{}
	p.pool.New = func() any {
		d := h()
		return &hmacScratch{h: d, pad: make([]byte, d.BlockSize()), sum: make([]byte, 0, d.Size())}
	}
	return p
}

const hmacIpad, hmacOpad = 0x36, 0x5c

func xorBytes(b []byte, x byte) {
	for i := range b {
		b[i] ^= x
	}
}

// key sets the scratch's pad to the key XOR ipad.
func (s *hmacScratch) key(key []byte) {
	if len(key) > len(s.pad) {
		s.h.Reset()
		s.h.Write(key)
		key = s.h.Sum(s.sum[:0])
	}
	clear(s.pad[copy(s.pad, key):])
	xorBytes(s.pad, hmacIpad)
}

// begin starts the inner hash: what is written next is the message.
func (s *hmacScratch) begin() {
	s.h.Reset()
	s.h.Write(s.pad)
}

// end appends the HMAC of the message written since begin to dst, and leaves the pad
// as it was for the next begin.
func (s *hmacScratch) end(dst []byte) []byte {
	inner := s.h.Sum(s.sum[:0])
	xorBytes(s.pad, hmacIpad^hmacOpad)
	s.h.Reset()
	s.h.Write(s.pad)
	s.h.Write(inner)
	xorBytes(s.pad, hmacIpad^hmacOpad)
	return s.h.Sum(dst)
}

// Sum returns HMAC(key, data).
func (p *hmacPool) Sum(key, data []byte) []byte {
	s := p.pool.Get().(*hmacScratch)
	defer p.pool.Put(s)
	s.key(key)
	s.begin()
	s.h.Write(data)
	return s.end(make([]byte, 0, s.h.Size()))
}

// prfPlus appends prf+(key, seed) to out until it holds at least n bytes (RFC 7296,
// Section 2.13; PRFPlus).
func (p *hmacPool) prfPlus(out, key, seed []byte, n int) []byte {
	s := p.pool.Get().(*hmacScratch)
	defer p.pool.Put(s)
	s.key(key)
	var t []byte
	for i := 1; len(out) < n; i++ {
		s.begin()
		s.h.Write(t)
		s.h.Write(seed)
		s.ctr[0] = byte(i)
		s.h.Write(s.ctr[:])
		start := len(out)
		out = s.end(out)
		t = out[start:]
	}
	return out
}
