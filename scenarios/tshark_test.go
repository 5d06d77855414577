package scenarios

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev1"
	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim/trace"
)

// tshark runs tshark on a pcap with the key tables' options and returns its output.
func tshark(t *testing.T, bin, pcap string, keys trace.KeyTables, extra ...string) string {
	t.Helper()
	args := append([]string{"-r", pcap}, keys.TsharkArgs()...)
	args = append(args, extra...)
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("tshark %v: %v", extra, err)
	}
	return string(out)
}

func lines(s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	return strings.Count(s, "\n") + 1
}

// writeCapture writes tr to the file at path with write (trace.WritePcap or
// trace.WritePcapng, the datagrams as sent) and returns path.
func writeCapture(t *testing.T, tr *trace.Trace, path string, write func(*trace.Trace, io.Writer, bool) error) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := write(tr, f, false); err != nil {
		t.Fatal(err)
	}
	return path
}

// wireCounts counts the datagrams a trace put on the wires, forwarded copies aside:
// all of them, IKEv2 messages with an SK payload, encrypted IKEv1 messages and ESP
// packets (those inside AH of an AH+ESP bundle too).
func wireCounts(tr *trace.Trace) (frames, sk, v1enc, esp int) {
	frames, sk, v1enc, esp, _ = wireCountsAH(tr)
	return
}

// wireCountsAH is wireCounts with the AH packets besides.
func wireCountsAH(tr *trace.Trace) (frames, sk, v1enc, esp, ah int) {
	for _, e := range tr.Events {
		if e.Kind != trace.KindMessage || e.Forwarded() {
			continue
		}
		frames++
		switch {
		case e.Proto() == "ikev2" && e.Exchange() != "IKE_SA_INIT":
			sk++
		case e.Proto() == "ikev1" && v1Encrypted(e):
			v1enc++
		case e.Proto() == "esp":
			esp++
		case e.Proto() == "ah":
			ah++
			if len(e.Bytes()) > 20 && e.Bytes()[20] == 50 { // AH's Next Header: ESP
				esp++
			}
		}
	}
	return
}

// v1Encrypted reports whether an IKEv1 message event's datagram has the E flag set in its
// ISAKMP header: everything after the header is encrypted (RFC 2408, Section 3.1).
func v1Encrypted(e *trace.Event) bool {
	ip, err := ipsec.ParseIP(e.Bytes())
	if err != nil {
		return false
	}
	u, err := ipsec.ParseUDP(ip.Payload, ip.Src, ip.Dst)
	if err != nil {
		return false
	}
	msg := u.Payload
	if e.Encap() { // on port 4500, after the non-ESP marker (RFC 3948, Section 2.2)
		msg = msg[min(4, len(msg)):]
	}
	h, err := ikev1.ParseHeader(msg)
	return err == nil && h.Encrypted()
}

// tsharkDecryptsIKE checks that tshark finds no malformed packet and no expert warning
// in pcap, and decrypts sk SK payloads and v1enc encrypted IKEv1 messages with keys. It
// returns tshark's verbose dissection and how many integrity checksums it marks correct.
func tsharkDecryptsIKE(t *testing.T, bin, pcap string, keys trace.KeyTables, sk, v1enc int) (verbose string, correct int) {
	t.Helper()
	if bad := tshark(t, bin, pcap, keys, "-Y", "_ws.malformed or _ws.expert.severity >= 6291456",
		"-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message"); strings.TrimSpace(bad) != "" {
		t.Errorf("malformed packets or expert warnings:\n%s", bad)
	}
	if got := lines(tshark(t, bin, pcap, keys, "-Y", "isakmp.enc.decrypted", "-T", "fields", "-e", "frame.number")); got != sk {
		t.Errorf("tshark decrypted %d SK payloads, want %d", got, sk)
	}
	// An IKEv1 message tshark decrypts shows its inner payloads; one it cannot shows
	// only "Encrypted Data" (or is malformed, which the filter above catches).
	if got := lines(tshark(t, bin, pcap, keys, "-Y", "isakmp.version == 0x10 and isakmp.flag_e == 1 and isakmp.typepayload",
		"-T", "fields", "-e", "frame.number")); got != v1enc {
		t.Errorf("tshark decrypted %d encrypted IKEv1 messages, want %d", got, v1enc)
	}
	verbose = tshark(t, bin, pcap, keys, "-V")
	for _, l := range strings.Split(verbose, "\n") {
		if strings.Contains(l, "Integrity Checksum Data") && strings.HasSuffix(l, "[correct]") {
			correct++
		}
	}
	if strings.Contains(verbose, "[incorrect") {
		t.Error("tshark marks an integrity checksum incorrect")
	}
	return verbose, correct
}

// TestTsharkDecryptsEveryBuiltinPcap exports each built-in scenario as a pcap with
// its key tables and has tshark dissect and decrypt it: no malformed packet, no
// expert warning, every SK payload decrypted with a correct ICD, every ESP packet
// decrypted to its ICMP echo with a good ICV.
func TestTsharkDecryptsEveryBuiltinPcap(t *testing.T) {
	bin := testenv.Tool(t, "tshark", "tshark")
	for _, name := range Builtins() {
		t.Run(name, func(t *testing.T) {
			s, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			tr := run(t, s, s.Seed).Sim.Trace
			dir := t.TempDir()
			pcap := writeCapture(t, tr, filepath.Join(dir, name+".pcap"), trace.WritePcap)
			keys := trace.Keys(tr)
			if len(keys.Skipped) > 0 {
				t.Fatalf("SAs tshark cannot decrypt: %v", keys.Skipped)
			}
			if err := keys.Write(filepath.Join(dir, "keys")); err != nil {
				t.Fatal(err)
			}
			frames, sk, v1enc, esp, ah := wireCountsAH(tr)
			if (sk+v1enc == 0 || esp+ah == 0) && !strings.HasPrefix(name, "lab-") && !expectsFailure(s) {
				// Labs may teach a failure; every walkthrough must exercise both.
				t.Fatalf("scenario has %d encrypted IKE messages and %d ESP packets; the test needs both", sk+v1enc, esp)
			}
			if got := lines(tshark(t, bin, pcap, keys, "-T", "fields", "-e", "frame.number")); got != frames {
				t.Errorf("tshark reads %d frames, the trace has %d", got, frames)
			}
			if _, correct := tsharkDecryptsIKE(t, bin, pcap, keys, sk, v1enc); correct != sk {
				t.Errorf("tshark marks %d integrity checksums correct, want %d", correct, sk)
			}
			// tshark dissects AH and what it carries, and does not verify AH ICVs:
			// ipsec's known-answer tests do.
			// Every ESP packet decrypts to its ICMP or ICMPv6 echo.
			echo := "(icmp.type == 8 or icmp.type == 0 or icmpv6.type == 128 or icmpv6.type == 129)"
			for filter, want := range map[string]int{"esp": esp, "esp.icv_good == 1": esp - espWithoutICV(tr), "esp and " + echo: esp,
				"ah": ah, "ah and " + echo: ah} {
				if got := lines(tshark(t, bin, pcap, keys, "-Y", filter, "-T", "fields", "-e", "frame.number")); got != want {
					t.Errorf("%q matches %d frames, want %d", filter, got, want)
				}
			}
		})
	}
}

// espWithoutICV counts the ESP packets a trace put on the wires whose SA has no ICV: ESP
// without an integrity algorithm inside AH (a bundle, "ah-sha-hmac esp-aes"), where AH
// alone protects the integrity.
func espWithoutICV(tr *trace.Trace) int {
	noICV := map[string]bool{}
	for _, e := range tr.Events {
		if s := e.SA; e.Kind == trace.KindSA && s != nil && s.Type == "child" && s.Protocol == "esp" && s.Integ == 0 &&
			ike.Encr(s.Encr) != nil && !ike.Encr(s.Encr).AEAD() {
			noICV[s.SPIIn], noICV[s.SPIOut] = true, true
		}
	}
	n := 0
	for _, e := range tr.Events {
		if e.Kind == trace.KindMessage && !e.Forwarded() && (e.Proto() == "esp" || e.Proto() == "ah") && noICV[e.SPI()] {
			n++
		}
	}
	return n
}
