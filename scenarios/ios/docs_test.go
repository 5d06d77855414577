package ios

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsTableListsEveryCommand: every command the reader reads (each is(...) it
// matches commands with) appears in the IOS table of docs/configs.md.
func TestDocsTableListsEveryCommand(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configs.md"))
	if err != nil {
		t.Fatal(err)
	}
	table := string(doc)
	table = table[strings.Index(table, "## Cisco IOS: what is read"):]
	table = table[:strings.Index(table, "\n## ")]
	files, _ := filepath.Glob("*.go")
	call := regexp.MustCompile(`\bis\(((?:"[^"]+",? ?)+)\)`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(src), -1) {
			words := strings.Join(strings.Fields(strings.NewReplacer(`"`, "", ",", " ").Replace(m[1])), " ")
			seen++
			if !strings.Contains(table, words) {
				t.Errorf("%s reads %q, which docs/configs.md's IOS table does not list", f, words)
			}
		}
	}
	if seen < 40 {
		t.Errorf("found only %d commands in the reader", seen)
	}
}
