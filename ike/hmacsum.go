package ike

import (
	"hash"
	"sync"
)

// hmacScratch is a hash state and the buffers that one HMAC computation needs.
type hmacScratch struct {
	h   hash.Hash
	pad []byte // the key padded to the block size, XORed with ipad, then with opad
	sum []byte // the inner hash; a key longer than a block hashed
}

// hmacSum returns HMAC (RFC 2104) of data under key with the hash h makes, computed on
// hash states kept in a pool: the PRF of every key derivation and AUTH payload, where
// crypto/hmac.New would allocate two hash states and two padded keys each time. The
// result is the only allocation.
func hmacSum(h func() hash.Hash) func(key, data []byte) []byte {
	pool := sync.Pool{New: func() any {
		d := h()
		return &hmacScratch{h: d, pad: make([]byte, d.BlockSize()), sum: make([]byte, 0, d.Size())}
	}}
	return func(key, data []byte) []byte {
		s := pool.Get().(*hmacScratch)
		defer pool.Put(s)
		d := s.h
		if len(key) > len(s.pad) {
			d.Reset()
			d.Write(key)
			key = d.Sum(s.sum[:0])
		}
		clear(s.pad[copy(s.pad, key):])
		for i := range s.pad {
			s.pad[i] ^= 0x36
		}
		d.Reset()
		d.Write(s.pad)
		d.Write(data)
		inner := d.Sum(s.sum[:0])
		for i := range s.pad {
			s.pad[i] ^= 0x36 ^ 0x5c
		}
		d.Reset()
		d.Write(s.pad)
		d.Write(inner)
		return d.Sum(make([]byte, 0, d.Size()))
	}
}
