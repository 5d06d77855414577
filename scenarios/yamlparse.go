package scenarios

import (
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	ytoken "github.com/goccy/go-yaml/token"
)

// goccy/go-yaml's parser (v1.19.2) parses a block mapping's entries by recursion, one
// level per entry, and each level copies the entries of the levels below it: a mapping
// with n keys costs n²/2 copies (upstream pull request #889, "parse block mappings
// iteratively to avoid O(n^2) parse time", is the fix, not yet released). A file
// written out node by node has such mappings: connections with one key per node, and a
// gateway with one connection per road warrior.
//
// parseYAML therefore lexes the file once and feeds the parser pieces of it: a block
// mapping of many entries is cut, at entry boundaries, into pieces of about
// pieceEntries entries. The first piece stays in place, the others are parsed on their
// own (and cut further where they hold large mappings themselves), and their entries
// are appended to the mapping that the first piece opened. Tokens keep the line and
// column at which the lexer found them, so every node has the position it has in a
// parse of the whole file. Anything the cutting cannot vouch for stays whole, and a
// file that fails in pieces, or whose pieces repeat a key, is parsed whole again, so
// that every error is the parser's own, at its own place. Node paths (GetPath) inside
// a piece are relative to the piece; the loader does not use them.
//
// Cuts are placed where the parser cannot tell the difference: between two entries
// that each start a line at the mapping's column, after an entry whose last token is
// a complete value (a scalar or a closing bracket: an entry ending in "key:" gets its
// implicit null placed by what follows it), outside flow collections, in a file of
// one document without directives.

// pieceEntries is how many entries of a block mapping are parsed at a time; mappings
// of fewer than twice as many are parsed whole.
const pieceEntries = 64

// parseYAML parses a file into goccy/go-yaml's tree, as parser.ParseBytes(data, 0)
// does, in time linear in its size.
func parseYAML(data []byte) (*ast.File, error) { return parseInPieces(data, pieceEntries) }

// parseInPieces is parseYAML with pieces of n entries.
func parseInPieces(data []byte, n int) (*ast.File, error) {
	tokens := lexer.Tokenize(string(data))
	if tokens.InvalidToken() != nil {
		return parser.Parse(tokens, 0)
	}
	toks := make([]*ytoken.Token, 0, len(tokens))
	for _, tk := range tokens {
		switch tk.Type {
		case ytoken.CommentType:
			continue // dropped by the parser too
		case ytoken.DirectiveType, ytoken.DocumentHeaderType, ytoken.DocumentEndType:
			return parser.Parse(tokens, 0)
		}
		toks = append(toks, tk)
	}
	cuts := cutMappings(toks, n)
	if len(cuts) == 0 {
		return parser.Parse(tokens, 0)
	}
	if f, ok := parsePieces(toks, cuts, n); ok {
		return f, nil
	}
	// Parsing in pieces has linked the tokens differently (implicit nulls): lex again.
	return parser.ParseBytes(data, 0)
}

// parsePieces parses toks, one document, without the pieces cut off, then each piece,
// and appends each piece's entries to its mapping; false if the parser refuses any
// part or the pieces repeat a key.
func parsePieces(toks []*ytoken.Token, cuts []cut, n int) (*ast.File, bool) {
	main := make(ytoken.Tokens, 0, len(toks))
	at := 0
	for _, c := range cuts {
		main = append(main, toks[at:c.from]...)
		at = c.to
	}
	main = append(main, toks[at:]...)
	f, err := parser.Parse(main, 0)
	if err != nil || len(f.Docs) != 1 || f.Docs[0].Body == nil {
		return nil, false
	}
	// The mappings that lost pieces, by their first key's token. Each must hold the
	// entries that stayed, and each piece the entries cut off, key for key: if the
	// parser saw them otherwise (it lets a tag's value on the next line sit further
	// left, for one), the file is parsed whole.
	opened := openedMappings{}
	for _, c := range cuts {
		opened[c.first] = nil
	}
	ast.Walk(opened, f.Docs[0].Body)
	for _, c := range cuts {
		if m := opened[c.first]; m == nil || c.head != nil && !sameKeys(m, toks, c.head) {
			return nil, false
		}
	}
	for _, c := range cuts {
		piece := toks[c.from:c.to:c.to]
		pf, ok := parsePieces(piece, cutMappings(piece, n), n)
		if !ok {
			return nil, false
		}
		pm, ok := pf.Docs[0].Body.(*ast.MappingNode)
		if !ok || pm.IsFlowStyle || !sameKeys(pm, toks, c.keys) {
			return nil, false
		}
		m := opened[c.first]
		m.Values = append(m.Values, pm.Values...)
	}
	// The parser refuses a key repeated in a mapping (it compares their paths, where
	// a key with a path's special characters is quoted); across pieces, see to it here.
	for _, m := range opened {
		keys := make(map[string]bool, len(m.Values))
		for _, mv := range m.Values {
			k := mv.Key.GetToken().Value
			if strings.ContainsAny(k, "$*.[]") {
				k = "'" + k + "'"
			}
			if keys[k] {
				return nil, false
			}
			keys[k] = true
		}
	}
	return f, true
}

// sameKeys reports whether the keys of m are the tokens toks[i] for i in keys.
func sameKeys(m *ast.MappingNode, toks []*ytoken.Token, keys []int) bool {
	if len(m.Values) != len(keys) {
		return false
	}
	for i, mv := range m.Values {
		if mv.Key == nil || mv.Key.GetToken() != toks[keys[i]] {
			return false
		}
	}
	return true
}

// openedMappings finds the block mappings whose first key is one of its tokens.
type openedMappings map[*ytoken.Token]*ast.MappingNode

func (o openedMappings) Visit(n ast.Node) ast.Visitor {
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 && m.Values[0].Key != nil {
		if tk := m.Values[0].Key.GetToken(); tk != nil {
			if v, want := o[tk]; want && v == nil {
				o[tk] = m
			}
		}
	}
	return o
}

// cut is a run of entries of a block mapping, toks[from:to], parsed on its own.
type cut struct {
	from, to int
	keys     []int         // the indexes of its keys
	first    *ytoken.Token // the mapping's first key
	head     []int         // the indexes of the keys before the first cut (first cut only)
}

// blockMapping is a block mapping as cutMappings sees it.
type blockMapping struct {
	col     int
	entries []int // the indexes of its keys
	end     int   // the index of the token after it
	// whole marks a mapping never to cut: its first key does not start a line, or
	// it is not a mapping at all but a column that something else opened.
	whole bool
	// stuck marks the entries after which no cut may go (nil: none).
	stuck map[int]bool
}

// cutMappings finds the block mappings of toks with 2n entries or more and returns
// the pieces of them to parse on their own, of n entries or more, in order. A mapping
// inside a piece is cut when the piece is parsed.
func cutMappings(toks []*ytoken.Token, n int) []cut {
	var (
		open, done []*blockMapping
		depth      int
	)
	closeTo := func(col, at int) {
		for len(open) > 0 && open[len(open)-1].col > col {
			m := open[len(open)-1]
			m.end = at
			done = append(done, m)
			open = open[:len(open)-1]
		}
	}
	prevLine := 0 // the line of the token before, block scalars' text left out
	for i, tk := range toks {
		if blockText(toks, i) {
			continue // at line 2, column 0 for "a: |\n  text"
		}
		lineStart := i == 0 || tk.Position.Line > prevLine
		prevLine = tk.Position.Line
		atKey := isKey(toks, i)
		if depth == 0 && (lineStart || atKey) {
			col := tk.Position.Column
			if lineStart {
				closeTo(col, i)
			}
			var top *blockMapping
			if len(open) > 0 {
				top = open[len(open)-1]
			}
			switch {
			case top != nil && top.col == col && atKey && lineStart:
				top.entries = append(top.entries, i)
			case top != nil && top.col == col:
				// Something else at the entries' column (a sequence under the last
				// key, a key of another kind): it stays with the entry before it.
				if top.stuck == nil {
					top.stuck = map[int]bool{}
				}
				top.stuck[len(top.entries)-1] = true
			case top == nil || top.col < col:
				open = append(open, &blockMapping{col: col, entries: []int{i}, whole: !atKey || !lineStart})
			default:
				// A key left of an open mapping's column, after something on its line.
				for _, m := range open {
					m.whole = true
				}
			}
		}
		switch tk.Type {
		case ytoken.SequenceStartType, ytoken.MappingStartType:
			depth++
		case ytoken.SequenceEndType, ytoken.MappingEndType:
			if depth--; depth < 0 {
				return nil
			}
		}
	}
	if depth != 0 {
		return nil
	}
	closeTo(0, len(toks))
	slices.SortFunc(done, func(a, b *blockMapping) int { return a.entries[0] - b.entries[0] })
	var cuts []cut
	inCut := func(i int) bool {
		return slices.ContainsFunc(cuts, func(c cut) bool { return i >= c.from && i < c.to })
	}
	for _, m := range done {
		last := len(m.entries) - 1
		// The last piece ends where the mapping does: at the end of the file, or at a
		// key or sequence entry further left after a complete value ("0\n:" is a key).
		if m.whole || len(m.entries) < 2*n || inCut(m.entries[0]) ||
			m.end < len(toks) && (m.stuck[last] || !completeValue(toks, m.end-1) || !opensEntry(toks, m.end)) {
			continue
		}
		var at []int // the entries that start a piece
		start := 0
		for j := n; j <= last; j++ {
			if j-start >= n && !m.stuck[j-1] && completeValue(toks, m.entries[j]-1) {
				at = append(at, j)
				start = j
			}
		}
		for k, j := range at {
			to, next := m.end, len(m.entries)
			if k+1 < len(at) {
				next = at[k+1]
				to = m.entries[next]
			}
			c := cut{from: m.entries[j], to: to, keys: m.entries[j:next], first: toks[m.entries[0]]}
			if k == 0 {
				c.head = m.entries[:j]
			}
			cuts = append(cuts, c)
		}
	}
	slices.SortFunc(cuts, func(a, b cut) int { return a.from - b.from })
	return cuts
}

// completeValue reports whether toks[i] ends a value, whatever follows it.
func completeValue(toks []*ytoken.Token, i int) bool {
	if i > 0 && toks[i-1].Type == ytoken.AnchorType {
		return false // an anchor's name: its value is missing
	}
	switch toks[i].Type {
	case ytoken.StringType, ytoken.SingleQuoteType, ytoken.DoubleQuoteType, ytoken.IntegerType,
		ytoken.BinaryIntegerType, ytoken.OctetIntegerType, ytoken.HexIntegerType, ytoken.FloatType,
		ytoken.BoolType, ytoken.NullType, ytoken.InfinityType, ytoken.NanType,
		ytoken.SequenceEndType, ytoken.MappingEndType:
		return true
	}
	return false
}

// isKey reports whether toks[i] is a key, a plain or quoted scalar followed by a colon
// on its line.
func isKey(toks []*ytoken.Token, i int) bool {
	tk := toks[i]
	return i+1 < len(toks) && toks[i+1].Type == ytoken.MappingValueType && toks[i+1].Position.Line == tk.Position.Line &&
		(tk.Type == ytoken.StringType || tk.Type == ytoken.SingleQuoteType || tk.Type == ytoken.DoubleQuoteType)
}

// opensEntry reports whether toks[i] opens an entry of a mapping or a sequence.
func opensEntry(toks []*ytoken.Token, i int) bool {
	return isKey(toks, i) || toks[i].Type == ytoken.SequenceEntryType
}

// blockText reports whether toks[i] is the text of a literal or folded block scalar.
func blockText(toks []*ytoken.Token, i int) bool {
	return i > 0 && (toks[i-1].Type == ytoken.LiteralType || toks[i-1].Type == ytoken.FoldedType)
}
