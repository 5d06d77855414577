package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	ytoken "github.com/goccy/go-yaml/token"
)

// dumpTree writes a parsed file as text: every node's type, line, column and value,
// nested as in the tree (node paths left out: a piece's are its own).
func dumpTree(f *ast.File) string {
	var b strings.Builder
	for _, d := range f.Docs {
		fmt.Fprintf(&b, "doc %s %s\n", tokenText(d.Start), tokenText(d.End))
		dumpNode(&b, d.Body, 1)
	}
	return b.String()
}

func tokenText(tk *ytoken.Token) string {
	if tk == nil {
		return "-"
	}
	return fmt.Sprintf("%d:%d %s %q", tk.Position.Line, tk.Position.Column, tk.Type, tk.Value)
}

func dumpNode(b *strings.Builder, n ast.Node, depth int) {
	ind := strings.Repeat("  ", depth)
	if n == nil || reflect.ValueOf(n).IsNil() {
		fmt.Fprintf(b, "%snil\n", ind)
		return
	}
	var kids []ast.Node
	fmt.Fprintf(b, "%s%T %s", ind, n, tokenText(n.GetToken()))
	switch v := n.(type) {
	case *ast.MappingNode:
		fmt.Fprintf(b, " flow=%v %d", v.IsFlowStyle, len(v.Values))
		for _, mv := range v.Values {
			kids = append(kids, mv)
		}
	case *ast.SequenceNode:
		fmt.Fprintf(b, " flow=%v %d", v.IsFlowStyle, len(v.Values))
		kids = v.Values
	case *ast.MappingValueNode:
		kids = []ast.Node{v.Key, v.Value}
	case *ast.AnchorNode:
		kids = []ast.Node{v.Name, v.Value}
	case *ast.AliasNode:
		kids = []ast.Node{v.Value}
	case *ast.TagNode:
		kids = []ast.Node{v.Value}
	case *ast.MappingKeyNode:
		kids = []ast.Node{v.Value}
	case *ast.LiteralNode:
		kids = []ast.Node{v.Value}
	case ast.ScalarNode:
		fmt.Fprintf(b, " %#v", v.GetValue())
	}
	b.WriteString("\n")
	for _, k := range kids {
		dumpNode(b, k, depth+1)
	}
}

// inPieces parses data as parseInPieces does and reports whether it was cut and the
// pieces parsed (no fallback to a parse of the whole file).
func inPieces(data []byte, n int) (cut, parsed bool) {
	var toks []*ytoken.Token
	for _, tk := range lexer.Tokenize(string(data)) {
		if tk.Type != ytoken.CommentType {
			toks = append(toks, tk)
		}
	}
	cuts := cutMappings(toks, n)
	if len(cuts) == 0 {
		return false, false
	}
	_, ok := parsePieces(toks, cuts, n)
	return true, ok
}

// samePieces checks that data parses in pieces of n entries to the tree, or the
// error, of a parse of the whole file.
func samePieces(t *testing.T, name string, data []byte, n int) {
	t.Helper()
	whole, werr := parser.ParseBytes(data, 0)
	got, gerr := parseInPieces(data, n)
	switch {
	case werr != nil || gerr != nil:
		if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
			t.Errorf("%s: in pieces of %d: error %v, want %v", name, n, gerr, werr)
		}
	case dumpTree(got) != dumpTree(whole):
		t.Errorf("%s: in pieces of %d, the tree differs:\n%s\nwant\n%s", name, n, dumpTree(got), dumpTree(whole))
	}
}

// yamlCorners are files with what cutting must keep whole, or must not be misled by.
var yamlCorners = map[string]string{
	"empty values":     "a:\nb:\nc: 1\nd:\ne: 2\nf:\n",
	"empty last":       "m:\n  a: 1\n  b: 2\n  c:\nn: 3\n",
	"compact sequence": "a:\n- 1\n- 2\nb: 3\nc:\n- 4\nd: 5\n",
	"flow over lines":  "a: [1,\n2]\nb: {x: 1,\n  y: 2}\nc: 3\nd: 4\n",
	"block scalars":    "a: |\n  one\n  two\nb: >\n  three\nc: |\nd: 4\ne: 5\n",
	"anchors":          "a: &x 1\nb: *x\nc: &y\nd: 2\ne: !!str 3\nf: 4\n",
	"merge key":        "a: &x {p: 1}\nb:\n  <<: *x\n  q: 2\n  r: 3\nc: 4\n",
	"repeated key":     "a: 1\nb: 2\nc: 3\na: 4\nd: 5\n",
	"repeated dotted":  "'a.b': 1\nc: 2\nd: 3\n\"a.b\": 4\n",
	"nested repeated":  "m:\n  a: 1\n  b: 2\n  c: 3\n  a: 4\nn: 5\n",
	"bad indent":       "a: 1\nb: 2\n c: 3\nd: 4\ne: 5\n",
	"dedent inside":    "m:\n    a: 1\n    b: 2\n  c: 3\n    d: 4\nn: 5\n",
	"sequence items":   "s:\n  - a: 1\n    b: 2\n    c: 3\n  - a: 4\n    b: 5\nt: 6\n",
	"explicit keys":    "? a\n: 1\nb: 2\n? c\n: 3\nd: 4\n",
	"integer keys":     "1: a\n2: b\nx: c\n3: d\ny: e\n",
	"multi-line key":   "\"a\n  b\": 1\nc: 2\nd: 3\n",
	"documents":        "a: 1\nb: 2\n---\nc: 3\nd: 4\n",
	"directive":        "%YAML 1.2\n---\na: 1\nb: 2\nc: 3\n",
	"comments":         "# top\na: 1 # one\n# between\nb: 2\n  # odd\nc: 3\nd: 4\n",
	"value then key":   "a: b\nc: d: e\nf: g\nh: i\n",
	"tabs":             "a: 1\n\tb: 2\nc: 3\nd: 4\n",
	"closing brackets": "a: [1]\n]\nb: 2\nc: 3\n",
	"deep":             "a:\n  b:\n    c: 1\n    d: 2\n    e: 3\n  f:\n    g: 4\n    h: 5\n  i: 6\nj: 7\n",
}

// TestParseInPiecesEqualsWhole: every built-in scenario, every example in
// docs/scenarios.md, written-out files and corner cases parse in pieces (of one entry
// and more, so that every mapping of two entries is cut) to the tree, or the error, of
// a parse of the whole file.
func TestParseInPiecesEqualsWhole(t *testing.T) {
	files := map[string][]byte{
		"broken base":                []byte(brokenBase),
		"written out 5":              writtenOutRoadWarriors(5),
		"road warriors group":        RoadWarriors(3, 2),
		"written out, commented":     []byte("# road warriors\n" + strings.ReplaceAll(string(writtenOutRoadWarriors(4)), "\n  gw:\n", "\n  # the gateway\n  gw:\n")),
		"written out, repeated conn": []byte(strings.Replace(string(writtenOutRoadWarriors(6)), "    rw-5:\n      local_addrs", "    rw-1:\n      local_addrs", 1)),
	}
	for _, name := range Builtins() {
		files["builtin "+name], _ = builtinFS.ReadFile("builtin/" + name + ".yaml")
	}
	if doc, err := os.ReadFile(filepath.Join("..", "docs", "scenarios.md")); err == nil {
		for i, b := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1) {
			files[fmt.Sprintf("docs example %d", i+1)] = b[1]
		}
	}
	// The other scenario files of the repository: the templates, configuration
	// round trips, render test data.
	for _, pat := range []string{"templates/*.yaml", "config/testdata/*/*.yaml", "../render/*/*/testdata/*.yaml"} {
		paths, _ := filepath.Glob(pat)
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil {
				files[p] = data
			}
		}
	}
	for name, src := range yamlCorners {
		files["corner "+name] = []byte(src)
	}
	for name, data := range files {
		for _, n := range []int{1, 2, 3} {
			samePieces(t, name, data, n)
		}
	}
	// The written-out files are cut, and their pieces parse without falling back to
	// a parse of the whole file.
	for _, name := range []string{"written out 5", "written out, commented", "broken base"} {
		if cut, parsed := inPieces(files[name], 1); !cut || !parsed {
			t.Errorf("%s: cut %v, pieces parsed %v; want both", name, cut, parsed)
		}
	}
	if cut, parsed := inPieces(files["written out, repeated conn"], 1); !cut || parsed {
		t.Errorf("a key repeated across pieces: cut %v, pieces parsed %v; want cut and refused", cut, parsed)
	}
}

// TestLargeMappingsAreCut: the loader cuts the written-out file of its benchmark (64
// entries a piece), and the result is the tree of the whole file.
func TestLargeMappingsAreCut(t *testing.T) {
	data := writtenOutRoadWarriors(300)
	if cut, parsed := inPieces(data, pieceEntries); !cut || !parsed {
		t.Fatalf("cut %v, pieces parsed %v; want both", cut, parsed)
	}
	samePieces(t, "written out 300", data, pieceEntries)
}

// FuzzParseInPieces: whatever the file, parsing it in pieces gives the tree, or the
// error, of a parse of the whole file.
func FuzzParseInPieces(f *testing.F) {
	f.Add([]byte(brokenBase), uint8(1))
	f.Add(writtenOutRoadWarriors(3), uint8(1))
	for _, src := range yamlCorners {
		f.Add([]byte(src), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		samePieces(t, "fuzz", data, 1+int(n%4))
	})
}
