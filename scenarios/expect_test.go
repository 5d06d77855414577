package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ikesim/ikesim/sim/trace"
)

// withExpect is a built-in scenario with its expectations replaced by expect (YAML list
// items, indented by two spaces).
func withExpect(t *testing.T, builtin, expect string) (*Scenario, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("builtin", builtin+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	i := strings.Index(src, "\nexpect:\n")
	if i < 0 {
		t.Fatalf("%s has no expect section", builtin)
	}
	return Parse([]byte(src[:i]+"\nexpect:\n"+expect), builtin+".yaml")
}

var traces sync.Map // built-in name -> *trace.Trace of its run with its own seed

// traceOf runs a built-in scenario once and keeps its trace for every test.
func traceOf(t *testing.T, builtin string) *trace.Trace {
	t.Helper()
	if tr, ok := traces.Load(builtin); ok {
		return tr.(*trace.Trace)
	}
	s, err := Load(builtin)
	if err != nil {
		t.Fatal(err)
	}
	tr := run(t, s, s.Seed).Sim.Trace
	traces.Store(builtin, tr)
	return tr
}

// gradeOne grades one expectation against a built-in scenario's run.
func gradeOne(t *testing.T, builtin, expect string) Result {
	t.Helper()
	s, err := withExpect(t, builtin, expect)
	if err != nil {
		t.Fatalf("%s:\n%s\ndoes not validate: %v", builtin, expect, err)
	}
	res := Grade(s, traceOf(t, builtin))
	if len(res) == 0 {
		t.Fatalf("no result for %s", expect)
	}
	return res[len(res)-1]
}

// TestGradingBugs: each grading bug that lab authors hit has its test.
func TestGradingBugs(t *testing.T) {
	t.Run("notify matches the notify type exactly", func(t *testing.T) {
		// The failure's text says "AUTHENTICATION_FAILED" and "responder says": neither
		// is a notify type, and another real notify type must not match either.
		for _, notify := range []string{"FAILED", `"responder says"`} {
			_, err := withExpect(t, "lab-wrong-psk", "  - ike_sa: {between: [gw-a, gw-b], state: failed, notify: "+notify+"}\n    says: x\n")
			if err == nil || !strings.Contains(err.Error(), "unknown notify type") {
				t.Errorf("notify: %s: validation says %v, want an unknown notify type", notify, err)
			}
		}
		_, err := withExpect(t, "lab-wrong-psk", "  - ike_sa: {between: [gw-a, gw-b], state: failed, notify: AUTHENTICATION_FAILD}\n    says: x\n")
		if err == nil || !strings.Contains(err.Error(), `did you mean "AUTHENTICATION_FAILED"`) {
			t.Errorf("a misspelt notify gets no did-you-mean: %v", err)
		}
		if r := gradeOne(t, "lab-wrong-psk", "  - ike_sa: {between: [gw-a, gw-b], state: failed, notify: NO_PROPOSAL_CHOSEN}\n    says: x\n"); r.Pass {
			t.Errorf("a notify the run never had passes: %+v", r)
		}
		if r := gradeOne(t, "lab-wrong-psk", "  - ike_sa: {between: [gw-a, gw-b], state: failed, notify: AUTHENTICATION_FAILED}\n    says: x\n"); !r.Pass {
			t.Errorf("the notify that ended the SA fails: %+v", r)
		}
	})
	t.Run("count 0 means none", func(t *testing.T) {
		r := gradeOne(t, "ikev2-modern", "  - message: {exchange: CREATE_CHILD_SA, from: gw-a, count: 0}\n    says: x\n")
		if r.Pass {
			t.Errorf("count: 0 passes with two CREATE_CHILD_SA requests on the wire: %+v", r)
		}
		r = gradeOne(t, "ikev2-modern", "  - message: {exchange: IKE_SA_INIT, notify: INVALID_KE_PAYLOAD, count: 0}\n    says: x\n")
		if !r.Pass {
			t.Errorf("count: 0 fails where there is none: %+v", r)
		}
	})
	t.Run("conflicting fields are validation errors", func(t *testing.T) {
		for _, x := range []string{
			"  - message: {exchange: IKE_AUTH, absent: true, count: 3}\n    says: x\n",
			"  - message: {exchange: IKE_AUTH, exactly: 2, at_most: 3}\n    says: x\n",
			"  - message: {exchange: IKE_AUTH, count: 4, at_most: 3}\n    says: x\n",
			"  - ike_sa: {between: [gw-a, gw-b], notify: AUTHENTICATION_FAILED}\n    says: x\n",
			"  - ike_sa: {between: [gw-a, gw-b], state: failed, count: 1}\n    says: x\n",
			"  - child_sas: {node: gw-a, child: net}\n    says: x\n",
		} {
			if _, err := withExpect(t, "ikev2-modern", x); err == nil {
				t.Errorf("accepted:\n%s", x)
			}
		}
	})
	t.Run("says is required", func(t *testing.T) {
		_, err := withExpect(t, "ikev2-modern", "  - ike_sa: {between: [gw-a, gw-b]}\n")
		if err == nil || !strings.Contains(err.Error(), "says") {
			t.Errorf("an expectation without says validates: %v", err)
		}
	})
	t.Run("every event has a node", func(t *testing.T) {
		for _, e := range traceOf(t, "ikev2-modern").Events {
			if e.Node == "" {
				t.Fatalf("event %d (%s) has no node", e.Seq, e.Kind)
			}
			if e.Kind == trace.KindInfo && strings.HasPrefix(e.Text, "timeline:") && e.Node != trace.ScenarioNode {
				t.Errorf("timeline event %d has node %q, want %q", e.Seq, e.Node, trace.ScenarioNode)
			}
		}
	})
}

// TestNewChecks: every new check passes where the run has what it asks and fails where
// it does not.
func TestNewChecks(t *testing.T) {
	for _, tc := range []struct {
		builtin, expect string
		pass            bool
	}{
		// ikev2-modern: a Child SA rekey with PFS at 15 s, an IKE SA rekey at 30 s, a delete at 55 s.
		{"ikev2-modern", "{ike_sa: {between: [gw-a, gw-b], count: 2, rekeyed: true}}", true},
		{"ikev2-modern", "{ike_sa: {between: [gw-a, gw-b], count: 1}}", false},
		{"ikev2-modern", "{ike_sa: {between: [gw-a, gw-b], rekeyed: false}}", false},
		{"ikev2-ping", "{ike_sa: {between: [gw-a, gw-b], count: 1, rekeyed: false}}", true},
		{"ikev2-modern", "{child_sas: {node: gw-a, child: net, count: 2}}", true},
		{"ikev2-modern", "{child_sas: {node: gw-a, child: net, count: 0, alive: true}}", true},
		{"ikev2-modern", "{child_sas: {node: gw-a, child: net, count: 1, alive: true}}", false},
		{"ikev2-nat", "{child_sas: {node: gw-a, child: net, count: 1, alive: true}}", true},
		{"ikev2-modern", "{message: {exchange: CREATE_CHILD_SA, purpose: rekey Child SA, payloads: [KE, N], exactly: 1}}", true},
		{"ikev2-modern", "{message: {exchange: CREATE_CHILD_SA, payloads: [KE], from: gw-a, exactly: 2}}", true},
		{"ikev2-modern", "{message: {exchange: CREATE_CHILD_SA, payloads: [TSi], from: gw-a, exactly: 2}}", false},
		{"ikev2-modern", "{message: {exchange: INFORMATIONAL, purpose: delete, from: gw-a, at_most: 3}}", true},
		{"ikev2-modern", "{message: {exchange: INFORMATIONAL, purpose: delete, from: gw-a, at_most: 2}}", false},
		{"ikev2-modern", "{message: {exchange: CREATE_CHILD_SA, from: gw-a, after: 20s, until: 40s, exactly: 1}}", true},
		{"ikev2-modern", "{message: {exchange: INFORMATIONAL, from: gw-a, spi: f0a51525eb27c88d, exactly: 1}}", true},
		{"ikev2-nat", "{message: {exchange: IKE_AUTH, encap: true, count: 2}}", true},
		{"ikev2-nat", "{message: {exchange: IKE_SA_INIT, encap: true}}", false},
		{"ikev2-nat", "{nat_detected: {node: gw-a}}", true},
		{"ikev2-ping", "{nat_detected: {node: gw-a}}", false},
		{"ikev2-modern", "{pings: {from: host-a, to: host-b, answered: 7, of: 7}}", true},
		{"ikev2-modern", "{pings: {from: host-a, to: 10.9.9.9, answered: 0, of: 0}}", true},
		{"ikev2-modern", "{pings: {from: host-a, to: host-b, answered: 6}}", false},
		{"lab-loss", "{dropped: {cause: loss}}", true},
		{"lab-loss", `{dropped: {reason: "30% loss"}}`, true},
		{"lab-loss", "{dropped: {cause: link_down, absent: true}}", true},
		{"lab-loss", "{dropped: {cause: loss, absent: true}}", false},
		{"ikev2-modern", "{state: {node: gw-b, state: DESTROYED, connection: site-to-site, sa: ike}}", true},
		{"ikev2-modern", "{state: {node: gw-b, state: REKEYED, sa: child}}", true},
		{"ikev2-modern", "{state: {node: gw-b, state: INSTALLED, sa: ike}}", false},
	} {
		expect := "  - " + strings.TrimSuffix(strings.TrimPrefix(tc.expect, "{"), "}") + "\n    says: x\n"
		r := gradeOne(t, tc.builtin, expect)
		if r.Pass != tc.pass || r.Pending {
			t.Errorf("%s %s: pass %t (pending %t), want %t; %s (seen: %s)", tc.builtin, tc.expect, r.Pass, r.Pending, tc.pass, r.Check, r.Seen)
		}
	}
}

// TestBefore: an order among named expectations.
func TestBefore(t *testing.T) {
	expect := `  - ike_sa: {between: [gw-a, gw-b]}
    name: ike-up
    says: x
  - message: {exchange: CREATE_CHILD_SA, purpose: rekey IKE SA}
    name: ike-rekey
    says: x
  - message: {exchange: CREATE_CHILD_SA, purpose: rekey Child SA}
    name: child-rekey
    says: x
`
	for _, tc := range []struct {
		order string
		pass  bool
	}{{"[ike-up, child-rekey, ike-rekey]", true}, {"[ike-up, ike-rekey, child-rekey]", false}} {
		s, err := withExpect(t, "ikev2-modern", expect+"  - before: "+tc.order+"\n    says: x\n")
		if err != nil {
			t.Fatal(err)
		}
		res := Grade(s, traceOf(t, "ikev2-modern"))
		if r := res[len(res)-1]; r.Pass != tc.pass {
			t.Errorf("before: %s: pass %t, want %t (seen: %s)", tc.order, r.Pass, tc.pass, r.Seen)
		}
	}
	if _, err := withExpect(t, "ikev2-modern", expect+"  - before: [ike-up, ike-rekye]\n    says: x\n"); err == nil ||
		!strings.Contains(err.Error(), `did you mean "ike-rekey"`) {
		t.Errorf("an unknown name in before: %v", err)
	}
}

// TestGradeAtPending: part of a run leaves undecided checks pending, not failed.
func TestGradeAtPending(t *testing.T) {
	s, err := Load("ikev2-modern")
	if err != nil {
		t.Fatal(err)
	}
	tr := traceOf(t, "ikev2-modern")
	early := GradeAt(s, tr, 10) // before the first IKE message
	for _, r := range early {
		if !r.Pending || r.Pass {
			t.Errorf("at event 10: %q is decided (pass %t): %s (seen: %s)", r.Says, r.Pass, r.Check, r.Seen)
		}
	}
	for _, r := range GradeAt(s, tr, len(tr.Events)) {
		if r.Pending {
			t.Errorf("at the end: %q is still pending", r.Says)
		}
	}
	// An absence met so far can still be broken: pending; one broken stays failed.
	s2, err := withExpect(t, "ikev2-modern", "  - message: {exchange: CREATE_CHILD_SA, absent: true}\n    says: x\n")
	if err != nil {
		t.Fatal(err)
	}
	if r := GradeAt(s2, tr, 50)[0]; !r.Pending {
		t.Errorf("an absence before the message is decided: %+v", r)
	}
	if r := GradeAt(s2, tr, len(tr.Events)-1)[0]; r.Pending || r.Pass {
		t.Errorf("a broken absence: pending %t, pass %t", r.Pending, r.Pass)
	}
}
