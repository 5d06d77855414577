package config

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/ikesim/ikesim/scenarios"
)

// Pos is where a setting is written: a configuration file, its line and column.
type Pos struct {
	File      string
	Line, Col int
}

// String is "file:line", the way the scenario's comments and the diagnosis cite it.
func (p Pos) String() string {
	if p.File == "" {
		return "(default)"
	}
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// IsZero reports whether the position is unknown (a default, not written anywhere).
func (p Pos) IsZero() bool { return p.File == "" }

// Note is something the scenario cannot say as the configuration does: a setting with
// no equivalent, a value the import approximated, a default it filled in. Notes are
// never dropped: Import writes every one into the scenario's header and returns them.
type Note struct {
	Pos  Pos
	Node string
	Msg  string
	// Adapted marks a difference in kind rather than a loss: the format does it its own
	// way (an IOS crypto map starts on traffic, whatever the scenario's start_action).
	Adapted bool
}

func (n Note) String() string { return fmt.Sprintf("%s: %s", n.Pos, n.Msg) }

// Iface is an interface address a configuration names (IOS's interfaces); swanctl.conf
// names addresses only, without prefix lengths.
type Iface struct {
	Name     string // the interface's name: Loopback0, FastEthernet1/0
	Prefix   netip.Prefix
	Loopback bool
	Outside  bool // IKE and ESP leave from here (IOS: the interface with the crypto map)
	Pos      Pos
}

// Node is one gateway's configuration, read from one file, in the scenario's
// vocabulary. Src maps each scenario field it set to where the configuration says so:
// the keys are paths below the node, "CONN.proposals", "CONN.local.id",
// "CONN.children.CHILD.esp_proposals", "secret.N" (the node's Nth secret), "iface.N".
type Node struct {
	Name   string
	Format string // the format's name: "swanctl.conf", "Cisco IOS"
	File   string
	Ifaces []Iface
	// Conns are the node's connections, in the order the file has them.
	Conns     map[string]*scenarios.ConnSpec
	ConnOrder []string
	Secrets   []scenarios.SecretSpec
	CACerts   []string // the node's trust store: test PKI names or files
	// KeyOf binds a connection to the secret it uses (an index in Secrets), where the
	// format binds them itself (IOS: the key of the peer's address); other connections
	// take the secret strongSwan would (see bindSecrets).
	KeyOf map[string]int
	Src   map[string]Pos
	Notes []Note
}

// NewNode makes an empty node for a format to fill.
func NewNode(name, format, file string) *Node {
	return &Node{Name: name, Format: format, File: file, Conns: map[string]*scenarios.ConnSpec{},
		Src: map[string]Pos{}, KeyOf: map[string]int{}}
}

// AddConn adds a connection under a name not used yet on the node (name, name-2, ...)
// and returns the name it got.
func (n *Node) AddConn(name string, c *scenarios.ConnSpec, pos Pos) string {
	base, i := name, 1
	for n.Conns[name] != nil {
		i++
		name = fmt.Sprintf("%s-%d", base, i)
	}
	n.Conns[name] = c
	n.ConnOrder = append(n.ConnOrder, name)
	n.Src[name] = pos
	return name
}

// Notef records a note at pos.
func (n *Node) Notef(pos Pos, format string, args ...any) {
	n.Notes = append(n.Notes, Note{Pos: pos, Node: n.Name, Msg: fmt.Sprintf(format, args...)})
}

// Set records where the field at key came from, when it is known.
func (n *Node) Set(key string, pos Pos) {
	if !pos.IsZero() {
		n.Src[key] = pos
	}
}

// At is where the field at key came from: the field itself, or the nearest enclosing
// one that has a position ("CONN.children.net.local_ts", then "CONN.children.net",
// then "CONN").
func (n *Node) At(key string) Pos {
	for k := key; k != ""; {
		if p, ok := n.Src[k]; ok {
			return p
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return Pos{}
}

// AddSecret adds a secret for this node and returns its index among the node's secrets.
func (n *Node) AddSecret(s scenarios.SecretSpec, pos Pos) int {
	s.Nodes = []string{n.Name}
	n.Secrets = append(n.Secrets, s)
	i := len(n.Secrets) - 1
	n.Set(fmt.Sprintf("secret.%d", i), pos)
	return i
}

// Addrs are the node's addresses: its interfaces', then the local addresses of its
// connections that no interface has, in order and without repeats.
func (n *Node) Addrs() []netip.Addr {
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	add := func(a netip.Addr) {
		if a.IsValid() && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	for _, i := range n.Ifaces {
		add(i.Prefix.Addr())
	}
	for _, cn := range n.ConnOrder {
		for _, s := range n.Conns[cn].LocalAddrs {
			if a, err := netip.ParseAddr(s); err == nil {
				add(a)
			}
		}
	}
	return out
}

// IKEAddr is the address the node speaks IKE from: its first connection's first local
// address, or its first address.
func (n *Node) IKEAddr() netip.Addr {
	for _, cn := range n.ConnOrder {
		for _, s := range n.Conns[cn].LocalAddrs {
			if a, err := netip.ParseAddr(s); err == nil {
				return a
			}
		}
	}
	if as := n.Addrs(); len(as) > 0 {
		return as[0]
	}
	return netip.Addr{}
}

// ChildNames are a connection's children, sorted as the scenario sorts them.
func ChildNames(c *scenarios.ConnSpec) []string {
	names := make([]string, 0, len(c.Children))
	for n := range c.Children {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
