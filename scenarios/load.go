package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/ikesim/ikesim/ike"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Scenario is a parsed and checked scenario file.
type Scenario struct {
	File   *File
	Path   string // file name for messages ("builtin/ikev2-ping.yaml" for built-ins)
	Source []byte
	Seed   uint64
	ast    *ast.File // for positions of errors found while building
	pos    *positions
}

// Error is one problem in a scenario file, with its position and source line.
type Error struct {
	File      string
	Line, Col int
	Msg       string
	Source    string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	} else {
		fmt.Fprintf(&b, "%s: %s", e.File, e.Msg)
	}
	if e.Source != "" {
		fmt.Fprintf(&b, "\n  %4d | %s\n       | %s^", e.Line, e.Source, strings.Repeat(" ", max(0, e.Col-1)))
	}
	return b.String()
}

// ErrorList is every problem found in a file.
type ErrorList []*Error

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Builtins lists the built-in scenarios by name, sorted.
func Builtins() []string {
	ents, _ := builtinFS.ReadDir("builtin")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// Default is the scenario that runs when none is named.
const Default = "ikev2-ping"

// Load reads a built-in scenario by name, or a scenario file by path.
func Load(nameOrPath string) (*Scenario, error) {
	if data, err := builtinFS.ReadFile("builtin/" + nameOrPath + ".yaml"); err == nil {
		return Parse(data, "builtin/"+nameOrPath+".yaml")
	}
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("scenario: %q is neither a built-in scenario (see 'ikesim list') nor a file", nameOrPath)
		}
		return nil, fmt.Errorf("scenario: %v", err)
	}
	return Parse(data, nameOrPath)
}

// Parse decodes and checks a scenario file. The error is an ErrorList naming every
// problem found, each with its line and column.
func Parse(data []byte, path string) (*Scenario, error) {
	lines := strings.Split(string(data), "\n")
	mk := func(line, col int, msg string) *Error {
		e := &Error{File: path, Line: line, Col: col, Msg: msg}
		if line > 0 && line <= len(lines) {
			e.Source = strings.TrimRight(lines[line-1], "\r")
		}
		return e
	}
	file, err := parseYAML(data)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			p := ye.GetToken().Position
			return nil, ErrorList{mk(p.Line, p.Column, cleanYAMLMessage(ye.GetMessage()))}
		}
		return nil, ErrorList{mk(0, 0, cleanYAMLMessage(err.Error()))}
	}
	var f File
	var early ErrorList // problems the checks go on past
	fatal := false
	d, errs := decodeFile(file, &f)
	report := func(errs []schemaError) {
		for _, e := range errs {
			line, col := 0, 0
			if e.node != nil && e.node.GetToken() != nil {
				line, col = e.node.GetToken().Position.Line, e.node.GetToken().Position.Column
			}
			early = append(early, mk(line, col, e.msg))
			fatal = fatal || !e.extra
		}
	}
	report(errs)
	if fatal {
		return nil, early
	}
	d.errs = nil
	pos := d.expandGroups(&f)
	report(d.errs)
	if fatal {
		return nil, early
	}
	v := &validator{f: &f, file: file, pos: pos, mk: mk, dir: fileDir(path)}
	if f.Name == "" {
		f.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	v.check()
	v.groupNotes()
	if all := append(early, v.errs...); len(all) > 0 {
		sort.SliceStable(all, func(i, j int) bool {
			if all[i].Line != all[j].Line {
				return all[i].Line < all[j].Line
			}
			return all[i].Col < all[j].Col
		})
		return nil, all
	}
	s := &Scenario{File: &f, Path: path, Source: data, ast: file, pos: pos}
	if f.Seed != nil {
		s.Seed = *f.Seed
	} else {
		s.Seed = 1
	}
	return s, nil
}

// fileDir is the directory of a scenario file, where the files it names are; none for
// built-ins and examples.
func fileDir(path string) string {
	if strings.HasPrefix(path, "builtin/") || !strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml") {
		return ""
	}
	return filepath.Dir(path)
}

func cleanYAMLMessage(m string) string {
	m = strings.TrimSpace(m)
	m = strings.ReplaceAll(m, "scenarios.", "")
	return m
}

// validator checks the semantics of a decoded file, collecting every error.
type validator struct {
	f     *File
	file  *ast.File
	pos   *positions
	mk    func(line, col int, msg string) *Error
	errs  ErrorList
	nodes map[string]*NodeSpec
	index map[string]int // node name -> its index in topology.nodes
	// sortedNodes are the node names, sorted (nodeNames).
	sortedNodes []string
	groups      map[string]*GroupSpec
	dir         string // the scenario file's directory, for the PEM files it names
	// inGroup counts the errors at a place in a group's template after the first one
	// there: one message stands for every member.
	inGroup map[token]*groupErrors
	// secretsByID indexes the secrets by identity (secret.go).
	secretsByID, secretsBySingle map[string][]int
	anyIDs                       []int
	// eapCommon are the EAP secrets of every node, eapNamed those that name nodes.
	eapCommon map[string][]byte
	eapNamed  map[string][]int
}

// groupErrors is the first error at a place in a group's template, and how many
// members had one there.
type groupErrors struct {
	err   *Error
	group string
	more  int
}

// at turns a YAML path like "$.topology.nodes[1].address" into a position, and the
// group whose template holds it.
func (v *validator) at(path string) (int, int, string) {
	for path != "" && path != "$" {
		if n, g := v.pos.find(v.file, path); n != nil && n.GetToken() != nil {
			pos := n.GetToken().Position
			return pos.Line, pos.Column, g
		}
		// Fall back to the enclosing element.
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			break
		}
		path = path[:i]
	}
	return 0, 0, ""
}

// present reports whether the file has a value at path (a bad one, reported already, too).
func (v *validator) present(path string) bool {
	n, _ := v.pos.find(v.file, path)
	return n != nil
}

func (v *validator) errorf(path, format string, args ...any) {
	if v.repeated(path) {
		return
	}
	l, c, group := v.at(path)
	e := v.mk(l, c, fmt.Sprintf(format, args...))
	if group != "" {
		if v.inGroup == nil {
			v.inGroup = map[token]*groupErrors{}
		}
		v.inGroup[token{l, c}] = &groupErrors{err: e, group: group}
	}
	v.errs = append(v.errs, e)
}

// repeated reports whether path is in a group's template where an error was reported
// already, for another member, and counts it there.
func (v *validator) repeated(path string) bool {
	if len(v.inGroup) == 0 {
		return false
	}
	l, c, group := v.at(path)
	if g := v.inGroup[token{l, c}]; group != "" && g != nil {
		g.more++
		return true
	}
	return false
}

// groupNotes adds to each error in a group's template how many more members had it.
func (v *validator) groupNotes() {
	for _, g := range v.inGroup {
		if g.more > 0 {
			g.err.Msg += fmt.Sprintf(" (and %d more members of group %s)", g.more, g.group)
		}
	}
}

// key quotes a map key for a YAML path.
func key(k string) string {
	for _, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "'" + k + "'"
		}
	}
	return k
}

func (v *validator) check() {
	f := v.f
	v.nodes, v.index = map[string]*NodeSpec{}, map[string]int{}
	if len(f.Topology.Nodes) == 0 && !v.present("$.topology.nodes") {
		v.errorf("$.topology", "the topology has no nodes")
	}
	for i := range f.Topology.Nodes {
		n := &f.Topology.Nodes[i]
		p := fmt.Sprintf("$.topology.nodes[%d]", i)
		switch {
		case n.Name == "":
			v.errorf(p, "node without a name")
			continue
		case v.nodes[n.Name] != nil:
			v.errorf(p+".name", "node %q is defined twice", n.Name)
			continue
		}
		v.nodes[n.Name], v.index[n.Name] = n, i
		if _, err := nodeKind(n.Kind); err != nil {
			v.errorf(p+".kind", "%v", err)
		}
		addrs := n.Addresses
		ap := p + ".addresses"
		if n.Address != "" {
			addrs = append([]string{n.Address}, addrs...)
			ap = p + ".address"
		}
		if len(addrs) == 0 {
			v.errorf(p, "node %q has no address", n.Name)
		}
		for j, a := range addrs {
			q := ap
			if ap == p+".addresses" {
				q = fmt.Sprintf("%s[%d]", ap, j)
			}
			v.interfaceAddrs(q, a)
		}
		v.charon(n.Charon, p+".charon")
		if n.NAT != nil && n.Kind != "nat" {
			v.errorf(p+".nat", "nat settings on node %q, which is a %s, not a nat", n.Name, n.Kind)
		}
		if n.Gateway != "" {
			if _, err := netip.ParseAddr(n.Gateway); err != nil {
				v.errorf(p+".gateway", "gateway %q is not an IPv4 address", n.Gateway)
			}
		}
	}
	v.groupsAndSegments()
	for i, l := range f.Topology.Links {
		p := fmt.Sprintf("$.topology.links[%d]", i)
		if len(l.Between) != 2 {
			v.errorf(p, "a link is between exactly two nodes (between: [a, b])")
			continue
		}
		for j, name := range l.Between {
			v.node(fmt.Sprintf("%s.between[%d]", p, j), name)
		}
		if l.Between[0] == l.Between[1] {
			v.errorf(p+".between", "link joins node %q to itself", l.Between[0])
		}
		if l.MTU != 0 && (l.MTU < 576 || l.MTU > 65535) {
			v.errorf(p+".mtu", "MTU %d is out of range (576 to 65535)", l.MTU)
		}
	}
	for _, nodeName := range sortedKeys(f.Connections) {
		np := "$.connections." + key(nodeName)
		if !v.node(np, nodeName) {
			continue
		}
		for _, cn := range sortedKeys(f.Connections[nodeName]) {
			if _, err := v.connection(nodeName, cn, np+"."+key(cn)); err != nil {
				continue
			}
		}
	}
	v.checkSecrets() // types eap and private too (pki.go)
	for i, st := range f.Timeline {
		v.step(fmt.Sprintf("$.timeline[%d]", i), &st)
	}
	for i, ft := range f.Faults {
		p := fmt.Sprintf("$.faults[%d]", i)
		if _, err := faultOf(ft); err != nil {
			v.errorf(p, "%v", err)
			continue
		}
		for _, m := range []*MatchSpec{ft.Drop, ft.Duplicate, ft.Delay, ft.Corrupt} {
			if m == nil {
				continue
			}
			if m.From != "" {
				v.node(p+".from", m.From)
			}
			v.proto(p, m.Proto)
			if m.By > 0 && ft.Delay == nil {
				v.errorf(p, "by: applies only to a delay fault")
			}
		}
	}
	for i, e := range f.Expect {
		v.expect(fmt.Sprintf("$.expect[%d]", i), &e)
	}
}

func (v *validator) node(path, name string) bool {
	if v.nodes[name] != nil {
		return true
	}
	if !v.repeated(path) {
		v.errorf(path, "unknown node %q%s", name, didYouMean(name, v.nodeNames()))
	}
	return false
}

// nodeNames are the names of the nodes, sorted.
func (v *validator) nodeNames() []string {
	if v.sortedNodes == nil {
		v.sortedNodes = sortedKeys(v.nodes)
	}
	return v.sortedNodes
}

// nodeOrGroup checks a name that stands for a node or for every member of a group.
func (v *validator) nodeOrGroup(path, name string) bool {
	if v.groups[name] != nil || v.nodes[name] != nil {
		return true
	}
	v.errorf(path, "unknown node or group %q%s", name, didYouMean(name, append(sortedKeys(v.groups), v.nodeNames()...)))
	return false
}

// groupsAndSegments checks the groups' names and the segments.
func (v *validator) groupsAndSegments() {
	v.groups = map[string]*GroupSpec{}
	for i := range v.f.Groups {
		g := &v.f.Groups[i]
		p := fmt.Sprintf("$.groups[%d].name", i)
		switch {
		case v.nodes[g.Name] != nil:
			v.errorf(p, "group %q has the name of a node", g.Name)
		case v.groups[g.Name] != nil:
			v.errorf(p, "group %q is defined twice", g.Name)
		}
		v.groups[g.Name] = g
	}
	seen := map[string]bool{}
	for i, sp := range v.f.Topology.Segments {
		p := fmt.Sprintf("$.topology.segments[%d]", i)
		switch {
		case sp.Name == "":
			v.errorf(p, "segment without a name")
		case seen[sp.Name]:
			v.errorf(p+".name", "segment %q is defined twice", sp.Name)
		}
		seen[sp.Name] = true
		var within netip.Prefix
		if sp.Prefix != "" {
			pf, err := netip.ParsePrefix(sp.Prefix)
			if err != nil || !pf.Addr().Is4() {
				v.errorf(p+".prefix", "%q is not an IPv4 prefix (like 10.1.0.0/16)", sp.Prefix)
			}
			within = pf.Masked()
		}
		if len(sp.Nodes) == 0 {
			v.errorf(p, "segment %q has no nodes (nodes: [a, b, a-group])", sp.Name)
		}
		for j, name := range sp.Nodes {
			q := fmt.Sprintf("%s.nodes[%d]", p, j)
			if !v.nodeOrGroup(q, name) || !within.IsValid() {
				continue
			}
			for _, member := range v.f.members([]string{name}) {
				if !slices.ContainsFunc(v.nodes[member].Prefixes(), func(a netip.Prefix) bool { return within.Contains(a.Addr()) }) {
					v.errorf(q, "node %q has no address in %s, the prefix of segment %s", member, within, sp.Name)
					break
				}
			}
		}
		if sp.MTU != 0 && (sp.MTU < 576 || sp.MTU > 65535) {
			v.errorf(p+".mtu", "MTU %d is out of range (576 to 65535)", sp.MTU)
		}
	}
}

func (v *validator) connRef(path, node, conn, child string) {
	if !v.node(path+".node", node) {
		return
	}
	conns := v.f.Connections[node]
	if conn == "" {
		if len(conns) == 1 && child == "" {
			return
		}
		if child != "" {
			for _, c := range conns {
				if _, ok := c.Children[child]; ok {
					return
				}
			}
			var known []string
			for _, c := range conns {
				if c != nil {
					known = append(known, sortedKeys(c.Children)...)
				}
			}
			v.errorf(path+".child", "node %q has no child %q%s", node, child, didYouMean(child, known))
			return
		}
		v.errorf(path, "node %q has %d connections: name one (connection: NAME)", node, len(conns))
		return
	}
	c := conns[conn]
	if c == nil {
		v.errorf(path+".connection", "node %q has no connection %q%s", node, conn, didYouMean(conn, sortedKeys(conns)))
		return
	}
	if child != "" && c.Children[child] == nil {
		v.errorf(path+".child", "connection %q has no child %q%s", conn, child, didYouMean(child, sortedKeys(c.Children)))
	}
}

// trues counts the true ones: how many of a step's actions or an expectation's checks
// are set.
func trues(set ...bool) int {
	n := 0
	for _, b := range set {
		if b {
			n++
		}
	}
	return n
}

func (v *validator) step(p string, st *Step) {
	n := trues(st.Ping != nil, st.Initiate != nil, st.Rekey != nil, st.Delete != nil, st.Liveness != nil,
		st.Link != nil, st.SetPSK != nil, st.Restart != nil)
	if n != 1 {
		v.errorf(p, "a timeline step has exactly one action (ping, initiate, rekey, delete, liveness, link, set_psk, restart); this one has %d", n)
		return
	}
	switch {
	case st.Ping != nil:
		v.node(p+".ping.from", st.Ping.From)
		if _, err := netip.ParseAddr(st.Ping.To); err != nil && v.nodes[st.Ping.To] == nil {
			v.errorf(p+".ping.to", "ping target %q is neither an address nor a node%s", st.Ping.To, didYouMean(st.Ping.To, sortedKeys(v.nodes)))
		}
		if st.Ping.Source != "" {
			v.pingSource(p+".ping.source", st.Ping.From, st.Ping.Source)
		}
		if st.Ping.Count < 0 {
			v.errorf(p+".ping.count", "ping count %d is negative", st.Ping.Count)
		}
	case st.Initiate != nil:
		v.connRef(p+".initiate", st.Initiate.Node, st.Initiate.Connection, st.Initiate.Child)
	case st.Rekey != nil:
		v.connRef(p+".rekey", st.Rekey.Node, st.Rekey.Connection, st.Rekey.Child)
	case st.Delete != nil:
		v.connRef(p+".delete", st.Delete.Node, st.Delete.Connection, st.Delete.Child)
	case st.Liveness != nil:
		v.connRef(p+".liveness", st.Liveness.Node, st.Liveness.Connection, "")
	case st.SetPSK != nil:
		v.connRef(p+".set_psk", st.SetPSK.Node, st.SetPSK.Connection, "")
	case st.Restart != nil:
		v.node(p+".restart.node", st.Restart.Node)
	case st.Link != nil:
		if len(st.Link.Between) != 2 {
			v.errorf(p+".link", "link step needs between: [a, b]")
			return
		}
		v.node(p+".link.between[0]", st.Link.Between[0])
		v.node(p+".link.between[1]", st.Link.Between[1])
		if st.Link.State != "up" && st.Link.State != "down" {
			v.errorf(p+".link.state", "link state is up or down, not %q", st.Link.State)
		}
	}
}

// interfaceAddrs checks an interface's entry of addresses: one address with its prefix
// length, or a dual-stack interface's IPv4 and IPv6 addresses separated by a space.
func (v *validator) interfaceAddrs(path, entry string) {
	fields := strings.Fields(entry)
	if len(fields) > 2 {
		v.errorf(path, "%q has %d addresses; an interface has one, or one IPv4 and one IPv6 address separated by a space (dual stack)", entry, len(fields))
		return
	}
	if len(fields) == 0 {
		fields = []string{entry}
	}
	var parsed []netip.Prefix
	for _, a := range fields {
		p, err := parsePrefix(a)
		if err != nil {
			v.errorf(path, "%v", err)
			return
		}
		parsed = append(parsed, p)
	}
	if len(parsed) == 2 && parsed[0].Addr().Is4() == parsed[1].Addr().Is4() {
		v.errorf(path, "%q: a dual-stack interface has one IPv4 and one IPv6 address, not two of one family (give each its own entry: one interface each)", entry)
	}
}

// pingSource checks that a ping's source is an address of the node that sends it.
func (v *validator) pingSource(path, node, src string) {
	a, err := netip.ParseAddr(src)
	if err != nil {
		v.errorf(path, "ping source %q is not an IPv4 address", src)
		return
	}
	n := v.nodes[node]
	if n == nil {
		return // reported already
	}
	for _, p := range n.Prefixes() {
		if p.Addr() == a {
			return
		}
	}
	v.errorf(path, "ping source %s is not an address of node %q", src, node)
}

func (v *validator) expect(p string, e *Expect) {
	if strings.TrimSpace(e.Says) == "" {
		v.errorf(p, "an expectation needs says: the sentence a student reads when it passes or fails")
	}
	n := trues(e.IKESA != nil, e.ChildSAs != nil, e.Pings != nil, e.Message != nil, e.State != nil,
		e.Dropped != nil, e.NATDetected != nil, e.Before != nil)
	if n != 1 {
		v.errorf(p, "an expectation has exactly one check (ike_sa, child_sas, pings, message, state, dropped, nat_detected, before); this one has %d", n)
		return
	}
	count := func(path string, c *int) {
		if c != nil && *c < 0 {
			v.errorf(path, "a count cannot be negative (%d)", *c)
		}
	}
	switch {
	case e.IKESA != nil:
		x := e.IKESA
		if len(x.Between) != 2 {
			v.errorf(p+".ike_sa", "ike_sa needs between: [a, b]")
		} else {
			v.node(p+".ike_sa.between[0]", x.Between[0])
			v.node(p+".ike_sa.between[1]", x.Between[1])
		}
		if s := x.State; s != "" && s != "established" && s != "failed" {
			v.errorf(p+".ike_sa.state", "ike_sa state is established or failed, not %q", s)
		}
		if x.Notify != "" {
			v.notify(p+".ike_sa.notify", x.Notify)
			if x.State != "failed" {
				v.errorf(p+".ike_sa.notify", "notify names the notify type that ends a failed IKE SA: it needs state: failed")
			}
		}
		if x.State == "failed" && (x.Count != nil || x.Rekeyed != nil) {
			v.errorf(p+".ike_sa", "count and rekeyed describe established IKE SAs, not state: failed")
		}
		count(p+".ike_sa.count", x.Count)
	case e.ChildSAs != nil:
		x := e.ChildSAs
		v.node(p+".child_sas.node", x.Node)
		count(p+".child_sas.count", x.Count)
		if x.Count == nil && (x.Child != "" || x.Alive) {
			v.errorf(p+".child_sas", "child_sas with child or alive needs count: how many")
		}
		if x.Child != "" && !v.hasChild(x.Node, x.Child) {
			v.errorf(p+".child_sas.child", "node %s has no child %q in its connections", x.Node, x.Child)
		}
	case e.Pings != nil:
		v.node(p+".pings.from", e.Pings.From)
		if e.Pings.Of > 0 && e.Pings.Answered > e.Pings.Of {
			v.errorf(p+".pings.answered", "%d of %d pings can never be answered", e.Pings.Answered, e.Pings.Of)
		}
		if to := e.Pings.To; to != "" {
			if _, err := netip.ParseAddr(to); err != nil {
				v.node(p+".pings.to", to)
			}
		}
	case e.State != nil:
		x := e.State
		v.node(p+".state.node", x.Node)
		if !knownState(x.State) {
			v.errorf(p+".state.state", "unknown state %q%s", x.State, didYouMean(strings.ToUpper(x.State), States))
		}
		if x.SA != "" && x.SA != "ike" && x.SA != "child" {
			v.errorf(p+".state.sa", "sa is ike or child, not %q", x.SA)
		}
		if x.Connection != "" && v.f.Connections[x.Node][x.Connection] == nil {
			v.errorf(p+".state.connection", "node %s has no connection %q%s", x.Node, x.Connection,
				didYouMean(x.Connection, sortedKeys(v.f.Connections[x.Node])))
		}
	case e.Dropped != nil:
		x := e.Dropped
		if x.Node != "" {
			v.node(p+".dropped.node", x.Node)
		}
		if x.Cause != "" && !slices.Contains(DropCauses, x.Cause) {
			v.errorf(p+".dropped.cause", "unknown drop cause %q (one of %s)%s", x.Cause, strings.Join(DropCauses, ", "), didYouMean(x.Cause, DropCauses))
		}
	case e.NATDetected != nil:
		v.node(p+".nat_detected.node", e.NATDetected.Node)
	case e.Message != nil:
		v.message(p+".message", e.Message)
	case e.Before != nil:
		if len(e.Before) < 2 {
			v.errorf(p+".before", "before orders two or more named expectations, not %d", len(e.Before))
		}
		for i, name := range e.Before {
			v.before(fmt.Sprintf("%s.before[%d]", p, i), name)
		}
	}
}

// message checks a message expectation.
func (v *validator) message(p string, m *ExpectMessage) {
	if m.From != "" {
		v.node(p+".from", m.From)
	}
	v.proto(p+".proto", m.Proto)
	if m.Exchange != "" && !slices.Contains(Exchanges, m.Exchange) {
		v.errorf(p+".exchange", "unknown exchange %q%s", m.Exchange, didYouMean(strings.ToUpper(m.Exchange), Exchanges))
	}
	if m.Notify != "" {
		v.notify(p+".notify", m.Notify)
	}
	for i, name := range m.Payloads {
		if !slices.Contains(PayloadNames(), name) {
			v.errorf(fmt.Sprintf("%s.payloads[%d]", p, i), "unknown payload %q%s", name, didYouMean(name, PayloadNames()))
		}
	}
	if m.Purpose != "" && !slices.Contains(Purposes, m.Purpose) {
		v.errorf(p+".purpose", "unknown purpose %q (one of %s)%s", m.Purpose, strings.Join(Purposes, ", "), didYouMean(m.Purpose, Purposes))
	}
	if m.SPI != "" {
		h := strings.TrimPrefix(strings.TrimPrefix(m.SPI, "0x"), "0X")
		if _, err := strconv.ParseUint(h, 16, 64); err != nil || (len(h) != 8 && len(h) != 16) {
			v.errorf(p+".spi", "spi %q is not an SPI in hex (8 digits for ESP, 16 for an IKE SA)", m.SPI)
		}
	}
	if m.Until > 0 && m.Until < m.After {
		v.errorf(p+".until", "until (%s) is before after (%s)", m.Until.D(), m.After.D())
	}
	for _, c := range []struct {
		name string
		n    *int
	}{{"count", m.Count}, {"exactly", m.Exactly}, {"at_most", m.AtMost}} {
		if c.n != nil && *c.n < 0 {
			v.errorf(p+"."+c.name, "%s cannot be negative (%d)", c.name, *c.n)
		}
	}
	switch {
	case m.Absent && (m.Count != nil && *m.Count > 0 || m.Exactly != nil || m.AtMost != nil):
		v.errorf(p+".absent", "absent: true means no such message; it cannot go with count, exactly or at_most")
	case m.Exactly != nil && (m.Count != nil || m.AtMost != nil):
		v.errorf(p+".exactly", "exactly cannot go with count or at_most")
	case m.Count != nil && m.AtMost != nil && *m.Count > *m.AtMost:
		v.errorf(p+".count", "at least %d and at most %d messages can never both hold", *m.Count, *m.AtMost)
	}
}

// notify checks a notify type name.
func (v *validator) notify(path, name string) {
	if !KnownNotify(name) {
		v.errorf(path, "unknown notify type %q%s", name, didYouMean(strings.ToUpper(name), NotifyNames()))
	}
}

// before checks a name that before refers to: an expectation met by an event.
func (v *validator) before(path, name string) {
	for _, e := range v.f.Expect {
		if e.Name != name {
			continue
		}
		switch {
		case e.Before != nil:
			v.errorf(path, "expectation %q is an order itself", name)
		case e.Message != nil && (e.Message.Absent || e.Message.Count != nil && *e.Message.Count == 0),
			e.Dropped != nil && e.Dropped.Absent, e.ChildSAs != nil && e.ChildSAs.Alive:
			v.errorf(path, "expectation %q is met by no single event, so it has no place in an order", name)
		}
		return
	}
	var names []string
	for _, e := range v.f.Expect {
		if e.Name != "" {
			names = append(names, e.Name)
		}
	}
	v.errorf(path, "no expectation is named %q%s", name, didYouMean(name, names))
}

// hasChild reports whether one of node's connections has a child of that name.
func (v *validator) hasChild(node, child string) bool {
	for _, c := range v.f.Connections[node] {
		if c != nil && c.Children[child] != nil {
			return true
		}
	}
	return false
}

// proto checks a protocol name used to match messages.
func (v *validator) proto(path, proto string) {
	if proto != "" && !slices.Contains(Protos, proto) {
		v.errorf(path, "unknown protocol %q (one of %s)%s", proto, strings.Join(Protos, ", "), didYouMean(strings.ToLower(proto), Protos))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parsePrefix reads "10.1.0.1/24" or "2001:db8:1::1/64" (a bare address counts as /32
// or /128).
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" || a.Is4In6() {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address with prefix length (like 10.1.0.1/24 or 2001:db8:1::1/64)", s)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address with prefix length (like 10.1.0.1/24 or 2001:db8:1::1/64)", s)
	}
	return p, nil
}

// didYouMean suggests the nearest of the known names, if one is near.
func didYouMean(s string, known []string) string {
	if best, ok := ike.Nearest(s, known); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
