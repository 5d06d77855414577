package swanctl

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsTableListsEveryOption: every setting the reader reads appears in the
// swanctl.conf table of docs/configs.md.
func TestDocsTableListsEveryOption(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configs.md"))
	if err != nil {
		t.Fatal(err)
	}
	table := string(doc)
	table = table[strings.Index(table, "## swanctl.conf: what is read"):]
	table = table[:strings.Index(table, "\n## ")]
	src, err := os.ReadFile("read.go")
	if err != nil {
		t.Fatal(err)
	}
	keys := regexp.MustCompile(`(?:get|boolean|duration\(s,|sub|rounds\(s,) ?\(?"([a-z_]+)"|\{"([a-z_]+)", &`).FindAllStringSubmatch(string(src), -1)
	if len(keys) < 30 {
		t.Fatalf("found only %d settings in the reader", len(keys))
	}
	for _, k := range keys {
		key := k[1] + k[2]
		if !strings.Contains(table, "`"+key+"`") && !strings.Contains(table, "`"+key+" ") && !strings.Contains(table, "`"+key+".") &&
			!strings.Contains(table, "`"+key+"<") {
			t.Errorf("read.go reads %q, which docs/configs.md's swanctl.conf table does not list", key)
		}
	}
}
