package scenarios

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/sim"
)

func nodeKind(s string) (sim.NodeKind, error) {
	switch s {
	case "host", "":
		return sim.KindHost, nil
	case "gateway":
		return sim.KindGateway, nil
	case "router":
		return sim.KindRouter, nil
	case "nat":
		return sim.KindNAT, nil
	}
	return "", fmt.Errorf("node kind %q is not one of host, gateway, router, nat%s", s,
		didYouMean(s, []string{"host", "gateway", "router", "nat"}))
}

// connection converts one connection spec into the engine's configuration, reporting
// problems at their place in the file.
func (v *validator) connection(node, name, p string) (*ike.Connection, error) {
	spec := v.f.Connections[node][name]
	before := len(v.errs)
	if spec == nil {
		v.errorf(p, "connection %q is empty", name)
		return nil, fmt.Errorf("empty")
	}
	c := &ike.Connection{Name: name, Version: spec.Version, DPDDelay: spec.DPDDelay.D(), RekeyTime: spec.RekeyTime.D(),
		LifeTime: spec.LifeTime.D(), Encap: spec.Encap, Aggressive: spec.Aggressive, Childless: spec.Childless,
		Keepalive: spec.Keepalive.D(), CookieThreshold: spec.CookieThreshold, DPDTimeout: spec.DPDTimeout.D(),
		Unique: spec.Unique, ReauthTime: spec.ReauthTime.D()}
	v.oneOf(p, "unique", spec.Unique, "no", "never", "keep", "replace")
	if c.Version == 0 {
		c.Version = 2
	}
	if c.Version != 1 && c.Version != 2 {
		v.errorf(p+".version", "IKE version is 1 or 2, not %d", spec.Version)
	}
	var own map[netip.Addr]bool
	if n := v.nodes[node]; n != nil && len(spec.LocalAddrs) > 0 {
		own = map[netip.Addr]bool{}
		for _, pf := range n.Prefixes() {
			own[pf.Addr()] = true
		}
	}
	for i, a := range spec.LocalAddrs {
		ip, err := netip.ParseAddr(a)
		switch {
		case err != nil:
			v.errorf(fmt.Sprintf("%s.local_addrs[%d]", p, i), "%q is not an IP address", a)
		case !own[ip]:
			v.errorf(fmt.Sprintf("%s.local_addrs[%d]", p, i), "%s is not an address of node %q", a, node)
		default:
			c.LocalAddrs = append(c.LocalAddrs, ip)
		}
	}
	c.RemoteAddrs = v.addrs(p+".remote_addrs", spec.RemoteAddrs, "")
	if len(c.LocalAddrs) == 0 && len(spec.LocalAddrs) == 0 && len(c.RemoteAddrs) > 0 {
		// local_addrs left out (swanctl's %any): the node's address on the peer's
		// subnet, or its only address, as the source address a route would give.
		if n := v.nodes[node]; n != nil {
			pfs := n.Prefixes()
			for _, pf := range pfs {
				if pf.Contains(c.RemoteAddrs[0]) {
					c.LocalAddrs = []netip.Addr{pf.Addr()}
					break
				}
			}
			if len(c.LocalAddrs) == 0 && len(pfs) == 1 {
				c.LocalAddrs = []netip.Addr{pfs[0].Addr()}
			}
		}
	}
	if len(spec.Proposals) == 0 && !v.present(p+".proposals") {
		v.errorf(p, "connection %q has no proposals (e.g. proposals: [aes128-sha256-modp2048])", name)
	}
	c.Proposals = v.proposals(p+".proposals", spec.Proposals, ike.ProtoIKE)
	var err error
	if c.Local, err = v.auth(spec.Local, p+".local"); err == nil {
		c.Remote, err = v.auth(spec.Remote, p+".remote")
	}
	if err != nil {
		return nil, err
	}
	if spec.Retransmit != nil {
		c.RetransmitTimeout, c.RetransmitBase, c.RetransmitTries = spec.Retransmit.Timeout.D(), spec.Retransmit.Base, spec.Retransmit.Tries
	}
	for i, s := range spec.Pools {
		pf, err := netip.ParsePrefix(s)
		if err != nil {
			v.errorf(fmt.Sprintf("%s.pools[%d]", p, i), "pool %q is not a prefix like 10.10.10.0/24", s)
			continue
		}
		c.Pools = append(c.Pools, pf)
	}
	c.DNS = v.addrs(p+".dns", spec.DNS, "DNS server ")
	for i, s := range spec.VIPs {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.IsUnspecified() {
			v.errorf(fmt.Sprintf("%s.vips[%d]", p, i), "vips asks for a virtual IP with 0.0.0.0 (or :: for IPv6), not %q", s)
			continue
		}
		if a.Is6() {
			c.RequestVIP6 = true
		} else {
			c.RequestVIP = true
		}
	}
	c.ModeConfigPush = spec.Pull != nil && !*spec.Pull
	if x := spec.XAuth; x != nil {
		if c.Version != 1 {
			v.errorf(p+".xauth", "XAUTH is IKEv1's: set version: 1")
		}
		c.XAuth = &ike.XAuthConfig{User: x.User, Password: x.Password, Users: x.Users}
	}
	c.Fragmentation, c.FragmentSize = bool(spec.Fragmentation), spec.FragmentSize
	if spec.FragmentSize != 0 && (spec.FragmentSize < 576 || spec.FragmentSize > 65535) {
		v.errorf(p+".fragment_size", "fragment_size %d is out of range (576 to 65535)", spec.FragmentSize)
	}
	c.NoSignatureAuth = spec.SignatureAuth != nil && !bool(*spec.SignatureAuth)
	v.authMaterial(node, spec, c, p) // certificates, keys, trust store, EAP secrets (pki.go)
	// PSKs from the secrets section: the first that names both identities and this node;
	// with a remote identity of %any, looked up by the identity each peer sends.
	switch {
	case (c.Local.Method == ike.AuthPSK || c.Remote.Method == ike.AuthPSK) && (spec.Remote.ID == anyID || spec.Local.ID == anyID):
		if c.Version == 1 {
			v.errorf(p+".remote.id", "a pre-shared key found by the peer's identity (%%any) is IKEv2's here: IKEv1 main mode needs the key before the peer sends its identity")
			break
		}
		lookup := v.pskLookup(node)
		c.Local.PSKFor, c.Remote.PSKFor = lookup, lookup
	case c.Local.Method == ike.AuthPSK || c.Remote.Method == ike.AuthPSK:
		psk := v.secret(node, spec.Local.ID, spec.Remote.ID)
		if psk == nil {
			v.errorf(p+".local", "no secret of type ike names ids %q and %q for node %q", spec.Local.ID, spec.Remote.ID, node)
		}
		c.Local.PSK, c.Remote.PSK = psk, psk
	}
	for _, cn := range sortedKeys(spec.Children) {
		ch := v.child(spec.Children[cn], cn, p+".children."+key(cn))
		if ch != nil {
			c.Children = append(c.Children, ch)
		}
	}
	if len(v.errs) > before {
		return nil, fmt.Errorf("invalid")
	}
	return c, nil
}

func trimPkg(err error) string { return strings.TrimPrefix(err.Error(), "ike: ") }

// anyID is strongSwan's identity that matches every peer.
const anyID = "%any"

func (v *validator) auth(a AuthSpec, p string) (ike.AuthConfig, error) {
	ac := ike.AuthConfig{Method: ike.AuthMethod(a.Auth), EAPID: a.EAPID}
	switch a.Auth {
	case "", "psk":
		ac.Method = ike.AuthPSK
	case "rsa/pss":
		ac.Method, ac.RSAPSS = ike.AuthPubkey, true
	case "pubkey", "eap-md5", "eap-mschapv2":
	default:
		v.errorf(p+".auth", "authentication %q is not one of %s%s", a.Auth, strings.Join(authMethods, ", "),
			didYouMean(a.Auth, authMethods))
		return ike.AuthConfig{}, fmt.Errorf("auth")
	}
	if a.ID == "" && strings.HasPrefix(a.Auth, "eap-") {
		return ac, nil // an EAP server's peer: any IKE identity, the EAP identity counts
	}
	if a.ID == "" {
		v.errorf(p, "missing id (e.g. id: gw-a.example)")
		return ac, fmt.Errorf("id")
	}
	if a.ID == anyID {
		if strings.HasSuffix(p, ".local") {
			v.errorf(p+".id", "%%any is for the remote side: the local side names its own identity")
			return ac, fmt.Errorf("id")
		}
		return ac, nil // any identity: the peer's, checked by its AUTH
	}
	id, err := ike.ParseIdentity(a.ID)
	if err != nil {
		v.errorf(p+".id", "%v", trimPkg(err))
		return ac, err
	}
	ac.ID = id
	return ac, nil
}

func (v *validator) secret(node, local, remote string) []byte {
	var found []byte
	specific := false
	for _, i := range v.secretCandidates(local, remote) {
		s := &v.f.Secrets[i]
		if s.Type != "" && s.Type != "ike" {
			continue
		}
		if len(s.IDs) > 0 && !(slices.Contains(s.IDs, local) && slices.Contains(s.IDs, remote)) &&
			!(len(s.IDs) == 1 && (s.IDs[0] == remote || s.IDs[0] == local)) {
			continue
		}
		if len(s.Nodes) > 0 {
			if slices.Contains(s.Nodes, node) && !specific {
				found, specific = []byte(s.Secret), true
			}
			continue
		}
		if found == nil {
			found = []byte(s.Secret)
		}
	}
	return found
}

// pskLookup finds a node's pre-shared key by the identities of an IKE SA, as
// strongSwan's credential manager does (a connection whose remote identity is %any):
// of the secrets of type ike that apply to the node, one that names both identities
// wins over one that names either, which wins over one that names none; among equals,
// one that names the node, then the first in the file.
func (v *validator) pskLookup(node string) func(local, remote ike.Identity) []byte {
	v.secretCandidates("", "") // the index
	secrets := v.f.Secrets
	specific := slices.ContainsFunc(secrets, func(s SecretSpec) bool { return len(s.Nodes) > 0 })
	return func(local, remote ike.Identity) []byte {
		l, r := local.String(), remote.String()
		best, bestScore, bestMine := -1, 0, false
		consider := func(i, score int) bool {
			s := &secrets[i]
			mine := slices.Contains(s.Nodes, node)
			if s.Type != "" && s.Type != "ike" || len(s.Nodes) > 0 && !mine {
				return false
			}
			if score > bestScore || score == bestScore && mine && !bestMine {
				best, bestScore, bestMine = i, score, mine
			}
			return !specific // the first one will do, unless a later one names the node
		}
		// Both named: walk the shorter list, as in secretCandidates.
		short, other := v.secretsByID[l], r
		if len(v.secretsByID[r]) < len(short) {
			short, other = v.secretsByID[r], l
		}
		for _, i := range short {
			if (l == r || other != "") && slices.Contains(secrets[i].IDs, other) && consider(i, 40) {
				break
			}
		}
		for _, list := range [][]int{v.secretsByID[r], v.secretsByID[l]} {
			for _, i := range list {
				if bestScore >= 20 && !specific || consider(i, 20) {
					break
				}
			}
		}
		for _, i := range v.anyIDs {
			if bestScore > 0 && !specific || consider(i, 2) {
				break
			}
		}
		if best < 0 {
			return nil
		}
		return []byte(secrets[best].Secret)
	}
}

// secretCandidates are the indexes, in file order, of the secrets that can match: those
// without identities, those that name the identity fewer secrets name (a match names
// both), and those whose only identity is the other one.
func (v *validator) secretCandidates(local, remote string) []int {
	if v.secretsByID == nil {
		v.secretsByID, v.secretsBySingle = map[string][]int{}, map[string][]int{}
		for i, s := range v.f.Secrets {
			switch len(s.IDs) {
			case 0:
				v.anyIDs = append(v.anyIDs, i)
			case 1:
				v.secretsBySingle[s.IDs[0]] = append(v.secretsBySingle[s.IDs[0]], i)
			}
			for j, id := range s.IDs {
				if !slices.Contains(s.IDs[:j], id) {
					v.secretsByID[id] = append(v.secretsByID[id], i)
				}
			}
		}
	}
	rare, other := local, remote
	if len(v.secretsByID[other]) < len(v.secretsByID[rare]) {
		rare, other = other, rare
	}
	out := slices.Concat(v.anyIDs, v.secretsByID[rare], v.secretsBySingle[other])
	slices.Sort(out)
	return slices.Compact(out)
}

func (v *validator) child(spec *ChildSpec, name, p string) *ike.ChildConfig {
	if spec == nil {
		v.errorf(p, "child %q is empty", name)
		return nil
	}
	ch := &ike.ChildConfig{Name: name, StartAction: ike.StartAction(spec.StartAction), RekeyTime: spec.RekeyTime.D(), LifeTime: spec.LifeTime.D(),
		LifeBytes: uint64(spec.LifeBytes), RekeyBytes: uint64(spec.RekeyBytes), LifePackets: spec.LifePackets,
		RekeyPackets: spec.RekeyPackets, DPDAction: spec.DPDAction, CloseAction: spec.CloseAction}
	ts := func(list []string, field string) []ike.TrafficSelector {
		var out []ike.TrafficSelector
		for i, s := range list {
			if s == "dynamic" {
				continue // this side's (virtual) address, resolved by the engine
			}
			pf, err := netip.ParsePrefix(s)
			if err != nil {
				if a, err2 := netip.ParseAddr(s); err2 == nil {
					pf = netip.PrefixFrom(a, a.BitLen())
				} else {
					v.errorf(fmt.Sprintf("%s.%s[%d]", p, field, i), "traffic selector %q is not a prefix like 10.1.0.0/24", s)
					continue
				}
			}
			out = append(out, ike.TSFromPrefix(pf))
		}
		if len(out) == 0 && len(list) == 0 {
			v.errorf(p, "child %q needs %s", name, field)
		}
		return out
	}
	ch.LocalTS = ts(spec.LocalTS, "local_ts")
	ch.RemoteTS = ts(spec.RemoteTS, "remote_ts")
	props := spec.ESPProposals
	if len(props) == 0 && len(spec.AHProposals) == 0 {
		props = []string{"aes128gcm16", "aes128-sha256"}
	}
	ch.ESPProposals = append(v.proposals(p+".ah_proposals", spec.AHProposals, ike.ProtoAH),
		v.proposals(p+".esp_proposals", props, ike.ProtoESP)...)
	switch spec.Mode {
	case "", "tunnel":
	case "transport":
		ch.Transport = true
	default:
		v.errorf(p+".mode", "mode is tunnel or transport, not %q", spec.Mode)
	}
	v.oneOf(p, "start_action", spec.StartAction, "trigger", "start", "none")
	v.oneOf(p, "dpd_action", spec.DPDAction, "clear", "trap", "restart")
	v.oneOf(p, "close_action", spec.CloseAction, "none", "trap", "start")
	return ch
}

// oneOf checks that a field at p.name, when given, is one of the values.
func (v *validator) oneOf(p, name, value string, values ...string) {
	if value == "" || slices.Contains(values, value) {
		return
	}
	v.errorf(p+"."+name, "%s is %s or %s, not %q%s", name, strings.Join(values[:len(values)-1], ", "), values[len(values)-1], value,
		didYouMean(value, values))
}

// faultOf converts a fault spec into the simulator's rule.
func faultOf(f FaultSpec) (*sim.Fault, error) {
	var m *MatchSpec
	var action string
	n := 0
	for _, c := range []struct {
		name string
		m    *MatchSpec
	}{{"drop", f.Drop}, {"duplicate", f.Duplicate}, {"delay", f.Delay}, {"corrupt", f.Corrupt}} {
		if c.m != nil {
			m, action = c.m, c.name
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("a fault has exactly one action (drop, duplicate, delay, corrupt); this one has %d", n)
	}
	if action == "delay" && m.By <= 0 {
		return nil, fmt.Errorf("a delay fault needs by: (e.g. by: 3s)")
	}
	if m.Exchange != "" && !slices.Contains(Exchanges, m.Exchange) {
		return nil, fmt.Errorf("unknown exchange %q%s", m.Exchange, didYouMean(m.Exchange, Exchanges))
	}
	return &sim.Fault{Action: action, Delay: m.By.D(), Proto: m.Proto, Exchange: m.Exchange, Response: m.Response,
		From: m.From, Nth: m.Message, Times: m.Times}, nil
}

// addrs reads the IP addresses of list, the field at path; what names them in the
// error about one that is not an address ("DNS server ").
func (v *validator) addrs(path string, list []string, what string) []netip.Addr {
	var out []netip.Addr
	for i, s := range list {
		a, err := netip.ParseAddr(s)
		if err != nil {
			v.errorf(fmt.Sprintf("%s[%d]", path, i), "%s%q is not an IP address", what, s)
			continue
		}
		out = append(out, a)
	}
	return out
}

// proposals reads the proposals of list, the field at path, for proto.
func (v *validator) proposals(path string, list []string, proto ike.Protocol) []ike.Proposal {
	var out []ike.Proposal
	for i, s := range list {
		if s == "" {
			continue // a YAML null, reported by the schema check
		}
		pr, err := ike.ParseProposal(s, proto)
		if err != nil {
			v.errorf(fmt.Sprintf("%s[%d]", path, i), "%v", trimPkg(err))
			continue
		}
		out = append(out, pr)
	}
	return out
}
