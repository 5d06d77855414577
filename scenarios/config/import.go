package config

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/ikesim/ikesim/scenarios"
)

// Options tune an import.
type Options struct {
	// Fragment is a scenario fragment (ikesim config import --topology FILE): each of
	// its top-level sections (topology, timeline, faults, expect, duration, seed, name,
	// description, hint, solution) replaces the one Import would infer.
	Fragment     []byte
	FragmentPath string
	// Out is the file the scenario is written to, if any: messages name it, and files
	// the scenario names (certificates) are written relative to its directory.
	Out string
}

// Result is an imported scenario.
type Result struct {
	Nodes []*Node
	// YAML is the scenario file, commented: each value says which line of which
	// configuration it comes from.
	YAML []byte
	// Path names the scenario in messages: Options.Out, or "imported.yaml".
	Path  string
	Notes []Note
	// Pairs are the connections that meet, initiator first: what the expectations
	// check and Diagnose explains.
	Pairs []Pair
	// pingers maps a node that pings to the pairs whose children its pings cross;
	// espFrom lists the pairs whose initiator is expected to send ESP.
	pingers map[string][]string
	espFrom []string
}

// Pair is a connection of one node and the connection of another that answers it.
type Pair struct {
	A, B         *Node
	ConnA, ConnB string
	// Initiates: A starts it (by traffic, at start, or by a timeline step).
	Initiates bool
}

// Scenario parses the imported scenario.
func (r *Result) Scenario() (*scenarios.Scenario, error) { return scenarios.Parse(r.YAML, r.Path) }

// Simulate builds the imported scenario's network and runs it to its end, with the
// scenario's own seed unless seed is set.
func (r *Result) Simulate(seed *uint64) (*scenarios.Run, error) {
	sc, err := r.Scenario()
	if err != nil {
		return nil, err
	}
	s := sc.Seed
	if seed != nil {
		s = *seed
	}
	run, err := scenarios.Build(sc, s)
	if err != nil {
		return nil, err
	}
	run.Execute()
	return run, nil
}

// Import reads every input and writes the scenario they make together.
func Import(inputs []Input, o Options) (*Result, error) {
	nodes, err := Read(inputs)
	if err != nil {
		return nil, err
	}
	return Build(nodes, o)
}

// fragmentKeys are the sections a fragment may hold.
var fragmentKeys = []string{"name", "description", "hint", "solution", "seed", "duration", "topology", "timeline", "faults", "expect"}

// Build joins nodes read already into a scenario.
func Build(nodes []*Node, o Options) (*Result, error) {
	r := &Result{Nodes: nodes, Path: o.Out}
	if r.Path == "" {
		r.Path = "imported.yaml"
	}
	frag, err := readFragment(o.Fragment, o.FragmentPath)
	if err != nil {
		return nil, err
	}
	var t *topology
	if frag["topology"] != "" {
		var f scenarios.File
		if err := yaml.Unmarshal([]byte(frag["topology"]), &f); err != nil {
			return nil, fmt.Errorf("config: %s: %v", o.FragmentPath, err)
		}
		t = fragmentTopology(f.Topology, nodes)
	} else {
		t = inferTopology(nodes)
	}
	r.Pairs = pairs(nodes)
	r.resolve(t)
	r.resolveAlone()
	for _, n := range nodes {
		resolveDynamic(n)
	}
	for _, n := range nodes {
		bindSecrets(n)
	}
	for _, n := range nodes {
		r.Notes = append(r.Notes, n.Notes...)
	}
	r.Notes = append(r.Notes, t.notes...)
	r.YAML = r.write(t, frag, o)
	if _, err := r.Scenario(); err != nil {
		return r, fmt.Errorf("config: the imported scenario does not load (a gap in the import, or a fragment that does not fit):\n%v", err)
	}
	return r, nil
}

// readFragment splits a scenario fragment into its top-level sections, as text.
func readFragment(data []byte, path string) (map[string]string, error) {
	out := map[string]string{}
	if len(data) == 0 {
		return out, nil
	}
	f, err := parser.ParseBytes(data, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %v", path, err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil || len(f.Docs) != 1 {
		return nil, fmt.Errorf("config: %s is not a scenario fragment (a mapping of %s)", path, strings.Join(fragmentKeys, ", "))
	}
	for k := range m {
		if !slices.Contains(fragmentKeys, k) {
			return nil, fmt.Errorf("config: %s: a fragment holds %s, not %q (connections and secrets come from the configurations)",
				path, strings.Join(fragmentKeys, ", "), k)
		}
	}
	top := regexp.MustCompile(`^([A-Za-z_]+)\s*:`)
	key := ""
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if m := top.FindStringSubmatch(l); m != nil {
			key = m[1]
		}
		if key != "" {
			out[key] += l
		}
	}
	for k, v := range out {
		if !strings.HasSuffix(v, "\n") {
			out[k] = v + "\n"
		}
	}
	return out, nil
}

// fragmentTopology takes a fragment's nodes and links, and finds in them where
// traffic can start and end: hosts (behind the gateway they link to) and gateways.
func fragmentTopology(top scenarios.Topology, nodes []*Node) *topology {
	t := &topology{}
	kinds := map[string]string{}
	for _, ns := range top.Nodes {
		tn := &topoNode{name: ns.Name, kind: ns.Kind}
		tn.prefixes = ns.Prefixes()
		kinds[ns.Name] = ns.Kind
		t.nodes = append(t.nodes, tn)
	}
	for _, l := range top.Links {
		if len(l.Between) == 2 {
			t.links = append(t.links, [2]string{l.Between[0], l.Between[1]})
		}
	}
	imported := map[string]bool{}
	for _, n := range nodes {
		imported[n.Name] = true
	}
	for _, tn := range t.nodes {
		if imported[tn.name] {
			for i, p := range tn.prefixes {
				t.endpoints = append(t.endpoints, endpoint{node: tn.name, gateway: tn.name, addr: p.Addr(), source: i > 0})
			}
			continue
		}
		if tn.kind != "host" && tn.kind != "" || len(tn.prefixes) == 0 {
			continue
		}
		// The gateway a host is behind: the first imported node on its path.
		seen := map[string]bool{tn.name: true}
		queue := []string{tn.name}
		gw := ""
		for len(queue) > 0 && gw == "" {
			cur := queue[0]
			queue = queue[1:]
			for _, l := range t.links {
				for i := 0; i < 2; i++ {
					if l[i] == cur && !seen[l[1-i]] {
						seen[l[1-i]] = true
						if imported[l[1-i]] && gw == "" {
							gw = l[1-i]
						}
						queue = append(queue, l[1-i])
					}
				}
			}
		}
		if gw != "" {
			t.endpoints = append(t.endpoints, endpoint{node: tn.name, gateway: gw, addr: tn.prefixes[0].Addr()})
		}
	}
	return t
}

// pairs finds, for every connection, the connection of another node that answers it:
// each names the other's address among its remote addresses, or accepts any.
func pairs(nodes []*Node) []Pair {
	var out []Pair
	done := map[string]bool{}
	for _, a := range nodes {
		for _, ca := range a.ConnOrder {
			if done[a.Name+"/"+ca] {
				continue
			}
			b, cb := peerOf(a, ca, nodes)
			if b == nil {
				continue
			}
			done[a.Name+"/"+ca], done[b.Name+"/"+cb] = true, true
			p := Pair{A: a, B: b, ConnA: ca, ConnB: cb}
			switch {
			case starts(a.Conns[ca]):
				p.Initiates = true
			case starts(b.Conns[cb]):
				p = Pair{A: b, B: a, ConnA: cb, ConnB: ca, Initiates: true}
			case len(a.Conns[ca].RemoteAddrs) == 0 && len(b.Conns[cb].RemoteAddrs) > 0:
				p = Pair{A: b, B: a, ConnA: cb, ConnB: ca} // only b knows where its peer is
			}
			out = append(out, p)
		}
	}
	return out
}

// starts reports whether a connection comes up by itself: a child with start_action
// trigger or start.
func starts(c *scenarios.ConnSpec) bool {
	for _, ch := range c.Children {
		if ch != nil && (ch.StartAction == "trigger" || ch.StartAction == "start") {
			return true
		}
	}
	return false
}

// peerOf finds the connection of another node that a's connection ca meets.
func peerOf(a *Node, ca string, nodes []*Node) (*Node, string) {
	c := a.Conns[ca]
	var bestN *Node
	best, bestScore := "", -1
	for _, b := range nodes {
		if b == a {
			continue
		}
		if len(c.RemoteAddrs) > 0 && !namesAny(c.RemoteAddrs, b.Addrs()) {
			continue
		}
		for _, cb := range b.ConnOrder {
			d := b.Conns[cb]
			if len(d.RemoteAddrs) > 0 && !namesAny(d.RemoteAddrs, a.Addrs()) {
				continue
			}
			score := 0
			if len(c.RemoteAddrs) > 0 {
				score += 4
			}
			if len(d.RemoteAddrs) > 0 {
				score += 4
			}
			if cb == ca {
				score += 2
			}
			if d.Version == c.Version {
				score++
			}
			if score > bestScore {
				bestN, best, bestScore = b, cb, score
			}
		}
	}
	return bestN, best
}

func namesAny(list []string, addrs []netip.Addr) bool {
	for _, s := range list {
		if a, err := netip.ParseAddr(s); err == nil && slices.Contains(addrs, a) {
			return true
		}
	}
	return false
}

// resolve fills in what a configuration leaves to its peer or to the network: a
// remote identity of %any (the peer's own identity), addresses of %any (the node's
// address in the topology, the peer's).
func (r *Result) resolve(t *topology) {
	addrOf := func(n *Node) netip.Addr {
		if a := n.IKEAddr(); a.IsValid() {
			return a
		}
		if tn := t.node(n.Name); tn != nil {
			for _, p := range tn.prefixes {
				return p.Addr()
			}
		}
		return netip.Addr{}
	}
	for _, p := range r.Pairs {
		for _, side := range []struct {
			n, peer   *Node
			cn, peerC string
		}{{p.A, p.B, p.ConnA, p.ConnB}, {p.B, p.A, p.ConnB, p.ConnA}} {
			c, d := side.n.Conns[side.cn], side.peer.Conns[side.peerC]
			pos := side.n.At(side.cn)
			if c.Remote.ID == "" && !strings.HasPrefix(c.Remote.Auth, "eap-") && d.Local.ID != "" {
				c.Remote.ID = d.Local.ID
				side.n.Set(side.cn+".remote.id", side.peer.At(side.peerC+".local.id"))
				side.n.Notef(pos, "connection %s names no remote identity (accepts any); the scenario expects %s's, %s", side.cn, side.peer.Name, d.Local.ID)
			}
			if len(c.LocalAddrs) == 0 {
				if a := addrOf(side.n); a.IsValid() {
					c.LocalAddrs = []string{a.String()}
					side.n.Notef(pos, "connection %s has no local_addrs (%%any); the scenario uses %s's address %s", side.cn, side.n.Name, a)
				}
			}
			if len(c.RemoteAddrs) == 0 && (p.Initiates && side.n == p.A || starts(c)) {
				if a := addrOf(side.peer); a.IsValid() {
					c.RemoteAddrs = []string{a.String()}
					side.n.Notef(pos, "connection %s has no remote_addrs (%%any) but initiates; the scenario sends to %s's address %s", side.cn, side.peer.Name, a)
				}
			}
		}
	}
}

// resolveAlone fills in the remote identity of connections no other node answers: the
// peer's address, which a peer names itself by unless told otherwise.
func (r *Result) resolveAlone() {
	paired := map[*scenarios.ConnSpec]bool{}
	for _, p := range r.Pairs {
		paired[p.A.Conns[p.ConnA]], paired[p.B.Conns[p.ConnB]] = true, true
	}
	for _, n := range r.Nodes {
		for _, cn := range n.ConnOrder {
			c := n.Conns[cn]
			if paired[c] || c.Remote.ID != "" || strings.HasPrefix(c.Remote.Auth, "eap-") || len(c.RemoteAddrs) == 0 {
				continue
			}
			c.Remote.ID = c.RemoteAddrs[0]
			n.Set(cn+".remote.id", n.At(cn+".remote_addrs"))
			n.Notef(n.At(cn), "connection %s names no remote identity, and no imported node answers it: the scenario expects the peer's address, %s", cn, c.Remote.ID)
		}
	}
}

// resolveDynamic writes out what strongSwan's dynamic selector stands for in IKEv2
// (ikesim's IKEv1 engine resolves it itself, to the address or the virtual IP of Mode
// Config): on the local side the node's address, or 0.0.0.0/0 when it asks for a
// virtual IP (what strongSwan proposes then; the responder narrows it to the address it
// assigns); on the remote side the peer's address, or the pools a gateway assigns from.
func resolveDynamic(n *Node) {
	for _, cn := range n.ConnOrder {
		c := n.Conns[cn]
		if c.Version == 1 {
			continue
		}
		for _, chn := range ChildNames(c) {
			ch := c.Children[chn]
			key := cn + ".children." + chn
			for _, side := range []struct {
				ts    *[]string
				field string
				with  []string
			}{{&ch.LocalTS, "local_ts", dynamicLocal(c)}, {&ch.RemoteTS, "remote_ts", dynamicRemote(c)}} {
				i := slices.Index(*side.ts, "dynamic")
				if i < 0 || len(side.with) == 0 {
					continue
				}
				*side.ts = slices.Concat((*side.ts)[:i], side.with, (*side.ts)[i+1:])
				n.Notef(n.At(key+"."+side.field), "%s dynamic of child %s stands for %s", side.field, chn, strings.Join(side.with, ", "))
			}
		}
	}
}

func dynamicLocal(c *scenarios.ConnSpec) []string {
	switch {
	case len(c.VIPs) > 0:
		return []string{"0.0.0.0/0"}
	case len(c.LocalAddrs) > 0:
		return []string{c.LocalAddrs[0] + "/32"}
	}
	return nil
}

func dynamicRemote(c *scenarios.ConnSpec) []string {
	switch {
	case len(c.Pools) > 0:
		return slices.Clone(c.Pools)
	case len(c.RemoteAddrs) > 0:
		return []string{c.RemoteAddrs[0] + "/32"}
	}
	return nil
}

// bindSecrets gives each connection with a pre-shared key the secret it uses, as one
// secret of the scenario naming its two identities: the one its format binds to it, or
// the one strongSwan picks (the secret whose identities match most of the connection's
// two, one without identities matching any, the first on a tie). The node's secrets of
// type ike are replaced by these; one that no connection uses becomes a note.
func bindSecrets(n *Node) {
	var out []scenarios.SecretSpec
	src := map[int]Pos{}
	used := map[int]bool{}
	for i, s := range n.Secrets {
		if s.Type != "" && s.Type != "ike" {
			src[len(out)] = n.At(fmt.Sprintf("secret.%d", i))
			out = append(out, s)
			used[i] = true
		}
	}
	for _, cn := range n.ConnOrder {
		c := n.Conns[cn]
		if c.Local.Auth != "psk" && c.Remote.Auth != "psk" {
			continue
		}
		best, ok := n.KeyOf[cn]
		if !ok {
			best = pickSecret(n.Secrets, c.Local.ID, c.Remote.ID)
		}
		if best < 0 {
			n.Notef(n.At(cn), "connection %s authenticates with a pre-shared key, but no secret names %s or %s", cn, c.Local.ID, c.Remote.ID)
			continue
		}
		used[best] = true
		s := scenarios.SecretSpec{Type: "ike", IDs: []string{c.Local.ID, c.Remote.ID}, Secret: n.Secrets[best].Secret, Nodes: []string{n.Name}}
		if slices.ContainsFunc(out, func(o scenarios.SecretSpec) bool { return slices.Equal(o.IDs, s.IDs) && o.Secret == s.Secret }) {
			continue
		}
		src[len(out)] = n.At(fmt.Sprintf("secret.%d", best))
		out = append(out, s)
	}
	for i := range n.Secrets {
		if !used[i] {
			n.Notef(n.At(fmt.Sprintf("secret.%d", i)), "a secret no connection of %s uses; left out", n.Name)
		}
	}
	for k := range n.Src {
		if strings.HasPrefix(k, "secret.") {
			delete(n.Src, k)
		}
	}
	n.Secrets = out
	for i, p := range src {
		n.Set(fmt.Sprintf("secret.%d", i), p)
	}
}

// pickSecret is strongSwan's choice of a shared key for two identities: the most of
// them named, a secret without identities matching anything; -1 for none.
func pickSecret(secrets []scenarios.SecretSpec, local, remote string) int {
	best, bestScore := -1, -1
	for i, s := range secrets {
		if s.Type != "" && s.Type != "ike" {
			continue
		}
		score := 0
		if len(s.IDs) > 0 {
			if slices.Contains(s.IDs, local) {
				score++
			}
			if slices.Contains(s.IDs, remote) {
				score++
			}
			if score == 0 {
				continue
			}
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// rel names a file the scenario refers to relative to the scenario's directory.
func rel(out, file string) string {
	if out == "" || !filepath.IsAbs(file) {
		if abs, err := filepath.Abs(file); err == nil {
			file = abs
		}
	}
	dir := "."
	if out != "" {
		dir = filepath.Dir(out)
	}
	if absDir, err := filepath.Abs(dir); err == nil {
		if r, err := filepath.Rel(absDir, file); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
	}
	return file
}
