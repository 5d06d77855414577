package scenarios

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// builtinCapture runs a built-in scenario and returns its trace, pcap and key tables.
func builtinCapture(t *testing.T, name string) (*trace.Trace, []byte, string) {
	t.Helper()
	s, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	tr := run(t, s, s.Seed).Sim.Trace
	var pcap bytes.Buffer
	if err := trace.WritePcap(tr, &pcap, false); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "keys")
	if err := trace.Keys(tr).Write(dir); err != nil {
		t.Fatal(err)
	}
	return tr, pcap.Bytes(), dir
}

// toPcapng rewrites a raw-IPv4 pcap as pcapng the way a capture on two interfaces would
// look: every other packet on an Ethernet interface (with a MAC header around it),
// the others on a raw IPv4 one; timestamps in nanoseconds.
func toPcapng(t *testing.T, pcap []byte) []byte {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(pcap))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&out, pcapgo.NgInterface{Name: "raw0", LinkType: layers.LinkTypeIPv4, SnapLength: 65535},
		pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	eth, err := w.AddInterface(pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			hdr := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00} // dst, src, EtherType IPv4
			data = append(hdr, data...)
			ci.InterfaceIndex = eth
			ci.CaptureLength, ci.Length = len(data), len(data)
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	z := gzip.NewWriter(&out)
	if _, err := z.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// importJSON imports a capture with the key tables in keyDir and returns the trace as
// JSON Lines.
func importJSON(t *testing.T, capture []byte, keyDir string) []byte {
	t.Helper()
	keys, err := sim.ReadKeyDir(keyDir)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := sim.Import(bytes.NewReader(capture), sim.ImportOptions{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := tr.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestImportPcapngAndGzipGiveThePcapTrace imports one capture as pcap, as pcapng on two
// interfaces with nanosecond timestamps, and both gzip-compressed: the traces are the
// same, byte for byte.
func TestImportPcapngAndGzipGiveThePcapTrace(t *testing.T) {
	for _, name := range []string{"ikev2-modern", "ikev1-nat-dpd"} {
		t.Run(name, func(t *testing.T) {
			_, pcap, keys := builtinCapture(t, name)
			want := importJSON(t, pcap, keys)
			if !bytes.Contains(want, []byte(`"proto":"esp"`)) || bytes.Contains(want, []byte("undecryptable")) {
				t.Fatalf("the pcap does not import decrypted:\n%.2000s", want)
			}
			ng := toPcapng(t, pcap)
			for form, capture := range map[string][]byte{"pcapng": ng, "pcap.gz": gzipped(t, pcap), "pcapng.gz": gzipped(t, ng)} {
				if got := importJSON(t, capture, keys); !bytes.Equal(got, want) {
					t.Errorf("%s imports to a different trace (%d bytes of JSON, want %d)", form, len(got), len(want))
				}
			}
		})
	}
	if _, err := sim.Import(bytes.NewReader(gzipped(t, []byte("not a capture"))), sim.ImportOptions{}); err == nil ||
		!strings.Contains(err.Error(), "not a pcap or pcapng file") {
		t.Errorf("a gzip-compressed non-capture: %v", err)
	}
	if _, err := sim.Import(bytes.NewReader([]byte{0x1f, 0x8b, 1}), sim.ImportOptions{}); err == nil ||
		!strings.Contains(err.Error(), "gzip") {
		t.Errorf("a broken gzip stream: %v", err)
	}
}

// TestImportWithUnknownKeyTableLines adds, before each table's records, a record with an
// algorithm ikesim lacks: import warns once per such line and still decrypts every SA.
func TestImportWithUnknownKeyTableLines(t *testing.T) {
	_, pcap, keys := builtinCapture(t, "ikev2-modern")
	want := importJSON(t, pcap, keys)
	for table, bad := range map[string]string{
		"ikev2_decryption_table": `0102030405060708,0102030405060709,00,00,"AES-CBC-128 [RFC3602]",00,00,"HMAC_RIPEMD_160 [RFC2857]"`,
		"esp_sa":                 `"IPv4","*","*","0x00000001","BLOWFISH-CBC [RFC2451]","0x00112233445566778899aabbccddeeff","NULL",""`,
	} {
		path := filepath.Join(keys, table)
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append([]byte(bad+"\n"), old...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k, err := sim.ReadKeyDir(keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Skipped) != 2 || !strings.Contains(strings.Join(k.Skipped, "\n"), "ikev2_decryption_table line 1 skipped") ||
		!strings.Contains(strings.Join(k.Skipped, "\n"), "esp_sa line 1 skipped") {
		t.Errorf("skipped lines: %q", k.Skipped)
	}
	if got := importJSON(t, pcap, keys); !bytes.Equal(got, want) {
		t.Error("with the unknown lines, import gives another trace")
	}
}

// TestPcapngNarrationInTshark writes a built-in scenario as pcapng: tshark reads it with
// no warning, decrypts it with the key tables, and shows the trace's narration as packet
// comments.
func TestPcapngNarrationInTshark(t *testing.T) {
	bin := testenv.Tool(t, "tshark", "tshark")
	s, err := Load("ikev2-modern")
	if err != nil {
		t.Fatal(err)
	}
	tr := run(t, s, s.Seed).Sim.Trace
	dir := t.TempDir()
	path := writeCapture(t, tr, filepath.Join(dir, "modern.pcapng"), trace.WritePcapng)
	keys := trace.Keys(tr)
	frames, sk, v1enc, _ := wireCounts(tr)
	if got := lines(tshark(t, bin, path, keys, "-T", "fields", "-e", "frame.number")); got != frames {
		t.Errorf("tshark reads %d frames, want %d", got, frames)
	}
	tsharkDecryptsIKE(t, bin, path, keys, sk, v1enc)
	if got := lines(tshark(t, bin, path, keys, "-Y", "esp.icv_good == 1 and icmp", "-T", "fields", "-e", "frame.number")); got == 0 {
		t.Error("tshark decrypted no ESP packet of the pcapng")
	}
	comments := tshark(t, bin, path, keys, "-Y", "frame.comment", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|",
		"-e", "frame.number", "-e", "frame.comment")
	if got := lines(comments); got != frames {
		t.Errorf("%d frames have comments, want %d", got, frames)
	}
	for _, want := range []string{
		"gw-a -> gw-b: IKE_SA_INIT request HDR, SAi1, KEi, Ni",
		"gw-b: Compare the initiator's proposals with local policy and select one",
		"gw-a: IKE SA up aes256gcm16-prfsha384-x25519",
	} {
		if !strings.Contains(comments, want) {
			t.Errorf("no packet comment says %q; comments:\n%.3000s", want, comments)
		}
	}
	// The same trace imported from the pcapng.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pcap bytes.Buffer
	if err := trace.WritePcap(tr, &pcap, false); err != nil {
		t.Fatal(err)
	}
	keyDir := filepath.Join(dir, "keys")
	if err := keys.Write(keyDir); err != nil {
		t.Fatal(err)
	}
	if ng, p := importJSON(t, data, keyDir), importJSON(t, pcap.Bytes(), keyDir); !bytes.Equal(ng, p) {
		// pcapng keeps nanoseconds where pcap keeps microseconds; compare without times.
		if stripTimes(ng) != stripTimes(p) {
			t.Error("the pcapng imports to another trace than the pcap")
		}
	}
}

// stripTimes removes the "t" and "arrive" fields of JSON Lines events.
func stripTimes(b []byte) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if i := strings.Index(l, `"t":`); i >= 0 {
			j := strings.IndexByte(l[i:], ',')
			if j > 0 {
				l = l[:i] + l[i+j+1:]
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
