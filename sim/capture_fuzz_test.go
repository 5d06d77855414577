package sim

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/ipsec"
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
	// An AH packet over an ESP one (a bundle), with the AH key as an ikesim line gives it.
	ahKey := ike.ESPKeys{AH: true, SPIWildcard: 0xffffffff, Integ: ike.AUTH_HMAC_SHA1_96, IntegKey: make([]byte, 20)}
	keys.ESP = append(keys.ESP, ahKey)
	esp := &ipsec.SA{SPI: 0x3000, Src: mustAddr("192.0.2.1"), Dst: mustAddr("192.0.2.2"), Encr: ike.Encr(ike.ENCR_NULL),
		Integ: ike.Integ(ike.AUTH_HMAC_SHA1_96), IntegKey: make([]byte, 20), Mode: ipsec.Tunnel}
	ah := &ipsec.SA{Protocol: ipsec.ProtoAH, SPI: 0x3001, Src: esp.Src, Dst: esp.Dst, Integ: ike.Integ(ike.AUTH_HMAC_SHA1_96),
		IntegKey: make([]byte, 20), Mode: ipsec.Transport}
	echo, _ := ipsec.NewEchoRequest(mustAddr("10.0.1.2"), mustAddr("10.0.2.2"), 1, 1, 1, nil)
	inner, err := esp.Protect(echo)
	if err != nil {
		f.Fatal(err)
	}
	outer, err := ah.Protect(inner)
	if err != nil {
		f.Fatal(err)
	}
	var raw bytes.Buffer
	w := pcapgo.NewWriter(&raw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeRaw); err != nil {
		f.Fatal(err)
	}
	if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(outer), Length: len(outer)}, outer); err != nil {
		f.Fatal(err)
	}
	f.Add(raw.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := Import(bytes.NewReader(b), ImportOptions{Keys: keys, NATTPorts: []uint16{15500}})
		if err == nil {
			for _, e := range tr.Events {
				e.Fields() // the dissection too
			}
		}
	})
}
