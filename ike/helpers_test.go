package ike

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// unhex decodes hex written with any whitespace inside, as vectors are pasted.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test vector %q: %v", s, err)
	}
	return b
}

// countingReader is a deterministic byte source: byte i of the stream is seed+i.
type countingReader struct{ next byte }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.next
		r.next++
	}
	return len(p), nil
}

// repeatReader yields the same byte forever.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	copy(p, bytes.Repeat([]byte{byte(r)}, len(p)))
	return len(p), nil
}
