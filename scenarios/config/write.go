package config

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ikesim/ikesim/scenarios"
)

// write makes the scenario file: a header naming the configurations and every note,
// then the sections, each value commented with the line it comes from.
func (r *Result) write(t *topology, frag map[string]string, o Options) []byte {
	w := &yamlWriter{}
	var names []string
	for _, n := range r.Nodes {
		names = append(names, n.Name)
	}
	w.comment(0, "Imported by 'ikesim config import' from:")
	for _, n := range r.Nodes {
		w.comment(0, fmt.Sprintf("  %-10s %s (%s)", n.Name, n.File, n.Format))
	}
	w.comment(0, `A comment after a value names the configuration line it comes from. A value without
one is a default the configuration leaves to its gateway, written out here.`)
	if len(r.Notes) > 0 {
		w.comment(0, "\nWhat the scenario cannot say as the configurations do, or had to choose:")
		for _, n := range r.Notes {
			w.comment(0, "  "+wrap(n.String(), 86, "    "))
		}
	}
	w.line(0, "", "")
	section := func(key string, gen func()) {
		if text, ok := frag[key]; ok {
			w.comment(0, "from "+o.FragmentPath)
			w.b.WriteString(text)
			w.line(0, "", "")
			return
		}
		gen()
	}
	section("name", func() { w.kv(0, "name", scalar(strings.Join(names, "-")), "") })
	section("description", func() {
		w.line(0, "description: |", "")
		var files []string
		for _, n := range r.Nodes {
			files = append(files, fmt.Sprintf("%s (%s, %s)", n.Name, n.File, n.Format))
		}
		d := "The configurations of " + strings.Join(files, " and ") + " on a simulated network. " +
			"The topology, the hosts behind the protected subnets and the traffic are inferred from them."
		for _, l := range strings.Split(wrap(d, 88, ""), "\n") {
			w.line(1, l, "")
		}
	})
	section("seed", func() { w.kv(0, "seed", "1", "") })
	for _, k := range []string{"hint", "solution", "duration"} {
		if _, ok := frag[k]; ok {
			section(k, nil)
		}
	}
	w.line(0, "", "")
	section("topology", func() { r.writeTopology(w, t) })
	r.writeConnections(w, o)
	r.writeSecrets(w, o)
	steps, expects := r.traffic(t)
	if _, ok := frag["timeline"]; ok {
		// The fragment's timeline replaces the inferred traffic: keep only the
		// expectations that do not count on it.
		expects = slices.DeleteFunc(expects, func(e [2]string) bool { return !strings.HasPrefix(e[0], "ike_sa:") })
	}
	section("timeline", func() {
		if len(steps) == 0 {
			return
		}
		w.line(0, "timeline:", "")
		for _, s := range steps {
			w.line(1, "- "+s[0], s[1])
		}
		w.line(0, "", "")
	})
	section("faults", func() {})
	section("expect", func() {
		if len(expects) == 0 {
			return
		}
		w.line(0, "expect:", "")
		for _, e := range expects {
			w.line(1, "- "+e[0], "")
			w.kv(2, "says", scalar(e[1]), "")
		}
	})
	return w.b.Bytes()
}

func (r *Result) writeTopology(w *yamlWriter, t *topology) {
	w.line(0, "topology:", "")
	w.line(1, "nodes:", "")
	for _, n := range t.nodes {
		var as []string
		for _, p := range n.prefixes {
			as = append(as, p.String())
		}
		pairs := []string{"name", scalar(n.name), "kind", n.kind}
		if len(as) == 1 {
			pairs = append(pairs, "address", scalar(as[0]))
		} else {
			pairs = append(pairs, "addresses", flow(as))
		}
		if nd := r.node(n.name); nd != nil && len(nd.CACerts) > 0 {
			pairs = append(pairs, "cacerts", flow(nd.CACerts))
		}
		w.line(2, "- "+inline(pairs...), n.comment)
	}
	if len(t.links) > 0 {
		w.line(1, "links:", "")
		for _, l := range t.links {
			w.line(2, "- "+inline("between", flow(l[:])), "")
		}
	}
	w.line(0, "", "")
}

func (r *Result) node(name string) *Node {
	for _, n := range r.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func (r *Result) writeConnections(w *yamlWriter, o Options) {
	w.line(0, "connections:", "")
	for _, n := range r.Nodes {
		if len(n.ConnOrder) == 0 {
			continue
		}
		w.line(1, scalar(n.Name)+":", "")
		for _, cn := range n.ConnOrder {
			writeConn(w, n, cn, n.Conns[cn], o)
		}
	}
	w.line(0, "", "")
}

// writeConn writes one connection, every field set, each with its source line.
func writeConn(w *yamlWriter, n *Node, cn string, c *scenarios.ConnSpec, o Options) {
	at := func(field string) string {
		if p, ok := n.Src[cn+"."+field]; ok {
			return p.String()
		}
		return ""
	}
	fields := func(indent int, prefix string, kvs ...string) {
		for i := 0; i+1 < len(kvs); i += 2 {
			if kvs[i+1] != "" {
				w.kv(indent, kvs[i], kvs[i+1], at(prefix+kvs[i]))
			}
		}
	}
	w.line(2, scalar(cn)+":", n.At(cn).String())
	fields(3, "", "version", num(c.Version), "aggressive", truth(c.Aggressive), "local_addrs", flowOr(c.LocalAddrs),
		"remote_addrs", flowOr(c.RemoteAddrs), "proposals", flowOr(c.Proposals))
	for _, side := range []struct {
		key string
		a   scenarios.AuthSpec
	}{{"local", c.Local}, {"remote", c.Remote}} {
		w.line(3, side.key+":", at(side.key))
		certs := make([]string, len(side.a.Certs))
		for i, c := range side.a.Certs {
			certs[i] = c
			if strings.ContainsAny(c, "/.") {
				certs[i] = rel(o.Out, c)
			}
		}
		fields(4, side.key+".", "auth", scalarOr(side.a.Auth), "id", scalarOr(side.a.ID), "certs", flowOr(certs), "eap_id", scalarOr(side.a.EAPID))
	}
	pull, sigAuth := "", ""
	if c.Pull != nil {
		pull = yesno(*c.Pull)
	}
	if c.SignatureAuth != nil {
		sigAuth = map[bool]string{true: "yes", false: "no"}[bool(*c.SignatureAuth)]
	}
	fields(3, "", "dpd_delay", durationOr(c.DPDDelay), "rekey_time", durationOr(c.RekeyTime), "life_time", durationOr(c.LifeTime),
		"encap", truth(c.Encap), "keepalive", durationOr(c.Keepalive), "childless", truth(c.Childless), "pools", flowOr(c.Pools),
		"dns", flowOr(c.DNS), "vips", flowOr(c.VIPs), "pull", pull)
	if x := c.XAuth; x != nil {
		w.line(3, "xauth:", at("xauth"))
		fields(4, "xauth.", "user", scalarOr(x.User), "password", scalarOr(x.Password))
		if len(x.Users) > 0 {
			w.line(4, "users:", "")
			for _, u := range slices.Sorted(maps.Keys(x.Users)) {
				w.kv(5, u, scalar(x.Users[u]), at("xauth.users."+u))
			}
		}
	}
	fragmentation := ""
	if c.Fragmentation {
		fragmentation = "yes"
	}
	fields(3, "", "fragmentation", fragmentation, "fragment_size", num(c.FragmentSize), "signature_authentication", sigAuth)
	if len(c.Children) == 0 {
		return
	}
	w.line(3, "children:", at("children"))
	for _, chn := range ChildNames(c) {
		ch := c.Children[chn]
		p := "children." + chn + "."
		w.line(4, scalar(chn)+":", at("children."+chn))
		life := ""
		if ch.LifeBytes != 0 {
			life = bytesText(uint64(ch.LifeBytes))
		}
		fields(5, p, "local_ts", flowOr(ch.LocalTS), "remote_ts", flowOr(ch.RemoteTS), "ah_proposals", flowOr(ch.AHProposals), "esp_proposals", flowOr(ch.ESPProposals),
			"mode", ch.Mode, "start_action", ch.StartAction, "rekey_time", durationOr(ch.RekeyTime), "life_time", durationOr(ch.LifeTime),
			"life_bytes", life)
	}
}

// The values of fields, "" for those left out.

func num(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func truth(b bool) string {
	if b {
		return "true"
	}
	return ""
}

func flowOr(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return flow(items)
}

func scalarOr(s string) string {
	if s == "" {
		return ""
	}
	return scalar(s)
}

func durationOr(d scenarios.Duration) string {
	if d == 0 {
		return ""
	}
	return duration(d.D())
}

// bytesText writes a volume as the scenario reads it: in KB when it is whole KB.
func bytesText(v uint64) string {
	if v%1024 == 0 {
		return fmt.Sprintf("%dKB", v/1024)
	}
	return strconv.FormatUint(v, 10)
}

func (r *Result) writeSecrets(w *yamlWriter, o Options) {
	any := false
	for _, n := range r.Nodes {
		for i, s := range n.Secrets {
			if !any {
				w.line(0, "secrets:", "")
				any = true
			}
			pairs := []string{}
			if s.Type != "" {
				pairs = append(pairs, "type", s.Type)
			}
			if len(s.IDs) > 0 {
				pairs = append(pairs, "ids", flow(s.IDs))
			}
			if s.Secret != "" {
				pairs = append(pairs, "secret", scalar(s.Secret))
			}
			if s.File != "" {
				pairs = append(pairs, "file", scalar(rel(o.Out, s.File)))
			}
			pairs = append(pairs, "nodes", flow(s.Nodes))
			w.line(1, "- "+inline(pairs...), n.At(fmt.Sprintf("secret.%d", i)).String())
		}
	}
	if any {
		w.line(0, "", "")
	}
}

// traffic makes the timeline and the expectations: each pair comes up (by traffic, at
// start, or by a timeline step where nothing starts it), and a ping crosses each child.
func (r *Result) traffic(t *topology) (steps, expects [][2]string) {
	answered := map[string]int{}
	var pingers, protect []string
	for _, p := range r.Pairs {
		c := p.A.Conns[p.ConnA]
		when := "0s"
		switch {
		case !p.Initiates && len(c.RemoteAddrs) == 0:
			continue
		case !p.Initiates:
			steps = append(steps, [2]string{inline("at", "0s", "initiate", inline("node", scalar(p.A.Name), "connection", scalar(p.ConnA))),
				fmt.Sprintf("no child of %s starts by itself (start_action none): initiate it, as 'swanctl --initiate' does", p.ConnA)})
			when = "1s"
		case !triggers(c):
			when = "1s"
		}
		expects = append(expects, [2]string{"ike_sa: " + inline("between", flow([]string{p.A.Name, p.B.Name})),
			fmt.Sprintf("%s's connection %s (%s) and %s's %s (%s) bring up an IKE SA.", p.A.Name, p.ConnA, p.A.At(p.ConnA), p.B.Name, p.ConnB, p.B.At(p.ConnB))})
		if c.Childless && !triggers(c) {
			continue
		}
		for _, chn := range ChildNames(c) {
			ch := c.Children[chn]
			from, ok := t.from(p.A, ch.LocalTS)
			if !ok {
				continue
			}
			to, ok := t.to(p.B, ch.RemoteTS, c.RemoteAddrs)
			if !ok {
				continue
			}
			pairs := []string{"from", scalar(from.node), "to", scalar(to)}
			if from.source {
				pairs = append(pairs, "source", from.addr.String())
			}
			pairs = append(pairs, "count", "3")
			steps = append(steps, [2]string{inline("at", when, "ping", inline(pairs...)),
				fmt.Sprintf("traffic for child %s (%s)", chn, p.A.At(p.ConnA+".children."+chn))})
			if answered[from.node] == 0 {
				pingers = append(pingers, from.node)
			}
			if !slices.Contains(protect, p.A.Name) {
				protect = append(protect, p.A.Name)
				r.espFrom = append(r.espFrom, pairKey(p))
				expects = append(expects, [2]string{"message: " + inline("proto", "esp", "from", scalar(p.A.Name)),
					fmt.Sprintf("%s sends the traffic in ESP: its policies protect it.", p.A.Name)})
			}
			if r.pingers == nil {
				r.pingers = map[string][]string{}
			}
			r.pingers[from.node] = append(r.pingers[from.node], pairKey(p))
			answered[from.node] += 3
		}
	}
	for _, n := range pingers {
		expects = append(expects, [2]string{"pings: " + inline("from", scalar(n), "answered", strconv.Itoa(answered[n]), "of", strconv.Itoa(answered[n])),
			fmt.Sprintf("Every ping from %s is answered.", n)})
	}
	return steps, expects
}

func triggers(c *scenarios.ConnSpec) bool {
	for _, ch := range c.Children {
		if ch != nil && ch.StartAction == "trigger" {
			return true
		}
	}
	return false
}

// from is where a child's traffic starts on gateway n: a host in its local selectors,
// or the gateway itself (with one of its own addresses there, or its address or
// virtual IP for dynamic).
func (t *topology) from(n *Node, localTS []string) (endpoint, bool) {
	if len(localTS) == 0 || slices.Contains(localTS, "dynamic") {
		return endpoint{node: n.Name, gateway: n.Name}, true
	}
	for _, hostFirst := range []bool{true, false} {
		for _, s := range localTS {
			p, ok := tsPrefix(s)
			if !ok {
				continue
			}
			for _, e := range t.endpoints {
				if e.gateway == n.Name && (e.node != n.Name) == hostFirst && p.Contains(e.addr) && p.Bits() > 0 {
					return e, true
				}
			}
		}
	}
	if slices.Contains(localTS, "0.0.0.0/0") {
		return endpoint{node: n.Name, gateway: n.Name}, true
	}
	return endpoint{}, false
}

// to is what a child's traffic goes to behind peer b: a host there in the remote
// selectors (its name), an address of b's there, or b's IKE address for dynamic.
func (t *topology) to(b *Node, remoteTS, remoteAddrs []string) (string, bool) {
	if len(remoteTS) == 0 || slices.Contains(remoteTS, "dynamic") {
		if len(remoteAddrs) > 0 {
			return remoteAddrs[0], true
		}
		return "", false
	}
	for _, hostFirst := range []bool{true, false} {
		for _, s := range remoteTS {
			p, ok := tsPrefix(s)
			if !ok {
				continue
			}
			for _, e := range t.endpoints {
				if e.gateway == b.Name && (e.node != b.Name) == hostFirst && p.Contains(e.addr) {
					if hostFirst {
						return e.node, true
					}
					return e.addr.String(), true
				}
			}
		}
	}
	return "", false
}

// wrap breaks text into lines of at most width runes, later lines after indent.
func wrap(text string, width int, indent string) string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = indent + word
			continue
		}
		if line == "" {
			line = word
		} else {
			line += " " + word
		}
	}
	return strings.Join(append(lines, line), "\n")
}
