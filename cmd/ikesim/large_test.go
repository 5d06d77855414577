package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/scenarios"
)

func writeGroupScenario(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "thirty.yaml")
	if err := os.WriteFile(path, scenarios.RoadWarriors(30, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunOfManyNodes: a run of more than 24 nodes prints its summary; --diagram draws
// it; --nodes picks lanes by pattern and --fold draws a group as one lane.
func TestRunOfManyNodes(t *testing.T) {
	path := writeGroupScenario(t)
	tests := []struct {
		args []string
		// header: in (or, notHeader, not in) the line after the title; want: anywhere
		header, notHeader, want []string
	}{
		{nil, []string{"32 nodes, group rw: 30"}, nil,
			[]string{"rw/home (group)", "pings: 30 sent, 30 answered", "IKE_SA_INIT", "--diagram draws it"}},
		{[]string{"--diagram"}, []string{"server", "gw", "rw-1 ", "rw-30"}, nil, []string{"IKE_SA_INIT request"}},
		{[]string{"--nodes", "gw,rw-1?"}, []string{"gw", "rw-10", "rw-19"}, []string{"rw-1 ", "rw-2 ", "rw-20", "server"}, nil},
		{[]string{"--fold", "rw"}, []string{"server", "gw", " rw"}, []string{"rw-1"}, []string{"IKE_SA_INIT request"}},
	}
	for _, tt := range tests {
		out, err := ikesim(t, append([]string{"run", path}, tt.args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tt.args, err, out)
		}
		header := strings.Split(out, "\n")[2] + " "
		for _, w := range tt.header {
			if !strings.Contains(header, w) {
				t.Errorf("%v: %q lacks %q", tt.args, header, w)
			}
		}
		for _, w := range tt.notHeader {
			if strings.Contains(header, w) {
				t.Errorf("%v: %q has %q", tt.args, header, w)
			}
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: the output lacks %q", tt.args, w)
			}
		}
	}
	for _, args := range [][]string{{"--nodes", "nobody*"}, {"--fold", "gw"}} {
		if out, err := ikesim(t, append([]string{"run", path}, args...)...); err == nil {
			t.Errorf("%v: no error:\n%s", args, out)
		}
	}
}

// TestFoldCompletion: --fold completes the scenario's groups.
func TestFoldCompletion(t *testing.T) {
	path := writeGroupScenario(t)
	for _, cmd := range []string{"run", "render", "tui"} {
		out, err := ikesim(t, cobra.ShellCompRequestCmd, cmd, path, "--fold", "")
		if err != nil {
			t.Fatal(err)
		}
		if lines := strings.Split(out, "\n"); lines[0] != "rw" {
			t.Errorf("%s --fold completes %q, want rw", cmd, out)
		}
	}
}

// TestProgressLine: while a run goes on, the progress line shows the virtual time, the
// events and the SAs up, and it is cleared at the end.
func TestProgressLine(t *testing.T) {
	s, err := scenarios.Parse(scenarios.RoadWarriors(300, 1), "rw.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := scenarios.Build(s, 1)
	if err != nil {
		t.Fatal(err)
	}
	var w syncBuffer
	stop := progress(r, &w, 0)
	time.Sleep(50 * time.Millisecond) // the line is drawn before the run starts, too
	r.Execute()
	time.Sleep(300 * time.Millisecond)
	stop()
	out := w.String()
	if !regexp.MustCompile(`\d+\.\d{3}s virtual, \d+ events, \d+ SAs up`).MatchString(out) {
		t.Errorf("no progress line in %q", out)
	}
}

// TestImportOfManyNodes: a capture of more than 24 nodes imports as a summary, as a run
// of as many does (drawing its 31 lanes took minutes at 10,000); --diagram draws it and
// --nodes picks lanes by pattern.
func TestImportOfManyNodes(t *testing.T) {
	pcap := filepath.Join(t.TempDir(), "thirty.pcap")
	if out, err := ikesim(t, "pcap", writeGroupScenario(t), "-o", pcap); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	tests := []struct {
		args      []string
		want, not []string
	}{
		{nil, []string{"31 nodes", "ikev2 IKE_SA_INIT", "the capture has 31 nodes; --diagram draws it"}, []string{"IKE_SA_INIT request"}},
		{[]string{"--diagram"}, []string{"IKE_SA_INIT request", "172.16.1.30"}, []string{"a summary"}},
		{[]string{"--nodes", "172.16.0.1,172.16.1.1?"}, []string{"IKE_SA_INIT request", "172.16.1.10"}, []string{"172.16.1.20", "a summary"}},
	}
	for _, tt := range tests {
		out, err := ikesim(t, append([]string{"import", pcap}, tt.args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tt.args, err, out)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: the output lacks %q", tt.args, w)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(out, w) {
				t.Errorf("%v: the output has %q", tt.args, w)
			}
		}
	}
}
