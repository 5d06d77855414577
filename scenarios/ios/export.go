package ios

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
)

// export writes a node's connections as IOS configuration: one crypto map (VPN) with an
// entry per child, ISAKMP policies and keys for IKEv1, an IKEv2 proposal, policy,
// keyring and profile per IKEv2 connection, the node's addresses as interfaces.
func export(s *scenarios.Scenario, node string) ([]byte, []config.Note, error) {
	conns, err := s.NodeConnections(node)
	if err != nil {
		return nil, nil, err
	}
	var spec *scenarios.NodeSpec
	for i := range s.File.Topology.Nodes {
		if s.File.Topology.Nodes[i].Name == node {
			spec = &s.File.Topology.Nodes[i]
		}
	}
	e := &exporter{node: node, path: s.Path, conns: conns, specs: s.File.Connections[node]}
	if spec != nil && spec.Charon != nil {
		e.note("node %s: its charon section (strongSwan's half-open limits and cookies) has no equivalent in this IOS export; left out", node)
	}
	if spec != nil {
		e.addrs = spec.Prefixes()
	}
	return e.write(), e.notes, nil
}

type exporter struct {
	node  string
	path  string
	conns []*ike.Connection
	specs map[string]*scenarios.ConnSpec
	addrs []netip.Prefix
	notes []config.Note

	policies []string // IKEv1 policy lines, each "encr|hash|group|auth|lifetime"
	global   bytes.Buffer
	maps     bytes.Buffer
	acls     bytes.Buffer
	aclNum   int
	seq      int
	tsets    map[string]string // transform set by its transforms
	local    netip.Addr        // the local address of the crypto map
}

func (e *exporter) note(format string, args ...any) {
	e.notes = append(e.notes, config.Note{Node: e.node, Pos: config.Pos{File: e.path}, Msg: fmt.Sprintf(format, args...)})
}

func (e *exporter) write() []byte {
	e.tsets = map[string]string{}
	e.aclNum = 100
	for _, c := range e.conns {
		e.conn(c)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "! IOS configuration of node %s of %s, written by 'ikesim config export'.\n", e.node, e.path)
	fmt.Fprintf(&b, "hostname %s\n!\n", e.node)
	for i, p := range e.policies {
		f := strings.Split(p, "|")
		fmt.Fprintf(&b, "crypto isakmp policy %d\n encryption %s\n hash %s\n authentication %s\n group %s\n", 10*(i+1), f[0], f[1], f[3], f[2])
		if f[4] != "" {
			fmt.Fprintf(&b, " lifetime %s\n", f[4])
		}
	}
	b.Write(e.global.Bytes())
	keys := make([]string, 0, len(e.tsets))
	for k := range e.tsets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return e.tsets[keys[i]] < e.tsets[keys[j]] })
	for _, k := range keys {
		ts, mode, _ := strings.Cut(k, "|")
		fmt.Fprintf(&b, "!\ncrypto ipsec transform-set %s %s\n mode %s\n", e.tsets[k], ts, mode)
	}
	b.WriteString("!\n")
	loopback := ""
	outside := -1
	for i, p := range e.addrs {
		if p.Addr() == e.local && p.Bits() == 32 {
			loopback = fmt.Sprintf("Loopback%d", i)
		}
		if outside < 0 && p.Bits() < 32 && (p.Addr() == e.local || !e.local.IsValid() || loopbackIndex(e.addrs, e.local) >= 0) {
			outside = i
		}
	}
	if loopback != "" {
		fmt.Fprintf(&b, "crypto map VPN local-address %s\n", loopback)
	}
	b.Write(e.maps.Bytes())
	for i, p := range e.addrs {
		if p.Addr().Is6() {
			e.note("interface %s: this IOS export writes IPv4 interfaces only; left out", p)
			continue
		}
		name := fmt.Sprintf("GigabitEthernet0/%d", i)
		if p.Bits() == 32 {
			name = fmt.Sprintf("Loopback%d", i)
		}
		fmt.Fprintf(&b, "!\ninterface %s\n ip address %s %s\n", name, p.Addr(), mask(p.Bits()))
		if i == outside && e.maps.Len() > 0 {
			b.WriteString(" crypto map VPN\n")
		}
	}
	b.WriteString("!\n")
	b.Write(e.acls.Bytes())
	return b.Bytes()
}

func loopbackIndex(addrs []netip.Prefix, a netip.Addr) int {
	for i, p := range addrs {
		if p.Addr() == a && p.Bits() == 32 {
			return i
		}
	}
	return -1
}

// mask writes a prefix length as a network mask.
func mask(bits int) string {
	m := ^uint32(0) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

// wildcard writes an access list's address: any, host A, or A WILDCARD.
func wildcard(p netip.Prefix) string {
	switch p.Bits() {
	case 0:
		return "any"
	case 32:
		return "host " + p.Addr().String()
	}
	m := ^uint32(0) >> p.Bits()
	return p.Masked().Addr().String() + " " + netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

var (
	encrNames = map[uint16]string{ike.ENCR_DES: "des", ike.ENCR_3DES: "3des"}
	hashNames = map[uint16]string{ike.AUTH_HMAC_MD5_96: "md5", ike.AUTH_HMAC_SHA1_96: "sha", ike.AUTH_HMAC_SHA2_256_128: "sha256",
		ike.AUTH_HMAC_SHA2_384_192: "sha384", ike.AUTH_HMAC_SHA2_512_256: "sha512"}
	espInteg = map[uint16]string{ike.AUTH_HMAC_MD5_96: "esp-md5-hmac", ike.AUTH_HMAC_SHA1_96: "esp-sha-hmac",
		ike.AUTH_HMAC_SHA2_256_128: "esp-sha256-hmac", ike.AUTH_HMAC_SHA2_384_192: "esp-sha384-hmac", ike.AUTH_HMAC_SHA2_512_256: "esp-sha512-hmac"}
	ikev2IntegNames = map[uint16]string{ike.AUTH_HMAC_MD5_96: "md5", ike.AUTH_HMAC_SHA1_96: "sha1", ike.AUTH_HMAC_SHA2_256_128: "sha256",
		ike.AUTH_HMAC_SHA2_384_192: "sha384", ike.AUTH_HMAC_SHA2_512_256: "sha512"}
	ikev2PRF = map[uint16]string{ike.PRF_HMAC_MD5: "md5", ike.PRF_HMAC_SHA1: "sha1", ike.PRF_HMAC_SHA2_256: "sha256",
		ike.PRF_HMAC_SHA2_384: "sha384", ike.PRF_HMAC_SHA2_512: "sha512"}
)

// groupNumber is IOS's number of a DH group.
func groupNumber(id uint16) (string, bool) {
	switch id {
	case ike.MODP_768, ike.MODP_1024, ike.MODP_1536, ike.MODP_2048, ike.MODP_3072, ike.MODP_4096, ike.ECP_256, ike.ECP_384, ike.ECP_521,
		ike.MODP_2048_256:
		return fmt.Sprint(id), true
	}
	return "", false
}

func of(p ike.Proposal, typ ike.TransformType) []ike.Transform {
	var out []ike.Transform
	for _, t := range p.Transforms {
		if t.Type == typ {
			out = append(out, t)
		}
	}
	return out
}

// p1Encr is a phase 1 encryption in an ISAKMP policy.
func p1Encr(t ike.Transform) (string, bool) {
	if n, ok := encrNames[t.ID]; ok {
		return n, true
	}
	if t.ID == ike.ENCR_AES_CBC {
		return fmt.Sprintf("aes %d", t.KeyLen), true
	}
	return "", false
}

func (e *exporter) conn(c *ike.Connection) {
	spec := e.specs[c.Name]
	if len(c.LocalAddrs) > 0 {
		if e.local.IsValid() && e.local != c.LocalAddrs[0] {
			e.note("connection %s: its local address %s differs from %s, the crypto map's", c.Name, c.LocalAddrs[0], e.local)
		}
		e.local = c.LocalAddrs[0]
	}
	if len(c.RemoteAddrs) == 0 {
		e.note("connection %s has no remote address: a crypto map entry needs set peer; left out", c.Name)
		return
	}
	peer := c.RemoteAddrs[0]
	for _, x := range []struct {
		what string
		set  bool
	}{{"certificates (auth pubkey)", c.Local.Method == ike.AuthPubkey || c.Remote.Method == ike.AuthPubkey},
		{"EAP", isEAP(c.Local.Method) || isEAP(c.Remote.Method)},
		{"XAUTH", c.XAuth != nil}, {"virtual IPs and pools", c.RequestVIP || len(c.Pools) > 0},
		{"encap (forced UDP encapsulation)", c.Encap}, {"childless", c.Childless}, {"fragmentation", c.Fragmentation},
		{"retransmit", spec.Retransmit != nil}, {"cookie_threshold", c.CookieThreshold != 0},
		{"signature_authentication", spec.SignatureAuth != nil}} {
		if x.set {
			e.note("connection %s: %s has no equivalent in this IOS export; left out", c.Name, x.what)
		}
	}
	if c.Local.Method != ike.AuthPSK {
		return
	}
	var profile string
	if c.Version == 1 {
		e.ikev1(c, peer)
	} else {
		profile = e.ikev2(c, peer)
	}
	for _, ch := range c.Children {
		e.child(c, ch, peer, profile)
	}
}

func (e *exporter) ikev1(c *ike.Connection, peer netip.Addr) {
	life := ""
	switch {
	case c.LifeTime > 0:
		life = fmt.Sprint(int(c.LifeTime / time.Second))
	case c.RekeyTime > 0:
		life = fmt.Sprint(int(c.RekeyTime * 11 / 10 / time.Second))
		e.note("connection %s: IOS has no rekey time: the policy's lifetime is rekey_time + 10 %%, as the simulation proposes", c.Name)
	}
	for _, p := range c.Proposals {
		if !impliedPRF(p) {
			e.note("connection %s: IKEv1 derives its PRF from the hash; %s is left out", c.Name, p)
			continue
		}
		for _, enc := range of(p, ike.TransformENCR) {
			en, ok := p1Encr(enc)
			if !ok {
				e.note("connection %s: %s has no ISAKMP policy encryption; left out", c.Name, ike.TransformName(enc))
				continue
			}
			for _, integ := range of(p, ike.TransformINTEG) {
				hn, ok := hashNames[integ.ID]
				if !ok {
					e.note("connection %s: %s has no ISAKMP policy hash; left out", c.Name, ike.TransformName(integ))
					continue
				}
				for _, dh := range of(p, ike.TransformDH) {
					g, ok := groupNumber(dh.ID)
					if !ok {
						e.note("connection %s: %s has no IOS group; left out", c.Name, ike.TransformName(dh))
						continue
					}
					pol := strings.Join([]string{en, hn, g, "pre-share", life}, "|")
					if !slices.Contains(e.policies, pol) {
						e.policies = append(e.policies, pol)
					}
				}
			}
		}
	}
	psk := string(c.Local.PSK)
	if psk == "" || strings.ContainsAny(psk, " \t\n") {
		e.note("connection %s: an IOS key is one word; this pre-shared key is left out", c.Name)
	}
	if c.Aggressive {
		kind := "fqdn"
		switch c.Local.ID.Type {
		case ike.IDIPv4Addr:
			kind = "ipv4-address"
		case ike.IDRFC822Addr:
			kind = "user-fqdn"
		}
		fmt.Fprintf(&e.global, "!\ncrypto isakmp peer address %s\n set aggressive-mode password %s\n set aggressive-mode client-endpoint %s %s\n",
			peer, psk, kind, c.Local.ID)
	} else {
		fmt.Fprintf(&e.global, "crypto isakmp key %s address %s\n", psk, peer)
		if c.Local.ID.String() != c.LocalAddrs[0].String() || c.Remote.ID.String() != peer.String() {
			e.note("connection %s: main mode identities %s and %s: IOS identifies itself by its address and finds keys by the peer's", c.Name, c.Local.ID, c.Remote.ID)
		}
	}
	if c.DPDDelay > 0 {
		fmt.Fprintf(&e.global, "crypto isakmp keepalive %d\n", int(c.DPDDelay/time.Second))
	}
	if c.Keepalive > 0 {
		fmt.Fprintf(&e.global, "crypto isakmp nat keepalive %d\n", int(c.Keepalive/time.Second))
	}
}

// ikev2 writes the IKEv2 proposal, policy, keyring and profile of a connection and
// returns the profile's name.
func (e *exporter) ikev2(c *ike.Connection, peer netip.Addr) string {
	name := c.Name
	var lines []string
	for i, p := range c.Proposals {
		var enc, integ, prf, dh []string
		for _, t := range of(p, ike.TransformENCR) {
			switch {
			case t.ID == ike.ENCR_AES_CBC:
				enc = append(enc, fmt.Sprintf("aes-cbc-%d", t.KeyLen))
			case t.ID == ike.ENCR_AES_GCM_16 && t.KeyLen != 192:
				enc = append(enc, fmt.Sprintf("aes-gcm-%d", t.KeyLen))
			case t.ID == ike.ENCR_3DES || t.ID == ike.ENCR_DES:
				enc = append(enc, encrNames[t.ID])
			default:
				e.note("connection %s: %s has no IOS IKEv2 encryption; left out", c.Name, ike.TransformName(t))
			}
		}
		for _, t := range of(p, ike.TransformINTEG) {
			if n, ok := ikev2IntegNames[t.ID]; ok {
				integ = append(integ, n)
			} else {
				e.note("connection %s: %s has no IOS IKEv2 integrity; left out", c.Name, ike.TransformName(t))
			}
		}
		for _, t := range of(p, ike.TransformPRF) {
			if n, ok := ikev2PRF[t.ID]; ok {
				prf = append(prf, n)
			} else {
				e.note("connection %s: %s has no IOS IKEv2 PRF; left out", c.Name, ike.TransformName(t))
			}
		}
		for _, t := range of(p, ike.TransformDH) {
			if g, ok := groupNumber(t.ID); ok {
				dh = append(dh, g)
			} else {
				e.note("connection %s: %s has no IOS group; left out", c.Name, ike.TransformName(t))
			}
		}
		pn := fmt.Sprintf("%s-%d", name, i+1)
		lines = append(lines, pn)
		fmt.Fprintf(&e.global, "!\ncrypto ikev2 proposal %s\n encryption %s\n", pn, strings.Join(enc, " "))
		if len(integ) > 0 {
			fmt.Fprintf(&e.global, " integrity %s\n", strings.Join(integ, " "))
		}
		if !impliedPRF(p) {
			fmt.Fprintf(&e.global, " prf %s\n", strings.Join(prf, " "))
		}
		fmt.Fprintf(&e.global, " group %s\n", strings.Join(dh, " "))
	}
	fmt.Fprintf(&e.global, "!\ncrypto ikev2 policy %s\n", name)
	for _, pn := range lines {
		fmt.Fprintf(&e.global, " proposal %s\n", pn)
	}
	fmt.Fprintf(&e.global, "!\ncrypto ikev2 keyring %s\n peer %s\n  address %s\n  pre-shared-key %s\n", name, peer, peer, c.Local.PSK)
	fmt.Fprintf(&e.global, "!\ncrypto ikev2 profile %s\n match identity remote %s\n identity local %s\n", name, idText(c.Remote.ID, true), idText(c.Local.ID, false))
	fmt.Fprintf(&e.global, " authentication local pre-share\n authentication remote pre-share\n keyring local %s\n", name)
	if c.RekeyTime > 0 {
		fmt.Fprintf(&e.global, " lifetime %d\n", int(c.RekeyTime/time.Second))
	}
	if c.LifeTime > 0 {
		e.note("connection %s: IOS has no hard IKEv2 lifetime besides its rekey time; life_time is left out", c.Name)
	}
	if c.DPDDelay > 0 {
		fmt.Fprintf(&e.global, " dpd %d 2 on-demand\n", int(c.DPDDelay/time.Second))
	}
	return name
}

// impliedPRF reports whether a proposal's PRFs are those its integrity algorithms
// imply (its keywords name no PRF), so that IOS derives them itself.
func impliedPRF(p ike.Proposal) bool { return !strings.Contains(p.String(), "prf") }

// idText writes an identity for match identity remote (a /32 address) or identity local.
func idText(id ike.Identity, match bool) string {
	switch id.Type {
	case ike.IDIPv4Addr:
		if match {
			return "address " + id.String() + " 255.255.255.255"
		}
		return "address " + id.String()
	case ike.IDRFC822Addr:
		return "email " + id.String()
	}
	return "fqdn " + id.String()
}

// child writes a crypto map entry and its access list for one child.
func (e *exporter) child(c *ike.Connection, ch *ike.ChildConfig, peer netip.Addr, profile string) {
	var tsets []string
	pfs := ""
	for _, p := range ch.ESPProposals {
		if esn := of(p, ike.TransformESN); len(esn) > 0 && esn[0].ID == ike.ESN {
			e.note("child %s: IOS's transform sets have no extended sequence numbers; left out", ch.Name)
		}
		for _, dh := range of(p, ike.TransformDH) {
			g, ok := groupNumber(dh.ID)
			switch {
			case !ok:
				e.note("child %s: %s has no IOS group; left out", ch.Name, ike.TransformName(dh))
			case pfs != "" && pfs != g:
				e.note("child %s: IOS has one PFS group per crypto map entry; group %s is left out", ch.Name, g)
			default:
				pfs = g
			}
		}
		for _, enc := range of(p, ike.TransformENCR) {
			var en string
			switch enc.ID {
			case ike.ENCR_DES:
				en = "esp-des"
			case ike.ENCR_3DES:
				en = "esp-3des"
			case ike.ENCR_NULL:
				en = "esp-null"
			case ike.ENCR_AES_CBC:
				en = fmt.Sprintf("esp-aes %d", enc.KeyLen)
			case ike.ENCR_AES_GCM_16:
				if enc.KeyLen == 192 {
					e.note("child %s: IOS's esp-gcm has 128 and 256-bit keys; AES-GCM 192 is left out", ch.Name)
					continue
				}
				en = fmt.Sprintf("esp-gcm %d", enc.KeyLen)
			default:
				e.note("child %s: %s has no IOS transform; left out", ch.Name, ike.TransformName(enc))
				continue
			}
			integs := of(p, ike.TransformINTEG)
			if len(integs) == 0 {
				integs = []ike.Transform{{}}
			}
			for _, integ := range integs {
				ts := en
				if integ.ID != 0 {
					in, ok := espInteg[integ.ID]
					if !ok {
						e.note("child %s: %s has no IOS transform; left out", ch.Name, ike.TransformName(integ))
						continue
					}
					ts += " " + in
				}
				mode := "tunnel"
				if ch.Transport {
					mode = "transport"
				}
				key := ts + "|" + mode
				if _, ok := e.tsets[key]; !ok {
					e.tsets[key] = fmt.Sprintf("TS%d", len(e.tsets)+1)
				}
				if !slices.Contains(tsets, e.tsets[key]) {
					tsets = append(tsets, e.tsets[key])
				}
			}
		}
	}
	if ch.StartAction != ike.StartTrigger {
		e.notes = append(e.notes, config.Note{Node: e.node, Pos: config.Pos{File: e.path}, Adapted: true,
			Msg: fmt.Sprintf("child %s: IOS starts a crypto map's SAs on traffic (start_action trigger), not %s", ch.Name, cmpOr(string(ch.StartAction), "none"))})
	}
	local := orDynamic(ch.LocalTS, c.LocalAddrs[0])
	remote := orDynamic(ch.RemoteTS, peer)
	if len(local)*len(remote) > 1 {
		e.note("child %s: IOS negotiates one IPsec SA per access list entry: %d entries", ch.Name, len(local)*len(remote))
	}
	e.seq += 10
	fmt.Fprintf(&e.maps, "crypto map VPN %d ipsec-isakmp\n set peer %s\n set transform-set %s\n", e.seq, peer, strings.Join(tsets, " "))
	if pfs != "" {
		fmt.Fprintf(&e.maps, " set pfs group%s\n", pfs)
	}
	if profile != "" {
		fmt.Fprintf(&e.maps, " set ikev2-profile %s\n", profile)
	}
	life := ch.LifeTime
	switch {
	case life == 0 && ch.RekeyTime > 0:
		life = ch.RekeyTime * 11 / 10
		e.note("child %s: IOS has no rekey time: the lifetime is rekey_time + 10 %%", ch.Name)
	case life == 0 && c.Version == 2:
		e.note("child %s: IOS's IPsec SAs expire (after 3600 s unless set); the scenario's never do", ch.Name)
	}
	if ch.LifeBytes == 0 && c.Version == 1 {
		e.note("child %s: IOS's IPsec SAs have a volume lifetime (4608000 KB unless set); the scenario's have none", ch.Name)
	}
	if life > 0 {
		fmt.Fprintf(&e.maps, " set security-association lifetime seconds %d\n", int(life/time.Second))
	}
	if ch.LifeBytes > 0 {
		fmt.Fprintf(&e.maps, " set security-association lifetime kilobytes %d\n", ch.LifeBytes/1024)
	}
	fmt.Fprintf(&e.maps, " match address %d\n", e.aclNum)
	for _, l := range local {
		for _, r := range remote {
			fmt.Fprintf(&e.acls, "access-list %d permit ip %s %s\n", e.aclNum, wildcard(l), wildcard(r))
		}
	}
	e.aclNum++
}

func isEAP(m ike.AuthMethod) bool { return m == ike.AuthEAPMD5 || m == ike.AuthEAPMSCHAPv2 }

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// orDynamic is a child's selectors as prefixes, or the side's address for dynamic.
func orDynamic(ts []ike.TrafficSelector, addr netip.Addr) []netip.Prefix {
	if len(ts) == 0 {
		return []netip.Prefix{netip.PrefixFrom(addr, 32)}
	}
	var out []netip.Prefix
	for _, t := range ts {
		if p, ok := prefixOf(t); ok {
			out = append(out, p)
		}
	}
	return out
}

// prefixOf is the prefix a selector covers, when it covers one exactly.
func prefixOf(t ike.TrafficSelector) (netip.Prefix, bool) {
	for bits := 0; bits <= 32; bits++ {
		p := netip.PrefixFrom(t.Start, bits).Masked()
		if ike.TSFromPrefix(p) == t {
			return p, true
		}
	}
	return netip.Prefix{}, false
}
