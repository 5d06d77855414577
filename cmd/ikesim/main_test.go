package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/scenarios"
)

// ikesim runs the command in-process and returns its output and error.
func ikesim(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errw bytes.Buffer
	err := run(args, &out, &errw)
	return out.String() + errw.String(), err
}

func TestListNamesEveryBuiltinWithADescription(t *testing.T) {
	out, err := ikesim(t, "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(scenarios.Builtins()) {
		t.Fatalf("%d lines for %d built-ins:\n%s", len(lines), len(scenarios.Builtins()), out)
	}
	for i, name := range scenarios.Builtins() {
		f := strings.Fields(lines[i])
		if f[0] != name || len(f) < 4 {
			t.Errorf("line %d is %q, want %s and a description", i+1, lines[i], name)
		}
	}
}

func TestRunPrintsTheDiagramAndGrades(t *testing.T) {
	out, err := ikesim(t, "run", "ikev2-ping")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"IKE_SA_INIT request HDR, SAi1, KEi, Ni", "IKE_AUTH request HDR, SK {IDi, IDr, N(INITIAL_CONTACT), AUTH, SAi2, TSi, TSr}",
		"ESP SPI 0x", "gw-b: Compare the initiator's proposals", "weak: ENCR_3DES", "4 passed, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("run output lacks %q", want)
		}
	}
}

func TestRunJSONLines(t *testing.T) {
	out, err := ikesim(t, "run", "ikev2-ping", "--json")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		if _, ok := e["t"].(float64); !ok {
			t.Fatalf("line %d has no numeric t: %s", i+1, line)
		}
		k, _ := e["kind"].(string)
		kinds[k]++
		if k == "" || (e["node"] == nil && k != "info") {
			t.Fatalf("line %d lacks kind or node: %s", i+1, line)
		}
		if k == "message" {
			for _, f := range []string{"from", "to", "proto", "bytes", "dissection"} {
				if e[f] == nil {
					t.Fatalf("message on line %d lacks %s: %s", i+1, f, line)
				}
			}
			if p := e["proto"]; p == "ikev2" && e["exchange"] == nil {
				t.Fatalf("IKEv2 message on line %d lacks exchange", i+1)
			}
		}
	}
	for _, k := range []string{"message", "action", "state", "timer", "sa", "recv"} {
		if kinds[k] == 0 {
			t.Errorf("no %s events", k)
		}
	}
}

func TestPcapWritesFileKeysAndTsharkCommand(t *testing.T) {
	dir := t.TempDir()
	pcap, keys := filepath.Join(dir, "x.pcap"), filepath.Join(dir, "keys")
	out, err := ikesim(t, "pcap", "ikev2-modern", "-o", pcap, "--keys", keys)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "tshark -r "+pcap) || !strings.Contains(out, "uat:ikev2_decryption_table:") {
		t.Errorf("no tshark command in:\n%s", out)
	}
	st, err := os.Stat(pcap)
	if err != nil || st.Size() < 1000 {
		t.Fatalf("pcap: %v", err)
	}
	for _, name := range []string{"ikev2_decryption_table", "esp_sa"} {
		b, err := os.ReadFile(filepath.Join(keys, name))
		if err != nil || len(b) == 0 {
			t.Errorf("key table %s: %v (%d bytes)", name, err, len(b))
		}
	}
}

// TestPcapFormatPcapng writes pcapng with --format pcapng; an unknown format is a usage
// error.
func TestPcapFormatPcapng(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.pcapng")
	if _, err := ikesim(t, "pcap", "ikev2-ping", "-o", path, "--format", "pcapng"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte{0x0a, 0x0d, 0x0d, 0x0a}) || !bytes.Contains(b, []byte("IKE_SA_INIT request")) {
		t.Fatalf("not a pcapng with the narration: %v, %.16x", err, b)
	}
	var ue usageError
	if _, err := ikesim(t, "pcap", "ikev2-ping", "-o", path, "--format", "erf"); !errors.As(err, &ue) {
		t.Errorf("--format erf: %v, want a usage error", err)
	}
}

func TestSameSeedSameOutputOtherSeedOther(t *testing.T) {
	a, _ := ikesim(t, "run", "ikev2-ping", "--json", "--seed", "5")
	b, _ := ikesim(t, "run", "ikev2-ping", "--json", "--seed", "5")
	c, _ := ikesim(t, "run", "ikev2-ping", "--json", "--seed", "6")
	if a != b || a == c {
		t.Error("--seed does not decide the bytes")
	}
}

func TestBadArgumentsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"},
		{"run"},
		{"run", "no-such-scenario"},
		{"run", "ikev2-ping", "--seed", "x"},
		{"run", "ikev2-ping", "--colour"},
		{"pcap", "ikev2-ping"},
		{"list", "extra"},
	} {
		_, err := ikesim(t, args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: got %v, want a usage error", args, err)
		} else if strings.Contains(ue.msg, "\n") {
			t.Errorf("%v: the error is not one line: %q", args, ue.msg)
		}
	}
}

func TestExitCodes(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "ikesim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: x\ntopology: {nodes: [{name: a, kind: hots, address: 10.0.0.1/24}]}\n"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"list"}, 0, "ikev2-ping"},
		{[]string{"check", "ikev2-ping"}, 0, "PASS"},
		{[]string{"nope"}, 2, "unknown command"},
		{[]string{"run", "missing-scenario"}, 2, "neither a built-in scenario"},
		{[]string{"validate", bad}, 1, "bad.yaml:2:"},
		{[]string{}, 0, "IKE_SA_INIT"}, // no terminal: the text diagram
	} {
		cmd := exec.Command(bin, c.args...)
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != c.code || !strings.Contains(string(out), c.out) {
			t.Errorf("ikesim %v: exit %d, want %d; output %q should contain %q", c.args, code, c.code, firstLine(out), c.out)
		}
		if c.code == 2 && strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
			t.Errorf("ikesim %v: usage error is more than one line:\n%s", c.args, out)
		}
	}
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}

func TestNewWritesAStarterThatPassesCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "my-lab.yaml")
	if _, err := ikesim(t, "new", "my-lab", "-o", path); err != nil {
		t.Fatal(err)
	}
	out, err := ikesim(t, "check", path)
	if err != nil || !strings.Contains(out, "3 passed, 0 failed") || !strings.Contains(out, "my-lab") {
		t.Fatalf("check of the starter: %v\n%s", err, out)
	}
	if _, err := ikesim(t, "new", "my-lab", "-o", path); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("new overwrote a file: %v", err)
	}
	if _, err := ikesim(t, "new", "../x y"); err == nil {
		t.Error("new accepts a name with a space and a slash")
	}
}

func TestImportPrintsTheDecryptedCapture(t *testing.T) {
	dir := testenv.Captures(t)
	out, err := ikesim(t, "import", filepath.Join(dir, "ikev2-psk.pcap"), "--keys", filepath.Join(dir, "ikev2-psk.keys"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"IKE_AUTH request HDR, SK {IDi", "CREATE_CHILD_SA", "ESP SPI 0x6a367c41 seq 1 {10.77.1.1 -> 10.77.2.1, ICMP}"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q", want)
		}
	}
	trace := filepath.Join(t.TempDir(), "t.jsonl")
	if _, err := ikesim(t, "import", filepath.Join(dir, "ikev1-main.pcap"), "--keys", filepath.Join(dir, "ikev1-main.keys"), "-o", trace); err != nil {
		t.Fatal(err)
	}
	out, err = ikesim(t, "render", trace, "--format", "mermaid", "-o", "-")
	if err != nil || !strings.Contains(out, "Quick Mode") {
		t.Errorf("rendering the imported trace: %v\n%s", err, out)
	}
	if _, err := ikesim(t, "import", filepath.Join(dir, "README.md")); err == nil {
		t.Error("a text file imported as a capture")
	}
}
