package scenarios

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// The schema check walks the YAML tree against the Go types of File before decoding, so
// that every unknown field and every value of the wrong type is reported at once, each
// at its own line and column (a decoder stops at the first).

type schemaError struct {
	node ast.Node
	msg  string
	// extra marks a problem the file decodes past: an unknown field, or a bad value
	// that was replaced by null in the tree, so that the checks that follow run too.
	extra bool
}

type bytesUnmarshaler interface{ UnmarshalYAML([]byte) error }

var unmarshalerType = reflect.TypeOf((*bytesUnmarshaler)(nil)).Elem()

// checkSchema returns the problems found in the documents of a file.
func checkSchema(f *ast.File) []schemaError {
	var errs []schemaError
	if len(f.Docs) > 1 {
		errs = append(errs, schemaError{f.Docs[1].Body, "a scenario file holds one YAML document; this one has several", false})
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return append(errs, schemaError{nil, "the file is empty", false})
	}
	walkSchema(f.Docs[0].Body, reflect.TypeOf(File{}), "", &errs, func(ast.Node) {})
	return errs
}

// nullAt makes a null node where n was, so that decoding skips a bad value.
func nullAt(n ast.Node) ast.Node {
	tk := n.GetToken()
	return ast.Null(token.New("null", "null", tk.Position))
}

// unwrap looks through anchors, tags and comments to the node that holds the value.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.CommentGroupNode:
			return nil
		default:
			return n
		}
	}
}

func kindName(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "text"
	case *ast.IntegerNode:
		return "a number"
	case *ast.FloatNode:
		return "a number"
	case *ast.BoolNode:
		return "true or false"
	}
	return "a value"
}

// pairs returns the key/value pairs of a mapping node (a single pair is its own node).
func pairs(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch v := n.(type) {
	case *ast.MappingNode:
		return v.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, true
	}
	return nil, false
}

func keyText(k ast.MapKeyNode) string {
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value
	}
	return strings.TrimSpace(k.String())
}

// walkSchema checks n against t; set replaces n in its parent (with null, after a bad
// value, so that the rest of the file can still be decoded and checked).
func walkSchema(n ast.Node, t reflect.Type, what string, errs *[]schemaError, set func(ast.Node)) {
	n = unwrap(n)
	if n == nil {
		return
	}
	if _, null := n.(*ast.NullNode); null {
		if t.Kind() == reflect.String && strings.HasSuffix(what, "proposals entry") {
			*errs = append(*errs, schemaError{n, "null here is YAML's empty value: write \"null\" in quotes for the NULL cipher (e.g. \"null-sha256\")", true})
		}
		return
	}
	fail := func(format string, args ...any) {
		*errs = append(*errs, schemaError{n, fmt.Sprintf(format, args...), true})
		if n.GetToken() != nil {
			set(nullAt(n))
		}
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		s, ok := scalarText(n)
		if !ok {
			fail("%s must be a single value, not %s", what, kindName(n))
			return
		}
		v := reflect.New(t).Interface().(bytesUnmarshaler)
		if err := v.UnmarshalYAML([]byte(s)); err != nil {
			fail("%s: %v", what, err)
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		walkSchema(n, t.Elem(), what, errs, set)
	case reflect.Struct:
		ps, ok := pairs(n)
		if !ok {
			fail("%s must be a mapping (key: value), not %s", orTop(what), kindName(n))
			return
		}
		fields := yamlFields(t)
		seen := map[string]bool{}
		for _, p := range ps {
			k := keyText(p.Key)
			ft, ok := fields[k]
			if !ok {
				names := make([]string, 0, len(fields))
				for name := range fields {
					names = append(names, name)
				}
				*errs = append(*errs, schemaError{p.Key, fmt.Sprintf("unknown field %q%s%s", k, inWhat(what), didYouMean(k, sortedStrings(names))), true})
				continue
			}
			if seen[k] {
				*errs = append(*errs, schemaError{p.Key, fmt.Sprintf("field %q appears twice%s", k, inWhat(what)), false})
			}
			seen[k] = true
			walkSchema(p.Value, ft, k, errs, func(v ast.Node) { p.Value = v })
		}
	case reflect.Map:
		ps, ok := pairs(n)
		if !ok {
			fail("%s must be a mapping of names, not %s", orTop(what), kindName(n))
			return
		}
		seen := map[string]bool{}
		for _, p := range ps {
			k := keyText(p.Key)
			if seen[k] {
				*errs = append(*errs, schemaError{p.Key, fmt.Sprintf("%q appears twice in %s", k, orTop(what)), false})
			}
			seen[k] = true
			walkSchema(p.Value, t.Elem(), k, errs, func(v ast.Node) { p.Value = v })
		}
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			fail("%s must be a list ([a, b] or lines starting with -), not %s", what, kindName(n))
			return
		}
		for i, v := range seq.Values {
			walkSchema(v, t.Elem(), what+" entry", errs, func(v ast.Node) { seq.Values[i] = v })
		}
	case reflect.String:
		if _, ok := scalarText(n); !ok {
			fail("%s must be text, not %s", what, kindName(n))
		}
	case reflect.Int, reflect.Uint64:
		s, _ := scalarText(n)
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			fail("%s must be a whole number, not %q", what, s)
		}
	case reflect.Float64:
		s, _ := scalarText(n)
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			fail("%s must be a number, not %q", what, s)
		}
	case reflect.Bool:
		if _, ok := n.(*ast.BoolNode); !ok {
			s, _ := scalarText(n)
			fail("%s must be true or false, not %q", what, s)
		}
	}
}

func orTop(what string) string {
	if what == "" {
		return "the file"
	}
	return what
}

func inWhat(what string) string {
	if what == "" {
		return ""
	}
	return " in " + what
}

// scalarText is the text of a scalar node, and false for mappings and lists.
func scalarText(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return strings.TrimSpace(n.String()), true
	}
	return "", false
}

// yamlFields maps the yaml names of a struct's fields to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		m[name] = f.Type
	}
	return m
}

func sortedStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
