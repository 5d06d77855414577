package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/scenarios"
)

// TestEveryCommandHasHelp: --help and 'ikesim help CMD' exit 0 and list every flag of the
// command with its default, and the examples.
func TestEveryCommandHasHelp(t *testing.T) {
	root := newRoot()
	if len(root.Commands()) < 11 {
		t.Fatalf("only %d commands registered", len(root.Commands()))
	}
	for _, c := range root.Commands() {
		name := c.Name()
		for _, args := range [][]string{{name, "--help"}, {"help", name}, {name, "-h"}} {
			out, err := ikesim(t, args...)
			if err != nil {
				t.Errorf("ikesim %s: %v", strings.Join(args, " "), err)
				continue
			}
			if !strings.Contains(out, "Usage:\n  ikesim "+name) {
				t.Errorf("ikesim %s prints no usage line:\n%s", strings.Join(args, " "), out)
			}
			if name == "help" || name == "completion" || name == "__complete" {
				continue
			}
			if n := strings.Count(c.Example, "ikesim "); n < 2 {
				t.Errorf("ikesim %s has %d examples, want 2 or 3", name, n)
			}
			if !strings.Contains(out, "Examples:") {
				t.Errorf("ikesim %s shows no examples", strings.Join(args, " "))
			}
			c.Flags().VisitAll(func(f *pflag.Flag) {
				if !strings.Contains(out, "--"+f.Name) {
					t.Errorf("ikesim %s does not list --%s", strings.Join(args, " "), f.Name)
				}
				if d := f.DefValue; d != "" && d != "false" && d != "0s" && d != "[]" && !strings.Contains(out, "(default "+d) && !strings.Contains(out, `(default "`+d) {
					t.Errorf("ikesim %s does not give the default %q of --%s", strings.Join(args, " "), d, f.Name)
				}
			})
		}
	}
}

// TestHelpShowsFlagsReadmeMentions: the flags that once lived only in README are in the
// help of their commands.
func TestHelpShowsFlagsReadmeMentions(t *testing.T) {
	for _, tt := range []struct{ cmd, flag string }{
		{"run", "--hide-esp"}, {"run", "--timers"}, {"live", "--node"}, {"live", "--duration"},
		{"live", "-v, --verbose"}, {"import", "--natt-ports"}, {"render", "--view"},
	} {
		out, err := ikesim(t, "help", tt.cmd)
		if err != nil || !strings.Contains(out, tt.flag) {
			t.Errorf("ikesim help %s: %v; no %s in\n%s", tt.cmd, err, tt.flag, out)
		}
	}
}

// TestDidYouMean: every name on the command line gets the nearest known one.
func TestDidYouMean(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "ping.jsonl")
	if out, err := ikesim(t, "run", "ikev2-ping", "--json"); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(trace, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"rnu", "ikev2-ping"}, `did you mean "run"?`},
		{[]string{"run", "ikev2-ping", "--hide-eps"}, `did you mean --hide-esp?`},
		{[]string{"run", "ikev2-pnig"}, `did you mean "ikev2-ping"?`},
		{[]string{"check", "lab-los"}, `did you mean "lab-loss"?`},
		{[]string{"render", "ikev2-ping", "--format", "svgg"}, `did you mean "svg"?`},
		{[]string{"render", "ikev2-ping", "--view", "state"}, `did you mean "states"?`},
		{[]string{"render", "ikev2-ping", "-o", "x.svgg"}, `did you mean ".svg"?`},
		{[]string{"render", "ikev2-ping", "--view", "states", "--node", "gw-c", "--format", "dot"}, `did you mean "gw-a"?`},
		{[]string{"render", trace, "--nodes", "gw-a,gw-bb"}, `did you mean "gw-b"?`},
		{[]string{"live", "ikev2-ping", "--node", "gw-aa", "--listen", "127.0.0.1:0"}, `did you mean "gw-a"?`},
		{[]string{"live", "ikev2-ping", "--node", "gw-a", "--listen", "127.0.0.1:0", "--peer", "gwb=127.0.0.1:500"}, `did you mean "gw-b"?`},
	} {
		_, err := ikesim(t, tt.args...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(ue.msg, tt.want) || strings.Contains(ue.msg, "\n") {
			t.Errorf("ikesim %s: %v; want a one-line usage error with %s", strings.Join(tt.args, " "), err, tt.want)
		}
	}
}

// TestRenderUnknownExtension: -o with an extension render does not know is an error, not
// an SVG under that name.
func TestRenderUnknownExtension(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.foo")
	_, err := ikesim(t, "render", "ikev2-ping", "-o", out)
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(ue.msg, `unknown extension ".foo"`) {
		t.Errorf("render -o x.foo: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("render -o x.foo wrote the file")
	}
	// --format names the format of any file name.
	if _, err := ikesim(t, "render", "ikev2-ping", "-o", out, "--format", "mermaid"); err != nil {
		t.Errorf("render -o x.foo --format mermaid: %v", err)
	}
}

// TestListColumnsAlign: the descriptions start in one column, after the longest name.
func TestListColumnsAlign(t *testing.T) {
	out, err := ikesim(t, "list")
	if err != nil {
		t.Fatal(err)
	}
	width := 0
	for _, n := range scenarios.Builtins() {
		width = max(width, len(n))
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if len(line) < width+3 || line[width:width+2] != "  " || line[width+2] == ' ' {
			t.Errorf("the description does not start at column %d: %q", width+2, line)
		}
	}
}

// TestCompletion: the completion of scenario names, formats, views and node names.
func TestCompletion(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "nat.jsonl")
	if out, err := ikesim(t, "run", "ikev2-nat", "--json"); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(trace, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"run", "ikev2-p"}, []string{"ikev2-ping"}, []string{"lab-loss"}},
		{[]string{"render", "ikev2-ping", "--format", ""}, []string{"svg", "png", "html", "mermaid", "plantuml", "text", "dot"}, nil},
		{[]string{"render", "ikev2-ping", "--view", ""}, []string{"sequence", "topology", "states"}, nil},
		{[]string{"render", "ikev2-nat", "--node", "gw"}, []string{"gw-a", "gw-b"}, []string{"nat"}},
		{[]string{"render", trace, "--nodes", "gw-a,"}, []string{"gw-a,gw-b", "gw-a,nat"}, nil},
		{[]string{"live", "ikev2-ping", "--node", ""}, []string{"gw-a", "gw-b", "host-a"}, nil},
		{[]string{"live", "ikev2-ping", "--peer", "gw-"}, []string{"gw-a=", "gw-b="}, nil},
		{[]string{"r"}, []string{"run", "render"}, []string{"list"}},
	} {
		out, err := ikesim(t, append([]string{cobra.ShellCompRequestCmd}, tt.args...)...)
		if err != nil {
			t.Fatalf("__complete %v: %v", tt.args, err)
		}
		lines := strings.Split(out, "\n")
		has := func(s string) bool {
			for _, l := range lines {
				if l == s || strings.HasPrefix(l, s+"\t") {
					return true
				}
			}
			return false
		}
		for _, w := range tt.want {
			if !has(w) {
				t.Errorf("completing %v: no %q in\n%s", tt.args, w, out)
			}
		}
		for _, n := range tt.not {
			if has(n) {
				t.Errorf("completing %v: %q should not be offered", tt.args, n)
			}
		}
	}
}

// TestCompletionScriptsLoadInBash generates the bash, zsh and fish scripts, loads the bash
// one in bash with ikesim on PATH, and completes a scenario name and a format through it.
func TestCompletionScriptsLoadInBash(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, err := ikesim(t, "completion", sh)
		if err != nil || !strings.Contains(out, "ikesim") || len(out) < 1000 {
			t.Errorf("completion %s: %v (%d bytes)", sh, err, len(out))
		}
	}
	bash := testenv.Tool(t, "bash", "bash")
	dir := t.TempDir()
	bin := buildIkesim(t, dir)
	script := filepath.Join(dir, "ikesim.bash")
	out, err := ikesim(t, "completion", "bash")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	// cobra's script uses the helpers of bash-completion, as an interactive shell has them.
	helpers := testenv.File(t, "/usr/share/bash-completion/bash_completion", "bash-completion")
	complete := func(line ...string) string {
		t.Helper()
		words := strings.Join(line, " ")
		prog := `source "$2"; source "$1"; COMP_WORDS=(` + words + `); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); ` +
			`COMP_LINE="` + words + `"; COMP_POINT=${#COMP_LINE}; __start_ikesim ikesim; printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command(bash, "--norc", "-c", prog, "bash", script, helpers)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
		var stderr strings.Builder
		cmd.Stderr = &stderr // compopt complains outside a real completion
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("bash completion of %q: %v\n%s%s", words, err, b, stderr.String())
		}
		return string(b)
	}
	if got := complete("ikesim", "run", "ikev2-pi"); !strings.Contains(got, "ikev2-ping") {
		t.Errorf("bash completes 'ikesim run ikev2-pi' with %q", got)
	}
	if got := complete("ikesim", "render", "ikev2-ping", "--format", "me"); strings.TrimSpace(got) != "mermaid" {
		t.Errorf("bash completes '--format me' with %q", got)
	}
	if got := complete("ikesim", "render", "ikev2-nat", "--node", "ga"); strings.TrimSpace(got) != "" {
		t.Errorf("bash completes '--node ga' with %q", got)
	}
	if got := complete("ikesim", "render", "ikev2-nat", "--node", "gw-"); !strings.Contains(got, "gw-a") || !strings.Contains(got, "gw-b") {
		t.Errorf("bash completes '--node gw-' with %q", got)
	}
}

// buildIkesim builds the ikesim binary into dir.
func buildIkesim(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "ikesim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestVersionLine: the version names the module version and the VCS revision, time and
// state the build information holds.
func TestVersionLine(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/ikesim/ikesim", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "1c471c85e78a"}, {Key: "vcs.time", Value: "2026-12-07T00:41:18Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionLine(bi), "ikesim v0.3.0 (revision 1c471c85e78a, 2026-12-07T00:41:18Z, modified) go1.26.0"; got != want {
		t.Errorf("versionLine = %q, want %q", got, want)
	}
	bi.Settings, bi.Main.Version = nil, ""
	if got, want := versionLine(bi), "ikesim (devel) go1.26.0"; got != want {
		t.Errorf("versionLine = %q, want %q", got, want)
	}
	out, err := ikesim(t, "version")
	if err != nil || !strings.HasPrefix(out, "ikesim ") || !strings.Contains(out, "go1.") {
		t.Errorf("ikesim version: %v %q", err, out)
	}
}

// TestVersionOfABuildFromAClone: a binary built in a git checkout names its revision. The
// checkout is a clone with the working tree's files as they are now, committed.
func TestVersionOfABuildFromAClone(t *testing.T) {
	git := testenv.Tool(t, "git", "git")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(git, "-C", root, "rev-parse", "HEAD").Run(); err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	clone := filepath.Join(t.TempDir(), "ikesim")
	gitIn := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(git, args...)
		cmd.Dir = clone
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if out, err := exec.Command(git, "clone", "-q", "--no-local", root, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	files, err := exec.Command(git, "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the working tree
		}
		dst := filepath.Join(clone, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn("add", "-A")
	gitIn("commit", "-q", "--allow-empty", "-m", "this package as it is")
	rev := gitIn("rev-parse", "HEAD")
	bin := filepath.Join(t.TempDir(), "ikesim")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/ikesim")
	build.Dir = clone
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "revision " + rev; !strings.Contains(string(out), want) || !strings.HasPrefix(string(out), "ikesim ") {
		t.Errorf("ikesim version printed %q, want %q", out, want)
	}
}
