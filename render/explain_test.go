package render_test

import (
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/sim/trace"
)

// TestEveryFieldExplained walks every field of every message of every built-in
// scenario. Each field must have an explanation: its dissector's, or an entry of
// assets/explain/fields.txt that render.Explain finds. No IKEv1 field may borrow an
// IKEv2 text: no catalog entry of the [ikev2] section, and no sentence that speaks of
// what only IKEv2 has (RFC 7296, the SK payload and its keys, IKEv2's exchanges).
func TestEveryFieldExplained(t *testing.T) {
	type seen struct {
		scenario string
		step     int
	}
	v2only := []string{"RFC 7296", "IKEv2", "SK_e", "SK_a", "SK_p", "SK payload", "inside SK", "IKE_SA_INIT", "IKE_AUTH", "CREATE_CHILD_SA", "Child SA"}
	type v1field struct {
		where seen
		path  string
		texts []string
	}
	var v1 []v1field
	missing := map[string]seen{}
	fields := 0
	for _, name := range scenarios.Builtins() {
		for _, e := range rendertest.Trace(t, name).Events {
			if e.Kind != trace.KindMessage || e.Fields() == nil {
				continue
			}
			var walk func(path []*ike.Field)
			walk = func(path []*ike.Field) {
				f := path[len(path)-1]
				fields++
				x, _ := render.Explain(path)
				names := make([]string, len(path))
				for i, p := range path {
					names[i] = p.Name
				}
				where := strings.Join(names, " > ")
				if f.Explain == "" && x.Text == "" {
					if _, ok := missing[e.Proto()+": "+where]; !ok {
						missing[e.Proto()+": "+where] = seen{name, e.Seq}
					}
				}
				if render.Scope(path) == "ikev1" {
					v1 = append(v1, v1field{seen{name, e.Seq}, where, []string{f.Explain, x.Text, x.Ref}})
					if x.Scope != "" && x.Scope != "ikev1" {
						t.Errorf("%s event %d: IKEv1 field %s is explained from [%s]", name, e.Seq, where, x.Scope)
					}
				}
				for _, c := range f.Children {
					walk(append(path[:len(path):len(path)], c))
				}
			}
			walk([]*ike.Field{e.Fields()})
		}
	}
	for k, w := range missing {
		t.Errorf("%s event %d: no explanation of %s", w.scenario, w.step, k)
	}
	bad := map[string]bool{}
	for _, f := range v1 {
		for _, s := range f.texts {
			if s == "" || bad[f.path+s] {
				continue
			}
			for _, w := range v2only {
				if strings.Contains(s, w) {
					bad[f.path+s] = true
					t.Errorf("%s event %d: IKEv1 field %s borrows an IKEv2 text (%s): %q", f.where.scenario, f.where.step, f.path, w, s)
					break
				}
			}
		}
	}
	if fields < 10000 || len(v1) < 1000 {
		t.Errorf("walked %d fields, %d of them IKEv1: the scenarios lost their messages", fields, len(v1))
	}
}
