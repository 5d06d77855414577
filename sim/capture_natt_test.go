package sim

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/testenv"
)

// TestImportNATTPortDissection: on ports given as NATTPorts (charon.port 15500 of the
// loopback probe capture) the dissection shows the non-ESP marker and the IKE message
// behind it, as on 4500; without them the datagram is plain UDP data.
func TestImportNATTPortDissection(t *testing.T) {
	pcap := filepath.Join(testenv.Captures(t), "probe-loopback-marker.pcap")
	for _, tt := range []struct {
		ports []uint16
		want  bool
	}{{[]uint16{15500}, true}, {nil, false}} {
		f, err := os.Open(pcap)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := Import(f, ImportOptions{NATTPorts: tt.ports})
		f.Close()
		if err != nil && tt.want {
			t.Fatal(err)
		}
		if !tt.want {
			if tr != nil && len(tr.Events) > 0 {
				t.Errorf("without NATTPorts the import lists %d datagrams on port 15500", len(tr.Events))
			}
			continue
		}
		first := tr.Events[0].Fields()
		var marker, spi bool
		first.Walk(func(g *ike.Field, _ int) {
			marker = marker || g.Name == "Non-ESP Marker"
			spi = spi || g.Name == "Initiator SPI"
		})
		if !marker || !spi {
			t.Errorf("ports %v: the first datagram's dissection lacks the marker (%t) or the IKE header (%t)", tt.ports, marker, spi)
		}
	}
}

// TestImportLoopbackNamesEndsByPort: on a loopback capture both ends have one address, so
// the nodes are address:port, and no message goes from a node to itself.
func TestImportLoopbackNamesEndsByPort(t *testing.T) {
	f, err := os.Open(filepath.Join(testenv.Captures(t), "probe-loopback-marker.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := Import(f, ImportOptions{NATTPorts: []uint16{15500, 14500}})
	if err != nil {
		t.Fatal(err)
	}
	first := tr.Events[0]
	if first.From != "127.0.0.1:51987" || first.To != "127.0.0.1:15500" || first.Node != first.From {
		t.Errorf("the first datagram goes from %q to %q (node %q), want 127.0.0.1:51987 to 127.0.0.1:15500", first.From, first.To, first.Node)
	}
	for _, e := range tr.Events {
		if e.From == e.To {
			t.Errorf("event %d goes from %s to itself", e.Seq, e.From)
		}
	}
}
