package ikev1

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/testenv"
)

// The reference captures made by two strongSwan 5.9.8 daemons (ike/testenv/testdata/captures/README.md):
// main mode and aggressive mode with PSK, quick modes with PFS, DPD and deletes. Every
// ISAKMP message in them must parse, decrypt with the key of their ikev1_decryption_table
// (following the IV chain of RFC 2409, Appendix B as a passive observer), marshal back
// to the same bytes, and read the same fields as tshark 4.0.
var referenceCaptures = []string{"ikev1-main.pcap", "ikev1-aggr.pcap"}

// capturedMsg is one ISAKMP message of a capture with its UDP endpoints.
type capturedMsg struct {
	frame    int
	src, dst string
	data     []byte
}

// readCapture returns the ISAKMP messages of an Ethernet/IPv4/UDP pcap: UDP 500 payloads
// and UDP 4500 payloads after the non-ESP marker (RFC 3948). It reads the classic pcap
// format with the standard library only.
func readCapture(t *testing.T, path string) []capturedMsg {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 24 {
		t.Fatalf("%s: no pcap header", path)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if binary.BigEndian.Uint32(raw) == 0xa1b2c3d4 {
		order = binary.BigEndian
	}
	link := order.Uint32(raw[20:])
	var out []capturedMsg
	off := 24
	for frame := 1; off+16 <= len(raw); frame++ {
		n := int(order.Uint32(raw[off+8:]))
		pkt := raw[off+16 : off+16+n]
		off += 16 + n
		if link == 1 { // Ethernet
			if len(pkt) < 14 || binary.BigEndian.Uint16(pkt[12:]) != 0x0800 {
				continue
			}
			pkt = pkt[14:]
		}
		if len(pkt) < 20 || pkt[0]>>4 != 4 || pkt[9] != 17 {
			continue
		}
		ihl := int(pkt[0]&0xf) * 4
		udp := pkt[ihl:]
		sport, dport := binary.BigEndian.Uint16(udp), binary.BigEndian.Uint16(udp[2:])
		payload := udp[8:binary.BigEndian.Uint16(udp[4:])]
		switch {
		case sport == 500 || dport == 500:
		case sport == 4500 || dport == 4500:
			if len(payload) < 4 || binary.BigEndian.Uint32(payload) != 0 {
				continue // ESP in UDP or a NAT-keepalive
			}
			payload = payload[4:]
		default:
			continue
		}
		src := fmt.Sprintf("%d.%d.%d.%d", pkt[12], pkt[13], pkt[14], pkt[15])
		dst := fmt.Sprintf("%d.%d.%d.%d", pkt[16], pkt[17], pkt[18], pkt[19])
		out = append(out, capturedMsg{frame: frame, src: src, dst: dst, data: clone(payload)})
	}
	return out
}

func captureKey(t *testing.T, pcap string) []ike.IKEv1Keys {
	t.Helper()
	f, err := os.Open(strings.TrimSuffix(pcap, ".pcap") + ".keys/ikev1_decryption_table")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys, err := ike.ParseIKEv1KeyTable(f)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// walkCapture parses and decrypts every message of a capture in order; fn sees each
// with the protection it was decrypted with (nil for clear messages).
func walkCapture(t *testing.T, pcap string, fn func(c capturedMsg, m *Message, cr *Crypto)) {
	t.Helper()
	keys := map[uint64][]byte{}
	for _, k := range captureKey(t, pcap) {
		keys[k.ICookie] = k.EncKey
	}
	p := NewPassive(keys)
	for _, c := range readCapture(t, pcap) {
		m, cr, _, err := p.Read(c.data, c.src)
		if err != nil {
			t.Fatalf("frame %d: %v", c.frame, err)
		}
		fn(c, m, cr)
	}
}

// TestCaptureDecrypt decrypts every encrypted message of the reference captures and
// marshals every message back: clear ones to the same bytes, encrypted ones (with the
// decrypted padding and the same IV) to the same ciphertext.
func TestCaptureDecrypt(t *testing.T) {
	dir := testenv.Captures(t)
	for _, name := range referenceCaptures {
		t.Run(name, func(t *testing.T) {
			n, enc := 0, 0
			walkCapture(t, filepath.Join(dir, name), func(c capturedMsg, m *Message, cr *Crypto) {
				n++
				again := &Message{Header: m.Header, Payloads: m.Payloads, Padding: m.Padding}
				out, err := again.Marshal(cr)
				if err != nil {
					t.Fatalf("frame %d: %v", c.frame, err)
				}
				if !bytes.Equal(out, c.data) {
					t.Errorf("frame %d: marshals to different bytes\n got %x\nwant %x", c.frame, out, c.data)
				}
				if cr != nil {
					enc++
				}
			})
			if n < 15 || enc < 10 {
				t.Errorf("only %d messages, %d encrypted", n, enc)
			}
		})
	}
}

// tsharkFields are the tshark fields compared, each with how ikesim's parse renders it
// in tshark's text (occurrences joined by commas, in tree order).
var tsharkFields = []struct {
	name string
	our  func(w *fieldWriter, m *Message)
}{
	{"isakmp.ispi", func(w *fieldWriter, m *Message) { w.add("%016x", m.ICookie) }},
	{"isakmp.rspi", func(w *fieldWriter, m *Message) { w.add("%016x", m.RCookie) }},
	{"isakmp.exchangetype", func(w *fieldWriter, m *Message) { w.add("%d", m.Exchange) }},
	{"isakmp.messageid", func(w *fieldWriter, m *Message) { w.add("0x%08x", m.MessageID) }},
	{"isakmp.flags", func(w *fieldWriter, m *Message) { w.add("0x%02x", uint8(m.Flags)) }},
	{"isakmp.length", func(w *fieldWriter, m *Message) { w.add("%d", m.Length) }},
	{"isakmp.typepayload", each(func(w *fieldWriter, p Payload) {
		w.add("%d", p.PayloadType())
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
		w.add("%d", m.NextPayload)
		for i, p := range m.Payloads {
			next := PayloadNone
			if i+1 < len(m.Payloads) {
				next = m.Payloads[i+1].PayloadType()
			}
			w.add("%d", next)
			if sa, ok := p.(*SA); ok {
				for j, prop := range sa.Proposals {
					w.add("%d", lastOr(j, len(sa.Proposals), PayloadProposal))
					for k := range prop.Transforms {
						w.add("%d", lastOr(k, len(prop.Transforms), PayloadTransform))
					}
				}
			}
		}
	}},
	{"isakmp.sa.doi", each(func(w *fieldWriter, p Payload) {
		if sa, ok := p.(*SA); ok {
			w.add("%d", sa.DOI)
		}
	})},
	{"isakmp.sa.situation", each(func(w *fieldWriter, p Payload) {
		if sa, ok := p.(*SA); ok {
			w.add("%08x", sa.Situation)
		}
	})},
	{"isakmp.prop.number", eachProposal(func(w *fieldWriter, p *Proposal) { w.add("%d", p.Number) })},
	{"isakmp.prop.protoid", eachProposal(func(w *fieldWriter, p *Proposal) { w.add("%d", p.Protocol) })},
	{"isakmp.prop.transforms", eachProposal(func(w *fieldWriter, p *Proposal) { w.add("%d", len(p.Transforms)) })},
	{"isakmp.spisize", each(func(w *fieldWriter, p Payload) {
		switch p := p.(type) {
		case *SA:
			for _, prop := range p.Proposals {
				w.add("%d", len(prop.SPI))
			}
		case *Notify:
			w.add("%d", len(p.SPI))
		case *Delete:
			w.add("%d", p.SPISize)
		}
	})},
	{"isakmp.spi", each(func(w *fieldWriter, p Payload) {
		switch p := p.(type) {
		case *SA:
			for _, prop := range p.Proposals {
				if len(prop.SPI) > 0 {
					w.add("%x", prop.SPI)
				}
			}
		case *Notify:
			if len(p.SPI) > 0 {
				w.add("%x", p.SPI)
			}
		}
	})},
	{"isakmp.trans.number", eachTransform(func(w *fieldWriter, _ *Proposal, t *Transform) { w.add("%d", t.Number) })},
	{"isakmp.trans.id", eachTransform(func(w *fieldWriter, _ *Proposal, t *Transform) { w.add("%d", t.ID) })},
	{"isakmp.ike.attr.type", attrs(true, func(a Attribute) string { return fmt.Sprint(a.Type) })},
	{"isakmp.ike.attr.value", attrs(true, func(a Attribute) string { return fmt.Sprintf("%x", a.Value) })},
	{"isakmp.ipsec.attr.type", attrs(false, func(a Attribute) string { return fmt.Sprint(a.Type) })},
	{"isakmp.ipsec.attr.value", attrs(false, func(a Attribute) string { return fmt.Sprintf("%x", a.Value) })},
	{"isakmp.key_exchange.data", each(func(w *fieldWriter, p Payload) {
		if ke, ok := p.(*KE); ok {
			w.add("%x", ke.Data)
		}
	})},
	{"isakmp.nonce", each(func(w *fieldWriter, p Payload) {
		if n, ok := p.(*Nonce); ok {
			w.add("%x", n.Data)
		}
	})},
	{"isakmp.id.type", eachID(func(w *fieldWriter, id *ID) { w.add("%d", id.Type) })},
	{"isakmp.id.protoid", eachID(func(w *fieldWriter, id *ID) { w.add("%d", id.Protocol) })},
	{"isakmp.id.port", eachID(func(w *fieldWriter, id *ID) { w.add("%d", id.Port) })},
	{"isakmp.id.data.ipv4_addr", eachID(func(w *fieldWriter, id *ID) {
		if id.Type == IDIPv4Addr {
			w.add("%s", id.String())
		}
	})},
	{"isakmp.id.data.fqdn", eachID(func(w *fieldWriter, id *ID) {
		if id.Type == IDFQDN {
			w.add("%s", id.String())
		}
	})},
	{"isakmp.hash", each(func(w *fieldWriter, p Payload) {
		if h, ok := p.(*Hash); ok {
			w.add("%x", h.Data)
		}
	})},
	{"isakmp.vid_bytes", each(func(w *fieldWriter, p Payload) {
		if v, ok := p.(*VendorID); ok {
			w.add("%x", v.Data)
		}
	})},
	{"isakmp.ike.nat_hash", each(func(w *fieldWriter, p Payload) {
		if n, ok := p.(*NATD); ok {
			w.add("%x", n.Hash)
		}
	})},
	{"isakmp.notify.doi", each(func(w *fieldWriter, p Payload) {
		if n, ok := p.(*Notify); ok {
			w.add("%d", n.DOI)
		}
	})},
	{"isakmp.notify.protoid", each(func(w *fieldWriter, p Payload) {
		if n, ok := p.(*Notify); ok {
			w.add("%d", n.Protocol)
		}
	})},
	{"isakmp.notify.msgtype", each(func(w *fieldWriter, p Payload) {
		if n, ok := p.(*Notify); ok {
			w.add("%d", n.Type)
		}
	})},
	{"isakmp.notify.data", each(func(w *fieldWriter, p Payload) {
		if n, ok := p.(*Notify); ok && len(n.Data) > 0 {
			w.add("%x", n.Data)
		}
	})},
	{"isakmp.delete.protoid", each(func(w *fieldWriter, p Payload) {
		if d, ok := p.(*Delete); ok {
			w.add("%d", d.Protocol)
		}
	})},
	{"isakmp.delete.spi", each(func(w *fieldWriter, p Payload) {
		if d, ok := p.(*Delete); ok {
			for _, spi := range d.SPIs {
				w.add("%x", spi)
			}
		}
	})},
	{"isakmp.extradata", func(w *fieldWriter, m *Message) {
		if len(m.Padding) > 0 {
			w.add("%x", m.Padding)
		}
	}},
}

// fieldWriter collects the occurrences of one field.
type fieldWriter struct{ vals []string }

func (w *fieldWriter) add(format string, args ...any) {
	w.vals = append(w.vals, fmt.Sprintf(format, args...))
}

func lastOr(i, n int, more PayloadType) PayloadType {
	if i == n-1 {
		return PayloadNone
	}
	return more
}

func each(fn func(w *fieldWriter, p Payload)) func(*fieldWriter, *Message) {
	return func(w *fieldWriter, m *Message) {
		for _, p := range m.Payloads {
			fn(w, p)
		}
	}
}

func eachProposal(fn func(w *fieldWriter, p *Proposal)) func(*fieldWriter, *Message) {
	return each(func(w *fieldWriter, p Payload) {
		if sa, ok := p.(*SA); ok {
			for _, prop := range sa.Proposals {
				fn(w, prop)
			}
		}
	})
}

func eachTransform(fn func(w *fieldWriter, p *Proposal, t *Transform)) func(*fieldWriter, *Message) {
	return eachProposal(func(w *fieldWriter, p *Proposal) {
		for _, t := range p.Transforms {
			fn(w, p, t)
		}
	})
}

func attrs(phase1 bool, value func(Attribute) string) func(*fieldWriter, *Message) {
	return eachTransform(func(w *fieldWriter, p *Proposal, t *Transform) {
		if (p.Protocol == ProtoISAKMP) != phase1 {
			return
		}
		for _, a := range t.Attributes {
			w.add("%s", value(a))
		}
	})
}

func eachID(fn func(w *fieldWriter, id *ID)) func(*fieldWriter, *Message) {
	return each(func(w *fieldWriter, p Payload) {
		if id, ok := p.(*ID); ok {
			fn(w, id)
		}
	})
}

// TestCaptureTshark compares, frame by frame, what tshark 4.0 reads in the reference
// captures (with their key tables) with what Parse and Decrypt read, and checks that
// tshark reports no expert warning.
func TestCaptureTshark(t *testing.T) {
	tshark := testenv.Tool(t, "tshark", "tshark")
	dir := testenv.Captures(t)
	for _, name := range referenceCaptures {
		t.Run(name, func(t *testing.T) {
			pcap := filepath.Join(dir, name)
			args := []string{"-r", pcap, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"}
			for _, k := range captureKey(t, pcap) {
				args = append(args, "-o", "uat:ikev1_decryption_table:"+k.Line())
			}
			args = append(args, "-e", "frame.number", "-e", "_ws.expert.message")
			for _, f := range tsharkFields {
				args = append(args, "-e", f.name)
			}
			out, err := exec.Command(tshark, args...).Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			want := testenv.TSharkFields(t, out, len(tsharkFields))
			compared := 0
			walkCapture(t, pcap, func(c capturedMsg, m *Message, _ *Crypto) {
				for i, f := range tsharkFields {
					w := &fieldWriter{}
					f.our(w, m)
					got := strings.Join(w.vals, ",")
					if got != want[c.frame][i] {
						t.Errorf("frame %d %s: ikesim %q, tshark %q", c.frame, f.name, got, want[c.frame][i])
					}
					if got != "" {
						compared++
					}
				}
			})
			if compared < 250 {
				t.Errorf("only %d non-empty fields compared", compared)
			}
		})
	}
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz corpus in testdata/fuzz from the reference captures")

// TestFuzzSeedsFromCaptures keeps the fuzz corpus in testdata/fuzz equal to the messages
// of the reference captures: every message seeds FuzzParse, FuzzDissect and
// FuzzHandleDatagram. Run with
// -update-seeds to rewrite it.
func TestFuzzSeedsFromCaptures(t *testing.T) {
	dir := testenv.Captures(t)
	for _, name := range referenceCaptures {
		for _, c := range readCapture(t, filepath.Join(dir, name)) {
			file := fmt.Sprintf("%s-frame%02d", strings.TrimSuffix(name, ".pcap"), c.frame)
			for _, target := range []string{"FuzzParse", "FuzzDissect", "FuzzHandleDatagram"} {
				testenv.FuzzSeed(t, filepath.Join("testdata", "fuzz", target, file), c.data, *updateSeeds,
					"go test ./ike/ikev1 -run FuzzSeeds -update-seeds")
			}
		}
	}
}

// tsharkGroups and ourGroups file tshark's field names and the dissection's under common
// names, so that the byte ranges of the same things can be compared.
var tsharkGroups = map[string]string{
	"isakmp.ispi": "icookie", "isakmp.rspi": "rcookie", "isakmp.nextpayload": "next", "isakmp.version": "version",
	"isakmp.exchangetype": "exchange", "isakmp.flags": "flags", "isakmp.flag_e": "flag", "isakmp.flag_c": "flag",
	"isakmp.flag_a": "flag", "isakmp.messageid": "msgid", "isakmp.length": "length", "isakmp.enc.data": "encrypted",
	"isakmp.typepayload": "payload", "isakmp.reserved": "reserved", "isakmp.payloadlength": "payloadlength",
	"isakmp.sa.doi": "doi", "isakmp.notify.doi": "doi", "isakmp.delete.doi": "doi", "isakmp.sa.situation": "situation",
	"isakmp.prop.number": "propnum", "isakmp.prop.protoid": "protoid", "isakmp.id.protoid": "protoid",
	"isakmp.notify.protoid": "protoid", "isakmp.delete.protoid": "protoid", "isakmp.spisize": "spisize",
	"isakmp.prop.transforms": "transforms", "isakmp.spi": "spi", "isakmp.delete.spi": "spi", "isakmp.spinum": "spinum",
	"isakmp.trans.number": "transnum", "isakmp.trans.id": "transid", "isakmp.ike.attr": "attr", "isakmp.ipsec.attr": "attr",
	"isakmp.key_exchange.data": "ke", "isakmp.nonce": "nonce", "isakmp.hash": "hash", "isakmp.vid_bytes": "vid",
	"isakmp.ike.nat_hash": "nathash", "isakmp.id.type": "idtype", "isakmp.id.port": "port", "isakmp.id.data": "iddata",
	"isakmp.notify.msgtype": "msgtype", "isakmp.notify.data": "notifydata",
}

var ourGroups = map[string]string{
	"Initiator Cookie": "icookie", "Responder Cookie": "rcookie", "Next Payload": "next", "Version": "version",
	"Exchange Type": "exchange", "Flags": "flags", "Encryption": "flag", "Commit": "flag", "Authentication Only": "flag",
	"Message ID": "msgid", "Encrypted Data": "encrypted", "Reserved": "reserved", "Payload Length": "payloadlength",
	"Domain of Interpretation": "doi", "Situation": "situation", "Proposal Number": "propnum", "Protocol ID": "protoid",
	"SPI Size": "spisize", "Number of Transforms": "transforms", "SPI": "spi", "Number of SPIs": "spinum",
	"Transform Number": "transnum", "Transform ID": "transid", "Attribute": "attr", "Key Exchange Data": "ke",
	"Nonce Data": "nonce", "Hash Data": "hash", "Vendor ID Data": "vid", "Hash of Address and Port": "nathash",
	"ID Type": "idtype", "Port": "port", "Identification Data": "iddata", "Notify Message Type": "msgtype",
	"Notification Data": "notifydata",
}

// fieldRange is where one field lies: in the message, or in the decrypted payloads.
type fieldRange struct {
	group      string
	plain      bool
	pos, bytes int
}

// TestCaptureOffsets checks the byte ranges of the dissection against tshark's PDML: the
// header, every payload, proposal, transform and attribute, and the fields of
// ourGroups must cover the same bytes, in the message or in the decrypted payloads.
func TestCaptureOffsets(t *testing.T) {
	tshark := testenv.Tool(t, "tshark", "tshark")
	dir := testenv.Captures(t)
	for _, name := range referenceCaptures {
		t.Run(name, func(t *testing.T) {
			pcap := filepath.Join(dir, name)
			args := []string{"-r", pcap}
			for _, k := range captureKey(t, pcap) {
				args = append(args, "-o", "uat:ikev1_decryption_table:"+k.Line())
			}
			frames := testenv.PDML(t, tshark, args...)
			checked := 0
			walkCapture(t, pcap, func(c capturedMsg, m *Message, cr *Crypto) {
				var want []fieldRange
				for _, proto := range frames[c.frame-1] {
					if proto.Name == "isakmp" {
						want = tsharkRanges(proto.Fields, proto.Pos, -1, want)
					}
				}
				root := Dissect(c.data, cr)
				root.Walk(func(f *ike.Field, _ int) {
					if f.Error != "" {
						t.Errorf("frame %d: %s: %s", c.frame, f.Name, f.Error)
					}
				})
				got := ourRanges(root, nil, false, nil)
				if onlyOurs, onlyTshark := testenv.MultisetDiff(got, want); len(onlyOurs)+len(onlyTshark) > 0 {
					t.Errorf("frame %d: field ranges differ\nonly ikesim %v\nonly tshark %v", c.frame, onlyOurs, onlyTshark)
				}
				checked += len(got)
			})
			if checked < 500 {
				t.Errorf("only %d field ranges compared", checked)
			}
		})
	}
}

// tsharkRanges collects tshark's ranges. Below isakmp.enc.data (at encStart) tshark gives
// payload containers in packet positions and their fields in plaintext positions.
func tsharkRanges(fields []testenv.PDMLField, base, encStart int, out []fieldRange) []fieldRange {
	return tsharkRangesIn("", fields, base, encStart, out)
}

func tsharkRangesIn(parent string, fields []testenv.PDMLField, base, encStart int, out []fieldRange) []fieldRange {
	for _, f := range fields {
		g, ok := tsharkGroups[f.Name]
		switch {
		case !ok:
		case parent == "isakmp.enc.data" && f.Name == "isakmp.typepayload" && len(f.Fields) > 0:
			// tshark places some of these containers in packet positions and some in
			// plaintext ones; their first field, the Next Payload byte, is always in
			// plaintext positions and starts the payload.
			out = append(out, fieldRange{g, true, f.Fields[0].Pos, f.Size})
		case encStart >= 0:
			out = append(out, fieldRange{g, true, f.Pos, f.Size})
		default:
			out = append(out, fieldRange{g, false, f.Pos - base, f.Size})
		}
		inner := encStart
		if f.Name == "isakmp.enc.data" {
			inner = f.Pos
		}
		out = tsharkRangesIn(f.Name, f.Fields, base, inner, out)
	}
	return out
}

// ourRanges collects the dissection's ranges; payload, proposal and transform fields
// are containers, and the fields inside attributes have no tshark counterpart.
func ourRanges(f, parent *ike.Field, plain bool, out []fieldRange) []fieldRange {
	g, ok := ourGroups[f.Name]
	if f.Name == "Length" && parent != nil && parent.Name == "ISAKMP Header" {
		g, ok = "length", true
	}
	if parent != nil && parent.Name == "Attribute" {
		ok = false
	}
	for _, long := range payloadLongNames {
		if f.Name == long {
			g, ok = "payload", true
		}
	}
	if strings.HasPrefix(f.Name, "Proposal #") || strings.HasPrefix(f.Name, "Transform #") {
		g, ok = "payload", true
	}
	if ok {
		out = append(out, fieldRange{g, plain, f.Offset, f.Length})
	}
	for _, c := range f.Children {
		out = ourRanges(c, f, plain || f.Plain != nil, out)
	}
	return out
}
