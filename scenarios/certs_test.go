package scenarios

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// TestCertificatesDissected: in the certificate scenarios, the CERT payloads show the
// certificate's subject, issuer and validity in the field tree, and IKEv2's CERTREQ
// names the CA of its hash.
func TestCertificatesDissected(t *testing.T) {
	for _, tc := range []struct {
		name, subject string
		certreqCA     string
	}{
		{"ikev2-cert", "CN=gw-a.example,O=ikesim,C=CH", "CN=ikesim Root CA,O=ikesim,C=CH"},
		{"ikev2-ecdsa-rfc7427", "", "CN=ikesim Root CA,O=ikesim,C=CH"},
		{"ikev1-main-rsa", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Load(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			tr := run(t, s, s.Seed).Sim.Trace
			var certs, named int
			subjects := map[string]bool{}
			for _, e := range tr.Events {
				if e.Kind != trace.KindMessage || !strings.HasPrefix(e.Proto(), "ike") {
					continue
				}
				e.Fields().Walk(func(f *ike.Field, _ int) {
					switch f.Name {
					case "X.509 Certificate":
						certs++
						for _, part := range []string{"Subject", "Issuer", "Validity", "Not Before", "Not After",
							"Subject Public Key Info", "Serial Number", "Signature Algorithm", "Key Usage"} {
							if p := f.Find(part); p == nil || p.Value == "" || p.Explain == "" {
								t.Errorf("message %d: certificate without a %s", e.Seq, part)
							}
						}
						if f.Error != "" {
							t.Errorf("message %d: %s", e.Seq, f.Error)
						}
						subjects[f.Find("Subject").Value] = true
					case "Certification Authority":
						if tc.certreqCA != "" && strings.HasSuffix(f.Value, "("+tc.certreqCA+")") {
							named++
						}
					}
				})
			}
			if certs == 0 {
				t.Fatal("no certificate dissected")
			}
			if tc.subject != "" && !subjects[tc.subject] {
				t.Errorf("no certificate of %s among %v", tc.subject, subjects)
			}
			if tc.certreqCA != "" && named == 0 {
				t.Errorf("no CERTREQ names %s", tc.certreqCA)
			}
		})
	}
}

// TestImportedCertificatesDissected: the same certificates, read from a capture of the
// scenarios with their key tables, show the same fields.
func TestImportedCertificatesDissected(t *testing.T) {
	for _, name := range []string{"ikev2-cert", "ikev1-main-rsa"} {
		t.Run(name, func(t *testing.T) {
			_, pcap, keyDir := builtinCapture(t, name)
			keys, err := sim.ReadKeyDir(keyDir)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := sim.Import(bytes.NewReader(pcap), sim.ImportOptions{Keys: keys})
			if err != nil {
				t.Fatal(err)
			}
			subjects := map[string]bool{}
			for _, e := range tr.Events {
				e.Fields().Walk(func(f *ike.Field, _ int) {
					if f.Name == "X.509 Certificate" && f.Error == "" && f.Find("Validity") != nil && f.Find("Issuer") != nil {
						subjects[f.Find("Subject").Value] = true
					}
				})
			}
			if len(subjects) < 2 {
				t.Errorf("certificates dissected in the imported capture: %v; want both gateways'", subjects)
			}
		})
	}
}
