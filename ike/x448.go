package ike

import (
	"fmt"
	"io"
	"slices"

	"github.com/cloudflare/circl/dh/x448"
)

// Curve448 (RFC 8031, group 32): X448 of RFC 7748 from cloudflare/circl, which the
// standard library lacks. The KE payload carries the 56-byte u coordinate, and the
// shared secret is X448's output; an all-zero output (a low-order peer value) is refused
// (RFC 8031, Section 2.3).
var curve448Group = &DHGroup{ID: Curve448, Name: "Curve448", PublicSize: x448.Size,
	Generate: func(rand io.Reader) (DHPrivate, error) {
		var k x448Private
		if _, err := io.ReadFull(rand, k.secret[:]); err != nil {
			return nil, fmt.Errorf("ike: Curve448 private value: %w", err)
		}
		x448.KeyGen(&k.public, &k.secret)
		return &k, nil
	}}

type x448Private struct {
	secret, public x448.Key
}

func (k *x448Private) Public() []byte { return slices.Clone(k.public[:]) }

func (k *x448Private) Shared(peer []byte) ([]byte, error) {
	if len(peer) != x448.Size {
		return nil, fmt.Errorf("ike: Curve448 key exchange data is %d bytes, want %d", len(peer), x448.Size)
	}
	var pub, z x448.Key
	copy(pub[:], peer)
	if !x448.Shared(&z, &k.secret, &pub) {
		return nil, fmt.Errorf("ike: Curve448 peer value is of low order (the shared secret is zero)")
	}
	return z[:], nil
}
