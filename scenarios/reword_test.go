package scenarios

import (
	"strings"
	"testing"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/sim/trace"
)

// TestRewordedNarrationGradesTheSame: with every sentence of the trace reworded (upper
// case, behind a marker), every built-in scenario grades the same, check by check, at
// the end and part way through, and draws the same diagram rows: no program reads
// narration.
func TestRewordedNarrationGradesTheSame(t *testing.T) {
	reword := func(s string) string {
		if s == "" {
			return s
		}
		return "REWORDED " + strings.ToUpper(s)
	}
	for _, name := range Builtins() {
		t.Run(name, func(t *testing.T) {
			s, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			plain := run(t, s, s.Seed).Sim.Trace
			restore := trace.SetReword(reword)
			reworded := run(t, s, s.Seed).Sim.Trace
			restore()
			if len(reworded.Events) != len(plain.Events) {
				t.Fatalf("%d events reworded, %d plain", len(reworded.Events), len(plain.Events))
			}
			if e := reworded.Events[len(reworded.Events)/2]; e.Text != "" && !strings.HasPrefix(e.Text, "REWORDED ") {
				t.Fatalf("event %d was not reworded: %q", e.Seq, e.Text)
			}
			for _, upTo := range []int{len(plain.Events) / 3, len(plain.Events)} {
				a, b := GradeAt(s, plain, upTo), GradeAt(s, reworded, upTo)
				for i := range a {
					if a[i].Pass != b[i].Pass || a[i].Pending != b[i].Pending || a[i].At != b[i].At {
						t.Errorf("at event %d, %q grades pass %t pending %t plainly, pass %t pending %t reworded",
							upTo, a[i].Says, a[i].Pass, a[i].Pending, b[i].Pass, b[i].Pending)
					}
				}
			}
			da, db := render.Build(plain, render.Options{}), render.Build(reworded, render.Options{})
			if len(da.Rows) != len(db.Rows) || len(da.Lanes) != len(db.Lanes) || len(da.Spans) != len(db.Spans) {
				t.Fatalf("diagram: %d rows, %d lanes, %d spans plain; %d, %d, %d reworded",
					len(da.Rows), len(da.Lanes), len(da.Spans), len(db.Rows), len(db.Lanes), len(db.Spans))
			}
			for i := range da.Rows {
				ra, rb := da.Rows[i], db.Rows[i]
				if ra.Kind != rb.Kind || ra.Lane != rb.Lane || ra.From != rb.From || ra.To != rb.To || ra.NoteRef != rb.NoteRef || ra.Lost != rb.Lost {
					t.Fatalf("diagram row %d differs: %+v / %+v", i, ra, rb)
				}
			}
		})
	}
}
