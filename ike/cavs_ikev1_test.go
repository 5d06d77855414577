package ike

import (
	"bytes"
	"os"
	"testing"
)

// TestCAVSIKEv1Testdata checks testdata/cavs_ikev1.txt, kept for the IKEv1 engine,
// against RFC 2409, Section 5 with the PRF registry, so a slip in the pasted hex shows
// here rather than as a mystery in the engine's tests.
func TestCAVSIKEv1Testdata(t *testing.T) {
	text, err := os.ReadFile("testdata/cavs_ikev1.txt")
	if err != nil {
		t.Fatal(err)
	}
	cases := parseCAVS(t, string(text))
	if len(cases) != 5 {
		t.Fatalf("parsed %d cases, want 5", len(cases))
	}
	for i, c := range cases {
		prf := cavsPRF(t, c.hash)
		f := func(k string) []byte { return unhex(t, c.fields[k]) }
		gxy, ckys := f("g^xy"), concat(f("CKY_I"), f("CKY_R"))
		var skeyid []byte
		if _, psk := c.fields["pre-shared-key"]; psk {
			skeyid = prf.Sum(f("pre-shared-key"), concat(f("Ni"), f("Nr")))
		} else {
			skeyid = prf.Sum(concat(f("Ni"), f("Nr")), gxy)
		}
		d := prf.Sum(skeyid, concat(gxy, ckys, []byte{0}))
		a := prf.Sum(skeyid, concat(d, gxy, ckys, []byte{1}))
		e := prf.Sum(skeyid, concat(a, gxy, ckys, []byte{2}))
		for name, got := range map[string][]byte{"SKEYID": skeyid, "SKEYID_d": d, "SKEYID_a": a, "SKEYID_e": e} {
			if !bytes.Equal(got, f(name)) {
				t.Errorf("case %d (%s): %s = %x, file says %s", i, c.hash, name, got, c.fields[name])
			}
		}
	}
}
