package main

import "testing"

// TestPKIIsReproducible regenerates the test PKI and compares it byte for byte with the
// files in assets/pki: a change to the generator must come with its files.
func TestPKIIsReproducible(t *testing.T) {
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2*len(specs)-4 {
		t.Errorf("%d files for %d certificates", len(files), len(specs))
	}
	if err := sameFiles(files, ".."); err != nil {
		t.Fatal(err)
	}
}
