package ios

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
)

// connections makes one connection per crypto map and peer (IKEv1, or IKEv2 with an
// IKEv2 profile): an entry's access list gives its children, one per permit entry, the
// way IOS negotiates one IPsec SA pair per entry.
func (r *reader) connections() {
	applied := map[string]*iface{}
	for _, f := range r.ifaces {
		if f.cryptoIn != "" && !f.down && applied[f.cryptoIn] == nil {
			applied[f.cryptoIn] = f
		}
	}
	slices.SortStableFunc(r.entries, func(a, b *mapEntry) int { return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.seq, b.seq)) })
	byPeer := map[string]string{}
	for _, e := range r.entries {
		f := applied[e.name]
		switch {
		case f == nil:
			r.note(e.line, "crypto map %s is applied to no interface, so IOS never uses it; left out", e.name)
			continue
		case !e.peer.IsValid():
			r.note(e.line, "no set peer; left out")
			continue
		case e.acl == "":
			r.note(e.line, "no match address; left out")
			continue
		}
		local := f.prefix.Addr()
		if name, ok := r.mapLocal[e.name]; ok {
			li := r.ifaceNamed(name)
			if li == nil || !li.prefix.IsValid() {
				r.errorf(e.line, 0, "crypto map %s local-address %s: no interface %s with an address", e.name, name, name)
				continue
			}
			local = li.prefix.Addr()
		}
		version := 1
		if e.profile != "" {
			version = 2
		}
		key := fmt.Sprintf("%s/%s/%d", e.name, e.peer, version)
		name, ok := byPeer[key]
		if !ok {
			c := &scenarios.ConnSpec{Version: version, LocalAddrs: []string{local.String()}, RemoteAddrs: []string{e.peer.String()}}
			n := e.name
			if len(byPeer) > 0 {
				n = fmt.Sprintf("%s-%d", e.name, e.seq)
			}
			name = r.n.AddConn(n, c, e.line.pos)
			byPeer[key] = name
			r.n.Set(name+".version", e.line.pos)
			r.n.Set(name+".remote_addrs", e.peerAt)
			if at, ok := r.mapLocalAt[e.name]; ok {
				r.n.Set(name+".local_addrs", at)
			} else {
				r.n.Set(name+".local_addrs", f.addrAt)
			}
			var ok2 bool
			if version == 1 {
				ok2 = r.ikev1(c, name, e, local)
			} else {
				ok2 = r.ikev2(c, name, e, local)
			}
			if !ok2 {
				continue
			}
		}
		r.children(r.n.Conns[name], name, e)
	}
}

// ikev1 fills in phase 1 from the ISAKMP policies, keys and peers.
func (r *reader) ikev1(c *scenarios.ConnSpec, name string, e *mapEntry, local netip.Addr) bool {
	policies := slices.Clone(r.policies)
	slices.SortStableFunc(policies, func(a, b *policy) int { return cmp.Compare(a.prio, b.prio) })
	if len(policies) == 0 {
		r.note(e.line, "no crypto isakmp policy: the scenario offers IOS's default policy (DES, SHA, group 1, pre-shared key)")
		policies = []*policy{{encr: defaultPolicyEncr, hash: defaultPolicyHash, dh: defaultPolicyDH, auth: "pre-share", life: defaultP1Life, line: e.line}}
	}
	auth := policies[0].auth
	for _, p := range policies {
		if p.auth != auth {
			r.note(p.line, "authentication %s: the simulation uses one method per connection, %s (policy %d); this policy is left out", p.auth, auth, policies[0].prio)
			continue
		}
		prop := p.encr + "-" + p.hash + "-" + p.dh
		if _, err := ike.ParseProposal(prop, ike.ProtoIKE); err != nil {
			r.note(p.line, "%s; this policy is left out", strings.TrimPrefix(err.Error(), "ike: "))
			continue
		}
		c.Proposals = append(c.Proposals, prop)
		r.n.Set(name+".proposals", p.line.pos)
	}
	c.LifeTime = scenarios.Duration(policies[0].life)
	r.n.Set(name+".life_time", policies[0].lifeAt)
	switch auth {
	case "pre-share":
		c.Local.Auth, c.Remote.Auth = "psk", "psk"
	case "rsa-sig":
		r.errorf(policies[0].line, 0, "policy %d authenticates with rsa-sig (IOS's default): certificates of a PKI trustpoint are not read; set authentication pre-share", policies[0].prio)
		return false
	default:
		r.errorf(policies[0].line, 0, "policy %d authenticates with %s, which ikesim has not", policies[0].prio, auth)
		return false
	}
	r.n.Set(name+".local.auth", policies[0].authAt)
	r.n.Set(name+".remote.auth", policies[0].authAt)
	c.Local.ID = local.String()
	if r.identity == "hostname" {
		if r.hostname == "" {
			r.note(e.line, "crypto isakmp identity hostname without a hostname: the identity is the address")
		} else {
			c.Local.ID = strings.Trim(r.hostname+"."+r.domain, ".")
			r.n.Set(name+".local.id", r.identityAt)
		}
	}
	if r.keepalive > 0 {
		c.DPDDelay = scenarios.Duration(r.keepalive)
		r.n.Set(name+".dpd_delay", r.keepAt)
	}
	if r.natKeep > 0 {
		c.Keepalive = scenarios.Duration(r.natKeep)
		r.n.Set(name+".keepalive", r.natKeepAt)
	}
	if p := r.amPeers[e.peer]; p != nil && p.password != "" {
		p.line.used = true
		c.Aggressive = true
		r.n.Set(name+".aggressive", p.pwAt)
		if p.id != "" {
			c.Local.ID = p.id
			r.n.Set(name+".local.id", p.idAt)
		}
		r.n.KeyOf[name] = r.n.AddSecret(scenarios.SecretSpec{Type: "ike", Secret: p.password}, p.pwAt)
		return true
	}
	var best *presharedKey
	for i, k := range r.keys {
		if k.peer.Contains(e.peer) && (best == nil || k.peer.Bits() > best.peer.Bits()) {
			best = &r.keys[i]
		}
	}
	if best == nil {
		r.errorf(e.line, 0, "no crypto isakmp key for peer %s", e.peer)
		return false
	}
	// IOS finds the key by the peer's address, whatever identity the peer sends.
	r.n.KeyOf[name] = r.n.AddSecret(scenarios.SecretSpec{Type: "ike", Secret: best.key}, best.line.pos)
	return true
}

// ikev2 fills in an IKEv2 connection from the entry's IKEv2 profile, keyring and the
// proposals of the IKEv2 policies.
func (r *reader) ikev2(c *scenarios.ConnSpec, name string, e *mapEntry, local netip.Addr) bool {
	p := r.profiles[e.profile]
	if p == nil {
		r.errorf(e.line, 0, "no crypto ikev2 profile %s", e.profile)
		return false
	}
	p.line.used = true
	for _, pn := range r.policies2 {
		prop, ok := r.proposals2[pn]
		if !ok {
			r.errs = append(r.errs, &scenarios.Error{File: r.policy2At.File, Line: r.policy2At.Line, Col: r.policy2At.Col,
				Msg: fmt.Sprintf("no crypto ikev2 proposal %s", pn)})
			return false
		}
		c.Proposals = append(c.Proposals, prop)
		r.n.Set(name+".proposals", r.prop2At[pn])
	}
	if len(c.Proposals) == 0 {
		c.Proposals = []string{defaultIKEv2Proposal}
		r.note(p.line, "no crypto ikev2 policy: the scenario offers IOS's default proposal (%s)", defaultIKEv2Proposal)
	}
	for _, x := range []struct {
		method string
		at     config.Pos
		dst    *scenarios.AuthSpec
		key    string
	}{{p.authLocal, p.authLocalAt, &c.Local, "local"}, {p.authRemote, p.authRemoteAt, &c.Remote, "remote"}} {
		switch x.method {
		case "pre-share":
			x.dst.Auth = "psk"
			r.n.Set(name+"."+x.key+".auth", x.at)
		case "":
			r.errorf(p.line, 0, "IKEv2 profile %s has no authentication %s", e.profile, x.key)
			return false
		default:
			r.errs = append(r.errs, &scenarios.Error{File: x.at.File, Line: x.at.Line, Col: x.at.Col,
				Msg: fmt.Sprintf("authentication %s %s: certificates of a PKI trustpoint are not read; use pre-share", x.key, x.method)})
			return false
		}
	}
	c.Local.ID = cmp.Or(p.localID, local.String())
	r.n.Set(name+".local.id", p.localIDAt)
	c.Remote.ID = p.remoteID
	r.n.Set(name+".remote.id", p.remoteIDAt)
	c.RekeyTime = scenarios.Duration(p.life)
	r.n.Set(name+".rekey_time", p.lifeAt)
	if p.dpd > 0 {
		c.DPDDelay = scenarios.Duration(p.dpd)
		r.n.Set(name+".dpd_delay", p.dpdAt)
	}
	var kp *keyringPeer
	for i, k := range r.keyrings[p.keyring] {
		if k.peer.Contains(e.peer) && (kp == nil || k.peer.Bits() > kp.peer.Bits()) {
			kp = &r.keyrings[p.keyring][i]
		}
	}
	if kp == nil || kp.local == "" {
		r.errorf(p.line, 0, "IKEv2 profile %s: no key for peer %s in keyring %q", e.profile, e.peer, p.keyring)
		return false
	}
	if kp.remote != kp.local {
		r.note(kp.line, "different local and remote keys: the simulation uses one key both ways, the local one")
	}
	r.n.KeyOf[name] = r.n.AddSecret(scenarios.SecretSpec{Type: "ike", Secret: kp.local}, kp.line.pos)
	return true
}

// children adds the children of a map entry: one per permit entry of its access list.
func (r *reader) children(c *scenarios.ConnSpec, name string, e *mapEntry) {
	aces, ok := r.acls[e.acl]
	if !ok {
		r.errorf(e.line, 0, "match address %s: no such access list", e.acl)
		return
	}
	var props []string
	transport, modeAt := false, config.Pos{}
	for i, tn := range e.tsets {
		ts := r.tsets[tn]
		if ts == nil {
			r.errs = append(r.errs, &scenarios.Error{File: e.tsetAt.File, Line: e.tsetAt.Line, Col: e.tsetAt.Col,
				Msg: fmt.Sprintf("no crypto ipsec transform-set %s", tn)})
			return
		}
		p := ts.proposal
		if e.pfs != "" {
			p += "-" + e.pfs
		}
		props = append(props, p)
		if i == 0 {
			transport, modeAt = ts.transport, ts.modeAt
		} else if ts.transport != transport {
			r.note(ts.line, "its mode differs from the first transform set's; the simulation uses the first's")
		}
	}
	if len(props) == 0 {
		r.note(e.line, "no set transform-set: left out")
		return
	}
	if c.Children == nil {
		c.Children = map[string]*scenarios.ChildSpec{}
	}
	life, lifeAt := r.saLife, r.saLifeAt
	if e.life >= 0 {
		life, lifeAt = e.life, e.lifeAt
	}
	kb := r.saKB
	if e.kbytes > 0 {
		kb = e.kbytes
	}
	for i, a := range aces {
		cn := "acl" + e.acl
		if len(aces) > 1 {
			cn = fmt.Sprintf("acl%s-%d", e.acl, i+1)
		}
		for c.Children[cn] != nil {
			cn += "x"
		}
		ch := &scenarios.ChildSpec{LocalTS: []string{a.src.String()}, RemoteTS: []string{a.dst.String()}, ESPProposals: props,
			StartAction: "trigger", LifeTime: scenarios.Duration(life)}
		if transport {
			ch.Mode = "transport"
		}
		if c.Version == 1 {
			ch.LifeBytes = scenarios.Bytes(kb * 1024)
		}
		c.Children[cn] = ch
		k := name + ".children." + cn
		r.n.Set(k, e.aclAt)
		r.n.Set(k+".local_ts", a.line.pos)
		r.n.Set(k+".remote_ts", a.line.pos)
		r.n.Set(k+".esp_proposals", e.tsetAt)
		r.n.Set(k+".mode", modeAt)
		r.n.Set(k+".start_action", e.line.pos)
		r.n.Set(k+".life_time", lifeAt)
		if e.pfs != "" {
			r.n.Set(k+".esp_proposals", e.pfsAt)
		}
	}
}
