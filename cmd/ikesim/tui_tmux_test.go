package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/sim/trace"
)

// tmuxScreen runs the real binary in a tmux session of size w×h and reads its screen.
type tmuxScreen struct {
	t    *testing.T
	tmux string
	sock string
}

func newTmuxScreen(t *testing.T, tmux, bin string, w, h int) *tmuxScreen {
	s := &tmuxScreen{t: t, tmux: tmux, sock: fmt.Sprintf("ikesim-test-%d-%d", w, time.Now().UnixNano())}
	t.Cleanup(func() { s.run("kill-server") })
	if out, err := s.run("new-session", "-d", "-s", "w", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), bin); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	return s
}

func (s *tmuxScreen) run(args ...string) (string, error) {
	out, err := exec.Command(s.tmux, append([]string{"-L", s.sock}, args...)...).CombinedOutput()
	return string(out), err
}

func (s *tmuxScreen) screen() string {
	out, _ := s.run("capture-pane", "-p", "-t", "w")
	return out
}

func (s *tmuxScreen) send(key string) { s.run("send-keys", "-t", "w", key) }

// waitFor waits until the screen shows what (pressing key between looks, if set).
func (s *tmuxScreen) waitFor(what, key string, tries int) {
	s.t.Helper()
	for i := 0; i < tries; i++ {
		if strings.Contains(s.screen(), what) {
			return
		}
		if key != "" {
			s.send(key)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("%q never appeared; the screen:\n%s", what, s.screen())
}

var (
	statusStep = regexp.MustCompile(`step (\d+)/(\d+)`)
	fieldsStep = regexp.MustCompile(`Fields: step (\d+)`)
)

// step reads the step of the status bar, checking that the Fields title shows the same.
// A capture may catch the terminal halfway through a redraw, so it looks again a few
// times before it fails.
func (s *tmuxScreen) step() int {
	s.t.Helper()
	var scr string
	for try := 0; try < 20; try++ {
		scr = s.screen()
		m := statusStep.FindAllStringSubmatch(scr, -1)
		f := fieldsStep.FindAllStringSubmatch(scr, -1)
		if len(m) == 1 && len(f) == 1 && m[0][1] == f[0][1] {
			n, _ := strconv.Atoi(m[0][1])
			return n
		}
		time.Sleep(25 * time.Millisecond)
	}
	s.t.Fatalf("want one step count, in the status bar and the Fields title alike; the screen:\n%s", scr)
	return 0
}

// authExplanation is what the walkthrough must show in full about the Authentication
// Data of ikev2-ping's IKE_AUTH request: the dissector's line and the catalog's.
func authExplanation(t *testing.T) []string {
	r, err := simulate("ikev2-ping", &seedFlag{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range r.Sim.Trace.Events {
		if e.Kind != trace.KindMessage || e.Exchange() != "IKE_AUTH" || e.Response() {
			continue
		}
		var path []*ike.Field
		var find func(p []*ike.Field) bool
		find = func(p []*ike.Field) bool {
			if p[len(p)-1].Name == "Authentication Data" {
				path = p
				return true
			}
			for _, c := range p[len(p)-1].Children {
				if find(append(p[:len(p):len(p)], c)) {
					return true
				}
			}
			return false
		}
		if find([]*ike.Field{e.Fields()}) {
			x, _ := render.Explain(path)
			return []string{path[len(path)-1].Explain, x.Text}
		}
	}
	t.Fatal("ikev2-ping has no IKE_AUTH request with Authentication Data")
	return nil
}

// flat joins the screen's lines inside the box that holds marker into one line of
// words, the box's borders taken away.
func flat(screen, marker string) string {
	var words []string
	in := false
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, marker) {
			in = true
		}
		if !in {
			continue
		}
		if strings.HasPrefix(l, "╚") || strings.HasPrefix(l, "└") {
			break
		}
		l = strings.Trim(l, "║│ ")
		words = append(words, strings.Fields(l)...)
	}
	return strings.Join(words, " ")
}

// TestWalkthroughInTmux runs the real binary in tmux at 80x24 and 160x45: one step
// count that n advances by one, "? help" and "q quit" always on the status bar, the
// diagram growing only as far as the walkthrough has come, the full explanation of
// the AUTH data after the wide toggle (w), and q quits.
func TestWalkthroughInTmux(t *testing.T) {
	tmux := testenv.Tool(t, "tmux", "tmux")
	bin := filepath.Join(t.TempDir(), "ikesim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	want := authExplanation(t)
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 45}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			s := newTmuxScreen(t, tmux, bin, size.w, size.h)
			s.waitFor("Sequence", "", 100)
			if strings.Contains(s.screen(), "IKE_SA_INIT") {
				t.Fatal("IKE_SA_INIT is on screen before any step")
			}
			for _, hint := range []string{"? help", "q quit"} {
				if !strings.Contains(s.screen(), hint) {
					t.Errorf("the status bar lacks %q:\n%s", hint, s.screen())
				}
			}
			n := s.step()
			if n != 1 {
				t.Errorf("the walkthrough starts at step %d", n)
			}
			for i := 0; i < 30; i++ {
				s.send("n")
				var got int
				for try := 0; try < 40; try++ { // wait for the screen to follow
					if got = s.step(); got != n {
						break
					}
					time.Sleep(25 * time.Millisecond)
				}
				if got != n+1 {
					t.Fatalf("n moved from step %d to %d; the screen:\n%s", n, got, s.screen())
				}
				n = got
			}
			s.waitFor("IKE_AUTH request", "n", 60)
			for _, hint := range []string{"? help", "q quit"} {
				if !strings.Contains(s.screen(), hint) {
					t.Errorf("the status bar lacks %q:\n%s", hint, s.screen())
				}
			}
			// Go to the IKE_AUTH request (the second exchange: g ] ]), widen the detail
			// area, walk the field tree down to the AUTH data and read its explanation
			// in full.
			for _, k := range []string{"g", "]", "]"} {
				s.send(k)
			}
			s.waitFor("IKE_AUTH request HDR, SK {IDi", "", 40)
			s.send("w")
			s.send("Tab")
			s.waitFor("Authentication Data =", "Down", 120)
			time.Sleep(100 * time.Millisecond)
			scr := s.screen()
			about := flat(scr, "Authentication Data =")
			for _, w := range want {
				if w = strings.Join(strings.Fields(w), " "); !strings.Contains(about, w) {
					t.Errorf("the explanation of the AUTH data does not read in full:\nwant %q\nin   %q\nthe screen:\n%s", w, about, scr)
				}
			}
			s.send("q")
			for i := 0; i < 100; i++ {
				if _, err := s.run("has-session", "-t", "w"); err != nil {
					return // the session ended: q quit the program
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Fatalf("q did not quit; the screen:\n%s", s.screen())
		})
	}
}
