package sim

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/sim/trace"
)

// FuzzImport: no capture, pcap, pcapng or gzip, makes Import panic or hang, whatever its
// bytes. strongSwan's captures are seeds too, read with their key tables, so that
// decryption, IKEv1 exchange tracking, fragment reassembly and the port heuristics run.
func FuzzImport(f *testing.F) {
	n, _, _ := line(f, LinkParams{Delay: 3})
	n.Ping("a", mustAddr("10.0.2.2"), 1, 1e9)
	n.Sim.Run(2e9)
	var pcap, ng bytes.Buffer
	if err := trace.WritePcap(n.Sim.Trace, &pcap, true); err != nil {
		f.Fatal(err)
	}
	if err := trace.WritePcapng(n.Sim.Trace, &ng, true); err != nil {
		f.Fatal(err)
	}
	f.Add(pcap.Bytes())
	f.Add(ng.Bytes())
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	dir := testenv.Captures(f)
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	for _, p := range pcaps {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var keys ImportKeys
	for _, name := range []string{"ikev2-psk", "ikev1-main"} {
		k, err := ReadKeyDir(filepath.Join(dir, name+".keys"))
		if err != nil {
			f.Fatal(err)
		}
		keys.IKEv2 = append(keys.IKEv2, k.IKEv2...)
		keys.IKEv1 = append(keys.IKEv1, k.IKEv1...)
		keys.ESP = append(keys.ESP, k.ESP...)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := Import(bytes.NewReader(b), ImportOptions{Keys: keys, NATTPorts: []uint16{15500}})
		if err == nil {
			for _, e := range tr.Events {
				e.Fields() // the dissection too
			}
		}
	})
}
