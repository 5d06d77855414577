package swanctl

import (
	"bytes"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
)

// export writes a node's connections as swanctl.conf. Where the scenario's default
// differs from strongSwan's (rekeying, fragmentation, MOBIKE, ESP proposals), the file
// says the scenario's value, so that strongSwan does what the simulation did.
func export(s *scenarios.Scenario, node string) ([]byte, []config.Note, error) {
	specs := s.File.Connections[node]
	if len(specs) == 0 {
		return nil, nil, fmt.Errorf("swanctl: node %q has no connections in %s", node, s.Path)
	}
	conns, err := s.NodeConnections(node)
	if err != nil {
		return nil, nil, err
	}
	e := &exporter{node: node, path: s.Path}
	w := &e.w
	fmt.Fprintf(w, "# swanctl.conf of node %s of %s, written by 'ikesim config export'.\n", node, s.Path)
	var names []string
	for n := range specs {
		names = append(names, n)
	}
	sort.Strings(names)
	w.WriteString("connections {\n")
	for i, name := range names {
		e.conn(name, specs[name], conns[i])
	}
	w.WriteString("}\n")
	for _, n := range s.File.Topology.Nodes {
		if n.Name == node && n.Charon != nil {
			e.note("node %s: its charon section belongs to strongswan.conf, not to swanctl.conf; left out", node)
		}
	}
	e.pools()
	e.authorities(s)
	e.secrets()
	e.pkiNote()
	return w.Bytes(), e.notes, nil
}

type exporter struct {
	w     bytes.Buffer
	node  string
	path  string
	notes []config.Note
	pool  []poolDef
	ike   []secretDef
	eap   map[string]string
	xauth map[string]string
	pki   []string // test PKI files the node needs
}

type poolDef struct {
	name  string
	addrs string
	dns   []string
}

type secretDef struct {
	ids    []string
	secret string
}

func (e *exporter) note(format string, args ...any) {
	e.notes = append(e.notes, config.Note{Node: e.node, Pos: config.Pos{File: e.path}, Msg: fmt.Sprintf(format, args...)})
}

// quote writes a value: as it is when strongSwan reads it back unchanged, else quoted.
func quote(v string) string {
	if v != "" && !strings.ContainsAny(v, "#{}\"\\\r\n\t ") && !strings.HasPrefix(v, "0x") && !strings.HasPrefix(v, "0s") {
		return v
	}
	r := strings.NewReplacer("\\", "\\\\", "\"", "\\\"", "\n", "\\n", "\t", "\\t", "\r", "\\r")
	return "\"" + r.Replace(v) + "\""
}

func (e *exporter) kv(indent int, key, value string) {
	fmt.Fprintf(&e.w, "%s%s = %s\n", strings.Repeat("  ", indent), key, value)
}

// timeText writes a duration in strongSwan's units.
func timeText(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", (d+time.Second/2)/time.Second)
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (e *exporter) conn(name string, spec *scenarios.ConnSpec, c *ike.Connection) {
	w := &e.w
	fmt.Fprintf(w, "  %s {\n", name)
	e.kv(2, "version", fmt.Sprint(c.Version))
	if c.Aggressive {
		e.kv(2, "aggressive", "yes")
	}
	if len(spec.LocalAddrs) > 0 {
		e.kv(2, "local_addrs", strings.Join(spec.LocalAddrs, ", "))
		for _, a := range spec.LocalAddrs {
			if addr, err := netip.ParseAddr(a); err == nil && addr.Is6() {
				e.note("connection %s: IPv6 address %s: swanctl.conf says it, but an import infers IPv4 topologies only", name, a)
				break
			}
		}
	}
	if len(spec.RemoteAddrs) > 0 {
		e.kv(2, "remote_addrs", strings.Join(spec.RemoteAddrs, ", "))
	}
	e.kv(2, "proposals", strings.Join(spec.Proposals, ", "))
	if c.Encap {
		e.kv(2, "encap", "yes")
	}
	if c.Version == 2 {
		e.kv(2, "mobike", "no") // the simulation has no MOBIKE
		e.kv(2, "fragmentation", yes(c.Fragmentation))
	}
	if c.Childless {
		e.kv(2, "childless", "force")
	}
	if c.DPDDelay > 0 {
		e.kv(2, "dpd_delay", timeText(c.DPDDelay))
	}
	// strongSwan rekeys IKE SAs after 4 h by default; the scenario only when told to.
	switch {
	case c.LifeTime > 0 && c.RekeyTime == 0:
		// A hard lifetime without rekeying: the SA is replaced when it expires.
		e.kv(2, "rekey_time", timeText(c.LifeTime))
		e.kv(2, "over_time", "0")
	case c.LifeTime > c.RekeyTime:
		e.kv(2, "rekey_time", timeText(c.RekeyTime))
		e.kv(2, "over_time", timeText(c.LifeTime-c.RekeyTime))
	default:
		e.kv(2, "rekey_time", timeText(c.RekeyTime))
		if c.LifeTime > 0 {
			e.note("connection %s: life_time %s is not longer than rekey_time; left out", name, c.LifeTime)
		}
	}
	if c.RequestVIP {
		e.kv(2, "vips", "0.0.0.0")
	}
	if len(spec.Pools) > 0 {
		var names []string
		for i, p := range spec.Pools {
			pd := poolDef{name: fmt.Sprintf("%s-%d", name, i+1), addrs: p}
			if i == 0 {
				pd.dns = spec.DNS
			}
			e.pool = append(e.pool, pd)
			names = append(names, pd.name)
		}
		e.kv(2, "pools", strings.Join(names, ", "))
	} else if len(spec.DNS) > 0 {
		e.note("connection %s: DNS servers without a pool; left out", name)
	}
	if spec.Pull != nil && !*spec.Pull {
		e.kv(2, "pull", "no")
	}
	for _, x := range []struct {
		what string
		set  bool
	}{{"keepalive", spec.Keepalive != 0}, {"cookie_threshold", spec.CookieThreshold != 0}, {"retransmit", spec.Retransmit != nil},
		{"fragment_size", spec.FragmentSize != 0}, {"signature_authentication", spec.SignatureAuth != nil}} {
		if x.set {
			e.note("connection %s: %s is a setting of strongswan.conf (charon's), not of swanctl.conf; left out", name, x.what)
		}
	}
	e.side("local", spec.Local, c.Local, c)
	e.side("remote", spec.Remote, c.Remote, c)
	if x := c.XAuth; x != nil {
		if x.User != "" {
			fmt.Fprintf(w, "    local-xauth {\n      auth = xauth\n      xauth_id = %s\n    }\n", quote(x.User))
			e.addXAuth(x.User, x.Password)
		}
		if len(x.Users) > 0 {
			fmt.Fprintf(w, "    remote-xauth {\n      auth = xauth\n    }\n")
			for u, pw := range x.Users {
				e.addXAuth(u, pw)
			}
		}
	}
	if len(spec.Children) > 0 {
		w.WriteString("    children {\n")
		var names []string
		for n := range spec.Children {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, cn := range names {
			e.child(cn, spec.Children[cn], c)
		}
		w.WriteString("    }\n")
	}
	w.WriteString("  }\n")
}

func (e *exporter) addXAuth(user, pw string) {
	if e.xauth == nil {
		e.xauth = map[string]string{}
	}
	e.xauth[user] = pw
}

func (e *exporter) side(key string, spec scenarios.AuthSpec, a ike.AuthConfig, c *ike.Connection) {
	fmt.Fprintf(&e.w, "    %s {\n", key)
	auth := spec.Auth
	if auth == "" {
		auth = "psk"
	}
	e.kv(3, "auth", auth)
	if spec.ID != "" {
		e.kv(3, "id", quote(spec.ID))
	}
	if len(spec.Certs) > 0 {
		var files []string
		for _, n := range spec.Certs {
			files = append(files, e.certFile(n, ".pem"))
		}
		e.kv(3, "certs", strings.Join(files, ", "))
		if !strings.ContainsAny(spec.Certs[0], "/.") {
			e.pki = append(e.pki, spec.Certs[0]+".key")
		}
	}
	if spec.EAPID != "" {
		e.kv(3, "eap_id", quote(spec.EAPID))
	}
	if key == "remote" && strings.HasPrefix(auth, "eap-") && spec.ID == "" {
		e.kv(3, "eap_id", "%any")
	}
	fmt.Fprintf(&e.w, "    }\n")
	if auth == "psk" && key == "local" && a.PSK != nil {
		e.ike = append(e.ike, secretDef{ids: []string{spec.ID, c.Remote.ID.String()}, secret: string(a.PSK)})
	}
	for id, s := range a.EAPSecrets {
		if e.eap == nil {
			e.eap = map[string]string{}
		}
		e.eap[id] = string(s)
	}
}

// certFile names a certificate for swanctl: a test PKI name as NAME.pem (in
// swanctl/x509), a file as it is.
func (e *exporter) certFile(name, ext string) string {
	if strings.ContainsAny(name, "/.") {
		return quote(name)
	}
	e.pki = append(e.pki, name+ext)
	return name + ext
}

func (e *exporter) child(name string, spec *scenarios.ChildSpec, c *ike.Connection) {
	var ch *ike.ChildConfig
	for _, x := range c.Children {
		if x.Name == name {
			ch = x
		}
	}
	fmt.Fprintf(&e.w, "      %s {\n", name)
	e.kv(4, "local_ts", strings.Join(spec.LocalTS, ", "))
	e.kv(4, "remote_ts", strings.Join(spec.RemoteTS, ", "))
	var props, ahProps []string
	for _, p := range ch.ESPProposals {
		if p.Protocol == ike.ProtoAH {
			ahProps = append(ahProps, p.String())
		} else {
			props = append(props, p.String())
		}
	}
	if len(ahProps) > 0 {
		e.kv(4, "ah_proposals", strings.Join(ahProps, ", "))
	}
	if len(props) > 0 {
		e.kv(4, "esp_proposals", strings.Join(props, ", "))
	}
	mode := "tunnel"
	if ch.Transport {
		mode = "transport"
	}
	e.kv(4, "mode", mode)
	switch spec.StartAction {
	case "trigger":
		e.kv(4, "start_action", "trap")
	case "start":
		e.kv(4, "start_action", "start")
	default:
		e.kv(4, "start_action", "none")
	}
	e.kv(4, "rekey_time", timeText(ch.RekeyTime)) // strongSwan's default is 1 h
	if ch.LifeTime > 0 {
		e.kv(4, "life_time", timeText(ch.LifeTime))
	}
	if ch.LifeBytes > 0 {
		if ch.LifeBytes%1024 == 0 {
			e.kv(4, "life_bytes", fmt.Sprintf("%dk", ch.LifeBytes/1024))
		} else {
			e.kv(4, "life_bytes", fmt.Sprint(ch.LifeBytes))
		}
	}
	fmt.Fprintf(&e.w, "      }\n")
}

func (e *exporter) pools() {
	if len(e.pool) == 0 {
		return
	}
	e.w.WriteString("pools {\n")
	for _, p := range e.pool {
		fmt.Fprintf(&e.w, "  %s {\n", p.name)
		e.kv(2, "addrs", p.addrs)
		if len(p.dns) > 0 {
			e.kv(2, "dns", strings.Join(p.dns, ", "))
		}
		e.w.WriteString("  }\n")
	}
	e.w.WriteString("}\n")
}

func (e *exporter) authorities(s *scenarios.Scenario) {
	for _, n := range s.File.Topology.Nodes {
		if n.Name != e.node || len(n.CACerts) == 0 {
			continue
		}
		e.w.WriteString("authorities {\n")
		for i, ca := range n.CACerts {
			name := ca
			if strings.ContainsAny(ca, "/.") {
				name = fmt.Sprintf("ca-%d", i+1)
			}
			fmt.Fprintf(&e.w, "  %s {\n", name)
			e.kv(2, "cacert", e.certFile(ca, ".pem"))
			e.w.WriteString("  }\n")
		}
		e.w.WriteString("}\n")
	}
}

func (e *exporter) secrets() {
	if len(e.ike)+len(e.eap)+len(e.xauth) == 0 {
		return
	}
	e.w.WriteString("secrets {\n")
	seen := map[string]bool{}
	n := 0
	for _, s := range e.ike {
		k := strings.Join(s.ids, "\x00") + "\x00" + s.secret
		if seen[k] {
			continue
		}
		seen[k] = true
		n++
		fmt.Fprintf(&e.w, "  ike-%d {\n", n)
		for i, id := range s.ids {
			e.kv(2, fmt.Sprintf("id-%d", i+1), quote(id))
		}
		e.kv(2, "secret", quote(s.secret))
		e.w.WriteString("  }\n")
	}
	for i, id := range slices.Sorted(maps.Keys(e.eap)) {
		fmt.Fprintf(&e.w, "  eap-%d {\n", i+1)
		e.kv(2, "id", quote(id))
		e.kv(2, "secret", quote(e.eap[id]))
		e.w.WriteString("  }\n")
	}
	for i, id := range slices.Sorted(maps.Keys(e.xauth)) {
		fmt.Fprintf(&e.w, "  xauth-%d {\n", i+1)
		e.kv(2, "id", quote(id))
		e.kv(2, "secret", quote(e.xauth[id]))
		e.w.WriteString("  }\n")
	}
	e.w.WriteString("}\n")
}

// pkiNote says where the test PKI's files go on a real gateway.
func (e *exporter) pkiNote() {
	if len(e.pki) == 0 {
		return
	}
	var certs, cas, keys []string
	for _, f := range e.pki {
		switch {
		case strings.HasSuffix(f, ".key"):
			keys = append(keys, f)
		case f == "ca.pem" || f == "rogue-ca.pem":
			cas = append(cas, f)
		default:
			certs = append(certs, f)
		}
	}
	e.w.WriteString("# The certificates are ikesim's test PKI (assets/pki in ikesim's source):\n")
	for _, x := range []struct {
		dir   string
		files []string
	}{{"x509", certs}, {"x509ca", cas}, {"private", keys}} {
		if len(x.files) > 0 {
			fmt.Fprintf(&e.w, "#   swanctl/%s/: %s\n", x.dir, strings.Join(dedupe(x.files), " "))
		}
	}
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
