package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/tui"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// exportImport runs a scenario, writes its pcap and key tables, and imports them back.
func exportImport(t *testing.T, scenario string) (simulated, imported *trace.Trace) {
	t.Helper()
	r, err := simulate(scenario, &seedFlag{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pcap, keys := filepath.Join(dir, "x.pcap"), filepath.Join(dir, "keys")
	if _, err := ikesim(t, "pcap", scenario, "-o", pcap, "--keys", keys); err != nil {
		t.Fatal(err)
	}
	k, err := sim.ReadKeyDir(keys)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := sim.Import(f, sim.ImportOptions{Keys: k})
	if err != nil {
		t.Fatal(err)
	}
	return r.Sim.Trace, tr
}

// ikeMessages lists the IKE messages of a trace as "exchange request|response".
func ikeMessages(tr *trace.Trace) []string {
	var out []string
	for _, e := range tr.Events {
		if e.Kind == trace.KindMessage && !e.Forwarded() && strings.HasPrefix(e.Proto(), "ike") && e.Exchange() != "" {
			out = append(out, fmt.Sprintf("%s %s %s", e.Proto(), e.Exchange(), map[bool]string{false: "request", true: "response"}[e.Response()]))
		}
	}
	return out
}

// TestImportLabelsRequestsByExchange: an imported trace calls each IKE message a request
// or a response as the engines that sent it did. In IKEv1 that comes from the exchange,
// not from the sender's role: the gateway's XAUTH CFG_REQUEST and CFG_SET are requests.
func TestImportLabelsRequestsByExchange(t *testing.T) {
	for _, scenario := range []string{"ikev1-xauth-modecfg", "ikev1-main-quick", "ikev1-nat-dpd", "ikev2-ping", "ikev2-fragmentation"} {
		t.Run(scenario, func(t *testing.T) {
			simulated, imported := exportImport(t, scenario)
			want, got := ikeMessages(simulated), ikeMessages(imported)
			if len(want) == 0 || strings.Join(want, "\n") != strings.Join(got, "\n") {
				t.Errorf("the imported messages differ from the simulated ones:\nimported:\n%s\nsimulated:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestImportReassemblesFragments: the IKE_AUTH of the RFC 7383 scenario, exported as SKF
// fragments, comes back whole on its last fragment: the payloads in the summary and the
// decrypted, reassembled payloads in the dissection.
func TestImportReassemblesFragments(t *testing.T) {
	_, tr := exportImport(t, "ikev2-fragmentation")
	var last []*trace.Event
	for _, e := range tr.Events {
		if e.Exchange() == "IKE_AUTH" {
			last = append(last, e)
		}
	}
	if len(last) != 4 {
		t.Fatalf("%d IKE_AUTH datagrams, want 2 fragments each way", len(last))
	}
	for i, want := range []string{"HDR, SKF(1/2)", "HDR, SKF(2/2) {IDi, CERT, CERTREQ, IDr, N(INITIAL_CONTACT), AUTH, SAi2, TSi, TSr}",
		"HDR, SKF(1/2)", "HDR, SKF(2/2) {IDr, CERT, AUTH, SAr2, TSi, TSr}"} {
		if last[i].Summary() != want {
			t.Errorf("IKE_AUTH datagram %d: %q, want %q", i+1, last[i].Summary(), want)
		}
	}
	// The facts as data: a fragment's payloads, and on the last one the whole message's.
	for i, want := range []string{"SKF", "SK IDi CERT CERTREQ IDr N AUTH SA TSi TSr", "SKF", "SK IDr CERT AUTH SA TSi TSr"} {
		if got := strings.Join(last[i].Payloads(), " "); got != want {
			t.Errorf("IKE_AUTH datagram %d has payloads %q, want %q", i+1, got, want)
		}
	}
	var reassembled *ike.Field
	last[1].Fields().Walk(func(f *ike.Field, _ int) {
		if f.Name == "Reassembled payloads" {
			reassembled = f
		}
	})
	if reassembled == nil {
		t.Fatal("the last fragment's dissection has no reassembled payloads")
	}
	var names []string
	reassembled.Walk(func(f *ike.Field, depth int) {
		if depth == 1 {
			names = append(names, f.Name)
		}
	})
	joined := strings.Join(names, ", ")
	for _, want := range []string{"Identification - Initiator", "Certificate", "Authentication", "Traffic Selector - Initiator"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the reassembled payloads %q lack %s", joined, want)
		}
	}
}

// TestImportHintsAtNATTPorts: a capture with UDP datagrams that are neither IKE nor ESP on
// known ports says which ports they use and how to name them.
func TestImportHintsAtNATTPorts(t *testing.T) {
	// One IPv4/UDP datagram 127.0.0.1:14500 -> 127.0.0.1:15500 with 16 bytes that look
	// like ESP, in a pcap of raw IP.
	pcap := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	pcap = binary.LittleEndian.AppendUint16(pcap, 2)
	pcap = binary.LittleEndian.AppendUint16(pcap, 4)
	pcap = append(pcap, make([]byte, 8)...)
	pcap = binary.LittleEndian.AppendUint32(pcap, 65535)
	pcap = binary.LittleEndian.AppendUint32(pcap, 101) // LINKTYPE_RAW
	ip := []byte{0x45, 0, 0, 44, 0, 1, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
		0x38, 0xa4, 0x3c, 0x8c, 0, 24, 0, 0, // UDP 14500 -> 15500, no checksum
		0xc1, 0x2d, 0x4a, 0x67, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8}
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum+sum>>16))
	pcap = binary.LittleEndian.AppendUint32(pcap, 1)
	pcap = binary.LittleEndian.AppendUint32(pcap, 0)
	pcap = binary.LittleEndian.AppendUint32(pcap, uint32(len(ip)))
	pcap = binary.LittleEndian.AppendUint32(pcap, uint32(len(ip)))
	pcap = append(pcap, ip...)
	file := filepath.Join(t.TempDir(), "esp-only.pcap")
	if err := os.WriteFile(file, pcap, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ikesim(t, "import", file)
	if err == nil || !strings.Contains(err.Error(), "ports 14500,15500") || !strings.Contains(err.Error(), "--natt-ports 14500,15500") {
		t.Errorf("import: %v", err)
	}
	out, err := ikesim(t, "import", file, "--natt-ports", "15500")
	if err != nil || !strings.Contains(out, "ESP SPI 0xc12d4a67 seq 1") {
		t.Errorf("import --natt-ports 15500: %v\n%s", err, out)
	}
}

// TestRenderStatesOfAnImportedTrace: a strongSwan capture, imported, draws as a states
// view: the IKE SA states its messages show, for either node.
func TestRenderStatesOfAnImportedTrace(t *testing.T) {
	dir := testenv.Captures(t)
	trace := filepath.Join(t.TempDir(), "psk.jsonl")
	if _, err := ikesim(t, "import", filepath.Join(dir, "ikev2-psk.pcap"), "--keys", filepath.Join(dir, "ikev2-psk.keys"), "-o", trace); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{}, {"--node", "192.168.77.2"}} {
		out, err := ikesim(t, append([]string{"render", trace, "--view", "states", "--format", "dot"}, args...)...)
		if err != nil {
			t.Fatalf("render --view states %v: %v", args, err)
		}
		for _, want := range []string{`id="state-IKE SA-ESTABLISHED", class="state seen"`, `id="state-IKE SA-DESTROYED", class="state seen"`} {
			if !strings.Contains(out, want) {
				t.Errorf("render --view states %v: no %s in\n%s", args, want, out)
			}
		}
	}
	// The initiator went through CONNECTING and DELETING, as the messages show.
	out, _ := ikesim(t, "render", trace, "--view", "states", "--format", "dot", "--node", "192.168.77.1")
	for _, edge := range []string{"t-IKE SA-CREATED-CONNECTING", "t-IKE SA-CONNECTING-ESTABLISHED", "t-IKE SA-ESTABLISHED-DELETING", "t-IKE SA-DELETING-DESTROYED"} {
		if !strings.Contains(out, `id="`+edge+`", class="transition seen"`) {
			t.Errorf("the initiator's states view lacks the transition %s", edge)
		}
	}
}

// TestImportLoopbackCaptureAndWalkThrough: the loopback capture of charon's own ports,
// imported as README showed it, prints its diagram, and the walkthrough of the saved
// trace opens and draws (both crashed on the one lane its single address made).
func TestImportLoopbackCaptureAndWalkThrough(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "probe.jsonl")
	out, err := ikesim(t, "import", filepath.Join(testenv.Captures(t), "probe-loopback-marker.pcap"), "--natt-ports", "15500,14500", "-o", trace)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "3 datagrams") || !strings.Contains(out, "127.0.0.1:51987") || !strings.Contains(out, "IKE_SA_INIT response") {
		t.Errorf("import printed:\n%s", out)
	}
	cfg, err := tuiConfig(trace, &seedFlag{})
	if err != nil {
		t.Fatal(err)
	}
	scr := tcell.NewSimulationScreen("UTF-8")
	if err := scr.Init(); err != nil {
		t.Fatal(err)
	}
	scr.SetSize(120, 40)
	u := tui.New(cfg)
	u.App().SetScreen(scr)
	done := make(chan error, 1)
	go func() { done <- u.App().Run() }()
	// The trace opens with the nodes' topology events: go to the last step, so that
	// the messages show, and wait for the screen to show it.
	scr.InjectKey(tcell.KeyEnd, 0, tcell.ModNone)
	var screen strings.Builder
	for try := 0; try < 200; try++ {
		drawn := make(chan struct{})
		u.App().QueueUpdateDraw(func() {})
		u.App().QueueUpdate(func() { close(drawn) })
		<-drawn
		cells, w, _ := scr.GetContents()
		screen.Reset()
		for i, c := range cells {
			if len(c.Runes) > 0 {
				screen.WriteRune(c.Runes[0])
			}
			if (i+1)%w == 0 {
				screen.WriteByte('\n')
			}
		}
		if strings.Contains(screen.String(), "IKE_SA_INIT request") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	u.App().Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(screen.String(), "127.0.0.1:") || !strings.Contains(screen.String(), "IKE_SA_INIT request") {
		t.Errorf("the walkthrough does not show the loopback nodes and the first message:\n%s", screen.String())
	}
}

// TestChaCha20KeysAreWrittenAndImported: the keys of ChaCha20-Poly1305 SAs, which tshark
// 4.0 cannot use, are written in the form ikesim import reads, with a note on stderr for
// each SA, left out of the tshark command, and the import decrypts IKE and ESP with them.
func TestChaCha20KeysAreWrittenAndImported(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "chacha.yaml")
	if _, err := ikesim(t, "new", "chacha", "-o", lab); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(lab)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "aes128-sha256-ecp256", "chacha20poly1305-prfsha256-x25519")
	s = strings.ReplaceAll(s, "esp_proposals: [aes128gcm16]", "esp_proposals: [chacha20poly1305]")
	if err := os.WriteFile(lab, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	pcap, keys := filepath.Join(dir, "c.pcap"), filepath.Join(dir, "keys")
	var stdout, stderr strings.Builder
	if err := run([]string{"pcap", lab, "-o", pcap, "--keys", keys}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(stderr.String(), "tshark 4.0 cannot decrypt"); n != 5 || strings.Contains(stdout.String(), "CHACHA") {
		t.Errorf("stderr should note the IKE SA and the 4 ESP SAs (%d notes), and the tshark command leave their records out:\n%s\n%s", n, stderr.String(), stdout.String())
	}
	for _, name := range []string{"ikev2_decryption_table", "esp_sa"} {
		if b, err := os.ReadFile(filepath.Join(keys, name)); err != nil || !strings.Contains(string(b), "ENCR_CHACHA20_POLY1305") {
			t.Errorf("%s holds no ChaCha20-Poly1305 record: %v\n%s", name, err, b)
		}
	}
	out, err := ikesim(t, "import", pcap, "--keys", keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"IKE_AUTH request HDR, SK {IDi", "CREATE_CHILD_SA request HDR, SK {", "{10.1.0.10 -> 10.2.0.20, ICMP}"} {
		if !strings.Contains(out, want) {
			t.Errorf("the import does not decrypt %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "undecryptable") || strings.Contains(out, "no key") {
		t.Errorf("the import left something encrypted:\n%s", out)
	}
}

// TestImportWritesTopology: an imported trace opens with a topology event for each node
// the capture shows, a real IKE peer, and the topology view reads the network from them:
// the nodes, links and IKE peers its messages show, each node with its address.
func TestImportWritesTopology(t *testing.T) {
	for _, scenario := range []string{"ikev2-nat", "ikev1-nat-dpd"} {
		t.Run(scenario, func(t *testing.T) {
			_, tr := exportImport(t, scenario)
			var topo, rest []*trace.Event
			for _, e := range tr.Events {
				if e.Kind == trace.KindTopology {
					if len(rest) > 0 {
						t.Fatalf("topology event %d after other events", e.Seq)
					}
					if e.Topology.NodeKind != "peer" {
						t.Errorf("node %s is a %s, want a peer", e.Node, e.Topology.NodeKind)
					}
					topo = append(topo, e)
					continue
				}
				rest = append(rest, e)
			}
			if len(topo) < 2 {
				t.Fatalf("%d topology events", len(topo))
			}
			got := render.TopologyOf(tr, scenario)
			inferred := render.TopologyOf(&trace.Trace{Events: rest}, scenario) // from the messages alone
			links := func(ls []render.TopoLink) map[[2]string]bool {
				m := map[[2]string]bool{}
				for _, l := range ls {
					m[[2]string{min(l.A, l.B), max(l.A, l.B)}] = true
				}
				return m
			}
			if len(got.Nodes) != len(inferred.Nodes) || !reflect.DeepEqual(links(got.Links), links(inferred.Links)) ||
				!reflect.DeepEqual(got.Peers, inferred.Peers) {
				t.Errorf("the topology events give\n%+v\nthe messages\n%+v", got, inferred)
			}
			for i, n := range got.Nodes {
				if n.Name != inferred.Nodes[i].Name || n.Kind != "peer" || len(n.Addrs) != 1 || n.Addrs[0] != n.Name+"/32" {
					t.Errorf("node %d: %+v, from the messages %+v", i, n, inferred.Nodes[i])
				}
			}
		})
	}
}

// TestImportVerifiesAHICVs: the key tables carry AH SAs as ikesim lines of esp_sa, and
// import verifies the ICV of every AH packet with them: in lab-ah-esp each one, the ESP
// of the bundle inside it decrypted too; in lab-ah-nat, captured on every hop, the
// packets the NAT rewrote fail, and say so.
func TestImportVerifiesAHICVs(t *testing.T) {
	_, tr := exportImport(t, "lab-ah-esp")
	verified := 0
	for _, e := range tr.Events {
		if e.Kind != trace.KindMessage || e.Proto() != "ah" {
			continue
		}
		if !strings.Contains(e.Summary(), "(ICV verified) {10.") || !strings.Contains(e.Summary(), "ICMP}") {
			t.Errorf("lab-ah-esp: %s", e.Summary())
		}
		verified++
	}
	if verified == 0 {
		t.Fatal("lab-ah-esp: no AH packet imported")
	}
	dir := t.TempDir()
	pcap, keys := filepath.Join(dir, "nat.pcap"), filepath.Join(dir, "keys")
	if _, err := ikesim(t, "pcap", "lab-ah-nat", "--all-hops", "-o", pcap, "--keys", keys); err != nil {
		t.Fatal(err)
	}
	out, err := ikesim(t, "import", pcap, "--keys", keys)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "(ICV verified)") || !strings.Contains(out, "(ICV mismatch)") ||
		!strings.Contains(out, "does not verify") || strings.Contains(out, "ICV not verified") {
		t.Errorf("lab-ah-nat: the import should verify the ICVs before the NAT and fail those after it:\n%s", out)
	}
}
