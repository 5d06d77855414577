package assets

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:generate go run ./pki/gen -out pki

// The test PKI: NAME.pem is a certificate, NAME.key the private key it certifies
// (PKCS#8). The broken certificates (gw-a-expired, gw-a-notyet, gw-a-rogue,
// gw-a-wrongku) certify gw-a's key and have no key file of their own.
//
//go:embed pki/*.pem pki/*.key
var pki embed.FS

// PKIFile returns a file of the test PKI by name, e.g. "gw-a.pem" or "gw-a.key".
func PKIFile(name string) ([]byte, bool) {
	b, err := pki.ReadFile("pki/" + name)
	return b, err == nil
}

// PKICerts lists the names of the test PKI's certificates, without ".pem", sorted.
func PKICerts() []string {
	entries, _ := fs.ReadDir(pki, "pki")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".pem"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}
