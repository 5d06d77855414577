package sweep

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/scenarios"
)

func sweepOf(t *testing.T, name string) *Table {
	t.Helper()
	sc, err := scenarios.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	calls, last := 0, 0
	tb, err := Run(sc, sc.Seed, Options{Progress: func(done, total int) { calls, last = calls+1, done }})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(tb.Messages) * len(Faults); calls != want || last != want {
		t.Errorf("progress was told %d times, last %d, want %d", calls, last, want)
	}
	return tb
}

// The sweeps of the two classic walkthroughs: every IKE message dropped, duplicated,
// delayed and corrupted, and every run meets the expectations or converges with every
// SA up; none hangs.
func TestSweepClassics(t *testing.T) {
	for _, tc := range []struct {
		name     string
		messages int
	}{{"ikev2-ping", 8}, {"ikev1-main-quick", 11}} {
		t.Run(tc.name, func(t *testing.T) {
			tb := sweepOf(t, tc.name)
			if tb.Baseline.Kind != Expected {
				t.Fatalf("the fault-free run: %+v", tb.Baseline)
			}
			if len(tb.Messages) != tc.messages {
				t.Fatalf("%d IKE messages in the fault-free run, want %d", len(tb.Messages), tc.messages)
			}
			for i, row := range tb.Cells {
				for j, c := range row {
					if c.Kind != Expected && c.Kind != Up && !(c.Kind == Failed && c.Failure != "") {
						t.Errorf("%s, %s: %+v", tb.Messages[i], Faults[j], c)
					}
				}
			}
			out := Format(tb)
			if !strings.Contains(out, tb.Messages[0].String()) || strings.Count(out, "\n") < len(tb.Messages)+3 {
				t.Errorf("the table lacks its rows:\n%s", out)
			}
			var back Table
			if b, err := json.Marshal(tb); err != nil || json.Unmarshal(b, &back) != nil || len(back.Cells) != len(tb.Cells) {
				t.Errorf("the table does not round-trip as JSON: %v", err)
			}
		})
	}
}

// A lost CREATE_CHILD_SA request is retransmitted: the run converges later than the
// fault-free one, by the retransmission timeout.
func TestSweepDropDelaysConvergence(t *testing.T) {
	tb := sweepOf(t, "ikev2-ping")
	for i, m := range tb.Messages {
		if m.Exchange == "CREATE_CHILD_SA" && !m.Response {
			c := tb.Cells[i][0]
			if c.Kind != Expected || c.Converged < tb.Baseline.Converged+1.9 {
				t.Errorf("drop of %s: %+v, fault-free converged at %.2fs", m, c, tb.Baseline.Converged)
			}
			return
		}
	}
	t.Fatal("no CREATE_CHILD_SA request in the sweep")
}

// A run that neither brings its SAs up nor fails by the scenario's end is a finding.
func TestSweepReportsAHangAsAFinding(t *testing.T) {
	sc, err := scenarios.Parse([]byte(`name: nobody-home
duration: 5s
topology:
  nodes:
    - {name: a, kind: gateway, address: 192.0.2.1/24}
    - {name: b, kind: gateway, address: 192.0.2.2/24}
  links:
    - {between: [a, b], delay: 10ms}
connections:
  a:
    vpn:
      local_addrs: [192.0.2.1]
      remote_addrs: [192.0.2.2]
      proposals: [aes128-sha256-ecp256]
      local: {id: a.example}
      remote: {id: b.example}
      children:
        net: {local_ts: [10.1.0.0/24], remote_ts: [10.2.0.0/24], start_action: start}
secrets:
  - {ids: [a.example, b.example], secret: "s"}
`), "nobody-home.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Run(sc, 1, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if tb.Baseline.Kind != Finding || tb.Findings() != len(tb.Messages)*len(Faults) {
		t.Errorf("baseline %+v, %d findings of %d runs", tb.Baseline, tb.Findings(), len(tb.Messages)*len(Faults))
	}
}

// The sweep of every built-in scenario ends: no run hangs, and every cell meets the
// expectations, brings every SA up, or ends in a named failure.
func TestSweepEveryBuiltinHasNoFinding(t *testing.T) {
	for _, name := range scenarios.Builtins() {
		sc, err := scenarios.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		tb, err := Run(sc, sc.Seed, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if tb.Baseline.Kind != Expected {
			t.Errorf("%s: the fault-free run: %+v", name, tb.Baseline)
		}
		for i, row := range tb.Cells {
			for j, c := range row {
				if c.Kind == Finding || c.Kind == "" {
					t.Errorf("%s: %s, %s: a finding: %+v", name, tb.Messages[i], Faults[j], c)
				}
			}
		}
	}
}
