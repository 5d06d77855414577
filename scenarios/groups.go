package scenarios

import (
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// A group is N similar nodes written once: a node, its connections, its secrets and its
// timeline steps, with {i} in any value replaced by the member's number (1 to count).
// Members' addresses count up from the ones written: member i has each address plus
// i-1, unless the address is written with {i}. The decoder reads the templates once
// per member into the sections of the file (after the entries written there), so that
// everything downstream sees ordinary nodes; errors in a template point at its line.

// GroupSpec is one group as the file has it.
type GroupSpec struct {
	Name  string
	Count int
	// Nodes are the members' names, in order.
	Nodes []string
}

// groupKeys are the fields of a group entry.
var groupKeys = []string{"name", "count", "node", "connections", "secrets", "timeline"}

// maxGroupCount bounds the members of one group.
const maxGroupCount = 1_000_000

// expansion says where the members of a group went in one list of the file: entries
// from..from+n*len(tmpl) of the list at path are the templates, member after member.
type expansion struct {
	path  string
	from  int
	n     int
	tmpl  []ast.Node
	group string
}

// groupsField records the groups section, expanded once the rest is decoded.
func (d *decoder) groupsField(n ast.Node) {
	n = unwrap(n)
	if n == nil {
		return
	}
	if _, null := n.(*ast.NullNode); null {
		return
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.errs = append(d.errs, schemaError{n, "groups must be a list ([a, b] or lines starting with -), not " + kindName(n), true})
		return
	}
	d.groups = append(d.groups, seq)
}

// positions maps the file's paths of group members' entries to their templates.
type positions struct {
	exps []expansion
	// conns maps a member to its group's connections template.
	conns map[string]ast.Node
	group map[string]string // member -> group, for connections
}

// expandGroups reads every group's templates once per member into f.
func (d *decoder) expandGroups(f *File) *positions {
	pos := &positions{conns: map[string]ast.Node{}, group: map[string]string{}}
	for _, seq := range d.groups {
		for _, entry := range seq.Values {
			d.group(unwrap(entry), f, pos)
		}
	}
	return pos
}

// groupTemplate is a group entry's fields as nodes.
type groupTemplate struct {
	name, count, node, conns, secrets, timeline ast.Node
}

func (d *decoder) group(entry ast.Node, f *File, pos *positions) {
	if entry == nil {
		return
	}
	ps, ok := pairs(entry)
	if !ok {
		d.errs = append(d.errs, schemaError{entry, "groups entry must be a mapping (key: value), not " + kindName(entry), true})
		return
	}
	var t groupTemplate
	slots := map[string]*ast.Node{"name": &t.name, "count": &t.count, "node": &t.node, "connections": &t.conns,
		"secrets": &t.secrets, "timeline": &t.timeline}
	for _, p := range ps {
		k := keyText(p.Key)
		slot := slots[k]
		if slot == nil {
			d.errs = append(d.errs, schemaError{p.Key, fmt.Sprintf("unknown field %q in groups entry%s", k, didYouMean(k, groupKeys)), true})
			continue
		}
		if *slot != nil {
			d.errs = append(d.errs, schemaError{p.Key, fmt.Sprintf("field %q appears twice in groups entry", k), false})
		}
		*slot = unwrap(p.Value)
	}
	var g GroupSpec
	d.value(t.name, reflect.ValueOf(&g.Name).Elem(), "name")
	d.value(t.count, reflect.ValueOf(&g.Count).Elem(), "count")
	switch {
	case g.Name == "":
		d.errs = append(d.errs, schemaError{entry, "a group needs a name (name: road-warriors)", true})
		return
	case t.count == nil:
		d.errs = append(d.errs, schemaError{entry, fmt.Sprintf("group %q needs a count: how many members", g.Name), true})
		return
	case g.Count < 1 || g.Count > maxGroupCount:
		d.errs = append(d.errs, schemaError{t.count, fmt.Sprintf("group %q has %d members: a group has 1 to %d", g.Name, g.Count, maxGroupCount), true})
		return
	case t.node == nil:
		d.errs = append(d.errs, schemaError{entry, fmt.Sprintf("group %q needs node: the node each member is, with {i} in its name", g.Name), true})
		return
	}
	if name := mappingValue(t.node, "name"); name == nil || !strings.Contains(name.GetToken().Value, "{i}") {
		at := ast.Node(t.node)
		if name != nil {
			at = name
		}
		d.errs = append(d.errs, schemaError{at, fmt.Sprintf("the node of group %q needs a name with {i} (like %s-{i}), one per member", g.Name, g.Name), true})
		return
	}
	counted := countedAddresses(t.node)
	secrets, steps := seqValues(t.secrets), seqValues(t.timeline)
	exps := []expansion{
		{path: "$.topology.nodes", from: len(f.Topology.Nodes), n: g.Count, tmpl: []ast.Node{t.node}, group: g.Name},
		{path: "$.secrets", from: len(f.Secrets), n: g.Count, tmpl: secrets, group: g.Name},
		{path: "$.timeline", from: len(f.Timeline), n: g.Count, tmpl: steps, group: g.Name},
	}
	reported := map[token]bool{}
	for _, e := range d.errs {
		reported[tokenOf(e.node)] = true
	}
	before := len(d.errs)
	for i := 1; i <= g.Count; i++ {
		num := strconv.Itoa(i)
		d.sub = func(s string) string { return strings.ReplaceAll(s, "{i}", num) }
		var n NodeSpec
		d.value(t.node, reflect.ValueOf(&n).Elem(), "node")
		n.Group = g.Name
		d.countAddresses(&n, counted, i)
		f.Topology.Nodes = append(f.Topology.Nodes, n)
		g.Nodes = append(g.Nodes, n.Name)
		if t.conns != nil {
			if f.Connections == nil {
				f.Connections = map[string]map[string]*ConnSpec{}
			}
			conns := map[string]*ConnSpec{}
			d.value(t.conns, reflect.ValueOf(&conns).Elem(), "connections")
			if _, dup := f.Connections[n.Name]; !dup {
				f.Connections[n.Name] = conns
				pos.conns[n.Name], pos.group[n.Name] = t.conns, g.Name
			}
		}
		d.value(t.secrets, reflect.ValueOf(&f.Secrets).Elem(), "secrets")
		d.value(t.timeline, reflect.ValueOf(&f.Timeline).Elem(), "timeline")
		d.sub = nil
		// A template's error is reported once, for the first member that has it.
		kept := d.errs[:before]
		for _, e := range d.errs[before:] {
			if tk := tokenOf(e.node); !reported[tk] {
				reported[tk] = true
				if i > 1 {
					e.msg += fmt.Sprintf(" (member %d of group %s)", i, g.Name)
				}
				kept = append(kept, e)
			}
		}
		d.errs = kept
		before = len(d.errs)
	}
	for _, e := range exps {
		if len(e.tmpl) > 0 {
			pos.exps = append(pos.exps, e)
		}
	}
	f.Groups = append(f.Groups, g)
}

// token is a position in the file.
type token struct{ line, col int }

func tokenOf(n ast.Node) token {
	if n == nil || n.GetToken() == nil {
		return token{}
	}
	p := n.GetToken().Position
	return token{p.Line, p.Column}
}

// mappingValue is the value of key in a mapping node, or nil.
func mappingValue(n ast.Node, key string) ast.Node {
	ps, _ := pairs(n)
	for _, p := range ps {
		if keyText(p.Key) == key {
			return unwrap(p.Value)
		}
	}
	return nil
}

// seqValues are the entries of a list node (none for anything else: the decoder
// reports it).
func seqValues(n ast.Node) []ast.Node {
	if s, ok := n.(*ast.SequenceNode); ok {
		return s.Values
	}
	return nil
}

// countedAddresses are the template's address and addresses, in order, each nil when
// it does not count up with the member's number (it is written with {i}).
func countedAddresses(node ast.Node) []ast.Node {
	var out []ast.Node
	add := func(a ast.Node) {
		if s, _ := scalarText(a); strings.Contains(s, "{i}") {
			a = nil
		}
		out = append(out, a)
	}
	if a := mappingValue(node, "address"); a != nil {
		add(a)
	}
	for _, a := range seqValues(mappingValue(node, "addresses")) {
		add(unwrap(a))
	}
	return out
}

// countAddresses gives member i its addresses: each one written without {i}, plus i-1.
// An address that leaves its prefix is reported where the template writes it.
func (d *decoder) countAddresses(n *NodeSpec, counted []ast.Node, i int) {
	k := 0
	// step counts each address of an entry (a dual-stack interface has two).
	step := func(entry string) string {
		at := ast.Node(nil)
		if k < len(counted) {
			at = counted[k]
		}
		k++
		if at == nil || i == 1 {
			return entry
		}
		fields := strings.Fields(entry)
		for f, s := range fields {
			p, err := parsePrefix(s)
			if err != nil {
				return entry // reported by validation, at the template
			}
			a, ok := addAddr(p.Addr(), uint32(i-1))
			if !ok || !p.Contains(a) {
				d.errs = append(d.errs, schemaError{at, fmt.Sprintf("group %s runs out of addresses: member %d would have %s plus %d, outside %s",
					n.Group, i, p.Addr(), i-1, p.Masked()), true})
				return entry
			}
			if !strings.Contains(s, "/") {
				fields[f] = a.String()
			} else {
				fields[f] = netip.PrefixFrom(a, p.Bits()).String()
			}
		}
		return strings.Join(fields, " ")
	}
	if n.Address != "" {
		n.Address = step(n.Address)
	}
	for j := range n.Addresses {
		n.Addresses[j] = step(n.Addresses[j])
	}
}

// addAddr is a + n, false past 255.255.255.255 (or past the last IPv6 address).
func addAddr(a netip.Addr, n uint32) (netip.Addr, bool) {
	if a.Is6() {
		b := a.As16()
		carry := uint64(n)
		for j := 15; j >= 0 && carry > 0; j-- {
			carry += uint64(b[j])
			b[j] = byte(carry)
			carry >>= 8
		}
		if carry > 0 {
			return netip.Addr{}, false
		}
		return netip.AddrFrom16(b), true
	}
	b := a.As4()
	v := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	v += uint64(n)
	if v > 0xffffffff {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}
