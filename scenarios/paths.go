package scenarios

import (
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// Paths name a place in a file for errors found after decoding: "$.topology.nodes[1]
// .address", "$.connections.'gw-a'.vpn". find walks the tree to it, through the
// templates of groups for their members' entries.

// pathPart is one step of a path: a key, or an index.
type pathPart struct {
	key   string
	index int // -1 for a key
}

// splitPath splits a path the validator wrote; false for anything else.
func splitPath(path string) ([]pathPart, bool) {
	if !strings.HasPrefix(path, "$") {
		return nil, false
	}
	var parts []pathPart
	s := path[1:]
	for s != "" {
		switch s[0] {
		case '.':
			s = s[1:]
			var k string
			if strings.HasPrefix(s, "'") {
				end := strings.IndexByte(s[1:], '\'')
				if end < 0 {
					return nil, false
				}
				k, s = s[1:end+1], s[end+2:]
			} else {
				end := strings.IndexAny(s, ".[")
				if end < 0 {
					end = len(s)
				}
				k, s = s[:end], s[end:]
			}
			parts = append(parts, pathPart{key: k, index: -1})
		case '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, false
			}
			i, err := strconv.Atoi(s[1:end])
			if err != nil || i < 0 {
				return nil, false
			}
			parts = append(parts, pathPart{index: i})
			s = s[end+1:]
		default:
			return nil, false
		}
	}
	return parts, true
}

// find returns the node at path, and the group whose template it is in ("" for a
// place written out); nil when the file has nothing there.
func (p *positions) find(file *ast.File, path string) (ast.Node, string) {
	parts, ok := splitPath(path)
	if !ok || file == nil || len(file.Docs) == 0 {
		return nil, ""
	}
	n := unwrap(file.Docs[0].Body)
	group := ""
	at := "$"
	for _, part := range parts {
		if n == nil {
			return nil, ""
		}
		if part.index >= 0 {
			var next ast.Node
			if p != nil {
				for _, e := range p.exps {
					if e.path == at && part.index >= e.from && part.index < e.from+e.n*len(e.tmpl) {
						next, group = e.tmpl[(part.index-e.from)%len(e.tmpl)], e.group
					}
				}
			}
			if next == nil {
				seq, ok := n.(*ast.SequenceNode)
				if !ok || part.index >= len(seq.Values) {
					return nil, ""
				}
				next = seq.Values[part.index]
			}
			n = unwrap(next)
			at += "[" + strconv.Itoa(part.index) + "]"
			continue
		}
		next := mappingValue(n, part.key)
		if next == nil && p != nil && at == "$.connections" && p.conns[part.key] != nil {
			next, group = p.conns[part.key], p.group[part.key]
		}
		if next == nil {
			// A key names a place (its value may be absent): point at the key.
			if ps, ok := pairs(n); ok {
				for _, kv := range ps {
					if keyText(kv.Key) == part.key {
						next = kv.Key
					}
				}
			}
			if next == nil {
				return nil, ""
			}
		}
		n = next
		at += "." + key(part.key)
	}
	return n, group
}
