package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeCommands are the ikesim command lines of README.md's sh blocks (and the import
// examples it gives inline) for the commands a reader tries first, without their
// comments. Lines with placeholders (SCENARIO, FILE.pcap, ...) are left out, and so are
// those that read what a live run against strongSwan wrote (live.jsonl).
func readmeCommands(t *testing.T, readme string) []string {
	t.Helper()
	tried := map[string]bool{"list": true, "run": true, "render": true, "pcap": true, "import": true, "help": true, "version": true}
	placeholder := regexp.MustCompile(`[A-Z]{3,}|\[|\|`)
	var cmds []string
	add := func(line string) {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "ikesim" || !tried[f[1]] || placeholder.MatchString(line) || strings.Contains(line, "live.") {
			return
		}
		cmds = append(cmds, line)
	}
	inSh := false
	for _, line := range strings.Split(readme, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			inSh = line == "```sh"
		case inSh:
			add(line)
		}
	}
	// Inline, an import of a capture (not a mention of a flag, as in `ikesim import --json`).
	for _, m := range regexp.MustCompile("`(ikesim import [^`\\s-][^`]*)`").FindAllStringSubmatch(readme, -1) {
		add(m[1])
	}
	return cmds
}

// TestReadmeExamples installs ikesim as README.md says (go install ./cmd/...), then runs
// the README's examples of list, run, render, pcap and import in a temporary directory,
// with the installed binaries alone on PATH: every one exits 0, and every file it names
// with -o or --keys is written (the PNG pages as README names them).
func TestReadmeExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and installs ikesim")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "go install ./cmd/...") {
		t.Fatal("README.md does not say how to install ikesim")
	}
	bin := t.TempDir()
	install := exec.Command("go", "install", "./cmd/...")
	install.Dir = root
	install.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install ./cmd/...: %v\n%s", err, out)
	}
	for _, name := range []string{"ikesim", "ikesim-graph"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			t.Fatalf("go install ./cmd/... did not install %s", name)
		}
	}
	cmds := readmeCommands(t, string(readme))
	seen := map[string]bool{}
	for _, c := range cmds {
		seen[strings.Fields(c)[1]] = true
	}
	for _, want := range []string{"list", "run", "render", "pcap", "import"} {
		if !seen[want] {
			t.Errorf("README.md has no example of ikesim %s to run", want)
		}
	}
	// The examples run where README's paths lead: the repository's captures are found
	// through a link, and everything else is written into the temporary directory.
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(root, "ike"), filepath.Join(dir, "ike")); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + dir}
	for _, c := range cmds {
		t.Logf("$ %s", c)
		args := strings.Fields(c)
		cmd := exec.Command(filepath.Join(bin, "ikesim"), args[1:]...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", c, err, out)
			continue
		}
		for i, a := range args {
			if (a == "-o" || a == "--keys") && i+1 < len(args) && args[i+1] != "-" {
				if st, err := os.Stat(filepath.Join(dir, args[i+1])); err != nil || st.Size() == 0 {
					t.Errorf("%s: %s was not written: %v", c, args[i+1], err)
				}
			}
		}
		if strings.HasSuffix(c, "-o ping.png") {
			for _, page := range []string{"ping.png", "ping-2.png", "ping-3.png"} {
				if _, err := os.Stat(filepath.Join(dir, page)); err != nil {
					t.Errorf("%s: README names the page %s, which was not written", c, page)
				}
			}
		}
	}
}

// TestGraphToolOnPath: an ikesim with no ikesim-graph beside it finds the one on PATH.
func TestGraphToolOnPath(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ikesim and ikesim-graph")
	}
	alone, onPath := t.TempDir(), t.TempDir()
	ikesimBin := buildIkesim(t, alone)
	graph := exec.Command("go", "build", "-o", filepath.Join(onPath, "ikesim-graph"), "../ikesim-graph")
	if out, err := graph.CombinedOutput(); err != nil {
		t.Fatalf("build ikesim-graph: %v\n%s", err, out)
	}
	run := func(path string) (string, error) {
		cmd := exec.Command(ikesimBin, "render", "ikev2-ping", "--view", "topology", "--format", "svg")
		cmd.Env = []string{"PATH=" + path, "HOME=" + alone}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("/usr/bin:/bin"); err == nil || !strings.Contains(out, "ikesim-graph, which is not installed") {
		t.Errorf("without ikesim-graph anywhere: %v\n%s", err, out)
	}
	if out, err := run(onPath + ":/usr/bin:/bin"); err != nil || !strings.Contains(out, "<svg") {
		t.Errorf("with ikesim-graph on PATH: %v\n%.300s", err, out)
	}
}
