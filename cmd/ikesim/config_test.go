package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
	"github.com/ikesim/ikesim/sim/trace"
)

// ciscoWalkthrough holds the IOS configurations of Cisco's IKEv1 walkthrough.
const ciscoWalkthrough = "../../scenarios/ios/testdata/cisco-walkthrough/"

// TestConfigImport: the scenario goes to standard output (or -o), the notes to
// standard error, and the scenario runs.
func TestConfigImport(t *testing.T) {
	captures := testenv.Captures(t) + "/"
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
	msg, err := ikesim(t, "config", "import", "-o", file, "R3="+ciscoWalkthrough+"r3-main-mode.cfg", "R2="+ciscoWalkthrough+"r2-main-mode.cfg")
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
	out, err := ikesim(t, "run", "R3="+ciscoWalkthrough+"r3-aggressive-mode.cfg", "R2="+ciscoWalkthrough+"r2-aggressive-mode.cfg")
	if err != nil || !strings.Contains(out, "Aggressive Mode request") || !strings.Contains(out, "3 passed, 0 failed") {
		t.Errorf("run R3=... R2=...: %v\n%s", err, out)
	}
	captures := testenv.Captures(t) + "/"
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
	var jsonOut, notes bytes.Buffer
	if err := run([]string{"run", "gw-a=" + a, "gw-b=" + b, "--json"}, &jsonOut, &notes); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.ReadJSON(&jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var d *trace.Diagnosis
	for _, e := range tr.Events {
		if e.Kind == trace.KindInfo && e.Diagnosis != nil {
			d = e.Diagnosis
		}
	}
	if d == nil || d.Option != "proposals" || d.Reason != "no common DH group" || len(d.Sides) != 2 ||
		d.Sides[0] != (trace.ConfRef{Node: "gw-a", Conn: "ikev2-psk", File: a, Line: 7}) || d.Sides[1] != (trace.ConfRef{Node: "gw-b", Conn: "ikev2-psk", File: b, Line: 7}) {
		t.Errorf("the JSON trace's diagnosis: %+v", d)
	}
}

// TestConfigHelpAndCompletion: config import and export have help with their flags,
// defaults and examples; misspelt names get the nearest one; NODE=FILE, --node and
// --format complete.
func TestConfigHelpAndCompletion(t *testing.T) {
	root := newRoot()
	c, _, err := root.Find([]string{"config"})
	if err != nil || len(c.Commands()) != 2 {
		t.Fatalf("config: %v, %d subcommands", err, len(c.Commands()))
	}
	for _, sub := range c.Commands() {
		name := "config " + sub.Name()
		for _, args := range [][]string{{"config", sub.Name(), "--help"}, {"help", "config", sub.Name()}} {
			out, err := ikesim(t, args...)
			if err != nil || !strings.Contains(out, "Usage:\n  ikesim "+name) || !strings.Contains(out, "Examples:") {
				t.Errorf("ikesim %s: %v\n%s", strings.Join(args, " "), err, out)
				continue
			}
			if n := strings.Count(sub.Example, "ikesim "+name); n < 2 {
				t.Errorf("ikesim %s has %d examples, want 2 or 3", name, n)
			}
			sub.Flags().VisitAll(func(f *pflag.Flag) {
				if !strings.Contains(out, "--"+f.Name) {
					t.Errorf("ikesim %s does not list --%s", name, f.Name)
				}
			})
		}
	}
	if out, err := ikesim(t, "help", "run"); err != nil || !strings.Contains(out, "NODE=FILE") || !strings.Contains(out, "--topology") {
		t.Errorf("ikesim help run says nothing of NODE=FILE: %v\n%s", err, out)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"config", "imprt"}, `did you mean "import"?`},
		{[]string{"config", "export", "ikev2-ping", "--node", "gw-a", "--format", "swanct"}, `did you mean "swanctl"?`},
		{[]string{"config", "export", "ikev2-ping", "--node", "gw-c", "--format", "ios"}, `did you mean "gw-a"?`},
		{[]string{"config", "export", "ikev2-pnig", "--node", "gw-a", "--format", "ios"}, `did you mean "ikev2-ping"?`},
		{[]string{"config", "import", "a=x.conf", "--topolgy", "t.yaml"}, `did you mean --topology?`},
		{[]string{"run", "ikev2-ping", "--topology", "t.yaml"}, `--topology goes with NODE=FILE arguments`},
	} {
		_, err := ikesim(t, tt.args...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(ue.msg, tt.want) || strings.Contains(ue.msg, "\n") {
			t.Errorf("ikesim %s: %v; want a one-line usage error with %s", strings.Join(tt.args, " "), err, tt.want)
		}
	}

	dir := t.TempDir()
	for _, f := range []string{"r3.cfg", "r2.cfg", "other.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"config", "import", "R3=" + dir + "/r"}, []string{"R3=" + dir + "/r3.cfg", "R3=" + dir + "/r2.cfg"}, []string{"R3=" + dir + "/other.txt"}},
		{[]string{"run", "R3=" + dir + "/r3.cfg", "R2=" + dir + "/r2"}, []string{"R2=" + dir + "/r2.cfg"}, []string{"ikev2-ping"}},
		{[]string{"config", ""}, []string{"import", "export"}, nil},
		{[]string{"config", "export", "ikev2-p"}, []string{"ikev2-ping"}, nil},
		{[]string{"config", "export", "ikev2-ping", "--format", ""}, []string{"ios", "swanctl"}, nil},
		{[]string{"config", "export", "ikev2-ping", "--node", ""}, []string{"gw-a", "gw-b"}, []string{"host-a"}},
	} {
		out, err := ikesim(t, append([]string{cobra.ShellCompRequestCmd}, tt.args...)...)
		if err != nil {
			t.Fatalf("__complete %v: %v", tt.args, err)
		}
		lines := strings.Split(out, "\n")
		for i, l := range lines {
			lines[i], _, _ = strings.Cut(l, "\t") // the description
		}
		for _, w := range tt.want {
			if !slices.Contains(lines, w) {
				t.Errorf("completing %v: no %q in\n%s", tt.args, w, out)
			}
		}
		for _, n := range tt.not {
			if slices.Contains(lines, n) {
				t.Errorf("completing %v: %q should not be offered", tt.args, n)
			}
		}
	}
}
