package swanctl

import (
	"cmp"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ikesim/ikesim/assets"
	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
)

// reader turns the tree of one swanctl.conf into a node. Every setting it reads is
// marked used; what stays unused at the end has no equivalent and becomes a note.
type reader struct {
	n     *config.Node
	root  *section
	dir   string
	pools map[string]*section
	xauth map[string]string // XAUTH passwords by user, from the secrets
	errs  scenarios.ErrorList
	src   sources
	// keysRead: the private keys of the swanctl directory's folders are read.
	keysRead bool
}

func (r *reader) note(s *setting, format string, args ...any) {
	r.n.Notef(s.pos, "%s = %s: %s", s.key, s.value, fmt.Sprintf(format, args...))
}

// fail records a setting whose value cannot be read at all.
func (r *reader) fail(s *setting, format string, args ...any) {
	r.errs = append(r.errs, r.src.errorAt(s.pos, "%s: %s", s.key, fmt.Sprintf(format, args...)))
}

func (r *reader) read() error {
	r.pools = map[string]*section{}
	if ps := r.root.sub("pools"); ps != nil {
		for _, p := range ps.subs {
			r.pools[p.name] = p
		}
	}
	r.secrets()
	if as := r.root.sub("authorities"); as != nil {
		for _, a := range as.subs {
			a.used = true
			for _, k := range []string{"cacert", "file"} {
				if s := a.get(k); s != nil {
					r.n.CACerts = appendNew(r.n.CACerts, r.cert(s, "x509ca"))
				}
			}
		}
	}
	if cs := r.root.sub("connections"); cs != nil {
		for _, c := range cs.subs {
			c.used = true
			r.connection(c)
		}
	}
	var items []unusedItem
	r.root.unused("", &items, map[any]bool{})
	slices.SortStableFunc(items, func(a, b unusedItem) int {
		return cmp.Or(cmp.Compare(a.pos.File, b.pos.File), cmp.Compare(a.pos.Line, b.pos.Line))
	})
	for _, it := range items {
		r.n.Notef(it.pos, "%s: no equivalent in ikesim's scenarios; left out", it.what)
	}
	if len(r.errs) > 0 {
		return r.errs
	}
	return nil
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// connection reads connections.NAME.
func (r *reader) connection(s *section) {
	c := &scenarios.ConnSpec{}
	name := r.n.AddConn(s.name, c, s.pos)
	set := func(field string, st *setting) { r.n.Set(name+"."+field, st.pos) }
	boolean := func(key string, dst *bool) *setting {
		st := s.get(key)
		if st == nil {
			return nil
		}
		b, err := parseBool(st.value)
		if err != nil {
			r.fail(st, "%v", err)
			return nil
		}
		*dst = b
		set(key, st)
		return st
	}
	if st := s.get("version"); st != nil {
		switch st.value {
		case "1", "2":
			c.Version, _ = strconv.Atoi(st.value)
			set("version", st)
		case "0":
			r.note(st, "any version: strongSwan initiates IKEv2 and answers IKEv1 too; the scenario runs IKEv2")
		default:
			r.fail(st, "%q is not 0, 1 or 2", st.value)
		}
	}
	version := cmp.Or(c.Version, 2)
	c.LocalAddrs = r.addrs(s.get("local_addrs"), name, "local_addrs")
	c.RemoteAddrs = r.addrs(s.get("remote_addrs"), name, "remote_addrs")
	for _, key := range []string{"local_port", "remote_port"} {
		if st := s.get(key); st != nil && st.value != "500" {
			r.note(st, "the scenario runs IKE on port 500 (and 4500 after a NAT)")
		}
	}
	c.Proposals = r.proposals(s.get("proposals"), ike.ProtoIKE, defaultIKE, name+".proposals")
	boolean("aggressive", &c.Aggressive)
	boolean("encap", &c.Encap)
	var pull bool
	if st := boolean("pull", &pull); st != nil {
		c.Pull = &pull
	}
	if st := s.get("mobike"); st != nil {
		if b, err := parseBool(st.value); err == nil && b && version == 2 {
			r.note(st, "ikesim has no MOBIKE (RFC 4555): the simulation neither announces nor uses it")
		}
	}
	if st, d, ok := r.duration(s, "dpd_delay"); ok {
		c.DPDDelay = d
		set("dpd_delay", st)
	}
	if st := s.get("fragmentation"); st != nil {
		switch st.value {
		case "yes", "accept", "force":
			if version == 2 {
				c.Fragmentation = true
				set("fragmentation", st)
			}
			if st.value != "yes" || version == 1 {
				r.note(st, "ikesim offers IKEv2 fragmentation when set to yes, and has none for IKEv1")
			}
		case "no":
			set("fragmentation", st)
		default:
			r.fail(st, "%q is not yes, accept, force or no", st.value)
		}
	} else if version == 2 {
		c.Fragmentation = true // strongSwan's default: yes
	}
	if st := s.get("childless"); st != nil {
		switch st.value {
		case "force":
			c.Childless = true
			set("childless", st)
		case "allow":
			set("childless", st)
		case "prefer", "never":
			r.note(st, "ikesim creates the first Child SA in IKE_AUTH unless childless is force")
		default:
			r.fail(st, "%q is not allow, prefer, force or never", st.value)
		}
	}
	c.RekeyTime = scenarios.Duration(4 * 3600 * 1e9) // strongSwan's default for IKE SAs
	if st, d, ok := r.duration(s, "rekey_time"); ok {
		c.RekeyTime = d
		set("rekey_time", st)
	}
	if st, d, ok := r.duration(s, "over_time"); ok {
		if d == 0 {
			// No time between rekeying and expiry: a hard lifetime at rekey_time.
			c.LifeTime, c.RekeyTime = c.RekeyTime, 0
		} else {
			c.LifeTime = c.RekeyTime + d
		}
		set("life_time", st)
	}
	if st := s.get("reauth_time"); st != nil && st.value != "0" {
		if c.RekeyTime != 0 && s.get("rekey_time") == nil {
			c.RekeyTime = 0 // strongSwan applies the default rekey time only without reauth_time
		}
		r.note(st, "ikesim rekeys IKE SAs but does not reauthenticate them")
	}
	for _, key := range []string{"send_certreq", "send_cert"} {
		if st := s.get(key); st != nil && st.value != "yes" && st.value != "ifasked" {
			r.note(st, "ikesim sends a CERTREQ and its certificate whenever a side authenticates with one")
		}
	}
	if st := s.get("vips"); st != nil {
		for _, v := range list(st.value) {
			if a, err := netip.ParseAddr(v); err == nil && a.IsUnspecified() && a.Is4() {
				c.VIPs = append(c.VIPs, "0.0.0.0")
				set("vips", st)
			} else {
				r.note(st, "ikesim asks for any address (0.0.0.0) only; %s is left out", v)
			}
		}
	}
	if st := s.get("pools"); st != nil {
		for _, pn := range list(st.value) {
			p := r.pools[pn]
			if p == nil {
				r.fail(st, "no pool %q in the pools section", pn)
				continue
			}
			p.used = true
			set("pools", st)
			if a := p.get("addrs"); a != nil {
				for _, v := range list(a.value) {
					if pf, err := netip.ParsePrefix(v); err == nil && pf.Addr().Is4() {
						c.Pools = append(c.Pools, pf.Masked().String())
					} else {
						r.note(a, "ikesim's pools are IPv4 prefixes; %s is left out", v)
					}
				}
			}
			if d := p.get("dns"); d != nil {
				for _, v := range list(d.value) {
					if a, err := netip.ParseAddr(v); err == nil {
						c.DNS = append(c.DNS, a.String())
						set("dns", d)
					} else {
						r.note(d, "%s is not an address; left out", v)
					}
				}
			}
		}
	}
	r.auth(s, c, name, "local")
	r.auth(s, c, name, "remote")
	if ch := s.sub("children"); ch != nil {
		for _, cs := range ch.subs {
			cs.used = true
			r.child(cs, c, name, version)
		}
	}
}

// duration reads a time setting; a bad value is an error.
func (r *reader) duration(s *section, key string) (*setting, scenarios.Duration, bool) {
	st := s.get(key)
	if st == nil {
		return nil, 0, false
	}
	d, err := parseTime(st.value)
	if err != nil {
		r.fail(st, "%v", err)
		return nil, 0, false
	}
	return st, scenarios.Duration(d), true
}

// addrs reads local_addrs or remote_addrs: single IPv4 addresses; %any means any.
func (r *reader) addrs(st *setting, conn, field string) []string {
	if st == nil {
		return nil
	}
	var out []string
	for _, v := range list(st.value) {
		a, err := netip.ParseAddr(v)
		switch {
		case v == "%any" || v == "%any4" || v == "0.0.0.0":
		case err == nil && a.Is4():
			out = append(out, a.String())
			r.n.Set(conn+"."+field, st.pos)
		default:
			r.note(st, "%s: the scenario takes single IPv4 addresses; left out", v)
		}
	}
	return out
}

// proposals reads proposals or esp_proposals; "default", or none, is strongSwan's
// default.
func (r *reader) proposals(st *setting, proto ike.Protocol, def [][]string, key string) []string {
	if st == nil {
		return defaults(def)
	}
	var out []string
	for _, v := range list(st.value) {
		if strings.EqualFold(v, "default") {
			out = append(out, defaults(def)...)
			continue
		}
		if _, err := ike.ParseProposal(v, proto); err != nil {
			r.note(st, "%s; this proposal is left out", strings.TrimPrefix(err.Error(), "ike: "))
			continue
		}
		out = append(out, v)
	}
	if len(out) > 0 {
		r.n.Set(key, st.pos)
	}
	return out
}

// rounds are the authentication rounds of one side: local, local-1, local-xauth ...,
// in the order strongSwan takes them (the round setting, else the name).
func rounds(s *section, side string) []*section {
	var out []*section
	for _, c := range s.subs {
		if c.name == side || strings.HasPrefix(c.name, side+"-") {
			out = append(out, c)
		}
	}
	round := func(c *section) int {
		for _, k := range c.keys {
			if k.key == "round" {
				n, _ := strconv.Atoi(k.value)
				return n
			}
		}
		return 0
	}
	slices.SortStableFunc(out, func(a, b *section) int { return cmp.Or(cmp.Compare(round(a), round(b)), cmp.Compare(a.name, b.name)) })
	return out
}

// auth reads the rounds of one side: the first is the side's authentication, a second
// one with XAUTH (IKEv1) is XAUTH.
func (r *reader) auth(s *section, c *scenarios.ConnSpec, conn, side string) {
	rs := rounds(s, side)
	a := &c.Local
	if side == "remote" {
		a = &c.Remote
	}
	for i, sec := range rs {
		sec.used = true
		sec.get("round")
		key := conn + "." + side
		st := sec.get("auth")
		method := "pubkey"
		if st != nil {
			method = st.value
		}
		if i > 0 || strings.HasPrefix(method, "xauth") {
			if strings.HasPrefix(method, "xauth") {
				r.xauthRound(sec, c, conn, side)
				continue
			}
			r.n.Notef(sec.pos, "%s: a second authentication round other than XAUTH; left out", sec.name)
			continue
		}
		r.n.Set(key, sec.pos)
		switch {
		case method == "psk" || method == "pubkey" || method == "rsa/pss" || method == "eap-md5" || method == "eap-mschapv2":
			a.Auth = method
		case method == "rsa" || method == "ecdsa" || method == "ed25519" || strings.HasPrefix(method, "pubkey-") ||
			strings.HasPrefix(method, "rsa-") || strings.HasPrefix(method, "ecdsa-"):
			a.Auth = "pubkey"
			r.note(st, "ikesim signs with the certificate's key type and the hash RFC 7427 agrees on: auth pubkey")
		case method == "eap" && side == "remote":
			a.Auth = "eap-mschapv2"
			r.note(st, "the EAP method is left to the client: the scenario runs EAP-MSCHAPv2")
		default:
			r.fail(st, "%q is not an authentication ikesim has (psk, pubkey, rsa/pss, eap-md5, eap-mschapv2, xauth)", method)
			continue
		}
		if st != nil {
			r.n.Set(key+".auth", st.pos)
		} else {
			r.n.Notef(sec.pos, "%s has no auth: strongSwan's default is pubkey", sec.name)
		}
		if id := sec.get("id"); id != nil && id.value != "%any" {
			a.ID = id.value
			r.n.Set(key+".id", id.pos)
		}
		if side == "local" {
			if certs := sec.get("certs"); certs != nil {
				for _, f := range list(certs.value) {
					a.Certs = append(a.Certs, r.cert(&setting{key: certs.key, value: f, pos: certs.pos}, "x509"))
				}
				r.n.Set(key+".certs", certs.pos)
			}
			if e := sec.get("eap_id"); e != nil {
				if strings.HasPrefix(a.Auth, "eap-") {
					a.EAPID = e.value
					r.n.Set(key+".eap_id", e.pos)
				} else {
					r.note(e, "an EAP identity is for auth = eap-*; left out")
				}
			}
			if a.ID == "" && (a.Auth == "psk" || strings.HasPrefix(a.Auth, "eap-")) && len(c.LocalAddrs) > 0 {
				a.ID = c.LocalAddrs[0] // strongSwan's default: the IKE address
				r.n.Notef(sec.pos, "%s has no id: strongSwan uses its address %s", sec.name, a.ID)
			}
			if a.ID == "" && len(a.Certs) > 0 {
				if san := firstSAN(a.Certs[0]); san != "" {
					a.ID = san
					r.n.Notef(sec.pos, "%s has no id: strongSwan uses the certificate's subject, which the scenario names by the certificate's first subjectAltName, %s", sec.name, san)
				}
			}
		} else {
			if e := sec.get("eap_id"); e != nil && e.value != "%any" {
				r.note(e, "the gateway accepts every EAP identity that has a secret")
			}
			if cas := sec.get("cacerts"); cas != nil {
				for _, f := range list(cas.value) {
					r.n.CACerts = appendNew(r.n.CACerts, r.cert(&setting{key: cas.key, value: f, pos: cas.pos}, "x509ca"))
				}
			}
		}
	}
	if len(rs) == 0 && side == "local" {
		r.n.Notef(s.pos, "connection %s has no local section: strongSwan authenticates with a certificate (pubkey)", s.name)
	}
	if a.Auth == "" {
		a.Auth = "pubkey"
	}
	if side == "remote" && (a.Auth == "pubkey" || strings.HasPrefix(c.Local.Auth, "eap-")) && len(r.n.CACerts) == 0 {
		// swanctl --load-creds loads every CA certificate in swanctl/x509ca.
		r.n.CACerts = r.folder("x509ca")
		if len(r.n.CACerts) == 0 {
			r.n.CACerts = []string{"ca"}
			r.n.Notef(s.pos, "connection %s checks certificates, and neither swanctl.conf nor an x509ca folder beside it names a CA: the scenario trusts the test PKI's ca", s.name)
		}
	}
	if side == "local" && len(a.Certs) > 0 && strings.ContainsAny(a.Certs[0], "/.") && !r.keysRead {
		// swanctl --load-creds loads every private key in these folders.
		r.keysRead = true
		for _, dir := range []string{"private", "rsa", "ecdsa", "pkcs8"} {
			for _, f := range r.folder(dir) {
				r.n.AddSecret(scenarios.SecretSpec{Type: "private", File: f}, config.Pos{File: f})
			}
		}
	}
}

// folder lists the files of a folder of the swanctl directory (beside the
// configuration), as absolute paths.
func (r *reader) folder(name string) []string {
	files, _ := filepath.Glob(filepath.Join(r.dir, name, "*"))
	var out []string
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			if abs, err := filepath.Abs(f); err == nil {
				out = append(out, abs)
			}
		}
	}
	return out
}

// xauthRound reads a second round with XAUTH: a client's user (local) or a gateway's
// check (remote) with the users of the secrets section.
func (r *reader) xauthRound(sec *section, c *scenarios.ConnSpec, conn, side string) {
	sec.get("auth")
	if c.XAuth == nil {
		c.XAuth = &scenarios.XAuthSpec{}
	}
	r.n.Set(conn+".xauth", sec.pos)
	if side == "local" {
		user := sec.get("xauth_id")
		if user == nil {
			r.n.Notef(sec.pos, "%s: XAUTH without xauth_id: the scenario uses the IKE identity", sec.name)
			c.XAuth.User = c.Local.ID
		} else {
			c.XAuth.User = user.value
		}
		c.XAuth.Password = r.xauth[c.XAuth.User]
		if c.XAuth.Password == "" {
			r.n.Notef(sec.pos, "no xauth secret for user %q", c.XAuth.User)
		}
		return
	}
	c.XAuth.Users = map[string]string{}
	for u, pw := range r.xauth {
		c.XAuth.Users[u] = pw
	}
}

// child reads connections.NAME.children.CHILD.
func (r *reader) child(s *section, c *scenarios.ConnSpec, conn string, version int) {
	ch := &scenarios.ChildSpec{}
	if c.Children == nil {
		c.Children = map[string]*scenarios.ChildSpec{}
	}
	c.Children[s.name] = ch
	key := conn + ".children." + s.name
	r.n.Set(key, s.pos)
	// strongSwan offers ah_proposals and esp_proposals together; the default ESP
	// proposals only when neither is given.
	ch.AHProposals = r.proposals(s.get("ah_proposals"), ike.ProtoAH, nil, key+".ah_proposals")
	espDefault := defaultESP
	if len(ch.AHProposals) > 0 {
		espDefault = nil
	}
	ch.ESPProposals = r.proposals(s.get("esp_proposals"), ike.ProtoESP, espDefault, key+".esp_proposals")
	ch.LocalTS = r.selectors(s.get("local_ts"), key+".local_ts")
	ch.RemoteTS = r.selectors(s.get("remote_ts"), key+".remote_ts")
	if st := s.get("mode"); st != nil {
		switch st.value {
		case "tunnel", "transport":
			ch.Mode = st.value
			r.n.Set(key+".mode", st.pos)
		default:
			r.note(st, "ikesim has tunnel and transport mode; the scenario uses tunnel")
		}
	}
	if st := s.get("start_action"); st != nil {
		switch st.value {
		case "none":
			ch.StartAction = "none"
		case "trap":
			ch.StartAction = "trigger"
		case "start":
			ch.StartAction = "start"
		case "trap|start", "start|trap":
			ch.StartAction = "start"
			r.note(st, "the scenario starts it; traffic after a delete starts it again only with trap")
		default:
			r.fail(st, "%q is not none, trap or start", st.value)
		}
		r.n.Set(key+".start_action", st.pos)
	}
	ch.RekeyTime = scenarios.Duration(3600 * 1e9) // strongSwan's default for Child SAs
	for _, f := range []struct {
		key string
		dst *scenarios.Duration
	}{{"rekey_time", &ch.RekeyTime}, {"life_time", &ch.LifeTime}} {
		if st, d, ok := r.duration(s, f.key); ok {
			*f.dst = d
			r.n.Set(key+"."+f.key, st.pos)
		}
	}
	if st := s.get("life_bytes"); st != nil {
		v, err := parseBytes(st.value)
		if err != nil {
			r.fail(st, "%v", err)
		} else if version == 1 {
			ch.LifeBytes = scenarios.Bytes(v)
			r.n.Set(key+".life_bytes", st.pos)
		} else {
			r.note(st, "ikesim offers a volume lifetime in IKEv1's quick mode only")
		}
	}
}

// selectors reads local_ts or remote_ts; none is dynamic, strongSwan's default.
func (r *reader) selectors(st *setting, key string) []string {
	if st == nil {
		return []string{"dynamic"}
	}
	var out []string
	for _, v := range list(st.value) {
		sel, proto, _ := strings.Cut(v, "[")
		if proto != "" && proto != "]" {
			r.note(st, "%s: ikesim's selectors cover all protocols and ports; [%s is left out", v, proto)
		}
		switch {
		case sel == "dynamic" || sel == "%dynamic":
			out = append(out, "dynamic")
		default:
			if p, err := netip.ParsePrefix(sel); err == nil {
				out = append(out, p.Masked().String())
			} else if a, err := netip.ParseAddr(sel); err == nil && a.Zone() == "" {
				out = append(out, netip.PrefixFrom(a, a.BitLen()).String())
			} else {
				r.note(st, "%s: ikesim's selectors are IPv4 or IPv6 prefixes; left out", sel)
				continue
			}
		}
	}
	if len(out) == 0 {
		r.fail(st, "no selector ikesim can use is left")
	}
	r.n.Set(key, st.pos)
	return out
}

// secrets reads the secrets section: ike, eap, xauth and private key secrets.
func (r *reader) secrets() {
	r.xauth = map[string]string{}
	sec := r.root.sub("secrets")
	if sec == nil {
		return
	}
	for _, s := range sec.subs {
		s.used = true
		var ids []string
		for _, k := range s.keys {
			if strings.HasPrefix(k.key, "id") {
				k.used = true
				if k.value != "%any" {
					ids = append(ids, k.value)
				}
			}
		}
		secret, at := "", s.pos
		if st := s.get("secret"); st != nil {
			at = st.pos
			v, err := parseSecret(st.value)
			if err != nil {
				r.fail(st, "%v", err)
				continue
			}
			if !utf8.ValidString(v) {
				r.note(st, "a binary secret: the scenario's secrets are text; left out")
				continue
			}
			secret = v
		}
		typ, _, _ := strings.Cut(s.name, "-")
		typ = strings.TrimRight(typ, "0123456789")
		switch typ {
		case "ike":
			r.n.AddSecret(scenarios.SecretSpec{Type: "ike", IDs: ids, Secret: secret}, at)
		case "eap":
			r.n.AddSecret(scenarios.SecretSpec{Type: "eap", IDs: ids, Secret: secret}, at)
		case "xauth":
			for _, id := range ids {
				r.xauth[id] = secret
			}
		case "private", "rsa", "ecdsa", "pkcs8":
			if f := s.get("file"); f != nil {
				r.n.AddSecret(scenarios.SecretSpec{Type: "private", File: r.cert(f, "private")}, s.pos)
			}
			if secret != "" {
				r.n.Notef(s.pos, "%s: ikesim reads unencrypted private keys; the passphrase is left out", s.name)
			}
		default:
			r.n.Notef(s.pos, "%s { ... }: secrets of this type have no equivalent in ikesim's scenarios; left out", s.name)
		}
	}
}

// cert resolves a certificate or key file of swanctl.conf: as written, then in the
// swanctl directory's folder for its kind (x509, x509ca, private), then a file of
// ikesim's test PKI of that name (gw-a.pem is the test PKI's gw-a).
func (r *reader) cert(s *setting, folder string) string {
	name := s.value
	cands := []string{name}
	if !filepath.IsAbs(name) {
		cands = []string{filepath.Join(r.dir, folder, name), filepath.Join(r.dir, name)}
	}
	for _, p := range cands {
		if _, err := os.Stat(p); err == nil {
			if abs, err := filepath.Abs(p); err == nil {
				return abs
			}
			return p
		}
	}
	base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(filepath.Base(name), ".pem"), ".crt"), ".key")
	if _, ok := assets.PKIFile(base + ".pem"); ok {
		if folder != "private" {
			r.n.Notef(s.pos, "%s = %s: not found beside the configuration; the scenario uses the test PKI's %s", s.key, name, base)
		}
		return base
	}
	r.fail(s, "%s is neither in %s nor a certificate of ikesim's test PKI", name, filepath.Join(r.dir, folder))
	return ""
}

// firstSAN is a certificate's first subjectAltName (DNS name, email or IP address).
func firstSAN(name string) string {
	var data []byte
	if strings.ContainsAny(name, "/.") {
		data, _ = os.ReadFile(name)
	} else {
		data, _ = assets.PKIFile(name + ".pem")
	}
	if b, _ := pem.Decode(data); b != nil {
		data = b.Bytes
	}
	cert, err := x509.ParseCertificate(data)
	if err != nil {
		return ""
	}
	switch {
	case len(cert.DNSNames) > 0:
		return cert.DNSNames[0]
	case len(cert.EmailAddresses) > 0:
		return cert.EmailAddresses[0]
	case len(cert.IPAddresses) > 0:
		return cert.IPAddresses[0].String()
	}
	return ""
}
