package sim

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/sim/trace"
)

// TestImportNATTPortDissection: on ports given as NATTPorts (charon.port 15500 of the
// loopback probe capture) the dissection shows the non-ESP marker and the IKE message
// behind it, as on 4500; without them the header is found all the same, as tshark's
// heuristics find it.
func TestImportNATTPortDissection(t *testing.T) {
	pcap := filepath.Join(testenv.Captures(t), "probe-loopback-marker.pcap")
	for _, ports := range [][]uint16{{15500}, nil} {
		f, err := os.Open(pcap)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := Import(f, ImportOptions{NATTPorts: ports})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		msgs := messages(tr)
		if len(msgs) != 3 || msgs[0].Exchange() != "IKE_SA_INIT" || msgs[1].Exchange() != "IKE_SA_INIT" || msgs[2].Proto() != "esp" {
			t.Errorf("ports %v: %d datagrams, want the IKE_SA_INIT request and response and what charon took for ESP", ports, len(msgs))
		}
		first := messages(tr)[0].Fields()
		var marker, spi bool
		first.Walk(func(g *ike.Field, _ int) {
			marker = marker || g.Name == "Non-ESP Marker"
			spi = spi || g.Name == "Initiator SPI"
		})
		if !marker || !spi {
			t.Errorf("ports %v: the first datagram's dissection lacks the marker (%t) or the IKE header (%t)", ports, marker, spi)
		}
	}
}

// udpPcap writes a pcap of IPv4/UDP datagrams from 127.0.0.1:src to 127.0.0.2:dst.
func udpPcap(t *testing.T, src, dst uint16, payloads ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeRaw); err != nil {
		t.Fatal(err)
	}
	for i, p := range payloads {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(127, 0, 0, 1), DstIP: net.IPv4(127, 0, 0, 2)}
		udp := &layers.UDP{SrcPort: layers.UDPPort(src), DstPort: layers.UDPPort(dst)}
		udp.SetNetworkLayerForChecksum(ip)
		sb := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, udp, gopacket.Payload(p)); err != nil {
			t.Fatal(err)
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(i), 0), CaptureLength: len(sb.Bytes()), Length: len(sb.Bytes())}
		if err := w.WritePacket(ci, sb.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestImportFindsIKEOnAnyPort: an IKE message on ports that are neither 500 nor 4500 is
// found by its header and dissected as IKE.
func TestImportFindsIKEOnAnyPort(t *testing.T) {
	f, err := os.Open(filepath.Join(testenv.Captures(t), "ikev2-psk-port500.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := Import(f, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first := messages(tr)[0]
	msg := first.Bytes()[28:] // the IKE_SA_INIT request, after the IPv4 and UDP headers
	tr, err = Import(bytes.NewReader(udpPcap(t, 15600, 15601, msg)), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := messages(tr); len(msgs) != 1 || msgs[0].Exchange() != "IKE_SA_INIT" || msgs[0].Summary() != first.Summary() {
		t.Fatalf("the IKE_SA_INIT on ports 15600 -> 15601 came back as %d messages", len(msgs))
	}
	var spi bool
	messages(tr)[0].Fields().Walk(func(g *ike.Field, _ int) { spi = spi || g.Name == "Initiator SPI" })
	if !spi {
		t.Error("the dissection does not show the IKE header")
	}
}

// TestImportNamesUnrecognisedPorts: a capture of ESP-in-UDP on a port that is not 4500,
// without the IKE that would reveal it, fails with the ports, so that the user can name
// them.
func TestImportNamesUnrecognisedPorts(t *testing.T) {
	esp := []byte{0xc1, 0x2d, 0x4a, 0x67, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	_, err := Import(bytes.NewReader(udpPcap(t, 14500, 15500, esp, esp)), ImportOptions{})
	var none *NoIKEError
	if !errors.As(err, &none) || none.PortList() != "14500,15500" {
		t.Fatalf("got %v, want a NoIKEError with ports 14500,15500", err)
	}
	tr, err := Import(bytes.NewReader(udpPcap(t, 14500, 15500, esp)), ImportOptions{NATTPorts: []uint16{15500}})
	if err != nil || len(messages(tr)) != 1 || messages(tr)[0].Proto() != "esp" {
		t.Errorf("with NATTPorts: %v", err)
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
	first := messages(tr)[0]
	if first.From() != "127.0.0.1:51987" || first.To() != "127.0.0.1:15500" || first.Node != first.From() {
		t.Errorf("the first datagram goes from %q to %q (node %q), want 127.0.0.1:51987 to 127.0.0.1:15500", first.From(), first.To(), first.Node)
	}
	for _, e := range messages(tr) {
		if e.From() == e.To() {
			t.Errorf("event %d goes from %s to itself", e.Seq, e.From())
		}
	}
}

// messages are the message events of a trace.
func messages(tr *trace.Trace) []*trace.Event {
	var out []*trace.Event
	for _, e := range tr.Events {
		if e.Kind == trace.KindMessage {
			out = append(out, e)
		}
	}
	return out
}
