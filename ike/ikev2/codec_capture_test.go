package ikev2

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/testenv"
)

// The reference captures made by two strongSwan 5.9.8 daemons (ike/testenv/testdata/captures/README.md):
// every IKEv2 message in them must parse, decrypt with the keys of their key tables,
// and dissect to the same fields as tshark 4.0 shows.
var referenceCaptures = []string{"ikev2-psk.pcap", "ikev2-psk-port500.pcap"}

// capturedIKE is one IKE message taken from a capture.
type capturedIKE struct {
	frame int
	data  []byte
}

// readCaptureIKE returns the IKE messages of an Ethernet/IPv4/UDP capture: UDP 500
// payloads, and UDP 4500 payloads after the 4-byte non-ESP marker. ESP-in-UDP and NAT
// keepalives are skipped.
func readCaptureIKE(t *testing.T, path string) []capturedIKE {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []capturedIKE
	for frame := 1; ; frame++ {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s frame %d: %v", path, frame, err)
		}
		pkt := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok {
			continue
		}
		payload := udp.Payload
		switch {
		case udp.SrcPort == 500 || udp.DstPort == 500:
		case udp.SrcPort == 4500 || udp.DstPort == 4500:
			if len(payload) < 4 || binary.BigEndian.Uint32(payload) != 0 {
				continue // ESP in UDP (RFC 3948) or a NAT keepalive
			}
			payload = payload[4:]
		default:
			continue
		}
		out = append(out, capturedIKE{frame: frame, data: payload})
	}
	return out
}

// captureKeys reads the ikev2_decryption_table beside a capture.
func captureKeys(t *testing.T, pcap string) []ike.IKEv2Keys {
	t.Helper()
	path := strings.TrimSuffix(pcap, ".pcap") + ".keys/ikev2_decryption_table"
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys, _, err := ike.ParseIKEv2KeyTable(f)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// skFor returns the SK protection of messages from the original initiator (SK_ei, SK_ai)
// or from the original responder (SK_er, SK_ar) of the IKE SA with the header's SPIs.
func skFor(keys []ike.IKEv2Keys, h *Header) *SKCrypto {
	for _, k := range keys {
		if k.SPIi != h.SPIi || k.SPIr != h.SPIr {
			continue
		}
		sk := &SKCrypto{Encr: ike.Encr(k.Encr), EncrKeyBits: k.EncrKeyBits, Integ: ike.Integ(k.Integ),
			EncrKey: k.SKer, IntegKey: k.SKar}
		if h.FromInitiator() {
			sk.EncrKey, sk.IntegKey = k.SKei, k.SKai
		}
		return sk
	}
	return nil
}

// fixedReader returns its bytes, then fails: it replays an IV taken from a capture.
type fixedReader struct{ b []byte }

func (r *fixedReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// TestCaptureDecrypt parses every message of the reference captures, checks that the
// outer payloads marshal back to the same bytes, decrypts every SK payload with a correct
// ICV, and encrypts the decrypted payloads again with the captured IV: the result must be
// the captured message, byte for byte.
func TestCaptureDecrypt(t *testing.T) {
	dir := testenv.Captures(t)
	for _, name := range referenceCaptures {
		t.Run(name, func(t *testing.T) {
			pcap := filepath.Join(dir, name)
			keys := captureKeys(t, pcap)
			msgs := readCaptureIKE(t, pcap)
			if len(msgs) < 10 {
				t.Fatalf("only %d IKE messages in %s", len(msgs), name)
			}
			sks := 0
			for _, c := range msgs {
				m, err := Parse(c.data)
				if err != nil {
					t.Fatalf("frame %d: %v", c.frame, err)
				}
				again, err := m.Marshal(nil, nil)
				if err != nil || !bytes.Equal(again, c.data) {
					t.Fatalf("frame %d: outer re-marshal differs (err %v)", c.frame, err)
				}
				e := m.Encrypted()
				if e == nil {
					if m.Exchange != IKE_SA_INIT {
						t.Errorf("frame %d: %v without SK payload", c.frame, m.Exchange)
					}
					continue
				}
				sks++
				sk := skFor(keys, &m.Header)
				if sk == nil {
					t.Fatalf("frame %d: no keys for SPIs %016x/%016x", c.frame, m.SPIi, m.SPIr)
				}
				if err := m.Decrypt(c.data, sk); err != nil {
					t.Fatalf("frame %d: %v", c.frame, err)
				}
				if !e.Decrypted {
					t.Fatalf("frame %d: Decrypted not set", c.frame)
				}
				// Re-encrypt with the captured IV and padding: the bytes must come out
				// the same.
				iv := e.Ciphertext[:sk.Encr.IVSize]
				re := &Message{Header: m.Header, Payloads: []Payload{&Encrypted{Inner: e.Inner, Padding: e.Padding}}}
				out, err := re.Marshal(sk, &fixedReader{b: append([]byte(nil), iv...)})
				if err != nil {
					t.Fatalf("frame %d: re-encrypt: %v", c.frame, err)
				}
				if !bytes.Equal(out, c.data) {
					t.Errorf("frame %d: re-encrypted message differs from the capture\n got %x\nwant %x", c.frame, out, c.data)
				}
			}
			if sks == 0 {
				t.Fatal("no SK payloads decrypted")
			}
		})
	}
}

// TestCaptureTshark compares, frame by frame, what tshark 4.0 reads in the reference
// captures (with the key tables) with what Parse and Decrypt read: SPIs, exchange type,
// message ID, the payload and substructure types (outer and decrypted), next payload
// fields, transform IDs, key lengths, nonces, DH groups, identities, traffic selectors,
// notify types and ICVs.
func TestCaptureTshark(t *testing.T) {
	dir := testenv.Captures(t)
	for _, name := range referenceCaptures {
		t.Run(name, func(t *testing.T) {
			pcap := filepath.Join(dir, name)
			keys := captureKeys(t, pcap)
			compareWithTshark(t, pcap, keys, readCaptureIKE(t, pcap))
		})
	}
}

// compareWithTshark runs tshark on pcap with the key table keys and checks that every
// field of tsharkFields reads the same in tshark as in ikesim's parse of msgs, and that
// tshark reports no expert warning (such as a wrong ICV) on any IKE frame.
func compareWithTshark(t *testing.T, pcap string, keys []ike.IKEv2Keys, msgs []capturedIKE) {
	t.Helper()
	tshark := testenv.Tool(t, "tshark", "tshark")
	args := []string{"-r", pcap, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, k := range keys {
		line, err := k.Line()
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "-o", "uat:ikev2_decryption_table:"+line)
	}
	args = append(args, "-e", "frame.number", "-e", "_ws.expert.message")
	for _, f := range tsharkFields {
		args = append(args, "-e", f.name)
	}
	cmd := exec.Command(tshark, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	want := testenv.TSharkFields(t, out, len(tsharkFields))
	for _, c := range msgs {
		m, err := Parse(c.data)
		if err != nil {
			t.Fatalf("frame %d: %v", c.frame, err)
		}
		icv := 0
		if m.Encrypted() != nil {
			sk := skFor(keys, &m.Header)
			if err := m.Decrypt(nil, sk); err != nil {
				t.Fatalf("frame %d: %v", c.frame, err)
			}
			icv = sk.icvSize()
		}
		got := ourFields(m, icv)
		for i, f := range tsharkFields {
			if got[i] != want[c.frame][i] {
				t.Errorf("frame %d %s: ikesim %q, tshark %q", c.frame, f.name, got[i], want[c.frame][i])
			}
		}
	}
	if len(msgs) != countIKEFrames(want) {
		t.Errorf("ikesim found %d IKE messages, tshark %d", len(msgs), countIKEFrames(want))
	}
}

func countIKEFrames(rows map[int][]string) int {
	n := 0
	for _, cols := range rows {
		if cols[0] != "" {
			n++
		}
	}
	return n
}

// tsharkFields are the tshark fields compared, each with how ikesim's parse renders it
// in tshark's text (occurrences joined by commas, in tree order).
var tsharkFields = []struct {
	name string
	our  func(w *fieldWriter, m *Message)
}{
	{"isakmp.ispi", func(w *fieldWriter, m *Message) { w.add(fmt.Sprintf("%016x", m.SPIi)) }},
	{"isakmp.rspi", func(w *fieldWriter, m *Message) { w.add(fmt.Sprintf("%016x", m.SPIr)) }},
	{"isakmp.exchangetype", func(w *fieldWriter, m *Message) { w.add(fmt.Sprint(uint8(m.Exchange))) }},
	{"isakmp.messageid", func(w *fieldWriter, m *Message) { w.add(fmt.Sprintf("0x%08x", m.MessageID)) }},
	{"isakmp.flags", func(w *fieldWriter, m *Message) { w.add(fmt.Sprintf("0x%02x", uint8(m.Flags))) }},
	{"isakmp.length", func(w *fieldWriter, m *Message) { w.add(fmt.Sprint(m.Length)) }},
	{"isakmp.typepayload", walkPayloads(func(w *fieldWriter, p Payload) {
		w.add(fmt.Sprint(uint8(p.PayloadType())))
		if sa, ok := p.(*SA); ok {
			for _, prop := range sa.Proposals {
				w.add("2")
				for range prop.Transforms {
					w.add("3")
				}
			}
		}
	})},
	{"isakmp.nextpayload", func(w *fieldWriter, m *Message) {
		w.add(fmt.Sprint(uint8(m.NextPayload)))
		var chain func(ps []Payload)
		chain = func(ps []Payload) {
			for i, p := range ps {
				next := PayloadNone
				if i+1 < len(ps) {
					next = ps[i+1].PayloadType()
				}
				if e, ok := p.(*Encrypted); ok {
					next = e.FirstPayload
				}
				w.add(fmt.Sprint(uint8(next)))
				if sa, ok := p.(*SA); ok {
					for j, prop := range sa.Proposals {
						w.add(fmt.Sprint(lastOr(j, len(sa.Proposals), moreProposals)))
						for k := range prop.Transforms {
							w.add(fmt.Sprint(lastOr(k, len(prop.Transforms), moreTransforms)))
						}
					}
				}
				if e, ok := p.(*Encrypted); ok {
					chain(e.Inner)
				}
			}
		}
		chain(m.Payloads)
	}},
	{"isakmp.prop.number", eachProposal(func(w *fieldWriter, p *Proposal) { w.add(fmt.Sprint(p.Number)) })},
	{"isakmp.prop.protoid", eachProposal(func(w *fieldWriter, p *Proposal) { w.add(fmt.Sprint(uint8(p.Protocol))) })},
	{"isakmp.spi", walkPayloads(func(w *fieldWriter, p Payload) {
		// tshark files the SPIs of proposals and of notifies under one field.
		spis := [][]byte{}
		switch p := p.(type) {
		case *Notify:
			spis = append(spis, p.SPI)
		case *SA:
			for _, prop := range p.Proposals {
				spis = append(spis, prop.SPI)
			}
		}
		for _, spi := range spis {
			if len(spi) > 0 {
				w.add(fmt.Sprintf("%x", spi))
			}
		}
	})},
	{"isakmp.tf.type", eachTransform(func(w *fieldWriter, t Transform) { w.add(fmt.Sprint(uint8(t.Type))) })},
	{"isakmp.tf.id.encr", transformIDs(ike.TransformENCR)},
	{"isakmp.tf.id.prf", transformIDs(ike.TransformPRF)},
	{"isakmp.tf.id.integ", transformIDs(ike.TransformINTEG)},
	{"isakmp.tf.id.dh", transformIDs(ike.TransformDH)},
	{"isakmp.tf.id.esn", transformIDs(ike.TransformESN)},
	{"isakmp.ike2.attr.key_length", eachTransform(func(w *fieldWriter, t Transform) {
		if t.KeyLen != 0 {
			w.add(fmt.Sprint(t.KeyLen))
		}
	})},
	{"isakmp.key_exchange.dh_group", walkPayloads(func(w *fieldWriter, p Payload) {
		if ke, ok := p.(*KE); ok {
			w.add(fmt.Sprint(ke.Group))
		}
	})},
	{"isakmp.key_exchange.data", walkPayloads(func(w *fieldWriter, p Payload) {
		if ke, ok := p.(*KE); ok {
			w.add(fmt.Sprintf("%x", ke.Data))
		}
	})},
	{"isakmp.nonce", walkPayloads(func(w *fieldWriter, p Payload) {
		if n, ok := p.(*Nonce); ok {
			w.add(fmt.Sprintf("%x", n.Data))
		}
	})},
	{"isakmp.id.type", walkPayloads(func(w *fieldWriter, p Payload) {
		if id, ok := p.(*ID); ok {
			w.add(fmt.Sprint(uint8(id.Type)))
		}
	})},
	{"isakmp.id.data.fqdn", walkPayloads(func(w *fieldWriter, p Payload) {
		if id, ok := p.(*ID); ok && id.Type == IDFQDN {
			w.add(id.String())
		}
	})},
	{"isakmp.auth.method", walkPayloads(func(w *fieldWriter, p Payload) {
		if a, ok := p.(*Auth); ok {
			w.add(fmt.Sprint(uint8(a.Method)))
		}
	})},
	{"isakmp.auth.data", walkPayloads(func(w *fieldWriter, p Payload) {
		if a, ok := p.(*Auth); ok {
			w.add(fmt.Sprintf("%x", a.Data))
		}
	})},
	{"isakmp.notify.msgtype", walkPayloads(func(w *fieldWriter, p Payload) {
		if n, ok := p.(*Notify); ok {
			w.add(fmt.Sprint(uint16(n.Type)))
		}
	})},
	{"isakmp.notify.protoid", walkPayloads(func(w *fieldWriter, p Payload) {
		if n, ok := p.(*Notify); ok {
			w.add(fmt.Sprint(uint8(n.Protocol)))
		}
	})},
	{"isakmp.delete.protoid", walkPayloads(func(w *fieldWriter, p Payload) {
		if d, ok := p.(*Delete); ok {
			w.add(fmt.Sprint(uint8(d.Protocol)))
		}
	})},
	{"isakmp.delete.spi", walkPayloads(func(w *fieldWriter, p Payload) {
		if d, ok := p.(*Delete); ok {
			for _, spi := range d.SPIs {
				w.add(fmt.Sprintf("%x", spi))
			}
		}
	})},
	{"isakmp.ts.number", walkPayloads(func(w *fieldWriter, p Payload) {
		if ts, ok := p.(*TS); ok {
			w.add(fmt.Sprint(len(ts.Selectors)))
		}
	})},
	{"isakmp.ts.type", eachSelector(func(w *fieldWriter, s TrafficSelector) { w.add(fmt.Sprint(uint8(s.Type))) })},
	{"isakmp.ts.protoid", eachSelector(func(w *fieldWriter, s TrafficSelector) { w.add(fmt.Sprint(s.IPProtocol)) })},
	{"isakmp.ts.start_port", eachSelector(func(w *fieldWriter, s TrafficSelector) { w.add(fmt.Sprint(s.StartPort)) })},
	{"isakmp.ts.end_port", eachSelector(func(w *fieldWriter, s TrafficSelector) { w.add(fmt.Sprint(s.EndPort)) })},
	{"isakmp.ts.start_ipv4", eachSelector(func(w *fieldWriter, s TrafficSelector) { w.add(s.StartAddr.String()) })},
	{"isakmp.ts.end_ipv4", eachSelector(func(w *fieldWriter, s TrafficSelector) { w.add(s.EndAddr.String()) })},
	{"isakmp.enc.icd", func(w *fieldWriter, m *Message) {
		if e := m.Encrypted(); e != nil {
			w.add(fmt.Sprintf("%x", e.Ciphertext[len(e.Ciphertext)-w.icv:]))
		}
	}},
	{"isakmp.enc.pad_length", func(w *fieldWriter, m *Message) {
		if e := m.Encrypted(); e != nil {
			w.add(fmt.Sprint(e.Plaintext[len(e.Plaintext)-1]))
		}
	}},
}

// fieldWriter collects the occurrences of one field; icv is the ICV length of the
// message's SK payload.
type fieldWriter struct {
	vals []string
	icv  int
}

func (w *fieldWriter) add(v string) { w.vals = append(w.vals, v) }

func ourFields(m *Message, icv int) []string {
	out := make([]string, len(tsharkFields))
	for i, f := range tsharkFields {
		w := fieldWriter{icv: icv}
		f.our(&w, m)
		out[i] = strings.Join(w.vals, ",")
	}
	return out
}

func lastOr(i, n int, more uint8) uint8 {
	if i == n-1 {
		return lastSubstruc
	}
	return more
}

// walkPayloads visits every payload in tree order: an SK payload, then its inner ones.
func walkPayloads(fn func(w *fieldWriter, p Payload)) func(*fieldWriter, *Message) {
	return func(w *fieldWriter, m *Message) {
		for _, p := range m.Payloads {
			fn(w, p)
			if e, ok := p.(*Encrypted); ok {
				for _, q := range e.Inner {
					fn(w, q)
				}
			}
		}
	}
}

func eachProposal(fn func(w *fieldWriter, p *Proposal)) func(*fieldWriter, *Message) {
	return walkPayloads(func(w *fieldWriter, p Payload) {
		if sa, ok := p.(*SA); ok {
			for _, prop := range sa.Proposals {
				fn(w, prop)
			}
		}
	})
}

func eachTransform(fn func(w *fieldWriter, t Transform)) func(*fieldWriter, *Message) {
	return eachProposal(func(w *fieldWriter, p *Proposal) {
		for _, t := range p.Transforms {
			fn(w, t)
		}
	})
}

func transformIDs(typ ike.TransformType) func(*fieldWriter, *Message) {
	return eachTransform(func(w *fieldWriter, t Transform) {
		if t.Type == typ {
			w.add(fmt.Sprint(t.ID))
		}
	})
}

func eachSelector(fn func(w *fieldWriter, s TrafficSelector)) func(*fieldWriter, *Message) {
	return walkPayloads(func(w *fieldWriter, p Payload) {
		if ts, ok := p.(*TS); ok {
			for _, s := range ts.Selectors {
				fn(w, s)
			}
		}
	})
}

// pdmlField is a field of tshark's PDML output, with its nested fields.
type pdmlField struct {
	Name   string      `xml:"name,attr"`
	Pos    int         `xml:"pos,attr"`
	Size   int         `xml:"size,attr"`
	Fields []pdmlField `xml:"field"`
}

type pdmlPacket struct {
	Protos []pdmlField `xml:"proto"`
}

// offsetGroups files tshark's field names and the dissection's field names under common
// names, so that the byte ranges of the same things can be compared.
var offsetGroups = map[string]string{
	"isakmp.ispi": "Initiator SPI", "isakmp.rspi": "Responder SPI", "isakmp.exchangetype": "Exchange Type",
	"isakmp.messageid": "Message ID", "isakmp.flags": "Flags",
	"isakmp.nextpayload": "next", "Next Payload": "next", "Last Substruc": "next",
	"isakmp.payloadlength": "length", "Payload Length": "length", "Proposal Length": "length", "Transform Length": "length",
	"isakmp.prop.number": "Proposal Num", "isakmp.prop.transforms": "Num Transforms",
	"isakmp.prop.protoid": "Protocol ID", "isakmp.notify.protoid": "Protocol ID", "isakmp.delete.protoid": "Protocol ID",
	"isakmp.spisize": "SPI Size", "isakmp.spi": "SPI", "isakmp.delete.spi": "SPI", "isakmp.spinum": "Num of SPIs",
	"isakmp.tf.type": "Transform Type", "isakmp.tf.id.encr": "Transform ID", "isakmp.tf.id.prf": "Transform ID",
	"isakmp.tf.id.integ": "Transform ID", "isakmp.tf.id.dh": "Transform ID", "isakmp.tf.id.esn": "Transform ID",
	"isakmp.ike2.attr": "attribute", "Key Length": "attribute", "Attribute": "attribute",
	"isakmp.key_exchange.dh_group": "DH Group Num", "isakmp.key_exchange.data": "Key Exchange Data",
	"isakmp.nonce": "Nonce Data", "isakmp.notify.msgtype": "Notify Message Type",
	"isakmp.id.type": "ID Type", "isakmp.auth.method": "Auth Method", "isakmp.auth.data": "Authentication Data",
	"isakmp.ts.number": "Number of TSs", "isakmp.ts.type": "TS Type", "isakmp.ts.protoid": "IP Protocol ID",
	"isakmp.ts.selector_length": "Selector Length", "isakmp.ts.start_port": "Start Port", "isakmp.ts.end_port": "End Port",
	"isakmp.ts.start_ipv4": "Starting Address", "isakmp.ts.end_ipv4": "Ending Address",
	"isakmp.enc.iv": "Initialization Vector", "isakmp.enc.data": "Encrypted Data",
	"isakmp.enc.icd": "Integrity Checksum Data", "isakmp.enc.padding": "Padding", "isakmp.enc.pad_length": "Pad Length",
	"isakmp.typepayload": "container",
}

// fieldRange is where one field lies: in the message, or in the decrypted SK plaintext.
type fieldRange struct {
	group      string
	plain      bool
	pos, bytes int
}

// TestCaptureOffsets checks the byte ranges of the dissection against tshark's PDML
// positions: every header field, payload, proposal, transform and the fields listed in
// offsetGroups must cover the same bytes, in the message or in the decrypted plaintext.
func TestCaptureOffsets(t *testing.T) {
	tshark := testenv.Tool(t, "tshark", "tshark")
	dir := testenv.Captures(t)
	for _, name := range referenceCaptures {
		t.Run(name, func(t *testing.T) {
			pcap := filepath.Join(dir, name)
			keys := captureKeys(t, pcap)
			args := []string{"-r", pcap, "-T", "pdml"}
			for _, k := range keys {
				line, _ := k.Line()
				args = append(args, "-o", "uat:ikev2_decryption_table:"+line)
			}
			out, err := exec.Command(tshark, args...).Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			dec := xml.NewDecoder(bytes.NewReader(out))
			var packets []pdmlPacket
			for {
				var p pdmlPacket
				tok, err := dec.Token()
				if err != nil {
					break
				}
				if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "packet" {
					if err := dec.DecodeElement(&p, &se); err != nil {
						t.Fatal(err)
					}
					packets = append(packets, p)
				}
			}
			checked := 0
			for _, c := range readCaptureIKE(t, pcap) {
				var want []fieldRange
				for _, proto := range packets[c.frame-1].Protos {
					if proto.Name == "isakmp" {
						want = tsharkRanges(proto.Fields, proto.Pos, false, want)
					}
				}
				m, err := Parse(c.data)
				if err != nil {
					t.Fatal(err)
				}
				root := Dissect(c.data, skFor(keys, &m.Header))
				root.Walk(func(f *ike.Field, _ int) {
					if f.Error != "" {
						t.Errorf("frame %d: %s: %s", c.frame, f.Name, f.Error)
					}
				})
				got := ourRanges(root, false, nil)
				if !sameRanges(got, want) {
					t.Errorf("frame %d: field ranges differ\nikesim %v\ntshark %v", c.frame, got, want)
				}
				checked += len(got)
			}
			if checked < 500 {
				t.Errorf("only %d field ranges compared", checked)
			}
		})
	}
}

func tsharkRanges(fields []pdmlField, base int, plain bool, out []fieldRange) []fieldRange {
	for _, f := range fields {
		if f.Name == "isakmp.enc.decrypted" {
			out = tsharkRanges(f.Fields, 0, true, out)
			continue
		}
		if f.Name == "isakmp.enc.contained" {
			out = tsharkRanges(f.Fields, base, plain, out)
			continue
		}
		if g, ok := offsetGroups[f.Name]; ok {
			out = append(out, fieldRange{g, plain, f.Pos - base, f.Size})
		}
		out = tsharkRanges(f.Fields, base, plain, out)
	}
	return out
}

func ourRanges(f *ike.Field, plain bool, out []fieldRange) []fieldRange {
	g, ok := offsetGroups[f.Name]
	if !ok {
		for _, v := range offsetGroups {
			if v == f.Name {
				g, ok = v, true
			}
		}
	}
	isPayload := false
	for _, name := range payloadLongNames {
		isPayload = isPayload || name == f.Name
	}
	if !ok && (isPayload || strings.HasPrefix(f.Name, "Proposal #") || strings.HasPrefix(f.Name, "Transform ")) {
		g, ok = "container", true
	}
	if ok {
		out = append(out, fieldRange{g, plain, f.Offset, f.Length})
	}
	for _, c := range f.Children {
		out = ourRanges(c, plain || f.Plain != nil, out)
	}
	return out
}

// sameRanges compares two lists of ranges as multisets.
func sameRanges(a, b []fieldRange) bool {
	onlyA, onlyB := testenv.MultisetDiff(a, b)
	return len(onlyA)+len(onlyB) == 0
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz corpus in testdata/fuzz from the reference captures")

// TestFuzzSeedsFromCaptures keeps the fuzz corpus in testdata/fuzz equal to the messages
// of the reference captures: every IKE message seeds FuzzParse, and those of
// ikev2-psk.pcap seed FuzzDecryptDissect, whose keys are that capture's. Run with
// -update-seeds to rewrite the corpus.
func TestFuzzSeedsFromCaptures(t *testing.T) {
	dir := testenv.Captures(t)
	for _, name := range referenceCaptures {
		targets := []string{"FuzzParse"}
		if name == "ikev2-psk.pcap" {
			targets = append(targets, "FuzzDecryptDissect")
		}
		for _, c := range readCaptureIKE(t, filepath.Join(dir, name)) {
			file := fmt.Sprintf("%s-frame%02d", strings.TrimSuffix(name, ".pcap"), c.frame)
			for _, target := range targets {
				testenv.FuzzSeed(t, filepath.Join("testdata", "fuzz", target, file), c.data, *updateSeeds,
					"go test ./ike/ikev2 -run FuzzSeeds -update-seeds")
			}
		}
	}
}
