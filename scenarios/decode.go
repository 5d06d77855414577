package scenarios

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// The decoder turns the YAML tree of a file into a File in one walk, against the Go
// types of File: every unknown field and every value of the wrong type is reported at
// once, each at its own line and column (a decoder that stops at the first would hide
// the others), and a bad value is left at its zero value so that the checks that follow
// run too. It reads each scalar from its node, so that the cost is linear in the size
// of the file. Groups (groups.go) decode their templates once per member, with {i}
// replaced in every scalar.

type schemaError struct {
	node ast.Node
	msg  string
	// extra marks a problem the file decodes past: an unknown field, or a bad value
	// left at its zero value, so that the checks that follow run too.
	extra bool
}

type bytesUnmarshaler interface{ UnmarshalYAML([]byte) error }

var unmarshalerType = reflect.TypeOf((*bytesUnmarshaler)(nil)).Elem()

// decoder decodes nodes into values, collecting problems.
type decoder struct {
	errs []schemaError
	// sub rewrites the text of every scalar ({i} in a group's templates); nil: as
	// written.
	sub func(string) string
	// fields caches the yaml names of each struct type's fields.
	fields map[reflect.Type]map[string][]int
	// groups expands the groups section (groups.go) once the rest is decoded.
	groups []*ast.SequenceNode
}

// decodeFile decodes the documents of a file into f and returns the problems found.
func decodeFile(file *ast.File, f *File) (*decoder, []schemaError) {
	d := &decoder{fields: map[reflect.Type]map[string][]int{}}
	if len(file.Docs) > 1 {
		d.errs = append(d.errs, schemaError{file.Docs[1].Body, "a scenario file holds one YAML document; this one has several", false})
	}
	if len(file.Docs) == 0 || file.Docs[0].Body == nil {
		return d, append(d.errs, schemaError{nil, "the file is empty", false})
	}
	d.value(file.Docs[0].Body, reflect.ValueOf(f).Elem(), "")
	return d, d.errs
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

// structFields maps the yaml names of a struct's fields to their index paths; the
// fields of an embedded struct tagged inline are the struct's own.
func (d *decoder) structFields(t reflect.Type) map[string][]int {
	if m, ok := d.fields[t]; ok {
		return m
	}
	m := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		name, opt, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		switch {
		case opt == "inline":
			for k, path := range d.structFields(t.Field(i).Type) {
				m[k] = append([]int{i}, path...)
			}
		case name != "" && name != "-":
			m[name] = []int{i}
		}
	}
	d.fields[t] = m
	return m
}

// value decodes n into v (settable); what names the value in messages.
func (d *decoder) value(n ast.Node, v reflect.Value, what string) {
	n = unwrap(n)
	if n == nil {
		return
	}
	t := v.Type()
	if _, null := n.(*ast.NullNode); null {
		if t.Kind() == reflect.String && strings.HasSuffix(what, "proposals entry") {
			d.errs = append(d.errs, schemaError{n, "null here is YAML's empty value: write \"null\" in quotes for the NULL cipher (e.g. \"null-sha256\")", true})
		}
		return
	}
	fail := func(format string, args ...any) {
		d.errs = append(d.errs, schemaError{n, fmt.Sprintf(format, args...), true})
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		s, ok := d.scalar(n)
		if !ok {
			fail("%s must be a single value, not %s", what, kindName(n))
			return
		}
		if err := v.Addr().Interface().(bytesUnmarshaler).UnmarshalYAML([]byte(s)); err != nil {
			fail("%s: %v", what, err)
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		d.value(n, p.Elem(), what)
		v.Set(p)
	case reflect.Struct:
		ps, ok := pairs(n)
		if !ok {
			fail("%s must be a mapping (key: value), not %s", orTop(what), kindName(n))
			return
		}
		fields := d.structFields(t)
		seen := map[string]bool{}
		for _, p := range ps {
			k := keyText(p.Key)
			i, ok := fields[k]
			if !ok {
				names := make([]string, 0, len(fields))
				for name := range fields {
					names = append(names, name)
				}
				d.errs = append(d.errs, schemaError{p.Key, fmt.Sprintf("unknown field %q%s%s", k, inWhat(what), didYouMean(k, sortedStrings(names))), true})
				continue
			}
			if seen[k] {
				d.errs = append(d.errs, schemaError{p.Key, fmt.Sprintf("field %q appears twice%s", k, inWhat(what)), false})
			}
			seen[k] = true
			if t == fileType && k == "groups" {
				d.groupsField(p.Value) // expanded after the rest (groups.go)
				continue
			}
			d.value(p.Value, v.FieldByIndex(i), k)
		}
	case reflect.Map:
		ps, ok := pairs(n)
		if !ok {
			fail("%s must be a mapping of names, not %s", orTop(what), kindName(n))
			return
		}
		if v.IsNil() {
			v.Set(reflect.MakeMapWithSize(t, len(ps)))
		}
		seen := map[string]bool{}
		for _, p := range ps {
			k := keyText(p.Key)
			if d.sub != nil {
				k = d.sub(k)
			}
			if seen[k] {
				d.errs = append(d.errs, schemaError{p.Key, fmt.Sprintf("%q appears twice in %s", k, orTop(what)), false})
			}
			seen[k] = true
			e := reflect.New(t.Elem()).Elem()
			d.value(p.Value, e, k)
			v.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), e)
		}
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			fail("%s must be a list ([a, b] or lines starting with -), not %s", what, kindName(n))
			return
		}
		s := reflect.MakeSlice(t, len(seq.Values), len(seq.Values))
		for i, e := range seq.Values {
			d.value(e, s.Index(i), what+" entry")
		}
		v.Set(reflect.AppendSlice(v, s))
	case reflect.String:
		s, ok := d.scalar(n)
		if !ok {
			fail("%s must be text, not %s", what, kindName(n))
			return
		}
		v.SetString(s)
	case reflect.Int, reflect.Uint64, reflect.Float64:
		s, _ := d.scalar(n)
		if !setNumber(v, s) {
			kind := "a whole number"
			if t.Kind() == reflect.Float64 {
				kind = "a number"
			}
			fail("%s must be %s, not %q", what, kind, s)
		}
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			s, _ := d.scalar(n)
			fail("%s must be true or false, not %q", what, s)
			return
		}
		v.SetBool(b.Value)
	}
}

var fileType = reflect.TypeOf(File{})

// setNumber sets an int, uint64 or float64 from its text; false if it is not one.
func setNumber(v reflect.Value, s string) bool {
	switch v.Kind() {
	case reflect.Int:
		i, err := strconv.ParseInt(s, 10, 64)
		v.SetInt(i)
		return err == nil
	case reflect.Uint64:
		u, err := strconv.ParseUint(s, 10, 64)
		v.SetUint(u)
		return err == nil
	}
	f, err := strconv.ParseFloat(s, 64)
	v.SetFloat(f)
	return err == nil
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

// scalar is the text of a scalar node (with {i} replaced in a group's templates), and
// false for mappings and lists. A number or a boolean in a text field is its text
// as written.
func (d *decoder) scalar(n ast.Node) (string, bool) {
	s, ok := scalarText(n)
	if ok && d.sub != nil {
		s = d.sub(s)
	}
	return s, ok
}

// scalarText is the text of a scalar node, and false for mappings and lists.
func scalarText(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, true
	}
	return "", false
}

func sortedStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
