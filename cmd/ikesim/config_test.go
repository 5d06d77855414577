package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
)

const (
	captures    = "../../scenarios/swanctl/testdata/captures/"
	walkthrough = "../../scenarios/ios/testdata/cisco-walkthrough/"
)

// TestConfigImport: the scenario goes to standard output (or -o), the notes to
// standard error, and the scenario runs.
func TestConfigImport(t *testing.T) {
	var out, errw bytes.Buffer
	err := run([]string{"config", "import", "node-a=" + captures + "ikev2-psk.swanctl-a.conf", "node-b=" + captures + "ikev2-psk.swanctl-b.conf"}, &out, &errw)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Parse(out.Bytes(), "imported.yaml")
	if err != nil {
		t.Fatalf("the scenario does not load: %v\n%s", err, out.String())
	}
	if sc.File.Connections["node-a"]["ikev2-psk"] == nil || !strings.Contains(out.String(), "# "+captures+"ikev2-psk.swanctl-a.conf:7") {
		t.Errorf("the scenario lacks node-a's connection or its source comments:\n%s", out.String())
	}
	if !strings.Contains(errw.String(), "note: "+captures+"ikev2-psk.swanctl-a.conf:10: mobike = yes") {
		t.Errorf("standard error lacks the mobike note:\n%s", errw.String())
	}
	file := filepath.Join(t.TempDir(), "pair.yaml")
	msg, err := ikesim(t, "config", "import", "-o", file, "R3="+walkthrough+"r3-main-mode.cfg", "R2="+walkthrough+"r2-main-mode.cfg")
	if err != nil || !strings.Contains(msg, "wrote "+file) {
		t.Fatalf("import -o: %v\n%s", err, msg)
	}
	msg, err = ikesim(t, "check", file)
	if err != nil || !strings.Contains(msg, "3 passed, 0 failed") {
		t.Errorf("the imported walkthrough does not pass: %v\n%s", err, msg)
	}
}

// TestConfigImportErrors: a syntax error names file, line and column with the source
// line; a bad argument is a usage error.
func TestConfigImportErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(bad, []byte("connections {\n  vpn {\n    proposals aes128\n  }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	msg, err := ikesim(t, "config", "import", "gw="+bad)
	if err == nil || !strings.Contains(err.Error(), bad+":3:15: after \"proposals\": '=' (a setting) or '{' (a section) expected\n     3 |     proposals aes128\n       |               ^") {
		t.Errorf("syntax error: %v\n%s", err, msg)
	}
	other := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(other, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ikesim(t, "config", "import", "gw="+other); err == nil || !strings.Contains(err.Error(), other+" is no ios or swanctl configuration") {
		t.Errorf("a file of no format: %v", err)
	}
	var ue usageError
	for _, args := range [][]string{{"config"}, {"config", "imprt"}, {"config", "import"}, {"config", "import", "gw"},
		{"config", "export", "ikev2-ping", "--node", "gw-a"}, {"config", "export", "ikev2-ping", "--format", "ios"},
		{"config", "export", "ikev2-ping", "--format", "ios", "--node", "host-a"}} {
		if _, err := ikesim(t, args...); !errors.As(err, &ue) {
			t.Errorf("ikesim %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}

// TestConfigExport: a built-in's node comes out as the configuration of a gateway
// that imports back.
func TestConfigExport(t *testing.T) {
	for _, format := range []string{"ios", "swanctl"} {
		var out, errw bytes.Buffer
		if err := run([]string{"config", "export", "ikev1-main-quick", "--node", "R3", "--format", format}, &out, &errw); err != nil {
			t.Fatal(err)
		}
		f, ok := config.Lookup(format)
		if !ok {
			t.Fatalf("no format %s", format)
		}
		n, err := f.Read("R3", "r3."+format, out.Bytes())
		if err != nil {
			t.Fatalf("%s export does not read back: %v\n%s", format, err, out.String())
		}
		if len(n.Conns) != 1 {
			t.Errorf("%s export has %d connections:\n%s", format, len(n.Conns), out.String())
		}
	}
}

// TestRunConfigs: ikesim run NODE=FILE... imports and runs; when the pair fails, it says
// why in the configurations' words.
func TestRunConfigs(t *testing.T) {
	out, err := ikesim(t, "run", "R3="+walkthrough+"r3-aggressive-mode.cfg", "R2="+walkthrough+"r2-aggressive-mode.cfg")
	if err != nil || !strings.Contains(out, "Aggressive Mode request") || !strings.Contains(out, "3 passed, 0 failed") {
		t.Errorf("run R3=... R2=...: %v\n%s", err, out)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.conf"), filepath.Join(dir, "b.conf")
	for _, f := range []struct{ from, to, change string }{{captures + "ikev2-psk.swanctl-a.conf", a, ""}, {captures + "ikev2-psk.swanctl-b.conf", b, "ecp384"}} {
		data, err := os.ReadFile(f.from)
		if err != nil {
			t.Fatal(err)
		}
		if f.change != "" {
			data = bytes.Replace(data, []byte("proposals = aes128-sha256-modp2048"), []byte("proposals = aes128-sha256-ecp384"), 1)
		}
		if err := os.WriteFile(f.to, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err = ikesim(t, "run", "gw-a="+a, "gw-b="+b)
	want := "Why, in the words of the configurations:\n  gw-b's proposals (aes128-sha256-ecp384, " + b + ":7) share no proposal with gw-a's (aes128-sha256-modp2048, " + a + ":7): no common DH group"
	if err != nil || !strings.Contains(out, want) {
		t.Errorf("run of a mismatched pair: %v\n%s\nwant:\n%s", err, out, want)
	}
	out, err = ikesim(t, "run", "gw-a="+a, "gw-b="+b, "--json")
	if err != nil || !strings.Contains(out, `"kind":"info","node":"scenario","text":"diagnosis: gw-b's proposals`) {
		t.Errorf("the JSON trace lacks the diagnosis: %v", err)
	}
}
