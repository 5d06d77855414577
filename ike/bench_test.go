package ike

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"testing"
)

// Baselines other packages' benchmarks compare against: the bare standard-library cost
// of what a handshake and a packet need. Run with
//
//	go test ./ike/ -run '^$' -bench 'X25519Pair|AESGCM1400'

// BenchmarkX25519Pair is one X25519 key exchange: two key generations, two shared
// secrets.
func BenchmarkX25519Pair(b *testing.B) {
	curve := ecdh.X25519()
	for b.Loop() {
		i, err := curve.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		r, err := curve.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := i.ECDH(r.PublicKey()); err != nil {
			b.Fatal(err)
		}
		if _, err := r.ECDH(i.PublicKey()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAESGCM1400 seals and opens 1400 bytes with AES-256-GCM.
func BenchmarkAESGCM1400(b *testing.B) {
	block, err := aes.NewCipher(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize())
	plain := make([]byte, 1400)
	buf := make([]byte, 0, len(plain)+aead.Overhead())
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		sealed := aead.Seal(buf[:0], nonce, plain, nil)
		if _, err := aead.Open(plain[:0], nonce, sealed, nil); err != nil {
			b.Fatal(err)
		}
	}
}
