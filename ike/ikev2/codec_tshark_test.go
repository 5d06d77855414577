package ikev2

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/ikesim/ikesim/ike"
)

// TestTsharkDecryptsOurMessages encrypts an IKE_AUTH request and response with every
// cipher and integrity algorithm of the registry that tshark 4.0 can decrypt, writes
// them to a pcap with the key table ike.IKEv2Keys.Line makes, and checks that tshark
// decrypts every message with a correct ICV and reads the same fields as ikesim.
// Algorithms tshark cannot decrypt must be refused by the key table functions.
func TestTsharkDecryptsOurMessages(t *testing.T) {
	var keys []ike.IKEv2Keys
	var msgs []capturedIKE
	var frames [][]byte
	refused := 0
	for i, sk := range skSuites(t) {
		integ := uint16(ike.AUTH_NONE)
		if sk.Integ != nil {
			integ = sk.Integ.ID
		}
		k := ike.IKEv2Keys{SPIi: 0x1000 + uint64(i), SPIr: 0x2000 + uint64(i), Encr: sk.Encr.ID, EncrKeyBits: sk.EncrKeyBits,
			Integ: integ, SKei: sk.EncrKey, SKer: counting(len(sk.EncrKey), 0x40), SKai: sk.IntegKey}
		if sk.Integ != nil {
			k.SKar = counting(len(sk.IntegKey), 0xc0)
		}
		if _, err := k.Line(); err != nil {
			refused++
			t.Logf("%s: %v", suiteName(sk), err)
			continue
		}
		keys = append(keys, k)
		for _, response := range []bool{false, true} {
			h := Header{SPIi: k.SPIi, SPIr: k.SPIr, Exchange: IKE_AUTH, MessageID: 1, Flags: FlagInitiator}
			if response {
				h.Flags = FlagResponse
			}
			m := &Message{Header: h, Payloads: []Payload{&Encrypted{Inner: authPayloads(response)}}}
			b, err := m.Marshal(skFor(keys, &h), zeroReader{})
			if err != nil {
				t.Fatalf("%s: %v", suiteName(sk), err)
			}
			frames = append(frames, udpFrame(b, response))
			msgs = append(msgs, capturedIKE{frame: len(frames), data: b})
		}
	}
	if len(keys) < 20 || refused == 0 {
		t.Fatalf("%d suites tshark can decrypt, %d refused", len(keys), refused)
	}
	pcap := filepath.Join(t.TempDir(), "suites.pcap")
	writePcap(t, pcap, frames)
	compareWithTshark(t, pcap, keys, msgs)
}

// authPayloads are the inner payloads of an IKE_AUTH request or response.
func authPayloads(response bool) []Payload {
	esp := ike.Proposal{Protocol: ike.ProtoESP, Transforms: []ike.Transform{
		{Type: ike.TransformENCR, ID: ike.ENCR_AES_CBC, KeyLen: 128},
		{Type: ike.TransformINTEG, ID: ike.AUTH_HMAC_SHA2_256_128},
		{Type: ike.TransformESN, ID: ike.NO_ESN}}}
	ts := []TrafficSelector{{Type: TSIPv4AddrRange, EndPort: 65535,
		StartAddr: netip.MustParseAddr("10.1.0.0"), EndAddr: netip.MustParseAddr("10.1.255.255")}}
	id := &ID{Responder: response, Type: IDFQDN, Data: []byte("gw.example.org")}
	ps := []Payload{id, &Auth{Method: AuthSharedKeyMIC, Data: counting(32, 3)}, NewSA([]byte{0xc0, 0, 0, 1}, esp),
		&TS{Selectors: ts}, &TS{Responder: true, Selectors: ts}}
	if !response {
		ps = append(ps, &Notify{Type: INITIAL_CONTACT}, &Notify{Type: MOBIKE_SUPPORTED})
	}
	return ps
}

// udpFrame wraps an IKE message in Ethernet, IPv4 and UDP port 500.
func udpFrame(msg []byte, response bool) []byte {
	a, b := net.IP{192, 0, 2, 1}, net.IP{192, 0, 2, 2}
	if response {
		a, b = b, a
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: a, DstIP: b}
	udp := &layers.UDP{SrcPort: 500, DstPort: 500}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, udp, gopacket.Payload(msg)); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func writePcap(t *testing.T, path string, frames [][]byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000+int64(i), 0), CaptureLength: len(fr), Length: len(fr)}
		if err := w.WritePacket(ci, fr); err != nil {
			t.Fatal(err)
		}
	}
}
