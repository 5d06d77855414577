package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/assets"
)

// TestOwnCertificateFiles runs a lab whose gateways use PEM files beside the scenario
// file: gw-a's certificate and key in one file, gw-b's key as a secret of type private,
// and a trust store file.
func TestOwnCertificateFiles(t *testing.T) {
	dir := t.TempDir()
	pki := func(name string) []byte {
		b, ok := assets.PKIFile(name)
		if !ok {
			t.Fatalf("no %s in the test PKI", name)
		}
		return b
	}
	files := map[string][]byte{
		"a-both.pem":     append(pki("gw-a.pem"), pki("gw-a.key")...),
		"b-cert.crt.pem": pki("gw-b.pem"),
		"keys/b.key":     pki("gw-b.key"),
		"trust.pem":      pki("ca.pem"),
	}
	for name, b := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src := strings.NewReplacer("CERT_A", "a-both.pem", "CERT_B", "b-cert.crt.pem", "TRUST", "trust.pem").Replace(ownCertLab)
	path := filepath.Join(dir, "lab.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, s, s.Seed)
	if res := Grade(s, r.Sim.Trace); !Passed(res) {
		t.Errorf("%s", FormatResults(res))
	}
	// Without the private key of gw-b, the file does not load.
	bad := strings.Replace(src, "  - {type: private, file: keys/b.key, nodes: [gw-b]}\n", "", 1)
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "no private key for certificate") {
		t.Errorf("a certificate without its key loads: %v", err)
	}
}

const ownCertLab = `name: own-files
topology:
  nodes:
    - {name: gw-a, kind: gateway, address: 192.0.2.1/24, cacerts: [TRUST]}
    - {name: gw-b, kind: gateway, address: 192.0.2.2/24, cacerts: [TRUST]}
  links:
    - {between: [gw-a, gw-b]}
connections:
  gw-a:
    vpn:
      local_addrs: [192.0.2.1]
      remote_addrs: [192.0.2.2]
      proposals: [aes128-sha256-x25519]
      local: {auth: pubkey, id: 192.0.2.1, certs: [CERT_A]}
      remote: {auth: pubkey, id: gw-b.example}
      children:
        net: {local_ts: [10.1.0.0/24], remote_ts: [10.2.0.0/24], start_action: start}
  gw-b:
    vpn:
      local_addrs: [192.0.2.2]
      remote_addrs: [192.0.2.1]
      proposals: [aes128-sha256-x25519]
      local: {auth: pubkey, id: gw-b.example, certs: [CERT_B]}
      remote: {auth: pubkey, id: 192.0.2.1}
      children:
        net: {local_ts: [10.2.0.0/24], remote_ts: [10.1.0.0/24]}
secrets:
  - {type: private, file: keys/b.key, nodes: [gw-b]}
expect:
  - ike_sa: {between: [gw-a, gw-b]}
    says: "The certificates from the lab's own files are accepted."
`
