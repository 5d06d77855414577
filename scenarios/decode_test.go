package scenarios

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	"github.com/goccy/go-yaml"
)

// TestDecoderReadsAsGoYAML: the loader's own decoder gives every built-in scenario and
// every example of docs/scenarios.md without groups the File that goccy/go-yaml's
// decoder gives.
func TestDecoderReadsAsGoYAML(t *testing.T) {
	files := map[string][]byte{}
	for _, name := range Builtins() {
		data, _ := builtinFS.ReadFile("builtin/" + name + ".yaml")
		files[name] = data
	}
	if doc, err := os.ReadFile(filepath.Join("..", "docs", "scenarios.md")); err == nil {
		for i, b := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1) {
			files["docs example "+itoa(i+1)] = b[1]
		}
	}
	compared := 0
	for name, data := range files {
		var want File
		if err := yaml.UnmarshalWithOptions(data, &want, yaml.Strict()); err != nil {
			continue // groups are the loader's own
		}
		s, err := Parse(data, name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if want.Name == "" {
			want.Name = s.File.Name
		}
		if !reflect.DeepEqual(*s.File, want) {
			t.Errorf("%s: the decoder reads\n%+v\ngo-yaml reads\n%+v", name, *s.File, want)
		}
		compared++
	}
	if compared < len(Builtins()) {
		t.Errorf("compared %d files, want at least the %d built-ins", compared, len(Builtins()))
	}
}
