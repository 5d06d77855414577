package config_test

import (
	"os"
	"testing"

	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/scenarios/config"
)

// FuzzImport: no pair of configurations makes Import panic; what it returns without an
// error loads as a scenario.
func FuzzImport(f *testing.F) {
	captures := testenv.Captures(f)
	for _, p := range [][2]string{
		{captures + "/ikev2-psk.swanctl-a.conf", captures + "/ikev2-psk.swanctl-b.conf"},
		{captures + "/ikev1-aggr.swanctl-a.conf", captures + "/ikev1-aggr.swanctl-b.conf"},
		{"../ios/testdata/cisco-walkthrough/r3-main-mode.cfg", "../ios/testdata/cisco-walkthrough/r2-main-mode.cfg"},
	} {
		a, err := os.ReadFile(p[0])
		if err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(p[1])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(a, b)
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		r, err := config.Import([]config.Input{{Node: "a", Path: "/nonexistent/a.conf", Data: a}, {Node: "b", Path: "/nonexistent/b.conf", Data: b}}, config.Options{})
		if err != nil {
			return
		}
		if _, err := r.Scenario(); err != nil {
			t.Fatalf("Import returned a scenario that does not load: %v", err)
		}
	})
}
