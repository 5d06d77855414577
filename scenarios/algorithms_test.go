package scenarios

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// algorithmScenario is a site-to-site VPN with the given IKE and ESP proposals: pings
// cross the Child SA, and the IKE SA is rekeyed.
func algorithmScenario(t *testing.T, version int, ike, esp string) *Scenario {
	t.Helper()
	rekey := "  - {at: 8s, rekey: {node: gw-a, connection: vpn}}\n"
	if version == 1 {
		rekey = ""
	}
	src := fmt.Sprintf(`name: algorithms
seed: 5
duration: 20s
topology:
  nodes:
    - {name: host-a, kind: host, address: 10.1.0.10/24}
    - {name: gw-a, kind: gateway, addresses: [10.1.0.1/24, 198.51.100.1/24]}
    - {name: gw-b, kind: gateway, addresses: [198.51.100.2/24, 10.2.0.1/24]}
    - {name: host-b, kind: host, address: 10.2.0.20/24}
  links:
    - {between: [host-a, gw-a], delay: 1ms}
    - {between: [gw-a, gw-b], delay: 10ms}
    - {between: [gw-b, host-b], delay: 1ms}
connections:
  gw-a:
    vpn:
      version: %[1]d
      local_addrs: [198.51.100.1]
      remote_addrs: [198.51.100.2]
      proposals: [%[2]s]
      local: {auth: psk, id: gw-a.example}
      remote: {auth: psk, id: gw-b.example}
      children:
        net: {local_ts: [10.1.0.0/24], remote_ts: [10.2.0.0/24], esp_proposals: [%[3]s], start_action: trigger}
  gw-b:
    vpn:
      version: %[1]d
      local_addrs: [198.51.100.2]
      remote_addrs: [198.51.100.1]
      proposals: [%[2]s]
      local: {auth: psk, id: gw-b.example}
      remote: {auth: psk, id: gw-a.example}
      children:
        net: {local_ts: [10.2.0.0/24], remote_ts: [10.1.0.0/24], esp_proposals: [%[3]s]}
secrets:
  - {type: ike, ids: [gw-a.example, gw-b.example], secret: "algorithm-lab"}
timeline:
  - {at: 0s, ping: {from: host-a, to: 10.2.0.20, count: 2, interval: 1s}}
%[4]s  - {at: 12s, ping: {from: host-a, to: 10.2.0.20, count: 2, interval: 1s}}
expect:
  - ike_sa: {between: [gw-a, gw-b], state: established}
    says: "The IKE SA comes up."
  - pings: {from: host-a, answered: 4, of: 4}
    says: "Pings cross the Child SA."
`, version, ike, esp, rekey)
	s, err := Parse([]byte(src), "algorithms.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// algorithmCases are the algorithms of RFC 5930, 5282, 4309, 5529, 4494, 4615, 4595,
// 5114, 6954 and 8031, each in a proposal, in IKEv2 and, where IKEv1 has them, in IKEv1.
// tsharkIKE and tsharkESP say whether tshark 4.0 decrypts the IKE and ESP traffic;
// icvChecked, whether it checks the IKE ICV too (it cannot check AES-CMAC).
var algorithmCases = []struct {
	version              int
	ike, esp             string
	tsharkIKE, tsharkESP bool
	icvChecked           bool
}{
	{2, "aes128ctr-sha256-modp2048s256", "aes128ctr-sha1", true, true, true},
	{2, "aes256ctr-sha1_160-ecp256bp", "aes256ctr-sha256", true, true, true},
	{2, "aes128ccm16-prfsha256-ecp224bp", "aes128ccm8", true, false, true},
	{2, "aes192ccm12-prfaescmac-curve448", "aes256ccm12", true, false, true},
	{2, "aes256ccm8-prfsha384-modp2048s224", "aes192ccm16", true, false, true},
	{2, "aes128-aescmac-modp1024s160", "aes128-aescmac", true, true, false},
	{2, "camellia256-sha512-ecp384bp", "camellia128-sha256", false, false, false},
	{2, "camellia-aescmac-ecp512bp", "camellia192-sha1_160", false, false, false},
	{1, "camellia256-sha256-ecp256bp", "aes128ctr-sha1", false, true, false},
	{1, "aes128-sha1-curve448", "aes256ccm16", true, false, false},
	{1, "aes256-sha256-modp2048s256", "camellia192-sha256", true, false, false},
}

// TestNewAlgorithmsEndToEnd runs each case, then checks that tshark decrypts the pcap
// with the key tables where tshark 4.0 can, without a warning, and that ikesim import
// decrypts all of it.
func TestNewAlgorithmsEndToEnd(t *testing.T) {
	for _, c := range algorithmCases {
		t.Run(fmt.Sprintf("v%d/%s/%s", c.version, c.ike, c.esp), func(t *testing.T) {
			s := algorithmScenario(t, c.version, c.ike, c.esp)
			r := run(t, s, s.Seed)
			tr := r.Sim.Trace
			if res := Grade(s, tr); !Passed(res) {
				t.Fatalf("%s", FormatResults(res))
			}
			for _, e := range tr.Events {
				if e.Kind == trace.KindError {
					t.Errorf("error event on %s: %s", e.Node, e.Text)
				}
			}
			dir := t.TempDir()
			pcap := filepath.Join(dir, "algorithms.pcap")
			var buf bytes.Buffer
			if err := trace.WritePcap(tr, &buf, false); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(pcap, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			keys := trace.Keys(tr)
			if err := keys.Write(filepath.Join(dir, "keys")); err != nil {
				t.Fatal(err)
			}
			checkImportDecrypts(t, pcap, filepath.Join(dir, "keys"))
			if testing.Short() {
				return
			}
			checkTsharkDecrypts(t, tr, pcap, keys, c.tsharkIKE, c.tsharkESP, c.icvChecked)
		})
	}
}

// checkImportDecrypts imports the pcap with the key tables as written and checks that
// every encrypted IKE message and every ESP packet comes out decrypted.
func checkImportDecrypts(t *testing.T, pcap, keyDir string) {
	t.Helper()
	keys, err := sim.ReadKeyDir(keyDir)
	if err != nil || len(keys.Skipped) > 0 {
		t.Fatalf("reading the key tables back: %v %v", err, keys.Skipped)
	}
	f, err := os.Open(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := sim.Import(f, sim.ImportOptions{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	var ike, esp int
	for _, e := range tr.Events {
		switch {
		case strings.Contains(e.Summary(), "undecryptable") || strings.Contains(e.Summary(), "no key"):
			t.Errorf("import: %s", e.Summary())
		case e.Proto() == "esp":
			if !strings.Contains(e.Summary(), "ICMP") {
				t.Errorf("import: ESP not decrypted to ICMP: %s", e.Summary())
			}
			esp++
		case strings.Contains(e.Summary(), "SK {") || strings.HasPrefix(e.Summary(), "HDR*"):
			ike++
		}
	}
	if ike == 0 || esp == 0 {
		t.Errorf("import saw %d encrypted IKE messages and %d ESP packets", ike, esp)
	}
}

// checkTsharkDecrypts has tshark read the pcap with the tables' lines it knows.
func checkTsharkDecrypts(t *testing.T, tr *trace.Trace, pcap string, keys trace.KeyTables, ikeOK, espOK, icvChecked bool) {
	t.Helper()
	bin := testenv.Tool(t, "tshark", "tshark")
	_, sk, v1enc, esp := wireCounts(tr)
	wantSK, wantV1, wantESP := 0, 0, 0
	if ikeOK {
		wantSK, wantV1 = sk, v1enc
	}
	if espOK {
		wantESP = esp
	}
	verbose, correct := tsharkDecryptsIKE(t, bin, pcap, keys, wantSK, wantV1)
	if icvChecked && strings.Count(verbose, "Integrity Checksum Data") > 0 {
		if correct != wantSK {
			t.Errorf("tshark marks %d integrity checksums correct, want %d", correct, wantSK)
		}
	}
	if got := lines(tshark(t, bin, pcap, keys, "-Y", "esp and (icmp.type == 8 or icmp.type == 0)", "-T", "fields", "-e", "frame.number")); got != wantESP {
		t.Errorf("tshark decrypted %d ESP packets to ICMP, want %d", got, wantESP)
	}
}
