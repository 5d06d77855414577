package ipsec

import (
	"crypto/aes"
	"crypto/cipher"
	"testing"
)

// Run with:
//
//	go test ./ipsec/ -run '^$' -bench 1400 -benchmem -count 5
//
// BenchmarkESPSealOpen1400 protects and unprotects a 1400-byte IPv4 packet with
// ENCR_AES_GCM_16 and a 256-bit key in tunnel mode: "append" writes into reused buffers
// (AppendProtect, AppendUnprotect), as a forwarding loop would; "alloc" uses Protect and
// Unprotect, which allocate the outer and the inner packet. BenchmarkRawAESGCM1400 seals
// and opens the same 1400 bytes with the standard library's AES-256-GCM into reused
// buffers: the floor under ESP's headers, padding, replay window and checks.

func BenchmarkESPSealOpen1400(b *testing.B) {
	out, _, sad := newPair(b, saConfig{encr: gcm16, keyBits: 256, mode: Tunnel})
	inner := ping(b, 1, 1400-ipv4HeaderLen-icmpHeaderLen)
	if len(inner) != 1400 {
		b.Fatalf("inner packet is %d bytes", len(inner))
	}
	b.Run("append", func(b *testing.B) {
		var outer, got []byte
		b.SetBytes(int64(len(inner)))
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if outer, err = out.AppendProtect(outer[:0], inner); err != nil {
				b.Fatal(err)
			}
			if got, _, err = sad.AppendUnprotect(got[:0], outer); err != nil || len(got) != len(inner) {
				b.Fatal(err)
			}
		}
	})
	b.Run("alloc", func(b *testing.B) {
		b.SetBytes(int64(len(inner)))
		b.ReportAllocs()
		for b.Loop() {
			outer, err := out.Protect(inner)
			if err != nil {
				b.Fatal(err)
			}
			if got, _, err := sad.Unprotect(outer); err != nil || len(got) != len(inner) {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRawAESGCM1400(b *testing.B) {
	block, err := aes.NewCipher(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	plain := ping(b, 1, 1400-ipv4HeaderLen-icmpHeaderLen)
	nonce := make([]byte, aead.NonceSize())
	aad := make([]byte, 8)
	sealed := make([]byte, 0, len(plain)+aead.Overhead())
	opened := make([]byte, 0, len(plain))
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		sealed = aead.Seal(sealed[:0], nonce, plain, aad)
		if opened, err = aead.Open(opened[:0], nonce, sealed, aad); err != nil {
			b.Fatal(err)
		}
	}
}
