package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// PKI returns a file of the project's test PKI (assets/pki: NAME.pem certificates,
// NAME.key private keys), found from the test's directory up to the module root.
func PKI(t testing.TB, name string) []byte {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := moduleRoot(wd)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(root, "assets", "pki", name))
	if err != nil {
		t.Fatalf("testenv: test PKI: %v", err)
	}
	return b
}
