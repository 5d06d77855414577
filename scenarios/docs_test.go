package scenarios

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestDocsExamplesRunAndPass: every YAML example in docs/scenarios.md parses, runs and
// passes its expectations.
func TestDocsExamplesRunAndPass(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "scenarios.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) < 4 {
		t.Fatalf("docs/scenarios.md has only %d YAML examples", len(blocks))
	}
	for i, b := range blocks {
		s, err := Parse(b[1], "docs example")
		if err != nil {
			t.Errorf("example %d does not parse:\n%v", i+1, err)
			continue
		}
		r := run(t, s, s.Seed)
		res := Grade(s, r.Sim.Trace)
		if len(res) == 0 || !Passed(res) {
			t.Errorf("example %d (%s) does not pass:\n%s", i+1, s.File.Name, FormatResults(res))
		}
	}
}
